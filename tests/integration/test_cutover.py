"""Consistent cutover end to end: two PostgreSQL 15 servers with logical replication (the target
stands in for CockroachDB), three lms proxies, lms-orchestrator and lms-cli, all separate processes,
under a pgbench -M prepared load."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import cutover_setup as cs
from lmstest import DATABASE, PASSWORD, USER, Orchestrator, Waiting, psql



def shape(sql):
    """A statement as `connections list` shows it: string and number literals replaced by ?."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"(?<![\w$])\d+(?:\.\d+)?", "?", sql)

class CutoverHarness(Waiting, unittest.TestCase):
    """Servers shared by the class; proxies and an orchestrator fresh for each test."""

    @classmethod
    def setUpClass(cls):
        cls.source = cs.logical_server()
        cls.target = cs.logical_server()
        cs.prepare_pgbench(cls.source, cls.target)
        for s in (cls.source, cls.target):
            s.admin("CREATE TABLE probe (id INT PRIMARY KEY, note TEXT)", db=DATABASE)
            s.admin(f"ALTER TABLE probe OWNER TO {USER}", db=DATABASE)
            # Sequences are not carried by logical replication: each database counts on its own.
            s.admin("CREATE SEQUENCE shadowed", db=DATABASE)
            s.admin(f"ALTER SEQUENCE shadowed OWNER TO {USER}", db=DATABASE)
        cs.replicate(cls.source, cls.target, "lms_forward")

    @classmethod
    def tearDownClass(cls):
        cls.target.destroy()
        cls.source.destroy()

    def start_system(self, orchestrator_extra=(), proxy_extra=(), orchestrator_env=None):
        self.proxies = cs.proxies_for(self.source, self.target, extra=proxy_extra)
        for p in self.proxies:
            self.addCleanup(self._stop_proxy, p)
        self.orch = Orchestrator(self.proxies, extra=orchestrator_extra, env=orchestrator_env)
        self.addCleanup(self._stop_orchestrator, self.orch)

    def _stop_proxy(self, proxy):
        code = proxy.stop()
        log = proxy.log()
        shutil.rmtree(proxy.dir, ignore_errors=True)
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        if not getattr(proxy, "killed", False):  # a test's own SIGKILL is not a crash
            self.assertEqual(code, 0, f"lms exited with {code}; its log:\n{log[-4000:]}")

    def _stop_orchestrator(self, orch):
        code = orch.stop()
        log = orch.log()
        shutil.rmtree(orch.state_dir, ignore_errors=True)
        self.assertNotIn("AddressSanitizer", log)
        self.assertEqual(code, 0, f"lms-orchestrator exited with {code}; its log:\n{log[-4000:]}")

    def cli_json(self, *args):
        r = self.orch.cli(*args, "-o", "json")
        self.assertEqual(r.returncode, 0, f"lms-cli {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return json.loads(r.stdout)

    def held_session(self, proxy, *statements):
        """A psql session through `proxy` that ran `statements` and stays open for more."""
        proc = subprocess.Popen(["psql", proxy.url(), "-X", "-qAt", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        for statement in statements:
            proc.stdin.write(statement + "\n")
        proc.stdin.flush()
        deadline = time.time() + 10
        last = shape(statements[-1]).rstrip(";")
        while time.time() < deadline:  # until the proxy shows the last statement ran
            conns = self.cli_json("connections", "list")
            if any(c["last_query"].rstrip(";") == last and c["state"] != "active" for c in conns):
                return proc
            time.sleep(0.05)
        self.fail(f"the held session did not run {last}")

    def finish_session(self, proc, *statements):
        for statement in statements:
            proc.stdin.write(statement + "\n")
        return proc.communicate(timeout=60)

    def proxy_cutover(self, proxy):
        status, body = proxy.http_get("/v1/cutover")
        self.assertEqual(status, 200)
        return json.loads(body)

    def roles(self):
        return [p["source_of_truth_role"] for p in self.cli_json("status")["proxies"]]


class ConsistentCutoverUnderLoad(CutoverHarness):
    def test_cutover_and_back_under_pgbench_prepared_loses_nothing_and_fails_nothing(self):
        self.start_system()
        before = cs.count(self.source)

        # Forward: source → target, replication source → target checked by the orchestrator.
        load = cs.Load(self.proxies, seconds=8)
        time.sleep(2.5)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Successfully began consistent cutover with ID 1.", r.stdout)
        self.assertIn("lms-cli cutover get_metadata -i 1", r.stdout)
        time.sleep(0.3)  # requests queue meanwhile
        attempt = self.cli_json("cutover", "consistent", "commit", "--fence-source")
        self.assertEqual(attempt["status"], "CommitCompleted")
        self.assertEqual(len(attempt["proxies"]), 3)
        for p in attempt["proxies"]:
            self.assertEqual(p["status"], "CommitCompleted")
            self.assertEqual(p["cutover"]["source_of_truth_role"], "target")
            self.assertTrue(p["trigger_time"] <= p["traffic_paused_time"] <= p["commit_time"])
        at_commit = cs.count(self.source)
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertGreater(processed, 100)
        self.assertGreater(at_commit, before, "the load ran on the source before the cutover")
        self.assertEqual(cs.count(self.target), before + processed,
                         "every transaction pgbench counted is on the target")
        self.assertEqual(cs.count(self.source), at_commit, "the source took no write after the commit")
        self.assertEqual(self.roles(), ["target"] * 3)

        # The record: what the pause cost the clients, per proxy and in total, and the replication lag.
        self.wait_for(lambda: self.cli_json("status").get("old_source", {}).get("settled"), "the record completed")
        record = self.cli_json("cutover", "get_metadata", "-i", "1")
        totals = record["totals"]
        self.assertGreater(totals["requests_queued"], 0, totals)
        self.assertEqual(totals["requests_queued"], sum(p["cutover"]["requests_queued"] for p in record["proxies"]))
        self.assertGreater(totals["longest_stall_ms"], 0, totals)
        pause_ms = max((p["cutover"]["commit_time_ns"] - p["cutover"]["trigger_time_ns"]) / 1e6
                       for p in record["proxies"])
        self.assertLessEqual(totals["longest_stall_ms"], pause_ms, "no client waited longer than the pause")
        self.assertGreater(totals["statements_replayed"], 0, "pgbench's prepared statements carried over")
        self.assertEqual((totals["statements_failed"], totals["sessions_ended"]), (0, 0), totals)
        self.assertTrue(record["replication_checked"])
        self.assertLess(record["replication_lag_ms"], 30000)
        # begin ran the preflight before it paused anything, and the record keeps it.
        self.assertTrue(record["preflight"]["ready"], record["preflight"])
        check = next(c for c in record["preflight"]["checks"] if c["name"] == "replication carries the marker")
        self.assertEqual(check["result"], "pass", check)
        table = self.orch.cli("cutover", "get_metadata", "-i", "1").stdout
        self.assertRegex(table, r"LONGEST STALL \| +QUEUED +\| ERROR")
        self.assertRegex(table, r"\d+\.\d ms +\| \d+ requests, \d+ logins")

        # Around LMS to the old source: the fence refuses an application's write; one that insists
        # (READ WRITE) goes through and is seen, in status, the metric, the log and the record.
        self.wait_for(lambda: self.cli_json("status").get("old_source", {}).get("watched"), "the old source watched")
        r = psql(self.source.url(), "-Atc", "INSERT INTO probe VALUES (60, 'around')")
        self.assertIn("cannot execute INSERT in a read-only transaction", r.stderr)
        r = psql(self.source.url(), "-Atc", "BEGIN READ WRITE; INSERT INTO probe VALUES (60, 'around'); COMMIT")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_for(lambda: self.cli_json("status")["old_source"]["writes_since_commit"] > 0,
                      "the write around LMS seen")
        old = self.cli_json("status")["old_source"]
        self.assertEqual((old["writes_since_commit"], old["fenced"], old["address"], old["cutover_id"]),
                         (1, True, f"127.0.0.1:{self.source.port}", 1), old)
        table = self.orch.cli("status").stdout
        self.assertRegex(table, rf"127\.0\.0\.1:{self.source.port} +\| 1 +\| true")
        self.assertIn("Old Source Since Cutover 1.", table)
        self.assertIn("lms_orchestrator_old_source_writes 1", self.orch.metrics())
        self.assertIn("lms_orchestrator_old_source_fenced 1", self.orch.metrics())
        self.assertRegex(self.orch.log(), r"cutover 1: 1 rows written on the old source 127\.0\.0\.1:\d+ since the "
                                          r"commit, not through LMS")
        record = self.cli_json("cutover", "get_metadata", "-i", "1")["old_source"]
        self.assertEqual((record["writes_since_commit"], record["fenced"], record["fence_requested"]), (1, True, True))
        self.source.admin("DELETE FROM probe WHERE id = 60", db=DATABASE)

        # Back: replication reversed (the source re-seeded from the target), then target → source.
        cs.stop_replication(self.source, self.target, "lms_forward")
        self.source.admin(f"TRUNCATE {cs.PGBENCH_TABLES}, lms_cutover_marker", db=DATABASE)
        cs.replicate(self.target, self.source, "lms_back")
        self.assertEqual(cs.count(self.source), cs.count(self.target))
        middle = cs.count(self.target)
        load = cs.Load(self.proxies, seconds=6)
        time.sleep(2)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ID 2.", r.stdout)
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("CommitCompleted", r.stdout)
        self.assertIn("LMS-Specific Consistent Cutover Metadata.", r.stdout)
        at_commit = cs.count(self.target)
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertEqual(cs.count(self.source), middle + processed)
        self.assertEqual(cs.count(self.target), at_commit, "the target took no write after the commit back")
        self.assertEqual(self.roles(), ["source"] * 3)
        # The cutover back lifted the fence it switched through: the source takes writes again.
        r = psql(self.source.url(), "-Atc", "SELECT current_setting('default_transaction_read_only')")
        self.assertEqual(r.stdout.strip(), "off", r.stderr)
        cs.stop_replication(self.target, self.source, "lms_back")
        # The history keeps both attempts.
        first = self.cli_json("cutover", "get_metadata", "-i", "1")
        self.assertEqual(first["status"], "CommitCompleted")
        self.assertEqual({p["cutover"]["source_of_truth_role"] for p in first["proxies"]}, {"target"})



class TransactionPooledCutover(CutoverHarness):
    def test_200_clients_over_8_pooled_connections_per_proxy_cut_over_with_zero_errors(self):
        # pool-mode transaction: between transactions a session holds no connection, so the pause
        # waits only for the transactions in flight, and the commit moves each proxy's pool.
        self.start_system(proxy_extra=["--pool-mode", "transaction", "--server-pool-size", "8"])
        before = cs.count(self.source)
        load = cs.Load(self.proxies, seconds=5, clients=200)
        time.sleep(2.5)
        attempt = self.cli_json("cutover", "consistent", "begin")
        self.assertEqual(attempt["status"], "TrafficPaused", attempt)
        attempt = self.cli_json("cutover", "consistent", "commit")
        self.assertEqual(attempt["status"], "CommitCompleted", attempt)
        at_commit = cs.count(self.source)
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(o[-2000:] for o in outputs))
        self.assertGreater(processed, 200)
        self.assertEqual(cs.count(self.target), before + processed,
                         "every transaction pgbench counted is on the target")
        self.assertEqual(cs.count(self.source), at_commit, "the source took no write after the commit")
        # Each proxy's pool now leads to the target, at most 8 connections each (one worker). The
        # proxies' and the orchestrator's own short control connections (the fence, the marker,
        # the history) are not the pool's: one may still be closing.
        lms_backends = (f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{USER}' AND datname = '{DATABASE}' "
                        "AND application_name NOT IN ('lms-control', 'lms-orchestrator')")
        self.assertLessEqual(int(self.target.admin(lms_backends)), 3 * 8)
        self.wait_for(lambda: int(self.source.admin(lms_backends)) == 0, "the source's pooled connections to close")


class PreflightBeforeThePause(CutoverHarness):
    """The scenario an operator meets first: logical replication set up for the application's tables,
    nothing made for LMS. Preflight says what is missing before any client pauses."""

    @classmethod
    def setUpClass(cls):
        cls.source = cs.logical_server()
        cls.target = cs.logical_server()
        subprocess.run(["pgbench", "-i", "-q", "-s", "1", cls.source.url()], check=True, capture_output=True)
        subprocess.run(["pgbench", "-i", "-q", "-I", "dtp", "-s", "1", cls.target.url()], check=True,
                       capture_output=True)
        cs.replicate(cls.source, cls.target, "app_forward")  # no marker table on either side

    def test_a_marker_replication_does_not_carry_fails_preflight_at_once_and_passes_once_fixed(self):
        self.start_system()
        started = time.time()
        r = self.orch.cli("cutover", "consistent", "preflight")
        took = time.time() - started
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"replication carries the marker +\| fail +\| lms_cutover_marker did not "
                                   r"exist on the other database and was created there now \(and on the source")
        self.assertIn("REFRESH PUBLICATION", r.stdout)
        self.assertIn("Preflight failed", r.stdout)
        self.assertLess(took, 3, "a table just made on the target cannot carry a marker: no wait for it")
        # Nothing paused: no attempt exists and a client's query runs as before.
        self.assertEqual(self.orch.cli("cutover", "get_metadata", "-i", "1").returncode, 1)
        self.assertEqual(psql(self.proxies[0].url(), "-Atc", "SELECT 1").stdout.strip(), "1")
        for server in (self.source, self.target):
            self.assertEqual(server.admin("SELECT count(*) FROM lms_cutover_marker", db=DATABASE), "0")

        # The fix preflight named: the subscription picks up the new table.
        self.target.admin("ALTER SUBSCRIPTION app_forward REFRESH PUBLICATION", db=DATABASE)
        self.wait_for(lambda: self.target.admin("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'",
                                                db=DATABASE) == "0", "the marker table's initial sync")
        report = self.cli_json("cutover", "consistent", "preflight")
        self.assertTrue(report["ready"], report)
        preflight_checks = report["checks"]
        check = next(c for c in report["checks"] if c["name"] == "replication carries the marker")
        self.assertEqual(check["result"], "pass")
        self.assertRegex(check["detail"], r"reached the other database in \d+ ms")
        # With where the source stands and how far behind the subscription's slot is.
        self.assertRegex(check["detail"], r"; the source of truth is at [0-9A-F]+/[0-9A-F]+; slot app_forward "
                                          r"\(read by app_forward\) \d+(\.\d)? [kMG]?B behind$")

        load = cs.Load(self.proxies, seconds=5)
        time.sleep(1.5)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        attempt = self.cli_json("cutover", "consistent", "commit")
        self.assertEqual(attempt["status"], "CommitCompleted")
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertGreater(processed, 50)
        self.assertEqual(self.roles(), ["target"] * 3)
        # The attempt's record keeps the preflight begin ran, which passed as the one above did.
        self.assertEqual([(c["name"], c["result"]) for c in attempt["preflight"]["checks"]
                          if c["name"] != "sessions begin would wait for"],
                         [(c["name"], c["result"]) for c in preflight_checks
                          if c["name"] != "sessions begin would wait for"])
        self.assertTrue(attempt["preflight"]["ready"])
        # The record keeps where the source's WAL stood at the commit, and the slot's lag then.
        self.assertRegex(attempt["source_position"]["position"], r"^[0-9A-F]+/[0-9A-F]+$")
        self.assertEqual([s["name"] for s in attempt["source_position"]["streams"]], ["app_forward"])

    def test_a_table_the_application_uses_missing_on_the_target_fails_preflight_by_name(self):
        # Shadowing shows which tables the application uses; one was never made on the target.
        self.source.admin(f"CREATE TABLE promo_codes (code text PRIMARY KEY); GRANT ALL ON promo_codes TO {USER}",
                          db=DATABASE)
        self.addCleanup(self.source.admin, "DROP TABLE IF EXISTS promo_codes", db=DATABASE)
        self.addCleanup(self.target.admin, "DROP TABLE IF EXISTS promo_codes", db=DATABASE)
        self.start_system(proxy_extra=["--shadow-mode", "async"])
        for sql in ("SELECT count(*) FROM promo_codes", "SELECT abalance FROM pgbench_accounts WHERE aid = 1"):
            r = psql(self.proxies[0].url(), "-Atc", sql)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_for(lambda: len(json.loads(self.proxies[0].http_get("/v1/shadow/report")[1])["statements"]) >= 2,
                      "both statements in the report")
        check = self.tables_check()
        self.assertEqual(check["result"], "fail", check)
        self.assertEqual(check["detail"], "1 of the 2 tables the application used (in the compatibility report) are "
                                          "missing there: promo_codes. Create them on the other database (the "
                                          "schema tool's job) and let replication fill them")
        # begin refuses for the same reason, pausing nobody.
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("tables the application uses exist on the other database: 1 of the 2", r.stderr)
        self.assertEqual({self.proxy_cutover(p)["status"] for p in self.proxies}, {""})
        # Made on the target, the check passes.
        self.target.admin(f"CREATE TABLE promo_codes (code text PRIMARY KEY); GRANT ALL ON promo_codes TO {USER}",
                          db=DATABASE)
        check = self.tables_check()
        self.assertEqual((check["result"], check["detail"]),
                         ("pass", "all 2 tables the application used (in the compatibility report) are there"))

    def test_a_proxy_that_cannot_log_in_to_the_target_fails_preflight_by_name(self):
        from lmstest import Lms
        good = cs.proxies_for(self.source, self.target, n=1)[0]
        bad = Lms(self.source.url(), extra=["--target", self.target.url(password="not-the-password"),
                                            "--target-dialect", "postgres"], workers=1)
        for p in (good, bad):
            self.addCleanup(self._stop_proxy, p)
        self.orch = Orchestrator([good, bad])
        self.addCleanup(self._stop_orchestrator, self.orch)
        report = json.loads(self.orch.cli("cutover", "consistent", "preflight", "-o", "json").stdout)
        check = next(c for c in report["checks"] if c["name"] == "every proxy can log in to the other database")
        self.assertEqual(check["result"], "fail", check)
        self.assertRegex(check["detail"], rf"^1 of 2 cannot: 127\.0\.0\.1:{bad.port}: .*password authentication "
                                          rf"failed for user \"{USER}\"$")
        self.assertNotIn("not-the-password", json.dumps(report))
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("every proxy can log in to the other database: 1 of 2 cannot", r.stderr)

    def test_the_tables_call_reads_only_plain_names_and_at_most_64(self):
        self.start_system()
        proxy = self.proxies[0]
        status, body = proxy.http_post("/v1/other/tables", {"names": ["pgbench_accounts", "public.nowhere"]})
        self.assertEqual(status, 200, body)
        tables = json.loads(body)["tables"]
        self.assertEqual(tables[0], {"name": "pgbench_accounts", "error": ""})
        self.assertIn('relation "public.nowhere" does not exist', tables[1]["error"])
        # Nothing that could end the statement a name goes into, and a bounded number of them.
        status, body = proxy.http_post("/v1/other/tables", {"names": ["t; DROP TABLE pgbench_accounts"]})
        self.assertEqual((status, json.loads(body)["error"]), (400, "not a table name: t; DROP TABLE pgbench_accounts"))
        status, body = proxy.http_post("/v1/other/tables", {"names": [f"t{i}" for i in range(65)]})
        self.assertEqual((status, json.loads(body)["error"]), (400, "at most 64 tables at a time"))
        self.assertEqual(cs.count(self.target, "pgbench_accounts"), cs.count(self.source, "pgbench_accounts"))

    def tables_check(self):
        report = json.loads(self.orch.cli("cutover", "consistent", "preflight", "-o", "json").stdout)
        return next(c for c in report["checks"] if c["name"] == "tables the application uses exist on the other "
                                                                  "database")


class PreflightNamesWhatAPauseWouldStallOrLose(CutoverHarness):
    def test_a_long_transaction_and_uncarried_state_are_named_and_max_pause_ends_the_pause_on_time(self):
        self.start_system()
        held = self.held_session(self.proxies[0], "BEGIN;", "INSERT INTO probe VALUES (40, 'secret-literal');")
        self.held_session(self.proxies[1], "CREATE TEMP TABLE scratch (a int);")
        self.held_session(self.proxies[2], "LISTEN jobs;")
        time.sleep(1.2)  # the transaction is now older than the begin-timeout preflight is told of
        r = self.orch.cli("cutover", "consistent", "preflight", "--begin-timeout", "1s")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("Preflight failed", r.stdout)
        report = json.loads(self.orch.cli("cutover", "consistent", "preflight", "--begin-timeout", "1s", "-o",
                                          "json").stdout)
        self.assertFalse(report["ready"])
        checks = {c["name"]: c for c in report["checks"]}
        long = checks["no long transactions on the source of truth"]
        self.assertEqual(long["result"], "fail", long)
        # The database's own view: its backend, the application's address and the proxy it came
        # through (the database sees only the proxy), the role, the state, and the statement with
        # its literal hidden as connections list hides it.
        client = next(c["source_address"] for c in self.cli_json("connections", "list")
                      if c["state"] == "in transaction")
        self.assertRegex(long["detail"], r"^1 open longer than 1\.0 s, which a pause would wait for past its "
                                         rf"bound: session \d+ from {re.escape(client)} through LMS "
                                         rf"127\.0\.0\.1:{self.proxies[0].port} \(app, idle in transaction, "
                                         r"(\d+\.\d) s\): INSERT INTO probe VALUES \(\?, \?\)")
        # Its age: the 1.2 s slept and the preflight runs since (more on a busy machine).
        age = float(re.search(r"idle in transaction, (\d+\.\d) s", long["detail"]).group(1))
        self.assertTrue(1.2 <= age < 30, long["detail"])
        self.assertNotIn("secret-literal", r.stdout)
        lost = checks["sessions that would lose state at the switch"]
        self.assertEqual(lost["result"], "warn", lost)
        self.assertRegex(lost["detail"], r"^2 sessions: ")
        self.assertRegex(lost["detail"], rf"127\.0\.0\.1:\d+ via 127\.0\.0\.1:{self.proxies[1].port} \(app: "
                                         r"temporary table\)")
        self.assertRegex(lost["detail"], rf"via 127\.0\.0\.1:{self.proxies[2].port} \(app: LISTEN\)")
        conns = self.cli_json("connections", "list")
        self.assertEqual(sorted(c["held_state"] for c in conns if c["held_state"]), ["LISTEN", "temporary table"])

        # begin runs the same checks first and pauses nobody while they fail.
        r = self.orch.cli("cutover", "consistent", "begin", "--begin-timeout", "1s")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no long transactions on the source of truth: 1 open longer than 1.0 s", r.stderr)
        self.assertEqual(self.roles(), ["source"] * 3)
        self.assertEqual({self.proxy_cutover(p)["status"] for p in self.proxies}, {""})

        # Begun anyway, with no begin-timeout: the held transaction keeps the pause from completing,
        # and the pause's bound ends the attempt on time; every client carries on on the source.
        load = cs.Load(self.proxies[1:], seconds=6)
        time.sleep(1)
        started = time.time()
        r = self.orch.cli("cutover", "consistent", "begin", "--max-pause", "3s", "--skip-preflight")
        took = time.time() - started
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("the pause reached its bound (max-pause 3000 ms) before a commit", r.stderr)
        self.assertGreaterEqual(took, 3)
        self.assertLess(took, 6, "aborted on time")
        self.wait_for(lambda: {p["cutover"]["status"] for p in self.cli_json("cutover", "get_metadata", "-i", "1")[
            "proxies"]} == {"Aborted"}, "every proxy aborted")
        attempt = self.cli_json("cutover", "get_metadata", "-i", "1")
        self.assertEqual(attempt["status"], "Error")
        self.assertEqual(attempt["max_pause_ms"], 3000)
        out, err = self.finish_session(held, "COMMIT;", "SELECT note FROM probe WHERE id = 40;")
        self.assertEqual(err, "")
        self.assertEqual(out.strip().splitlines()[-1], "secret-literal")
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertGreater(processed, 50)
        self.assertEqual(self.roles(), ["source"] * 3)
        self.source.admin("DELETE FROM probe WHERE id = 40", db=DATABASE)


class CutoverControl(CutoverHarness):
    def test_abort_after_begin_resumes_on_the_source_with_zero_errors(self):
        self.start_system()
        # The load runs until the test ends it, however long begin and abort take on this machine
        # (-T only bounds it): a fixed -T 5 once ended while the proxies were still paused.
        load = cs.Load(self.proxies, seconds=300)
        time.sleep(1.5)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        paused_at = cs.count(self.source)
        time.sleep(0.3)
        self.assertEqual(cs.count(self.source), paused_at, "nothing runs while paused")
        attempt = self.cli_json("cutover", "consistent", "abort")
        self.assertEqual(attempt["status"], "Aborted")
        self.assertEqual({p["cutover"]["status"] for p in attempt["proxies"]}, {"Aborted"})
        self.wait_for(lambda: cs.count(self.source) > paused_at + 50, "the load to go on on the source")
        self.assertTrue(load.running(), "the load ended before the test did")
        processed, failed, outputs = load.stop()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertEqual(self.roles(), ["source"] * 3)
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 1)
        self.assertIn("aborted", r.stderr)

    def test_begin_timeout_ends_the_held_transaction_and_the_rest_cut_over(self):
        self.start_system()
        held = self.held_session(self.proxies[0], "BEGIN;", "INSERT INTO probe VALUES (1, 'held');")
        idle = self.held_session(self.proxies[1], "SET application_name = 'survivor';", "SELECT 1;")
        started = time.time()
        # The operator knows of the held transaction and lets the begin-timeout end it.
        r = self.orch.cli("cutover", "consistent", "begin", "--begin-timeout", "1s", "--skip-preflight")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreaterEqual(time.time() - started, 1.0)
        # While it waited, the progress line named the transaction it waited for, and whose it is.
        self.assertRegex(r.stderr, r"waiting for 1 busy session on 1 of 3 proxies; oldest transaction \d+\.\d s, "
                                   rf"127\.0\.0\.1:\d+ through LMS 127\.0\.0\.1:{self.proxies[0].port}: "
                                   r"INSERT INTO probe VALUES \(\?, \?\)")
        out, err = self.finish_session(held, "COMMIT;")
        self.assertIn("ended for a cutover", err)
        attempt = self.cli_json("cutover", "consistent", "commit")
        self.assertEqual(attempt["status"], "CommitCompleted")
        self.assertEqual(cs.count(self.source, "probe WHERE id = 1"), 0)
        self.assertEqual(cs.count(self.target, "probe WHERE id = 1"), 0)
        out, err = self.finish_session(idle, "SELECT current_setting('application_name'), inet_server_port();")
        self.assertEqual(err, "")
        self.assertEqual(out.strip().splitlines()[-1], f"survivor|{self.target.port}")
        self.assertEqual([p["cutover"]["sessions_ended"] for p in attempt["proxies"]], [1, 0, 0])
        self.assertEqual(attempt["totals"]["sessions_ended"], 1)
        metrics = {p: p.http_get("/metrics")[1] for p in self.proxies}
        self.assertIn("lms_cutover_sessions_ended_total 1", metrics[self.proxies[0]])
        self.assertIn("lms_cutover_sessions_switched_total 1", metrics[self.proxies[1]])
        self.assertIn("lms_cutover_source_of_truth 1", metrics[self.proxies[2]])

    def test_begin_timeout_with_abort_fails_and_keeps_the_transaction(self):
        self.start_system()
        held = self.held_session(self.proxies[0], "BEGIN;", "INSERT INTO probe VALUES (2, 'kept');")
        r = self.orch.cli("cutover", "consistent", "begin", "--begin-timeout", "500ms", "--on-begin-timeout", "abort",
                          "--skip-preflight")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("begin-timeout", r.stderr)
        out, err = self.finish_session(held, "COMMIT;")
        self.assertEqual(err, "")
        self.assertEqual(cs.count(self.source, "probe WHERE id = 2"), 1)
        deadline = time.time() + 10
        while time.time() < deadline and any(self.proxy_cutover(p)["status"] in ("Began", "TrafficPaused")
                                             for p in self.proxies):
            time.sleep(0.05)
        for p in self.proxies:
            self.assertIn(self.proxy_cutover(p)["status"], ("Aborted", "Error"))
        self.assertEqual(self.roles(), ["source"] * 3)
        self.assertEqual(self.cli_json("cutover", "get_metadata", "-i", "1")["status"], "Error")

    def test_ctrl_c_during_begin_aborts_on_every_proxy(self):
        self.start_system()
        held = self.held_session(self.proxies[2], "BEGIN;", "INSERT INTO probe VALUES (3, 'ctrl-c');")
        cli = subprocess.Popen([cs_cli(), "--orchestrator-url", self.orch.url, "cutover", "consistent", "begin"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline and self.proxy_cutover(self.proxies[2])["status"] != "Began":
            time.sleep(0.05)
        time.sleep(0.3)
        cli.send_signal(signal.SIGINT)
        out, err = cli.communicate(timeout=30)
        self.assertEqual(cli.returncode, 130, out + err)
        self.assertIn("aborted", out)
        self.assertIn("busy session", err, "the progress line shows what begin waits for")
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "Aborted")
        out, err = self.finish_session(held, "COMMIT;")
        self.assertEqual(err, "")
        self.assertEqual(cs.count(self.source, "probe WHERE id = 3"), 1)

    def test_orchestrator_killed_between_begin_and_commit_aborts_when_restarted(self):
        self.start_system()
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.orch.kill()
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "TrafficPaused")
        queued = subprocess.Popen(["psql", self.proxies[0].url(), "-X", "-qAt", "-c", "SELECT inet_server_port()"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        self.assertIsNone(queued.poll(), "a new connection waits while paused")
        self.orch.start()
        out, err = queued.communicate(timeout=30)
        self.assertEqual((out.strip(), err), (str(self.source.port), ""))
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "Aborted")
        self.assertIn("restarted before the cutover was committed",
                      self.cli_json("cutover", "get_metadata", "-i", "1")["error"])

    def test_orchestrator_killed_during_begin_aborts_when_restarted(self):
        self.start_system()
        # A transaction on proxy 2 keeps begin waiting: the orchestrator dies in the middle of it.
        held = self.held_session(self.proxies[2], "BEGIN;", "INSERT INTO probe VALUES (5, 'mid-begin');")
        cli = subprocess.Popen([cs_cli(), "--orchestrator-url", self.orch.url, "cutover", "consistent", "begin"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for(lambda: self.proxy_cutover(self.proxies[2])["status"] == "Began", "proxy 2 pausing")
        self.orch.kill()
        out, err = cli.communicate(timeout=30)
        self.assertNotEqual(cli.returncode, 0, "the operator is told begin did not finish")
        self.assertIn("cannot reach the orchestrator", err)
        # Nobody switched; the paused proxies wait for a decision, the held transaction too.
        self.assertEqual({self.proxy_cutover(p)["status"] for p in self.proxies[:2]}, {"TrafficPaused"})
        self.orch.start()
        for p in self.proxies:
            self.wait_for(lambda: self.proxy_cutover(p)["status"] == "Aborted", f"{p.port} aborted")
        out, err = self.finish_session(held, "COMMIT;")
        self.assertEqual(err, "")
        self.assertEqual(cs.count(self.source, "probe WHERE id = 5"), 1)
        self.assertEqual(self.roles(), ["source"] * 3)
        self.assertIn("restarted before the cutover was committed",
                      self.cli_json("cutover", "get_metadata", "-i", "1")["error"])

    def crash_orchestrator_at(self, point, *cli_args):
        """Runs `lms-cli cutover consistent <cli_args>` against an orchestrator armed to crash at
        `point`: the operator is told it failed, and the orchestrator is dead."""
        r = self.orch.cli("cutover", "consistent", *cli_args)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("cannot reach the orchestrator", r.stderr)
        self.assertEqual(self.orch.proc.wait(timeout=10), 137)
        self.orch.log_file.close()
        self.assertIn(f"crashing at {point}", self.orch.log())

    def restart_orchestrator(self):
        self.orch.env.pop("LMS_ORCHESTRATOR_CRASH_AT")
        self.orch.start()

    def queued_client(self):
        """A new client of proxy 0, which waits while traffic is paused; says which server answered."""
        proc = subprocess.Popen(["psql", self.proxies[0].url(), "-X", "-qAt", "-c", "SELECT inet_server_port()"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        time.sleep(0.5)
        self.assertIsNone(proc.poll(), "a new connection waits while paused")
        return proc

    def decision_survives_a_crash(self, step, status, server, role):
        """Begins a cutover, then runs `step` (commit or abort) on an orchestrator that crashes
        right after writing the decision down: no proxy has heard it, and the restarted
        orchestrator carries it out."""
        self.start_system(orchestrator_env={"LMS_ORCHESTRATOR_CRASH_AT": f"{step}-recorded"})
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        queued = self.queued_client()
        self.crash_orchestrator_at(f"{step}-recorded", step)
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "TrafficPaused")
        self.restart_orchestrator()
        for p in self.proxies:
            self.wait_for(lambda: self.proxy_cutover(p)["status"] == status, f"{p.port} {status}")
        out, err = queued.communicate(timeout=30)
        self.assertEqual((out.strip(), err), (str(server.port), ""))
        self.assertEqual(self.roles(), [role] * 3)

    def test_orchestrator_crashed_after_recording_commit_finishes_it_when_restarted(self):
        self.decision_survives_a_crash("commit", "CommitCompleted", self.target, "target")
        self.assertEqual(self.cli_json("cutover", "get_metadata", "-i", "1")["status"], "CommitCompleted")

    def test_orchestrator_crashed_after_recording_abort_finishes_it_when_restarted(self):
        self.decision_survives_a_crash("abort", "Aborted", self.source, "source")

    def test_orchestrator_crashed_after_recording_begin_settles_it_when_restarted(self):
        self.start_system(orchestrator_env={"LMS_ORCHESTRATOR_CRASH_AT": "begin-recorded"})
        self.crash_orchestrator_at("begin-recorded", "begin")
        # No proxy heard of the cutover: traffic flows while the orchestrator is down.
        r = psql(self.proxies[1].url(), "-qAt", "-c", "SELECT inet_server_port()")
        self.assertEqual((r.stdout.strip(), r.stderr), (str(self.source.port), ""))
        self.restart_orchestrator()
        metadata = self.cli_json("cutover", "get_metadata", "-i", "1")
        self.assertIn("restarted before the cutover was committed", metadata["error"])
        # Settled as a failed attempt once every proxy has confirmed the abort; none is paused.
        self.wait_for(lambda: all(p["confirmed"] for p in self.cli_json("cutover", "get_metadata", "-i", "1")["proxies"]),
                      "every proxy to confirm the abort")
        self.assertEqual(self.cli_json("cutover", "get_metadata", "-i", "1")["status"], "Error")
        for p in self.proxies:
            self.assertNotEqual(self.proxy_cutover(p)["status"], "TrafficPaused")
        # The next cutover runs normally.
        for step in ("begin", "commit"):
            r = self.orch.cli("cutover", "consistent", step)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.roles(), ["target"] * 3)

    def test_commit_waits_for_replication_and_refuses_when_it_lags(self):
        self.start_system(orchestrator_extra=["--replication-timeout", "1s"])
        self.target.admin("ALTER SUBSCRIPTION lms_forward DISABLE", db=DATABASE)
        self.addCleanup(self.target.admin, "ALTER SUBSCRIPTION lms_forward ENABLE", db=DATABASE)
        # begin's preflight sees it first and pauses nobody...
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("preflight failed, nothing was paused", r.stderr)
        self.assertIn("replication carries the marker: a marker written through", r.stderr)
        self.assertRegex(r.stdout, r"replication carries the marker +\| fail")
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "")
        # ...and a begin told to skip it pauses, and the commit is the guard.
        r = self.orch.cli("cutover", "consistent", "begin", "--skip-preflight")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("replication has not caught up within 1000 ms", r.stderr)
        for p in self.proxies:  # still paused, ready for a commit or an abort
            self.assertEqual(self.proxy_cutover(p)["status"], "TrafficPaused")
        self.target.admin("ALTER SUBSCRIPTION lms_forward ENABLE", db=DATABASE)
        deadline = time.time() + 60
        while True:  # what an operator does: commit again once replication runs
            r = self.orch.cli("cutover", "consistent", "commit", "-o", "json")
            if r.returncode == 0 or time.time() > deadline:
                break
            self.assertIn("replication has not caught up", r.stderr)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "CommitCompleted")
        self.assertEqual(self.roles(), ["target"] * 3)

    def test_commit_refused_above_max_replication_lag_stays_paused_until_abort(self):
        self.start_system(orchestrator_extra=["--max-replication-lag", "1ms"])
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"replication lag \d+ ms is above --max-replication-lag 1 ms")
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "TrafficPaused")
        self.assertEqual(self.cli_json("cutover", "consistent", "abort")["status"], "Aborted")
        self.assertEqual(self.roles(), ["source"] * 3)

    def test_history_in_the_target_database_survives_an_orchestrator_restart(self):
        self.proxies = cs.proxies_for(self.source, self.target)
        for p in self.proxies:
            self.addCleanup(self._stop_proxy, p)
        self.orch = Orchestrator(self.proxies, env={"CRDB_URL": self.target.url()})
        self.addCleanup(self._stop_orchestrator, self.orch)
        self.addCleanup(self.target.admin, "DROP TABLE IF EXISTS lms_orchestrator_history", db=DATABASE)
        deadline = time.time() + 10
        while time.time() < deadline and "listening" not in self.orch.log():
            time.sleep(0.05)
        self.assertIn("table lms_orchestrator_history at 127.0.0.1:", self.orch.log())
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        history = "SELECT attempt::json->>'decision' FROM lms_orchestrator_history WHERE id = 1"
        self.assertEqual(self.target.admin(history, db=DATABASE), "begin")
        self.orch.kill()
        self.orch.start()
        deadline = time.time() + 10
        while time.time() < deadline and any(self.proxy_cutover(p)["status"] != "Aborted" for p in self.proxies):
            time.sleep(0.05)
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "Aborted")
        self.assertEqual(self.target.admin(history, db=DATABASE), "abort")
        self.assertFalse(os.path.exists(os.path.join(self.orch.state_dir, "cutover-state.json")))

    def test_a_proxy_unreachable_at_begin_pauses_nobody(self):
        self.start_system()
        down = self.proxies.pop()
        down.stop()
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"127.0.0.1:{down.http_port}", r.stderr)
        for p in self.proxies:
            self.assertNotIn(self.proxy_cutover(p)["status"], ("Began", "TrafficPaused"))
            self.assertEqual(psql(p.url(), "-qAtc", "SELECT 1").stdout.strip(), "1")

    def restart_killed(self, index, extra, down_for=0.0):
        """SIGKILLs proxy `index` and, `down_for` seconds later, starts it again with the same ports
        and settings."""
        from lmstest import Lms
        old = self.proxies[index]
        old.killed = True
        old.proc.kill()
        old.proc.wait()
        time.sleep(down_for)
        new = Lms(self.source.url(), workers=1, port=old.port, http_port=old.http_port,
                  extra=["--target", self.target.url(), "--target-dialect", "postgres", *extra])
        self.addCleanup(self._stop_proxy, new)
        self.proxies[index] = new
        return new

    def test_a_proxy_killed_after_commit_comes_back_on_the_new_source_of_truth(self):
        state = [os.path.join(self.source.dir, f"proxy-{i}.state") for i in range(3)]
        self.start_system()
        for i in range(3):  # the same proxies, now keeping their state
            self.proxies[i] = self.restart_killed(i, ["--state-file", state[i]])
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.cli_json("cutover", "consistent", "commit")["status"], "CommitCompleted")
        revived = self.restart_killed(0, ["--state-file", state[0]])
        out = psql(revived.url(), "-qAtc", "SELECT inet_server_port()")
        self.assertEqual((out.stdout.strip(), out.stderr), (str(self.target.port), ""))
        self.assertEqual(self.roles(), ["target"] * 3)
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.orch.metrics_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('lms_orchestrator_cutovers_total{result="committed"} 1', metrics)
        self.assertIn("lms_orchestrator_last_cutover_id 1", metrics)

    def test_proxies_found_through_dns(self):
        self.start_system()
        orch = Orchestrator([], extra=["--lms-dns", "127.0.0.1", "--lms-port", str(self.proxies[0].http_port)])
        self.addCleanup(self._stop_orchestrator, orch)
        r = orch.cli("status", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([p["sql_address"] for p in json.loads(r.stdout)["proxies"]],
                         [f"127.0.0.1:{self.proxies[0].port}"])

    def test_a_proxy_killed_while_paused_fails_the_attempt_and_comes_back_on_the_source(self):
        state = os.path.join(self.source.dir, "paused-proxy.state")
        self.start_system()
        self.restart_killed(1, ["--state-file", state])
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Down long enough for the orchestrator's watch (every 25 ms) to see it gone.
        revived = self.restart_killed(1, ["--state-file", state], down_for=0.5)
        # It came back paused (it might have missed a commit), and the orchestrator, which saw it
        # go away, aborted the attempt everywhere.
        self.assertIn("was in progress when this proxy stopped", revived.log())
        deadline = time.time() + 10
        while time.time() < deadline and self.proxy_cutover(revived)["status"] != "Aborted":
            time.sleep(0.05)
        self.assertIn("does not answer", self.cli_json("cutover", "get_metadata", "-i", "1")["error"])
        for p in self.proxies:
            self.assertEqual(self.proxy_cutover(p)["status"], "Aborted")
            out = psql(p.url(), "-qAtc", "SELECT inet_server_port()")
            self.assertEqual((out.stdout.strip(), out.stderr), (str(self.source.port), ""))
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 1)

    def test_cli_tables_and_json_describe_every_proxy_and_connection(self):
        self.start_system()
        session = self.held_session(self.proxies[1], "SELECT 42 AS answer;")
        conns = self.cli_json("connections", "list")
        # Shown with its literals replaced: a literal can be a secret.
        mine = [c for c in conns if c["last_query"] == "SELECT ? AS answer;"]
        self.assertEqual(len(mine), 1)
        c = mine[0]
        self.assertEqual(c["remote_address"], f"127.0.0.1:{self.proxies[1].port}")
        self.assertRegex(c["source_address"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual((c["user"], c["database"], c["source_of_truth"], c["state"], c["error"]),
                         (USER, DATABASE, "PostgreSQL", "idle", ""))
        table = self.orch.cli("connections", "list").stdout
        self.assertRegex(table, r"\|\s+LMS ADDRESS\s+\|\s+CLIENT ADDRESS\s+\|")
        self.assertIn("SELECT ? AS answer;", table)
        self.assertTrue(table.rstrip().endswith("Connections Details."))

        status = self.cli_json("status")["proxies"]
        self.assertEqual([p["sql_address"] for p in status], [f"127.0.0.1:{p.port}" for p in self.proxies])
        for p in status:
            self.assertEqual((p["shadow_mode"], p["source_dialect"], p["target_dialect"], p["transitioning"]),
                             ("none", "PostgreSQL", "PostgreSQL", False))
            self.assertEqual(p["source_address"], f"127.0.0.1:{self.source.port}")
            self.assertEqual(p["target_address"], f"127.0.0.1:{self.target.port}")
        table = self.orch.cli("status").stdout
        self.assertIn("Proxy Settings Table.", table)
        self.assertIn("Individual LMS Proxy Status.", table)
        for p in self.proxies:
            self.assertIn(f"| 127.0.0.1:{p.port} | None ", table)

        version = self.orch.cli("version")
        self.assertEqual(version.stdout.strip(), "lms-cli 0.1.0")
        no_url = subprocess.run([cs_cli(), "status"], capture_output=True, text=True,
                                env={k: v for k, v in os.environ.items() if k != "CLI_ORCHESTRATOR_URL"})
        self.assertEqual(no_url.returncode, 2)
        self.assertIn("--orchestrator-url", no_url.stderr)
        unreachable = subprocess.run([cs_cli(), "--orchestrator-url", "http://127.0.0.1:1", "status"],
                                     capture_output=True, text=True)
        self.assertEqual(unreachable.returncode, 3)
        self.finish_session(session)

    def test_shadowing_turns_around_after_the_switch(self):
        self.start_system(proxy_extra=["--shadow-mode", "sync"])
        session = self.held_session(self.proxies[0], "SELECT nextval('shadowed');")
        self.assertEqual(self.source.admin("SELECT last_value FROM shadowed", db=DATABASE), "1")
        self.assertEqual(self.target.admin("SELECT last_value FROM shadowed", db=DATABASE), "1")
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.cli_json("cutover", "consistent", "commit")["status"], "CommitCompleted")
        out, err = self.finish_session(session, "SELECT nextval('shadowed'), inet_server_port();")
        self.assertEqual(err, "")
        self.assertEqual(out.strip().splitlines()[-1], f"2|{self.target.port}")
        # The old source of truth is now the one shadowed to.
        self.assertEqual(self.source.admin("SELECT last_value FROM shadowed", db=DATABASE), "2")
        self.source.admin("ALTER SEQUENCE shadowed RESTART", db=DATABASE)
        self.target.admin("ALTER SEQUENCE shadowed RESTART", db=DATABASE)


    def test_kept_connections_never_outlive_the_source_of_truth_they_lead_to(self):
        self.start_system(proxy_extra=["--server-pool-size", "4"])
        proxy = self.proxies[0]

        def kept():
            m = re.search(r"^lms_server_connections_kept (\d+)", proxy.http_get("/metrics")[1], re.M)
            return int(m.group(1))

        session = self.held_session(proxy, "SELECT 1;")
        r = psql(proxy.url(), "-qAtc", "SELECT inet_server_port()")
        self.assertEqual((r.stdout.strip(), r.stderr), (str(self.source.port), ""))
        self.wait_for(lambda: kept() == 1, "the source connection to be kept")
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.cli_json("cutover", "consistent", "commit")["status"], "CommitCompleted")
        self.assertEqual(kept(), 0, "a connection to the old source of truth is still kept")
        # The held session moved to the target with its state replayed: its connection is not
        # kept when it leaves, and a new client is served by the target.
        out, err = self.finish_session(session, "SELECT inet_server_port();")
        self.assertEqual((out.strip().splitlines()[-1], err), (str(self.target.port), ""))
        time.sleep(0.3)
        self.assertEqual(kept(), 0, "a switched connection was kept")
        for _ in range(2):
            r = psql(proxy.url(), "-qAtc", "SELECT inet_server_port()")
            self.assertEqual((r.stdout.strip(), r.stderr), (str(self.target.port), ""))
            self.wait_for(lambda: kept() == 1, "the target connection to be kept")


class RegionMove(unittest.TestCase):
    """Step 8 of a CockroachDB region move: source and target are two gateways of one cluster. Here
    one PostgreSQL server reached at 127.0.0.1 (the old gateway) and at 127.0.0.2 (the new one)."""

    def test_every_session_moves_to_the_new_gateway_under_load(self):
        from lmstest import Lms, PostgresServer
        server = PostgresServer(settings={"listen_addresses": "'127.0.0.1,127.0.0.2'"})
        self.addCleanup(server.destroy)
        subprocess.run(["pgbench", "-i", "-q", "-s", "1", server.url()], check=True, capture_output=True)
        old = server.url()
        new = old.replace("@127.0.0.1:", "@127.0.0.2:")
        proxies = [Lms(old, extra=["--source-dialect", "cockroach", "--target-dialect", "cockroach",
                                   "--target", new], workers=1) for _ in range(3)]
        orch = Orchestrator(proxies)
        for p in proxies:
            self.addCleanup(lambda p=p: self.assertEqual(p.stop(), 0, p.log()[-3000:]))
        self.addCleanup(lambda: self.assertEqual(orch.stop(), 0, orch.log()[-3000:]))
        sessions = [subprocess.Popen(["psql", p.url(), "-X", "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for p in proxies]
        for s in sessions:
            s.stdin.write("SELECT host(inet_server_addr());\n")
            s.stdin.flush()
        load = cs.Load(proxies, seconds=5)
        time.sleep(1.5)
        r = orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = orch.cli("cutover", "consistent", "commit", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "CommitCompleted")
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertGreater(processed, 50)
        for s in sessions:
            out, err = s.communicate("SELECT host(inet_server_addr());\n", timeout=30)
            self.assertEqual(err, "")
            self.assertEqual(out.split(), ["127.0.0.1", "127.0.0.2"])
        # New sessions land on the new gateway too.
        self.assertEqual(psql(proxies[0].url(), "-qAtc", "SELECT host(inet_server_addr())").stdout.strip(),
                         "127.0.0.2")
        status = json.loads(orch.cli("status", "-o", "json").stdout)["proxies"]
        self.assertEqual({p["source_of_truth"] for p in status}, {"Cockroach"})
        self.assertEqual({p["source_of_truth_role"] for p in status}, {"target"})


def cs_cli():
    from lmstest import CLI_BIN
    return CLI_BIN


if __name__ == "__main__":
    unittest.main()
