// The `sync` shadow mode: every request runs on both databases and the client's answer waits for
// both; the client gets the source of truth's result, whatever the target answered.
#include <lms/plugin.hpp>

namespace {

void decide(void*, const lms_request_info* request, lms_shadow_decision* out) {
  out->send_to_target = request->target_available != 0;
  out->wait_for_target = out->send_to_target;
  out->answer = LMS_ANSWER_SOURCE;
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), lms::sdk::stateless_create,
                                         lms::sdk::stateless_destroy, decide};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "sync", LMS_VERSION, kFunctions)
