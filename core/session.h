// One client connection and the database connection it uses, on one worker loop for their whole
// life. A session walks through: the client's handshake (the dialect's front), the connection to
// the source, the source's handshake (the dialect's back), then forwarding, where bytes read from
// one side are written to the other from the very buffer they were read into.
//
// Lifetime: a session deletes itself once every libuv handle it opened has closed and no request
// it started is outstanding. Everything here runs on the owning worker's thread.
#pragma once

#include <uv.h>

#include <string>

#include "frame_scanner.h"
#include "worker.h"

namespace lms::core {

class Session {
 public:
  // Accepts one pending connection from `listener` onto `worker`'s loop.
  static void accept_from(Worker& worker, uv_stream_t* listener);
  // Ends the session at once (worker shutdown).
  void shutdown() { close_now(); }

  size_t index_in_worker = 0;  // maintained by Worker::attach/detach

 private:
  enum class Phase { kFrontHandshake, kConnecting, kBackHandshake, kForwarding, kClosing };

  // Bytes moving one way: read from `from`, written to `to`.
  struct Pump {
    Session* session;
    uv_stream_t* from;
    uv_stream_t* to;
    FrameScanner scanner;
    Chunk* read_chunk = nullptr;  // between libuv's alloc and read callbacks
    size_t queued = 0;            // bytes written to `to` but not yet taken by the kernel
    bool reading = false;
    lms_emitter emitter{};  // handshakes write to `to` through this
  };

  explicit Session(Worker& worker);
  ~Session();

  Pump& pump_fed_by(uv_handle_t* handle) {
    return handle == reinterpret_cast<uv_handle_t*>(&client_) ? to_source_ : to_client_;
  }

  // libuv callbacks
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result);
  static void on_connected(uv_connect_t* req, int status);
  static void on_connect_timeout(uv_timer_t* timer);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_closed(uv_handle_t* handle);
  static void emit_to(void* ctx, const uint8_t* data, size_t len);

  void on_bytes(Pump& pump, Chunk* chunk, size_t len);
  void on_peer_gone(Pump& pump, int status);
  void run_front();
  void run_back();
  void connect_source();
  void connect_to(const sockaddr* address);
  void fail_connect(const std::string& reason, const char* code = "08006");
  void start_forwarding();
  void forward(Pump& pump, Chunk* chunk, size_t len);
  void forward_copy(Pump& pump, const std::string& bytes);
  void on_client_message(const lms_frame& f);
  void on_server_message(const lms_frame& f);
  void write_chunk(Pump& pump, Chunk* chunk);
  void send_copy(Pump& pump, const uint8_t* data, size_t len);
  void send_client_error(const char* severity, const std::string& code, const std::string& message);
  void start_reading(Pump& pump);
  void stop_reading(Pump& pump);
  void close_after_flush();
  void close_now();
  void close_handle(uv_handle_t* handle);
  void maybe_destroy();

  Worker& worker_;
  ProxyShared& shared_;
  const lms_dialect_functions* dialect_;
  uint64_t id_;
  Phase phase_ = Phase::kFrontHandshake;

  uv_tcp_t client_{};
  uv_tcp_t server_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_getaddrinfo_t resolve_req_{};
  uv_shutdown_t shutdown_req_{};
  int handles_open_ = 0;
  int requests_pending_ = 0;  // libuv requests that outlive a handle close (DNS lookups)
  bool server_open_ = false;
  bool timer_open_ = false;

  Pump to_source_;
  Pump to_client_;

  void* front_ = nullptr;
  void* back_ = nullptr;
  std::string front_in_;  // client bytes during the handshake
  std::string back_in_;   // source bytes during the handshake
  std::string client_user_;
  std::string client_database_;
  std::string proxy_cancel_key_;

  // Session state from the messages themselves.
  uint32_t awaiting_ready_ = 0;  // requests sent whose ReadyForQuery has not come back
  uint32_t txn_state_ = LMS_TXN_IDLE;
  bool client_terminating_ = false;
};

}  // namespace lms::core
