// What a whole PostgreSQL message means for a session's state: which statement a Parse or Close
// names, which setting a simple query's SET changes, the text of a query or an error. The core
// asks only for the messages it must carry through a cutover or show in `connections list`.
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lms::pgwire {

void inspect_message(lms_direction direction, const uint8_t* message, size_t len, lms_message_detail* out);

// State a statement makes that a cutover cannot carry (LMS_EFFECT_HOLDS: a temporary table, LISTEN,
// a session-level advisory lock, a cursor WITH HOLD) or drops (LMS_EFFECT_RELEASES); *kind names it.
lms_state_effect classify_held(std::string_view sql, std::string_view* kind);

// What a simple query's text does to session state; *name borrows from `sql` (or names a kind of
// held state, see classify_held).
lms_state_effect classify_sql(std::string_view sql, std::string_view* name);

}  // namespace lms::pgwire
