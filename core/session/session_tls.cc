// TLS inside a session: the client's stream carries it when the client asked for TLS and the
// proxy has a certificate; the database link runs its own, per the connection string's sslmode.
// Everything above (handshakes, forwarding, shadowing, cutover) sees plain bytes; the session only
// starts the client's TLS and hears when either fails.
#include <spdlog/spdlog.h>

#include "session/session.h"
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

void Session::on_stream_tls_failed(Stream&) {
  worker_.mutable_metrics().client_protocol_errors.add();
  spdlog::info("session={} client TLS failed: {}", id_, client_.tls()->error());
  close_now();  // no plain-text error can go through a broken TLS session
}

void Session::on_database_tls_failed(const std::string& error) {
  // Only after the login (the link fails a login of its own): the client hears why.
  const std::string reason = "TLS with the database failed: " + error;
  drop_broken_lent();
  spdlog::warn("session={} {}", id_, reason);
  if (database_scanner_.at_boundary()) send_client_error("FATAL", "08006", "lms: " + reason);
  close_after_flush();
}

}  // namespace lms::core
