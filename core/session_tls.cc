// TLS inside a session: the client socket (when the client asked for TLS and the proxy has a
// certificate) and the database socket (per the connection string's sslmode) each may carry a
// TlsChannel. Reads go through it before the session sees them; writes go through it before the
// socket does. Everything above (handshakes, forwarding, shadowing, cutover) sees plain bytes.
#include <spdlog/spdlog.h>

#include "session.h"
#include "tls_context.h"

namespace lms::core {

TlsChannel* Session::tls_on(const uv_stream_t* socket) const {
  if (socket == reinterpret_cast<const uv_stream_t*>(&client_)) return client_tls_.get();
  return server_tls_.get();
}

void Session::start_client_tls() {
  client_tls_ = std::make_unique<TlsChannel>(shared_.client_tls->ctx.get(), TlsChannel::Role::kServer);
  // Whatever the client sent after its SSLRequest is already the start of its TLS handshake.
  if (!front_in_.empty()) {
    const std::string early = std::move(front_in_);
    front_in_.clear();
    deliver_in_chunks(worker_.pool(), early,
                      [this](Chunk* chunk, size_t n) { read_through_tls(to_source_, chunk, n); });
  }
}

void Session::start_server_tls() {
  const DatabaseTls& tls = *shared_.endpoint(truth_).tls;
  server_tls_ = std::make_unique<TlsChannel>(tls.ctx.get(), TlsChannel::Role::kClient, tls.verify_host);
  flush_tls(to_source_);  // the ClientHello
  if (server_tls_->failed()) tls_failed(false);
}

void Session::read_through_tls(Pump& pump, Chunk* cipher, size_t len) {
  const bool from_client = &pump == &to_source_;
  TlsChannel& tls = *(from_client ? client_tls_ : server_tls_);
  const bool was_established = tls.established();
  if (cipher != nullptr) {
    tls.receive(cipher->data, len);
    worker_.pool().put(cipher);
  }
  // One read of ciphertext can hold more plaintext than one chunk. The session may stop reading
  // after any chunk (backpressure, an answer held for the target): the rest then waits inside
  // the TLS session until start_reading, exactly as unread bytes wait in the socket.
  while (phase_ != Phase::kClosing && pump.reading) {
    Chunk* plain = worker_.pool().get();
    size_t n = 0;
    while (n < Chunk::kCapacity) {
      const size_t got = tls.read_plain(plain->data + n, Chunk::kCapacity - n);
      if (got == 0) break;
      n += got;
    }
    if (n == 0) {
      worker_.pool().put(plain);
      break;
    }
    on_bytes(pump, plain, n);
  }
  if (phase_ == Phase::kClosing) return;
  // Handshake records, alerts and session tickets go back to the same peer.
  flush_tls(from_client ? to_client_ : to_source_);
  if (tls.failed()) {
    tls_failed(from_client);
    return;
  }
  if (tls.closed_by_peer()) {
    on_peer_gone(pump, UV_EOF);
    return;
  }
  // The database's TLS is up: its handshake goes on with the startup packet.
  if (!from_client && !was_established && tls.established() && phase_ == Phase::kBackHandshake) run_back();
}

void Session::write_through_tls(Pump& pump, Chunk* chunk) {
  TlsChannel& tls = *tls_on(pump.to);
  tls.send(chunk->data, chunk->len);
  worker_.pool().put(chunk);
  flush_tls(pump);
}

void Session::flush_tls(Pump& pump) {
  TlsChannel* tls = tls_on(pump.to);
  if (tls == nullptr) return;
  while (tls->output_pending() > 0) {
    Chunk* chunk = worker_.pool().get();
    chunk->len = tls->take_output(chunk->data, Chunk::kCapacity);
    if (chunk->len == 0) {
      worker_.pool().put(chunk);
      return;
    }
    write_raw(pump, chunk);
  }
}

void Session::tls_failed(bool client_side) {
  TlsChannel& tls = *(client_side ? client_tls_ : server_tls_);
  if (client_side) {
    worker_.mutable_metrics().client_protocol_errors.add();
    spdlog::info("session={} client TLS failed: {}", id_, tls.error());
    close_now();  // no plain-text error can go through a broken TLS session
    return;
  }
  const std::string reason = "TLS with the database failed: " + tls.error();
  if (phase_ == Phase::kConnecting || phase_ == Phase::kBackHandshake) {
    fail_connect(reason);
    return;
  }
  spdlog::warn("session={} {}", id_, reason);
  if (to_client_.scanner.at_boundary()) send_client_error("FATAL", "08006", "lms: " + reason);
  close_after_flush();
}

}  // namespace lms::core
