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
        for label, mode, validate in MODES:
            proxy = lmstest.Lms(source.url(), extra=["--target", target.url(), "--shadow-mode", mode,
                                                     "--shadow-validate", validate])
            proxies.append(proxy)
            targets.append((label, proxy.port))
        args = ["-S", "-M", "prepared", "-c", "16", "-j", "2"]
        runs = {name: [] for name, _ in targets}
        for _ in range(REPEAT):
            for name, port in targets:
                runs[name].append(pgbench(port, args)[0])
        print(f"pgbench -S -M prepared -c 16, {SECONDS}s per run, {REPEAT} interleaved runs, medians; "
              f"source and target are two PostgreSQL servers on this {os.cpu_count()}-core machine")
        direct = statistics.median(runs["direct"])
        print(f"{'mode':12} {'tps':>9} {'/direct':>8} {'/none':>7}")
        none = statistics.median(runs["none"])
        for name, _ in targets:
            tps = statistics.median(runs[name])
            print(f"{name:12} {tps:9.0f} {tps / direct:8.2f} {tps / none:7.2f}")
        print("noval: --shadow-validate off (answers not compared)")
    finally:
        for proxy in proxies:
            proxy.stop()
        source.destroy()
        target.destroy()


if __name__ == "__main__":
    main()
