// The preflight's checks, from each thing the probes and the proxies' answers can hold to what the
// operator reads: replication, long transactions, state a switch loses, the shadow results' gate.
#include "readiness_checks.h"

#include <gtest/gtest.h>

namespace lms::orchestrator {
namespace {

ReadinessInputs one_proxy() {
  ReadinessInputs in;
  ProxyStatus p;
  p.control_address = "http://a:9044";
  p.status.source_of_truth_role = "source";
  p.status.target_address = "127.0.0.1:26257";
  in.proxies = {p};
  in.report = nlohmann::json::object();
  return in;
}

ReadinessCheck check_named(const ReadinessInputs& in, const std::string& name) {
  for (const ReadinessCheck& c : readiness_checks(in)) {
    if (c.name == name) return c;
  }
  return {"(missing)", "", ""};
}

ReadinessCheck replication_check(const ReplicationProbe& probe) {
  ReadinessInputs in = one_proxy();
  in.replication = probe;
  return check_named(in, "replication carries the marker");
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
  ReplicationProbe skipped;
  skipped.ran = true;
  skipped.skipped = true;
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
      {"the marker could not be written", broken, "fail",
       "through 10.0.0.1:5432: permission denied for schema public"},
      {"the orchestrator skips the check", skipped, "warn",
       "not checked: the orchestrator runs with --skip-replication-check"},
  };
  for (const Case& c : cases) {
    const ReadinessCheck check = replication_check(c.probe);
    EXPECT_EQ(check.result, c.result) << c.what;
    EXPECT_NE(check.detail.find(c.detail_has), std::string::npos) << c.what << ": " << check.detail;
  }
}

TEST(ReplicationCheck, ThePositionAndEachSlotsLag) {
  ReplicationProbe p = probe_via_a();
  p.seen = true;
  p.lag_ms = 12;
  p.position.position = "0/3000148";
  p.position.streams = {{"app_forward", "app_forward", 1234, true}};
  ReadinessCheck c = replication_check(p);
  EXPECT_EQ(c.result, "pass");
  EXPECT_EQ(
      c.detail,
      "a marker written through 10.0.0.1:5432 reached the other database in 12 ms; the source of truth is at "
      "0/3000148; slot app_forward (read by app_forward) 1.2 kB behind");
  // A slot nobody reads: the marker arrived another way, and the slot keeps WAL on the source.
  p.position.streams.push_back({"old_tool", "", 5'300'000'000, false});
  c = replication_check(p);
  EXPECT_EQ(c.result, "warn");
  EXPECT_NE(c.detail.find("; slot old_tool (read by nobody) 5.3 GB behind (a slot nobody reads keeps WAL"),
            std::string::npos)
      << c.detail;
  // Unreadable (a dialect without the call), said, and the check stands on the marker.
  p.position = {};
  p.position_error = "the dialect of the source cannot tell its replication position";
  c = replication_check(p);
  EXPECT_EQ(c.result, "pass");
  EXPECT_NE(c.detail.find("; the replication position cannot be read: the dialect"), std::string::npos)
      << c.detail;
}

TEST(LoginsCheck, EachProxyThatCannotIsNamedWithTheDatabasesWords) {
  ReadinessInputs in = one_proxy();
  const std::string name = "every proxy can log in to the other database";
  in.logins.ran = true;
  in.logins.asked = 3;
  EXPECT_EQ(check_named(in, name).result, "pass");
  EXPECT_EQ(check_named(in, name).detail, "all 3 proxies logged in");
  in.logins.failures = {{"10.0.0.2:5432", "password authentication failed for user \"app\""}};
  EXPECT_EQ(check_named(in, name).result, "fail");
  EXPECT_EQ(check_named(in, name).detail,
            "1 of 3 cannot: 10.0.0.2:5432: password authentication failed for user \"app\"");
}

TEST(UsersCheck, EachUserTheOtherDatabaseDoesNotHoldAlikeIsNamed) {
  ReadinessInputs in = one_proxy();
  const std::string name = "every user can log in to the other database";
  in.logins.ran = true;
  in.logins.asked = 1;
  EXPECT_EQ(check_named(in, name).name, "(missing)") << "clients log in as the connection string's account";
  in.logins.users = {{"writer", ""}, {"reporter", ""}};
  EXPECT_EQ(check_named(in, name).detail, "all 2 users who may log in are there with the same verifier");
  in.logins.users.push_back({"newbie", "no such user there"});
  const ReadinessCheck c = check_named(in, name);
  EXPECT_EQ(c.result, "fail");
  EXPECT_EQ(c.detail,
            "1 of 3 users could not log in there, and their sessions would fail at the switch: newbie: no "
            "such user "
            "there. Create them there with the same verifier (pg_dumpall --roles-only carries it)");
  in.logins.users.clear();
  in.logins.via = "10.0.0.1:5432";
  in.logins.users_error =
      "target 10.0.0.2:26257: cannot list its users: permission denied for table pg_authid";
  EXPECT_EQ(check_named(in, name).result, "warn");
}

TEST(TablesCheck, MissingFailsByNameUnreadableWarns) {
  ReadinessInputs in = one_proxy();
  const std::string name = "tables the application uses exist on the other database";
  EXPECT_EQ(check_named(in, name).name, "(missing)") << "run only when the report named tables";
  in.tables.ran = true;
  in.tables.via = "10.0.0.1:5432";
  in.tables.tables = {{"orders", ""}, {"shop.items", ""}};
  EXPECT_EQ(check_named(in, name).result, "pass");
  EXPECT_EQ(check_named(in, name).detail,
            "all 2 tables the application used (in the compatibility report) are there");
  in.tables.tables.push_back({"audit", "permission denied for table audit"});
  EXPECT_EQ(check_named(in, name).result, "warn");
  EXPECT_EQ(check_named(in, name).detail,
            "cannot read audit (permission denied for table audit) through 10.0.0.1:5432");
  in.tables.tables.push_back({"promo", "target 10.0.0.2:26257: relation \"promo\" does not exist"});
  in.tables.tables.push_back({"kv", "Table 'app.kv' doesn't exist"});
  const ReadinessCheck c = check_named(in, name);
  EXPECT_EQ(c.result, "fail");
  EXPECT_NE(
      c.detail.find("2 of the 5 tables the application used (in the compatibility report) are missing there: "
                    "promo, kv."),
      std::string::npos)
      << c.detail;
}

TEST(LongTransactions, AProxysSessionIsNamedByTheApplicationsAddress) {
  std::vector<control::OpenTransaction> open(2);
  open[0].client = "10.0.0.9:41000";  // a proxy's connection to the database
  open[1].client = "10.0.0.7:5000";   // someone going around the proxies
  ProxyConnections proxy;
  proxy.connections.resize(2);
  proxy.connections[0].database_address = "10.0.0.9:40999";
  proxy.connections[1].database_address = "10.0.0.9:41000";
  proxy.connections[1].source_address = "192.168.1.20:6000";
  proxy.connections[1].remote_address = "10.0.0.9:5432";
  attribute_to_clients(&open, {proxy});
  EXPECT_EQ(open[0].lms_client, "192.168.1.20:6000");
  EXPECT_EQ(open[0].lms_address, "10.0.0.9:5432");
  EXPECT_EQ(open[1].lms_client, "");

  ReadinessInputs in = one_proxy();
  in.transactions.ran = true;
  in.transactions.min_age_ms = 1000;
  in.transactions.transactions = open;
  const ReadinessCheck c = check_named(in, "no long transactions on the source of truth");
  EXPECT_NE(c.detail.find("from 192.168.1.20:6000 through LMS 10.0.0.9:5432 ("), std::string::npos)
      << c.detail;
  EXPECT_NE(c.detail.find("from 10.0.0.7:5000 ("), std::string::npos) << c.detail;
}

TEST(LongTransactions, NamedWithTheirSessionClientAgeAndStatement) {
  ReadinessInputs in = one_proxy();
  const std::string name = "no long transactions on the source of truth";
  EXPECT_EQ(check_named(in, name).name, "(missing)") << "only a preflight asks the database";
  in.transactions.ran = true;
  in.transactions.via = "10.0.0.1:9043";
  in.transactions.min_age_ms = 30000;
  ReadinessCheck c = check_named(in, name);
  EXPECT_EQ(c.result, "pass");
  EXPECT_EQ(c.detail, "none open longer than 30.0 s");

  for (int i = 0; i < 4; ++i) {
    in.transactions.transactions.push_back({std::to_string(100 + i), "10.1.1." + std::to_string(i) + ":5000",
                                            "app", "idle in transaction", "UPDATE t SET a = ?",
                                            uint64_t(95000 - i * 1000), "", ""});
  }
  in.transactions.transactions[1].client = "";
  c = check_named(in, name);
  EXPECT_EQ(c.result, "fail");
  EXPECT_EQ(
      c.detail,
      "4 open longer than 30.0 s, which a pause would wait for past its bound: session 100 from "
      "10.1.1.0:5000 "
      "(app, idle in transaction, 95.0 s): UPDATE t SET a = ?; session 101 from a local socket (app, idle in "
      "transaction, 94.0 s): UPDATE t SET a = ?; session 102 from 10.1.1.2:5000 (app, idle in transaction, "
      "93.0 s): UPDATE t SET a = ?; and 1 more. End them or wait for them, then run preflight again");

  in.transactions.transactions.clear();
  in.transactions.error =
      "source 127.0.0.1:3306: Access denied; you need (at least one of) the PROCESS privilege(s)";
  c = check_named(in, name);
  EXPECT_EQ(c.result, "warn");
  EXPECT_EQ(c.detail, "cannot tell through 10.0.0.1:9043: " + in.transactions.error);
}

TEST(HeldState, SessionsThatWouldLoseStateAreListedAcrossProxies) {
  ReadinessInputs in = one_proxy();
  const std::string name = "sessions that would lose state at the switch";
  ReadinessCheck c = check_named(in, name);
  EXPECT_EQ(c.result, "pass");
  control::Connection plain;
  plain.source_address = "10.2.0.1:4000";
  plain.remote_address = "10.0.0.1:9043";
  plain.user = "app";
  control::Connection temp = plain;
  temp.held_state = "temporary table";
  control::Connection listen = plain;
  listen.source_address = "10.2.0.2:4001";
  listen.remote_address = "10.0.0.2:9043";
  listen.user = "worker";
  listen.held_state = "LISTEN, advisory lock";
  in.connections = {{"http://a:9044", {plain, temp}, ""}, {"http://b:9044", {listen}, ""}};
  c = check_named(in, name);
  EXPECT_EQ(c.result, "warn");
  EXPECT_EQ(
      c.detail,
      "2 sessions: 10.2.0.1:4000 via 10.0.0.1:9043 (app: temporary table); 10.2.0.2:4001 via 10.0.0.2:9043 "
      "(worker: LISTEN, advisory lock). They keep their connection through the switch but not this state: "
      "end them first, or accept it");
}

TEST(ShadowResults, TheMismatchRateGate) {
  ReadinessInputs in = one_proxy();
  const std::string name = "the target answers as the source does";
  in.report = {
      {"compared", 1000}, {"target_errors", 2}, {"mismatches", 3}, {"statements", nlohmann::json::array()}};
  EXPECT_EQ(check_named(in, name).result, "fail") << "no gate: any target error fails";
  in.max_mismatch_rate = 0.01;
  ReadinessCheck c = check_named(in, name);
  EXPECT_EQ(c.result, "warn");
  EXPECT_EQ(c.detail,
            "1000 answers compared, 2 target errors, 3 mismatches (0.50%, within --max-mismatch-rate 1.00%)");
  in.max_mismatch_rate = 0.004;
  c = check_named(in, name);
  EXPECT_EQ(c.result, "fail");
  EXPECT_NE(c.detail.find("(0.50%, above --max-mismatch-rate 0.40%)"), std::string::npos) << c.detail;
  in.report = {{"compared", 1000}, {"target_errors", 0}, {"mismatches", 0}};
  EXPECT_EQ(check_named(in, name).result, "pass");
}

}  // namespace
}  // namespace lms::orchestrator
