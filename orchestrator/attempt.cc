#include "attempt.h"

#include <lms/control.h>

#include <algorithm>

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

namespace {

// The attempt across its proxies: the longest stall any client saw, and the sums.
nlohmann::json totals(const Attempt& a) {
  uint64_t stall_ns = 0;
  uint64_t requests = 0, connections = 0, ended = 0, replayed = 0, failed = 0;
  for (const ProxyRecord& p : a.proxies) {
    if (p.cutover.id != a.id) continue;
    stall_ns = std::max(stall_ns, p.cutover.longest_stall_ns);
    requests += p.cutover.requests_queued;
    connections += p.cutover.connections_queued;
    ended += p.cutover.sessions_ended;
    replayed += p.cutover.statements_replayed;
    failed += p.cutover.statements_failed;
  }
  return {{"longest_stall_ms", static_cast<double>(stall_ns) / 1e6},
          {"requests_queued", requests},
          {"connections_queued", connections},
          {"sessions_ended", ended},
          {"statements_replayed", replayed},
          {"statements_failed", failed}};
}

}  // namespace

void to_json(nlohmann::json& j, const OldSourceRecord& o) {
  j = {{"committed_ns", o.committed_ns},
       {"settled", o.settled},
       {"address", o.address},
       {"watched", o.watched},
       {"rows_at_commit", o.rows_at_commit},
       {"writes_since_commit", o.writes},
       {"checked_ns", o.checked_ns},
       {"checked_time", control::format_time(o.checked_ns)},
       {"note", o.note},
       {"fence_requested", o.fence_requested},
       {"fenced", o.fenced},
       {"fence_error", o.fence_error}};
}

void from_json(const nlohmann::json& j, OldSourceRecord& o) {
  o.committed_ns = j.value("committed_ns", int64_t{0});
  o.settled = j.value("settled", false);
  o.address = j.value("address", "");
  o.watched = j.value("watched", false);
  o.rows_at_commit = j.value("rows_at_commit", uint64_t{0});
  o.writes = j.value("writes_since_commit", uint64_t{0});
  o.checked_ns = j.value("checked_ns", int64_t{0});
  o.note = j.value("note", "");
  o.fence_requested = j.value("fence_requested", false);
  o.fenced = j.value("fenced", false);
  o.fence_error = j.value("fence_error", "");
}

void to_json(nlohmann::json& j, const Attempt& a) {
  j = {{"id", a.id},
       {"status", a.status()},
       {"decision", a.decision},
       {"begin_timeout_ms", a.begin_timeout_ms},
       {"on_begin_timeout", a.abort_on_timeout ? "abort" : "end-sessions"},
       {"max_pause_ms", a.max_pause_ms},
       {"created_ns", a.created_ns},
       {"error", a.error},
       {"proxies", a.proxies},
       {"totals", totals(a)},
       {"replication_checked", a.replication_checked},
       {"replication_lag_ms", a.replication_lag_ms},
       {"source_position", a.source_position},
       {"preflight", a.preflight}};
  if (a.decision == kDecisionCommit) j["old_source"] = a.old_source;
}

void from_json(const nlohmann::json& j, Attempt& a) {
  a.id = j.value("id", uint64_t{0});
  a.decision = j.value("decision", "");
  a.begin_timeout_ms = j.value("begin_timeout_ms", 0u);
  a.abort_on_timeout = j.value("on_begin_timeout", "") == "abort";
  a.max_pause_ms = j.value("max_pause_ms", 0u);
  a.created_ns = j.value("created_ns", int64_t{0});
  a.error = j.value("error", "");
  if (j.contains("proxies")) j.at("proxies").get_to(a.proxies);
  if (j.contains("old_source")) j.at("old_source").get_to(a.old_source);
  a.replication_checked = j.value("replication_checked", false);
  a.replication_lag_ms = j.value("replication_lag_ms", uint64_t{0});
  a.source_position = j.value("source_position", nlohmann::json());
  a.preflight = j.value("preflight", nlohmann::json());
}

}  // namespace lms::orchestrator
