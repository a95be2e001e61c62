// Finds the proxies behind one DNS name, as a Kubernetes headless Service publishes them (one
// address per pod), and follows them: the name is resolved again every interval, and the pods
// that appear or go away are logged and counted. Every call resolves afresh, so a cutover never
// acts on a list older than the call itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lms::orchestrator {

class ProxyDiscovery {
 public:
  // `name` empty: discovery is off and every call fails with a message saying how to name proxies.
  ProxyDiscovery(std::string name, uint16_t port, uint32_t interval_ms);
  ~ProxyDiscovery();

  bool enabled() const { return !name_.empty(); }
  const std::string& name() const { return name_; }

  // Resolves the name now: the proxies' control addresses (host:port, [v6]:port), sorted, each
  // once. Any thread.
  bool resolve(std::vector<std::string>* addresses, std::string* error);

  // The background loop that follows the pods (for the log and the metrics).
  void start();
  void stop();

  // The addresses the last successful resolution found (sorted).
  std::vector<std::string> last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  // What the last resolution found, and how many times the set changed since the start.
  size_t known() const { return known_.load(); }
  uint64_t changes() const { return changes_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void run();
  void note(const std::vector<std::string>& now);

  std::string name_;
  uint16_t port_;
  uint32_t interval_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool seen_once_ = false;
  std::vector<std::string> last_;
  std::thread thread_;
  std::atomic<size_t> known_{0};
  std::atomic<uint64_t> changes_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace lms::orchestrator
