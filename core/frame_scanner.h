// Walks a byte stream message by message, across reads of any size, without copying it: the
// dialect's frame function decides each message's length and class from its first few bytes, and
// only those few bytes are ever held back when a read splits a header. The bytes themselves are
// forwarded by the caller untouched.
//
// For each message the caller may also ask for its bytes to be copied to a sink (to mirror it to
// a second database, or to keep an error), or for the walk to stop once the message has ended (to
// hold what follows until something else has happened).
#pragma once

#include <lms/plugin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

namespace lms::core {

// What to do with one message; flags, combined with |.
enum ScanAction : unsigned {
  kPass = 0,
  kCopy = 1,       // hand every byte of this message to the copy sink
  kStopAfter = 2,  // end the walk where this message ends
};

class FrameScanner {
 public:
  // The most header a dialect may need to classify a message; more is a broken plugin.
  static constexpr size_t kMaxHeader = 32;

  FrameScanner(const lms_dialect_functions* dialect, lms_direction direction)
      : dialect_(dialect), direction_(direction) {}

  // ABI 1.3: from now on messages are delimited by `framer` (shared by both directions of one
  // connection pair), not by the stateless frame function.
  void use_framer(void* framer) { framer_ = framer; }

  // Walks data[0, len). on_message(const lms_frame&) returns a ScanAction for each message that
  // starts here; on_copy(const uint8_t*, size_t) receives the bytes of messages marked kCopy.
  // Returns the bytes consumed: all of them, or fewer when a kStopAfter message ended before the
  // end of the buffer. Returns nullopt, with error() set, when the stream is broken; the scanner
  // must not be used after that.
  template <typename OnMessage, typename OnCopy>
  std::optional<size_t> walk(const uint8_t* data, size_t len, OnMessage&& on_message, OnCopy&& on_copy) {
    size_t pos = 0;
    while (pos < len) {
      if (remaining_ > 0) {
        const size_t skip = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
        if (copying_) on_copy(data + pos, skip);
        remaining_ -= skip;
        pos += skip;
        if (remaining_ == 0 && stop_pending_) {
          stop_pending_ = false;
          return pos;
        }
        continue;
      }
      lms_frame f{};
      f.struct_size = sizeof f;
      if (held_ == 0) {
        classify(data + pos, len - pos, &f);
        if (f.result == LMS_FRAME_COMPLETE) {
          visible_ = data + pos;
          visible_len_ = len - pos;
          begin_message(on_message(static_cast<const lms_frame&>(f)), f.length);
          visible_len_ = 0;
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
      classify(held_bytes_, held_ + take, &f);
      if (f.result == LMS_FRAME_COMPLETE) {
        begin_message(on_message(static_cast<const lms_frame&>(f)), f.length);
        // The held bytes belong to this message and were passed on with earlier reads; a copy
        // needs them now.
        if (copying_) on_copy(held_bytes_, held_);
        remaining_ -= held_;
        held_ = 0;
        continue;
      }
      if (f.result != LMS_FRAME_NEED_MORE || held_ + take == kMaxHeader) return broken(f);
      held_ += take;
      pos += take;
    }
    return pos;
  }

  // The plain walk: on_message(const lms_frame&) returns nothing; every byte passes.
  template <typename OnMessage>
  bool scan(const uint8_t* data, size_t len, OnMessage&& on_message) {
    return walk(
               data, len,
               [&](const lms_frame& f) {
                 on_message(f);
                 return kPass;
               },
               [](const uint8_t*, size_t) {})
        .has_value();
  }

  // True between messages: nothing of a message has been passed on without its end. Only then can
  // the proxy insert a message of its own (an error) into the stream.
  bool at_boundary() const { return remaining_ == 0 && held_ == 0; }
  // Inside on_message: the message's bytes already in the buffer being walked (it may continue in
  // the next read); empty when its header was split across reads.
  std::pair<const uint8_t*, size_t> visible() const { return {visible_, visible_len_}; }
  const char* error() const { return error_; }

 private:
  void begin_message(unsigned action, uint64_t length) {
    copying_ = (action & kCopy) != 0;
    stop_pending_ = (action & kStopAfter) != 0;
    remaining_ = length;
  }

  void classify(const uint8_t* data, size_t len, lms_frame* f) {
    if (framer_ != nullptr) {
      dialect_->framer_next(framer_, direction_, data, len, f);
    } else {
      dialect_->frame(direction_, data, len, f);
    }
  }

  std::nullopt_t broken(const lms_frame& f) {
    error_ = f.result == LMS_FRAME_INVALID && f.error != nullptr ? f.error : "message header too long";
    return std::nullopt;
  }

  const lms_dialect_functions* dialect_;
  lms_direction direction_;
  void* framer_ = nullptr;  // owned by the session
  uint64_t remaining_ = 0;  // bytes of the current message not yet seen
  uint8_t held_bytes_[kMaxHeader] = {};
  size_t held_ = 0;
  bool copying_ = false;
  bool stop_pending_ = false;
  const char* error_ = nullptr;
  const uint8_t* visible_ = nullptr;
  size_t visible_len_ = 0;
};

}  // namespace lms::core
