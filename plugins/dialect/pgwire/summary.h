// Summarizes a PostgreSQL server's answer to one request as it streams by, in the SDK's neutral
// form: the columns of each RowDescription with their type names, the rows counted and hashed one
// value at a time (a DataRow is never held whole, whatever its size), the CommandComplete tags,
// and the first ErrorResponse's SQLSTATE and message. Only small messages (descriptions, tags,
// errors) are buffered, each up to a cap; past it the summary says it is incomplete.
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lms::pgwire {

class ResultSummarizer {
 public:
  // Values of columns with these names (compared case-insensitively) do not enter the checksum.
  ResultSummarizer(const lms_str* ignored_columns, size_t ignored_count);

  void feed(const uint8_t* data, size_t len);
  void get(lms_result_summary* out);
  void reset();

  // The name PostgreSQL gives a built-in type's OID; "oid N" for others.
  static std::string type_name(uint32_t oid);

 private:
  enum class Stage { kHeader, kBuffered, kRowColumnCount, kValueLength, kValue, kSkip };
  struct Column {
    std::string name;
    std::string type;
  };

  void begin_body();
  void end_message();
  void on_row_description(const std::string& body);
  void on_error(const std::string& body);
  bool ignored(const std::string& name) const;
  void mix(const uint8_t* data, size_t len);

  std::vector<std::string> ignored_;  // lower case

  // The message being read.
  Stage stage_ = Stage::kHeader;
  uint8_t header_[5] = {};
  size_t header_len_ = 0;
  char type_ = 0;
  uint64_t left_ = 0;    // body bytes of the message still to come
  std::string buffer_;   // a buffered message's body so far
  bool overflow_ = false;
  // A DataRow, value by value.
  uint8_t small_[4] = {};
  size_t small_len_ = 0;
  uint32_t values_left_ = 0;
  uint32_t value_index_ = 0;
  uint64_t value_left_ = 0;
  uint64_t row_hash_ = 0;

  // The summary so far.
  std::vector<Column> columns_;
  std::vector<bool> current_ignored_;  // per column of the current result set
  std::vector<lms_column> views_;
  uint32_t result_sets_ = 0;
  uint64_t rows_ = 0;
  uint64_t checksum_ = 0;
  std::string tags_;
  std::string error_code_;
  std::string error_message_;
  bool complete_ = true;
};

}  // namespace lms::pgwire
