// State a MySQL session holds that no replay can make again on another database (ABI 1.7's
// LMS_EFFECT_HOLDS / LMS_EFFECT_RELEASES): temporary tables and named locks (GET_LOCK). A cutover
// moves the session without them; the preflight and `connections list` name them first.
#pragma once

#include <lms/plugin.h>

#include <string_view>

namespace lms::mysql {

// What `sql` (a COM_QUERY's text) does to such state; *kind names it ("temporary table",
// "named lock"). LMS_EFFECT_NONE when nothing.
lms_state_effect classify_held(std::string_view sql, std::string_view* kind);

}  // namespace lms::mysql
