#include <gtest/gtest.h>

#include "address.h"
#include "duration.h"
#include "json.h"

namespace lms::control {
namespace {

TEST(Duration, ParsesWhatOperatorsType) {
  EXPECT_EQ(parse_duration_ms("30s"), 30000u);
  EXPECT_EQ(parse_duration_ms("500ms"), 500u);
  EXPECT_EQ(parse_duration_ms("2m"), 120000u);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000u);
  EXPECT_EQ(parse_duration_ms("1m30s"), 90000u);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1500u);
  EXPECT_EQ(parse_duration_ms("7"), 7000u);
  for (const char* bad : {"", "s", "10x", "-1s", "1s2", "ms", "1 s"}) {
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
  }
}

TEST(Address, DefaultsThePortAndTheScheme) {
  std::string url;
  std::string error;
  ASSERT_TRUE(normalize_address("10.0.0.1", 9044, &url, &error));
  EXPECT_EQ(url, "http://10.0.0.1:9044");
  ASSERT_TRUE(normalize_address("lms-1:1024", 9044, &url, &error));
  EXPECT_EQ(url, "http://lms-1:1024");
  ASSERT_TRUE(normalize_address("https://lms.net/", 9044, &url, &error));
  EXPECT_EQ(url, "https://lms.net:9044");
  for (const char* bad : {"", "ftp://x", "host:0", "host:99999", "host:abc", "http://h/path"}) {
    EXPECT_FALSE(normalize_address(bad, 9044, &url, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST(Json, CutoverRoundTripsAndToleratesMissingFields) {
  Cutover c;
  c.id = 7;
  c.status = "TrafficPaused";
  c.source_of_truth = "Cockroach";
  c.source_of_truth_role = "target";
  c.trigger_time_ns = 1;
  c.paused_time_ns = 2;
  c.commit_time_ns = 3;
  c.busy_sessions = 4;
  c.error = "e";
  const nlohmann::json j = c;
  EXPECT_EQ(j.at("traffic_paused_time_ns"), 2);
  const Cutover back = j.get<Cutover>();
  EXPECT_EQ(back.id, 7u);
  EXPECT_EQ(back.status, "TrafficPaused");
  EXPECT_EQ(back.paused_time_ns, 2);
  EXPECT_EQ(back.busy_sessions, 4u);
  EXPECT_EQ(back.error, "e");

  const Cutover partial = nlohmann::json{{"id", 3}, {"unknown", true}}.get<Cutover>();
  EXPECT_EQ(partial.id, 3u);
  EXPECT_EQ(partial.status, "");
}

TEST(Json, BeginOptionsRefuseAnUnknownTimeoutPolicy) {
  EXPECT_TRUE(
      nlohmann::json({{"id", 1}, {"on_begin_timeout", "abort"}}).get<BeginOptions>().abort_on_timeout);
  EXPECT_FALSE(nlohmann::json({{"id", 1}}).get<BeginOptions>().abort_on_timeout);
  EXPECT_THROW(nlohmann::json({{"id", 1}, {"on_begin_timeout", "later"}}).get<BeginOptions>(),
               std::exception);
}

TEST(Json, IntegersOutOfRangeAreRefusedNotWrapped) {
  // Found by fuzz_control_json: 1.8e19 as a double converted to uint64_t is undefined behaviour.
  for (const char* text : {R"({"id": 1.8446744073709552e19})", R"({"id": -1})", R"({"id": 2.5})",
                           R"({"id": "7"})", R"({"begin_timeout_ms": 4294967296})"}) {
    EXPECT_THROW(nlohmann::json::parse(text).get<BeginOptions>(), std::exception) << text;
  }
  EXPECT_EQ(nlohmann::json::parse(R"({"id": 18446744073709551615})").get<Cutover>().id, UINT64_MAX);
  EXPECT_EQ(nlohmann::json::parse(R"({"begin_timeout_ms": 4294967295})").get<BeginOptions>().begin_timeout_ms,
            UINT32_MAX);
  try {
    checked_integer<uint32_t>(nlohmann::json(-5), "timeout_ms");
    FAIL() << "-5 taken as a uint32_t";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "timeout_ms must be an integer from 0 to 4294967295");
  }
}

TEST(Json, TimesReadAsTheTablesShowThem) {
  EXPECT_EQ(format_time(0), "");
  EXPECT_EQ(format_time(1708024206991048000), "2024-02-15 19:10:06.991048 +0000 UTC");
  EXPECT_EQ(display_dialect("cockroach"), "Cockroach");
  EXPECT_EQ(display_dialect("postgres"), "PostgreSQL");
  EXPECT_EQ(display_dialect("mysql"), "MySQL");
}

}  // namespace
}  // namespace lms::control
