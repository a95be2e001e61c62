// MySQL's binary protocol (prepared statements) against the neutral model's text values: a
// COM_STMT_EXECUTE's parameters become text, and a row's text values become a binary result row.
// Also the column definitions a result set's neutral fields become.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire.h"

namespace lms::mysql {

// Column types (the protocol's MYSQL_TYPE_* numbers).
enum ColumnType : uint8_t {
  kTypeDecimal = 0x00,
  kTypeTiny = 0x01,
  kTypeShort = 0x02,
  kTypeLong = 0x03,
  kTypeFloat = 0x04,
  kTypeDouble = 0x05,
  kTypeNull = 0x06,
  kTypeTimestamp = 0x07,
  kTypeLongLong = 0x08,
  kTypeInt24 = 0x09,
  kTypeDate = 0x0a,
  kTypeTime = 0x0b,
  kTypeDateTime = 0x0c,
  kTypeYear = 0x0d,
  kTypeVarchar = 0x0f,
  kTypeBit = 0x10,
  kTypeJson = 0xf5,
  kTypeNewDecimal = 0xf6,
  kTypeEnum = 0xf7,
  kTypeSet = 0xf8,
  kTypeTinyBlob = 0xf9,
  kTypeMediumBlob = 0xfa,
  kTypeLongBlob = 0xfb,
  kTypeBlob = 0xfc,
  kTypeVarString = 0xfd,
  kTypeString = 0xfe,
  kTypeGeometry = 0xff,
};

// A parameter's type as a COM_STMT_EXECUTE binds it: the type byte and the unsigned flag.
struct ParamType {
  uint8_t type = kTypeVarString;
  bool is_unsigned = false;
};

// Reads one parameter value of `type` into its neutral text form and type. False when the
// payload ends before it or the type is unknown.
bool read_param(Reader& r, ParamType type, std::string* text, uint32_t* neutral);

// A neutral value's text as the text protocol shows it (a timestamp with time zone loses its
// offset: MySQL's DATETIME has none).
std::string_view text_value(const lms_value& value);

// Appends one binary result row for `values`, typed per the result set's columns.
void append_binary_row(std::string& payload, const std::vector<uint8_t>& column_types,
                       const lms_value* values, size_t count);

// One column definition (Protocol::ColumnDefinition41) for a neutral field; `charset` is the
// client's for text columns. Sets *column_type to the MySQL type it declares.
std::string column_definition(const lms_field& field, uint16_t charset, uint8_t* column_type);

// A prepared statement's parameter definition, as MariaDB sends it: "?", of type NULL.
std::string parameter_definition();

}  // namespace lms::mysql
