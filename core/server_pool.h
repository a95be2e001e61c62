// Database connections whose clients have left, reset to their state right after login and kept
// for the next client that would open the same session: what PgBouncer's session mode does, so a
// client that connects often does not pay for a new database backend (a process, its
// authentication and its cold caches) every time.
//
// One pool per worker, used only on its thread: taking and keeping need no lock. A kept
// connection is a bare socket plus what its handshake said; the session that takes it wraps the
// socket in a handle of its own.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <lms/plugin.h>

#include "metrics.h"

namespace lms::core {

struct KeptConnection {
  uv_os_sock_t socket = -1;
  const lms_dialect_functions* dialect = nullptr;  // to say goodbye when it is closed
  std::string welcome;     // the handshake's welcome, relayed to each client that takes it
  std::string cancel_key;  // the database's, for cancel requests
  sockaddr_storage peer{};
  uint64_t kept_at_ms = 0;
};

class ServerPool {
 public:
  // `kept_gauge` follows how many connections are kept.
  ServerPool(uint32_t capacity, uint64_t idle_timeout_ms, Counter* kept_gauge)
      : capacity_(capacity), idle_timeout_ms_(idle_timeout_ms), kept_gauge_(kept_gauge) {}
  ~ServerPool() { clear(); }
  ServerPool(const ServerPool&) = delete;
  ServerPool& operator=(const ServerPool&) = delete;

  bool enabled() const { return capacity_ > 0; }
  // The most recently kept connection for `key` that is still open and has said nothing since;
  // the others found closed on the way are dropped.
  std::optional<KeptConnection> take(const std::string& key, uint64_t now_ms);
  // Keeps `c` under `key`; closes it when the pool is full.
  void keep(const std::string& key, KeptConnection c, uint64_t now_ms);
  // Closes every connection kept longer than the idle timeout.
  void expire(uint64_t now_ms);
  // Closes every kept connection (a cutover changed the databases; the worker stops).
  void clear();

  // What identifies a session: the database's role and address and every parameter its
  // handshake used. Two sessions with the same key are interchangeable once reset.
  static std::string key_of(uint8_t role, const std::string& endpoint, const std::vector<lms_kv>& params);

 private:
  static void close_kept(KeptConnection& c);
  void count() { kept_gauge_->set(size_); }

  uint32_t capacity_;
  uint64_t idle_timeout_ms_;
  Counter* kept_gauge_;
  size_t size_ = 0;
  std::unordered_map<std::string, std::vector<KeptConnection>> kept_;  // newest last
};

}  // namespace lms::core
