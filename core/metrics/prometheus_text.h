// The one writer of Prometheus's text exposition format (version 0.0.4), for lms's /metrics and
// lms-orchestrator's: a family's # HELP and # TYPE lines, then its samples, each
// `name{labels} value`. Labels come preformatted (`database="source",kind="query"`): every caller
// names them from fixed words, never from user input.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace lms::metrics {

class PrometheusText {
 public:
  // Starts a family. `type`: counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::string_view labels, uint64_t value);
  void sample(std::string_view name, std::string_view labels, double value);
  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value);
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  std::string str() const { return out_.str(); }

 private:
  void name_and_labels(std::string_view name, std::string_view labels);
  std::ostringstream out_;
};

}  // namespace lms::metrics
