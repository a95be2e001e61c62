// Header-only helpers for dialects that read a byte stream message by message (a translation's
// decoders, a summarizer): the bytes fed but not yet read, and the row hash every summarizer
// mixes alike so that two dialects' checksums of the same rows can agree.
#ifndef LMS_STREAM_HPP
#define LMS_STREAM_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lms::sdk {

// Bytes fed in pieces of any size and read from the front. What was read is dropped when that
// is free (all of it) or worth a move (over half the buffer, beyond 64 KB), so the buffer holds
// about one message at a time.
class InputBuffer {
 public:
  void append(const uint8_t* data, size_t len) {
    if (at_ > 0 && at_ == bytes_.size()) {
      bytes_.clear();
      at_ = 0;
    } else if (at_ > 64 * 1024 && at_ * 2 > bytes_.size()) {
      bytes_.erase(0, at_);
      at_ = 0;
    }
    bytes_.append(reinterpret_cast<const char*>(data), len);
  }
  // What has not been read; valid until the next append.
  std::string_view unread() const { return std::string_view(bytes_).substr(at_); }
  void consume(size_t n) { at_ += n; }

 private:
  std::string bytes_;
  size_t at_ = 0;
};

// lms_result_summary.checksum: each row's bytes hashed with FNV-1a, finished with splitmix64 so
// that the sum over rows (which makes the checksum independent of their order) does not cancel
// in the low bits, and salted with its result set's number so rows of different sets differ.
inline constexpr uint64_t kRowHashSeed = 0xcbf29ce484222325ull;

inline uint64_t row_hash_mix(uint64_t h, const uint8_t* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

inline uint64_t row_hash_finish(uint64_t h, uint32_t result_set) {
  h ^= uint64_t{result_set} * 0x9e3779b97f4a7c15ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace lms::sdk

#endif  // LMS_STREAM_HPP
