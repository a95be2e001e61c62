#include "inspect.h"

#include <cctype>
#include <optional>

#include "wire.h"

namespace lms::pgwire {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.'; }

// Reads SQL a word at a time, skipping whitespace and comments.
class SqlWords {
 public:
  explicit SqlWords(std::string_view sql) : s_(sql) {}

  void skip_blank() {
    while (pos_ < s_.size()) {
      if (is_space(s_[pos_])) {
        ++pos_;
      } else if (s_.substr(pos_, 2) == "--") {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (s_.substr(pos_, 2) == "/*") {
        const size_t end = s_.find("*/", pos_ + 2);
        pos_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else {
        return;
      }
    }
  }
  // The next identifier or keyword ("" at punctuation or the end). A quoted identifier comes back
  // without its quotes.
  std::string_view next() {
    skip_blank();
    if (pos_ < s_.size() && s_[pos_] == '"') {
      const size_t end = s_.find('"', pos_ + 1);
      if (end == std::string_view::npos) return {};
      const std::string_view word = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return word;
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && is_word(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  // True when the next thing past blanks and comments is `c`.
  bool at(char c) {
    skip_blank();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  // True when what is left holds a second statement: a ';' outside quotes followed by more SQL.
  bool more_statements() {
    char quote = 0;
    for (size_t i = pos_; i < s_.size(); ++i) {
      const char c = s_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ';') {
        SqlWords rest(s_.substr(i + 1));
        rest.skip_blank();
        while (rest.pos_ < rest.s_.size() && rest.s_[rest.pos_] == ';') {
          ++rest.pos_;
          rest.skip_blank();
        }
        return rest.pos_ < rest.s_.size();
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool same(std::string_view word, std::string_view keyword) {
  if (word.size() != keyword.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    // Keywords are ASCII: no locale lookup per letter (every statement's verb passes here).
    const char c = word[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c) != keyword[i]) return false;
  }
  return true;
}

lms_str str(std::string_view v) { return {v.data(), v.size()}; }

// ASCII only, without the locale: this runs over every simple query's text.
bool starts_ignoring_case(std::string_view text, size_t at, std::string_view lowercase) {
  if (text.size() - at < lowercase.size()) return false;
  for (size_t i = 0; i < lowercase.size(); ++i) {
    const char c = text[at + i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c) != lowercase[i]) return false;
  }
  return true;
}

// Session-level advisory locks are taken and dropped by functions that may stand anywhere in a
// statement (the _xact_ ones end with the transaction and are not looked for). Every "g_" and
// "G_" is found with memchr's speed, then the name around it read: most statements hold none.
lms_state_effect advisory_lock_call(std::string_view sql) {
  for (const std::string_view g : {std::string_view("g_"), std::string_view("G_")}) {
    for (size_t at = sql.find(g, 1); at != std::string_view::npos; at = sql.find(g, at + 2)) {
      if (sql[at - 1] != 'p' && sql[at - 1] != 'P') continue;
      const size_t name = at + 2;
      if (starts_ignoring_case(sql, name, "advisory_unlock_all")) return LMS_EFFECT_RELEASES;
      if (starts_ignoring_case(sql, name, "advisory_lock") ||
          starts_ignoring_case(sql, name, "try_advisory_lock")) {
        return LMS_EFFECT_HOLDS;
      }
    }
  }
  return LMS_EFFECT_NONE;
}

// The kinds of state a cutover cannot carry, as `connections list` and the preflight name them.
constexpr std::string_view kTemporaryTable = "temporary table";
constexpr std::string_view kListen = "LISTEN";
constexpr std::string_view kAdvisoryLock = "advisory lock";
constexpr std::string_view kHeldCursor = "cursor WITH HOLD";

}  // namespace

namespace {

// What a statement whose first word is `verb` (read from `words`, which reads on) holds or drops.
// `what`: its second word when the caller read it already (else it is read here, only for the
// verbs that need one: most statements are looked at only for an advisory lock call).
lms_state_effect held_by(std::string_view verb, std::optional<std::string_view> what, SqlWords& words,
                         std::string_view sql, std::string_view* kind) {
  auto second = [&] {
    if (!what) what = words.next();
    return *what;
  };
  auto holds = [&](std::string_view k) {
    *kind = k;
    return LMS_EFFECT_HOLDS;
  };
  auto releases = [&](std::string_view k) {
    *kind = k;
    return LMS_EFFECT_RELEASES;
  };
  if (same(verb, "create")) {
    std::string_view object = second();
    if (same(object, "or") && same(words.next(), "replace")) object = words.next();
    if (same(object, "global") || same(object, "local")) object = words.next();
    if (same(object, "temp") || same(object, "temporary")) return holds(kTemporaryTable);
  } else if (same(verb, "listen")) {
    return holds(kListen);
  } else if (same(verb, "unlisten")) {
    if (second().empty() && words.at('*')) return releases(kListen);
  } else if (same(verb, "declare")) {
    // DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [WITH | WITHOUT HOLD] FOR
    std::string_view previous = second();
    for (std::string_view w = words.next(); !w.empty() && !same(w, "for"); w = words.next()) {
      if (same(w, "hold") && same(previous, "with")) return holds(kHeldCursor);
      previous = w;
    }
  } else if (same(verb, "close")) {
    if (same(second(), "all")) return releases(kHeldCursor);
  } else if (same(verb, "discard")) {
    const std::string_view what_kind = second();
    if (same(what_kind, "temp") || same(what_kind, "temporary")) return releases(kTemporaryTable);
  }
  switch (advisory_lock_call(sql)) {
    case LMS_EFFECT_HOLDS:
      return holds(kAdvisoryLock);
    case LMS_EFFECT_RELEASES:
      return releases(kAdvisoryLock);
    default:
      return LMS_EFFECT_NONE;
  }
}

}  // namespace

lms_state_effect classify_held(std::string_view sql, std::string_view* kind) {
  SqlWords words(sql);
  const std::string_view verb = words.next();
  return held_by(verb, std::nullopt, words, sql, kind);
}

lms_state_effect classify_sql(std::string_view sql, std::string_view* name) {
  SqlWords words(sql);
  const std::string_view verb = words.next();
  lms_state_effect effect = LMS_EFFECT_NONE;
  if (same(verb, "set")) {
    std::string_view what = words.next();
    if (same(what, "local") || same(what, "transaction") || same(what, "constraints")) return LMS_EFFECT_NONE;
    // SET SESSION x is SET x; SET SESSION CHARACTERISTICS and SET SESSION AUTHORIZATION are named
    // by their second word, which no setting shares.
    if (same(what, "session")) what = words.next();
    if (same(what, "time")) what = "timezone";
    if (what.empty()) return LMS_EFFECT_NONE;
    *name = what;
    effect = LMS_EFFECT_SETTING;
  } else if (same(verb, "reset")) {
    const std::string_view what = words.next();
    if (what.empty()) return LMS_EFFECT_NONE;
    if (same(what, "all")) {
      effect = LMS_EFFECT_RESET_SETTINGS;
    } else {
      *name = what;
      effect = LMS_EFFECT_SETTING;
    }
  } else if (same(verb, "discard")) {
    const std::string_view what = words.next();
    if (!same(what, "all")) return held_by(verb, what, words, sql, name);
    effect = LMS_EFFECT_DISCARD_ALL;
  } else if (same(verb, "deallocate")) {
    std::string_view what = words.next();
    if (same(what, "prepare")) what = words.next();
    if (what.empty()) return LMS_EFFECT_NONE;
    if (same(what, "all")) {
      effect = LMS_EFFECT_DEALLOCATE_ALL;
    } else {
      *name = what;
      effect = LMS_EFFECT_DEALLOCATE;
    }
  } else if (same(verb, "prepare")) {
    const std::string_view what = words.next();
    if (what.empty() || same(what, "transaction")) return LMS_EFFECT_NONE;  // PREPARE TRANSACTION is 2PC
    *name = what;
    effect = LMS_EFFECT_PREPARE;
  } else {
    return held_by(verb, std::nullopt, words, sql, name);
  }
  // "SET a = 1; INSERT ..." cannot be replayed without running the INSERT again: not carried.
  if (words.more_statements()) {
    *name = {};
    return LMS_EFFECT_NONE;
  }
  return effect;
}

void inspect_message(lms_direction direction, const uint8_t* message, size_t len, lms_message_detail* out) {
  out->effect = LMS_EFFECT_NONE;
  out->name = {};
  out->text = {};
  if (len < 5) return;
  BodyReader body(message + 5, len - 5);
  if (direction == LMS_FROM_SERVER) {
    if (message[0] != 'E') return;
    // ErrorResponse: fields of a type byte and a string, ended by a zero byte.
    while (body.remaining() > 0) {
      std::string_view type;
      std::string_view value;
      if (!body.bytes(1, type) || type[0] == '\0' || !body.cstr(value)) return;
      if (type[0] == 'M') {
        out->effect = LMS_EFFECT_ERROR;
        out->text = str(value);
        return;
      }
    }
    return;
  }
  switch (message[0]) {
    case 'Q': {
      std::string_view sql;
      if (!body.cstr(sql)) return;
      out->text = str(sql);
      std::string_view name;
      out->effect = classify_sql(sql, &name);
      out->name = str(name);
      return;
    }
    case 'P': {  // Parse: statement name, query, parameter types
      std::string_view name;
      std::string_view sql;
      if (!body.cstr(name) || !body.cstr(sql)) return;
      out->text = str(sql);
      if (!name.empty()) {
        out->effect = LMS_EFFECT_PREPARE;
        out->name = str(name);
        return;
      }
      // The unnamed statement runs once, at once: what it holds, the session holds.
      std::string_view kind;
      out->effect = classify_held(sql, &kind);
      out->name = str(kind);
      return;
    }
    case 'B': {  // Bind: portal name, then the statement it runs
      std::string_view portal;
      std::string_view name;
      if (!body.cstr(portal) || !body.cstr(name)) return;
      out->effect = LMS_EFFECT_BIND;
      out->name = str(name);
      return;
    }
    case 'C': {  // Close: 'S' statement or 'P' portal, then its name
      std::string_view kind;
      std::string_view name;
      if (!body.bytes(1, kind) || !body.cstr(name)) return;
      if (kind[0] == 'S' && !name.empty()) {
        out->effect = LMS_EFFECT_DEALLOCATE;
        out->name = str(name);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace lms::pgwire
