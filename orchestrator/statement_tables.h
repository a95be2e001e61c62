// The tables a statement reads or writes, from its text as the compatibility report keeps it
// (normalized, literals as placeholders): what a preflight checks the other database has. A
// lexical reading, not a parser: names after FROM (and its comma list), JOIN, INTO, UPDATE, TABLE
// and TRUNCATE, as written ("orders", "shop.orders", "\"Order\""). Left out: subqueries and table
// functions, CTE names, tables the statements themselves create, DDL, and the databases' own
// catalogs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lms::orchestrator {

// The tables `statements` name, each once, in the order first seen, at most `limit`.
std::vector<std::string> tables_in(const std::vector<std::string_view>& statements, size_t limit);

}  // namespace lms::orchestrator
