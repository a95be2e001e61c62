#include "metrics.h"

#include <functional>
#include <sstream>

namespace lms::core {
namespace {

uint64_t sum(const std::vector<const WorkerMetrics*>& workers,
             const std::function<const Counter&(const WorkerMetrics&)>& field) {
  uint64_t total = 0;
  for (const auto* w : workers) total += field(*w).get();
  return total;
}

}  // namespace

std::string render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ProcessInfo& info,
                              bool source_ready) {
  std::ostringstream out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  auto value = [&](const char* name, const std::string& labels, uint64_t v) {
    out << name;
    if (!labels.empty()) out << '{' << labels << '}';
    out << ' ' << v << '\n';
  };
  auto total = [&](auto field) { return sum(workers, field); };

  metric("lms_info", "gauge", "Build and configuration of this proxy.");
  value("lms_info",
        "version=\"" + info.version + "\",source_dialect=\"" + info.source_dialect + "\",shadow_mode=\"" +
            info.shadow_mode + "\"",
        1);
  metric("lms_source_ready", "gauge", "1 when the source of truth answered the last readiness probe.");
  value("lms_source_ready", "", source_ready ? 1 : 0);

  metric("lms_client_connections_open", "gauge", "Client connections currently open.");
  value("lms_client_connections_open", "",
        total([](const WorkerMetrics& w) -> const Counter& { return w.connections_open; }));
  metric("lms_client_connections_total", "counter", "Client connections accepted.");
  value("lms_client_connections_total", "",
        total([](const WorkerMetrics& w) -> const Counter& { return w.connections_total; }));
  metric("lms_client_connections_rejected_total", "counter",
         "Client connections refused over max-connections.");
  value("lms_client_connections_rejected_total", "",
        total([](const WorkerMetrics& w) -> const Counter& { return w.connections_rejected; }));

  metric("lms_requests_total", "counter",
         "Requests (simple queries, extended-protocol syncs, function calls) sent to a database.");
  value("lms_requests_total", "database=\"source\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.requests; }));

  metric("lms_bytes_total", "counter", "Bytes forwarded, by database and direction.");
  value("lms_bytes_total", "database=\"source\",direction=\"to_database\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.bytes_from_clients; }));
  value("lms_bytes_total", "database=\"source\",direction=\"to_client\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.bytes_to_clients; }));

  metric("lms_errors_total", "counter", "Errors, by database and kind.");
  value("lms_errors_total", "database=\"source\",kind=\"query\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.source_errors; }));
  value("lms_errors_total", "database=\"source\",kind=\"connect\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.source_connect_failures; }));
  value("lms_errors_total", "database=\"source\",kind=\"disconnect\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.source_disconnects; }));
  value("lms_errors_total", "database=\"client\",kind=\"auth\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.client_auth_failures; }));
  value("lms_errors_total", "database=\"client\",kind=\"protocol\"",
        total([](const WorkerMetrics& w) -> const Counter& { return w.client_protocol_errors; }));

  metric("lms_cancel_requests_total", "counter", "Cancel requests received from clients.");
  value("lms_cancel_requests_total", "",
        total([](const WorkerMetrics& w) -> const Counter& { return w.cancel_requests; }));
  metric("lms_backpressure_pauses_total", "counter",
         "Times a side stopped being read because its peer was slow.");
  value("lms_backpressure_pauses_total", "",
        total([](const WorkerMetrics& w) -> const Counter& { return w.backpressure_pauses; }));
  return out.str();
}

}  // namespace lms::core
