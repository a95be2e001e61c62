"""Test harness: real PostgreSQL 15 servers and real lms processes on free loopback ports.

PostgreSQL refuses to run as root, so servers run as the `postgres` user in a temporary directory
that user owns. Every process a test starts is stopped by its PID when the test ends.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

PG_BIN = "/usr/lib/postgresql/15/bin"
BUILD_DIR = os.environ.get("LMS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
LMS_BIN = os.path.join(BUILD_DIR, "core", "lms")
ORCHESTRATOR_BIN = os.path.join(BUILD_DIR, "orchestrator", "lms-orchestrator")
CLI_BIN = os.path.join(BUILD_DIR, "cli", "lms-cli")
PLUGIN_DIR = os.path.join(BUILD_DIR, "plugins")
# Set by scripts/test.sh for the ASan/UBSan build, whose shadow memory makes RSS figures meaningless.
SANITIZED = os.environ.get("LMS_SANITIZED") == "1"

USER = "app"
PASSWORD = "app-secret-pw"
DATABASE = "appdb"


def free_port():
    """A port nothing listens on now, from the kernel's ephemeral range (never a standard port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, host="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def _as_postgres():
    pw = pwd.getpwnam("postgres")

    def demote():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return demote if os.getuid() == 0 else None


def terminate(proc, log_file):
    """Stops a process of ours with SIGTERM (SIGKILL after 30 s), closes its log, returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log_file.close()
    return proc.returncode


class PostgresServer:
    """A throwaway PostgreSQL 15 cluster with one user and one database for the tests."""

    def __init__(self, auth="scram-sha-256", settings=None, tls_dir=None, link=None):
        """tls_dir: a packaging/make-certs.sh directory; the server then has ssl=on with its
        server.crt and server.key (copied to files its own user owns, as PostgreSQL demands).
        link: a NetnsLink; the server then runs in that network namespace, reached over TCP at the
        link's inner address only (its Unix socket, a file, still serves admin())."""
        self.link = link
        self.host = link.inner if link else "127.0.0.1"
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lms-pg-")
        self.data = os.path.join(self.dir, "data")
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        demote = _as_postgres()
        subprocess.run([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                        f"--auth-host={auth}", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, stdout=subprocess.DEVNULL, preexec_fn=demote)
        conf = {
            "port": str(self.port),
            "listen_addresses": f"'{self.host}'",
            "unix_socket_directories": f"'{self.dir}'",
            "password_encryption": "'md5'" if auth == "md5" else "'scram-sha-256'",
            "max_connections": "600",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
        }
        if tls_dir:
            certs = os.path.join(self.dir, "certs")
            os.makedirs(certs)
            for name in ("server.crt", "server.key"):
                shutil.copy(os.path.join(tls_dir, name), certs)
            if os.getuid() == 0:
                pw = pwd.getpwnam("postgres")
                for path in (certs, os.path.join(certs, "server.crt"), os.path.join(certs, "server.key")):
                    os.chown(path, pw.pw_uid, pw.pw_gid)
            conf.update({"ssl": "on", "ssl_cert_file": f"'{certs}/server.crt'",
                         "ssl_key_file": f"'{certs}/server.key'"})
        conf.update(settings or {})
        if link:  # initdb admits loopback only; lms comes from the link's outer end
            with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                f.write(f"host all all {link.outer}/32 {auth}\n")
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        self.log = os.path.join(self.dir, "server.log")
        self.start()
        self.admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        self.admin(f"CREATE DATABASE {DATABASE} OWNER {USER}")

    def start(self):
        pg_ctl = [f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"]
        if self.link:  # entering the namespace needs root: the switch to postgres comes after
            subprocess.run(["ip", "netns", "exec", self.link.netns, "setpriv", "--reuid=postgres", "--regid=postgres",
                            "--init-groups", *pg_ctl], check=True, stdout=subprocess.DEVNULL)
            return
        subprocess.run(pg_ctl, check=True, stdout=subprocess.DEVNULL, preexec_fn=_as_postgres())

    def pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def processes(self):
        """The postmaster and its children (each backend leads a process group of its own, so the
        postmaster's group is not the server's)."""
        postmaster = self.pid()
        pids = [postmaster]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                pids.append(int(stat.split("/")[2]))
        return pids

    def signal_all(self, sig):
        """Sends `sig` to every process of the server (SIGSTOP: a server that stops answering)."""
        for pid in self.processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def crash(self):
        """Kills every process of the server at once (SIGKILL), as a crash would. Where nothing reaps
        the orphaned postmaster (a container's PID 1 may not), its
        zombie would keep postmaster.pid and the socket's lock file looking live: they go once only
        zombies are left."""
        pid = self.pid()
        self.signal_all(signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(")")[-1].split()[0] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.02)
        for stale in [os.path.join(self.data, "postmaster.pid"), *glob.glob(os.path.join(self.dir, ".s.PGSQL.*"))]:
            os.unlink(stale)

    def stop(self, mode=signal.SIGINT):
        """Fast shutdown by default; SIGQUIT for an immediate one (a crash, as clients see it)."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, mode)
        except ProcessLookupError:
            return
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def admin(self, sql, db="postgres"):
        """Runs SQL as the superuser over the Unix socket (not through lms), as an operator's own
        session: writable where a cutover fenced the database."""
        env = dict(os.environ, PGOPTIONS="-c default_transaction_read_only=off")
        return subprocess.run([f"{PG_BIN}/psql", "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                               "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql],
                              check=True, capture_output=True, text=True, env=env).stdout.strip()

    def url(self, user=USER, password=PASSWORD, db=DATABASE):
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{db}"


class NetnsLink:
    """A network namespace joined to this one by a veth pair with link-local addresses (both ends
    on this machine), so that a server inside can be cut off and joined again like a partitioned
    network: cut() takes the outer end down (packets vanish, no reset), heal() brings it back."""

    def __init__(self):
        n = os.getpid() % 250 + 1
        self.netns = f"lms-test-{os.getpid()}"
        self.outer_if, inner_if = f"lms{os.getpid() % 100000}o", f"lms{os.getpid() % 100000}i"
        self.outer, self.inner = f"169.254.{n}.1", f"169.254.{n}.2"
        for cmd in (["ip", "netns", "add", self.netns],
                    ["ip", "link", "add", self.outer_if, "type", "veth", "peer", "name", inner_if],
                    ["ip", "link", "set", inner_if, "netns", self.netns],
                    ["ip", "addr", "add", f"{self.outer}/30", "dev", self.outer_if],
                    ["ip", "link", "set", self.outer_if, "up"],
                    ["ip", "-n", self.netns, "addr", "add", f"{self.inner}/30", "dev", inner_if],
                    ["ip", "-n", self.netns, "link", "set", inner_if, "up"],
                    ["ip", "-n", self.netns, "link", "set", "lo", "up"]):
            subprocess.run(cmd, check=True, capture_output=True)

    def cut(self):
        subprocess.run(["ip", "link", "set", self.outer_if, "down"], check=True)

    def heal(self):
        subprocess.run(["ip", "link", "set", self.outer_if, "up"], check=True)

    def destroy(self):
        subprocess.run(["ip", "link", "del", self.outer_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)


class MariaDbServer:
    """A throwaway MariaDB server (the MySQL source in tests) with the same user, password and
    database as the PostgreSQL servers. It runs as the `mysql` user in a temporary directory, on a
    free loopback port; root administers it over its Unix socket."""

    def __init__(self, settings=None, tls_dir=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lms-mariadb-")
        os.chmod(self.dir, 0o755)
        settings = dict(settings or {})
        if tls_dir:  # serve tls_dir/server.crt; the server reads its own copies, as the mysql user
            for name in ("ca.crt", "server.crt", "server.key"):
                shutil.copy(os.path.join(tls_dir, name), self.dir)
                shutil.chown(os.path.join(self.dir, name), "mysql", "mysql")
            settings.update({"ssl-ca": f"{self.dir}/ca.crt", "ssl-cert": f"{self.dir}/server.crt",
                             "ssl-key": f"{self.dir}/server.key"})
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        shutil.chown(self.dir, "mysql", "mysql")
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=mysql",
                        "--skip-test-db"], check=True, capture_output=True)
        self.args = ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}",
                     f"--port={self.port}", "--bind-address=127.0.0.1", "--user=mysql", "--skip-name-resolve",
                     f"--log-error={self.dir}/error.log", f"--pid-file={self.dir}/mysqld.pid",
                     "--max-allowed-packet=64M", "--innodb-buffer-pool-size=64M",
                     "--innodb-flush-log-at-trx-commit=2"]
        for key, value in settings.items():
            self.args.append(f"--{key}={value}")
        self.start()
        self.admin(f"CREATE DATABASE {DATABASE}; CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; "
                   f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'%'; "
                   f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'; "
                   f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'localhost'")

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=60)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def admin(self, sql, db=None):
        """Runs SQL as root over the Unix socket (not through lms); returns its output."""
        args = ["mariadb", "--no-defaults", "-uroot", f"--socket={self.socket}", "-N", "-B", "-e", sql]
        if db:
            args.append(db)
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def url(self, user=USER, password=PASSWORD, db=DATABASE):
        return f"mysql://{user}:{password}@127.0.0.1:{self.port}/{db}"


def mariadb(port, *args, user=USER, password=PASSWORD, db=DATABASE, input=None, timeout=120):
    """The mariadb client over TCP to 127.0.0.1:port, batch mode; returns the CompletedProcess."""
    argv = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), f"-u{user}", "-B",
            "--max-allowed-packet=64M"]
    if password is not None:
        argv.append(f"-p{password}")
    if db:
        argv.append(db)
    return subprocess.run(argv + list(args), input=input, capture_output=True, text=True, timeout=timeout)


class Lms:
    """One lms process. Its stderr goes to a file the test can read; stopping it checks that it
    exited cleanly (a crash or a sanitizer report fails the test)."""

    def __init__(self, source_url, extra=(), env=None, check_ready=True, workers=2, port=None, http_port=None,
                 host="127.0.0.1", own_session=False, build_dir=None):
        """own_session: lms runs in a session of its own, as a service does, so that the kernel's
        autogroup scheduling gives it its own share of the CPU rather than splitting the caller's
        (benchmarks; PostgreSQL and PgBouncer get theirs by daemonizing). Tests leave it off so that
        a test runner that kills its process group takes lms along. build_dir: another build's lms and
        plugins (a benchmark's baseline)."""
        self.host = host
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.dir = tempfile.mkdtemp(prefix="lms-proxy-")
        self.log_path = os.path.join(self.dir, "lms.log")
        binary = os.path.join(build_dir, "core", "lms") if build_dir else LMS_BIN
        plugins = os.path.join(build_dir, "plugins") if build_dir else PLUGIN_DIR
        args = [binary, "--source-dialect", "postgres", "--listen", f"{host}:{self.port}",
                "--http-listen", f"{host}:{self.http_port}", "--plugin-dir", plugins,
                "--workers", str(workers)]
        if source_url is not None:
            args += ["--source", source_url]
        if "--shutdown-grace" not in extra:
            # stop() sends SIGTERM, which waits for busy sessions: keep a test's leftovers short.
            args += ["--shutdown-grace", "3000"]
        args += list(extra)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT, env=full_env,
                                     start_new_session=own_session)
        if check_ready:
            # Tests call both ports.
            wait_for_port(self.port, host=host)
            wait_for_port(self.http_port, host=host)
            # Both ports listen before lms has probed the source and said what it serves; tests
            # read that line, so started means logged it too.
            deadline = time.time() + 15
            while time.time() < deadline and self.proc.poll() is None and " serving " not in self.log():
                time.sleep(0.02)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Stops with SIGTERM and returns the exit code."""
        return terminate(self.proc, self.log_file)

    def url(self, user=USER, password=PASSWORD, db=DATABASE):
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{db}"

    def http_get(self, path):
        import urllib.request
        import urllib.error
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.http_port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def http_post(self, path, body):
        """POSTs `body` as JSON; returns the status and the answer's text."""
        import json
        import urllib.request
        import urllib.error
        request = urllib.request.Request(f"http://{self.host}:{self.http_port}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class Orchestrator:
    """One lms-orchestrator process driving the given proxies (through their HTTP ports)."""

    def __init__(self, proxies, extra=(), state_dir=None, env=None, tls_dir=None, hosts_file=None):
        """tls_dir: a packaging/make-certs.sh directory; the API then serves HTTPS and requires
        client certificates, the proxies are reached over HTTPS, and cli() presents client.crt.
        hosts_file: the orchestrator runs in a mount namespace of its own where this file is
        /etc/hosts (names that resolve to several loopback addresses, as a headless service's do;
        the file can be rewritten while it runs)."""
        self.tls_dir = tls_dir
        self.hosts_file = hosts_file
        if tls_dir:
            env = dict(env or {}, ORCH_TLS_CERT=os.path.join(tls_dir, "server.crt"),
                       ORCH_TLS_KEY=os.path.join(tls_dir, "server.key"),
                       ORCH_CA_TLS_CERT=os.path.join(tls_dir, "ca.crt"))
        self.env = dict(os.environ, **(env or {}))
        self.port = free_port()
        self.metrics_port = free_port()
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="lms-orch-")
        self.log_path = os.path.join(self.state_dir, "orchestrator.log")
        scheme = "https://" if tls_dir else ""
        addresses = ",".join(f"{scheme}127.0.0.1:{p.http_port}" for p in proxies)
        self.args = [ORCHESTRATOR_BIN, "--listen", f"127.0.0.1:{self.port}",
                     "--metrics-listen", f"127.0.0.1:{self.metrics_port}", "--state-dir", self.state_dir]
        if addresses:
            self.args += ["--lms-addresses", addresses]
        self.args += list(extra)
        self.start()

    def start(self):
        self.log_file = open(self.log_path, "a")
        args = self.args
        if self.hosts_file:
            # exec keeps one PID, so stopping it stops the orchestrator.
            args = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mount --bind "$0" /etc/hosts && exec "$@"', self.hosts_file, *self.args]
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT, env=self.env)
        wait_for_port(self.port)

    @property
    def url(self):
        return f"{'https' if self.tls_dir else 'http'}://127.0.0.1:{self.port}"

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def metrics(self):
        """Its /metrics text."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            return r.read().decode()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log_file.close()

    def stop(self):
        return terminate(self.proc, self.log_file)

    def cli(self, *args, timeout=120):
        """Runs lms-cli against this orchestrator; returns the CompletedProcess."""
        env = dict(os.environ)
        if self.tls_dir:
            env.update(CLI_TLS_CA_CERT=os.path.join(self.tls_dir, "ca.crt"),
                       CLI_TLS_CLIENT_CERT=os.path.join(self.tls_dir, "client.crt"),
                       CLI_TLS_CLIENT_KEY=os.path.join(self.tls_dir, "client.key"))
        return subprocess.run([CLI_BIN, "--orchestrator-url", self.url, *args], capture_output=True, text=True,
                              timeout=timeout, env=env)


def psql(url, *args, input=None, check=False, timeout=120):
    """Runs psql against a URL; returns the CompletedProcess (stdout and stderr as text)."""
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    return subprocess.run(["psql", url, "-X", *args], input=input, capture_output=True, text=True,
                          check=check, timeout=timeout, env=env)


class Waiting:
    """For test cases: waiting on a condition with a deadline."""

    def wait_for(self, predicate, what, timeout=10):
        """Polls `predicate` every 50 ms; fails the test, naming `what`, if it never holds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}")


class LmsTestCase(Waiting, unittest.TestCase):
    """A test case with one PostgreSQL server shared by its tests, and helpers that stop what a
    test started."""

    pg_auth = "scram-sha-256"

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer(auth=cls.pg_auth)

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def start_lms(self, source_url=None, **kwargs):
        proxy = Lms(self.pg.url() if source_url is None else source_url, **kwargs)
        self.addCleanup(self._stop_and_check, proxy)
        return proxy

    def _stop_and_check(self, proxy):
        code = proxy.stop()
        log = proxy.log()
        shutil.rmtree(proxy.dir, ignore_errors=True)
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)  # UBSan
        self.assertEqual(code, 0, f"lms exited with {code}; its log:\n{log[-4000:]}")


class TargetTestCase(LmsTestCase):
    """A test case with a second PostgreSQL server, the target (standing in for CockroachDB)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.target = PostgresServer()

    @classmethod
    def tearDownClass(cls):
        cls.target.destroy()
        super().tearDownClass()

    def eventually(self, predicate, timeout=10):
        """Polls `predicate` until it holds or `timeout` seconds pass; returns its last value."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()
