#include "cutover.h"

#include <lms/control.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>

#include "durable_file.h"
#include "json.h"
#include "prometheus_text.h"
#include "loop/worker_fanout.h"

namespace lms::core {
namespace {

constexpr uint32_t kUnreported = UINT32_MAX;
// A worker answers its mailbox within a loop iteration; this bounds a wedged one.

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool in_progress(const std::string& status) {
  return status == LMS_CUTOVER_BEGAN || status == LMS_CUTOVER_PAUSED;
}

}  // namespace

CutoverController::CutoverController(ProxyShared& shared, std::vector<Worker*> workers)
    : shared_(shared), workers_(std::move(workers)), busy_(workers_.size(), kUnreported) {}

CutoverController::~CutoverController() { stop(); }

void CutoverController::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::string CutoverController::truth_name() const {
  const bool target = shared_.truth.load() == kTargetRole;
  return control::display_dialect(target ? shared_.config->target_dialect : shared_.config->source_dialect);
}

std::string CutoverController::truth_role() const {
  return shared_.truth.load() == kTargetRole ? "target" : "source";
}

CutoverController::Tally CutoverController::tally() const {
  Tally t;
  for (const Worker* w : workers_) {
    const WorkerMetrics& m = w->metrics();
    t.requests_held += m.cutover_requests_held.get();
    t.logins_held += m.cutover_connections_held.get();
    t.sessions_ended += m.cutover_sessions_ended.get();
    t.replayed += m.cutover_statements_replayed.get();
    t.replay_failed += m.cutover_replay_failures.get();
  }
  return t;
}

void CutoverController::fill_live_locked(control::Cutover* c) const {
  c->source_of_truth = truth_name();
  c->source_of_truth_role = truth_role();
  c->busy_sessions = c->status == LMS_CUTOVER_BEGAN ? busy_locked() : 0;
  if (record_.id == 0 || record_.trigger_time_ns == 0) return;
  const Tally now = tally();
  auto since_begin = [](uint64_t now_count, uint64_t begin_count) {
    return static_cast<uint32_t>(now_count >= begin_count ? now_count - begin_count : 0);
  };
  c->requests_queued = since_begin(now.requests_held, tally_at_begin_.requests_held);
  c->connections_queued = since_begin(now.logins_held, tally_at_begin_.logins_held);
  c->sessions_ended = since_begin(now.sessions_ended, tally_at_begin_.sessions_ended);
  // Sessions carry their state over as each reaches the new database, after the commit.
  c->statements_replayed = since_begin(now.replayed, tally_at_begin_.replayed);
  c->statements_failed = since_begin(now.replay_failed, tally_at_begin_.replay_failed);
  // Every held request is released at once, so the first one held waited longest: from then to
  // the release (or to now, while paused).
  int64_t first_hold = 0;
  for (const Worker* w : workers_) {
    const auto held = static_cast<int64_t>(w->metrics().cutover_first_hold_ns.get());
    if (held >= record_.trigger_time_ns && (first_hold == 0 || held < first_hold)) first_hold = held;
  }
  if (first_hold != 0) {
    const int64_t released = record_.commit_time_ns != 0 ? record_.commit_time_ns : now_ns();
    c->longest_stall_ns = static_cast<uint64_t>(std::max<int64_t>(released - first_hold, 0));
  }
}

control::Cutover CutoverController::current() const {
  std::lock_guard lock(mutex_);
  control::Cutover c = record_;
  fill_live_locked(&c);
  return c;
}

bool CutoverController::transitioning() const {
  std::lock_guard lock(mutex_);
  return in_progress(record_.status);
}

uint32_t CutoverController::busy_locked() const {
  uint32_t total = 0;
  for (const uint32_t b : busy_) total += b == kUnreported ? 0 : b;
  return total;
}

bool CutoverController::all_idle_locked() const {
  for (const uint32_t b : busy_) {
    if (b != 0) return false;
  }
  return true;
}

void CutoverController::report_busy(unsigned index, uint32_t busy) {
  {
    std::lock_guard lock(mutex_);
    if (index < busy_.size()) busy_[index] = busy;
  }
  changed_.notify_all();
}

bool CutoverController::on_every_worker(const std::function<void(Worker&)>& task) {
  const bool all = run_on_every_worker(workers_, task);
  if (!all) spdlog::error("cutover: a worker did not answer within {} s", kWorkerAnswerTimeout.count());
  return all;
}

bool CutoverController::persist(uint64_t id, const char* status, uint8_t truth, std::string* error) const {
  const std::string& path = shared_.config->state_file;
  if (path.empty()) return true;
  const nlohmann::json state{
      {"id", id}, {"status", status}, {"source_of_truth_role", truth == kTargetRole ? "target" : "source"}};
  if (control::replace_file_durably(path, state.dump() + "\n", error)) return true;
  *error = "cannot write the state file, so the cutover step was not taken: " + *error;
  spdlog::error("{}", *error);
  return false;
}

bool CutoverController::restore(std::string* error) {
  const std::string& path = shared_.config->state_file;
  if (path.empty()) return true;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return true;  // never cut over
    *error = "state-file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::lock_guard lock(mutex_);
  try {
    const auto state = nlohmann::json::parse(text.str());
    record_.id = state.at("id").get<uint64_t>();
    record_.status = state.at("status").get<std::string>();
    const std::string role = state.at("source_of_truth_role").get<std::string>();
    if (role != "source" && role != "target")
      throw std::invalid_argument("unknown source_of_truth_role " + role);
    if (role == "target" && shared_.target == nullptr) {
      *error = "state-file " + path + " says the target is the source of truth, but no target is configured";
      return false;
    }
    shared_.truth.store(role == "target" ? kTargetRole : kSourceRole);
  } catch (const std::exception& e) {
    *error = "state-file " + path + ": not a state this proxy can read: " + e.what();
    return false;
  }
  if (in_progress(record_.status)) {
    // Stopped while paused: nothing runs until the orchestrator commits or aborts this attempt.
    record_.status = LMS_CUTOVER_PAUSED;
    record_.trigger_time_ns = record_.paused_time_ns = now_ns();
    for (Worker* w : workers_) w->start_paused();
    spdlog::warn(
        "cutover {} was in progress when this proxy stopped: traffic stays paused until it is committed "
        "or aborted",
        record_.id);
  }
  spdlog::info("state-file {}: the source of truth is the {} (last cutover {}: {})", path, truth_role(),
               record_.id, record_.status);
  return true;
}

bool CutoverController::begin(const control::BeginOptions& options, control::Cutover* out,
                              std::string* error) {
  std::lock_guard op(op_mutex_);
  if (shared_.target == nullptr) {
    *error = "no target database is configured: a cutover needs --target (or INIT_TARGET)";
    return false;
  }
  if (options.id == 0) {
    *error = "a cutover attempt needs an ID above 0";
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    if (record_.id == options.id && in_progress(record_.status)) {
      *out = record_;
      fill_live_locked(out);
      return true;
    }
    if (in_progress(record_.status)) {
      *error = "cutover attempt " + std::to_string(record_.id) + " is in progress (" + record_.status +
               "): commit or abort it first";
      return false;
    }
    if (options.id <= record_.id) {
      *error = "cutover attempt " + std::to_string(options.id) + " is not newer than the last one (" +
               std::to_string(record_.id) + ")";
      return false;
    }
  }
  // Written down first (op_mutex_ keeps every other step out meanwhile), without holding mutex_:
  // workers report to it while paused, and must not wait on a disk.
  if (!persist(options.id, LMS_CUTOVER_BEGAN, shared_.truth.load(), error)) return false;
  {
    std::lock_guard lock(mutex_);
    record_ = control::Cutover{};
    record_.id = options.id;
    record_.status = LMS_CUTOVER_BEGAN;
    record_.trigger_time_ns = now_ns();
    tally_at_begin_ = tally();
    busy_.assign(workers_.size(), kUnreported);
  }
  if (watcher_.joinable()) watcher_.join();
  spdlog::info(
      "cutover {}: pausing traffic (begin-timeout {})", options.id,
      options.begin_timeout_ms == 0 ? std::string("none") : std::to_string(options.begin_timeout_ms) + " ms");
  on_every_worker([](Worker& w) { w.pause(); });
  watcher_ =
      std::thread([this, options] { watch(options.id, options.begin_timeout_ms, options.abort_on_timeout); });
  *out = current();
  return true;
}

void CutoverController::watch(uint64_t id, uint32_t timeout_ms, bool abort_on_timeout) {
  std::unique_lock lock(mutex_);
  auto settled = [&] {
    return stopping_ || record_.id != id || record_.status != LMS_CUTOVER_BEGAN || all_idle_locked();
  };
  if (timeout_ms > 0 && !changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), settled)) {
    const uint32_t busy = busy_locked();
    if (abort_on_timeout) {
      record_.status = LMS_CUTOVER_ERROR;
      record_.error = "begin-timeout of " + std::to_string(timeout_ms) + " ms expired with " +
                      std::to_string(busy) +
                      " sessions still busy; the cutover was abandoned and traffic resumed untouched";
      record_.commit_time_ns = now_ns();
      spdlog::warn("cutover {}: {}", id, record_.error);
      lock.unlock();
      std::string error;
      persist(id, LMS_CUTOVER_ERROR, shared_.truth.load(), &error);  // if not, a restart waits paused: safe
      on_every_worker([](Worker& w) { w.resume(); });
      return;
    }
    spdlog::warn("cutover {}: begin-timeout of {} ms expired; ending {} busy sessions", id, timeout_ms, busy);
    lock.unlock();
    on_every_worker([](Worker& w) { w.end_busy_sessions(); });
    lock.lock();
  }
  changed_.wait(lock, settled);
  if (stopping_ || record_.id != id || record_.status != LMS_CUTOVER_BEGAN) return;
  record_.status = LMS_CUTOVER_PAUSED;
  record_.paused_time_ns = now_ns();
  last_pause_ns_ = record_.paused_time_ns - record_.trigger_time_ns;
  ++pauses_total_;
  spdlog::info("cutover {}: traffic paused after {:.1f} ms", id, static_cast<double>(last_pause_ns_) / 1e6);
}

bool CutoverController::commit(uint64_t id, control::Cutover* out, std::string* error) {
  std::lock_guard op(op_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (record_.id == id && record_.status == LMS_CUTOVER_COMMITTED) {
      *out = record_;
      fill_live_locked(out);
      return true;
    }
    if (record_.id != id || record_.status != LMS_CUTOVER_PAUSED) {
      *error = "cannot commit cutover attempt " + std::to_string(id) + ": " +
               (record_.id != id ? "this proxy's current attempt is " + std::to_string(record_.id)
                                 : "its status is " + record_.status + ", not " + LMS_CUTOVER_PAUSED);
      return false;
    }
  }
  const uint8_t next = shared_.truth.load() == kTargetRole ? kSourceRole : kTargetRole;
  // Written down before anything switches: a proxy that restarts after this serves from the new
  // source of truth, never from the old one while the others use the new.
  if (!persist(id, LMS_CUTOVER_COMMITTED, next, error)) return false;
  shared_.truth.store(next);
  on_every_worker([](Worker& w) { w.resume(); });
  {
    std::lock_guard lock(mutex_);
    record_.status = LMS_CUTOVER_COMMITTED;
    record_.commit_time_ns = now_ns();
    *out = record_;
    fill_live_locked(out);
  }
  spdlog::info("cutover {}: committed; the source of truth is now the {} ({})", id, truth_role(),
               shared_.endpoint(next).describe());
  return true;
}

bool CutoverController::abort(uint64_t id, control::Cutover* out, std::string* error) {
  std::lock_guard op(op_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (record_.id == id && record_.status == LMS_CUTOVER_COMMITTED) {
      *error = "cutover attempt " + std::to_string(id) +
               " is already committed: to go back, begin and commit a new cutover";
      return false;
    }
    if (record_.id != id || !in_progress(record_.status)) {
      // Nothing of that attempt is under way here (it never reached this proxy, or it ended).
      *out = record_;
      fill_live_locked(out);
      return true;
    }
    record_.status = LMS_CUTOVER_ABORTED;
    record_.commit_time_ns = now_ns();
  }
  std::string ignored;
  persist(id, LMS_CUTOVER_ABORTED, shared_.truth.load(), &ignored);  // if not, a restart waits paused: safe
  changed_.notify_all();
  on_every_worker([](Worker& w) { w.resume(); });
  spdlog::info("cutover {}: aborted; traffic resumed on the {}", id, truth_role());
  *out = current();
  return true;
}

std::string CutoverController::render_metrics() const {
  std::lock_guard lock(mutex_);
  metrics::PrometheusText out;
  out.single("lms_cutover_paused", "gauge", "Whether traffic is paused (or pausing) for a cutover.",
             uint64_t{in_progress(record_.status) ? 1u : 0u});
  out.single("lms_cutover_busy_sessions", "gauge", "Sessions a pausing cutover still waits for.",
             uint64_t{record_.status == LMS_CUTOVER_BEGAN ? busy_locked() : 0u});
  out.single("lms_cutover_last_pause_seconds", "gauge", "Time from begin to traffic paused, last attempt.",
             static_cast<double>(last_pause_ns_) / 1e9);
  out.single("lms_cutover_source_of_truth", "gauge", "Which configured database serves (0 source, 1 target).",
             uint64_t{shared_.truth.load()});
  return out.str();
}

}  // namespace lms::core
