// The proxy's HTTP port: /healthz (the process is up), /readyz (the source of truth answers),
// /metrics (Prometheus text), the control API under /v1 (lms/control.h as JSON), and the shadow
// compatibility report (/v1/shadow/report). It runs on
// threads of its own and never touches a worker loop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "config.h"
#include "model.h"
#include "tls_server.h"

namespace httplib {
class Server;
}

namespace lms::core {

struct HttpHandlers {
  std::function<std::string()> metrics;
  // True when ready; *reason says why not.
  std::function<bool(std::string* reason)> ready;
  control::Backend* control = nullptr;  // outlives the server
  // The compatibility report as JSON (/v1/shadow/report).
  std::function<std::string()> shadow_report;
};

// TLS on the HTTP port and who may call its control routes.
struct HttpSecurity {
  control::TlsServerFiles files;
  control::ControlAccess access;
};

class HttpServer {
 public:
  HttpServer(HttpHandlers handlers, const HttpSecurity& security);
  ~HttpServer();
  bool bind(const HostPort& address, std::string* error);
  void start();
  void stop();

 private:
  void add_control_routes();
  HttpHandlers handlers_;
  control::ControlAccess access_;
  std::string setup_error_;  // why server_ could not be made
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace lms::core
