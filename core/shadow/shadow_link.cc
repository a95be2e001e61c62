#include "shadow/shadow_link.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "emit_into.h"
#include "plugin_loader.h"

namespace lms::core {
namespace {

// An error message larger than this is not kept verbatim; the client gets a short one instead.
constexpr uint64_t kMaxKeptError = 64 * 1024;

}  // namespace

ShadowLink::ShadowLink(ShadowLinkOwner& owner, Worker& worker,
                       std::vector<std::pair<std::string, std::string>> startup,
                       std::vector<std::pair<std::string, std::string>> credentials, uint64_t session_id,
                       uint8_t role, const std::vector<std::pair<std::string, std::string>>& statements)
    : owner_(owner),
      worker_(worker),
      shared_(worker.shared()),
      target_(worker.shared().endpoint(role)),
      dialect_(worker.shared().dialect_of(role)),
      answer_dialect_(worker.shared().translated(role) ? worker.shared().dialect : dialect_),
      session_id_(session_id),
      startup_(std::move(startup)),
      credentials_(std::move(credentials)),
      database_(worker.loop(), worker.pool(), *this),
      scanner_(answer_dialect_, LMS_FROM_SERVER),
      sent_scanner_(answer_dialect_, LMS_FROM_CLIENT) {
  if (has_framer(answer_dialect_)) {
    // Made, like the session's, from what the client and lms agreed on at login.
    std::vector<lms_kv> params;
    for (const auto& [k, v] : startup_) params.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    framer_ = answer_dialect_->framer_create(params.data(), params.size());
    scanner_.use_framer(framer_);
    sent_scanner_.use_framer(framer_);
  }
  if (shared_.translated(role)) {
    database_.translate(std::make_unique<Translation>(shared_.dialect, dialect_, startup_, statements));
    startup_ = translated_startup(startup_);  // what the target's own handshake is given
  }
  connect();
}

ShadowLink::~ShadowLink() {
  if (framer_ != nullptr) answer_dialect_->framer_destroy(framer_);
}

// ---- connecting ---------------------------------------------------------------------------------

void ShadowLink::connect() {
  owner_.on_link_handle_opened();  // the database link, until on_database_closed
  uv_timer_init(worker_.loop(), &deadline_);
  deadline_.data = this;
  timer_open_ = true;
  owner_.on_link_handle_opened();
  // Connecting counts against the deadline too: a target that never accepts must not hold waits.
  uv_timer_start(&deadline_, &ShadowLink::on_deadline, shared_.config->shadow_timeout_ms, 0);
  database_.set_queue_limit(shared_.config->buffer_limit);
  const std::vector<lms_kv> params = login_params(target_, credentials_, startup_);
  database_.connect(target_, dialect_, params, 0);
}

void ShadowLink::on_database_login_failed(const DatabaseLink::LoginFailure& failure) {
  if (failure.refused) {
    fail("the target refused the session: " + failure.reason,
         "lms: the target database refused the session: " + failure.reason, "08006");
    return;
  }
  fail(failure.reason, "lms: could not connect to the target database", "08006");
}

void ShadowLink::on_database_ready(const DatabaseLink::Login&) {
  if (state_ != State::kConnecting) return;
  state_ = State::kReady;
  if (!draining_ && (pending_.empty() || !pending_.front().waited)) uv_timer_stop(&deadline_);
  const std::string queued = std::move(before_ready_);
  before_ready_.clear();
  deliver(reinterpret_cast<const uint8_t*>(queued.data()), queued.size());
  if (draining_ && pending_.empty()) close();
}

// ---- sending ------------------------------------------------------------------------------------

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
  database_.write_copy(data, len);  // translated there when the target speaks another protocol
}

void ShadowLink::replay(const std::vector<std::string>& messages) {
  std::string requests;
  const lms_emitter collect = emit_into(&requests);
  // A target of another protocol learns statements from its translation; the client's settings
  // mean nothing to it.
  if (!available() || database_.translation() != nullptr || !LMS_HAS_FIELD(dialect_, lms_dialect_functions, encode_request) ||
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

void ShadowLink::on_database_bytes(Chunk* chunk, size_t len) {
  if (state_ == State::kReady) take_answer(chunk->data, len);
  worker_.pool().put(chunk);
}

void ShadowLink::on_database_lost(int status) {
  fail(std::string("the target closed the connection (") + uv_err_name(status) + ")",
       "lms: lost the connection to the target database", "08006");
}

void ShadowLink::on_database_write_failed(int status) {
  if (status == UV_ENOBUFS) {
    // A target that cannot keep up breaks the link rather than slow the source or grow memory.
    fail("the target does not read fast enough", "lms: the target database is too slow", "53400");
    return;
  }
  fail(std::string("write failed: ") + uv_err_name(status), "lms: lost the connection to the target database",
       "08006");
}

void ShadowLink::on_database_tls_failed(const std::string& error) {
  fail("TLS: " + error, "lms: lost the connection to the target database", "08006");
}

void ShadowLink::on_database_untranslatable(bool from_client, const std::string& error) {
  if (from_client) {
    fail("cannot translate for the target: " + error, "lms: invalid message from the client", "08P01");
  } else {
    fail("invalid message from the target: " + error, "lms: invalid message from the target database", "08P01");
  }
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
  database_.close();
  if (timer_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&deadline_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), &ShadowLink::on_closed);
  }
}

void ShadowLink::on_closed(uv_handle_t* handle) {
  auto* link = static_cast<ShadowLink*>(handle->data);
  link->timer_open_ = false;
  link->owner_.on_link_handle_closed();  // last: the owner may free this link now (gone())
}

}  // namespace lms::core
