// lms-cli's connection to the orchestrator's HTTP API.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace lms::cli {

struct ClientSettings {
  std::string url;
  std::string tls_ca_cert;
  std::string tls_client_cert;
  std::string tls_client_key;
  uint32_t timeout_ms = 60000;
};

// How a call ended: answered (any HTTP status), or the orchestrator could not be reached.
struct Reply {
  bool reached = false;
  int status = 0;
  nlohmann::json body;
  std::string error;  // when not reached, or the body's "error"
  bool ok() const { return reached && status / 100 == 2; }
};

class OrchestratorClient {
 public:
  explicit OrchestratorClient(const ClientSettings& settings);
  ~OrchestratorClient();
  Reply get(const std::string& path);
  Reply post(const std::string& path, const nlohmann::json& body, uint32_t timeout_ms = 0);

 private:
  Reply finish(const void* result);
  ClientSettings settings_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace lms::cli
