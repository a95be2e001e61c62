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

 private:
  std::atomic<uint64_t> value_{0};
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
  Counter backpressure_pauses;  // reads stopped because the other side was slow
};

struct ProcessInfo {
  std::string version;
  std::string source_dialect;
  std::string shadow_mode;
};

std::string render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ProcessInfo& info,
                              bool source_ready);

}  // namespace lms::core
