// The compatibility report: per normalized statement, how the target fared against the source of
// truth. Each worker keeps its own (no lock on the data path); the HTTP thread asks every worker
// for a copy and merges them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lms::core {

// Latencies in logarithmic buckets (each 1.4 times the last, from 10 µs to about 100 s), so that
// p50 and p99 come within 20% from a few hundred bytes, and two sketches merge by addition.
class LatencySketch {
 public:
  static constexpr size_t kBuckets = 48;
  void observe(uint64_t nanoseconds);
  void merge(const LatencySketch& other);
  // The upper bound of the bucket holding quantile q, in milliseconds; 0 when empty.
  double quantile_ms(double q) const;
  uint64_t count() const { return count_; }
  // The non-empty buckets as (index, count), and adding one back: how a sketch travels in the
  // report's JSON so that another process (the orchestrator) merges it without losing quantiles.
  std::vector<std::pair<uint32_t, uint32_t>> nonempty_buckets() const;
  void add_bucket(size_t index, uint32_t n);

 private:
  std::array<uint32_t, kBuckets + 1> buckets_{};
  uint64_t count_ = 0;
};

// Kinds of difference, in the order of their lms_difference bits.
inline constexpr const char* kDifferenceNames[] = {"target_error", "row_count", "checksum", "columns", "tag"};
inline constexpr size_t kDifferenceKinds = 5;

struct StatementStats {
  bool ignored = false;  // matched shadow-ignore-statements: counted, never judged
  uint64_t executions = 0;
  uint64_t target_errors = 0;
  std::string first_target_error;
  uint64_t mismatches = 0;
  std::array<uint64_t, kDifferenceKinds> by_kind{};
  uint64_t other_differences = 0;  // a plugin's own kinds
  std::string last_mismatch;
  LatencySketch source_latency;
  LatencySketch target_latency;

  void merge(const StatementStats& other);
};

// Statement text (normalized) to its figures.
using CompatReport = std::map<std::string, StatementStats>;

// A worker stops adding statements past this many; later ones are counted under kOtherStatements.
inline constexpr size_t kMaxReportedStatements = 2000;
inline constexpr const char* kOtherStatements = "(other statements)";

void merge_report(CompatReport& into, const CompatReport& from);

// The report as JSON: totals, then statements with the most trouble first.
std::string render_report_json(const CompatReport& report, const std::string& shadow_mode);

// Reads back what render_report_json wrote (another proxy's report); false with *error when the
// text is not such a report.
bool parse_report_json(const std::string& text, CompatReport* report, std::string* shadow_mode, std::string* error);

}  // namespace lms::core
