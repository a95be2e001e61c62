#include "metrics.h"

#include <sstream>

namespace lms::core {
namespace {

// One row per exported series: the family it belongs to and the counter it sums over workers.
struct Series {
  const char* family;
  const char* labels;
  Counter WorkerMetrics::*counter;
};

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

constexpr Family kFamilies[] = {
    {"lms_client_connections_open", "gauge", "Client connections currently open."},
    {"lms_client_connections_total", "counter", "Client connections accepted."},
    {"lms_client_connections_rejected_total", "counter", "Client connections refused over max-connections."},
    {"lms_requests_total", "counter",
     "Requests (simple queries, extended-protocol syncs, function calls) sent to a database."},
    {"lms_bytes_total", "counter", "Bytes forwarded, by database and direction."},
    {"lms_errors_total", "counter", "Errors, by database and kind."},
    {"lms_cancel_requests_total", "counter", "Cancel requests received from clients."},
    {"lms_backpressure_pauses_total", "counter",
     "Times a side stopped being read because its peer was slow."},
};

const Series kSeries[] = {
    {"lms_client_connections_open", "", &WorkerMetrics::connections_open},
    {"lms_client_connections_total", "", &WorkerMetrics::connections_total},
    {"lms_client_connections_rejected_total", "", &WorkerMetrics::connections_rejected},
    {"lms_requests_total", R"(database="source")", &WorkerMetrics::requests},
    {"lms_bytes_total", R"(database="source",direction="to_database")", &WorkerMetrics::bytes_from_clients},
    {"lms_bytes_total", R"(database="source",direction="to_client")", &WorkerMetrics::bytes_to_clients},
    {"lms_errors_total", R"(database="source",kind="query")", &WorkerMetrics::source_errors},
    {"lms_errors_total", R"(database="source",kind="connect")", &WorkerMetrics::source_connect_failures},
    {"lms_errors_total", R"(database="source",kind="disconnect")", &WorkerMetrics::source_disconnects},
    {"lms_errors_total", R"(database="client",kind="auth")", &WorkerMetrics::client_auth_failures},
    {"lms_errors_total", R"(database="client",kind="protocol")", &WorkerMetrics::client_protocol_errors},
    {"lms_cancel_requests_total", "", &WorkerMetrics::cancel_requests},
    {"lms_backpressure_pauses_total", "", &WorkerMetrics::backpressure_pauses},
};

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void sample(std::ostringstream& out, const char* name, const std::string& labels, uint64_t value) {
  out << name;
  if (!labels.empty()) out << '{' << labels << '}';
  out << ' ' << value << '\n';
}

}  // namespace

std::string render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ProcessInfo& info,
                              bool source_ready) {
  std::ostringstream out;
  header(out, "lms_info", "gauge", "Build and configuration of this proxy.");
  sample(out, "lms_info",
         "version=\"" + info.version + "\",source_dialect=\"" + info.source_dialect + "\",shadow_mode=\"" +
             info.shadow_mode + "\"",
         1);
  header(out, "lms_source_ready", "gauge", "1 when the source of truth answered the last readiness probe.");
  sample(out, "lms_source_ready", "", source_ready ? 1 : 0);
  for (const Family& family : kFamilies) {
    header(out, family.name, family.type, family.help);
    for (const Series& series : kSeries) {
      if (std::string_view(series.family) != family.name) continue;
      uint64_t total = 0;
      for (const WorkerMetrics* w : workers) total += (w->*series.counter).get();
      sample(out, series.family, series.labels, total);
    }
  }
  return out.str();
}

}  // namespace lms::core
