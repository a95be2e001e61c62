// A logged-in connection to one database: the connect (through the one Connector), the dialect's
// back handshake (TLS included, when the connection string asks for it), then a Stream of the
// database's bytes, translated into the client's protocol where the database speaks another.
// The one copy of that, for a session's connection to the source of truth, a shadow link's to the
// other database, and a kept connection taken back from the pool.
//
// A link is reusable: once closed (on_database_closed) it may connect again, as a session does
// when a cutover moves it to the new source of truth. Runs on the owner's loop only.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loop/chunk_pool.h"
#include "endpoint.h"
#include "net/connector.h"
#include "net/stream.h"
#include "translation.h"

namespace lms::core {

class DatabaseLink final : private Connector::Listener, private Stream::Listener {
 public:
  // What the database said when it let lms in.
  struct Login {
    std::string_view welcome;     // its parameters, for the client's own login (the dialect's)
    std::string_view cancel_key;  // its key for cancelling this connection's queries
    sockaddr_storage peer{};      // where cancels go
  };
  // Why a login did not happen.
  struct LoginFailure {
    std::string reason;     // for a log line and the client's error
    std::string code;       // the SQLSTATE
    bool refused = false;   // the database's own error (a missing database, a wrong password)
  };

  class Listener {
   public:
    virtual void on_database_ready(const Login& login) = 0;
    virtual void on_database_login_failed(const LoginFailure& failure) = 0;
    // After the login: the database's bytes, in the client's protocol. The chunk is the listener's.
    virtual void on_database_bytes(Chunk* chunk, size_t len) = 0;
    // After the login: the database ended the connection or a read failed (`status`); a write
    // failed.
    virtual void on_database_lost(int status) = 0;
    virtual void on_database_write_failed(int status) = 0;
    // After the login: TLS broke (`error`), or a translation could not carry a message.
    virtual void on_database_tls_failed(const std::string& error) = 0;
    virtual void on_database_untranslatable(bool from_client, const std::string& error) = 0;
    // A queued write reached the kernel; queued() is what still waits.
    virtual void on_database_wrote() {}
    // Nothing of the connection is open or in flight any more (handles, a DNS lookup).
    virtual void on_database_closed() = 0;

   protected:
    ~Listener() = default;
  };

  enum class State { kIdle, kConnecting, kLoggingIn, kReady, kClosing };

  DatabaseLink(uv_loop_t* loop, ChunkPool& pool, Listener& listener);
  ~DatabaseLink();
  DatabaseLink(const DatabaseLink&) = delete;
  DatabaseLink& operator=(const DatabaseLink&) = delete;

  // Connects to `endpoint` and logs in through `dialect` with `params` (the endpoint's own, then
  // the client's), within `timeout_ms` (0: the owner keeps the deadline). A failure, even to
  // start, is reported through on_database_login_failed, possibly before this returns.
  void connect(const Endpoint& endpoint, const lms_dialect_functions* dialect, const std::vector<lms_kv>& params,
               uint64_t timeout_ms);
  // A connection logged in before (a kept one): ready at once, no callback. 0, or libuv's error
  // (the socket is then still the caller's).
  int adopt(uv_os_sock_t socket, const lms_dialect_functions* dialect);
  // From now on the database is spoken to through `translation`.
  void translate(std::unique_ptr<Translation> translation);
  Translation* translation() const { return translation_.get(); }

  // The client's bytes, translated when the link translates. write takes the chunk.
  void write(Chunk* chunk);
  void write_copy(const uint8_t* data, size_t len);
  // Bytes already in the database's own protocol (a reset, a replayed setting, a goodbye).
  void write_native(const uint8_t* data, size_t len) { stream_.write_copy(data, len); }
  void start_reading();
  void stop_reading() { stream_.stop_reading(); }
  bool reading() const { return stream_.reading(); }
  size_t queued() const { return stream_.queued(); }
  void set_queue_limit(size_t bytes) { stream_.set_queue_limit(bytes); }

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  // Something of it is open or in flight: on_database_closed is still to come.
  bool in_use() const { return stream_.has_handle() || timer_open_ || connector_.lookup_in_flight(); }
  const lms_dialect_functions* dialect() const { return dialect_; }
  const Endpoint* endpoint() const { return endpoint_; }
  Stream& stream() { return stream_; }
  const Stream& stream() const { return stream_; }
  bool tls() const { return stream_.tls() != nullptr; }
  // From now on `listener` hears of this link (a pooled connection lent to a session, or given
  // back to its pool).
  void set_listener(Listener& listener) { listener_ = &listener; }
  // Closes now: nothing more is reported but on_database_closed. Idempotent.
  void close();

 private:
  // Connector::Listener
  void on_connected() override;
  void on_connect_failed(const std::string& reason) override { fail_login(reason); }
  void on_lookup_finished() override { maybe_closed(); }
  // Stream::Listener
  void on_stream_bytes(Stream& stream, Chunk* chunk, size_t len) override;
  void on_stream_ended(Stream& stream, int status) override;
  void on_stream_write_failed(Stream& stream, int status) override;
  void on_stream_wrote(Stream&) override { listener_->on_database_wrote(); }
  void on_stream_tls_failed(Stream& stream) override;
  void on_stream_tls_established(Stream&) override;
  void on_stream_closed(Stream&) override { maybe_closed(); }

  static void on_timeout(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);
  static void emit(void* ctx, const uint8_t* data, size_t len);

  void log_in();
  void fail_login(const std::string& reason, const std::string& code = "08006", bool refused = false);
  void take_translated(const uint8_t* data, size_t len);
  void deliver_translated();
  void maybe_closed();

  uv_loop_t* loop_;
  ChunkPool& pool_;
  Listener* listener_;  // changes hands when a pooled connection is lent (set_listener)
  Stream stream_;
  Connector connector_{*this};
  uv_timer_t timer_{};  // the login's deadline
  bool timer_open_ = false;
  State state_ = State::kIdle;
  bool closed_reported_ = true;  // on_database_closed came for the last use (or none began)

  const Endpoint* endpoint_ = nullptr;
  const lms_dialect_functions* dialect_ = nullptr;
  uint64_t timeout_ms_ = 0;
  void* back_ = nullptr;    // the dialect's back handshake, while logging in
  std::string login_in_;    // the database's bytes during the login
  lms_emitter emitter_{};   // the handshake writes through this

  std::unique_ptr<Translation> translation_;
  std::string translated_;  // from the database, in the client's protocol, not yet taken
  size_t translated_at_ = 0;
  bool delivering_ = false;
};

}  // namespace lms::core
