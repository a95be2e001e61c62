// The framer on byte sequences as MySQL servers send them: each answer's end must be found
// exactly, whatever the capabilities, and garbage must be refused, never misread.
#include "framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire.h"

namespace lms::mysql {
namespace {

std::string packet(std::string payload, uint8_t seq = 0) {
  std::string out;
  append_packets(out, payload, seq);
  return out;
}

std::string ok(uint16_t status, uint8_t header = 0x00) {
  std::string p(1, static_cast<char>(header));
  p += '\0';  // affected rows
  p += '\0';  // insert id
  p += static_cast<char>(status & 0xFF);
  p += static_cast<char>(status >> 8);
  p += std::string(2, '\0');
  return packet(p);
}

std::string eof(uint16_t status) {
  std::string p = "\xFE";
  p += std::string(2, '\0');
  p += static_cast<char>(status & 0xFF);
  p += static_cast<char>(status >> 8);
  return packet(p);
}

std::string err() { return packet(std::string("\xFF\x7a\x04#42S02no such table", 20)); }
std::string column() {
  return packet(
      std::string("\x03"
                  "def\x00\x00\x00\x01x\x00\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00",
                  24));
}
std::string row(const std::string& value) {
  return packet(std::string(1, static_cast<char>(value.size())) + value);
}
std::string command(uint8_t c, const std::string& body = "") {
  return packet(std::string(1, static_cast<char>(c)) + body);
}

struct Seen {
  uint32_t msg_class;
  uint32_t txn_state;
  uint32_t flags;
};

// Frames a whole stream from one direction; fails the test on anything but COMPLETE.
std::vector<Seen> frame_all(Framer& f, lms_direction d, const std::string& stream) {
  std::vector<Seen> out;
  size_t at = 0;
  while (at < stream.size()) {
    lms_frame fr{};
    fr.struct_size = sizeof fr;
    f.next(d, reinterpret_cast<const uint8_t*>(stream.data() + at), stream.size() - at, &fr);
    EXPECT_EQ(fr.result, LMS_FRAME_COMPLETE) << (fr.error ? fr.error : "") << " at " << at;
    if (fr.result != LMS_FRAME_COMPLETE) break;
    out.push_back({fr.msg_class, fr.txn_state, fr.flags});
    at += fr.length;
  }
  return out;
}

std::vector<uint32_t> classes(const std::vector<Seen>& seen) {
  std::vector<uint32_t> out;
  for (const auto& s : seen) out.push_back(s.msg_class);
  return out;
}

TEST(MysqlFramer, ResultSetWithEofPackets) {
  Framer f(kProtocol41 | kMultiResults);
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT x"))),
            std::vector<uint32_t>{LMS_MSG_QUERY});
  const std::string answer = packet("\x01") + column() + eof(2) + row("a") + row("bb") + eof(2);
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, answer)),
            (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_ROW, LMS_MSG_ROW,
                                   LMS_MSG_READY}));
  EXPECT_EQ(f.pending_answers(), 0u);
}

TEST(MysqlFramer, ResultSetWithDeprecateEof) {
  Framer f(kProtocol41 | kDeprecateEof);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT x"));
  const std::string answer = packet("\x01") + column() + row("a") + ok(kStatusInTrans, 0xFE);
  const auto seen = frame_all(f, LMS_FROM_SERVER, answer);
  EXPECT_EQ(classes(seen), (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_ROW, LMS_MSG_READY}));
  EXPECT_EQ(seen.back().txn_state, LMS_TXN_IN_TRANSACTION);
}

TEST(MysqlFramer, MultipleResultsEndOnlyWithoutMoreResults) {
  Framer f(kProtocol41 | kMultiResults | kMultiStatements);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT 1; UPDATE t; SELECT 2"));
  const std::string answer = packet("\x01") + column() + eof(kStatusMoreResults) + row("1") +
                             eof(kStatusMoreResults) + ok(kStatusMoreResults) + packet("\x01") + column() +
                             eof(0) + row("2") + eof(0);
  const auto seen = frame_all(f, LMS_FROM_SERVER, answer);
  ASSERT_EQ(seen.size(), 11u);
  for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_NE(seen[i].msg_class, LMS_MSG_READY) << i;
  EXPECT_EQ(seen.back().msg_class, LMS_MSG_READY);
}

TEST(MysqlFramer, AnErrorEndsTheAnswerAndIsFlagged) {
  Framer f(kProtocol41);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT * FROM missing"));
  const auto seen = frame_all(f, LMS_FROM_SERVER, err());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].msg_class, LMS_MSG_READY);
  EXPECT_EQ(seen[0].flags & LMS_FRAME_FLAG_ERROR, LMS_FRAME_FLAG_ERROR);
  // Mid-rows too.
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT x"));
  EXPECT_EQ(
      classes(frame_all(f, LMS_FROM_SERVER, packet("\x01") + column() + eof(0) + row("a") + err())).back(),
      LMS_MSG_READY);
  EXPECT_EQ(f.pending_answers(), 0u);
}

TEST(MysqlFramer, PreparedStatementsAnswersAndBinaryRows) {
  for (const bool deprecate : {false, true}) {
    Framer f(kProtocol41 | (deprecate ? uint32_t{kDeprecateEof} : 0u));
    frame_all(f, LMS_FROM_CLIENT, command(kComStmtPrepare, "SELECT ?, ?"));
    // stmt id 1, 1 column, 2 params.
    std::string prepare_ok = packet(std::string("\x00\x01\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00", 12));
    std::string answer =
        prepare_ok + column() + column() + (deprecate ? "" : eof(2)) + column() + (deprecate ? "" : eof(2));
    auto seen = frame_all(f, LMS_FROM_SERVER, answer);
    EXPECT_EQ(seen.back().msg_class, LMS_MSG_READY) << deprecate;
    EXPECT_EQ(seen.size(), deprecate ? 4u : 6u);
    // EXECUTE: binary rows start with 0x00, like an OK; only the stage tells them apart.
    frame_all(f, LMS_FROM_CLIENT,
              command(kComStmtExecute, std::string("\x01\x00\x00\x00\x00\x01\x00\x00\x00", 9)));
    answer = packet("\x01") + column() + (deprecate ? "" : eof(2)) + packet(std::string("\x00\x00\x01x", 4)) +
             (deprecate ? ok(2, 0xFE) : eof(2));
    seen = frame_all(f, LMS_FROM_SERVER, answer);
    EXPECT_EQ(seen.back().msg_class, LMS_MSG_READY);
    EXPECT_EQ(seen[seen.size() - 2].msg_class, LMS_MSG_ROW);
    // CLOSE is not answered; the next command's answer still ends where it should.
    EXPECT_EQ(
        classes(frame_all(f, LMS_FROM_CLIENT, command(kComStmtClose, std::string("\x01\x00\x00\x00", 4)))),
        std::vector<uint32_t>{LMS_MSG_NO_ANSWER});
    frame_all(f, LMS_FROM_CLIENT, command(kComPing));
    EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, ok(2))), std::vector<uint32_t>{LMS_MSG_READY});
  }
}

// SERVER_STATUS_CURSOR_EXISTS after a result set's columns means "rows come with COM_STMT_FETCH"
// only for an execute that asked for a cursor; a stored procedure with a cursor of its own open
// sets it on its CALL's result sets, whose rows follow as usual.
TEST(MysqlFramer, CursorExistsEndsOnlyAnExecuteThatAskedForACursor) {
  constexpr uint16_t kOpenCursor = kStatusCursorExists | kStatusAutocommit;
  Framer f(kProtocol41 | kMultiResults | kPsMultiResults);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "CALL p()"));
  auto seen = frame_all(f, LMS_FROM_SERVER,
                        packet("\x01") + column() + eof(kOpenCursor | kStatusMoreResults) + row("1") +
                            row("2") + eof(kOpenCursor | kStatusMoreResults) + ok(kStatusAutocommit));
  EXPECT_EQ(classes(seen), (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_ROW,
                                                  LMS_MSG_ROW, LMS_MSG_COMPLETE, LMS_MSG_READY}));
  EXPECT_EQ(f.pending_answers(), 0u);
  // The same CALL run through the binary protocol without a cursor: as above.
  const std::string no_cursor("\x01\x00\x00\x00\x00\x01\x00\x00\x00", 9);
  frame_all(f, LMS_FROM_CLIENT, command(kComStmtExecute, no_cursor));
  seen = frame_all(f, LMS_FROM_SERVER,
                   packet("\x01") + column() + eof(kOpenCursor | kStatusMoreResults) +
                       packet(std::string("\x00\x00\x01x", 4)) + eof(kOpenCursor | kStatusMoreResults) +
                       ok(kStatusAutocommit));
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen.back().msg_class, LMS_MSG_READY);
  // An execute with CURSOR_TYPE_READ_ONLY: the answer ends after the columns' EOF...
  const std::string read_only("\x01\x00\x00\x00\x01\x01\x00\x00\x00", 9);
  frame_all(f, LMS_FROM_CLIENT, command(kComStmtExecute, read_only));
  seen = frame_all(f, LMS_FROM_SERVER, packet("\x01") + column() + eof(kOpenCursor));
  EXPECT_EQ(classes(seen), (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_READY}));
  // ...and the rows come with each fetch.
  frame_all(f, LMS_FROM_CLIENT, command(kComStmtFetch, std::string("\x01\x00\x00\x00\x01\x00\x00\x00", 8)));
  seen = frame_all(f, LMS_FROM_SERVER, packet(std::string("\x00\x00\x01x", 4)) + eof(kOpenCursor));
  EXPECT_EQ(classes(seen), (std::vector<uint32_t>{LMS_MSG_ROW, LMS_MSG_READY}));
  EXPECT_EQ(f.pending_answers(), 0u);
}

TEST(MysqlFramer, TransactionStateFollowsTheStatusFlags) {
  Framer f(kProtocol41);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "BEGIN"));
  EXPECT_EQ(frame_all(f, LMS_FROM_SERVER, ok(kStatusInTrans | kStatusAutocommit)).back().txn_state,
            LMS_TXN_IN_TRANSACTION);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT * FROM missing"));
  // An error says nothing of the transaction: it is still open.
  EXPECT_EQ(frame_all(f, LMS_FROM_SERVER, err()).back().txn_state, LMS_TXN_IN_TRANSACTION);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "COMMIT"));
  EXPECT_EQ(frame_all(f, LMS_FROM_SERVER, ok(kStatusAutocommit)).back().txn_state, LMS_TXN_IDLE);
}

TEST(MysqlFramer, MessagesOf16MegabytesSpanPackets) {
  Framer f(kProtocol41);
  std::string big(kMaxPayload + 10, 'q');
  big[0] = kComQuery;
  const auto seen = frame_all(f, LMS_FROM_CLIENT, packet(big));
  EXPECT_EQ(classes(seen), (std::vector<uint32_t>{LMS_MSG_EXTENDED, LMS_MSG_QUERY}));
  // A row of 16 MB: its continuation is a row too, even where it starts with 0xFE.
  std::string value(kMaxPayload + 5, '\xFE');
  std::string row_payload = "\xFE";
  for (int i = 0; i < 8; ++i) row_payload += static_cast<char>(((value.size()) >> (8 * i)) & 0xFF);
  row_payload += value;
  const std::string answer = packet("\x01") + column() + eof(0) + packet(row_payload) + eof(0);
  const auto rows = frame_all(f, LMS_FROM_SERVER, answer);
  EXPECT_EQ(classes(rows), (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_ROW,
                                                  LMS_MSG_ROW, LMS_MSG_READY}));
}

TEST(MysqlFramer, OtherAnswers) {
  Framer f(kProtocol41);
  frame_all(f, LMS_FROM_CLIENT, command(kComStatistics));
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, packet("Uptime: 5  Threads: 1"))),
            std::vector<uint32_t>{LMS_MSG_READY});
  frame_all(f, LMS_FROM_CLIENT, command(kComFieldList, std::string("t\0", 2)));
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, column() + column() + eof(2))),
            (std::vector<uint32_t>{LMS_MSG_OTHER, LMS_MSG_OTHER, LMS_MSG_READY}));
  frame_all(f, LMS_FROM_CLIENT, command(kComSetOption, std::string("\x00\x00", 2)));
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, eof(2))), std::vector<uint32_t>{LMS_MSG_READY});
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_CLIENT, command(kComQuit))),
            std::vector<uint32_t>{LMS_MSG_TERMINATE});
}

TEST(MysqlFramer, RefusesWhatItCannotCarry) {
  Framer f(kProtocol41);
  // COM_CHANGE_USER is the core's and the front's to answer (ABI 1.9), never the database's.
  const std::string change_user = command(kComChangeUser, "root");
  lms_frame fr{};
  f.next(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(change_user.data()), change_user.size(), &fr);
  EXPECT_EQ(fr.result, LMS_FRAME_COMPLETE);
  EXPECT_EQ(fr.msg_class, LMS_MSG_CHANGE_USER);
  const std::string dump = command(kComBinlogDump, "x");
  f.next(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(dump.data()), dump.size(), &fr);
  EXPECT_EQ(fr.result, LMS_FRAME_INVALID);
  EXPECT_NE(std::string(fr.error).find("replication"), std::string::npos);
  // A server packet nothing asked for.
  const std::string stray = row("x");
  f.next(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(stray.data()), stray.size(), &fr);
  EXPECT_EQ(fr.result, LMS_FRAME_INVALID);
  // LOCAL INFILE requests (never asked for by lms).
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "LOAD DATA LOCAL INFILE 'x' INTO TABLE t"));
  const std::string infile = packet("\xFBx");
  f.next(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(infile.data()), infile.size(), &fr);
  EXPECT_EQ(fr.result, LMS_FRAME_INVALID);
}

TEST(MysqlFramer, ShortReadsAskForMoreAndChangeNothing) {
  Framer f(kProtocol41);
  frame_all(f, LMS_FROM_CLIENT, command(kComQuery, "SELECT 1"));
  const std::string answer = ok(kStatusInTrans);
  for (size_t cut = 0; cut < answer.size(); ++cut) {
    lms_frame fr{};
    f.next(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(answer.data()), cut, &fr);
    EXPECT_EQ(fr.result, LMS_FRAME_NEED_MORE) << cut;
    EXPECT_LE(fr.length, 32u);
  }
  EXPECT_EQ(f.pending_answers(), 1u);
  EXPECT_EQ(classes(frame_all(f, LMS_FROM_SERVER, answer)), std::vector<uint32_t>{LMS_MSG_READY});
}

}  // namespace
}  // namespace lms::mysql
