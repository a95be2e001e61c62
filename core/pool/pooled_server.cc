#include "pool/pooled_server.h"

#include <spdlog/spdlog.h>

#include "emit_into.h"
#include "plugin_loader.h"
#include "pool/txn_pool.h"

namespace lms::core {

PooledServer::PooledServer(TxnPool& pool, uv_loop_t* loop, ChunkPool& chunks, PoolSlot& slot, uint8_t role,
                           const lms_dialect_functions* dialect, uint32_t max_statements, uint32_t options)
    : pool_(pool),
      chunks_(chunks),
      slot_(slot),
      role_(role),
      dialect_(dialect),
      dialect_state_(dialect->pool_server_create(max_statements)),
      link_(loop, chunks, *this) {
  // Checked at start: no option is set for a dialect without them.
  if (dialect_state_ != nullptr && options != 0 && has_pool_server_options(dialect))
    dialect->pool_server_options(dialect_state_, options);
}

PooledServer::~PooledServer() {
  if (dialect_state_ != nullptr) dialect_->pool_server_destroy(dialect_state_);
}

void PooledServer::on_database_ready(const DatabaseLink::Login& login) {
  welcome_.assign(login.welcome);
  auto target = std::make_shared<CancelTarget>();
  target->address = login.peer;
  target->database_key.assign(login.cancel_key);
  cancel_target_ = std::move(target);
  pool_.on_server_ready(*this);
}

void PooledServer::on_database_login_failed(const DatabaseLink::LoginFailure& failure) {
  pool_.on_server_failed(*this, failure);
}

void PooledServer::on_database_bytes(Chunk* chunk, size_t len) {
  // Idle, the database says only what it says unasked (a notice, a setting's new value); while
  // cleaning, it answers what the departed client left and the rollback. Nobody hears either,
  // but the dialect follows every answer to know when nothing more is owed.
  std::string kept;
  filter_.filter(dialect_, chunk->data, len, &kept, [this](const uint8_t* head, size_t n) {
    return dialect_->pool_server_message(dialect_state_, head, n);
  });
  chunks_.put(chunk);
  if (state_ == State::kCleaning && filter_.at_boundary() && dialect_->pool_owed(dialect_state_) == 0) {
    pool_.on_server_cleaned(*this);
  }
}

void PooledServer::on_database_lost(int status) {
  spdlog::debug("pooled database connection lost ({})", uv_err_name(status));
  pool_.on_server_lost(*this);
}

void PooledServer::on_database_write_failed(int status) {
  spdlog::debug("write to a pooled database connection failed ({})", uv_err_name(status));
  pool_.on_server_lost(*this);
}

void PooledServer::on_database_tls_failed(const std::string& error) {
  spdlog::debug("TLS with a pooled database connection failed: {}", error);
  pool_.on_server_lost(*this);
}

void PooledServer::on_database_closed() { pool_.on_server_closed(*this); }

void PooledServer::clean() {
  state_ = State::kCleaning;
  link_.set_listener(*this);
  std::string rollback;
  const lms_emitter collect = emit_into(&rollback);
  dialect_->pool_abandon(dialect_state_, &collect);
  link_.write_native(reinterpret_cast<const uint8_t*>(rollback.data()), rollback.size());
  link_.start_reading();
}

void PooledServer::close() {
  state_ = State::kClosing;
  link_.set_listener(*this);
  link_.close();
}

}  // namespace lms::core
