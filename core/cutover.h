// One proxy's side of a consistent cutover. `begin` pauses every worker: idle sessions hold their
// clients' next requests, new sessions wait before connecting, busy ones (inside a transaction or
// a query) go on until they are idle; when none is busy the attempt is TrafficPaused. `commit`
// switches the source of truth and resumes; each session moves to the new database with its
// settings and prepared statements. `abort` resumes on the old one.
//
// Thread rules: the public calls come from the control plane's threads and are serialized here;
// workers are reached only through their mailboxes; report_busy comes from worker threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model.h"
#include "loop/worker.h"

namespace lms::core {

class CutoverController {
 public:
  CutoverController(ProxyShared& shared, std::vector<Worker*> workers);
  ~CutoverController();
  CutoverController(const CutoverController&) = delete;
  CutoverController& operator=(const CutoverController&) = delete;

  bool begin(const control::BeginOptions& options, control::Cutover* out, std::string* error);
  bool commit(uint64_t id, control::Cutover* out, std::string* error);
  bool abort(uint64_t id, control::Cutover* out, std::string* error);
  control::Cutover current() const;
  bool transitioning() const;
  // The display name and role of the database serving now.
  std::string truth_name() const;
  std::string truth_role() const;
  // Prometheus lines for the cutover state.
  std::string render_metrics() const;

  // With a state file (the state-file setting): takes up the source of truth and any cutover in
  // progress a previous run of this proxy left. Call before the workers start: a proxy that was
  // paused comes back paused, for the orchestrator to commit or abort. False with *error when the
  // file exists but cannot be read.
  bool restore(std::string* error);

  // Worker `index` has `busy` sessions still busy (while paused). Any worker thread.
  void report_busy(unsigned index, uint32_t busy);
  // Ends the watch of a pausing attempt (process shutdown).
  void stop();

 private:
  // Waits for every worker to report no busy session, bounded by the attempt's begin-timeout.
  void watch(uint64_t id, uint32_t timeout_ms, bool abort_on_timeout);
  // Runs `task` on every worker's thread and waits until each has run it.
  bool on_every_worker(const std::function<void(Worker&)>& task);
  bool all_idle_locked() const;
  uint32_t busy_locked() const;
  // What the record says that is read live: the source of truth, the busy sessions, and what the
  // attempt cost clients so far.
  void fill_live_locked(control::Cutover* c) const;

  // The workers' running counts a record subtracts its begin's from.
  struct Tally {
    uint64_t requests_held = 0;
    uint64_t logins_held = 0;
    uint64_t sessions_ended = 0;
    uint64_t replayed = 0;
    uint64_t replay_failed = 0;
  };
  Tally tally() const;
  // Writes attempt `id`, its status and the source of truth to the state file, durably, if there is
  // one. Called without mutex_: a disk must never hold up a worker's report.
  bool persist(uint64_t id, const char* status, uint8_t truth, std::string* error) const;

  ProxyShared& shared_;
  std::vector<Worker*> workers_;
  std::mutex op_mutex_;  // one begin / commit / abort at a time
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  control::Cutover record_;
  Tally tally_at_begin_;
  std::vector<uint32_t> busy_;  // per worker; kUnreported until its first report
  uint64_t pauses_total_ = 0;
  int64_t last_pause_ns_ = 0;  // trigger to traffic paused, of the last attempt that paused
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace lms::core
