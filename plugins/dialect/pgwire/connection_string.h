// Connection strings in both libpq forms (postgresql:// URLs and key=value), parsed by libpq itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace lms::pgwire {

// Calls on_param for every parameter the string sets. Returns an empty string on success, else the
// reason (libpq's message, which never contains the password).
std::string parse_connection_string(std::string_view text,
                                    const std::function<void(std::string_view, std::string_view)>& on_param);

}  // namespace lms::pgwire
