#include "execute.h"

#include <lms/plugin.h>
#include <mysql.h>

#include <cstdlib>
#include <memory>

namespace lms::mysql {
namespace {

using Connection = std::unique_ptr<MYSQL, decltype(&mysql_close)>;

std::string param(const std::map<std::string, std::string>& params, const char* key) {
  const auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

Connection connect(const std::map<std::string, std::string>& params, uint32_t timeout_ms,
                   std::string* error) {
  Connection c(mysql_init(nullptr), mysql_close);
  if (!c) {
    *error = "out of memory";
    return c;
  }
  const unsigned seconds = timeout_ms < 1000 ? 1 : timeout_ms / 1000;
  mysql_optionsv(c.get(), MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
  mysql_optionsv(c.get(), MYSQL_OPT_READ_TIMEOUT, &seconds);
  mysql_optionsv(c.get(), MYSQL_OPT_WRITE_TIMEOUT, &seconds);
  const std::string sslmode = param(params, "sslmode");
  if (sslmode == "require" || sslmode == "verify-ca" || sslmode == "verify-full") {
    const std::string ca = param(params, "sslrootcert");
    const std::string cert = param(params, "sslcert");
    const std::string key = param(params, "sslkey");
    mysql_ssl_set(c.get(), key.empty() ? nullptr : key.c_str(), cert.empty() ? nullptr : cert.c_str(),
                  ca.empty() ? nullptr : ca.c_str(), nullptr, nullptr);
    const my_bool verify = sslmode != "require";
    mysql_optionsv(c.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  const std::string host = param(params, "host").empty() ? "127.0.0.1" : param(params, "host");
  const std::string port = param(params, "port");
  const std::string db = param(params, "dbname");
  if (mysql_real_connect(c.get(), host.c_str(), param(params, "user").c_str(),
                         param(params, "password").c_str(), db.empty() ? nullptr : db.c_str(),
                         port.empty() ? 3306 : std::stoul(port), nullptr,
                         CLIENT_MULTI_STATEMENTS) == nullptr) {
    *error = mysql_error(c.get());
    c.reset();
  }
  return c;
}

}  // namespace

uint32_t probe(const std::map<std::string, std::string>& params, uint32_t timeout_ms, std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  if (mysql_ping(c.get()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_UNAVAILABLE;
  }
  return LMS_OK;
}

uint32_t execute(const std::map<std::string, std::string>& params, const std::string& sql,
                 uint32_t timeout_ms, uint64_t* rows, std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  // Several statements: each result is read (the protocol requires it); the last one counts.
  while (true) {
    MYSQL_RES* result = mysql_store_result(c.get());
    if (result != nullptr) {
      *rows = mysql_num_rows(result);
      mysql_free_result(result);
    } else {
      *rows = mysql_affected_rows(c.get());
    }
    const int more = mysql_next_result(c.get());
    if (more < 0) return LMS_OK;
    if (more > 0) {
      *error = mysql_error(c.get());
      return LMS_ERR_INVALID;
    }
  }
}

uint32_t open_transactions(const std::map<std::string, std::string>& params, uint64_t min_age_ms,
                           uint32_t timeout_ms, const lms_transaction_sink& out, std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  // InnoDB lists a transaction once it has touched an InnoDB table; seeing other users' needs the
  // PROCESS privilege. trx_started has a resolution of one second, and the list is a cache InnoDB
  // refreshes only once nobody has read it for 100 ms (a transaction just ended may still show).
  const std::string sql =
      "SELECT CAST(t.trx_mysql_thread_id AS CHAR), COALESCE(p.HOST, ''), COALESCE(p.USER, ''), t.trx_state,"
      " LEFT(COALESCE(t.trx_query, p.INFO, ''), 1024),"
      " CAST(TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) DIV 1000 AS CHAR)"
      " FROM information_schema.innodb_trx t"
      " LEFT JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id"
      " WHERE t.trx_mysql_thread_id <> CONNECTION_ID()"
      " AND TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) >= " +
      std::to_string(min_age_ms) +
      " * 1000"
      " ORDER BY t.trx_started LIMIT 100";
  if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(c.get()),
                                                                  mysql_free_result);
  if (!result) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    auto cell = [&](int i) {
      return lms_str{row[i] != nullptr ? row[i] : "", row[i] != nullptr ? lengths[i] : 0};
    };
    lms_open_transaction t{};
    t.struct_size = sizeof t;
    t.session = cell(0);
    t.client = cell(1);
    t.user = cell(2);
    t.state = cell(3);
    t.statement = cell(4);
    t.age_ms = row[5] != nullptr ? std::strtoull(row[5], nullptr, 10) : 0;
    out.emit(out.ctx, &t);
  }
  return LMS_OK;
}

uint32_t rows_written(const std::map<std::string, std::string>& params, uint32_t timeout_ms, uint64_t* rows,
                      std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  // InnoDB's counters are the server's, not one schema's.
  static constexpr std::string_view kSql =
      "SELECT CAST(SUM(VARIABLE_VALUE) AS CHAR) FROM information_schema.GLOBAL_STATUS"
      " WHERE VARIABLE_NAME IN ('INNODB_ROWS_INSERTED', 'INNODB_ROWS_UPDATED', 'INNODB_ROWS_DELETED')";
  if (mysql_real_query(c.get(), kSql.data(), kSql.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(c.get()),
                                                                  mysql_free_result);
  MYSQL_ROW row = result ? mysql_fetch_row(result.get()) : nullptr;
  if (row == nullptr || row[0] == nullptr) {
    *error = result ? "the server keeps no InnoDB row counters" : mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  *rows = std::strtoull(row[0], nullptr, 10);
  return LMS_OK;
}

uint32_t replication_position(const std::map<std::string, std::string>& params, uint32_t timeout_ms,
                              const lms_replication_sink& out, std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  // MySQL 8.4 renamed the statement; MariaDB and older MySQL know only the first name.
  static constexpr std::string_view kOld = "SHOW MASTER STATUS";
  static constexpr std::string_view kNew = "SHOW BINARY LOG STATUS";
  if (mysql_real_query(c.get(), kOld.data(), kOld.size()) != 0 &&
      mysql_real_query(c.get(), kNew.data(), kNew.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(c.get()),
                                                                  mysql_free_result);
  if (!result) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  MYSQL_ROW row = mysql_fetch_row(result.get());
  std::string position;
  if (row != nullptr && row[0] != nullptr && row[1] != nullptr) position = std::string(row[0]) + ":" + row[1];
  out.position(out.ctx, lms_str{position.data(), position.size()});
  return LMS_OK;
}

uint32_t list_logins(const std::map<std::string, std::string>& params, const std::string& query,
                     uint32_t timeout_ms, const lms_login_sink& out, std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  // One row per user name: a user defined for several hosts is listed once, with the hash of the
  // first; other plugins (unix_socket, caching_sha2_password) have no hash LMS can check.
  static constexpr std::string_view kDefault =
      "SELECT User, MIN(authentication_string) FROM mysql.user"
      " WHERE plugin = 'mysql_native_password' AND User <> '' GROUP BY User";
  const std::string_view sql = query.empty() ? kDefault : std::string_view(query);
  if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(c.get()),
                                                                  mysql_free_result);
  if (!result) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  if (mysql_num_fields(result.get()) < 2) {
    *error = "the auth query must answer two columns: the user's name and its stored hash";
    return LMS_ERR_INVALID;
  }
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    if (row[0] == nullptr || row[1] == nullptr) continue;
    // Only mysql_native_password's hash ("*" and 40 hex digits, or empty) can be checked.
    if (!(lengths[1] == 0 || (lengths[1] == 41 && row[1][0] == '*'))) continue;
    out.emit(out.ctx, lms_str{row[0], lengths[0]}, lms_str{row[1], lengths[1]});
  }
  return LMS_OK;
}

uint32_t fence(const std::map<std::string, std::string>& params, bool on, uint32_t timeout_ms,
               std::string* error) {
  Connection c = connect(params, timeout_ms, error);
  if (!c) return LMS_ERR_UNAVAILABLE;
  // read_only refuses every write of an account without SUPER (or READ_ONLY ADMIN), in sessions
  // open now too; replication's threads are exempt.
  const std::string_view sql = on ? "SET GLOBAL read_only = ON" : "SET GLOBAL read_only = OFF";
  if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
    *error = mysql_error(c.get());
    return LMS_ERR_INVALID;
  }
  return LMS_OK;
}

}  // namespace lms::mysql
