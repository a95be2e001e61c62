#include "decisions.h"

#include <lms/control.h>

#include <algorithm>

namespace lms::orchestrator {

std::string begin_refusal(const std::vector<ProxyStatus>& proxies, const std::string& configured_dialect) {
  std::string truth_role;
  for (const auto& p : proxies) {
    if (!p.error.empty()) return "cannot begin: proxy " + p.control_address + " does not answer: " + p.error;
    if (!configured_dialect.empty() && p.status.source_dialect != configured_dialect) {
      return "cannot begin: proxy " + p.control_address + " has source dialect " + p.status.source_dialect +
             ", and this orchestrator was configured for " + configured_dialect;
    }
    if (!truth_role.empty() && p.status.source_of_truth_role != truth_role) {
      return "cannot begin: the proxies disagree on the source of truth (" + p.control_address +
             " serves from its " + p.status.source_of_truth_role + ", others from their " + truth_role + ")";
    }
    truth_role = p.status.source_of_truth_role;
  }
  return "";
}

std::string pausing_failure(const Attempt& attempt, const std::vector<std::string>& discovered,
                            int64_t now_ns) {
  if (attempt.max_pause_ms > 0 && now_ns - attempt.created_ns >= int64_t{attempt.max_pause_ms} * 1000000) {
    return "the pause reached its bound (max-pause " + std::to_string(attempt.max_pause_ms) +
           " ms) before a commit";
  }
  if (const std::string added = newcomer(attempt, discovered); !added.empty()) {
    return "proxy " + added + " appeared during the cutover and is not paused";
  }
  for (const auto& p : attempt.proxies) {
    if (!p.error.empty()) return "proxy " + p.sql_address + " does not answer: " + p.error;
    if (p.cutover.id != attempt.id)
      return "proxy " + p.sql_address + " is no longer in this cutover (restarted?)";
    if (p.cutover.status == LMS_CUTOVER_ERROR || p.cutover.status == LMS_CUTOVER_ABORTED) {
      return "proxy " + p.sql_address + ": " + (p.cutover.error.empty() ? p.cutover.status : p.cutover.error);
    }
  }
  return "";
}

std::string newcomer(const Attempt& attempt, const std::vector<std::string>& urls) {
  for (const auto& url : urls) {
    const bool known = std::any_of(attempt.proxies.begin(), attempt.proxies.end(),
                                   [&url](const ProxyRecord& p) { return p.control_address == url; });
    if (!known) return url;
  }
  return "";
}

}  // namespace lms::orchestrator
