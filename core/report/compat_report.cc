#include "compat_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace lms::core {
namespace {

constexpr double kFirstBoundNs = 10'000;  // 10 µs
constexpr double kGrowth = 1.4;

double bound_ns(size_t i) { return kFirstBoundNs * std::pow(kGrowth, static_cast<double>(i)); }

}  // namespace

void LatencySketch::observe(uint64_t nanoseconds) {
  size_t i = 0;
  if (static_cast<double>(nanoseconds) > kFirstBoundNs) {
    const double steps = std::log(static_cast<double>(nanoseconds) / kFirstBoundNs) / std::log(kGrowth);
    i = std::min(kBuckets, static_cast<size_t>(std::ceil(steps)));
  }
  ++buckets_[i];
  ++count_;
}

void LatencySketch::merge(const LatencySketch& other) {
  for (size_t i = 0; i <= kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

double LatencySketch::quantile_ms(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i <= kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<uint64_t>(rank, 1)) return bound_ns(std::min(i, kBuckets - 1)) / 1e6;
  }
  return bound_ns(kBuckets - 1) / 1e6;
}

std::vector<std::pair<uint32_t, uint32_t>> LatencySketch::nonempty_buckets() const {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (size_t i = 0; i <= kBuckets; ++i) {
    if (buckets_[i] != 0) out.emplace_back(static_cast<uint32_t>(i), buckets_[i]);
  }
  return out;
}

void LatencySketch::add_bucket(size_t index, uint32_t n) {
  buckets_[std::min(index, kBuckets)] += n;
  count_ += n;
}

void StatementStats::merge(const StatementStats& other) {
  ignored = ignored || other.ignored;
  executions += other.executions;
  target_errors += other.target_errors;
  if (first_target_error.empty()) first_target_error = other.first_target_error;
  mismatches += other.mismatches;
  for (size_t i = 0; i < kDifferenceKinds; ++i) by_kind[i] += other.by_kind[i];
  other_differences += other.other_differences;
  if (!other.last_mismatch.empty()) last_mismatch = other.last_mismatch;
  source_latency.merge(other.source_latency);
  target_latency.merge(other.target_latency);
}

namespace {

nlohmann::json latency_json(const LatencySketch& sketch) {
  return {{"p50", sketch.quantile_ms(0.5)}, {"p99", sketch.quantile_ms(0.99)}, {"buckets", sketch.nonempty_buckets()}};
}

void read_latency(const nlohmann::json& j, LatencySketch* sketch) {
  if (!j.is_object() || !j.contains("buckets")) return;
  for (const auto& pair : j.at("buckets")) sketch->add_bucket(pair.at(0).get<size_t>(), pair.at(1).get<uint32_t>());
}

}  // namespace

void merge_report(CompatReport& into, const CompatReport& from) {
  for (const auto& [statement, stats] : from) into[statement].merge(stats);
}

std::string render_report_json(const CompatReport& report, const std::string& shadow_mode) {
  using nlohmann::json;
  std::vector<const CompatReport::value_type*> order;
  uint64_t executions = 0, target_errors = 0, mismatches = 0;
  for (const auto& entry : report) {
    order.push_back(&entry);
    executions += entry.second.executions;
    target_errors += entry.second.target_errors;
    mismatches += entry.second.mismatches;
  }
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const uint64_t ta = a->second.mismatches + a->second.target_errors;
    const uint64_t tb = b->second.mismatches + b->second.target_errors;
    if (ta != tb) return ta > tb;
    return a->second.executions > b->second.executions;
  });
  json statements = json::array();
  for (const auto* entry : order) {
    const StatementStats& s = entry->second;
    json kinds = json::object();
    for (size_t i = 0; i < kDifferenceKinds; ++i) kinds[kDifferenceNames[i]] = s.by_kind[i];
    kinds["other"] = s.other_differences;
    statements.push_back({
        {"statement", entry->first},
        {"ignored", s.ignored},
        {"executions", s.executions},
        {"target_errors", s.target_errors},
        {"first_target_error", s.first_target_error},
        {"mismatches", s.mismatches},
        {"differences", kinds},
        {"last_mismatch", s.last_mismatch},
        {"source_latency_ms", latency_json(s.source_latency)},
        {"target_latency_ms", latency_json(s.target_latency)},
    });
  }
  return json{{"shadow_mode", shadow_mode},
              {"compared", executions},
              {"target_errors", target_errors},
              {"mismatches", mismatches},
              {"statements", statements}}
      .dump(2);
}

bool parse_report_json(const std::string& text, CompatReport* report, std::string* shadow_mode, std::string* error) {
  using nlohmann::json;
  try {
    const json j = json::parse(text);
    CompatReport parsed;  // merged only once all of it reads, so a bad report adds nothing
    *shadow_mode = j.value("shadow_mode", "");
    for (const auto& entry : j.at("statements")) {
      StatementStats s;
      s.ignored = entry.value("ignored", false);
      s.executions = entry.value("executions", uint64_t{0});
      s.target_errors = entry.value("target_errors", uint64_t{0});
      s.first_target_error = entry.value("first_target_error", "");
      s.mismatches = entry.value("mismatches", uint64_t{0});
      s.last_mismatch = entry.value("last_mismatch", "");
      if (entry.contains("differences")) {
        const json& kinds = entry.at("differences");
        for (size_t i = 0; i < kDifferenceKinds; ++i) s.by_kind[i] = kinds.value(kDifferenceNames[i], uint64_t{0});
        s.other_differences = kinds.value("other", uint64_t{0});
      }
      read_latency(entry.value("source_latency_ms", json()), &s.source_latency);
      read_latency(entry.value("target_latency_ms", json()), &s.target_latency);
      parsed[entry.at("statement").get<std::string>()].merge(s);
    }
    merge_report(*report, parsed);
    return true;
  } catch (const std::exception& e) {
    *error = std::string("not a compatibility report: ") + e.what();
    return false;
  }
}

}  // namespace lms::core
