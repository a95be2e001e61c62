// The control plane over the network: a Backend that calls one proxy's HTTP control API.
#pragma once

#include <memory>
#include <string>

#include "address.h"
#include "model.h"

namespace lms::control {

struct ClientOptions {
  uint32_t timeout_ms = 5000;
  std::string tls_ca_cert;
  std::string tls_client_cert;
  std::string tls_client_key;
  std::string tls_server_name;  // for an https URL whose host is an IP address: the certificate's name
};

std::unique_ptr<Backend> make_http_backend(const std::string& url, const ClientOptions& options);

}  // namespace lms::control
