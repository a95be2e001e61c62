// The checks run before anything pauses: read-only for the console, and as a preflight (the CLI's
// `preflight`, and `begin` unless told to skip it) also probing the databases: replication end to
// end and the transactions a pause would wait for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator.h"

namespace lms::orchestrator {

struct PreflightRequest {
  bool probe = true;                  // false: the console's read-only checks, nothing written
  uint64_t transaction_bound_ms = 0;  // open longer fails; 0: the orchestrator's --max-pause
  std::optional<double> max_mismatch_rate;
};

// begin_timeout_ms and max_mismatch_rate from a request body; throws std::invalid_argument.
PreflightRequest preflight_request_of(const nlohmann::json& body);

// {"checks": [...], "ready": bool}; a probing run is kept for the record of the next attempt.
nlohmann::json run_checks(Coordinator& coordinator, const std::vector<std::string>& urls,
                          const PreflightRequest& request);

// Each failed check as "name: detail", joined by "; " ("" when none failed).
std::string failed_checks(const nlohmann::json& answer);

}  // namespace lms::orchestrator
