#include "compat_report.h"

#include <gtest/gtest.h>

namespace lms::core {
namespace {

StatementStats stats_with(uint64_t executions, uint64_t target_errors, std::initializer_list<uint64_t> latencies_us) {
  StatementStats s;
  s.executions = executions;
  s.target_errors = target_errors;
  if (target_errors != 0) s.first_target_error = "relation \"t\" does not exist";
  for (const uint64_t us : latencies_us) {
    s.source_latency.observe(us * 1000);
    s.target_latency.observe(us * 2000);
  }
  return s;
}

TEST(CompatReportTest, ARenderedReportReadsBackWithItsSketches) {
  CompatReport report;
  report["SELECT * FROM t WHERE id = ?"] = stats_with(3, 1, {100, 200, 5000});
  report["SELECT ?"] = stats_with(1, 0, {50});
  report["SELECT ?"].mismatches = 1;
  report["SELECT ?"].by_kind[2] = 1;
  report["SELECT ?"].other_differences = 4;
  CompatReport back;
  std::string mode;
  std::string error;
  ASSERT_TRUE(parse_report_json(render_report_json(report, "sync"), &back, &mode, &error)) << error;
  EXPECT_EQ(mode, "sync");
  ASSERT_EQ(back.size(), 2u);
  const StatementStats& t = back.at("SELECT * FROM t WHERE id = ?");
  EXPECT_EQ(t.executions, 3u);
  EXPECT_EQ(t.target_errors, 1u);
  EXPECT_EQ(t.first_target_error, "relation \"t\" does not exist");
  EXPECT_EQ(t.source_latency.count(), 3u);
  EXPECT_DOUBLE_EQ(t.source_latency.quantile_ms(0.99), report.at("SELECT * FROM t WHERE id = ?").source_latency.quantile_ms(0.99));
  EXPECT_DOUBLE_EQ(t.target_latency.quantile_ms(0.5), report.at("SELECT * FROM t WHERE id = ?").target_latency.quantile_ms(0.5));
  EXPECT_EQ(back.at("SELECT ?").by_kind[2], 1u);
  EXPECT_EQ(back.at("SELECT ?").other_differences, 4u);
}

TEST(CompatReportTest, ReportsOfTwoProxiesMergeAsOneWouldHaveCounted) {
  CompatReport a, b, together;
  a["SELECT ?"] = stats_with(2, 0, {100, 100});
  b["SELECT ?"] = stats_with(2, 2, {90'000, 90'000});
  together["SELECT ?"] = stats_with(2, 0, {100, 100});
  together["SELECT ?"].merge(stats_with(2, 2, {90'000, 90'000}));
  CompatReport merged;
  std::string mode, error;
  ASSERT_TRUE(parse_report_json(render_report_json(a, "async"), &merged, &mode, &error));
  ASSERT_TRUE(parse_report_json(render_report_json(b, "async"), &merged, &mode, &error));
  const StatementStats& m = merged.at("SELECT ?");
  EXPECT_EQ(m.executions, 4u);
  EXPECT_EQ(m.target_errors, 2u);
  // The p99 is the slow proxy's, which averaging two p99s would have halved.
  EXPECT_DOUBLE_EQ(m.source_latency.quantile_ms(0.99), together.at("SELECT ?").source_latency.quantile_ms(0.99));
  EXPECT_GT(m.source_latency.quantile_ms(0.99), 80.0);
  EXPECT_LT(m.source_latency.quantile_ms(0.5), 1.0);
}

TEST(CompatReportTest, WhatIsNotAReportIsRefusedWithAReason) {
  CompatReport report;
  std::string mode, error;
  EXPECT_FALSE(parse_report_json("not json", &report, &mode, &error));
  EXPECT_NE(error.find("not a compatibility report"), std::string::npos);
  EXPECT_FALSE(parse_report_json(R"({"statements": [{"executions": 1}]})", &report, &mode, &error));
  EXPECT_TRUE(report.empty());
}

}  // namespace
}  // namespace lms::core
