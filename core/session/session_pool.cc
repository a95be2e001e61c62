// Keeping a session's database connection for the next client (server-pool-size): a client that
// says goodbye on an idle session leaves its connection behind; lms resets it with the dialect's
// reset request and, once the database confirms, parks the socket in the worker's pool. A later
// client whose session would be the same (database, user, every startup parameter) takes it and
// skips the database's handshake.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "emit_into.h"
#include "plugin_loader.h"
#include "session/session.h"

namespace lms::core {
namespace {

uint64_t now_ms(uv_loop_t* loop) { return uv_now(loop); }

}  // namespace

bool Session::take_kept_server(const std::vector<lms_kv>& params) {
  ServerPool& pool = worker_.server_pool();
  // A session moving to a new source of truth has a client already welcomed and state to replay:
  // it neither takes a kept connection nor leaves its new one to be kept.
  if (switching_ || !pool.enabled() || !has_encode_reset(back_dialect_) || shared_.translated(truth_))
    return false;
  pool_key_ = ServerPool::key_of(truth_, shared_.endpoint(truth_).describe(), params);
  auto kept = pool.take(pool_key_, now_ms(worker_.loop()));
  if (!kept) return false;
  ++handles_open_;  // the link, until on_database_closed
  if (const int rc = database_->adopt(kept->socket, back_dialect_); rc != 0) {
    ::close(kept->socket);
    fail_connect(std::string("a kept connection could not be used: ") + uv_strerror(rc));
    return true;
  }
  worker_.mutable_metrics().server_connections_reused.add();
  spdlog::debug("session={} reuses a kept connection to {}", id_, shared_.endpoint(truth_).describe());
  kept_welcome_ = std::move(kept->welcome);
  kept_cancel_target_.address = kept->peer;
  kept_cancel_target_.database_key = std::move(kept->cancel_key);
  finish_login(kept_welcome_, kept_cancel_target_);
  return true;
}

void Session::remember_login(std::string_view welcome, const CancelTarget& target) {
  kept_welcome_.assign(welcome.data(), welcome.size());
  kept_cancel_target_ = target;
}

bool Session::can_keep_server() const {
  // Only a connection in a known, idle state with nothing of this session's still on it, to the
  // database that serves now, in plain text (a TLS connection's state lives in its channel),
  // while no cutover or shutdown is in progress.
  return !pool_key_.empty() && phase_ == Phase::kForwarding && tracker_.idle() && held_ == nullptr &&
         router_.nothing_staged() && !switching_ && !database_->tls() &&
         database_->translation() == nullptr && paused_input_.empty() && !worker_.paused() &&
         !worker_.draining() && truth_ == shared_.truth.load() && database_scanner_.at_boundary();
}

void Session::reset_database_for_reuse() {
  phase_ = Phase::kResetting;
  worker_.session_changed(*this);
  if (link_) link_->finish();
  client_.stop_reading();
  client_.close();
  reset_answer_.clear();
  std::string reset;
  const lms_emitter collect = emit_into(&reset);
  back_dialect_->encode_reset(&collect);
  database_->write_native(reinterpret_cast<const uint8_t*>(reset.data()), reset.size());
  database_->start_reading();
  // A database too slow to confirm the reset is not worth keeping.
  close_now_after(shared_.config->connect_timeout_ms);
}

void Session::on_reset_answer(Chunk* chunk, size_t len) {
  reset_answer_.append(reinterpret_cast<const char*>(chunk->data), len);
  worker_.pool().put(chunk);
  const auto* data = reinterpret_cast<const uint8_t*>(reset_answer_.data());
  size_t pos = 0;
  while (pos < reset_answer_.size()) {
    lms_frame f{};
    f.struct_size = sizeof f;
    back_dialect_->frame(LMS_FROM_SERVER, data + pos, reset_answer_.size() - pos, &f);
    if (f.result == LMS_FRAME_NEED_MORE ||
        (f.result == LMS_FRAME_COMPLETE && pos + f.length > reset_answer_.size())) {
      if (reset_answer_.size() > (1u << 16)) close_now();  // a reset says little
      return;
    }
    if (f.result != LMS_FRAME_COMPLETE || f.msg_class == LMS_MSG_ERROR) {
      spdlog::debug("session={} the database refused the reset; its connection is closed", id_);
      close_now();
      return;
    }
    pos += f.length;
    if (f.msg_class == LMS_MSG_READY) {
      // Kept only when nothing follows the answer and the session is idle again.
      if (pos == reset_answer_.size() && f.txn_state == LMS_TXN_IDLE) {
        keep_server();
      } else {
        close_now();
      }
      return;
    }
  }
}

void Session::keep_server() {
  KeptConnection kept;
  uv_os_fd_t fd = -1;
  // A cutover or a shutdown that began while the reset ran wants no new kept connections.
  const bool still_wanted = truth_ == shared_.truth.load() && !worker_.paused() && !worker_.draining();
  if (still_wanted && uv_fileno(reinterpret_cast<uv_handle_t*>(database_->stream().tcp()), &fd) == 0) {
    kept.socket = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  }
  if (kept.socket >= 0) {
    kept.dialect = back_dialect_;
    kept.welcome = std::move(kept_welcome_);
    kept.cancel_key = std::move(kept_cancel_target_.database_key);
    kept.peer = kept_cancel_target_.address;
    worker_.server_pool().keep(pool_key_, std::move(kept), now_ms(worker_.loop()));
  }
  // Closing the handle closes its descriptor; the duplicate keeps the connection open.
  close_now();
}

}  // namespace lms::core
