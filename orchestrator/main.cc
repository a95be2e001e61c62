// lms-orchestrator: finds the proxies, fans cutover steps out to them, and keeps the cutover history.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api.h"
#include "console.h"
#include "coordinator.h"
#include "duration.h"
#include "http_json.h"
#include "metrics_sampler.h"
#include "state_store.h"
#include "tls_server.h"

namespace {

bool split_host_port(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  *host = text.substr(0, colon);
  try {
    *port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  return !host->empty() && *port > 0 && *port < 65536;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lms::orchestrator;
  CLI::App app{"lms-orchestrator: coordinates a consistent cutover across every LMS proxy"};
  std::string listen = "0.0.0.0:4200";
  std::string metrics_listen = "0.0.0.0:4201";
  std::string addresses;
  std::string state_dir = ".";
  std::string replication_timeout = "30s";
  std::string max_pause = "30s";
  std::string max_replication_lag = "0";
  std::string proxy_timeout = "5s";
  std::string log_level = "info";
  CoordinatorConfig config;
  bool version = false;
  app.add_option("--listen", listen, "host:port of the API lms-cli calls")->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen, "host:port of /metrics")->capture_default_str();
  app.add_option(
      "--lms-addresses", addresses,
      "the proxies' HTTP control addresses, comma-separated: host, host:port or http(s)://host:port "
      "(port 9044 when none is given)");
  app.add_option("--lms-dns", config.lms_dns,
                 "a DNS name resolving to every proxy (a Kubernetes headless service), used when no "
                 "--lms-addresses are given; https://NAME reaches them over HTTPS, checking that their "
                 "certificates carry NAME")
      ->envname("ORCH_LMS_DNS");
  std::string dns_interval = "5s";
  app.add_option("--lms-dns-interval", dns_interval, "how often --lms-dns is resolved again to follow the pods")
      ->capture_default_str();
  app.add_option("--lms-port", config.lms_port, "the proxies' HTTP control port for --lms-dns and bare hosts")
      ->capture_default_str();
  app.add_option("--state-dir", state_dir, "where the cutover history is written (unless CRDB_URL is set)")
      ->capture_default_str();
  std::string config_file;
  app.add_option("--config-file", config_file,
                 "the deployment's config.json; its CRDB_URL (or the CRDB_URL environment variable) puts the "
                 "cutover history in a table of that database instead of --state-dir")
      ->envname("ORCH_READ_CONFIG_FILE");
  app.add_option("--replication-timeout", replication_timeout,
                 "how long commit waits for the replication marker to reach the other database")
      ->capture_default_str();
  app.add_option(
         "--max-pause", max_pause,
         "the longest a cutover may keep traffic paused from begin without a commit: then it is "
         "aborted and traffic resumes on the source of truth (0: no bound; begin --max-pause overrides)")
      ->capture_default_str();
  app.add_option("--max-replication-lag", max_replication_lag,
                 "refuse a commit whose replication marker took longer than this to reach the other database "
                 "(0: any lag within --replication-timeout)")
      ->capture_default_str();
  app.add_flag("--fence-source", config.fence_source,
               "after every commit, make the old source refuse writes from sessions that are not LMS's "
               "(commit --fence-source does it for one)");
  app.add_flag("--skip-replication-check", config.skip_replication_check,
               "commit without checking that replication caught up (the operator checked)");
  app.add_option("--proxy-timeout", proxy_timeout, "how long one call to a proxy may take")
      ->capture_default_str();
  lms::control::TlsServerFiles api_tls;
  bool insecure = false;
  app.add_option("--tls-cert", api_tls.cert,
                 "certificate (PEM, with its chain) the API serves HTTPS with, and presents to the proxies")
      ->envname("ORCH_TLS_CERT");
  app.add_option("--tls-key", api_tls.key, "key of --tls-cert")->envname("ORCH_TLS_KEY");
  app.add_option("--tls-ca-cert", config.tls.ca_cert,
                 "CA certificate: lms-cli callers must present a client certificate it signed, and the "
                 "proxies' HTTPS certificates are verified with it")
      ->envname("ORCH_CA_TLS_CERT");
  app.add_flag("--allow-insecure-control", insecure,
               "serve the API over plain HTTP to callers on other machines (without TLS, only this machine "
               "may call it otherwise)");
  app.add_option("--source-dialect", config.source_dialect,
                 "postgres, mysql or cockroach: a cutover begins only if every proxy has this source dialect")
      ->check(CLI::IsMember({"postgres", "mysql", "cockroach"}))
      ->envname("ORCH_SOURCE_DIALECT");
  std::string allow_origin;
  app.add_option("--allow-origin", allow_origin,
                 "an origin (https://ops.example.com, or *) whose browser pages may call the API (CORS)")
      ->envname("ORCH_ALLOW_ORIGIN");
  std::string console_dir;
  app.add_option("--console-dir", console_dir,
                 "the console's files (default: found beside the binary, PREFIX/share/lms/console)");
  std::string sample_interval = "5s";
  app.add_option("--metrics-sample-interval", sample_interval,
                 "how often the proxies' metrics are read for the console's charts (15 minutes are kept)")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::printf("lms-orchestrator %s\n", LMS_VERSION);
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  config.lms_addresses = split_list(addresses);
  if (api_tls.enabled()) {
    api_tls.client_ca = config.tls.ca_cert;
    config.tls.client_cert = api_tls.cert;  // the orchestrator is the proxies' control client
    config.tls.client_key = api_tls.key;
  }
  const auto replication_ms = lms::control::parse_duration_ms(replication_timeout);
  const auto proxy_ms = lms::control::parse_duration_ms(proxy_timeout);
  const auto max_pause_ms = lms::control::parse_duration_ms(max_pause);
  const auto max_lag_ms = lms::control::parse_duration_ms(max_replication_lag);
  if (!replication_ms || !proxy_ms || *proxy_ms == 0 || !max_pause_ms || *max_pause_ms > UINT32_MAX ||
      !max_lag_ms || *max_lag_ms > UINT32_MAX) {
    spdlog::error(
        "--replication-timeout, --proxy-timeout, --max-pause and --max-replication-lag take durations such "
        "as 30s "
        "or 500ms");
    return 2;
  }
  config.max_pause_ms = static_cast<uint32_t>(*max_pause_ms);
  config.max_replication_lag_ms = static_cast<uint32_t>(*max_lag_ms);
  const auto dns_interval_ms = lms::control::parse_duration_ms(dns_interval);
  if (!dns_interval_ms || *dns_interval_ms == 0) {
    spdlog::error("--lms-dns-interval takes a duration such as 5s or 500ms");
    return 2;
  }
  config.lms_dns_interval_ms = static_cast<uint32_t>(*dns_interval_ms);
  const auto sample_ms = lms::control::parse_duration_ms(sample_interval);
  if (!sample_ms || *sample_ms < 100 || *sample_ms > 600'000) {
    spdlog::error("--metrics-sample-interval takes a duration from 100ms to 10m, such as 5s");
    return 2;
  }
  const std::string console_files = find_console_dir(console_dir);
  if (!console_dir.empty() && console_files.empty()) {
    spdlog::error("--console-dir {}: no index.html there", console_dir);
    return 2;
  }
  config.replication_timeout_ms = static_cast<uint32_t>(*replication_ms);
  config.proxy_timeout_ms = static_cast<uint32_t>(*proxy_ms);
  std::string api_host;
  std::string metrics_host;
  int api_port = 0;
  int metrics_port = 0;
  if (!split_host_port(listen, &api_host, &api_port) ||
      !split_host_port(metrics_listen, &metrics_host, &metrics_port)) {
    spdlog::error("--listen and --metrics-listen take host:port");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec && std::getenv("CRDB_URL") == nullptr && config_file.empty()) {
    spdlog::error("cannot create --state-dir {}: {}", state_dir, ec.message());
    return 2;
  }

  // Signals are taken by one thread with sigwait, so none interrupts the servers' threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string crdb_url = std::getenv("CRDB_URL") != nullptr ? std::getenv("CRDB_URL") : "";
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    try {
      const auto secrets = nlohmann::json::parse(in);
      if (secrets.contains("CRDB_URL")) crdb_url = secrets.at("CRDB_URL").get<std::string>();
    } catch (const std::exception& e) {
      spdlog::error("--config-file {}: not a config.json this orchestrator can read: {}", config_file,
                    e.what());
      return 2;
    }
  }
  std::unique_ptr<StateStore> store;
  if (crdb_url.empty()) {
    store = std::make_unique<FileStateStore>(state_dir);
  } else {
    store = std::make_unique<DatabaseStateStore>(crdb_url);
  }
  Coordinator coordinator(config, *store);
  std::string error;
  if (!coordinator.start(&error)) {
    spdlog::error("{}", error);
    return 1;
  }
  if (api_tls.cert.empty() != api_tls.key.empty()) {
    spdlog::error("--tls-cert and --tls-key (ORCH_TLS_CERT, ORCH_TLS_KEY) go together");
    return 2;
  }
  std::string tls_error;
  std::unique_ptr<httplib::Server> api_server = lms::control::make_http_server(api_tls, &tls_error);
  if (!api_server) {
    spdlog::error("cannot serve HTTPS: {}", tls_error);
    return 2;
  }
  httplib::Server& api = *api_server;
  api.new_task_queue = [] { return new httplib::ThreadPool(4); };
  lms::control::ControlAccess access{api_tls.enabled(), !api_tls.client_ca.empty(), insecure};
  if (!allow_origin.empty()) {
    api.set_default_headers({{"Access-Control-Allow-Origin", allow_origin},
                             {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                             {"Access-Control-Allow-Headers", "Content-Type"},
                             {"Vary", "Origin"}});
  }
  api.set_pre_routing_handler([access, allow_origin](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/healthz") return httplib::Server::HandlerResponse::Unhandled;
    if (req.method == "OPTIONS" && !allow_origin.empty()) {
      // A browser's preflight: it carries no credentials and gets no data.
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string why = access.refuse(req);
    if (why.empty()) return httplib::Server::HandlerResponse::Unhandled;
    lms::control::reply_error(res, 403, why);
    return httplib::Server::HandlerResponse::Handled;
  });
  const auto sample_interval_ms = static_cast<uint32_t>(*sample_ms);
  MetricsHistory history(15 * 60 * 1000 / sample_interval_ms + 1);
  add_api_routes(api, coordinator, history, sample_interval_ms);
  if (console_files.empty()) {
    spdlog::warn("the console's files are not installed beside lms-orchestrator: / serves nothing");
  } else if (!mount_console(api, console_files)) {
    spdlog::error("cannot serve the console from {}", console_files);
    return 1;
  }
  MetricsSampler sampler(coordinator, history, sample_interval_ms);
  sampler.start();
  httplib::Server metrics;
  metrics.new_task_queue = [] { return new httplib::ThreadPool(1); };
  metrics.Get("/metrics", [&coordinator](const httplib::Request&, httplib::Response& res) {
    res.set_content(coordinator.render_metrics(), "text/plain; version=0.0.4");
  });
  if (!api.bind_to_port(api_host, api_port)) {
    spdlog::error("cannot listen on {}", listen);
    return 1;
  }
  if (!metrics.bind_to_port(metrics_host, metrics_port)) {
    spdlog::error("cannot listen for metrics on {}", metrics_listen);
    return 1;
  }
  std::thread api_thread([&] { api.listen_after_bind(); });
  std::thread metrics_thread([&] { metrics.listen_after_bind(); });
  spdlog::info("lms-orchestrator {} listening on {} ({}; metrics on {}; console {}), history in {}, proxies: {}",
               LMS_VERSION, listen,
               !api_tls.enabled() ? "plain HTTP" : api_tls.client_ca.empty() ? "HTTPS" : "HTTPS, client certificates required",
               metrics_listen, console_files.empty() ? "not installed" : "at /", store->describe(),
               !addresses.empty()
                   ? addresses
                   : (!config.lms_dns.empty() ? "DNS " + config.lms_dns : "given per request"));
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  // Wait until both servers run, so stop() cannot come before listen and be lost.
  while (!api.is_running() || !metrics.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  api.stop();
  metrics.stop();
  api_thread.join();
  metrics_thread.join();
  sampler.stop();
  coordinator.stop();
  return 0;
}
