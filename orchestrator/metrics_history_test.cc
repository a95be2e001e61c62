#include "metrics_history.h"

#include <gtest/gtest.h>

namespace lms::orchestrator {
namespace {

// A proxy's /metrics as lms writes it (the families the console reads, and one it does not).
std::string metrics_text(int requests, int shadowed, int fast, int slow) {
  const int total = fast + slow;
  return "# HELP lms_requests_total Requests.\n# TYPE lms_requests_total counter\n"
         "lms_requests_total{database=\"source\"} " + std::to_string(requests) + "\n"
         "lms_errors_total{database=\"source\",kind=\"query\"} 2\n"
         "lms_errors_total{database=\"client\",kind=\"auth\"} 1\n"
         "lms_shadow_requests_total " + std::to_string(shadowed) + "\n"
         "lms_shadow_comparisons_total " + std::to_string(shadowed) + "\n"
         "lms_shadow_mismatches_total 1\n"
         "lms_something_newer_total{x=\"y\"} 7\n"
         "lms_request_duration_seconds_bucket{database=\"source\",le=\"0.001\"} " + std::to_string(fast) + "\n"
         "lms_request_duration_seconds_bucket{database=\"source\",le=\"0.1\"} " + std::to_string(total) + "\n"
         "lms_request_duration_seconds_bucket{database=\"source\",le=\"+Inf\"} " + std::to_string(total) + "\n"
         "lms_request_duration_seconds_bucket{database=\"target\",le=\"0.001\"} 0\n"
         "lms_request_duration_seconds_bucket{database=\"target\",le=\"0.1\"} " + std::to_string(shadowed) + "\n"
         "lms_request_duration_seconds_bucket{database=\"target\",le=\"+Inf\"} " + std::to_string(shadowed) + "\n";
}

Scrape scrape(const std::string& address, const std::string& role, const std::string& text) {
  Scrape s = parse_scrape(text);
  s.control_address = address;
  s.role = role;
  return s;
}

TEST(MetricsHistoryTest, AScrapeReadsTheFamiliesTheConsoleCharts) {
  const Scrape s = parse_scrape(metrics_text(100, 40, 90, 10));
  EXPECT_EQ(s.requests, 100);
  EXPECT_EQ(s.errors, 3);
  EXPECT_EQ(s.shadow_requests, 40);
  EXPECT_EQ(s.mismatches, 1);
  ASSERT_EQ(s.serving_latency.size(), 3u);
  EXPECT_DOUBLE_EQ(s.serving_latency[1].first, 0.1);
  EXPECT_TRUE(std::isinf(s.serving_latency[2].first));
  EXPECT_EQ(s.shadow_latency.back().second, 40);
}

TEST(MetricsHistoryTest, RatesAndP99ComeFromTheIncreaseBetweenTwoReads) {
  const std::vector<Scrape> before{scrape("a", "source", metrics_text(100, 0, 100, 0))};
  // 200 more requests in 2 s, of which 5 slow (above 1 ms): 2.5% is above the 99th percentile.
  const std::vector<Scrape> after{scrape("a", "source", metrics_text(300, 0, 295, 5))};
  const Sample s = sample_between(before, after, 2.0, 1000);
  ASSERT_EQ(s.proxies.size(), 1u);
  EXPECT_DOUBLE_EQ(s.proxies[0].requests_per_s, 100);
  EXPECT_DOUBLE_EQ(s.source.requests_per_s, 100);
  EXPECT_DOUBLE_EQ(s.source.p99_ms, 100);  // the 0.1 s bucket
  EXPECT_DOUBLE_EQ(s.target.requests_per_s, 0);
  EXPECT_DOUBLE_EQ(s.target.p99_ms, 0);
  // All fast: the p99 is the first bucket's bound.
  const Sample fast = sample_between(after, {scrape("a", "source", metrics_text(400, 0, 395, 5))}, 1.0, 2000);
  EXPECT_DOUBLE_EQ(fast.source.p99_ms, 1);
}

TEST(MetricsHistoryTest, AProxyServingTheTargetCountsOnTheTargetAndItsShadowOnTheSource) {
  const std::vector<Scrape> before{scrape("a", "source", metrics_text(0, 0, 0, 0)),
                                   scrape("b", "target", metrics_text(0, 0, 0, 0))};
  const std::vector<Scrape> after{scrape("a", "source", metrics_text(10, 4, 10, 0)),
                                  scrape("b", "target", metrics_text(20, 6, 20, 0))};
  const Sample s = sample_between(before, after, 1.0, 0);
  EXPECT_DOUBLE_EQ(s.source.requests_per_s, 10 + 6);
  EXPECT_DOUBLE_EQ(s.target.requests_per_s, 20 + 4);
  EXPECT_DOUBLE_EQ(s.source.served_per_s, 10);
  EXPECT_DOUBLE_EQ(s.target.served_per_s, 20);
  EXPECT_DOUBLE_EQ(s.compared, 10);
}

TEST(MetricsHistoryTest, ANewProxyWaitsForItsSecondReadAndARestartedOneCountsFromZero) {
  const std::vector<Scrape> before{scrape("a", "source", metrics_text(1000, 0, 1000, 0))};
  const std::vector<Scrape> after{scrape("a", "source", metrics_text(30, 0, 30, 0)),
                                  scrape("new", "source", metrics_text(500, 0, 500, 0))};
  const Sample s = sample_between(before, after, 1.0, 0);
  ASSERT_EQ(s.proxies.size(), 1u);
  EXPECT_EQ(s.proxies[0].control_address, "a");
  EXPECT_DOUBLE_EQ(s.proxies[0].requests_per_s, 30);
  EXPECT_DOUBLE_EQ(s.source.p99_ms, 1);
}

TEST(MetricsHistoryTest, TheRingKeepsTheNewestSamples) {
  MetricsHistory history(3);
  for (int i = 0; i < 5; ++i) {
    Sample s;
    s.at_ms = i;
    history.add(s);
  }
  const nlohmann::json j = history.to_json(5000);
  EXPECT_EQ(j.at("interval_ms"), 5000);
  ASSERT_EQ(j.at("samples").size(), 3u);
  EXPECT_EQ(j.at("samples")[0].at("at_ms"), 2);
  EXPECT_EQ(j.at("samples")[2].at("at_ms"), 4);
}

}  // namespace
}  // namespace lms::orchestrator
