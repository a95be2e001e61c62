// Statements on a fresh libpq connection, for the control plane (the cutover's replication marker,
// its preflight). Blocking: never called on a worker loop.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <string>

namespace lms::pgwire {

// LMS_OK with *rows set (rows returned, else rows affected), or a status with *error set.
uint32_t execute_statement(const lms_kv* params, size_t count, const std::string& sql, uint32_t timeout_ms,
                           uint64_t* rows, std::string* error);
// The transactions open longer than min_age_ms (pg_stat_activity), oldest first, through `out`.
uint32_t open_transactions(const lms_kv* params, size_t count, uint64_t min_age_ms, uint32_t timeout_ms,
                           const lms_transaction_sink& out, std::string* error);
// The database's count of rows inserted, updated and deleted (pg_stat_database).
uint32_t rows_written(const lms_kv* params, size_t count, uint32_t timeout_ms, uint64_t* rows,
                      std::string* error);
// The WAL position (the replay position on a standby) and the database's replication slots with
// how far behind their readers are.
uint32_t replication_position(const lms_kv* params, size_t count, uint32_t timeout_ms,
                              const lms_replication_sink& out, std::string* error);
// The users that may log in and their stored SCRAM verifiers: `query`'s first two columns (empty:
// those of pg_authid, which only a superuser reads); other rows (MD5 hashes) are left out.
uint32_t list_logins(const lms_kv* params, size_t count, const std::string& query, uint32_t timeout_ms,
                     const lms_login_sink& out, std::string* error);
// New sessions' transactions read-only by default and the open sessions ended (on), or undone.
uint32_t fence(const lms_kv* params, size_t count, bool on, uint32_t timeout_ms, std::string* error);

}  // namespace lms::pgwire
