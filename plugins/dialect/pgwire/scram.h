// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: the proxy is the server for its clients
// and the client for its databases. Channel binding is not offered (no -PLUS mechanism).
// Passwords are used as given; PostgreSQL's SASLprep changes only non-ASCII passwords.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto.h"

namespace lms::pgwire {

inline constexpr std::string_view kScramMechanism = "SCRAM-SHA-256";
inline constexpr uint32_t kScramIterations = 4096;  // PostgreSQL's default scram_iterations
// The most iterations a server may ask of the proxy. PBKDF2 runs on a worker loop: a server asking
// for millions would stall every session on it, so more is refused as a broken server.
inline constexpr uint32_t kMaxScramIterations = 100000;

// What a server keeps of a password: enough to check a proof, not enough to log in with.
struct ScramVerifier {
  std::string salt;  // raw bytes
  uint32_t iterations = kScramIterations;
  Sha256 stored_key{};
  Sha256 server_key{};
};

ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt, uint32_t iterations);

// Reads a verifier in PostgreSQL's stored form (pg_authid.rolpassword, PgBouncer's userlist):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, base64 throughout.
std::optional<ScramVerifier> parse_scram_verifier(std::string_view text);

// One server-side exchange. Each call returns the next message to send, or nullopt with *error set.
class ScramServer {
 public:
  // `nonce` is for tests; empty means 18 random bytes.
  explicit ScramServer(const ScramVerifier& verifier, std::string nonce = {});
  std::optional<std::string> on_client_first(std::string_view message, std::string* error);
  // A wrong password yields nullopt with *error naming it.
  std::optional<std::string> on_client_final(std::string_view message, std::string* error);
  // After a proof that matched: the client's ClientKey, which with the verifier's ServerKey logs in
  // to any server holding the same verifier (as PgBouncer's SCRAM pass-through does).
  const Sha256& client_key() const { return client_key_; }

 private:
  const ScramVerifier& verifier_;
  std::string server_nonce_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string combined_nonce_;
  Sha256 client_key_{};
};

// One client-side exchange.
class ScramClient {
 public:
  // `user` is sent as the SCRAM user name (PostgreSQL ignores it and libpq sends it empty);
  // `nonce` is for tests; empty means 18 random bytes.
  ScramClient(std::string password, std::string user = {}, std::string nonce = {});
  // Without the password: the keys a client's own exchange with the proxy yielded. The server's
  // salt and iterations then must be the verifier's (the same verifier on both), which the server's
  // signature proves.
  static ScramClient with_keys(const Sha256& client_key, const Sha256& server_key, std::string nonce = {});
  std::string client_first();
  std::optional<std::string> on_server_first(std::string_view message, std::string* error);
  // Checks the server's signature: a server that does not know the password is refused.
  bool on_server_final(std::string_view message, std::string* error);

 private:
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string auth_message_;
  Sha256 server_key_{};
  std::optional<Sha256> client_key_;  // given: no password to derive it from
};

}  // namespace lms::pgwire
