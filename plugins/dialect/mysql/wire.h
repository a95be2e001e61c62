// The MySQL client/server protocol's building blocks: a packet is a 3-byte little-endian payload
// length, a 1-byte sequence id and the payload; integers are little-endian, fixed or
// "length-encoded" (one byte below 0xFB, else a 0xFC/0xFD/0xFE prefix and 2, 3 or 8 bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lms::mysql {

inline constexpr size_t kHeaderSize = 4;
// A payload this long continues in the next packet (a message of 16 MB or more).
inline constexpr uint32_t kMaxPayload = 0xFFFFFF;

// Capability flags (the protocol's names).
enum Capability : uint32_t {
  kLongPassword = 1u << 0,
  kFoundRows = 1u << 1,
  kLongFlag = 1u << 2,
  kConnectWithDb = 1u << 3,
  kNoSchema = 1u << 4,
  kCompress = 1u << 5,
  kOdbc = 1u << 6,
  kLocalFiles = 1u << 7,
  kIgnoreSpace = 1u << 8,
  kProtocol41 = 1u << 9,
  kInteractive = 1u << 10,
  kSsl = 1u << 11,
  kIgnoreSigpipe = 1u << 12,
  kTransactions = 1u << 13,
  kReserved = 1u << 14,
  kSecureConnection = 1u << 15,
  kMultiStatements = 1u << 16,
  kMultiResults = 1u << 17,
  kPsMultiResults = 1u << 18,
  kPluginAuth = 1u << 19,
  kConnectAttrs = 1u << 20,
  kPluginAuthLenencData = 1u << 21,
  kCanHandleExpiredPasswords = 1u << 22,
  kSessionTrack = 1u << 23,
  kDeprecateEof = 1u << 24,
};

// Server status flags, in OK and EOF packets.
enum ServerStatus : uint16_t {
  kStatusInTrans = 0x0001,
  kStatusAutocommit = 0x0002,
  kStatusMoreResults = 0x0008,
  kStatusCursorExists = 0x0040,
};

// Commands: the first byte of a client's packet once logged in.
enum Command : uint8_t {
  kComSleep = 0x00,
  kComQuit = 0x01,
  kComInitDb = 0x02,
  kComQuery = 0x03,
  kComFieldList = 0x04,
  kComCreateDb = 0x05,
  kComDropDb = 0x06,
  kComRefresh = 0x07,
  kComShutdown = 0x08,
  kComStatistics = 0x09,
  kComProcessInfo = 0x0a,
  kComConnect = 0x0b,
  kComProcessKill = 0x0c,
  kComDebug = 0x0d,
  kComPing = 0x0e,
  kComTime = 0x0f,
  kComDelayedInsert = 0x10,
  kComChangeUser = 0x11,
  kComBinlogDump = 0x12,
  kComTableDump = 0x13,
  kComConnectOut = 0x14,
  kComRegisterSlave = 0x15,
  kComStmtPrepare = 0x16,
  kComStmtExecute = 0x17,
  kComStmtSendLongData = 0x18,
  kComStmtClose = 0x19,
  kComStmtReset = 0x1a,
  kComSetOption = 0x1b,
  kComStmtFetch = 0x1c,
  kComDaemon = 0x1d,
  kComBinlogDumpGtid = 0x1e,
  kComResetConnection = 0x1f,
  kComStmtBulkExecute = 0xfa,  // MariaDB 10.2+
};

inline uint32_t read_u16(const uint8_t* p) { return p[0] | (uint32_t{p[1]} << 8); }
inline uint32_t read_u24(const uint8_t* p) { return p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16); }
inline uint32_t read_u32(const uint8_t* p) { return read_u24(p) | (uint32_t{p[3]} << 24); }

// Reads a payload front to back; every read fails (and stays failed) past the end.
class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? static_cast<size_t>(end_ - p_) : 0; }
  const uint8_t* here() const { return p_; }

  bool u8(uint8_t& out) {
    return fixed(1, [&] { out = p_[0]; });
  }
  bool u16(uint32_t& out) {
    return fixed(2, [&] { out = read_u16(p_); });
  }
  bool u32(uint32_t& out) {
    return fixed(4, [&] { out = read_u32(p_); });
  }
  bool skip(size_t n) {
    return fixed(n, [] {});
  }
  bool lenenc(uint64_t& out);
  bool bytes(size_t n, std::string_view& out) {
    return fixed(n, [&] { out = view(n); });
  }
  bool lenenc_string(std::string_view& out);
  // Up to a NUL, which is consumed; fails without one.
  bool cstring(std::string_view& out);
  std::string_view rest() {
    std::string_view out = ok_ ? view(left()) : std::string_view();
    p_ = end_;
    return out;
  }

 private:
  template <typename Fn>
  bool fixed(size_t n, Fn&& read) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) return ok_ = false;
    read();
    p_ += n;
    return true;
  }
  std::string_view view(size_t n) const { return {reinterpret_cast<const char*>(p_), n}; }

  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

// The length of a length-encoded integer from its first byte (1, 3, 4 or 9), 0 for 0xFB/0xFF.
inline size_t lenenc_size(uint8_t first) {
  if (first < 0xFB) return 1;
  if (first == 0xFC) return 3;
  if (first == 0xFD) return 4;
  if (first == 0xFE) return 9;
  return 0;
}

// Builds payloads and packets.
class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint32_t v) {
    u8(v & 0xFF);
    u8((v >> 8) & 0xFF);
  }
  void u24(uint32_t v) {
    u16(v & 0xFFFF);
    u8((v >> 16) & 0xFF);
  }
  void u32(uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  }
  void lenenc(uint64_t v);
  void bytes(std::string_view s) { out_.append(s); }
  void cstring(std::string_view s) {
    out_.append(s);
    u8(0);
  }
  void lenenc_string(std::string_view s) {
    lenenc(s.size());
    bytes(s);
  }
  void zeros(size_t n) { out_.append(n, '\0'); }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// One or more packets (split at 16 MB) carrying `payload`, numbered from `sequence`. Returns the
// sequence id after the last packet.
uint8_t append_packets(std::string& out, std::string_view payload, uint8_t sequence);

}  // namespace lms::mysql
