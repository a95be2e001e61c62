#include "execute.h"

#include <lms/plugin.h>
#include <mysql.h>

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

}  // namespace lms::mysql
