// One database connection of a transaction pool (pool-mode transaction): logged in once as one
// user to one database, then lent to one client's transaction after another. While lent, the
// session it serves hears its link; while idle, the connection listens itself (the database may
// close it, or report a setting's new value). A client that leaves inside a transaction hands it
// back to roll that transaction back first (cleaning), its answers discarded.
//
// Lives on its worker's loop; owned by its TxnPool, freed once its link has closed.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <memory>
#include <string>

#include "cancel_registry.h"
#include "db/database_link.h"
#include "pool/answer_filter.h"

namespace lms::core {

class TxnPool;
struct PoolSlot;

class PooledServer final : private DatabaseLink::Listener {
 public:
  enum class State { kConnecting, kIdle, kLent, kCleaning, kClosing };

  PooledServer(TxnPool& pool, uv_loop_t* loop, ChunkPool& chunks, PoolSlot& slot, uint8_t role,
               const lms_dialect_functions* dialect, uint32_t max_statements, uint32_t options);
  ~PooledServer();
  PooledServer(const PooledServer&) = delete;
  PooledServer& operator=(const PooledServer&) = delete;

  PoolSlot& slot() const { return slot_; }
  uint8_t role() const { return role_; }
  State state() const { return state_; }
  void set_state(State s) { state_ = s; }
  DatabaseLink& link() { return link_; }
  // The dialect's view of the connection (plugin ABI 1.10's pool server).
  void* dialect_state() const { return dialect_state_; }
  const lms_dialect_functions* dialect() const { return dialect_; }
  const std::string& welcome() const { return welcome_; }
  const std::shared_ptr<const CancelTarget>& cancel_target() const { return cancel_target_; }
  uint64_t idle_since_ms() const { return idle_since_ms_; }
  void set_idle_since(uint64_t ms) { idle_since_ms_ = ms; }
  AnswerFilter& filter() { return filter_; }
  uint32_t counted_statements = 0;  // what lms_pool_statements_prepared counts of it (while idle)

  // Lent: `listener` hears the link until take_back().
  void lend_to(DatabaseLink::Listener& listener) {
    state_ = State::kLent;
    link_.set_listener(listener);
  }
  void take_back() { link_.set_listener(*this); }
  // The client left with a transaction open: the dialect's rollback goes out and every answer is
  // dropped until the connection owes nothing; then it is idle again.
  void clean();
  void close();

 private:
  // DatabaseLink::Listener (while not lent)
  void on_database_ready(const DatabaseLink::Login& login) override;
  void on_database_login_failed(const DatabaseLink::LoginFailure& failure) override;
  void on_database_bytes(Chunk* chunk, size_t len) override;
  void on_database_lost(int status) override;
  void on_database_write_failed(int status) override;
  void on_database_tls_failed(const std::string& error) override;
  void on_database_untranslatable(bool, const std::string&) override { close(); }
  void on_database_closed() override;

  TxnPool& pool_;
  ChunkPool& chunks_;
  PoolSlot& slot_;  // its key's, in the TxnPool
  uint8_t role_;
  const lms_dialect_functions* dialect_;
  void* dialect_state_ = nullptr;
  DatabaseLink link_;
  State state_ = State::kConnecting;
  std::string welcome_;
  std::shared_ptr<const CancelTarget> cancel_target_;
  uint64_t idle_since_ms_ = 0;
  AnswerFilter filter_;
};

}  // namespace lms::core
