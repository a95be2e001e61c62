"""psql through lms behaves byte for byte as psql against PostgreSQL directly."""
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from lmstest import LmsTestCase, psql

SCRIPT = r"""
\set ON_ERROR_STOP 0
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2));
BEGIN;
INSERT INTO accounts VALUES (1, 'ann', 100.50), (2, 'bob', 20);
UPDATE accounts SET balance = balance - 10 WHERE owner = 'ann';
SELECT * FROM accounts ORDER BY id;
COMMIT;
BEGIN;
INSERT INTO accounts VALUES (1, 'dup', 0);
SELECT 'after the error';
ROLLBACK;
BEGIN;
SAVEPOINT s1;
SELECT 1/0;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO accounts VALUES (3, 'cy', 3);
COMMIT;
SELECT owner, balance FROM accounts ORDER BY id;
SELECT * FROM no_such_table;
\copy accounts TO '{out}' WITH (FORMAT csv, HEADER)
TRUNCATE accounts;
\copy accounts FROM '{out}' WITH (FORMAT csv, HEADER)
SELECT count(*), sum(balance) FROM accounts;
SELECT 'a' AS one, 2 AS two \gx
DO $$ BEGIN RAISE NOTICE 'a notice from the server'; END $$;
SHOW application_name;
"""


class PsqlThroughLms(LmsTestCase):
    def setUp(self):
        self.proxy = self.start_lms()

    def both(self, *args, input=None):
        direct = psql(self.pg.url(), *args, input=input)
        through = psql(self.proxy.url(), *args, input=input)
        return direct, through

    def test_single_commands_give_identical_output(self):
        for sql in ["SELECT 1 AS one, 'two' AS two, NULL AS three",
                    "SELECT g, md5(g::text) FROM generate_series(1, 500) g",
                    "SELECT current_user, current_database(), version() LIKE 'PostgreSQL 15%'",
                    "SELECT 1/0",
                    "SELECT 1; SELECT 2; SELECT 'multi' AS statement"]:
            direct, through = self.both("-c", sql)
            self.assertEqual(through.stdout, direct.stdout, sql)
            self.assertEqual(through.stderr, direct.stderr, sql)
            self.assertEqual(through.returncode, direct.returncode, sql)

    def test_script_with_transactions_errors_and_copy_both_ways(self):
        outputs = []
        for url in (self.pg.url(), self.proxy.url()):
            self.pg.admin("DROP TABLE IF EXISTS accounts", db="appdb")
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "accounts.csv")
                script = SCRIPT.replace("{out}", out)
                r = psql(url, "-a", input=script)
                with open(out) as f:
                    copied = f.read()
                outputs.append((r.stdout.replace(out, "OUT"), r.stderr.replace(out, "OUT"), copied))
        (d_out, d_err, d_csv), (t_out, t_err, t_csv) = outputs
        self.assertIn("duplicate key value violates unique constraint", d_err)
        self.assertIn("division by zero", d_err)
        self.assertIn("a notice from the server", d_err)
        self.assertIn("3,cy,3.00", d_csv)
        self.assertIn("COPY 3", d_out)
        self.assertEqual(t_out, d_out)
        self.assertEqual(t_err, d_err)
        self.assertEqual(t_csv, d_csv)

    def test_startup_parameters_reach_the_server(self):
        url = self.proxy.url() + "?application_name=billing&options=-c%20search_path%3Dpg_catalog"
        r = psql(url, "-Atc", "SHOW application_name; SHOW search_path")
        self.assertEqual(r.stdout.split(), ["billing", "pg_catalog"], r.stderr)

    def test_other_database_of_the_same_server(self):
        r = psql(self.proxy.url(db="postgres"), "-Atc", "SELECT current_database()")
        self.assertEqual(r.stdout.strip(), "postgres", r.stderr)
        r = psql(self.proxy.url(db="nope"), "-c", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('database "nope" does not exist', r.stderr)

    def test_ctrl_c_cancels_the_query_on_the_server(self):
        proc = subprocess.Popen(["psql", self.proxy.url(), "-X", "-c", "SELECT pg_sleep(60)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until the query runs on the server, then press Ctrl-C as a user would.
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.pg.admin("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' "
                             "AND state = 'active'") == "1":
                break
            time.sleep(0.1)
        else:
            self.fail("the query never started")
        started = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        self.assertLess(time.time() - started, 10)
        self.assertIn("canceling statement due to user request", err)
        self.assertEqual(self.pg.admin("SELECT count(*) FROM pg_stat_activity WHERE query = "
                                       "'SELECT pg_sleep(60)' AND state = 'active'"), "0")
        self.assertRegex(self.proxy.http_get("/metrics")[1], r"lms_cancel_requests_total [1-9]")

    def test_a_forged_cancel_key_cancels_nothing(self):
        import socket
        import struct
        proc = subprocess.Popen(["psql", self.proxy.url(), "-X", "-c", "SELECT pg_sleep(3)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        with socket.create_connection(("127.0.0.1", self.proxy.port)) as s:
            s.sendall(struct.pack("!IIII", 16, 80877102, 1234, 5678))
            self.assertEqual(s.recv(100), b"")  # the proxy closes, as a server does
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)

    def test_listen_notify_is_delivered(self):
        listener = subprocess.Popen(
            ["psql", self.proxy.url(), "-X", "-c", "LISTEN lms_channel", "-c", "SELECT pg_sleep(3)",
             "-c", "SELECT 'done'"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        r = psql(self.proxy.url(), "-c", "NOTIFY lms_channel, 'hello through lms'")
        self.assertEqual(r.returncode, 0, r.stderr)
        out, err = listener.communicate(timeout=30)
        self.assertIn('Asynchronous notification "lms_channel" with payload "hello through lms" received', out)

    def test_metrics_count_what_happened(self):
        psql(self.proxy.url(), "-c", "SELECT 1")
        psql(self.proxy.url(), "-c", "SELECT * FROM missing_table")
        status, text = self.proxy.http_get("/metrics")
        self.assertEqual(status, 200)
        metrics = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                metrics[name] = float(value)
        self.assertGreaterEqual(metrics["lms_client_connections_total"], 2)
        self.assertGreaterEqual(metrics['lms_requests_total{database="source"}'], 2)
        self.assertGreaterEqual(metrics['lms_errors_total{database="source",kind="query"}'], 1)
        self.assertGreater(metrics['lms_bytes_total{database="source",direction="to_client"}'], 0)
        self.assertEqual(metrics["lms_source_ready"], 1)
        self.assertEqual(self.proxy.http_get("/healthz"), (200, "ok\n"))
        self.assertEqual(self.proxy.http_get("/readyz"), (200, "ready\n"))


if __name__ == "__main__":
    unittest.main()
