#include "errors.h"

#include "wire.h"

namespace lms::mysql {

std::string native_error_code(uint16_t code, std::string_view sqlstate) {
  return "MY" + std::to_string(code) + ":" + std::string(sqlstate.substr(0, 5));
}

MysqlError map_error(std::string_view sqlstate) {
  if (sqlstate.rfind("MY", 0) == 0) {
    const size_t colon = sqlstate.find(':');
    const std::string number(sqlstate.substr(2, colon == std::string_view::npos ? 0 : colon - 2));
    if (!number.empty() && number.size() <= 5 &&
        number.find_first_not_of("0123456789") == std::string::npos) {
      return {static_cast<uint16_t>(std::stoul(number)), std::string(sqlstate.substr(colon + 1))};
    }
  }
  struct Row {
    std::string_view state;
    uint16_t code;
    const char* mysql_state;
  };
  static constexpr Row kRows[] = {
      {"53300", 1040, "08004"},  // ER_CON_COUNT_ERROR: too many connections
      {"28000", 1045, "28000"},  // ER_ACCESS_DENIED_ERROR
      {"28P01", 1045, "28000"},
      {"57P01", 1053, "08S01"},  // ER_SERVER_SHUTDOWN
      {"57014", 1317, "70100"},  // ER_QUERY_INTERRUPTED
      {"08006", 1158, "08S01"},  // ER_NET_READ_ERROR: the database connection broke
      {"08001", 2003, "HY000"},  // cannot connect to the database
      {"08P01", 1047, "08S01"},  // ER_UNKNOWN_COM_ERROR: a protocol violation
      {"0A000", 1235, "42000"},  // ER_NOT_SUPPORTED_YET
      // A translated database's own errors (a CockroachDB target serving MySQL clients).
      {"23505", 1062, "23000"},  // ER_DUP_ENTRY
      {"23502", 1048, "23000"},  // ER_BAD_NULL_ERROR
      {"23503", 1452, "23000"},  // ER_NO_REFERENCED_ROW_2
      {"42P01", 1146, "42S02"},  // ER_NO_SUCH_TABLE
      {"42703", 1054, "42S22"},  // ER_BAD_FIELD_ERROR
      {"42601", 1064, "42000"},  // ER_PARSE_ERROR
      {"42P07", 1050, "42S01"},  // ER_TABLE_EXISTS_ERROR
      {"3D000", 1049, "42000"},  // ER_BAD_DB_ERROR
      {"3F000", 1049, "42000"},  // an unknown schema, PostgreSQL's database of MySQL's kind
      {"22012", 1365, "22012"},  // ER_DIVISION_BY_ZERO
      {"22001", 1406, "22001"},  // ER_DATA_TOO_LONG
      {"22003", 1264, "22003"},  // ER_WARN_DATA_OUT_OF_RANGE
      {"40001", 1213, "40001"},  // ER_LOCK_DEADLOCK: CockroachDB's "retry the transaction"
      {"40P01", 1213, "40001"},
      {"55P03", 1205, "HY000"},  // ER_LOCK_WAIT_TIMEOUT
  };
  for (const Row& row : kRows) {
    if (row.state == sqlstate) return {row.code, row.mysql_state};
  }
  // ER_UNKNOWN_ERROR; a well-formed SQLSTATE from a database is kept, it says more than HY000.
  const bool sqlstate_shaped =
      sqlstate.size() == 5 &&
      sqlstate.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string_view::npos;
  return {1105, sqlstate_shaped ? std::string(sqlstate) : "HY000"};
}

std::string err_packet(uint16_t code, std::string_view sqlstate, std::string_view message, uint8_t sequence) {
  Writer w;
  w.u8(0xFF);
  w.u16(code);
  w.u8('#');
  std::string state(sqlstate.substr(0, 5));
  state.resize(5, '0');
  w.bytes(state);
  w.bytes(message);
  std::string out;
  append_packets(out, w.str(), sequence);
  return out;
}

}  // namespace lms::mysql
