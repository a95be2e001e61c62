"""MySQL applications through lms (source dialect mysql) to a real MariaDB server, driven by the
mariadb client, mariadb-admin and sysbench: what they print through lms is what they print
directly, errors included."""
import json
import os
import re
import subprocess
import unittest

from lmstest import (DATABASE, PASSWORD, USER, LmsTestCase, Lms, MariaDbServer, mariadb, psql,
                     wait_for_port)

# Four tables of 10,000 rows picked uniformly: little enough contention that 16 threads see no InnoDB
# deadlock. (With sysbench's default skewed pick, or 2 x 2,000 rows, they do, directly too, and
# sysbench counts them as "ignored errors": the database's doing, not the proxy's.)
SYSBENCH_ARGS = ["--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-user={USER}",
                 f"--mysql-password={PASSWORD}", f"--mysql-db={DATABASE}", "--tables=4", "--table-size=10000",
                 "--rand-type=uniform"]


class MysqlThroughLms(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = MariaDbServer()
        cls.db.admin(f"CREATE TABLE {DATABASE}.kinds (id INT PRIMARY KEY, n BIGINT, d DECIMAL(10,3), f DOUBLE, "
                     "s VARCHAR(40), b VARBINARY(8), t DATETIME(6), j JSON, z TINYINT(1))")
        cls.db.admin(f"INSERT INTO {DATABASE}.kinds VALUES "
                     "(1, 9007199254740993, 12.5, 0.1, 'héllo', X'00FF10', '2024-02-29 12:34:56.123456', "
                     "'{\"a\": [1, 2]}', 1), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")

    @classmethod
    def tearDownClass(cls):
        cls.db.destroy()

    def setUp(self):
        self.proxy = Lms(self.db.url(), extra=["--source-dialect", "mysql"])

    def tearDown(self):
        code = self.proxy.stop()
        log = self.proxy.log()
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.assertEqual(code, 0, log[-3000:])

    def both(self, *args, **kwargs):
        """The same mariadb invocation directly and through lms."""
        return mariadb(self.db.port, *args, **kwargs), mariadb(self.proxy.port, *args, **kwargs)

    def assert_same(self, *args, **kwargs):
        direct, through = self.both(*args, **kwargs)
        self.assertEqual((through.returncode, through.stdout, through.stderr),
                         (direct.returncode, direct.stdout, direct.stderr))
        return through

    def test_each_user_logs_in_as_itself_with_its_own_grants(self):
        # Who may log in is read from mysql.user (auth-query default), which the account may read.
        self.db.admin(f"CREATE USER 'writer'@'%' IDENTIFIED BY 'writer-pw'; "
                      "CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'; CREATE USER 'blank'@'%' IDENTIFIED BY ''; "
                      f"GRANT SELECT, INSERT, DELETE ON {DATABASE}.kinds TO 'writer'@'%'; "
                      f"GRANT SELECT ON {DATABASE}.kinds TO 'reader'@'%'; GRANT SELECT ON {DATABASE}.* TO 'blank'@'%'; "
                      f"GRANT SELECT ON mysql.user TO '{USER}'@'%'; GRANT SELECT ON mysql.user TO '{USER}'@'localhost'")
        self.addCleanup(self.db.admin, "DROP USER 'writer'@'%', 'reader'@'%', 'blank'@'%'; "
                                       f"REVOKE SELECT ON mysql.user FROM '{USER}'@'%', '{USER}'@'localhost'")
        proxy = Lms(self.db.url(), extra=["--source-dialect", "mysql", "--auth-query", "default"])
        self.addCleanup(proxy.stop)
        for user, password in (("writer", "writer-pw"), ("reader", "reader-pw"), ("blank", ""), (USER, PASSWORD)):
            r = mariadb(proxy.port, "-N", "-e", "SELECT CURRENT_USER()", user=user, password=password)
            self.assertEqual(r.stdout.strip().rsplit("@", 1)[0], user, r.stderr)
        # The read-only user is refused a write exactly as the database refuses it directly.
        insert = ("-e", "INSERT INTO kinds (id) VALUES (9)")
        direct = mariadb(self.db.port, *insert, user="reader", password="reader-pw")
        through = mariadb(proxy.port, *insert, user="reader", password="reader-pw")
        self.assertIn("INSERT command denied to user 'reader'", through.stderr)
        self.assertEqual(through.stderr, direct.stderr)
        r = mariadb(proxy.port, "-e", "INSERT INTO kinds (id) VALUES (9); DELETE FROM kinds WHERE id = 9",
                    user="writer", password="writer-pw")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = mariadb(proxy.port, "-e", "SELECT 1", user="reader", password="writer-pw")
        self.assertIn("Access denied for user 'reader'", r.stderr)
        self.assertNotIn("native_stage1", proxy.log())

    def change_user(self, port, *users):
        r = subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "mysql_change_user.py"), str(port), *users],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_com_change_user_through_a_client_library_as_the_database_does_it(self):
        self.db.admin("CREATE USER 'writer'@'%' IDENTIFIED BY 'writer-pw'; "
                      "CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'; "
                      f"GRANT SELECT, INSERT ON {DATABASE}.kinds TO 'writer'@'%'; "
                      f"GRANT SELECT ON {DATABASE}.kinds TO 'reader'@'%'; "
                      f"GRANT SELECT ON mysql.user TO '{USER}'@'%'; GRANT SELECT ON mysql.user TO '{USER}'@'localhost'")
        self.addCleanup(self.db.admin, "DROP USER 'writer'@'%', 'reader'@'%'; "
                                       f"REVOKE SELECT ON mysql.user FROM '{USER}'@'%', '{USER}'@'localhost'")
        # A change of user starts the session over with the server's autocommit: the script's writes
        # as the account itself commit.
        self.addCleanup(self.db.admin, f"DELETE FROM {DATABASE}.kinds WHERE id = 8")
        proxy = Lms(self.db.url(), extra=["--source-dialect", "mysql", "--auth-query", "default"])
        self.addCleanup(proxy.stop)
        users = ("writer", "writer-pw", "reader", "reader-pw")
        # Writer, then reader (its grants, the session's variables gone), then a wrong password:
        # refused, and the session goes on as reader. Through LMS exactly as directly.
        seen = self.change_user(proxy.port, *users)
        self.assertEqual(seen, [["writer@%", 1], "changed", ["reader@%", None], 1142, 1045, ["reader@%", None], 1142])
        self.assertEqual(seen, self.change_user(self.db.port, *users))
        # With clients logging in as the connection string's account alone, a change to that account
        # (a connector resetting its connection) starts the session over; to another user is refused.
        seen = self.change_user(self.proxy.port, USER, PASSWORD, USER, PASSWORD)
        self.assertEqual(seen[:3], [[f"{USER}@%", 1], "changed", [f"{USER}@%", None]])
        seen = self.change_user(self.proxy.port, USER, PASSWORD, "writer", "writer-pw")
        self.assertEqual(seen[1], 1045)

    def test_queries_print_the_same_through_lms(self):
        r = self.assert_same("-e", "SELECT id, n, d, f, s, HEX(b), t, j, z FROM kinds ORDER BY id")
        self.assertIn("héllo", r.stdout)
        self.assertIn("00FF10", r.stdout)
        self.assert_same("-e", "SELECT VERSION() LIKE '%MariaDB%', DATABASE(), CURRENT_USER() LIKE 'app@%'")
        self.assert_same("-e", "SHOW COLUMNS FROM kinds")
        self.assert_same("--column-type-info", "-e", "SELECT id, n, d, f, s, t, j, z FROM kinds WHERE id = 1")
        # Bytes that are not text pass unchanged.
        direct = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.db.port), f"-u{USER}",
                                 f"-p{PASSWORD}", DATABASE, "-N", "-r", "-e", "SELECT b FROM kinds WHERE id = 1"],
                                capture_output=True)
        through = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.proxy.port),
                                  f"-u{USER}", f"-p{PASSWORD}", DATABASE, "-N", "-r", "-e",
                                  "SELECT b FROM kinds WHERE id = 1"], capture_output=True)
        self.assertEqual(through.stdout, direct.stdout)
        self.assertIn(b"\xff", through.stdout)

    def test_multi_statements_and_multiple_result_sets(self):
        r = self.assert_same("-e", "SELECT 1 AS a; SELECT 'two' AS b, 2 AS c; DO 1; SELECT COUNT(*) FROM kinds")
        self.assertEqual(r.stdout.split(), ["a", "1", "b", "c", "two", "2", "COUNT(*)", "2"])
        # A procedure's result sets end with the CALL's own status.
        subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={self.db.socket}", DATABASE],
                       input="DELIMITER //\nCREATE PROCEDURE two_results() BEGIN SELECT 1; SELECT 2; END//\n",
                       check=True, capture_output=True, text=True)
        self.assert_same("-e", "CALL two_results(); SELECT 3")

    def test_errors_are_the_servers_own(self):
        r = self.assert_same("-e", "SELECT * FROM missing_table")
        self.assertIn("ERROR 1146 (42S02)", r.stderr)
        r = self.assert_same("-e", "SELECT 1; SELEC 2; SELECT 3")
        self.assertIn("ERROR 1064 (42000)", r.stderr)
        # The session goes on after an error.
        r = self.assert_same("--force", input="SELECT * FROM missing_table;\nSELECT 42;\n")
        self.assertIn("42", r.stdout)
        status, metrics = self.proxy.http_get("/metrics")
        self.assertGreaterEqual(int(re.search(r'lms_errors_total\{database="source",kind="query"\} (\d+)',
                                              metrics).group(1)), 3)

    def test_a_transaction_commits_or_rolls_back_as_a_whole(self):
        self.db.admin(f"CREATE TABLE IF NOT EXISTS {DATABASE}.ledger (v INT) ENGINE=InnoDB")
        self.db.admin(f"DELETE FROM {DATABASE}.ledger")
        r = mariadb(self.proxy.port, "-e", "BEGIN; INSERT INTO ledger VALUES (1); ROLLBACK; "
                                           "START TRANSACTION; INSERT INTO ledger VALUES (2); "
                                           "SELECT @@in_transaction; COMMIT; SELECT @@in_transaction")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["@@in_transaction", "1", "@@in_transaction", "0"])
        self.assertEqual(self.db.admin(f"SELECT GROUP_CONCAT(v) FROM {DATABASE}.ledger"), "2")

    def test_large_results_and_values_over_16_mb(self):
        # 200,000 rows in one result set, and one value of 17 MB (a message split across packets).
        sql = ("SELECT COUNT(*), SUM(seq), MD5(GROUP_CONCAT(seq ORDER BY seq)) FROM seq_1_to_200000; "
               "SELECT seq, REPEAT('r', 50) FROM seq_1_to_200000")
        direct, through = self.both("-e", sql)
        self.assertEqual(through.returncode, 0, through.stderr)
        self.assertEqual(len(through.stdout), len(direct.stdout))
        self.assertEqual(through.stdout, direct.stdout)
        big = "SELECT LENGTH(x), MD5(x) FROM (SELECT REPEAT('abcdefgh', 17 * 1024 * 128) AS x) t"
        self.assert_same("-e", big)
        r = self.assert_same("-e", "SELECT REPEAT('y', 17 * 1024 * 1024) AS big")
        self.assertEqual(len(r.stdout), len("big\n") + 17 * 1024 * 1024 + 1)
        # A statement over 16 MB from the client.
        long_sql = "SELECT LENGTH('" + "q" * (17 * 1024 * 1024) + "') AS n"
        r = mariadb(self.proxy.port, input=long_sql + ";\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["n", str(17 * 1024 * 1024)])

    def test_wrong_passwords_are_refused_and_nothing_is_exhausted(self):
        for _ in range(30):
            r = mariadb(self.proxy.port, "-e", "SELECT 1", password="wrong")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("ERROR 1045 (28000): Access denied for user 'app'", r.stderr)
        r = mariadb(self.proxy.port, "-e", "SELECT 1", user="intruder", password=PASSWORD)
        self.assertIn("ERROR 1045 (28000)", r.stderr)
        r = mariadb(self.proxy.port, "-e", "SELECT 1", password=None)
        self.assertIn("ERROR 1045 (28000)", r.stderr)
        self.assertIn("using password: NO", r.stderr)
        r = mariadb(self.proxy.port, "-N", "-e", "SELECT 'still serving'")
        self.assertEqual(r.stdout.strip(), "still serving", r.stderr)
        self.assertNotIn(PASSWORD, self.proxy.log())

    def test_the_native_password_plugin_when_configured(self):
        proxy = Lms(self.db.url(), extra=["--source-dialect", "mysql", "--auth-method", "md5"])
        try:
            r = mariadb(proxy.port, "-N", "--default-auth=mysql_native_password", "-e", "SELECT 7")
            self.assertEqual(r.stdout.strip(), "7", r.stderr)
            # A client that starts with caching_sha2_password is switched over.
            r = mariadb(proxy.port, "-N", "--default-auth=caching_sha2_password", "-e", "SELECT 8")
            self.assertEqual(r.stdout.strip(), "8", r.stderr)
            r = mariadb(proxy.port, "-e", "SELECT 1", password="nope")
            self.assertIn("ERROR 1045", r.stderr)
        finally:
            self.assertEqual(proxy.stop(), 0)

    def test_root_with_an_empty_password_logs_in_with_every_method(self):
        # A fresh development server's root without a password, over TCP.
        self.db.admin("CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; "
                      "GRANT ALL ON *.* TO root@'127.0.0.1'")
        for method in ("scram-sha-256", "md5", "password", "trust"):
            proxy = Lms(f"mysql://root@127.0.0.1:{self.db.port}/", extra=["--source-dialect", "mysql",
                                                                          "--auth-method", method])
            try:
                for plugin in ("mysql_native_password", "caching_sha2_password"):
                    with self.subTest(method=method, client_plugin=plugin):
                        r = mariadb(proxy.port, "-N", f"--default-auth={plugin}", "-e", "SELECT CURRENT_USER()",
                                    user="root", password=None, db=None)
                        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr), (0, "root@127.0.0.1", ""))
                if method != "trust":
                    # A wrong password is refused with the reason, not a dropped connection.
                    r = mariadb(proxy.port, "-e", "SELECT 1", user="root", password="not-empty", db=None)
                    self.assertIn("ERROR 1045 (28000): Access denied for user 'root'", r.stderr)
            finally:
                self.assertEqual(proxy.stop(), 0)

    def test_admin_commands_ping_statistics_and_use(self):
        base = ["mariadb-admin", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.proxy.port), f"-u{USER}",
                f"-p{PASSWORD}"]
        r = subprocess.run(base + ["ping"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout.strip(), "mysqld is alive", r.stderr)
        r = subprocess.run(base + ["status"], capture_output=True, text=True, timeout=60)
        self.assertRegex(r.stdout, r"^Uptime: \d+", r.stderr)
        # USE sends COM_INIT_DB; an unknown database is the server's error.
        self.db.admin("CREATE DATABASE IF NOT EXISTS otherdb; GRANT ALL ON otherdb.* TO 'app'@'%'; "
                      "GRANT ALL ON nosuchdb.* TO 'app'@'%'")
        r = self.assert_same("-e", "USE otherdb; SELECT DATABASE(); USE nosuchdb")
        self.assertIn("otherdb", r.stdout)
        self.assertIn("ERROR 1049 (42000)", r.stderr)

    def test_a_database_refusing_the_login_is_the_servers_own_error(self):
        r = self.assert_same("-e", "SELECT 1", db="forbidden")
        self.assertIn("ERROR 1044 (42000): Access denied for user 'app'@'%' to database 'forbidden'", r.stderr)
        r = mariadb(self.proxy.port, "-N", "-e", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1")

    def test_readiness_and_connections_list(self):
        self.assertEqual(self.proxy.http_get("/readyz")[0], 200)
        holder = subprocess.Popen(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.proxy.port),
                                   f"-u{USER}", f"-p{PASSWORD}", DATABASE, "-e", "SELECT SLEEP(3), 'marker-77'"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            import json
            import time
            deadline = time.time() + 10
            found = []
            while time.time() < deadline and not found:
                body = json.loads(self.proxy.http_get("/v1/connections")[1])
                found = [c for c in body["connections"] if "SLEEP" in c.get("last_query", "")]
                time.sleep(0.1)
            self.assertTrue(found, body)
            self.assertEqual(found[0]["state"], "active")
            self.assertNotIn("marker-77", found[0]["last_query"])  # literals are not shown
        finally:
            holder.communicate(timeout=30)

    def test_a_dead_source_gives_a_clear_error(self):
        proxy = Lms(f"mysql://{USER}:{PASSWORD}@127.0.0.1:1/{DATABASE}", extra=["--source-dialect", "mysql"])
        try:
            r = mariadb(proxy.port, "-e", "SELECT 1")
            self.assertNotEqual(r.returncode, 0)
            self.assertRegex(r.stderr, r"ERROR \d+ \(\w+\): .*(refused|connect)")
            self.assertEqual(proxy.http_get("/readyz")[0], 503)
        finally:
            self.assertEqual(proxy.stop(), 0)

    def test_sysbench_through_lms_with_16_threads_has_no_errors(self):
        self.db.admin("CREATE DATABASE IF NOT EXISTS sbtest")
        prepare = subprocess.run(["sysbench", "oltp_read_write", *SYSBENCH_ARGS, f"--mysql-port={self.db.port}",
                                  "prepare"], capture_output=True, text=True, timeout=300)
        self.assertEqual(prepare.returncode, 0, prepare.stderr)
        try:
            for workload in ("oltp_read_write", "oltp_point_select"):
                run = subprocess.run(["sysbench", workload, *SYSBENCH_ARGS, f"--mysql-port={self.proxy.port}",
                                      "--threads=16", "--time=8", "--report-interval=0", "run"],
                                     capture_output=True, text=True, timeout=300)
                self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr)
                transactions = int(re.search(r"transactions:\s+(\d+)", run.stdout).group(1))
                self.assertGreater(transactions, 100, run.stdout)
                self.assertRegex(run.stdout, r"ignored errors:\s+0 ")
                self.assertNotIn("FATAL", run.stdout + run.stderr)
        finally:
            subprocess.run(["sysbench", "oltp_read_write", *SYSBENCH_ARGS, f"--mysql-port={self.db.port}",
                            "cleanup"], capture_output=True, timeout=300)
        self.assertIn("serving mysql clients", self.proxy.log())


class MysqlConfiguration(unittest.TestCase):
    def test_a_mysql_target_is_refused_with_a_clear_message(self):
        # MySQL clients go to a CockroachDB (PostgreSQL-protocol) target, translated
        # (test_mysql_translation); MySQL to MySQL is not carried.
        from lmstest import LMS_BIN, PLUGIN_DIR, free_port
        r = subprocess.run([LMS_BIN, "--source-dialect", "mysql", "--plugin-dir", PLUGIN_DIR,
                            "--source", f"{USER}:{PASSWORD}@tcp(127.0.0.1:{free_port()})/{DATABASE}",
                            "--target", f"{USER}:{PASSWORD}@tcp(127.0.0.1:{free_port()})/{DATABASE}",
                            "--target-dialect", "mysql", "--listen", f"127.0.0.1:{free_port()}",
                            "--http-listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("source dialect mysql cannot have a target of the same protocol", r.stdout + r.stderr)

    def test_the_documentations_connection_string_forms(self):
        from lmstest import LMS_BIN, PLUGIN_DIR, free_port
        for source, shown in ((f"{USER}:{PASSWORD}@(127.0.0.1:1)/{DATABASE}", "127.0.0.1:1/appdb as app"),
                              (f"mysql://{USER}:{PASSWORD}@127.0.0.1:1/{DATABASE}?sslmode=prefer",
                               "127.0.0.1:1/appdb as app"),
                              (f"{USER}:{PASSWORD}@tcp(127.0.0.1:1)/{DATABASE}?tls=preferred", "127.0.0.1:1/appdb")):
            proxy = Lms(source, extra=["--source-dialect", "mysql"])
            try:
                self.assertIn(shown, proxy.log())
            finally:
                self.assertEqual(proxy.stop(), 0)
            self.assertNotIn(PASSWORD, proxy.log())
        r = subprocess.run([LMS_BIN, "--source-dialect", "mysql", "--plugin-dir", PLUGIN_DIR,
                            "--source", f"{USER}:{PASSWORD}@tcp(127.0.0.1:99999)/{DATABASE}",
                            "--listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{free_port()}"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('invalid port "99999"', r.stdout + r.stderr)
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
