// The MySQL summarizer on answers built packet by packet: what it counts, names and hashes, fed in
// pieces of any size, with and without the EOF packets of older clients.
#include "summary.h"

#include <gtest/gtest.h>

#include <string>

#include "wire.h"

namespace lms::mysql {
namespace {

std::string packet(std::string_view payload, uint8_t seq) {
  std::string out;
  append_packets(out, payload, seq);
  return out;
}

std::string column(std::string_view name, uint8_t type) {
  Writer w;
  for (std::string_view part : {std::string_view("def"), std::string_view(""), std::string_view(""),
                                std::string_view(""), name, name}) {
    w.lenenc_string(part);
  }
  w.lenenc(0x0c);
  w.u16(63);
  w.u32(11);
  w.u8(type);
  w.u16(0);
  w.u8(0);
  w.u16(0);
  return w.str();
}

std::string text_row(std::string_view a, std::string_view b) {
  Writer w;
  w.lenenc_string(a);
  w.lenenc_string(b);
  return w.str();
}

// Two columns, the given rows, and the end: OK with 0xFE (deprecate-EOF) or EOF packets.
std::string result_set(const std::vector<std::string>& rows, bool eof_packets) {
  uint8_t seq = 1;
  std::string out = packet("\x02", seq++);
  out += packet(column("id", 0x03), seq++);
  out += packet(column("name", 0xfd), seq++);
  if (eof_packets) out += packet(std::string("\xFE\x00\x00\x02\x00", 5), seq++);
  for (const std::string& r : rows) out += packet(r, seq++);
  out += eof_packets ? packet(std::string("\xFE\x00\x00\x02\x00", 5), seq)
                     : packet(std::string("\xFE\x00\x00\x02\x00\x00\x00", 7), seq);
  return out;
}

lms_result_summary summarize(ResultSummarizer& s, const std::string& bytes, size_t piece) {
  s.reset();
  for (size_t at = 0; at < bytes.size(); at += piece) {
    s.feed(reinterpret_cast<const uint8_t*>(bytes.data()) + at, std::min(piece, bytes.size() - at));
  }
  lms_result_summary out{};
  out.struct_size = sizeof out;
  s.get(&out);
  return out;
}

TEST(MysqlSummary, ColumnsRowsAndTagsWhateverThePieces) {
  ResultSummarizer s(nullptr, 0);
  const std::string answer = result_set({text_row("1", "a"), text_row("2", "b")}, false);
  const lms_result_summary whole = summarize(s, answer, answer.size());
  EXPECT_EQ(whole.result_sets, 1u);
  ASSERT_EQ(whole.column_count, 2u);
  EXPECT_EQ(std::string(whole.columns[0].name.data, whole.columns[0].name.len), "id");
  EXPECT_EQ(std::string(whole.columns[0].type.data, whole.columns[0].type.len), "LONG");
  EXPECT_EQ(whole.rows, 2u);
  EXPECT_EQ(std::string(whole.tag.data, whole.tag.len), "ROWS 2");
  EXPECT_EQ(whole.complete, 1);
  const uint64_t checksum = whole.checksum;
  for (size_t piece : {1u, 3u, 7u}) {
    const lms_result_summary split = summarize(s, answer, piece);
    EXPECT_EQ(split.checksum, checksum) << piece;
    EXPECT_EQ(split.rows, 2u);
  }
  // The same rows in another order, and with the EOF packets of older clients: the same summary.
  const lms_result_summary reordered =
      summarize(s, result_set({text_row("2", "b"), text_row("1", "a")}, true), 5);
  EXPECT_EQ(reordered.rows, 2u);
  EXPECT_EQ(reordered.checksum, checksum);
  EXPECT_EQ(std::string(reordered.tag.data, reordered.tag.len), "ROWS 2");
  // One value differs: the checksum does.
  EXPECT_NE(summarize(s, result_set({text_row("1", "a"), text_row("2", "c")}, false), 4).checksum, checksum);
}

TEST(MysqlSummary, OkAndErrPackets) {
  ResultSummarizer s(nullptr, 0);
  const std::string ok = packet(std::string("\x00\x03\x00\x0A\x00\x00\x00", 7), 1) +
                         packet(std::string("\x00\x01\x00\x02\x00\x00\x00", 7), 2);
  lms_result_summary out = summarize(s, ok, 2);
  EXPECT_EQ(std::string(out.tag.data, out.tag.len), "OK 3;OK 1");
  EXPECT_EQ(out.error_code.len, 0u);
  out = summarize(s, packet(std::string("\xFF\x26\x04#23000Duplicate entry", 24), 1), 3);
  EXPECT_EQ(std::string(out.error_code.data, out.error_code.len), "23000");
  EXPECT_EQ(std::string(out.error_message.data, out.error_message.len), "Duplicate entry");
  // Cut short: not to be trusted.
  out = summarize(s, ok.substr(0, 9), 9);
  EXPECT_EQ(out.complete, 0);
}

TEST(MysqlSummary, AnIgnoredColumnMakesTheChecksumUntrusted) {
  const lms_str ignored[] = {{"NAME", 4}};
  ResultSummarizer s(ignored, 1);
  EXPECT_EQ(summarize(s, result_set({text_row("1", "a")}, false), 64).complete, 0);
}

}  // namespace
}  // namespace lms::mysql
