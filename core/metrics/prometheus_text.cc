#include "prometheus_text.h"

namespace lms::metrics {

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void PrometheusText::name_and_labels(std::string_view name, std::string_view labels) {
  out_ << name;
  if (!labels.empty()) out_ << '{' << labels << '}';
  out_ << ' ';
}

void PrometheusText::sample(std::string_view name, std::string_view labels, uint64_t value) {
  name_and_labels(name, labels);
  out_ << value << '\n';
}

void PrometheusText::sample(std::string_view name, std::string_view labels, double value) {
  name_and_labels(name, labels);
  out_ << value << '\n';
}

void PrometheusText::single(std::string_view name, std::string_view type, std::string_view help,
                            uint64_t value) {
  family(name, type, help);
  sample(name, {}, value);
}

void PrometheusText::single(std::string_view name, std::string_view type, std::string_view help,
                            double value) {
  family(name, type, help);
  sample(name, {}, value);
}

}  // namespace lms::metrics
