// MySQL connection strings and statement normalization on arbitrary text: a clear error or a
// result, never a crash. (Whether an error can show a password is checked by the unit tests with
// passwords no message could contain by chance.)
#include <cstddef>
#include <cstdint>
#include <string>

#include "connection_string.h"
#include "normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  size_t params = 0;
  const std::string error =
      lms::mysql::parse_connection_string(text, [&](std::string_view, std::string_view) { ++params; });
  if (error.size() > text.size() + 200) __builtin_trap();  // errors quote at most a piece of the input
  const std::string normalized = lms::mysql::normalize_sql(text);
  if (normalized.size() > text.size()) __builtin_trap();  // literals and spaces only ever shrink
  return 0;
}
