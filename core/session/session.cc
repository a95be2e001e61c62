#include "session/session.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>

#include "cancel_sender.h"
#include "plugin_loader.h"

namespace lms::core {
namespace {

// A handshake that needs more than this before it is done is not a handshake.
constexpr size_t kMaxHandshakeBytes = 1 << 20;
// How long a closing session waits for its last words to reach the client.
constexpr uint64_t kCloseFlushTimeoutMs = 5000;
// Messages looked into (queries, statement definitions, errors) up to this size; a larger one
// still passes, it is only not inspected (nor carried through a cutover).
constexpr uint64_t kMaxInspectedBytes = 256 * 1024;

std::atomic<uint64_t> g_next_session_id{1};

std::string to_string(lms_str s) { return {s.data, s.len}; }

// Sends the database `target` its cancel request, from `loop`.
void forward_cancel(const lms_dialect_functions* dialect, uv_loop_t* loop, const CancelTarget& target) {
  std::vector<uint8_t> packet;
  lms_emitter collect = {sizeof(lms_emitter), &packet, [](void* ctx, const uint8_t* d, size_t n) {
                           auto* v = static_cast<std::vector<uint8_t>*>(ctx);
                           v->insert(v->end(), d, d + n);
                         }};
  dialect->encode_cancel(reinterpret_cast<const uint8_t*>(target.database_key.data()),
                         target.database_key.size(), &collect);
  send_cancel(loop, target.address, std::move(packet));
}

}  // namespace

Session::Session(Worker& worker)
    : worker_(worker),
      shared_(worker.shared()),
      dialect_(worker.shared().dialect),
      back_dialect_(worker.shared().dialect),
      inspects_(has_inspect(worker.shared().dialect)),
      id_(g_next_session_id.fetch_add(1, std::memory_order_relaxed)),
      client_(worker.loop(), worker.pool(), *this),
      own_database_(worker.loop(), worker.pool(), *this),
      pooled_(worker.txn_pool().enabled()),
      client_scanner_(dialect_, LMS_FROM_CLIENT),
      database_scanner_(dialect_, LMS_FROM_SERVER),
      router_(router_settings(worker.shared())) {
  // Pooled, the session has a database connection only while the pool lends it one.
  database_ = pooled_ ? nullptr : &own_database_;
  to_client_ = {sizeof(lms_emitter), this, &Session::emit_to_client};
  worker_.attach(this);
  auto& m = worker_.mutable_metrics();
  m.connections_open.add();
  m.connections_total.add();
}

Session::~Session() {
  if (router_.requests_sent() + router_.requests_dropped() > 0) {
    spdlog::info("session={} shadow: {} requests sent to the target, {} dropped, {} failed there", id_,
                 router_.requests_sent(), router_.requests_dropped(), router_.requests_failed());
  }
  if (held_ != nullptr) worker_.pool().put(held_);
  count_as_held(false);
  for (auto& [chunk, len] : paused_input_) worker_.pool().put(chunk);
  if (front_ != nullptr) dialect_->front_destroy(front_);
  if (borrowing_) worker_.txn_pool().stop_waiting(*this);
  for (auto& [chunk, len] : borrow_input_) worker_.pool().put(chunk);
  if (pool_client_ != nullptr) dialect_->pool_client_destroy(pool_client_);
  if (framer_ != nullptr) dialect_->framer_destroy(framer_);
  if (!proxy_cancel_key_.empty()) shared_.cancels.remove(proxy_cancel_key_);
  shared_.open_sessions.fetch_sub(1, std::memory_order_relaxed);
  worker_.mutable_metrics().connections_open.sub();
  worker_.detach(this);
}

void Session::accept_from(Worker& worker, uv_stream_t* listener) {
  ProxyShared& shared = worker.shared();
  const uint32_t open = shared.open_sessions.fetch_add(1, std::memory_order_relaxed);
  auto* s = new Session(worker);
  s->client_.open();
  s->handles_open_ = 1;
  if (uv_accept(listener, s->client_.handle()) != 0) {
    s->close_now();
    return;
  }
  uv_tcp_nodelay(s->client_.tcp(), 1);
  // Over the limit, the client is still answered in protocol order (an SSLRequest first wants its
  // one byte) and refused once it has logged in; a cancel request still gets through.
  s->over_limit_ = open >= shared.config->max_connections;
  const std::shared_ptr<const FrontSettings> settings = shared.front_settings.load();
  s->front_ = s->dialect_->front_create(settings->kvs().data(), settings->kvs().size());
  if (s->front_ == nullptr) {
    s->close_now();
    return;
  }
  s->client_.start_reading();
  // Where the server speaks first (MySQL's greeting), the front has something to say already.
  s->run_front();
}

// ---- reading ------------------------------------------------------------------------------------

void Session::take_client_bytes(Chunk* chunk, size_t len) {
  switch (phase_) {
    case Phase::kForwarding:
      forward_from_client(chunk, len);
      return;
    case Phase::kReplaying:
      hold_while_paused(chunk, len);
      return;
    case Phase::kFrontHandshake:
    case Phase::kAwaitingResume:
    case Phase::kConnecting:
      // Client bytes that arrive while the database link logs in wait in front_in_.
      front_in_.append(reinterpret_cast<const char*>(chunk->data), len);
      worker_.pool().put(chunk);
      if (front_in_.size() > kMaxHandshakeBytes) {
        spdlog::info("session={} closed: handshake larger than {} bytes", id_, kMaxHandshakeBytes);
        close_now();
        return;
      }
      if (phase_ == Phase::kFrontHandshake) run_front();
      return;
    case Phase::kChangingUser:
      front_in_.append(reinterpret_cast<const char*>(chunk->data), len);
      worker_.pool().put(chunk);
      if (front_in_.size() > kMaxHandshakeBytes) {
        spdlog::info("session={} closed: change of user larger than {} bytes", id_, kMaxHandshakeBytes);
        close_now();
        return;
      }
      run_change_user();
      return;
    case Phase::kResetting:
    case Phase::kClosing:
      worker_.pool().put(chunk);
      return;
  }
}

void Session::take_database_bytes(Chunk* chunk, size_t len) {
  switch (phase_) {
    case Phase::kForwarding:
      if (pooled_) {
        take_pooled_answer(chunk, len);
      } else {
        forward_from_source(chunk, len, 0);
      }
      return;
    case Phase::kReplaying:
      replay_answer(chunk, len);
      return;
    case Phase::kFrontHandshake:
    case Phase::kAwaitingResume:
    case Phase::kConnecting:
      worker_.pool().put(chunk);  // the link reports nothing before its login is done
      return;
    case Phase::kResetting:
      on_reset_answer(chunk, len);
      return;
    case Phase::kChangingUser:  // an idle session's database says nothing
    case Phase::kClosing:
      worker_.pool().put(chunk);
      return;
  }
}

void Session::on_stream_ended(Stream&, int status) {
  if (phase_ == Phase::kForwarding && !client_terminating_ && tracker_.txn_state() != LMS_TXN_IDLE) {
    spdlog::info("session={} client went away inside a transaction; the source rolls it back", id_);
  } else {
    spdlog::debug("session={} client disconnected ({})", id_, uv_err_name(status));
  }
  close_now();
}

void Session::on_database_lost(int status) {
  drop_broken_lent();
  if (phase_ != Phase::kForwarding) return;
  if (client_terminating_) {
    // The client said goodbye and the database hung up: the expected end, whichever close the
    // loop saw first; neither a lost connection nor an error to count.
    close_now();
    return;
  }
  worker_.mutable_metrics().source_disconnects.add();
  spdlog::warn("session={} lost the source connection ({}){}{}", id_, uv_err_name(status),
               tracker_.in_flight().empty() ? "" : " with a request in flight",
               tracker_.last_failed() ? " after the error it sent" : "");
  // An error can only be inserted between two messages; mid-message, closing is all that is left.
  // After the database's own error the client knows why, exactly as it would directly.
  if (database_scanner_.at_boundary() && !tracker_.last_failed()) {
    send_client_error("FATAL", "08006", "lms: lost the connection to the source database");
  }
  close_after_flush();
}

// ---- handshakes ---------------------------------------------------------------------------------

void Session::emit_to_client(void* ctx, const uint8_t* data, size_t len) {
  static_cast<Session*>(ctx)->client_.write_copy(data, len);
}

void Session::run_front() {
  size_t consumed = 0;
  lms_front_result result{};
  result.struct_size = sizeof result;
  const uint32_t status = dialect_->front_step(front_, reinterpret_cast<const uint8_t*>(front_in_.data()),
                                               front_in_.size(), &consumed, &to_client_, &result);
  front_in_.erase(0, consumed);
  switch (status) {
    case LMS_HS_NEED_INPUT:
      return;
    case LMS_HS_DONE: {
      if (over_limit_) {
        worker_.mutable_metrics().connections_rejected.add();
        spdlog::warn("session={} refused: max-connections={} reached", id_, shared_.config->max_connections);
        send_client_error("FATAL", "53300", "sorry, too many clients already");
        close_after_flush();
        return;
      }
      take_login(result);
      // During a cutover's pause the client is in, but which database it will use is not
      // decided yet: it waits for the pause to end (resume_after_cutover).
      if (worker_.paused()) {
        phase_ = Phase::kAwaitingResume;
        count_as_held(true);
        return;
      }
      start_backend();
      return;
    }
    case LMS_HS_CANCEL: {
      worker_.mutable_metrics().cancel_requests.add();
      const std::string key(reinterpret_cast<const char*>(result.cancel_key), result.cancel_key_len);
      const std::optional<CancelTarget> target = shared_.cancels.find(key);
      if (target && target->lent) {
        // A pooled session: the connection lent to it now, if any, known on its own worker.
        std::shared_ptr<LentCancel> lent = target->lent;
        lent->owner.post([lent, dialect = dialect_, id = id_] {
          if (lent->now == nullptr) {
            spdlog::debug("session={} cancel request: its pooled session runs nothing", id);
            return;
          }
          forward_cancel(dialect, lent->owner.loop(), *lent->now);
          spdlog::debug("session={} forwarded a cancel request to a pooled connection", id);
        });
      } else if (target && !target->database_key.empty()) {
        forward_cancel(dialect_, worker_.loop(), *target);
        spdlog::debug("session={} forwarded a cancel request", id_);
      } else {
        spdlog::info("session={} cancel request with an unknown key ignored", id_);
      }
      close_now();
      return;
    }
    case LMS_HS_CLOSE:
      close_now();
      return;
    case LMS_HS_START_TLS:
      if (!shared_.client_tls || !shared_.client_tls->ctx) {
        close_now();  // a dialect that offers what the proxy cannot do
        return;
      }
      start_client_tls();
      return;
    default:
      worker_.mutable_metrics().client_auth_failures.add();
      spdlog::info("session={} client handshake failed: {}", id_,
                   result.error != nullptr ? result.error : "unknown reason");
      close_after_flush();
      return;
  }
}

void Session::take_login(const lms_front_result& result) {
  for (size_t i = 0; i < result.credential_count; ++i) {
    credentials_.emplace_back(to_string(result.credentials[i].key), to_string(result.credentials[i].value));
  }
  for (size_t i = 0; i < result.startup_param_count; ++i) {
    const lms_kv& kv = result.startup_params[i];
    startup_params_.emplace_back(to_string(kv.key), to_string(kv.value));
    const std::string key = to_string(kv.key);
    if (key == "user") client_user_ = to_string(kv.value);
    if (key == "database") client_database_ = to_string(kv.value);
  }
  if (pooled_) {
    // A pooled connection logs in as the user to the database, nothing more: the rest of what
    // the client asked for at startup are its settings, made on each connection it is lent.
    pooled_startup_.clear();
    std::vector<lms_kv> kvs;
    for (const auto& [k, v] : startup_params_) {
      if (k == "user" || k == "database") pooled_startup_.emplace_back(k, v);
      kvs.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    }
    if (pool_client_ != nullptr) dialect_->pool_client_destroy(pool_client_);
    pool_client_ = dialect_->pool_client_create(kvs.data(), kvs.size());
  }
  if (const auto it = shared_.config->target_users.find(client_user_);
      !credentials_.empty() && it != shared_.config->target_users.end()) {
    target_password_ = {{"password", it->second}};
  }
}

void Session::start_backend() {
  if (pooled_) {
    start_pooled_backend();
    return;
  }
  truth_ = shared_.truth.load();
  back_dialect_ = shared_.dialect_of(truth_);
  // The database's own connection parameters, the client's credentials when its login gave any,
  // then what the client asked for at startup. A database of another protocol is given only what
  // it understands alike, and no credential of the client's protocol.
  const bool translated = shared_.translated(truth_);
  const Params startup = translated ? translated_startup(startup_params_) : startup_params_;
  const auto params = login_params(shared_.endpoint(truth_), credentials_for(truth_), startup);
  if (take_kept_server(params)) return;
  phase_ = Phase::kConnecting;
  ++handles_open_;  // the link, until on_database_closed
  database_->connect(shared_.endpoint(truth_), back_dialect_, params, shared_.config->connect_timeout_ms);
}

const Params& Session::credentials_for(uint8_t role) const {
  static const Params kNone;
  if (credentials_.empty() || shared_.translated(role)) return kNone;
  if (role == kTargetRole && !target_password_.empty()) return target_password_;
  return credentials_;
}

void Session::fail_connect(const std::string& reason, const char* code) {
  if (phase_ == Phase::kClosing) return;
  worker_.mutable_metrics().source_connect_failures.add();
  const std::string where = shared_.endpoint(truth_).describe();
  const char* which = switching_ ? "the new source of truth" : "the source database";
  spdlog::warn("session={} cannot connect to {} {}: {}", id_, which, where, reason);
  send_client_error("FATAL", code,
                    std::string("lms: could not connect to ") + which + " at " + where + ": " + reason);
  close_after_flush();
}

void Session::on_database_login_failed(const DatabaseLink::LoginFailure& failure) {
  if (!failure.refused) {
    fail_connect(failure.reason, failure.code.c_str());
    return;
  }
  if (phase_ == Phase::kClosing) return;
  // The source's own error (a missing database, a wrong password in the connection string)
  // reaches the client with its own code.
  worker_.mutable_metrics().source_connect_failures.add();
  spdlog::warn("session={} database {} refused the session: {}", id_, shared_.endpoint(truth_).describe(),
               failure.reason);
  send_client_error("FATAL", failure.code, failure.reason);
  close_after_flush();
}

void Session::on_database_ready(const DatabaseLink::Login& login) {
  if (switching_) {
    on_switched_backend(login);
    return;
  }
  CancelTarget target;
  target.address = login.peer;
  target.database_key.assign(login.cancel_key);
  if (!pool_key_.empty()) remember_login(login.welcome, target);
  finish_login(login.welcome, std::move(target));
}

void Session::finish_login(std::string_view welcome, CancelTarget target) {
  proxy_cancel_key_ =
      shared_.cancels.add(dialect_->cancel_key_len, cancel_key_shown(dialect_), std::move(target));
  dialect_->front_finish(front_, reinterpret_cast<const uint8_t*>(welcome.data()), welcome.size(),
                         reinterpret_cast<const uint8_t*>(proxy_cancel_key_.data()), proxy_cancel_key_.size(),
                         &to_client_);
  dialect_->front_destroy(front_);
  front_ = nullptr;
  spdlog::debug("session={} user={} database={} connected to the source", id_, client_user_,
                client_database_);
  start_forwarding();
}

void Session::start_forwarding() {
  phase_ = Phase::kForwarding;
  if (framer_ == nullptr && has_framer(dialect_)) {
    // Both directions are delimited by one framer, made from what the client and lms agreed on.
    std::vector<lms_kv> params;
    for (const auto& [k, v] : startup_params_) params.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    framer_ = dialect_->framer_create(params.data(), params.size());
    if (framer_ == nullptr) {
      spdlog::error("session={} closed: the dialect could not make its framer", id_);
      close_now();
      return;
    }
    client_scanner_.use_framer(framer_);
    database_scanner_.use_framer(framer_);
  }
  // What the client sent beyond its handshake goes on as data (what the database sent beyond its
  // own, the link hands on once this returns).
  if (shared_.translated(truth_)) start_translation();
  deliver_early_client_bytes();
  if (phase_ != Phase::kForwarding) return;
  client_.start_reading();
  if (database_ != nullptr) database_->start_reading();
  worker_.session_changed(*this);
}

// ---- forwarding ---------------------------------------------------------------------------------

void Session::protocol_error(bool from_client, const char* reason) {
  if (from_client) worker_.mutable_metrics().client_protocol_errors.add();
  spdlog::warn("session={} closed: invalid message from the {}: {}", id_, from_client ? "client" : "source",
               reason);
  if (database_scanner_.at_boundary()) {
    send_client_error("FATAL", "08P01",
                      std::string("lms: invalid message from the ") +
                          (from_client ? "client" : "source database") + ": " + reason);
  }
  close_after_flush();
}

void Session::deliver_early_client_bytes() {
  const std::string early_client = std::move(front_in_);
  front_in_.clear();
  if (!early_client.empty() && phase_ == Phase::kForwarding) {
    deliver_in_chunks(worker_.pool(), early_client,
                      [this](Chunk* chunk, size_t n) { take_client_bytes(chunk, n); });
  }
}

void Session::forward_from_client(Chunk* chunk, size_t len) {
  if (worker_.paused() && quiescent()) {
    // A cutover is pausing traffic: the next request waits until it commits or aborts.
    hold_while_paused(chunk, len);
    return;
  }
  if (pooled_ && lent_ == nullptr && !answering_alone_) {
    // A request starts: it waits for a connection from the pool, unless lms can answer it.
    if (answer_without_connection(chunk, len)) return;
    borrow_for(chunk, len);
    return;
  }
  size_t change_user_taken = 0;  // of this chunk, the bytes of a change-of-user command
  const auto walked = client_scanner_.walk(
      chunk->data, len, [this](const lms_frame& f) { return on_client_message(f); },
      [this, &change_user_taken](const uint8_t* data, size_t n) {
        if (change_user_collecting_) {
          change_user_taken += take_change_user_bytes(data, n);
          return;
        }
        router_.copy(data, n);
        if (client_inspect_left_ > 0) {
          client_inspected_.append(reinterpret_cast<const char*>(data), n);
          client_inspect_left_ -= n;
          if (client_inspect_left_ == 0) on_client_inspected();
        }
      });
  if (!walked) {
    worker_.pool().put(chunk);
    protocol_error(true, client_scanner_.error());
    return;
  }
  if (change_user_collecting_) {
    after_change_user_walk(chunk, len, *walked, change_user_taken);
    return;
  }
  if (keeping_database_) {
    // What came before the Terminate (nothing that opens a request) still goes; then the reset.
    worker_.pool().put(chunk);
    reset_database_for_reuse();
    return;
  }
  auto& m = worker_.mutable_metrics();
  m.bytes_from_clients.add(len);
  if (pooled_ && answering_alone_) {
    worker_.pool().put(chunk);  // lms answers it: nothing goes to a database
  } else if (pooled_) {
    write_pooled(chunk, len);
  } else {
    chunk->len = len;
    database_->write(chunk);
  }
  router_.send_copied();
  if (database_ != nullptr && database_->queued() > shared_.config->buffer_limit && client_.reading()) {
    // The source is slow to read: stop feeding it until it drains (see on_write).
    client_.stop_reading();
    m.backpressure_pauses.add();
  }
}

bool Session::gate_front_answer(const uint8_t* data, size_t len) {
  if (tracker_.oldest() == nullptr || tracker_.answer_started() || !database_scanner_.at_boundary()) return false;
  Request& front = *tracker_.oldest();
  if (!router_.dispatch(front)) return false;
  // The source asks the client for COPY data: the target waits for the same data, so holding
  // this answer would stall all three. It flows, and the request waits no more.
  lms_frame f{};
  f.struct_size = sizeof f;
  dialect_->frame(LMS_FROM_SERVER, data, len, &f);
  if (f.result == LMS_FRAME_COMPLETE && f.msg_class == LMS_MSG_COPY_IN) {
    front.flow = true;
    return false;
  }
  return true;
}

void Session::forward_from_source(Chunk* chunk, size_t len, size_t from) {
  auto& m = worker_.mutable_metrics();
  size_t pos = from;
  while (pos < len && phase_ == Phase::kForwarding) {
    if (gate_front_answer(chunk->data + pos, len - pos)) {
      // Nothing more is read from the source until the target has answered (resume_source).
      held_ = chunk;
      held_from_ = pos;
      held_len_ = len;
      if (database_ != nullptr) database_->stop_reading();
      return;
    }
    if (!tracker_.answer_started() && tracker_.oldest() != nullptr) router_.begin_answer(*tracker_.oldest());
    const auto walked = database_scanner_.walk(
        chunk->data + pos, len - pos, [this](const lms_frame& f) { return on_database_message(f); },
        [this](const uint8_t* data, size_t n) {
          router_.keep(data, n);
          if (summarizing_) source_summary_->feed(data, n);
          if (database_inspect_left_ > 0) {
            database_inspected_.append(reinterpret_cast<const char*>(data), n);
            database_inspect_left_ -= n;
            if (database_inspect_left_ == 0) on_database_inspected();
          }
        });
    if (!walked) {
      worker_.pool().put(chunk);
      protocol_error(false, database_scanner_.error());
      return;
    }
    const size_t n = *walked;
    m.bytes_to_clients.add(n);
    const bool replaced_segment = router_.replacing();
    if (replaced_segment && database_scanner_.at_boundary()) {
      // The replaced answer is complete: the client gets the router's replacement instead.
      if (const auto answer = router_.take_replacement()) {
        client_.write_copy(reinterpret_cast<const uint8_t*>(answer->data()), answer->size());
      }
    }
    if (!replaced_segment) {
      if (pos == 0 && n == len) {
        chunk->len = len;
        client_.write(chunk);
        chunk = nullptr;
      } else {
        client_.write_copy(chunk->data + pos, n);
      }
    }
    pos += n;
  }
  if (chunk != nullptr) worker_.pool().put(chunk);
  if (client_.queued() > shared_.config->buffer_limit && database_ != nullptr && database_->reading()) {
    // The client is slow to read: stop feeding it until it drains (see on_write).
    database_->stop_reading();
    m.backpressure_pauses.add();
  }
  // An answer may have ended the session's last request or transaction.
  worker_.session_changed(*this);
}

void Session::resume_source() {
  if (held_ == nullptr || phase_ != Phase::kForwarding) return;
  Chunk* chunk = held_;
  held_ = nullptr;
  forward_from_source(chunk, held_len_, held_from_);
  if (pooled_) forward_pooled_backlog();
  if (held_ == nullptr && phase_ == Phase::kForwarding && database_ != nullptr &&
      client_.queued() <= shared_.config->buffer_limit / 2) {
    database_->start_reading();
  }
}

unsigned Session::on_client_message(const lms_frame& f) {
  switch (f.msg_class) {
    case LMS_MSG_TERMINATE:
      client_terminating_ = true;
      // The client is done with an idle session: its database connection can serve the next
      // client once reset. The Terminate itself goes no further.
      keeping_database_ = can_keep_server();
      router_.copy_outside_request(f.msg_class);
      return keeping_database_ ? kStopAfter : kPass;
    case LMS_MSG_NO_ANSWER: {
      // Whole, and nothing answers it (MySQL COM_STMT_CLOSE): no request opens. It may drop a
      // statement, which the target drops too, after whatever it already has.
      const bool inspect = inspects_ && f.length <= kMaxInspectedBytes;
      client_inspected_.clear();
      client_inspect_left_ = inspect ? f.length : 0;
      client_inspected_class_ = f.msg_class;
      client_inspected_flags_ = f.flags;
      return router_.copy_outside_request(f.msg_class) || inspect ? kCopy : kPass;
    }
    case LMS_MSG_COPY_DATA:
    case LMS_MSG_COPY_END:
      return router_.copy_outside_request(f.msg_class) ? kCopy : kPass;
    case LMS_MSG_CHANGE_USER:
      if (has_front_change_user(dialect_)) return on_change_user_message(f);
      break;
    default:
      break;
  }
  if (tracker_.on_client_message(f) == RequestTracker::ClientMessage::kStarts) decide(f);
  // Queries and statement definitions are looked into once whole: they are what `connections
  // list` shows and what a cutover carries to the other database. A request to be validated has
  // its Binds looked into too, to know which statement it runs.
  const bool inspect =
      (f.msg_class == LMS_MSG_QUERY || f.msg_class == LMS_MSG_PREPARE || f.msg_class == LMS_MSG_CLOSE ||
       (f.msg_class == LMS_MSG_EXTENDED && router_.route().compare)) &&
      inspects_ && f.length <= kMaxInspectedBytes;
  client_inspected_.clear();
  client_inspect_left_ = inspect ? f.length : 0;
  client_inspected_class_ = f.msg_class;
  client_inspected_flags_ = f.flags;
  const bool copy = router_.copy_request_message(f);
  if (RequestTracker::ends_request(f)) {
    worker_.mutable_metrics().requests.add();
    route_request(tracker_.send(worker_.now_ns()), f.length);
    request_statement_.clear();
  }
  return copy || inspect ? kCopy : kPass;
}

unsigned Session::on_database_message(const lms_frame& f) {
  Request* const answered = tracker_.oldest();
  unsigned action = kPass;
  summarizing_ = answered != nullptr && answered->compare && f.msg_class != LMS_MSG_READY;
  if (summarizing_) action = kCopy;
  database_inspected_.clear();
  database_inspect_left_ = 0;
  const bool failed = RequestTracker::is_error(f);
  if (failed && inspects_ && f.length <= kMaxInspectedBytes) {
    database_inspect_left_ = f.length;  // for `connections list`
    action = kCopy;
  }
  if ((f.flags & LMS_FRAME_FLAG_PREPARED) && inspects_ && f.length <= kMaxInspectedBytes &&
      answered != nullptr && !answered->unnamed_prepare.empty()) {
    // The name of the statement the request prepared; the message may also end the request.
    naming_prepare_ = std::move(answered->unnamed_prepare);
    database_inspect_left_ = f.length;
    action = kCopy;
  }
  // The request the message completes, if it does, out of flight from here on.
  const std::optional<Request> done = tracker_.on_database_message(f);
  if (router_.keep_answer_message(f.msg_class)) action = kCopy;
  if (failed) worker_.mutable_metrics().source_errors.add();
  if (done) {
    worker_.mutable_metrics().source_latency.observe(worker_.now_ns() - done->sent_ns);
    if (done->compare && source_summary_) {
      // The message that ends the answer is part of it too (MySQL's OK, EOF or ERR), as far as
      // this read holds it; a summary missing its end says it is incomplete.
      const auto [bytes, visible] = database_scanner_.visible();
      source_summary_->feed(bytes, static_cast<size_t>(std::min<uint64_t>(visible, f.length)));
    }
    if (done->compare) source_answered(*done);
    router_.answered(*done);
  }
  if (f.msg_class == LMS_MSG_READY) {
    // Stop where this answer ends only when something must happen there: a replaced answer is
    // finished, or the next answer may be held or its request dispatched. Otherwise the whole
    // read goes on in one zero-copy write.
    const Request* next = tracker_.oldest();
    const bool next_is_gated = next != nullptr && (next->wait || next->staged);
    if (router_.replacing() || next_is_gated) action |= kStopAfter;
  }
  return action;
}

// ---- writing ------------------------------------------------------------------------------------

void Session::on_stream_write_failed(Stream&, int status) {
  spdlog::debug("session={} write to the client failed: {}", id_, uv_err_name(status));
  close_now();
}

void Session::on_database_write_failed(int status) {
  spdlog::debug("session={} write to the database failed: {}", id_, uv_err_name(status));
  drop_broken_lent();
  close_now();
}

// A write reached the kernel: the direction it drains may read again once it is down to half the
// limit (see the backpressure in forward_from_client and forward_from_source).
void Session::on_stream_wrote(Stream&) {
  if (phase_ == Phase::kForwarding && database_ != nullptr && !database_->reading() && held_ == nullptr &&
      client_.queued() <= shared_.config->buffer_limit / 2) {
    database_->start_reading();
  }
}

void Session::on_database_wrote() {
  if (phase_ == Phase::kForwarding && !client_.reading() && database_ != nullptr && !borrowing_ &&
      paused_input_.empty() && database_->queued() <= shared_.config->buffer_limit / 2) {
    client_.start_reading();
  }
}

void Session::send_client_error(const char* severity, const std::string& code, const std::string& message) {
  last_error_ = message;
  const lms_error error = {sizeof(lms_error),
                           {severity, std::strlen(severity)},
                           {code.data(), code.size()},
                           {message.data(), message.size()}};
  // A client still in its handshake may expect something only its front knows (MySQL: the
  // packet's sequence id).
  if (front_ != nullptr && has_front_error(dialect_)) {
    dialect_->front_error(front_, &error, &to_client_);
    return;
  }
  dialect_->encode_error(&error, &to_client_);
}

// ---- closing ------------------------------------------------------------------------------------

void Session::close_after_flush() {
  if (phase_ == Phase::kClosing) return;
  phase_ = Phase::kClosing;
  worker_.session_changed(*this);
  if (link_) link_->finish();
  client_.stop_reading();
  if (pooled_) {
    release_lent(true);
  } else {
    database_->stop_reading();
    database_->close();
  }
  // A client that reads nothing must not keep a closing session alive: give the flush a deadline.
  close_now_after(kCloseFlushTimeoutMs);
  // A shutdown completes once every queued write has reached the kernel, so the client gets the
  // error it was just sent before the connection closes (on_stream_shut_down).
  client_.shutdown();
}

void Session::close_now_after(uint64_t timeout_ms) {
  if (!deadline_open_) {
    uv_timer_init(worker_.loop(), &close_deadline_);
    close_deadline_.data = this;
    deadline_open_ = true;
    ++handles_open_;
  }
  uv_timer_start(
      &close_deadline_, [](uv_timer_t* t) { static_cast<Session*>(t->data)->close_now(); }, timeout_ms, 0);
}

void Session::close_now() {
  phase_ = Phase::kClosing;
  worker_.session_changed(*this);
  if (link_) link_->finish();
  client_.close();
  if (pooled_) {
    release_lent(true);
  } else {
    database_->close();
  }
  if (deadline_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&close_deadline_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&close_deadline_), &Session::on_closed);
  }
}

void Session::on_stream_closed(Stream&) {
  --handles_open_;
  maybe_destroy();
}

void Session::on_database_closed() {
  --handles_open_;
  // The old source of truth's connection is gone: the link connects to the new one.
  if (switching_ && phase_ != Phase::kClosing) {
    start_backend();
    return;
  }
  maybe_destroy();
}

void Session::on_closed(uv_handle_t* handle) {
  auto* s = static_cast<Session*>(handle->data);
  --s->handles_open_;
  s->maybe_destroy();
}

void Session::maybe_destroy() {
  if (handles_open_ == 0) delete this;
}

}  // namespace lms::core
