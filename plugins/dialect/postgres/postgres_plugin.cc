// The `postgres` dialect: PostgreSQL's v3 wire protocol, default port 5432.
#include <lms/plugin.hpp>

#include "../pgwire/dialect.h"

namespace {
const lms_dialect_functions kFunctions =
    lms::pgwire::make_dialect_functions(5432, lms::pgwire::Flavor::kPostgres);
}

LMS_DEFINE_PLUGIN(LMS_PLUGIN_DIALECT, "postgres", LMS_VERSION, kFunctions)
