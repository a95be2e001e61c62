// Durations as operators type them: "30s", "500ms", "2m", "1h", "1m30s"; a bare number is seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lms::control {

// Milliseconds, or nullopt when `text` is not a duration.
std::optional<uint64_t> parse_duration_ms(const std::string& text);

}  // namespace lms::control
