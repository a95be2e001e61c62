// The unnamed statement kept prepared under a name (pool-cache-unnamed; LMS_POOL_CACHE_UNNAMED).
//
// Most drivers' extended queries (libpq's PQexecParams, node-postgres, pgbench -M extended) parse
// the unnamed statement afresh for every run, and the database parses, analyzes and plans it each
// time. With the option, a connection makes each such statement once, under a name lms derives
// from the Parse's digest, and the client's Binds and Describes of its unnamed statement are
// pointed at that name. The client's Parse of a statement already there still needs its
// ParseComplete, in order with the other answers: it becomes a Parse of the empty query, which the
// database answers at a fraction of the cost. The named statements live as any other on the
// connection: least recently used closed first, counted in its statements.
#include <cstring>

#include "pool_sql.h"
#include "pooling.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

// "lms_" and 11 hex digits of the digest: within std::string's inline capacity, so a name costs no
// allocation. Two statements whose digests share those digits take turns under the name (each
// made again over the other, the full digests telling them apart), as two clients' statements of
// one name do.
constexpr size_t kNameLength = 15;
using NameBuffer = char[kNameLength];

std::string_view name_for(uint64_t digest, NameBuffer& buffer) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::memcpy(buffer, "lms_", 4);
  for (size_t i = 4; i < kNameLength; ++i, digest >>= 4) buffer[i] = kHex[digest & 0xf];
  return {buffer, kNameLength};
}

// Parse of the empty query into the unnamed statement: answered by ParseComplete alone.
constexpr uint8_t kEmptyParse[] = {'P', 0, 0, 0, 8, 0, 0, 0, 0};

// `message` (type, length, body) with the empty statement name at `name_at` replaced by `name`.
void append_named(std::vector<uint8_t>& out, const uint8_t* message, size_t len, size_t name_at,
                  std::string_view name) {
  uint8_t head[5];
  head[0] = message[0];
  write_u32(head + 1, static_cast<uint32_t>(len - 1 + name.size()));
  out.insert(out.end(), head, head + 5);
  out.insert(out.end(), message + 5, message + name_at);
  out.insert(out.end(), name.begin(), name.end());
  out.insert(out.end(), message + name_at, message + len);
}

}  // namespace

void PoolServer::make_named(const PooledStatement& statement, std::string_view name, bool for_client,
                            std::vector<uint8_t>& out) {
  const std::string key(name);
  remember(key, statement.digest, false, out);
  // The client's own Parse (its name the first field), under lms's name.
  append_named(out, reinterpret_cast<const uint8_t*>(statement.create.data()), statement.create.size(), 5,
               key);
  if (!for_client) ++work_.made;
  owe('P', !for_client, false, key);  // for the client: its answer (or its error) is the client's
}

uint32_t PoolServer::parse_cached(const PooledStatement& statement, std::vector<uint8_t>& out) {
  NameBuffer buffer;
  const std::string_view name = name_for(statement.digest, buffer);
  extended_open_ = true;
  if (!kept_here(name, statement.digest)) {
    make_named(statement, name, true, out);
    return LMS_POOL_REPLACED;
  }
  out.insert(out.end(), std::begin(kEmptyParse), std::end(kEmptyParse));
  owe('P', false);
  unnamed_owner_ = 0;  // the database's unnamed statement is the empty one now
  return LMS_POOL_REPLACED;
}

uint32_t PoolServer::run_cached(const PooledStatement& statement, const uint8_t* message, size_t len,
                                size_t name_at, std::vector<uint8_t>& out) {
  NameBuffer buffer;
  const std::string_view name = name_for(statement.digest, buffer);
  if (!kept_here(name, statement.digest)) make_named(statement, name, false, out);  // parsed elsewhere
  append_named(out, message, len, name_at, name);
  // Failing, the statement is closed and made again at its next use: it may be the statement
  // itself that no longer serves (a table's columns changed under a prepared statement that
  // reads them fail it at every run with "cached plan must not change result type").
  owe(static_cast<char>(message[0]), false, false, std::string(name));
  extended_open_ = true;
  return LMS_POOL_REPLACED;
}

}  // namespace lms::pgwire
