#!/usr/bin/env python3
"""pgbench direct vs PgBouncer vs lms; see pgbench_overhead.sh."""
import os
import pwd
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402

SECONDS = int(os.environ.get("LMS_BENCH_SECONDS", "10"))
REPEAT = int(os.environ.get("LMS_BENCH_REPEAT", "3"))
WORKERS = int(os.environ.get("LMS_BENCH_WORKERS", "0"))
# Runs only the cases whose name contains this text (e.g. "c16").
ONLY = os.environ.get("LMS_BENCH_ONLY", "")

CASES = [
    ("-S simple    c1", ["-S", "-M", "simple", "-c", "1", "-j", "1"]),
    ("-S simple    c16", ["-S", "-M", "simple", "-c", "16", "-j", "2"]),
    ("-S extended  c1", ["-S", "-M", "extended", "-c", "1", "-j", "1"]),
    ("-S extended  c16", ["-S", "-M", "extended", "-c", "16", "-j", "2"]),
    ("-S prepared  c1", ["-S", "-M", "prepared", "-c", "1", "-j", "1"]),
    ("-S prepared  c16", ["-S", "-M", "prepared", "-c", "16", "-j", "2"]),
    ("write        c8", ["-M", "prepared", "-c", "8", "-j", "2"]),
]


class PgBouncer:
    """Debian's pgbouncer (session mode unless told), run as the postgres user (it refuses root)."""

    def __init__(self, pg, max_clients=200, pool_size=40, pool_mode="session"):
        self.port = lmstest.free_port()
        self.dir = tempfile.mkdtemp(prefix="lms-bouncer-")
        ini = os.path.join(self.dir, "pgbouncer.ini")
        with open(ini, "w") as f:
            f.write(f"""[databases]
{lmstest.DATABASE} = host=127.0.0.1 port={pg.port} dbname={lmstest.DATABASE}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir}/userlist.txt
pool_mode = {pool_mode}
max_client_conn = {max_clients}
default_pool_size = {pool_size}
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write(f'"{lmstest.USER}" "{lmstest.PASSWORD}"\n')
        pw = pwd.getpwnam("postgres")
        for path in (self.dir, ini, os.path.join(self.dir, "userlist.txt")):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        subprocess.run(["pgbouncer", "-d", ini], check=True, preexec_fn=lmstest._as_postgres())
        lmstest.wait_for_port(self.port)

    def pid(self):
        with open(os.path.join(self.dir, "pgbouncer.pid")) as f:
            return int(f.read())

    def stop(self):
        try:
            os.kill(self.pid(), 15)
        except (OSError, ValueError):
            pass


def pgbench(port, args):
    env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
    r = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", lmstest.USER, "-n",
                        "-T", str(SECONDS), *args, lmstest.DATABASE],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"pgbench failed on port {port}:\n{r.stdout}{r.stderr}")
    tps = float(re.search(r"tps = ([\d.]+)", r.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", r.stdout).group(1))
    return tps, latency


def main():
    pg = lmstest.PostgresServer()
    bouncer = None
    proxy = None
    try:
        bouncer = PgBouncer(pg)
        proxy = lmstest.Lms(pg.url(), workers=WORKERS, own_session=True)
        env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
        subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(pg.port), "-U", lmstest.USER, "-i", "-s", "10",
                        "-q", lmstest.DATABASE], check=True, capture_output=True, env=env)
        targets = [("direct", pg.port), ("pgbouncer", bouncer.port), ("lms", proxy.port)]
        print(f"pgbench {SECONDS}s per run, {REPEAT} interleaved runs per case, medians; "
              f"lms workers: {WORKERS or os.cpu_count()}; {os.cpu_count()} cores shared by client, proxy and server")
        print(f"{'case':18} {'direct tps':>11} {'bouncer tps':>12} {'lms tps':>9} {'lms/direct':>11} "
              f"{'lms/bouncer':>12} {'bouncer/direct':>15}   mean latency ms (direct / bouncer / lms)")
        for name, args in [c for c in CASES if ONLY in c[0]]:
            runs = {t: [] for t, _ in targets}
            for _ in range(REPEAT):
                for target, port in targets:
                    runs[target].append(pgbench(port, args))
            tps = {t: statistics.median(r[0] for r in runs[t]) for t in runs}
            lat = {t: statistics.median(r[1] for r in runs[t]) for t in runs}
            print(f"{name:18} {tps['direct']:11.0f} {tps['pgbouncer']:12.0f} {tps['lms']:9.0f} "
                  f"{tps['lms'] / tps['direct']:11.2f} {tps['lms'] / tps['pgbouncer']:12.2f} "
                  f"{tps['pgbouncer'] / tps['direct']:15.2f}   "
                  f"{lat['direct']:.3f} / {lat['pgbouncer']:.3f} / {lat['lms']:.3f}", flush=True)
    finally:
        if proxy is not None:
            proxy.stop()
        if bouncer is not None:
            bouncer.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
