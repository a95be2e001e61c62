// For unit tests of the core over the PostgreSQL dialect's real framing: protocol messages as
// byte strings, and the dialect's function table without loading its plugin.
#pragma once

#include <cstdint>
#include <string>

#include "dialect.h"

namespace lms::core::pgtest {

// A protocol message: type, big-endian length (itself included), body.
inline std::string pg_message(char type, const std::string& body) {
  const uint32_t len = static_cast<uint32_t>(body.size() + 4);
  std::string out(1, type);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((len >> shift) & 0xFF);
  return out + body;
}

inline const lms_dialect_functions& postgres() {
  static const lms_dialect_functions f = pgwire::make_dialect_functions(5432, pgwire::Flavor::kPostgres);
  return f;
}

}  // namespace lms::core::pgtest
