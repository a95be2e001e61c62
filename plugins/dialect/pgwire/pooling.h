// Transaction pooling for PostgreSQL's protocol (plugin ABI 1.10): many clients take turns on few
// database connections, one transaction at a time, and each still sees the session it made.
//
// A PoolClient is one client's session as the client believes it to be: the statements it
// prepared (by name, with the Parse or PREPARE that made each) and its settings (the startup
// parameters it logged in with, then each SET outside a transaction). A PoolServer is one database
// connection as it really is: which of those statements exist there, which client's settings it
// carries, and the answers it still owes, in order, each marked with whether the client gets it or
// it answers a message lms sent on its own.
//
// Before a client's message goes to a connection, whatever it needs is made there first: a Bind
// of a statement the connection lacks is preceded by the client's own Parse of it (dropped from
// the answer), a transaction is preceded by the client's settings when the connection carries
// another client's. State no connection can keep for one client (LISTEN, session advisory locks,
// temporary tables that outlive the transaction, cursors WITH HOLD) is refused with 0A000, by the
// database itself so that the error comes in order with the other answers.
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "dialect.h"

namespace lms::pgwire {

// A statement as a client made it: the message that makes it again (a Parse; or a Query holding a
// PREPARE) and a digest of that message, by which two connections' copies are told apart.
struct PooledStatement {
  std::string create;
  bool sql = false;  // made by a Query's PREPARE (an extended request cannot carry it)
  uint64_t digest = 0;
  // A Parse of a statement that changes the session when it runs (SET, RESET, DISCARD ALL,
  // DEALLOCATE, PREPARE): its effect is the client's at each Execute of a portal bound to it.
  bool session_effect = false;
};

class PoolClient {
 public:
  PoolClient(const lms_kv* startup_params, size_t count);

  uint64_t serial() const { return serial_; }
  // The SQL that gives a fresh session this client's settings ("" when it has none).
  const std::string& settings_sql() const { return settings_sql_; }
  const PooledStatement* statement(std::string_view name) const;
  const PooledStatement* unnamed() const { return has_unnamed_ ? &unnamed_ : nullptr; }

  void prepared(std::string_view name, PooledStatement statement);
  void prepared_unnamed(const uint8_t* parse, size_t len, uint64_t digest, bool session_effect);
  // The unnamed Parses judged lately and let through: a driver runs the same few statements over
  // and over, each parsed afresh (pgbench's write script: seven in turn), and a message already
  // judged is not judged again. At most kJudgedParses of up to kMaxJudgedParse bytes each.
  struct JudgedParse {
    std::string message;
    uint64_t digest = 0;
    bool session_effect = false;
  };
  static constexpr size_t kJudgedParses = 8;
  static constexpr size_t kMaxJudgedParse = 1024;
  const JudgedParse* judged(const uint8_t* parse, size_t len) const;
  void judged_now(const uint8_t* parse, size_t len, uint64_t digest, bool session_effect);
  void deallocated(std::string_view name) { statements_.erase(std::string(name)); }
  void deallocated_all() { statements_.clear(); }
  void set(std::string_view name, std::string_view sql);
  void reset(std::string_view name);
  void reset_all();
  // Each SET that still stands, by lowercased name (saved before a transaction's SETs, restored
  // when it rolls back).
  using Sets = std::vector<std::pair<std::string, std::string>>;
  const Sets& sets() const { return sets_; }
  void restore_sets(Sets sets);
  // Requests of Parse and Sync only, answered without a connection (see pool_answer_alone); false
  // (and nothing recorded) for anything else.
  bool answer_alone(const uint8_t* data, size_t len, std::vector<uint8_t>& out);
  // A welcome with the values this client asked for at startup in the parameters it reports.
  std::string welcome(std::string_view database_welcome) const;
  // A request that only begins a transaction, or only ends one so begun before anything ran in
  // it, sent while the client holds no connection: answered here as the database would (true),
  // the BEGIN kept for the connection of the client's next request (pool_deferred_begin.cc).
  bool answer_transaction_edge(const uint8_t* data, size_t len, bool cockroach, std::vector<uint8_t>& out);
  // The BEGIN the client was told had run ("" when none waits): PoolServer::lend sends it.
  const std::string& deferred_begin() const { return deferred_begin_; }
  std::string take_deferred_begin() { return std::exchange(deferred_begin_, {}); }

 private:
  void rebuild_settings_sql();
  // A request answer_transaction_edge may answer, as read.
  struct EdgeRequest {
    bool query = false;  // a Query; else extended messages
    bool parse = false;  // they begin with a Parse (`first`), into `parse_name`
    bool described = false;
    const uint8_t* first = nullptr;
    size_t first_len = 0;
    std::string_view parse_name;
    std::string_view sql;
  };
  bool read_edge_request(const uint8_t* data, size_t len, EdgeRequest& request) const;

  uint64_t serial_;
  std::vector<std::pair<std::string, std::string>> startup_;  // name, value: settable parameters
  std::vector<std::pair<std::string, std::string>> sets_;     // lowercased name, the SET's SQL
  std::string settings_sql_;
  std::map<std::string, PooledStatement, std::less<>> statements_;
  PooledStatement unnamed_;
  bool has_unnamed_ = false;
  std::vector<JudgedParse> judged_;
  size_t judged_next_ = 0;  // the oldest entry, once all are taken
  std::string deferred_begin_;
};

class PoolServer {
 public:
  explicit PoolServer(uint32_t max_statements) : max_statements_(max_statements == 0 ? 1 : max_statements) {}
  // lms_pool_option bits (pool_server_options).
  void set_options(uint32_t options) { cache_unnamed_ = (options & LMS_POOL_CACHE_UNNAMED) != 0; }

  // Brings the connection's settings to `client`'s, and begins the transaction it was told had
  // begun (before its request).
  void lend(PoolClient& client, std::vector<uint8_t>& out);
  // One client message (see plugin.h's pool_client_message).
  uint32_t client_message(PoolClient& client, Flavor flavor, const uint8_t* message, size_t len, bool whole,
                          std::vector<uint8_t>& out);
  uint32_t server_message(const uint8_t* head, size_t len);
  void abandon(std::vector<uint8_t>& out);
  uint32_t owed() const { return static_cast<uint32_t>(owed_.size()); }
  uint32_t statements() const { return static_cast<uint32_t>(statements_.size()); }
  // What the connection did with statements since the last call (for the core's metrics).
  struct StatementWork {
    uint64_t made = 0;     // a client's statements prepared here before a run of them
    uint64_t evicted = 0;  // closed to keep within max_statements
  };
  StatementWork take_statement_work() { return std::exchange(work_, StatementWork{}); }

 private:
  // One answer the connection owes: for an extended message, its last message (ParseComplete,
  // BindComplete, CloseComplete, RowDescription or NoData, CommandComplete); for a Sync, a Query or
  // a FunctionCall, everything up to its ReadyForQuery.
  struct Owed {
    char kind;                // the client message's type byte
    bool drop = false;        // lms sent it: the client gets none of its answer
    bool drop_error = false;  // nor its error (what is made again before a Query)
    std::string prepares;     // the statement a Parse makes (forgotten if it fails) or a Close drops;
                              // or lms's name a Bind or Describe runs (made again if it fails)
    uint64_t seq = 0;         // in the order sent
  };
  // The answers owed, oldest first. The queue empties at every transaction's end, so a vector
  // read from a moving head (cleared when empty, its capacity kept) allocates nothing per
  // transaction, where std::deque took and gave back a block of memory every few.
  class OwedQueue {
   public:
    bool empty() const { return head_ == items_.size(); }
    size_t size() const { return items_.size() - head_; }
    const Owed& front() const { return items_[head_]; }
    void push_back(Owed owed) {
      if (head_ > 0 && head_ * 2 >= items_.size()) {
        // A client that pipelines without pause: the answered half goes, in amortized O(1).
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
      items_.push_back(std::move(owed));
    }
    void pop_front() {
      if (++head_ < items_.size()) return;
      items_.clear();
      head_ = 0;
    }

   private:
    std::vector<Owed> items_;
    size_t head_ = 0;
  };

  void owe(char kind, bool drop, bool drop_error = false, std::string prepares = {});
  // Makes `name` (the client's statement) exist here as the client made it. `top`: no extended
  // request of the client's is open, so a Query (and a Sync) may be sent.
  void ensure(const PoolClient& client, std::string_view name, bool top, std::vector<uint8_t>& out);
  void ensure_unnamed(const PoolClient& client, std::vector<uint8_t>& out);
  // The unnamed statement kept under a name of lms's (pool_unnamed_cache.cc): whether `statement`
  // (a client's unnamed one) is, the client's Parse of it, and a Bind or Describe of it (the
  // message whole, its statement name field at `name_at`) pointed at that name.
  bool caches(const PooledStatement* statement) const {
    return cache_unnamed_ && statement != nullptr && !statement->sql && !statement->session_effect;
  }
  uint32_t parse_cached(const PooledStatement& statement, std::vector<uint8_t>& out);
  uint32_t run_cached(const PooledStatement& statement, const uint8_t* message, size_t len, size_t name_at,
                      std::vector<uint8_t>& out);
  // Sends `statement` (a client's unnamed Parse) under `name`: for the client (its answer passes)
  // or made by lms before a run of it (its answer dropped).
  void make_named(const PooledStatement& statement, std::string_view name, bool for_client,
                  std::vector<uint8_t>& out);
  // Whether `name` is here as the statement of `digest`; if so, now the most recently used.
  bool kept_here(std::string_view name, uint64_t digest);
  // Sends a statement's making, its answers dropped.
  void make(const std::string& name, const PooledStatement& statement, bool top, std::vector<uint8_t>& out);
  void close_statement(const std::string& name, bool top, std::vector<uint8_t>& out);
  void remember(const std::string& name, uint64_t digest, bool top, std::vector<uint8_t>& out);
  void forget(const std::string& name);
  void refuse(Flavor flavor, std::string_view what, bool query, std::vector<uint8_t>& out);
  // A Parse of what no shared connection keeps: refused in its place (true).
  bool refused_parse(Flavor flavor, std::string_view sql, std::vector<uint8_t>& out);
  uint32_t query(PoolClient& client, Flavor flavor, const uint8_t* message, size_t len,
                 std::vector<uint8_t>& out);
  // What a statement that changes the session does to the books, as it runs. `top`: in a Query
  // (no extended request open), where a statement may be made again before it.
  void session_effect(PoolClient& client, lms_state_effect effect, std::string_view name,
                      std::string_view sql, bool top, std::vector<uint8_t>& out);

  struct Prepared {
    uint64_t digest;
    std::list<std::string>::iterator lru;
  };
  // Looked up by a name read from a message, with no string made for it (every Bind).
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };
  uint32_t max_statements_;
  bool cache_unnamed_ = false;  // LMS_POOL_CACHE_UNNAMED
  StatementWork work_;
  std::unordered_map<std::string, Prepared, NameHash, std::equal_to<>> statements_;
  std::list<std::string> lru_;  // most recently used first
  uint64_t unnamed_owner_ = 0;  // the client whose unnamed statement is here (0: none known)
  uint64_t unnamed_digest_ = 0;
  std::string settings_sql_;       // the settings this connection carries, as a client's settings_sql
  bool settings_unknown_ = false;  // a SET ran inside a transaction: replay before the next lend
  bool extended_open_ = false;     // extended messages sent since the last Sync
  // Portals bound to a statement with a session effect, with that statement's SQL (see
  // PooledStatement::session_effect); most requests have none.
  std::unordered_map<std::string, std::string> effect_portals_;
  // A SET is transactional: the client's settings as they were before the first SET of the
  // transaction still open (or of the request still unanswered), restored if it rolls back or
  // fails. `tentative_client_` is the client lent the connection then (cleared at each lend and
  // when a client leaves).
  void begin_tentative(PoolClient& client);
  void settle_tentative(char state);
  PoolClient* tentative_client_ = nullptr;
  PoolClient::Sets tentative_sets_;
  uint64_t tentative_seq_ = 0;  // the first answer owed that may undo it
  bool tentative_failed_ = false;
  bool tentative_rolled_back_ = false;
  uint64_t next_seq_ = 0;
  // Statements a skipped Close may have left in place (an error before it): closed again before
  // they are made.
  std::unordered_set<std::string> stale_;
  char txn_ = 'I';
  OwedQueue owed_;
};

// The plugin ABI's functions over the two (dialect.cc puts them in its table).
void fill_pool_functions(lms_dialect_functions& f, Flavor flavor);

}  // namespace lms::pgwire
