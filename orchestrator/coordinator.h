// The orchestrator's cutover logic across proxies. It begins on every proxy, commits only when
// every one reports TrafficPaused (and, unless skipped, the replication marker has reached the
// other database), and aborts all when any fails. Each decision is written to the store before
// it is sent; a background loop keeps sending the latest decision to proxies that have not
// acknowledged it, which is also how a restarted orchestrator finishes (commit) or undoes (begin)
// what it started.
//
// Thread rules: the public calls come from HTTP threads; begin/commit/abort are serialized.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "attempt.h"
#include "decisions.h"
#include "discovery.h"
#include "fleet_views.h"
#include "old_source.h"
#include "proxy_client.h"
#include "state_store.h"

namespace lms::orchestrator {

struct CoordinatorConfig {
  std::vector<std::string> lms_addresses;  // the proxies' control addresses, as configured
  std::string lms_dns;  // or a DNS name that resolves to every proxy ("https://name" for HTTPS)
  uint32_t lms_dns_interval_ms = 5000;  // how often the name is resolved again to follow the pods
  std::string source_dialect;           // when set, every proxy must serve this dialect's clients
  uint16_t lms_port = 9044;
  uint32_t replication_timeout_ms = 30000;
  // The longest a pause may last from begin without a commit; then the attempt is aborted and
  // traffic resumes untouched (0: unbounded). A begin may give its own.
  uint32_t max_pause_ms = 30000;
  // A commit is refused when the replication marker took longer than this to arrive (0: any lag
  // within replication-timeout is accepted).
  uint32_t max_replication_lag_ms = 0;
  bool fence_source = false;  // what a commit that does not say does
  bool skip_replication_check = false;
  uint32_t proxy_timeout_ms = 5000;
  TlsFiles tls;
};

struct ProxyConnections {
  std::string control_address;
  std::vector<control::Connection> connections;
  std::string error;
};

struct BeginRequest {
  std::vector<std::string> lms_addresses;  // empty: the configured or discovered proxies
  uint32_t begin_timeout_ms = 0;
  bool abort_on_timeout = false;
  uint32_t max_pause_ms = 0;  // 0: the orchestrator's --max-pause
};

class Coordinator {
 public:
  Coordinator(CoordinatorConfig config, StateStore& store);
  ~Coordinator();

  // Loads the history and takes up what a previous run left: an attempt begun but not committed
  // is aborted, a commit is finished.
  bool start(std::string* error);
  void stop();

  // The proxies' control URLs: `requested` when not empty, else the configured ones, else those
  // the DNS name resolves to.
  bool resolve(const std::vector<std::string>& requested, std::vector<std::string>* urls, std::string* error);

  std::vector<ProxyStatus> status(const std::vector<std::string>& urls);
  std::vector<ProxyConnections> connections(const std::vector<std::string>& urls);
  // Preflight: through the first proxy that answers and has a target, the marker table made on
  // both databases where missing, then a marker written and waited for on the other database.
  // Preflight: every answering proxy logs in to the other database with its own configuration.
  LoginProbe probe_logins(const std::vector<ProxyStatus>& proxies);
  // Preflight: whether the other database has each of `names`, read through the first proxy.
  TablesProbe probe_tables(const std::vector<ProxyStatus>& proxies, const std::vector<std::string>& names);
  ReplicationProbe probe_replication(const std::vector<ProxyStatus>& proxies);
  // Preflight: the transactions open on the source of truth for at least `min_age_ms`, through the
  // first proxy that answers.
  TransactionsProbe probe_transactions(const std::vector<ProxyStatus>& proxies, uint64_t min_age_ms);
  // A preflight's answer, kept for the record of the next attempt begun.
  void note_preflight(nlohmann::json answer);
  // The pause's bound when a begin gives none (0: unbounded).
  uint32_t max_pause_ms() const { return config_.max_pause_ms; }
  bool begin(const BeginRequest& request, Attempt* out, std::string* error);
  // id 0: the latest attempt. fence_source: once committed, the old source refuses ordinary
  // sessions' writes (see old_source.h); unset: the orchestrator's --fence-source.
  bool commit(uint64_t id, std::optional<bool> fence_source, Attempt* out, std::string* error);
  bool abort(uint64_t id, uint32_t timeout_ms, Attempt* out, std::string* error);
  bool get(uint64_t id, Attempt* out, std::string* error);
  // Every attempt as recorded, newest first.
  std::vector<Attempt> history();
  // The display name of the dialect every proxy must serve ("" for any), as begin checks it.
  std::string configured_dialect() const;
  // How the console's views reach the proxies: as the cutover does.
  FleetAccess fleet_access() const { return {config_.tls, config_.proxy_timeout_ms}; }
  std::string render_metrics();

 private:
  Attempt* find_locked(uint64_t id);
  bool persist_locked(std::string* error);
  // Asks every proxy of `attempt` for its cutover record (in parallel) and stores the answers.
  void refresh(uint64_t id);
  // Sends the attempt's decision to every proxy that has not acknowledged it yet.
  void push_decision(uint64_t id, uint32_t timeout_ms);
  // Turns a begun attempt into an abort (written down, then sent) because of `why`.
  void fail_locked(Attempt& attempt, const std::string& why);
  bool check_replication(const Attempt& attempt, std::string* error);
  // Where the source of truth stands in its change stream now (paused, just before the switch), kept
  // in the attempt's record; an error is recorded, never fatal.
  void record_source_position(const Attempt& attempt);
  // Polls the other database for `token` until `deadline`; *lag_ms: how long it took.
  bool wait_for_marker(ProxyClient& client, const std::string& token,
                       std::chrono::steady_clock::time_point deadline, uint64_t* lag_ms,
                       std::string* last_error);
  // The discovered addresses as control URLs.
  bool discovered_urls(const std::vector<std::string>& addresses, std::vector<std::string>* urls,
                       std::string* error) const;
  void run_monitor();
  // The attempt's old source, once its commit is confirmed: fenced when asked, then (a moment later)
  // its baseline read (callers hold op_mutex_).
  void fence_old_source_of(uint64_t id);
  void start_watching_old_source_of(uint64_t id);
  // The latest attempt's old source read again; a write seen is logged and recorded.
  void watch_old_source_of(uint64_t id);
  // Before switching back to a database an earlier cutover fenced: the fence lifted.
  bool lift_earlier_fence(const Attempt& attempt, std::string* error);
  ProxyAccess proxy_access() const { return {config_.tls, config_.proxy_timeout_ms}; }

  CoordinatorConfig config_;
  std::string dns_scheme_;  // "http" or "https", from --lms-dns
  std::unique_ptr<ProxyDiscovery> discovery_;
  StateStore& store_;
  std::mutex op_mutex_;
  std::mutex mutex_;
  std::vector<Attempt> attempts_;
  nlohmann::json last_preflight_;  // since the last begin
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread monitor_;
  std::atomic<uint64_t> committed_total_{0};
  std::atomic<uint64_t> aborted_total_{0};
};

}  // namespace lms::orchestrator
