// The control plane in C++ terms: what lms/control.h carries, as plain structs, and the interface
// both implementations share: the proxy's own (core/control_service) and the network client
// (http_backend). The JSON a proxy serves is these structs through json.h, so the two sides cannot
// drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lms::control {

struct Cutover {
  uint64_t id = 0;
  std::string status;  // LMS_CUTOVER_* or ""
  std::string source_of_truth;
  std::string source_of_truth_role;
  int64_t trigger_time_ns = 0;
  int64_t paused_time_ns = 0;
  int64_t commit_time_ns = 0;
  uint32_t busy_sessions = 0;
  std::string error;
  // What the attempt cost this proxy's clients (ABI 1.4): the longest a request or login waited
  // (from the first one held to the release), requests and logins that waited, busy sessions the
  // begin-timeout ended, and the settings and statements carried to the new database (and how many
  // of them failed there).
  uint64_t longest_stall_ns = 0;
  uint32_t requests_queued = 0;
  uint32_t connections_queued = 0;
  uint32_t sessions_ended = 0;
  uint32_t statements_replayed = 0;
  uint32_t statements_failed = 0;
};

struct Status {
  std::string version;
  std::string sql_address;
  std::string shadow_mode;
  std::string source_dialect;
  std::string target_dialect;
  std::string source_address;
  std::string target_address;
  std::string source_of_truth;
  std::string source_of_truth_role;
  bool transitioning = false;
  uint32_t open_connections = 0;
  std::string error;
  Cutover cutover;
};

struct Connection {
  std::string remote_address;
  std::string source_address;
  std::string user;
  std::string database;
  std::string source_of_truth;
  std::string state;
  std::string last_query;
  std::string error;
  // Shadowing of this session: requests sent to the target, dropped by the shadow mode (target
  // busy), and failed there. In the proxy's JSON; the C ABI's struct predates them.
  uint64_t shadow_sent = 0;
  uint64_t shadow_dropped = 0;
  uint64_t shadow_failed = 0;
  // What the session holds that a cutover cannot carry, by kind ("temporary table, LISTEN"); "" when
  // nothing (ABI 1.4).
  std::string held_state;
  // The proxy's own address on its connection to the source of truth, host:port, as the database
  // lists its clients: what ties a transaction the database reports to this session ("" while
  // there is none) (ABI 1.5).
  std::string database_address;
};

// A transaction open on the source of truth, as the database reports it (ABI 1.4).
struct OpenTransaction {
  std::string session;  // the database's name for the session: PostgreSQL's pid, MySQL's thread id
  std::string client;   // host:port as the database sees it
  std::string user;
  std::string state;
  std::string statement;
  uint64_t age_ms = 0;
  // Filled by the orchestrator when the session is a proxy's: the application's address and the
  // proxy it came through (the database only sees the proxy).
  std::string lms_client;
  std::string lms_address;
};

// 1.5: where the source of truth stands in its change stream, and who reads it.
struct ReplicationStream {
  std::string name;      // a PostgreSQL replication slot
  std::string consumer;  // who reads it now ("" when nobody does)
  uint64_t lag_bytes = 0;
  bool active = false;
};

struct ReplicationPosition {
  std::string position;  // "0/3000148", "binlog.000003:1547"; "" when the database keeps none
  std::vector<ReplicationStream> streams;
};

// 1.5: one thing checked on the other database by name, and what is wrong with it ("" when
// nothing): a table the application uses (the database's own error on reading it), a user who may
// log in (not there, or another verifier).
struct NameCheck {
  std::string name;
  std::string error;
};

struct BeginOptions {
  uint64_t id = 0;
  uint32_t begin_timeout_ms = 0;
  bool abort_on_timeout = false;
};

// Every call returns false with *error set when it fails.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool status(Status* out, std::string* error) = 0;
  virtual bool connections(std::vector<Connection>* out, std::string* error) = 0;
  virtual bool begin(const BeginOptions& options, Cutover* out, std::string* error) = 0;
  virtual bool commit(uint64_t id, Cutover* out, std::string* error) = 0;
  virtual bool abort(uint64_t id, Cutover* out, std::string* error) = 0;
  virtual bool cutover(Cutover* out, std::string* error) = 0;
  virtual bool replication_mark(const std::string& token, std::string* error) = 0;
  virtual bool replication_seen(const std::string& token, bool* seen, std::string* error) = 0;
  // The marker table on both databases; `created_*`: made now, because it was missing.
  virtual bool replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error) = 0;
  // The compatibility report as JSON text, and the metrics as Prometheus text.
  virtual bool shadow_report(std::string* json_text, std::string* error) = 0;
  virtual bool metrics(std::string* text, std::string* error) = 0;
  // The transactions open on the source of truth for at least `min_age_ms`, oldest first.
  virtual bool open_transactions(uint64_t min_age_ms, std::vector<OpenTransaction>* out,
                                 std::string* error) = 0;
  // The other database's count of rows written; fencing it (on) or undoing that.
  virtual bool other_rows_written(uint64_t* rows, std::string* error) = 0;
  virtual bool replication_position(ReplicationPosition* out, std::string* error) = 0;
  virtual bool check_other_logins(std::vector<NameCheck>* out, std::string* error) = 0;
  virtual bool check_other_tables(const std::vector<std::string>& names, std::vector<NameCheck>* out,
                                  std::string* error) = 0;
  virtual bool fence_other(bool on, std::string* error) = 0;
};

}  // namespace lms::control
