// Proxy and orchestrator addresses as operators write them.
#pragma once

#include <cstdint>
#include <string>

namespace lms::control {

// "host", "host:port", "http://host:port" or "https://host:port" → "http(s)://host:port", with
// `default_port` when none is named. False with *error when the address is unusable.
bool normalize_address(const std::string& address, uint16_t default_port, std::string* url,
                       std::string* error);

}  // namespace lms::control
