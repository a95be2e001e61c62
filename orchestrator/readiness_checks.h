// The checks the console runs before an operator presses begin, from what the proxies report now:
// they change nothing that clients see. Each is pass, warn or fail with the reason, so the
// operator fixes what would make begin refuse or a cutover stall before any traffic pauses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attempt.h"
#include "coordinator.h"
#include "decisions.h"

namespace lms::orchestrator {

struct ReadinessCheck {
  std::string name;
  std::string result;  // "pass", "warn" or "fail"
  std::string detail;
};

struct ReadinessInputs {
  std::vector<ProxyStatus> proxies;
  std::string configured_dialect;  // display name, "" for any
  nlohmann::json report;           // the merged compatibility report
  std::vector<ProxyConnections> connections;
  const Attempt* latest = nullptr;  // the latest attempt, if any
  ReplicationProbe replication;
  TransactionsProbe transactions;
  TablesProbe tables;
  LoginProbe logins;
  // The gate on the shadow results: fail above this share of compared answers that differed or
  // failed on the target. Unset: any target error fails and mismatches only warn.
  std::optional<double> max_mismatch_rate;
};

std::vector<ReadinessCheck> readiness_checks(const ReadinessInputs& in);

// The database sees a proxy's sessions as coming from the proxy: each transaction whose client is a
// proxy session's own address on its database connection gets that session's application address
// and the proxy's SQL address (lms_client, lms_address).
void attribute_to_clients(std::vector<control::OpenTransaction>* transactions,
                          const std::vector<ProxyConnections>& connections);

void to_json(nlohmann::json& j, const ReadinessCheck& c);

}  // namespace lms::orchestrator
