#include "metrics_sampler.h"

#include <chrono>

#include "fleet_views.h"

namespace lms::orchestrator {

void MetricsSampler::start() {
  thread_ = std::thread([this] { run(); });
}

void MetricsSampler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsSampler::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<Scrape> before;
  Clock::time_point before_at{};
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::vector<std::string> urls;
    std::string error;
    // No proxies configured or discovered (they are named per request): nothing to sample.
    std::vector<Scrape> now;
    if (coordinator_.resolve({}, &urls, &error)) now = read_scrapes(urls, coordinator_.fleet_access());
    const Clock::time_point now_at = Clock::now();
    if (!before.empty()) {
      const double seconds = std::chrono::duration<double>(now_at - before_at).count();
      const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
      history_.add(sample_between(before, now, seconds, wall_ms));
    }
    before = std::move(now);
    before_at = now_at;
    lock.lock();
    wake_.wait_until(lock, now_at + std::chrono::milliseconds(interval_ms_), [this] { return stopping_; });
  }
}

}  // namespace lms::orchestrator
