// Blocking calls to a MySQL database on a fresh connection, for the core's control thread: the
// readiness probe and one statement (the cutover's replication marker). Through libmariadb, the
// MariaDB project's client library, rather than a second hand-written client.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace lms::mysql {

// `params` under the ABI's canonical keys. LMS_OK or LMS_ERR_UNAVAILABLE with *error set.
uint32_t probe(const std::map<std::string, std::string>& params, uint32_t timeout_ms, std::string* error);
uint32_t execute(const std::map<std::string, std::string>& params, const std::string& sql,
                 uint32_t timeout_ms, uint64_t* rows, std::string* error);

}  // namespace lms::mysql
