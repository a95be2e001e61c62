"""pool-mode transaction: many clients share a few PostgreSQL backends, each holding one only for a
transaction; their prepared statements and settings follow them to whichever backend serves them,
and what no shared backend can keep for one client is refused in words that say so.

Runs under Debian's python3, for psycopg2 (a driver as applications use it: extended protocol
where it binds, its own settings at connect)."""
import contextlib
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

import psycopg2

from lmstest import DATABASE, PASSWORD, USER, LmsTestCase, TargetTestCase, psql

DRIVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers")  # application programs


def pgbench(port, *args, timeout=600):
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    return subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", USER, *args, DATABASE],
                          capture_output=True, text=True, env=env, timeout=timeout)


def metric(proxy, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} (\d+)", proxy.http_get("/metrics")[1], re.M)
    return int(m.group(1)) if m else 0


def seconds(proxy, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} ([\d.e+-]+)", proxy.http_get("/metrics")[1], re.M)
    return float(m.group(1)) if m else 0.0


class PooledTestCase(LmsTestCase):
    def start_pooled(self, size, *extra, workers=1):
        return self.start_lms(extra=["--pool-mode", "transaction", "--server-pool-size", str(size), *extra],
                              workers=workers)

    def connect(self, proxy, **kwargs):
        conn = psycopg2.connect(host="127.0.0.1", port=proxy.port, user=USER, password=PASSWORD, dbname=DATABASE,
                                **kwargs)
        self.addCleanup(conn.close)
        return conn

    def one(self, conn, sql, args=None):
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()[0] if cur.description else None

    def backends(self):
        """The backends lms holds on the server (the test's own admin session is not one)."""
        return int(self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{USER}' "
                                 f"AND datname = '{DATABASE}' AND pid <> pg_backend_pid()"))

    @contextlib.contextmanager
    def most_backends(self):
        """The most backends seen at once while the block runs (sampled every 50 ms), in [0]."""
        most = [0]
        running = threading.Event()
        running.set()

        def watch():
            while running.is_set():
                most[0] = max(most[0], self.backends())
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            yield most
        finally:
            running.clear()
            watcher.join()


class TransactionPooling(PooledTestCase):
    def test_200_clients_share_8_backends_with_zero_errors_in_every_query_mode(self):
        r = pgbench(self.pg.port, "-i", "-s", "2", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        proxy = self.start_pooled(8)
        with self.most_backends() as most:
            for mode, script in (("prepared", []), ("extended", ["-S"]), ("prepared", ["-S"])):
                with self.subTest(mode=mode, script=script):
                    r = pgbench(proxy.port, "-c", "200", "-j", "2", "-t", "10", "-M", mode, *script)
                    self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                    self.assertIn("number of failed transactions: 0 (0.000%)", r.stdout)
                    self.assertIn("number of transactions actually processed: 2000/2000", r.stdout)
                    if not script:
                        # Every write committed: one history row per TPC-B transaction (pgbench
                        # empties the table before each run).
                        self.assertEqual(self.pg.admin("SELECT count(*) FROM pgbench_history", db=DATABASE).strip(),
                                         "2000")
        self.assertGreater(most[0], 0)
        self.assertLessEqual(most[0], 8, "more backends than server-pool-size")
        self.assertEqual(metric(proxy, "lms_pool_clients_waiting"), 0)
        self.assertGreater(metric(proxy, "lms_pool_transactions_total"), 6000)
        self.assertEqual(metric(proxy, "lms_pool_server_connections", '{state="active"}'), 0)
        self.assertEqual(metric(proxy, "lms_pool_server_connections", '{state="idle"}'), 8)
        # pgbench -M prepared's statements were made on every backend that served them.
        self.assertGreater(metric(proxy, "lms_pool_statements_prepared"), 0)
        self.assertRegex(proxy.http_get("/metrics")[1], r'lms_pool_wait_seconds_count \d+')

    def test_a_transaction_runs_on_one_backend_while_others_take_turns(self):
        proxy = self.start_pooled(2)
        holder = self.connect(proxy)
        first = self.one(holder, "SELECT pg_backend_pid()")  # psycopg2 opened the transaction
        others = [self.connect(proxy) for _ in range(4)]
        seen = set()
        for _ in range(3):
            for conn in others:
                conn.autocommit = True
                seen.add(self.one(conn, "SELECT pg_backend_pid()"))
        self.assertEqual(len(seen), 1, "the others had one backend left to share")
        self.assertNotIn(first, seen)
        self.assertEqual(self.one(holder, "SELECT pg_backend_pid()"), first)
        holder.commit()

    def test_a_begin_takes_no_connection_until_the_transactions_first_statement(self):
        proxy = self.start_pooled(1, "--pool-timeout", "2000")
        begun = self.connect(proxy)
        begun.autocommit = True
        self.one(begun, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # The only connection is free: another client is served without waiting.
        other = self.connect(proxy)
        other.autocommit = True
        self.assertEqual(self.one(other, "SELECT 2"), 2)
        time.sleep(0.3)
        # The transaction began with its first statement, with the modes the client asked for.
        self.assertLess(self.one(begun, "SELECT extract(epoch FROM statement_timestamp() - now())"), 0.2)
        self.assertEqual(self.one(begun, "SHOW transaction_isolation"), "repeatable read")
        self.assertEqual(self.one(begun, "SHOW transaction_read_only"), "on")
        self.one(begun, "COMMIT")
        # What a client sees is what the database would have said, tags and states alike; a
        # transaction so begun is one (its rollback undoes its writes), and one that ran nothing
        # ends without a connection.
        self.one(other, "CREATE TABLE begun (x int); SELECT 1")
        script = ("BEGIN;\nINSERT INTO begun VALUES (1);\nROLLBACK;\nSELECT count(*) FROM begun;\n"
                  "START TRANSACTION READ WRITE;\nEND;\nbegin work;\nabort;\nBEGIN;\nBEGIN;\nCOMMIT;\n"
                  "COMMIT;\nBEGIN;\nSELECT 1/0;\nCOMMIT;\nbegin;;\n")
        through = psql(proxy.url(), "-e", input=script)
        direct = psql(self.pg.url(), "-e", input=script)
        self.assertEqual(through.stdout, direct.stdout)
        self.assertEqual(through.stderr, direct.stderr)
        self.assertIn("START TRANSACTION\nEND;\nCOMMIT\n", through.stdout)
        self.assertIn("WARNING:  there is already a transaction in progress", through.stderr)
        # Through the extended protocol, unnamed (-M extended) and named (-M prepared): each
        # transaction borrows once, and its rollback undoes its insert.
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write("BEGIN;\nINSERT INTO begun VALUES (2);\nROLLBACK;\nBEGIN;\nEND;\n")
        self.addCleanup(os.unlink, f.name)
        before = metric(proxy, "lms_pool_transactions_total")
        for mode in ("extended", "prepared"):
            r = pgbench(proxy.port, "-n", "-c", "4", "-t", "25", "-M", mode, "-f", f.name)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("number of failed transactions: 0", r.stdout)
        self.assertEqual(self.one(other, "SELECT count(*) FROM begun"), 0)
        # Per pgbench transaction, one borrow: the INSERT's (the empty one took none); -M
        # prepared's lone prepares borrow too, or are answered without a connection.
        self.assertGreaterEqual(metric(proxy, "lms_pool_transactions_total") - before, 200)
        self.assertLess(metric(proxy, "lms_pool_transactions_total") - before, 200 + 4 * 5)

    def test_the_wait_and_the_query_are_timed_as_they_happen(self):
        # Times are read once per turn of the event loop: the idling before must show in
        # neither the client's wait for the connection nor its query's duration.
        proxy = self.start_pooled(1)
        holder = self.connect(proxy)
        waiter = self.connect(proxy)
        waiter.autocommit = True
        self.one(holder, "SELECT 1")  # psycopg2 opened a transaction: the only connection is held
        time.sleep(0.6)
        waited = seconds(proxy, "lms_pool_wait_seconds_sum")
        took = seconds(proxy, "lms_request_duration_seconds_sum", '{database="source"}')
        threading.Timer(0.4, holder.commit).start()
        self.assertEqual(self.one(waiter, "SELECT 7 FROM pg_sleep(0.3)"), 7)
        waited = seconds(proxy, "lms_pool_wait_seconds_sum") - waited
        took = seconds(proxy, "lms_request_duration_seconds_sum", '{database="source"}') - took
        self.assertTrue(0.3 < waited < 0.85, f"waited {waited:.3f} s for the connection")
        self.assertTrue(0.3 < took < 0.8, f"the COMMIT and the 0.3 s query took {took:.3f} s")

    def test_settings_are_each_clients_own_on_a_shared_backend(self):
        proxy = self.start_pooled(1)
        a = self.connect(proxy, application_name="app-a")
        b = self.connect(proxy, options="-c work_mem=5MB")
        a.autocommit = b.autocommit = True
        self.one(a, "SET work_mem = '7MB'")
        self.one(a, "SET search_path = public, pg_catalog")
        self.assertEqual(self.one(b, "SHOW work_mem"), "5MB")
        self.assertEqual(self.one(b, "SHOW search_path"), '"$user", public')
        self.assertEqual(self.one(b, "SHOW application_name"), "")
        self.assertEqual(self.one(a, "SHOW work_mem"), "7MB")
        self.assertEqual(self.one(a, "SHOW application_name"), "app-a")
        self.assertEqual(self.one(a, "SHOW search_path"), "public, pg_catalog")
        self.assertEqual(self.one(a, "SELECT pg_backend_pid()"), self.one(b, "SELECT pg_backend_pid()"))
        self.one(a, "RESET work_mem")
        self.assertEqual(self.one(a, "SHOW work_mem"), "4MB")
        self.assertEqual(a.get_parameter_status("application_name"), "app-a")
        # A SET the database refused, or one whose transaction rolled back, is not the client's:
        # it is neither seen nor made again (which would fail the settings after it).
        with self.assertRaises(psycopg2.Error):
            self.one(a, "SET work_mem = 'lots'")
        a.autocommit = False
        self.one(a, "SET work_mem = '9MB'")
        self.assertEqual(self.one(a, "SHOW work_mem"), "9MB")
        a.rollback()
        a.autocommit = True
        self.one(b, "SELECT 1")  # b's turn: the backend carries b's settings
        self.assertEqual(self.one(a, "SHOW work_mem"), "4MB")
        self.assertEqual(self.one(a, "SHOW search_path"), "public, pg_catalog")

    def test_prepared_statements_follow_their_client(self):
        proxy = self.start_pooled(1)
        a = self.connect(proxy)
        b = self.connect(proxy)
        a.autocommit = b.autocommit = True
        self.one(a, "PREPARE twice (int) AS SELECT $1 * 2")
        self.one(b, "PREPARE twice (int) AS SELECT $1 * 3")  # the same name, another client's
        self.assertEqual(self.one(a, "EXECUTE twice (21)"), 42)
        self.assertEqual(self.one(b, "EXECUTE twice (21)"), 63)
        self.one(b, "DEALLOCATE ALL")
        self.assertEqual(self.one(a, "EXECUTE twice (5)"), 10)
        self.one(a, "DEALLOCATE twice")
        with self.assertRaises(psycopg2.errors.InvalidSqlStatementName):
            self.one(a, "EXECUTE twice (5)")

    def test_statements_made_again_and_closed_at_the_bound_are_counted(self):
        proxy = self.start_pooled(1, "--max-prepared-statements", "2")
        a = self.connect(proxy)
        b = self.connect(proxy)
        a.autocommit = b.autocommit = True
        for n in (1, 2, 3):
            self.one(a, f"PREPARE s{n} AS SELECT {n}")  # s3 closes s1: the bound is 2
        self.assertEqual(self.one(a, "EXECUTE s1"), 1)  # made again, closing s2
        self.one(b, "PREPARE s1 AS SELECT 10")  # takes the name's place (no room needed)
        self.assertEqual(self.one(a, "EXECUTE s1"), 1)  # made again in place of b's
        self.assertEqual(self.one(b, "EXECUTE s1"), 10)  # and b's again
        self.assertEqual(metric(proxy, "lms_pool_statements_made_total"), 3)
        self.assertEqual(metric(proxy, "lms_pool_statements_evicted_total"), 2)
        self.assertEqual(metric(proxy, "lms_pool_statements_prepared"), 2)

    def test_more_unnamed_statements_in_turn_than_lms_remembers_run_as_written(self):
        # pgbench -M extended parses every statement afresh, unnamed; lms remembers the last 8 it
        # judged. 14 in turn (a SET and a RESET among them, which are the client's as they run)
        # go past that on every round, and a wrong setting divides by zero.
        proxy = self.start_pooled(2)
        script = os.path.join(proxy.dir, "round.sql")
        with open(script, "w") as f:
            f.write("SET work_mem = '5MB';\n")
            for n in range(1, 11):
                f.write(f"SELECT {n};\n")
            f.write("SELECT 1 / (current_setting('work_mem') = '5MB')::int;\n"
                    "RESET work_mem;\n"
                    "SELECT 1 / (current_setting('work_mem') <> '5MB')::int;\n")
        r = pgbench(proxy.port, "-n", "-M", "extended", "-c", "4", "-t", "5", "-f", script)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("number of transactions actually processed: 20/20", r.stdout)

    def test_a_statement_larger_than_what_lms_gathers_flows_through(self):
        # A message across reads is gathered whole for the dialect; above 256 KiB it is judged by
        # its head and streams to the lent connection.
        proxy = self.start_pooled(1)
        conn = self.connect(proxy)
        conn.autocommit = True
        for size in (150 * 1024, 600 * 1024):
            big = "x" * size
            self.assertEqual(self.one(conn, f"SELECT length('{big}')"), size)
            self.assertEqual(self.one(conn, "SELECT length(%s)", (big,)), size)
        self.one(conn, f"PREPARE big AS SELECT length('{'y' * (200 * 1024)}')")
        other = self.connect(proxy)
        other.autocommit = True
        self.one(other, "DEALLOCATE ALL")  # the one connection forgets it: made again from the client's
        self.assertEqual(self.one(conn, "EXECUTE big"), 200 * 1024)
        self.assertEqual(self.one(conn, "SELECT 1"), 1)

    def test_a_client_that_vanishes_inside_a_transaction_leaves_a_rolled_back_backend(self):
        proxy = self.start_pooled(1)
        setup = self.connect(proxy)
        setup.autocommit = True
        self.one(setup, "CREATE TABLE IF NOT EXISTS vanished (x int); SELECT 1")
        pid = self.one(setup, "SELECT pg_backend_pid()")
        # psql reads on from its open stdin: the transaction stays open, idle, until the kill.
        script = "BEGIN;\nINSERT INTO vanished VALUES (1);\n"
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        client = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(proxy.port), "-U", USER, "-X", DATABASE],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        client.stdin.write(script)
        client.stdin.flush()
        self.wait_for(lambda: self.pg.admin(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}").strip()
                      == "idle in transaction", "the client's transaction")
        client.kill()
        client.wait()
        # The backend rolled back and serves the next client.
        self.assertEqual(self.one(setup, "SELECT count(*) FROM vanished"), 0)
        self.assertEqual(self.one(setup, "SELECT pg_backend_pid()"), pid)

    def test_a_client_that_waits_longer_than_pool_timeout_gets_53300(self):
        proxy = self.start_pooled(1, "--pool-timeout", "300")
        holder = self.connect(proxy)
        self.one(holder, "SELECT 1")  # inside its transaction: the one backend is its
        started = time.time()
        # psql shows the error as it came (psycopg2 keeps only libpq's last line).
        r = subprocess.run(["psql", proxy.url(), "-X", "-v", "VERBOSITY=verbose", "-c", "SELECT 1"], capture_output=True, text=True, timeout=60)
        self.assertLess(time.time() - started, 5)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("FATAL:  53300: lms: no database connection became free within pool-timeout (300 ms)", r.stderr)
        self.assertIn("server-pool-size", r.stderr)
        self.assertEqual(metric(proxy, "lms_pool_timeouts_total"), 1)
        holder.commit()
        other = self.connect(proxy)
        self.assertEqual(self.one(other, "SELECT 2"), 2)

    def test_a_client_that_leaves_while_waiting_leaves_the_queue_at_once(self):
        proxy = self.start_pooled(1)  # pool-timeout 30 s
        holder = self.connect(proxy)
        self.one(holder, "SELECT 1")  # inside its transaction: the one backend is its
        waiter = subprocess.Popen(["psql", proxy.url(), "-X", "-c", "SELECT 1"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.addCleanup(waiter.wait)
        self.wait_for(lambda: metric(proxy, "lms_pool_clients_waiting") == 1, "the client waiting")
        waiter.kill()
        # lms goes on reading a waiting client, so it sees it leave, long before the pool-timeout.
        self.wait_for(lambda: metric(proxy, "lms_pool_clients_waiting") == 0, "the queue empty", timeout=3)
        holder.commit()
        self.assertEqual(self.one(self.connect(proxy), "SELECT 2"), 2)
        self.assertEqual(metric(proxy, "lms_pool_timeouts_total"), 0)

    def test_what_a_waiting_client_sends_is_read_only_up_to_the_buffer_limit(self):
        proxy = self.start_pooled(1)  # buffer-limit 256 KiB
        holder = self.connect(proxy)
        self.one(holder, "SELECT 1")  # inside its transaction: the one backend is its
        size = 16 << 20
        script = os.path.join(proxy.dir, "big.sql")
        with open(script, "w") as f:
            f.write(f"SELECT length('{'x' * size}');\n")
        before = proxy.rss_kb()
        waiter = subprocess.Popen(["psql", proxy.url(), "-X", "-At", "-f", script], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.addCleanup(waiter.wait)
        self.wait_for(lambda: metric(proxy, "lms_pool_clients_waiting") == 1, "the client waiting")
        time.sleep(0.5)  # psql sends what the sockets take (16 MiB take milliseconds on loopback)
        # The rest waits in the kernel's buffers and psql: lms holds about buffer-limit of it.
        self.assertLess(proxy.rss_kb() - before, 4 << 10)
        holder.commit()
        out, err = waiter.communicate(timeout=60)
        self.assertEqual(waiter.returncode, 0, err)
        self.assertEqual(out.strip(), str(size))

    def test_what_a_shared_backend_cannot_keep_is_refused_by_name(self):
        proxy = self.start_pooled(2)
        conn = self.connect(proxy)
        conn.autocommit = True
        for sql, what in (("LISTEN news", "LISTEN"), ("SELECT pg_advisory_lock(7)", "advisory lock"),
                          ("CREATE TEMP TABLE scratch (x int)", "temporary table"),
                          ("BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT 1; COMMIT", "cursor WITH HOLD")):
            with self.subTest(what=what):
                with self.assertRaises(psycopg2.errors.FeatureNotSupported) as caught:
                    self.one(conn, sql)
                self.assertIn(f"{what} is not available with pool-mode transaction", str(caught.exception))
                self.assertEqual(self.one(conn, "SELECT 1"), 1)
        # In an extended request (psycopg2 binds client-side, and psql 15 has no \\bind: pgbench
        # -M extended sends Parse/Bind/Execute).
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write("SELECT pg_advisory_lock(7);\n")
        self.addCleanup(os.unlink, f.name)
        r = pgbench(proxy.port, "-n", "-t", "1", "-M", "extended", "-f", f.name)
        self.assertIn("advisory lock is not available with pool-mode transaction", r.stderr)
        # A temporary table that ends with its transaction is allowed.
        conn.autocommit = False
        self.one(conn, "CREATE TEMP TABLE t1 (x int) ON COMMIT DROP; SELECT 1")
        conn.commit()

    def test_a_cancel_reaches_the_backend_running_the_clients_query(self):
        # Two workers: the cancel request's connection lands on either (the kernel spreads them),
        # so both its own session's worker and the other one's find the connection lent now.
        proxy = self.start_pooled(2, workers=2)
        busy = self.connect(proxy)
        busy.autocommit = True
        other = self.connect(proxy)
        other.autocommit = True
        self.one(other, "SELECT 1")
        for _ in range(2):
            threading.Timer(0.3, busy.cancel).start()
            started = time.time()
            with self.assertRaises(psycopg2.errors.QueryCanceled):
                self.one(busy, "SELECT pg_sleep(20)")
            self.assertLess(time.time() - started, 10)
            self.assertEqual(self.one(busy, "SELECT 1"), 1)
        # Between transactions nothing runs: a cancel finds nothing to cancel and harms nobody.
        busy.cancel()
        self.assertEqual(self.one(other, "SELECT 2"), 2)

    def test_a_backend_that_dies_mid_query_fails_that_client_only_and_is_replaced(self):
        proxy = self.start_pooled(1)
        # psql shows every line the client is told (psycopg2 keeps only libpq's last).
        victim = subprocess.Popen(["psql", proxy.url(), "-X", "-c", "SELECT pg_sleep(20)"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: victim.poll() is None and victim.kill())
        sleeping = "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'"
        self.wait_for(lambda: self.pg.admin(sleeping).strip() != "", "the query to run")
        pid = int(self.pg.admin(sleeping))
        self.pg.admin(f"SELECT pg_terminate_backend({pid})")
        _, err = victim.communicate(timeout=30)
        self.assertNotEqual(victim.returncode, 0)
        self.assertIn("terminating connection due to administrator command", err)
        # The pool opens another connection for the next client.
        other = self.connect(proxy)
        other.autocommit = True
        self.assertNotEqual(self.one(other, "SELECT pg_backend_pid()"), pid)
        self.assertEqual(metric(proxy, "lms_pool_server_connections", '{state="idle"}'), 1)

    def test_a_dialect_without_pooling_and_a_missing_size_are_refused_at_start(self):
        build = os.environ.get("LMS_BUILD_DIR", "")
        lms = [os.path.join(build, "core", "lms"), "--plugin-dir", os.path.join(build, "plugins"), "--pool-mode",
               "transaction", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
        r = subprocess.run([*lms, "--source", self.pg.url(), "--source-dialect", "postgres"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("transaction needs server-pool-size above 0", r.stderr + r.stdout)
        r = subprocess.run([*lms, "--server-pool-size", "4", "--source", "mysql://app:pw@127.0.0.1:1/appdb",
                            "--source-dialect", "mysql"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("pool-mode transaction: the mysql dialect pools by session only", r.stderr + r.stdout)

    def test_unnamed_statements_kept_prepared_by_name_serve_every_run(self):
        """pool-cache-unnamed: the statements pgbench -M extended and node-postgres parse afresh for
        every run are made once per backend under lms's names; the writes all land, and a query
        whose table's columns change under it fails once per backend that kept it, then runs."""
        r = pgbench(self.pg.port, "-i", "-s", "1", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        proxy = self.start_pooled(2, "--pool-cache-unnamed")
        r = pgbench(proxy.port, "-c", "16", "-j", "2", "-t", "100", "-M", "extended")
        self.assertIn("number of failed transactions: 0 (0.000%)", r.stdout, r.stdout + r.stderr)
        self.assertIn("number of transactions actually processed: 1600/1600", r.stdout)
        # Every update and its history row, as TPC-B's books must balance.
        self.assertEqual(self.pg.admin(
            "SELECT (SELECT sum(delta) FROM pgbench_history) = ALL(ARRAY[(SELECT sum(abalance) FROM "
            "pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM "
            "pgbench_tellers)]) AND (SELECT count(*) FROM pgbench_history) = 1600", db=DATABASE).strip(), "t")
        r = subprocess.run(["node", "changed_columns.js", str(proxy.port), USER, PASSWORD, DATABASE],
                           capture_output=True, text=True, timeout=120, cwd=DRIVERS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        seen = json.loads(r.stdout)
        self.assertEqual(seen["columns"], ["a", "b"])
        self.assertEqual(seen["rows"], [{"a": 1, "b": 7}])
        self.assertLessEqual(seen["errors"], 2, "the statement was not made again after its failure")
        kept = {k["statement"]: k["name"] for k in seen["kept"]}
        for statement in ("SELECT * FROM changed_columns WHERE a >= $1",
                          "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;"):
            self.assertRegex(kept.get(statement, ""), r"^lms_[0-9a-f]{11}$", seen["kept"])
        self.assertGreater(metric(proxy, "lms_pool_statements_prepared"), 0)

    def run_driver(self, command, *extra, clients=8, rounds=30):
        """Applications as their drivers run them, through a pool of 2 connections for 8 clients:
        JDBC (Debian's pgjdbc, server-side statements from the first run, named S_1, S_2, ...
        alike on every connection, and Closes as statements are closed) and node-postgres (named
        queries parsed once per connection, then only bound). The programs check every answer:
        sums from each client's own text for a shared name, each client's application_name and
        SET, one backend per transaction, and the rows of committed and rolled-back transactions."""
        proxy = self.start_pooled(2, *extra)
        with self.most_backends() as most:
            r = subprocess.run([*command, str(proxy.port), USER, PASSWORD, DATABASE, str(clients),
                                str(rounds)], capture_output=True, text=True, timeout=300, cwd=DRIVERS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"ok {clients} clients x {rounds} rounds", r.stdout)
        self.assertLessEqual(most[0], 2)
        # Each round's two statements and its transaction borrowed a connection of their own.
        self.assertGreaterEqual(metric(proxy, "lms_pool_transactions_total"), clients * rounds * 3)

    def test_jdbc_applications_run_unchanged(self):
        self.run_driver(["java", "-cp", "/usr/share/java/postgresql.jar", "PooledClients.java"])

    def test_node_postgres_applications_run_unchanged(self):
        self.run_driver(["node", "pooled_clients.js"])

    def test_node_postgres_applications_run_unchanged_with_unnamed_statements_kept(self):
        self.run_driver(["node", "pooled_clients.js"], "--pool-cache-unnamed")


class ShadowedTransactionPooling(TargetTestCase):
    def test_sync_shadowing_of_pooled_clients_writes_both_databases_alike(self):
        for server in (self.pg, self.target):
            r = pgbench(server.port, "-i", "-s", "1", "-q")
            self.assertEqual(r.returncode, 0, r.stderr)
        proxy = self.start_lms(extra=["--pool-mode", "transaction", "--server-pool-size", "4", "--target",
                                      self.target.url(), "--target-dialect", "postgres", "--shadow-mode", "sync"],
                               workers=1)
        r = pgbench(proxy.port, "-n", "-c", "40", "-j", "2", "-t", "10", "-M", "prepared")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("number of failed transactions: 0 (0.000%)", r.stdout)
        for server in (self.pg, self.target):
            self.assertEqual(server.admin("SELECT count(*) FROM pgbench_history", db=DATABASE).strip(), "400")
        sums = "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers)"
        self.assertEqual(self.pg.admin(sums, db=DATABASE), self.target.admin(sums, db=DATABASE))
        self.assertEqual(metric(proxy, "lms_shadow_target_errors_total"), 0)
        self.assertGreater(metric(proxy, "lms_shadow_requests_total"), 400)


if __name__ == "__main__":
    unittest.main()
