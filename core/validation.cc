#include "validation.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "emit_into.h"
#include "json.h"
#include "shared.h"

namespace lms::core {
namespace {

constexpr size_t kDetailCap = 1024;
// Report keys and texts are cut here: a report holds thousands of them.
constexpr size_t kMaxStatementText = 2048;
constexpr size_t kMaxErrorText = 1024;

std::string cut(std::string s, size_t max) {
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}

// In the order of kDifferenceNames.
constexpr Counter WorkerMetrics::*kDifferenceCounters[kDifferenceKinds] = {
    &WorkerMetrics::shadow_diff_target_error, &WorkerMetrics::shadow_diff_row_count,
    &WorkerMetrics::shadow_diff_checksum, &WorkerMetrics::shadow_diff_columns,
    &WorkerMetrics::shadow_diff_tag};

std::string view_text(lms_str s) { return s.data == nullptr ? std::string() : std::string(s.data, s.len); }

nlohmann::json describe(const AnswerDigest& d) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& [name, type] : d.columns) columns.push_back(name + " " + type);
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(d.checksum));
  return {{"rows", d.rows},
          {"checksum", checksum},
          {"columns", columns},
          {"tag", d.tag},
          {"error_code", d.error_code},
          {"error", d.error_message},
          {"complete", d.complete},
          {"latency_ms", static_cast<double>(d.latency_ns) / 1e6}};
}

}  // namespace

AnswerDigest AnswerDigest::failure(std::string code, std::string message, uint64_t latency_ns) {
  AnswerDigest d;
  d.error_code = std::move(code);
  d.error_message = std::move(message);
  d.latency_ns = latency_ns;
  return d;
}

lms_result_summary AnswerDigest::view(std::vector<lms_column>& views) const {
  views.clear();
  for (const auto& [name, type] : columns)
    views.push_back({{name.data(), name.size()}, {type.data(), type.size()}});
  lms_result_summary s{};
  s.struct_size = sizeof s;
  s.result_sets = result_sets;
  s.columns = views.data();
  s.column_count = views.size();
  s.rows = rows;
  s.checksum = checksum;
  s.tag = {tag.data(), tag.size()};
  s.error_code = {error_code.data(), error_code.size()};
  s.error_message = {error_message.data(), error_message.size()};
  s.complete = complete ? 1 : 0;
  return s;
}

AnswerSummarizer::AnswerSummarizer(const lms_dialect_functions* dialect, const ValidationSettings& settings)
    : dialect_(dialect) {
  state_ =
      dialect_->summary_create(settings.ignored_column_views.data(), settings.ignored_column_views.size());
}

AnswerSummarizer::~AnswerSummarizer() {
  if (state_ != nullptr) dialect_->summary_destroy(state_);
}

AnswerDigest AnswerSummarizer::take(uint64_t latency_ns) {
  AnswerDigest d;
  d.latency_ns = latency_ns;
  if (state_ == nullptr) {
    d.complete = false;  // the dialect could not make a summarizer (out of memory)
    return d;
  }
  lms_result_summary s{};
  s.struct_size = sizeof s;
  dialect_->summary_get(state_, &s);
  d.result_sets = s.result_sets;
  for (size_t i = 0; i < s.column_count; ++i) {
    d.columns.emplace_back(view_text(s.columns[i].name), view_text(s.columns[i].type));
  }
  d.rows = s.rows;
  d.checksum = s.checksum;
  d.tag = view_text(s.tag);
  d.error_code = view_text(s.error_code);
  d.error_message = view_text(s.error_message);
  d.complete = s.complete != 0;
  dialect_->summary_reset(state_);
  return d;
}

std::string Validator::normalize(const std::string& statement) const {
  if (statement.empty()) return "(unknown statement)";
  std::string out;
  const lms_emitter collect = emit_into(&out);
  shared_.dialect->normalize(statement.data(), statement.size(), &collect);
  return cut(std::move(out), kMaxStatementText);
}

StatementStats& Validator::stats_for(const std::string& normalized) {
  auto it = report_.find(normalized);
  if (it != report_.end()) return it->second;
  if (report_.size() >= kMaxReportedStatements) return report_[kOtherStatements];
  StatementStats& stats = report_[normalized];
  const auto& pattern = shared_.validation.ignored_statements;
  // Decided once per statement shape: the pattern never runs on the hot path again.
  stats.ignored = pattern && std::regex_search(normalized, *pattern);
  return stats;
}

void Validator::judge(const PendingComparison& c, uint64_t session_id) {
  const std::string statement = normalize(c.statement);
  StatementStats& stats = stats_for(statement);
  stats.executions += 1;
  stats.source_latency.observe(c.source->latency_ns);
  stats.target_latency.observe(c.target->latency_ns);
  if (stats.ignored) return;
  metrics_.shadow_comparisons.add();

  std::vector<lms_column> source_columns;
  std::vector<lms_column> target_columns;
  const lms_result_summary source = c.source->view(source_columns);
  const lms_result_summary target = c.target->view(target_columns);
  lms_comparison comparison{};
  comparison.struct_size = sizeof comparison;
  comparison.statement = {statement.data(), statement.size()};
  comparison.source = &source;
  comparison.target = &target;
  comparison.source_ns = c.source->latency_ns;
  comparison.target_ns = c.target->latency_ns;
  char detail[kDetailCap] = {};
  lms_verdict verdict{};
  verdict.struct_size = sizeof verdict;
  verdict.detail = detail;
  verdict.detail_cap = sizeof detail;
  shared_.shadow->compare(shared_.shadow_state, &comparison, &verdict);

  if (!c.target->error_code.empty() && c.source->error_code.empty()) {
    stats.target_errors += 1;
    if (stats.first_target_error.empty()) {
      stats.first_target_error = cut(c.target->error_code + ": " + c.target->error_message, kMaxErrorText);
    }
  }
  if (verdict.differences == 0) return;
  detail[sizeof detail - 1] = '\0';
  stats.mismatches += 1;
  stats.last_mismatch = detail;
  metrics_.shadow_mismatches.add();
  nlohmann::json kinds = nlohmann::json::array();
  for (size_t i = 0; i < kDifferenceKinds; ++i) {
    if ((verdict.differences & (1u << i)) == 0) continue;
    stats.by_kind[i] += 1;
    (metrics_.*kDifferenceCounters[i]).add();
    kinds.push_back(kDifferenceNames[i]);
  }
  if ((verdict.differences & ~((1u << kDifferenceKinds) - 1)) != 0) {
    stats.other_differences += 1;
    kinds.push_back("other");
  }
  spdlog::debug("session={} shadow mismatch on {}: {}", session_id, statement, detail);
  if (shared_.validation.mismatch_log) {
    // The normalized statement only: literals may carry secrets (passwords), normalization drops them.
    const nlohmann::json line = {
        {"time", control::format_time(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())},
        {"session", session_id},
        {"statement", statement},
        {"differences", kinds},
        {"detail", std::string(detail)},
        {"source", describe(*c.source)},
        {"target", describe(*c.target)}};
    shared_.validation.mismatch_log->write(line.dump());
  }
}

}  // namespace lms::core
