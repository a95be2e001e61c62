// A client's session as the client believes it to be (pooling.h): its statements, its settings,
// what it is told at login, and the lone prepares lms answers for it.
#include <atomic>
#include <optional>

#include "inspect.h"
#include "pool_sql.h"
#include "pooling.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

std::atomic<uint64_t> g_next_client{1};

}  // namespace

PoolClient::PoolClient(const lms_kv* startup_params, size_t count)
    : serial_(g_next_client.fetch_add(1, std::memory_order_relaxed)) {
  for (size_t i = 0; i < count; ++i) {
    const std::string_view key(startup_params[i].key.data, startup_params[i].key.len);
    const std::string_view value(startup_params[i].value.data, startup_params[i].value.len);
    // Not settings: who logs in, where, how; and the core's own memos.
    if (key == "user" || key == "database" || key == "replication" || key.rfind("lms.", 0) == 0) continue;
    if (key == "options") {
      settings_from_options(value, startup_);
      continue;
    }
    startup_.emplace_back(std::string(key), std::string(value));
  }
  rebuild_settings_sql();
}

const PooledStatement* PoolClient::statement(std::string_view name) const {
  if (name.empty()) return unnamed();
  const auto it = statements_.find(name);
  return it == statements_.end() ? nullptr : &it->second;
}

void PoolClient::prepared(std::string_view name, PooledStatement statement) {
  if (name.empty()) {
    unnamed_ = std::move(statement);
    has_unnamed_ = true;
    return;
  }
  statements_[std::string(name)] = std::move(statement);
}

void PoolClient::prepared_unnamed(const uint8_t* parse, size_t len, uint64_t digest, bool session_effect) {
  unnamed_.create.assign(reinterpret_cast<const char*>(parse), len);  // the buffer is kept
  unnamed_.sql = false;
  unnamed_.digest = digest;
  unnamed_.session_effect = session_effect;
  has_unnamed_ = true;
}

const PoolClient::JudgedParse* PoolClient::judged(const uint8_t* parse, size_t len) const {
  const std::string_view message(reinterpret_cast<const char*>(parse), len);
  for (const JudgedParse& j : judged_) {
    if (j.message == message) return &j;
  }
  return nullptr;
}

void PoolClient::judged_now(const uint8_t* parse, size_t len, uint64_t digest, bool session_effect) {
  if (len > kMaxJudgedParse) return;
  std::string message(reinterpret_cast<const char*>(parse), len);
  if (judged_.size() < kJudgedParses) {
    judged_.push_back({std::move(message), digest, session_effect});
    return;
  }
  // All taken: the oldest goes.
  judged_[judged_next_] = {std::move(message), digest, session_effect};
  judged_next_ = (judged_next_ + 1) % kJudgedParses;
}

void PoolClient::set(std::string_view name, std::string_view sql) {
  const std::string key = lowercase(name);
  for (auto& [k, text] : sets_) {
    if (k == key) {
      text.assign(sql);
      rebuild_settings_sql();
      return;
    }
  }
  sets_.emplace_back(key, std::string(sql));
  rebuild_settings_sql();
}

void PoolClient::reset(std::string_view name) {
  const std::string key = lowercase(name);
  std::erase_if(sets_, [&](const auto& s) { return s.first == key; });
  rebuild_settings_sql();
}

void PoolClient::reset_all() {
  sets_.clear();
  rebuild_settings_sql();
}

void PoolClient::restore_sets(Sets sets) {
  sets_ = std::move(sets);
  rebuild_settings_sql();
}

void PoolClient::rebuild_settings_sql() {
  settings_sql_.clear();
  auto add = [&](std::string_view statement) {
    if (!settings_sql_.empty()) settings_sql_ += "; ";
    settings_sql_ += statement;
  };
  for (const auto& [name, value] : startup_)
    add("SET " + quote_identifier(name) + " TO " + quote_literal(value));
  for (const auto& [name, sql] : sets_) add(sql);
}

bool PoolClient::answer_alone(const uint8_t* data, size_t len, std::vector<uint8_t>& out) {
  // Asked of every request that waits for a connection: most run something (a Bind, a Query),
  // which the message types alone tell before anything is read or copied.
  char final_type = 0;
  for (size_t at = 0; at < len;) {
    if (len - at < 5) return false;
    const uint32_t length = read_u32(data + at + 1);
    if (length < 4 || len - at - 1 < length) return false;
    final_type = static_cast<char>(data[at]);
    if (final_type != 'P' && final_type != 'C' && final_type != 'S') return false;
    at += 1 + length;
  }
  if (final_type != 'S') return false;
  // In order: a statement made (a Parse) or closed (a Close, the second empty).
  std::vector<std::pair<std::string, std::optional<PooledStatement>>> parsed;
  MessageBuilder answer;
  size_t at = 0;
  char last = 0;
  while (at < len) {
    if (len - at < 5) return false;
    const uint32_t length = read_u32(data + at + 1);
    if (length < 4 || len - at - 1 < length) return false;
    last = static_cast<char>(data[at]);
    if (last == 'P') {
      BodyReader r(data + at + 5, length - 4);
      std::string_view name;
      std::string_view sql;
      std::string_view kind;
      if (!r.cstr(name) || !r.cstr(sql) || classify_held(sql, &kind) == LMS_EFFECT_HOLDS) return false;
      PooledStatement statement{std::string(reinterpret_cast<const char*>(data + at), 1 + length), false,
                                digest_of(data + at, 1 + length)};
      statement.session_effect = changes_session(classify_effect(sql));
      parsed.emplace_back(std::string(name), std::move(statement));
      answer.begin('1').end();
    } else if (last == 'C') {
      // A statement closed is the client's to forget (a copy left on a connection is closed there
      // before another of that name is made); between transactions no portal is open, and
      // closing what does not exist is no error.
      BodyReader r(data + at + 5, length - 4);
      std::string_view what;
      std::string_view name;
      if (!r.bytes(1, what) || !r.cstr(name)) return false;
      if (what[0] == 'S') parsed.emplace_back(std::string(name), std::nullopt);
      answer.begin('3').end();
    } else if (last == 'S') {
      answer.begin('Z').u8(deferred_begin_.empty() ? 'I' : 'T').end();  // see answer_transaction_edge
    } else {
      return false;
    }
    at += 1 + length;
  }
  if (last != 'S') return false;
  for (auto& [name, statement] : parsed) {
    if (statement) {
      prepared(name, std::move(*statement));
    } else if (name.empty()) {
      has_unnamed_ = false;
    } else {
      deallocated(name);
    }
  }
  append(out, answer.bytes());
  return true;
}

std::string PoolClient::welcome(std::string_view database_welcome) const {
  MessageBuilder m;
  const auto* p = reinterpret_cast<const uint8_t*>(database_welcome.data());
  size_t at = 0;
  while (at + 5 <= database_welcome.size()) {
    const uint32_t length = read_u32(p + at + 1);
    if (length < 4 || at + 1 + length > database_welcome.size()) break;
    const uint8_t* body = p + at + 5;
    const size_t body_len = length - 4;
    bool rewritten = false;
    if (p[at] == 'S') {
      BodyReader r(body, body_len);
      std::string_view name;
      std::string_view value;
      if (r.cstr(name) && r.cstr(value)) {
        for (const auto& [key, asked] : startup_) {
          if (same_name(key, name)) {
            m.begin('S').cstr(name).cstr(asked).end();
            rewritten = true;
            break;
          }
        }
      }
    }
    if (!rewritten) m.raw(p + at, 1 + length);
    at += 1 + length;
  }
  if (at < database_welcome.size()) m.raw(p + at, database_welcome.size() - at);
  const auto& bytes = m.bytes();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace lms::pgwire
