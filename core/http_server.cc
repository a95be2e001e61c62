#include "http_server.h"

#include <httplib.h>

#include <charconv>
#include <chrono>

#include "http_json.h"
#include "json.h"
#include "tls_server.h"

namespace lms::core {
namespace {

using nlohmann::json;

using control::parse_body;
using control::reply;
using control::reply_error;

// Runs one cutover step named by the body's "id" and answers with the attempt's record.
template <typename Step>
void cutover_step(const httplib::Request& req, httplib::Response& res, Step&& step) {
  json body;
  if (!parse_body(req, res, &body)) return;
  uint64_t id = 0;
  try {
    id = control::checked_integer<uint64_t>(body.at("id"), "id");
  } catch (const std::exception&) {
    reply_error(res, 400, "the request needs \"id\": the cutover attempt's ID");
    return;
  }
  control::Cutover out;
  std::string error;
  if (!step(id, &out, &error)) {
    reply_error(res, 409, error);
    return;
  }
  reply(res, 200, out);
}

}  // namespace

HttpServer::HttpServer(HttpHandlers handlers, const HttpSecurity& security)
    : handlers_(std::move(handlers)), access_(security.access) {
  server_ = control::make_http_server(security.files, &setup_error_);
  if (!server_) return;
  // A connection holds its thread until it closes, and /readyz and /v1/status wait on a probe of
  // the database (up to 2 s): with kubelet, Prometheus and the orchestrator calling at once, two
  // threads left the control API queued past the orchestrator's 5 s deadline. Idle threads cost
  // no CPU; the default pool (one per core, at least 8) is what a web server sizes, not this.
  server_->new_task_queue = [] { return new httplib::ThreadPool(8); };
  // /healthz, /readyz and /metrics answer anyone who reaches the port; the control API (/v1)
  // only the callers access_ admits.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string why = access_.refuse(req);
    if (why.empty()) return httplib::Server::HandlerResponse::Unhandled;
    reply_error(res, 403, why);
    return httplib::Server::HandlerResponse::Handled;
  });
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
  if (handlers_.shadow_report) {
    server_->Get("/v1/shadow/report", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(handlers_.shadow_report() + "\n", "application/json");
    });
  }
  if (handlers_.control != nullptr) add_control_routes();
}

void HttpServer::add_control_routes() {
  control::Backend& control = *handlers_.control;
  server_->Get("/v1/status", [&control](const httplib::Request&, httplib::Response& res) {
    control::Status status;
    std::string error;
    if (!control.status(&status, &error)) return reply_error(res, 500, error);
    reply(res, 200, status);
  });
  server_->Get("/v1/connections", [&control](const httplib::Request&, httplib::Response& res) {
    std::vector<control::Connection> connections;
    std::string error;
    if (!control.connections(&connections, &error)) return reply_error(res, 500, error);
    reply(res, 200, json{{"connections", connections}});
  });
  server_->Get("/v1/cutover", [&control](const httplib::Request&, httplib::Response& res) {
    control::Cutover cutover;
    std::string error;
    if (!control.cutover(&cutover, &error)) return reply_error(res, 500, error);
    reply(res, 200, cutover);
  });
  server_->Post("/v1/cutover/begin", [&control](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    control::BeginOptions options;
    try {
      body.get_to(options);
    } catch (const std::exception& e) {
      return reply_error(res, 400, std::string("invalid begin request: ") + e.what());
    }
    control::Cutover out;
    std::string error;
    if (!control.begin(options, &out, &error)) return reply_error(res, 409, error);
    reply(res, 200, out);
  });
  server_->Post("/v1/cutover/commit", [&control](const httplib::Request& req, httplib::Response& res) {
    cutover_step(req, res, [&](uint64_t id, control::Cutover* out, std::string* e) {
      return control.commit(id, out, e);
    });
  });
  server_->Post("/v1/cutover/abort", [&control](const httplib::Request& req, httplib::Response& res) {
    cutover_step(req, res, [&](uint64_t id, control::Cutover* out, std::string* e) {
      return control.abort(id, out, e);
    });
  });
  server_->Post("/v1/replication/mark", [&control](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    std::string error;
    if (!control.replication_mark(body.value("token", ""), &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"marked", true}});
  });
  server_->Post("/v1/replication/prepare", [&control](const httplib::Request&, httplib::Response& res) {
    bool here = false;
    bool other = false;
    std::string error;
    if (!control.replication_prepare(&here, &other, &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"created_on_source_of_truth", here}, {"created_on_other", other}});
  });
  server_->Get("/v1/transactions", [&control](const httplib::Request& req, httplib::Response& res) {
    uint64_t min_age_ms = 0;
    if (req.has_param("min_age_ms")) {
      const std::string text = req.get_param_value("min_age_ms");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), min_age_ms);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return reply_error(res, 400, "min_age_ms must be a number of milliseconds");
      }
    }
    std::vector<control::OpenTransaction> transactions;
    std::string error;
    if (!control.open_transactions(min_age_ms, &transactions, &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"transactions", transactions}});
  });
  server_->Get("/v1/other/rows_written", [&control](const httplib::Request&, httplib::Response& res) {
    uint64_t rows = 0;
    std::string error;
    if (!control.other_rows_written(&rows, &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"rows_written", rows}});
  });
  server_->Get("/v1/replication/position", [&control](const httplib::Request&, httplib::Response& res) {
    control::ReplicationPosition position;
    std::string error;
    if (!control.replication_position(&position, &error)) return reply_error(res, 502, error);
    reply(res, 200, json(position));
  });
  server_->Get("/v1/other/logins", [&control](const httplib::Request&, httplib::Response& res) {
    std::vector<control::NameCheck> logins;
    std::string error;
    if (!control.check_other_logins(&logins, &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"logins", logins}});
  });
  server_->Post("/v1/other/tables", [&control](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    std::vector<std::string> names;
    try {
      names = body.at("names").get<std::vector<std::string>>();
    } catch (const std::exception&) {
      return reply_error(res, 400, "\"names\" must be a list of table names");
    }
    std::vector<control::NameCheck> tables;
    std::string error;
    if (!control.check_other_tables(names, &tables, &error)) return reply_error(res, 400, error);
    reply(res, 200, json{{"tables", tables}});
  });
  server_->Post("/v1/other/fence", [&control](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    const auto on = body.find("on");
    if (on == body.end() || !on->is_boolean()) return reply_error(res, 400, "\"on\" must be true or false");
    std::string error;
    if (!control.fence_other(on->get<bool>(), &error)) return reply_error(res, 502, error);
    reply(res, 200, json{{"fenced", on->get<bool>()}});
  });
  server_->Get("/v1/replication/seen", [&control](const httplib::Request& req, httplib::Response& res) {
    bool seen = false;
    std::string error;
    if (!control.replication_seen(req.get_param_value("token"), &seen, &error))
      return reply_error(res, 502, error);
    reply(res, 200, json{{"seen", seen}});
  });
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::bind(const HostPort& address, std::string* error) {
  if (!server_) {
    *error = "HTTP port: " + setup_error_;
    return false;
  }
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
