// TLS inside a session: the client's stream (when the client asked for TLS and the proxy has a
// certificate) and the database's (per the connection string's sslmode) each may carry a
// TlsChannel, which the stream runs. Everything above (handshakes, forwarding, shadowing,
// cutover) sees plain bytes; the session only starts TLS and hears when it fails.
#include <spdlog/spdlog.h>

#include "session.h"
#include "tls_context.h"

namespace lms::core {

void Session::start_client_tls() {
  client_.start_tls(shared_.client_tls->ctx.get(), TlsChannel::Role::kServer);
  // Whatever the client sent after its SSLRequest is already the start of its TLS handshake.
  if (!front_in_.empty()) {
    const std::string early = std::move(front_in_);
    front_in_.clear();
    deliver_in_chunks(worker_.pool(), early, [this](Chunk* chunk, size_t n) { client_.replay_read(chunk, n); });
  }
}

void Session::start_database_tls() {
  const DatabaseTls& tls = *shared_.endpoint(truth_).tls;
  if (!database_.start_tls(tls.ctx.get(), TlsChannel::Role::kClient, tls.verify_host)) tls_failed(false);
}

void Session::on_stream_tls_established(Stream& stream) {
  // The database's TLS is up: its handshake goes on with the startup packet.
  if (&stream == &database_ && phase_ == Phase::kBackHandshake) run_back();
}

void Session::tls_failed(bool client_side) {
  const std::string& error = (client_side ? client_ : database_).tls()->error();
  if (client_side) {
    worker_.mutable_metrics().client_protocol_errors.add();
    spdlog::info("session={} client TLS failed: {}", id_, error);
    close_now();  // no plain-text error can go through a broken TLS session
    return;
  }
  const std::string reason = "TLS with the database failed: " + error;
  if (phase_ == Phase::kConnecting || phase_ == Phase::kBackHandshake) {
    fail_connect(reason);
    return;
  }
  spdlog::warn("session={} {}", id_, reason);
  if (from_database_.scanner.at_boundary()) send_client_error("FATAL", "08006", "lms: " + reason);
  close_after_flush();
}

}  // namespace lms::core
