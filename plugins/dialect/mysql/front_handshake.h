// The proxy as a MySQL server, for one client: the greeting (the server speaks first), the
// client's HandshakeResponse41, the password proof (caching_sha2_password by default,
// mysql_native_password when configured or when the client asks, through an AuthSwitchRequest),
// and the final OK once the database session is up. Every packet carries the next sequence id.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lms::mysql {

// What lms offers clients: the 4.1 protocol and what every MySQL 5.7+ / MariaDB 10.2+ server
// also accepts, so the database session can be opened with exactly what the client agreed to.
// Not offered: compression, LOCAL INFILE, MariaDB's and MySQL 8's extensions. TLS (CLIENT_SSL)
// is added to the greeting when the proxy has a certificate; it concerns one hop only.
uint32_t offered_capabilities();

class FrontHandshake {
 public:
  FrontHandshake(const lms_kv* settings, size_t count);
  uint32_t step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                lms_front_result* result);
  void finish(const lms_emitter* out);
  // COM_CHANGE_USER (the whole packet, header included): names the user; the proof it carries was
  // made for the session's first nonce, which this front never had, so it asks again with its own
  // (an AuthSwitchRequest, which every client answers). Then step() goes on as at login.
  uint32_t change_user(const lms_kv* session_params, size_t count, const uint8_t* packet, size_t len,
                       const lms_emitter* out, lms_front_result* result);
  void error(const lms_error& error, const lms_emitter* out);

 private:
  enum class State { kGreeting, kResponse, kAuthSwitch, kDone, kFailed };
  // The front's `tls` setting: off (no CLIENT_SSL in the greeting), on, require (a client that
  // logs in without TLS is refused with MySQL's own error 3159).
  enum class Tls { kOff, kOn, kRequire };
  void emit(const lms_emitter* out, const std::string& payload);
  uint32_t on_response(const uint8_t* payload, size_t len, const lms_emitter* out, lms_front_result* result);
  uint32_t check_proof(std::string_view proof, const lms_emitter* out, lms_front_result* result);
  // An AuthSwitchRequest for plugin_ with nonce_: the client proves itself again, for our plugin.
  uint32_t ask_again(const lms_emitter* out);
  uint32_t fail(const lms_emitter* out, lms_front_result* result, uint16_t code, const char* sqlstate,
                const std::string& message, const char* why);
  uint32_t done(lms_front_result* result);

  State state_ = State::kGreeting;
  Tls tls_ = Tls::kOff;
  bool secure_ = false;  // the client's TLS is up
  // The auth plugin clients log in with. Under trust any proof is taken, and the plugin is
  // mysql_native_password, whose client side reads the OK straight away (caching_sha2_password's
  // would wait for a fast-auth result).
  std::string plugin_;
  bool trust_ = false;
  std::string user_;
  std::string password_;
  std::string nonce_;
  uint8_t sequence_ = 0;  // of the next packet lms sends
  uint32_t capabilities_ = 0;
  std::string client_user_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<lms_kv> param_views_;
  std::string failure_;
  // Listed users (auth-file-like settings from auth-query) and their stored mysql_native_password
  // hashes: when present they, not user_, say who may log in, each as itself (ABI 1.9).
  std::vector<std::pair<std::string, std::string>> listed_users_;
  std::vector<std::pair<std::string, std::string>> credential_storage_;
  std::vector<lms_kv> credentials_;
  uint32_t check_listed(std::string_view proof, const std::string& denied, lms_front_result* result,
                        const lms_emitter* out);
};

}  // namespace lms::mysql
