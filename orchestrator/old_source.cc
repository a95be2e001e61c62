#include "old_source.h"

namespace lms::orchestrator {
namespace {

// The first proxy that answered, and the database it no longer serves from; null when none did.
const ProxyStatus* answering(const std::vector<ProxyStatus>& statuses, OldSourceRecord* record) {
  for (const ProxyStatus& s : statuses) {
    if (!s.error.empty()) continue;
    record->address =
        s.status.source_of_truth_role == "target" ? s.status.source_address : s.status.target_address;
    return &s;
  }
  return nullptr;
}

}  // namespace

void fence_old_source(const std::vector<ProxyStatus>& statuses, const ProxyAccess& access,
                      OldSourceRecord* record) {
  record->fence_requested = true;
  const ProxyStatus* via = answering(statuses, record);
  if (via == nullptr) {
    record->fence_error = "no proxy answered after the commit";
    return;
  }
  ProxyClient client(via->control_address, access.tls, access.timeout_ms);
  std::string error;
  record->fenced = client.fence_other(true, &error);
  record->fence_error = record->fenced ? "" : error;
}

void watch_old_source(const std::vector<ProxyStatus>& statuses, const ProxyAccess& access, int64_t now_ns,
                      OldSourceRecord* record) {
  record->settled = true;
  record->checked_ns = now_ns;
  const ProxyStatus* via = answering(statuses, record);
  if (via == nullptr) {
    record->note = "not watched: no proxy answered after the commit";
    return;
  }
  ProxyClient client(via->control_address, access.tls, access.timeout_ms);
  std::string error;
  if (!client.other_rows_written(&record->rows_at_commit, &error)) {
    record->note = "not watched: " + error;
    return;
  }
  record->watched = true;
  // After the switch, shadowing goes to the old database: LMS's own copies count there too.
  const std::string& mode = via->status.shadow_mode;
  if (mode != "none") record->note = "includes the proxies' shadowed copies (shadow mode " + mode + ")";
}

bool old_source_writes(const std::string& control_url, const OldSourceRecord& record,
                       const ProxyAccess& access, uint64_t* writes, std::string* error) {
  ProxyClient client(control_url, access.tls, access.timeout_ms);
  uint64_t rows = 0;
  if (!client.other_rows_written(&rows, error)) return false;
  // A counter that went backwards was reset (statistics reset, a restarted server): the count
  // stays where it was rather than be made up.
  *writes = rows >= record.rows_at_commit ? rows - record.rows_at_commit : record.writes;
  return true;
}

bool lift_fence(const std::string& control_url, const ProxyAccess& access, std::string* error) {
  ProxyClient client(control_url, access.tls, access.timeout_ms);
  return client.fence_other(false, error);
}

}  // namespace lms::orchestrator
