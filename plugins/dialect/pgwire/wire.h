// Byte-level helpers for the PostgreSQL v3 protocol: big-endian integers and a message builder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace lms::pgwire {

// Protocol constants, from PostgreSQL's src/include/libpq/pqcomm.h.
inline constexpr uint32_t kProtocolV3 = 196608;           // 3 << 16
inline constexpr uint32_t kCancelRequestCode = 80877102;  // 1234 << 16 | 5678
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
// The server refuses startup packets longer than this (MAX_STARTUP_PACKET_LENGTH).
inline constexpr uint32_t kMaxStartupLength = 10000;
// Message lengths above 1 GiB cannot be allocated by a PostgreSQL server (MaxAllocSize); a stream
// announcing one is broken, not large.
inline constexpr uint64_t kMaxMessageLength = 0x3fffffff;
// Process id plus secret key in BackendKeyData and CancelRequest.
inline constexpr size_t kCancelKeyLength = 8;

// AuthenticationRequest codes: the int32 after an 'R' message's length.
inline constexpr uint32_t kAuthOk = 0;
inline constexpr uint32_t kAuthCleartext = 3;
inline constexpr uint32_t kAuthMd5 = 5;
inline constexpr uint32_t kAuthSasl = 10;
inline constexpr uint32_t kAuthSaslContinue = 11;
inline constexpr uint32_t kAuthSaslFinal = 12;

inline uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void write_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Builds messages into a growable buffer: begin() writes the type byte (if any) and reserves the
// length, end() fills the length in. Several messages can be built back to back.
class MessageBuilder {
 public:
  MessageBuilder& begin(char type) {
    make_room(5);
    bytes_.push_back(static_cast<uint8_t>(type));
    return begin_untyped();
  }
  // Startup-style messages have no type byte.
  MessageBuilder& begin_untyped() {
    make_room(4);
    length_at_ = bytes_.size();
    bytes_.insert(bytes_.end(), 4, 0);
    return *this;
  }
  MessageBuilder& u8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  MessageBuilder& u32(uint32_t v) {
    uint8_t b[4];
    write_u32(b, v);
    bytes_.insert(bytes_.end(), b, b + 4);
    return *this;
  }
  MessageBuilder& raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  MessageBuilder& raw(const uint8_t* p, size_t n) {
    bytes_.insert(bytes_.end(), p, p + n);
    return *this;
  }
  // A NUL-terminated string.
  MessageBuilder& cstr(std::string_view s) {
    make_room(s.size() + 1);
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.push_back(0);
    return *this;
  }
  MessageBuilder& end() {
    write_u32(bytes_.data() + length_at_, static_cast<uint32_t>(bytes_.size() - length_at_));
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  // Room for `n` more bytes before a push_back and an insert write them, growing geometrically as
  // an insert would: GCC 12 at -O3 warns, falsely, that a write right after a growing push_back or
  // insert runs past the end.
  void make_room(size_t n) {
    const size_t need = bytes_.size() + n;
    if (need > bytes_.capacity()) bytes_.reserve(std::max(need, 2 * bytes_.capacity()));
  }

  std::vector<uint8_t> bytes_;
  size_t length_at_ = 0;
};

// Reads fields out of one message body, refusing to run past its end.
class BodyReader {
 public:
  BodyReader() : BodyReader(nullptr, 0) {}
  BodyReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool u32(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = read_u32(p_);
    p_ += 4;
    return true;
  }
  bool u16(uint16_t& v) {
    if (end_ - p_ < 2) return false;
    v = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return true;
  }
  // A NUL-terminated string; false if there is no terminator.
  bool cstr(std::string_view& s) {
    for (const uint8_t* q = p_; q < end_; ++q) {
      if (*q == 0) {
        s = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(q - p_));
        p_ = q + 1;
        return true;
      }
    }
    return false;
  }
  bool bytes(size_t n, std::string_view& s) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    s = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  std::string_view rest() const { return std::string_view(reinterpret_cast<const char*>(p_), remaining()); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace lms::pgwire
