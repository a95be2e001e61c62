// Reads every proxy's metrics at a fixed interval into the MetricsHistory, on its own thread, so
// the console's charts cover the last minutes even when no browser was open.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "coordinator.h"
#include "metrics_history.h"

namespace lms::orchestrator {

class MetricsSampler {
 public:
  MetricsSampler(Coordinator& coordinator, MetricsHistory& history, uint32_t interval_ms)
      : coordinator_(coordinator), history_(history), interval_ms_(interval_ms) {}
  ~MetricsSampler() { stop(); }
  void start();
  void stop();

 private:
  void run();

  Coordinator& coordinator_;
  MetricsHistory& history_;
  uint32_t interval_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lms::orchestrator
