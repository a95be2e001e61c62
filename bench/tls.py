#!/usr/bin/env python3
"""pgbench over TLS, direct vs through lms; see tls.sh."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from pgbench_overhead import REPEAT, SECONDS  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def pgbench(url, args):
    r = subprocess.run(["pgbench", "-n", "-T", str(SECONDS), *args, url], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"pgbench failed:\n{r.stdout}{r.stderr}")
    return float(next(l for l in r.stdout.splitlines() if l.startswith("tps")).split()[2])


def main():
    certs = tempfile.mkdtemp(prefix="lms-bench-certs-")
    server = proxy = None
    try:
        subprocess.run([os.path.join(ROOT, "packaging", "make-certs.sh"), certs], check=True, capture_output=True)
        server = lmstest.PostgresServer(tls_dir=certs)
        ca = os.path.join(certs, "ca.crt")
        tls = f"sslmode=verify-full&sslrootcert={ca}"
        subprocess.run(["pgbench", "-i", "-s", "10", "-q", server.url() + "?" + tls], check=True, capture_output=True)
        proxy = lmstest.Lms(server.url() + "?" + tls,
                            extra=["--ssl-cert", os.path.join(certs, "server.crt"),
                                   "--ssl-key", os.path.join(certs, "server.key"), "--client-tls", "require"])
        targets = [("direct", server.url() + "?" + tls), ("lms", proxy.url() + "?" + tls)]
        cases = [("-S simple    c16", ["-S", "-M", "simple", "-c", "16", "-j", "2"]),
                 ("-S prepared  c16", ["-S", "-M", "prepared", "-c", "16", "-j", "2"]),
                 ("-S prepared  c1", ["-S", "-M", "prepared", "-c", "1", "-j", "1"])]
        print(f"pgbench over TLS (verify-full; through lms: TLS client to lms and lms to PostgreSQL), "
              f"{SECONDS}s per run, {REPEAT} interleaved runs, medians; {os.cpu_count()} cores shared")
        print(f"{'case':18} {'direct tps':>11} {'lms tps':>9} {'lms/direct':>11}")
        for name, args in cases:
            runs = {t: [] for t, _ in targets}
            for _ in range(REPEAT):
                for t, url in targets:
                    runs[t].append(pgbench(url, args))
            direct = statistics.median(runs["direct"])
            through = statistics.median(runs["lms"])
            print(f"{name:18} {direct:11.0f} {through:9.0f} {through / direct:11.2f}")
    finally:
        if proxy:
            proxy.stop()
        if server:
            server.destroy()
        shutil.rmtree(certs, ignore_errors=True)


if __name__ == "__main__":
    main()
