// One event-loop thread. It accepts on its own SO_REUSEPORT socket, so the kernel spreads clients
// over the workers, and every session it accepts lives on it until the end: nothing on the data
// path is shared with another thread.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loop/chunk_pool.h"
#include "loop/loop_clock.h"
#include "metrics.h"
#include "pool/txn_pool.h"
#include "server_pool.h"
#include "shared.h"
#include "validation.h"

namespace lms::core {

class Session;

class Worker {
 public:
  Worker(ProxyShared& shared, unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds the listening socket. Runs on the starting thread, so an address in use is reported
  // before anything starts.
  bool bind(std::string* error);
  void start();
  // Stops accepting, closes every session, and joins the thread.
  void stop();

  const WorkerMetrics& metrics() const { return metrics_; }
  unsigned index() const { return index_; }

  // Runs `task` on this worker's thread, soon. Any thread; the control plane's only way in.
  void post(std::function<void()> task);

  // Cutover, on this worker's thread (through post). While paused, idle sessions hold their
  // clients' next requests and new sessions wait before connecting; the controller hears how many
  // sessions are still busy each time that number may have changed.
  void pause();
  // Before start(): the worker begins paused (a restarted proxy in the middle of a cutover).
  void start_paused() { paused_ = true; }
  void resume();
  // A session started waiting for the pause to end: a login (true) or a request; the first of a
  // pause is stamped, so the cutover's record can tell the longest stall.
  void note_hold(bool login);
  void end_busy_sessions();
  bool paused() const { return paused_; }
  // Graceful shutdown (SIGTERM), on this worker's thread: new clients are no longer accepted and
  // every session ends at its first idle moment, never inside a transaction or a query.
  void drain();
  // shutdown-grace expired: the sessions still busy end too (their transactions roll back).
  void end_sessions_for_shutdown();
  // `s` may have stopped (or started) being busy, or started closing. While paused, the busy
  // count follows each session's own transitions: no scan of every session per event.
  void session_changed(Session& s) {
    if (paused_) recount(s);
    if (draining_) end_idle_sessions();
  }
  // Visits every session (control plane snapshots).
  template <typename Visit>
  void for_each_session(Visit&& visit) {
    for (Session* s : sessions_) visit(*s);
  }

  // For sessions, on this worker's thread only.
  uv_loop_t* loop() { return &loop_; }
  ChunkPool& pool() { return pool_; }
  // The time as of this turn of the loop (loop_clock.h), for what the data path measures.
  uint64_t now_ns() { return clock_.now_ns(); }
  ServerPool& server_pool() { return server_pool_; }
  TxnPool& txn_pool() { return txn_pool_; }
  bool draining() const { return draining_; }
  WorkerMetrics& mutable_metrics() { return metrics_; }
  ProxyShared& shared() { return shared_; }
  Validator& validator() { return validator_; }
  void attach(Session* s);
  void detach(Session* s);

 private:
  static void on_connection(uv_stream_t* listener, int status);
  static void on_stop(uv_async_t* async);
  static void on_mail(uv_async_t* async);
  // Counts every session afresh (a pause begins) and reports the number to the controller.
  void count_busy();
  // One session's share of the count, after it changed.
  void recount(Session& s);
  void report_busy();
  void end_idle_sessions();
  static void on_pool_timer(uv_timer_t* timer);

  ProxyShared& shared_;
  unsigned index_;
  uv_loop_t loop_{};
  uv_tcp_t listener_{};
  uv_async_t stop_async_{};
  uv_async_t mail_async_{};
  std::mutex mail_mutex_;
  std::vector<std::function<void()>> mail_;
  bool paused_ = false;
  bool draining_ = false;
  bool ending_idle_ = false;  // end_idle_sessions is running (ending a session calls it again)
  uint32_t busy_ = 0;         // sessions counted busy (Session::counted_busy) while paused
  uint32_t last_busy_reported_ = UINT32_MAX;
  ChunkPool pool_;
  LoopClock clock_;
  WorkerMetrics metrics_;
  ServerPool server_pool_;   // after metrics_, whose gauge it keeps
  uv_timer_t pool_timer_{};  // closes kept connections past server-idle-timeout
  bool pool_timer_open_ = false;
  TxnPool txn_pool_;  // pool-mode transaction: the connections lent per transaction
  uint8_t truth_at_pause_ = 0;
  Validator validator_{shared_, metrics_};
  std::vector<Session*> sessions_;  // for shutdown; a session knows its own index
  std::thread thread_;
  bool bound_ = false;
  bool stopped_ = false;
};

}  // namespace lms::core
