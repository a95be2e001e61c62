#include "execute.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

namespace lms::pgwire {

uint32_t execute_statement(const lms_kv* params, size_t count, const std::string& sql, uint32_t timeout_ms,
                           uint64_t* rows, std::string* error) {
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
  // The server ends the statement itself if it runs past the deadline (a lock held elsewhere).
  add("options", "-c statement_timeout=" + std::to_string(timeout_ms));
  add("application_name", "lms-control");
  keys.push_back(nullptr);
  values.push_back(nullptr);

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys.data(), values.data(), 0),
                                                    PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    *error = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!error->empty() && error->back() == '\n') error->pop_back();
    return LMS_ERR_UNAVAILABLE;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), PQclear);
  const auto status = PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK) {
    *rows = static_cast<uint64_t>(PQntuples(result.get()));
    return LMS_OK;
  }
  if (status == PGRES_COMMAND_OK) {
    *rows = std::strtoull(PQcmdTuples(result.get()), nullptr, 10);
    return LMS_OK;
  }
  *error = PQresultErrorMessage(result.get());
  while (!error->empty() && error->back() == '\n') error->pop_back();
  return LMS_ERR_INVALID;
}

}  // namespace lms::pgwire
