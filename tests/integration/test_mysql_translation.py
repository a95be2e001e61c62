"""MySQL clients with a PostgreSQL-protocol target (PostgreSQL 15 standing in for CockroachDB):
shadowing a MariaDB source to it, and a cutover after which the clients' queries, text and
prepared, are answered by it, translated, with MySQL's types. Real MariaDB, real PostgreSQL, the
mariadb client, sysbench, and a libmariadb prepared-statement client."""
import json
import os
import re
import subprocess
import time
import unittest
import urllib.request

from lmstest import (BUILD_DIR, DATABASE, PASSWORD, USER, Lms, MariaDbServer, Orchestrator, PostgresServer,
                     mariadb, psql)

STMT_CLIENT = os.path.join(BUILD_DIR, "tests", "mysql_stmt_client")

# One table in the words both databases take, and the same rows in each (inserted in each one's
# own words where a literal differs: bytes).
KINDS = ("CREATE TABLE kinds (id INT PRIMARY KEY, n BIGINT, d DECIMAL(10,3), f DOUBLE PRECISION, s VARCHAR(40), "
         "t {timestamp}, dt DATE, z BOOLEAN, j {json}, b {bytes})")
ROWS = ("INSERT INTO kinds (id, n, d, f, s, t, dt, z, j) VALUES "
        "(1, 9007199254740993, 12.5, 0.1, 'héllo', '2024-02-29 12:34:56.123456', '2024-02-29', true, "
        "'{\"a\": [1, 2]}'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
SELECT_KINDS = "SELECT id, n, d, f, s, t, dt, z, j, b FROM kinds ORDER BY id"

SYSBENCH = ["--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-user={USER}", f"--mysql-password={PASSWORD}",
            f"--mysql-db={DATABASE}", "--tables=2", "--table-size=2000", "--rand-type=uniform"]
# sysbench's delete-then-insert of one id: under PostgreSQL's READ COMMITTED two sessions doing it
# at once end in a duplicate key, where InnoDB's locking reads serialize them. The database's
# semantics, not the proxy's: the cutover load leaves it out.
SYSBENCH_RUN = ["--delete_inserts=0"]


def stmt_client(port, sql, *params, runs=1):
    """The prepared-statement client: prepares once, executes `runs` times; its output lines."""
    r = subprocess.run([STMT_CLIENT, str(port), USER, PASSWORD, DATABASE, sql, *params], input="x\n" * runs,
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout


class Databases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.my = MariaDbServer()
        cls.pg = PostgresServer()
        cls.my.admin(KINDS.format(timestamp="DATETIME(6)", json="JSON", bytes="VARBINARY(8)"), db=DATABASE)
        cls.my.admin(ROWS + "; UPDATE kinds SET b = X'00FF10' WHERE id = 1", db=DATABASE)
        cls.pg.admin(KINDS.format(timestamp="TIMESTAMP(6)", json="JSONB", bytes="BYTEA"), db=DATABASE)
        cls.pg.admin(ROWS + "; UPDATE kinds SET b = '\\x00ff10' WHERE id = 1", db=DATABASE)
        cls.pg.admin(f"ALTER TABLE kinds OWNER TO {USER}", db=DATABASE)

    @classmethod
    def tearDownClass(cls):
        cls.my.destroy()
        cls.pg.destroy()

    def start(self, mode, workers=2):
        proxy = Lms(self.my.url(), workers=workers,
                    extra=["--source-dialect", "mysql", "--target", self.pg.url(), "--target-dialect", "postgres",
                           "--shadow-mode", mode])
        self.addCleanup(self.stop, proxy)
        return proxy

    def stop(self, proxy):
        code = proxy.stop()
        log = proxy.log()
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.assertEqual(code, 0, log[-3000:])

    def pg_rows(self, sql):
        return psql(self.pg.url(), "-At", "-c", sql, check=True).stdout.split()

    def post(self, proxy, path, body):
        request = urllib.request.Request(f"http://127.0.0.1:{proxy.http_port}{path}", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read().decode())


class ShadowingToATargetOfAnotherProtocol(Databases):
    def test_sync_writes_reach_both_databases_and_the_client_sees_the_sources_answers(self):
        proxy = self.start("sync")
        r = mariadb(proxy.port, "-e", "INSERT INTO kinds (id, n, s) VALUES (10, 5, 'both'); "
                    "UPDATE kinds SET n = n + 1 WHERE id = 10; SELECT n, s FROM kinds WHERE id = 10")
        self.assertEqual((r.returncode, r.stdout), (0, "n\ts\n6\tboth\n"), r.stderr)
        self.assertEqual(self.pg_rows("SELECT n || ':' || s FROM kinds WHERE id = 10"), ["6:both"])
        # Prepared statements too: prepared on both, run on both (ids the client got from MariaDB).
        code, out = stmt_client(proxy.port, "UPDATE kinds SET n = n + ? WHERE id = ?", "10", "10", runs=2)
        self.assertEqual(code, 0, out)
        self.assertEqual(out.splitlines()[1:], ["ok 1", "ok 1"])
        self.assertEqual(self.pg_rows("SELECT n FROM kinds WHERE id = 10"), ["26"])
        mariadb(proxy.port, "-e", "DELETE FROM kinds WHERE id = 10")
        self.assertEqual(self.pg_rows("SELECT count(*) FROM kinds WHERE id = 10"), ["0"])
        metrics = proxy.http_get("/metrics")[1]
        self.assertRegex(metrics, r"lms_shadow_requests_total \d+")
        self.assertRegex(metrics, r"lms_shadow_target_errors_total 0\b")

    def test_async_writes_reach_the_target_after_the_client_has_its_answer(self):
        # async drops a request while the target still runs the previous one (it never slows the
        # source): each write here waits until the target shows the one before.
        proxy = self.start("async")

        def target_shows(n):
            deadline = time.time() + 10
            while time.time() < deadline and self.pg_rows("SELECT n FROM kinds WHERE id = 11") != [n]:
                time.sleep(0.05)
            return self.pg_rows("SELECT n FROM kinds WHERE id = 11")

        self.assertEqual(mariadb(proxy.port, "-e", "INSERT INTO kinds (id, n) VALUES (11, 1)").returncode, 0)
        self.assertEqual(target_shows("1"), ["1"])
        self.assertEqual(mariadb(proxy.port, "-e", "UPDATE kinds SET n = 2 WHERE id = 11").returncode, 0)
        self.assertEqual(target_shows("2"), ["2"])
        code, out = stmt_client(proxy.port, "UPDATE kinds SET n = n * ? WHERE id = ?", "5", "11")
        self.assertEqual((code, out.splitlines()[1:]), (0, ["ok 1"]), out)
        self.assertEqual(target_shows("10"), ["10"])
        mariadb(proxy.port, "-e", "DELETE FROM kinds WHERE id = 11")

    def test_strict_sync_returns_the_targets_error_when_only_the_target_fails(self):
        self.my.admin("CREATE TABLE only_source (id INT PRIMARY KEY)", db=DATABASE)
        self.addCleanup(self.my.admin, "DROP TABLE only_source", db=DATABASE)
        proxy = self.start("strict-sync")
        r = mariadb(proxy.port, "-e", "INSERT INTO only_source VALUES (1)")
        self.assertEqual(r.returncode, 1)
        # PostgreSQL's undefined_table, as MySQL's ER_NO_SUCH_TABLE.
        self.assertIn('ERROR 1146 (42S02)', r.stderr)
        self.assertIn('relation "only_source" does not exist', r.stderr)
        # The source ran it (strict-sync reports the target's failure; it cannot undo the source).
        self.assertIn("1", mariadb(self.my.port, "-N", "-e", "SELECT count(*) FROM only_source").stdout)
        # Where both succeed, the client cannot tell.
        r = mariadb(proxy.port, "-e", "SELECT s FROM kinds WHERE id = 1")
        self.assertEqual((r.returncode, r.stdout), (0, "s\nhéllo\n"))

    def test_a_difference_planted_on_the_target_is_reported_and_agreement_is_not(self):
        for db in (self.my, self.pg):
            db.admin("CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(20), n INT); "
                     "INSERT INTO accounts VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)", db=DATABASE)
            self.addCleanup(db.admin, "DROP TABLE accounts", db=DATABASE)
        self.pg.admin(f"ALTER TABLE accounts OWNER TO {USER}; UPDATE accounts SET owner = 'planted' WHERE id = 3",
                      db=DATABASE)
        mismatches = os.path.join(self.my.dir, "mismatches.jsonl")
        proxy = Lms(self.my.url(), extra=["--source-dialect", "mysql", "--target", self.pg.url(), "--target-dialect",
                                          "postgres", "--shadow-mode", "sync", "--mismatch-file", mismatches])
        self.addCleanup(self.stop, proxy)
        for sql in ("SELECT owner FROM accounts ORDER BY id", "SELECT n FROM accounts ORDER BY id",
                    "UPDATE accounts SET n = n + 1 WHERE id > 1"):
            r = mariadb(proxy.port, "-e", sql)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("c", mariadb(proxy.port, "-N", "-e", "SELECT owner FROM accounts WHERE id = 3").stdout)
        code, out = stmt_client(proxy.port, "SELECT owner, n FROM accounts WHERE id = ?", "3")
        self.assertEqual(code, 0, out)
        status, body = proxy.http_get("/v1/shadow/report")
        self.assertEqual(status, 200, body)
        statements = {e["statement"]: e for e in json.loads(body)["statements"]}
        owners = statements["SELECT owner FROM accounts ORDER BY id"]
        self.assertEqual((owners["executions"], owners["mismatches"], owners["differences"]["checksum"]), (1, 1, 1),
                         owners)
        numbers = statements["SELECT n FROM accounts ORDER BY id"]
        self.assertEqual((numbers["executions"], numbers["mismatches"]), (1, 0), numbers)
        self.assertEqual(statements["UPDATE accounts SET n = n + ? WHERE id > ?"]["mismatches"], 0)
        # Through the binary protocol too, by the statement's text: its prepare agrees, its run not.
        prepared = statements["SELECT owner, n FROM accounts WHERE id = ?"]
        self.assertEqual((prepared["executions"], prepared["mismatches"]), (2, 1), prepared)
        with open(mismatches) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(len(lines), 3, lines)

    def test_the_replication_marker_with_a_mysql_source(self):
        proxy = self.start("none")
        self.assertEqual(self.post(proxy, "/v1/replication/mark", {"token": "m1"}), {"marked": True})
        self.assertIn("m1", mariadb(self.my.port, "-N", "-e", "SELECT token FROM lms_cutover_marker").stdout)
        # The table replicated, the row not yet: not seen.
        self.pg.admin("CREATE TABLE lms_cutover_marker (token VARCHAR(64) PRIMARY KEY, written_at TIMESTAMP); "
                      f"ALTER TABLE lms_cutover_marker OWNER TO {USER}", db=DATABASE)
        status, body = proxy.http_get("/v1/replication/seen?token=m1")
        self.assertEqual((status, json.loads(body)), (200, {"seen": False}))
        # As a replication stream would: the row arrives on the target.
        self.pg.admin("INSERT INTO lms_cutover_marker VALUES ('m1', now())", db=DATABASE)
        status, body = proxy.http_get("/v1/replication/seen?token=m1")
        self.assertEqual((status, json.loads(body)), (200, {"seen": True}))


class PreflightWithAMysqlSource(Databases):
    def test_preflight_names_a_long_innodb_transaction_and_a_marker_replication_does_not_carry(self):
        # InnoDB shows other sessions' transactions to an account with PROCESS.
        self.my.admin(f"GRANT PROCESS ON *.* TO '{USER}'@'%'; GRANT PROCESS ON *.* TO '{USER}'@'localhost'")
        self.my.admin("CREATE TABLE held (id INT PRIMARY KEY, note VARCHAR(40))", db=DATABASE)
        self.addCleanup(self.my.admin, "DROP TABLE held", db=DATABASE)
        proxy = self.start("none")
        orch = Orchestrator([proxy], extra=["--replication-timeout", "1s"])
        self.addCleanup(orch.stop)
        client = subprocess.Popen(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(proxy.port), f"-u{USER}",
                                   f"-p{PASSWORD}", DATABASE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: client.poll() is None and client.kill())
        client.stdin.write("BEGIN; INSERT INTO held VALUES (1, 'secret-literal');\n")
        client.stdin.flush()
        deadline = time.time() + 10
        # InnoDB refreshes what it shows of its transactions only when nobody read it in the last
        # 100 ms: polled faster, it would show the same empty list for ever.
        while self.my.admin("SELECT COUNT(*) FROM information_schema.innodb_trx") == "0":
            self.assertLess(time.time(), deadline, "the transaction did not start")
            time.sleep(0.3)
        time.sleep(2.1)  # InnoDB counts a transaction's start in whole seconds
        r = orch.cli("cutover", "consistent", "preflight", "--begin-timeout", "1s", "-o", "json")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
        long = checks["no long transactions on the source of truth"]
        self.assertEqual(long["result"], "fail", long)
        self.assertRegex(long["detail"], r"^1 open longer than 1\.0 s, which a pause would wait for past its bound: "
                                         r"session \d+ from 127\.0\.0\.1:\d+ through LMS "
                                         rf"127\.0\.0\.1:{proxy.port} \(app, RUNNING, \d+\.\d s\)")
        self.assertNotIn("secret-literal", r.stdout)
        # The target has no marker table a replication tool carries: made there now, and named.
        marker = checks["replication carries the marker"]
        self.assertEqual(marker["result"], "fail", marker)
        self.assertIn("lms_cutover_marker", marker["detail"])
        client.stdin.write("COMMIT;\n")
        client.stdin.close()
        client.wait(timeout=30)
        self.assertEqual(client.returncode, 0, client.stderr.read())
        time.sleep(0.5)  # InnoDB's list of transactions is a cache, refreshed when idle for 100 ms
        r = orch.cli("cutover", "consistent", "preflight", "--begin-timeout", "1s", "-o", "json")
        checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
        self.assertEqual(checks["no long transactions on the source of truth"]["result"], "pass",
                         checks["no long transactions on the source of truth"])


    def test_a_fenced_mysql_source_refuses_the_application_and_a_cutover_back_lifts_it(self):
        # SET GLOBAL read_only takes SUPER (MariaDB 10.11: READ_ONLY ADMIN, which SUPER no longer holds).
        self.my.admin(f"GRANT SUPER, READ_ONLY ADMIN ON *.* TO '{USER}'@'%'; "
                      f"GRANT SUPER, READ_ONLY ADMIN ON *.* TO '{USER}'@'localhost'")
        self.addCleanup(self.my.admin, "SET GLOBAL read_only = OFF")
        # The application's ordinary account, without those rights, as it writes around LMS.
        self.my.admin("CREATE USER 'writer'@'%' IDENTIFIED BY 'writer-pw'; "
                      f"GRANT ALL ON {DATABASE}.* TO 'writer'@'%'; CREATE TABLE fenced (id INT PRIMARY KEY)",
                      db=DATABASE)
        self.addCleanup(self.my.admin, "DROP USER 'writer'@'%'; DROP TABLE fenced", db=DATABASE)
        proxy = self.start("none")
        orch = Orchestrator([proxy], extra=["--skip-replication-check"])
        self.addCleanup(orch.stop)
        for step in (["begin"], ["commit", "--fence-source"]):
            r = orch.cli("cutover", "consistent", *step)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = mariadb(self.my.port, "-e", "INSERT INTO fenced VALUES (1)", user="writer", password="writer-pw")
        self.assertIn("--read-only", r.stderr)
        old = json.loads(orch.cli("status", "-o", "json").stdout)["old_source"]
        self.assertEqual((old["fenced"], old["address"]), (True, f"127.0.0.1:{self.my.port}"), old)
        # Back to MariaDB: the fence is lifted before the switch.
        for step in ("begin", "commit"):
            r = orch.cli("cutover", "consistent", step)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = mariadb(self.my.port, "-e", "INSERT INTO fenced VALUES (1)", user="writer", password="writer-pw")
        self.assertEqual(r.returncode, 0, r.stderr)


class CutoverToATargetOfAnotherProtocol(Databases):
    def cut_over(self, proxies):
        orch = Orchestrator(proxies, extra=["--skip-replication-check"])
        self.addCleanup(orch.stop)
        r = orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        time.sleep(0.3)
        r = orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("CommitCompleted", r.stdout)

    def test_cutover_under_sysbench_then_queries_are_answered_by_the_target_with_mysql_types(self):
        # The same tables and rows in both (sysbench's own schema for each database).
        pgsql = ["--db-driver=pgsql", "--pgsql-host=127.0.0.1", f"--pgsql-port={self.pg.port}", f"--pgsql-user={USER}",
                 f"--pgsql-password={PASSWORD}", f"--pgsql-db={DATABASE}", *SYSBENCH[5:]]
        for args in ([*SYSBENCH, f"--mysql-port={self.my.port}"], pgsql):
            r = subprocess.run(["sysbench", "oltp_read_write", *args, "prepare"], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        proxies = [self.start("sync", workers=1) for _ in range(2)]
        # Two statements prepared before the cutover, by a client that stays connected through it.
        held = subprocess.Popen([STMT_CLIENT, str(proxies[0].port), USER, PASSWORD, DATABASE,
                                 "SELECT n, d, f, s, t, dt, z, j, b FROM kinds WHERE id = ?", "1"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(held.stdout.readline(), "prepared 1 params\n")
        loads = [subprocess.Popen(["sysbench", "oltp_read_write", *SYSBENCH, *SYSBENCH_RUN, f"--mysql-port={p.port}",
                                   "--threads=8", "--time=8", "run"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for p in proxies]
        time.sleep(3)
        self.cut_over(proxies)
        for load in loads:
            out, _ = load.communicate(timeout=120)
            self.assertEqual(load.returncode, 0, out[-3000:])
            self.assertRegex(out, r"ignored errors:\s+0 ", out[-3000:])
            self.assertGreater(int(re.search(r"transactions:\s+(\d+)", out).group(1)), 50)
        # Served by the target now (and, in sync mode, shadowed back to the old source).
        for p in proxies:
            r = mariadb(p.port, "-N", "-e", "SELECT version()")
            self.assertEqual((r.returncode, r.stdout[:14]), (0, "PostgreSQL 15."), r.stderr)

        # Text protocol: what the mariadb client prints is what MariaDB itself printed for the same
        # rows, value by value (binary strings in hex, which it does only for a binary type).
        direct = mariadb(self.my.port, "--binary-as-hex", "-e", SELECT_KINDS)
        through = mariadb(proxies[0].port, "--binary-as-hex", "-e", SELECT_KINDS)
        self.assertEqual((through.returncode, through.stdout), (0, direct.stdout), through.stderr)

        # Binary protocol: the statement prepared on MariaDB runs on the target (prepared there on
        # first use), and a new client's statement too; both print what MariaDB's own did.
        held.stdin.write("x\n")
        held.stdin.flush()
        after_cutover = [held.stdout.readline(), held.stdout.readline(), held.stdout.readline()]
        held.stdin.close()
        held.wait(timeout=30)
        held.stdout.close()
        code, direct = stmt_client(self.my.port, "SELECT n, d, f, s, t, dt, z, j, b FROM kinds WHERE id = ?", "1")
        self.assertEqual(code, 0, direct)
        self.assertEqual("".join(after_cutover), "".join(direct.splitlines(True)[1:]))
        # Column types as MySQL numbers them: BIGINT 8, DECIMAL 246, DOUBLE 5, VARCHAR 253, DATETIME
        # 12, DATE 10, a boolean as TINY 1, JSON as a text BLOB 252, bytes as VAR_STRING 253.
        self.assertEqual(after_cutover[0], "n:8\td:246\tf:5\ts:253\tt:12\tdt:10\tz:1\tj:252\tb:253\n")
        code, fresh = stmt_client(proxies[1].port, "SELECT n, d, f, s, t, dt, z, j, b FROM kinds WHERE id = ?", "1",
                                  runs=2)
        self.assertEqual(fresh.splitlines()[1:], direct.splitlines()[1:] * 2)
        self.assertIn("9007199254740993\t12.500\t0.10000000000000001\théllo\t2024-02-29 12:34:56.123456\t"
                      "2024-02-29\t1", fresh)

        # Errors are MySQL's, with the database's message.
        r = mariadb(proxies[0].port, "-e", "SELECT nope FROM kinds")
        self.assertIn("ERROR 1054 (42S22)", r.stderr)
        self.assertIn('column "nope" does not exist', r.stderr)
        r = mariadb(proxies[0].port, "-e", "INSERT INTO kinds (id) VALUES (1)")
        self.assertIn("ERROR 1062 (23000)", r.stderr)


if __name__ == "__main__":
    unittest.main()
