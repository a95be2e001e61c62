#include "api.h"

#include <httplib.h>

#include <charconv>
#include <sstream>

#include "http_json.h"
#include "json.h"
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
  const auto checks = [&coordinator](const httplib::Request& req, httplib::Response& res, bool preflight) {
    ReadinessInputs in;
    // A preflight's bounds: transactions older than the begin-timeout it would run with (else the
    // pause's bound) fail it; the shadow results are gated at --max-mismatch-rate when given.
    uint64_t transaction_bound_ms = coordinator.max_pause_ms();
    if (preflight) {
      json body;
      if (!parse_body(req, res, &body)) return;
      try {
        if (body.contains("begin_timeout_ms")) {
          const auto ms = control::checked_integer<uint32_t>(body.at("begin_timeout_ms"), "begin_timeout_ms");
          if (ms > 0) transaction_bound_ms = ms;
        }
        if (body.contains("max_mismatch_rate")) {
          const double rate = body.at("max_mismatch_rate").get<double>();
          if (!(rate >= 0 && rate <= 1))
            return reply_error(res, 400, "max_mismatch_rate is a share from 0 to 1");
          in.max_mismatch_rate = rate;
        }
      } catch (const std::exception& e) {
        return reply_error(res, 400, std::string("invalid preflight request: ") + e.what());
      }
    }
    if (transaction_bound_ms == 0) transaction_bound_ms = 30000;  // no bound on the pause: 30 s is long
    std::vector<std::string> urls;
    if (!resolve_or_reply(coordinator, req, res, &urls)) return;
    in.proxies = coordinator.status(urls);
    in.configured_dialect = coordinator.configured_dialect();
    in.report = merged_report(urls, coordinator.fleet_access());
    in.connections = coordinator.connections(urls);
    Attempt latest;
    std::string none;  // no attempt yet: the check says so
    if (coordinator.get(0, &latest, &none)) in.latest = &latest;
    if (preflight && begin_refusal(in.proxies, in.configured_dialect).empty()) {
      in.transactions = coordinator.probe_transactions(in.proxies, transaction_bound_ms);
      in.replication = coordinator.probe_replication(in.proxies);
    }
    json out = readiness_checks(in);
    bool failed = false;
    for (const auto& c : out) failed = failed || c.at("result") == "fail";
    json answer{{"checks", out}, {"ready", !failed}};
    if (preflight) coordinator.note_preflight(answer);
    reply(res, 200, answer);
  };
  server.Get("/v1/cutover/checks", [checks](const httplib::Request& req, httplib::Response& res) {
    checks(req, res, false);
  });
  server.Post("/v1/cutover/preflight", [checks](const httplib::Request& req, httplib::Response& res) {
    checks(req, res, true);
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
