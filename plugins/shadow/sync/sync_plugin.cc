// The `sync` shadow mode: every request runs on both databases and the client's answer waits for
// both; the client gets the source of truth's result, whatever the target answered.
#include "../validating.hpp"

namespace {

void decide(void* self, const lms_request_info* request, lms_shadow_decision* out) {
  out->send_to_target = request->target_available != 0;
  out->wait_for_target = out->send_to_target;
  out->answer = LMS_ANSWER_SOURCE;
  out->compare = lms::shadow::validates(self);
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), lms::shadow::create_mode,
                                         lms::shadow::destroy_mode, decide, lms::shadow::compare_mode};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "sync", LMS_VERSION, kFunctions)
