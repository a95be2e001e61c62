"""Kept database connections (server-pool-size): a client that leaves an idle session leaves its
PostgreSQL backend behind, reset with DISCARD ALL, and the next client with the same parameters
gets it, with nothing of the first client's session left in it."""
import os
import re
import signal
import subprocess
import time

from lmstest import DATABASE, LmsTestCase, psql

# What psql through lms reports about its backend: its pid, then what the previous client of the
# same backend could have left behind.
STATE = ("SELECT pg_backend_pid(), current_setting('work_mem'), "
         "(SELECT count(*) FROM pg_prepared_statements), "
         "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), "
         "to_regclass('pg_temp.scratch') IS NULL, "
         "(SELECT count(*) FROM pg_listening_channels())")


def metric(proxy, name):
    m = re.search(rf"^{re.escape(name)} (\d+)", proxy.http_get("/metrics")[1], re.M)
    return int(m.group(1)) if m else 0


class KeptConnections(LmsTestCase):
    def start_pooled(self, *extra):
        # One worker: every client meets the same pool.
        return self.start_lms(extra=["--server-pool-size", "4", *extra], workers=1)

    def backend_pid(self, proxy, env=None):
        r = subprocess.run(["psql", proxy.url(), "-X", "-At", "-c", "SELECT pg_backend_pid()"],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ, **(env or {})))
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout)

    def backend_alive(self, pid):
        return self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}").strip() == "1"

    def test_the_next_client_gets_the_same_backend_with_nothing_left_of_the_last(self):
        proxy = self.start_pooled()
        first = psql(proxy.url(), "-At", "-c", "SET work_mem = '7MB'", "-c", "CREATE TEMP TABLE scratch (x int)",
                     "-c", "PREPARE p AS SELECT 1", "-c", "SELECT pg_advisory_lock(42)", "-c", "LISTEN news",
                     "-c", STATE)
        self.assertEqual(first.returncode, 0, first.stderr)
        pid, work_mem, statements, locks, no_table, channels = first.stdout.strip().splitlines()[-1].split("|")
        self.assertEqual((work_mem, statements, locks, no_table, channels), ("7MB", "1", "1", "f", "1"))
        self.wait_for(lambda: metric(proxy, "lms_server_connections_kept") == 1, "the connection to be kept")
        self.assertTrue(self.backend_alive(pid), "the backend closed with its client")

        second = psql(proxy.url(), "-At", "-c", STATE)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertEqual(second.stdout.strip(), f"{pid}|4MB|0|0|t|0")
        self.assertEqual(metric(proxy, "lms_server_connections_reused_total"), 1)
        # The advisory lock was released: another session takes it at once.
        self.assertEqual(self.pg.admin("SELECT pg_try_advisory_lock(42)").strip(), "t")

    def test_without_the_setting_every_client_gets_a_backend_of_its_own(self):
        proxy = self.start_lms(workers=1)
        first = self.backend_pid(proxy)
        self.wait_for(lambda: not self.backend_alive(first), "the backend to end with its client")
        self.assertNotEqual(self.backend_pid(proxy), first)
        self.assertEqual(metric(proxy, "lms_server_connections_reused_total"), 0)

    def test_a_client_that_leaves_inside_a_transaction_takes_its_backend_along(self):
        proxy = self.start_pooled()
        psql(proxy.url(), "-c", "CREATE TABLE IF NOT EXISTS pool_left (x int)", check=True)
        first = self.backend_pid(proxy)  # kept, then taken by the transaction below
        left = psql(proxy.url(), "-At", input="BEGIN;\nINSERT INTO pool_left VALUES (1);\nSELECT pg_backend_pid();\n")
        self.assertEqual(left.returncode, 0, left.stderr)
        self.assertEqual(int(left.stdout.strip().splitlines()[-1]), first)
        self.wait_for(lambda: not self.backend_alive(first), "the backend of the open transaction to end")
        self.assertEqual(metric(proxy, "lms_server_connections_kept"), 0)
        self.assertNotEqual(self.backend_pid(proxy), first)
        self.assertEqual(self.pg.admin("SELECT count(*) FROM pool_left", db=DATABASE).strip(), "0")

    def test_clients_with_other_parameters_get_other_backends(self):
        proxy = self.start_pooled()
        first = self.backend_pid(proxy)
        other = self.backend_pid(proxy, env={"PGAPPNAME": "another-app"})
        self.assertNotEqual(other, first)
        self.assertEqual(self.backend_pid(proxy), first)
        self.assertEqual(self.backend_pid(proxy, env={"PGAPPNAME": "another-app"}), other)

    def test_a_kept_backend_that_died_is_not_handed_out(self):
        proxy = self.start_pooled()
        first = self.backend_pid(proxy)
        self.wait_for(lambda: metric(proxy, "lms_server_connections_kept") == 1, "the connection to be kept")
        self.pg.admin(f"SELECT pg_terminate_backend({first})")
        self.wait_for(lambda: not self.backend_alive(first), "the backend to end")
        second = psql(proxy.url(), "-At", "-c", "SELECT pg_backend_pid()")
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertNotEqual(int(second.stdout), first)

    def test_kept_backends_close_after_the_idle_timeout(self):
        proxy = self.start_pooled("--server-idle-timeout", "400")
        first = self.backend_pid(proxy)
        self.wait_for(lambda: not self.backend_alive(first), "the idle backend to be closed", timeout=5)
        self.assertEqual(metric(proxy, "lms_server_connections_kept"), 0)

    def test_a_full_pool_closes_what_it_cannot_keep(self):
        proxy = self.start_lms(extra=["--server-pool-size", "1"], workers=1)
        # Two sessions open together, so they have two backends; both leave.
        sessions = [subprocess.Popen(["psql", proxy.url(), "-X", "-qAt"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        pids = []
        for s in sessions:
            s.stdin.write("SELECT pg_backend_pid();\n")
            s.stdin.flush()
            pids.append(int(s.stdout.readline()))
        for s in sessions:
            s.communicate(timeout=30)
        self.wait_for(lambda: sum(self.backend_alive(pid) for pid in pids) == 1, "one backend kept, one closed")
        self.assertEqual(metric(proxy, "lms_server_connections_kept"), 1)

    def test_a_cancel_on_a_reused_backend_reaches_it(self):
        proxy = self.start_pooled()
        first = self.backend_pid(proxy)
        sleeper = subprocess.Popen(["psql", proxy.url(), "-X", "-c", "SELECT pg_sleep(60)"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for(lambda: self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {first} "
                                            "AND query LIKE 'SELECT pg_sleep%'").strip() == "1",
                      "the reused backend to run the sleep")
        started = time.monotonic()
        sleeper.send_signal(signal.SIGINT)  # psql sends a cancel request
        _, err = sleeper.communicate(timeout=30)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("canceling statement due to user request", err)
        self.assertEqual(self.backend_pid(proxy), first)


if __name__ == "__main__":
    import unittest
    unittest.main()
