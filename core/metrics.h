// Counters for Prometheus. Each worker owns one WorkerMetrics and is its only writer; the HTTP
// thread reads all of them to render /metrics. Single-writer counters need no atomic
// read-modify-write, only atomic loads and stores, so the data path never pays for a lock prefix.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace lms::core {

class Counter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }
  void set(uint64_t n) { value_.store(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Latency in fixed buckets (seconds, from 100 µs to 10 s), with the same single-writer rule.
class Histogram {
 public:
  static constexpr double kBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  static constexpr size_t kBuckets = sizeof(kBounds) / sizeof(kBounds[0]);

  void observe(uint64_t nanoseconds) {
    const double seconds = static_cast<double>(nanoseconds) / 1e9;
    size_t i = 0;
    while (i < kBuckets && seconds > kBounds[i]) ++i;
    buckets_[i].add();  // i == kBuckets is the +Inf overflow
    sum_ns_.add(nanoseconds);
  }
  // Cumulative count at or below bucket i (kBuckets: all).
  uint64_t cumulative(size_t i) const {
    uint64_t n = 0;
    for (size_t b = 0; b <= i; ++b) n += buckets_[b].get();
    return n;
  }
  double sum_seconds() const { return static_cast<double>(sum_ns_.get()) / 1e9; }

 private:
  Counter buckets_[kBuckets + 1];
  Counter sum_ns_;
};

// Padded so that two workers' counters never share a cache line.
struct alignas(64) WorkerMetrics {
  Counter connections_open;
  Counter connections_total;
  Counter connections_rejected;  // over max-connections
  Counter client_auth_failures;
  Counter client_protocol_errors;
  Counter requests;  // simple queries, syncs and function calls sent to the source
  Counter bytes_from_clients;
  Counter bytes_to_clients;
  Counter source_errors;  // ErrorResponse messages the source sent
  Counter source_connect_failures;
  Counter source_disconnects;  // the source went away under a live session
  Counter cancel_requests;
  Counter backpressure_pauses;        // reads stopped because the other side was slow
  Counter server_connections_reused;  // logins served by a kept database connection
  Counter server_connections_kept;    // gauge: database connections kept for reuse now
  // Shadowing
  Counter shadow_requests;       // requests sent to the target
  Counter shadow_dropped;        // requests the shadow mode did not send because the target was busy
  Counter shadow_target_errors;  // requests the target failed (its error, its death, its deadline)
  Counter shadow_timeouts;       // targets that missed shadow-timeout
  Counter shadow_waits;          // client answers held for the target
  // Validation
  Counter shadow_comparisons;        // requests whose two answers were judged
  Counter shadow_mismatches;         // of those, the ones whose answers differed
  Counter shadow_diff_target_error;  // by kind of difference (one request may have several)
  Counter shadow_diff_row_count;
  Counter shadow_diff_checksum;
  Counter shadow_diff_columns;
  Counter shadow_diff_tag;
  // Cutover
  Counter cutover_sessions_switched;  // sessions moved to the new source of truth
  Counter cutover_sessions_ended;     // busy sessions ended when begin-timeout expired
  Counter cutover_held_sessions;      // gauge: sessions whose next request waits for the pause to end
  Counter cutover_requests_held;      // requests that waited for a pause to end
  Counter cutover_connections_held;   // clients that logged in during a pause and waited
  Counter cutover_statements_replayed;  // settings and statements carried to a new source of truth
  Counter cutover_replay_failures;      // of those, failed there
  Counter cutover_first_hold_ns;        // when this pause first held a request or a client (0: not yet)
  Counter shutdown_sessions_ended;    // busy sessions ended when shutdown-grace expired
  // Transaction pooling (pool-mode transaction)
  Counter pool_servers_idle;          // gauge: database connections waiting for a transaction
  Counter pool_servers_active;        // gauge: lent to a client for its transaction
  Counter pool_servers_other;         // gauge: logging in, or rolling back what a departed client left
  Counter pool_clients_waiting;       // gauge: clients whose transaction waits for a connection
  Counter pool_transactions;          // connections lent (a transaction, or a statement outside one)
  Counter pool_timeouts;              // clients that waited longer than pool-timeout
  Counter pool_statements_prepared;   // gauge: statements prepared on this worker's idle connections
  Counter pool_statements_made;       // a client's statements prepared on a connection before its run
  Counter pool_statements_evicted;    // closed to keep a connection within max-prepared-statements
  Histogram pool_wait;                // how long clients waited for a connection
  Histogram source_latency;           // request to ReadyForQuery, per database
  Histogram target_latency;
};

struct ProcessInfo {
  std::string version;
  std::string source_dialect;
  std::string shadow_mode;
};

std::string render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ProcessInfo& info,
                              bool source_ready);

}  // namespace lms::core
