"""psql through lms behaves byte for byte as psql against PostgreSQL directly."""
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from lmstest import BUILD_DIR, LmsTestCase, psql

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


SESSION_CLIENT = os.path.join(BUILD_DIR, "tests", "pg_session_client")


class SessionClient:
    """tests/clients/pg_session_client: a libpq application, one line of input at a time."""

    def __init__(self, url):
        self.proc = subprocess.Popen([SESSION_CLIENT, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first[0] == "pid", first
        self.pid = int(first[1])

    def run(self, line):
        """Sends one line; returns what the client printed for it (up to its application_name line,
        or to the end when the connection closed)."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            text = self.proc.stdout.readline()
            if text == "":
                return out
            out.append(text.rstrip("\n"))
            if text.startswith("application_name ") or text.startswith("closed "):
                return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class WhatADriverSeesOfItsSession(LmsTestCase):
    """The backend PID a driver reports is its backend's, so pg_terminate_backend and a LISTEN
    loop that ignores its own notifications work through lms; and what a server sends unasked
    (notifications while idle, ParameterStatus, notices, the FATAL that ends a session) reaches
    the client as it does directly."""

    def setUp(self):
        self.proxy = self.start_lms()

    def session(self, url):
        client = SessionClient(url)
        self.addCleanup(client.close)
        return client

    def test_the_reported_pid_is_the_backends_own(self):
        client = self.session(self.proxy.url())
        self.assertEqual(client.run("SELECT pg_backend_pid()")[0], str(client.pid))
        # A notification from its own session carries the PID the driver reported, so an
        # application can tell its own notifications from others'.
        client.run("LISTEN own")
        out = client.run("NOTIFY own, 'mine'")
        self.assertIn(f"notify own mine from {client.pid}", out)
        other = self.session(self.proxy.url())
        other.run("NOTIFY own, 'theirs'")
        out = client.run("wait 2000")
        self.assertIn(f"notify own theirs from {other.pid}", out)
        self.assertNotEqual(other.pid, client.pid)
        # Cancel requests still find the session by its whole key (test_ctrl_c_cancels... above).

    def test_pg_terminate_backend_with_the_reported_pid_ends_that_session(self):
        outcomes = []
        for url in (self.pg.url(), self.proxy.url()):
            victim = self.session(url)
            killer = self.session(url)
            self.assertEqual(killer.run(f"SELECT pg_terminate_backend({victim.pid})")[0], "t")
            out = victim.run("wait 3000") + victim.run("SELECT 1")
            outcomes.append(out)
        direct, through = outcomes
        self.assertIn("notice 57P01 terminating connection due to administrator command", direct)
        self.assertEqual(through, direct)

    def test_messages_the_server_sends_unasked_arrive_as_directly(self):
        script = [("client", "SET application_name = 'reporting'"),
                  ("client", "DO $$ BEGIN RAISE NOTICE 'first'; RAISE WARNING 'second'; END $$"),
                  ("client", "LISTEN jobs"),
                  ("notifier", "NOTIFY jobs, 'queued'"),
                  ("client", "wait 2000"),  # delivered to the idle session, unasked
                  ("client", "SET idle_in_transaction_session_timeout = '300ms'"),
                  ("client", "BEGIN"),
                  ("client", "wait 3000"),  # the server's FATAL, unasked, then it hangs up
                  ("client", "SELECT 1")]
        outcomes = []
        for url in (self.pg.url(), self.proxy.url()):
            peers = {"client": self.session(url), "notifier": self.session(url)}
            out = []
            for who, line in script:
                said = peers[who].run(line)
                if who == "client":
                    out += said
            outcomes.append([o.replace(str(peers["notifier"].pid), "NOTIFIER") for o in out])
        direct, through = outcomes
        self.assertIn("application_name reporting", direct)
        self.assertIn("notice 01000 second", direct)
        self.assertIn("notice 25P03 terminating connection due to idle-in-transaction timeout", direct)
        self.assertIn("notify jobs queued from NOTIFIER", direct)
        self.assertEqual(through, direct)


if __name__ == "__main__":
    unittest.main()
