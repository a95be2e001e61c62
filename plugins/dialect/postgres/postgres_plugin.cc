// The `postgres` dialect: PostgreSQL's v3 wire protocol, default port 5432.
#include <lms/plugin.h>

#include "../pgwire/dialect.h"

namespace {

const lms_dialect_functions kFunctions = lms::pgwire::make_dialect_functions(5432);

const lms_plugin_descriptor kDescriptor = {
    sizeof(lms_plugin_descriptor), LMS_PLUGIN_ABI_MAJOR, LMS_PLUGIN_ABI_MINOR, LMS_PLUGIN_DIALECT,
    {"postgres", 8}, {LMS_VERSION, sizeof(LMS_VERSION) - 1}, &kFunctions};

}  // namespace

extern "C" LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry(
    const lms_negotiation* negotiation) {
  return lms::pgwire::negotiate(negotiation, &kDescriptor);
}
