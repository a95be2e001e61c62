"""Shadowing, against two real PostgreSQL 15 servers: the source of truth, and a target standing in
for CockroachDB (same wire protocol). What the client receives and what each database executed, in
every mode."""
import json
import os
import re
import subprocess
import time
import unittest

from lmstest import DATABASE, PASSWORD, USER, TargetTestCase, psql


def metric(proxy, name):
    m = re.search(rf"^{re.escape(name)} (\d+)", proxy.http_get("/metrics")[1], re.M)
    return int(m.group(1)) if m else 0


def pgbench(port, *args):
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    return subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", USER, *args, DATABASE],
                          capture_output=True, text=True, env=env, timeout=300)


class ShadowTestCase(TargetTestCase):
    def setUp(self):
        for server in (self.pg, self.target):
            server.admin("DROP TABLE IF EXISTS t, only_on_source", db=DATABASE)
            server.admin(f"CREATE TABLE t (id serial PRIMARY KEY, v text); ALTER TABLE t OWNER TO {USER}", db=DATABASE)
        self.pg.admin(f"CREATE TABLE only_on_source (v int); ALTER TABLE only_on_source OWNER TO {USER}", db=DATABASE)

    def shadow(self, mode, *extra):
        return self.start_lms(extra=["--target", self.target.url(), "--shadow-mode", mode, *extra])

    def count(self, server, table="t"):
        return int(server.admin(f"SELECT count(*) FROM {table}", db=DATABASE))



class ModesAgainstTheTable(ShadowTestCase):
    def test_none_sends_nothing_to_the_target(self):
        proxy = self.shadow("none")
        r = psql(proxy.url(), "-c", "INSERT INTO t (v) VALUES ('a')")
        self.assertEqual(r.stdout.strip(), "INSERT 0 1", r.stderr)
        self.assertEqual((self.count(self.pg), self.count(self.target)), (1, 0))
        self.assertEqual(metric(proxy, "lms_shadow_requests_total"), 0)

    def test_async_runs_on_both_and_answers_from_the_source(self):
        proxy = self.shadow("async")
        r = psql(proxy.url(), "-c", "INSERT INTO t (v) VALUES ('a') RETURNING id, inet_server_port()")
        self.assertIn(str(self.pg.port), r.stdout, r.stderr)
        self.assertTrue(self.eventually(lambda: self.count(self.target) == 1))
        self.assertEqual(self.count(self.pg), 1)

    def test_sync_has_both_done_when_the_client_gets_its_answer(self):
        proxy = self.shadow("sync")
        for i in range(20):
            r = psql(proxy.url(), "-Atc", f"INSERT INTO t (v) VALUES ('{i}') RETURNING inet_server_port()")
            self.assertEqual(r.stdout.split("\n")[0], str(self.pg.port), r.stderr)
            # No waiting here: sync means the target had finished before the client heard back.
            self.assertEqual(self.count(self.target), i + 1)
        self.assertEqual(self.count(self.pg), 20)

    def test_sync_returns_the_source_result_when_the_target_fails(self):
        proxy = self.shadow("sync")
        r = psql(proxy.url(), "-c", "INSERT INTO only_on_source VALUES (1)")
        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr), (0, "INSERT 0 1", ""))
        self.assertEqual(metric(proxy, "lms_shadow_target_errors_total"), 1)

    def test_strict_sync_gives_the_target_error_when_only_the_target_fails(self):
        proxy = self.shadow("strict-sync")
        r = psql(proxy.url(), "-c", "INSERT INTO only_on_source VALUES (1)")
        self.assertEqual(r.returncode, 1)
        self.assertIn('ERROR:  relation "only_on_source" does not exist', r.stderr)
        # The source ran it: that is what strict-sync means by "the target's error wins".
        self.assertEqual(self.count(self.pg, "only_on_source"), 1)
        # The session goes on normally afterwards.
        r = psql(proxy.url(), "-Atc", "SELECT 1; SELECT count(*) FROM t")
        self.assertEqual(r.stdout.split(), ["1", "0"], r.stderr)

    def test_strict_sync_both_fail_gives_the_source_error(self):
        proxy = self.shadow("strict-sync")
        r = psql(proxy.url(), "-c", "SELECT 1/0")
        self.assertIn("ERROR:  division by zero", r.stderr)
        self.assertNotIn("does not exist", r.stderr)

    def test_strict_sync_source_error_wins_over_a_target_error(self):
        proxy = self.shadow("strict-sync")
        # Fails on the source (duplicate key) and on the target (missing table), with different errors.
        self.pg.admin("INSERT INTO only_on_source VALUES (1); CREATE UNIQUE INDEX ON only_on_source (v)", db=DATABASE)
        r = psql(proxy.url(), "-c", "INSERT INTO only_on_source VALUES (1)")
        self.assertIn("duplicate key value violates unique constraint", r.stderr)

    def test_copy_from_stdin_in_every_waiting_mode(self):
        for mode in ("sync", "strict-sync"):
            with self.subTest(mode=mode):
                proxy = self.shadow(mode)
                before = self.count(self.target)
                r = psql(proxy.url(), "-c", "COPY t (v) FROM STDIN", input="x\ny\nz\n")
                self.assertEqual(r.stdout.strip(), "COPY 3", r.stderr)
                self.assertTrue(self.eventually(lambda: self.count(self.target) == before + 3))


class SlowAndDeadTargets(ShadowTestCase):
    def lock_target_table(self, seconds):
        """Holds an exclusive lock on the target's t, so every statement on it waits."""
        proc = subprocess.Popen(["psql", "-h", self.target.dir, "-p", str(self.target.port), "-U", "postgres",
                                 "-d", DATABASE, "-c", f"BEGIN; LOCK t; SELECT pg_sleep({seconds}); COMMIT;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        self.assertTrue(self.eventually(lambda: self.target.admin(
            "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted "
            "AND relation = 't'::regclass", db=DATABASE) == "1"))

    def test_async_with_a_locked_target_keeps_source_latency_and_counts_drops(self):
        proxy = self.shadow("async")
        self.lock_target_table(4)
        script = "".join(f"INSERT INTO t (v) VALUES ('{i}');\n" for i in range(50))
        # One more statement: the session's own count of drops, read while it is still open.
        script += "SELECT 1 FROM t LIMIT 0;\n\\! sleep 1\n"
        watcher = subprocess.Popen(["psql", proxy.url(), "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        started = time.time()
        watcher.stdin.write(script)
        watcher.stdin.flush()
        self.assertTrue(self.eventually(lambda: self.count(self.pg) == 50, timeout=2.0),
                        "the client waited for the locked target")
        elapsed = time.time() - started
        self.assertLess(elapsed, 2.0, "the client waited for the locked target")
        sessions = [c for c in json.loads(proxy.http_get("/v1/connections")[1])["connections"]
                    if c["shadow"]["sent"] + c["shadow"]["dropped"] > 0]
        self.assertEqual(len(sessions), 1, sessions)
        self.assertGreaterEqual(sessions[0]["shadow"]["dropped"], 40, sessions)
        _, err = watcher.communicate(timeout=30)
        self.assertEqual(watcher.returncode, 0, err)
        self.assertGreaterEqual(metric(proxy, "lms_shadow_dropped_total"), 40)

    def test_sync_with_a_locked_target_ends_the_wait_at_shadow_timeout(self):
        proxy = self.shadow("sync", "--shadow-timeout", "700")
        self.lock_target_table(5)
        started = time.time()
        r = psql(proxy.url(), "-c", "INSERT INTO t (v) VALUES ('late')")
        elapsed = time.time() - started
        self.assertEqual(r.stdout.strip(), "INSERT 0 1", r.stderr)
        self.assertGreater(elapsed, 0.6)
        self.assertLess(elapsed, 3.0)
        self.assertEqual(metric(proxy, "lms_shadow_timeouts_total"), 1)

    def test_strict_sync_with_a_locked_target_fails_at_shadow_timeout(self):
        proxy = self.shadow("strict-sync", "--shadow-timeout", "700")
        self.lock_target_table(5)
        r = psql(proxy.url(), "-c", "INSERT INTO t (v) VALUES ('late')")
        self.assertIn("ERROR:  lms: the target database did not answer within 700 ms", r.stderr)

    def test_request_larger_than_buffer_limit_stops_shadowing_for_the_session(self):
        # A waited request is held for the target until the source answers; one larger than
        # buffer-limit is not, and shadowing ends for that session with a defined error.
        proxy = self.shadow("strict-sync", "--buffer-limit", "65536")
        big = "x" * 100_000
        r = psql(proxy.url(), "-c", f"SELECT length('{big}')", "-c", "SELECT 'after'")
        self.assertIn("ERROR:  lms: a request too large to shadow", r.stderr)
        self.assertEqual(self.count(self.pg), 0)
        self.assertIn("a request larger than buffer-limit", proxy.log())

    def test_dead_target(self):
        self.target.stop()
        try:
            async_proxy = self.shadow("async")
            r = psql(async_proxy.url(), "-Atc", "SELECT 'async is unaffected'")
            self.assertEqual(r.stdout.strip(), "async is unaffected", r.stderr)
            strict = self.shadow("strict-sync")
            r = psql(strict.url(), "-c", "SELECT 1")
            self.assertIn("lms: could not connect to the target database", r.stderr)
        finally:
            self.target.start()


class PgbenchInEveryMode(ShadowTestCase):
    def setUp(self):
        super().setUp()
        for server in (self.pg, self.target):
            r = pgbench(server.port, "-i", "-s", "1", "-q")
            self.assertEqual(r.returncode, 0, r.stderr)

    def run_mode(self, mode):
        proxy = self.shadow(mode)
        r = pgbench(proxy.port, "-M", "prepared", "-c", "4", "-j", "2", "-T", "3", "-n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("number of failed transactions: 0 (0.000%)", r.stdout)
        return proxy

    def history(self, server):
        return self.count(server, "pgbench_history")

    def test_async_write_load_never_fails_a_client(self):
        proxy = self.run_mode("async")
        self.assertGreater(metric(proxy, "lms_shadow_requests_total"), 0)
        self.assertLessEqual(self.history(self.target), self.history(self.pg))

    def test_async_dropped_parse_does_not_fail_later_binds_on_the_target(self):
        # The target is slow in one function, so a statement's first execution (which carries its
        # Parse) often arrives while the target is still busy, and is dropped.
        self.pg.admin("CREATE OR REPLACE FUNCTION probe() RETURNS int LANGUAGE sql AS 'SELECT 1'", db=DATABASE)
        self.target.admin("CREATE OR REPLACE FUNCTION probe() RETURNS int LANGUAGE plpgsql AS "
                          "'BEGIN PERFORM pg_sleep(0.02); RETURN 1; END'", db=DATABASE)
        proxy = self.shadow("async")
        script = os.path.join(proxy.dir, "statements.sql")
        with open(script, "w") as f:
            f.write("".join(f"SELECT probe() + {n};\n" for n in range(8)))
        # One client: whenever the target falls idle, the next request it gets is, seven times in eight,
        # a Bind of a statement whose Parse came while it was busy.
        r = pgbench(proxy.port, "-M", "prepared", "-c", "1", "-t", "300", "-n", "-f", script)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreater(metric(proxy, "lms_shadow_dropped_total"), 0)
        self.assertGreater(metric(proxy, "lms_shadow_requests_total"), 0)
        # Every Bind the target ran found its statement, although its Parse came in a dropped request.
        self.assertEqual(metric(proxy, "lms_shadow_target_errors_total"), 0)

    def test_sync_and_strict_sync_write_everything_to_both(self):
        for mode in ("sync", "strict-sync"):
            with self.subTest(mode=mode):
                proxy = self.run_mode(mode)
                self.assertEqual(metric(proxy, "lms_shadow_target_errors_total"), 0)
                self.assertEqual(self.history(self.target), self.history(self.pg))
                self.assertEqual(metric(proxy, "lms_shadow_dropped_total"), 0)


if __name__ == "__main__":
    unittest.main()
