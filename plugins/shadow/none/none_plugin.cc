// The `none` shadow mode: every request goes to the source of truth only, and the client gets its
// result. The other database sees nothing.
#include <lms/plugin.hpp>

namespace {

void decide(void*, const lms_request_info*, lms_shadow_decision* out) {
  out->send_to_target = 0;
  out->wait_for_target = 0;
  out->answer = LMS_ANSWER_SOURCE;
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), lms::sdk::stateless_create,
                                         lms::sdk::stateless_destroy, decide, nullptr};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "none", LMS_VERSION, kFunctions)
