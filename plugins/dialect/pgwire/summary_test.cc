#include "summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "normalize.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes row_description(const std::vector<std::pair<std::string, uint32_t>>& columns) {
  MessageBuilder b;
  b.begin('T');
  const uint16_t n = static_cast<uint16_t>(columns.size());
  b.u8(static_cast<uint8_t>(n >> 8)).u8(static_cast<uint8_t>(n));
  for (const auto& [name, oid] : columns) {
    b.cstr(name).u32(0).u8(0).u8(0).u32(oid).u8(0).u8(4).u32(0xffffffffu).u8(0).u8(0);
  }
  return b.end().take();
}

// A DataRow; a value of nullptr is NULL.
Bytes data_row(const std::vector<const char*>& values) {
  MessageBuilder b;
  b.begin('D');
  const uint16_t n = static_cast<uint16_t>(values.size());
  b.u8(static_cast<uint8_t>(n >> 8)).u8(static_cast<uint8_t>(n));
  for (const char* v : values) {
    if (v == nullptr) {
      b.u32(0xffffffffu);
    } else {
      b.u32(static_cast<uint32_t>(std::string_view(v).size())).raw(std::string_view(v));
    }
  }
  return b.end().take();
}

Bytes complete(std::string_view tag) { return MessageBuilder().begin('C').cstr(tag).end().take(); }

Bytes error(std::string_view code, std::string_view message) {
  return MessageBuilder().begin('E').u8('S').cstr("ERROR").u8('C').cstr(code).u8('M').cstr(message).u8(0).end().take();
}

Bytes ready() { return MessageBuilder().begin('Z').u8('I').end().take(); }

Bytes join(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Summary {
  uint32_t result_sets;
  std::vector<std::pair<std::string, std::string>> columns;
  uint64_t rows;
  uint64_t checksum;
  std::string tag;
  std::string error_code;
  std::string error_message;
  bool complete;
};

// Feeds `answer` in pieces of `piece` bytes (every split point gets exercised across the tests).
Summary summarize(const Bytes& answer, size_t piece = 1 << 20, std::vector<std::string> ignored = {}) {
  std::vector<lms_str> names;
  for (const std::string& n : ignored) names.push_back({n.data(), n.size()});
  ResultSummarizer s(names.data(), names.size());
  for (size_t at = 0; at < answer.size(); at += piece) {
    s.feed(answer.data() + at, std::min(piece, answer.size() - at));
  }
  lms_result_summary out{};
  out.struct_size = sizeof out;
  s.get(&out);
  Summary r{out.result_sets, {}, out.rows, out.checksum,
            std::string(out.tag.data, out.tag.len), std::string(out.error_code.data, out.error_code.len),
            std::string(out.error_message.data, out.error_message.len), out.complete != 0};
  for (size_t i = 0; i < out.column_count; ++i) {
    r.columns.emplace_back(std::string(out.columns[i].name.data, out.columns[i].name.len),
                           std::string(out.columns[i].type.data, out.columns[i].type.len));
  }
  return r;
}

const Bytes kAnswer = join({row_description({{"id", 23}, {"name", 25}, {"at", 1184}}),
                            data_row({"1", "ann", "2026-01-01"}), data_row({"2", nullptr, "2026-01-02"}),
                            data_row({"3", "", "2026-01-03"}), complete("SELECT 3"), ready()});

TEST(Summary, DescribesColumnsRowsAndTag) {
  const Summary s = summarize(kAnswer);
  EXPECT_EQ(s.result_sets, 1u);
  ASSERT_EQ(s.columns.size(), 3u);
  EXPECT_EQ(s.columns[0], std::make_pair(std::string("id"), std::string("int4")));
  EXPECT_EQ(s.columns[1].second, "text");
  EXPECT_EQ(s.columns[2].second, "timestamptz");
  EXPECT_EQ(s.rows, 3u);
  EXPECT_EQ(s.tag, "SELECT 3");
  EXPECT_TRUE(s.error_code.empty());
  EXPECT_TRUE(s.complete);
  EXPECT_NE(s.checksum, 0u);
}

TEST(Summary, TheSameWhateverTheReadSizes) {
  const Summary whole = summarize(kAnswer);
  for (size_t piece : {1, 2, 3, 5, 7, 13}) {
    const Summary split = summarize(kAnswer, piece);
    EXPECT_EQ(split.checksum, whole.checksum) << piece;
    EXPECT_EQ(split.rows, whole.rows) << piece;
    EXPECT_EQ(split.columns, whole.columns) << piece;
    EXPECT_EQ(split.tag, whole.tag) << piece;
  }
}

TEST(Summary, ChecksumIgnoresRowOrderButNotValues) {
  const Bytes reordered = join({row_description({{"id", 23}, {"name", 25}, {"at", 1184}}),
                                data_row({"3", "", "2026-01-03"}), data_row({"1", "ann", "2026-01-01"}),
                                data_row({"2", nullptr, "2026-01-02"}), complete("SELECT 3"), ready()});
  EXPECT_EQ(summarize(reordered).checksum, summarize(kAnswer).checksum);
  // NULL and '' differ; so does one changed character.
  const Bytes null_for_empty = join({row_description({{"id", 23}, {"name", 25}, {"at", 1184}}),
                                     data_row({"1", "ann", "2026-01-01"}), data_row({"2", nullptr, "2026-01-02"}),
                                     data_row({"3", nullptr, "2026-01-03"}), complete("SELECT 3"), ready()});
  EXPECT_NE(summarize(null_for_empty).checksum, summarize(kAnswer).checksum);
  const Bytes changed = join({row_description({{"id", 23}, {"name", 25}, {"at", 1184}}),
                              data_row({"1", "amn", "2026-01-01"}), data_row({"2", nullptr, "2026-01-02"}),
                              data_row({"3", "", "2026-01-03"}), complete("SELECT 3"), ready()});
  EXPECT_NE(summarize(changed).checksum, summarize(kAnswer).checksum);
  // Values do not slide between columns.
  EXPECT_NE(summarize(join({data_row({"ab", "c"})})).checksum, summarize(join({data_row({"a", "bc"})})).checksum);
}

TEST(Summary, IgnoredColumnsLeaveTheChecksum) {
  const Bytes other_times = join({row_description({{"id", 23}, {"name", 25}, {"AT", 1184}}),
                                  data_row({"1", "ann", "1999-01-01"}), data_row({"2", nullptr, "1999-01-02"}),
                                  data_row({"3", "", "1999-01-03"}), complete("SELECT 3"), ready()});
  EXPECT_NE(summarize(other_times).checksum, summarize(kAnswer).checksum);
  EXPECT_EQ(summarize(other_times, 4, {"at"}).checksum, summarize(kAnswer, 1 << 20, {"At"}).checksum);
}

TEST(Summary, FirstErrorAndEveryTag) {
  const Bytes answer = join({complete("INSERT 0 1"), error("42P01", "relation \"nope\" does not exist"),
                             error("XX000", "second"), ready()});
  const Summary s = summarize(answer, 3);
  EXPECT_EQ(s.error_code, "42P01");
  EXPECT_EQ(s.error_message, "relation \"nope\" does not exist");
  EXPECT_EQ(s.tag, "INSERT 0 1");
  EXPECT_EQ(s.rows, 0u);
  const Bytes two = join({complete("BEGIN"), complete("UPDATE 2"), ready()});
  EXPECT_EQ(summarize(two).tag, "BEGIN;UPDATE 2");
}

TEST(Summary, ResetStartsTheNextAnswer) {
  ResultSummarizer s(nullptr, 0);
  s.feed(kAnswer.data(), 10);  // part of a message
  s.reset();
  s.feed(kAnswer.data(), kAnswer.size());
  lms_result_summary out{};
  out.struct_size = sizeof out;
  s.get(&out);
  EXPECT_EQ(out.rows, 3u);
  EXPECT_EQ(out.checksum, summarize(kAnswer).checksum);
  EXPECT_EQ(out.complete, 1);
}

TEST(Summary, AnAnswerCutShortIsIncomplete) {
  const Summary s = summarize(Bytes(kAnswer.begin(), kAnswer.begin() + 30));
  EXPECT_FALSE(s.complete);
}

TEST(Summary, UnknownTypesAreNamedByOid) {
  EXPECT_EQ(ResultSummarizer::type_name(16), "bool");
  EXPECT_EQ(ResultSummarizer::type_name(99999), "oid 99999");
}

TEST(Normalize, ReplacesLiteralsKeepsShape) {
  EXPECT_EQ(normalize_sql("SELECT * FROM t WHERE id = 42 AND name = 'o''brien'"),
            "SELECT * FROM t WHERE id = ? AND name = ?");
  EXPECT_EQ(normalize_sql("select  1.5e3,\n\t-7 ,x1 FROM \"T 1\" -- trailing\n"), "select ?, -? ,x1 FROM \"T 1\"");
  EXPECT_EQ(normalize_sql("UPDATE a SET b = $1 WHERE c = $2"), "UPDATE a SET b = $1 WHERE c = $2");
  EXPECT_EQ(normalize_sql("SELECT $$a 'b' c$$, $t$x$t$, E'it\\'s', X'ff' /* a /* nested */ c */ FROM d"),
            "SELECT ?, ?, ?, ? FROM d");
  EXPECT_EQ(normalize_sql("SELECT 'unterminated"), "SELECT ?");
  EXPECT_EQ(normalize_sql(""), "");
}

TEST(Normalize, SameStatementDifferentValuesGroupTogether) {
  EXPECT_EQ(normalize_sql("INSERT INTO t VALUES (1, 'a')"), normalize_sql("INSERT INTO t VALUES (22, 'bbb')"));
  EXPECT_NE(normalize_sql("INSERT INTO t VALUES (1)"), normalize_sql("INSERT INTO u VALUES (1)"));
}

}  // namespace
}  // namespace lms::pgwire
