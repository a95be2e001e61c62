// After a commit, the database the cutover switched away from: a write that reaches it around LMS is
// a split brain in the making. These read it (and fence it) through a proxy's own connections; the
// coordinator keeps what they find in the attempt's record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attempt.h"
#include "decisions.h"
#include "proxy_client.h"

namespace lms::orchestrator {

struct ProxyAccess {
  TlsFiles tls;
  uint32_t timeout_ms = 5000;
};

// Right after the commit is confirmed, when the operator asked: the old source made to refuse
// ordinary sessions' writes, through the first proxy that answers; into *record.
void fence_old_source(const std::vector<ProxyStatus>& statuses, const ProxyAccess& access,
                      OldSourceRecord* record);

// A moment after the commit, once LMS's own sessions there have ended and the database has counted
// their writes: its row counter now, the baseline every later look subtracts; into *record.
void watch_old_source(const std::vector<ProxyStatus>& statuses, const ProxyAccess& access, int64_t now_ns,
                      OldSourceRecord* record);

// The rows written on the old source since the baseline, read again through `control_url`.
bool old_source_writes(const std::string& control_url, const OldSourceRecord& record,
                       const ProxyAccess& access, uint64_t* writes, std::string* error);

// Before a cutover back to a database an earlier one fenced: the fence lifted, through
// `control_url` (the database being switched to is that proxy's other database).
bool lift_fence(const std::string& control_url, const ProxyAccess& access, std::string* error);

}  // namespace lms::orchestrator
