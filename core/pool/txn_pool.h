// The database connections of one worker in pool-mode transaction: per key (the database, its
// address, the user and what logs it in), at most server-pool-size connections, each lent to one
// client for one transaction at a time. Clients that find none free wait in order, each at most
// pool-timeout.
//
// Per worker, not shared: a connection lives on its loop with the sessions it serves, so lending
// and giving back take no lock; with W workers a key has at most W x server-pool-size
// connections, which is what pg_stat_activity shows.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/database_link.h"
#include "loop/loop_clock.h"
#include "metrics.h"
#include "pool/pooled_server.h"

namespace lms::core {

struct Config;

// A session that waits for a connection.
class PoolWaiter {
 public:
  // `server` is the waiter's until it gives it back.
  virtual void on_server_lent(PooledServer& server) = 0;
  // No connection will come: the database refused the login, or pool-timeout expired.
  virtual void on_server_refused(const DatabaseLink::LoginFailure& failure) = 0;
  // Starts `link`'s login as this waiter would log in (its user, its database).
  virtual void connect_pool_server(DatabaseLink& link) = 0;

 protected:
  ~PoolWaiter() = default;
};

// One key's connections and the clients waiting for one. Made at a key's first use and kept for
// the worker's life (there are few keys: users x databases x the source of truth), so sessions and
// connections hold it by reference and no lend looks the key up.
struct PoolSlot {
  struct Waiting {
    PoolWaiter* waiter;
    uint64_t since_ns;
    uint64_t deadline_ms;
  };
  // What the last connection said at its login (see TxnPool::last_login).
  struct Login {
    std::string welcome;
    std::shared_ptr<const CancelTarget> cancel_target;
  };

  std::vector<PooledServer*> idle;  // most recently used last
  size_t open = 0;                  // every connection of the key that is not closing
  size_t connecting = 0;
  std::deque<Waiting> waiting;
  uint8_t role = 0;
  Login login;  // empty welcome: none yet
};

class TxnPool {
 public:
  TxnPool(uv_loop_t* loop, LoopClock& clock, ChunkPool& chunks, const Config& config, WorkerMetrics& metrics,
          const lms_dialect_functions* dialect);
  ~TxnPool();
  TxnPool(const TxnPool&) = delete;
  TxnPool& operator=(const TxnPool&) = delete;

  bool enabled() const { return enabled_; }
  // The slot of `key` (made at its first use).
  PoolSlot& slot(const std::string& key);
  // A connection of `slot` to the database of `role`: an idle one at once, else nullptr and
  // `waiter` hears later (a new connection is made while the key has fewer than the size).
  PooledServer* lend(PoolSlot& slot, uint8_t role, PoolWaiter& waiter);
  // What the last connection of `slot` said at its login, once one has logged in: a client logs
  // in with it without waiting for a connection (the pool may be busy for longer than a login
  // should take). Null before the first.
  using Login = PoolSlot::Login;
  static const Login* last_login(const PoolSlot& slot) {
    return slot.login.welcome.empty() ? nullptr : &slot.login;
  }
  // An idle connection of `slot` is there now.
  static bool has_idle(const PoolSlot& slot) { return !slot.idle.empty(); }
  // The waiter wants none any more (it left).
  void stop_waiting(PoolWaiter& waiter);
  // The transaction is over: the connection serves the next waiter, or waits idle. One to a
  // database that no longer serves (`serving_role`) is closed.
  void give_back(PooledServer& server, uint8_t serving_role);
  // The client left inside its transaction: rolled back, then idle.
  void clean(PooledServer& server);
  // Its state is unknown (the client left in the middle of a message) or it broke: closed.
  void discard(PooledServer& server);
  // A cutover changed the source of truth: idle connections close; lent ones close when given back.
  void close_idle();
  // Pool timeouts, and idle connections past server-idle-timeout.
  void tick(uint64_t now_ms);
  // The worker stops.
  void shut_down();

  // From PooledServer.
  void on_server_ready(PooledServer& server);
  void on_server_failed(PooledServer& server, const DatabaseLink::LoginFailure& failure);
  void on_server_cleaned(PooledServer& server);
  void on_server_lost(PooledServer& server);
  void on_server_closed(PooledServer& server);

 private:
  using Slot = PoolSlot;
  using Waiting = PoolSlot::Waiting;

  void set_idle(PooledServer& server);
  void hand_over(Slot& slot, PooledServer& server);
  // Opens connections while waiters outnumber the ones logging in and the key has room.
  void grow(Slot& slot);
  void forget(PooledServer& server);
  void close_stuck(uint64_t now_ms);
  void count(PooledServer::State from, PooledServer::State to);
  // Adds what the connection did with statements since the last count to the metrics.
  void count_statement_work(PooledServer& server);

  uv_loop_t* loop_;
  LoopClock& clock_;
  ChunkPool& chunks_;
  const Config& config_;
  WorkerMetrics& metrics_;
  const lms_dialect_functions* dialect_;
  bool enabled_;
  bool statement_work_;  // the dialect counts it (ABI 1.11)
  std::unordered_map<std::string, Slot> slots_;
  std::unordered_map<PooledServer*, std::unique_ptr<PooledServer>> servers_;
};

}  // namespace lms::core
