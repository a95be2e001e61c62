// The last 15 minutes of the deployment as the console charts it: every few seconds the sampler
// reads each proxy's /metrics (through the control ABI) and its status, and the difference between
// two reads becomes one sample: requests per second and p99 latency per database, per proxy rates,
// and the shadow comparisons. Which database a proxy's requests reached follows its source of
// truth at the time, so a cutover shows as the load moving from one line to the other.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lms::orchestrator {

// A histogram as Prometheus writes it: (upper bound, cumulative count), +Inf last.
using Buckets = std::vector<std::pair<double, double>>;

// What one read of one proxy's metrics holds that the console needs.
struct Scrape {
  std::string control_address;
  std::string role;                  // the proxy's source of truth then: "source" or "target"
  double requests = 0;               // served by the source of truth (lms_requests_total)
  double errors = 0;                 // lms_errors_total, every kind
  double shadow_requests = 0;        // sent to the other database
  double comparisons = 0;            // shadow answers compared
  double mismatches = 0;             // of which differed
  double shadow_target_errors = 0;   // failed on the other database only
  Buckets serving_latency;           // lms_request_duration_seconds{database="source"}
  Buckets shadow_latency;            // lms_request_duration_seconds{database="target"}
};

// Reads Prometheus text into a Scrape (role and address left to the caller). Lines it does not
// know are skipped: a newer proxy's extra families change nothing here.
Scrape parse_scrape(const std::string& text);

struct ProxyRates {
  std::string control_address;
  std::string role;
  double requests_per_s = 0;
  double errors_per_s = 0;
  double shadow_per_s = 0;
};

struct DatabaseRates {
  double requests_per_s = 0;  // served plus shadowed
  double served_per_s = 0;    // of which it answered clients as their source of truth
  double p99_ms = 0;          // 0 when nothing was measured in the interval
};

struct Sample {
  int64_t at_ms = 0;  // Unix epoch
  double seconds = 0;  // the interval it covers
  std::vector<ProxyRates> proxies;
  DatabaseRates source;  // the database that was the source before any cutover
  DatabaseRates target;
  double compared = 0;      // in the interval, over every proxy
  double mismatches = 0;
  double target_errors = 0;
};

// The sample between two reads of the proxies, `seconds` apart. A proxy's first read (absent from
// `before`) starts its interval and adds nothing; counters that went backwards (a restarted proxy)
// count from zero.
Sample sample_between(const std::vector<Scrape>& before, const std::vector<Scrape>& after, double seconds,
                      int64_t at_ms);

// The p99 of a histogram's increase between two reads, in milliseconds (0 when nothing happened).
double p99_ms_of(const Buckets& increase);

void to_json(nlohmann::json& j, const Sample& s);

// A bounded ring of samples; any thread.
class MetricsHistory {
 public:
  explicit MetricsHistory(size_t capacity) : capacity_(capacity) {}
  void add(Sample sample);
  nlohmann::json to_json(uint32_t interval_ms);

 private:
  std::mutex mutex_;
  size_t capacity_;
  std::deque<Sample> samples_;
};

}  // namespace lms::orchestrator
