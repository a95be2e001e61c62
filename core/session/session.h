// One client connection and the database connection it uses, on one worker loop for their whole
// life. A session walks through: the client's handshake (the dialect's front), the connection to
// the source, the source's handshake (the dialect's back), then forwarding, where bytes read from
// one side are written to the other from the very buffer they were read into.
//
// Lifetime: a session deletes itself once every libuv handle it opened has closed and no request
// it started is outstanding. Everything here runs on the owning worker's thread.
#pragma once

#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/database_link.h"
#include "frame_scanner.h"
#include "loop/worker.h"
#include "model.h"
#include "net/stream.h"
#include "pool/txn_pool.h"
#include "session/carried_state.h"
#include "session/request_tracker.h"
#include "session/shadow_router.h"
#include "shadow/shadow_link.h"
#include "tls_channel.h"
#include "translation.h"

namespace lms::core {

class Session final : private ShadowLinkOwner,
                      private DatabaseLink::Listener,
                      private Stream::Listener,
                      private PoolWaiter {
 public:
  // Accepts one pending connection from `listener` onto `worker`'s loop.
  static void accept_from(Worker& worker, uv_stream_t* listener);
  // Ends the session at once (worker shutdown).
  void shutdown() {
    if (link_) link_->close();
    close_now();
  }

  size_t index_in_worker = 0;  // maintained by Worker::attach/detach
  bool counted_busy = false;   // the worker's busy count includes this session (while paused)

  // Cutover (session_cutover.cc). A session is busy while a request, a transaction or a connection
  // attempt is under way: a pause waits for it. An idle session, while its worker is paused, holds
  // its client's next bytes.
  bool busy() const;
  // The pause is over: connect if waiting to, move to the new source of truth if it changed,
  // and forward what was held.
  void resume_after_cutover();
  // begin-timeout expired while busy: the client gets an error, the database rolls back.
  void end_for_cutover();
  // Graceful shutdown: nothing of the client's is under way or waiting (a request held by a
  // cutover's pause is waiting), so ending the session now loses nothing.
  bool idle_for_shutdown() const;
  // The client is told the proxy is shutting down (the protocol's "admin shutdown" error), then
  // the session closes; a transaction still open rolls back on the database.
  void end_for_shutdown();
  // For `connections list`.
  control::Connection describe() const;

 private:
  enum class Phase {
    kFrontHandshake,
    kAwaitingResume,  // the client logged in during a pause; the database connection waits
    kConnecting,      // the database link connects and logs in
    kReplaying,       // after a switch: the carried settings and statements run on the new database
    kForwarding,
    kResetting,     // the client has left; the database connection is reset to be kept (session_pool.cc)
    kChangingUser,  // the client logs in again within the session (session_change_user.cc)
    kClosing
  };

  explicit Session(Worker& worker);
  ~Session();

  // ShadowLinkOwner
  void on_target_answered(uint64_t id, bool ok, const std::string& error, AnswerDigest* answer) override;
  void on_link_handle_opened() override { ++handles_open_; }
  void on_link_handle_closed() override {
    --handles_open_;
    // Links closed at a switch are freed as soon as they are done, not when the session ends:
    // a session that lives through many cutovers would otherwise keep one per cutover.
    std::erase_if(retired_links_, [](const std::unique_ptr<ShadowLink>& l) { return l->gone(); });
    maybe_destroy();
  }

  // Stream::Listener: the client's connection.
  void on_stream_bytes(Stream&, Chunk* chunk, size_t len) override { take_client_bytes(chunk, len); }
  void on_stream_ended(Stream& stream, int status) override;
  void on_stream_write_failed(Stream& stream, int status) override;
  void on_stream_wrote(Stream& stream) override;
  void on_stream_tls_failed(Stream& stream) override;
  void on_stream_shut_down(Stream&) override { close_now(); }
  void on_stream_closed(Stream&) override;
  // DatabaseLink::Listener: the connection to the source of truth.
  void on_database_ready(const DatabaseLink::Login& login) override;
  void on_database_login_failed(const DatabaseLink::LoginFailure& failure) override;
  void on_database_bytes(Chunk* chunk, size_t len) override { take_database_bytes(chunk, len); }
  void on_database_lost(int status) override;
  void on_database_write_failed(int status) override;
  void on_database_tls_failed(const std::string& error) override;
  void on_database_untranslatable(bool from_client, const std::string& error) override {
    protocol_error(from_client, error.c_str());
  }
  void on_database_wrote() override;
  void on_database_closed() override;

  // libuv callbacks
  static void on_closed(uv_handle_t* handle);
  static void emit_to_client(void* ctx, const uint8_t* data, size_t len);

  // What the client sent, by phase: forwarded, held, or part of its handshake.
  void take_client_bytes(Chunk* chunk, size_t len);
  // What the database sent, once in the client's protocol (after translation, when it speaks
  // another), by phase.
  void take_database_bytes(Chunk* chunk, size_t len);
  // Translation (session_translation.cc): database_ speaks another protocol than the client.
  void start_translation();
  // What the client prepared, for a translation made after it (by name: its messages).
  std::vector<std::pair<std::string, std::string>> prepared_statements() const;
  // Cutover (session_cutover.cc).
  bool quiescent() const;
  void hold_while_paused(Chunk* chunk, size_t len);
  // Keeps lms_cutover_held_sessions: this session waits for the pause (held bytes, or logged in
  // during it and not yet connected).
  void count_as_held(bool held);
  void release_paused_input();
  void begin_switch();
  void on_switched_backend(const DatabaseLink::Login& login);
  void replay_answer(Chunk* chunk, size_t len);
  void finish_switch();
  // Session state carried through a cutover, from the client's messages as inspected.
  void on_client_inspected();
  // An unnamed Parse looked into before (plain_parses_): noted as it was then; false if not one.
  bool noted_plain_parse();
  void remember_plain_parse(lms_str text);
  void on_database_inspected();
  // Validation (session_validation.cc): which statement a request runs, from its inspected
  // messages; the source's answer summarized as it streams; both answers judged once in.
  void note_statement(const lms_message_detail& detail);
  void note_last_query(lms_str text);
  // The SQL a request starting with `first` runs, if known now (for the shadow plugin's decision).
  std::string_view statement_at_start(const lms_frame& first);
  // The SQL text of a named statement the session prepared; empty when unknown.
  std::string_view prepared_text(std::string_view name);
  void open_comparison(uint64_t id);
  void source_answered(const Request& done);
  void target_answered(uint64_t id, AnswerDigest* answer);
  void judge_if_complete(std::deque<PendingComparison>::iterator it);
  void start_backend();
  // Tells the client it is in, once a database connection is ready for it.
  void finish_login(std::string_view welcome, CancelTarget target);
  // Kept connections (session_pool.cc). take_kept_server: a kept connection for this session's
  // parameters, if the pool has one, becomes database_ and the login completes with it.
  bool take_kept_server(const std::vector<lms_kv>& params);
  void remember_login(std::string_view welcome, const CancelTarget& target);
  bool can_keep_server() const;
  void reset_database_for_reuse();
  void on_reset_answer(Chunk* chunk, size_t len);
  void keep_server();
  void run_front();
  // The login's outcome: the client's startup parameters, user, database and credentials.
  void take_login(const lms_front_result& result);
  // What the client sent while the proxy was busy with a login goes on as data.
  void deliver_early_client_bytes();
  // A login again within the session (session_change_user.cc).
  unsigned on_change_user_message(const lms_frame& f);
  size_t take_change_user_bytes(const uint8_t* data, size_t n);
  // After a walk that met the command: `taken` of the chunk's bytes up to `walked` were its.
  void after_change_user_walk(Chunk* chunk, size_t len, size_t walked, size_t taken);
  void run_change_user();
  void on_change_user_step(uint32_t status, const lms_front_result& result);
  void finish_change_user();
  void fail_connect(const std::string& reason, const char* code = "08006");
  // Transaction pooling (session_pooling.cc): the database connection is the pool's, lent from a
  // request that starts when none is held until the database says the transaction is over.
  void on_server_lent(PooledServer& server) override;
  void recycle_borrow_input(std::vector<std::pair<Chunk*, size_t>>& handled);
  void on_server_refused(const DatabaseLink::LoginFailure& failure) override;
  void connect_pool_server(DatabaseLink& link) override;
  // What a pooled connection for this session logs in with, and the pool's key for it.
  std::vector<lms_kv> pooled_login_params() const;
  void start_pooled_backend();
  // The pooled login: the client is welcomed with what the lent connection's login said.
  void finish_pooled_login(std::string_view database_welcome, const CancelTarget& database_target);
  // Client bytes that start a request while no connection is lent: held while one is found.
  void borrow_for(Chunk* chunk, size_t len);
  // Whole requests the dialect answers itself while no connection is free (a driver's prepare
  // alone): tracked and shadowed as sent, answered as the database would. Takes the chunk if so.
  bool answer_without_connection(Chunk* chunk, size_t len);
  // The client's bytes, whole messages given to the dialect, to the lent connection. Takes the
  // chunk.
  void write_pooled(Chunk* chunk, size_t len);
  // The database's bytes through the lent connection's filter, then on to the client.
  void take_pooled_answer(Chunk* chunk, size_t len);
  void forward_pooled_backlog();
  // After an answer: the transaction is over and nothing is owed, so the connection goes back.
  void maybe_give_back();
  // The session ends or moves: what it was lent goes back (rolled back first, or closed, as its
  // state allows).
  void release_lent(bool client_gone);
  // The lent connection is no longer this session's (the caller says where it goes).
  PooledServer& unlend();
  // The lent connection goes back before anything was sent on it (the client is not in yet, or
  // its request waits for a pause).
  void give_back_unused();
  bool pooled_between_messages() const;
  // The lent connection broke (lost, a write or TLS failed): discarded, not given back.
  void drop_broken_lent();
  // A pause is over: a pooled session moves to the new source of truth by borrowing there next.
  void resume_pooled();
  void start_forwarding();
  void forward_from_client(Chunk* chunk, size_t len);
  // Forwards chunk->data[from, len) from the source, holding it back where a request's answer
  // waits for the target. Takes the chunk.
  void forward_from_source(Chunk* chunk, size_t len, size_t from);
  // At the start of the front request's answer: dispatches it to the target if it waits for it,
  // and says whether the answer must be held until the target has answered.
  bool gate_front_answer(const uint8_t* data, size_t len);
  void resume_source();
  void protocol_error(bool from_client, const char* reason);
  unsigned on_client_message(const lms_frame& f);
  unsigned on_database_message(const lms_frame& f);
  // Shadowing (session_shadow.cc): the router's decision for a request starting with `first`,
  // with the target opened when it is the first sent there.
  static ShadowRouter::Settings router_settings(ProxyShared& shared);
  void decide(const lms_frame& first);
  // The request just put in flight, routed: counted, and its comparison opened.
  void route_request(Request& r, uint64_t length);
  void open_shadow_link();
  // The link to the target closes (a switch turns the shadow direction around).
  void retire_shadow_link();
  // TLS with the client (session_tls.cc); the database link runs its own.
  void start_client_tls();
  void send_client_error(const char* severity, const std::string& code, const std::string& message);
  void close_after_flush();
  void close_now();
  // Closes the session when `timeout_ms` have passed, unless it has closed by then.
  void close_now_after(uint64_t timeout_ms);
  void maybe_destroy();

  Worker& worker_;
  ProxyShared& shared_;
  const lms_dialect_functions* dialect_;       // the client's protocol
  const lms_dialect_functions* back_dialect_;  // the protocol of the database behind database_
  const bool inspects_;                        // the client's dialect can inspect messages (ABI 1.1)
  uint64_t id_;
  Phase phase_ = Phase::kFrontHandshake;

  Stream client_;
  DatabaseLink own_database_;  // session mode: to the source of truth
  // The connection to the source of truth: own_database_, or (pool-mode transaction) the one
  // lent for the current transaction, null between transactions.
  DatabaseLink* database_ = nullptr;
  const bool pooled_;                // pool-mode transaction
  void* pool_client_ = nullptr;      // the dialect's view of the client's session (ABI 1.10)
  PooledServer* lent_ = nullptr;     // the connection lent now
  PoolSlot* pool_slot_ = nullptr;    // the pool's slot (its key) for this session's connections
  uint8_t pool_key_role_ = 0xff;     // the database pool_slot_ leads to
  Params pooled_startup_;            // what a pooled connection logs in with of the client's startup
  uint64_t pool_message_total_ = 0;  // the length of the client message being gathered (0: unknown yet)
  bool borrowing_ = false;           // waiting for the pool
  bool answering_alone_ = false;     // answer_without_connection is walking the requests
  std::vector<std::pair<Chunk*, size_t>> borrow_input_;  // what waits for the connection
  std::string pool_message_;             // the client message being gathered whole for the dialect
  bool pool_message_streaming_ = false;  // too large to gather: its head was judged, the rest flows
  std::string pooled_backlog_;           // filtered answers not yet forwarded (a held answer stops them)
  // Cancel requests find the connection lent now through this.
  std::shared_ptr<LentCancel> lent_cancel_;
  uv_timer_t close_deadline_{};  // a closing session closes at the latest then (close_now_after)
  int handles_open_ = 0;         // the client's stream, the database link while in use, the deadline
  bool deadline_open_ = false;
  // Both directions are walked message by message as they pass.
  FrameScanner client_scanner_;
  FrameScanner database_scanner_;
  lms_emitter to_client_{};  // what handshakes and errors write to the client

  void* front_ = nullptr;
  std::string front_in_;      // client bytes during the handshake
  std::string reset_answer_;  // the database's answer to a reset (session_pool.cc)
  std::string client_user_;
  std::string client_database_;
  std::string proxy_cancel_key_;

  // Keeping the database connection for the next client (server-pool-size): the pool's key for
  // this session, empty when its connection cannot be kept, and what its login said.
  std::string pool_key_;
  std::string kept_welcome_;
  CancelTarget kept_cancel_target_;
  bool keeping_database_ = false;  // the client sent its Terminate; the connection is being reset

  // Session state from the messages themselves.
  RequestTracker tracker_;  // the requests in flight and the transaction state
  bool client_terminating_ = false;
  bool over_limit_ = false;  // accepted beyond max-connections: refused after the handshake

  // Shadowing.
  std::vector<std::pair<std::string, std::string>> startup_params_;  // for the target's handshake
  // What the client's authentication yielded that logs in as its own user (plugin ABI 1.9); empty:
  // the connection strings' accounts. Never logged or shown.
  std::vector<std::pair<std::string, std::string>> credentials_;
  // The user's own password on the target, from the secret's TARGET_USERS, where the target holds
  // it with another verifier: {"password", ...}, else empty.
  std::vector<std::pair<std::string, std::string>> target_password_;
  // What logs this session in to `role`'s database as the client's user: the target's password
  // where given, else the client's login's keys; none (the connection strings' accounts) when the
  // login gave none or the database speaks another protocol. A reference: login params borrow it.
  const Params& credentials_for(uint8_t role) const;
  std::unique_ptr<ShadowLink> link_;
  ShadowRouter router_;  // what of the client's requests reaches link_, and when
  Chunk* held_ = nullptr;  // source bytes held while the front request waits for the target
  size_t held_from_ = 0;
  size_t held_len_ = 0;
  std::vector<std::unique_ptr<ShadowLink>> retired_links_;  // closing, after a switch

  // Cutover.
  uint8_t truth_ = kSourceRole;  // the database database_ is connected (or connecting) to
  bool switching_ = false;       // database_ is being replaced by a connection to the new one
  // A change of user: its command is being collected (change_user_left_ bytes still to come), and
  // then database_ is replaced by a connection as the new user (changing_user_).
  bool change_user_collecting_ = false;
  size_t change_user_left_ = 0;
  std::string change_user_message_;
  bool changing_user_ = false;
  std::vector<std::pair<Chunk*, size_t>> paused_input_;  // client bytes held during a pause
  void* framer_ = nullptr;  // ABI 1.3: delimits both directions (MySQL); made when forwarding starts
  bool counted_as_held_ = false;
  uint32_t replay_pending_ = 0;  // answers the replayed state still owes
  uint32_t replay_failed_ = 0;
  uint32_t replay_sent_ = 0;             // messages replayed at this switch
  CarriedState carried_;                 // what the session set up, to carry to another database
  uint32_t client_inspected_flags_ = 0;  // the frame flags of the client message being inspected
  std::string naming_prepare_;           // the prepare the server message being inspected names
  // Messages inspected as they stream by (queries, statements, errors), bounded.
  std::string client_inspected_;
  uint64_t client_inspect_left_ = 0;
  std::string database_inspected_;
  uint64_t database_inspect_left_ = 0;
  // The start of the last statement as it came; `connections list` shows its shape (literals
  // replaced), made only when asked for.
  std::string last_query_;
  std::string last_error_;
  uint32_t client_inspected_class_ = LMS_MSG_OTHER;


  // Validation.
  std::unique_ptr<AnswerSummarizer> source_summary_;  // made when a first answer is to be compared
  bool summarizing_ = false;                          // the source message being walked is fed to it
  std::deque<PendingComparison> comparisons_;         // by request id, oldest first
  std::string request_statement_;                     // the statement of the extended request being sent
  std::string unnamed_statement_;            // the text of the last unnamed Parse (a Bind of "" runs it)
  // Unnamed Parses looked into lately that change nothing (drivers parse the same few statements
  // afresh for every run: they are not looked into again), each with where its text lies.
  struct PlainParse {
    std::string message;
    size_t text_at = 0;
    size_t text_len = 0;
  };
  std::vector<PlainParse> plain_parses_;
  size_t plain_parses_oldest_ = 0;           // replaced next, once all are taken
  uint32_t first_effect_ = LMS_EFFECT_NONE;  // what the first message of the request being decided does
};

}  // namespace lms::core
