#include "address.h"

#include <cstdlib>

namespace lms::control {

bool normalize_address(const std::string& address, uint16_t default_port, std::string* url,
                       std::string* error) {
  std::string scheme = "http";
  std::string rest = address;
  if (const size_t at = rest.find("://"); at != std::string::npos) {
    scheme = rest.substr(0, at);
    rest = rest.substr(at + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (scheme != "http" && scheme != "https") {
    *error = "address \"" + address + "\": the scheme must be http or https";
    return false;
  }
  if (rest.empty() || rest.find('/') != std::string::npos) {
    *error = "address \"" + address + "\": expected host, host:port or http(s)://host:port";
    return false;
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find(']', colon) != std::string::npos) {
    rest += ':';  // appended in two steps: `":" + std::to_string(...)` trips GCC 12's -Wrestrict at -O3
    rest += std::to_string(default_port);
  } else {
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long n = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || n <= 0 || n > 65535) {
      *error = "address \"" + address + "\": invalid port \"" + port + "\"";
      return false;
    }
  }
  *url = scheme + "://" + rest;
  return true;
}

}  // namespace lms::control
