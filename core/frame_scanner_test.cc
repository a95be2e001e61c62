// The scanner over the PostgreSQL dialect's real framing, on byte vectors: one message, two in one
// buffer, empty input, a stream split at every byte (the messages seen and the bytes copied must
// not depend on where reads end), stopping after a message, and a broken stream.
#include "frame_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/pg_messages.h"

namespace lms::core {
namespace {

using namespace std::string_literals;

std::string message(char type, const std::string& body) { return pgtest::pg_message(type, body); }
using pgtest::postgres;

struct Walked {
  std::vector<uint32_t> classes;
  std::string copied;
  size_t consumed = 0;
  bool ok = true;
};

constexpr uint32_t kNone = UINT32_MAX;  // no message class

// Walks `stream` in reads of `piece` bytes; copies every message of class `copy_class`; stops
// after the first message of class `stop_class` (then reports the bytes consumed so far).
Walked walk_in_pieces(const std::string& stream, size_t piece, uint32_t copy_class = kNone,
                      uint32_t stop_class = kNone) {
  FrameScanner scanner(&postgres(), LMS_FROM_SERVER);
  Walked out;
  for (size_t at = 0; at < stream.size();) {
    const size_t n = std::min(piece, stream.size() - at);
    const auto walked = scanner.walk(
        reinterpret_cast<const uint8_t*>(stream.data() + at), n,
        [&](const lms_frame& f) -> unsigned {
          out.classes.push_back(f.msg_class);
          unsigned action = f.msg_class == copy_class ? kCopy : kPass;
          if (f.msg_class == stop_class) action |= kStopAfter;
          return action;
        },
        [&](const uint8_t* d, size_t len) { out.copied.append(reinterpret_cast<const char*>(d), len); });
    if (!walked) {
      out.ok = false;
      return out;
    }
    out.consumed += *walked;
    if (*walked < n) return out;  // stopped
    at += n;
  }
  return out;
}

const std::string kError = message('E', "SERROR\0C42P01\0Mno such table\0\0"s);
const std::string kAnswer = message('T', std::string(6, '\0')) + message('D', std::string(2, '\0')) +
                            message('C', "SELECT 1\0"s) + kError + message('Z', "I");

TEST(FrameScanner, OneMessageIsConsumedWhole) {
  const Walked w = walk_in_pieces(message('Z', "I"), 1 << 16);
  EXPECT_TRUE(w.ok);
  EXPECT_EQ(w.classes, std::vector<uint32_t>{LMS_MSG_READY});
  EXPECT_EQ(w.consumed, 6u);
}

TEST(FrameScanner, EmptyInputSeesNothing) {
  FrameScanner scanner(&postgres(), LMS_FROM_SERVER);
  const auto walked = scanner.walk(
      nullptr, 0, [](const lms_frame&) { return kPass; }, [](const uint8_t*, size_t) {});
  ASSERT_TRUE(walked);
  EXPECT_EQ(*walked, 0u);
  EXPECT_TRUE(scanner.at_boundary());
}

TEST(FrameScanner, SplitAtEveryByteSeesAndCopiesTheSame) {
  const Walked whole = walk_in_pieces(kAnswer, kAnswer.size(), LMS_MSG_ERROR);
  ASSERT_TRUE(whole.ok);
  EXPECT_EQ(whole.classes.size(), 5u);
  EXPECT_EQ(whole.copied, kError);  // the error's every byte, header included
  for (size_t piece = 1; piece < kAnswer.size(); ++piece) {
    const Walked split = walk_in_pieces(kAnswer, piece, LMS_MSG_ERROR);
    EXPECT_TRUE(split.ok) << piece;
    EXPECT_EQ(split.classes, whole.classes) << piece;
    EXPECT_EQ(split.copied, whole.copied) << piece;
    EXPECT_EQ(split.consumed, kAnswer.size()) << piece;
  }
}

TEST(FrameScanner, StopsWhereTheMarkedMessageEnds) {
  const std::string two_answers = kAnswer + message('C', "SELECT 2\0"s) + message('Z', "I");
  const Walked w = walk_in_pieces(two_answers, two_answers.size(), kNone, LMS_MSG_READY);
  EXPECT_EQ(w.consumed, kAnswer.size());  // the rest waits for the next walk
  EXPECT_EQ(w.classes.back(), LMS_MSG_READY);
  EXPECT_EQ(w.classes.size(), 5u);
}

TEST(FrameScanner, TracksMessageBoundaries) {
  FrameScanner scanner(&postgres(), LMS_FROM_SERVER);
  const std::string ready = message('Z', "I");
  ASSERT_TRUE(scanner.scan(reinterpret_cast<const uint8_t*>(ready.data()), 3, [](const lms_frame&) {}));
  EXPECT_FALSE(scanner.at_boundary());  // a header split across reads is held
  ASSERT_TRUE(scanner.scan(reinterpret_cast<const uint8_t*>(ready.data() + 3), 3, [](const lms_frame&) {}));
  EXPECT_TRUE(scanner.at_boundary());
}

TEST(FrameScanner, ABrokenStreamIsReported) {
  const std::string garbage = message('Z', "I") + "\x01\xFF\xFF\xFF\xFF"s;
  FrameScanner scanner(&postgres(), LMS_FROM_SERVER);
  const auto walked = scanner.walk(
      reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(),
      [](const lms_frame&) { return kPass; }, [](const uint8_t*, size_t) {});
  EXPECT_FALSE(walked);
  ASSERT_NE(scanner.error(), nullptr);
}

}  // namespace
}  // namespace lms::core
