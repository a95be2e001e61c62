#!/usr/bin/env python3
"""One query through an installed lms: the binary a package or the image ships, started with no
--plugin-dir so that it finds its plugins relative to itself, in front of a PostgreSQL 15 server
of its own on a free loopback port. Prints what psql printed; exits non-zero when anything fails.

    tests/package/installed_lms.py /path/to/installed/bin/lms
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import lmstest  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lms_bin = sys.argv[1]
    pg = lmstest.PostgresServer()
    port, http_port = lmstest.free_port(), lmstest.free_port()
    log_path = os.path.join(pg.dir, "installed-lms.log")
    log = open(log_path, "w")
    proc = lmstest.subprocess.Popen(
        [lms_bin, "--source-dialect", "postgres", "--source", pg.url(), "--listen", f"127.0.0.1:{port}",
         "--http-listen", f"127.0.0.1:{http_port}", "--workers", "1"], stdout=log, stderr=lmstest.subprocess.STDOUT)
    try:
        lmstest.wait_for_port(port)
        url = f"postgresql://{lmstest.USER}:{lmstest.PASSWORD}@127.0.0.1:{port}/{lmstest.DATABASE}"
        r = lmstest.psql(url, "-At", "-c", "SELECT 'through the installed lms', current_database()")
        print(r.stdout.strip())
        if r.returncode != 0 or r.stdout.strip() != f"through the installed lms|{lmstest.DATABASE}":
            print(r.stderr, file=sys.stderr)
            raise SystemExit("installed_lms: the query through the installed lms failed")
    finally:
        code = lmstest.terminate(proc, log)
        with open(log_path) as f:
            text = f.read()
        pg.destroy()
    if code != 0:
        raise SystemExit(f"installed_lms: lms exited with {code}:\n{text[-3000:]}")
    print("installed_lms: ok")


if __name__ == "__main__":
    main()
