#include "normalize.h"

#include <cctype>

namespace lms::mysql {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (c & 0x80);
}

// The end of a string quoted with `quote` from `at` (the opening quote): a backslash escapes the
// next character, a doubled quote is a quote.
size_t skip_string(std::string_view s, size_t at, char quote) {
  size_t i = at + 1;
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return s.size();
}

}  // namespace

std::string normalize_sql(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  auto token = [&](std::string_view t) {
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.append(t);
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (is_space(c)) {
      space = true;
      ++i;
    } else if (c == '#' || (c == '-' && next == '-' && (i + 2 >= s.size() || is_space(s[i + 2])))) {
      while (i < s.size() && s[i] != '\n') ++i;
      space = true;
    } else if (c == '/' && next == '*') {
      const size_t close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? s.size() : close + 2;
      space = true;
    } else if (c == '\'' || c == '"') {
      i = skip_string(s, i, c);
      token("?");
    } else if (c == '`') {
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '`' && j + 1 < s.size() && s[j + 1] == '`') {
          j += 2;
        } else if (s[j] == '`') {
          ++j;
          break;
        } else {
          ++j;
        }
      }
      token(s.substr(i, j - i));
      i = j;
    } else if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && next == '\'') {
      i = skip_string(s, i + 1, '\'');
      token("?");
    } else if (c == '0' && (next == 'x' || next == 'X' || next == 'b' || next == 'B') &&
               (out.empty() || !is_word(out.back()) || space)) {
      i += 2;
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      token("?");
    } else if (is_digit(c) || (c == '.' && is_digit(next))) {
      // A number, unless it is part of a name (t1, col_2).
      if (!out.empty() && !space && is_word(out.back())) {
        token(std::string_view(&s[i], 1));
        ++i;
        continue;
      }
      while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && is_digit(s[j])) {
          i = j;
          while (i < s.size() && is_digit(s[i])) ++i;
        }
      }
      token("?");
    } else if (is_word(c)) {
      size_t j = i;
      while (j < s.size() && is_word(s[j])) ++j;
      token(s.substr(i, j - i));
      i = j;
    } else {
      token(std::string_view(&s[i], 1));
      ++i;
    }
  }
  return out;
}

}  // namespace lms::mysql
