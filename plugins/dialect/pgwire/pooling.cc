#include "pooling.h"

#include <atomic>
#include <cctype>
#include <functional>
#include <optional>

#include "inspect.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

std::atomic<uint64_t> g_next_client{1};

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

// The first word of `sql` and the one after it (EXECUTE name), skipping blanks and comments the
// simplest way: a statement that starts with a comment is looked at no further.
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

// An unquoted name is folded to lower case by the server; a quoted one was returned as written.
std::string statement_name(std::string_view sql_word) { return lowercase(sql_word); }

lms_state_effect classify_effect(std::string_view sql) {
  std::string_view name;
  return classify_sql(sql, &name);
}

// Statements whose running changes what a client's session holds (see PoolServer::session_effect).
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

// Calls `each` with every statement of a simple query's text (split at semicolons outside quotes,
// dollar quotes and comments); stops at the first for which it returns true.
template <typename Each>
bool any_statement(std::string_view sql, Each&& each) {
  size_t start = 0;
  size_t i = 0;
  auto skip_quoted = [&](char quote) {
    for (++i; i < sql.size(); ++i) {
      if (sql[i] == quote) {
        if (i + 1 < sql.size() && sql[i + 1] == quote) {
          ++i;  // a doubled quote stands for itself
          continue;
        }
        return;
      }
    }
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      skip_quoted(c);
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      int depth = 0;
      while (i < sql.size()) {
        if (sql.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (sql.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '$') {
      // $tag$ ... $tag$ (a $1 parameter has no closing dollar before a non-name character)
      size_t end = i + 1;
      while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) != 0 || sql[end] == '_'))
        ++end;
      if (end < sql.size() && sql[end] == '$' &&
          !(end > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
        const std::string_view tag = sql.substr(i, end - i + 1);
        const size_t close = sql.find(tag, end + 1);
        i = close == std::string_view::npos ? sql.size() : close + tag.size();
      } else {
        i = end;
      }
    } else if (c == ';') {
      if (each(sql.substr(start, i - start))) return true;
      start = ++i;
    } else {
      ++i;
    }
  }
  return start < sql.size() && each(sql.substr(start));
}

// A temporary table dropped when its transaction commits holds nothing past it.
bool ends_with_transaction(std::string_view sql) {
  const std::string lower = lowercase(sql);
  return lower.find("on commit drop") != std::string::npos;
}

// `options` as libpq sends it: "-c name=value" or "--name=value", separated by blanks.
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

}  // namespace

// ---- the client's session -----------------------------------------------------------------------

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
      answer.begin('Z').u8('I').end();
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

// ---- the database connection ----------------------------------------------------------------------

void PoolServer::owe(char kind, bool drop, bool drop_error, std::string prepares) {
  owed_.push_back(Owed{kind, drop, drop_error, std::move(prepares), next_seq_++});
}

void PoolServer::begin_tentative(PoolClient& client) {
  if (tentative_client_ != nullptr) return;  // the transaction's first SET saved the settings
  tentative_client_ = &client;
  tentative_sets_ = client.sets();
  tentative_seq_ = next_seq_;
  tentative_failed_ = false;
  tentative_rolled_back_ = false;
}

void PoolServer::settle_tentative(char state) {
  if (state != 'I') {
    // Still in the transaction; back to 'T' after a ROLLBACK TO SAVEPOINT, whose SETs before the
    // savepoint stand.
    if (state == 'T') tentative_failed_ = tentative_rolled_back_ = false;
    return;
  }
  if (tentative_failed_ || tentative_rolled_back_) {
    tentative_client_->restore_sets(std::move(tentative_sets_));
    settings_unknown_ = true;  // what the connection carries now is not known
  }
  tentative_client_ = nullptr;
  tentative_sets_.clear();
}

void PoolServer::lend(const PoolClient& client, std::vector<uint8_t>& out) {
  tentative_client_ = nullptr;
  if (!settings_unknown_ && settings_sql_ == client.settings_sql()) return;
  std::string sql = "RESET ALL";
  if (!client.settings_sql().empty()) sql += "; " + client.settings_sql();
  append(out, query_message(sql));
  owe('Q', true, true);
  settings_sql_ = client.settings_sql();
  settings_unknown_ = false;
}

void PoolServer::forget(const std::string& name) {
  const auto it = statements_.find(name);
  if (it == statements_.end()) return;
  lru_.erase(it->second.lru);
  statements_.erase(it);
}

void PoolServer::close_statement(const std::string& statement, bool top, std::vector<uint8_t>& out) {
  const std::string name = statement;  // `statement` may be lru_'s own, which forget() frees
  append(out, close_message(name));
  owe('C', true, top, name);
  forget(name);
  stale_.erase(name);
}

void PoolServer::remember(const std::string& name, uint64_t digest, bool top, std::vector<uint8_t>& out) {
  if (statements_.find(name) != statements_.end() || stale_.count(name) != 0) close_statement(name, top, out);
  while (statements_.size() >= max_statements_ && !lru_.empty()) close_statement(lru_.back(), top, out);
  lru_.push_front(name);
  statements_[name] = Prepared{digest, lru_.begin()};
}

void PoolServer::make(const std::string& name, const PooledStatement& statement, bool top,
                      std::vector<uint8_t>& out) {
  remember(name, statement.digest, top, out);
  out.insert(out.end(), statement.create.begin(), statement.create.end());
  if (statement.sql) {
    // A Query cannot stand inside an extended request; a client that mixes a SQL PREPARE with
    // protocol-level runs of it gets it before its request all the same.
    owe('Q', true, true);
    return;
  }
  owe('P', true, top, name);
}

void PoolServer::ensure(const PoolClient& client, std::string_view name, bool top,
                        std::vector<uint8_t>& out) {
  const PooledStatement* statement = client.statement(name);
  if (statement == nullptr) return;  // never prepared: the database says so itself
  if (const auto it = statements_.find(name);
      it != statements_.end() && it->second.digest == statement->digest) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  make(std::string(name), *statement, top, out);
}

void PoolServer::ensure_unnamed(const PoolClient& client, std::vector<uint8_t>& out) {
  const PooledStatement* statement = client.unnamed();
  if (statement == nullptr) return;
  if (unnamed_owner_ == client.serial() && unnamed_digest_ == statement->digest) return;
  out.insert(out.end(), statement->create.begin(), statement->create.end());
  owe('P', true, false);
  unnamed_owner_ = client.serial();
  unnamed_digest_ = statement->digest;
}

void PoolServer::refuse(Flavor flavor, std::string_view what, bool query, std::vector<uint8_t>& out) {
  const std::string message = std::string(what) +
                              " is not available with pool-mode transaction: each transaction may run on "
                              "another database connection (pool-mode session keeps one per client)";
  // The database raises the error, so that it comes in order with the answers before it.
  const std::string sql =
      flavor == Flavor::kCockroach
          ? "SELECT crdb_internal.force_error('0A000', " + quote_literal("lms: " + message) + ")"
          : "DO $lms$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = " +
                quote_literal("lms: " + message) + "; END$lms$";
  if (query) {
    append(out, query_message(sql));
    owe('Q', false);
    return;
  }
  // In an extended request: the error answers the client's Parse, and the database skips the rest
  // of the request up to its Sync, as it would after any failed Parse.
  append(out, MessageBuilder().begin('P').cstr("").cstr(sql).u8(0).u8(0).end().take());
  owe('P', true);
  append(out, MessageBuilder().begin('B').cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).end().take());
  owe('B', true);
  append(out, MessageBuilder().begin('E').cstr("").u32(0).end().take());
  owe('E', false);
  unnamed_owner_ = 0;
}

void PoolServer::session_effect(PoolClient& client, lms_state_effect effect, std::string_view name,
                                std::string_view sql, bool top, std::vector<uint8_t>& out) {
  // Only a Query outside a transaction leaves settings known to be this client's; elsewhere a
  // rollback (or the rest of an extended request failing) may undo them, so the next lend makes
  // the client's settings again.
  const bool outside = top && txn_ == 'I' && !extended_open_;
  if (effect == LMS_EFFECT_SETTING || effect == LMS_EFFECT_RESET_SETTINGS) begin_tentative(client);
  switch (effect) {
    case LMS_EFFECT_SETTING:
      if (same_name(first_two_words(sql).first, "reset")) {
        client.reset(name);
      } else {
        client.set(name, sql);
      }
      if (outside) {
        settings_sql_ = client.settings_sql();
      } else {
        settings_unknown_ = true;
      }
      break;
    case LMS_EFFECT_RESET_SETTINGS:
      client.reset_all();
      settings_unknown_ = true;
      break;
    case LMS_EFFECT_DISCARD_ALL:
      // Refused inside a transaction block: then it drops nothing.
      if (txn_ != 'I' || (top && extended_open_)) break;
      client.reset_all();
      client.deallocated_all();
      statements_.clear();
      lru_.clear();
      settings_unknown_ = true;
      break;
    case LMS_EFFECT_DEALLOCATE_ALL:
      client.deallocated_all();
      statements_.clear();
      lru_.clear();
      break;
    case LMS_EFFECT_DEALLOCATE: {
      const std::string key = statement_name(name);
      // In a Query the statement is made here first, so that DEALLOCATE finds it; an extended
      // request cannot carry that Query.
      if (top) ensure(client, key, true, out);
      client.deallocated(key);
      forget(key);
      break;
    }
    case LMS_EFFECT_PREPARE: {
      // Run by an extended request: kept as the Query that makes it again elsewhere.
      const std::string key = statement_name(name);
      const std::vector<uint8_t> create = query_message(sql);
      PooledStatement statement{std::string(create.begin(), create.end()), true,
                                digest_of(create.data(), create.size())};
      remember(key, statement.digest, top, out);
      client.prepared(key, std::move(statement));
      break;
    }
    default:
      break;
  }
}

uint32_t PoolServer::query(PoolClient& client, Flavor flavor, const uint8_t* message, size_t len,
                           std::vector<uint8_t>& out) {
  std::string_view sql;
  BodyReader r(message + 5, len - 5);
  if (!r.cstr(sql)) {
    owe('Q', false);
    return LMS_POOL_PASS;  // the database refuses it in its own words
  }
  unnamed_owner_ = 0;  // a simple query drops the unnamed statement
  std::string_view kind;
  const bool holds = any_statement(sql, [&](std::string_view statement) {
    return classify_held(statement, &kind) == LMS_EFFECT_HOLDS &&
           !(kind == "temporary table" && ends_with_transaction(statement));
  });
  if (holds) {
    refuse(flavor, kind, true, out);
    return LMS_POOL_REPLACED;
  }
  const size_t before = out.size();
  std::string_view name;
  const lms_state_effect effect = classify_sql(sql, &name);
  if (effect == LMS_EFFECT_PREPARE) {
    const std::string key = statement_name(name);
    PooledStatement statement{std::string(reinterpret_cast<const char*>(message), len), true,
                              digest_of(message, len)};
    remember(key, statement.digest, true, out);
    client.prepared(key, std::move(statement));
  } else if (changes_session(effect)) {
    session_effect(client, effect, name, sql, true, out);
  } else if (const auto [verb, second] = first_two_words(sql);
             same_name(verb, "execute") && !second.empty()) {
    ensure(client, statement_name(second), true, out);
  }
  // What was sent before the query in extended messages ends with its own Sync.
  if (out.size() != before && !extended_open_) {
    bool extended = false;
    for (size_t at = before; at + 5 <= out.size(); at += 1 + read_u32(out.data() + at + 1)) {
      if (out[at] != 'Q') extended = true;
    }
    if (extended) {
      append(out, sync_message());
      owe('S', true, true);
    }
  }
  owe('Q', false);
  return LMS_POOL_PASS;
}

bool PoolServer::refused_parse(Flavor flavor, std::string_view sql, std::vector<uint8_t>& out) {
  std::string_view kind;
  if (classify_held(sql, &kind) != LMS_EFFECT_HOLDS ||
      (kind == "temporary table" && ends_with_transaction(sql))) {
    return false;
  }
  refuse(flavor, kind, false, out);
  extended_open_ = true;
  return true;
}

uint32_t PoolServer::client_message(PoolClient& client, Flavor flavor, const uint8_t* message, size_t len,
                                    bool whole, std::vector<uint8_t>& out) {
  if (len < 5) return LMS_POOL_PASS;
  const char type = static_cast<char>(message[0]);
  BodyReader r(message + 5, len - 5);
  switch (type) {
    case 'P': {
      std::string_view name;
      std::string_view sql;
      if (!whole || !r.cstr(name) || !r.cstr(sql)) {
        owe('P', false);
        extended_open_ = true;
        return LMS_POOL_PASS;
      }
      if (name.empty()) {
        // The unnamed statement, parsed afresh for every run by most drivers' extended queries:
        // the same message as the client's last one was judged (and digested) then.
        const PooledStatement* last = client.unnamed();
        uint64_t digest = 0;
        if (last != nullptr &&
            std::string_view(last->create) == std::string_view(reinterpret_cast<const char*>(message), len)) {
          digest = last->digest;
        } else {
          if (refused_parse(flavor, sql, out)) return LMS_POOL_REPLACED;
          digest = digest_of(message, len);
          client.prepared_unnamed(message, len, digest, changes_session(classify_effect(sql)));
        }
        unnamed_owner_ = client.serial();
        unnamed_digest_ = digest;
        owe('P', false);
        extended_open_ = true;
        return LMS_POOL_PASS;
      }
      if (refused_parse(flavor, sql, out)) return LMS_POOL_REPLACED;
      PooledStatement statement{std::string(reinterpret_cast<const char*>(message), len), false,
                                digest_of(message, len)};
      statement.session_effect = changes_session(classify_effect(sql));
      const std::string key(name);
      remember(key, statement.digest, false, out);
      client.prepared(key, std::move(statement));
      owe('P', false, false, key);
      extended_open_ = true;
      return LMS_POOL_PASS;
    }
    case 'B': {
      std::string_view portal;
      std::string_view name;
      if (r.cstr(portal) && r.cstr(name)) {
        if (name.empty()) {
          ensure_unnamed(client, out);
        } else {
          ensure(client, name, false, out);
        }
        const PooledStatement* bound = client.statement(name);
        if (bound != nullptr && bound->session_effect) {
          std::string_view parsed_name;
          std::string_view sql;
          BodyReader parse(reinterpret_cast<const uint8_t*>(bound->create.data()) + 5,
                           bound->create.size() - 5);
          if (parse.cstr(parsed_name) && parse.cstr(sql))
            effect_portals_[std::string(portal)] = std::string(sql);
        } else if (!effect_portals_.empty()) {
          effect_portals_.erase(std::string(portal));
        }
      }
      owe('B', false);
      extended_open_ = true;
      return LMS_POOL_PASS;
    }
    case 'D': {
      std::string_view what;
      std::string_view name;
      if (r.bytes(1, what) && what[0] == 'S' && r.cstr(name)) {
        if (name.empty()) {
          ensure_unnamed(client, out);
        } else {
          ensure(client, name, false, out);
        }
      }
      owe('D', false);
      extended_open_ = true;
      return LMS_POOL_PASS;
    }
    case 'C': {
      std::string_view what;
      std::string_view name;
      if (r.bytes(1, what) && what[0] == 'S' && r.cstr(name) && !name.empty()) {
        // Closed here and for the client; a statement that is not here is no error to close.
        client.deallocated(name);
        forget(std::string(name));
        owe('C', false, false, std::string(name));
      } else {
        owe('C', false);
      }
      extended_open_ = true;
      return LMS_POOL_PASS;
    }
    case 'E': {
      std::string_view portal;
      if (!effect_portals_.empty() && r.cstr(portal)) {
        if (const auto it = effect_portals_.find(std::string(portal)); it != effect_portals_.end()) {
          std::string_view name;
          const std::string sql = it->second;
          const lms_state_effect effect = classify_sql(sql, &name);
          session_effect(client, effect, name, sql, false, out);
        }
      }
      owe('E', false);
      extended_open_ = true;
      return LMS_POOL_PASS;
    }
    case 'S':
      owe('S', false);
      extended_open_ = false;
      return LMS_POOL_PASS;
    case 'F':
      owe('F', false);
      return LMS_POOL_PASS;
    case 'Q':
      if (!whole) {
        owe('Q', false);
        return LMS_POOL_PASS;
      }
      return query(client, flavor, message, len, out);
    case 'X':
      // The client leaves; the connection stays for the next one.
      return LMS_POOL_REPLACED;
    default:  // Flush, COPY data: nothing of their own to answer
      return LMS_POOL_PASS;
  }
}

uint32_t PoolServer::server_message(const uint8_t* head, size_t len) {
  if (len < 1) return LMS_POOL_PASS;
  const char type = static_cast<char>(head[0]);
  if (type == 'Z' && len >= 6) txn_ = static_cast<char>(head[5]);
  if (owed_.empty()) return LMS_POOL_PASS;  // said unasked (a notice, a parameter's new value)
  const Owed& front = owed_.front();
  const bool until_ready = front.kind == 'S' || front.kind == 'Q' || front.kind == 'F';
  const bool tentative = tentative_client_ != nullptr && front.seq >= tentative_seq_;
  if (type == 'Z') {
    if (tentative && !front.drop && len >= 6) settle_tentative(static_cast<char>(head[5]));
    const bool drop = front.drop;
    owed_.pop_front();
    return drop ? LMS_POOL_DROP : LMS_POOL_PASS;
  }
  if (type == 'C' && tentative && !front.drop && len >= 5 + 8 &&
      std::string_view(reinterpret_cast<const char*>(head) + 5, 8) == "ROLLBACK") {
    tentative_rolled_back_ = true;  // a ROLLBACK (or a COMMIT of a failed transaction)
  }
  if (until_ready) {
    if (type == 'E') {
      if (tentative && !front.drop) tentative_failed_ = true;
      return front.drop_error ? LMS_POOL_DROP : LMS_POOL_PASS;
    }
    return front.drop ? LMS_POOL_DROP : LMS_POOL_PASS;
  }
  if (type == 'E') {
    // The message failed; the database skips the rest of the request up to its Sync.
    const bool drop = front.drop_error;
    if (!front.prepares.empty()) forget(front.prepares);
    if (tentative) tentative_failed_ = true;
    owed_.pop_front();
    while (!owed_.empty() && owed_.front().kind != 'S') {
      const Owed& skipped = owed_.front();
      if (tentative_client_ != nullptr && skipped.seq >= tentative_seq_) tentative_failed_ = true;
      if (skipped.kind == 'P' && !skipped.prepares.empty()) forget(skipped.prepares);
      // A Close skipped left its statement in place: closed again before it is made.
      if (skipped.kind == 'C' && !skipped.prepares.empty()) stale_.insert(skipped.prepares);
      owed_.pop_front();
    }
    return drop ? LMS_POOL_DROP : LMS_POOL_PASS;
  }
  bool last = false;
  switch (front.kind) {
    case 'P':
      last = type == '1';
      break;
    case 'B':
      last = type == '2';
      break;
    case 'C':
      last = type == '3';
      break;
    case 'D':
      last = type == 'T' || type == 'n';
      break;
    case 'E':
      last = type == 'C' || type == 'I' || type == 's';
      break;
    default:
      break;
  }
  const bool drop = front.drop;
  if (last) owed_.pop_front();
  return drop ? LMS_POOL_DROP : LMS_POOL_PASS;
}

void PoolServer::abandon(std::vector<uint8_t>& out) {
  tentative_client_ = nullptr;  // leaving: the client is gone
  append(out, query_message("ROLLBACK"));
  owe('Q', true, true);
}

// ---- the ABI ------------------------------------------------------------------------------------

namespace {

struct VectorEmit {
  std::vector<uint8_t> bytes;
  void to(const lms_emitter* out) const {
    if (!bytes.empty()) out->emit(out->ctx, bytes.data(), bytes.size());
  }
};

void* pool_client_create_c(const lms_kv* params, size_t count) {
  try {
    return new PoolClient(params, count);
  } catch (...) {
    return nullptr;
  }
}
void pool_client_destroy_c(void* client) { delete static_cast<PoolClient*>(client); }
void* pool_server_create_c(uint32_t max_statements) {
  try {
    return new PoolServer(max_statements);
  } catch (...) {
    return nullptr;
  }
}
void pool_server_destroy_c(void* server) { delete static_cast<PoolServer*>(server); }

void pool_welcome_c(void* client, const uint8_t* welcome, size_t len, const lms_emitter* out) {
  const std::string rewritten = static_cast<PoolClient*>(client)->welcome(
      std::string_view(reinterpret_cast<const char*>(welcome), len));
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(rewritten.data()), rewritten.size());
}

void pool_lend_c(void* client, void* server, const lms_emitter* to_server) {
  VectorEmit e;
  static_cast<PoolServer*>(server)->lend(*static_cast<PoolClient*>(client), e.bytes);
  e.to(to_server);
}

template <Flavor kFlavor>
uint32_t pool_client_message_c(void* client, void* server, const uint8_t* message, size_t len, uint8_t whole,
                               const lms_emitter* to_server) {
  VectorEmit e;
  const uint32_t verdict = static_cast<PoolServer*>(server)->client_message(
      *static_cast<PoolClient*>(client), kFlavor, message, len, whole != 0, e.bytes);
  e.to(to_server);
  return verdict;
}

uint32_t pool_server_message_c(void* server, const uint8_t* head, size_t len) {
  return static_cast<PoolServer*>(server)->server_message(head, len);
}

void pool_abandon_c(void* server, const lms_emitter* to_server) {
  VectorEmit e;
  static_cast<PoolServer*>(server)->abandon(e.bytes);
  e.to(to_server);
}

uint32_t pool_answer_alone_c(void* client, const uint8_t* requests, size_t len,
                             const lms_emitter* to_client) {
  VectorEmit e;
  if (!static_cast<PoolClient*>(client)->answer_alone(requests, len, e.bytes)) return 0;
  e.to(to_client);
  return 1;
}

uint32_t pool_owed_c(void* server) { return static_cast<PoolServer*>(server)->owed(); }
uint32_t pool_statements_c(void* server) { return static_cast<PoolServer*>(server)->statements(); }

}  // namespace

void fill_pool_functions(lms_dialect_functions& f, Flavor flavor) {
  f.pool_client_create = pool_client_create_c;
  f.pool_client_destroy = pool_client_destroy_c;
  f.pool_server_create = pool_server_create_c;
  f.pool_server_destroy = pool_server_destroy_c;
  f.pool_welcome = pool_welcome_c;
  f.pool_lend = pool_lend_c;
  f.pool_client_message = flavor == Flavor::kCockroach ? pool_client_message_c<Flavor::kCockroach>
                                                       : pool_client_message_c<Flavor::kPostgres>;
  f.pool_server_message = pool_server_message_c;
  f.pool_abandon = pool_abandon_c;
  f.pool_owed = pool_owed_c;
  f.pool_statements = pool_statements_c;
  f.pool_answer_alone = pool_answer_alone_c;
}

}  // namespace lms::pgwire
