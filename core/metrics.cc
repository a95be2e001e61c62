#include "metrics.h"

#include <sstream>

#include "prometheus_text.h"

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
    {"lms_server_connections_kept", "gauge",
     "Database connections kept after their clients left, reset, for the next client (server-pool-size)."},
    {"lms_server_connections_reused_total", "counter", "Client logins served by a kept database connection."},
    {"lms_shadow_requests_total", "counter", "Requests sent to the target by the shadow mode."},
    {"lms_shadow_dropped_total", "counter",
     "Requests the shadow mode dropped because the target was still busy."},
    {"lms_shadow_target_errors_total", "counter",
     "Shadowed requests the target failed, died on, or did not answer in time."},
    {"lms_shadow_timeouts_total", "counter", "Times a target missed shadow-timeout."},
    {"lms_shadow_waits_total", "counter", "Client answers held until the target answered."},
    {"lms_shadow_comparisons_total", "counter",
     "Shadowed requests whose answers from both databases were compared."},
    {"lms_shadow_mismatches_total", "counter", "Compared requests whose answers differed."},
    {"lms_shadow_differences_total", "counter", "Differences found by comparison, by kind."},
    {"lms_cutover_sessions_switched_total", "counter",
     "Sessions moved to the new source of truth by a cutover."},
    {"lms_cutover_sessions_ended_total", "counter",
     "Busy sessions ended because a cutover's begin-timeout expired."},
    {"lms_cutover_held_sessions", "gauge",
     "Sessions whose next request is held until the cutover's pause ends (the pause's queue)."},
    {"lms_cutover_requests_held_total", "counter",
     "Requests and logins that waited for a cutover's pause to end."},
    {"lms_cutover_statements_replayed_total", "counter",
     "Settings and prepared statements carried to a new source of truth, by outcome."},
    {"lms_shutdown_sessions_ended_total", "counter",
     "Sessions still inside a transaction or a query when shutdown-grace expired, ended."},
    {"lms_pool_server_connections", "gauge",
     "pool-mode transaction: database connections, by state (idle, active: lent to a client's "
     "transaction, other: logging in or rolling back)."},
    {"lms_pool_clients_waiting", "gauge",
     "pool-mode transaction: clients waiting for a database connection."},
    {"lms_pool_transactions_total", "counter",
     "pool-mode transaction: database connections lent (a transaction, or a statement outside one)."},
    {"lms_pool_timeouts_total", "counter",
     "pool-mode transaction: clients that waited longer than pool-timeout."},
    {"lms_pool_statements_prepared", "gauge",
     "pool-mode transaction: statements prepared on the idle database connections."},
    {"lms_pool_statements_made_total", "counter",
     "pool-mode transaction: client statements lms prepared on a database connection before a run of "
     "them (made on another connection, or closed on this one)."},
    {"lms_pool_statements_evicted_total", "counter",
     "pool-mode transaction: statements closed to keep a database connection within "
     "max-prepared-statements."},
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
    {"lms_server_connections_kept", "", &WorkerMetrics::server_connections_kept},
    {"lms_server_connections_reused_total", "", &WorkerMetrics::server_connections_reused},
    {"lms_shadow_requests_total", "", &WorkerMetrics::shadow_requests},
    {"lms_shadow_dropped_total", "", &WorkerMetrics::shadow_dropped},
    {"lms_shadow_target_errors_total", "", &WorkerMetrics::shadow_target_errors},
    {"lms_shadow_timeouts_total", "", &WorkerMetrics::shadow_timeouts},
    {"lms_shadow_waits_total", "", &WorkerMetrics::shadow_waits},
    {"lms_shadow_comparisons_total", "", &WorkerMetrics::shadow_comparisons},
    {"lms_shadow_mismatches_total", "", &WorkerMetrics::shadow_mismatches},
    {"lms_shadow_differences_total", R"(kind="target_error")", &WorkerMetrics::shadow_diff_target_error},
    {"lms_shadow_differences_total", R"(kind="row_count")", &WorkerMetrics::shadow_diff_row_count},
    {"lms_shadow_differences_total", R"(kind="checksum")", &WorkerMetrics::shadow_diff_checksum},
    {"lms_shadow_differences_total", R"(kind="columns")", &WorkerMetrics::shadow_diff_columns},
    {"lms_shadow_differences_total", R"(kind="tag")", &WorkerMetrics::shadow_diff_tag},
    {"lms_cutover_sessions_switched_total", "", &WorkerMetrics::cutover_sessions_switched},
    {"lms_cutover_sessions_ended_total", "", &WorkerMetrics::cutover_sessions_ended},
    {"lms_cutover_held_sessions", "", &WorkerMetrics::cutover_held_sessions},
    {"lms_cutover_requests_held_total", R"(kind="request")", &WorkerMetrics::cutover_requests_held},
    {"lms_cutover_requests_held_total", R"(kind="login")", &WorkerMetrics::cutover_connections_held},
    {"lms_cutover_statements_replayed_total", R"(result="ok")", &WorkerMetrics::cutover_statements_replayed},
    {"lms_cutover_statements_replayed_total", R"(result="failed")", &WorkerMetrics::cutover_replay_failures},
    {"lms_shutdown_sessions_ended_total", "", &WorkerMetrics::shutdown_sessions_ended},
    {"lms_pool_server_connections", R"(state="idle")", &WorkerMetrics::pool_servers_idle},
    {"lms_pool_server_connections", R"(state="active")", &WorkerMetrics::pool_servers_active},
    {"lms_pool_server_connections", R"(state="other")", &WorkerMetrics::pool_servers_other},
    {"lms_pool_clients_waiting", "", &WorkerMetrics::pool_clients_waiting},
    {"lms_pool_transactions_total", "", &WorkerMetrics::pool_transactions},
    {"lms_pool_timeouts_total", "", &WorkerMetrics::pool_timeouts},
    {"lms_pool_statements_prepared", "", &WorkerMetrics::pool_statements_prepared},
    {"lms_pool_statements_made_total", "", &WorkerMetrics::pool_statements_made},
    {"lms_pool_statements_evicted_total", "", &WorkerMetrics::pool_statements_evicted},
};

void histogram(metrics::PrometheusText& out, const std::vector<const WorkerMetrics*>& workers,
               const char* database, Histogram WorkerMetrics::*field,
               const char* name = "lms_request_duration_seconds") {
  const std::string db_label =
      database == nullptr ? std::string() : std::string("database=\"") + database + "\"";
  const std::string sep = db_label.empty() ? "" : ",";
  for (size_t i = 0; i <= Histogram::kBuckets; ++i) {
    uint64_t n = 0;
    for (const WorkerMetrics* w : workers) n += (w->*field).cumulative(i);
    std::ostringstream le;
    if (i == Histogram::kBuckets) {
      le << "+Inf";
    } else {
      le << Histogram::kBounds[i];
    }
    out.sample(std::string(name) + "_bucket", db_label + sep + "le=\"" + le.str() + "\"", n);
  }
  double sum = 0;
  uint64_t count = 0;
  for (const WorkerMetrics* w : workers) {
    sum += (w->*field).sum_seconds();
    count += (w->*field).cumulative(Histogram::kBuckets);
  }
  out.sample(std::string(name) + "_sum", db_label, sum);
  out.sample(std::string(name) + "_count", db_label, count);
}

}  // namespace

std::string render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ProcessInfo& info,
                              bool source_ready) {
  metrics::PrometheusText out;
  out.family("lms_info", "gauge", "Build and configuration of this proxy.");
  out.sample("lms_info",
             "version=\"" + info.version + "\",source_dialect=\"" + info.source_dialect +
                 "\",shadow_mode=\"" + info.shadow_mode + "\"",
             uint64_t{1});
  out.single("lms_source_ready", "gauge", "1 when the source of truth answered the last readiness probe.",
             uint64_t{source_ready ? 1u : 0u});
  for (const Family& family : kFamilies) {
    out.family(family.name, family.type, family.help);
    for (const Series& series : kSeries) {
      if (std::string_view(series.family) != family.name) continue;
      uint64_t total = 0;
      for (const WorkerMetrics* w : workers) total += (w->*series.counter).get();
      out.sample(series.family, series.labels, total);
    }
  }
  out.family("lms_request_duration_seconds", "histogram",
             "Time from a request's last message to the database's ReadyForQuery, per database.");
  histogram(out, workers, "source", &WorkerMetrics::source_latency);
  histogram(out, workers, "target", &WorkerMetrics::target_latency);
  out.family("lms_pool_wait_seconds", "histogram",
             "pool-mode transaction: how long clients waited for a database connection.");
  histogram(out, workers, nullptr, &WorkerMetrics::pool_wait, "lms_pool_wait_seconds");
  return out.str();
}

}  // namespace lms::core
