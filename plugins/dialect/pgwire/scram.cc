#include "scram.h"

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace lms::pgwire {
namespace {

constexpr std::string_view kClientKey = "Client Key";
constexpr std::string_view kServerKey = "Server Key";

std::string random_nonce() {
  uint8_t raw[18];
  if (!random_bytes(raw, sizeof raw)) return {};
  // base64 of random bytes is printable and contains no ',' as RFC 5802 requires.
  return base64_encode({reinterpret_cast<const char*>(raw), sizeof raw});
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

// The value of attribute `name` ("r" in "r=abc"), or nullopt.
std::optional<std::string_view> attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

// A role's salt and iteration count do not change between logins, so the salted password is
// derived once per process rather than once per backend connection (4096 PBKDF2 rounds each).
Sha256 salted_password(const std::string& password, const std::string& salt, uint32_t iterations) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, std::string, uint32_t>, Sha256> cache;
  constexpr size_t kMaxEntries = 1024;  // passwords and salts seen; bounded against a hostile server
  std::lock_guard lock(mutex);
  const auto key = std::make_tuple(password, salt, iterations);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  const Sha256 salted = pbkdf2_sha256(password, salt, iterations);
  if (cache.size() >= kMaxEntries) cache.clear();
  cache.emplace(key, salted);
  return salted;
}

Sha256 xor_keys(const Sha256& a, const Sha256& b) {
  Sha256 out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

}  // namespace

ScramVerifier make_scram_verifier(std::string_view password, std::string_view salt, uint32_t iterations) {
  ScramVerifier v;
  v.salt = std::string(salt);
  v.iterations = iterations;
  const Sha256 salted = pbkdf2_sha256(password, salt, iterations);
  v.stored_key = sha256(as_view(hmac_sha256(as_view(salted), kClientKey)));
  v.server_key = hmac_sha256(as_view(salted), kServerKey);
  return v;
}

ScramServer::ScramServer(const ScramVerifier& verifier, std::string nonce)
    : verifier_(verifier), server_nonce_(nonce.empty() ? random_nonce() : std::move(nonce)) {}

std::optional<std::string> ScramServer::on_client_first(std::string_view message, std::string* error) {
  // gs2-header: cbind-flag "," [authzid] "," then client-first-message-bare.
  const size_t first_comma = message.find(',');
  const size_t second_comma = first_comma == message.npos ? message.npos : message.find(',', first_comma + 1);
  if (second_comma == message.npos) {
    *error = "malformed SCRAM client-first-message";
    return std::nullopt;
  }
  const std::string_view flag = message.substr(0, first_comma);
  if (flag != "n" && flag != "y") {
    *error = "SCRAM channel binding is not supported by this server";
    return std::nullopt;
  }
  gs2_header_ = std::string(message.substr(0, second_comma + 1));
  client_first_bare_ = std::string(message.substr(second_comma + 1));
  const auto parts = split_commas(client_first_bare_);
  std::optional<std::string_view> client_nonce;
  if (parts.size() >= 2) client_nonce = attribute(parts[1], 'r');
  if (!attribute(parts[0], 'n') || !client_nonce || client_nonce->empty()) {
    *error = "malformed SCRAM client-first-message";
    return std::nullopt;
  }
  if (server_nonce_.empty()) {
    *error = "could not generate a SCRAM nonce";
    return std::nullopt;
  }
  combined_nonce_ = std::string(*client_nonce) + server_nonce_;
  server_first_ = "r=" + combined_nonce_ + ",s=" + base64_encode(verifier_.salt) +
                  ",i=" + std::to_string(verifier_.iterations);
  return server_first_;
}

std::optional<std::string> ScramServer::on_client_final(std::string_view message, std::string* error) {
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == message.npos) {
    *error = "malformed SCRAM client-final-message";
    return std::nullopt;
  }
  const std::string_view without_proof = message.substr(0, proof_at);
  const auto parts = split_commas(without_proof);
  const auto binding = attribute(parts[0], 'c');
  const auto nonce = parts.size() >= 2 ? attribute(parts[1], 'r') : std::nullopt;
  const auto proof = base64_decode(message.substr(proof_at + 3));
  if (!binding || !nonce || !proof || proof->size() != 32) {
    *error = "malformed SCRAM client-final-message";
    return std::nullopt;
  }
  if (*binding != base64_encode(gs2_header_) || *nonce != combined_nonce_) {
    *error = "SCRAM channel binding or nonce mismatch";
    return std::nullopt;
  }
  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const Sha256 signature = hmac_sha256(as_view(verifier_.stored_key), auth_message);
  Sha256 client_proof{};
  std::copy(proof->begin(), proof->end(), client_proof.begin());
  const Sha256 client_key = xor_keys(client_proof, signature);
  if (!constant_time_equal(as_view(sha256(as_view(client_key))), as_view(verifier_.stored_key))) {
    *error = "wrong password";
    return std::nullopt;
  }
  client_key_ = client_key;
  return "v=" + base64_encode(as_view(hmac_sha256(as_view(verifier_.server_key), auth_message)));
}

ScramClient::ScramClient(std::string password, std::string user, std::string nonce)
    : password_(std::move(password)), client_nonce_(nonce.empty() ? random_nonce() : nonce) {
  client_first_bare_ = "n=" + user + ",r=" + client_nonce_;
}

ScramClient ScramClient::with_keys(const Sha256& client_key, const Sha256& server_key, std::string nonce) {
  ScramClient c({}, {}, std::move(nonce));
  c.client_key_ = client_key;
  c.server_key_ = server_key;
  return c;
}

std::string ScramClient::client_first() { return "n,," + client_first_bare_; }

std::optional<std::string> ScramClient::on_server_first(std::string_view message, std::string* error) {
  const auto parts = split_commas(message);
  if (parts.size() < 3) {
    *error = "malformed SCRAM server-first-message";
    return std::nullopt;
  }
  const auto nonce = attribute(parts[0], 'r');
  const auto salt_text = attribute(parts[1], 's');
  const auto iterations_text = attribute(parts[2], 'i');
  std::optional<std::string> salt;
  if (salt_text) salt = base64_decode(*salt_text);
  uint32_t iterations = 0;
  if (iterations_text && !iterations_text->empty() && iterations_text->size() < 10) {
    for (char c : *iterations_text) {
      if (c < '0' || c > '9') {
        iterations = 0;
        break;
      }
      iterations = iterations * 10 + static_cast<uint32_t>(c - '0');
    }
  }
  if (!nonce || !salt || iterations == 0) {
    *error = "malformed SCRAM server-first-message";
    return std::nullopt;
  }
  if (iterations > kMaxScramIterations) {
    *error = "the server asks for " + std::to_string(iterations) + " SCRAM iterations; LMS accepts at most " +
             std::to_string(kMaxScramIterations);
    return std::nullopt;
  }
  if (nonce->substr(0, client_nonce_.size()) != client_nonce_ || nonce->size() <= client_nonce_.size()) {
    *error = "SCRAM server nonce does not extend the client nonce";
    return std::nullopt;
  }
  Sha256 client_key{};
  if (client_key_) {
    client_key = *client_key_;  // server_key_ came with it
  } else {
    const Sha256 salted = salted_password(password_, *salt, iterations);
    client_key = hmac_sha256(as_view(salted), kClientKey);
    server_key_ = hmac_sha256(as_view(salted), kServerKey);
  }
  const Sha256 stored_key = sha256(as_view(client_key));
  const std::string without_proof = "c=biws,r=" + std::string(*nonce);  // biws = base64("n,,")
  auth_message_ = client_first_bare_ + "," + std::string(message) + "," + without_proof;
  const Sha256 signature = hmac_sha256(as_view(stored_key), auth_message_);
  return without_proof + ",p=" + base64_encode(as_view(xor_keys(client_key, signature)));
}

bool ScramClient::on_server_final(std::string_view message, std::string* error) {
  if (const auto err = attribute(message, 'e')) {
    *error = "SCRAM authentication refused by the server: " + std::string(*err);
    return false;
  }
  const auto verifier = attribute(message, 'v');
  const std::string expected = base64_encode(as_view(hmac_sha256(as_view(server_key_), auth_message_)));
  if (!verifier || !constant_time_equal(*verifier, expected)) {
    *error = "the server's SCRAM signature is wrong: it does not know the password";
    return false;
  }
  return true;
}

}  // namespace lms::pgwire

namespace lms::pgwire {

std::optional<ScramVerifier> parse_scram_verifier(std::string_view text) {
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  const size_t colon = text.find(':');
  const size_t dollar = text.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || dollar < colon) return std::nullopt;
  const size_t colon2 = text.find(':', dollar);
  if (colon2 == std::string_view::npos) return std::nullopt;
  ScramVerifier v;
  uint32_t iterations = 0;
  for (const char c : text.substr(0, colon)) {
    if (c < '0' || c > '9' || iterations > 100000000) return std::nullopt;
    iterations = iterations * 10 + static_cast<uint32_t>(c - '0');
  }
  if (iterations == 0) return std::nullopt;
  v.iterations = iterations;
  const auto salt = base64_decode(text.substr(colon + 1, dollar - colon - 1));
  const auto stored = base64_decode(text.substr(dollar + 1, colon2 - dollar - 1));
  const auto server = base64_decode(text.substr(colon2 + 1));
  if (!salt || salt->empty() || !stored || !server || stored->size() != v.stored_key.size() ||
      server->size() != v.server_key.size()) {
    return std::nullopt;
  }
  v.salt = *salt;
  std::copy(stored->begin(), stored->end(), v.stored_key.begin());
  std::copy(server->begin(), server->end(), v.server_key.begin());
  return v;
}

}  // namespace lms::pgwire
