// The proxy as a MySQL client of the database: reads the server's greeting, answers with the
// capabilities the client agreed to with lms (the bytes are forwarded untouched afterwards, so both
// sides must speak the same dialect of the protocol), the connection string's user and a password
// proof for the server's plugin, follows an AuthSwitchRequest, and caching_sha2_password's fast or
// full authentication. With sslmode prefer (when the server offers TLS), require, verify-ca or
// verify-full it first sends an SSLRequest and lets the core run TLS; the full authentication then
// sends the password in the clear inside TLS, and otherwise RSA-encrypted with the server's key.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <optional>
#include <string>

namespace lms::mysql {

class BackHandshake {
 public:
  BackHandshake(const lms_kv* params, size_t count);
  void start(const lms_emitter*) {}  // the server speaks first
  uint32_t step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                lms_back_result* result);

 private:
  enum class State { kGreeting, kTls, kAuth, kDone, kFailed };
  void emit(const lms_emitter* out, const std::string& payload);
  bool wants_tls() const;
  bool needs_tls() const;
  uint32_t on_greeting(const uint8_t* payload, size_t len, const lms_emitter* out, lms_back_result* result);
  uint32_t on_auth_reply(const uint8_t* payload, size_t len, const lms_emitter* out, lms_back_result* result);
  uint32_t fail(lms_back_result* result, const std::string& message, const std::string& code = "08006");

  State state_ = State::kGreeting;
  std::string user_;
  std::string password_;
  // SHA1(password) of the client's own mysql_native_password login (ABI 1.9), instead of password_.
  std::optional<std::string> stage1_;
  // The proof plugin_ expects, from stage1_ or password_.
  std::string proof_for_plugin() const;
  std::string database_;
  std::string sslmode_ = "prefer";
  uint32_t client_capabilities_ = 0;
  uint8_t charset_ = 45;
  std::string plugin_;
  std::string nonce_;
  uint8_t sequence_ = 0;
  bool asked_for_key_ = false;
  bool secure_ = false;   // TLS with the database is up
  std::string response_;  // the HandshakeResponse, held while TLS starts
  std::string cancel_key_;
  std::string failure_;
  std::string failure_code_;
};

}  // namespace lms::mysql
