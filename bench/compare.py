#!/usr/bin/env python3
"""Side by side in one run: pgbench direct, through PgBouncer and through lms; sysbench direct and
through lms. See compare.sh."""
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from pgbench_overhead import PgBouncer  # noqa: E402

SECONDS = int(os.environ.get("LMS_BENCH_SECONDS", "10"))
REPEAT = int(os.environ.get("LMS_BENCH_REPEAT", "3"))  # interleaved runs per case; medians
ONLY = os.environ.get("LMS_BENCH_ONLY", "")  # runs only the cases whose name contains this text
IDLE_CLIENTS = int(os.environ.get("LMS_BENCH_IDLE_CLIENTS", "300"))
# Another build of lms (its build directory) to run beside this one, interleaved: a change's
# before and after, in the same run on the same machine.
BASELINE = os.environ.get("LMS_BENCH_BASELINE", "")

CASES = []
for clients in (1, 16, 64):
    jobs = ["-j", "1" if clients == 1 else "2"]
    CASES.append((f"-S simple   c{clients}", ["-S", "-M", "simple", "-c", str(clients), *jobs]))
    CASES.append((f"-S prepared c{clients}", ["-S", "-M", "prepared", "-c", str(clients), *jobs]))
    CASES.append((f"write       c{clients}", ["-M", "prepared", "-c", str(clients), *jobs]))


class Meter:
    """CPU time and peak memory of one process, from /proc: the sum of its threads' run time in
    nanoseconds (schedstat) and VmHWM."""

    def __init__(self, pid):
        self.pid = pid

    def cpu_seconds(self):
        total = 0
        for path in glob.glob(f"/proc/{self.pid}/task/*/schedstat"):
            try:
                with open(path) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that ended between the listing and the read
        return total / 1e9

    def status_kb(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0


def pgbench(port, args, log_dir, seconds=None):
    """(tps, transactions, mean ms, p99 ms) of one run (`seconds`, default SECONDS), latencies from
    the per-transaction log."""
    prefix = os.path.join(log_dir, "tx")
    for old in glob.glob(prefix + "*"):
        os.unlink(old)
    env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
    r = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", lmstest.USER, "-n", "-T", str(seconds or SECONDS),
                        "-l", f"--log-prefix={prefix}", *args, lmstest.DATABASE],
                       capture_output=True, text=True, env=env, cwd=log_dir)
    if r.returncode != 0:
        sys.exit(f"pgbench failed on port {port}:\n{r.stdout}{r.stderr}")
    found = re.search(r"tps = ([\d.]+)", r.stdout)
    if found is None:
        sys.exit(f"pgbench on port {port} reported no rate (a run shorter than its clients' connection time? "
                 f"raise LMS_BENCH_SECONDS):\n{r.stdout}{r.stderr}")
    tps = float(found.group(1))
    latencies = []
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            latencies.extend(int(line.split()[2]) for line in f)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1000
    return tps, len(latencies), statistics.fmean(latencies) / 1000, p99


def idle_memory_kb_per_client(port, meter):
    """How much a proxy's resident memory grows per connected, idle, logged-in client."""
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write("\\sleep 4 s\n")
    script.close()
    env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
    before = meter.status_kb("VmRSS")
    proc = subprocess.Popen(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", lmstest.USER, "-n", "-t", "1",
                             "-c", str(IDLE_CLIENTS), "-j", "2", "-f", script.name, lmstest.DATABASE],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(3)  # every client has logged in and sleeps
    during = meter.status_kb("VmRSS")
    proc.wait()
    os.unlink(script.name)
    return (during - before) / IDLE_CLIENTS


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def main():
    pg = lmstest.PostgresServer()
    second = lmstest.PostgresServer()
    bouncer = none = shadowed = before = None
    log_dir = tempfile.mkdtemp(prefix="lms-compare-")
    try:
        env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
        for server in (pg, second):
            subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(server.port), "-U", lmstest.USER, "-i", "-s", "10",
                            "-q", lmstest.DATABASE], check=True, capture_output=True, env=env)
        bouncer = PgBouncer(pg, max_clients=IDLE_CLIENTS + 100, pool_size=IDLE_CLIENTS + 50)
        # PgBouncer's session mode keeps server connections after their clients leave, so its
        # clients meet warm backends; lms does the same with server-pool-size (as many per worker).
        pool = ["--server-pool-size", str(IDLE_CLIENTS + 50)]
        none = lmstest.Lms(pg.url(), extra=pool, own_session=True)
        shadowed = lmstest.Lms(pg.url(), extra=["--target", second.url(), "--shadow-mode", "async", *pool],
                               own_session=True)
        targets = [("direct", pg.port, None), ("pgbouncer", bouncer.port, Meter(bouncer.pid())),
                   ("lms none", none.port, Meter(none.proc.pid)), ("lms async", shadowed.port, Meter(shadowed.proc.pid))]
        if BASELINE:
            before = lmstest.Lms(pg.url(), extra=pool, own_session=True, build_dir=BASELINE)
            targets.insert(2, ("lms before", before.port, Meter(before.proc.pid)))
            print(f"lms before: the build in {BASELINE} (shadow none); its ratio to lms none ends each case")
        print(f"pgbench {SECONDS}s per run, {REPEAT} interleaved runs per case, medians, on loopback; {os.cpu_count()} cores shared by pgbench, the proxy and "
              f"PostgreSQL 15 (scale 10); PgBouncer in session mode; lms keeps database connections for the "
              f"next client as PgBouncer does (server-pool-size); lms async shadows to a second server.")
        print("tps: transactions per second; mean and p99: latency in ms from pgbench's per-transaction log; "
              "cpu: the proxy's CPU ms per 1,000 transactions")
        header = (f"{'case':18} {'via':10} {'tps':>8} {'mean':>7} {'p99':>7} {'cpu':>6}   "
                  f"{'tps/direct':>10} {'tps/bouncer':>11} {'p99/direct':>10} {'p99/bouncer':>11}")
        print(header)
        for name, args in [c for c in CASES if ONLY in c[0]]:
            # Interleaved rounds, so that a slow minute of this shared machine falls on every
            # target alike; each figure is the median of its rounds.
            runs = {via: [] for via, _, _ in targets}
            for _ in range(REPEAT):
                for via, port, meter in targets:
                    cpu_before = meter.cpu_seconds() if meter else 0
                    tps, count, mean, p99 = pgbench(port, args, log_dir)
                    cpu = (meter.cpu_seconds() - cpu_before) * 1e6 / count if meter and count else None
                    runs[via].append((tps, mean, p99, cpu))
            results = {via: tuple(None if r[0][i] is None else statistics.median(x[i] for x in r) for i in range(4))
                       for via, r in runs.items()}
            base, bouncer_result = results["direct"], results["pgbouncer"]
            for via, (tps, mean, p99, cpu) in results.items():
                cpu_text = f"{cpu:6.0f}" if cpu is not None else f"{'-':>6}"
                line = f"{name if via == 'direct' else '':18} {via:10} {tps:8.0f} {mean:7.3f} {p99:7.3f} {cpu_text}"
                if via != "direct":
                    line += (f"   {ratio(tps, base[0]):>10} {ratio(tps, bouncer_result[0]) if via != 'pgbouncer' else '':>11}"
                             f" {ratio(p99, base[2]):>10} {ratio(p99, bouncer_result[2]) if via != 'pgbouncer' else '':>11}")
                print(line, flush=True)
            if BASELINE:
                print(f"{'':18} {'none/before':10} tps {results['lms none'][0] / results['lms before'][0]:.3f}"
                      f"  p99 {results['lms none'][2] / results['lms before'][2]:.3f}", flush=True)
        print(f"\nmemory: {'via':10} {'peak RSS MB':>12} {'KB per idle client':>19}  ({IDLE_CLIENTS} logged-in clients)")
        for via, port, meter in targets[1:]:
            per_client = idle_memory_kb_per_client(port, meter)
            print(f"        {via:10} {meter.status_kb('VmHWM') / 1024:12.1f} {per_client:19.1f}", flush=True)
    finally:
        for proxy in (none, shadowed, before):
            if proxy is not None:
                proxy.stop()
        if bouncer is not None:
            bouncer.stop()
        pg.destroy()
        second.destroy()
    txn = os.path.join(os.path.dirname(__file__), "txn_pool.py")
    if not ONLY or "txn" in ONLY:
        print()
        subprocess.run([sys.executable, txn], check=True)
    mysql = os.path.join(os.path.dirname(__file__), "mysql.py")
    if not ONLY or "mysql" in ONLY:
        print()
        subprocess.run([sys.executable, mysql], check=True)


if __name__ == "__main__":
    main()
