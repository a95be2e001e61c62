// Both MySQL handshakes on arbitrary bytes: the first input byte picks the side, the rest is what
// the peer sends, and whether TLS is offered (as if it came up at once when asked for). A hostile
// client or server gets a failure, never a crash or an endless wait.
#include <cstddef>
#include <cstdint>
#include <string>

#include "back_handshake.h"
#include "front_handshake.h"

namespace {

template <typename Step>
void drive(const uint8_t* data, size_t size, Step&& step) {
  size_t at = 0;
  bool tls_started = false;
  bool just_started = false;  // the first step inside TLS may take nothing (the back sends first)
  while (at < size) {
    size_t consumed = 0;
    const uint32_t status = step(data + at, size - at, &consumed);
    if (consumed > size - at) __builtin_trap();
    at += consumed;
    if (status == LMS_HS_START_TLS) {
      if (tls_started) __builtin_trap();  // TLS starts once per connection
      tls_started = just_started = true;
      continue;
    }
    if (status != LMS_HS_NEED_INPUT || (consumed == 0 && !just_started)) break;
    just_started = false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string user = "app", password = "pw", method = data[0] & 2 ? "md5" : "scram-sha-256";
  const std::string tls = data[0] & 4 ? "require" : "on";           // the front's setting
  const std::string sslmode = data[0] & 4 ? "prefer" : "verify-full";  // the back's
  const lms_kv settings[] = {{{"user", 4}, {user.data(), user.size()}},
                             {{"password", 8}, {password.data(), password.size()}},
                             {{"auth_method", 11}, {method.data(), method.size()}},
                             {{"tls", 3}, {tls.data(), tls.size()}}};
  const lms_kv params[] = {{{"user", 4}, {user.data(), user.size()}},
                           {{"password", 8}, {password.data(), password.size()}},
                           {{"sslmode", 7}, {sslmode.data(), sslmode.size()}}};
  lms_emitter sink{sizeof(lms_emitter), nullptr, [](void*, const uint8_t*, size_t) {}};
  if (data[0] & 1) {
    lms::mysql::BackHandshake back(params, 3);
    drive(data + 1, size - 1, [&](const uint8_t* d, size_t n, size_t* consumed) {
      lms_back_result result{};
      return back.step(d, n, consumed, &sink, &result);
    });
  } else {
    lms::mysql::FrontHandshake front(settings, 4);
    size_t consumed = 0;
    lms_front_result result{};
    front.step(nullptr, 0, &consumed, &sink, &result);
    drive(data + 1, size - 1, [&](const uint8_t* d, size_t n, size_t* c) {
      lms_front_result r{};
      return front.step(d, n, c, &sink, &r);
    });
  }
  return 0;
}
