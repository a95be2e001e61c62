#!/usr/bin/env python3
"""Cutover stall times under load; see cutover.sh."""
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import cutover_setup as cs  # noqa: E402
import lmstest  # noqa: E402

REPEAT = int(os.environ.get("LMS_BENCH_REPEAT", "3"))
# One short read-write transaction that also says which server ran it.
SCRIPT = """\\set aid random(1, 100000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT inet_server_port();
END;
"""


def load(proxies, seconds, logdir):
    script = os.path.join(logdir, "short.sql")
    with open(script, "w") as f:
        f.write(SCRIPT)
    procs = []
    for i, proxy in enumerate(proxies):
        # -l: one line per transaction (client, number, latency µs, script, epoch s, µs).
        procs.append(subprocess.Popen(["pgbench", "-n", "-M", "prepared", "-c", "3", "-j", "1", "-T", str(seconds),
                                       "-f", script, "-l", "--log-prefix", os.path.join(logdir, f"p{i}"),
                                       proxy.url()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      cwd=logdir))
    return procs


def transactions(logdir):
    """(end time in s, latency in ms) of every logged transaction."""
    out = []
    for path in glob.glob(os.path.join(logdir, "p*")):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6:
                    end = int(parts[4]) + int(parts[5]) / 1e6
                    out.append((end, int(parts[2]) / 1000.0))
    return out


def main():
    source = cs.logical_server()
    target = cs.logical_server()
    proxies, orch = [], None
    rows = []
    try:
        cs.prepare_pgbench(source, target)
        cs.replicate(source, target, "bench_forward")
        proxies = cs.proxies_for(source, target)
        orch = lmstest.Orchestrator(proxies)
        servers = [(source, target), (target, source)]
        for n in range(REPEAT):
            old, new = servers[n % 2]
            if n > 0:  # replication turns around with the source of truth
                cs.stop_replication(new, old, "bench_forward" if n == 1 else f"bench_{n - 1}")
                new.admin(f"TRUNCATE {cs.PGBENCH_TABLES}, lms_cutover_marker", db=lmstest.DATABASE)
                cs.replicate(old, new, f"bench_{n}")
            logdir = tempfile.mkdtemp(prefix="lms-bench-")
            procs = load(proxies, 6, logdir)
            time.sleep(2.5)
            # The preflight apart and untimed: what is measured is the pause, which it never causes.
            r = orch.cli("cutover", "consistent", "preflight")
            if r.returncode != 0:
                sys.exit(r.stdout + r.stderr)
            t_begin = time.time()
            r = orch.cli("cutover", "consistent", "begin", "--skip-preflight", "-o", "json")
            if r.returncode != 0:
                sys.exit(r.stdout + r.stderr)
            t_commit = time.time()
            r = orch.cli("cutover", "consistent", "commit", "-o", "json")
            if r.returncode != 0:
                sys.exit(r.stdout + r.stderr)
            attempt = json.loads(r.stdout)
            for p in procs:
                p.communicate(timeout=120)
            proxies_meta = [p["cutover"] for p in attempt["proxies"]]
            trigger = min(c["trigger_time_ns"] for c in proxies_meta) / 1e9
            paused = max(c["traffic_paused_time_ns"] for c in proxies_meta) / 1e9
            committed = max(c["commit_time_ns"] for c in proxies_meta) / 1e9
            txns = transactions(logdir)
            before = [lat for end, lat in txns if end < t_begin]
            after_commit = sorted(end for end, _ in txns if end > committed)
            rows.append({
                "pause_ms": (paused - trigger) * 1000,
                "commit_ms": (committed - t_commit) * 1000,
                "first_after_commit_ms": ((after_commit[0] - committed) * 1000) if after_commit else float("nan"),
                "stall_ms": max(lat for _, lat in txns),
                "max_before_ms": max(before) if before else float("nan"),
                "cli_begin_ms": (t_commit - t_begin) * 1000,
            })
        print(f"consistent cutover under pgbench (9 clients over 3 proxies, short read-write transactions, "
              f"-M prepared); {REPEAT} cutovers, there and back; {os.cpu_count()} cores")
        print(f"{'#':>2} {'begin→paused':>13} {'commit call':>12} {'commit→first':>13} {'longest txn':>12} "
              f"{'longest before':>15}")
        for i, row in enumerate(rows, 1):
            print(f"{i:>2} {row['pause_ms']:>10.1f} ms {row['commit_ms']:>9.1f} ms {row['first_after_commit_ms']:>10.1f} ms"
                  f" {row['stall_ms']:>9.1f} ms {row['max_before_ms']:>12.1f} ms")
        print("commit call includes the replication check (a marker row written on the source and awaited on "
              "the target); the longest transaction is the client-visible stall. Goal: under 100 ms each.")
        print(f"median longest transaction: {statistics.median(r['stall_ms'] for r in rows):.1f} ms")
    finally:
        if orch:
            orch.stop()
        for p in proxies:
            p.stop()
        target.destroy()
        source.destroy()


if __name__ == "__main__":
    main()
