// The `strict-sync` shadow mode: every request runs on both databases and the client's answer waits
// for both. A source error is what the client gets; if the source succeeds but the target fails, the
// client gets the target's error; if both fail, the source's. A target that is down therefore fails
// every request: that is the point of the mode.
#include "../validating.hpp"

namespace {

void decide(void* self, const lms_request_info*, lms_shadow_decision* out) {
  out->send_to_target = 1;
  out->wait_for_target = 1;
  out->answer = LMS_ANSWER_TARGET_ERROR_WINS;
  out->compare = lms::shadow::validates(self);
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), lms::shadow::create_mode,
                                         lms::shadow::destroy_mode, decide, lms::shadow::compare_mode};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "strict-sync", LMS_VERSION, kFunctions)
