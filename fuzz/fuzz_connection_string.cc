// Connection strings in both libpq forms, including the documented "?a=b?c=d" rewrite.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connection_string.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t seen = 0;
  lms::pgwire::parse_connection_string(
      std::string_view(reinterpret_cast<const char*>(data), size),
      [&](std::string_view k, std::string_view v) { seen += k.size() + v.size(); });
  return 0;
}
