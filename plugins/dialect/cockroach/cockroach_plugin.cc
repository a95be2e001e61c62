// The `cockroach` dialect: CockroachDB speaks PostgreSQL's v3 wire protocol; what differs for a
// proxy is its default port, 26257. Its retryable error (SQLSTATE 40001) and its server_version
// ParameterStatus pass through to clients untouched.
#include <lms/plugin.hpp>

#include "../pgwire/dialect.h"

namespace {
const lms_dialect_functions kFunctions =
    lms::pgwire::make_dialect_functions(26257, lms::pgwire::Flavor::kCockroach);
}

LMS_DEFINE_PLUGIN(LMS_PLUGIN_DIALECT, "cockroach", LMS_VERSION, kFunctions)
