#include "api.h"

#include <httplib.h>

#include <charconv>
#include <sstream>

#include "http_json.h"
#include "json.h"
#include "preflight.h"
#include "readiness_checks.h"

namespace lms::orchestrator {
namespace {

using nlohmann::json;

using control::parse_body;
using control::reply;
using control::reply_error;

// ?lms=a,b,c (GET) or "lms_addresses": [...] (POST): the proxies a request is about.
std::vector<std::string> requested_proxies(const httplib::Request& req, const json* body) {
  std::vector<std::string> out;
  if (body != nullptr && body->contains("lms_addresses")) {
    for (const auto& a : body->at("lms_addresses")) out.push_back(a.get<std::string>());
    return out;
  }
  std::stringstream list(req.get_param_value("lms"));
  for (std::string a; std::getline(list, a, ',');) {
    if (!a.empty()) out.push_back(a);
  }
  return out;
}

// An unsigned field of a request body (`fallback` when absent); false after answering 400.
template <typename T>
bool field_of(const json& body, const char* key, T fallback, httplib::Response& res, T* out) {
  try {
    *out = body.contains(key) ? control::checked_integer<T>(body.at(key), key) : fallback;
    return true;
  } catch (const std::invalid_argument& e) {
    reply_error(res, 400, e.what());
    return false;
  }
}

// The proxies a GET is about (?lms=, else the configured or discovered ones); false after
// answering 400 with the reason.
bool resolve_or_reply(Coordinator& coordinator, const httplib::Request& req, httplib::Response& res,
                      std::vector<std::string>* urls) {
  std::string error;
  if (coordinator.resolve(requested_proxies(req, nullptr), urls, &error)) return true;
  reply_error(res, 400, error);
  return false;
}

}  // namespace

void add_api_routes(httplib::Server& server, Coordinator& coordinator, MetricsHistory& history,
                    uint32_t sample_interval_ms) {
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server.Get("/v1/status", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    json proxies = json::array();
    for (const auto& p : coordinator.status(urls)) {
      json entry = p.status;
      entry["control_address"] = p.control_address;
      if (!p.error.empty()) entry["error"] = p.error;
      proxies.push_back(std::move(entry));
    }
    json body{{"proxies", proxies}};
    // After a commit: what reached the database it switched away from since.
    Attempt latest;
    std::string none;
    if (coordinator.get(0, &latest, &none) && latest.decision == kDecisionCommit &&
        (latest.old_source.settled || latest.old_source.fence_requested)) {
      json old = latest.old_source;
      old["cutover_id"] = latest.id;
      body["old_source"] = std::move(old);
    }
    reply(res, 200, body);
  });
  server.Get("/v1/connections", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    json connections = json::array();
    json errors = json::array();
    for (const auto& p : coordinator.connections(urls)) {
      if (!p.error.empty()) errors.push_back({{"control_address", p.control_address}, {"error", p.error}});
      for (const auto& c : p.connections) {
        json entry = c;
        entry["control_address"] = p.control_address;  // which proxy holds it
        connections.push_back(std::move(entry));
      }
    }
    reply(res, 200, json{{"connections", connections}, {"errors", errors}});
  });
  server.Post("/v1/cutover/begin", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    BeginRequest request;
    try {
      request.lms_addresses = requested_proxies(req, &body);
      if (body.contains("begin_timeout_ms")) {
        request.begin_timeout_ms = control::checked_integer<decltype(request.begin_timeout_ms)>(
            body.at("begin_timeout_ms"), "begin_timeout_ms");
      }
      const std::string on_timeout = body.value("on_begin_timeout", "end-sessions");
      if (on_timeout != "abort" && on_timeout != "end-sessions") {
        return reply_error(res, 400, "on_begin_timeout must be \"abort\" or \"end-sessions\"");
      }
      request.abort_on_timeout = on_timeout == "abort";
      if (body.contains("max_pause_ms")) {
        request.max_pause_ms =
            control::checked_integer<decltype(request.max_pause_ms)>(body.at("max_pause_ms"), "max_pause_ms");
      }
    } catch (const std::exception& e) {
      return reply_error(res, 400, std::string("invalid begin request: ") + e.what());
    }
    // The preflight first, when asked (the CLI asks unless --skip-preflight): a failed check refuses
    // the begin before anything pauses, with the checks in the answer.
    const auto preflight = body.find("preflight");
    if (preflight != body.end() && !preflight->is_boolean())
      return reply_error(res, 400, "preflight must be true or false");
    if (preflight != body.end() && preflight->get<bool>()) {
      PreflightRequest checks;
      std::vector<std::string> urls;
      std::string error;
      try {
        checks = preflight_request_of(body);
        // Without a begin-timeout, the pause's own bound is what a transaction must end within.
        if (checks.transaction_bound_ms == 0) checks.transaction_bound_ms = request.max_pause_ms;
      } catch (const std::exception& e) {
        return reply_error(res, 400, std::string("invalid begin request: ") + e.what());
      }
      if (!coordinator.resolve(request.lms_addresses, &urls, &error)) return reply_error(res, 400, error);
      json answer = run_checks(coordinator, urls, checks);
      if (!answer.value("ready", false)) {
        reply(res, 409,
              json{{"error",
                    "preflight failed, nothing was paused (fix what fails, or begin with "
                    "--skip-preflight): " +
                        failed_checks(answer)},
                   {"preflight", std::move(answer)}});
        return;
      }
    }
    Attempt attempt;
    std::string error;
    if (!coordinator.begin(request, &attempt, &error)) {
      return reply_error(res, 409, error, attempt.id == 0 ? json(nullptr) : json(attempt));
    }
    reply(res, 200, attempt);
  });
  server.Post("/v1/cutover/commit", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    uint64_t id = 0;
    if (!field_of<uint64_t>(body, "id", 0, res, &id)) return;
    const auto fence = body.find("fence_source");
    if (fence != body.end() && !fence->is_boolean())
      return reply_error(res, 400, "fence_source must be true or false");
    const std::optional<bool> fence_source =
        fence != body.end() ? std::optional<bool>(fence->get<bool>()) : std::nullopt;
    Attempt attempt;
    std::string error;
    if (!coordinator.commit(id, fence_source, &attempt, &error)) {
      return reply_error(res, 409, error, attempt.id == 0 ? json(nullptr) : json(attempt));
    }
    reply(res, 200, attempt);
  });
  server.Post("/v1/cutover/abort", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    uint64_t id = 0;
    uint32_t timeout_ms = 0;
    if (!field_of<uint64_t>(body, "id", 0, res, &id) || !field_of<uint32_t>(body, "timeout_ms", 0, res, &timeout_ms))
      return;
    Attempt attempt;
    std::string error;
    if (!coordinator.abort(id, timeout_ms, &attempt, &error)) {
      return reply_error(res, 409, error);
    }
    reply(res, 200, attempt);
  });
  server.Get(R"(/v1/cutover/(\d+))", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    Attempt attempt;
    std::string error;
    uint64_t id = 0;
    const std::string digits = req.matches[1].str();
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return reply_error(res, 404, "no cutover attempt " + digits);
    }
    if (!coordinator.get(id, &attempt, &error)) return reply_error(res, 404, error);
    reply(res, 200, attempt);
  });
  // Every attempt, newest first; ?limit=N the newest N (limit=1: the latest, or none, without a 404).
  server.Get("/v1/cutover/history", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    std::vector<Attempt> attempts = coordinator.history();
    if (req.has_param("limit")) {
      size_t limit = 0;
      const std::string text = req.get_param_value("limit");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || end != text.data() + text.size()) return reply_error(res, 400, "limit must be a number");
      if (attempts.size() > limit) attempts.resize(limit);
    }
    reply(res, 200, json{{"attempts", attempts}});
  });
  server.Get("/v1/shadow/report", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    reply(res, 200, merged_report(urls, coordinator.fleet_access()));
  });
  // The checks: read-only for the console (GET); a preflight (POST) also proves replication end to
  // end, which writes a marker row and makes the marker table where it is missing.
  server.Get("/v1/cutover/checks", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    PreflightRequest read_only;
    read_only.probe = false;
    reply(res, 200, run_checks(coordinator, urls, read_only));
  });
  server.Post("/v1/cutover/preflight", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    PreflightRequest request;
    try {
      request = preflight_request_of(body);
    } catch (const std::exception& e) {
      return reply_error(res, 400, std::string("invalid preflight request: ") + e.what());
    }
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    reply(res, 200, run_checks(coordinator, urls, request));
  });
  // The transactions open on the source of truth now, oldest first, each tied to the application
  // client and the proxy it came through where it is a proxy's session: what a pausing begin waits
  // for. ?min_age_ms=N lists those open at least that long.
  server.Get("/v1/cutover/transactions", [&coordinator](const httplib::Request& req, httplib::Response& res) {
    uint64_t min_age_ms = 0;
    if (req.has_param("min_age_ms")) {
      const std::string text = req.get_param_value("min_age_ms");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), min_age_ms);
      if (ec != std::errc() || end != text.data() + text.size())
        return reply_error(res, 400, "min_age_ms must be a number");
    }
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    TransactionsProbe probe = coordinator.probe_transactions(coordinator.status(urls), min_age_ms);
    attribute_to_clients(&probe.transactions, coordinator.connections(urls));
    if (!probe.error.empty())
      return reply_error(res, 502, probe.via.empty() ? probe.error : probe.via + ": " + probe.error);
    reply(res, 200, json{{"via", probe.via}, {"transactions", probe.transactions}});
  });
  server.Get("/v1/metrics/history", [&history, sample_interval_ms](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, history.to_json(sample_interval_ms));
  });
  server.Get("/v1/cutover", [&coordinator](const httplib::Request&, httplib::Response& res) {
    Attempt attempt;
    std::string error;
    if (!coordinator.get(0, &attempt, &error)) return reply_error(res, 404, error);
    reply(res, 200, attempt);
  });
}

}  // namespace lms::orchestrator
