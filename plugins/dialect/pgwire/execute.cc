#include "execute.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

namespace lms::pgwire {

namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

void trim_newlines(std::string* text) {
  while (!text->empty() && text->back() == '\n') text->pop_back();
}

// A fresh connection with `params`, its statements bounded by `timeout_ms` on the server's side.
Connection connect(const lms_kv* params, size_t count, uint32_t timeout_ms, std::string* error) {
  // A deque never moves what it holds: the c_str() pointers below stay valid as it grows.
  std::deque<std::string> storage;
  std::vector<const char*> keys;
  std::vector<const char*> values;
  auto add = [&](std::string key, std::string value) {
    storage.push_back(std::move(key));
    keys.push_back(storage.back().c_str());
    storage.push_back(std::move(value));
    values.push_back(storage.back().c_str());
  };
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key(params[i].key.data, params[i].key.len);
    if (key == "connect_timeout" || key == "options") continue;
    add(std::string(key), std::string(params[i].value.data, params[i].value.len));
  }
  const uint32_t seconds = timeout_ms < 2000 ? 2 : timeout_ms / 1000;
  add("connect_timeout", std::to_string(seconds));
  // The server ends the statement itself if it runs past the deadline (a lock held elsewhere). A
  // fence (below) makes ordinary sessions read-only by default; the proxy's own are not ordinary.
  add("options",
      "-c statement_timeout=" + std::to_string(timeout_ms) + " -c default_transaction_read_only=off");
  add("application_name", "lms-control");
  keys.push_back(nullptr);
  values.push_back(nullptr);

  Connection conn(PQconnectdbParams(keys.data(), values.data(), 0), PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    *error = conn ? PQerrorMessage(conn.get()) : "out of memory";
    trim_newlines(error);
    conn.reset();
  }
  return conn;
}

// The statement's error as the reason, LMS_ERR_INVALID as the status.
uint32_t statement_failed(const PGresult* result, std::string* error) {
  // The server's own words, without libpq's "ERROR:  " and its detail lines.
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  *error = primary != nullptr ? primary : PQresultErrorMessage(result);
  trim_newlines(error);
  return LMS_ERR_INVALID;
}

lms_str cell(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column), static_cast<size_t>(PQgetlength(result, row, column))};
}

}  // namespace

uint32_t execute_statement(const lms_kv* params, size_t count, const std::string& sql, uint32_t timeout_ms,
                           uint64_t* rows, std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  Result result(PQexec(conn.get(), sql.c_str()), PQclear);
  const auto status = PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK) {
    *rows = static_cast<uint64_t>(PQntuples(result.get()));
    return LMS_OK;
  }
  if (status == PGRES_COMMAND_OK) {
    *rows = std::strtoull(PQcmdTuples(result.get()), nullptr, 10);
    return LMS_OK;
  }
  return statement_failed(result.get(), error);
}

uint32_t open_transactions(const lms_kv* params, size_t count, uint64_t min_age_ms, uint32_t timeout_ms,
                           const lms_transaction_sink& out, std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  // pg_stat_activity shows another role's sessions only to a superuser or a member of
  // pg_read_all_stats; to others their xact_start is NULL, so they are not listed. The client's
  // address as host:port ([v6]:port), empty for a Unix socket.
  static constexpr const char* kSql =
      "SELECT pid::text,"
      " COALESCE(CASE WHEN family(client_addr) = 6 THEN '[' || host(client_addr) || ']'"
      " ELSE host(client_addr) END || ':' || client_port::text, ''),"
      " COALESCE(usename::text, ''), COALESCE(state, ''), left(COALESCE(query, ''), 1024),"
      " (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::bigint::text"
      " FROM pg_stat_activity"
      " WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()"
      " AND clock_timestamp() - xact_start >= $1::bigint * interval '1 millisecond'"
      " ORDER BY xact_start LIMIT 100";
  const std::string age = std::to_string(min_age_ms);
  const char* values[] = {age.c_str()};
  Result result(PQexecParams(conn.get(), kSql, 1, nullptr, values, nullptr, nullptr, 0), PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return statement_failed(result.get(), error);
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    lms_open_transaction t{};
    t.struct_size = sizeof t;
    t.session = cell(result.get(), row, 0);
    t.client = cell(result.get(), row, 1);
    t.user = cell(result.get(), row, 2);
    t.state = cell(result.get(), row, 3);
    t.statement = cell(result.get(), row, 4);
    t.age_ms = std::strtoull(PQgetvalue(result.get(), row, 5), nullptr, 10);
    out.emit(out.ctx, &t);
  }
  return LMS_OK;
}

uint32_t rows_written(const lms_kv* params, size_t count, uint32_t timeout_ms, uint64_t* rows,
                      std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  // The cumulative statistics: every backend's rows written, flushed when its transaction ends (at
  // most a second late, ten when it then stays idle).
  Result result(PQexec(conn.get(),
                       "SELECT (tup_inserted + tup_updated + tup_deleted)::text FROM pg_stat_database"
                       " WHERE datname = current_database()"),
                PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return statement_failed(result.get(), error);
  if (PQntuples(result.get()) != 1) {
    *error = "pg_stat_database has no row for this database";
    return LMS_ERR_INVALID;
  }
  *rows = std::strtoull(PQgetvalue(result.get(), 0, 0), nullptr, 10);
  return LMS_OK;
}

uint32_t replication_position(const lms_kv* params, size_t count, uint32_t timeout_ms,
                              const lms_replication_sink& out, std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  // A standby writes no WAL of its own: what it has replayed is where it stands, and its slots (if
  // any) are not the ones a migration reads.
  Result position(PQexec(conn.get(),
                         "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                         " ELSE pg_current_wal_lsn() END::text, pg_is_in_recovery()::text"),
                  PQclear);
  if (PQresultStatus(position.get()) != PGRES_TUPLES_OK) return statement_failed(position.get(), error);
  if (PQntuples(position.get()) != 1) {
    *error = "no WAL position";
    return LMS_ERR_INVALID;
  }
  out.position(out.ctx, cell(position.get(), 0, 0));
  if (std::string_view(PQgetvalue(position.get(), 0, 1)) == "true") return LMS_OK;
  // Logical slots of this database (a subscription's) and physical ones: the bytes of WAL written
  // that the reader has not confirmed (a logical slot's confirmed_flush_lsn; a physical one has
  // only restart_lsn). A slot nobody reads holds WAL on the source's disk until it is dropped.
  Result slots(PQexec(conn.get(),
                      "SELECT s.slot_name::text, COALESCE(r.application_name, ''), s.active::text,"
                      " GREATEST(COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(),"
                      " COALESCE(s.confirmed_flush_lsn, s.restart_lsn)), 0), 0)::bigint::text"
                      " FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid"
                      " WHERE s.database IS NULL OR s.database = current_database() ORDER BY s.slot_name"),
               PQclear);
  if (PQresultStatus(slots.get()) != PGRES_TUPLES_OK) return statement_failed(slots.get(), error);
  for (int row = 0; row < PQntuples(slots.get()); ++row) {
    lms_replication_stream s{};
    s.struct_size = sizeof s;
    s.name = cell(slots.get(), row, 0);
    s.consumer = cell(slots.get(), row, 1);
    s.active = std::string_view(PQgetvalue(slots.get(), row, 2)) == "true" ? 1 : 0;
    s.lag_bytes = std::strtoull(PQgetvalue(slots.get(), row, 3), nullptr, 10);
    out.stream(out.ctx, &s);
  }
  return LMS_OK;
}

uint32_t list_logins(const lms_kv* params, size_t count, const std::string& query, uint32_t timeout_ms,
                     const lms_login_sink& out, std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  static constexpr const char* kDefault =
      "SELECT rolname::text, rolpassword FROM pg_authid WHERE rolcanlogin AND rolpassword IS NOT NULL"
      " AND (rolvaliduntil IS NULL OR rolvaliduntil > now())";
  Result result(PQexec(conn.get(), query.empty() ? kDefault : query.c_str()), PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return statement_failed(result.get(), error);
  if (PQnfields(result.get()) < 2) {
    *error = "the auth query must answer two columns: the user's name and its stored verifier";
    return LMS_ERR_INVALID;
  }
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    if (PQgetisnull(result.get(), row, 0) || PQgetisnull(result.get(), row, 1)) continue;
    // Only what the front can check a client against: a SCRAM verifier or an MD5 hash.
    const std::string_view stored(PQgetvalue(result.get(), row, 1));
    if (!stored.starts_with("SCRAM-SHA-256$") && !(stored.size() == 35 && stored.starts_with("md5")))
      continue;
    out.emit(out.ctx, cell(result.get(), row, 0), cell(result.get(), row, 1));
  }
  return LMS_OK;
}

uint32_t fence(const lms_kv* params, size_t count, bool on, uint32_t timeout_ms, std::string* error) {
  Connection conn = connect(params, count, timeout_ms, error);
  if (!conn) return LMS_ERR_UNAVAILABLE;
  // New transactions of every session that starts from now on are read-only unless they ask
  // otherwise (BEGIN READ WRITE): a fence against mistakes, not against intent. Sessions open now
  // are ended, the caller's aside, except those the account may not signal (other roles' without
  // pg_signal_backend), which are left with a warning. Replication's apply workers write below
  // the read-only check and go on.
  static constexpr const char* kFence =
      "DO $$ DECLARE p int; BEGIN"
      " EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database());"
      " FOR p IN SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid() AND backend_type = 'client backend' LOOP"
      " BEGIN PERFORM pg_terminate_backend(p);"
      " EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING 'lms: cannot end session %', p; END;"
      " END LOOP; END $$";
  static constexpr const char* kUnfence =
      "DO $$ BEGIN"
      " EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', current_database());"
      " END $$";
  Result result(PQexec(conn.get(), on ? kFence : kUnfence), PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return statement_failed(result.get(), error);
  return LMS_OK;
}

}  // namespace lms::pgwire
