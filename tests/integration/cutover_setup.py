"""Shared setup of the cutover tests: PostgreSQL servers with logical replication between them
(the target stands in for CockroachDB, with PostgreSQL's own replication as the replication tool),
proxies that know both, and a pgbench load spread over the proxies."""
import os
import re
import signal
import subprocess
import time

from lmstest import DATABASE, PASSWORD, USER, Lms, PostgresServer

LOGICAL = {"wal_level": "logical", "max_replication_slots": "10", "max_wal_senders": "10",
           "max_logical_replication_workers": "6", "max_sync_workers_per_subscription": "2"}
MARKER_TABLE = ("CREATE TABLE IF NOT EXISTS lms_cutover_marker "
                "(token TEXT PRIMARY KEY, written_at TIMESTAMPTZ NOT NULL DEFAULT now())")
PGBENCH_TABLES = "pgbench_history, pgbench_accounts, pgbench_branches, pgbench_tellers"


def logical_server(tls_dir=None):
    return PostgresServer(settings=LOGICAL, tls_dir=tls_dir)


def socket_conninfo(server):
    """How one server's subscription reaches the other: its Unix socket, as the superuser."""
    return f"host={server.dir} port={server.port} dbname={DATABASE} user=postgres"


def prepare_pgbench(source, target):
    """pgbench's tables with data on the source, empty on the target, the marker table on both."""
    subprocess.run(["pgbench", "-i", "-q", "-s", "1", source.url()], check=True, capture_output=True)
    subprocess.run(["pgbench", "-i", "-q", "-I", "dtp", "-s", "1", target.url()], check=True,
                   capture_output=True)
    for s in (source, target):
        s.admin(MARKER_TABLE, db=DATABASE)
        s.admin(f"ALTER TABLE lms_cutover_marker OWNER TO {USER}", db=DATABASE)


def replicate(publisher, subscriber, name, copy_data=True):
    publisher.admin(f"CREATE PUBLICATION {name} FOR ALL TABLES", db=DATABASE)
    subscriber.admin(f"CREATE SUBSCRIPTION {name} CONNECTION '{socket_conninfo(publisher)}' "
                     f"PUBLICATION {name} WITH (copy_data = {str(copy_data).lower()})", db=DATABASE)
    deadline = time.time() + 60
    while time.time() < deadline:
        pending = subscriber.admin("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'",
                                   db=DATABASE)
        if pending == "0":
            return
        time.sleep(0.1)
    raise TimeoutError(f"subscription {name} did not finish its initial copy")


def stop_replication(publisher, subscriber, name):
    subscriber.admin(f"DROP SUBSCRIPTION {name}", db=DATABASE)
    publisher.admin(f"DROP PUBLICATION {name}", db=DATABASE)


def count(server, table="pgbench_history"):
    return int(server.admin(f"SELECT count(*) FROM {table}", db=DATABASE))


def proxies_for(source, target, n=3, extra=(), target_dialect="postgres", tls_dir=None):
    """`n` proxies from source to target. tls_dir: TLS everywhere with that directory's
    certificates: verify-full to both databases, TLS required of clients, HTTPS with client
    certificates on the control port."""
    suffix = ""
    if tls_dir:
        ca = os.path.join(tls_dir, "ca.crt")
        suffix = f"?sslmode=verify-full&sslrootcert={ca}"
        extra = ["--ssl-cert", os.path.join(tls_dir, "server.crt"), "--ssl-key", os.path.join(tls_dir, "server.key"),
                 "--client-tls", "require", "--control-tls-cert", os.path.join(tls_dir, "server.crt"),
                 "--control-tls-key", os.path.join(tls_dir, "server.key"), "--control-tls-ca", ca, *extra]
    return [Lms(source.url() + suffix,
                extra=["--target", target.url() + suffix, "--target-dialect", target_dialect, *extra], workers=1)
            for _ in range(n)]


class Load:
    """pgbench -M prepared through every proxy at once: `clients` spread over them."""

    def __init__(self, proxies, seconds, clients=8):
        self.procs = []
        per = [clients // len(proxies) + (1 if i < clients % len(proxies) else 0) for i in range(len(proxies))]
        for proxy, c in zip(proxies, per):
            self.procs.append(subprocess.Popen(
                ["pgbench", "-n", "-M", "prepared", "-c", str(c), "-j", "1", "-T", str(seconds), proxy.url()],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    def running(self):
        return all(p.poll() is None for p in self.procs)

    def stop(self):
        """Ends a load started with a long `seconds` as its -T would: SIGALRM (what ends pgbench's -T)
        stops its clients and it prints its full report. Then as wait()."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGALRM)
        return self.wait()

    def wait(self):
        """Returns (processed, failed, outputs); a pgbench that exits non-zero counts as failures."""
        processed = failed = 0
        outputs = []
        for p in self.procs:
            out, err = p.communicate(timeout=300)
            outputs.append(out + err)
            m = re.search(r"number of transactions actually processed: (\d+)", out)
            processed += int(m.group(1)) if m else 0
            f = re.search(r"number of failed transactions: (\d+)", out)
            failed += int(f.group(1)) if f else 0
            if p.returncode != 0:
                failed += 1
        return processed, failed, outputs
