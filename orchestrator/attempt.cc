#include "attempt.h"

#include <lms/control.h>

#include "json.h"

namespace lms::orchestrator {

std::string Attempt::status() const {
  auto all = [&](const char* status) {
    for (const auto& p : proxies) {
      if (p.cutover.id != id || p.cutover.status != status) return false;
    }
    return !proxies.empty();
  };
  if (decision == kDecisionCommit) return all(LMS_CUTOVER_COMMITTED) ? LMS_CUTOVER_COMMITTED : "Committing";
  if (decision == kDecisionAbort) return error.empty() ? LMS_CUTOVER_ABORTED : LMS_CUTOVER_ERROR;
  return all(LMS_CUTOVER_PAUSED) ? LMS_CUTOVER_PAUSED : LMS_CUTOVER_BEGAN;
}

void to_json(nlohmann::json& j, const ProxyRecord& p) {
  j = {{"control_address", p.control_address},
       {"lms_address", p.sql_address},
       {"cutover", p.cutover},
       {"error", p.error},
       {"confirmed", p.confirmed},
       // For people and scripts: the table's columns, ready to print.
       {"source_of_truth", p.cutover.source_of_truth},
       {"status", p.cutover.id == 0 ? "" : p.cutover.status},
       {"trigger_time", control::format_time(p.cutover.trigger_time_ns)},
       {"traffic_paused_time", control::format_time(p.cutover.paused_time_ns)},
       {"commit_time", control::format_time(p.cutover.commit_time_ns)}};
}

void from_json(const nlohmann::json& j, ProxyRecord& p) {
  p.control_address = j.value("control_address", "");
  p.sql_address = j.value("lms_address", "");
  if (j.contains("cutover")) j.at("cutover").get_to(p.cutover);
  p.error = j.value("error", "");
  p.confirmed = j.value("confirmed", false);
}

void to_json(nlohmann::json& j, const Attempt& a) {
  j = {{"id", a.id},
       {"status", a.status()},
       {"decision", a.decision},
       {"begin_timeout_ms", a.begin_timeout_ms},
       {"on_begin_timeout", a.abort_on_timeout ? "abort" : "end-sessions"},
       {"created_ns", a.created_ns},
       {"error", a.error},
       {"proxies", a.proxies}};
}

void from_json(const nlohmann::json& j, Attempt& a) {
  a.id = j.value("id", uint64_t{0});
  a.decision = j.value("decision", "");
  a.begin_timeout_ms = j.value("begin_timeout_ms", 0u);
  a.abort_on_timeout = j.value("on_begin_timeout", "") == "abort";
  a.created_ns = j.value("created_ns", int64_t{0});
  a.error = j.value("error", "");
  if (j.contains("proxies")) j.at("proxies").get_to(a.proxies);
}

}  // namespace lms::orchestrator
