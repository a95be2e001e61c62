#!/usr/bin/env python3
"""pgbench through lms in every shadow mode; see shadow_modes.sh."""
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from pgbench_overhead import REPEAT, SECONDS, pgbench  # noqa: E402

# (label, shadow mode, validation): each mode as shipped (validation on), and the modes that run
# the target once more without validation, to show what comparing the answers costs.
MODES = [("none", "none", "on"), ("async", "async", "on"), ("sync", "sync", "on"),
         ("strict-sync", "strict-sync", "on"), ("async/noval", "async", "off"), ("sync/noval", "sync", "off")]


def cpu_seconds(pid):
    """User plus system CPU time a process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    source = lmstest.PostgresServer()
    target = lmstest.PostgresServer()
    proxies = []
    try:
        env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
        for server in (source, target):
            subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(server.port), "-U", lmstest.USER, "-i", "-s",
                            "10", "-q", lmstest.DATABASE], check=True, capture_output=True, env=env)
        targets = [("direct", source.port)]
        pids = {}
        for label, mode, validate in MODES:
            proxy = lmstest.Lms(source.url(), extra=["--target", target.url(), "--shadow-mode", mode,
                                                     "--shadow-validate", validate])
            proxies.append(proxy)
            targets.append((label, proxy.port))
            pids[label] = proxy.proc.pid
        args = ["-S", "-M", "prepared", "-c", "16", "-j", "2"]
        runs = {name: [] for name, _ in targets}
        cpu_per_k = {name: [] for name, _ in targets}  # proxy CPU ms per 1,000 transactions
        for _ in range(REPEAT):
            for name, port in targets:
                before = cpu_seconds(pids[name]) if name in pids else 0
                tps = pgbench(port, args)[0]
                runs[name].append(tps)
                if name in pids:
                    cpu_per_k[name].append((cpu_seconds(pids[name]) - before) * 1000 / (tps * SECONDS / 1000))
        print(f"pgbench -S -M prepared -c 16, {SECONDS}s per run, {REPEAT} interleaved runs, medians; "
              f"source and target are two PostgreSQL servers on this {os.cpu_count()}-core machine")
        direct = statistics.median(runs["direct"])
        print(f"{'mode':12} {'tps':>9} {'/direct':>8} {'/none':>7} {'lms cpu ms/1k tx':>17}")
        none = statistics.median(runs["none"])
        for name, _ in targets:
            tps = statistics.median(runs[name])
            cpu = f"{statistics.median(cpu_per_k[name]):17.0f}" if cpu_per_k[name] else f"{'-':>17}"
            print(f"{name:12} {tps:9.0f} {tps / direct:8.2f} {tps / none:7.2f} {cpu}")
        print("noval: --shadow-validate off (answers not compared). Every mode but none runs each query on\n"
              "both servers, which share these cores with pgbench and lms: the ratios to none show the\n"
              "machine's limit; the proxy's own cost per transaction is the last column.")
    finally:
        for proxy in proxies:
            proxy.stop()
        source.destroy()
        target.destroy()


if __name__ == "__main__":
    main()
