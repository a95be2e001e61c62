// A cutover attempt as the orchestrator keeps it: the decision taken (begin, commit, abort), the
// proxies it concerns, and what each proxy last reported. The decision is written to the store
// before it is sent, so a restarted orchestrator knows what to finish.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.h"

namespace lms::orchestrator {

inline constexpr const char* kDecisionBegin = "begin";
inline constexpr const char* kDecisionCommit = "commit";
inline constexpr const char* kDecisionAbort = "abort";

struct ProxyRecord {
  std::string control_address;  // http://host:port of its control API
  std::string sql_address;      // where its clients connect (what the tables show)
  control::Cutover cutover;     // as it last answered
  std::string error;            // the last call to it that failed, "" when it answered
  bool confirmed = false;       // it has acknowledged the attempt's current decision
};

struct Attempt {
  uint64_t id = 0;
  std::string decision;
  uint32_t begin_timeout_ms = 0;
  bool abort_on_timeout = false;
  int64_t created_ns = 0;
  std::string error;  // why the attempt failed, if it did
  std::vector<ProxyRecord> proxies;
  // Its proxies came from DNS discovery: one that appears later is not paused, and stops a commit.
  // (Not stored: an attempt that outlives its orchestrator while begun is aborted anyway.)
  bool discovered = false;

  // One status for the whole attempt, from the decision and the proxies' own statuses.
  std::string status() const;
};

void to_json(nlohmann::json& j, const ProxyRecord& p);
void from_json(const nlohmann::json& j, ProxyRecord& p);
void to_json(nlohmann::json& j, const Attempt& a);
void from_json(const nlohmann::json& j, Attempt& a);

}  // namespace lms::orchestrator
