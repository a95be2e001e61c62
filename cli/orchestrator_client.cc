#include "orchestrator_client.h"

#include <httplib.h>

namespace lms::cli {
namespace {

void set_timeouts(httplib::Client& client, uint32_t ms) {
  const auto s = static_cast<time_t>(ms / 1000);
  const auto us = static_cast<time_t>((ms % 1000) * 1000);
  client.set_connection_timeout(s, us);
  client.set_read_timeout(s, us);
  client.set_write_timeout(s, us);
}

}  // namespace

OrchestratorClient::OrchestratorClient(const ClientSettings& settings) : settings_(settings) {
  if (!settings.tls_client_cert.empty() || !settings.tls_client_key.empty()) {
    client_ =
        std::make_unique<httplib::Client>(settings.url, settings.tls_client_cert, settings.tls_client_key);
  } else {
    client_ = std::make_unique<httplib::Client>(settings.url);
  }
  if (!settings.tls_ca_cert.empty()) client_->set_ca_cert_path(settings.tls_ca_cert.c_str());
  set_timeouts(*client_, settings.timeout_ms);
}

OrchestratorClient::~OrchestratorClient() = default;

Reply OrchestratorClient::get(const std::string& path) {
  const httplib::Result result = client_->Get(path);
  return finish(&result);
}

Reply OrchestratorClient::post(const std::string& path, const nlohmann::json& body, uint32_t timeout_ms) {
  if (timeout_ms != 0) set_timeouts(*client_, timeout_ms);
  const httplib::Result result = client_->Post(path, body.dump(), "application/json");
  if (timeout_ms != 0) set_timeouts(*client_, settings_.timeout_ms);
  return finish(&result);
}

Reply OrchestratorClient::finish(const void* opaque) {
  const auto& result = *static_cast<const httplib::Result*>(opaque);
  Reply reply;
  if (!result) {
    reply.error =
        "cannot reach the orchestrator at " + settings_.url + ": " + httplib::to_string(result.error());
    return reply;
  }
  reply.reached = true;
  reply.status = result->status;
  try {
    reply.body = nlohmann::json::parse(result->body);
  } catch (const std::exception&) {
    reply.error =
        "the orchestrator answered " + std::to_string(result->status) + " with something that is not JSON";
    reply.status = 502;
    return reply;
  }
  if (!reply.ok()) reply.error = reply.body.value("error", "HTTP " + std::to_string(reply.status));
  return reply;
}

}  // namespace lms::cli
