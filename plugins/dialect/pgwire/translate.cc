#include "translate.h"

#include <cstring>

#include "errors.h"
#include "summary.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

// A server message longer than this is not translated: the connection is reported broken rather
// than buffering without bound. PostgreSQL's own limit for one value is 1 GB.
constexpr size_t kMaxTranslatedMessage = 256u << 20;

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void put_u16(MessageBuilder& m, uint16_t v) {
  m.u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v));
}

std::string_view view(lms_str s) { return {s.data, s.len}; }

lms_str str(std::string_view s) { return {s.data(), s.size()}; }

// An SQL identifier, quoted so that any name is taken literally.
std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void parse_message(MessageBuilder& m, const lms_request& r) {
  m.begin('P')
      .cstr(view(r.name))
      .cstr(numbered_placeholders(view(r.text), r.placeholders, r.placeholder_count));
  put_u16(m, 0);  // the server infers every parameter's type
  m.end();
}

void bind_message(MessageBuilder& m, const lms_request& r) {
  m.begin('B').cstr("").cstr(view(r.name));
  // Bytes go in binary form, which is the bytes themselves for bytea and text alike; every other
  // value in its text form, which the server parses as the parameter's inferred type.
  put_u16(m, static_cast<uint16_t>(r.param_count));
  for (size_t i = 0; i < r.param_count; ++i) put_u16(m, r.params[i].type == LMS_TYPE_BYTES ? 1 : 0);
  put_u16(m, static_cast<uint16_t>(r.param_count));
  for (size_t i = 0; i < r.param_count; ++i) {
    const lms_value& v = r.params[i];
    if (v.is_null) {
      m.u32(0xFFFFFFFFu);
    } else {
      m.u32(static_cast<uint32_t>(v.text.len)).raw(view(v.text));
    }
  }
  put_u16(m, 0);  // every result column in text form
  m.end();
}

void simple_query(MessageBuilder& m, std::string_view sql) { m.begin('Q').cstr(sql).end(); }

void sync(MessageBuilder& m) { m.begin('S').end(); }

// PostgreSQL's text form of a bytea (hex format, "\x0102...") as the bytes themselves.
bool decode_bytea(std::string_view text, std::string* out) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  out->reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]);
    const int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace

uint32_t neutral_type(uint32_t oid) {
  switch (oid) {
    case 16:
      return LMS_TYPE_BOOL;
    case 17:
      return LMS_TYPE_BYTES;
    case 21:
      return LMS_TYPE_INT16;
    case 23:
    case 26:
      return LMS_TYPE_INT32;
    case 20:
      return LMS_TYPE_INT64;
    case 700:
      return LMS_TYPE_FLOAT32;
    case 701:
      return LMS_TYPE_FLOAT64;
    case 1700:
      return LMS_TYPE_DECIMAL;
    case 18:
    case 19:
    case 25:
    case 1042:
    case 1043:
      return LMS_TYPE_TEXT;
    case 1082:
      return LMS_TYPE_DATE;
    case 1083:
      return LMS_TYPE_TIME;
    case 1114:
      return LMS_TYPE_TIMESTAMP;
    case 1184:
      return LMS_TYPE_TIMESTAMPTZ;
    case 114:
    case 3802:
      return LMS_TYPE_JSON;
    default:
      return LMS_TYPE_OTHER;
  }
}

std::string numbered_placeholders(std::string_view text, const size_t* offsets, size_t count) {
  std::string out;
  out.reserve(text.size() + count * 2);
  size_t from = 0;
  for (size_t i = 0; i < count; ++i) {
    if (offsets[i] < from || offsets[i] >= text.size()) break;  // not in order: leave the rest
    out.append(text.substr(from, offsets[i] - from));
    out += '$';
    out += std::to_string(i + 1);
    from = offsets[i] + 1;
  }
  out.append(text.substr(from));
  return out;
}

std::vector<uint8_t> encode_translated(const lms_request& r, UseDatabase use) {
  MessageBuilder m;
  switch (r.kind) {
    case LMS_REQ_QUERY:
      simple_query(m, view(r.text));
      break;
    case LMS_REQ_PREPARE:
      parse_message(m, r);
      m.begin('D').u8('S').cstr(view(r.name)).end();
      sync(m);
      break;
    case LMS_REQ_EXECUTE:
      if (!r.prepared) {
        // The statement may exist from an attempt that failed after its Parse: closing a missing
        // statement is no error, so this defines it afresh either way.
        m.begin('C').u8('S').cstr(view(r.name)).end();
        parse_message(m, r);
      }
      bind_message(m, r);
      m.begin('D').u8('P').cstr("").end();
      m.begin('E').cstr("").u32(0).end();
      sync(m);
      break;
    case LMS_REQ_CLOSE:
      m.begin('C').u8('S').cstr(view(r.name)).end();
      break;
    case LMS_REQ_PING:
      sync(m);
      break;
    case LMS_REQ_USE:
      simple_query(m, (use == UseDatabase::kSetDatabase ? "SET database = " : "SET search_path TO ") +
                          quote_identifier(view(r.text)));
      break;
    case LMS_REQ_RESET:
      simple_query(m, "DISCARD ALL");
      break;
    case LMS_REQ_QUIT:
      m.begin('X').end();
      break;
    default:
      break;
  }
  return m.take();
}

void AnswerDecoder::feed(const uint8_t* data, size_t len) { in_.append(data, len); }

uint32_t AnswerDecoder::next(lms_answer* out) {
  if (broken_ != nullptr) {
    out->message = str(broken_);
    return LMS_FRAME_INVALID;
  }
  while (in_.unread().size() >= 5) {
    const std::string_view unread = in_.unread();
    const auto* p = reinterpret_cast<const uint8_t*>(unread.data());
    const uint32_t length = read_u32(p + 1);
    if (length < 4 || length > kMaxTranslatedMessage) {
      broken_ = length < 4 ? "the database sent a message with an invalid length"
                           : "the database sent a message too large to translate";
      out->message = str(broken_);
      return LMS_FRAME_INVALID;
    }
    if (unread.size() < size_t{length} + 1) return LMS_FRAME_NEED_MORE;
    in_.consume(size_t{length} + 1);
    if (decode(static_cast<char>(p[0]), p + 5, length - 4, out)) return LMS_FRAME_COMPLETE;
    if (broken_ != nullptr) {
      out->message = str(broken_);
      return LMS_FRAME_INVALID;
    }
  }
  return LMS_FRAME_NEED_MORE;
}

bool AnswerDecoder::decode(char type, const uint8_t* body, size_t len, lms_answer* out) {
  const uint32_t size = out->struct_size;
  std::memset(out, 0, sizeof *out);
  out->struct_size = size;
  switch (type) {
    case 'T':
      out->kind = LMS_ANS_COLUMNS;
      return columns(body, len, out);
    case 't':
      out->kind = LMS_ANS_PARAMS;
      return params(body, len, out);
    case 'D':
      out->kind = LMS_ANS_ROW;
      return row(body, len, out);
    case 'C': {
      BodyReader r(body, len);
      std::string_view tag;
      if (!r.cstr(tag)) {
        broken_ = "the database sent a malformed CommandComplete";
        return false;
      }
      complete(tag, out);
      return true;
    }
    case 'I':  // an empty query
      complete("", out);
      return true;
    case 'E':
    case 'N': {
      const ServerError e = parse_error_fields(body, len);
      error_code_ = e.code;
      error_message_ = e.message;
      out->kind = type == 'E' ? LMS_ANS_ERROR : LMS_ANS_NOTICE;
      out->code = str(error_code_);
      out->message = str(error_message_);
      if (type == 'E') in_result_ = false;
      return true;
    }
    case 'Z':
      if (len < 1) {
        broken_ = "the database sent a malformed ReadyForQuery";
        return false;
      }
      out->kind = LMS_ANS_READY;
      out->txn_state = body[0] == 'T'   ? LMS_TXN_IN_TRANSACTION
                       : body[0] == 'E' ? LMS_TXN_FAILED
                                        : LMS_TXN_IDLE;
      in_result_ = false;
      return true;
    case 'G':
    case 'H':
    case 'W':
      broken_ = "the database asked for COPY, which a translated session cannot carry";
      return false;
    default:
      // ParseComplete, BindComplete, CloseComplete, NoData, PortalSuspended, ParameterStatus,
      // notifications, BackendKeyData: nothing a translated client sees.
      return false;
  }
}

bool AnswerDecoder::columns(const uint8_t* body, size_t len, lms_answer* out) {
  if (len < 2) {
    broken_ = "the database sent a malformed RowDescription";
    return false;
  }
  const uint16_t count = read_u16(body);
  BodyReader r(body + 2, len - 2);
  fields_.clear();
  column_types_.clear();
  for (uint16_t i = 0; i < count; ++i) {
    std::string_view name;
    std::string_view fixed;
    if (!r.cstr(name) || !r.bytes(18, fixed)) {
      broken_ = "the database sent a malformed RowDescription";
      return false;
    }
    const uint32_t oid = read_u32(reinterpret_cast<const uint8_t*>(fixed.data()) + 6);
    column_types_.push_back(oid);
    fields_.push_back({str(name), neutral_type(oid), {}});
  }
  type_names_.resize(fields_.size());
  for (size_t i = 0; i < fields_.size(); ++i) {
    type_names_[i] = ResultSummarizer::type_name(column_types_[i]);
    fields_[i].type_name = str(type_names_[i]);
  }
  in_result_ = true;
  out->fields = fields_.data();
  out->field_count = fields_.size();
  return true;
}

bool AnswerDecoder::params(const uint8_t* body, size_t len, lms_answer* out) {
  if (len < 2 || len < 2 + size_t{read_u16(body)} * 4) {
    broken_ = "the database sent a malformed ParameterDescription";
    return false;
  }
  const uint16_t count = read_u16(body);
  fields_.clear();
  for (uint16_t i = 0; i < count; ++i) fields_.push_back({{}, neutral_type(read_u32(body + 2 + i * 4)), {}});
  out->fields = fields_.data();
  out->field_count = fields_.size();
  return true;
}

bool AnswerDecoder::row(const uint8_t* body, size_t len, lms_answer* out) {
  if (len < 2) {
    broken_ = "the database sent a malformed DataRow";
    return false;
  }
  const uint16_t count = read_u16(body);
  BodyReader r(body + 2, len - 2);
  values_.clear();
  if (converted_.size() < count) converted_.resize(count);
  for (uint16_t i = 0; i < count; ++i) {
    uint32_t n = 0;
    if (!r.u32(n)) {
      broken_ = "the database sent a malformed DataRow";
      return false;
    }
    const uint32_t type =
        i < column_types_.size() ? neutral_type(column_types_[i]) : uint32_t{LMS_TYPE_OTHER};
    if (n == 0xFFFFFFFFu) {
      values_.push_back({{}, type, 1});
      continue;
    }
    std::string_view text;
    if (!r.bytes(n, text)) {
      broken_ = "the database sent a malformed DataRow";
      return false;
    }
    if (type == LMS_TYPE_BOOL) {
      text = text == "t" ? "1" : "0";
    } else if (type == LMS_TYPE_BYTES && decode_bytea(text, &converted_[i])) {
      text = converted_[i];
    }
    values_.push_back({str(text), type, 0});
  }
  out->values = values_.data();
  out->value_count = values_.size();
  return true;
}

void AnswerDecoder::complete(std::string_view tag, lms_answer* out) {
  out->kind = LMS_ANS_COMPLETE;
  out->tag = str(tag);
  out->returns_rows = in_result_ ? 1 : 0;
  in_result_ = false;
  // The count is the tag's last word: "INSERT 0 5", "UPDATE 5", "SELECT 5".
  const size_t space = tag.rfind(' ');
  if (space != std::string_view::npos) {
    uint64_t n = 0;
    bool digits = space + 1 < tag.size();
    for (size_t i = space + 1; i < tag.size(); ++i) {
      if (tag[i] < '0' || tag[i] > '9') {
        digits = false;
        break;
      }
      n = n * 10 + static_cast<uint64_t>(tag[i] - '0');
    }
    if (digits) out->affected_rows = n;
  }
}

}  // namespace lms::pgwire
