#include "pool_sql.h"

#include <functional>

#include "inspect.h"
#include "wire.h"

namespace lms::pgwire {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool same_name(std::string_view a, std::string_view b) { return lowercase(a) == lowercase(b); }

uint64_t digest_of(const uint8_t* data, size_t len) {
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(data), len));
}

std::string quote_literal(std::string_view v) {
  std::string out = "'";
  for (const char c : v) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string quote_identifier(std::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

void append(std::vector<uint8_t>& out, const std::vector<uint8_t>& message) {
  out.insert(out.end(), message.begin(), message.end());
}

std::vector<uint8_t> query_message(std::string_view sql) {
  return MessageBuilder().begin('Q').cstr(sql).end().take();
}

std::vector<uint8_t> close_message(std::string_view statement) {
  return MessageBuilder().begin('C').u8('S').cstr(statement).end().take();
}

std::vector<uint8_t> sync_message() { return MessageBuilder().begin('S').end().take(); }

std::pair<std::string_view, std::string_view> first_two_words(std::string_view sql) {
  auto word_at = [&](size_t& at) {
    while (at < sql.size() && std::isspace(static_cast<unsigned char>(sql[at])) != 0) ++at;
    if (at < sql.size() && sql[at] == '"') {
      const size_t end = sql.find('"', at + 1);
      if (end == std::string_view::npos) return std::string_view();
      const std::string_view w = sql.substr(at + 1, end - at - 1);
      at = end + 1;
      return w;
    }
    const size_t start = at;
    while (at < sql.size() &&
           (std::isalnum(static_cast<unsigned char>(sql[at])) != 0 || sql[at] == '_' || sql[at] == '$')) {
      ++at;
    }
    return sql.substr(start, at - start);
  };
  size_t at = 0;
  const std::string_view first = word_at(at);
  const std::string_view second = word_at(at);
  return {first, second};
}

std::string statement_name(std::string_view sql_word) { return lowercase(sql_word); }

lms_state_effect classify_effect(std::string_view sql) {
  std::string_view name;
  return classify_sql(sql, &name);
}

bool changes_session(lms_state_effect effect) {
  switch (effect) {
    case LMS_EFFECT_SETTING:
    case LMS_EFFECT_RESET_SETTINGS:
    case LMS_EFFECT_DISCARD_ALL:
    case LMS_EFFECT_DEALLOCATE:
    case LMS_EFFECT_DEALLOCATE_ALL:
    case LMS_EFFECT_PREPARE:
      return true;
    default:
      return false;
  }
}

bool ends_with_transaction(std::string_view sql) {
  const std::string lower = lowercase(sql);
  return lower.find("on commit drop") != std::string::npos;
}

void settings_from_options(std::string_view options, std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < options.size(); ++i) {
    const char c = options[i];
    if (c == '\\' && i + 1 < options.size()) {
      word += options[++i];
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  for (size_t i = 0; i < words.size(); ++i) {
    std::string setting;
    if (words[i] == "-c" && i + 1 < words.size()) {
      setting = words[++i];
    } else if (words[i].rfind("-c", 0) == 0) {
      setting = words[i].substr(2);
    } else if (words[i].rfind("--", 0) == 0) {
      setting = words[i].substr(2);
    } else {
      continue;
    }
    const size_t eq = setting.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string name = setting.substr(0, eq);
    for (char& ch : name) {
      if (ch == '-') ch = '_';
    }
    out.emplace_back(std::move(name), setting.substr(eq + 1));
  }
}

}  // namespace lms::pgwire
