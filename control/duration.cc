#include "duration.h"

#include <cctype>

namespace lms::control {

std::optional<uint64_t> parse_duration_ms(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const size_t start = i;
    uint64_t whole = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
      if (whole > (uint64_t{1} << 40)) return std::nullopt;
      ++i;
    }
    // A fraction of the unit: "1.5s".
    uint64_t fraction = 0;
    uint64_t scale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && scale < 1000000) {
        fraction = fraction * 10 + static_cast<uint64_t>(text[i] - '0');
        scale *= 10;
        ++i;
      }
    }
    if (i == start) return std::nullopt;
    const size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    uint64_t ms_per_unit = 0;
    if (unit.empty()) {
      if (any || i != text.size()) return std::nullopt;  // only a lone bare number means seconds
      ms_per_unit = 1000;
    } else if (unit == "ms") {
      ms_per_unit = 1;
    } else if (unit == "s") {
      ms_per_unit = 1000;
    } else if (unit == "m") {
      ms_per_unit = 60000;
    } else if (unit == "h") {
      ms_per_unit = 3600000;
    } else {
      return std::nullopt;
    }
    total += whole * ms_per_unit + fraction * ms_per_unit / scale;
    any = true;
  }
  return total;
}

}  // namespace lms::control
