#include "db/database_link.h"

#include <algorithm>
#include <cstring>

#include "tls_context.h"

namespace lms::core {
namespace {

// A login that needs more than this before it is done is not a login.
constexpr size_t kMaxLoginBytes = 1 << 20;

}  // namespace

DatabaseLink::DatabaseLink(uv_loop_t* loop, ChunkPool& pool, Listener& listener)
    : loop_(loop), pool_(pool), listener_(&listener), stream_(loop, pool, *this) {
  emitter_ = {sizeof(lms_emitter), this, &DatabaseLink::emit};
}

DatabaseLink::~DatabaseLink() {
  if (back_ != nullptr) dialect_->back_destroy(back_);
}

// ---- logging in ---------------------------------------------------------------------------------

void DatabaseLink::connect(const Endpoint& endpoint, const lms_dialect_functions* dialect,
                           const std::vector<lms_kv>& params, uint64_t timeout_ms) {
  endpoint_ = &endpoint;
  dialect_ = dialect;
  timeout_ms_ = timeout_ms;
  login_in_.clear();
  closed_reported_ = false;
  state_ = State::kConnecting;
  // The stream first, so that whatever fails below fails with a handle open: on_database_closed
  // then always comes later, from the loop, never from inside this call.
  stream_.open();
  if (timeout_ms > 0) {
    if (!timer_open_) {
      uv_timer_init(loop_, &timer_);
      timer_.data = this;
      timer_open_ = true;
    }
    uv_timer_start(&timer_, &DatabaseLink::on_timeout, timeout_ms, 0);
  }
  back_ = dialect_->back_create(params.data(), params.size());
  if (back_ == nullptr) {
    fail_login("the dialect could not start its handshake");
    return;
  }
  connector_.start(loop_, stream_.tcp(), endpoint);
}

int DatabaseLink::adopt(uv_os_sock_t socket, const lms_dialect_functions* dialect) {
  dialect_ = dialect;
  closed_reported_ = false;
  stream_.open();
  state_ = State::kReady;
  return stream_.adopt(socket);
}

void DatabaseLink::on_connected() {
  if (state_ != State::kConnecting) return;
  state_ = State::kLoggingIn;
  dialect_->back_start(back_, &emitter_);
  stream_.start_reading();
}

void DatabaseLink::emit(void* ctx, const uint8_t* data, size_t len) {
  static_cast<DatabaseLink*>(ctx)->stream_.write_copy(data, len);
}

void DatabaseLink::log_in() {
  size_t consumed = 0;
  lms_back_result result{};
  result.struct_size = sizeof result;
  const uint32_t status = dialect_->back_step(back_, reinterpret_cast<const uint8_t*>(login_in_.data()),
                                              login_in_.size(), &consumed, &emitter_, &result);
  login_in_.erase(0, consumed);
  if (status == LMS_HS_NEED_INPUT) return;
  if (status == LMS_HS_START_TLS) {
    if (!endpoint_->tls || !endpoint_->tls->wanted() || stream_.tls() != nullptr) {
      fail_login("the dialect asked for TLS the configuration does not provide");
      return;
    }
    // The handshake goes on once TLS is up (on_stream_tls_established).
    if (!stream_.start_tls(endpoint_->tls->ctx.get(), TlsChannel::Role::kClient, endpoint_->tls->verify_host)) {
      fail_login("TLS with the database failed: " + stream_.tls()->error());
    }
    return;
  }
  if (status != LMS_HS_DONE) {
    // The database's own error reaches the client with its own code.
    const bool has_code = result.error_code != nullptr && result.error_code[0] != '\0';
    fail_login(result.error != nullptr ? result.error : "handshake failed", has_code ? result.error_code : "08006",
               true);
    return;
  }
  if (timer_open_) uv_timer_stop(&timer_);
  state_ = State::kReady;
  Login login;
  login.welcome = {reinterpret_cast<const char*>(result.welcome), result.welcome_len};
  if (result.cancel_key != nullptr) {
    login.cancel_key = {reinterpret_cast<const char*>(result.cancel_key), result.cancel_key_len};
  }
  int addr_len = sizeof login.peer;
  uv_tcp_getpeername(stream_.tcp(), reinterpret_cast<sockaddr*>(&login.peer), &addr_len);
  const std::string early = std::move(login_in_);  // what the database sent beyond its login
  login_in_.clear();
  listener_->on_database_ready(login);
  // The welcome lived in the handshake's state: it goes only now.
  dialect_->back_destroy(back_);
  back_ = nullptr;
  deliver_in_chunks(pool_, early, [this](Chunk* chunk, size_t n) { on_stream_bytes(stream_, chunk, n); });
}

void DatabaseLink::on_timeout(uv_timer_t* timer) {
  auto* link = static_cast<DatabaseLink*>(timer->data);
  link->fail_login("timed out after " + std::to_string(link->timeout_ms_) + " ms");
}

void DatabaseLink::fail_login(const std::string& reason, const std::string& code, bool refused) {
  if (state_ != State::kConnecting && state_ != State::kLoggingIn) return;
  close();
  listener_->on_database_login_failed({reason, code, refused});
}

// ---- the database's bytes -----------------------------------------------------------------------

void DatabaseLink::on_stream_bytes(Stream&, Chunk* chunk, size_t len) {
  if (state_ == State::kLoggingIn) {
    login_in_.append(reinterpret_cast<const char*>(chunk->data), len);
    pool_.put(chunk);
    if (login_in_.size() > kMaxLoginBytes) {
      fail_login("its handshake is larger than " + std::to_string(kMaxLoginBytes) + " bytes");
      return;
    }
    log_in();
    return;
  }
  if (state_ != State::kReady) {
    pool_.put(chunk);
    return;
  }
  if (translation_) {
    take_translated(chunk->data, len);
    pool_.put(chunk);
    return;
  }
  listener_->on_database_bytes(chunk, len);
}

void DatabaseLink::take_translated(const uint8_t* data, size_t len) {
  if (translated_at_ == translated_.size()) {
    translated_.clear();
    translated_at_ = 0;
  }
  std::string error;
  if (!translation_->to_client(data, len, &translated_, &error)) {
    listener_->on_database_untranslatable(false, error);
    return;
  }
  deliver_translated();
}

void DatabaseLink::deliver_translated() {
  if (delivering_) return;  // the loop below is already handing them on
  delivering_ = true;
  // As with TLS: the owner may stop reading after any chunk, and the rest waits here until it
  // reads again, as unread bytes wait in the socket.
  while (stream_.reading() && state_ == State::kReady && translation_ && translated_at_ < translated_.size()) {
    Chunk* chunk = pool_.get();
    const size_t n = std::min(Chunk::kCapacity, translated_.size() - translated_at_);
    std::memcpy(chunk->data, translated_.data() + translated_at_, n);
    translated_at_ += n;
    listener_->on_database_bytes(chunk, n);
  }
  delivering_ = false;
}

void DatabaseLink::start_reading() {
  stream_.start_reading();
  // What a translation made of the last read waits here, and no socket read may come for it.
  if (stream_.reading() && translation_ && translated_at_ < translated_.size()) deliver_translated();
}

void DatabaseLink::on_stream_ended(Stream&, int status) {
  if (state_ == State::kConnecting || state_ == State::kLoggingIn) {
    fail_login("the database closed the connection during its handshake");
    return;
  }
  if (state_ == State::kReady) listener_->on_database_lost(status);
}

void DatabaseLink::on_stream_tls_failed(Stream&) {
  const std::string error = stream_.tls()->error();
  if (state_ == State::kConnecting || state_ == State::kLoggingIn) {
    fail_login("TLS with the database failed: " + error);
    return;
  }
  if (state_ == State::kReady) listener_->on_database_tls_failed(error);
}

void DatabaseLink::on_stream_tls_established(Stream&) {
  // TLS is up: the handshake goes on with the startup packet.
  if (state_ == State::kLoggingIn) log_in();
}

// ---- the client's bytes -------------------------------------------------------------------------

void DatabaseLink::translate(std::unique_ptr<Translation> translation) {
  translation_ = std::move(translation);
  translated_.clear();
  translated_at_ = 0;
}

void DatabaseLink::write(Chunk* chunk) {
  if (!translation_) {
    stream_.write(chunk);
    return;
  }
  write_copy(chunk->data, chunk->len);
  pool_.put(chunk);
}

void DatabaseLink::write_copy(const uint8_t* data, size_t len) {
  if (!translation_) {
    stream_.write_copy(data, len);
    return;
  }
  std::string_view out;
  std::string error;
  if (!translation_->to_database(data, len, &out, &error)) {
    listener_->on_database_untranslatable(true, error);
    return;
  }
  stream_.write_copy(reinterpret_cast<const uint8_t*>(out.data()), out.size());
}

void DatabaseLink::on_stream_write_failed(Stream&, int status) {
  if (state_ == State::kConnecting || state_ == State::kLoggingIn) {
    fail_login(std::string("write failed: ") + uv_err_name(status));
    return;
  }
  if (state_ == State::kReady) listener_->on_database_write_failed(status);
}

// ---- closing ------------------------------------------------------------------------------------

void DatabaseLink::close() {
  if (state_ == State::kIdle || state_ == State::kClosing) return;
  state_ = State::kClosing;
  connector_.cancel();
  stream_.close();
  if (timer_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &DatabaseLink::on_timer_closed);
  }
}

void DatabaseLink::on_timer_closed(uv_handle_t* handle) {
  auto* link = static_cast<DatabaseLink*>(handle->data);
  link->timer_open_ = false;
  link->maybe_closed();
}

void DatabaseLink::maybe_closed() {
  if (closed_reported_ || state_ != State::kClosing || in_use()) return;
  closed_reported_ = true;
  state_ = State::kIdle;
  translate(nullptr);  // a next connection gets a translation of its own, if it needs one
  if (back_ != nullptr) {
    dialect_->back_destroy(back_);
    back_ = nullptr;
  }
  listener_->on_database_closed();  // last: the owner may free this link now
}

}  // namespace lms::core
