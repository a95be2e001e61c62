// ERR packets. The core speaks of errors with PostgreSQL's SQLSTATEs (57P01 "shutting down",
// 53300 "too many connections", ...); a MySQL client expects MySQL's error numbers and states.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lms::mysql {

struct MysqlError {
  uint16_t code;
  std::string sqlstate;
};

// A MySQL server's own error number and state, carried through the core's SQLSTATE-shaped error
// code as "MY<number>:<state>" (the core passes a database's handshake error on as it got it).
std::string native_error_code(uint16_t code, std::string_view sqlstate);

// The MySQL error for a core SQLSTATE or a native_error_code; anything else is ER_UNKNOWN_ERROR
// (1105, HY000).
MysqlError map_error(std::string_view sqlstate);

// One ERR packet (Protocol 4.1 form) numbered `sequence`.
std::string err_packet(uint16_t code, std::string_view sqlstate, std::string_view message, uint8_t sequence);

}  // namespace lms::mysql
