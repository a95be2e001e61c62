// The whole proxy process: loads the plugins the configuration names, parses the connection
// strings with the source dialect, binds every listener, then runs the workers and the HTTP port.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "control_service.h"
#include "cutover.h"
#include "endpoint.h"
#include "http_server.h"
#include "login_refresher.h"
#include "loop/worker.h"
#include "plugin_loader.h"

namespace lms::core {

class Proxy {
 public:
  explicit Proxy(Config config);
  ~Proxy();
  // Everything that can fail at start fails here, with one line in *error.
  bool start(std::string* error);
  void stop();
  // SIGTERM: new clients are refused and /readyz fails; idle sessions end at once and busy ones
  // when they go idle, or when shutdown-grace expires. Returns once every session has ended (or
  // `hurry` returns true: a second signal), before stop().
  void drain(const std::function<bool(uint32_t wait_ms)>& hurry);

 private:
  bool load_plugins(std::string* error);
  bool probe_source(std::string* reason);
  std::string render_metrics();
  bool setup_validation(std::string* error);
  bool setup_logins(std::string* error);
  // TLS toward each database and with clients.
  bool setup_tls(std::string* error);
  // The compatibility report, merged from every worker's share.
  std::string render_shadow_report();
  std::vector<Worker*> worker_list() const;

  Config config_;
  std::optional<LoadedPlugin> source_dialect_;
  std::optional<LoadedPlugin> target_dialect_;
  std::optional<LoadedPlugin> shadow_;
  void* shadow_state_ = nullptr;
  std::unique_ptr<ClientTls> client_tls_;
  // The front handshake's settings but the users (auth method, the source's user and password,
  // TLS), which every published FrontSettings starts from.
  std::vector<std::pair<std::string, std::string>> front_base_;
  std::unique_ptr<LoginRefresher> logins_;  // auth-query
  Endpoint source_;
  std::optional<Endpoint> target_;
  ProxyShared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<CutoverController> cutover_;
  std::unique_ptr<ControlService> control_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> source_ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace lms::core
