"""Databases failing under load, and a crowd of clients: a source killed (every PostgreSQL process,
SIGKILL) and restarted while pgbench writes through lms; a source or target that stops answering
(SIGSTOP) under each shadow mode; a network partition between lms and its source; 1,000 clients
connecting at once. For each: what the clients saw,
that lms stayed up with bounded memory, and that no write a client was told had committed is lost."""
import glob
import os
import signal
import subprocess
import tempfile
import time

from lmstest import DATABASE, PASSWORD, USER, LmsTestCase, NetnsLink, PostgresServer, TargetTestCase, psql

PGBENCH_ENV = dict(os.environ, PGPASSWORD=PASSWORD)


def pgbench(port, *args, timeout=120):
    return subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-n", *args, DATABASE],
                          capture_output=True, text=True, env=PGBENCH_ENV, timeout=timeout)


def assert_the_source_is_missed(test, proxy):
    """A source that does not answer: /readyz notices within its probe's deadline, and a new
    client gets a clear error at the connect timeout (2 s here) instead of hanging."""
    test.wait_for(lambda: proxy.http_get("/readyz")[0] == 503, "readyz 503", timeout=10)
    started = time.time()
    r = psql(proxy.url(), "-Atc", "SELECT 1")
    test.assertNotEqual(r.returncode, 0)
    test.assertIn("could not connect to the source database", r.stderr)
    test.assertLess(time.time() - started, 6)


class SourceKilledUnderLoad(LmsTestCase):
    @classmethod
    def setUpClass(cls):
        # Commits durable before they are acknowledged, as in production: what a client was told
        # must survive the crash.
        cls.pg = PostgresServer(settings={"synchronous_commit": "on", "fsync": "on"})
        cls.pg.admin(f"CREATE TABLE acked (client int NOT NULL); ALTER TABLE acked OWNER TO {USER}", db=DATABASE)

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def test_source_killed_and_restarted_under_load_loses_no_acknowledged_write(self):
        proxy = self.start_lms(self.pg.url(), extra=["--connect-timeout", "2000"])
        log_dir = tempfile.mkdtemp(prefix="lms-outage-")
        script = os.path.join(log_dir, "insert.sql")
        with open(script, "w") as f:
            f.write("INSERT INTO acked VALUES (:client_id);\n")
        # pgbench logs every transaction it saw commit: that is what the clients were told.
        load = subprocess.Popen(["pgbench", "-h", "127.0.0.1", "-p", str(proxy.port), "-U", USER, "-n", "-c", "8",
                                 "-j", "2", "-T", "20", "-f", script, "-l", f"--log-prefix={log_dir}/tx", DATABASE],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=PGBENCH_ENV,
                                cwd=log_dir)
        time.sleep(3)
        self.pg.crash()
        # Clients see their sessions end at once, with an error, rather than hang.
        out, err = load.communicate(timeout=30)
        self.assertNotEqual(load.returncode, 0)
        self.assertIn("aborted", out + err)
        # While the source is down lms says so, and new clients get a clear error.
        self.wait_for(lambda: proxy.http_get("/readyz")[0] == 503, "readyz 503", timeout=10)
        r = psql(proxy.url(), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("could not connect to the source database", r.stderr)
        self.pg.start()
        self.wait_for(lambda: proxy.http_get("/readyz")[0] == 200, "readyz 200", timeout=20)
        # The same proxy, without a restart, serves new sessions (clients 100 and up).
        again = os.path.join(log_dir, "again.sql")
        with open(again, "w") as f:
            f.write("INSERT INTO acked VALUES (100 + :client_id);\n")
        r = pgbench(proxy.port, "-c", "4", "-T", "2", "-f", again)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Every commit a client was told of is there, and at most the one in flight per client more.
        told = {}
        for path in glob.glob(os.path.join(log_dir, "tx*")):
            with open(path) as f:
                for line in f:
                    client = int(line.split()[0])
                    told[client] = told.get(client, 0) + 1
        self.assertGreater(sum(told.values()), 100, "the load ran before the crash")
        rows = dict(tuple(map(int, line.split("|"))) for line in self.pg.admin(
            "SELECT client, count(*) FROM acked WHERE client < 100 GROUP BY client", db=DATABASE).splitlines())
        for client in range(8):
            self.assertGreaterEqual(rows.get(client, 0), told.get(client, 0), f"client {client} lost a commit")
            self.assertLessEqual(rows.get(client, 0), told.get(client, 0) + 1, f"client {client}")
        self.assertTrue(proxy.alive())


class DatabaseStopsAnswering(TargetTestCase):
    """SIGSTOP: the socket stays open and nothing comes back, the hardest failure to notice."""

    def setUp(self):
        for server in (self.pg, self.target):
            server.admin(f"DROP TABLE IF EXISTS t; CREATE TABLE t (v int); ALTER TABLE t OWNER TO {USER}",
                         db=DATABASE)

    def stopped(self, server):
        server.signal_all(signal.SIGSTOP)
        self.addCleanup(server.signal_all, signal.SIGCONT)

    def timed_insert(self, proxy):
        started = time.time()
        r = psql(proxy.url(), "-Atc", "INSERT INTO t VALUES (1)")
        return r, time.time() - started

    def target_lost_under_each_mode(self, lose, expected):
        """One open session per shadow mode, then `lose()` takes the target away; each session then
        inserts a row. expected: mode -> (what its client sees, least and most seconds it takes)."""
        proxies = {mode: self.start_lms(self.pg.url(), extra=["--target", self.target.url(), "--shadow-mode", mode,
                                                               "--shadow-timeout", "1000"])
                   for mode in expected}
        # Sessions that are already open, with their target connections made: the loss hits them
        # mid-flight, not at login.
        sessions = {}
        for mode, proxy in proxies.items():
            s = subprocess.Popen(["psql", proxy.url(), "-X", "-qAt", "-v", "VERBOSITY=verbose"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            s.stdin.write("SELECT 1;\n")
            s.stdin.flush()
            self.assertEqual(s.stdout.readline().strip(), "1")
            sessions[mode] = s
        before = int(self.pg.admin("SELECT count(*) FROM t", db=DATABASE))
        lose()
        for mode, (answer, at_least, at_most) in expected.items():
            s = sessions[mode]
            started = time.time()
            s.stdin.write("INSERT INTO t VALUES (42) RETURNING v;\n")
            out, err = s.communicate(timeout=30)
            took = time.time() - started
            self.assertIn(answer, out + err, f"{mode}: {out}{err}")
            self.assertGreaterEqual(took, at_least, mode)
            self.assertLess(took, at_most, f"{mode} waited {took:.1f}s")
        # The source has every insert a client was told of (none, async, sync), and strict-sync's
        # too: its error came after the source of truth had run the request, which it does not undo.
        self.assertEqual(int(self.pg.admin("SELECT count(*) FROM t", db=DATABASE)) - before, 4)
        for proxy in proxies.values():
            self.assertTrue(proxy.alive())

    def test_a_stopped_target_under_each_mode(self):
        self.target_lost_under_each_mode(
            lambda: self.stopped(self.target),
            {"none": ("42", 0, 1.5), "async": ("42", 0, 1.5), "sync": ("42", 1.0, 4.0),
             "strict-sync": ("57014", 1.0, 4.0)})

    def test_a_killed_target_under_each_mode(self):
        def kill():
            self.target.crash()
            self.addCleanup(self.target.start)
        # A dead target resets its connections: no mode waits for shadow-timeout.
        self.target_lost_under_each_mode(
            kill, {"none": ("42", 0, 1.5), "async": ("42", 0, 1.5), "sync": ("42", 0, 1.0),
                   "strict-sync": ("08006", 0, 1.0)})

    def test_a_target_that_stops_reading_mid_copy_is_dropped_not_buffered(self):
        # COPY data flows to the target while the source takes it (holding it would stall all
        # three). A target that stops reading fills the kernel's buffers, then the link's queue:
        # past buffer-limit the link breaks for that session; the client's COPY completes on the
        # source and the proxy's memory stays bounded.
        self.pg.admin(f"DROP TABLE IF EXISTS wide; CREATE TABLE wide (v text); ALTER TABLE wide OWNER TO {USER}",
                      db=DATABASE)
        self.target.admin(f"DROP TABLE IF EXISTS wide; CREATE TABLE wide (v text); ALTER TABLE wide OWNER TO {USER}",
                          db=DATABASE)
        proxy = self.start_lms(self.pg.url(), extra=["--target", self.target.url(), "--shadow-mode", "sync",
                                                     "--shadow-timeout", "120000", "--buffer-limit", "262144"])
        rows = 20_000  # 20 MB, twice what loopback's socket buffers can hold
        s = subprocess.Popen(["psql", proxy.url(), "-X", "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        s.stdin.write("SELECT 1;\n")  # the session's target link is open before the target stops
        s.stdin.flush()
        self.assertEqual(s.stdout.readline().strip(), "1")
        self.stopped(self.target)
        s.stdin.write("COPY wide FROM STDIN;\n" + ("x" * 1000 + "\n") * rows + "\\.\nSELECT count(*) FROM wide;\n")
        out, err = s.communicate(timeout=120)
        self.assertEqual((out.strip(), err), (str(rows), ""))
        self.assertEqual(int(self.pg.admin("SELECT count(*) FROM wide", db=DATABASE)), rows)
        self.assertIn("the target does not read fast enough", proxy.log())
        self.assertTrue(proxy.alive())

    def test_a_stopped_source_is_noticed_and_the_wait_ends_when_it_answers_again(self):
        proxy = self.start_lms(self.pg.url(), extra=["--connect-timeout", "2000"])
        self.assertEqual(proxy.http_get("/readyz")[0], 200)
        self.stopped(self.pg)
        assert_the_source_is_missed(self, proxy)
        self.pg.signal_all(signal.SIGCONT)
        self.wait_for(lambda: proxy.http_get("/readyz")[0] == 200, "readyz 200", timeout=10)
        r, _ = self.timed_insert(proxy)
        self.assertEqual(r.stdout.strip(), "INSERT 0 1", r.stderr)
        self.assertTrue(proxy.alive())


class NetworkPartition(LmsTestCase):
    """The source in a network namespace of its own, reached over a veth pair: taking the link down
    makes packets vanish without a reset, as a partition does."""

    @classmethod
    def setUpClass(cls):
        cls.link = NetnsLink()
        try:
            cls.pg = PostgresServer(link=cls.link)
        except Exception:
            cls.link.destroy()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.link.heal()
        cls.pg.destroy()
        cls.link.destroy()

    def test_a_partition_is_noticed_and_sessions_go_on_when_it_heals(self):
        proxy = self.start_lms(self.pg.url(), extra=["--connect-timeout", "2000"])
        session = subprocess.Popen(["psql", proxy.url(), "-X", "-qAt"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: session.poll() is None and session.kill())
        session.stdin.write("SELECT inet_server_addr();\n")
        session.stdin.flush()
        self.assertEqual(session.stdout.readline().strip(), self.link.inner)
        self.link.cut()
        self.addCleanup(self.link.heal)
        # A query sent into the partition waits (TCP keeps retransmitting) while lms notices.
        session.stdin.write("SELECT 42;\n")
        session.stdin.flush()
        assert_the_source_is_missed(self, proxy)
        self.assertIsNone(session.poll(), "the waiting session is still there")
        # Healed: the waiting query gets its answer on the same session; new clients are served.
        self.link.heal()
        session.stdin.write("SELECT 'after';\n")
        out, err = session.communicate(timeout=60)
        self.assertEqual(out.split(), ["42", "after"], err)
        self.wait_for(lambda: proxy.http_get("/readyz")[0] == 200, "readyz 200", timeout=20)
        r = psql(proxy.url(), "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        self.assertTrue(proxy.alive())


class ThousandClients(LmsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer(settings={"max_connections": "1100", "shared_buffers": "64MB"})
        r = pgbench(cls.pg.port, "-i", "-s", "1", "-q")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def test_1000_clients_connecting_at_once(self):
        proxy = self.start_lms(self.pg.url())
        # pgbench opens every connection before it starts; each then runs a few selects and waits
        # for the others, so all 1,000 are connected together.
        script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
        script.write("\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
                     "\\sleep 2 s\n")
        script.close()
        self.addCleanup(os.unlink, script.name)
        r = pgbench(proxy.port, "-c", "1000", "-j", "2", "-t", "1", "-f", script.name, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertIn("number of transactions actually processed: 1000/1000", r.stdout)
        self.assertIn("number of failed transactions: 0", r.stdout)
        # Bounded memory, and every session gone once the clients are.
        self.assertLess(proxy.rss_kb(), 200 * 1024)
        self.wait_for(lambda: "\nlms_client_connections_open 0\n" in proxy.http_get("/metrics")[1],
                      "every session closed", timeout=20)
        r = psql(proxy.url(), "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
