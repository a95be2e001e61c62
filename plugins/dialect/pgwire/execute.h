// One SQL statement on a fresh libpq connection, for the control plane (the cutover's replication
// marker). Blocking: never called on a worker loop.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <string>

namespace lms::pgwire {

// LMS_OK with *rows set (rows returned, else rows affected), or a status with *error set.
uint32_t execute_statement(const lms_kv* params, size_t count, const std::string& sql, uint32_t timeout_ms,
                           uint64_t* rows, std::string* error);

}  // namespace lms::pgwire
