"""SIGTERM, as Kubernetes sends it in a rolling update: lms refuses new clients and fails /readyz,
ends idle sessions at once with PostgreSQL's own admin-shutdown error, lets a transaction in
progress finish, and exits; past shutdown-grace it ends what is left, and the database rolls back."""
import signal
import subprocess
import time
import unittest

from lmstest import DATABASE, USER, LmsTestCase, psql


class Session:
    """A psql process the test types into, one line at a time, like an application holding a
    connection open."""

    def __init__(self, url):
        self.proc = subprocess.Popen(["psql", url, "-X", "-At"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def send(self, sql):
        self.proc.stdin.write(sql + "\n")
        self.proc.stdin.flush()

    def finish(self, sql=None, timeout=30):
        if sql is not None:
            self.send(sql)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


class GracefulShutdown(LmsTestCase):
    def setUp(self):
        self.table = f"shutdown_{self._testMethodName[-20:]}"
        self.pg.admin(f"DROP TABLE IF EXISTS {self.table}; CREATE TABLE {self.table} (v INT); "
                      f"GRANT ALL ON {self.table} TO {USER}", db=DATABASE)

    def backends(self, state=None):
        where = f"usename = '{USER}' AND backend_type = 'client backend'"
        if state:
            where += f" AND state = '{state}'"
        return int(self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE {where}").strip())

    def rows(self):
        out = self.pg.admin(f"SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM {self.table}",
                            db=DATABASE)
        return out.strip()

    def test_sigterm_finishes_the_open_transaction_and_ends_idle_sessions(self):
        proxy = self.start_lms(extra=["--shutdown-grace", "20000"])
        idle = Session(proxy.url())
        idle.send("SELECT 1;")
        busy = Session(proxy.url())
        busy.send(f"BEGIN; INSERT INTO {self.table} VALUES (1);")
        self.wait_for(lambda: self.backends("idle in transaction") == 1 and self.backends() == 2,
                      what="one idle session and one inside a transaction")
        self.assertEqual(proxy.http_get("/readyz")[0], 200)

        proxy.proc.send_signal(signal.SIGTERM)
        started = time.time()
        # The idle session ends at once; the one inside a transaction is left alone.
        self.wait_for(lambda: self.backends() == 1, what="the idle session to end")
        self.assertEqual(self.backends("idle in transaction"), 1)
        self.assertTrue(proxy.alive())
        status, body = proxy.http_get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("shutting down", body)
        refused = psql(proxy.url(), "-Atc", "SELECT 1", timeout=30)
        self.assertNotEqual(refused.returncode, 0, "a new client was served while draining")

        # The transaction goes on and commits; then its session ends too, and lms exits by itself.
        code, out, err = busy.finish(f"INSERT INTO {self.table} VALUES (2); COMMIT;")
        self.assertEqual(code, 0, err)
        self.assertIn("COMMIT", out)
        proxy.proc.wait(timeout=15)
        elapsed = time.time() - started
        self.assertEqual(proxy.proc.returncode, 0)
        self.assertLess(elapsed, 15, "lms waited for the grace period although nothing was busy")
        self.assertEqual(self.rows(), "1,2")

        code, out, err = idle.finish("SELECT 2;")
        self.assertIn("FATAL:  terminating connection because lms is shutting down", err)
        self.assertIn("drained in", proxy.log())

    def test_grace_expiry_ends_a_busy_session_and_its_transaction_rolls_back(self):
        proxy = self.start_lms(extra=["--shutdown-grace", "1000"])
        busy = Session(proxy.url())
        busy.send(f"BEGIN; INSERT INTO {self.table} VALUES (1);")
        self.wait_for(lambda: self.backends("idle in transaction") == 1, what="a session inside a transaction")

        proxy.proc.send_signal(signal.SIGTERM)
        started = time.time()
        proxy.proc.wait(timeout=15)
        self.assertEqual(proxy.proc.returncode, 0)
        self.assertGreaterEqual(time.time() - started, 0.9, "the busy session was not given its grace")
        self.assertLess(time.time() - started, 8)

        code, out, err = busy.finish("COMMIT;")
        self.assertIn("shutdown-grace expired", err)
        self.wait_for(lambda: self.backends() == 0, what="the database session to end")
        self.assertEqual(self.rows(), "", "a transaction lms ended was committed")
        self.assertIn("ending 1 sessions still busy", proxy.log())

    def test_a_second_signal_ends_everything_at_once(self):
        proxy = self.start_lms(extra=["--shutdown-grace", "60000"])
        busy = Session(proxy.url())
        busy.send(f"BEGIN; INSERT INTO {self.table} VALUES (1);")
        self.wait_for(lambda: self.backends("idle in transaction") == 1, what="a session inside a transaction")
        proxy.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertTrue(proxy.alive())
        proxy.proc.send_signal(signal.SIGTERM)
        proxy.proc.wait(timeout=10)
        self.assertEqual(proxy.proc.returncode, 0)
        busy.finish("COMMIT;")
        self.assertEqual(self.rows(), "")


if __name__ == "__main__":
    unittest.main()
