#include "preflight.h"

#include <stdexcept>

#include "fleet_views.h"
#include "json.h"
#include "readiness_checks.h"
#include "statement_tables.h"

namespace lms::orchestrator {

using nlohmann::json;

// A proxy checks at most 64 names a call.
constexpr size_t kMaxTablesChecked = 64;

PreflightRequest preflight_request_of(const json& body) {
  PreflightRequest r;
  if (body.contains("begin_timeout_ms"))
    r.transaction_bound_ms =
        control::checked_integer<uint32_t>(body.at("begin_timeout_ms"), "begin_timeout_ms");
  if (body.contains("max_mismatch_rate")) {
    const json& v = body.at("max_mismatch_rate");
    if (!v.is_number()) throw std::invalid_argument("max_mismatch_rate must be a number");
    const double rate = v.get<double>();
    if (!(rate >= 0 && rate <= 1)) throw std::invalid_argument("max_mismatch_rate is a share from 0 to 1");
    r.max_mismatch_rate = rate;
  }
  return r;
}

json run_checks(Coordinator& coordinator, const std::vector<std::string>& urls,
                const PreflightRequest& request) {
  ReadinessInputs in;
  in.max_mismatch_rate = request.max_mismatch_rate;
  // Transactions older than the begin-timeout the cutover would run with (else the pause's bound)
  // fail; with no bound on the pause either, 30 s is long.
  uint64_t transaction_bound_ms = request.transaction_bound_ms;
  if (transaction_bound_ms == 0) transaction_bound_ms = coordinator.max_pause_ms();
  if (transaction_bound_ms == 0) transaction_bound_ms = 30000;
  in.proxies = coordinator.status(urls);
  in.configured_dialect = coordinator.configured_dialect();
  in.report = merged_report(urls, coordinator.fleet_access());
  in.connections = coordinator.connections(urls);
  Attempt latest;
  std::string none;  // no attempt yet: the check says so
  if (coordinator.get(0, &latest, &none)) in.latest = &latest;
  if (request.probe && begin_refusal(in.proxies, in.configured_dialect).empty()) {
    in.transactions = coordinator.probe_transactions(in.proxies, transaction_bound_ms);
    attribute_to_clients(&in.transactions.transactions, in.connections);
    in.replication = coordinator.probe_replication(in.proxies);
    in.logins = coordinator.probe_logins(in.proxies);
    // Only what shadowing has seen: without it the report holds no statements and this is skipped.
    std::vector<std::string_view> statements;  // into in.report, which outlives them
    static const json kNone = json::array();
    const auto listed = in.report.find("statements");
    const json& list = listed != in.report.end() && listed->is_array() ? *listed : kNone;
    for (const auto& s : list) {
      const auto it = s.find("statement");
      if (it != s.end() && it->is_string()) statements.push_back(it->get_ref<const std::string&>());
    }
    if (const auto names = tables_in(statements, kMaxTablesChecked); !names.empty())
      in.tables = coordinator.probe_tables(in.proxies, names);
  }
  json checks = readiness_checks(in);
  bool failed = false;
  for (const auto& c : checks) failed = failed || c.at("result") == "fail";
  json answer{{"checks", checks}, {"ready", !failed}};
  if (request.probe) coordinator.note_preflight(answer);
  return answer;
}

std::string failed_checks(const json& answer) {
  std::string text;
  for (const auto& c : answer.at("checks")) {
    if (c.value("result", "") != "fail") continue;
    if (!text.empty()) text += "; ";
    text += c.value("name", "") + ": " + c.value("detail", "");
  }
  return text;
}

}  // namespace lms::orchestrator
