"""Starting lms: every way of configuring it, and every way of getting it wrong, as a user sees it."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from lmstest import (BUILD_DIR, DATABASE, LMS_BIN, PASSWORD, PLUGIN_DIR, USER, Lms, LmsTestCase,
                     PostgresServer, free_port, psql)


def run_lms(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([LMS_BIN, *args], capture_output=True, text=True, timeout=30, env=full_env)


def abi_minor():
    """The plugin ABI's minor version, as the SDK header declares it."""
    import re
    header = os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "include", "lms", "plugin.h")
    with open(header) as f:
        return int(re.search(r"#define LMS_PLUGIN_ABI_MINOR (\d+)u", f.read()).group(1))


class Misconfiguration(unittest.TestCase):
    """lms refuses to start, with one clear line and a non-zero exit."""

    base = ["--source-dialect", "postgres", "--source", "postgresql://app:pw@127.0.0.1:1/db"]

    def assert_refused(self, args, message, code, env=None):
        r = run_lms(*args, env=env)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(message, r.stderr)
        self.assertEqual(len([l for l in r.stderr.splitlines() if "error" in l or "lms:" in l]), 1, r.stderr)

    def test_missing_and_wrong_settings(self):
        self.assert_refused(["--source-dialect", "postgres"], "missing required setting 'source'", 2)
        self.assert_refused(["--source-dialect", "db2", "--source", "x"], "invalid source-dialect from flag", 2)
        self.assert_refused(self.base + ["--auth-method", "kerberos"], "invalid auth-method", 2)
        self.assert_refused(self.base + ["--bogus", "1"], "unknown flag --bogus", 2)
        self.assert_refused(self.base + ["--shadow-ignore-statements", "(unclosed"],
                            "invalid shadow-ignore-statements from flag", 2)
        self.assert_refused(self.base + ["--shadow-validate", "maybe"], "invalid shadow-validate", 2)
        # Who may log in: a read of the users at most every 100 ms, from one place, with SCRAM.
        self.assert_refused(self.base + ["--auth-refresh", "50"],
                            "invalid auth-refresh from flag --auth-refresh: must be a number of milliseconds from 100 "
                            "to 3600000", 2)
        self.assert_refused(self.base + ["--auth-query", "default", "--auth-file", "/dev/null"],
                            "invalid auth-query from flag --auth-query: reads the users from the database: it cannot "
                            "go with auth-file", 2)
        self.assert_refused(self.base + ["--auth-query", "default", "--auth-method", "md5"],
                            "it needs auth-method scram-sha-256", 2)

    def test_unparseable_connection_string(self):
        self.assert_refused(["--source-dialect", "postgres", "--source", "host=x port", "--plugin-dir", PLUGIN_DIR],
                            "invalid source connection string", 1)
        self.assert_refused(["--source-dialect", "postgres", "--source", "postgresql://127.0.0.1/db",
                             "--plugin-dir", PLUGIN_DIR], "it names no user", 1)

    def test_missing_plugin_directory(self):
        self.assert_refused(self.base + ["--plugin-dir", "/nonexistent"],
                            "plugin /nonexistent/dialect_postgres.so: not found", 1)

    def test_missing_shadow_plugin(self):
        self.assert_refused(self.base + ["--plugin-dir", PLUGIN_DIR, "--shadow-mode", "mirror",
                                         "--target", "postgresql://a@127.0.0.1:2/db"],
                            "shadow_mirror.so: not found", 1)

    def test_corrupt_and_wrong_abi_plugins(self):
        with tempfile.TemporaryDirectory() as d:
            for name in os.listdir(PLUGIN_DIR):
                if name.endswith(".so"):
                    shutil.copy(os.path.join(PLUGIN_DIR, name), d)
            target = os.path.join(d, "dialect_postgres.so")
            with open(target, "w") as f:
                f.write("not a shared object")
            self.assert_refused(self.base + ["--plugin-dir", d], f"plugin {target}: cannot be loaded", 1)
            shutil.copy(os.path.join(BUILD_DIR, "tests", "fixture_1.so"), target)
            minor = abi_minor()
            self.assert_refused(self.base + ["--plugin-dir", d],
                                f"plugin {target}: built for plugin ABI 2.{minor}, this host speaks 1.{minor}", 1)

    def test_port_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            self.assert_refused(self.base + ["--plugin-dir", PLUGIN_DIR, "--listen", f"127.0.0.1:{port}",
                                             "--http-listen", f"127.0.0.1:{free_port()}"],
                                f"cannot listen on 127.0.0.1:{port}", 1)

    def test_help_and_version(self):
        r = run_lms("--help")
        self.assertEqual(r.returncode, 0)
        for flag in ("--source-dialect", "--listen", "--http-listen", "--source", "--target", "--shadow-mode",
                     "--plugin-dir", "--workers", "LMS_READ_CONFIG_FILE"):
            self.assertIn(flag, r.stdout)
        r = run_lms("--version")
        self.assertRegex(r.stdout, r"^lms \d+\.\d+\.\d+")


class Stopping(unittest.TestCase):
    def test_sigterm_right_after_start_exits_cleanly(self):
        # A SIGTERM the moment lms says it serves (Kubernetes may send one that early) once left
        # the HTTP thread listening forever.
        for _ in range(5):
            proc = subprocess.Popen([LMS_BIN, "--source-dialect", "postgres", "--source",
                                     "postgresql://u:p@127.0.0.1:1/db", "--plugin-dir", PLUGIN_DIR,
                                     "--listen", f"127.0.0.1:{free_port()}", "--http-listen",
                                     f"127.0.0.1:{free_port()}"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            log = ""
            while "serving postgres clients" not in log:
                line = proc.stdout.readline()
                self.assertTrue(line, log)
                log += line
            proc.terminate()
            try:
                rest, _ = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.fail("lms did not stop within 15 s of SIGTERM")
            self.assertEqual(proc.returncode, 0, log + rest)
            self.assertIn("received SIGTERM, draining", rest)
            self.assertIn("drained in", rest)


class WaysToConfigure(LmsTestCase):
    def serves(self, proxy):
        r = psql(proxy.url(), "-Atc", "SELECT current_user")
        self.assertEqual(r.stdout.strip(), USER, r.stderr + proxy.log())

    def test_toml_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(f'source-dialect = "postgres"\nsource = "{self.pg.url()}"\nworkers = 1\nlog-level = "debug"\n')
        self.addCleanup(os.unlink, f.name)
        proxy = self._start_without_source(["--config", f.name])
        self.serves(proxy)
        # The file's settings took (its log level: debug lines; the harness's flags win over the rest).
        self.assertIn(" debug worker 0 running", proxy.log())

    def _start_without_source(self, extra, env=None):
        proxy = Lms(None, extra=extra, env=env)
        self.addCleanup(self._stop_and_check, proxy)
        return proxy

    def test_deployment_config_json(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"INIT_SOURCE": self.pg.url(), "INIT_TARGET": self.pg.url()}, f)
        self.addCleanup(os.unlink, f.name)
        proxy = self._start_without_source([], env={"LMS_READ_CONFIG_FILE": f.name, "LMS_SHADOW_MODE": "none",
                                                    "LMS_LOGGING": "debug"})
        self.serves(proxy)
        self.assertIn("debug", proxy.log())
        self.assertNotIn(PASSWORD, proxy.log())

    def test_key_value_connection_string(self):
        source = f"host=127.0.0.1 port={self.pg.port} user={USER} password={PASSWORD} dbname={DATABASE}"
        self.serves(self.start_lms(source_url=source))

    def test_cockroach_dialect(self):
        # The PostgreSQL server stands in for CockroachDB: same wire protocol.
        proxy = self.start_lms(extra=["--source-dialect", "cockroach"])
        self.serves(proxy)
        # Without a port, a cockroach connection string means CockroachDB's 26257.
        no_port = Lms(f"postgresql://{USER}:{PASSWORD}@127.0.0.1/{DATABASE}", extra=["--source-dialect", "cockroach"])
        self.addCleanup(self._stop_and_check, no_port)
        self.assertIn("source 127.0.0.1:26257/appdb as app", no_port.log())

    def test_md5_and_cleartext_client_authentication(self):
        for method in ("md5", "password"):
            with self.subTest(method=method):
                proxy = self.start_lms(extra=["--auth-method", method])
                self.serves(proxy)
                r = psql(proxy.url(password="wrong"), "-c", "SELECT 1")
                self.assertIn("password authentication failed", r.stderr)

    def test_password_never_logged(self):
        proxy = self.start_lms(extra=["--log-level", "debug"])
        self.serves(proxy)
        psql(proxy.url(password="wrong-one"), "-c", "SELECT 1")
        self.assertNotIn(PASSWORD, proxy.log())
        self.assertNotIn("wrong-one", proxy.log())
        self.assertNotIn(PASSWORD, proxy.http_get("/metrics")[1])


class Md5Backend(LmsTestCase):
    """A source that asks for md5 rather than SCRAM."""
    pg_auth = "md5"

    def test_serves_through_an_md5_source(self):
        proxy = self.start_lms()
        r = psql(proxy.url(), "-Atc", "SELECT 'md5 ok'")
        self.assertEqual(r.stdout.strip(), "md5 ok", r.stderr)

    def test_a_user_the_database_keeps_an_md5_hash_of_logs_in_as_itself(self):
        # password_encryption = md5, as an old cluster made its roles; read through a function.
        self.pg.admin("SET password_encryption = 'md5'; CREATE ROLE legacy LOGIN PASSWORD 'legacy-pw'; "
                      "CREATE SCHEMA lms_auth; "
                      "CREATE FUNCTION lms_auth.logins(OUT name text, OUT verifier text) RETURNS SETOF record "
                      "LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT rolname::text, "
                      "rolpassword FROM pg_authid WHERE rolcanlogin AND rolpassword IS NOT NULL $$; "
                      f"GRANT USAGE ON SCHEMA lms_auth TO {USER}", db=DATABASE)
        self.addCleanup(self.pg.admin, "DROP SCHEMA lms_auth CASCADE; DROP ROLE legacy", db=DATABASE)
        self.assertTrue(self.pg.admin("SELECT rolpassword FROM pg_authid WHERE rolname = 'legacy'").startswith("md5"))
        proxy = self.start_lms(extra=["--auth-query", "SELECT name, verifier FROM lms_auth.logins()"])
        r = psql(f"postgresql://legacy:legacy-pw@127.0.0.1:{proxy.port}/{DATABASE}", "-Atc", "SELECT current_user")
        self.assertEqual(r.stdout.strip(), "legacy", r.stderr + proxy.log())
        r = psql(f"postgresql://legacy:wrong@127.0.0.1:{proxy.port}/{DATABASE}", "-Atc", "SELECT 1")
        self.assertIn('password authentication failed for user "legacy"', r.stderr)
        self.assertNotIn("md5_hash", proxy.log())

    def test_wrong_source_password_reaches_the_client_with_its_sqlstate(self):
        proxy = self.start_lms(source_url=self.pg.url(password="stale"))
        r = psql(proxy.url(password="stale"), "-c", "SELECT 1")
        self.assertIn('password authentication failed for user "app"', r.stderr)
        self.assertIn("refused the session", proxy.log())


if __name__ == "__main__":
    unittest.main()
