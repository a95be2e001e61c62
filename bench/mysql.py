#!/usr/bin/env python3
"""sysbench direct vs through lms on a MariaDB source; see mysql.sh."""
import os
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


def main():
    db = lmstest.MariaDbServer()
    proxy = None
    try:
        subprocess.run(["sysbench", "oltp_read_write", *COMMON, f"--mysql-port={db.port}", "prepare"], check=True,
                       capture_output=True)
        proxy = lmstest.Lms(db.url(), extra=["--source-dialect", "mysql"])
        print(f"sysbench on MariaDB, direct and through lms (mysql, shadow none), {SECONDS}s per run, "
              f"{REPEAT} interleaved runs, medians; {os.cpu_count()} cores shared by all")
        print(f"{'workload':28} {'direct tps':>11} {'lms tps':>9} {'lms/direct':>11}")
        for workload, threads in (("oltp_point_select", 16), ("oltp_point_select", 1), ("oltp_read_write", 16)):
            runs = {"direct": [], "lms": []}
            for _ in range(REPEAT):
                runs["direct"].append(sysbench(workload, db.port, threads))
                runs["lms"].append(sysbench(workload, proxy.port, threads))
            direct = statistics.median(runs["direct"])
            through = statistics.median(runs["lms"])
            print(f"{workload + ' t' + str(threads):28} {direct:11.0f} {through:9.0f} {through / direct:11.2f}")
    finally:
        if proxy:
            proxy.stop()
        db.destroy()


if __name__ == "__main__":
    main()
