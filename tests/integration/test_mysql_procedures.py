"""Stored procedures, functions and multi-statements through lms (source dialect mysql) to a real
MariaDB server: for every case of the corpus in mysql_procedures.py, the mariadb client (text
protocol) and a libmariadb prepared-statement client (binary protocol) print through lms exactly
what they print directly, the server's own errors included, and the session stays open after each."""
import os
import subprocess
import unittest

from lmstest import BUILD_DIR, DATABASE, PASSWORD, USER, Lms, MariaDbServer, mariadb
import mysql_procedures

STMT_CLIENT = os.path.join(BUILD_DIR, "tests", "mysql_stmt_client")


def stmt_client(port, sql, params, cursor, runs=2):
    env = dict(os.environ)
    if cursor:
        env["LMS_STMT_CURSOR"] = "1"
    r = subprocess.run([STMT_CLIENT, str(port), USER, PASSWORD, DATABASE, sql, *params], input="run\n" * runs,
                       capture_output=True, text=True, timeout=60, env=env)
    return r.returncode, r.stdout, r.stderr


class StoredProgramsThroughLms(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = MariaDbServer()
        subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={cls.db.socket}", DATABASE],
                       input=mysql_procedures.SETUP, check=True, capture_output=True, text=True)
        cls.proxy = Lms(cls.db.url(), extra=["--source-dialect", "mysql"])

    @classmethod
    def tearDownClass(cls):
        code = cls.proxy.stop()
        log = cls.proxy.log()
        cls.db.destroy()
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:]
        assert code == 0, log[-3000:]

    def test_text_protocol_cases_print_what_the_server_prints(self):
        for name, script in mysql_procedures.TEXT_CASES:
            with self.subTest(name):
                # --force goes on after an error, so the last line shows the session survived it;
                # no reconnect, so a session lms closed cannot hide behind a new one.
                args = ("--force", "--skip-reconnect", "--table")
                direct = mariadb(self.db.port, *args, input=script)
                through = mariadb(self.proxy.port, *args, input=script)
                self.assertIn("session still open", direct.stdout)
                self.assertEqual((through.returncode, through.stdout, through.stderr),
                                 (direct.returncode, direct.stdout, direct.stderr))
        self.assertNotIn("invalid message", self.proxy.log())

    def test_binary_protocol_cases_print_what_the_server_prints(self):
        for name, sql, params, cursor in mysql_procedures.BINARY_CASES:
            with self.subTest(name):
                direct = stmt_client(self.db.port, sql, params, cursor)
                through = stmt_client(self.proxy.port, sql, params, cursor)
                self.assertEqual(direct[0], 0, direct)
                self.assertEqual(through, direct)
        self.assertNotIn("invalid message", self.proxy.log())

    def test_expected_server_errors_reach_the_client(self):
        # The errors the corpus provokes are the server's own, by number.
        script = "".join(s for _, s in mysql_procedures.TEXT_CASES)
        r = mariadb(self.proxy.port, "--force", "--skip-reconnect", input=script)
        for code in ("1329 (02000)", "1326 (24000)", "1456 (HY000)", "1644 (45000)", "1064 (42000)",
                     "1146 (42S02)", "1305 (42000)"):
            self.assertIn(f"ERROR {code}", r.stderr)
        self.assertNotIn("lms:", r.stderr)


if __name__ == "__main__":
    unittest.main()
