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

// After a commit: the database the attempt switched away from, watched for writes that reach it
// around LMS, and fenced when the operator asked.
struct OldSourceRecord {
  int64_t committed_ns = 0;  // when the commit was decided
  bool settled = false;      // its baseline taken, a moment after the commit was confirmed
  std::string address;       // host:port, never credentials
  bool watched = false;      // its row counter could be read then
  uint64_t rows_at_commit = 0;
  uint64_t writes = 0;     // rows written there since, as its own statistics count them
  int64_t checked_ns = 0;  // the latest look
  std::string note;        // what the count also holds (shadowing to it), or why it is not watched
  bool fence_requested = false;
  bool fenced = false;
  std::string fence_error;
};

struct Attempt {
  uint64_t id = 0;
  std::string decision;
  uint32_t begin_timeout_ms = 0;
  bool abort_on_timeout = false;
  uint32_t max_pause_ms = 0;  // the pause's bound from begin: then it is aborted (0: none)
  int64_t created_ns = 0;
  std::string error;  // why the attempt failed, if it did
  std::vector<ProxyRecord> proxies;
  // Its proxies came from DNS discovery: one that appears later is not paused, and stops a commit.
  // (Not stored: an attempt that outlives its orchestrator while begun is aborted anyway.)
  bool discovered = false;
  OldSourceRecord old_source;
  // The commit's replication check: how long the marker took to reach the other database (0 and
  // false when skipped).
  bool replication_checked = false;
  uint64_t replication_lag_ms = 0;
  // Where the source of truth's change stream stood at the commit, read through the first proxy
  // while traffic was paused ({"position", "streams"}, or {"error"}; null before a commit).
  nlohmann::json source_position;
  // The last preflight run before this attempt began, as it answered ({"checks", "ready",
  // "time_ns"}), or null when none was run since the previous attempt.
  nlohmann::json preflight;

  // One status for the whole attempt, from the decision and the proxies' own statuses.
  std::string status() const;
};

void to_json(nlohmann::json& j, const OldSourceRecord& o);
void from_json(const nlohmann::json& j, OldSourceRecord& o);
void to_json(nlohmann::json& j, const ProxyRecord& p);
void from_json(const nlohmann::json& j, ProxyRecord& p);
void to_json(nlohmann::json& j, const Attempt& a);
void from_json(const nlohmann::json& j, Attempt& a);

}  // namespace lms::orchestrator
