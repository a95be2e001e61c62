// The message inspector (what a cutover carries and `connections list` shows), on whole messages
// from either direction: the first byte picks the direction. Whatever the bytes, it must answer
// without reading out of bounds, and a name or text it returns must lie inside the message (but the
// kind of state held or released, which names no part of it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto direction = (data[0] & 1) != 0 ? LMS_FROM_SERVER : LMS_FROM_CLIENT;
  const uint8_t* message = data + 1;
  const size_t len = size - 1;
  lms_message_detail d{};
  d.struct_size = sizeof d;
  lms::pgwire::inspect_message(direction, message, len, &d);
  const auto inside = [&](lms_str s) {
    if (s.len == 0) return;
    const auto* p = reinterpret_cast<const uint8_t*>(s.data);
    if (p < message || p + s.len > message + len) std::abort();
  };
  if (d.effect == LMS_EFFECT_HOLDS || d.effect == LMS_EFFECT_RELEASES) {
    if (d.name.len == 0 || d.name.len > 64) std::abort();
  } else {
    inside(d.name);
  }
  inside(d.text);
  return 0;
}
