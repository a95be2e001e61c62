// What a session carries to another database, from inspected client messages given as plain
// values: settings kept in the order first set with their last value, statements defined and
// dropped, resets, a prepare the database names, a run that declared its types.
#include "session/carried_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lms::core {
namespace {

lms_message_detail detail(uint32_t effect, const char* name = "") {
  lms_message_detail d{};
  d.struct_size = sizeof d;
  d.effect = effect;
  d.name = {name, std::char_traits<char>::length(name)};
  return d;
}

TEST(CarriedState, SettingsKeepTheirFirstOrderAndLastValue) {
  CarriedState s;
  s.take(detail(LMS_EFFECT_SETTING, "search_path"), "SET search_path = a", 0);
  s.take(detail(LMS_EFFECT_SETTING, "timezone"), "SET timezone = 'UTC'", 0);
  s.take(detail(LMS_EFFECT_SETTING, "search_path"), "SET search_path = b", 0);
  s.take(detail(LMS_EFFECT_NONE), "SELECT 1", 0);
  EXPECT_EQ(s.replay(), (std::vector<std::string>{"SET search_path = b", "SET timezone = 'UTC'"}));
  s.take(detail(LMS_EFFECT_RESET_SETTINGS), "RESET ALL", 0);
  EXPECT_TRUE(s.replay().empty());
}

TEST(CarriedState, StatementsAreDefinedDroppedAndReplayedAfterSettings) {
  CarriedState s;
  s.take(detail(LMS_EFFECT_PREPARE, "q1"), "PARSE q1", 0);
  s.take(detail(LMS_EFFECT_PREPARE, "q2"), "PARSE q2", 0);
  s.take(detail(LMS_EFFECT_SETTING, "x"), "SET x = 1", 0);
  EXPECT_EQ(s.replay(), (std::vector<std::string>{"SET x = 1", "PARSE q1", "PARSE q2"}));
  s.take(detail(LMS_EFFECT_DEALLOCATE, "q1"), "CLOSE q1", 0);
  ASSERT_EQ(s.statement("q1"), nullptr);
  ASSERT_NE(s.statement("q2"), nullptr);
  EXPECT_EQ(*s.statement("q2"), "PARSE q2");
  s.take(detail(LMS_EFFECT_DEALLOCATE_ALL), "DEALLOCATE ALL", 0);
  EXPECT_EQ(s.statements(), 0u);
  EXPECT_EQ(s.settings(), 1u);
  s.take(detail(LMS_EFFECT_DISCARD_ALL), "DISCARD ALL", 0);
  EXPECT_TRUE(s.replay().empty());
}

TEST(CarriedState, APrepareTheDatabaseNamesWaitsForItsName) {
  CarriedState s;
  EXPECT_EQ(s.take(detail(LMS_EFFECT_PREPARE, ""), "COM_STMT_PREPARE", 0),
            CarriedState::Outcome::kAwaitsName);
  EXPECT_EQ(s.statements(), 0u);
  s.name_statement(std::string("\x01\x00\x00\x00", 4), "COM_STMT_PREPARE");
  EXPECT_EQ(s.statements(), 1u);
}

TEST(CarriedState, ATypedRunTravelsWithItsStatement) {
  CarriedState s;
  s.take(detail(LMS_EFFECT_PREPARE, "7"), "PREPARE", 0);
  s.take(detail(LMS_EFFECT_BIND, "7"), "EXECUTE untyped", 0);
  s.take(detail(LMS_EFFECT_BIND, "8"), "EXECUTE typed, of a statement never prepared", LMS_FRAME_FLAG_TYPES);
  EXPECT_EQ(s.prepared_statements(), (std::vector<std::pair<std::string, std::string>>{{"7", "PREPARE"}}));
  s.take(detail(LMS_EFFECT_BIND, "7"), "+TYPES", LMS_FRAME_FLAG_TYPES);
  EXPECT_EQ(s.prepared_statements(),
            (std::vector<std::pair<std::string, std::string>>{{"7", "PREPARE+TYPES"}}));
  s.take(detail(LMS_EFFECT_DEALLOCATE, "7"), "CLOSE", 0);
  s.take(detail(LMS_EFFECT_PREPARE, "7"), "PREPARE again", 0);
  EXPECT_EQ(s.prepared_statements(),
            (std::vector<std::pair<std::string, std::string>>{{"7", "PREPARE again"}}));
}

TEST(CarriedState, HeldStateIsNamedOnceReleasedAndNeverReplayed) {
  CarriedState s;
  s.take(detail(LMS_EFFECT_HOLDS, "temporary table"), "CREATE TEMP TABLE t (a int)", 0);
  s.take(detail(LMS_EFFECT_HOLDS, "LISTEN"), "LISTEN jobs", 0);
  s.take(detail(LMS_EFFECT_HOLDS, "temporary table"), "CREATE TEMP TABLE u (a int)", 0);
  EXPECT_EQ(s.held(), (std::vector<std::string>{"temporary table", "LISTEN"}));
  EXPECT_TRUE(s.replay().empty());
  s.take(detail(LMS_EFFECT_RELEASES, "temporary table"), "DISCARD TEMP", 0);
  EXPECT_EQ(s.held(), (std::vector<std::string>{"LISTEN"}));
  s.take(detail(LMS_EFFECT_DISCARD_ALL), "DISCARD ALL", 0);
  EXPECT_TRUE(s.held().empty());
  // A dialect that names ever more kinds is kept to a bound.
  const std::string names[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"};
  for (const std::string& n : names) s.take(detail(LMS_EFFECT_HOLDS, n.c_str()), "x", 0);
  EXPECT_EQ(s.held().size(), 8u);
}

}  // namespace
}  // namespace lms::core
