// The orchestrator's judgements on plain values: whether a cutover may begin, and whether a
// pausing attempt fails, for each way a proxy can answer.
#include "decisions.h"

#include <gtest/gtest.h>
#include <lms/control.h>

namespace lms::orchestrator {
namespace {

ProxyStatus answering(const std::string& url, const std::string& truth = "source",
                      const std::string& dialect = "PostgreSQL") {
  ProxyStatus p;
  p.control_address = url;
  p.status.source_of_truth_role = truth;
  p.status.source_dialect = dialect;
  return p;
}

TEST(BeginRefusal, EachReasonAndItsMessage) {
  ProxyStatus silent = answering("http://b:9044");
  silent.error = "connection refused";
  struct Case {
    const char* what;
    std::vector<ProxyStatus> proxies;
    std::string dialect;
    std::string refusal;
  } cases[] = {
      {"all agree", {answering("http://a:9044"), answering("http://b:9044")}, "PostgreSQL", ""},
      {"any dialect when none is configured", {answering("http://a:9044", "source", "MySQL")}, "", ""},
      {"a proxy that does not answer",
       {answering("http://a:9044"), silent},
       "",
       "cannot begin: proxy http://b:9044 does not answer: connection refused"},
      {"another dialect",
       {answering("http://a:9044", "source", "MySQL")},
       "PostgreSQL",
       "cannot begin: proxy http://a:9044 has source dialect MySQL, and this orchestrator was configured for "
       "PostgreSQL"},
      {"a split source of truth",
       {answering("http://a:9044"), answering("http://b:9044", "target")},
       "",
       "cannot begin: the proxies disagree on the source of truth (http://b:9044 serves from its target, "
       "others from their source)"},
      {"no proxies at all", {}, "", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(begin_refusal(c.proxies, c.dialect), c.refusal) << c.what;
}

ProxyRecord paused(const std::string& url, uint64_t id) {
  ProxyRecord p;
  p.control_address = url;
  p.sql_address = url.substr(7, url.find(':', 7) - 7) + ":9043";
  p.cutover.id = id;
  p.cutover.status = LMS_CUTOVER_PAUSED;
  return p;
}

TEST(PausingFailure, EachWayAProxyFailsTheAttempt) {
  Attempt base;
  base.id = 7;
  base.decision = kDecisionBegin;
  base.proxies = {paused("http://a:9044", 7), paused("http://b:9044", 7)};
  struct Case {
    const char* what;
    void (*change)(Attempt&);
    std::vector<std::string> discovered;
    std::string failure;
  } cases[] = {
      {"every proxy paused", [](Attempt&) {}, {}, ""},
      {"one still pausing", [](Attempt& a) { a.proxies[1].cutover.status = LMS_CUTOVER_BEGAN; }, {}, ""},
      {"one does not answer",
       [](Attempt& a) { a.proxies[1].error = "timed out"; },
       {},
       "proxy b:9043 does not answer: timed out"},
      {"one restarted and lost the attempt",
       [](Attempt& a) { a.proxies[0].cutover.id = 0; },
       {},
       "proxy a:9043 is no longer in this cutover (restarted?)"},
      {"one gave up at its begin-timeout",
       [](Attempt& a) {
         a.proxies[0].cutover.status = LMS_CUTOVER_ERROR;
         a.proxies[0].cutover.error = "begin-timeout expired with 2 sessions busy";
       },
       {},
       "proxy a:9043: begin-timeout expired with 2 sessions busy"},
      {"one aborted without a reason",
       [](Attempt& a) { a.proxies[1].cutover.status = LMS_CUTOVER_ABORTED; },
       {},
       "proxy b:9043: Aborted"},
      {"the same proxies discovered", [](Attempt&) {}, {"http://b:9044", "http://a:9044"}, ""},
      {"a proxy appeared",
       [](Attempt&) {},
       {"http://a:9044", "http://c:9044", "http://b:9044"},
       "proxy http://c:9044 appeared during the cutover and is not paused"},
  };
  for (const auto& c : cases) {
    Attempt a = base;
    c.change(a);
    EXPECT_EQ(pausing_failure(a, c.discovered, 1), c.failure) << c.what;
  }
}

TEST(PausingFailure, APauseEndsAtItsBoundWithoutACommit) {
  Attempt a;
  a.id = 3;
  a.decision = kDecisionBegin;
  a.created_ns = 1'000'000'000;
  a.proxies = {paused("http://a:9044", 3)};
  constexpr int64_t kMs = 1'000'000;
  EXPECT_EQ(pausing_failure(a, {}, a.created_ns + 60'000 * kMs), "") << "no bound set";
  a.max_pause_ms = 3000;
  EXPECT_EQ(pausing_failure(a, {}, a.created_ns + 2999 * kMs), "");
  EXPECT_EQ(pausing_failure(a, {}, a.created_ns + 3000 * kMs),
            "the pause reached its bound (max-pause 3000 ms) before a commit");
}

}  // namespace
}  // namespace lms::orchestrator
