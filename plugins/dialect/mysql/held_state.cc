#include "held_state.h"

#include <cctype>

namespace lms::mysql {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool starts_with_word(std::string_view text, size_t at, std::string_view lowercase) {
  if (text.size() - at < lowercase.size()) return false;
  for (size_t i = 0; i < lowercase.size(); ++i) {
    if (lower(text[at + i]) != lowercase[i]) return false;
  }
  const size_t end = at + lowercase.size();
  return end == text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_');
}

bool contains_call(std::string_view text, std::string_view lowercase_function) {
  for (size_t i = 0; i + lowercase_function.size() <= text.size(); ++i) {
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_')) continue;
    if (!starts_with_word(text, i, lowercase_function)) continue;
    size_t j = i + lowercase_function.size();
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j < text.size() && text[j] == '(') return true;
  }
  return false;
}

// Past blanks and comments (`#`, `-- `, `/* */`) from `at`.
size_t skip_blank(std::string_view sql, size_t at) {
  while (at < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[at]))) {
      ++at;
    } else if (sql[at] == '#' || sql.substr(at, 3) == "-- ") {
      while (at < sql.size() && sql[at] != '\n') ++at;
    } else if (sql.substr(at, 2) == "/*") {
      const size_t end = sql.find("*/", at + 2);
      at = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return at;
}

// The word at `at` (letters, digits, '_'), lowercased comparisons are the caller's.
size_t word_end(std::string_view sql, size_t at) {
  while (at < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[at])) || sql[at] == '_')) ++at;
  return at;
}

constexpr std::string_view kTemporaryTable = "temporary table";
constexpr std::string_view kNamedLock = "named lock";

}  // namespace

lms_state_effect classify_held(std::string_view sql, std::string_view* kind) {
  size_t at = skip_blank(sql, 0);
  if (starts_with_word(sql, at, "create")) {
    at = skip_blank(sql, word_end(sql, at));
    if (starts_with_word(sql, at, "temporary")) {
      *kind = kTemporaryTable;
      return LMS_EFFECT_HOLDS;
    }
  }
  if (contains_call(sql, "release_all_locks")) {
    *kind = kNamedLock;
    return LMS_EFFECT_RELEASES;
  }
  if (contains_call(sql, "get_lock")) {
    *kind = kNamedLock;
    return LMS_EFFECT_HOLDS;
  }
  return LMS_EFFECT_NONE;
}

}  // namespace lms::mysql
