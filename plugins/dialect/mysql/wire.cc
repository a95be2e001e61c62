#include "wire.h"

namespace lms::mysql {

bool Reader::lenenc(uint64_t& out) {
  uint8_t first = 0;
  if (!u8(first)) return false;
  if (first < 0xFB) {
    out = first;
    return true;
  }
  const size_t extra = lenenc_size(first) - 1;
  if (first == 0xFB || first == 0xFF || left() < extra) {
    ok_ = false;
    return false;
  }
  out = 0;
  for (size_t i = 0; i < extra; ++i) out |= uint64_t{p_[i]} << (8 * i);
  p_ += extra;
  return true;
}

bool Reader::lenenc_string(std::string_view& out) {
  uint64_t n = 0;
  if (!lenenc(n)) return false;
  if (n > left()) {
    ok_ = false;
    return false;
  }
  return bytes(static_cast<size_t>(n), out);
}

bool Reader::cstring(std::string_view& out) {
  if (!ok_) return false;
  for (const uint8_t* q = p_; q < end_; ++q) {
    if (*q == 0) {
      out = {reinterpret_cast<const char*>(p_), static_cast<size_t>(q - p_)};
      p_ = q + 1;
      return true;
    }
  }
  ok_ = false;
  return false;
}

void Writer::lenenc(uint64_t v) {
  if (v < 0xFB) {
    u8(static_cast<uint8_t>(v));
  } else if (v <= 0xFFFF) {
    u8(0xFC);
    u16(static_cast<uint32_t>(v));
  } else if (v <= 0xFFFFFF) {
    u8(0xFD);
    u24(static_cast<uint32_t>(v));
  } else {
    u8(0xFE);
    u32(static_cast<uint32_t>(v));
    u32(static_cast<uint32_t>(v >> 32));
  }
}

uint8_t append_packets(std::string& out, std::string_view payload, uint8_t sequence) {
  // A payload of exactly a multiple of 16 MB ends with an empty packet, so the reader knows.
  for (;;) {
    const size_t n = payload.size() < kMaxPayload ? payload.size() : kMaxPayload;
    out.push_back(static_cast<char>(n & 0xFF));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    out.push_back(static_cast<char>(sequence++));
    out.append(payload.substr(0, n));
    payload.remove_prefix(n);
    if (n < kMaxPayload) return sequence;
  }
}

}  // namespace lms::mysql
