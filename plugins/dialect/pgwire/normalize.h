// Reduces a PostgreSQL statement to its shape, for grouping executions in the compatibility
// report: string, bit-string, dollar-quoted and numeric literals become `?`, comments go, runs of
// whitespace become one space. Identifiers (quoted or not), operators and $n parameters stay.
#pragma once

#include <string>
#include <string_view>

namespace lms::pgwire {

std::string normalize_sql(std::string_view sql);

}  // namespace lms::pgwire
