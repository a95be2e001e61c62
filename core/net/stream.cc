#include "net/stream.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace lms::core {

Stream::~Stream() {
  if (read_chunk_ != nullptr) pool_.put(read_chunk_);
}

void Stream::open() {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  state_ = State::kOpen;
}

int Stream::adopt(uv_os_sock_t socket) { return uv_tcp_open(&tcp_, socket); }

// ---- reading ------------------------------------------------------------------------------------

void Stream::start_reading() {
  if (reading_ || state_ != State::kOpen) return;
  if (uv_read_start(handle(), &Stream::on_alloc, &Stream::on_read) != 0) return;
  reading_ = true;
  // Bytes TLS decrypted but the owner did not take when it stopped reading: no socket read may
  // ever come for them, so they go on now.
  if (tls_ && tls_->has_buffered()) read_through_tls(nullptr, 0);
}

void Stream::stop_reading() {
  if (!reading_) return;
  uv_read_stop(handle());
  reading_ = false;
}

void Stream::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* s = static_cast<Stream*>(handle->data);
  if (s->read_chunk_ == nullptr) s->read_chunk_ = s->pool_.get();
  *buf = uv_buf_init(reinterpret_cast<char*>(s->read_chunk_->data), Chunk::kCapacity);
}

void Stream::on_read(uv_stream_t* handle, ssize_t nread, const uv_buf_t*) {
  auto* s = static_cast<Stream*>(handle->data);
  Chunk* chunk = s->read_chunk_;
  s->read_chunk_ = nullptr;
  if (nread <= 0) {
    if (chunk != nullptr) s->pool_.put(chunk);
    if (nread < 0) s->listener_.on_stream_ended(*s, static_cast<int>(nread));
    return;
  }
  s->replay_read(chunk, static_cast<size_t>(nread));
}

void Stream::replay_read(Chunk* chunk, size_t len) {
  if (tls_) {
    read_through_tls(chunk, len);
    return;
  }
  listener_.on_stream_bytes(*this, chunk, len);
}

void Stream::read_through_tls(Chunk* cipher, size_t len) {
  const bool was_established = tls_->established();
  if (cipher != nullptr) {
    tls_->receive(cipher->data, len);
    pool_.put(cipher);
  }
  // One read of ciphertext can hold more plaintext than one chunk. The owner may stop reading
  // after any chunk (backpressure, an answer held for another database): the rest then waits
  // inside the TLS session until start_reading, exactly as unread bytes wait in the socket.
  while (state_ == State::kOpen && reading_) {
    Chunk* plain = pool_.get();
    size_t n = 0;
    while (n < Chunk::kCapacity) {
      const size_t got = tls_->read_plain(plain->data + n, Chunk::kCapacity - n);
      if (got == 0) break;
      n += got;
    }
    if (n == 0) {
      pool_.put(plain);
      break;
    }
    listener_.on_stream_bytes(*this, plain, n);
  }
  if (state_ != State::kOpen) return;
  // Handshake records, alerts and session tickets go back to the same peer.
  flush_tls();
  if (state_ != State::kOpen) return;
  if (tls_->failed()) {
    listener_.on_stream_tls_failed(*this);
    return;
  }
  if (tls_->closed_by_peer()) {
    listener_.on_stream_ended(*this, UV_EOF);
    return;
  }
  if (!was_established && tls_->established()) listener_.on_stream_tls_established(*this);
}

// ---- writing ------------------------------------------------------------------------------------

void Stream::write(Chunk* chunk) {
  if (state_ != State::kOpen) {
    pool_.put(chunk);
    return;
  }
  if (tls_) {
    tls_->send(chunk->data, chunk->len);
    pool_.put(chunk);
    flush_tls();
    return;
  }
  write_raw(chunk);
}

void Stream::write_copy(const uint8_t* data, size_t len) {
  if (len == 0 || state_ != State::kOpen) return;
  if (tls_) {
    tls_->send(data, len);
    flush_tls();
    return;
  }
  // Most writes fit the socket buffer at once: try that first, straight from the caller's bytes.
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)), static_cast<unsigned>(len));
  const int written = uv_try_write(handle(), &buf, 1);
  if (written < 0 && written != UV_EAGAIN) {
    listener_.on_stream_write_failed(*this, written);
    return;
  }
  const size_t done = written > 0 ? static_cast<size_t>(written) : 0;
  data += done;
  len -= done;
  if (len > 0 && queued_ + len > queue_limit_) {
    listener_.on_stream_write_failed(*this, UV_ENOBUFS);
    return;
  }
  while (len > 0 && state_ == State::kOpen) {
    Chunk* chunk = pool_.get();
    const size_t n = std::min(len, Chunk::kCapacity);
    std::memcpy(chunk->data, data, n);
    chunk->len = n;
    write_raw(chunk);
    data += n;
    len -= n;
  }
}

void Stream::try_write_copy(const uint8_t* data, size_t len) {
  if (len == 0 || state_ != State::kOpen) return;
  auto try_once = [this](const uint8_t* bytes, size_t n) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes)), static_cast<unsigned>(n));
    uv_try_write(handle(), &buf, 1);
  };
  if (!tls_) {
    try_once(data, len);
    return;
  }
  tls_->send(data, len);
  uint8_t cipher[16 * 1024];
  while (tls_->output_pending() > 0) {
    const size_t n = tls_->take_output(cipher, sizeof cipher);
    if (n == 0) break;
    try_once(cipher, n);
  }
}

void Stream::write_raw(Chunk* chunk) {
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(chunk->data), static_cast<unsigned>(chunk->len));
  // uv_try_write takes nothing while writes are queued, so the order holds.
  const int written = uv_try_write(handle(), &buf, 1);
  if (written >= 0 && static_cast<size_t>(written) == chunk->len) {
    pool_.put(chunk);
    return;
  }
  if (written < 0 && written != UV_EAGAIN) {
    pool_.put(chunk);
    listener_.on_stream_write_failed(*this, written);
    return;
  }
  const size_t done = written > 0 ? static_cast<size_t>(written) : 0;
  chunk->len -= done;
  if (queued_ + chunk->len > queue_limit_) {
    pool_.put(chunk);
    listener_.on_stream_write_failed(*this, UV_ENOBUFS);
    return;
  }
  buf = uv_buf_init(reinterpret_cast<char*>(chunk->data + done), static_cast<unsigned>(chunk->len));
  chunk->write_req.data = this;
  queued_ += chunk->len;
  if (const int rc = uv_write(&chunk->write_req, handle(), &buf, 1, &Stream::on_write); rc < 0) {
    queued_ -= chunk->len;
    pool_.put(chunk);
    listener_.on_stream_write_failed(*this, rc);
  }
}

void Stream::on_write(uv_write_t* req, int status) {
  Chunk* chunk = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(req) - offsetof(Chunk, write_req));
  auto* s = static_cast<Stream*>(req->data);
  s->queued_ -= chunk->len;
  s->pool_.put(chunk);
  if (status == UV_ECANCELED) return;  // the handle is closing
  if (status < 0) {
    s->listener_.on_stream_write_failed(*s, status);
    return;
  }
  s->listener_.on_stream_wrote(*s);
}

void Stream::flush_tls() {
  while (tls_ && state_ == State::kOpen && tls_->output_pending() > 0) {
    Chunk* chunk = pool_.get();
    chunk->len = tls_->take_output(chunk->data, Chunk::kCapacity);
    if (chunk->len == 0) {
      pool_.put(chunk);
      return;
    }
    write_raw(chunk);
  }
}

bool Stream::start_tls(SSL_CTX* ctx, TlsChannel::Role role, const std::string& verify_host) {
  tls_ = std::make_unique<TlsChannel>(ctx, role, verify_host);
  flush_tls();  // a client's ClientHello
  return !tls_->failed();
}

// ---- closing ------------------------------------------------------------------------------------

void Stream::shutdown() {
  if (state_ != State::kOpen) return;
  stop_reading();
  state_ = State::kShuttingDown;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, handle(), &Stream::on_shutdown) < 0) close();
}

void Stream::on_shutdown(uv_shutdown_t* req, int) {
  auto* s = static_cast<Stream*>(req->data);
  s->listener_.on_stream_shut_down(*s);
}

void Stream::close() {
  if (state_ != State::kOpen && state_ != State::kShuttingDown) return;
  state_ = State::kClosing;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Stream::on_closed);
}

void Stream::on_closed(uv_handle_t* handle) {
  auto* s = static_cast<Stream*>(handle->data);
  s->state_ = State::kUnopened;
  s->queued_ = 0;
  s->tls_.reset();  // a reopened stream gets a TLS session of its own
  s->listener_.on_stream_closed(*s);  // last: the owner may free this stream now
}

}  // namespace lms::core
