// One event-loop thread. It accepts on its own SO_REUSEPORT socket, so the kernel spreads clients
// over the workers, and every session it accepts lives on it until the end: nothing on the data
// path is shared with another thread.
#pragma once

#include <uv.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cancel_registry.h"
#include "chunk_pool.h"
#include "config.h"
#include "endpoint.h"
#include "metrics.h"

namespace lms::core {

class Session;

// What every worker shares, read-only once the workers run (but for the atomics and the registry).
struct ProxyShared {
  const Config* config = nullptr;
  const lms_dialect_functions* dialect = nullptr;  // the source's dialect
  const Endpoint* source = nullptr;
  // Shadowing: set when a target is configured. The shadow plugin decides each request.
  const lms_dialect_functions* target_dialect = nullptr;
  const Endpoint* target = nullptr;
  const lms_shadow_functions* shadow = nullptr;
  void* shadow_state = nullptr;
  std::vector<lms_kv> front_settings;  // auth_method, user, password for the client handshake
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

  // For sessions, on this worker's thread only.
  uv_loop_t* loop() { return &loop_; }
  ChunkPool& pool() { return pool_; }
  WorkerMetrics& mutable_metrics() { return metrics_; }
  ProxyShared& shared() { return shared_; }
  void attach(Session* s);
  void detach(Session* s);

 private:
  static void on_connection(uv_stream_t* listener, int status);
  static void on_stop(uv_async_t* async);

  ProxyShared& shared_;
  unsigned index_;
  uv_loop_t loop_{};
  uv_tcp_t listener_{};
  uv_async_t stop_async_{};
  ChunkPool pool_;
  WorkerMetrics metrics_;
  std::vector<Session*> sessions_;  // for shutdown; a session knows its own index
  std::thread thread_;
  bool bound_ = false;
  bool stopped_ = false;
};

}  // namespace lms::core
