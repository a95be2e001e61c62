// The control plane over the network: a Backend that calls one proxy's HTTP control API.
#pragma once

#include <memory>
#include <string>

#include "model.h"

namespace lms::control {

struct ClientOptions {
  uint32_t timeout_ms = 5000;
  std::string tls_ca_cert;
  std::string tls_client_cert;
  std::string tls_client_key;
};

// "host", "host:port", "http://host:port" or "https://host:port" → "http(s)://host:port", with
// `default_port` when none is named. False with *error when the address is unusable.
bool normalize_address(const std::string& address, uint16_t default_port, std::string* url, std::string* error);

std::unique_ptr<Backend> make_http_backend(const std::string& url, const ClientOptions& options);

}  // namespace lms::control
