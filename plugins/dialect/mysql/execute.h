// Blocking calls to a MySQL database on a fresh connection, for the core's control thread: the
// readiness probe, one statement (the cutover's replication marker) and the open transactions (its
// preflight). Through libmariadb, the MariaDB project's client library, rather than a second
// hand-written client.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace lms::mysql {

// `params` under the ABI's canonical keys. LMS_OK or LMS_ERR_UNAVAILABLE with *error set.
uint32_t probe(const std::map<std::string, std::string>& params, uint32_t timeout_ms, std::string* error);
uint32_t execute(const std::map<std::string, std::string>& params, const std::string& sql,
                 uint32_t timeout_ms, uint64_t* rows, std::string* error);
// The transactions open longer than min_age_ms (information_schema.innodb_trx), oldest first.
uint32_t open_transactions(const std::map<std::string, std::string>& params, uint64_t min_age_ms,
                           uint32_t timeout_ms, const lms_transaction_sink& out, std::string* error);
// InnoDB's count of rows inserted, updated and deleted, server-wide.
uint32_t rows_written(const std::map<std::string, std::string>& params, uint32_t timeout_ms, uint64_t* rows,
                      std::string* error);
// The binary log's coordinates, file:position (none when the server keeps no binary log). Replicas
// pull the binlog and confirm nothing to the source, so no stream's lag can be read here.
uint32_t replication_position(const std::map<std::string, std::string>& params, uint32_t timeout_ms,
                              const lms_replication_sink& out, std::string* error);
// The users that may log in with mysql_native_password and their stored hashes: `query`'s first two
// columns (empty: mysql.user's, which needs SELECT on it).
uint32_t list_logins(const std::map<std::string, std::string>& params, const std::string& query,
                     uint32_t timeout_ms, const lms_login_sink& out, std::string* error);
// read_only on (or off).
uint32_t fence(const std::map<std::string, std::string>& params, bool on, uint32_t timeout_ms,
               std::string* error);

}  // namespace lms::mysql
