// The SQL and message helpers transaction pooling shares between the client's side
// (pool_client.cc) and the connection's (pool_server.cc): names as the server folds them, the
// statements lms sends of its own, and what a statement does to a session.
#pragma once

#include <lms/plugin.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lms::pgwire {

std::string lowercase(std::string_view s);
bool same_name(std::string_view a, std::string_view b);
// What tells two copies of a statement's message apart.
uint64_t digest_of(const uint8_t* data, size_t len);
std::string quote_literal(std::string_view v);
std::string quote_identifier(std::string_view v);

void append(std::vector<uint8_t>& out, const std::vector<uint8_t>& message);
std::vector<uint8_t> query_message(std::string_view sql);
std::vector<uint8_t> close_message(std::string_view statement);
std::vector<uint8_t> sync_message();

// The first word of `sql` and the one after it (EXECUTE name), skipping blanks and comments the
// simplest way: a statement that starts with a comment is looked at no further.
std::pair<std::string_view, std::string_view> first_two_words(std::string_view sql);
// An unquoted name is folded to lower case by the server; a quoted one was returned as written.
std::string statement_name(std::string_view sql_word);
lms_state_effect classify_effect(std::string_view sql);
// Statements whose running changes what a client's session holds (see PoolServer::session_effect).
bool changes_session(lms_state_effect effect);
// A temporary table dropped when its transaction commits holds nothing past it.
bool ends_with_transaction(std::string_view sql);
// `options` as libpq sends it: "-c name=value" or "--name=value", separated by blanks.
void settings_from_options(std::string_view options, std::vector<std::pair<std::string, std::string>>& out);

// What a statement does to a transaction, for the BEGIN lms answers itself (pool_deferred_begin.cc).
enum class TransactionEdge { kNone, kBegin, kCommit, kRollback };
// `sql` as one statement that only begins a transaction (PostgreSQL: with standard modes alone:
// isolation level, READ ONLY or WRITE, [NOT] DEFERRABLE; CockroachDB: plain BEGIN), or only
// commits or rolls one back; `tag` gets the command tag the database answers it with.
TransactionEdge transaction_edge(std::string_view sql, bool cockroach, std::string_view* tag);

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

}  // namespace lms::pgwire
