#include <libpq-fe.h>

#include <memory>

#include "state_store.h"

namespace lms::orchestrator {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS lms_orchestrator_history ("
    "id INT8 PRIMARY KEY, attempt TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())";

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool connect(const std::string& url, Connection* conn, std::string* error) {
  // connect_timeout bounds a database that does not answer; the URL's own settings win otherwise.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url.c_str(), "5", "lms-orchestrator", nullptr};
  conn->reset(PQconnectdbParams(keys, values, 1));
  if (!*conn || PQstatus(conn->get()) != CONNECTION_OK) {
    *error = "cannot connect to the history database: " +
             (*conn ? trimmed(PQerrorMessage(conn->get())) : std::string("out of memory"));
    return false;
  }
  return true;
}

bool run(PGconn* conn, const char* sql, std::string* error) {
  Result r(PQexec(conn, sql), PQclear);
  const auto status = PQresultStatus(r.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return true;
  *error = std::string("history database: ") + trimmed(PQresultErrorMessage(r.get()));
  return false;
}

}  // namespace

DatabaseStateStore::DatabaseStateStore(std::string url) : url_(std::move(url)) {}

std::string DatabaseStateStore::describe() const {
  Connection conn(nullptr, PQfinish);
  std::string error;
  if (!connect(url_, &conn, &error)) return "table lms_orchestrator_history (database unreachable)";
  return std::string("table lms_orchestrator_history at ") + PQhost(conn.get()) + ":" + PQport(conn.get()) +
         "/" + PQdb(conn.get());
}

bool DatabaseStateStore::load(std::vector<Attempt>* attempts, std::string* error) {
  Connection conn(nullptr, PQfinish);
  if (!connect(url_, &conn, error) || !run(conn.get(), kCreateTable, error)) return false;
  Result r(PQexec(conn.get(), "SELECT attempt FROM lms_orchestrator_history ORDER BY id"), PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    *error = "history database: " + trimmed(PQresultErrorMessage(r.get()));
    return false;
  }
  try {
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      attempts->push_back(nlohmann::json::parse(PQgetvalue(r.get(), i, 0)).get<Attempt>());
    }
  } catch (const std::exception& e) {
    *error = std::string("history database: a row this orchestrator cannot read: ") + e.what();
    return false;
  }
  return true;
}

bool DatabaseStateStore::save(const std::vector<Attempt>& attempts, std::string* error) {
  Connection conn(nullptr, PQfinish);
  if (!connect(url_, &conn, error) || !run(conn.get(), kCreateTable, error) ||
      !run(conn.get(), "BEGIN", error)) {
    return false;
  }
  for (const Attempt& a : attempts) {
    const std::string id = std::to_string(a.id);
    const std::string text = nlohmann::json(a).dump();
    const char* params[] = {id.c_str(), text.c_str()};
    Result r(PQexecParams(conn.get(),
                          "INSERT INTO lms_orchestrator_history (id, attempt) VALUES ($1, $2) "
                          "ON CONFLICT (id) DO UPDATE SET attempt = excluded.attempt, updated_at = now()",
                          2, nullptr, params, nullptr, nullptr, 0),
             PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      *error = "history database: " + trimmed(PQresultErrorMessage(r.get()));
      return false;  // the connection closes, and with it the transaction rolls back
    }
  }
  return run(conn.get(), "COMMIT", error);
}

}  // namespace lms::orchestrator
