"""pgbench through lms: initialisation, read-only in every query mode, and the write script, with
16 clients and zero errors; every committed write is on the server."""
import os
import re
import subprocess
import unittest

from lmstest import DATABASE, PASSWORD, USER, LmsTestCase


def pgbench(port, *args, timeout=300):
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    return subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", USER, *args, DATABASE],
                          capture_output=True, text=True, env=env, timeout=timeout)


def processed(output):
    m = re.search(r"number of transactions actually processed: (\d+)", output)
    return int(m.group(1)) if m else 0


class PgbenchThroughLms(LmsTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def setUp(self):
        self.proxy = self.start_lms()
        r = pgbench(self.proxy.port, "-i", "-s", "2", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.pg.admin("SELECT count(*) FROM pgbench_accounts", db=DATABASE), "200000")

    def run_load(self, *args):
        # A fixed number of transactions per client, not a duration: a machine slowed by other
        # work (or a sanitizer) then makes the test slower, not emptier.
        r = pgbench(self.proxy.port, "-c", "16", "-j", "2", "-t", "60", *args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("number of failed transactions: 0 (0.000%)", r.stdout)
        self.assertGreater(processed(r.stdout), 100, r.stdout)
        return r

    def test_select_only_in_every_query_mode(self):
        for mode in ("simple", "extended", "prepared"):
            with self.subTest(mode=mode):
                self.run_load("-S", "-M", mode)

    def test_write_script_loses_nothing(self):
        before = int(self.pg.admin("SELECT count(*) FROM pgbench_history", db=DATABASE))
        r = self.run_load("-M", "prepared")
        after = int(self.pg.admin("SELECT count(*) FROM pgbench_history", db=DATABASE))
        # Every transaction pgbench saw committed wrote exactly one history row.
        self.assertEqual(after - before, processed(r.stdout))


if __name__ == "__main__":
    unittest.main()
