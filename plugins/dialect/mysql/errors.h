// ERR packets. The core speaks of errors with PostgreSQL's SQLSTATEs (57P01 "shutting down",
// 53300 "too many connections", ...); a MySQL client expects MySQL's error numbers and states.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lms::mysql {

struct MysqlError {
  uint16_t code;
  const char* sqlstate;
};

// The MySQL error for a core SQLSTATE; a MySQL-style state ("#HY000" without '#') passes through
// with ER_UNKNOWN_ERROR (1105).
MysqlError map_error(std::string_view sqlstate);

// One ERR packet (Protocol 4.1 form) numbered `sequence`.
std::string err_packet(uint16_t code, std::string_view sqlstate, std::string_view message, uint8_t sequence);

}  // namespace lms::mysql
