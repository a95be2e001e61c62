// pool-mode transaction: the session holds a database connection only from the first message of a
// request it sends while holding none until the database reports the transaction over (its
// ReadyForQuery says idle) with nothing more owed. Meanwhile the connection is the worker's
// TxnPool's, lent to the next client.
//
// The dialect (plugin ABI 1.10) keeps each side's state: it sees every client message whole on
// its way (and sends before it whatever statement or setting the connection lacks for this
// client), and the head of every database message (and says which answer what lms sent on its
// own, which the connection's AnswerFilter takes out). The request tracking, shadowing,
// validation and inspection around it are the session's as in session mode.
#include <spdlog/spdlog.h>

#include <cstring>

#include "emit_into.h"
#include "plugin_loader.h"
#include "server_pool.h"
#include "session/session.h"

namespace lms::core {
namespace {

// Client messages up to this size are gathered whole for the dialect; a larger one (a bulk
// statement, a large COPY row) is judged by its head and flows.
constexpr uint64_t kMaxGathered = 256 * 1024;
constexpr size_t kStreamedHead = 4096;

}  // namespace

std::vector<lms_kv> Session::pooled_login_params() const {
  return login_params(shared_.endpoint(truth_), credentials_for(truth_), pooled_startup_);
}

void Session::connect_pool_server(DatabaseLink& link) {
  const std::vector<lms_kv> params = pooled_login_params();
  link.connect(shared_.endpoint(truth_), back_dialect_, params, shared_.config->connect_timeout_ms);
}

void Session::start_pooled_backend() {
  truth_ = shared_.truth.load();
  back_dialect_ = shared_.dialect_of(truth_);
  if (shared_.translated(truth_)) {
    fail_connect("pool-mode transaction cannot serve a database of another protocol; use pool-mode session");
    return;
  }
  phase_ = Phase::kConnecting;
  pool_slot_ = &worker_.txn_pool().slot(
      ServerPool::key_of(truth_, shared_.endpoint(truth_).describe(), pooled_login_params()));
  pool_key_role_ = truth_;
  if (const TxnPool::Login* login = TxnPool::last_login(*pool_slot_)) {
    // A connection of this key logged in before: the client is in at once, as PgBouncer lets
    // clients in with its servers' parameters, without waiting for a free connection.
    finish_pooled_login(login->welcome, *login->cancel_target);
    return;
  }
  borrowing_ = true;
  if (PooledServer* server = worker_.txn_pool().lend(*pool_slot_, truth_, *this)) on_server_lent(*server);
}

void Session::finish_pooled_login(std::string_view database_welcome, const CancelTarget& database_target) {
  // The client sees the connection's login as if it were its own, with the values it asked for.
  std::string welcome;
  const lms_emitter collect = emit_into(&welcome);
  dialect_->pool_welcome(pool_client_, reinterpret_cast<const uint8_t*>(database_welcome.data()),
                         database_welcome.size(), &collect);
  lent_cancel_ = std::make_shared<LentCancel>(worker_);
  CancelTarget target = database_target;  // its key's head is what the client is shown
  target.lent = lent_cancel_;
  finish_login(welcome, std::move(target));
}

void Session::on_server_lent(PooledServer& server) {
  borrowing_ = false;
  lent_ = &server;
  database_ = &server.link();
  server.lend_to(*this);
  if (phase_ == Phase::kConnecting) {
    const std::string welcome = server.welcome();
    const CancelTarget target = *server.cancel_target();
    // Given back before the client is in: what it sends next borrows afresh.
    give_back_unused();
    finish_pooled_login(welcome, target);
    return;
  }
  if (phase_ != Phase::kForwarding) {
    give_back_unused();
    return;
  }
  if ((worker_.paused() && quiescent()) || server.role() != shared_.truth.load()) {
    // A cutover's pause began (or ended with a switch) while this client waited between
    // transactions: its request waits for the pause like any other, and borrows where the truth
    // is then. (A client inside a transaction lms began for it goes on, as any transaction does.)
    give_back_unused();
    std::vector<std::pair<Chunk*, size_t>> input;
    input.swap(borrow_input_);
    for (auto& [chunk, len] : input) forward_from_client(chunk, len);  // held there, or borrowing afresh
    recycle_borrow_input(input);
    return;
  }
  if (lent_cancel_) lent_cancel_->now = server.cancel_target().get();
  // The client's settings, where the connection carries another's.
  std::string settings;
  const lms_emitter collect = emit_into(&settings);
  dialect_->pool_lend(pool_client_, server.dialect_state(), &collect);
  if (!settings.empty()) {
    database_->write_native(reinterpret_cast<const uint8_t*>(settings.data()), settings.size());
  }
  database_->start_reading();
  std::vector<std::pair<Chunk*, size_t>> input;
  input.swap(borrow_input_);
  for (auto& [chunk, len] : input) {
    if (phase_ != Phase::kForwarding) {
      worker_.pool().put(chunk);
      continue;
    }
    forward_from_client(chunk, len);
  }
  recycle_borrow_input(input);
  if (phase_ == Phase::kForwarding && !borrowing_ && paused_input_.empty()) client_.start_reading();
}

void Session::recycle_borrow_input(std::vector<std::pair<Chunk*, size_t>>& handled) {
  // Its buffer serves the next borrow (one per transaction), unless a new wait began meanwhile.
  handled.clear();
  if (borrow_input_.empty()) borrow_input_.swap(handled);
}

void Session::on_server_refused(const DatabaseLink::LoginFailure& failure) {
  borrowing_ = false;
  if (phase_ == Phase::kConnecting) {
    on_database_login_failed(failure);
    return;
  }
  if (phase_ == Phase::kClosing) return;
  // As PgBouncer does when a client waited too long: the client is told why, and disconnected.
  spdlog::warn("session={} no pooled connection: {}", id_, failure.reason);
  send_client_error("FATAL", failure.code, failure.reason);
  close_after_flush();
}

bool Session::answer_without_connection(Chunk* chunk, size_t len) {
  // Only whole requests from a boundary. A BEGIN always: its transaction begins with the next
  // request, on the connection that one gets. Lone prepares and closes only when borrowing would
  // wait: a driver that prepares synchronously (pgbench -M prepared, PQprepare) while others hold
  // every connection inside their transactions would otherwise wait for them, and they may be
  // waiting for it (one client thread serving both). The statement is made on the connection of
  // its first run, where an error in it is reported.
  if (borrowing_ || !borrow_input_.empty() || !client_scanner_.at_boundary() || pool_key_role_ != truth_) {
    return false;
  }
  std::string answer;
  const lms_emitter collect = emit_into(&answer);
  const bool answered = (has_pool_defer_begin(dialect_) &&
                         dialect_->pool_defer_begin(pool_client_, chunk->data, len, &collect) != 0) ||
                        (!TxnPool::has_idle(*pool_slot_) &&
                         dialect_->pool_answer_alone(pool_client_, chunk->data, len, &collect) != 0);
  if (!answered) return false;
  answering_alone_ = true;
  forward_from_client(chunk, len);
  answering_alone_ = false;
  if (phase_ != Phase::kForwarding) return true;
  deliver_in_chunks(worker_.pool(), answer, [this](Chunk* c, size_t n) { forward_from_source(c, n, 0); });
  return true;
}

void Session::borrow_for(Chunk* chunk, size_t len) {
  if (borrow_input_.empty() && !borrowing_) {
    lms_frame f{};
    f.struct_size = sizeof f;
    dialect_->frame(LMS_FROM_CLIENT, chunk->data, len, &f);
    if (f.result == LMS_FRAME_COMPLETE && f.msg_class == LMS_MSG_TERMINATE) {
      // A client that says goodbye between transactions needs no connection to do it.
      worker_.pool().put(chunk);
      client_terminating_ = true;
      close_now();
      return;
    }
  }
  borrow_input_.emplace_back(chunk, len);
  if (!borrowing_) {
    if (pool_key_role_ != truth_) {
      pool_slot_ = &worker_.txn_pool().slot(
          ServerPool::key_of(truth_, shared_.endpoint(truth_).describe(), pooled_login_params()));
      pool_key_role_ = truth_;
    }
    borrowing_ = true;
    if (PooledServer* server = worker_.txn_pool().lend(*pool_slot_, truth_, *this)) {
      // Lent at once: the client goes on being read, with no change to what the loop watches
      // (stopping and starting would cost two epoll_ctl calls per transaction).
      on_server_lent(*server);
      return;
    }
  }
  // The client is still read while it waits (a waiting request is the common case in a busy pool,
  // and stopping and starting would cost two epoll_ctl calls each time); past the buffer limit,
  // nothing more is read until a connection comes: the kernel's buffer is the queue.
  size_t waiting_bytes = 0;
  for (const auto& held : borrow_input_) waiting_bytes += held.second;
  if (waiting_bytes > shared_.config->buffer_limit) client_.stop_reading();
}

void Session::resume_pooled() {
  const uint8_t truth = shared_.truth.load();
  if (truth != truth_) {
    // Between transactions a pooled session holds no connection: moving it is borrowing from the
    // new source of truth's pool from now on. Its statements and settings are made there as
    // each connection needs them.
    if (borrowing_) {
      worker_.txn_pool().stop_waiting(*this);
      borrowing_ = false;
      for (auto& held : borrow_input_) paused_input_.insert(paused_input_.begin(), held);
      borrow_input_.clear();
    }
    if (lent_ != nullptr) release_lent(false);
    truth_ = truth;
    back_dialect_ = shared_.dialect_of(truth_);
    retire_shadow_link();
    worker_.mutable_metrics().cutover_sessions_switched.add();
  }
  release_paused_input();
}

void Session::write_pooled(Chunk* chunk, size_t len) {
  const uint8_t* const data = chunk->data;
  // The read goes to the database as it is (one zero-copy write) while every message in it is
  // whole and passes untouched; from the first that does not, what goes is gathered in `out`.
  bool as_is = pooled_between_messages();
  // Buffers of the worker's thread, their capacity kept: a request the dialect changes (a statement
  // made first, a message renamed) is gathered without taking memory from the heap each time;
  // write_native copies what it is given.
  thread_local std::string out;
  thread_local std::string injected;  // what the dialect sends before a message
  out.clear();
  auto copy_from_here = [&](size_t upto) {
    if (!as_is) return;
    out.append(reinterpret_cast<const char*>(data), upto);
    as_is = false;
  };
  const lms_emitter collect = emit_into(&injected);
  // `at`: where the message lies in this read, or npos when it was gathered across reads.
  auto judge = [&](const uint8_t* message, size_t n, bool whole, size_t at) {
    injected.clear();
    const uint32_t verdict = dialect_->pool_client_message(pool_client_, lent_->dialect_state(), message, n,
                                                           whole ? 1 : 0, &collect);
    const bool passes = verdict != LMS_POOL_REPLACED || !whole;
    if (injected.empty() && passes && as_is) return;
    if (at != std::string::npos) copy_from_here(at);
    out += injected;
    if (passes) out.append(reinterpret_cast<const char*>(message), n);
  };
  size_t pos = 0;
  while (pos < len) {
    if (pool_message_streaming_) {
      // The rest of a message too large to gather: it flows as it comes.
      const size_t take = static_cast<size_t>(std::min<uint64_t>(pool_message_total_, len - pos));
      copy_from_here(pos);
      out.append(reinterpret_cast<const char*>(data) + pos, take);
      pool_message_total_ -= take;
      pos += take;
      if (pool_message_total_ == 0) pool_message_streaming_ = false;
      continue;
    }
    if (pool_message_total_ == 0) {
      // A message starts: its length, from its header (which may be split across reads).
      lms_frame f{};
      f.struct_size = sizeof f;
      if (pool_message_.empty()) {
        dialect_->frame(LMS_FROM_CLIENT, data + pos, len - pos, &f);
      } else {
        std::string head = pool_message_;
        head.append(reinterpret_cast<const char*>(data) + pos, std::min<size_t>(len - pos, 64));
        dialect_->frame(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(head.data()), head.size(), &f);
      }
      if (f.result != LMS_FRAME_COMPLETE) {
        // Too short to tell yet (the session's scanner has vouched for the stream).
        copy_from_here(pos);
        pool_message_.append(reinterpret_cast<const char*>(data) + pos, len - pos);
        pos = len;
        continue;
      }
      pool_message_total_ = f.length;
    }
    const uint64_t need = pool_message_total_ - pool_message_.size();
    if (pool_message_.empty() && need <= len - pos) {
      // The whole message is in this read: judged where it lies.
      judge(data + pos, static_cast<size_t>(need), true, pos);
      pos += static_cast<size_t>(need);
      pool_message_total_ = 0;
      continue;
    }
    // The message continues in a later read: what is here waits with it.
    copy_from_here(pos);
    if (pool_message_total_ > kMaxGathered) {
      const size_t want = kStreamedHead - std::min<size_t>(kStreamedHead, pool_message_.size());
      const size_t take = std::min(want, len - pos);
      pool_message_.append(reinterpret_cast<const char*>(data) + pos, take);
      pos += take;
      if (pool_message_.size() < kStreamedHead) continue;
      judge(reinterpret_cast<const uint8_t*>(pool_message_.data()), pool_message_.size(), false,
            std::string::npos);
      pool_message_total_ -= pool_message_.size();
      pool_message_.clear();
      pool_message_streaming_ = true;
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(need, len - pos));
    pool_message_.append(reinterpret_cast<const char*>(data) + pos, take);
    pos += take;
    if (pool_message_.size() == pool_message_total_) {
      const std::string message = std::move(pool_message_);
      pool_message_.clear();
      pool_message_total_ = 0;
      judge(reinterpret_cast<const uint8_t*>(message.data()), message.size(), true, std::string::npos);
    }
  }
  if (as_is) {
    chunk->len = len;
    database_->write(chunk);
    return;
  }
  worker_.pool().put(chunk);
  if (!out.empty()) database_->write_native(reinterpret_cast<const uint8_t*>(out.data()), out.size());
}

void Session::take_pooled_answer(Chunk* chunk, size_t len) {
  if (lent_ == nullptr) {
    worker_.pool().put(chunk);
    return;
  }
  std::string kept;
  void* const server = lent_->dialect_state();
  const bool changed = lent_->filter().filter(dialect_, chunk->data, len, &kept,
                                              [this, server](const uint8_t* head, size_t n) {
                                                return dialect_->pool_server_message(server, head, n);
                                              });
  if (!changed && pooled_backlog_.empty()) {
    forward_from_source(chunk, len, 0);
    maybe_give_back();
    return;
  }
  if (changed) {
    pooled_backlog_ += kept;
  } else {
    pooled_backlog_.append(reinterpret_cast<const char*>(chunk->data), len);
  }
  worker_.pool().put(chunk);
  forward_pooled_backlog();
}

void Session::forward_pooled_backlog() {
  while (!pooled_backlog_.empty() && held_ == nullptr && phase_ == Phase::kForwarding) {
    Chunk* chunk = worker_.pool().get();
    const size_t n = std::min(pooled_backlog_.size(), Chunk::kCapacity);
    std::memcpy(chunk->data, pooled_backlog_.data(), n);
    pooled_backlog_.erase(0, n);
    forward_from_source(chunk, n, 0);
  }
  maybe_give_back();
}

bool Session::pooled_between_messages() const {
  return pool_message_.empty() && pool_message_total_ == 0 && !pool_message_streaming_;
}

void Session::maybe_give_back() {
  if (lent_ == nullptr || phase_ != Phase::kForwarding) return;
  if (!tracker_.idle() || held_ != nullptr || !pooled_backlog_.empty() || !database_scanner_.at_boundary() ||
      !lent_->filter().at_boundary() || !pooled_between_messages() ||
      dialect_->pool_owed(lent_->dialect_state()) != 0) {
    return;
  }
  release_lent(false);
}

void Session::drop_broken_lent() {
  if (lent_ == nullptr) return;
  // The pool's connection broke under this session: it leaves the pool too, never lent again.
  worker_.txn_pool().discard(unlend());
}

PooledServer& Session::unlend() {
  PooledServer& server = *lent_;
  lent_ = nullptr;
  database_ = nullptr;
  if (lent_cancel_) lent_cancel_->now = nullptr;
  return server;
}

void Session::give_back_unused() {
  // Nothing was sent on it for this client.
  worker_.txn_pool().give_back(unlend(), shared_.truth.load());
}

void Session::release_lent(bool client_gone) {
  if (lent_ == nullptr) return;
  PooledServer& server = unlend();
  TxnPool& pool = worker_.txn_pool();
  const bool owes_nothing = tracker_.idle() && held_ == nullptr && pooled_backlog_.empty() &&
                            server.filter().at_boundary() && pooled_between_messages() &&
                            dialect_->pool_owed(server.dialect_state()) == 0;
  if (owes_nothing) {
    pool.give_back(server, shared_.truth.load());
    return;
  }
  // The client left inside its transaction (or with requests unanswered): the connection rolls it
  // back and serves again, unless the database is in the middle of something lms cannot end
  // cleanly (a message half sent, a COPY), in which case it is closed.
  bool copying = false;
  for (const Request& r : tracker_.in_flight()) copying = copying || r.flow;
  if (client_gone && pooled_between_messages() && !tracker_.sending() && !copying) {
    spdlog::debug("session={} left inside a transaction: its pooled connection rolls back", id_);
    pool.clean(server);
    return;
  }
  pool.discard(server);
}

}  // namespace lms::core
