#include "framing.h"

#include <gtest/gtest.h>

#include <vector>

#include "dialect.h"
#include "frame_scanner.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

const lms_dialect_functions kDialect = make_dialect_functions(5432, Flavor::kPostgres);

std::vector<uint8_t> msg(char type, std::string_view body) {
  MessageBuilder m;
  return m.begin(type).raw(body).end().take();
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

lms_frame frame(lms_direction d, const std::vector<uint8_t>& bytes) {
  lms_frame f{};
  f.struct_size = sizeof f;
  frame_message(d, bytes.data(), bytes.size(), &f);
  return f;
}

struct Seen {
  uint32_t cls;
  uint64_t length;
  uint32_t txn;
};

// Runs the scanner over `bytes` delivered in two reads split at `split`.
bool scan_split(lms_direction d, const std::vector<uint8_t>& bytes, size_t split, std::vector<Seen>* seen,
                const char** error = nullptr) {
  core::FrameScanner scanner(&kDialect, d);
  auto on = [&](const lms_frame& f) { seen->push_back({f.msg_class, f.length, f.txn_state}); };
  const bool ok =
      scanner.scan(bytes.data(), split, on) && scanner.scan(bytes.data() + split, bytes.size() - split, on);
  if (error != nullptr) *error = scanner.error();
  if (ok) {
    EXPECT_TRUE(scanner.at_boundary());
  }
  return ok;
}

TEST(Framing, OneQueryMessage) {
  const auto q = msg('Q', std::string("select 1") + '\0');
  const lms_frame f = frame(LMS_FROM_CLIENT, q);
  EXPECT_EQ(f.result, LMS_FRAME_COMPLETE);
  EXPECT_EQ(f.length, q.size());
  EXPECT_EQ(f.msg_class, LMS_MSG_QUERY);
}

TEST(Framing, PartialHeaderNeedsFiveBytes) {
  const auto q = msg('Q', "x");
  for (size_t n = 0; n < 5; ++n) {
    std::vector<uint8_t> part(q.begin(), q.begin() + static_cast<long>(n));
    const lms_frame f = frame(LMS_FROM_CLIENT, part);
    EXPECT_EQ(f.result, LMS_FRAME_NEED_MORE) << n;
    EXPECT_EQ(f.length, 5u);
  }
}

TEST(Framing, HeaderIsEnoughEvenWhenTheBodyIsNotThere) {
  // The core streams bodies; the framer must decide from the header alone.
  const auto d = msg('D', std::string(100000, 'x'));
  std::vector<uint8_t> header(d.begin(), d.begin() + 5);
  const lms_frame f = frame(LMS_FROM_SERVER, header);
  EXPECT_EQ(f.result, LMS_FRAME_COMPLETE);
  EXPECT_EQ(f.length, d.size());
  EXPECT_EQ(f.msg_class, LMS_MSG_ROW);
}

TEST(Framing, ReadyForQueryCarriesTransactionState) {
  for (const auto& [status, expected] : {std::pair{'I', LMS_TXN_IDLE}, std::pair{'T', LMS_TXN_IN_TRANSACTION},
                                         std::pair{'E', LMS_TXN_FAILED}}) {
    const auto z = msg('Z', std::string(1, status));
    const lms_frame f = frame(LMS_FROM_SERVER, z);
    EXPECT_EQ(f.result, LMS_FRAME_COMPLETE);
    EXPECT_EQ(f.msg_class, LMS_MSG_READY);
    EXPECT_EQ(f.txn_state, static_cast<uint32_t>(expected));
    std::vector<uint8_t> five(z.begin(), z.begin() + 5);
    EXPECT_EQ(frame(LMS_FROM_SERVER, five).result, LMS_FRAME_NEED_MORE);
    EXPECT_EQ(frame(LMS_FROM_SERVER, five).length, 6u);
  }
}

TEST(Framing, GarbageIsRefusedWithAReason) {
  const std::vector<std::pair<lms_direction, std::vector<uint8_t>>> cases = {
      {LMS_FROM_CLIENT, {'z', 0, 0, 0, 4}},              // unknown type
      {LMS_FROM_SERVER, {'Q', 0, 0, 0, 4}},              // a client message from the server
      {LMS_FROM_CLIENT, {'Q', 0, 0, 0, 3}},              // length below itself
      {LMS_FROM_CLIENT, {'Q', 0x7f, 0xff, 0xff, 0xff}},  // over 1 GiB
      {LMS_FROM_SERVER, {'Z', 0, 0, 0, 5, 'Q'}},         // unknown transaction status
      {LMS_FROM_SERVER, {'Z', 0, 0, 0, 9, 'I'}},         // ReadyForQuery of the wrong size
  };
  for (const auto& [d, bytes] : cases) {
    const lms_frame f = frame(d, bytes);
    EXPECT_EQ(f.result, LMS_FRAME_INVALID);
    ASSERT_NE(f.error, nullptr);
    EXPECT_GT(std::string(f.error).size(), 0u);
  }
}

TEST(Framing, EmptyInputNeedsMore) {
  const lms_frame f = frame(LMS_FROM_CLIENT, {});
  EXPECT_EQ(f.result, LMS_FRAME_NEED_MORE);
}

// An extended-protocol exchange and its answer, split at every byte: the scanner sees the same
// messages and lengths wherever the reads break.
TEST(FrameScanner, SameMessagesAtEverySplit) {
  const auto client =
      concat({msg('P', std::string("s1\0select $1\0\0\0", 15)), msg('B', std::string(14, '\0')),
              msg('E', std::string(5, '\0')), msg('S', ""), msg('Q', "begin\0"), msg('X', "")});
  const auto server = concat({msg('1', ""), msg('2', ""), msg('D', std::string(300, 'r')),
                              msg('C', "SELECT 1\0"), msg('Z', "I"), msg('C', "BEGIN\0"), msg('Z', "T")});
  for (const auto& [d, bytes, count] :
       {std::tuple{LMS_FROM_CLIENT, client, size_t{6}}, std::tuple{LMS_FROM_SERVER, server, size_t{7}}}) {
    std::vector<Seen> whole;
    ASSERT_TRUE(scan_split(d, bytes, bytes.size(), &whole));
    ASSERT_EQ(whole.size(), count);
    for (size_t split = 0; split <= bytes.size(); ++split) {
      std::vector<Seen> seen;
      ASSERT_TRUE(scan_split(d, bytes, split, &seen)) << split;
      ASSERT_EQ(seen.size(), whole.size()) << split;
      for (size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i].cls, whole[i].cls) << split;
        EXPECT_EQ(seen[i].length, whole[i].length) << split;
        EXPECT_EQ(seen[i].txn, whole[i].txn) << split;
      }
    }
  }
  std::vector<Seen> seen;
  ASSERT_TRUE(scan_split(LMS_FROM_SERVER, server, server.size(), &seen));
  EXPECT_EQ(seen.back().cls, LMS_MSG_READY);
  EXPECT_EQ(seen.back().txn, LMS_TXN_IN_TRANSACTION);
}

TEST(FrameScanner, GarbageAfterAGoodMessageIsCaughtAtEverySplit) {
  const auto bytes = concat({msg('Q', "select 1\0"), {'?', 1, 2, 3, 4, 5}});
  for (size_t split = 0; split <= bytes.size(); ++split) {
    std::vector<Seen> seen;
    const char* error = nullptr;
    EXPECT_FALSE(scan_split(LMS_FROM_CLIENT, bytes, split, &seen, &error)) << split;
    EXPECT_STREQ(error, "unknown message type from the client");
    EXPECT_EQ(seen.size(), 1u);
  }
}

TEST(FrameScanner, BoundaryOnlyBetweenMessages) {
  core::FrameScanner scanner(&kDialect, LMS_FROM_SERVER);
  const auto d = msg('D', "abcdef");
  auto ignore = [](const lms_frame&) {};
  ASSERT_TRUE(scanner.scan(d.data(), 3, ignore));
  EXPECT_FALSE(scanner.at_boundary());
  ASSERT_TRUE(scanner.scan(d.data() + 3, d.size() - 3, ignore));
  EXPECT_TRUE(scanner.at_boundary());
}

}  // namespace
}  // namespace lms::pgwire
