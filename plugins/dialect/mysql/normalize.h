// A statement's shape for reports and `connections list`: MySQL's literals ('...', "...", numbers,
// X'..', 0x.., b'..') become ?, comments go, whitespace collapses; `identifiers` stay.
#pragma once

#include <string>
#include <string_view>

namespace lms::mysql {

std::string normalize_sql(std::string_view sql);

}  // namespace lms::mysql
