// A database connection as it really is (pooling.h): what exists there, whose settings it carries,
// the answers it owes and which of them the client gets.
#include "inspect.h"
#include "pool_sql.h"
#include "pooling.h"
#include "wire.h"

namespace lms::pgwire {

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

void PoolServer::lend(PoolClient& client, std::vector<uint8_t>& out) {
  tentative_client_ = nullptr;
  if (settings_unknown_ || settings_sql_ != client.settings_sql()) {
    std::string sql = "RESET ALL";
    if (!client.settings_sql().empty()) sql += "; " + client.settings_sql();
    append(out, query_message(sql));
    owe('Q', true, true);
    settings_sql_ = client.settings_sql();
    settings_unknown_ = false;
    unnamed_owner_ = 0;  // a simple query drops the unnamed statement
  }
  if (!client.deferred_begin().empty()) {
    // Its answer was the client's already; an error (none is expected of a BEGIN of standard
    // modes on a connection between transactions) still reaches it.
    append(out, query_message(client.take_deferred_begin()));
    owe('Q', true, false);
    unnamed_owner_ = 0;
    txn_ = 'T';  // what follows in this write runs inside it
  }
}

bool PoolServer::kept_here(std::string_view name, uint64_t digest) {
  const auto it = statements_.find(name);
  if (it == statements_.end() || it->second.digest != digest) return false;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return true;
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
  while (statements_.size() >= max_statements_ && !lru_.empty()) {
    close_statement(lru_.back(), top, out);
    ++work_.evicted;
  }
  lru_.push_front(name);
  statements_[name] = Prepared{digest, lru_.begin()};
}

void PoolServer::make(const std::string& name, const PooledStatement& statement, bool top,
                      std::vector<uint8_t>& out) {
  remember(name, statement.digest, top, out);
  out.insert(out.end(), statement.create.begin(), statement.create.end());
  ++work_.made;
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
  if (!kept_here(name, statement->digest)) make(std::string(name), *statement, top, out);
}

void PoolServer::ensure_unnamed(const PoolClient& client, std::vector<uint8_t>& out) {
  const PooledStatement* statement = client.unnamed();
  if (statement == nullptr) return;
  if (unnamed_owner_ == client.serial() && unnamed_digest_ == statement->digest) return;
  out.insert(out.end(), statement->create.begin(), statement->create.end());
  ++work_.made;
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
    // In 64 bits: a length field of 2^32-1 (in a client's message kept as it came) must not wrap
    // the step to 0.
    for (size_t at = before; at + 5 <= out.size(); at += 1 + uint64_t{read_u32(out.data() + at + 1)}) {
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
        } else if (const PoolClient::JudgedParse* seen = client.judged(message, len)) {
          digest = seen->digest;
          client.prepared_unnamed(message, len, digest, seen->session_effect);
        } else {
          if (refused_parse(flavor, sql, out)) return LMS_POOL_REPLACED;
          digest = digest_of(message, len);
          const bool session_effect = changes_session(classify_effect(sql));
          client.prepared_unnamed(message, len, digest, session_effect);
          client.judged_now(message, len, digest, session_effect);
        }
        if (whole && caches(client.unnamed())) return parse_cached(*client.unnamed(), out);
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
        if (name.empty() && whole && caches(client.unnamed())) {
          if (!effect_portals_.empty()) effect_portals_.erase(std::string(portal));
          return run_cached(*client.unnamed(), message, len, 5 + portal.size() + 1, out);
        }
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
        if (name.empty() && whole && caches(client.unnamed()))
          return run_cached(*client.unnamed(), message, len, 6, out);
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
    if (!front.prepares.empty()) {
      forget(front.prepares);
      // A Bind or Describe of a statement lms named (pool_unnamed_cache.cc): still there, closed
      // before it is made again.
      if (front.kind == 'B' || front.kind == 'D') stale_.insert(front.prepares);
    }
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

}  // namespace lms::pgwire
