#include "metrics_history.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <string_view>

namespace lms::orchestrator {
namespace {

// The value of `key="..."` inside a sample's labels, "" when absent.
std::string_view label(std::string_view labels, std::string_view key) {
  const std::string needle = std::string(key) + "=\"";
  const size_t at = labels.find(needle);
  if (at == std::string_view::npos) return {};
  const size_t start = at + needle.size();
  const size_t end = labels.find('"', start);
  return end == std::string_view::npos ? std::string_view{} : labels.substr(start, end - start);
}

double number(std::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() ? value : 0;
}

// A counter's increase; a smaller value means the proxy restarted and counts from zero again.
double increase(double before, double after) { return after >= before ? after - before : after; }

Buckets increase(const Buckets& before, const Buckets& after) {
  if (before.size() != after.size()) return after;
  Buckets out = after;
  for (size_t i = 0; i < out.size(); ++i) out[i].second = increase(before[i].second, after[i].second);
  // A restart between the two reads: the cumulative counts must not go down across buckets.
  for (size_t i = 1; i < out.size(); ++i) out[i].second = std::max(out[i].second, out[i - 1].second);
  return out;
}

void add_into(Buckets& into, const Buckets& more) {
  if (into.empty()) {
    into = more;
    return;
  }
  if (into.size() != more.size()) return;  // proxies of another build: their bounds differ
  for (size_t i = 0; i < into.size(); ++i) into[i].second += more[i].second;
}

const Scrape* find(const std::vector<Scrape>& scrapes, const std::string& address) {
  for (const Scrape& s : scrapes) {
    if (s.control_address == address) return &s;
  }
  return nullptr;
}

}  // namespace

Scrape parse_scrape(const std::string& text) {
  Scrape out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::string_view l(line);
    const size_t space = l.rfind(' ');
    if (space == std::string_view::npos) continue;
    const size_t brace = l.find('{');
    const std::string_view name = l.substr(0, std::min(brace, space));
    const std::string_view labels =
        brace < space ? l.substr(brace + 1, l.rfind('}', space) - brace - 1) : std::string_view{};
    const double value = number(l.substr(space + 1));
    if (name == "lms_requests_total") {
      out.requests += value;
    } else if (name == "lms_errors_total") {
      out.errors += value;
    } else if (name == "lms_shadow_requests_total") {
      out.shadow_requests += value;
    } else if (name == "lms_shadow_comparisons_total") {
      out.comparisons += value;
    } else if (name == "lms_shadow_mismatches_total") {
      out.mismatches += value;
    } else if (name == "lms_shadow_target_errors_total") {
      out.shadow_target_errors += value;
    } else if (name == "lms_request_duration_seconds_bucket") {
      const std::string_view database = label(labels, "database");
      Buckets* into = database == "source" ? &out.serving_latency
                      : database == "target" ? &out.shadow_latency
                                             : nullptr;
      if (into != nullptr) into->emplace_back(number(label(labels, "le")), value);
    }
  }
  return out;
}

double p99_ms_of(const Buckets& increase) {
  if (increase.empty() || increase.back().second <= 0) return 0;
  const double rank = 0.99 * increase.back().second;
  double last_finite = 0;
  for (const auto& [bound, count] : increase) {
    if (std::isfinite(bound)) last_finite = bound;
    if (count >= rank) return (std::isfinite(bound) ? bound : last_finite) * 1000.0;
  }
  return last_finite * 1000.0;
}

Sample sample_between(const std::vector<Scrape>& before, const std::vector<Scrape>& after, double seconds,
                      int64_t at_ms) {
  Sample out;
  out.at_ms = at_ms;
  out.seconds = seconds;
  if (seconds <= 0) return out;
  Buckets source_latency, target_latency;
  for (const Scrape& now : after) {
    const Scrape* earlier = find(before, now.control_address);
    if (earlier == nullptr) continue;  // its first read: no interval to measure yet
    const Scrape& then = *earlier;
    ProxyRates rates;
    rates.control_address = now.control_address;
    rates.role = now.role;
    rates.requests_per_s = increase(then.requests, now.requests) / seconds;
    rates.errors_per_s = increase(then.errors, now.errors) / seconds;
    rates.shadow_per_s = increase(then.shadow_requests, now.shadow_requests) / seconds;
    out.proxies.push_back(rates);
    const bool serves_target = now.role == "target";
    DatabaseRates& serving = serves_target ? out.target : out.source;
    DatabaseRates& shadowed = serves_target ? out.source : out.target;
    serving.requests_per_s += rates.requests_per_s;
    serving.served_per_s += rates.requests_per_s;
    shadowed.requests_per_s += rates.shadow_per_s;
    add_into(serves_target ? target_latency : source_latency, increase(then.serving_latency, now.serving_latency));
    add_into(serves_target ? source_latency : target_latency, increase(then.shadow_latency, now.shadow_latency));
    out.compared += increase(then.comparisons, now.comparisons);
    out.mismatches += increase(then.mismatches, now.mismatches);
    out.target_errors += increase(then.shadow_target_errors, now.shadow_target_errors);
  }
  out.source.p99_ms = p99_ms_of(source_latency);
  out.target.p99_ms = p99_ms_of(target_latency);
  return out;
}

void to_json(nlohmann::json& j, const Sample& s) {
  nlohmann::json proxies = nlohmann::json::array();
  for (const ProxyRates& p : s.proxies) {
    proxies.push_back({{"control_address", p.control_address},
                       {"source_of_truth_role", p.role},
                       {"requests_per_s", p.requests_per_s},
                       {"errors_per_s", p.errors_per_s},
                       {"shadow_per_s", p.shadow_per_s}});
  }
  const auto database = [](const DatabaseRates& d) {
    return nlohmann::json{{"requests_per_s", d.requests_per_s}, {"served_per_s", d.served_per_s}, {"p99_ms", d.p99_ms}};
  };
  j = {{"at_ms", s.at_ms},        {"seconds", s.seconds},       {"proxies", proxies},
       {"source", database(s.source)}, {"target", database(s.target)}, {"compared", s.compared},
       {"mismatches", s.mismatches}, {"target_errors", s.target_errors}};
}

void MetricsHistory::add(Sample sample) {
  std::lock_guard lock(mutex_);
  samples_.push_back(std::move(sample));
  while (samples_.size() > capacity_) samples_.pop_front();
}

nlohmann::json MetricsHistory::to_json(uint32_t interval_ms) {
  std::lock_guard lock(mutex_);
  nlohmann::json samples = nlohmann::json::array();
  for (const Sample& s : samples_) samples.push_back(s);
  return {{"interval_ms", interval_ms}, {"samples", samples}};
}

}  // namespace lms::orchestrator
