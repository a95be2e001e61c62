// The `none` shadow mode: every request goes to the source of truth only, and the client gets its
// result. The other database sees nothing.
#include <lms/plugin.h>

namespace {

void* create(const lms_kv*, size_t) {
  static int self;  // stateless: any non-NULL pointer will do
  return &self;
}

void destroy(void*) {}

void decide(void*, const lms_request_info*, lms_shadow_decision* out) {
  out->send_to_target = 0;
  out->wait_for_target = 0;
  out->answer = LMS_ANSWER_SOURCE;
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), create, destroy, decide};

const lms_plugin_descriptor kDescriptor = {
    sizeof(lms_plugin_descriptor), LMS_PLUGIN_ABI_MAJOR, LMS_PLUGIN_ABI_MINOR, LMS_PLUGIN_SHADOW,
    {"none", 4}, {LMS_VERSION, sizeof(LMS_VERSION) - 1}, &kFunctions};

}  // namespace

extern "C" LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry(
    const lms_negotiation* negotiation) {
  if (negotiation == nullptr || negotiation->struct_size < sizeof(lms_negotiation)) return nullptr;
  return &kDescriptor;  // the host checks the ABI major in the descriptor
}
