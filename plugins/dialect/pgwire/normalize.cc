#include "normalize.h"

#include <cctype>

namespace lms::pgwire {
namespace {

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }
bool is_ident_char(char c) { return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The end of a '...' literal starting at `at` (the opening quote); '' is a quote inside it, and
// with backslash escapes (E'...') so is \'.
size_t skip_quoted(std::string_view s, size_t at, bool backslashes) {
  size_t i = at + 1;
  while (i < s.size()) {
    if (backslashes && s[i] == '\\') {
      i += 2;
      continue;
    }
    if (s[i] == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

// A dollar-quote tag ($$ or $name$) at `at`, or empty when `at` does not start one ($1 is a
// parameter).
std::string_view dollar_tag(std::string_view s, size_t at) {
  size_t i = at + 1;
  if (i < s.size() && is_digit(s[i])) return {};
  while (i < s.size() && s[i] != '$') {
    if (!is_ident_char(s[i]) || s[i] == '$') return {};
    ++i;
  }
  if (i >= s.size()) return {};
  return s.substr(at, i - at + 1);
}

size_t skip_number(std::string_view s, size_t i) {
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.' || s[i] == '_')) ++i;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      i = j;
      while (i < s.size() && is_digit(s[i])) ++i;
    }
  }
  return i;
}

}  // namespace

std::string normalize_sql(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;  // whitespace (or a comment) seen since the last token
  auto token = [&](std::string_view t) {
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.append(t);
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      space = true;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;  // PostgreSQL's block comments nest
      while (i < s.size()) {
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      space = true;
    } else if (c == '\'') {
      i = skip_quoted(s, i, false);
      token("?");
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '"' && j + 1 < s.size() && s[j + 1] == '"') {
          j += 2;
        } else if (s[j] == '"') {
          ++j;
          break;
        } else {
          ++j;
        }
      }
      token(s.substr(i, j - i));
      i = j;
    } else if (c == '$') {
      const std::string_view tag = dollar_tag(s, i);
      if (tag.empty()) {
        size_t j = i + 1;
        while (j < s.size() && is_digit(s[j])) ++j;
        token(s.substr(i, j - i));
        i = j;
      } else {
        const size_t close = s.find(tag, i + tag.size());
        i = close == std::string_view::npos ? s.size() : close + tag.size();
        token("?");
      }
    } else if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      i = skip_number(s, i);
      token("?");
    } else if (is_ident_start(c)) {
      // E'...', B'...', X'...' are literals with a one-letter prefix.
      const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if ((p == 'e' || p == 'b' || p == 'x') && i + 1 < s.size() && s[i + 1] == '\'') {
        i = skip_quoted(s, i + 1, p == 'e');
        token("?");
        continue;
      }
      size_t j = i;
      while (j < s.size() && is_ident_char(s[j])) ++j;
      token(s.substr(i, j - i));
      i = j;
    } else {
      token(s.substr(i, 1));
      ++i;
    }
  }
  return out;
}

}  // namespace lms::pgwire
