// The `cockroach` dialect: CockroachDB speaks PostgreSQL's v3 wire protocol; what differs for a
// proxy is its default port, 26257. Its retryable error (SQLSTATE 40001) and its server_version
// ParameterStatus pass through to clients untouched.
#include <lms/plugin.h>

#include "../pgwire/dialect.h"

namespace {

const lms_dialect_functions kFunctions = lms::pgwire::make_dialect_functions(26257);

const lms_plugin_descriptor kDescriptor = {
    sizeof(lms_plugin_descriptor), LMS_PLUGIN_ABI_MAJOR, LMS_PLUGIN_ABI_MINOR, LMS_PLUGIN_DIALECT,
    {"cockroach", 9}, {LMS_VERSION, sizeof(LMS_VERSION) - 1}, &kFunctions};

}  // namespace

extern "C" LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry(
    const lms_negotiation* negotiation) {
  return lms::pgwire::negotiate(negotiation, &kDescriptor);
}
