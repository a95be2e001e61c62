"""TLS and who may drive the control plane, with certificates from packaging/make-certs.sh: the CLI
against an HTTPS orchestrator that requires client certificates, the proxies' HTTPS control API,
and certificates re-read when their files change."""
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from lmstest import (CLI_BIN, DATABASE, PASSWORD, USER, LmsTestCase, MariaDbServer, Orchestrator, PostgresServer,
                     TargetTestCase, mariadb, psql)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def make_certs(directory, hosts="", names=None):
    env = dict(os.environ, LMS_CERT_HOSTS=hosts)
    if names:
        env["LMS_CERT_NAMES"] = names
    subprocess.run([os.path.join(ROOT, "packaging", "make-certs.sh"), directory], check=True, capture_output=True,
                   env=env)
    return directory


def https_get(url, ca, cert=None, key=None):
    """(status, body) of a GET over HTTPS, verifying the server with `ca`."""
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def served_certificate(port):
    """The serial number of the certificate the server on `port` presents."""
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    r = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem, capture_output=True, text=True, check=True)
    return r.stdout.strip()


class ControlPlaneTls(LmsTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = make_certs(tempfile.mkdtemp(prefix="lms-certs-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)
        super().tearDownClass()

    def cert(self, name):
        return os.path.join(self.certs, name)

    def tls_proxy(self, certs=None):
        c = certs or self.certs
        return self.start_lms(extra=["--control-tls-cert", os.path.join(c, "server.crt"),
                                     "--control-tls-key", os.path.join(c, "server.key"),
                                     "--control-tls-ca", os.path.join(c, "ca.crt")])

    def test_proxy_control_api_needs_a_client_certificate_but_probes_do_not(self):
        proxy = self.tls_proxy()
        base = f"https://127.0.0.1:{proxy.http_port}"
        ca = self.cert("ca.crt")
        self.assertEqual(https_get(base + "/healthz", ca)[0], 200)
        self.assertEqual(https_get(base + "/readyz", ca)[0], 200)
        status, body = https_get(base + "/metrics", ca)
        self.assertEqual(status, 200)
        self.assertIn("lms_client_connections_open", body)
        status, body = https_get(base + "/v1/status", ca)
        self.assertEqual(status, 403)
        self.assertIn("client certificate", json.loads(body)["error"])
        status, body = https_get(base + "/v1/status", ca, self.cert("client.crt"), self.cert("client.key"))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["source_dialect"], "PostgreSQL")
        for bad in ("expired-client", "other-client"):
            with self.assertRaises((ssl.SSLError, urllib.error.URLError, ConnectionError), msg=bad):
                https_get(base + "/v1/status", ca, self.cert(bad + ".crt"), self.cert(bad + ".key"))
        # Plain HTTP on an HTTPS port gets nothing.
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{proxy.http_port}/v1/status", timeout=5).read()
        self.assertIn("HTTPS with client certificates for /v1", proxy.log())  # logged before the HTTP port answers

    def orchestrator(self, proxies):
        addresses = ",".join(f"https://127.0.0.1:{p.http_port}" for p in proxies)
        env = {"ORCH_TLS_CERT": self.cert("server.crt"), "ORCH_TLS_KEY": self.cert("server.key"),
               "ORCH_CA_TLS_CERT": self.cert("ca.crt")}
        orch = Orchestrator([], extra=["--lms-addresses", addresses], env=env)
        self.addCleanup(orch.stop)
        return orch

    def cli(self, orch, *args, client="client", ca="ca.crt"):
        env = dict(os.environ, CLI_ORCHESTRATOR_URL=f"https://127.0.0.1:{orch.port}",
                   CLI_TLS_CA_CERT=self.cert(ca))
        if client:
            env.update(CLI_TLS_CLIENT_CERT=self.cert(client + ".crt"), CLI_TLS_CLIENT_KEY=self.cert(client + ".key"))
        return subprocess.run([CLI_BIN, *args], capture_output=True, text=True, env=env, timeout=60)

    def test_cli_to_orchestrator_to_proxies_all_over_mutual_tls(self):
        proxies = [self.tls_proxy(), self.tls_proxy()]
        orch = self.orchestrator(proxies)
        r = self.cli(orch, "status", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["proxies"]), 2, r.stdout)
        self.assertEqual([p["error"] for p in json.loads(r.stdout)["proxies"]], ["", ""], r.stdout)
        # Refused: no client certificate, an expired one, one from another CA.
        r = self.cli(orch, "status", client=None)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("client certificate", r.stderr + r.stdout)
        for bad in ("expired-client", "other-client"):
            r = self.cli(orch, "status", client=bad)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertNotIn('"proxies"', r.stdout, bad)
        # The CLI refuses a server its CA did not sign.
        r = self.cli(orch, "status", ca="other-ca.crt")
        self.assertNotEqual(r.returncode, 0)
        # The orchestrator, whose client certificate the proxies check, is refused by a proxy that
        # trusts another CA.
        other = make_certs(tempfile.mkdtemp(prefix="lms-certs-other-"))
        self.addCleanup(shutil.rmtree, other, True)
        stranger = self.start_lms(extra=["--control-tls-cert", os.path.join(other, "server.crt"),
                                         "--control-tls-key", os.path.join(other, "server.key"),
                                         "--control-tls-ca", os.path.join(other, "ca.crt")])
        orch2 = self.orchestrator([stranger])
        r = self.cli(orch2, "status", "-o", "json")
        self.assertNotEqual(r.returncode, 0)
        self.assertNotEqual(json.loads(r.stdout)["proxies"][0]["error"], "", r.stdout)

    def test_rotated_certificates_are_used_without_a_restart(self):
        live = tempfile.mkdtemp(prefix="lms-certs-live-")
        self.addCleanup(shutil.rmtree, live, True)
        for name in ("server.crt", "server.key", "ca.crt"):
            shutil.copy(self.cert(name), live)
        proxy = self.tls_proxy(live)
        before = served_certificate(proxy.http_port)
        # Kubernetes swaps a mounted secret's files: new ones appear under the same names.
        fresh = make_certs(tempfile.mkdtemp(prefix="lms-certs-new-"))
        self.addCleanup(shutil.rmtree, fresh, True)
        for name in ("server.crt", "server.key", "ca.crt"):
            shutil.copy(os.path.join(fresh, name), os.path.join(live, name + ".new"))
            os.replace(os.path.join(live, name + ".new"), os.path.join(live, name))
        after = served_certificate(proxy.http_port)
        self.assertNotEqual(before, after)
        # The new CA is in force too: the old client certificate no longer passes, the new one does.
        base = f"https://127.0.0.1:{proxy.http_port}/v1/status"
        with self.assertRaises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            https_get(base, os.path.join(fresh, "ca.crt"), self.cert("client.crt"), self.cert("client.key"))
        status, _ = https_get(base, os.path.join(fresh, "ca.crt"), os.path.join(fresh, "client.crt"),
                              os.path.join(fresh, "client.key"))
        self.assertEqual(status, 200)
        self.assertIn("re-read", proxy.log())

    def test_without_certificates_the_control_api_is_for_this_machine(self):
        proxy = self.start_lms()
        deadline = time.time() + 10
        while "serving" not in proxy.log() and time.time() < deadline:  # logged once every worker runs
            time.sleep(0.05)
        self.assertIn(" HTTP on ", proxy.log())
        self.assertEqual(proxy.http_get("/v1/status")[0], 200)  # from 127.0.0.1

    def test_half_configured_tls_is_refused_at_start(self):
        from test_startup import run_lms
        r = run_lms("--source-dialect", "postgres", "--source", "postgresql://a:b@127.0.0.1:1/db",
                    "--control-tls-cert", self.cert("server.crt"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("control-tls-cert and control-tls-key go together", r.stderr)
        r = run_lms("--source-dialect", "postgres", "--source", "postgresql://a:b@127.0.0.1:1/db",
                    "--control-tls-cert", self.cert("server.crt"), "--control-tls-key", self.cert("client.key"),
                    "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not belong to the certificate", r.stderr)


def postgres_with_tls(certs):
    """A PostgreSQL server with ssl=on, serving certs/server.crt."""
    return PostgresServer(tls_dir=certs)


class DataPlaneTls(LmsTestCase):
    """psql to lms to PostgreSQL, TLS on both hops, with every sslmode that matters."""

    @classmethod
    def setUpClass(cls):
        cls.certs = make_certs(tempfile.mkdtemp(prefix="lms-certs-"))
        cls.pg = postgres_with_tls(cls.certs)

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def cert(self, name):
        return os.path.join(self.certs, name)

    def source(self, mode, rootcert=None, host="127.0.0.1"):
        url = f"postgresql://{USER}:{PASSWORD}@{host}:{self.pg.port}/{DATABASE}?sslmode={mode}"
        if rootcert:
            url += f"&sslrootcert={rootcert}"
        return url

    def tls_proxy(self, source, *extra, check_ready=True):
        return self.start_lms(source, extra=["--ssl-cert", self.cert("server.crt"), "--ssl-key", self.cert("server.key"),
                                             *extra], check_ready=check_ready)

    def client_url(self, proxy, mode, **params):
        url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{proxy.port}/{DATABASE}?sslmode={mode}"
        for k, v in params.items():
            url += f"&{k}={v}"
        return url

    # What the database says about the connection it got from lms.
    WHO = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

    def test_verify_full_on_both_hops(self):
        proxy = self.tls_proxy(self.source("verify-full", self.cert("ca.crt")))
        r = psql(self.client_url(proxy, "verify-full", sslrootcert=self.cert("ca.crt")), "-Atc", self.WHO)
        self.assertEqual(r.returncode, 0, r.stderr)
        ssl_on, version = r.stdout.strip().split("|")
        self.assertEqual(ssl_on, "t")
        self.assertTrue(version.startswith("TLSv1."), version)
        # The client's side really is TLS too: psql reports it.
        r = psql(self.client_url(proxy, "verify-full", sslrootcert=self.cert("ca.crt")), "-c", "\\conninfo")
        self.assertIn("SSL connection", r.stdout, r.stdout + r.stderr)
        # Enough data to cross many TLS records both ways.
        r = psql(self.client_url(proxy, "require"), "-Atc",
                 "SELECT count(*), sum(length(repeat(md5(i::text), 50))) FROM generate_series(1, 20000) i")
        self.assertEqual(r.stdout.strip(), "20000|32000000", r.stderr)

    def test_a_wrong_ca_or_host_name_fails_with_a_clear_message(self):
        other = make_certs(tempfile.mkdtemp(prefix="lms-certs-other-"))
        self.addCleanup(shutil.rmtree, other, True)
        proxy = self.tls_proxy(self.source("verify-full", os.path.join(other, "ca.crt")))
        r = psql(self.client_url(proxy, "require"), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("certificate verification failed", r.stderr)
        self.assertIn("unable to get local issuer certificate", r.stderr)
        # The right CA, but a certificate for another name: verify-ca passes, verify-full does not.
        wrong_name = make_certs(tempfile.mkdtemp(prefix="lms-certs-name-"), names="DNS:db.example")
        self.addCleanup(shutil.rmtree, wrong_name, True)
        named = postgres_with_tls(wrong_name)
        self.addCleanup(named.destroy)
        base = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{named.port}/{DATABASE}"
        ca = os.path.join(wrong_name, "ca.crt")
        full = self.tls_proxy(base + f"?sslmode=verify-full&sslrootcert={ca}")
        r = psql(self.client_url(full, "require"), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("IP address mismatch", r.stderr)
        verify_ca = self.tls_proxy(base + f"?sslmode=verify-ca&sslrootcert={ca}")
        r = psql(self.client_url(verify_ca, "require"), "-Atc", self.WHO)
        self.assertEqual(r.stdout.strip().split("|")[0], "t", r.stderr)

    def test_client_tls_require_refuses_plain_clients(self):
        proxy = self.tls_proxy(self.source("require"), "--client-tls", "require")
        r = psql(self.client_url(proxy, "disable"), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("lms accepts only TLS connections", r.stderr)
        r = psql(self.client_url(proxy, "require"), "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)

    def test_client_certificates_when_verify(self):
        proxy = self.tls_proxy(self.source("require"), "--client-tls", "verify", "--ssl-ca", self.cert("ca.crt"))
        r = psql(self.client_url(proxy, "require"), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0, "no client certificate must be refused")
        good = self.client_url(proxy, "require", sslcert=self.cert("client.crt"), sslkey=self.cert("client.key"))
        r = psql(good, "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        for bad in ("expired-client", "other-client"):
            url = self.client_url(proxy, "require", sslcert=self.cert(bad + ".crt"), sslkey=self.cert(bad + ".key"))
            r = psql(url, "-Atc", "SELECT 1")
            self.assertNotEqual(r.returncode, 0, bad)
        self.assertTrue(proxy.alive())

    def test_prefer_uses_tls_when_offered_and_disable_needs_the_flag(self):
        proxy = self.start_lms(self.source("prefer"))
        r = psql(proxy.url(), "-Atc", self.WHO)
        self.assertEqual(r.stdout.strip().split("|")[0], "t", r.stderr)
        from test_startup import run_lms
        r = run_lms("--source-dialect", "postgres", "--source", self.source("disable"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--allow-tls-mode-disable", r.stderr)
        plain = self.start_lms(self.source("disable"), extra=["--allow-tls-mode-disable"])
        r = psql(plain.url(), "-Atc", self.WHO)
        self.assertEqual(r.stdout.strip().split("|")[0], "f", r.stderr)

    def test_require_against_a_plain_server_is_refused_clearly(self):
        plain = PostgresServer()
        self.addCleanup(plain.destroy)
        proxy = self.start_lms(plain.url() + "?sslmode=require")
        r = psql(proxy.url(), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not support TLS", r.stderr)
        self.assertIn("sslmode=require", r.stderr)

    def test_shadowing_and_validation_to_a_tls_target(self):
        target = postgres_with_tls(self.certs)
        self.addCleanup(target.destroy)
        for server in (self.pg, target):
            server.admin(f"DROP TABLE IF EXISTS t; CREATE TABLE t (v int); ALTER TABLE t OWNER TO {USER}", db=DATABASE)
        # The target takes TCP connections over TLS only: shadowing works only if lms speaks it.
        hba = os.path.join(target.data, "pg_hba.conf")
        with open(hba) as f:
            lines = [("hostssl" + line[4:]) if line.startswith("host ") else line for line in f]
        with open(hba, "w") as f:
            f.writelines(lines)
        target.admin("SELECT pg_reload_conf()")
        target_url = (f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{target.port}/{DATABASE}"
                      f"?sslmode=verify-full&sslrootcert={self.cert('ca.crt')}")
        proxy = self.tls_proxy(self.source("verify-full", self.cert("ca.crt")), "--target", target_url,
                               "--shadow-mode", "sync")
        r = psql(self.client_url(proxy, "require"), "-Atc", "INSERT INTO t SELECT generate_series(1, 500)")
        self.assertEqual(r.stdout.strip(), "INSERT 0 500", r.stderr)
        self.assertEqual(target.admin("SELECT count(*) FROM t", db=DATABASE), "500")
        r = psql(self.client_url(proxy, "require"), "-Atc", "SELECT sum(v) FROM t")
        self.assertEqual(r.stdout.strip(), "125250", r.stderr)
        # Large answers over TLS, each held until the target has answered: what TLS decrypted
        # beyond the held point must wait, then follow in order.
        big = "SELECT i, repeat(md5(i::text), 20) FROM generate_series(1, 20000) i"
        for _ in range(3):
            through = psql(self.client_url(proxy, "require"), "-Atc", big)
            direct = psql(self.source("require"), "-Atc", big)
            self.assertEqual(through.returncode, 0, through.stderr)
            self.assertEqual(len(through.stdout), len(direct.stdout))
            self.assertTrue(through.stdout == direct.stdout, "the answer through lms differs")
        report = json.loads(proxy.http_get("/v1/shadow/report")[1])
        self.assertEqual(report["mismatches"], 0, report)
        self.assertEqual(report["compared"], 5, report)

    def test_wrong_passwords_are_refused_on_both_hops(self):
        proxy = self.tls_proxy(self.source("require"))
        bad_client = f"postgresql://{USER}:wrong@127.0.0.1:{proxy.port}/{DATABASE}?sslmode=require"
        for _ in range(20):  # repeated failures exhaust nothing
            r = psql(bad_client, "-Atc", "SELECT 1")
            self.assertIn("password authentication failed", r.stderr)
        r = psql(self.client_url(proxy, "require"), "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        wrong_source = self.tls_proxy(f"postgresql://{USER}:nope@127.0.0.1:{self.pg.port}/{DATABASE}?sslmode=require")
        r = psql(self.client_url(wrong_source, "require", password="nope"), "-Atc", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password authentication failed", r.stderr)
        self.assertNotIn("nope", wrong_source.log())


class MysqlTls(LmsTestCase):
    """The mariadb client to lms to MariaDB, TLS on both hops: the SSL capability on the client's
    side, an SSLRequest to the database, with the sslmodes of the MySQL connection strings."""

    @classmethod
    def setUpClass(cls):
        cls.certs = make_certs(tempfile.mkdtemp(prefix="lms-certs-"))
        cls.db = MariaDbServer(tls_dir=cls.certs)

    @classmethod
    def tearDownClass(cls):
        cls.db.destroy()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def cert(self, name):
        return os.path.join(self.certs, name)

    def source(self, query, port=None):
        return f"mysql://{USER}:{PASSWORD}@127.0.0.1:{port or self.db.port}/{DATABASE}?{query}"

    def tls_proxy(self, source, *extra, check_ready=True):
        return self.start_lms(source, extra=["--source-dialect", "mysql", "--ssl-cert", self.cert("server.crt"),
                                             "--ssl-key", self.cert("server.key"), *extra], check_ready=check_ready)

    def verified(self, proxy, *args):
        """The mariadb client through `proxy`, verifying lms's certificate and name."""
        return mariadb(proxy.port, "--ssl", f"--ssl-ca={self.cert('ca.crt')}", "--ssl-verify-server-cert", *args)

    # What MariaDB says about the connection it got from lms.
    WHO = "SHOW SESSION STATUS LIKE 'Ssl_version'"

    def database_tls(self, proxy):
        """The TLS version of lms's connection to the database, through `proxy`; "" for none."""
        r = self.verified(proxy, "-N", "-e", self.WHO)
        self.assertEqual(r.returncode, 0, r.stderr)
        name, _, version = r.stdout.rstrip("\n").partition("\t")
        self.assertEqual(name, "Ssl_version")
        return version

    def test_verify_identity_on_both_hops(self):
        proxy = self.tls_proxy(self.source(f"ssl-mode=VERIFY_IDENTITY&ssl-ca={self.cert('ca.crt')}"))
        self.assertRegex(self.database_tls(proxy), r"^TLSv1\.[23]$")
        # The client's own side is TLS too: the client says so.
        r = self.verified(proxy, "-e", "status")
        self.assertRegex(r.stdout, r"SSL:\s+Cipher in use is \S+", r.stderr)
        # Large answers and packets cross many TLS records both ways.
        r = self.verified(proxy, "-N", "-e", "SELECT LENGTH(REPEAT(MD5('x'), 600000)), MD5(REPEAT('ab', 3000000))")
        self.assertEqual(r.stdout.split()[0], "19200000", r.stderr)
        direct = mariadb(self.db.port, "-N", "-e", "SELECT MD5(REPEAT('ab', 3000000))")
        self.assertEqual(r.stdout.split()[1], direct.stdout.strip())
        # The go DSN form says the same with tls=true.
        go = f"{USER}:{PASSWORD}@tcp(127.0.0.1:{self.db.port})/{DATABASE}?tls=true&ssl-ca={self.cert('ca.crt')}"
        self.assertRegex(self.database_tls(self.tls_proxy(go)), r"^TLSv1\.[23]$")

    def test_a_wrong_ca_or_host_name_fails_with_a_clear_message(self):
        other = make_certs(tempfile.mkdtemp(prefix="lms-certs-other-"))
        self.addCleanup(shutil.rmtree, other, True)
        proxy = self.tls_proxy(self.source(f"ssl-mode=VERIFY_CA&ssl-ca={other}/ca.crt"))
        r = self.verified(proxy, "-e", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("TLS with the database failed: certificate verification failed", r.stderr)
        # MariaDB sends its CA along with its certificate; the CA is not the one lms trusts.
        self.assertIn("self-signed certificate in certificate chain", r.stderr)
        # The right CA, a certificate for another name: VERIFY_CA passes, VERIFY_IDENTITY does not.
        wrong_name = make_certs(tempfile.mkdtemp(prefix="lms-certs-name-"), names="DNS:db.example")
        self.addCleanup(shutil.rmtree, wrong_name, True)
        named = MariaDbServer(tls_dir=wrong_name)
        self.addCleanup(named.destroy)
        ca = os.path.join(wrong_name, "ca.crt")
        full = self.tls_proxy(self.source(f"ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}", named.port))
        r = self.verified(full, "-e", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("IP address mismatch", r.stderr)
        verify_ca = self.tls_proxy(self.source(f"ssl-mode=VERIFY_CA&ssl-ca={ca}", named.port))
        self.assertRegex(self.database_tls(verify_ca), r"^TLSv1\.[23]$")

    def test_required_tls_refuses_plain_on_both_hops(self):
        proxy = self.tls_proxy(self.source("ssl-mode=REQUIRED"), "--client-tls", "require")
        r = mariadb(proxy.port, "--skip-ssl", "-e", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ERROR 3159 (HY000)", r.stderr)
        self.assertIn("insecure transport", r.stderr)
        r = self.verified(proxy, "-N", "-e", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        # A database without TLS when TLS is required: refused before any password goes out.
        plain = MariaDbServer()
        self.addCleanup(plain.destroy)
        proxy = self.tls_proxy(self.source("ssl-mode=REQUIRED", plain.port))
        r = self.verified(proxy, "-e", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("sslmode=require but the database offers no TLS", r.stderr)
        # PREFERRED takes TLS when the database offers it, and goes without when it does not.
        self.assertRegex(self.database_tls(self.tls_proxy(self.source("ssl-mode=PREFERRED"))), r"^TLSv1\.[23]$")
        self.assertEqual(self.database_tls(self.tls_proxy(self.source("ssl-mode=PREFERRED", plain.port))), "")

    def test_client_certificates_and_wrong_passwords(self):
        proxy = self.tls_proxy(self.source("ssl-mode=REQUIRED"), "--client-tls", "verify", "--ssl-ca",
                               self.cert("ca.crt"))
        r = self.verified(proxy, "-e", "SELECT 1")
        self.assertNotEqual(r.returncode, 0, "no client certificate must be refused")
        with_cert = [f"--ssl-cert={self.cert('client.crt')}", f"--ssl-key={self.cert('client.key')}"]
        r = self.verified(proxy, *with_cert, "-N", "-e", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        for bad in ("expired-client", "other-client"):
            r = self.verified(proxy, f"--ssl-cert={self.cert(bad + '.crt')}", f"--ssl-key={self.cert(bad + '.key')}",
                              "-e", "SELECT 1")
            self.assertNotEqual(r.returncode, 0, bad)
        for _ in range(10):  # repeated failures inside TLS exhaust nothing
            r = mariadb(proxy.port, "--ssl", *with_cert, "-e", "SELECT 1", password="wrong")
            self.assertIn("ERROR 1045 (28000): Access denied for user 'app'", r.stderr)
        r = self.verified(proxy, *with_cert, "-N", "-e", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        self.assertTrue(proxy.alive())
        self.assertNotIn(PASSWORD, proxy.log())


class CutoverOverTls(LmsTestCase):
    """The whole migration with TLS on every hop: pgbench to lms (required), lms to both databases
    (verify-full), lms-cli to the orchestrator and the orchestrator to the proxies (client
    certificates), a consistent cutover under load."""

    @classmethod
    def setUpClass(cls):
        cls.certs = make_certs(tempfile.mkdtemp(prefix="lms-certs-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def test_consistent_cutover_under_load_with_tls_everywhere(self):
        import cutover_setup as cs
        source = cs.logical_server(tls_dir=self.certs)
        self.addCleanup(source.destroy)
        target = cs.logical_server(tls_dir=self.certs)
        self.addCleanup(target.destroy)
        cs.prepare_pgbench(source, target)
        cs.replicate(source, target, "lms_tls")
        proxies = cs.proxies_for(source, target, n=2, tls_dir=self.certs)
        for p in proxies:
            self.addCleanup(self._stop_and_check, p)
        orch = Orchestrator(proxies, tls_dir=self.certs)
        self.addCleanup(orch.stop)
        os.environ["PGSSLMODE"] = "require"
        self.addCleanup(os.environ.pop, "PGSSLMODE", None)
        load = cs.Load(proxies, seconds=8, clients=4)
        time.sleep(2)
        for step in ("begin", "commit"):
            r = orch.cli("cutover", "consistent", step)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        processed, failed, _ = load.wait()
        self.assertEqual(failed, 0)
        self.assertGreater(processed, 0)
        self.assertEqual(cs.count(target), processed)


def scram_verifier(password, iterations=4096):
    """PostgreSQL's stored form of a SCRAM-SHA-256 secret (RFC 5802 / 7677)."""
    import base64
    import hashlib
    import hmac
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


ROLES = {"writer": "writer pw", "reporter": "reporter-pw"}
AUTH_QUERY = "SELECT name, verifier FROM lms_auth.logins()"


class AuthFile(TargetTestCase):
    """Several client users, each with a SCRAM verifier in an auth file; none with a password in
    LMS. Each reaches the databases as itself: the keys its SCRAM login yields log in to any
    database that holds the same verifier."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The application's roles, made on the source with passwords and copied to the target with
        # the same verifiers (as pg_dumpall --roles-only carries them), and a table each sees only
        # its own rows of.
        for name, password in ROLES.items():
            cls.pg.admin(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        cls.verifiers = {name: cls.pg.admin(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{name}'")
                         for name in ROLES}
        for name, verifier in cls.verifiers.items():
            cls.target.admin(f"CREATE ROLE {name} LOGIN PASSWORD '{verifier}'")
        for server in (cls.pg, cls.target):
            server.admin("CREATE TABLE notes (id serial PRIMARY KEY, owner name NOT NULL DEFAULT current_user, "
                         "body text); INSERT INTO notes (owner, body) VALUES ('writer', 'w1'), ('reporter', 'r1'), "
                         "('reporter', 'r2'); ALTER TABLE notes ENABLE ROW LEVEL SECURITY; "
                         "CREATE POLICY own ON notes USING (owner = current_user); "
                         "GRANT SELECT, INSERT ON notes TO writer; GRANT USAGE ON SEQUENCE notes_id_seq TO writer; "
                         "GRANT SELECT ON notes TO reporter; GRANT reporter TO writer", db=DATABASE)

    def write(self, text):
        fd, path = tempfile.mkstemp(prefix="lms-users-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def url(self, proxy, user, password):
        return f"postgresql://{user}:{password}@127.0.0.1:{proxy.port}/{DATABASE}"

    @staticmethod
    def logins_function(server):
        """The README's way for an account that is not a superuser: a SECURITY DEFINER function."""
        server.admin("CREATE SCHEMA IF NOT EXISTS lms_auth; "
                     "CREATE OR REPLACE FUNCTION lms_auth.logins(OUT name text, OUT verifier text) "
                     "RETURNS SETOF record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS "
                     "$$ SELECT rolname::text, rolpassword FROM pg_authid WHERE rolcanlogin AND "
                     "rolpassword IS NOT NULL AND NOT rolsuper $$; "
                     "REVOKE ALL ON FUNCTION lms_auth.logins() FROM PUBLIC; "
                     f"GRANT USAGE ON SCHEMA lms_auth TO {USER}; "
                     f"GRANT EXECUTE ON FUNCTION lms_auth.logins() TO {USER}", db=DATABASE)

    def session(self, url, *statements):
        """A psql session that ran `statements` and stays open for more."""
        proc = subprocess.Popen(["psql", url, "-X", "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        proc.stdin.write("".join(s + "\n" for s in statements))
        proc.stdin.flush()
        return proc

    def cut_over(self, orch):
        for step in ("begin", "commit"):
            r = subprocess.run([CLI_BIN, "--orchestrator-url", orch.url, "cutover", "consistent", step],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def roles_file(self):
        return self.write("".join(f'"{name}" "{verifier}"\n' for name, verifier in self.verifiers.items()))

    def test_listed_users_log_in_with_their_own_passwords(self):
        users = self.write('; operators\n"alice" "%s"\n\n"bob" "%s"\n' % (scram_verifier("alice-pw"),
                                                                          scram_verifier("bob pw", 10000)))
        proxy = self.start_lms(extra=["--auth-file", users])
        for user, password in (("alice", "bob pw"), ("carol", "x"), (USER, PASSWORD)):
            r = psql(self.url(proxy, user, password), "-Atc", "SELECT 1")
            self.assertIn(f'password authentication failed for user "{user}"', r.stderr)
        # A listed user the database does not know: the database's own answer, as direct.
        r = psql(self.url(proxy, "alice", "alice-pw"), "-Atc", "SELECT 1")
        self.assertIn('password authentication failed for user "alice"', r.stderr)
        self.assertIn("2 users may log in", proxy.log())

    def test_each_user_is_itself_on_the_database_with_its_grants_and_row_security(self):
        proxy = self.start_lms(extra=["--auth-file", self.roles_file(), "--server-pool-size", "4"], workers=1)
        for name, password in ROLES.items():
            through = psql(self.url(proxy, name, password), "-Atc", "SELECT current_user, count(*) FROM notes")
            direct = psql(self.pg.url(name, password), "-Atc", "SELECT current_user, count(*) FROM notes")
            self.assertEqual(through.stdout, direct.stdout, through.stderr)
        self.assertEqual(psql(self.url(proxy, "reporter", ROLES["reporter"]), "-Atc",
                              "SELECT current_user, count(*) FROM notes").stdout.strip(), "reporter|2")
        # The read-only role is refused a write exactly as the database refuses it directly.
        insert = "INSERT INTO notes (body) VALUES ('sneaky')"
        through = psql(self.url(proxy, "reporter", ROLES["reporter"]), "-Atc", insert)
        direct = psql(self.pg.url("reporter", ROLES["reporter"]), "-Atc", insert)
        self.assertIn("permission denied for table notes", through.stderr)
        self.assertEqual(through.stderr, direct.stderr)
        r = psql(self.url(proxy, "writer", ROLES["writer"]), "-qAtc", insert + " RETURNING owner")
        self.assertEqual(r.stdout.strip(), "writer", r.stderr)
        # Kept connections are each role's own: another role never gets one.
        pid = "SELECT pg_backend_pid()"
        reporter_pid = psql(self.url(proxy, "reporter", ROLES["reporter"]), "-Atc", pid).stdout.strip()
        writer_pid = psql(self.url(proxy, "writer", ROLES["writer"]), "-Atc", pid).stdout.strip()
        self.assertNotEqual(writer_pid, reporter_pid)
        self.assertEqual(psql(self.url(proxy, "reporter", ROLES["reporter"]), "-Atc", pid).stdout.strip(),
                         reporter_pid, "the reporter's kept connection served the reporter again")
        self.assertEqual(self.pg.admin(f"SELECT usename FROM pg_stat_activity WHERE pid = {reporter_pid}"), "reporter")
        # Nothing of a login's keys reaches the log.
        self.assertNotIn("scram_", proxy.log())

    def test_shadowed_sessions_are_the_user_on_the_target_too(self):
        proxy = self.start_lms(extra=["--auth-file", self.roles_file(), "--target", self.target.url(),
                                      "--target-dialect", "postgres", "--shadow-mode", "sync"], workers=1)
        session = subprocess.Popen(["psql", self.url(proxy, "reporter", ROLES["reporter"]), "-X", "-qAt"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: session.poll() is None and session.kill())
        session.stdin.write("SELECT current_user, count(*) FROM notes;\n")
        session.stdin.flush()
        # The target ran the same statement in a session of the reporter's own.
        self.wait_for(lambda: self.target.admin("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reporter' "
                                                "AND query LIKE 'SELECT current_user, count(*) FROM notes%'") == "1",
                      "the reporter's shadow session on the target")
        out, err = session.communicate("", timeout=30)
        self.assertEqual((out.strip(), err), ("reporter|2", ""))
        report = json.loads(proxy.http_get("/v1/shadow/report")[1])
        self.assertEqual([(s["statement"], s["target_errors"], s["mismatches"]) for s in report["statements"]],
                         [("SELECT current_user, count(*) FROM notes;", 0, 0)])

    def test_after_a_cutover_each_user_is_itself_on_the_target(self):
        proxy = self.start_lms(extra=["--auth-file", self.roles_file(), "--target", self.target.url()], workers=1)
        orch = Orchestrator([proxy], extra=["--skip-replication-check"])
        self.addCleanup(orch.stop)
        held = self.session(self.url(proxy, "reporter", ROLES["reporter"]), "SELECT current_user, inet_server_port();")
        # A session that took on another role with SET ROLE keeps it across the switch.
        acting = self.session(self.url(proxy, "writer", ROLES["writer"]), "SET ROLE reporter;",
                              "SELECT current_user, session_user;")
        self.cut_over(orch)
        # The session open across the switch moved as its own user.
        out, err = held.communicate("SELECT current_user, inet_server_port(), count(*) FROM notes;\n", timeout=30)
        self.assertEqual(err, "")
        self.assertEqual(out.split(), [f"reporter|{self.pg.port}", f"reporter|{self.target.port}|2"])
        out, err = acting.communicate("SELECT current_user, session_user, inet_server_port();\n", timeout=30)
        self.assertEqual(err, "")
        self.assertEqual(out.split(), ["reporter|writer", f"reporter|writer|{self.target.port}"])
        for name, password in ROLES.items():
            r = psql(self.url(proxy, name, password), "-Atc", "SELECT current_user, inet_server_port()")
            self.assertEqual(r.stdout.strip(), f"{name}|{self.target.port}", r.stderr)
        r = psql(self.url(proxy, "reporter", ROLES["reporter"]), "-Atc", "INSERT INTO notes (body) VALUES ('x')")
        self.assertIn("permission denied for table notes", r.stderr)

    def test_auth_query_reads_who_may_log_in_from_the_source_as_it_changes(self):
        self.logins_function(self.pg)
        proxy = self.start_lms(extra=["--auth-query", AUTH_QUERY, "--auth-refresh", "200"])
        for name, password in [*ROLES.items(), (USER, PASSWORD)]:
            r = psql(self.url(proxy, name, password), "-Atc", "SELECT current_user")
            self.assertEqual(r.stdout.strip(), name, r.stderr)
        # A role made after the start can log in once the users are read again; a changed password
        # stops working.
        self.pg.admin("CREATE ROLE latecomer LOGIN PASSWORD 'first'")
        self.addCleanup(self.pg.admin, "DROP ROLE IF EXISTS latecomer")
        self.wait_for(lambda: psql(self.url(proxy, "latecomer", "first"), "-Atc", "SELECT current_user").stdout.strip()
                      == "latecomer", "the new role to log in through LMS", timeout=5)
        self.pg.admin("ALTER ROLE latecomer PASSWORD 'second'")
        self.wait_for(lambda: psql(self.url(proxy, "latecomer", "second"), "-Atc", "SELECT 1").stdout.strip() == "1",
                      "the new password to work", timeout=5)
        r = psql(self.url(proxy, "latecomer", "first"), "-Atc", "SELECT 1")
        self.assertIn('password authentication failed for user "latecomer"', r.stderr)
        log = proxy.log()
        self.assertIn("3 users may log in, each as itself (read from the source", log)
        self.assertNotIn("SCRAM-SHA-256$", log)

    def test_preflight_names_each_user_the_target_does_not_hold_alike(self):
        for server in (self.pg, self.target):
            self.logins_function(server)
        # The application's own account was made on each server apart: same password, another salt.
        # Carried over as a role migration would, it is the same there too.
        verifier = self.pg.admin(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{USER}'")
        self.target.admin(f"ALTER ROLE {USER} PASSWORD '{verifier}'")
        proxy = self.start_lms(extra=["--auth-query", AUTH_QUERY, "--auth-refresh", "200", "--target",
                                      self.target.url(), "--target-dialect", "postgres"])
        orch = Orchestrator([proxy], extra=["--skip-replication-check"])
        self.addCleanup(orch.stop)

        def users_check():
            r = subprocess.run([CLI_BIN, "--orchestrator-url", orch.url, "cutover", "consistent", "preflight", "-o",
                                "json"], capture_output=True, text=True, timeout=60)
            return next(c for c in json.loads(r.stdout)["checks"]
                        if c["name"] == "every user can log in to the other database")
        check = users_check()
        self.assertEqual(check["result"], "pass", check)
        self.assertRegex(check["detail"], r"^all \d+ users who may log in are there with the same verifier$")
        # A role made on the source only, then on the target with another password.
        self.pg.admin("CREATE ROLE newbie LOGIN PASSWORD 'on-source'")
        self.addCleanup(self.pg.admin, "DROP ROLE IF EXISTS newbie")
        self.wait_for(lambda: "newbie: no such user there" in users_check()["detail"], "newbie named", timeout=5)
        check = users_check()
        self.assertEqual(check["result"], "fail", check)
        self.assertRegex(check["detail"], r"^1 of \d+ users could not log in there, and their sessions would fail "
                                          r"at the switch: newbie: no such user there\. Create them there")
        self.target.admin("CREATE ROLE newbie LOGIN PASSWORD 'elsewhere'")
        self.addCleanup(self.target.admin, "DROP ROLE IF EXISTS newbie")
        self.assertIn("newbie: another password there (its verifier differs)", users_check()["detail"])

    def test_a_user_made_anew_on_the_target_logs_in_there_with_its_password_from_the_secret(self):
        # Made on each database apart (as on a new CockroachDB cluster): the verifiers differ.
        self.pg.admin("CREATE ROLE mover LOGIN PASSWORD 'source-pw'")
        self.addCleanup(self.pg.admin, "DROP ROLE IF EXISTS mover")
        self.target.admin("CREATE ROLE mover LOGIN PASSWORD 'target-pw'")
        self.addCleanup(self.target.admin, "DROP ROLE IF EXISTS mover")
        verifier = self.pg.admin("SELECT rolpassword FROM pg_authid WHERE rolname = 'mover'")
        users = self.write(f'"mover" "{verifier}"\n')
        secret = self.write(json.dumps({"INIT_TARGET": self.target.url(), "TARGET_USERS": {"mover": "target-pw"}}))
        proxy = self.start_lms(extra=["--auth-file", users], env={"LMS_READ_CONFIG_FILE": secret})
        orch = Orchestrator([proxy], extra=["--skip-replication-check"])
        self.addCleanup(orch.stop)
        held = self.session(self.url(proxy, "mover", "source-pw"), "SELECT current_user, inet_server_port();")
        self.cut_over(orch)
        out, err = held.communicate("SELECT current_user, inet_server_port();\n", timeout=30)
        self.assertEqual(err, "")
        self.assertEqual(out.split(), [f"mover|{self.pg.port}", f"mover|{self.target.port}"])
        r = psql(self.url(proxy, "mover", "source-pw"), "-Atc", "SELECT current_user, inet_server_port()")
        self.assertEqual(r.stdout.strip(), f"mover|{self.target.port}", r.stderr)
        self.assertNotIn("target-pw", proxy.log())

    def test_by_default_the_sources_own_users_log_in_when_the_account_may_read_them(self):
        self.pg.admin("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'boss-pw'")
        self.addCleanup(self.pg.admin, "DROP ROLE IF EXISTS boss")
        proxy = self.start_lms(source_url=self.pg.url(user="boss", password="boss-pw"))
        self.assertIn("users may log in, each as itself (read from the source", proxy.log())
        for name, password in [*ROLES.items(), ("boss", "boss-pw")]:
            r = psql(self.url(proxy, name, password), "-Atc", "SELECT current_user")
            self.assertEqual(r.stdout.strip(), name, r.stderr)
        # An account that may not read them: it alone, and the log says why and what to do.
        plain = self.start_lms()
        self.assertIn(f"clients log in as the source connection string's user {USER} (every session is that "
                      "account): the source's users cannot be read: permission denied for table pg_authid. To let "
                      "each user log in as itself, see --auth-query", plain.log())
        r = psql(self.url(plain, "writer", ROLES["writer"]), "-Atc", "SELECT 1")
        self.assertIn('password authentication failed for user "writer"', r.stderr)
        self.assertEqual(psql(plain.url(), "-Atc", "SELECT current_user").stdout.strip(), USER)

    def test_an_auth_query_the_account_cannot_run_stops_the_start_with_the_reason(self):
        from test_startup import run_lms
        r = run_lms("--source-dialect", "postgres", "--source", self.pg.url(), "--auth-query", "default")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("auth-query: cannot read the users from the source", r.stderr)
        self.assertIn("permission denied for table pg_authid", r.stderr)

    def test_passwords_in_the_file_are_refused_at_start(self):
        from test_startup import run_lms
        for secret in ("hunter2", "md5" + "0" * 32):
            users = self.write(f'"alice" "{secret}"\n')
            r = run_lms("--source-dialect", "postgres", "--source", self.pg.url(), "--auth-file", users)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("line 1: user alice has no SCRAM-SHA-256 verifier", r.stderr)
            self.assertNotIn(secret, r.stderr)
        r = run_lms("--source-dialect", "postgres", "--source", self.pg.url(), "--auth-file", "/nonexistent")
        self.assertIn("cannot read the auth file /nonexistent", r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
