// Takes out of a database's byte stream the messages that answer what lms sent on its own (a
// statement made again on a pooled connection, a client's settings), as the dialect judges each
// message from its head. Whole messages only: a head split across reads is held back until the
// dialect can judge it, so nothing of a dropped message ever reaches the client.
//
// Bytes pass without a copy when nothing is dropped or held; otherwise what is kept is gathered.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <string>

namespace lms::core {

class AnswerFilter {
 public:
  // `verdict(head, len)`: LMS_POOL_PASS or LMS_POOL_DROP for the message starting at `head`.
  // Returns false when `data` passes as it is (into nothing); else the kept bytes are in *out.
  template <typename Verdict>
  bool filter(const lms_dialect_functions* dialect, const uint8_t* data, size_t len, std::string* out,
              Verdict&& verdict);
  // Between messages, nothing held.
  bool at_boundary() const { return remaining_ == 0 && held_.empty(); }

 private:
  static constexpr size_t kHead = 32;  // what the dialect needs to judge a message

  std::string held_;        // the head of a message not yet judged
  uint64_t remaining_ = 0;  // bytes of the current message still to come
  bool dropping_ = false;   // the current message is dropped
  bool broken_ = false;     // the stream cannot be framed: everything passes, for the session to report
};

template <typename Verdict>
bool AnswerFilter::filter(const lms_dialect_functions* dialect, const uint8_t* data, size_t len,
                          std::string* out, Verdict&& verdict) {
  if (broken_) return false;
  std::string joined;
  if (!held_.empty()) {
    joined = std::move(held_);
    held_.clear();
    joined.append(reinterpret_cast<const char*>(data), len);
    data = reinterpret_cast<const uint8_t*>(joined.data());
    len = joined.size();
  }
  const bool had_held = !joined.empty();
  bool changed = had_held;
  size_t kept_from = 0;  // the start of the run of kept bytes not yet appended
  size_t pos = 0;
  auto keep_until = [&](size_t end) {
    if (end > kept_from) out->append(reinterpret_cast<const char*>(data) + kept_from, end - kept_from);
  };
  while (pos < len) {
    if (remaining_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
      if (dropping_) {
        keep_until(pos);
        kept_from = pos + take;
        changed = true;
      }
      pos += take;
      remaining_ -= take;
      continue;
    }
    lms_frame f{};
    f.struct_size = sizeof f;
    dialect->frame(LMS_FROM_SERVER, data + pos, len - pos, &f);
    const size_t available = len - pos;
    if (f.result == LMS_FRAME_NEED_MORE ||
        (f.result == LMS_FRAME_COMPLETE && available < std::min<uint64_t>(f.length, kHead))) {
      if (available > kHead) {
        broken_ = true;
        break;
      }
      keep_until(pos);
      held_.assign(reinterpret_cast<const char*>(data) + pos, available);
      kept_from = len;
      changed = true;
      pos = len;
      break;
    }
    if (f.result != LMS_FRAME_COMPLETE) {
      broken_ = true;
      break;
    }
    dropping_ =
        verdict(data + pos, static_cast<size_t>(std::min<uint64_t>(f.length, available))) == LMS_POOL_DROP;
    remaining_ = f.length;
  }
  if (!changed) return false;
  keep_until(len);
  return true;
}

}  // namespace lms::core
