#include "statement_tables.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace lms::orchestrator {
namespace {

struct Token {
  enum Kind { kWord, kQuoted, kPunct, kOther } kind;
  std::string_view text;
};

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// Words, quoted identifiers, and single punctuation; string literals and numbers as kOther.
std::vector<Token> tokens_of(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '`' || c == '\'') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) ++j;
      j = std::min(j + 1, s.size());
      out.push_back({c == '\'' ? Token::kOther : Token::kQuoted, s.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && (word_char(s[j]) || s[j] == '.')) ++j;
      out.push_back({Token::kOther, s.substr(i, j - i)});
      i = j;
    } else if (word_char(c)) {
      size_t j = i;
      while (j < s.size() && word_char(s[j])) ++j;
      out.push_back({Token::kWord, s.substr(i, j - i)});
      i = j;
    } else {
      out.push_back({Token::kPunct, s.substr(i, 1)});
      ++i;
    }
  }
  return out;
}

bool is(const Token& t, std::string_view word) {
  if (t.kind != Token::kWord || t.text.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(t.text[i])) != word[i]) return false;
  }
  return true;
}

bool is_punct(const Token& t, char c) {
  return t.kind == Token::kPunct && t.text.size() == 1 && t.text[0] == c;
}

bool catalog(std::string_view name) {
  std::string lower(name);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const std::string_view schema :
       {"pg_catalog.", "information_schema.", "mysql.", "performance_schema.", "sys.", "crdb_internal."}) {
    if (lower.starts_with(schema)) return true;
  }
  return lower.starts_with("pg_") || lower == "dual" || lower == "lms_cutover_marker";
}

// Functions whose argument list says FROM without naming a table: EXTRACT(YEAR FROM ts).
bool takes_from_inside(const Token& t) {
  return is(t, "EXTRACT") || is(t, "SUBSTRING") || is(t, "TRIM") || is(t, "POSITION") || is(t, "OVERLAY");
}

// Reads a qualified name at tokens[*i] ("a", "a.b", "\"A\".b"); advances past it. Empty when the
// tokens there are not a name.
std::string name_at(const std::vector<Token>& t, size_t* i) {
  std::string name;
  while (*i < t.size() && (t[*i].kind == Token::kWord || t[*i].kind == Token::kQuoted)) {
    name += t[*i].text;
    ++*i;
    if (*i + 1 < t.size() && is_punct(t[*i], '.')) {
      name += '.';
      ++*i;
      continue;
    }
    break;
  }
  return name;
}

bool keyword_after_table(const Token& t) {
  static constexpr std::string_view kWords[] = {
      "WHERE",     "JOIN",    "INNER", "LEFT",      "RIGHT",  "FULL",   "CROSS",  "NATURAL",
      "ON",        "USING",   "GROUP", "ORDER",     "LIMIT",  "SET",    "VALUES", "SELECT",
      "HAVING",    "UNION",   "FOR",   "RETURNING", "WINDOW", "OFFSET", "FETCH",  "EXCEPT",
      "INTERSECT", "DEFAULT", "ONLY",  "AS",        "LATERAL"};
  return std::any_of(std::begin(kWords), std::end(kWords), [&](std::string_view w) { return is(t, w); });
}

void tables_of(std::string_view statement, std::set<std::string>* created, std::vector<std::string>* found) {
  const std::vector<Token> t = tokens_of(statement);
  if (t.empty()) return;
  // DDL makes or changes what it names; a table created here is the application's own, made
  // afresh wherever it runs (a temporary table), so it is remembered and left out.
  if (is(t[0], "CREATE")) {
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      if (!is(t[i], "TABLE")) continue;
      size_t j = i + 1;
      if (j + 2 < t.size() && is(t[j], "IF") && is(t[j + 1], "NOT") && is(t[j + 2], "EXISTS")) j += 3;
      const std::string name = name_at(t, &j);
      if (!name.empty()) created->insert(name);
      break;
    }
    return;
  }
  if (is(t[0], "DROP") || is(t[0], "ALTER")) return;
  std::set<std::string> ctes;
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    if ((t[i].kind == Token::kWord || t[i].kind == Token::kQuoted) && is(t[i + 1], "AS") &&
        is_punct(t[i + 2], '(') &&
        (i == 0 || is(t[i - 1], "WITH") || is(t[i - 1], "RECURSIVE") || is_punct(t[i - 1], ','))) {
      ctes.insert(std::string(t[i].text));
    }
  }
  std::vector<bool> from_in_function;  // per open parenthesis
  for (size_t i = 0; i < t.size(); ++i) {
    if (is_punct(t[i], '(')) {
      from_in_function.push_back(i > 0 && takes_from_inside(t[i - 1]));
      continue;
    }
    if (is_punct(t[i], ')')) {
      if (!from_in_function.empty()) from_in_function.pop_back();
      continue;
    }
    const bool from = is(t[i], "FROM");
    if (from &&
        ((!from_in_function.empty() && from_in_function.back()) || (i > 0 && is(t[i - 1], "DISTINCT"))))
      continue;
    // Row locks and upserts say UPDATE without a table: FOR [NO KEY] UPDATE, ON DUPLICATE KEY
    // UPDATE, DO UPDATE.
    if (is(t[i], "UPDATE") && i > 0 && (is(t[i - 1], "FOR") || is(t[i - 1], "KEY") || is(t[i - 1], "DO")))
      continue;
    const bool list = from || is(t[i], "TRUNCATE");
    const bool table_keyword = from || is(t[i], "JOIN") || is(t[i], "INTO") || is(t[i], "UPDATE") ||
                               is(t[i], "TABLE") || is(t[i], "TRUNCATE");
    if (!table_keyword) continue;
    size_t j = i + 1;
    // A FROM list goes on after commas at its own depth: FROM a, b x, c.
    while (true) {
      while (j < t.size() && (is(t[j], "ONLY") || is(t[j], "TABLE") || is(t[j], "LATERAL") ||
                              is(t[j], "IGNORE") || is(t[j], "LOW_PRIORITY")))
        ++j;
      if (j >= t.size() || keyword_after_table(t[j])) break;
      const std::string name = name_at(t, &j);
      if (name.empty()) break;
      const bool function = j < t.size() && is_punct(t[j], '(') && !is(t[i], "INTO");
      if (!function && !ctes.count(name)) found->push_back(name);
      if (!list) break;
      // Past an alias (AS x, or x) to a comma that names another table.
      if (j < t.size() && is(t[j], "AS")) ++j;
      if (j < t.size() && t[j].kind == Token::kWord && !keyword_after_table(t[j])) ++j;
      if (j < t.size() && is_punct(t[j], ',')) {
        ++j;
        continue;
      }
      break;
    }
  }
}

}  // namespace

std::vector<std::string> tables_in(const std::vector<std::string_view>& statements, size_t limit) {
  std::set<std::string> created;
  std::vector<std::string> found;
  for (const std::string_view s : statements) tables_of(s, &created, &found);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::string& name : found) {
    if (out.size() >= limit) break;
    if (catalog(name) || created.count(name) || !seen.insert(name).second) continue;
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace lms::orchestrator
