// The PostgreSQL side of a translation: neutral requests as v3 messages, and a server's messages
// as neutral answer events, including what is converted on the way (booleans, bytea, tags).
#include "translate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire.h"

namespace lms::pgwire {
namespace {

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

lms_request request(uint32_t kind) {
  lms_request r{};
  r.struct_size = sizeof r;
  r.kind = kind;
  return r;
}

TEST(PgwireTranslate, PlaceholdersAreNumbered) {
  const size_t at[] = {7, 22};
  EXPECT_EQ(numbered_placeholders("SELECT ? FROM t WHERE ? > 0", at, 2), "SELECT $1 FROM t WHERE $2 > 0");
  EXPECT_EQ(numbered_placeholders("SELECT 1", nullptr, 0), "SELECT 1");
}

TEST(PgwireTranslate, RequestsBecomeMessages) {
  lms_request q = request(LMS_REQ_QUERY);
  q.text = {"SELECT 1", 8};
  EXPECT_EQ(as_string(encode_translated(q, UseDatabase::kSearchPath)),
            std::string("Q\0\0\0\x0dSELECT 1\0", 14));

  lms_request ping = request(LMS_REQ_PING);
  EXPECT_EQ(as_string(encode_translated(ping, UseDatabase::kSearchPath)), std::string("S\0\0\0\x04", 5));

  lms_request use = request(LMS_REQ_USE);
  use.text = {"sh\"op", 5};
  EXPECT_NE(
      as_string(encode_translated(use, UseDatabase::kSearchPath)).find("SET search_path TO \"sh\"\"op\""),
      std::string::npos);
  EXPECT_NE(as_string(encode_translated(use, UseDatabase::kSetDatabase)).find("SET database = \"sh\"\"op\""),
            std::string::npos);
}

TEST(PgwireTranslate, AnExecuteDefinesItsStatementWhenTheDatabaseLacksIt) {
  const size_t at[] = {27};
  const lms_value params[] = {{{"42", 2}, LMS_TYPE_INT64, 0}, {{"\x00\xFF", 2}, LMS_TYPE_BYTES, 0}};
  lms_request e = request(LMS_REQ_EXECUTE);
  e.name = {"3", 1};
  e.text = {"SELECT c FROM t WHERE id = ?", 28};
  e.placeholders = at;
  e.placeholder_count = 1;
  e.params = params;
  e.param_count = 2;
  const std::string fresh = as_string(encode_translated(e, UseDatabase::kSearchPath));
  // Close, Parse, Bind, Describe, Execute, Sync.
  std::string types;
  for (size_t i = 0; i < fresh.size();) {
    types += fresh[i];
    i += 1 + read_u32(reinterpret_cast<const uint8_t*>(fresh.data()) + i + 1);
  }
  EXPECT_EQ(types, "CPBDES");
  EXPECT_NE(fresh.find("SELECT c FROM t WHERE id = $1"), std::string::npos);
  // Parameter formats: text for the number, binary for the bytes.
  EXPECT_NE(fresh.find(std::string("\0\x02\0\0\0\x01\0\x02\0\0\0\x02"
                                   "42",
                                   14)),
            std::string::npos);

  e.prepared = 1;
  const std::string again = as_string(encode_translated(e, UseDatabase::kSearchPath));
  EXPECT_EQ(again[0], 'B');
}

class Decoded {
 public:
  explicit Decoded(AnswerDecoder& d) : d_(d) {}
  uint32_t next(lms_answer* a) {
    *a = lms_answer{};
    a->struct_size = sizeof *a;
    return d_.next(a);
  }

 private:
  AnswerDecoder& d_;
};

std::string message(char type, const std::string& body) {
  MessageBuilder m;
  m.begin(type).raw(body).end();
  return as_string(m.bytes());
}

TEST(PgwireTranslate, AnswersBecomeEventsWithNeutralValues) {
  AnswerDecoder d;
  // RowDescription: b bool (16), x bytea (17).
  std::string rd("\0\x02", 2);
  rd += std::string("b\0", 2) + std::string("\0\0\0\0\0\0\0\0\0\x10\0\x01\xFF\xFF\xFF\xFF\0\0", 18);
  rd += std::string("x\0", 2) + std::string("\0\0\0\0\0\0\0\0\0\x11\xFF\xFF\xFF\xFF\xFF\xFF\0\0", 18);
  std::string row("\0\x02\0\0\0\x01t\0\0\0\x06\\x00ff", 17);
  const std::string stream = message('T', rd) + message('D', row) +
                             message('C', std::string("SELECT 1\0", 9)) +
                             message('C', std::string("INSERT 0 3\0", 11)) + message('Z', "T");
  // Fed a byte at a time: nothing comes before a whole message.
  Decoded events(d);
  lms_answer a;
  std::vector<uint32_t> kinds;
  for (char c : stream) {
    d.feed(reinterpret_cast<const uint8_t*>(&c), 1);
    while (events.next(&a) == LMS_FRAME_COMPLETE) {
      kinds.push_back(a.kind);
      if (a.kind == LMS_ANS_COLUMNS) {
        ASSERT_EQ(a.field_count, 2u);
        EXPECT_EQ(a.fields[0].type, uint32_t{LMS_TYPE_BOOL});
        EXPECT_EQ(std::string(a.fields[1].type_name.data, a.fields[1].type_name.len), "bytea");
      }
      if (a.kind == LMS_ANS_ROW) {
        EXPECT_EQ(std::string(a.values[0].text.data, a.values[0].text.len), "1");
        EXPECT_EQ(std::string(a.values[1].text.data, a.values[1].text.len), std::string("\0\xFF", 2));
      }
      if (a.kind == LMS_ANS_COMPLETE && kinds.size() == 3) {
        EXPECT_EQ(a.returns_rows, 1);
      }
      if (a.kind == LMS_ANS_COMPLETE && kinds.size() == 4) {
        EXPECT_EQ(a.returns_rows, 0);
        EXPECT_EQ(a.affected_rows, 3u);
      }
      if (a.kind == LMS_ANS_READY) {
        EXPECT_EQ(a.txn_state, uint32_t{LMS_TXN_IN_TRANSACTION});
      }
    }
  }
  EXPECT_EQ(kinds, (std::vector<uint32_t>{LMS_ANS_COLUMNS, LMS_ANS_ROW, LMS_ANS_COMPLETE, LMS_ANS_COMPLETE,
                                          LMS_ANS_READY}));
}

TEST(PgwireTranslate, ErrorsAndBrokenStreams) {
  AnswerDecoder d;
  const std::string e =
      message('E', std::string("SERROR\0C23505\0Mduplicate key\0\0", 31)) + message('Z', "E");
  d.feed(reinterpret_cast<const uint8_t*>(e.data()), e.size());
  Decoded events(d);
  lms_answer a;
  ASSERT_EQ(events.next(&a), uint32_t{LMS_FRAME_COMPLETE});
  EXPECT_EQ(a.kind, uint32_t{LMS_ANS_ERROR});
  EXPECT_EQ(std::string(a.code.data, a.code.len), "23505");
  ASSERT_EQ(events.next(&a), uint32_t{LMS_FRAME_COMPLETE});
  EXPECT_EQ(a.txn_state, uint32_t{LMS_TXN_FAILED});

  AnswerDecoder broken;
  const std::string bad("D\0\0\0\x02", 5);
  broken.feed(reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
  Decoded bad_events(broken);
  EXPECT_EQ(bad_events.next(&a), uint32_t{LMS_FRAME_INVALID});
  EXPECT_EQ(bad_events.next(&a), uint32_t{LMS_FRAME_INVALID});  // and stays broken

  AnswerDecoder short_row;
  const std::string truncated = message('D', std::string("\0\x05\0\0\0\x09"
                                                         "ab",
                                                         8));
  short_row.feed(reinterpret_cast<const uint8_t*>(truncated.data()), truncated.size());
  Decoded short_events(short_row);
  EXPECT_EQ(short_events.next(&a), uint32_t{LMS_FRAME_INVALID});
}

}  // namespace
}  // namespace lms::pgwire
