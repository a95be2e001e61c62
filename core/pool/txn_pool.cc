#include "pool/txn_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "config.h"
#include "plugin_loader.h"

namespace lms::core {

TxnPool::TxnPool(uv_loop_t* loop, LoopClock& clock, ChunkPool& chunks, const Config& config,
                 WorkerMetrics& metrics, const lms_dialect_functions* dialect)
    : loop_(loop),
      clock_(clock),
      chunks_(chunks),
      config_(config),
      metrics_(metrics),
      dialect_(dialect),
      enabled_(config.transaction_pooling() && dialect != nullptr && has_pooling(dialect)),
      statement_work_(enabled_ && has_pool_statement_work(dialect)) {}

TxnPool::~TxnPool() = default;

void TxnPool::count(PooledServer::State from, PooledServer::State to) {
  auto gauge = [this](PooledServer::State s) -> Counter* {
    switch (s) {
      case PooledServer::State::kIdle:
        return &metrics_.pool_servers_idle;
      case PooledServer::State::kLent:
        return &metrics_.pool_servers_active;
      case PooledServer::State::kConnecting:
      case PooledServer::State::kCleaning:
        return &metrics_.pool_servers_other;
      case PooledServer::State::kClosing:
        return nullptr;
    }
    return nullptr;
  };
  if (Counter* c = gauge(from)) c->sub();
  if (Counter* c = gauge(to)) c->add();
}

void TxnPool::count_statement_work(PooledServer& server) {
  if (!statement_work_ || server.dialect_state() == nullptr) return;
  uint64_t made = 0;
  uint64_t evicted = 0;
  dialect_->pool_statement_work(server.dialect_state(), &made, &evicted);
  if (made != 0) metrics_.pool_statements_made.add(made);
  if (evicted != 0) metrics_.pool_statements_evicted.add(evicted);
}

PoolSlot& TxnPool::slot(const std::string& key) { return slots_[key]; }

PooledServer* TxnPool::lend(PoolSlot& slot, uint8_t role, PoolWaiter& waiter) {
  slot.role = role;
  if (!slot.idle.empty()) {
    PooledServer* server = slot.idle.back();
    slot.idle.pop_back();
    count(PooledServer::State::kIdle, PooledServer::State::kLent);
    metrics_.pool_statements_prepared.sub(server->counted_statements);
    server->counted_statements = 0;
    server->set_state(PooledServer::State::kLent);
    metrics_.pool_transactions.add();
    metrics_.pool_wait.observe(0);
    return server;
  }
  slot.waiting.push_back({&waiter, clock_.now_ns(), uv_now(loop_) + config_.pool_timeout_ms});
  metrics_.pool_clients_waiting.add();
  grow(slot);
  return nullptr;
}

void TxnPool::grow(Slot& slot) {
  while (!slot.waiting.empty() && slot.connecting < slot.waiting.size() &&
         slot.open < config_.server_pool_size) {
    auto made = std::make_unique<PooledServer>(
        *this, loop_, chunks_, slot, slot.role, dialect_, config_.max_prepared_statements,
        config_.pool_cache_unnamed ? uint32_t{LMS_POOL_CACHE_UNNAMED} : 0u);
    PooledServer& server = *made;
    servers_.emplace(&server, std::move(made));
    ++slot.open;
    ++slot.connecting;
    count(PooledServer::State::kClosing, PooledServer::State::kConnecting);
    // Every waiter of a key logs in alike: the first says how.
    slot.waiting.front().waiter->connect_pool_server(server.link());
  }
}

void TxnPool::stop_waiting(PoolWaiter& waiter) {
  for (auto& [key, slot] : slots_) {
    const auto it = std::find_if(slot.waiting.begin(), slot.waiting.end(),
                                 [&](const Waiting& w) { return w.waiter == &waiter; });
    if (it == slot.waiting.end()) continue;
    slot.waiting.erase(it);
    metrics_.pool_clients_waiting.sub();
    return;
  }
}

void TxnPool::hand_over(Slot& slot, PooledServer& server) {
  const Waiting next = slot.waiting.front();
  slot.waiting.pop_front();
  metrics_.pool_clients_waiting.sub();
  metrics_.pool_wait.observe(clock_.now_ns() - next.since_ns);
  metrics_.pool_transactions.add();
  server.set_state(PooledServer::State::kLent);
  next.waiter->on_server_lent(server);
}

void TxnPool::set_idle(PooledServer& server) {
  server.set_state(PooledServer::State::kIdle);
  server.take_back();
  server.link().start_reading();
  server.set_idle_since(uv_now(loop_));
  server.counted_statements = dialect_->pool_statements(server.dialect_state());
  metrics_.pool_statements_prepared.add(server.counted_statements);
  server.slot().idle.push_back(&server);
}

void TxnPool::on_server_ready(PooledServer& server) {
  Slot& slot = server.slot();
  slot.login.welcome = server.welcome();
  slot.login.cancel_target = server.cancel_target();
  --slot.connecting;
  if (!slot.waiting.empty()) {
    count(PooledServer::State::kConnecting, PooledServer::State::kLent);
    hand_over(slot, server);
    return;
  }
  count(PooledServer::State::kConnecting, PooledServer::State::kIdle);
  set_idle(server);
}

void TxnPool::on_server_failed(PooledServer& server, const DatabaseLink::LoginFailure& failure) {
  Slot& slot = server.slot();
  --slot.connecting;
  --slot.open;
  count(PooledServer::State::kConnecting, PooledServer::State::kClosing);
  server.close();
  // Every waiter of the key would log in alike: each is told why none will come.
  spdlog::warn("pool-mode transaction: cannot log in to the database for {} waiting client(s): {}",
               slot.waiting.size(), failure.reason);
  std::deque<Waiting> refused;
  refused.swap(slot.waiting);
  metrics_.pool_clients_waiting.sub(refused.size());
  for (const Waiting& w : refused) w.waiter->on_server_refused(failure);
}

void TxnPool::give_back(PooledServer& server, uint8_t serving_role) {
  server.take_back();
  count_statement_work(server);
  if (server.role() != serving_role) {
    discard(server);
    return;
  }
  Slot& slot = server.slot();
  if (!slot.waiting.empty()) {
    hand_over(slot, server);
    return;
  }
  count(PooledServer::State::kLent, PooledServer::State::kIdle);
  set_idle(server);
}

void TxnPool::clean(PooledServer& server) {
  count(server.state(), PooledServer::State::kCleaning);
  server.set_idle_since(uv_now(loop_));  // when the rollback began (tick's deadline)
  server.clean();
}

void TxnPool::on_server_cleaned(PooledServer& server) {
  count(PooledServer::State::kCleaning, PooledServer::State::kLent);
  server.set_state(PooledServer::State::kLent);
  give_back(server, server.slot().role);
}

void TxnPool::forget(PooledServer& server) {
  Slot& slot = server.slot();
  if (server.state() == PooledServer::State::kIdle) {
    std::erase(slot.idle, &server);
    metrics_.pool_statements_prepared.sub(server.counted_statements);
    server.counted_statements = 0;
  }
  if (server.state() == PooledServer::State::kConnecting) --slot.connecting;
  if (server.state() != PooledServer::State::kClosing) {
    --slot.open;
    count_statement_work(server);  // its last transaction's, before its state goes with it
  }
  count(server.state(), PooledServer::State::kClosing);
  server.close();
}

void TxnPool::discard(PooledServer& server) {
  if (server.state() == PooledServer::State::kClosing) return;
  forget(server);
  // A waiter may now have room for a connection of its own.
  grow(server.slot());
}

void TxnPool::on_server_lost(PooledServer& server) { discard(server); }

void TxnPool::on_server_closed(PooledServer& server) { servers_.erase(&server); }

void TxnPool::close_idle() {
  for (auto& [key, slot] : slots_) {
    const std::vector<PooledServer*> idle = slot.idle;
    for (PooledServer* server : idle) forget(*server);
  }
}

void TxnPool::tick(uint64_t now_ms) {
  for (auto& [key, slot] : slots_) {
    // One pool-timeout for all: the oldest waiters are first.
    while (!slot.waiting.empty() && slot.waiting.front().deadline_ms <= now_ms) {
      const Waiting late = slot.waiting.front();
      slot.waiting.pop_front();
      metrics_.pool_clients_waiting.sub();
      metrics_.pool_timeouts.add();
      DatabaseLink::LoginFailure failure;
      failure.code = "53300";
      failure.reason = "lms: no database connection became free within pool-timeout (" +
                       std::to_string(config_.pool_timeout_ms) + " ms): all " +
                       std::to_string(config_.server_pool_size) +
                       " of this worker's connections (server-pool-size) for this user and database are busy";
      late.waiter->on_server_refused(failure);
    }
    const std::vector<PooledServer*> idle = slot.idle;
    for (PooledServer* server : idle) {
      if (server->idle_since_ms() + config_.server_idle_timeout_ms <= now_ms) forget(*server);
    }
  }
  close_stuck(now_ms);
}

void TxnPool::close_stuck(uint64_t now_ms) {
  // A connection that has not finished rolling back what a departed client left within the
  // connect timeout is in a state lms cannot follow (a COPY the client abandoned): closed.
  std::vector<PooledServer*> stuck;
  for (auto& [server, owned] : servers_) {
    if (server->state() == PooledServer::State::kCleaning &&
        server->idle_since_ms() + config_.connect_timeout_ms <= now_ms) {
      stuck.push_back(server);
    }
  }
  for (PooledServer* server : stuck) discard(*server);
}

void TxnPool::shut_down() {
  std::vector<PooledServer*> all;
  for (auto& [server, owned] : servers_) all.push_back(server);
  for (PooledServer* server : all) {
    if (server->state() != PooledServer::State::kClosing) forget(*server);
  }
}

}  // namespace lms::core
