// The MySQL side of a translation: commands decoded into neutral requests, neutral answers encoded
// into packets, checked byte by byte where the layout is the protocol's and, for whole answers,
// by the dialect's own Framer, which must delimit them exactly as it would a MariaDB server's.
#include "translate.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "framing.h"
#include "wire.h"

namespace lms::mysql {
namespace {

constexpr uint32_t kClientCaps = kProtocol41 | kSecureConnection | kMultiStatements | kMultiResults |
                                 kPsMultiResults | kPluginAuth | kTransactions | kDeprecateEof;

std::string packet(std::string_view payload, uint8_t seq = 0) {
  std::string out;
  append_packets(out, payload, seq);
  return out;
}

std::string command(uint8_t cmd, std::string_view body) {
  return packet(std::string(1, static_cast<char>(cmd)) + std::string(body));
}

struct Collected {
  std::string bytes;
  lms_emitter emitter{sizeof(lms_emitter), this, [](void* ctx, const uint8_t* d, size_t n) {
                        static_cast<Collected*>(ctx)->bytes.append(reinterpret_cast<const char*>(d), n);
                      }};
};

class TranslatorTest : public ::testing::Test {
 protected:
  explicit TranslatorTest(uint32_t caps = kClientCaps) : caps_(std::to_string(caps)) {}

  Translator make(const std::vector<lms_kv>& statements = {}) {
    const lms_kv params[] = {{{"capabilities", 12}, {caps_.data(), caps_.size()}},
                             {{"charset", 7}, {"45", 2}}};
    return Translator(params, 2, statements.data(), statements.size());
  }
  static lms_request next(Translator& t, const std::string& bytes, uint32_t expect = LMS_FRAME_COMPLETE) {
    t.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    lms_request r{};
    r.struct_size = sizeof r;
    EXPECT_EQ(t.next(&r), expect);
    return r;
  }
  static lms_answer event(uint32_t kind) {
    lms_answer a{};
    a.struct_size = sizeof a;
    a.kind = kind;
    return a;
  }
  // Feeds the client's command and the produced answer to a Framer: every packet must be
  // delimited, and the last one must end the answer.
  void expect_framed(const std::string& cmd, const std::string& answer, bool failed = false) {
    Framer framer(static_cast<uint32_t>(std::stoul(caps_)));
    lms_frame f{};
    f.struct_size = sizeof f;
    framer.next(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(cmd.data()), cmd.size(), &f);
    ASSERT_EQ(f.result, LMS_FRAME_COMPLETE);
    size_t at = 0;
    uint32_t last = 0;
    uint32_t flags = 0;
    while (at < answer.size()) {
      framer.next(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(answer.data()) + at, answer.size() - at,
                  &f);
      ASSERT_EQ(f.result, LMS_FRAME_COMPLETE) << "at " << at << ": " << (f.error ? f.error : "");
      last = f.msg_class;
      flags = f.flags;
      at += f.length;
    }
    EXPECT_EQ(at, answer.size());
    EXPECT_EQ(last, LMS_MSG_READY);
    EXPECT_EQ((flags & LMS_FRAME_FLAG_ERROR) != 0, failed);
    EXPECT_EQ(framer.pending_answers(), 0u);
  }

  std::string caps_;
};

TEST(MysqlParameterMarkers, SkipsStringsIdentifiersAndComments) {
  EXPECT_EQ(parameter_markers("SELECT ? , '?', \"?\", `?`, 'it''s ?', 'a\\'?' -- ?\n, ? # ?\n /* ? */ ?"),
            (std::vector<size_t>{7, 51, 66}));
  EXPECT_TRUE(parameter_markers("SELECT '?").empty());
}

TEST_F(TranslatorTest, AQueryAndItsResultSetWithTheServerStatus) {
  Translator t = make();
  const std::string cmd = command(kComQuery, "SELECT id, name FROM t");
  const lms_request r = next(t, cmd);
  EXPECT_EQ(r.kind, LMS_REQ_QUERY);
  EXPECT_EQ(std::string(r.text.data, r.text.len), "SELECT id, name FROM t");

  Collected out;
  lms_field fields[] = {{{"id", 2}, LMS_TYPE_INT32, {"int4", 4}}, {{"name", 4}, LMS_TYPE_TEXT, {"text", 4}}};
  lms_answer cols = event(LMS_ANS_COLUMNS);
  cols.fields = fields;
  cols.field_count = 2;
  t.answer(cols, &out.emitter);
  lms_value row[] = {{{"7", 1}, LMS_TYPE_INT32, 0}, {{}, LMS_TYPE_TEXT, 1}};
  lms_answer data = event(LMS_ANS_ROW);
  data.values = row;
  data.value_count = 2;
  t.answer(data, &out.emitter);
  lms_answer done = event(LMS_ANS_COMPLETE);
  done.affected_rows = 1;
  t.answer(done, &out.emitter);
  lms_answer ready = event(LMS_ANS_READY);
  ready.txn_state = LMS_TXN_IN_TRANSACTION;
  t.answer(ready, &out.emitter);

  expect_framed(cmd, out.bytes);
  // Column count 2 (seq 1), the definitions (seq 2, 3), the row: "7" and NULL (seq 4).
  EXPECT_EQ(out.bytes.substr(0, 5), packet("\x02", 1));
  EXPECT_NE(out.bytes.find(packet(std::string("\x01"
                                              "7\xFB",
                                              3),
                                  4)),
            std::string::npos);
  // The end: OK with the 0xFE header (deprecate-EOF), in a transaction, autocommit on.
  const std::string end = out.bytes.substr(out.bytes.size() - 11);
  EXPECT_EQ(end, packet(std::string("\xFE\x00\x00\x03\x00\x00\x00", 7), 5));
}

TEST_F(TranslatorTest, SeveralStatementsSayMoreResultsFollowUntilTheLast) {
  Translator t = make();
  const std::string cmd = command(kComQuery, "UPDATE a SET x = 1; UPDATE b SET x = 2");
  next(t, cmd);
  Collected out;
  lms_answer first = event(LMS_ANS_COMPLETE);
  first.affected_rows = 3;
  t.answer(first, &out.emitter);
  lms_answer second = event(LMS_ANS_COMPLETE);
  second.affected_rows = 4;
  t.answer(second, &out.emitter);
  t.answer(event(LMS_ANS_READY), &out.emitter);
  expect_framed(cmd, out.bytes);
  EXPECT_EQ(out.bytes, packet(std::string("\x00\x03\x00\x0A\x00\x00\x00", 7), 1) +
                           packet(std::string("\x00\x04\x00\x02\x00\x00\x00", 7), 2));
}

TEST_F(TranslatorTest, AnErrorIsMappedAndEndsTheAnswer) {
  Translator t = make();
  const std::string cmd = command(kComQuery, "INSERT INTO t VALUES (1)");
  next(t, cmd);
  Collected out;
  lms_answer e = event(LMS_ANS_ERROR);
  e.code = {"23505", 5};
  e.message = {"duplicate key", 13};
  t.answer(e, &out.emitter);
  t.answer(event(LMS_ANS_READY), &out.emitter);
  expect_framed(cmd, out.bytes, true);
  EXPECT_EQ(out.bytes, packet(std::string("\xFF\x26\x04#23000duplicate key", 22), 1));  // 1062
}

TEST_F(TranslatorTest, PrepareThenExecuteWithBinaryParametersAndRows) {
  Translator t = make();
  const std::string prepare = command(kComStmtPrepare, "SELECT n, d, t FROM x WHERE id = ? AND s = ?");
  lms_request r = next(t, prepare);
  ASSERT_EQ(r.kind, LMS_REQ_PREPARE);
  ASSERT_EQ(r.placeholder_count, 2u);
  EXPECT_EQ(r.placeholders[0], 33u);
  const std::string name(r.name.data, r.name.len);

  Collected prepared;
  lms_field cols[] = {
      {{"n", 1}, LMS_TYPE_INT64, {}}, {{"d", 1}, LMS_TYPE_DATE, {}}, {{"t", 1}, LMS_TYPE_TIMESTAMP, {}}};
  lms_answer describe = event(LMS_ANS_COLUMNS);
  describe.fields = cols;
  describe.field_count = 3;
  t.answer(describe, &prepared.emitter);
  t.answer(event(LMS_ANS_READY), &prepared.emitter);
  expect_framed(prepare, prepared.bytes);
  // COM_STMT_PREPARE_OK: statement 1, 3 columns, 2 parameters.
  EXPECT_EQ(prepared.bytes.substr(0, 16),
            packet(std::string("\x00\x01\x00\x00\x00\x03\x00\x02\x00\x00\x00\x00", 12), 1));

  // Execute: id 1, no cursor, 1 iteration, null bitmap 0, types bound: LONGLONG, VAR_STRING.
  std::string body("\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\xFD\x00", 15);
  body += std::string("\xD2\x04\x00\x00\x00\x00\x00\x00", 8);  // 1234
  body += std::string(
      "\x03"
      "abc",
      4);
  const std::string execute = command(kComStmtExecute, body);
  r = next(t, execute);
  ASSERT_EQ(r.kind, LMS_REQ_EXECUTE);
  EXPECT_EQ(std::string(r.name.data, r.name.len), name);
  EXPECT_EQ(r.prepared, 1);
  ASSERT_EQ(r.param_count, 2u);
  EXPECT_EQ(std::string(r.params[0].text.data, r.params[0].text.len), "1234");
  EXPECT_EQ(r.params[0].type, uint32_t{LMS_TYPE_INT64});
  EXPECT_EQ(std::string(r.params[1].text.data, r.params[1].text.len), "abc");

  Collected rows;
  t.answer(describe, &rows.emitter);
  lms_value values[] = {
      {{"-5", 2}, LMS_TYPE_INT64, 0}, {{"2024-02-29", 10}, LMS_TYPE_DATE, 0}, {{}, LMS_TYPE_TIMESTAMP, 1}};
  lms_answer row = event(LMS_ANS_ROW);
  row.values = values;
  row.value_count = 3;
  t.answer(row, &rows.emitter);
  lms_answer done = event(LMS_ANS_COMPLETE);
  done.returns_rows = 1;
  t.answer(done, &rows.emitter);
  t.answer(event(LMS_ANS_READY), &rows.emitter);
  expect_framed(execute, rows.bytes);
  // The binary row: header, null bitmap (the third column, bit 2 + 2), -5 as 8 bytes, the date.
  const std::string binary_row("\x00\x10\xFB\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x04\xE8\x07\x02\x1D", 15);
  EXPECT_NE(rows.bytes.find(packet(binary_row, 5)), std::string::npos);
}

TEST_F(TranslatorTest, StatementsPreparedBeforeAreRunWithTheTypesTheyWereBoundWith) {
  // The session's record: statement 7 prepared, and a run of it that bound one LONG.
  const std::string prepare = command(kComStmtPrepare, "SELECT c FROM t WHERE id = ?");
  const std::string typed =
      command(kComStmtExecute,
              std::string("\x07\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x00\x05\x00\x00\x00", 17));
  const std::string record = prepare + typed;
  const char id[4] = {7, 0, 0, 0};
  Translator t = make({{{id, 4}, {record.data(), record.size()}}});
  // A run without types (new-params-bound 0): the statement is defined on first use.
  const lms_request r =
      next(t, command(kComStmtExecute,
                      std::string("\x07\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x2A\x00\x00\x00", 15)));
  ASSERT_EQ(r.kind, LMS_REQ_EXECUTE);
  EXPECT_EQ(r.prepared, 0);
  EXPECT_EQ(std::string(r.text.data, r.text.len), "SELECT c FROM t WHERE id = ?");
  ASSERT_EQ(r.param_count, 1u);
  EXPECT_EQ(std::string(r.params[0].text.data, r.params[0].text.len), "42");
  // A new statement gets an id after every id the client holds.
  const lms_request p = next(t, command(kComStmtPrepare, "SELECT 1"));
  EXPECT_EQ(std::string(p.name.data, p.name.len), "8");
}

TEST_F(TranslatorTest, UnknownStatementsAndCommandsAreRefusedInTurn) {
  Translator t = make();
  const std::string execute =
      command(kComStmtExecute, std::string("\x09\x00\x00\x00\x00\x01\x00\x00\x00", 9));
  const lms_request r = next(t, execute);
  EXPECT_EQ(r.kind, LMS_REQ_PING);  // answered when the database's round trip comes back
  Collected out;
  t.answer(event(LMS_ANS_READY), &out.emitter);
  expect_framed(execute, out.bytes, true);
  EXPECT_NE(out.bytes.find("Unknown prepared statement handler (9)"), std::string::npos);
}

TEST_F(TranslatorTest, BrokenAndPartialInputNeverCrashes) {
  Translator t = make();
  next(t, std::string("\x05\x00\x00", 3), LMS_FRAME_NEED_MORE);
  Translator empty = make();
  next(empty, packet(""), LMS_FRAME_INVALID);
  Translator truncated = make();
  next(truncated, command(kComStmtExecute, "\x01"), LMS_FRAME_INVALID);
  // Every prefix of every command, and garbage after a command.
  const std::string all =
      command(kComQuery, "SELECT 1") + command(kComStmtPrepare, "SELECT ?") +
      command(kComStmtExecute, std::string("\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x06\x00", 13)) +
      command(kComStmtClose, std::string("\x01\x00\x00\x00", 4)) + command(kComPing, "");
  for (size_t n = 0; n <= all.size(); ++n) {
    Translator p = make();
    p.feed(reinterpret_cast<const uint8_t*>(all.data()), n);
    lms_request r{};
    r.struct_size = sizeof r;
    for (int i = 0; i < 10 && p.next(&r) == LMS_FRAME_COMPLETE; ++i) {
    }
  }
}

class TranslatorWithEof : public TranslatorTest {
 protected:
  TranslatorWithEof() : TranslatorTest(kClientCaps & ~kDeprecateEof) {}
};

TEST_F(TranslatorWithEof, ResultSetsEndWithEofPacketsForOlderClients) {
  Translator t = make();
  const std::string cmd = command(kComQuery, "SELECT true");
  next(t, cmd);
  Collected out;
  lms_field field{{"b", 1}, LMS_TYPE_BOOL, {"bool", 4}};
  lms_answer cols = event(LMS_ANS_COLUMNS);
  cols.fields = &field;
  cols.field_count = 1;
  t.answer(cols, &out.emitter);
  lms_value v{{"1", 1}, LMS_TYPE_BOOL, 0};
  lms_answer row = event(LMS_ANS_ROW);
  row.values = &v;
  row.value_count = 1;
  t.answer(row, &out.emitter);
  lms_answer done = event(LMS_ANS_COMPLETE);
  done.returns_rows = 1;
  t.answer(done, &out.emitter);
  t.answer(event(LMS_ANS_READY), &out.emitter);
  expect_framed(cmd, out.bytes);
  EXPECT_EQ(out.bytes.substr(out.bytes.size() - 9), packet(std::string("\xFE\x00\x00\x02\x00", 5), 5));
  // A boolean is tinyint(1): type 0x01, length 1.
  EXPECT_NE(out.bytes.find(std::string("\x3F\x00\x01\x00\x00\x00\x01", 7)), std::string::npos);
}

}  // namespace
}  // namespace lms::mysql
