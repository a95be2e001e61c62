// The cutover side of a session: pausing between requests, moving to the new source of truth
// with the session's settings and prepared statements, and what `connections list` shows.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "emit_into.h"
#include "json.h"
#include "plugin_loader.h"
#include "session/session.h"

namespace lms::core {
namespace {

constexpr size_t kMaxLastQueryBytes = 1024;

// host:port, [host]:port for IPv6.
std::string address_text(const sockaddr_storage& address) {
  char host[64] = {};
  if (address.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(a, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&address);
  uv_ip4_name(a, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

std::string view_of(lms_str s) { return s.data == nullptr ? std::string() : std::string(s.data, s.len); }

}  // namespace

bool Session::quiescent() const {
  return tracker_.idle() && held_ == nullptr &&
         client_scanner_.at_boundary() && database_scanner_.at_boundary();
}

bool Session::busy() const {
  switch (phase_) {
    case Phase::kConnecting:
    case Phase::kReplaying:
    case Phase::kChangingUser:
      return true;
    case Phase::kForwarding:
      return !quiescent();
    default:
      return false;
  }
}

void Session::hold_while_paused(Chunk* chunk, size_t len) {
  paused_input_.emplace_back(chunk, len);
  count_as_held(true);
  // Nothing more is read until the pause ends: the kernel's buffer is the queue.
  client_.stop_reading();
}

void Session::release_paused_input() {
  count_as_held(false);
  auto input = std::move(paused_input_);
  paused_input_.clear();
  for (auto& [chunk, len] : input) {
    if (phase_ != Phase::kForwarding) {
      worker_.pool().put(chunk);
      continue;
    }
    forward_from_client(chunk, len);
  }
  if (phase_ == Phase::kForwarding && paused_input_.empty() &&
      (database_ == nullptr || database_->queued() <= shared_.config->buffer_limit)) {
    client_.start_reading();
  }
}

void Session::count_as_held(bool held) {
  if (held == counted_as_held_) return;
  counted_as_held_ = held;
  if (held) {
    // A client that logged in during the pause waits before any database is chosen; any other
    // waits with its next request.
    worker_.note_hold(phase_ == Phase::kAwaitingResume);
    worker_.mutable_metrics().cutover_held_sessions.add();
  } else {
    worker_.mutable_metrics().cutover_held_sessions.sub();
  }
}

void Session::resume_after_cutover() {
  switch (phase_) {
    case Phase::kAwaitingResume:
      count_as_held(false);
      start_backend();
      return;
    case Phase::kForwarding:
      if (pooled_) {
        resume_pooled();
      } else if (truth_ != shared_.truth.load()) {
        begin_switch();
      } else {
        release_paused_input();
      }
      return;
    default:
      return;
  }
}

void Session::end_for_cutover() {
  spdlog::warn("session={} ended: still busy when the cutover's begin-timeout expired", id_);
  worker_.mutable_metrics().cutover_sessions_ended.add();
  if (database_scanner_.at_boundary()) {
    send_client_error("FATAL", "57P01",
                      "lms: this session was ended for a cutover: it was still inside a transaction or a "
                      "query when begin-timeout expired; its transaction was rolled back");
  }
  close_after_flush();
}

bool Session::idle_for_shutdown() const {
  switch (phase_) {
    case Phase::kFrontHandshake:
    case Phase::kAwaitingResume:
      return true;
    case Phase::kForwarding:
      return quiescent() && paused_input_.empty();
    default:
      return false;
  }
}

void Session::end_for_shutdown() {
  if (phase_ == Phase::kClosing) return;
  const bool idle = idle_for_shutdown();
  if (!idle) worker_.mutable_metrics().shutdown_sessions_ended.add();
  spdlog::info("session={} ended: lms is shutting down{}", id_,
               idle ? "" : " (still busy when shutdown-grace expired)");
  if (database_scanner_.at_boundary()) {
    send_client_error("FATAL", "57P01",
                      idle ? "terminating connection because lms is shutting down: reconnect to be served by "
                             "another instance"
                           : "terminating connection because lms is shutting down: this session was still "
                             "inside a transaction or a query when shutdown-grace expired; its transaction "
                             "was rolled back");
  }
  close_after_flush();
}

// ---- switching to the new source of truth --------------------------------------------------------

void Session::begin_switch() {
  if (!quiescent()) {
    // Never happens through the controller (it commits only once every session is idle); if it
    // did, moving a session in the middle of a transaction would lose it.
    end_for_cutover();
    return;
  }
  switching_ = true;
  // The pool's key and the remembered login describe the connection being replaced: the new one
  // is never kept (its session carries replayed state a reset would not describe).
  pool_key_.clear();
  client_.stop_reading();
  database_->stop_reading();
  // The shadow direction turns around with the source of truth: a new link is made on demand.
  retire_shadow_link();
  if (has_encode_terminate(back_dialect_)) {
    std::string goodbye;
    const lms_emitter collect = emit_into(&goodbye);
    back_dialect_->encode_terminate(&collect);
    // Best effort: the connection closes next whatever becomes of it.
    database_->stream().try_write_copy(reinterpret_cast<const uint8_t*>(goodbye.data()), goodbye.size());
  }
  phase_ = Phase::kConnecting;
  // The new connection is made once this one has closed (on_database_closed); what was
  // translated for the old one goes with it.
  database_->close();
}

void Session::on_switched_backend(const DatabaseLink::Login& login) {
  CancelTarget target;
  target.address = login.peer;
  target.database_key.assign(login.cancel_key);
  shared_.cancels.update(proxy_cancel_key_, std::move(target));
  // The client was welcomed by the old database; the new one's welcome is not repeated. What the
  // new database sent right after its login, the link hands on once this returns: answers to the
  // replay first, then (once the switch is done) whatever follows, forwarded.

  std::string replay;
  const lms_emitter collect = emit_into(&replay);
  replay_pending_ = 0;
  replay_failed_ = 0;
  // A translated database learns the client's statements from the translation, on first use;
  // settings of the client's protocol mean nothing to it.
  if (shared_.translated(truth_)) start_translation();
  if (has_inspect(back_dialect_) && database_->translation() == nullptr) {
    auto add = [&](const std::string& message) {
      back_dialect_->encode_request(reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                                    &collect);
      ++replay_pending_;
    };
    for (const std::string& message : carried_.replay()) add(message);
  }
  replay_sent_ = replay_pending_;
  if (replay_pending_ == 0) {
    finish_switch();
    return;
  }
  phase_ = Phase::kReplaying;
  database_->write_native(reinterpret_cast<const uint8_t*>(replay.data()), replay.size());
  database_->start_reading();
}

void Session::replay_answer(Chunk* chunk, size_t len) {
  // The answers to the replayed state are the proxy's own business: none reaches the client.
  const auto walked = database_scanner_.walk(
      chunk->data, len,
      [this](const lms_frame& f) -> unsigned {
        if (f.msg_class == LMS_MSG_ERROR) ++replay_failed_;
        if (f.msg_class != LMS_MSG_READY) return kPass;
        return --replay_pending_ == 0 ? kStopAfter : kPass;
      },
      [](const uint8_t*, size_t) {});
  if (!walked) {
    worker_.pool().put(chunk);
    protocol_error(false, database_scanner_.error());
    return;
  }
  if (replay_pending_ > 0) {
    worker_.pool().put(chunk);
    return;
  }
  finish_switch();
  if (*walked < len && phase_ == Phase::kForwarding) {
    forward_from_source(chunk, len, *walked);
  } else {
    worker_.pool().put(chunk);
  }
}

void Session::finish_switch() {
  switching_ = false;
  phase_ = Phase::kForwarding;
  if (changing_user_) {
    // Not a cutover's: the client is told its new login is done, then reads go on.
    database_->start_reading();
    finish_change_user();
    if (phase_ == Phase::kForwarding) release_paused_input();
    worker_.session_changed(*this);
    return;
  }
  WorkerMetrics& metrics = worker_.mutable_metrics();
  metrics.cutover_sessions_switched.add();
  metrics.cutover_statements_replayed.add(replay_sent_ - std::min(replay_failed_, replay_sent_));
  metrics.cutover_replay_failures.add(replay_failed_);
  replay_sent_ = 0;
  if (replay_failed_ > 0) {
    spdlog::warn(
        "session={} {} of the settings and statements carried to {} failed there; they fail again "
        "when used",
        id_, replay_failed_, shared_.endpoint(truth_).describe());
  }
  spdlog::debug("session={} now served by {} ({} settings, {} statements carried)", id_,
                shared_.endpoint(truth_).describe(), carried_.settings(), carried_.statements());
  database_->start_reading();
  release_paused_input();
  worker_.session_changed(*this);
}

// ---- what the session set up ----------------------------------------------------------------------

void Session::on_client_inspected() {
  if (client_inspected_class_ == LMS_MSG_PREPARE && noted_plain_parse()) {
    client_inspected_.clear();
    return;
  }
  lms_message_detail d{};
  d.struct_size = sizeof d;
  dialect_->inspect(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(client_inspected_.data()),
                    client_inspected_.size(), &d);
  if (d.text.len > 0) note_last_query(d.text);
  note_statement(d);
  if (client_inspected_class_ == LMS_MSG_PREPARE && d.name.len == 0 && d.effect == LMS_EFFECT_NONE) {
    remember_plain_parse(d.text);
  }
  if (carried_.take(d, client_inspected_, client_inspected_flags_) == CarriedState::Outcome::kAwaitsName &&
      !tracker_.in_flight().empty()) {
    tracker_.in_flight().back().unnamed_prepare = client_inspected_;  // named by the answer
  }
  client_inspected_.clear();
}

bool Session::noted_plain_parse() {
  for (const PlainParse& p : plain_parses_) {
    if (p.message != client_inspected_) continue;
    // Looked into before: it still holds nothing and defines nothing; only its text is noted.
    const lms_str text{p.message.data() + p.text_at, p.text_len};
    note_last_query(text);
    unnamed_statement_.assign(text.data, text.len);
    request_statement_ = unnamed_statement_;
    return true;
  }
  return false;
}

void Session::remember_plain_parse(lms_str text) {
  constexpr size_t kPlainParses = 8;
  constexpr size_t kMaxPlainParse = 1024;
  const char* const begin = client_inspected_.data();
  const size_t size = client_inspected_.size();
  if (size > kMaxPlainParse || text.len == 0 || text.data < begin || text.data + text.len > begin + size)
    return;
  PlainParse p{client_inspected_, static_cast<size_t>(text.data - begin), text.len};
  if (plain_parses_.size() < kPlainParses) {
    plain_parses_.push_back(std::move(p));
    return;
  }
  plain_parses_[plain_parses_oldest_] = std::move(p);
  plain_parses_oldest_ = (plain_parses_oldest_ + 1) % kPlainParses;
}

void Session::note_last_query(lms_str text) {
  // Kept as it came (the buffer reused), enough of it to shape: every statement passes here,
  // while `connections list` asks seldom.
  last_query_.assign(text.data, std::min(text.len, 2 * kMaxLastQueryBytes));
}

void Session::on_database_inspected() {
  lms_message_detail d{};
  d.struct_size = sizeof d;
  dialect_->inspect(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(database_inspected_.data()),
                    database_inspected_.size(), &d);
  if (d.effect == LMS_EFFECT_ERROR) last_error_ = view_of(d.text);
  if (d.effect == LMS_EFFECT_PREPARE && !naming_prepare_.empty()) {
    carried_.name_statement(view_of(d.name), naming_prepare_);
    if (link_) link_->learn_statement(view_of(d.name), naming_prepare_);
  }
  naming_prepare_.clear();
  database_inspected_.clear();
}

control::Connection Session::describe() const {
  control::Connection c;
  const Config& config = *shared_.config;
  // The proxy's address as this client reached it (not a wildcard listen address), and the client's.
  sockaddr_storage address{};
  int len = sizeof address;
  if (uv_tcp_getsockname(client_.tcp(), reinterpret_cast<sockaddr*>(&address), &len) == 0) {
    c.remote_address = address_text(address);
  }
  len = sizeof address;
  if (uv_tcp_getpeername(client_.tcp(), reinterpret_cast<sockaddr*>(&address), &len) == 0) {
    c.source_address = address_text(address);
  }
  len = sizeof address;
  if (database_ != nullptr && database_->stream().has_handle() &&
      uv_tcp_getsockname(database_->stream().tcp(), reinterpret_cast<sockaddr*>(&address), &len) == 0) {
    c.database_address = address_text(address);
  }
  c.user = client_user_;
  c.database = client_database_;
  const std::string& dialect_name = truth_ == kTargetRole ? config.target_dialect : config.source_dialect;
  c.source_of_truth = control::display_dialect(dialect_name);
  switch (phase_) {
    case Phase::kFrontHandshake:
    case Phase::kConnecting:
      c.state = switching_ ? "switching" : "connecting";
      break;
    case Phase::kAwaitingResume:
      c.state = "paused";
      break;
    case Phase::kReplaying:
      c.state = "switching";
      break;
    case Phase::kForwarding:
      if (!paused_input_.empty()) {
        c.state = "paused";
      } else if (!tracker_.in_flight().empty() || tracker_.sending()) {
        c.state = "active";
      } else if (tracker_.txn_state() != LMS_TXN_IDLE) {
        c.state = "in transaction";
      } else {
        c.state = "idle";
      }
      break;
    case Phase::kChangingUser:
      c.state = "changing user";
      break;
    case Phase::kResetting:
    case Phase::kClosing:
      c.state = "closing";
      break;
  }
  shape_statement(dialect_, {last_query_.data(), last_query_.size()}, kMaxLastQueryBytes, &c.last_query);
  c.error = last_error_;
  c.shadow_sent = router_.requests_sent();
  c.shadow_dropped = router_.requests_dropped();
  c.shadow_failed = router_.requests_failed();
  for (const std::string& kind : carried_.held()) {
    c.held_state += (c.held_state.empty() ? "" : ", ") + kind;
  }
  return c;
}

}  // namespace lms::core
