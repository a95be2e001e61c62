#include "readiness_checks.h"

#include <lms/control.h>

namespace lms::orchestrator {
namespace {

constexpr const char* kMarkerTableName = "lms_cutover_marker";

ReadinessCheck proxies_agree(const ReadinessInputs& in) {
  ReadinessCheck c{"proxies answer and agree", "pass", ""};
  // The same rule begin applies, so a pass here is a begin that will not be refused for it.
  if (std::string why = begin_refusal(in.proxies, in.configured_dialect); !why.empty()) {
    c.result = "fail";
    c.detail = why;
    return c;
  }
  c.detail = std::to_string(in.proxies.size()) + " proxies, all served by " +
             in.proxies.front().status.source_of_truth + " (" + in.proxies.front().status.source_of_truth_role + ")";
  return c;
}

ReadinessCheck other_database(const ReadinessInputs& in) {
  ReadinessCheck c{"every proxy has a database to switch to", "pass", ""};
  for (const ProxyStatus& p : in.proxies) {
    if (p.error.empty() && p.status.target_address.empty()) {
      c.result = "fail";
      c.detail = p.status.sql_address + " has no target configured";
      return c;
    }
  }
  if (!in.proxies.empty()) c.detail = "target " + in.proxies.front().status.target_address;
  return c;
}

ReadinessCheck no_attempt_running(const ReadinessInputs& in) {
  ReadinessCheck c{"no cutover in progress", "pass", "no attempt yet"};
  if (in.latest == nullptr) return c;
  const std::string status = in.latest->status();
  if (status == LMS_CUTOVER_BEGAN || status == LMS_CUTOVER_PAUSED || status == "Committing") {
    c.result = "fail";
    c.detail = "cutover " + std::to_string(in.latest->id) + " is " + status + ": commit or abort it first";
  } else {
    c.detail = "the last attempt (" + std::to_string(in.latest->id) + ") is " + status;
  }
  return c;
}

ReadinessCheck shadow_results(const ReadinessInputs& in) {
  ReadinessCheck c{"the target answers as the source does", "pass", ""};
  const nlohmann::json& r = in.report;
  const uint64_t compared = r.value("compared", uint64_t{0});
  const uint64_t target_errors = r.value("target_errors", uint64_t{0});
  const uint64_t mismatches = r.value("mismatches", uint64_t{0});
  if (compared == 0) {
    c.result = "warn";
    c.detail = "nothing compared yet (shadow mode " + r.value("shadow_mode", std::string("?")) +
               "): the target's answers are unproven";
    return c;
  }
  c.detail = std::to_string(compared) + " answers compared, " + std::to_string(target_errors) +
             " target errors, " + std::to_string(mismatches) + " mismatches";
  if (target_errors > 0) {
    c.result = "fail";
    for (const auto& s : r.value("statements", nlohmann::json::array())) {
      if (s.value("target_errors", uint64_t{0}) > 0) {
        c.detail += "; first: " + s.value("statement", std::string()) + ": " + s.value("first_target_error", std::string());
        break;
      }
    }
  } else if (mismatches > 0) {
    c.result = "warn";
  }
  return c;
}

ReadinessCheck busy_sessions(const ReadinessInputs& in) {
  ReadinessCheck c{"sessions begin would wait for", "pass", ""};
  size_t busy = 0;
  std::string example;
  for (const ProxyConnections& p : in.connections) {
    for (const control::Connection& s : p.connections) {
      if (s.state != "in transaction" && s.state != "active") continue;
      if (busy++ == 0) example = s.remote_address + " (" + s.user + ", " + s.state + ")";
    }
  }
  if (busy == 0) {
    c.detail = "every session is idle between transactions";
    return c;
  }
  c.result = "warn";
  c.detail = std::to_string(busy) + " busy now, e.g. " + example +
             ": begin pauses each when its transaction ends (bounded by the begin timeout)";
  return c;
}

ReadinessCheck replication_carries_the_marker(const ReplicationProbe& p) {
  ReadinessCheck c{"replication carries the marker", "pass", ""};
  const std::string table = kMarkerTableName;
  if (!p.error.empty()) {
    c.result = "fail";
    c.detail = "through " + p.via + ": " + p.error;
    return c;
  }
  if (p.created_on_other) {
    // A table made on the other database just now is one the replication tool does not carry
    // yet: commit would wait for a marker that never comes, with every client paused.
    c.result = "fail";
    c.detail = table + " did not exist on the other database and was created there now" +
               (p.created_on_truth ? " (and on the source of truth)" : "") +
               ": the replication tool must carry it (PostgreSQL logical replication: the table in the "
               "publication, then ALTER SUBSCRIPTION ... REFRESH PUBLICATION); run preflight again";
    return c;
  }
  const std::string made = p.created_on_truth ? "; " + table + " was created on the source of truth now" : "";
  if (!p.seen) {
    c.result = "fail";
    c.detail = "a marker written through " + p.via + " was not on the other database within " +
               std::to_string(p.timeout_ms) + " ms: replication is behind or does not carry " + table + made;
    return c;
  }
  c.detail = "a marker written through " + p.via + " reached the other database in " + std::to_string(p.lag_ms) +
             " ms" + made;
  return c;
}

}  // namespace

std::vector<ReadinessCheck> readiness_checks(const ReadinessInputs& in) {
  std::vector<ReadinessCheck> out{proxies_agree(in), no_attempt_running(in)};
  if (out.front().result == "fail") return out;  // the rest reads the proxies' answers
  out.push_back(other_database(in));
  out.push_back(shadow_results(in));
  out.push_back(busy_sessions(in));
  if (in.replication.ran) out.push_back(replication_carries_the_marker(in.replication));
  return out;
}

void to_json(nlohmann::json& j, const ReadinessCheck& c) {
  j = {{"name", c.name}, {"result", c.result}, {"detail", c.detail}};
}

}  // namespace lms::orchestrator
