// The lms_dialect_functions table for a PostgreSQL-protocol database. The postgres and cockroach
// plugins are this table with their own default port.
#pragma once

#include <lms/plugin.h>

namespace lms::pgwire {

// What differs between the databases that speak the protocol.
enum class Flavor { kPostgres, kCockroach };

lms_dialect_functions make_dialect_functions(uint16_t default_port, Flavor flavor);

}  // namespace lms::pgwire
