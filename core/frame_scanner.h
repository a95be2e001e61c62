// Walks a byte stream message by message, across reads of any size, without copying it: the
// dialect's frame function decides each message's length and class from its first few bytes, and
// only those few bytes are ever held back when a read splits a header. The bytes themselves are
// forwarded by the caller untouched.
#pragma once

#include <lms/plugin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lms::core {

class FrameScanner {
 public:
  // The most header a dialect may need to classify a message; more is a broken plugin.
  static constexpr size_t kMaxHeader = 16;

  FrameScanner(const lms_dialect_functions* dialect, lms_direction direction)
      : dialect_(dialect), direction_(direction) {}

  // Calls on_message(const lms_frame&) for every message that starts in data[0, len). Returns
  // false, with error() set, when the stream is broken; the scanner must not be used after that.
  template <typename OnMessage>
  bool scan(const uint8_t* data, size_t len, OnMessage&& on_message) {
    size_t pos = 0;
    while (pos < len) {
      if (remaining_ > 0) {
        const size_t skip = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
        remaining_ -= skip;
        pos += skip;
        continue;
      }
      lms_frame f{};
      f.struct_size = sizeof f;
      if (held_ == 0) {
        dialect_->frame(direction_, data + pos, len - pos, &f);
        if (f.result == LMS_FRAME_COMPLETE) {
          on_message(static_cast<const lms_frame&>(f));
          remaining_ = f.length;
          continue;
        }
        if (f.result != LMS_FRAME_NEED_MORE || len - pos > kMaxHeader) return broken(f);
        std::memcpy(held_bytes_, data + pos, len - pos);
        held_ = len - pos;
        pos = len;
        continue;
      }
      // A header split across reads: top up the held bytes and ask again.
      const size_t take = std::min(kMaxHeader - held_, len - pos);
      std::memcpy(held_bytes_ + held_, data + pos, take);
      dialect_->frame(direction_, held_bytes_, held_ + take, &f);
      if (f.result == LMS_FRAME_COMPLETE) {
        on_message(static_cast<const lms_frame&>(f));
        // The held bytes belong to this message and were already passed on with earlier reads.
        remaining_ = f.length - held_;
        held_ = 0;
        continue;
      }
      if (f.result != LMS_FRAME_NEED_MORE || held_ + take == kMaxHeader) return broken(f);
      held_ += take;
      pos += take;
    }
    return true;
  }

  // True between messages: nothing of a message has been passed on without its end. Only then can
  // the proxy insert a message of its own (an error) into the stream.
  bool at_boundary() const { return remaining_ == 0 && held_ == 0; }
  const char* error() const { return error_; }

 private:
  bool broken(const lms_frame& f) {
    error_ = f.result == LMS_FRAME_INVALID && f.error != nullptr ? f.error : "message header too long";
    return false;
  }

  const lms_dialect_functions* dialect_;
  lms_direction direction_;
  uint64_t remaining_ = 0;  // bytes of the current message not yet seen
  uint8_t held_bytes_[kMaxHeader] = {};
  size_t held_ = 0;
  const char* error_ = nullptr;
};

}  // namespace lms::core
