// Validation: the two databases' answers to one request, summarized by their dialects in the SDK's
// neutral form, handed to the shadow plugin's compare function, and the verdict counted in the
// worker's compatibility report, the metrics and the mismatch file. Nothing here runs unless the
// shadow plugin asked for a comparison of that request.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "compat_report.h"
#include "metrics.h"
#include "mismatch_log.h"

namespace lms::core {

struct ProxyShared;

// What validation needs from the configuration, set up once at start.
struct ValidationSettings {
  bool enabled = false;  // the shadow plugin compares, and both dialects summarize
  std::vector<std::string> ignored_columns;
  std::vector<lms_str> ignored_column_views;  // into ignored_columns
  std::optional<std::regex> ignored_statements;
  std::unique_ptr<MismatchLog> mismatch_log;
};

// One database's answer to one request, owned (a copy of the dialect's borrowed summary).
struct AnswerDigest {
  uint32_t result_sets = 0;
  std::vector<std::pair<std::string, std::string>> columns;
  uint64_t rows = 0;
  uint64_t checksum = 0;
  std::string tag;
  std::string error_code;
  std::string error_message;
  bool complete = true;
  uint64_t latency_ns = 0;

  // A database that failed the request without answering it (gone, too slow).
  static AnswerDigest failure(std::string code, std::string message, uint64_t latency_ns);
  // The summary view plugins read; `columns` holds the column views.
  lms_result_summary view(std::vector<lms_column>& columns) const;
};

// One connection's summarizer: fed the answer's bytes as they pass, read once per request.
class AnswerSummarizer {
 public:
  AnswerSummarizer(const lms_dialect_functions* dialect, const ValidationSettings& settings);
  ~AnswerSummarizer();
  AnswerSummarizer(const AnswerSummarizer&) = delete;
  AnswerSummarizer& operator=(const AnswerSummarizer&) = delete;

  void feed(const uint8_t* data, size_t len) {
    if (state_ != nullptr) dialect_->summary_feed(state_, data, len);
  }
  // The answer fed since the last take; starts the next.
  AnswerDigest take(uint64_t latency_ns);

 private:
  const lms_dialect_functions* dialect_;
  void* state_ = nullptr;
};

// A request whose answers are being collected; judged once both are in.
struct PendingComparison {
  uint64_t id = 0;
  std::string statement;  // as the client sent it
  std::optional<AnswerDigest> source;
  std::optional<AnswerDigest> target;
};

// One per worker: judges comparisons and keeps that worker's share of the report.
class Validator {
 public:
  Validator(ProxyShared& shared, WorkerMetrics& metrics) : shared_(shared), metrics_(metrics) {}
  void judge(const PendingComparison& comparison, uint64_t session_id);
  const CompatReport& report() const { return report_; }

 private:
  StatementStats& stats_for(const std::string& normalized);
  std::string normalize(const std::string& statement) const;

  ProxyShared& shared_;
  WorkerMetrics& metrics_;
  CompatReport report_;
};

}  // namespace lms::core
