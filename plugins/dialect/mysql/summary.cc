#include "summary.h"

#include <lms/stream.hpp>

#include <algorithm>
#include <cctype>

#include "wire.h"

namespace lms::mysql {
namespace {

// Definitions, OK, EOF and ERR packets are kept whole up to this; rows never are.
constexpr size_t kMaxBufferedPacket = 64 * 1024;
constexpr size_t kMaxColumns = 4096;
constexpr size_t kMaxTags = 4096;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string column_type_name(uint8_t type) {
  switch (type) {
    case 0x00:
      return "DECIMAL";
    case 0x01:
      return "TINY";
    case 0x02:
      return "SHORT";
    case 0x03:
      return "LONG";
    case 0x04:
      return "FLOAT";
    case 0x05:
      return "DOUBLE";
    case 0x06:
      return "NULL";
    case 0x07:
      return "TIMESTAMP";
    case 0x08:
      return "LONGLONG";
    case 0x09:
      return "INT24";
    case 0x0a:
      return "DATE";
    case 0x0b:
      return "TIME";
    case 0x0c:
      return "DATETIME";
    case 0x0d:
      return "YEAR";
    case 0x0f:
      return "VARCHAR";
    case 0x10:
      return "BIT";
    case 0xf5:
      return "JSON";
    case 0xf6:
      return "NEWDECIMAL";
    case 0xf7:
      return "ENUM";
    case 0xf8:
      return "SET";
    case 0xf9:
      return "TINY_BLOB";
    case 0xfa:
      return "MEDIUM_BLOB";
    case 0xfb:
      return "LONG_BLOB";
    case 0xfc:
      return "BLOB";
    case 0xfd:
      return "VAR_STRING";
    case 0xfe:
      return "STRING";
    case 0xff:
      return "GEOMETRY";
    default:
      return "TYPE " + std::to_string(type);
  }
}

ResultSummarizer::ResultSummarizer(const lms_str* ignored_columns, size_t ignored_count) {
  for (size_t i = 0; i < ignored_count; ++i)
    ignored_.push_back(lower({ignored_columns[i].data, ignored_columns[i].len}));
}

void ResultSummarizer::reset() {
  stage_ = Stage::kFirst;
  header_len_ = 0;
  left_ = 0;
  buffering_ = false;
  continues_ = false;
  buffer_.clear();
  columns_left_ = 0;
  after_definitions_ = false;
  columns_.clear();
  views_.clear();
  result_sets_ = 0;
  rows_ = 0;
  set_rows_ = 0;
  checksum_ = 0;
  tags_.clear();
  error_code_.clear();
  error_message_.clear();
  complete_ = true;
}

void ResultSummarizer::feed(const uint8_t* data, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    if (header_len_ < sizeof header_) {
      const size_t take = std::min(sizeof header_ - header_len_, len - pos);
      std::copy(data + pos, data + pos + take, header_ + header_len_);
      header_len_ += take;
      pos += take;
      if (header_len_ < sizeof header_) return;
      left_ = read_u24(header_);
      on_packet_start();
      if (left_ == 0) {
        header_len_ = 0;
        if (buffering_) on_small_packet(buffer_);
      }
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, len - pos));
    if (buffering_) {
      buffer_.append(reinterpret_cast<const char*>(data + pos), take);
    } else {
      row_hash_ = sdk::row_hash_mix(row_hash_, data + pos, take);
    }
    pos += take;
    left_ -= take;
    if (left_ == 0) {
      header_len_ = 0;
      if (buffering_) {
        on_small_packet(buffer_);
      } else if (!continues_) {
        ++rows_;
        ++set_rows_;
        checksum_ += sdk::row_hash_finish(row_hash_, result_sets_);
      }
    }
  }
}

void ResultSummarizer::on_packet_start() {
  const bool was_continued = continues_;
  continues_ = left_ == kMaxPayload;
  buffer_.clear();
  if (was_continued && !buffering_) return;  // more of the same row
  // Rows are hashed as they stream; everything else is small and read whole. A row's first byte
  // is not known yet, so in a result set a packet is taken for a row unless it is short enough to
  // be an end marker (an EOF, or an OK with the 0xFE header, both under 9 bytes here).
  buffering_ = stage_ != Stage::kRows || left_ < 9;
  if (buffering_ && left_ > kMaxBufferedPacket) {
    complete_ = false;
    buffering_ = false;
  }
  if (!buffering_) {
    row_hash_ = sdk::kRowHashSeed;
    after_definitions_ = false;
  }
}

void ResultSummarizer::on_small_packet(const std::string& payload) {
  if (payload.empty()) return;
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const uint8_t first = p[0];
  auto add_tag = [&](const std::string& tag) {
    if (tags_.size() + tag.size() + 1 > kMaxTags) {
      complete_ = false;
      return;
    }
    if (!tags_.empty()) tags_.push_back(';');
    tags_ += tag;
  };
  if (first == 0xFF) {
    // ERR: code, '#', SQLSTATE, message. It ends the answer.
    if (error_code_.empty() && payload.size() >= 9 && payload[3] == '#') {
      error_code_ = payload.substr(4, 5);
      error_message_ = payload.substr(9);
    } else if (error_code_.empty()) {
      error_code_ = "HY000";
      error_message_ = payload.size() > 3 ? payload.substr(3) : "";
    }
    stage_ = Stage::kFirst;
    return;
  }
  switch (stage_) {
    case Stage::kFirst: {
      if (first == 0x00 || first == 0xFE) {
        Reader r(p + 1, payload.size() - 1);
        uint64_t affected = 0;
        r.lenenc(affected);
        add_tag("OK " + std::to_string(affected));
        return;
      }
      Reader r(p, payload.size());
      uint64_t count = 0;
      if (!r.lenenc(count) || count == 0) return;
      ++result_sets_;
      set_rows_ = 0;
      columns_left_ = count;
      stage_ = Stage::kColumns;
      return;
    }
    case Stage::kColumns: {
      Reader r(p, payload.size());
      std::string_view skipped;
      std::string_view name;
      uint64_t fixed_len = 0;
      std::string_view fixed;
      // catalog, schema, table, original table, name, original name, then the fixed fields.
      const bool ok = r.lenenc_string(skipped) && r.lenenc_string(skipped) && r.lenenc_string(skipped) &&
                      r.lenenc_string(skipped) && r.lenenc_string(name) && r.lenenc_string(skipped) &&
                      r.lenenc(fixed_len) && r.bytes(7, fixed);
      if (columns_.size() >= kMaxColumns) {
        complete_ = false;
      } else {
        const std::string type = ok ? column_type_name(static_cast<uint8_t>(fixed[6])) : "?";
        columns_.push_back({std::string(name), type});
        // A row is hashed whole: a column whose values are to be ignored makes the checksum
        // meaningless for this answer.
        if (std::find(ignored_.begin(), ignored_.end(), lower(name)) != ignored_.end()) complete_ = false;
      }
      if (--columns_left_ == 0) {
        stage_ = Stage::kRows;
        after_definitions_ = true;
      }
      return;
    }
    case Stage::kRows:
      if (first == 0xFE && payload.size() < 9) {
        // An EOF right after the definitions (clients without CLIENT_DEPRECATE_EOF) carries
        // nothing; any other end marker closes the result set.
        if (after_definitions_ && payload.size() == 5) {
          after_definitions_ = false;
          return;
        }
        add_tag("ROWS " + std::to_string(set_rows_));
        after_definitions_ = false;
        stage_ = Stage::kFirst;
        return;
      }
      after_definitions_ = false;
      // A short row (a small value or NULLs): hash it like any other.
      const uint64_t h = sdk::row_hash_mix(sdk::kRowHashSeed, p, payload.size());
      ++rows_;
      ++set_rows_;
      checksum_ += sdk::row_hash_finish(h, result_sets_);
      return;
  }
}

void ResultSummarizer::get(lms_result_summary* out) {
  views_.clear();
  for (const Column& c : columns_)
    views_.push_back({{c.name.data(), c.name.size()}, {c.type.data(), c.type.size()}});
  out->result_sets = result_sets_;
  out->columns = views_.data();
  out->column_count = views_.size();
  out->rows = rows_;
  out->checksum = checksum_;
  out->tag = {tags_.data(), tags_.size()};
  out->error_code = {error_code_.data(), error_code_.size()};
  out->error_message = {error_message_.data(), error_message_.size()};
  out->complete = complete_ && left_ == 0 && header_len_ == 0 ? 1 : 0;
}

}  // namespace lms::mysql
