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

#include "cancel_registry.h"
#include "chunk_pool.h"
#include "config.h"
#include "endpoint.h"
#include "metrics.h"
#include "server_pool.h"
#include "tls_context.h"
#include "validation.h"

namespace lms::core {

class Session;
class CutoverController;

// The two databases by the role the configuration gives them; which one is the source of truth
// changes with each committed cutover.
enum Role : uint8_t { kSourceRole = 0, kTargetRole = 1 };

// What every worker shares, read-only once the workers run (but for the atomics and the registry).
struct ProxyShared {
  const Config* config = nullptr;
  const lms_dialect_functions* dialect = nullptr;  // the source's dialect: the clients' protocol
  const Endpoint* source = nullptr;
  // Set when a target is configured: shadowing and cutover need it. The shadow plugin decides
  // each request.
  const lms_dialect_functions* target_dialect = nullptr;
  const Endpoint* target = nullptr;
  // Which database serves. Written only by the cutover controller while every worker is paused;
  // a session reads it when it connects or switches.
  std::atomic<uint8_t> truth{kSourceRole};
  CutoverController* cutover = nullptr;

  const Endpoint& endpoint(uint8_t role) const { return role == kTargetRole ? *target : *source; }
  const lms_dialect_functions* dialect_of(uint8_t role) const {
    return role == kTargetRole ? target_dialect : dialect;
  }
  // The target speaks another protocol than the clients: its connections go through a
  // Translation (a MySQL client, a CockroachDB target).
  bool target_translated = false;
  bool translated(uint8_t role) const { return role == kTargetRole && target_translated; }
  const lms_shadow_functions* shadow = nullptr;
  void* shadow_state = nullptr;
  std::vector<lms_kv> front_settings;  // auth_method, user, password for the client handshake
  ValidationSettings validation;
  const ClientTls* client_tls = nullptr;  // TLS with clients; never null once running
  CancelRegistry cancels;
  std::atomic<uint32_t> open_sessions{0};
};

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
  void end_busy_sessions();
  bool paused() const { return paused_; }
  // Graceful shutdown (SIGTERM), on this worker's thread: new clients are no longer accepted and
  // every session ends at its first idle moment, never inside a transaction or a query.
  void drain();
  // shutdown-grace expired: the sessions still busy end too (their transactions roll back).
  void end_sessions_for_shutdown();
  // A session may have stopped being busy (or started closing).
  void session_changed() {
    if (paused_) report_busy();
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
  ServerPool& server_pool() { return server_pool_; }
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
  uint32_t last_busy_reported_ = UINT32_MAX;
  ChunkPool pool_;
  WorkerMetrics metrics_;
  ServerPool server_pool_;   // after metrics_, whose gauge it keeps
  uv_timer_t pool_timer_{};  // closes kept connections past server-idle-timeout
  bool pool_timer_open_ = false;
  Validator validator_{shared_, metrics_};
  std::vector<Session*> sessions_;  // for shutdown; a session knows its own index
  std::thread thread_;
  bool bound_ = false;
  bool stopped_ = false;
};

}  // namespace lms::core
