// ErrorResponse and NoticeResponse bodies: building them for clients, reading them from servers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lms::pgwire {

struct ServerError {
  std::string severity;  // non-localized ('V') when present, else 'S'
  std::string code;      // SQLSTATE
  std::string message;
};

// A complete ErrorResponse message ('E').
std::vector<uint8_t> error_response(std::string_view severity, std::string_view code,
                                    std::string_view message);

// Reads the fields of an ErrorResponse or NoticeResponse body (after type and length).
ServerError parse_error_fields(const uint8_t* body, size_t len);

}  // namespace lms::pgwire
