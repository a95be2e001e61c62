#include "http_server.h"

#include <httplib.h>

#include <chrono>

namespace lms::core {

HttpServer::HttpServer(HttpHandlers handlers)
    : handlers_(std::move(handlers)), server_(std::make_unique<httplib::Server>()) {
  // Probes and scrapes need few threads; the default pool is sized for web traffic.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    std::string reason;
    if (handlers_.ready(&reason)) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + reason + "\n", "text/plain");
    }
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(handlers_.metrics(), "text/plain; version=0.0.4");
  });
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::bind(const HostPort& address, std::string* error) {
  if (!server_->bind_to_port(address.host, address.port)) {
    *error = "cannot listen for HTTP on " + address.host + ":" + std::to_string(address.port);
    return false;
  }
  return true;
}

void HttpServer::start() {
  thread_ = std::thread([this] {
    if (!stopping_) server_->listen_after_bind();
    finished_ = true;
  });
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  // httplib's stop() does nothing until the server runs: a stop that came right after start
  // (a SIGTERM at boot) would leave the thread listening forever. Wait for it to run or to end.
  while (!finished_ && !server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  thread_.join();
}

}  // namespace lms::core
