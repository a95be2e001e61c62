// Maps the cancel keys the proxy hands to clients onto the database sessions they stand for.
// Touched when a session starts and ends and when a cancel request arrives, never per message, so
// a mutex is fine; a cancel request may arrive on any worker loop.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace lms::core {

struct LentCancel;

struct CancelTarget {
  sockaddr_storage address{};  // the database the session is connected to
  std::string database_key;    // the key the database gave that session
  // pool-mode transaction: the session holds a connection only during a transaction; a cancel
  // goes to the one lent now (none: nothing runs, nothing to cancel).
  std::shared_ptr<LentCancel> lent;
};

class Worker;

// Which connection a pooled session holds changes with every transaction, and only its own worker
// knows: a cancel request that finds this is posted there (Worker::post) and reads `now` on that
// thread. So lending and giving back store a plain pointer: no atomic on the data path, which
// two atomic shared_ptr stores per transaction had been.
struct LentCancel {
  explicit LentCancel(Worker& owner) : owner(owner) {}
  Worker& owner;
  // The lent connection's target, or null between transactions; on the owner's thread only. The
  // session clears it before the connection can go away.
  const CancelTarget* now = nullptr;
};

class CancelRegistry {
 public:
  // Registers a target and returns the key the client is to be given: the first `shown` bytes of
  // the database's own key as they are (PostgreSQL's backend PID, which drivers report), the rest
  // fresh random bytes, so the whole key stays unguessable and unique.
  std::string add(size_t key_len, size_t shown, CancelTarget target);
  void remove(const std::string& proxy_key);
  // The session behind `proxy_key` now runs on another database (after a cutover); the client
  // keeps its key.
  void update(const std::string& proxy_key, CancelTarget target);
  std::optional<CancelTarget> find(const std::string& proxy_key) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, CancelTarget> targets_;
};

}  // namespace lms::core
