// read-validator: an example shadow plugin built from nothing but the installed LMS SDK.
//
// It shadows only statements that read (SELECT, WITH ... SELECT, VALUES, TABLE, SHOW), in the
// background like `async`, and compares their rows: a migration whose target is already fed by
// replication must never see the application's writes twice, yet its reads can be checked
// against the source all day. Command tags and target errors are left to the other modes; this
// plugin reports only differences in the rows themselves (count, values, columns).
//
// Options (lms passes them to create): validate=on|off.
#include <lms/plugin.hpp>
#include <lms/validate.hpp>

#include <atomic>
#include <cctype>
#include <string_view>

namespace {

struct ReadValidator {
  bool validate = true;
  std::atomic<uint64_t> reads_sent{0};  // decide runs on every worker at once
};

// Skips whitespace and SQL comments.
std::string_view skip_blanks(std::string_view s) {
  while (!s.empty()) {
    if (std::isspace(static_cast<unsigned char>(s.front()))) {
      s.remove_prefix(1);
    } else if (s.substr(0, 2) == "--") {
      const size_t end = s.find('\n');
      s.remove_prefix(end == std::string_view::npos ? s.size() : end + 1);
    } else if (s.substr(0, 2) == "/*") {
      const size_t end = s.find("*/");
      s.remove_prefix(end == std::string_view::npos ? s.size() : end + 2);
    } else if (s.front() == '(') {
      s.remove_prefix(1);  // (SELECT ...) UNION ...
    } else {
      break;
    }
  }
  return s;
}

bool starts_with_word(std::string_view s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != word[i]) return false;
  }
  return s.size() == word.size() || !std::isalnum(static_cast<unsigned char>(s[word.size()]));
}

bool contains_word(std::string_view s, std::string_view word) {
  for (size_t i = 0; i < s.size(); ++i) {
    if ((i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]))) && starts_with_word(s.substr(i), word)) {
      return true;
    }
  }
  return false;
}

// A statement that only reads. A SELECT ... INTO creates a table, and a WITH can hide a write
// (WITH x AS (DELETE ...)): a statement mentioning a writing keyword anywhere is not shadowed,
// better to miss a read than to write twice. Several statements in one query are not shadowed
// either. (A function with side effects, such as nextval(), cannot be seen from the text.)
bool is_read(std::string_view sql) {
  const std::string_view s = skip_blanks(sql);
  const size_t semicolon = s.find(';');
  if (semicolon != std::string_view::npos && !skip_blanks(s.substr(semicolon + 1)).empty()) return false;
  bool reads = false;
  for (std::string_view w : {"SELECT", "VALUES", "TABLE", "SHOW", "WITH"}) reads = reads || starts_with_word(s, w);
  if (!reads) return false;
  for (std::string_view w : {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO"}) {
    if (contains_word(s, w)) return false;
  }
  return true;
}

void* create(const lms_kv* options, size_t count) noexcept {
  return lms::sdk::guard(
      [&]() -> void* {
        auto* self = new ReadValidator;
        self->validate = lms::sdk::option_enabled(options, count, "validate", true);
        return self;
      },
      static_cast<void*>(nullptr));
}

void destroy(void* self) noexcept { delete static_cast<ReadValidator*>(self); }

void decide(void* opaque, const lms_request_info* request, lms_shadow_decision* out) noexcept {
  auto* self = static_cast<ReadValidator*>(opaque);
  out->wait_for_target = 0;
  out->answer = LMS_ANSWER_SOURCE;
  // A core older than ABI 1.2 gives no statement: then nothing is shadowed.
  const bool has_statement = LMS_HAS_FIELD(request, lms_request_info, statement);
  out->send_to_target = has_statement && request->target_available != 0 && request->target_busy == 0 &&
                        is_read(lms::sdk::view(request->statement));
  if (LMS_HAS_FIELD(out, lms_shadow_decision, compare)) out->compare = out->send_to_target && self->validate;
  if (out->send_to_target) self->reads_sent.fetch_add(1, std::memory_order_relaxed);
}

void compare(void*, const lms_comparison* comparison, lms_verdict* out) noexcept {
  lms::sdk::guard_void([&] {
    lms::sdk::compare_answers(comparison, out);
    // Rows only: a target error or a different tag is left to the other modes.
    out->differences &= LMS_DIFF_ROW_COUNT | LMS_DIFF_CHECKSUM | LMS_DIFF_COLUMNS;
  });
}

const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), create, destroy, decide, compare};

}  // namespace

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "read-validator", "1.0.0", kFunctions)
