// Named points in a cutover where a test can make the orchestrator die at once, as a kill -9 or a
// lost node would, to prove that its successor finishes or undoes what was under way. The points
// sit right after a decision has been written down and before any proxy has heard of it: the
// windows a restart must get right.
//
// LMS_ORCHESTRATOR_CRASH_AT names the point (begin-recorded, commit-recorded, abort-recorded).
// Unset, as in every deployment, a crash point costs one comparison.
#pragma once

#include <string_view>

namespace lms::orchestrator {

// Ends the process with status 137 (what a SIGKILL reports) if the environment names `point`.
void crash_point(std::string_view point);

}  // namespace lms::orchestrator
