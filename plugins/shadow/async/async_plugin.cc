// The `async` shadow mode: the target runs each request in parallel and the client waits for the
// source of truth only. A request that arrives while the session's previous shadow request is still
// running on the target is dropped (the core counts it), so a slow target never slows the source.
#include "../validating.hpp"

namespace {

void decide(void* self, const lms_request_info* request, lms_shadow_decision* out) {
  out->send_to_target = request->target_busy == 0 && request->target_available != 0;
  out->wait_for_target = 0;
  out->answer = LMS_ANSWER_SOURCE;
  out->compare = lms::shadow::validates(self);
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), lms::shadow::create_mode,
                                         lms::shadow::destroy_mode, decide, lms::shadow::compare_mode};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "async", LMS_VERSION, kFunctions)
