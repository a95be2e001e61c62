// The PostgreSQL framer, through the core's FrameScanner, in both directions: the first byte picks
// where the input is split into two reads, so split headers are explored too. Whatever the bytes,
// the scanner must either walk them or report them broken, without reading out of bounds.
#include <cstddef>
#include <cstdint>

#include "dialect.h"
#include "frame_scanner.h"

namespace {
const lms_dialect_functions kDialect = lms::pgwire::make_dialect_functions(5432, lms::pgwire::Flavor::kPostgres);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t split = size > 1 ? data[0] % size : 0;
  for (lms_direction d : {LMS_FROM_CLIENT, LMS_FROM_SERVER}) {
    lms::core::FrameScanner scanner(&kDialect, d);
    uint64_t seen = 0;
    auto count = [&](const lms_frame& f) { seen += f.length; };
    if (scanner.scan(data + 1, split, count)) scanner.scan(data + 1 + split, size - 1 - split, count);
  }
  return 0;
}
