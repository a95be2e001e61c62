#include "summary.h"

#include <lms/stream.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "wire.h"

namespace lms::pgwire {
namespace {

// Caps on what is buffered: a RowDescription, a tag or an error larger than this is not kept.
constexpr size_t kMaxBufferedBody = 64 * 1024;
constexpr size_t kMaxColumns = 4096;
constexpr size_t kMaxTags = 4096;

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string ResultSummarizer::type_name(uint32_t oid) {
  // From PostgreSQL's src/include/catalog/pg_type.dat; CockroachDB reports the same OIDs.
  switch (oid) {
    case 16:
      return "bool";
    case 17:
      return "bytea";
    case 18:
      return "char";
    case 19:
      return "name";
    case 20:
      return "int8";
    case 21:
      return "int2";
    case 23:
      return "int4";
    case 25:
      return "text";
    case 26:
      return "oid";
    case 114:
      return "json";
    case 650:
      return "cidr";
    case 700:
      return "float4";
    case 701:
      return "float8";
    case 869:
      return "inet";
    case 1000:
      return "_bool";
    case 1005:
      return "_int2";
    case 1007:
      return "_int4";
    case 1009:
      return "_text";
    case 1016:
      return "_int8";
    case 1021:
      return "_float4";
    case 1022:
      return "_float8";
    case 1042:
      return "bpchar";
    case 1043:
      return "varchar";
    case 1082:
      return "date";
    case 1083:
      return "time";
    case 1114:
      return "timestamp";
    case 1184:
      return "timestamptz";
    case 1186:
      return "interval";
    case 1231:
      return "_numeric";
    case 1266:
      return "timetz";
    case 1560:
      return "bit";
    case 1562:
      return "varbit";
    case 1700:
      return "numeric";
    case 2249:
      return "record";
    case 2278:
      return "void";
    case 2950:
      return "uuid";
    case 2951:
      return "_uuid";
    case 3802:
      return "jsonb";
    case 3807:
      return "_jsonb";
    default:
      return "oid " + std::to_string(oid);
  }
}

ResultSummarizer::ResultSummarizer(const lms_str* ignored_columns, size_t ignored_count) {
  for (size_t i = 0; i < ignored_count; ++i) {
    ignored_.push_back(lower(std::string(ignored_columns[i].data, ignored_columns[i].len)));
  }
}

bool ResultSummarizer::ignored(const std::string& name) const {
  if (ignored_.empty()) return false;
  const std::string l = lower(name);
  return std::find(ignored_.begin(), ignored_.end(), l) != ignored_.end();
}

void ResultSummarizer::reset() {
  stage_ = Stage::kHeader;
  header_len_ = 0;
  buffer_.clear();
  columns_.clear();
  current_ignored_.clear();
  views_.clear();
  result_sets_ = 0;
  rows_ = 0;
  checksum_ = 0;
  tags_.clear();
  error_code_.clear();
  error_message_.clear();
  complete_ = true;
}

void ResultSummarizer::mix(const uint8_t* data, size_t len) {
  row_hash_ = sdk::row_hash_mix(row_hash_, data, len);
}

void ResultSummarizer::feed(const uint8_t* data, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    switch (stage_) {
      case Stage::kHeader: {
        const size_t take = std::min(sizeof header_ - header_len_, len - pos);
        std::copy(data + pos, data + pos + take, header_ + header_len_);
        header_len_ += take;
        pos += take;
        if (header_len_ < sizeof header_) break;
        header_len_ = 0;
        type_ = static_cast<char>(header_[0]);
        const uint32_t length = read_u32(header_ + 1);
        left_ = length >= 4 ? length - 4 : 0;
        begin_body();
        break;
      }
      case Stage::kBuffered: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, len - pos));
        if (!overflow_) {
          if (buffer_.size() + take > kMaxBufferedBody) {
            overflow_ = true;
            complete_ = false;
            buffer_.clear();
          } else {
            buffer_.append(reinterpret_cast<const char*>(data + pos), take);
          }
        }
        pos += take;
        left_ -= take;
        if (left_ == 0) end_message();
        break;
      }
      case Stage::kRowColumnCount:
      case Stage::kValueLength: {
        const size_t want = stage_ == Stage::kRowColumnCount ? 2 : 4;
        const size_t take = static_cast<size_t>(std::min<uint64_t>({want - small_len_, left_, len - pos}));
        std::copy(data + pos, data + pos + take, small_ + small_len_);
        small_len_ += take;
        pos += take;
        left_ -= take;
        if (small_len_ == want) {
          small_len_ = 0;
          if (stage_ == Stage::kRowColumnCount) {
            values_left_ = read_u16(small_);
            value_index_ = 0;
            row_hash_ = sdk::kRowHashSeed;
            stage_ = values_left_ > 0 ? Stage::kValueLength : Stage::kSkip;
          } else {
            const uint32_t value_len = read_u32(small_);
            const bool skip = value_index_ < current_ignored_.size() && current_ignored_[value_index_];
            // The length enters the hash too, so NULL, '' and adjacent values stay distinct.
            if (!skip) mix(small_, 4);
            value_left_ = value_len == 0xffffffffu ? 0 : value_len;
            stage_ = Stage::kValue;
          }
        }
        if (stage_ == Stage::kValue && value_left_ == 0) {
          ++value_index_;
          stage_ = --values_left_ > 0 ? Stage::kValueLength : Stage::kSkip;
        }
        if (left_ == 0) end_message();
        break;
      }
      case Stage::kValue: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>({value_left_, left_, len - pos}));
        const bool skip = value_index_ < current_ignored_.size() && current_ignored_[value_index_];
        if (!skip) mix(data + pos, take);
        pos += take;
        left_ -= take;
        value_left_ -= take;
        if (value_left_ == 0) {
          ++value_index_;
          stage_ = --values_left_ > 0 ? Stage::kValueLength : Stage::kSkip;
        }
        if (left_ == 0) end_message();
        break;
      }
      case Stage::kSkip: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, len - pos));
        pos += take;
        left_ -= take;
        if (left_ == 0) end_message();
        break;
      }
    }
  }
}

void ResultSummarizer::begin_body() {
  buffer_.clear();
  overflow_ = false;
  small_len_ = 0;
  switch (type_) {
    case 'T':
    case 'C':
    case 'E':
      stage_ = Stage::kBuffered;
      break;
    case 'D':
      stage_ = Stage::kRowColumnCount;
      break;
    default:
      stage_ = Stage::kSkip;
      break;
  }
  if (left_ == 0) end_message();
}

void ResultSummarizer::end_message() {
  switch (type_) {
    case 'T':
      if (!overflow_) on_row_description(buffer_);
      break;
    case 'C':
      if (!overflow_) {
        if (tags_.size() + buffer_.size() + 1 > kMaxTags) {
          complete_ = false;
        } else {
          if (!tags_.empty()) tags_.push_back(';');
          // The tag is a C string: its trailing NUL is not part of it.
          tags_.append(buffer_.data(), strnlen(buffer_.data(), buffer_.size()));
        }
      }
      break;
    case 'E':
      if (!overflow_ && error_code_.empty()) on_error(buffer_);
      break;
    case 'D':
      // A row cut short (fewer values than it announced) still counts: both sides are read the
      // same way, so the comparison stays fair.
      ++rows_;
      // Rows of different result sets must not be interchangeable.
      checksum_ += sdk::row_hash_finish(row_hash_, result_sets_);
      break;
    default:
      break;
  }
  buffer_.clear();
  stage_ = Stage::kHeader;
}

void ResultSummarizer::on_row_description(const std::string& body) {
  ++result_sets_;
  current_ignored_.clear();
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const size_t n = body.size();
  if (n < 2) return;
  const uint16_t count = read_u16(p);
  size_t at = 2;
  for (uint16_t i = 0; i < count; ++i) {
    const size_t end = body.find('\0', at);
    // name, then table oid (4), column number (2), type oid (4), type size (2), modifier (4),
    // format (2).
    if (end == std::string::npos || end + 1 + 18 > n) {
      complete_ = false;
      return;
    }
    std::string name = body.substr(at, end - at);
    const uint32_t oid = read_u32(p + end + 1 + 6);
    at = end + 1 + 18;
    current_ignored_.push_back(ignored(name));
    if (columns_.size() >= kMaxColumns) {
      complete_ = false;
      continue;
    }
    columns_.push_back({std::move(name), type_name(oid)});
  }
}

void ResultSummarizer::on_error(const std::string& body) {
  // Fields: a type byte and a C string each, ended by a zero type byte.
  size_t at = 0;
  while (at < body.size() && body[at] != '\0') {
    const char field = body[at];
    const size_t end = body.find('\0', at + 1);
    if (end == std::string::npos) return;
    if (field == 'C') error_code_ = body.substr(at + 1, end - at - 1);
    if (field == 'M') error_message_ = body.substr(at + 1, end - at - 1);
    at = end + 1;
  }
  if (error_code_.empty() && !error_message_.empty()) error_code_ = "XX000";
}

void ResultSummarizer::get(lms_result_summary* out) {
  views_.clear();
  for (const Column& c : columns_) {
    views_.push_back({{c.name.data(), c.name.size()}, {c.type.data(), c.type.size()}});
  }
  out->result_sets = result_sets_;
  out->columns = views_.data();
  out->column_count = views_.size();
  out->rows = rows_;
  out->checksum = checksum_;
  out->tag = {tags_.data(), tags_.size()};
  out->error_code = {error_code_.data(), error_code_.size()};
  out->error_message = {error_message_.data(), error_message_.size()};
  // A message still arriving means the answer was not fed whole.
  out->complete = complete_ && stage_ == Stage::kHeader && header_len_ == 0;
}

}  // namespace lms::pgwire
