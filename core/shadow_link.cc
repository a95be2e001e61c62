#include "shadow_link.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "emit_into.h"
#include "plugin_loader.h"

namespace lms::core {
namespace {

constexpr size_t kMaxHandshakeBytes = 1 << 20;
// An error message larger than this is not kept verbatim; the client gets a short one instead.
constexpr uint64_t kMaxKeptError = 64 * 1024;

}  // namespace

ShadowLink::ShadowLink(ShadowLinkOwner& owner, Worker& worker,
                       std::vector<std::pair<std::string, std::string>> startup, uint64_t session_id,
                       uint8_t role, const std::vector<std::pair<std::string, std::string>>& statements)
    : owner_(owner),
      worker_(worker),
      shared_(worker.shared()),
      target_(worker.shared().endpoint(role)),
      dialect_(worker.shared().dialect_of(role)),
      answer_dialect_(worker.shared().translated(role) ? worker.shared().dialect : dialect_),
      session_id_(session_id),
      startup_(std::move(startup)),
      scanner_(answer_dialect_, LMS_FROM_SERVER),
      sent_scanner_(answer_dialect_, LMS_FROM_CLIENT) {
  emitter_ = {sizeof(lms_emitter), this, &ShadowLink::emit};
  if (has_framer(answer_dialect_)) {
    // Made, like the session's, from what the client and lms agreed on at login.
    std::vector<lms_kv> params;
    for (const auto& [k, v] : startup_) params.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    framer_ = answer_dialect_->framer_create(params.data(), params.size());
    scanner_.use_framer(framer_);
    sent_scanner_.use_framer(framer_);
  }
  if (shared_.translated(role)) {
    translation_ = std::make_unique<Translation>(shared_.dialect, dialect_, startup_, statements);
    startup_ = translated_startup(startup_);  // what the target's own handshake is given
  }
  connect();
}

ShadowLink::~ShadowLink() {
  if (framer_ != nullptr) answer_dialect_->framer_destroy(framer_);
  if (back_ != nullptr) dialect_->back_destroy(back_);
  if (read_chunk_ != nullptr) worker_.pool().put(read_chunk_);
}

// ---- connecting ---------------------------------------------------------------------------------

void ShadowLink::connect() {
  state_ = State::kConnecting;
  uv_tcp_init(worker_.loop(), &socket_);
  socket_.data = this;
  socket_open_ = true;
  owner_.on_link_handle_opened();
  uv_timer_init(worker_.loop(), &deadline_);
  deadline_.data = this;
  timer_open_ = true;
  owner_.on_link_handle_opened();
  // Connecting counts against the deadline too: a target that never accepts must not hold waits.
  uv_timer_start(&deadline_, &ShadowLink::on_deadline, shared_.config->shadow_timeout_ms, 0);

  connector_.start(worker_.loop(), &socket_, target_);
  // The lookup outlives a close; it is counted like a handle until on_lookup_finished.
  if (connector_.lookup_in_flight()) owner_.on_link_handle_opened();
}

void ShadowLink::on_connect_failed(const std::string& reason) {
  if (state_ != State::kConnecting || closed_) return;
  fail(reason, "lms: could not connect to the target database", "08006");
}

void ShadowLink::on_connected() {
  if (state_ != State::kConnecting || closed_) return;
  std::vector<lms_kv> params = target_.kvs();
  for (const auto& [k, v] : startup_) params.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  back_ = dialect_->back_create(params.data(), params.size());
  if (back_ == nullptr) {
    fail("out of memory", "lms: could not connect to the target database", "08006");
    return;
  }
  state_ = State::kHandshake;
  dialect_->back_start(back_, &emitter_);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&socket_), &ShadowLink::on_alloc, &ShadowLink::on_read);
}

void ShadowLink::run_handshake() {
  size_t consumed = 0;
  lms_back_result result{};
  result.struct_size = sizeof result;
  const uint32_t status = dialect_->back_step(back_, reinterpret_cast<const uint8_t*>(handshake_in_.data()),
                                              handshake_in_.size(), &consumed, &emitter_, &result);
  handshake_in_.erase(0, consumed);
  if (status == LMS_HS_NEED_INPUT) return;
  if (status == LMS_HS_START_TLS && target_.tls && target_.tls->wanted() && !tls_) {
    tls_ = std::make_unique<TlsChannel>(target_.tls->ctx.get(), TlsChannel::Role::kClient,
                                        target_.tls->verify_host);
    flush_tls();  // the ClientHello
    if (tls_->failed())
      fail("TLS: " + tls_->error(), "lms: could not connect to the target database", "08006");
    return;
  }
  if (status != LMS_HS_DONE) {
    const std::string message = result.error != nullptr ? result.error : "handshake failed";
    fail("the target refused the session: " + message,
         "lms: the target database refused the session: " + message, "08006");
    return;
  }
  dialect_->back_destroy(back_);
  back_ = nullptr;
  state_ = State::kReady;
  if (!draining_ && (pending_.empty() || !pending_.front().waited)) uv_timer_stop(&deadline_);
  const std::string early = std::move(handshake_in_);
  handshake_in_.clear();
  const std::string queued = std::move(before_ready_);
  before_ready_.clear();
  deliver(reinterpret_cast<const uint8_t*>(queued.data()), queued.size());
  if (!early.empty()) on_bytes(reinterpret_cast<const uint8_t*>(early.data()), early.size());
  if (draining_ && pending_.empty()) close();
}

// ---- sending ------------------------------------------------------------------------------------

void ShadowLink::emit(void* ctx, const uint8_t* data, size_t len) {
  static_cast<ShadowLink*>(ctx)->write_now(data, len);
}

void ShadowLink::send(const uint8_t* data, size_t len) {
  if (state_ == State::kBroken || len == 0) return;
  if (state_ != State::kReady) {
    if (before_ready_.size() + len > shared_.config->buffer_limit) {
      fail("more than buffer-limit queued while connecting", "lms: the target database is too slow", "53400");
      return;
    }
    before_ready_.append(reinterpret_cast<const char*>(data), len);
    return;
  }
  deliver(data, len);
}

void ShadowLink::deliver(const uint8_t* data, size_t len) {
  if (len == 0 || state_ == State::kBroken) return;
  if (framer_ != nullptr && !sent_scanner_.scan(data, len, [](const lms_frame&) {})) {
    fail(std::string("invalid message for the target: ") + sent_scanner_.error(),
         "lms: invalid message from the client", "08P01");
    return;
  }
  if (!translation_) {
    write_now(data, len);
    return;
  }
  std::string_view out;
  std::string error;
  if (!translation_->to_database(data, len, &out, &error)) {
    fail("cannot translate for the target: " + error, "lms: invalid message from the client", "08P01");
    return;
  }
  write_now(reinterpret_cast<const uint8_t*>(out.data()), out.size());
}

void ShadowLink::write_now(const uint8_t* data, size_t len) {
  if (tls_) {
    tls_->send(data, len);
    flush_tls();
    return;
  }
  write_raw(data, len);
}

void ShadowLink::flush_tls() {
  uint8_t buf[16 * 1024];
  while (tls_ && state_ != State::kBroken && tls_->output_pending() > 0) {
    const size_t n = tls_->take_output(buf, sizeof buf);
    if (n == 0) return;
    write_raw(buf, n);
  }
}

void ShadowLink::write_raw(const uint8_t* data, size_t len) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&socket_);
  while (len > 0 && state_ != State::kBroken) {
    uv_buf_t buf =
        uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)), static_cast<unsigned>(len));
    const int written = queued_ == 0 ? uv_try_write(stream, &buf, 1) : UV_EAGAIN;
    if (written >= 0 && static_cast<size_t>(written) == len) return;
    if (written < 0 && written != UV_EAGAIN) {
      fail(std::string("write failed: ") + uv_err_name(written),
           "lms: lost the connection to the target database", "08006");
      return;
    }
    const size_t done = written > 0 ? static_cast<size_t>(written) : 0;
    data += done;
    len -= done;
    // The rest goes through write requests, a chunk at a time, up to buffer-limit: a target that
    // cannot keep up breaks the link rather than slow the source or grow memory.
    if (queued_ + len > shared_.config->buffer_limit) {
      fail("the target does not read fast enough", "lms: the target database is too slow", "53400");
      return;
    }
    const size_t n = std::min(len, Chunk::kCapacity);
    Chunk* chunk = worker_.pool().get();
    std::memcpy(chunk->data, data, n);
    chunk->len = n;
    chunk->write_req.data = this;
    uv_buf_t out = uv_buf_init(reinterpret_cast<char*>(chunk->data), static_cast<unsigned>(n));
    queued_ += n;
    if (uv_write(&chunk->write_req, stream, &out, 1, &ShadowLink::on_write) < 0) {
      queued_ -= n;
      worker_.pool().put(chunk);
      fail("write failed", "lms: lost the connection to the target database", "08006");
      return;
    }
    data += n;
    len -= n;
  }
}

void ShadowLink::on_write(uv_write_t* req, int status) {
  Chunk* chunk = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(req) - offsetof(Chunk, write_req));
  auto* link = static_cast<ShadowLink*>(req->data);
  link->queued_ -= chunk->len;
  link->worker_.pool().put(chunk);
  if (status < 0 && status != UV_ECANCELED) {
    link->fail(std::string("write failed: ") + uv_err_name(status),
               "lms: lost the connection to the target database", "08006");
  }
}

void ShadowLink::replay(const std::vector<std::string>& messages) {
  std::string requests;
  const lms_emitter collect = emit_into(&requests);
  // A target of another protocol learns statements from its translation; the client's settings
  // mean nothing to it.
  if (!available() || translation_ || !LMS_HAS_FIELD(dialect_, lms_dialect_functions, encode_request) ||
      dialect_->encode_request == nullptr) {
    return;
  }
  for (const std::string& m : messages) {
    requests.clear();
    dialect_->encode_request(reinterpret_cast<const uint8_t*>(m.data()), m.size(), &collect);
    send(reinterpret_cast<const uint8_t*>(requests.data()), requests.size());
    expect_answer(kNoRequest, false, false, true);
  }
}

void ShadowLink::expect_answer(uint64_t id, bool waited, bool compare, bool keeps_state) {
  if (compare && !summary_)
    summary_ = std::make_unique<AnswerSummarizer>(answer_dialect_, shared_.validation);
  pending_.push_back({id, waited, compare, keeps_state, uv_hrtime()});
  if (!keeps_state) ++busy_;
  if (waited && state_ == State::kReady && !uv_is_active(reinterpret_cast<uv_handle_t*>(&deadline_))) {
    arm_deadline();
  }
}

void ShadowLink::arm_deadline() {
  uv_timer_start(&deadline_, &ShadowLink::on_deadline, shared_.config->shadow_timeout_ms, 0);
}

// ---- receiving ----------------------------------------------------------------------------------

void ShadowLink::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* link = static_cast<ShadowLink*>(handle->data);
  if (link->read_chunk_ == nullptr) link->read_chunk_ = link->worker_.pool().get();
  *buf = uv_buf_init(reinterpret_cast<char*>(link->read_chunk_->data), Chunk::kCapacity);
}

void ShadowLink::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* link = static_cast<ShadowLink*>(stream->data);
  Chunk* chunk = link->read_chunk_;
  link->read_chunk_ = nullptr;
  if (nread > 0 && link->tls_) {
    link->read_through_tls(chunk->data, static_cast<size_t>(nread));
  } else if (nread > 0) {
    link->on_bytes(chunk->data, static_cast<size_t>(nread));
  }
  if (chunk != nullptr) link->worker_.pool().put(chunk);
  if (nread < 0) {
    link->fail(std::string("the target closed the connection (") + uv_err_name(static_cast<int>(nread)) + ")",
               "lms: lost the connection to the target database", "08006");
  }
}

void ShadowLink::on_bytes(const uint8_t* data, size_t len) {
  if (state_ == State::kHandshake) {
    handshake_in_.append(reinterpret_cast<const char*>(data), len);
    if (handshake_in_.size() > kMaxHandshakeBytes) {
      fail("handshake too large", "lms: the target database refused the session", "08006");
      return;
    }
    run_handshake();
    return;
  }
  if (state_ != State::kReady) return;
  if (!translation_) {
    take_answer(data, len);
    return;
  }
  translated_.clear();
  std::string error;
  if (!translation_->to_client(data, len, &translated_, &error)) {
    fail("invalid message from the target: " + error, "lms: invalid message from the target database",
         "08P01");
    return;
  }
  take_answer(reinterpret_cast<const uint8_t*>(translated_.data()), translated_.size());
}

void ShadowLink::take_answer(const uint8_t* data, size_t len) {
  bool keep_error = false;  // the message being walked is the request's first error
  bool summarize = false;   // it is part of an answer to be compared
  auto on_message = [&](const lms_frame& f) -> unsigned {
    keep_error = false;
    summarize = !pending_.empty() && pending_.front().compare && f.msg_class != LMS_MSG_READY;
    // An error of its own, or the end of an answer that failed (MySQL's ERR is both).
    const bool failed = f.msg_class == LMS_MSG_ERROR ||
                        (f.msg_class == LMS_MSG_READY && (f.flags & LMS_FRAME_FLAG_ERROR) != 0);
    if (failed && error_.empty() && !oversized_error_) {
      if (f.length > kMaxKeptError) {
        oversized_error_ = true;
      } else {
        keep_error = true;
      }
    }
    if (f.msg_class != LMS_MSG_READY) return keep_error || summarize ? kCopy : kPass;
    if (pending_.empty()) return kPass;  // an answer to nothing we counted: ignore it
    const bool compare = pending_.front().compare;
    if (keep_error) {
      // The error is this very message: the answer is complete once it has been copied (and,
      // when compared, summarized: the end of an answer is part of it).
      answer_ends_ = true;
      summarize = compare;
      return kCopy | kStopAfter;
    }
    if (compare) {
      const auto [bytes, visible] = scanner_.visible();
      summary_->feed(bytes, static_cast<size_t>(std::min<uint64_t>(visible, f.length)));
    }
    finish_answer();
    return kPass;
  };
  auto on_copy = [&](const uint8_t* bytes, size_t n) {
    if (keep_error) error_.append(reinterpret_cast<const char*>(bytes), n);
    if (summarize) summary_->feed(bytes, n);
  };
  size_t at = 0;
  while (at < len && state_ != State::kBroken) {
    const auto walked = scanner_.walk(data + at, len - at, on_message, on_copy);
    if (!walked) {
      fail(std::string("invalid message from the target: ") + scanner_.error(),
           "lms: invalid message from the target database", "08P01");
      return;
    }
    at += *walked;
    if (answer_ends_ && scanner_.at_boundary()) {
      answer_ends_ = false;
      keep_error = false;
      finish_answer();
    }
  }
}

void ShadowLink::finish_answer() {
  const Pending done = pending_.front();
  pending_.pop_front();
  if (!done.keeps_state) --busy_;
  if (oversized_error_) error_ = client_error("lms: the target database failed the request", "XX000");
  auto& m = worker_.mutable_metrics();
  const uint64_t latency = uv_hrtime() - done.sent_ns;
  m.target_latency.observe(latency);
  std::optional<AnswerDigest> answer;
  if (done.compare) answer = summary_->take(latency);
  if (!error_.empty()) m.shadow_target_errors.add();
  const std::string error = std::move(error_);
  error_.clear();
  oversized_error_ = false;
  // The deadline now runs for the next waited request, if any (a drain keeps its own).
  if (!draining_) uv_timer_stop(&deadline_);
  for (const Pending& p : pending_) {
    if (p.waited) {
      arm_deadline();
      break;
    }
  }
  owner_.on_target_answered(done.id, error.empty(), error, answer ? &*answer : nullptr);
  if (draining_ && pending_.empty()) close();
}

void ShadowLink::read_through_tls(const uint8_t* data, size_t len) {
  const bool was_established = tls_->established();
  tls_->receive(data, len);
  uint8_t plain[16 * 1024];
  while (state_ != State::kBroken) {
    const size_t n = tls_->read_plain(plain, sizeof plain);
    if (n == 0) break;
    on_bytes(plain, n);
  }
  flush_tls();
  if (state_ == State::kBroken) return;
  if (tls_->failed()) {
    fail("TLS: " + tls_->error(), "lms: lost the connection to the target database", "08006");
    return;
  }
  // TLS is up: the handshake goes on with the startup packet.
  if (!was_established && tls_->established() && state_ == State::kHandshake) run_handshake();
}

// ---- failing and closing ------------------------------------------------------------------------

void ShadowLink::on_deadline(uv_timer_t* timer) {
  auto* link = static_cast<ShadowLink*>(timer->data);
  const std::string ms = std::to_string(link->shared_.config->shadow_timeout_ms);
  link->worker_.mutable_metrics().shadow_timeouts.add();
  link->fail("no answer within shadow-timeout (" + ms + " ms)",
             "lms: the target database did not answer within " + ms + " ms", "57014");
}

std::string ShadowLink::client_error(const std::string& message, const char* code) const {
  // Errors go to the client in the source's protocol, so the source dialect encodes them.
  return encode_client_error(shared_.dialect, code, message);
}

void ShadowLink::fail(const std::string& reason, const std::string& message, const char* code) {
  if (state_ == State::kBroken) return;
  state_ = State::kBroken;
  spdlog::warn("session={} target {} no longer shadowed: {}", session_id_, target_.describe(), reason);
  auto& m = worker_.mutable_metrics();
  failure_ = client_error(message, code);
  const std::string& error = failure_;
  std::deque<Pending> failed;
  failed.swap(pending_);
  busy_ = 0;
  before_ready_.clear();
  close_handles();
  const uint64_t now = uv_hrtime();
  for (const Pending& p : failed) {
    m.shadow_target_errors.add();
    std::optional<AnswerDigest> answer;
    if (p.compare) answer = AnswerDigest::failure(code, message, now - p.sent_ns);
    owner_.on_target_answered(p.id, false, error, answer ? &*answer : nullptr);
  }
}

void ShadowLink::finish() {
  if (closed_ || draining_) return;
  if (state_ == State::kBroken || (pending_.empty() && before_ready_.empty() && state_ == State::kReady)) {
    close();
    return;
  }
  draining_ = true;
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&deadline_))) arm_deadline();
}

void ShadowLink::close() {
  if (closed_) return;
  closed_ = true;
  std::deque<Pending>().swap(pending_);  // the session is ending: nobody waits for these
  busy_ = 0;
  close_handles();
  state_ = State::kBroken;
}

void ShadowLink::close_handles() {
  if (socket_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&socket_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&socket_), &ShadowLink::on_closed);
  }
  if (timer_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&deadline_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), &ShadowLink::on_closed);
  }
  connector_.cancel();
}

void ShadowLink::on_closed(uv_handle_t* handle) {
  auto* link = static_cast<ShadowLink*>(handle->data);
  (handle == reinterpret_cast<uv_handle_t*>(&link->socket_) ? link->socket_open_ : link->timer_open_) = false;
  link->owner_.on_link_handle_closed();  // last: the owner may free this link now (gone())
}

}  // namespace lms::core
