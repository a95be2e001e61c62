// The BEGIN lms answers itself in pool-mode transaction. A client that begins a transaction while
// it holds no connection is told "BEGIN" at once, and the transaction begins on the connection its
// next request gets, sent just before that request (PoolServer::lend). The connection is then
// held one client round trip less per transaction (pgbench's write script: six of seven), and
// the database runs one statement less; a transaction that ends before it runs anything never
// takes a connection. Only a BEGIN that cannot fail is kept back: standard modes, nothing else
// in its request.
#include <utility>

#include "pool_sql.h"
#include "pooling.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

// Case-insensitive, allocating nothing: asked of every request a client sends between transactions.
bool same_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// The first word of `sql` names a statement that begins or ends a transaction.
bool starts_like_an_edge(std::string_view sql) {
  size_t at = 0;
  while (at < sql.size() && std::isspace(static_cast<unsigned char>(sql[at])) != 0) ++at;
  size_t end = at;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end])) != 0) ++end;
  const std::string_view word = sql.substr(at, end - at);
  for (const std::string_view edge : {"begin", "start", "commit", "end", "rollback", "abort"}) {
    if (same_word(word, edge)) return true;
  }
  return false;
}

// The words and commas of a statement made of nothing else (blanks between them, one semicolon
// at its end); false for anything else: a quote, a comment, a second statement.
bool plain_words(std::string_view sql, std::vector<std::string_view>& words) {
  size_t end = sql.size();
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (end > 0 && blank(sql[end - 1])) --end;
  if (end > 0 && sql[end - 1] == ';') --end;
  for (size_t at = 0; at < end;) {
    const char c = sql[at];
    if (blank(c)) {
      ++at;
    } else if (c == ',') {
      words.push_back(sql.substr(at, 1));
      ++at;
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      const size_t start = at;
      while (at < end && std::isalpha(static_cast<unsigned char>(sql[at])) != 0) ++at;
      words.push_back(sql.substr(start, at - start));
    } else {
      return false;
    }
  }
  return true;
}

// PostgreSQL's transaction modes, each once or more, commas between them or not (its grammar's
// transaction_mode_list), from words[at] to the end.
bool transaction_modes(const std::vector<std::string_view>& words, size_t at) {
  auto is = [&](size_t i, std::string_view word) { return i < words.size() && same_word(words[i], word); };
  bool first = true;
  while (at < words.size()) {
    if (!first && is(at, ",")) ++at;
    first = false;
    if (is(at, "isolation") && is(at + 1, "level")) {
      at += 2;
      if (is(at, "serializable")) {
        at += 1;
      } else if (is(at, "repeatable") && is(at + 1, "read")) {
        at += 2;
      } else if (is(at, "read") && (is(at + 1, "committed") || is(at + 1, "uncommitted"))) {
        at += 2;
      } else {
        return false;
      }
    } else if (is(at, "read") && (is(at + 1, "only") || is(at + 1, "write"))) {
      at += 2;
    } else if (is(at, "deferrable")) {
      at += 1;
    } else if (is(at, "not") && is(at + 1, "deferrable")) {
      at += 2;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

TransactionEdge transaction_edge(std::string_view sql, bool cockroach, std::string_view* tag) {
  if (!starts_like_an_edge(sql)) return TransactionEdge::kNone;
  std::vector<std::string_view> words;
  if (!plain_words(sql, words) || words.empty()) return TransactionEdge::kNone;
  auto is = [&](size_t i, std::string_view word) { return i < words.size() && same_word(words[i], word); };
  // BEGIN [WORK | TRANSACTION], COMMIT [...], ...: where the optional word ends.
  const size_t after = is(1, "work") || is(1, "transaction") ? 2 : 1;
  if (is(0, "begin")) {
    *tag = "BEGIN";
    if (cockroach) return words.size() == after ? TransactionEdge::kBegin : TransactionEdge::kNone;
    return transaction_modes(words, after) ? TransactionEdge::kBegin : TransactionEdge::kNone;
  }
  if (!cockroach && is(0, "start") && is(1, "transaction")) {
    *tag = "START TRANSACTION";
    return transaction_modes(words, 2) ? TransactionEdge::kBegin : TransactionEdge::kNone;
  }
  if (words.size() != after) return TransactionEdge::kNone;
  if (is(0, "commit") || (!cockroach && is(0, "end"))) {
    *tag = "COMMIT";
    return TransactionEdge::kCommit;
  }
  if (is(0, "rollback") || (!cockroach && is(0, "abort"))) {
    *tag = "ROLLBACK";
    return TransactionEdge::kRollback;
  }
  return TransactionEdge::kNone;
}

bool PoolClient::read_edge_request(const uint8_t* data, size_t len, EdgeRequest& request) const {
  // A Query alone; or [Parse] Bind [Describe portal] Execute Sync, of the unnamed portal, with no
  // parameters. Most requests are neither, which their first message tells.
  BodyReader bodies[5];
  size_t count = 0;
  char pattern[6] = {};
  for (size_t at = 0; at < len; ++count) {
    if (count == 5 || len - at < 5) return false;
    const uint32_t length = read_u32(data + at + 1);
    if (length < 4 || len - at - 1 < length) return false;
    bodies[count] = BodyReader(data + at + 5, length - 4);
    pattern[count] = static_cast<char>(data[at]);
    if (count == 0) {
      request.first = data;
      request.first_len = 1 + length;
    }
    at += 1 + length;
    if (count == 0 && pattern[0] != 'Q' && pattern[0] != 'P' && pattern[0] != 'B') return false;
  }
  const std::string_view shape(pattern, count);
  if (shape == "Q") {
    request.query = true;
    return bodies[0].cstr(request.sql) && starts_like_an_edge(request.sql);
  }
  if (shape != "PBDES" && shape != "PBES" && shape != "BDES" && shape != "BES") return false;
  request.described = shape.find('D') != std::string_view::npos;
  size_t i = 0;
  if (shape[0] == 'P') {
    request.parse = true;
    uint16_t types = 0;
    if (!bodies[0].cstr(request.parse_name) || !bodies[0].cstr(request.sql) ||
        !starts_like_an_edge(request.sql) || !bodies[0].u16(types) || types != 0) {
      return false;
    }
    ++i;
  }
  std::string_view portal;
  std::string_view statement;
  uint16_t formats = 0;
  uint16_t params = 0;
  std::string_view skipped;
  BodyReader& bind = bodies[i++];
  if (!bind.cstr(portal) || !portal.empty() || !bind.cstr(statement) || !bind.u16(formats) ||
      !bind.bytes(size_t{formats} * 2, skipped) || !bind.u16(params) || params != 0) {
    return false;
  }
  if (request.parse) {
    // Into a name the client already uses, the database refuses it.
    if (statement != request.parse_name || (!statement.empty() && this->statement(statement) != nullptr))
      return false;
  } else {
    const PooledStatement* made = this->statement(statement);
    if (made == nullptr || made->sql || made->create.size() < 5) return false;
    BodyReader parse(reinterpret_cast<const uint8_t*>(made->create.data()) + 5, made->create.size() - 5);
    std::string_view made_name;
    if (!parse.cstr(made_name) || !parse.cstr(request.sql)) return false;
  }
  if (request.described) {
    std::string_view what;
    std::string_view described;
    BodyReader& describe = bodies[i++];
    if (!describe.bytes(1, what) || what[0] != 'P' || !describe.cstr(described) || !described.empty())
      return false;
  }
  std::string_view executed;
  return bodies[i].cstr(executed) && executed.empty();
}

bool PoolClient::answer_transaction_edge(const uint8_t* data, size_t len, bool cockroach,
                                         std::vector<uint8_t>& out) {
  EdgeRequest request;
  if (!read_edge_request(data, len, request)) return false;
  std::string_view tag;
  const TransactionEdge edge = transaction_edge(request.sql, cockroach, &tag);
  const bool begins = edge == TransactionEdge::kBegin && deferred_begin_.empty();
  const bool ends =
      (edge == TransactionEdge::kCommit || edge == TransactionEdge::kRollback) && !deferred_begin_.empty();
  // Else the database's to answer: a BEGIN inside the transaction (it warns), a COMMIT outside one.
  if (!begins && !ends) return false;
  if (begins) {
    deferred_begin_.assign(request.sql);
  } else {
    deferred_begin_.clear();
  }
  MessageBuilder answer;
  if (!request.query) {
    if (request.parse) {
      answer.begin('1').end();
      const uint64_t digest = digest_of(request.first, request.first_len);
      if (request.parse_name.empty()) {
        prepared_unnamed(request.first, request.first_len, digest, false);
      } else {
        prepared(request.parse_name,
                 PooledStatement{std::string(reinterpret_cast<const char*>(request.first), request.first_len),
                                 false, digest});
      }
    }
    answer.begin('2').end();
    if (request.described) answer.begin('n').end();
  }
  answer.begin('C').cstr(tag).end();
  answer.begin('Z').u8(begins ? 'T' : 'I').end();
  append(out, answer.bytes());
  return true;
}

}  // namespace lms::pgwire
