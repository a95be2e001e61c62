#!/usr/bin/env python3
"""sysbench direct vs through lms on a MariaDB source, and through lms after a cutover to a
PostgreSQL target (MySQL clients translated); see mysql.sh."""
import json
import os
import urllib.request
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from pgbench_overhead import REPEAT, SECONDS  # noqa: E402

COMMON = ["--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-user={lmstest.USER}",
          f"--mysql-password={lmstest.PASSWORD}", f"--mysql-db={lmstest.DATABASE}", "--tables=4",
          "--table-size=10000", "--rand-type=uniform"]


def sysbench(workload, port, threads):
    r = subprocess.run(["sysbench", workload, *COMMON, f"--mysql-port={port}", f"--threads={threads}",
                        f"--time={SECONDS}", "run"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sysbench failed:\n{r.stdout}{r.stderr}")
    return float(re.search(r"transactions:\s+\d+\s+\(([\d.]+) per sec", r.stdout).group(1))


def cut_over(proxy):
    """One proxy's cutover to its target: begin, commit."""
    for step in ("begin", "commit"):
        request = urllib.request.Request(f"http://127.0.0.1:{proxy.http_port}/v1/cutover/{step}",
                                         data=json.dumps({"id": 1}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read().decode())
    if answer.get("status") != "CommitCompleted":
        sys.exit(f"cutover failed: {answer}")


def main():
    db = lmstest.MariaDbServer()
    pg = lmstest.PostgresServer()
    proxies = []
    try:
        subprocess.run(["sysbench", "oltp_read_write", *COMMON, f"--mysql-port={db.port}", "prepare"], check=True,
                       capture_output=True)
        # The same tables on the target, in its own words (sysbench's PostgreSQL schema).
        subprocess.run(["sysbench", "oltp_read_write", "--db-driver=pgsql", "--pgsql-host=127.0.0.1",
                        f"--pgsql-port={pg.port}", f"--pgsql-user={lmstest.USER}",
                        f"--pgsql-password={lmstest.PASSWORD}", f"--pgsql-db={lmstest.DATABASE}", *COMMON[5:],
                        "prepare"], check=True, capture_output=True)
        proxy = lmstest.Lms(db.url(), extra=["--source-dialect", "mysql"])
        proxies.append(proxy)
        cut = lmstest.Lms(db.url(), extra=["--source-dialect", "mysql", "--target", pg.url(), "--target-dialect",
                                           "postgres", "--shadow-mode", "none"])
        proxies.append(cut)
        cut_over(cut)
        print(f"sysbench on MariaDB, direct and through lms (mysql, shadow none), and through lms after a cutover "
              f"to PostgreSQL 15 (translated), {SECONDS}s per run, {REPEAT} interleaved runs, medians; "
              f"{os.cpu_count()} cores shared by all")
        print(f"{'workload':28} {'direct tps':>11} {'lms tps':>9} {'lms/direct':>11} {'after cutover':>14} "
              f"{'after/direct':>13}")
        for workload, threads in (("oltp_point_select", 16), ("oltp_point_select", 1), ("oltp_read_write", 16)):
            runs = {"direct": [], "lms": [], "cut": []}
            for _ in range(REPEAT):
                runs["direct"].append(sysbench(workload, db.port, threads))
                runs["lms"].append(sysbench(workload, proxy.port, threads))
                if workload == "oltp_point_select":  # read-only: the target's rows stay as prepared
                    runs["cut"].append(sysbench(workload, cut.port, threads))
            direct = statistics.median(runs["direct"])
            through = statistics.median(runs["lms"])
            line = f"{workload + ' t' + str(threads):28} {direct:11.0f} {through:9.0f} {through / direct:11.2f}"
            if runs["cut"]:
                after = statistics.median(runs["cut"])
                line += f" {after:14.0f} {after / direct:13.2f}"
            print(line)
    finally:
        for p in proxies:
            p.stop()
        db.destroy()
        pg.destroy()


if __name__ == "__main__":
    main()
