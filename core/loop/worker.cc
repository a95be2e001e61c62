#include "loop/worker.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "cutover.h"
#include "session/session.h"

namespace lms::core {
namespace {

// Listen backlog: a burst of clients connecting at once waits in the kernel, not refused.
constexpr int kBacklog = 4096;

bool resolve_listen_address(const HostPort& hp, sockaddr_storage* out, std::string* error) {
  if (uv_ip4_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  if (uv_ip6_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in6*>(out)) == 0) return true;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(hp.host.c_str(), std::to_string(hp.port).c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    *error = "cannot resolve listen address " + hp.host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(out, result->ai_addr, result->ai_addrlen);
  freeaddrinfo(result);
  return true;
}

}  // namespace

Worker::Worker(ProxyShared& shared, unsigned index)
    : shared_(shared),
      index_(index),
      // server-pool-size counts kept connections in session mode, lent ones in transaction mode.
      server_pool_(shared.config->transaction_pooling() ? 0 : shared.config->server_pool_size,
                   shared.config->server_idle_timeout_ms, &metrics_.server_connections_kept),
      txn_pool_(&loop_, clock_, pool_, *shared.config, metrics_, shared.dialect) {
  uv_loop_init(&loop_);
}

Worker::~Worker() {
  if (thread_.joinable()) {
    stop();
  } else if (bound_ && !stopped_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&mail_async_), nullptr);
    if (pool_timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&pool_timer_), nullptr);
    clock_.close();
  }
  // Run the loop once more so every close callback (and so every delete) has happened.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

bool Worker::bind(std::string* error) {
  const HostPort& listen = shared_.config->listen;
  sockaddr_storage address{};
  if (!resolve_listen_address(listen, &address, error)) return false;
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("cannot create a socket: ") + std::strerror(errno);
    return false;
  }
  const int on = 1;
  // Each worker binds the same address; the kernel balances new connections across them.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  const socklen_t len = address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), len) != 0) {
    *error =
        "cannot listen on " + listen.host + ":" + std::to_string(listen.port) + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  uv_tcp_open(&listener_, fd);
  const int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, &Worker::on_connection);
  if (rc != 0) {
    *error = "cannot listen on " + listen.host + ":" + std::to_string(listen.port) + ": " + uv_strerror(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    return false;
  }
  uv_async_init(&loop_, &stop_async_, &Worker::on_stop);
  stop_async_.data = this;
  uv_async_init(&loop_, &mail_async_, &Worker::on_mail);
  mail_async_.data = this;
  clock_.open(&loop_);
  if (server_pool_.enabled() || txn_pool_.enabled()) {
    // Kept connections past their idle timeout are closed within a quarter of it; a client
    // waiting for a pooled connection is told within a tenth of a second of its pool-timeout.
    const uint64_t every =
        txn_pool_.enabled() ? 100 : std::max<uint64_t>(50, shared_.config->server_idle_timeout_ms / 4);
    uv_timer_init(&loop_, &pool_timer_);
    pool_timer_.data = this;
    uv_timer_start(&pool_timer_, &Worker::on_pool_timer, every, every);
    uv_unref(reinterpret_cast<uv_handle_t*>(&pool_timer_));
    pool_timer_open_ = true;
  }
  bound_ = true;
  return true;
}

void Worker::start() {
  thread_ = std::thread([this] {
    spdlog::debug("worker {} running", index_);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  uv_async_send(&stop_async_);
  thread_.join();
}

void Worker::on_connection(uv_stream_t* listener, int status) {
  auto* w = static_cast<Worker*>(listener->data);
  if (status < 0) {
    spdlog::warn("worker {} accept failed: {}", w->index_, uv_strerror(status));
    return;
  }
  Session::accept_from(*w, listener);
}

void Worker::on_stop(uv_async_t* async) {
  auto* w = static_cast<Worker*>(async->data);
  {
    // Tasks still queued are dropped; whoever posted them waits with a deadline.
    std::lock_guard lock(w->mail_mutex_);
    w->stopped_ = true;
    w->mail_.clear();
  }
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&w->listener_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->listener_), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&w->stop_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->mail_async_), nullptr);
  if (w->pool_timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&w->pool_timer_), nullptr);
  w->pool_timer_open_ = false;
  w->clock_.close();
  w->server_pool_.clear();
  // Sessions detach themselves as they finish closing; shut down a copy of the list.
  const std::vector<Session*> sessions = w->sessions_;
  for (Session* s : sessions) s->shutdown();
  // After the sessions, which give back what they were lent.
  w->txn_pool_.shut_down();
}

void Worker::post(std::function<void()> task) {
  std::lock_guard lock(mail_mutex_);
  if (stopped_) return;
  mail_.push_back(std::move(task));
  // Under the lock, so the handle cannot be closed in between.
  uv_async_send(&mail_async_);
}

void Worker::on_mail(uv_async_t* async) {
  auto* w = static_cast<Worker*>(async->data);
  // uv_async_send coalesces: take everything queued so far.
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(w->mail_mutex_);
    tasks.swap(w->mail_);
  }
  for (auto& task : tasks) task();
}

void Worker::pause() {
  paused_ = true;
  truth_at_pause_ = shared_.truth.load();
  metrics_.cutover_first_hold_ns.set(0);
  last_busy_reported_ = UINT32_MAX;
  count_busy();
}

void Worker::on_pool_timer(uv_timer_t* timer) {
  auto* w = static_cast<Worker*>(timer->data);
  w->server_pool_.expire(uv_now(&w->loop_));
  if (w->txn_pool_.enabled()) w->txn_pool_.tick(uv_now(&w->loop_));
}

void Worker::note_hold(bool login) {
  (login ? metrics_.cutover_connections_held : metrics_.cutover_requests_held).add();
  if (metrics_.cutover_first_hold_ns.get() == 0) {
    metrics_.cutover_first_hold_ns.set(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
  }
}

void Worker::resume() {
  paused_ = false;
  // After a cutover the kept connections may lead to the database that no longer serves: they go,
  // rather than holding its backends open until they expire.
  server_pool_.clear();
  if (shared_.truth.load() != truth_at_pause_) txn_pool_.close_idle();
  const std::vector<Session*> sessions = sessions_;
  for (Session* s : sessions) s->resume_after_cutover();
}

void Worker::end_busy_sessions() {
  const std::vector<Session*> sessions = sessions_;
  for (Session* s : sessions) {
    if (s->busy()) s->end_for_cutover();
  }
  count_busy();
}

void Worker::drain() {
  if (draining_) return;
  draining_ = true;
  server_pool_.clear();
  // Closing the listening socket refuses new clients (Kubernetes has stopped sending them by now).
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  end_idle_sessions();
}

void Worker::end_idle_sessions() {
  if (ending_idle_) return;
  ending_idle_ = true;
  const std::vector<Session*> sessions = sessions_;
  for (Session* s : sessions) {
    if (s->idle_for_shutdown()) s->end_for_shutdown();
  }
  ending_idle_ = false;
}

void Worker::end_sessions_for_shutdown() {
  const std::vector<Session*> sessions = sessions_;
  for (Session* s : sessions) s->end_for_shutdown();
}

void Worker::count_busy() {
  busy_ = 0;
  for (Session* s : sessions_) {
    s->counted_busy = s->busy();
    busy_ += s->counted_busy ? 1 : 0;
  }
  report_busy();
}

void Worker::recount(Session& s) {
  const bool busy = s.busy();
  if (busy == s.counted_busy) return;
  s.counted_busy = busy;
  busy ? ++busy_ : --busy_;
  report_busy();
}

void Worker::report_busy() {
  if (busy_ == last_busy_reported_) return;
  last_busy_reported_ = busy_;
  if (shared_.cutover != nullptr) shared_.cutover->report_busy(index_, busy_);
}

void Worker::attach(Session* s) {
  s->index_in_worker = sessions_.size();
  sessions_.push_back(s);
}

void Worker::detach(Session* s) {
  const size_t i = s->index_in_worker;
  sessions_[i] = sessions_.back();
  sessions_[i]->index_in_worker = i;
  sessions_.pop_back();
  if (paused_ && s->counted_busy) {
    --busy_;
    report_busy();
  }
  if (draining_) end_idle_sessions();
}

}  // namespace lms::core
