// The orchestrator's judgements, as pure functions of what it knows: no I/O, no locks, no clock,
// so each is tested with plain values (decisions_test.cc) and the coordinator only gathers the
// facts and carries the verdicts out.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "attempt.h"
#include "model.h"

namespace lms::orchestrator {

// A proxy's answer to a status call: its status, or why it gave none.
struct ProxyStatus {
  std::string control_address;
  control::Status status;
  std::string error;
};

// The table the replication marker is written to (the proxies make it; the name is theirs).
inline constexpr const char* kMarkerTableName = "lms_cutover_marker";

// What a preflight's replication probe found: a marker written through one proxy on the source
// of truth, looked for on the other database.
struct ReplicationProbe {
  bool ran = false;  // a preflight (not the console's read-only checks) made it
  bool skipped = false;  // the orchestrator runs with --skip-replication-check: nothing was written
  std::string via;   // the proxy it went through (its SQL address)
  std::string error;  // the marker table could not be made or the marker written
  bool created_on_truth = false;  // the marker table was missing there, and was made now
  bool created_on_other = false;
  bool seen = false;
  uint64_t lag_ms = 0;  // from the write to the row seen on the other database
  uint32_t timeout_ms = 0;
  // Where the source of truth's change stream stands and its slots' lag, when it can tell
  // (position_error says why not).
  control::ReplicationPosition position;
  std::string position_error;
};

// What a preflight found open on the source of truth, asked through one proxy: the transactions
// older than the bound a pause would give them.
struct TransactionsProbe {
  bool ran = false;
  std::string via;  // the proxy it went through (its SQL address)
  std::string
      error;  // the database could not tell (a dialect without the call, an account without the right)
  uint64_t min_age_ms = 0;
  std::vector<control::OpenTransaction> transactions;  // oldest first
};

// What a preflight found of the tables the application used (from the compatibility report's
// statements) on the other database, asked through one proxy.
struct TablesProbe {
  bool ran = false;
  std::string via;
  std::string error;  // the proxy could not ask
  std::vector<control::NameCheck> tables;
};

// Whether a database's error says the table is not there (PostgreSQL and CockroachDB: relation "x"
// does not exist; MySQL: Table 'db.x' doesn't exist), rather than that it may not be read.
inline bool names_a_missing_table(const std::string& error) {
  return error.find("does not exist") != std::string::npos ||
         error.find("doesn't exist") != std::string::npos;
}

// Whether each proxy can log in to the other database, as its sessions must at the switch: its SQL
// address and why not ("" when it could).
struct LoginProbe {
  bool ran = false;
  std::vector<std::pair<std::string, std::string>> failures;
  size_t asked = 0;
  // Each user who may log in to the proxies, looked up there (through the preflight's proxy): none
  // when clients log in as the connection string's account.
  std::vector<control::NameCheck> users;
  std::string users_error;  // the other database's users could not be read
  std::string via;
};

// Why a cutover may not begin on these proxies ("" when it may): each must answer, serve the
// dialect the orchestrator was configured for (when it was), and all must agree on the source of
// truth. `configured_dialect` is the display name ("PostgreSQL"), or "" for any.
std::string begin_refusal(const std::vector<ProxyStatus>& proxies, const std::string& configured_dialect);

// While an attempt is pausing: why it fails ("" while it may go on), from what its proxies last
// reported and the proxies discovery sees now (`discovered`: control URLs; empty when the attempt
// did not come from discovery), at `now_ns`. A proxy that does not answer, is no longer in this
// attempt (it restarted), gave up or was aborted fails it; so does a proxy that appeared since,
// which is not paused and would serve from the old database; so does a pause that has lasted its
// bound (the attempt's max-pause) without a commit.
std::string pausing_failure(const Attempt& attempt, const std::vector<std::string>& discovered,
                            int64_t now_ns);

// The first of `urls` that is not one of the attempt's proxies ("" when none).
std::string newcomer(const Attempt& attempt, const std::vector<std::string>& urls);

}  // namespace lms::orchestrator
