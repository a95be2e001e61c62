// Header-only: the comparison LMS's own shadow modes make, for any shadow plugin to reuse or to
// build on. Needs ABI 1.2.
//
//   void compare(void*, const lms_comparison* c, lms_verdict* v) { lms::sdk::compare_answers(c, v); }
//
// It reports, as lms_difference bits with one line of detail:
//   - TARGET_ERROR: the two databases did not fail alike (one failed, or with different SQLSTATEs);
//   - ROW_COUNT: rows returned, or rows a command says it touched ("UPDATE 3"), differ;
//   - CHECKSUM: the same number of rows, with different values;
//   - COLUMNS: result columns differ in number, name or type;
//   - TAG: the commands completed differ ("INSERT" where "UPDATE" was expected).
// When both failed alike, or a summary is incomplete, nothing more is compared.
#ifndef LMS_VALIDATE_HPP
#define LMS_VALIDATE_HPP

#include <lms/plugin.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace lms::sdk {

inline std::string_view sv(lms_str s) { return {s.data == nullptr ? "" : s.data, s.len}; }

// "UPDATE 3;SELECT 2" -> "UPDATE;SELECT" and "3;2": a tag's words and its counts, apart.
inline void split_tags(std::string_view tags, std::string* words, std::string* counts) {
  size_t start = 0;
  while (start <= tags.size()) {
    size_t end = tags.find(';', start);
    if (end == std::string_view::npos) end = tags.size();
    std::string_view tag = tags.substr(start, end - start);
    const size_t space = tag.rfind(' ');
    const bool counted =
        space != std::string_view::npos && space + 1 < tag.size() && tag.find_first_not_of("0123456789", space + 1) == std::string_view::npos;
    if (!words->empty() || start > 0) {
      words->push_back(';');
      counts->push_back(';');
    }
    if (counted) {
      std::string_view head = tag.substr(0, space);
      // INSERT's tag carries an OID before its count: "INSERT 0 1".
      const size_t oid = head.rfind(' ');
      if (head.substr(0, 6) == "INSERT" && oid != std::string_view::npos) head = head.substr(0, oid);
      words->append(head);
      counts->append(tag.substr(space + 1));
    } else {
      words->append(tag);
    }
    start = end + 1;
  }
}

inline std::string describe_columns(const lms_result_summary& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.column_count; ++i) {
    if (i > 0) out += ", ";
    out.append(sv(s.columns[i].name)).append(" ").append(sv(s.columns[i].type));
  }
  return out + ")";
}

inline bool same_columns(const lms_result_summary& a, const lms_result_summary& b) {
  if (a.column_count != b.column_count) return false;
  for (size_t i = 0; i < a.column_count; ++i) {
    if (sv(a.columns[i].name) != sv(b.columns[i].name) || sv(a.columns[i].type) != sv(b.columns[i].type)) {
      return false;
    }
  }
  return true;
}

inline void compare_answers(const lms_comparison* c, lms_verdict* v) {
  v->differences = 0;
  std::string detail;
  auto note = [&](uint32_t bit, const std::string& what) {
    v->differences |= bit;
    if (!detail.empty()) detail += "; ";
    detail += what;
  };
  const lms_result_summary& s = *c->source;
  const lms_result_summary& t = *c->target;
  const std::string_view s_code = sv(s.error_code);
  const std::string_view t_code = sv(t.error_code);
  if (s_code != t_code) {
    if (t_code.empty()) {
      note(LMS_DIFF_TARGET_ERROR, "source failed (" + std::string(s_code) + ") but the target succeeded");
    } else {
      note(LMS_DIFF_TARGET_ERROR, "target failed: " + std::string(t_code) + " " + std::string(sv(t.error_message)) +
                                      (s_code.empty() ? "" : " (source: " + std::string(s_code) + ")"));
    }
  }
  if (!s_code.empty() || !t_code.empty() || s.complete == 0 || t.complete == 0) {
    // Failed answers stop at different points; unfinished summaries are not comparable.
  } else {
    if (!same_columns(s, t)) note(LMS_DIFF_COLUMNS, "columns: source " + describe_columns(s) + ", target " + describe_columns(t));
    std::string s_words, s_counts, t_words, t_counts;
    split_tags(sv(s.tag), &s_words, &s_counts);
    split_tags(sv(t.tag), &t_words, &t_counts);
    if (s.rows != t.rows) {
      note(LMS_DIFF_ROW_COUNT, "rows: source " + std::to_string(s.rows) + ", target " + std::to_string(t.rows));
    } else if (s_counts != t_counts && s_words == t_words) {
      note(LMS_DIFF_ROW_COUNT, "rows affected: source " + std::string(sv(s.tag)) + ", target " + std::string(sv(t.tag)));
    } else if (s.checksum != t.checksum) {
      note(LMS_DIFF_CHECKSUM, "values differ in " + std::to_string(s.rows) + " rows (checksums differ)");
    }
    if (s_words != t_words) note(LMS_DIFF_TAG, "commands: source " + std::string(sv(s.tag)) + ", target " + std::string(sv(t.tag)));
  }
  if (v->detail != nullptr && v->detail_cap > 0) std::snprintf(v->detail, v->detail_cap, "%s", detail.c_str());
}

// The option every shipped shadow mode takes: validate=on|off (default on).
inline bool option_enabled(const lms_kv* options, size_t count, std::string_view key, bool fallback) {
  for (size_t i = 0; i < count; ++i) {
    if (sv(options[i].key) != key) continue;
    const std::string_view value = sv(options[i].value);
    return value == "on" || value == "true" || value == "1" || value == "yes";
  }
  return fallback;
}

}  // namespace lms::sdk

#endif  // LMS_VALIDATE_HPP
