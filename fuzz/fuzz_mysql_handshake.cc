// Both MySQL handshakes on arbitrary bytes: the first input byte picks the side, the rest is what
// the peer sends. A hostile client or server gets a failure, never a crash or an endless wait.
#include <cstddef>
#include <cstdint>
#include <string>

#include "back_handshake.h"
#include "front_handshake.h"

namespace {

template <typename Step>
void drive(const uint8_t* data, size_t size, Step&& step) {
  size_t at = 0;
  while (at < size) {
    size_t consumed = 0;
    const uint32_t status = step(data + at, size - at, &consumed);
    if (consumed > size - at) __builtin_trap();
    at += consumed;
    if (status != LMS_HS_NEED_INPUT || consumed == 0) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string user = "app", password = "pw", method = data[0] & 2 ? "md5" : "scram-sha-256";
  const lms_kv settings[] = {{{"user", 4}, {user.data(), user.size()}},
                             {{"password", 8}, {password.data(), password.size()}},
                             {{"auth_method", 11}, {method.data(), method.size()}}};
  lms_emitter sink{sizeof(lms_emitter), nullptr, [](void*, const uint8_t*, size_t) {}};
  if (data[0] & 1) {
    lms::mysql::BackHandshake back(settings, 2);
    drive(data + 1, size - 1, [&](const uint8_t* d, size_t n, size_t* consumed) {
      lms_back_result result{};
      return back.step(d, n, consumed, &sink, &result);
    });
  } else {
    lms::mysql::FrontHandshake front(settings, 3);
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
