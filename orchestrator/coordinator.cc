#include "coordinator.h"

#include <netdb.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "address.h"
#include "crash_point.h"
#include "json.h"
#include "parallel.h"
#include "prometheus_text.h"

namespace lms::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;

// How often the latest cutover's old source is read again for writes around LMS.
constexpr int64_t kOldSourceLookNs = 2'000'000'000;
// How long after the commit its baseline is read: LMS's sessions there end at the switch, and
// PostgreSQL counts a session's writes when it ends (or up to seconds later when it idles).
constexpr int64_t kOldSourceSettleNs = 1'000'000'000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool acknowledged(const Attempt& a, const ProxyRecord& p) {
  if (a.decision == kDecisionBegin) return true;
  if (!p.error.empty() || !p.confirmed) return false;
  if (a.decision == kDecisionCommit) return p.cutover.id == a.id && p.cutover.status == LMS_CUTOVER_COMMITTED;
  if (a.decision == kDecisionAbort) {
    // The proxy is not paused for this attempt (any more, or never was).
    return p.cutover.id != a.id ||
           (p.cutover.status != LMS_CUTOVER_BEGAN && p.cutover.status != LMS_CUTOVER_PAUSED);
  }
  return true;
}

std::string random_token(uint64_t id) {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = "cutover-" + std::to_string(id) + "-";
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

// A new decision must be confirmed by every proxy again.
void decide(Attempt& a, const char* decision) {
  a.decision = decision;
  for (auto& p : a.proxies) p.confirmed = false;
}

// Where each of an attempt's proxies is asked, in the attempt's order: read under the lock, used
// after it (the calls to the proxies never hold it).
std::vector<std::string> control_addresses(const Attempt& a) {
  std::vector<std::string> urls;
  urls.reserve(a.proxies.size());
  for (const auto& p : a.proxies) urls.push_back(p.control_address);
  return urls;
}

}  // namespace

Coordinator::Coordinator(CoordinatorConfig config, StateStore& store)
    : config_(std::move(config)), store_(store) {
  std::string name = config_.lms_dns;
  dns_scheme_ = "http";
  if (const size_t at = name.find("://"); at != std::string::npos) {
    dns_scheme_ = name.substr(0, at);
    name = name.substr(at + 3);
  }
  // Pods are reached by IP address; over HTTPS their certificates carry the service's name.
  if (dns_scheme_ == "https" && config_.tls.server_name.empty()) config_.tls.server_name = name;
  discovery_ = std::make_unique<ProxyDiscovery>(name, config_.lms_port, config_.lms_dns_interval_ms);
}

Coordinator::~Coordinator() { stop(); }

bool Coordinator::start(std::string* error) {
  std::lock_guard lock(mutex_);
  if (!store_.load(&attempts_, error)) return false;
  if (!attempts_.empty()) {
    Attempt& last = attempts_.back();
    if (last.decision == kDecisionBegin) {
      // Begun but never committed: undo it, so that no proxy stays paused and none switches.
      spdlog::warn("cutover {} was begun by an earlier run and not committed: aborting it on every proxy",
                   last.id);
      decide(last, kDecisionAbort);
      last.error = "the orchestrator restarted before the cutover was committed";
      if (!persist_locked(error)) return false;
    } else {
      // Whatever was confirmed before the restart is asked again: the calls are idempotent.
      decide(last, last.decision == kDecisionCommit ? kDecisionCommit : kDecisionAbort);
      if (last.decision == kDecisionCommit) {
        spdlog::info("cutover {} was committed by an earlier run: making sure every proxy has it", last.id);
      }
    }
  }
  if (dns_scheme_ != "http" && dns_scheme_ != "https") {
    *error = "--lms-dns " + config_.lms_dns + ": the scheme must be http or https";
    return false;
  }
  discovery_->start();
  monitor_ = std::thread([this] { run_monitor(); });
  return true;
}

void Coordinator::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  discovery_->stop();
}

bool Coordinator::resolve(const std::vector<std::string>& requested, std::vector<std::string>* urls,
                          std::string* error) {
  std::vector<std::string> addresses = requested.empty() ? config_.lms_addresses : requested;
  if (addresses.empty() && discovery_->enabled()) {
    if (!discovery_->resolve(&addresses, error)) return false;
    return discovered_urls(addresses, urls, error);
  }
  if (addresses.empty()) {
    *error = "no proxies: give --lms-addresses (or --lms-dns) to the orchestrator, or -l to the command";
    return false;
  }
  for (const auto& a : addresses) {
    std::string url;
    if (!control::normalize_address(a, config_.lms_port, &url, error)) return false;
    urls->push_back(url);
  }
  return true;
}

bool Coordinator::discovered_urls(const std::vector<std::string>& addresses, std::vector<std::string>* urls,
                                  std::string* error) const {
  urls->clear();
  for (const auto& a : addresses) {
    std::string url;
    if (!control::normalize_address(dns_scheme_ + "://" + a, config_.lms_port, &url, error)) return false;
    urls->push_back(url);
  }
  return true;
}

std::vector<ProxyStatus> Coordinator::status(const std::vector<std::string>& urls) {
  std::vector<ProxyStatus> out(urls.size());
  for_each_parallel(urls.size(), [&](size_t i) {
    out[i].control_address = urls[i];
    ProxyClient client(urls[i], config_.tls, config_.proxy_timeout_ms);
    client.status(&out[i].status, &out[i].error);
  });
  return out;
}

std::vector<ProxyConnections> Coordinator::connections(const std::vector<std::string>& urls) {
  std::vector<ProxyConnections> out(urls.size());
  for_each_parallel(urls.size(), [&](size_t i) {
    out[i].control_address = urls[i];
    ProxyClient client(urls[i], config_.tls, config_.proxy_timeout_ms);
    client.connections(&out[i].connections, &out[i].error);
  });
  return out;
}

Attempt* Coordinator::find_locked(uint64_t id) {
  if (attempts_.empty()) return nullptr;
  if (id == 0) return &attempts_.back();
  for (auto& a : attempts_) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

bool Coordinator::persist_locked(std::string* error) {
  if (store_.save(attempts_, error)) return true;
  spdlog::error("cannot write the cutover history: {}", *error);
  *error = "cannot write the cutover history down, so nothing was sent: " + *error;
  return false;
}

bool Coordinator::begin(const BeginRequest& request, Attempt* out, std::string* error) {
  std::lock_guard op(op_mutex_);
  std::vector<std::string> urls;
  if (!resolve(request.lms_addresses, &urls, error)) return false;
  {
    std::lock_guard lock(mutex_);
    if (const Attempt* last = find_locked(0); last != nullptr) {
      if (last->decision == kDecisionBegin) {
        *error = "cutover " + std::to_string(last->id) + " is in progress: commit or abort it first";
        return false;
      }
      for (const auto& p : last->proxies) {
        if (!acknowledged(*last, p)) {
          *error = "cutover " + std::to_string(last->id) + " is still being " +
                   (last->decision == kDecisionCommit ? "committed" : "aborted") + " on " + p.sql_address +
                   (p.error.empty() ? "" : " (" + p.error + ")");
          return false;
        }
      }
    }
  }
  // Every proxy must answer and agree on which database serves before anything pauses.
  const auto statuses = status(urls);
  if (*error = begin_refusal(statuses, configured_dialect()); !error->empty()) return false;
  uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    Attempt a;
    for (const auto& s : statuses) {
      // IDs only grow, above what any proxy has seen (a history lost with its disk included).
      id = std::max(id, s.status.cutover.id);
    }
    id = std::max(id, attempts_.empty() ? uint64_t{0} : attempts_.back().id) + 1;
    a.id = id;
    a.decision = kDecisionBegin;
    a.begin_timeout_ms = request.begin_timeout_ms;
    a.abort_on_timeout = request.abort_on_timeout;
    a.max_pause_ms = request.max_pause_ms != 0 ? request.max_pause_ms : config_.max_pause_ms;
    a.preflight = std::move(last_preflight_);
    last_preflight_ = nullptr;
    a.created_ns = now_ns();
    a.discovered = request.lms_addresses.empty() && config_.lms_addresses.empty() && discovery_->enabled();
    for (size_t i = 0; i < urls.size(); ++i) {
      ProxyRecord p;
      p.control_address = urls[i];
      p.sql_address = statuses[i].status.sql_address;
      a.proxies.push_back(std::move(p));
    }
    attempts_.push_back(std::move(a));
    if (!persist_locked(error)) {
      attempts_.pop_back();
      return false;
    }
  }
  crash_point("begin-recorded");
  spdlog::info("cutover {}: beginning on {} proxies", id, urls.size());
  std::vector<control::Cutover> results(urls.size());
  std::vector<std::string> errors(urls.size());
  control::BeginOptions options{id, request.begin_timeout_ms, request.abort_on_timeout};
  for_each_parallel(urls.size(), [&](size_t i) {
    ProxyClient client(urls[i], config_.tls, config_.proxy_timeout_ms);
    client.begin(options, &results[i], &errors[i]);
  });
  std::lock_guard lock(mutex_);
  Attempt& a = *find_locked(id);
  std::string failure;
  for (size_t i = 0; i < urls.size(); ++i) {
    a.proxies[i].error = errors[i];
    if (errors[i].empty()) {
      a.proxies[i].cutover = results[i];
    } else if (failure.empty()) {
      failure = "proxy " + a.proxies[i].sql_address + " could not begin: " + errors[i];
    }
  }
  if (!failure.empty()) {
    fail_locked(a, failure);
    *out = a;
    *error = failure + "; the cutover was aborted on every proxy";
    return false;
  }
  *out = a;
  return true;
}

void Coordinator::fail_locked(Attempt& attempt, const std::string& why) {
  spdlog::warn("cutover {}: {}; aborting on every proxy", attempt.id, why);
  decide(attempt, kDecisionAbort);
  attempt.error = why;
  std::string error;
  // Even if this cannot be written down, aborting is the safe direction: a restart would abort too.
  persist_locked(&error);
  wake_.notify_all();
}

void Coordinator::refresh(uint64_t id) {
  std::vector<std::string> urls;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr) return;
    urls = control_addresses(*a);
  }
  std::vector<control::Cutover> results(urls.size());
  std::vector<std::string> errors(urls.size());
  for_each_parallel(urls.size(), [&](size_t i) {
    ProxyClient client(urls[i], config_.tls, config_.proxy_timeout_ms);
    client.cutover(&results[i], &errors[i]);
  });
  std::lock_guard lock(mutex_);
  Attempt* a = find_locked(id);
  for (size_t i = 0; i < urls.size(); ++i) {
    a->proxies[i].error = errors[i];
    if (errors[i].empty()) a->proxies[i].cutover = results[i];
  }
}

void Coordinator::push_decision(uint64_t id, uint32_t timeout_ms) {
  std::vector<size_t> pending;
  std::vector<std::string> urls;
  std::string decision;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr || a->decision == kDecisionBegin) return;
    decision = a->decision;
    for (size_t i = 0; i < a->proxies.size(); ++i) {
      urls.push_back(a->proxies[i].control_address);
      if (!acknowledged(*a, a->proxies[i])) pending.push_back(i);
    }
  }
  if (pending.empty()) return;
  std::vector<control::Cutover> results(pending.size());
  std::vector<std::string> errors(pending.size());
  for_each_parallel(pending.size(), [&](size_t k) {
    ProxyClient client(urls[pending[k]], config_.tls, timeout_ms);
    if (decision == kDecisionCommit) {
      client.commit(id, &results[k], &errors[k]);
    } else {
      client.abort(id, &results[k], &errors[k]);
    }
  });
  std::lock_guard lock(mutex_);
  Attempt* a = find_locked(id);
  for (size_t k = 0; k < pending.size(); ++k) {
    ProxyRecord& p = a->proxies[pending[k]];
    p.error = errors[k];
    if (errors[k].empty()) {
      p.cutover = results[k];
      p.confirmed = true;
    } else {
      spdlog::warn("cutover {}: {} on {} failed (retrying): {}", id, decision, p.sql_address, errors[k]);
    }
  }
}

bool Coordinator::wait_for_marker(ProxyClient& client, const std::string& token, Clock::time_point deadline,
                                  uint64_t* lag_ms, std::string* last_error) {
  const auto written = Clock::now();
  while (true) {
    bool seen = false;
    if (client.replication_seen(token, &seen, last_error) && seen) {
      *lag_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - written).count());
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

namespace {

// The proxy a preflight asks the databases through: the first that answers with a target.
const ProxyStatus* preflight_proxy(const std::vector<ProxyStatus>& proxies) {
  for (const ProxyStatus& p : proxies) {
    if (p.error.empty() && !p.status.target_address.empty()) return &p;
  }
  return nullptr;
}

// Runs ask(client) with a client of the proxy a preflight asks the databases through, naming it in
// *via; without one, says so in *error.
template <typename Ask>
void ask_through_one(const std::vector<ProxyStatus>& proxies, const CoordinatorConfig& config,
                     std::string* via, std::string* error, Ask&& ask) {
  const ProxyStatus* proxy = preflight_proxy(proxies);
  if (proxy == nullptr) {
    *error = "no proxy answers with a target configured";
    return;
  }
  *via = proxy->status.sql_address;
  ProxyClient client(proxy->control_address, config.tls, config.proxy_timeout_ms);
  ask(client);
}

}  // namespace

TransactionsProbe Coordinator::probe_transactions(const std::vector<ProxyStatus>& proxies,
                                                  uint64_t min_age_ms) {
  TransactionsProbe probe;
  probe.ran = true;
  probe.min_age_ms = min_age_ms;
  ask_through_one(proxies, config_, &probe.via, &probe.error, [&](ProxyClient& client) {
    client.open_transactions(min_age_ms, &probe.transactions, &probe.error);
  });
  return probe;
}

LoginProbe Coordinator::probe_logins(const std::vector<ProxyStatus>& proxies) {
  LoginProbe probe;
  probe.ran = true;
  std::vector<std::string> errors(proxies.size());
  for_each_parallel(proxies.size(), [&](size_t i) {
    if (!proxies[i].error.empty()) return;  // the proxies check names it
    ProxyClient client(proxies[i].control_address, config_.tls, config_.proxy_timeout_ms);
    // Reading the marker table logs in as the proxy's sessions will; the table may be missing
    // (the replication check says so), which still proves the login.
    std::vector<control::NameCheck> checks;
    if (!client.check_other_tables({kMarkerTableName}, &checks, &errors[i])) return;
    if (!checks.empty() && !checks.front().error.empty() && !names_a_missing_table(checks.front().error)) {
      errors[i] = checks.front().error;
    }
  });
  ask_through_one(proxies, config_, &probe.via, &probe.users_error,
                  [&](ProxyClient& client) { client.check_other_logins(&probe.users, &probe.users_error); });
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (!proxies[i].error.empty()) continue;
    ++probe.asked;
    if (!errors[i].empty()) probe.failures.emplace_back(proxies[i].status.sql_address, errors[i]);
  }
  return probe;
}

TablesProbe Coordinator::probe_tables(const std::vector<ProxyStatus>& proxies,
                                      const std::vector<std::string>& names) {
  TablesProbe probe;
  probe.ran = true;
  ask_through_one(proxies, config_, &probe.via, &probe.error, [&](ProxyClient& client) {
    client.check_other_tables(names, &probe.tables, &probe.error);
  });
  return probe;
}

ReplicationProbe Coordinator::probe_replication(const std::vector<ProxyStatus>& proxies) {
  ReplicationProbe probe;
  probe.ran = true;
  probe.timeout_ms = config_.replication_timeout_ms;
  if (config_.skip_replication_check) {
    probe.skipped = true;
    return probe;
  }
  ask_through_one(proxies, config_, &probe.via, &probe.error, [&](ProxyClient& client) {
    client.replication_position(&probe.position, &probe.position_error);
    if (!client.replication_prepare(&probe.created_on_truth, &probe.created_on_other, &probe.error)) return;
    if (probe.created_on_other) return;  // nothing can carry a marker there yet
    const std::string token = "preflight-" + random_token(0).substr(std::string("cutover-0-").size());
    if (!client.replication_mark(token, &probe.error)) return;
    std::string last_error;
    probe.seen = wait_for_marker(client, token,
                                 Clock::now() + std::chrono::milliseconds(config_.replication_timeout_ms),
                                 &probe.lag_ms, &last_error);
    if (!probe.seen && !last_error.empty()) probe.error = last_error;
  });
  return probe;
}

void Coordinator::record_source_position(const Attempt& attempt) {
  ProxyClient client(attempt.proxies.front().control_address, config_.tls, config_.proxy_timeout_ms);
  control::ReplicationPosition position;
  std::string error;
  nlohmann::json record = client.replication_position(&position, &error) ? nlohmann::json(position)
                                                                         : nlohmann::json{{"error", error}};
  std::lock_guard lock(mutex_);
  if (Attempt* a = find_locked(attempt.id); a != nullptr) a->source_position = std::move(record);
}

bool Coordinator::check_replication(const Attempt& attempt, std::string* error) {
  const std::string token = random_token(attempt.id);
  const ProxyRecord& via = attempt.proxies.front();
  ProxyClient client(via.control_address, config_.tls, config_.proxy_timeout_ms);
  if (!client.replication_mark(token, error)) {
    *error = "cannot write the replication marker through " + via.sql_address + ": " + *error;
    return false;
  }
  std::string last_error;
  uint64_t lag_ms = 0;
  // Not past the pause's bound: the monitor aborts the attempt then, and waits for this call.
  auto deadline = Clock::now() + std::chrono::milliseconds(config_.replication_timeout_ms);
  bool bounded_by_pause = false;
  if (attempt.max_pause_ms > 0) {
    const int64_t left_ns = attempt.created_ns + int64_t{attempt.max_pause_ms} * 1'000'000 - now_ns();
    const auto pause_end = Clock::now() + std::chrono::nanoseconds(std::max<int64_t>(left_ns, 0));
    if (pause_end < deadline) {
      deadline = pause_end;
      bounded_by_pause = true;
    }
  }
  if (wait_for_marker(client, token, deadline, &lag_ms, &last_error)) {
    spdlog::info("cutover {}: replication caught up in {} ms (marker {} seen on the other database)", attempt.id,
                 lag_ms, token);
    if (config_.max_replication_lag_ms > 0 && lag_ms > config_.max_replication_lag_ms) {
      *error =
          "replication lag " + std::to_string(lag_ms) + " ms is above --max-replication-lag " +
          std::to_string(config_.max_replication_lag_ms) +
          " ms (the marker took that long to reach the other database); traffic stays paused: commit again "
          "to measure afresh, or abort";
      return false;
    }
    std::lock_guard lock(mutex_);
    if (Attempt* a = find_locked(attempt.id); a != nullptr) {
      a->replication_checked = true;
      a->replication_lag_ms = lag_ms;
    }
    return true;
  }
  if (bounded_by_pause) {
    *error = "replication has not caught up before the pause reached its bound (max-pause " +
             std::to_string(attempt.max_pause_ms) + " ms): the marker row is not on the other database yet" +
             (last_error.empty() ? "" : " (" + last_error + ")") + "; the cutover is being aborted";
    return false;
  }
  *error = "replication has not caught up within " + std::to_string(config_.replication_timeout_ms) +
           " ms: the marker row is not on the other database yet" +
           (last_error.empty() ? "" : " (" + last_error + ")") +
           "; traffic stays paused: commit again, or abort";
  return false;
}

bool Coordinator::commit(uint64_t id, std::optional<bool> fence_source, Attempt* out, std::string* error) {
  std::lock_guard op(op_mutex_);
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr) {
      *error = id == 0 ? "there is no cutover to commit" : "there is no cutover " + std::to_string(id);
      return false;
    }
    id = a->id;
    if (a->decision == kDecisionAbort) {
      *error = "cutover " + std::to_string(id) + " was aborted" + (a->error.empty() ? "" : ": " + a->error);
      return false;
    }
  }
  refresh(id);
  Attempt snapshot;
  {
    std::lock_guard lock(mutex_);
    Attempt& a = *find_locked(id);
    if (a.decision == kDecisionBegin) {
      for (const auto& p : a.proxies) {
        if (!p.error.empty()) {
          fail_locked(a, "proxy " + p.sql_address + " does not answer: " + p.error);
          *out = a;
          *error = a.error + "; the cutover was aborted on every proxy";
          return false;
        }
        if (p.cutover.id != id || p.cutover.status != LMS_CUTOVER_PAUSED) {
          *error = "cannot commit cutover " + std::to_string(id) + ": proxy " + p.sql_address + " is " +
                   (p.cutover.id != id ? "not in this cutover" : p.cutover.status) +
                   (p.cutover.busy_sessions > 0
                        ? " (" + std::to_string(p.cutover.busy_sessions) + " sessions busy)"
                        : "");
          return false;
        }
      }
    }
    snapshot = a;
  }
  if (snapshot.decision == kDecisionBegin) {
    if (!config_.skip_replication_check && !check_replication(snapshot, error)) return false;
    record_source_position(snapshot);
    if (!lift_earlier_fence(snapshot, error)) return false;
    if (snapshot.discovered) {
      // A pod that started after begin serves from the old database: switching the others now
      // would split the writes. Resolve afresh, not from the background loop's last look.
      std::vector<std::string> addresses;
      std::vector<std::string> urls;
      if (!discovery_->resolve(&addresses, error) || !discovered_urls(addresses, &urls, error)) {
        *error = "cannot commit cutover " + std::to_string(id) + ": cannot check the proxies: " + *error;
        return false;
      }
      if (const std::string added = newcomer(snapshot, urls); !added.empty()) {
        std::lock_guard lock(mutex_);
        Attempt& a = *find_locked(id);
        fail_locked(a, "proxy " + added + " appeared during the cutover and is not paused");
        ++aborted_total_;
        *out = a;
        *error = a.error + "; the cutover was aborted on every proxy";
        return false;
      }
    }
    std::lock_guard lock(mutex_);
    Attempt& a = *find_locked(id);
    decide(a, kDecisionCommit);
    a.old_source.fence_requested = fence_source.value_or(config_.fence_source);
    a.old_source.committed_ns = now_ns();
    if (!persist_locked(error)) {
      decide(a, kDecisionBegin);
      return false;
    }
    spdlog::info("cutover {}: committing on {} proxies", id, a.proxies.size());
    // Under the lock: the monitor, which also sends decisions, must not get to it first.
    crash_point("commit-recorded");
  }
  push_decision(id, config_.proxy_timeout_ms);
  bool committed = false;
  {
    std::lock_guard lock(mutex_);
    committed = find_locked(id)->status() == LMS_CUTOVER_COMMITTED;
    if (committed) committed_total_ += snapshot.decision == kDecisionBegin ? 1 : 0;
  }
  // Else the monitor fences it once every proxy has confirmed.
  if (committed) fence_old_source_of(id);
  std::lock_guard lock(mutex_);
  *out = *find_locked(id);
  return true;
}

void Coordinator::note_preflight(nlohmann::json answer) {
  answer["time_ns"] = now_ns();
  std::lock_guard lock(mutex_);
  last_preflight_ = std::move(answer);
}

bool Coordinator::lift_earlier_fence(const Attempt& attempt, std::string* error) {
  std::string fenced_address;
  {
    std::lock_guard lock(mutex_);
    // The latest committed attempt before this one switched away from the database this one
    // switches to.
    for (auto it = attempts_.rbegin(); it != attempts_.rend(); ++it) {
      if (it->id >= attempt.id || it->decision != kDecisionCommit) continue;
      if (it->old_source.fenced) fenced_address = it->old_source.address;
      break;
    }
  }
  if (fenced_address.empty()) return true;
  if (!lift_fence(attempt.proxies.front().control_address, proxy_access(), error)) {
    *error = "cannot commit cutover " + std::to_string(attempt.id) +
             ": the fence an earlier cutover put on " + fenced_address + " could not be lifted: " + *error +
             "; traffic stays paused: commit again, or abort";
    return false;
  }
  spdlog::info("cutover {}: lifted the fence on {} before switching to it", attempt.id, fenced_address);
  return true;
}

void Coordinator::fence_old_source_of(uint64_t id) {
  std::vector<std::string> urls;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr || a->decision != kDecisionCommit || !a->old_source.fence_requested) return;
    if (a->old_source.fenced || !a->old_source.fence_error.empty()) return;  // done, one way or the other
    urls = control_addresses(*a);
  }
  OldSourceRecord record;
  fence_old_source(status(urls), proxy_access(), &record);
  if (record.fenced) {
    spdlog::info("cutover {}: fenced the old source {}", id, record.address);
  } else {
    spdlog::error("cutover {}: could not fence the old source {}: {}", id, record.address,
                  record.fence_error);
  }
  std::lock_guard lock(mutex_);
  Attempt* a = find_locked(id);
  if (a == nullptr) return;
  a->old_source.address = record.address;
  a->old_source.fenced = record.fenced;
  a->old_source.fence_error = record.fence_error;
  std::string error;
  if (!persist_locked(&error)) spdlog::warn("cutover {}: cannot record the fence: {}", id, error);
}

void Coordinator::start_watching_old_source_of(uint64_t id) {
  // The proxies' records too: by now their sessions have carried their state over.
  refresh(id);
  std::vector<std::string> urls;
  OldSourceRecord record;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr || a->decision != kDecisionCommit || a->old_source.settled) return;
    urls = control_addresses(*a);
    record = a->old_source;
  }
  watch_old_source(status(urls), proxy_access(), now_ns(), &record);
  if (!record.watched) spdlog::warn("cutover {}: the old source {} is {}", id, record.address, record.note);
  std::lock_guard lock(mutex_);
  Attempt* a = find_locked(id);
  if (a == nullptr) return;
  a->old_source.settled = true;
  a->old_source.address = record.address;
  a->old_source.watched = record.watched;
  a->old_source.rows_at_commit = record.rows_at_commit;
  a->old_source.checked_ns = record.checked_ns;
  a->old_source.note = record.note;
  std::string error;
  if (!persist_locked(&error)) spdlog::warn("cutover {}: cannot record the old source: {}", id, error);
}

void Coordinator::watch_old_source_of(uint64_t id) {
  std::string url;
  OldSourceRecord record;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr || !a->old_source.watched || a->proxies.empty()) return;
    url = a->proxies.front().control_address;
    record = a->old_source;
  }
  uint64_t writes = 0;
  std::string error;
  const bool read = old_source_writes(url, record, proxy_access(), &writes, &error);
  std::lock_guard lock(mutex_);
  Attempt* a = find_locked(id);
  if (a == nullptr) return;
  a->old_source.checked_ns = now_ns();
  if (!read) return;  // the next look tries again
  if (writes == a->old_source.writes) return;
  const std::string& note = a->old_source.note;
  spdlog::warn("cutover {}: {} rows written on the old source {} since the commit, not through LMS{}", id,
               writes, a->old_source.address, note.empty() ? "" : " (the count " + note + ")");
  a->old_source.writes = writes;
  std::string persist_error;
  if (!persist_locked(&persist_error))
    spdlog::warn("cutover {}: cannot record the old source: {}", id, persist_error);
}

bool Coordinator::abort(uint64_t id, uint32_t timeout_ms, Attempt* out, std::string* error) {
  std::lock_guard op(op_mutex_);
  {
    std::lock_guard lock(mutex_);
    Attempt* a = find_locked(id);
    if (a == nullptr) {
      *error = id == 0 ? "there is no cutover to abort" : "there is no cutover " + std::to_string(id);
      return false;
    }
    id = a->id;
    if (a->decision == kDecisionCommit) {
      *error = "cutover " + std::to_string(id) +
               " is committed and cannot be aborted: to go back, begin and commit a new cutover";
      return false;
    }
    if (a->decision == kDecisionBegin) {
      decide(*a, kDecisionAbort);
      if (!persist_locked(error)) {
        decide(*a, kDecisionBegin);
        return false;
      }
      ++aborted_total_;
      spdlog::info("cutover {}: aborting on {} proxies", id, a->proxies.size());
      // Under the lock: the monitor, which also sends decisions, must not get to it first.
      crash_point("abort-recorded");
    }
  }
  push_decision(id, timeout_ms == 0 ? config_.proxy_timeout_ms : timeout_ms);
  std::lock_guard lock(mutex_);
  *out = *find_locked(id);
  return true;
}

bool Coordinator::get(uint64_t id, Attempt* out, std::string* error) {
  bool latest = false;
  {
    std::lock_guard lock(mutex_);
    const Attempt* a = find_locked(id);
    if (a == nullptr) {
      *error = id == 0 ? "there is no cutover yet" : "there is no cutover " + std::to_string(id);
      return false;
    }
    id = a->id;
    latest = attempts_.back().id == id;
  }
  // Only the latest attempt is live on the proxies; an older one is history, as recorded.
  if (latest) refresh(id);
  std::lock_guard lock(mutex_);
  *out = *find_locked(id);
  return true;
}

std::string Coordinator::configured_dialect() const {
  // Status shows dialects by their display names ("PostgreSQL" for postgres).
  return config_.source_dialect.empty() ? "" : control::display_dialect(config_.source_dialect);
}

std::vector<Attempt> Coordinator::history() {
  uint64_t latest = 0;
  {
    std::lock_guard lock(mutex_);
    if (!attempts_.empty()) latest = attempts_.back().id;
  }
  // The latest attempt is live on the proxies; the older ones are shown as recorded.
  if (latest != 0) refresh(latest);
  std::lock_guard lock(mutex_);
  return {attempts_.rbegin(), attempts_.rend()};
}

void Coordinator::run_monitor() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(25));
    if (stopping_ || attempts_.empty()) continue;
    const Attempt& last = attempts_.back();
    const uint64_t id = last.id;
    const std::string decision = last.decision;
    bool settled = true;
    for (const auto& p : last.proxies) settled = settled && acknowledged(last, p);
    if (decision == kDecisionCommit && settled) {
      // Committed everywhere: the old source fenced when asked (if the commit itself could not),
      // its baseline taken a moment later, then looked at now and then.
      const OldSourceRecord& old = last.old_source;
      const bool fence = old.fence_requested && !old.fenced && old.fence_error.empty();
      const int64_t now = now_ns();
      const bool baseline = !old.settled && now - old.committed_ns >= kOldSourceSettleNs;
      const bool look = old.watched && now - old.checked_ns >= kOldSourceLookNs;
      if (!fence && !baseline && !look) continue;
      lock.unlock();
      {
        std::lock_guard op(op_mutex_);
        if (fence) fence_old_source_of(id);
        if (baseline) start_watching_old_source_of(id);
      }
      if (look) watch_old_source_of(id);
      lock.lock();
      continue;
    }
    if (decision != kDecisionBegin && settled) continue;
    lock.unlock();
    if (decision == kDecisionBegin) {
      // While pausing: a proxy that failed (its begin-timeout made it give up, it restarted and
      // lost the pause, or it stopped answering) fails the whole attempt.
      // Under op_mutex_: a refresh racing a begin or commit could store answers older than theirs.
      std::lock_guard op(op_mutex_);
      refresh(id);
      lock.lock();
      Attempt* a = find_locked(id);
      std::vector<std::string> discovered;
      std::string ignored;
      if (a != nullptr && a->discovered) discovered_urls(discovery_->last(), &discovered, &ignored);
      if (a != nullptr && a->decision == kDecisionBegin) {
        if (const std::string why = pausing_failure(*a, discovered, now_ns()); !why.empty()) {
          fail_locked(*a, why);
          ++aborted_total_;
        }
      }
      lock.unlock();
    } else {
      push_decision(id, config_.proxy_timeout_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    lock.lock();
  }
}

std::string Coordinator::render_metrics() {
  std::lock_guard lock(mutex_);
  metrics::PrometheusText out;
  out.family("lms_orchestrator_cutovers_total", "counter", "Cutover attempts, by how they ended.");
  out.sample("lms_orchestrator_cutovers_total", R"(result="committed")", committed_total_.load());
  out.sample("lms_orchestrator_cutovers_total", R"(result="aborted")", aborted_total_.load());
  const bool in_progress = !attempts_.empty() && attempts_.back().decision == kDecisionBegin;
  out.single("lms_orchestrator_cutover_in_progress", "gauge", "Whether a cutover is begun and not committed.",
             uint64_t{in_progress ? 1u : 0u});
  out.single("lms_orchestrator_last_cutover_id", "gauge", "The latest attempt's ID.",
             uint64_t{attempts_.empty() ? 0 : attempts_.back().id});
  // The latest cutover's old source (0 and 0 before any commit was watched).
  const OldSourceRecord* old = nullptr;
  if (!attempts_.empty() && attempts_.back().decision == kDecisionCommit) old = &attempts_.back().old_source;
  out.single("lms_orchestrator_old_source_writes", "gauge",
             "Rows written on the database the latest cutover switched away from, since its commit, as that "
             "database counts them: writes that went around LMS.",
             old != nullptr && old->watched ? old->writes : uint64_t{0});
  out.single("lms_orchestrator_old_source_fenced", "gauge",
             "Whether the latest cutover's old source refuses ordinary sessions' writes.",
             uint64_t{old != nullptr && old->fenced ? 1u : 0u});
  if (discovery_->enabled()) {
    out.single("lms_orchestrator_proxies_discovered", "gauge",
               "Proxies the DNS name resolved to at the last look.", uint64_t{discovery_->known()});
    out.single("lms_orchestrator_proxy_set_changes_total", "counter", "Times the discovered proxies changed.",
               uint64_t{discovery_->changes()});
    out.single("lms_orchestrator_discovery_failures_total", "counter",
               "Resolutions of the DNS name that failed.", uint64_t{discovery_->failures()});
  }
  return out.str();
}

}  // namespace lms::orchestrator
