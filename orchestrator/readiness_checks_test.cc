// The preflight's replication check, from each thing the probe can find to what the operator reads.
#include "readiness_checks.h"

#include <gtest/gtest.h>

namespace lms::orchestrator {
namespace {

ReadinessCheck replication_check(const ReplicationProbe& probe) {
  ReadinessInputs in;
  ProxyStatus p;
  p.control_address = "http://a:9044";
  p.status.source_of_truth_role = "source";
  p.status.target_address = "127.0.0.1:26257";
  in.proxies = {p};
  in.replication = probe;
  in.report = nlohmann::json::object();
  for (const ReadinessCheck& c : readiness_checks(in)) {
    if (c.name == "replication carries the marker") return c;
  }
  return {"(missing)", "", ""};
}

ReplicationProbe probe_via_a() {
  ReplicationProbe p;
  p.ran = true;
  p.via = "10.0.0.1:5432";
  p.timeout_ms = 30000;
  return p;
}

TEST(ReplicationCheck, OnlyAPreflightRunsIt) {
  EXPECT_EQ(replication_check(ReplicationProbe{}).name, "(missing)");
}

TEST(ReplicationCheck, EachFindingAndItsMessage) {
  ReplicationProbe seen = probe_via_a();
  seen.seen = true;
  seen.lag_ms = 42;
  ReplicationProbe seen_after_creating_on_truth = seen;
  seen_after_creating_on_truth.created_on_truth = true;
  ReplicationProbe made_on_other = probe_via_a();
  made_on_other.created_on_other = true;
  ReplicationProbe late = probe_via_a();
  ReplicationProbe broken = probe_via_a();
  broken.error = "permission denied for schema public";
  struct Case {
    const char* what;
    ReplicationProbe probe;
    std::string result;
    std::string detail_has;
  } cases[] = {
      {"seen", seen, "pass", "a marker written through 10.0.0.1:5432 reached the other database in 42 ms"},
      {"seen, the table made on the source of truth", seen_after_creating_on_truth, "pass",
       "lms_cutover_marker was created on the source of truth now"},
      {"the table was missing on the other database", made_on_other, "fail",
       "did not exist on the other database and was created there now: the replication tool must carry it"},
      {"not seen in time", late, "fail", "was not on the other database within 30000 ms"},
      {"the marker could not be written", broken, "fail", "through 10.0.0.1:5432: permission denied for schema public"},
  };
  for (const Case& c : cases) {
    const ReadinessCheck check = replication_check(c.probe);
    EXPECT_EQ(check.result, c.result) << c.what;
    EXPECT_NE(check.detail.find(c.detail_has), std::string::npos) << c.what << ": " << check.detail;
  }
}

}  // namespace
}  // namespace lms::orchestrator
