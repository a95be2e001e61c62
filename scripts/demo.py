#!/usr/bin/env python3
"""The demo's story, told with the same harness the integration tests use."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402

SECONDS = int(os.environ.get("LMS_DEMO_SECONDS", "10"))


def step(text):
    print(f"\n== {text}", flush=True)


def pgbench(port, *args):
    env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
    r = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", lmstest.USER, *args,
                        lmstest.DATABASE], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"pgbench failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def summary(output):
    tps = re.search(r"tps = ([\d.]+)", output).group(1)
    latency = re.search(r"latency average = ([\d.]+ ms)", output).group(1)
    failed = re.search(r"number of failed transactions: (\d+)", output).group(1)
    done = re.search(r"number of transactions actually processed: (\d+)", output).group(1)
    return f"{done} transactions, {failed} failed, {float(tps):.0f} tps, mean latency {latency}"


def main():
    step("starting PostgreSQL 15 in a temporary directory")
    pg = lmstest.PostgresServer()
    proxy = None
    try:
        print(f"PostgreSQL on 127.0.0.1:{pg.port}")
        step("starting lms in front of it")
        proxy = lmstest.Lms(pg.url())
        print(f"lms: SQL on 127.0.0.1:{proxy.port}, HTTP on 127.0.0.1:{proxy.http_port}")
        print("readyz:", proxy.http_get("/readyz")[1].strip())

        step("psql through lms")
        r = lmstest.psql(proxy.url(), "-c", "SELECT current_user, current_database(), "
                         "inet_server_port() AS server_port")
        print(r.stdout + r.stderr)

        step("pgbench -i (COPY through lms)")
        pgbench(proxy.port, "-i", "-s", "5", "-q")
        print(pg.admin("SELECT count(*) || ' rows in pgbench_accounts' FROM pgbench_accounts", db=lmstest.DATABASE))

        for label, args in [("select-only, 8 clients, prepared", ["-S", "-M", "prepared"]),
                            ("read-write (TPC-B like), 8 clients", ["-M", "prepared"])]:
            step(f"pgbench {label}, {SECONDS}s: direct, then through lms")
            common = ["-c", "8", "-j", "2", "-T", str(SECONDS), *args]
            direct = pgbench(pg.port, *common)
            through = pgbench(proxy.port, *common)
            print(f"direct:      {summary(direct)}")
            print(f"through lms: {summary(through)}")

        step("what lms counted (/metrics)")
        for line in proxy.http_get("/metrics")[1].splitlines():
            if line.startswith(("lms_client_connections_total", "lms_requests_total", "lms_bytes_total",
                                "lms_errors_total{database=\"source\"")):
                print(line)
        print(f"lms RSS now: {proxy.rss_kb()} kB")
    finally:
        step("cleaning up")
        if proxy is not None:
            code = proxy.stop()
            print(f"lms stopped (exit {code})")
        pg.destroy()
        print("PostgreSQL stopped and its directory removed")


if __name__ == "__main__":
    main()
