// Summarizes a MySQL server's answer to one command as it streams by, in the SDK's neutral form:
// the column definitions of each result set (name and MySQL type), the rows counted and hashed (a
// row is hashed as it arrives, never held whole), a tag per statement ("OK 3", "ROWS 10"), and the
// first ERR's SQLSTATE and message. Text and binary rows alike; the terminal OK, EOF or ERR is
// fed with the rest (the core feeds the message that ends the answer too).
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lms::mysql {

class ResultSummarizer {
 public:
  ResultSummarizer(const lms_str* ignored_columns, size_t ignored_count);

  void feed(const uint8_t* data, size_t len);
  void get(lms_result_summary* out);
  void reset();

 private:
  enum class Stage { kFirst, kColumns, kRows };
  struct Column {
    std::string name;
    std::string type;
  };

  void on_packet_start();
  void on_small_packet(const std::string& payload);

  std::vector<std::string> ignored_;  // lower case; their columns' values still count, by position

  Stage stage_ = Stage::kFirst;
  uint8_t header_[4] = {};
  size_t header_len_ = 0;
  uint64_t left_ = 0;       // payload bytes of the packet still to come
  bool buffering_ = false;  // the packet is small and kept whole; else a row hashed as it streams
  bool continues_ = false;  // a payload of 16 MB - 1: the next packet continues it
  std::string buffer_;
  uint64_t columns_left_ = 0;
  bool after_definitions_ = false;  // nothing of the result set's rows has come yet
  uint64_t row_hash_ = 0;

  std::vector<Column> columns_;
  std::vector<lms_column> views_;
  uint32_t result_sets_ = 0;
  uint64_t rows_ = 0;
  uint64_t set_rows_ = 0;
  uint64_t checksum_ = 0;
  std::string tags_;
  std::string error_code_;
  std::string error_message_;
  bool complete_ = true;
};

// A column type's name (MySQL's MYSQL_TYPE_* without the prefix).
std::string column_type_name(uint8_t type);

}  // namespace lms::mysql
