// The proxy as a PostgreSQL server, up to the point where the client is authenticated: answers
// SSLRequest and GSSENCRequest, reads the startup packet or a CancelRequest, and runs the configured
// authentication (trust, password, md5, scram-sha-256) against one user and password.
#pragma once

#include <lms/plugin.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scram.h"

namespace lms::pgwire {

class FrontHandshake {
 public:
  enum class AuthMethod { kTrust, kPassword, kMd5, kScram };

  // Settings: auth_method, user, password (see lms_dialect_functions::front_create).
  FrontHandshake(const lms_kv* settings, size_t count);

  uint32_t step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                lms_front_result* result);
  void finish(const uint8_t* welcome, size_t welcome_len, const uint8_t* key, size_t key_len,
              const lms_emitter* out);

 private:
  enum class State { kStartup, kPassword, kSaslInitial, kSaslResponse, kDone, kFailed };

  uint32_t on_startup_packet(const uint8_t* body, size_t len, const lms_emitter* out,
                             lms_front_result* result);
  uint32_t on_password_message(const uint8_t* body, size_t len, const lms_emitter* out,
                               lms_front_result* result);
  uint32_t authenticated(lms_front_result* result);
  uint32_t fail(const lms_emitter* out, lms_front_result* result, const char* code, std::string message,
                std::string log_reason);

  State state_ = State::kStartup;
  AuthMethod method_ = AuthMethod::kScram;
  std::string expected_user_;
  std::string expected_password_;
  std::string client_user_;
  uint8_t md5_salt_[4] = {};
  std::unique_ptr<ScramServer> scram_;
  std::shared_ptr<const ScramVerifier> verifier_;
  std::vector<std::string> param_storage_;  // owns the strings params_ points into
  std::vector<lms_kv> params_;
  uint8_t cancel_key_[8] = {};
  std::string error_;
  // From an auth file: user names and their SCRAM verifiers, in PostgreSQL's stored form. When
  // present, they, not expected_user_, say who may log in.
  std::vector<std::pair<std::string, std::string>> listed_users_;
  bool user_listed_ = false;
  std::shared_ptr<const ScramVerifier> verifier_for(const std::string& user);
  // A listed user's MD5 hash (hex, without "md5"), when the database keeps one for it.
  std::string listed_md5_;
  // A listed user's SCRAM keys, for the core to log in to the databases as that user (ABI 1.9).
  std::vector<std::pair<std::string, std::string>> credential_storage_;
  std::vector<lms_kv> credentials_;
  bool tls_offered_ = false;   // the core can run TLS with the client
  bool tls_required_ = false;  // and refuses clients that do not ask for it
  bool tls_started_ = false;
};

}  // namespace lms::pgwire
