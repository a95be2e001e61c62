#include "back_handshake.h"

#include <string_view>

#include "auth.h"
#include "errors.h"
#include "front_handshake.h"
#include "wire.h"

namespace lms::mysql {
namespace {

// Capabilities that change what travels on the wire after the login: both sides must agree.
constexpr uint32_t kWireShaping = kDeprecateEof | kMultiResults | kPsMultiResults | kSessionTrack |
                                  kMultiStatements | kFoundRows | kLongFlag | kIgnoreSpace | kNoSchema;

std::string_view view(lms_str s) { return {s.data, s.len}; }

}  // namespace

BackHandshake::BackHandshake(const lms_kv* params, size_t count) {
  client_capabilities_ = offered_capabilities();
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key = view(params[i].key);
    const std::string value(view(params[i].value));
    if (key == "user" && user_.empty()) user_ = value;  // the connection string's comes first
    if (key == "password") password_ = value;
    if (key == "native_stage1") {
      // The client's own mysql_native_password login, passed through (ABI 1.9): hex of SHA1(password).
      stage1_.emplace();
      for (size_t h = 0; h + 1 < value.size(); h += 2) {
        stage1_->push_back(static_cast<char>(std::stoul(value.substr(h, 2), nullptr, 16)));
      }
    }
    if (key == "dbname" || key == "database") database_ = value;
    if (key == "sslmode") sslmode_ = value;
    if (key == "capabilities") client_capabilities_ = static_cast<uint32_t>(std::stoul(value));
    if (key == "charset") charset_ = static_cast<uint8_t>(std::stoul(value));
  }
}

std::string BackHandshake::proof_for_plugin() const {
  if (stage1_) return plugin_ == kNativePassword ? native_proof_from_stage1(*stage1_, nonce_) : std::string();
  return password_proof(plugin_, password_, nonce_);
}

void BackHandshake::emit(const lms_emitter* out, const std::string& payload) {
  std::string packet;
  sequence_ = append_packets(packet, payload, sequence_);
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
}

// prefer asks for TLS when the server offers it; the others insist on it.
bool BackHandshake::wants_tls() const { return sslmode_ != "disable" && sslmode_ != "allow"; }
bool BackHandshake::needs_tls() const { return wants_tls() && sslmode_ != "prefer"; }

uint32_t BackHandshake::step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                             lms_back_result* result) {
  *consumed = 0;
  if (state_ == State::kTls) {
    // The core calls again, with no input, once TLS is up: the response goes inside it.
    secure_ = true;
    emit(out, response_);
    response_.clear();
    state_ = State::kAuth;
    return LMS_HS_NEED_INPUT;
  }
  while (state_ == State::kGreeting || state_ == State::kAuth) {
    const uint8_t* p = data + *consumed;
    const size_t avail = len - *consumed;
    if (avail < kHeaderSize) return LMS_HS_NEED_INPUT;
    const uint32_t payload_len = read_u24(p);
    if (avail < kHeaderSize + payload_len) return LMS_HS_NEED_INPUT;
    *consumed += kHeaderSize + payload_len;
    sequence_ = static_cast<uint8_t>(p[3] + 1);
    const uint8_t* payload = p + kHeaderSize;
    const uint32_t status = state_ == State::kGreeting ? on_greeting(payload, payload_len, out, result)
                                                       : on_auth_reply(payload, payload_len, out, result);
    if (status != LMS_HS_NEED_INPUT) return status;
  }
  return state_ == State::kDone ? LMS_HS_DONE : LMS_HS_FAILED;
}

uint32_t BackHandshake::on_greeting(const uint8_t* payload, size_t len, const lms_emitter* out,
                                    lms_back_result* result) {
  if (len > 0 && payload[0] == 0xFF) return on_auth_reply(payload, len, out, result);  // refused at once
  Reader r(payload, len);
  uint8_t protocol = 0;
  std::string_view version;
  uint32_t thread_id = 0;
  std::string_view nonce1;
  uint32_t caps_low = 0;
  uint8_t charset = 0;
  uint32_t status = 0;
  uint32_t caps_high = 0;
  uint8_t nonce_len = 0;
  if (!r.u8(protocol) || protocol != 10 || !r.cstring(version) || !r.u32(thread_id) || !r.bytes(8, nonce1) ||
      !r.skip(1) || !r.u16(caps_low)) {
    return fail(result, "the database's greeting is not MySQL protocol 10");
  }
  uint32_t server_caps = caps_low;
  if (r.left() > 0) {
    r.u8(charset);
    r.u16(status);
    r.u16(caps_high);
    r.u8(nonce_len);
    r.skip(10);
    server_caps |= caps_high << 16;
  }
  nonce_ = std::string(nonce1);
  if (server_caps & kSecureConnection) {
    const size_t rest = nonce_len > 8 ? nonce_len - 8 : 13;
    std::string_view nonce2;
    if (r.bytes(rest > 13 ? 13 : rest, nonce2)) nonce_ += std::string(nonce2);
    if (!nonce_.empty() && nonce_.back() == '\0') nonce_.pop_back();
  }
  std::string_view plugin = kNativePassword;
  if ((server_caps & kPluginAuth) && r.left() > 0) r.cstring(plugin);
  plugin_ = std::string(plugin);
  if (!r.ok()) return fail(result, "the database's greeting is malformed");
  if ((server_caps & kProtocol41) == 0) return fail(result, "the database does not speak the 4.1 protocol");
  const uint32_t missing = client_capabilities_ & kWireShaping & ~server_caps;
  if (missing != 0) {
    return fail(
        result, "the database lacks capabilities the client agreed to with lms (flags 0x" + [&] {
          char hex[16];
          std::snprintf(hex, sizeof hex, "%x", missing);
          return std::string(hex);
        }() + ")");
  }
  cancel_key_.assign(reinterpret_cast<const char*>(&thread_id), sizeof thread_id);
  const bool tls = wants_tls() && (server_caps & kSsl) != 0;
  if (needs_tls() && !tls) {
    return fail(result,
                "sslmode=" + sslmode_ + " but the database offers no TLS (its greeting lacks CLIENT_SSL)");
  }

  uint32_t caps = (client_capabilities_ & server_caps) | kProtocol41 | kSecureConnection | kLongPassword;
  caps |= server_caps & (kPluginAuth | kPluginAuthLenencData | kTransactions);
  caps &= ~(kConnectAttrs | kSsl | kCompress | kLocalFiles);
  if (tls) caps |= kSsl;
  if (!database_.empty() && (server_caps & kConnectWithDb)) {
    caps |= kConnectWithDb;
  } else {
    caps &= ~kConnectWithDb;
  }
  const std::string proof = proof_for_plugin();
  Writer w;
  w.u32(caps);
  w.u32(kMaxPayload);
  w.u8(charset_);
  w.zeros(23);
  w.cstring(user_);
  if (caps & kPluginAuthLenencData) {
    w.lenenc_string(proof);
  } else {
    w.u8(static_cast<uint8_t>(proof.size()));
    w.bytes(proof);
  }
  if (caps & kConnectWithDb) w.cstring(database_);
  if (caps & kPluginAuth) w.cstring(plugin_);
  if (tls) {
    // The SSLRequest is the response's first 32 bytes; the rest follows inside TLS.
    response_ = w.str();
    emit(out, response_.substr(0, 32));
    state_ = State::kTls;
    return LMS_HS_START_TLS;
  }
  emit(out, w.str());
  state_ = State::kAuth;
  return LMS_HS_NEED_INPUT;
}

uint32_t BackHandshake::on_auth_reply(const uint8_t* payload, size_t len, const lms_emitter* out,
                                      lms_back_result* result) {
  if (len == 0) return fail(result, "the database sent an empty packet during login");
  switch (payload[0]) {
    case 0x00:
      state_ = State::kDone;
      result->cancel_key = reinterpret_cast<const uint8_t*>(cancel_key_.data());
      result->cancel_key_len = cancel_key_.size();
      result->welcome = nullptr;
      result->welcome_len = 0;
      return LMS_HS_DONE;
    case 0xFF: {
      Reader r(payload, len);
      uint32_t code = 0;
      r.skip(1);
      r.u16(code);
      std::string_view state;
      if (r.left() > 6 && r.here()[0] == '#') {
        r.skip(1);
        r.bytes(5, state);
      }
      const std::string_view message = r.rest();
      // The server's own number and state reach the client unchanged (see map_error).
      return fail(result, std::string(message),
                  native_error_code(static_cast<uint16_t>(code), state.empty() ? "HY000" : state));
    }
    case 0xFE: {
      // AuthSwitchRequest: another plugin, another nonce.
      Reader r(payload, len);
      r.skip(1);
      std::string_view plugin;
      if (!r.cstring(plugin)) return fail(result, "the database sent a malformed AuthSwitchRequest");
      std::string nonce(r.rest());
      if (!nonce.empty() && nonce.back() == '\0') nonce.pop_back();
      plugin_ = std::string(plugin);
      nonce_ = nonce;
      if (plugin_ != kNativePassword && plugin_ != kCachingSha2) {
        return fail(result,
                    "the database asks for authentication plugin " + plugin_ + ", which lms does not speak");
      }
      if (stage1_ && plugin_ != kNativePassword) {
        return fail(result,
                    "the database asks user '" + user_ + "' for " + plugin_ +
                        ", but LMS holds only the mysql_native_password login of the client: give the user "
                        "mysql_native_password on this database, or its own password in TARGET_USERS");
      }
      emit(out, proof_for_plugin());
      return LMS_HS_NEED_INPUT;
    }
    case 0x01: {
      // AuthMoreData, from caching_sha2_password.
      if (len == 2 && payload[1] == 0x03) return LMS_HS_NEED_INPUT;  // fast auth: the OK follows
      if (len == 2 && payload[1] == 0x04) {
        // Full authentication: inside TLS the password goes as it is (NUL-terminated), as every
        // MySQL client does; without TLS, RSA-encrypted with the server's key.
        if (secure_) {
          emit(out, password_ + std::string(1, '\0'));
          return LMS_HS_NEED_INPUT;
        }
        asked_for_key_ = true;
        emit(out, std::string(1, '\x02'));
        return LMS_HS_NEED_INPUT;
      }
      if (asked_for_key_) {
        const std::string sealed =
            rsa_encrypted_password(password_, nonce_, {reinterpret_cast<const char*>(payload + 1), len - 1});
        if (sealed.empty()) return fail(result, "the database's RSA public key is unusable");
        emit(out, sealed);
        return LMS_HS_NEED_INPUT;
      }
      return fail(result, "the database sent an unexpected authentication packet");
    }
    default:
      return fail(result, "the database sent an unexpected packet during login");
  }
}

uint32_t BackHandshake::fail(lms_back_result* result, const std::string& message, const std::string& code) {
  state_ = State::kFailed;
  failure_ = message;
  failure_code_ = code;
  result->error = failure_.c_str();
  result->error_code = failure_code_.c_str();
  return LMS_HS_FAILED;
}

}  // namespace lms::mysql
