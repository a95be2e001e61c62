// One TCP connection on a worker's loop, as the rest of the core sees it: bytes read arrive in
// chunks from the worker's pool, bytes written go out with a try-write first and a queue of
// chunks for what the kernel did not take, and an optional TLS layer sits between the two so the
// owner only ever sees plain bytes. One state says whether the handle is usable; closing is
// idempotent and reported once the handle is gone.
//
// The one copy of that, for a session's client and database connections and a shadow link's.
// The owner (its Listener) decides what backpressure means: it reads queued() after writing and
// stops reading the other side, or gives up, as its job says. Runs on the owner's loop only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "loop/chunk_pool.h"
#include "tls_channel.h"

namespace lms::core {

class Stream {
 public:
  class Listener {
   public:
    // Plain bytes read: `chunk` belongs to the listener now (it writes it on or returns it).
    virtual void on_stream_bytes(Stream& stream, Chunk* chunk, size_t len) = 0;
    // The peer ended the connection (EOF, a reset, TLS close_notify) or a read failed.
    virtual void on_stream_ended(Stream& stream, int status) = 0;
    // A write failed; the stream is still open (the listener closes it as its job says).
    virtual void on_stream_write_failed(Stream& stream, int status) = 0;
    // A queued write reached the kernel; queued() is what still waits.
    virtual void on_stream_wrote(Stream& stream) = 0;
    // TLS broke; tls()->error() says why.
    virtual void on_stream_tls_failed(Stream& stream) = 0;
    // The TLS handshake finished.
    virtual void on_stream_tls_established(Stream&) {}
    // Everything written before shutdown() reached the kernel (or the peer is gone).
    virtual void on_stream_shut_down(Stream&) {}
    // The handle has closed: the last call about this connection.
    virtual void on_stream_closed(Stream& stream) = 0;

   protected:
    ~Listener() = default;
  };

  enum class State {
    kUnopened,      // no handle yet, or the last one has closed
    kOpen,          // reads and writes
    kShuttingDown,  // writes queued so far are flushing; nothing new is read or written
    kClosing        // the handle is closing; on_stream_closed comes next
  };

  Stream(uv_loop_t* loop, ChunkPool& pool, Listener& listener) : loop_(loop), pool_(pool), listener_(listener) {}
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Makes the handle (kUnopened → kOpen). The owner then accepts, connects or adopts onto tcp().
  void open();
  // Adopts a connected socket (a kept connection): 0, or libuv's error (the descriptor is then
  // still the caller's).
  int adopt(uv_os_sock_t socket);
  uv_tcp_t* tcp() { return &tcp_; }
  const uv_tcp_t* tcp() const { return &tcp_; }
  uv_stream_t* handle() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  State state() const { return state_; }
  bool is_open() const { return state_ == State::kOpen; }
  // A handle exists (open, shutting down or closing): the owner waits for on_stream_closed.
  bool has_handle() const { return state_ != State::kUnopened; }

  void start_reading();
  void stop_reading();
  bool reading() const { return reading_; }
  // Handles `len` bytes as if they had just been read from the socket (ciphertext when TLS is on):
  // what arrived before the owner was ready for it. Takes the chunk.
  void replay_read(Chunk* chunk, size_t len);

  // Writes the chunk's `len` bytes (through TLS when on). Takes the chunk.
  void write(Chunk* chunk);
  // Writes a copy of the bytes.
  void write_copy(const uint8_t* data, size_t len);
  // Writes what the socket takes now and drops the rest, reporting nothing: a goodbye on a
  // connection about to close, where a failure changes nothing.
  void try_write_copy(const uint8_t* data, size_t len);
  // Bytes written but not yet taken by the kernel.
  size_t queued() const { return queued_; }
  // A write that would queue more than `bytes` is refused: nothing of it is queued and the
  // listener hears on_stream_write_failed(UV_ENOBUFS). Unlimited by default (the owner stops
  // reading the other side instead).
  void set_queue_limit(size_t bytes) { queue_limit_ = bytes; }

  // TLS from here on. For a client role the ClientHello goes out at once. False if it failed.
  bool start_tls(SSL_CTX* ctx, TlsChannel::Role role, const std::string& verify_host = "");
  TlsChannel* tls() const { return tls_.get(); }

  // Flushes what is queued, then closes; on_stream_shut_down says when flushed.
  void shutdown();
  // Closes now; what is queued is dropped. Idempotent.
  void close();

 private:
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_closed(uv_handle_t* handle);

  void read_through_tls(Chunk* cipher, size_t len);
  void flush_tls();
  void write_raw(Chunk* chunk);

  uv_loop_t* loop_;
  ChunkPool& pool_;
  Listener& listener_;
  uv_tcp_t tcp_{};
  uv_shutdown_t shutdown_req_{};
  State state_ = State::kUnopened;
  bool reading_ = false;
  Chunk* read_chunk_ = nullptr;  // between libuv's alloc and read callbacks
  size_t queued_ = 0;
  size_t queue_limit_ = SIZE_MAX;
  std::unique_ptr<TlsChannel> tls_;
};

}  // namespace lms::core
