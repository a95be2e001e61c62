#include "json.h"

#include <ctime>

namespace lms::control {
namespace {

// Missing fields keep their defaults: a newer peer may send more, an older one less.
template <typename T>
void read(const nlohmann::json& j, const char* key, T& field) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if constexpr (std::integral<T> && !std::same_as<T, bool>) {
    field = checked_integer<T>(*it, key);
  } else {
    it->get_to(field);
  }
}

}  // namespace

void to_json(nlohmann::json& j, const Cutover& c) {
  j = {{"id", c.id},
       {"status", c.status},
       {"source_of_truth", c.source_of_truth},
       {"source_of_truth_role", c.source_of_truth_role},
       {"trigger_time_ns", c.trigger_time_ns},
       {"traffic_paused_time_ns", c.paused_time_ns},
       {"commit_time_ns", c.commit_time_ns},
       {"busy_sessions", c.busy_sessions},
       {"error", c.error},
       {"longest_stall_ns", c.longest_stall_ns},
       {"requests_queued", c.requests_queued},
       {"connections_queued", c.connections_queued},
       {"sessions_ended", c.sessions_ended},
       {"statements_replayed", c.statements_replayed},
       {"statements_failed", c.statements_failed}};
}

void from_json(const nlohmann::json& j, Cutover& c) {
  read(j, "id", c.id);
  read(j, "status", c.status);
  read(j, "source_of_truth", c.source_of_truth);
  read(j, "source_of_truth_role", c.source_of_truth_role);
  read(j, "trigger_time_ns", c.trigger_time_ns);
  read(j, "traffic_paused_time_ns", c.paused_time_ns);
  read(j, "commit_time_ns", c.commit_time_ns);
  read(j, "busy_sessions", c.busy_sessions);
  read(j, "error", c.error);
  read(j, "longest_stall_ns", c.longest_stall_ns);
  read(j, "requests_queued", c.requests_queued);
  read(j, "connections_queued", c.connections_queued);
  read(j, "sessions_ended", c.sessions_ended);
  read(j, "statements_replayed", c.statements_replayed);
  read(j, "statements_failed", c.statements_failed);
}

void to_json(nlohmann::json& j, const Status& s) {
  j = {{"version", s.version},
       {"sql_address", s.sql_address},
       {"shadow_mode", s.shadow_mode},
       {"source_dialect", s.source_dialect},
       {"target_dialect", s.target_dialect},
       {"source_address", s.source_address},
       {"target_address", s.target_address},
       {"source_of_truth", s.source_of_truth},
       {"source_of_truth_role", s.source_of_truth_role},
       {"transitioning", s.transitioning},
       {"open_connections", s.open_connections},
       {"error", s.error},
       {"cutover", s.cutover}};
}

void from_json(const nlohmann::json& j, Status& s) {
  read(j, "version", s.version);
  read(j, "sql_address", s.sql_address);
  read(j, "shadow_mode", s.shadow_mode);
  read(j, "source_dialect", s.source_dialect);
  read(j, "target_dialect", s.target_dialect);
  read(j, "source_address", s.source_address);
  read(j, "target_address", s.target_address);
  read(j, "source_of_truth", s.source_of_truth);
  read(j, "source_of_truth_role", s.source_of_truth_role);
  read(j, "transitioning", s.transitioning);
  read(j, "open_connections", s.open_connections);
  read(j, "error", s.error);
  read(j, "cutover", s.cutover);
}

void to_json(nlohmann::json& j, const Connection& c) {
  j = {{"remote_address", c.remote_address},
       {"source_address", c.source_address},
       {"user", c.user},
       {"database", c.database},
       {"source_of_truth", c.source_of_truth},
       {"state", c.state},
       {"last_query", c.last_query},
       {"error", c.error},
       {"held_state", c.held_state},
       {"database_address", c.database_address},
       {"shadow", {{"sent", c.shadow_sent}, {"dropped", c.shadow_dropped}, {"failed", c.shadow_failed}}}};
}

void from_json(const nlohmann::json& j, Connection& c) {
  read(j, "remote_address", c.remote_address);
  read(j, "source_address", c.source_address);
  read(j, "user", c.user);
  read(j, "database", c.database);
  read(j, "source_of_truth", c.source_of_truth);
  read(j, "state", c.state);
  read(j, "last_query", c.last_query);
  read(j, "error", c.error);
  read(j, "held_state", c.held_state);
  read(j, "database_address", c.database_address);
  if (const auto it = j.find("shadow"); it != j.end() && it->is_object()) {
    read(*it, "sent", c.shadow_sent);
    read(*it, "dropped", c.shadow_dropped);
    read(*it, "failed", c.shadow_failed);
  }
}

void to_json(nlohmann::json& j, const OpenTransaction& t) {
  j = {{"session", t.session}, {"client", t.client},       {"user", t.user},
       {"state", t.state},     {"statement", t.statement}, {"age_ms", t.age_ms}};
  if (!t.lms_client.empty()) {
    j["lms_client"] = t.lms_client;
    j["lms_address"] = t.lms_address;
  }
}

void from_json(const nlohmann::json& j, OpenTransaction& t) {
  read(j, "session", t.session);
  read(j, "client", t.client);
  read(j, "user", t.user);
  read(j, "state", t.state);
  read(j, "statement", t.statement);
  read(j, "age_ms", t.age_ms);
  read(j, "lms_client", t.lms_client);
  read(j, "lms_address", t.lms_address);
}

void to_json(nlohmann::json& j, const ReplicationStream& s) {
  j = {{"name", s.name}, {"consumer", s.consumer}, {"lag_bytes", s.lag_bytes}, {"active", s.active}};
}

void from_json(const nlohmann::json& j, ReplicationStream& s) {
  read(j, "name", s.name);
  read(j, "consumer", s.consumer);
  read(j, "lag_bytes", s.lag_bytes);
  read(j, "active", s.active);
}

void to_json(nlohmann::json& j, const ReplicationPosition& p) {
  j = {{"position", p.position}, {"streams", p.streams}};
}

void from_json(const nlohmann::json& j, ReplicationPosition& p) {
  read(j, "position", p.position);
  if (const auto it = j.find("streams"); it != j.end() && it->is_array())
    p.streams = it->get<std::vector<ReplicationStream>>();
}

void to_json(nlohmann::json& j, const NameCheck& t) { j = {{"name", t.name}, {"error", t.error}}; }

void from_json(const nlohmann::json& j, NameCheck& t) {
  read(j, "name", t.name);
  read(j, "error", t.error);
}

void to_json(nlohmann::json& j, const BeginOptions& o) {
  j = {{"id", o.id},
       {"begin_timeout_ms", o.begin_timeout_ms},
       {"on_begin_timeout", o.abort_on_timeout ? "abort" : "end-sessions"}};
}

void from_json(const nlohmann::json& j, BeginOptions& o) {
  read(j, "id", o.id);
  read(j, "begin_timeout_ms", o.begin_timeout_ms);
  std::string on_timeout = "end-sessions";
  read(j, "on_begin_timeout", on_timeout);
  if (on_timeout != "abort" && on_timeout != "end-sessions") {
    throw std::invalid_argument("on_begin_timeout must be \"abort\" or \"end-sessions\", not \"" +
                                on_timeout + "\"");
  }
  o.abort_on_timeout = on_timeout == "abort";
}

std::string format_time(int64_t unix_ns) {
  if (unix_ns == 0) return "";
  const time_t seconds = static_cast<time_t>(unix_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>((unix_ns % 1000000000) / 1000));
  return std::string(date) + fraction + " +0000 UTC";
}

std::string display_dialect(const std::string& dialect) {
  if (dialect == "postgres") return "PostgreSQL";
  if (dialect == "cockroach") return "Cockroach";
  if (dialect == "mysql") return "MySQL";
  return dialect;
}

}  // namespace lms::control
