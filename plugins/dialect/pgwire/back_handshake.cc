#include "back_handshake.h"

#include "errors.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

// Connection-string keys that describe how to reach the server, not what the session is: they
// never go into the startup packet.
bool is_transport_key(std::string_view key) {
  return key == "host" || key == "hostaddr" || key == "port" || key == "password" || key == "sslmode" ||
         key == "sslrootcert" || key == "sslcert" || key == "sslkey" || key == "connect_timeout" ||
         key == "passfile" || key == "sslpassword" || key == "target_session_attrs" || key == "gssencmode" ||
         key == "channel_binding";
}

void send(const lms_emitter* out, const std::vector<uint8_t>& bytes) {
  out->emit(out->ctx, bytes.data(), bytes.size());
}

}  // namespace

BackHandshake::BackHandshake(const lms_kv* params, size_t count) {
  bool user_fixed = false;
  for (size_t i = 0; i < count; ++i) {
    std::string key(params[i].key.data, params[i].key.len);
    std::string value(params[i].value.data, params[i].value.len);
    if (key == "dbname") key = "database";
    // The connection string's credentials come first and win: a client never chooses which
    // database account the proxy uses.
    if (key == "user") {
      if (!user_fixed) user_ = value;
      user_fixed = true;
      continue;
    }
    if (key == "password") {
      if (password_.empty()) password_ = value;
      continue;
    }
    if (key == "md5_hash") {
      md5_hash_ = value;  // the client's own MD5 login, passed through (ABI 1.9)
      continue;
    }
    if (key == "scram_client_key" || key == "scram_server_key") {
      const auto raw = base64_decode(value);
      if (raw && raw->size() == Sha256{}.size()) {
        Sha256 k{};
        std::copy(raw->begin(), raw->end(), k.begin());
        (key == "scram_client_key" ? scram_client_key_ : scram_server_key_) = k;
      }
      continue;
    }
    if (key == "sslmode") sslmode_ = value;
    if (is_transport_key(key)) continue;
    bool replaced = false;
    for (auto& [k, v] : startup_params_) {
      if (k == key) {
        v = value;
        replaced = true;
      }
    }
    if (!replaced) startup_params_.emplace_back(std::move(key), std::move(value));
  }
}

void BackHandshake::start(const lms_emitter* out) {
  const std::string mode = sslmode_.empty() ? "prefer" : sslmode_;  // libpq's default
  tls_wanted_ = mode == "prefer" || mode == "require" || mode == "verify-ca" || mode == "verify-full";
  tls_required_ = tls_wanted_ && mode != "prefer";
  if (tls_wanted_) {
    uint8_t request[8];
    write_u32(request, 8);
    write_u32(request + 4, kSslRequestCode);
    out->emit(out->ctx, request, sizeof request);
    tls_ = Tls::kAsked;
    return;
  }
  send_startup(out);
}

void BackHandshake::send_startup(const lms_emitter* out) {
  MessageBuilder m;
  m.begin_untyped().u32(kProtocolV3).cstr("user").cstr(user_);
  for (const auto& [k, v] : startup_params_) m.cstr(k).cstr(v);
  m.u8(0).end();
  send(out, m.bytes());
}

uint32_t BackHandshake::step(const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                             lms_back_result* result) {
  *consumed = 0;
  if (tls_ == Tls::kAsked) {
    if (len == 0) return LMS_HS_NEED_INPUT;
    *consumed = 1;
    if (data[0] == 'S') {
      tls_ = Tls::kStarting;
      return LMS_HS_START_TLS;
    }
    tls_ = Tls::kNone;
    if (data[0] != 'N') return fail(result, "the server answered the SSL request with neither S nor N");
    if (tls_required_) {
      return fail(result, "the server does not support TLS, but sslmode=" + sslmode_ + " requires it", "08004");
    }
    send_startup(out);  // prefer: plain text, as libpq does
    return LMS_HS_NEED_INPUT;
  }
  if (tls_ == Tls::kStarting) {
    // TLS is up: the startup packet goes through it.
    tls_ = Tls::kNone;
    send_startup(out);
    if (len == 0) return LMS_HS_NEED_INPUT;
  }
  while (true) {
    if (failed_) return LMS_HS_FAILED;
    const size_t avail = len - *consumed;
    const uint8_t* p = data + *consumed;
    if (avail < 5) return LMS_HS_NEED_INPUT;
    const uint32_t length = read_u32(p + 1);
    // Nothing a server sends before ReadyForQuery is large; a huge length means we are not
    // talking to a PostgreSQL server at all.
    if (length < 4 || length > 1u << 20) {
      return fail(result, "the server sent an invalid message during authentication");
    }
    if (avail < length + 1) return LMS_HS_NEED_INPUT;
    *consumed += length + 1;
    const uint32_t status = on_message(static_cast<char>(p[0]), p + 5, length - 4, out, result);
    if (status != LMS_HS_NEED_INPUT) return status;
  }
}

uint32_t BackHandshake::on_message(char type, const uint8_t* body, size_t len, const lms_emitter* out,
                                   lms_back_result* result) {
  switch (type) {
    case 'R':
      return on_auth_request(body, len, out, result);
    case 'E': {
      const ServerError e = parse_error_fields(body, len);
      return fail(result, e.message, e.code);
    }
    case 'S':
    case 'N': {
      // Relayed to the client verbatim once it is in.
      MessageBuilder m;
      m.begin(type).raw(body, len).end();
      const auto& bytes = m.bytes();
      welcome_.insert(welcome_.end(), bytes.begin(), bytes.end());
      return LMS_HS_NEED_INPUT;
    }
    case 'K':
      if (len != kCancelKeyLength) return fail(result, "the server sent a malformed BackendKeyData");
      std::copy(body, body + len, cancel_key_);
      have_cancel_key_ = true;
      return LMS_HS_NEED_INPUT;
    case 'v':  // NegotiateProtocolVersion: the server lacks a minor version we never asked for
      return LMS_HS_NEED_INPUT;
    case 'Z':
      result->cancel_key = have_cancel_key_ ? cancel_key_ : nullptr;
      result->cancel_key_len = have_cancel_key_ ? kCancelKeyLength : 0;
      result->welcome = welcome_.data();
      result->welcome_len = welcome_.size();
      return LMS_HS_DONE;
    default:
      return fail(result,
                  std::string("the server sent an unexpected message '") + type + "' during authentication");
  }
}

uint32_t BackHandshake::on_auth_request(const uint8_t* body, size_t len, const lms_emitter* out,
                                        lms_back_result* result) {
  BodyReader r(body, len);
  uint32_t code = 0;
  if (!r.u32(code)) return fail(result, "the server sent a malformed authentication request");
  MessageBuilder m;
  std::string error;
  switch (code) {
    case kAuthOk:
      return LMS_HS_NEED_INPUT;
    case kAuthCleartext:
    case kAuthMd5: {
      if (password_.empty() && !md5_hash_.empty() && code == kAuthMd5) {
        std::string_view salt;
        if (!r.bytes(4, salt)) return fail(result, "the server sent a malformed md5 request");
        send(out, m.begin('p').cstr("md5" + md5_hex(md5_hash_ + std::string(salt))).end().take());
        return LMS_HS_NEED_INPUT;
      }
      if (password_.empty() && (scram_client_key_ || !md5_hash_.empty())) {
        // Only what the client's login yielded travels: a database that asks for the password in
        // clear, or for md5 where the login gave SCRAM keys, cannot be logged in to as the user.
        return fail(result,
                    "the database asks user \"" + user_ +
                        "\" for its password in clear (password in pg_hba.conf), or for md5 where LMS holds "
                        "only the SCRAM keys of the client's login: use scram-sha-256 on the database",
                    "28P01");
      }
      if (password_.empty()) {
        return fail(result, "the database asked for a password but the connection string has none");
      }
      std::string secret = password_;
      if (code == kAuthMd5) {
        std::string_view salt;
        if (!r.bytes(4, salt)) return fail(result, "the server sent a malformed md5 request");
        secret = "md5" + md5_hex(md5_hex(password_ + user_) + std::string(salt));
      }
      send(out, m.begin('p').cstr(secret).end().take());
      return LMS_HS_NEED_INPUT;
    }
    case kAuthSasl: {
      bool offered = false;
      std::string_view mechanism;
      while (r.cstr(mechanism) && !mechanism.empty()) offered |= mechanism == kScramMechanism;
      if (!offered) return fail(result, "the database offers no SASL mechanism LMS supports");
      if (scram_client_key_ && scram_server_key_) {
        scram_ =
            std::make_unique<ScramClient>(ScramClient::with_keys(*scram_client_key_, *scram_server_key_));
      } else if (password_.empty() && !md5_hash_.empty()) {
        return fail(result,
                    "the database asks user \"" + user_ +
                        "\" for SCRAM, but LMS holds only the MD5 hash of the client's login: keep md5 for "
                        "the user there, or move it to scram-sha-256 everywhere",
                    "28P01");
      } else if (password_.empty()) {
        return fail(result, "the database asked for a password but the connection string has none");
      } else {
        scram_ = std::make_unique<ScramClient>(password_);
      }
      const std::string first = scram_->client_first();
      m.begin('p').cstr(kScramMechanism).u32(static_cast<uint32_t>(first.size())).raw(first).end();
      send(out, m.bytes());
      return LMS_HS_NEED_INPUT;
    }
    case kAuthSaslContinue: {
      if (!scram_) return fail(result, "the server continued a SASL exchange that never began");
      const auto final_message = scram_->on_server_first(r.rest(), &error);
      if (!final_message) return fail(result, error);
      send(out, m.begin('p').raw(*final_message).end().take());
      return LMS_HS_NEED_INPUT;
    }
    case kAuthSaslFinal:
      if (!scram_ || !scram_->on_server_final(r.rest(), &error)) return fail(result, error);
      return LMS_HS_NEED_INPUT;
    default:
      return fail(result, "the database asked for an authentication method LMS does not support (" +
                              std::to_string(code) + ")");
  }
}

uint32_t BackHandshake::fail(lms_back_result* result, std::string message, std::string code) {
  failed_ = true;
  error_ = std::move(message);
  error_code_ = std::move(code);
  result->error = error_.c_str();
  result->error_code = error_code_.c_str();
  return LMS_HS_FAILED;
}

}  // namespace lms::pgwire
