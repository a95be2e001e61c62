// The proxy as a PostgreSQL client of a database: sends the startup packet, answers the server's
// authentication request (trust, password, md5, SCRAM-SHA-256, checking the server's SCRAM
// signature), and collects what the client must be told once in (ParameterStatus, notices) and the
// key that cancels this session.
#pragma once

#include <lms/plugin.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scram.h"

namespace lms::pgwire {

class BackHandshake {
 public:
  BackHandshake(const lms_kv* params, size_t count);

  void start(const lms_emitter* out);
  uint32_t step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                lms_back_result* result);

 private:
  uint32_t on_message(char type, const uint8_t* body, size_t len, const lms_emitter* out,
                      lms_back_result* result);
  uint32_t on_auth_request(const uint8_t* body, size_t len, const lms_emitter* out, lms_back_result* result);
  uint32_t fail(lms_back_result* result, std::string message, std::string code = {});
  void send_startup(const lms_emitter* out);

  std::string user_;
  std::string password_;
  // SCRAM keys instead of a password: the client's own, passed through (ABI 1.9).
  std::optional<Sha256> scram_client_key_;
  std::string md5_hash_;  // hex of md5(password + user): the client's own MD5 login, passed through
  std::optional<Sha256> scram_server_key_;
  std::vector<std::pair<std::string, std::string>> startup_params_;
  std::unique_ptr<ScramClient> scram_;
  std::vector<uint8_t> welcome_;
  uint8_t cancel_key_[8] = {};
  bool have_cancel_key_ = false;
  bool failed_ = false;
  // TLS: asked for (sslmode prefer or stronger), required (require or stronger), and where the
  // exchange is: the SSLRequest awaits its one-byte answer, or TLS runs and the startup packet is
  // still to be sent.
  bool tls_wanted_ = false;
  bool tls_required_ = false;
  enum class Tls { kNone, kAsked, kStarting } tls_ = Tls::kNone;
  std::string sslmode_;
  std::string error_;
  std::string error_code_;
};

}  // namespace lms::pgwire
