#include "front_handshake.h"

#include <cstddef>
#include <string_view>

#include "auth.h"
#include "errors.h"
#include "wire.h"

namespace lms::mysql {
namespace {

constexpr uint8_t kCharsetUtf8mb4 = 45;  // utf8mb4_general_ci: known to MySQL and MariaDB alike
constexpr const char* kServerVersion = "8.0.36-lms";
// A HandshakeResponse is small; anything larger is not a client logging in.
constexpr size_t kMaxResponse = 64 * 1024;

std::string_view view(lms_str s) { return {s.data, s.len}; }

}  // namespace

uint32_t offered_capabilities() {
  return kLongPassword | kFoundRows | kLongFlag | kConnectWithDb | kNoSchema | kIgnoreSpace | kProtocol41 |
         kInteractive | kIgnoreSigpipe | kTransactions | kReserved | kSecureConnection | kMultiStatements |
         kMultiResults | kPsMultiResults | kPluginAuth | kConnectAttrs | kPluginAuthLenencData |
         kSessionTrack | kDeprecateEof;
}

namespace {

// The session's first nonce, kept by the core as a front memo (ABI 1.9) for COM_CHANGE_USER.
constexpr std::string_view kScrambleMemo = "lms.scramble";

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out.push_back(kDigits[(static_cast<uint8_t>(c) >> 4) & 0xF]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 0xF]);
  }
  return out;
}

std::string unhex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    const int hi = nibble(text[i]);
    const int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

FrontHandshake::FrontHandshake(const lms_kv* settings, size_t count) {
  std::string method = "scram-sha-256";
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key = view(settings[i].key);
    if (key == "user") user_ = std::string(view(settings[i].value));
    if (key == "password") password_ = std::string(view(settings[i].value));
    if (key == "auth_method") method = std::string(view(settings[i].value));
    if (key == "auth_user") listed_users_.emplace_back(std::string(view(settings[i].value)), std::string());
    if (key == "auth_verifier" && !listed_users_.empty())
      listed_users_.back().second = std::string(view(settings[i].value));
    if (key == "tls") {
      const std::string_view tls = view(settings[i].value);
      tls_ = tls == "require" ? Tls::kRequire : tls == "on" ? Tls::kOn : Tls::kOff;
    }
  }
  // The core's methods by their PostgreSQL names: the strong one is caching_sha2_password here.
  trust_ = method == "trust";
  plugin_ = trust_ || method == "md5" || method == "password" || method == kNativePassword ? kNativePassword
                                                                                           : kCachingSha2;
  // Listed users log in with what the database keeps of them: mysql_native_password's hash.
  if (!listed_users_.empty()) {
    trust_ = false;
    plugin_ = kNativePassword;
  }
  if (!random_nonce(&nonce_)) nonce_.assign(kNonceSize, 'x');
}

void FrontHandshake::emit(const lms_emitter* out, const std::string& payload) {
  std::string packet;
  sequence_ = append_packets(packet, payload, sequence_);
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
}

uint32_t FrontHandshake::step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                              lms_front_result* result) {
  *consumed = 0;
  if (state_ == State::kGreeting) {
    const uint32_t caps = offered_capabilities() | (tls_ != Tls::kOff ? uint32_t{kSsl} : 0u);
    uint32_t thread_id = 0;
    for (int i = 0; i < 4; ++i) thread_id = (thread_id << 8) | static_cast<uint8_t>(nonce_[i]);
    Writer w;
    w.u8(10);  // protocol version
    w.cstring(kServerVersion);
    // Not a database thread: KILL with this id must not reach some other session there.
    w.u32(thread_id | 0x80000000u);
    w.bytes(std::string_view(nonce_).substr(0, 8));
    w.u8(0);
    w.u16(caps & 0xFFFF);
    w.u8(kCharsetUtf8mb4);
    w.u16(kStatusAutocommit);
    w.u16(caps >> 16);
    w.u8(kNonceSize + 1);
    w.zeros(10);
    w.bytes(std::string_view(nonce_).substr(8));
    w.u8(0);
    w.cstring(plugin_);
    emit(out, w.str());
    state_ = State::kResponse;
  }
  while (state_ == State::kResponse || state_ == State::kAuthSwitch) {
    const uint8_t* p = data + *consumed;
    const size_t avail = len - *consumed;
    if (avail < kHeaderSize) return LMS_HS_NEED_INPUT;
    const uint32_t payload_len = read_u24(p);
    if (payload_len > kMaxResponse) {
      return fail(out, result, 1043, "08S01", "Bad handshake", "client sent an oversized handshake packet");
    }
    if (avail < kHeaderSize + payload_len) return LMS_HS_NEED_INPUT;
    *consumed += kHeaderSize + payload_len;
    sequence_ = static_cast<uint8_t>(p[3] + 1);
    const uint8_t* payload = p + kHeaderSize;
    const uint32_t status =
        state_ == State::kResponse
            ? on_response(payload, payload_len, out, result)
            : check_proof({reinterpret_cast<const char*>(payload), payload_len}, out, result);
    if (status != LMS_HS_NEED_INPUT) return status;
  }
  return state_ == State::kDone ? LMS_HS_DONE : LMS_HS_FAILED;
}

uint32_t FrontHandshake::on_response(const uint8_t* payload, size_t len, const lms_emitter* out,
                                     lms_front_result* result) {
  Reader r(payload, len);
  uint32_t caps = 0;
  uint32_t max_packet = 0;
  uint8_t charset = 0;
  if (!r.u32(caps) || (caps & kProtocol41) == 0) {
    return fail(out, result, 1043, "08S01", "Bad handshake: lms speaks the 4.1 protocol only",
                "client sent a pre-4.1 handshake");
  }
  // An SSLRequest is the response's first 32 bytes alone: TLS starts, then the whole response
  // comes again (sequence id 2) inside it.
  if ((caps & kSsl) != 0 && len == 32) {
    if (tls_ == Tls::kOff) {
      return fail(out, result, 1043, "08S01", "Bad handshake: lms offers no TLS on this port",
                  "client asked for TLS, which is off");
    }
    if (secure_) {
      return fail(out, result, 1043, "08S01", "Bad handshake: TLS is already up",
                  "client asked for TLS a second time");
    }
    secure_ = true;
    return LMS_HS_START_TLS;
  }
  if (tls_ == Tls::kRequire && !secure_) {
    // MySQL's own answer under require_secure_transport, which clients and pools recognise.
    return fail(out, result, 3159, "HY000",
                "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
                "client came without TLS, which is required");
  }
  capabilities_ = caps & offered_capabilities();
  std::string_view user;
  if (!r.u32(max_packet) || !r.u8(charset) || !r.skip(23) || !r.cstring(user)) {
    return fail(out, result, 1043, "08S01", "Bad handshake", "client sent a malformed handshake response");
  }
  std::string_view proof;
  if (caps & kPluginAuthLenencData) {
    r.lenenc_string(proof);
  } else if (caps & kSecureConnection) {
    uint8_t n = 0;
    if (r.u8(n)) r.bytes(n, proof);
  } else {
    r.cstring(proof);
  }
  std::string_view database;
  if (caps & kConnectWithDb) r.cstring(database);
  std::string_view plugin;
  if ((caps & kPluginAuth) && r.left() > 0) r.cstring(plugin);
  if (!r.ok())
    return fail(out, result, 1043, "08S01", "Bad handshake", "client sent a malformed handshake response");
  client_user_ = std::string(user);
  params_ = {{"user", client_user_},
             {"capabilities", std::to_string(capabilities_)},
             {"charset", std::to_string(charset)},
             {std::string(kScrambleMemo), hex(nonce_)}};
  if (!database.empty()) params_.emplace_back("database", std::string(database));
  // The client proved itself for another plugin (or none): ask again, for ours.
  if (plugin != plugin_) return ask_again(out);
  return check_proof(proof, out, result);
}

uint32_t FrontHandshake::ask_again(const lms_emitter* out) {
  Writer w;  // AuthSwitchRequest
  w.u8(0xFE);
  w.cstring(plugin_);
  w.bytes(nonce_);
  w.u8(0);
  emit(out, w.str());
  state_ = State::kAuthSwitch;
  return LMS_HS_NEED_INPUT;
}

uint32_t FrontHandshake::change_user(const lms_kv* session_params, size_t count, const uint8_t* packet,
                                     size_t len, const lms_emitter* out, lms_front_result* result) {
  std::string session_capabilities;
  std::string session_charset;
  std::string scramble;
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key = view(session_params[i].key);
    if (key == "capabilities") session_capabilities = std::string(view(session_params[i].value));
    if (key == "charset") session_charset = std::string(view(session_params[i].value));
    if (key == kScrambleMemo) scramble = unhex(view(session_params[i].value));
  }
  // Clients make COM_CHANGE_USER's proof, and any after an AuthSwitchRequest, with the nonce of the
  // session's first greeting (libmariadb does): this front takes it on.
  if (scramble.size() == kNonceSize) nonce_ = scramble;
  if (len < kHeaderSize + 1) {
    return fail(out, result, 1043, "08S01", "Bad handshake", "malformed COM_CHANGE_USER");
  }
  sequence_ = static_cast<uint8_t>(packet[3] + 1);
  capabilities_ = session_capabilities.empty() ? 0 : static_cast<uint32_t>(std::stoul(session_capabilities));
  Reader r(packet + kHeaderSize + 1, len - kHeaderSize - 1);
  std::string_view user;
  std::string_view proof;
  std::string_view database;
  r.cstring(user);
  if (capabilities_ & kSecureConnection) {
    uint8_t n = 0;
    if (r.u8(n)) r.bytes(n, proof);
  } else {
    r.cstring(proof);
  }
  r.cstring(database);
  uint32_t charset = 0;
  const bool has_charset = r.left() >= 2 && r.u16(charset);
  std::string_view plugin;
  if (r.left() > 0) r.cstring(plugin);
  if (!r.ok()) return fail(out, result, 1043, "08S01", "Bad handshake", "malformed COM_CHANGE_USER");
  if ((capabilities_ & kPluginAuth) == 0) {
    return fail(out, result, 1043, "08S01", "lms needs a client with plugin authentication to change user",
                "COM_CHANGE_USER from a client without CLIENT_PLUGIN_AUTH");
  }
  client_user_ = std::string(user);
  params_ = {{"user", client_user_},
             {"capabilities", std::to_string(capabilities_)},
             {"charset", has_charset ? std::to_string(charset & 0xFF) : session_charset},
             {std::string(kScrambleMemo), hex(nonce_)}};
  if (!database.empty()) params_.emplace_back("database", std::string(database));
  if (plugin == plugin_) return check_proof(proof, out, result);
  return ask_again(out);
}

uint32_t FrontHandshake::check_proof(std::string_view proof, const lms_emitter* out,
                                     lms_front_result* result) {
  const std::string denied = "Access denied for user '" + client_user_ +
                             "'@'lms' (using password: " + (proof.empty() ? "NO" : "YES") + ")";
  if (!listed_users_.empty()) return check_listed(proof, denied, result, out);
  if (client_user_ != user_) {
    return fail(out, result, 1045, "28000", denied, "the client's user is not the one lms serves");
  }
  if (!trust_) {
    // A client without a password sends no proof; neither must we expect one.
    const std::string expected = password_proof(plugin_, password_, nonce_);
    // Clients send an empty password as no bytes or as one NUL, depending on the plugin and path.
    if (proof.size() == 1 && proof[0] == '\0') proof = {};
    if (!constant_time_equal(std::string(proof), expected)) {
      return fail(out, result, 1045, "28000", denied, "wrong password");
    }
    if (plugin_ == kCachingSha2 && !expected.empty()) {
      // fast_auth_success: the proof matched what lms holds; the OK follows at finish(). An empty
      // password has no proof to match, and the server answers it with the OK alone, which is
      // what the client's plugin then reads.
      Writer w;
      w.u8(0x01);
      w.u8(0x03);
      emit(out, w.str());
    }
  }
  return done(result);
}

uint32_t FrontHandshake::check_listed(std::string_view proof, const std::string& denied,
                                      lms_front_result* result, const lms_emitter* out) {
  if (proof.size() == 1 && proof[0] == '\0') proof = {};
  for (const auto& [name, stored] : listed_users_) {
    if (name != client_user_) continue;
    const auto stage2 = parse_native_hash(stored);
    const auto stage1 = stage2 ? native_stage1(proof, nonce_, *stage2) : std::nullopt;
    if (!stage1) return fail(out, result, 1045, "28000", denied, "wrong password");
    // SHA1(password) logs in to every server holding the same hash: the core's, never shown.
    credential_storage_ = {{"native_stage1", hex(*stage1)}};
    return done(result);
  }
  return fail(out, result, 1045, "28000", denied, "unknown user");
}

uint32_t FrontHandshake::done(lms_front_result* result) {
  state_ = State::kDone;
  param_views_.clear();
  for (const auto& [k, v] : params_) param_views_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  result->startup_params = param_views_.data();
  result->startup_param_count = param_views_.size();
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

uint32_t FrontHandshake::fail(const lms_emitter* out, lms_front_result* result, uint16_t code,
                              const char* sqlstate, const std::string& message, const char* why) {
  const std::string packet = err_packet(code, sqlstate, message, sequence_++);
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
  state_ = State::kFailed;
  failure_ = why;
  result->error = failure_.c_str();
  return LMS_HS_FAILED;
}

void FrontHandshake::finish(const lms_emitter* out) {
  Writer w;
  w.u8(0x00);
  w.lenenc(0);  // affected rows
  w.lenenc(0);  // last insert id
  w.u16(kStatusAutocommit);
  w.u16(0);  // warnings
  emit(out, w.str());
}

void FrontHandshake::error(const lms_error& error, const lms_emitter* out) {
  const MysqlError mapped = map_error({error.code.data, error.code.len});
  const std::string packet =
      err_packet(mapped.code, mapped.sqlstate, {error.message.data, error.message.len}, sequence_++);
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
}

}  // namespace lms::mysql
