#include "binary_protocol.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lms::mysql {
namespace {

// Column definition flags.
constexpr uint16_t kBlobFlag = 16;
constexpr uint16_t kBinaryFlag = 128;
constexpr uint16_t kNumFlag = 32768;
constexpr uint16_t kBinaryCharset = 63;
// Decimals of a column whose values carry their own precision (floats, decimals).
constexpr uint8_t kNotFixedDecimals = 0x1f;

template <typename Int>
Int read_le(const uint8_t* p) {
  Int v = 0;
  std::memcpy(&v, p, sizeof v);  // the protocol and this machine are both little-endian
  return v;
}

template <typename Int>
void write_le(std::string& out, Int v) {
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);
  out.append(bytes, sizeof v);
}

// The text of a binary DATE/DATETIME/TIMESTAMP (n: 0, 4, 7 or 11 bytes at p) as MySQL prints it.
// Formatted into one buffer: chained std::string concatenation here made GCC 12 at -O3 report a
// false -Wrestrict overlap, and one snprintf is cheaper anyway.
std::string format_date(const uint8_t* p, uint8_t n, bool with_time) {
  const unsigned year = n ? read_u16(p) : 0;
  char b[48];
  int len = std::snprintf(b, sizeof b, "%04u-%02u-%02u", year, (n ? p[2] : 0) % 100u, (n ? p[3] : 0) % 100u);
  if (with_time) {
    len += std::snprintf(b + len, sizeof b - static_cast<size_t>(len), " %02u:%02u:%02u",
                         (n >= 7 ? p[4] : 0) % 100u, (n >= 7 ? p[5] : 0) % 100u, (n >= 7 ? p[6] : 0) % 100u);
    const uint32_t micros = n == 11 ? read_u32(p + 7) : 0;
    if (micros != 0)
      len += std::snprintf(b + len, sizeof b - static_cast<size_t>(len), ".%06u", micros % 1000000u);
  }
  return std::string(b, static_cast<size_t>(len));
}

// The text of a binary TIME (n: 0, 8 or 12 bytes at p): sign, hours (days folded in), minutes,
// seconds and microseconds when present.
std::string format_time(const uint8_t* p, uint8_t n) {
  const unsigned long long hours = n ? uint64_t{read_u32(p + 1)} * 24 + p[5] : 0;
  char b[48];
  int len = std::snprintf(b, sizeof b, "%s%02llu:%02u:%02u", n && p[0] ? "-" : "", hours,
                          (n ? p[6] : 0) % 100u, (n ? p[7] : 0) % 100u);
  const uint32_t micros = n == 12 ? read_u32(p + 8) : 0;
  if (micros != 0)
    len += std::snprintf(b + len, sizeof b - static_cast<size_t>(len), ".%06u", micros % 1000000u);
  return std::string(b, static_cast<size_t>(len));
}

// Digits from text[at], up to `max` of them; false when there are none.
bool digits(std::string_view text, size_t& at, unsigned max, uint32_t* out) {
  uint32_t v = 0;
  unsigned n = 0;
  while (at < text.size() && n < max && text[at] >= '0' && text[at] <= '9') {
    v = v * 10 + static_cast<uint32_t>(text[at++] - '0');
    ++n;
  }
  *out = v;
  return n > 0;
}

bool expect(std::string_view text, size_t& at, char c) {
  if (at >= text.size() || text[at] != c) return false;
  ++at;
  return true;
}

struct DateTime {
  uint32_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
};

// "YYYY-MM-DD" from text[at].
bool parse_date(std::string_view text, size_t& at, DateTime* t) {
  return digits(text, at, 6, &t->year) && expect(text, at, '-') && digits(text, at, 2, &t->month) &&
         expect(text, at, '-') && digits(text, at, 2, &t->day);
}

// "HH:MM:SS[.ffffff]" from text[at] (hours may run past 24 in a MySQL TIME).
bool parse_time(std::string_view text, size_t& at, DateTime* t) {
  if (!digits(text, at, 9, &t->hour) || !expect(text, at, ':') || !digits(text, at, 2, &t->minute) ||
      !expect(text, at, ':') || !digits(text, at, 2, &t->second)) {
    return false;
  }
  if (at < text.size() && text[at] == '.') {
    ++at;
    const size_t from = at;
    uint32_t fraction = 0;
    if (!digits(text, at, 6, &fraction)) return false;
    for (size_t n = at - from; n < 6; ++n) fraction *= 10;
    t->micros = fraction;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;  // beyond microseconds
  }
  return true;
}

void append_date(std::string& out, std::string_view text) {
  DateTime t;
  size_t at = 0;
  if (!parse_date(text, at, &t)) {
    out.push_back(0);  // a value MySQL cannot hold (infinity, BC): the zero date
    return;
  }
  out.push_back(4);
  write_le<uint16_t>(out, static_cast<uint16_t>(t.year));
  out.push_back(static_cast<char>(t.month));
  out.push_back(static_cast<char>(t.day));
}

void append_datetime(std::string& out, std::string_view text) {
  DateTime t;
  size_t at = 0;
  if (!parse_date(text, at, &t) || !expect(text, at, ' ') || !parse_time(text, at, &t)) {
    out.push_back(0);
    return;
  }
  out.push_back(t.micros ? 11 : 7);
  write_le<uint16_t>(out, static_cast<uint16_t>(t.year));
  for (uint32_t part : {t.month, t.day, t.hour, t.minute, t.second}) out.push_back(static_cast<char>(part));
  if (t.micros) write_le<uint32_t>(out, t.micros);
}

void append_time(std::string& out, std::string_view text) {
  DateTime t;
  size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++at;
  if (!parse_time(text, at, &t)) {
    out.push_back(0);
    return;
  }
  out.push_back(t.micros ? 12 : 8);
  out.push_back(negative ? 1 : 0);
  write_le<uint32_t>(out, t.hour / 24);
  for (uint32_t part : {t.hour % 24, t.minute, t.second}) out.push_back(static_cast<char>(part));
  if (t.micros) write_le<uint32_t>(out, t.micros);
}

std::string format_double(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

}  // namespace

bool read_param(Reader& r, ParamType type, std::string* text, uint32_t* neutral) {
  auto integer = [&](size_t size) {
    std::string_view raw;
    if (!r.bytes(size, raw)) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
    uint64_t u = 0;
    for (size_t i = 0; i < size; ++i) u |= uint64_t{p[i]} << (8 * i);
    if (type.is_unsigned) {
      *text = std::to_string(u);
    } else {
      const unsigned shift = static_cast<unsigned>(64 - 8 * size);
      *text = std::to_string(static_cast<int64_t>(u << shift) >> shift);  // sign-extended
    }
    *neutral = size == 8 ? LMS_TYPE_INT64 : size == 4 ? LMS_TYPE_INT32 : LMS_TYPE_INT16;
    return true;
  };
  switch (type.type) {
    case kTypeTiny:
      return integer(1);
    case kTypeShort:
    case kTypeYear:
      return integer(2);
    case kTypeLong:
    case kTypeInt24:
      return integer(4);
    case kTypeLongLong:
      return integer(8);
    case kTypeFloat: {
      std::string_view raw;
      if (!r.bytes(4, raw)) return false;
      *text = format_double(read_le<float>(reinterpret_cast<const uint8_t*>(raw.data())), 9);
      *neutral = LMS_TYPE_FLOAT32;
      return true;
    }
    case kTypeDouble: {
      std::string_view raw;
      if (!r.bytes(8, raw)) return false;
      *text = format_double(read_le<double>(reinterpret_cast<const uint8_t*>(raw.data())), 17);
      *neutral = LMS_TYPE_FLOAT64;
      return true;
    }
    case kTypeDate:
    case kTypeDateTime:
    case kTypeTimestamp: {
      uint8_t n = 0;
      std::string_view raw;
      if (!r.u8(n) || (n != 0 && n != 4 && n != 7 && n != 11) || !r.bytes(n, raw)) return false;
      const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
      const bool with_time = type.type != kTypeDate;
      *text = format_date(p, n, with_time);
      *neutral = with_time ? LMS_TYPE_TIMESTAMP : LMS_TYPE_DATE;
      return true;
    }
    case kTypeTime: {
      uint8_t n = 0;
      std::string_view raw;
      if (!r.u8(n) || (n != 0 && n != 8 && n != 12) || !r.bytes(n, raw)) return false;
      const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
      *text = format_time(p, n);
      *neutral = LMS_TYPE_TIME;
      return true;
    }
    case kTypeTinyBlob:
    case kTypeMediumBlob:
    case kTypeLongBlob:
    case kTypeBlob:
    case kTypeGeometry:
    case kTypeBit: {
      std::string_view raw;
      if (!r.lenenc_string(raw)) return false;
      *text = std::string(raw);
      *neutral = LMS_TYPE_BYTES;
      return true;
    }
    case kTypeDecimal:
    case kTypeNewDecimal:
    case kTypeVarchar:
    case kTypeJson:
    case kTypeEnum:
    case kTypeSet:
    case kTypeVarString:
    case kTypeString: {
      std::string_view raw;
      if (!r.lenenc_string(raw)) return false;
      *text = std::string(raw);
      *neutral = type.type == kTypeDecimal || type.type == kTypeNewDecimal ? LMS_TYPE_DECIMAL : LMS_TYPE_TEXT;
      return true;
    }
    default:
      return false;
  }
}

std::string_view text_value(const lms_value& value) {
  std::string_view text(value.text.data, value.text.len);
  if (value.type == LMS_TYPE_TIMESTAMPTZ) {
    // "2024-01-02 03:04:05.5+05:30": the offset follows the time part.
    const size_t sign = text.find_last_of("+-");
    if (sign != std::string_view::npos && sign > 10) text = text.substr(0, sign);
  }
  return text;
}

void append_binary_row(std::string& payload, const std::vector<uint8_t>& column_types,
                       const lms_value* values, size_t count) {
  payload.push_back(0x00);
  const size_t bitmap_at = payload.size();
  payload.append((count + 7 + 2) / 8, '\0');
  for (size_t i = 0; i < count; ++i) {
    const lms_value& v = values[i];
    if (v.is_null) {
      payload[bitmap_at + (i + 2) / 8] =
          static_cast<char>(payload[bitmap_at + (i + 2) / 8] | (1 << ((i + 2) % 8)));
      continue;
    }
    const std::string text(text_value(v));
    const uint8_t type = i < column_types.size() ? column_types[i] : uint8_t{kTypeVarString};
    switch (type) {
      case kTypeTiny:
        payload.push_back(static_cast<char>(std::strtoll(text.c_str(), nullptr, 10)));
        break;
      case kTypeShort:
        write_le<int16_t>(payload, static_cast<int16_t>(std::strtoll(text.c_str(), nullptr, 10)));
        break;
      case kTypeLong:
        write_le<int32_t>(payload, static_cast<int32_t>(std::strtoll(text.c_str(), nullptr, 10)));
        break;
      case kTypeLongLong:
        write_le<int64_t>(payload, std::strtoll(text.c_str(), nullptr, 10));
        break;
      case kTypeFloat:
        write_le<float>(payload, std::strtof(text.c_str(), nullptr));
        break;
      case kTypeDouble:
        write_le<double>(payload, std::strtod(text.c_str(), nullptr));
        break;
      case kTypeDate:
        append_date(payload, text);
        break;
      case kTypeDateTime:
        append_datetime(payload, text);
        break;
      case kTypeTime:
        append_time(payload, text);
        break;
      default: {
        Writer w;
        w.lenenc_string(text);
        payload += w.str();
      }
    }
  }
}

std::string column_definition(const lms_field& field, uint16_t charset, uint8_t* column_type) {
  struct Shape {
    uint8_t type;
    bool text;  // in the client's character set
    uint32_t length;
    uint16_t flags;
    uint8_t decimals;
  };
  Shape s{kTypeVarString, true, 262140, 0, 0};
  switch (field.type) {
    case LMS_TYPE_BOOL:
      s = {kTypeTiny, false, 1, kNumFlag, 0};
      break;  // tinyint(1), MySQL's boolean
    case LMS_TYPE_INT16:
      s = {kTypeShort, false, 6, kNumFlag, 0};
      break;
    case LMS_TYPE_INT32:
      s = {kTypeLong, false, 11, kNumFlag, 0};
      break;
    case LMS_TYPE_INT64:
      s = {kTypeLongLong, false, 20, kNumFlag, 0};
      break;
    case LMS_TYPE_FLOAT32:
      s = {kTypeFloat, false, 12, kNumFlag, kNotFixedDecimals};
      break;
    case LMS_TYPE_FLOAT64:
      s = {kTypeDouble, false, 22, kNumFlag, kNotFixedDecimals};
      break;
    case LMS_TYPE_DECIMAL:
      s = {kTypeNewDecimal, false, 66, kNumFlag, kNotFixedDecimals};
      break;
    case LMS_TYPE_BYTES:  // varbinary: how MariaDB reports a binary string
      s = {kTypeVarString, false, 65535, kBinaryFlag, 0};
      break;
    case LMS_TYPE_JSON:
      s = {kTypeBlob, true, 0xFFFFFFFFu, kBlobFlag, 0};
      break;  // as MariaDB: longtext
    case LMS_TYPE_DATE:
      s = {kTypeDate, false, 10, kBinaryFlag, 0};
      break;
    case LMS_TYPE_TIME:
      s = {kTypeTime, false, 17, kBinaryFlag, 6};
      break;
    case LMS_TYPE_TIMESTAMP:
    case LMS_TYPE_TIMESTAMPTZ:
      s = {kTypeDateTime, false, 26, kBinaryFlag, 6};
      break;
    default:
      break;
  }
  *column_type = s.type;
  const std::string_view name(field.name.data, field.name.len);
  Writer w;
  w.lenenc_string("def");
  w.lenenc_string("");  // schema
  w.lenenc_string("");  // table
  w.lenenc_string("");  // original table
  w.lenenc_string(name);
  w.lenenc_string(name);
  w.lenenc(0x0c);
  w.u16(s.text ? charset : kBinaryCharset);
  w.u32(s.length);
  w.u8(s.type);
  w.u16(s.flags);
  w.u8(s.decimals);
  w.u16(0);
  return w.str();
}

std::string parameter_definition() {
  Writer w;
  w.lenenc_string("def");
  w.lenenc_string("");
  w.lenenc_string("");
  w.lenenc_string("");
  w.lenenc_string("?");
  w.lenenc_string("");
  w.lenenc(0x0c);
  w.u16(kBinaryCharset);
  w.u32(0);
  w.u8(kTypeNull);
  w.u16(kBinaryFlag);
  w.u8(0);
  w.u16(0);
  return w.str();
}

}  // namespace lms::mysql
