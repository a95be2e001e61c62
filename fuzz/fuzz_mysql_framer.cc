// The MySQL framer on arbitrary traffic: each input byte chooses a direction and how many of the
// following bytes arrive in one read. Whatever the bytes, the framer must answer within the data
// it was given, ask for at most 32 bytes, and never crash; its state must stay consistent.
#include <cstddef>
#include <cstdint>

#include "framing.h"
#include "wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  lms::mysql::Framer framer(data[0] & 1 ? lms::mysql::kDeprecateEof | lms::mysql::kProtocol41
                                        : lms::mysql::kProtocol41);
  size_t at = 1;
  while (at + 1 < size) {
    const lms_direction direction = (data[at] & 1) ? LMS_FROM_SERVER : LMS_FROM_CLIENT;
    ++at;
    lms_frame f{};
    f.struct_size = sizeof f;
    framer.next(direction, data + at, size - at, &f);
    if (f.result == LMS_FRAME_NEED_MORE) {
      if (f.length > 32 || f.length <= size - at) __builtin_trap();
      break;
    }
    if (f.result == LMS_FRAME_INVALID) {
      if (f.error == nullptr) __builtin_trap();
      break;
    }
    if (f.length < lms::mysql::kHeaderSize) __builtin_trap();
    at += f.length < size - at ? f.length : size - at;
  }
  return 0;
}
