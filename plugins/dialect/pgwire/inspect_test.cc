#include "inspect.h"

#include <gtest/gtest.h>

#include <string>

#include "wire.h"

namespace lms::pgwire {
namespace {

struct Detail {
  uint32_t effect;
  std::string name;
  std::string text;
};

Detail inspect(lms_direction direction, const std::vector<uint8_t>& message) {
  lms_message_detail d{};
  d.struct_size = sizeof d;
  inspect_message(direction, message.data(), message.size(), &d);
  return {d.effect, std::string(d.name.data == nullptr ? "" : std::string(d.name.data, d.name.len)),
          std::string(d.text.data == nullptr ? "" : std::string(d.text.data, d.text.len))};
}

std::vector<uint8_t> query(std::string_view sql) {
  return MessageBuilder().begin('Q').cstr(sql).end().take();
}

struct SqlCase {
  const char* sql;
  lms_state_effect effect;
  const char* name;
};

TEST(Inspect, ClassifiesSimpleQueries) {
  const SqlCase cases[] = {
      {"SET search_path = app, public", LMS_EFFECT_SETTING, "search_path"},
      {"  set  DateStyle TO 'ISO'", LMS_EFFECT_SETTING, "DateStyle"},
      {"SET SESSION statement_timeout = 5", LMS_EFFECT_SETTING, "statement_timeout"},
      {"SET TIME ZONE 'UTC'", LMS_EFFECT_SETTING, "timezone"},
      {"/* app */ SET application_name = 'x';", LMS_EFFECT_SETTING, "application_name"},
      {"-- comment\nSET work_mem = '64MB'", LMS_EFFECT_SETTING, "work_mem"},
      {"SET \"my.var\" = 1", LMS_EFFECT_SETTING, "my.var"},
      {"SET LOCAL work_mem = '1MB'", LMS_EFFECT_NONE, ""},
      {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", LMS_EFFECT_NONE, ""},
      {"SET a = 1; INSERT INTO t VALUES (1)", LMS_EFFECT_NONE, ""},
      {"SET a = ';'", LMS_EFFECT_SETTING, "a"},
      {"RESET work_mem", LMS_EFFECT_SETTING, "work_mem"},
      {"RESET ALL", LMS_EFFECT_RESET_SETTINGS, ""},
      {"DISCARD ALL", LMS_EFFECT_DISCARD_ALL, ""},
      {"DISCARD PLANS", LMS_EFFECT_NONE, ""},
      {"DEALLOCATE s1", LMS_EFFECT_DEALLOCATE, "s1"},
      {"DEALLOCATE PREPARE s1", LMS_EFFECT_DEALLOCATE, "s1"},
      {"deallocate all", LMS_EFFECT_DEALLOCATE_ALL, ""},
      {"PREPARE q1 (int) AS SELECT $1", LMS_EFFECT_PREPARE, "q1"},
      {"PREPARE TRANSACTION 'x'", LMS_EFFECT_NONE, ""},
      {"SELECT 1", LMS_EFFECT_NONE, ""},
      {"settle", LMS_EFFECT_NONE, ""},
      {"", LMS_EFFECT_NONE, ""},
  };
  for (const auto& c : cases) {
    const Detail d = inspect(LMS_FROM_CLIENT, query(c.sql));
    EXPECT_EQ(d.effect, static_cast<uint32_t>(c.effect)) << c.sql;
    EXPECT_EQ(d.name, c.name) << c.sql;
    EXPECT_EQ(d.text, c.sql);
  }
}

TEST(Inspect, NamesStateACutoverCannotCarry) {
  const SqlCase cases[] = {
      {"CREATE TEMP TABLE scratch (id int)", LMS_EFFECT_HOLDS, "temporary table"},
      {"create temporary table s AS SELECT 1", LMS_EFFECT_HOLDS, "temporary table"},
      {"CREATE GLOBAL TEMPORARY TABLE g (a int)", LMS_EFFECT_HOLDS, "temporary table"},
      {"CREATE OR REPLACE TEMP VIEW v AS SELECT 1", LMS_EFFECT_HOLDS, "temporary table"},
      {"CREATE TABLE kept (a int)", LMS_EFFECT_NONE, ""},
      {"LISTEN orders", LMS_EFFECT_HOLDS, "LISTEN"},
      {"UNLISTEN *", LMS_EFFECT_RELEASES, "LISTEN"},
      {"UNLISTEN orders", LMS_EFFECT_NONE, ""},
      {"SELECT pg_advisory_lock(42)", LMS_EFFECT_HOLDS, "advisory lock"},
      {"select PG_TRY_ADVISORY_LOCK(1, 2)", LMS_EFFECT_HOLDS, "advisory lock"},
      {"SELECT pg_advisory_xact_lock(42)", LMS_EFFECT_NONE, ""},
      {"SELECT pg_advisory_unlock_all()", LMS_EFFECT_RELEASES, "advisory lock"},
      {"DECLARE c CURSOR WITH HOLD FOR SELECT 1", LMS_EFFECT_HOLDS, "cursor WITH HOLD"},
      {"DECLARE c NO SCROLL CURSOR WITHOUT HOLD FOR SELECT 1", LMS_EFFECT_NONE, ""},
      {"DECLARE c CURSOR FOR SELECT 'with hold'", LMS_EFFECT_NONE, ""},
      {"CLOSE ALL", LMS_EFFECT_RELEASES, "cursor WITH HOLD"},
      {"DISCARD TEMP", LMS_EFFECT_RELEASES, "temporary table"},
  };
  for (const auto& c : cases) {
    const Detail d = inspect(LMS_FROM_CLIENT, query(c.sql));
    EXPECT_EQ(d.effect, static_cast<uint32_t>(c.effect)) << c.sql;
    EXPECT_EQ(d.name, c.name) << c.sql;
  }
  // The unnamed statement of the extended protocol runs at once; a named one only defines.
  const auto unnamed = MessageBuilder().begin('P').cstr("").cstr("LISTEN jobs").u8(0).u8(0).end().take();
  Detail d = inspect(LMS_FROM_CLIENT, unnamed);
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_HOLDS));
  EXPECT_EQ(d.name, "LISTEN");
  const auto named = MessageBuilder().begin('P').cstr("s1").cstr("LISTEN jobs").u8(0).u8(0).end().take();
  d = inspect(LMS_FROM_CLIENT, named);
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_PREPARE));
}

TEST(Inspect, ParseAndCloseNameStatements) {
  const auto parse = MessageBuilder().begin('P').cstr("P0_1").cstr("SELECT $1").u8(0).u8(0).end().take();
  Detail d = inspect(LMS_FROM_CLIENT, parse);
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_PREPARE));
  EXPECT_EQ(d.name, "P0_1");
  EXPECT_EQ(d.text, "SELECT $1");

  const auto unnamed = MessageBuilder().begin('P').cstr("").cstr("SELECT 2").u8(0).u8(0).end().take();
  d = inspect(LMS_FROM_CLIENT, unnamed);
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_NONE));
  EXPECT_EQ(d.text, "SELECT 2");

  d = inspect(LMS_FROM_CLIENT, MessageBuilder().begin('C').u8('S').cstr("P0_1").end().take());
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_DEALLOCATE));
  EXPECT_EQ(d.name, "P0_1");
  d = inspect(LMS_FROM_CLIENT, MessageBuilder().begin('C').u8('P').cstr("portal").end().take());
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_NONE));
}

TEST(Inspect, ServerErrorsGiveTheirMessage) {
  const auto error = MessageBuilder()
                         .begin('E')
                         .u8('S')
                         .cstr("ERROR")
                         .u8('C')
                         .cstr("42P01")
                         .u8('M')
                         .cstr("no table")
                         .u8(0)
                         .end()
                         .take();
  const Detail d = inspect(LMS_FROM_SERVER, error);
  EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_ERROR));
  EXPECT_EQ(d.text, "no table");
}

TEST(Inspect, TruncatedAndGarbageInputIsNone) {
  const auto parse = MessageBuilder().begin('P').cstr("P0_1").cstr("SELECT $1").u8(0).u8(0).end().take();
  for (size_t n = 0; n < parse.size(); ++n) {
    const std::vector<uint8_t> cut(parse.begin(), parse.begin() + static_cast<long>(n));
    const Detail d = inspect(LMS_FROM_CLIENT, cut);
    // Until the query text's terminator has arrived, nothing is claimed.
    if (n < parse.size() - 2) {
      EXPECT_EQ(d.effect, static_cast<uint32_t>(LMS_EFFECT_NONE)) << n;
    }
  }
  const std::vector<uint8_t> garbage = {'E', 0, 0, 0, 9, 'M', 'x', 'y', 'z'};
  EXPECT_EQ(inspect(LMS_FROM_SERVER, garbage).effect, static_cast<uint32_t>(LMS_EFFECT_NONE));
  EXPECT_EQ(inspect(LMS_FROM_CLIENT, {'Q', 0, 0, 0, 4}).effect, static_cast<uint32_t>(LMS_EFFECT_NONE));
}

}  // namespace
}  // namespace lms::pgwire
