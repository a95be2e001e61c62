#include "front_handshake.h"

#include <map>
#include <mutex>

#include "errors.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

constexpr const char* kInvalidPassword = "28P01";
constexpr const char* kProtocolViolation = "08P01";
constexpr const char* kFeatureNotSupported = "0A000";

void send(const lms_emitter* out, const std::vector<uint8_t>& bytes) {
  out->emit(out->ctx, bytes.data(), bytes.size());
}

// Deriving a SCRAM verifier costs 4096 PBKDF2 rounds; do it once per user and password for the
// life of the process, the way a server stores one verifier per role, not once per connection.
std::shared_ptr<const ScramVerifier> cached_verifier(const std::string& user, const std::string& password) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<const ScramVerifier>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[{user, password}];
  if (!slot) {
    uint8_t salt[16] = {};
    random_bytes(salt, sizeof salt);
    slot = std::make_shared<ScramVerifier>(
        make_scram_verifier(password, {reinterpret_cast<const char*>(salt), sizeof salt}, kScramIterations));
  }
  return slot;
}

}  // namespace

FrontHandshake::FrontHandshake(const lms_kv* settings, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key(settings[i].key.data, settings[i].key.len);
    const std::string value(settings[i].value.data, settings[i].value.len);
    if (key == "auth_method") {
      if (value == "trust")
        method_ = AuthMethod::kTrust;
      else if (value == "password")
        method_ = AuthMethod::kPassword;
      else if (value == "md5")
        method_ = AuthMethod::kMd5;
      else
        method_ = AuthMethod::kScram;
    } else if (key == "user") {
      expected_user_ = value;
    } else if (key == "password") {
      expected_password_ = value;
    } else if (key == "auth_user") {
      listed_users_.emplace_back(value, std::string());
    } else if (key == "auth_verifier" && !listed_users_.empty()) {
      listed_users_.back().second = value;
    } else if (key == "tls") {
      tls_offered_ = value == "on" || value == "require";
      tls_required_ = value == "require";
    }
  }
}

uint32_t FrontHandshake::step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                              lms_front_result* result) {
  *consumed = 0;
  while (true) {
    if (state_ == State::kDone || state_ == State::kFailed) {
      return state_ == State::kDone ? LMS_HS_DONE : LMS_HS_FAILED;
    }
    const uint8_t* p = data + *consumed;
    const size_t avail = len - *consumed;
    const bool startup = state_ == State::kStartup;
    // Startup packets have no type byte; every later message does.
    const size_t header = startup ? 4 : 5;
    if (avail < header) return LMS_HS_NEED_INPUT;
    if (!startup && p[0] == 'X') return LMS_HS_CLOSE;  // Terminate: the client gave up
    if (!startup && p[0] != 'p') {
      return fail(out, result, kProtocolViolation, "expected a password message",
                  "client sent a message other than a password during authentication");
    }
    const uint32_t length = read_u32(p + header - 4);
    // Password and SASL messages are as small as startup packets; the same bound applies.
    if (length < (startup ? 8u : 4u) || length > kMaxStartupLength) {
      return fail(out, result, kProtocolViolation, "invalid length of startup packet",
                  "client sent a startup or password packet of invalid length");
    }
    const size_t total = header - 4 + length;
    if (avail < total) return LMS_HS_NEED_INPUT;
    *consumed += total;
    const uint8_t* body = p + header;
    const size_t body_len = total - header;
    uint32_t status = LMS_HS_NEED_INPUT;
    if (startup) {
      status = on_startup_packet(body, body_len, out, result);
    } else {
      status = on_password_message(body, body_len, out, result);
    }
    if (status != LMS_HS_NEED_INPUT) return status;
  }
}

uint32_t FrontHandshake::on_startup_packet(const uint8_t* body, size_t len, const lms_emitter* out,
                                           lms_front_result* result) {
  BodyReader r(body, len);
  uint32_t code = 0;
  r.u32(code);
  if (code == kSslRequestCode && tls_offered_ && !tls_started_) {
    // 'S', in plain text; the TLS handshake follows, and the startup packet comes through it.
    const uint8_t yes = 'S';
    out->emit(out->ctx, &yes, 1);
    tls_started_ = true;
    return LMS_HS_START_TLS;
  }
  if (code == kSslRequestCode || code == kGssEncRequestCode) {
    // Not offered (or asked twice): 'N' tells the client to go on as it is (or to give up, if its
    // sslmode requires encryption).
    const uint8_t no = 'N';
    out->emit(out->ctx, &no, 1);
    return LMS_HS_NEED_INPUT;
  }
  if (code == kCancelRequestCode) {
    std::string_view key;
    if (!r.bytes(kCancelKeyLength, key)) {
      result->error = "malformed cancel request";
      state_ = State::kFailed;
      return LMS_HS_FAILED;
    }
    std::copy(key.begin(), key.end(), cancel_key_);
    result->cancel_key = cancel_key_;
    result->cancel_key_len = kCancelKeyLength;
    return LMS_HS_CANCEL;
  }
  if (tls_required_ && !tls_started_ && code != kCancelRequestCode) {
    return fail(out, result, "28000", "lms accepts only TLS connections: connect with sslmode=require or stronger",
                "a plain-text connection where TLS is required");
  }
  if ((code >> 16) != 3) {
    return fail(out, result, kFeatureNotSupported,
                "unsupported frontend protocol " + std::to_string(code >> 16) + "." +
                    std::to_string(code & 0xffff) + ": server supports 3.0",
                "client asked for an unsupported protocol version");
  }
  std::vector<std::string> unknown_options;
  while (r.remaining() > 1) {
    std::string_view key;
    std::string_view value;
    if (!r.cstr(key) || !r.cstr(value) || key.empty()) {
      return fail(out, result, kProtocolViolation, "invalid startup packet layout",
                  "client sent a malformed startup packet");
    }
    if (key.substr(0, 4) == "_pq_") {
      unknown_options.emplace_back(key);
      continue;
    }
    param_storage_.emplace_back(key);
    param_storage_.emplace_back(value);
    if (key == "user") client_user_ = value;
  }
  if (client_user_.empty()) {
    return fail(out, result, "28000", "no PostgreSQL user name specified in startup packet",
                "client gave no user name");
  }
  for (size_t i = 0; i + 1 < param_storage_.size(); i += 2) {
    params_.push_back({{param_storage_[i].data(), param_storage_[i].size()},
                       {param_storage_[i + 1].data(), param_storage_[i + 1].size()}});
  }
  if ((code & 0xffff) != 0 || !unknown_options.empty()) {
    // NegotiateProtocolVersion: we speak 3.0 and none of the _pq_ options.
    MessageBuilder m;
    m.begin('v').u32(kProtocolV3).u32(static_cast<uint32_t>(unknown_options.size()));
    for (const auto& o : unknown_options) m.cstr(o);
    send(out, m.end().take());
  }

  // A listed user whose database keeps an MD5 hash (password_encryption = md5) logs in with MD5:
  // the hash checks its answer and then logs in to the databases as it.
  if (!listed_users_.empty()) {
    for (const auto& [name, stored] : listed_users_) {
      if (name != client_user_) continue;
      if (stored.size() == 35 && stored.starts_with("md5")) {
        method_ = AuthMethod::kMd5;
        listed_md5_ = stored.substr(3);
        user_listed_ = true;
      }
      break;
    }
  }
  MessageBuilder m;
  switch (method_) {
    case AuthMethod::kTrust:
      return authenticated(result);
    case AuthMethod::kPassword:
      send(out, m.begin('R').u32(kAuthCleartext).end().take());
      state_ = State::kPassword;
      break;
    case AuthMethod::kMd5:
      random_bytes(md5_salt_, sizeof md5_salt_);
      send(out, m.begin('R').u32(kAuthMd5).raw(md5_salt_, 4).end().take());
      state_ = State::kPassword;
      break;
    case AuthMethod::kScram:
      // An unknown user still goes through the whole exchange (against the known verifier), so a
      // client cannot tell a wrong user from a wrong password.
      verifier_ = verifier_for(client_user_);
      scram_ = std::make_unique<ScramServer>(*verifier_);
      send(out, m.begin('R').u32(kAuthSasl).cstr(kScramMechanism).u8(0).end().take());
      state_ = State::kSaslInitial;
      break;
  }
  return LMS_HS_NEED_INPUT;
}

std::shared_ptr<const ScramVerifier> FrontHandshake::verifier_for(const std::string& user) {
  if (listed_users_.empty()) return cached_verifier(expected_user_, expected_password_);
  for (const auto& [name, text] : listed_users_) {
    if (name != user) continue;
    if (auto parsed = parse_scram_verifier(text)) {
      user_listed_ = true;
      return std::make_shared<const ScramVerifier>(std::move(*parsed));
    }
    break;  // a verifier that does not parse lets nobody in
  }
  // An unlisted user goes through the whole exchange against a verifier no password matches.
  return cached_verifier("\x01unlisted", "\x01unlisted");
}

uint32_t FrontHandshake::on_password_message(const uint8_t* body, size_t len, const lms_emitter* out,
                                             lms_front_result* result) {
  BodyReader r(body, len);
  const std::string auth_failed = "password authentication failed for user \"" + client_user_ + "\"";
  const bool right_user = listed_users_.empty() ? client_user_ == expected_user_ : user_listed_;
  if (state_ == State::kPassword) {
    std::string_view given;
    if (!r.cstr(given)) {
      return fail(out, result, kProtocolViolation, "invalid password packet", "malformed password message");
    }
    bool ok = false;
    if (!listed_md5_.empty()) {
      const std::string expected =
          "md5" + md5_hex(listed_md5_ + std::string(reinterpret_cast<const char*>(md5_salt_), 4));
      ok = constant_time_equal(given, expected);
      // The hash logs in to every database keeping the same one: the core's, never shown.
      if (ok) credential_storage_ = {{"md5_hash", listed_md5_}};
    } else if (method_ == AuthMethod::kPassword) {
      ok = constant_time_equal(given, expected_password_);
    } else {
      const std::string inner = md5_hex(expected_password_ + expected_user_);
      const std::string expected =
          "md5" + md5_hex(inner + std::string(reinterpret_cast<const char*>(md5_salt_), 4));
      ok = constant_time_equal(given, expected);
    }
    if (!ok || !right_user) {
      return fail(out, result, kInvalidPassword, auth_failed, right_user ? "wrong password" : "unknown user");
    }
    return authenticated(result);
  }

  std::string error;
  if (state_ == State::kSaslInitial) {
    std::string_view mechanism;
    uint32_t data_len = 0;
    std::string_view data;
    if (!r.cstr(mechanism) || !r.u32(data_len) || !r.bytes(data_len, data)) {
      return fail(out, result, kProtocolViolation, "malformed SASLInitialResponse",
                  "malformed SASLInitialResponse");
    }
    if (mechanism != kScramMechanism) {
      return fail(out, result, kProtocolViolation, "client selected an invalid SASL authentication mechanism",
                  "client chose an unoffered SASL mechanism");
    }
    const auto server_first = scram_->on_client_first(data, &error);
    if (!server_first) return fail(out, result, kProtocolViolation, error, error);
    MessageBuilder m;
    send(out, m.begin('R').u32(kAuthSaslContinue).raw(*server_first).end().take());
    state_ = State::kSaslResponse;
    return LMS_HS_NEED_INPUT;
  }

  const auto server_final = scram_->on_client_final(r.rest(), &error);
  if (!server_final || !right_user) {
    return fail(out, result, kInvalidPassword, auth_failed, !right_user ? "unknown user" : error);
  }
  MessageBuilder m;
  send(out, m.begin('R').u32(kAuthSaslFinal).raw(*server_final).end().take());
  // A user of the list logs in to the databases as itself: the keys its proof yielded go to the
  // core, never to the client or the log.
  if (!listed_users_.empty()) {
    credential_storage_ = {{"scram_client_key", base64_encode(as_view(scram_->client_key()))},
                           {"scram_server_key", base64_encode(as_view(verifier_->server_key))}};
  }
  return authenticated(result);
}

uint32_t FrontHandshake::authenticated(lms_front_result* result) {
  state_ = State::kDone;
  result->startup_params = params_.data();
  result->startup_param_count = params_.size();
  if (!credential_storage_.empty() &&
      result->struct_size >= offsetof(lms_front_result, credential_count) + sizeof result->credential_count) {
    credentials_.clear();
    for (const auto& [k, v] : credential_storage_)
      credentials_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    result->credentials = credentials_.data();
    result->credential_count = credentials_.size();
  }
  return LMS_HS_DONE;
}

uint32_t FrontHandshake::fail(const lms_emitter* out, lms_front_result* result, const char* code,
                              std::string message, std::string log_reason) {
  send(out, error_response("FATAL", code, message));
  error_ = std::move(log_reason);
  result->error = error_.c_str();
  state_ = State::kFailed;
  return LMS_HS_FAILED;
}

void FrontHandshake::finish(const uint8_t* welcome, size_t welcome_len, const uint8_t* key, size_t key_len,
                            const lms_emitter* out) {
  MessageBuilder m;
  m.begin('R').u32(kAuthOk).end();
  m.raw(welcome, welcome_len);
  m.begin('K').raw(key, key_len).end();
  m.begin('Z').u8('I').end();
  send(out, m.bytes());
}

}  // namespace lms::pgwire
