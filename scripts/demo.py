#!/usr/bin/env python3
"""The demo's story, told with the same harness the integration tests use: a live migration with
a consistent cutover. Two PostgreSQL 15 servers (the target stands in for CockroachDB) with logical
replication from source to target, three lms proxies, lms-orchestrator, a pgbench load spread over
the proxies, and a cutover through lms-cli while the load runs.

--tls: the same with TLS on every hop, from certificates packaging/make-certs.sh makes for the run:
pgbench to lms (required), lms to both databases (verify-full), lms-cli to the orchestrator and the
orchestrator to the proxies (HTTPS with client certificates)."""
import argparse
import os
import shutil
import tempfile
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import cutover_setup as cs  # noqa: E402
import lmstest  # noqa: E402

SECONDS = int(os.environ.get("LMS_DEMO_SECONDS", "20"))


def step(text):
    print(f"\n== {text}", flush=True)


def cli(orch, *args):
    print("$ lms-cli " + " ".join(args), flush=True)
    r = orch.cli(*args)
    print(r.stdout, end="")
    if r.stderr.strip():
        print(r.stderr.strip().splitlines()[-1])
    if r.returncode != 0:
        sys.exit(f"lms-cli {' '.join(args)} exited with {r.returncode}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls", action="store_true", help="TLS on every hop")
    args = parser.parse_args()
    started = []
    certs = None
    try:
        if args.tls:
            step("a throwaway CA and certificates (packaging/make-certs.sh)")
            certs = tempfile.mkdtemp(prefix="lms-demo-certs-")
            root = os.path.join(os.path.dirname(__file__), "..")
            subprocess.run([os.path.join(root, "packaging", "make-certs.sh"), certs], check=True)
            os.environ["PGSSLMODE"] = "require"  # pgbench and psql to lms (Unix sockets ignore it)
        step("two PostgreSQL 15 servers in temporary directories: the source, and the target")
        source = cs.logical_server(tls_dir=certs)
        started.append(source)
        target = cs.logical_server(tls_dir=certs)
        started.append(target)
        print(f"source on 127.0.0.1:{source.port}, target on 127.0.0.1:{target.port}")

        step("pgbench's tables on the source, logical replication from source to target")
        cs.prepare_pgbench(source, target)
        cs.replicate(source, target, "lms_demo")
        print(f"pgbench_accounts: {cs.count(source, 'pgbench_accounts')} rows on the source, "
              f"{cs.count(target, 'pgbench_accounts')} on the target")

        step("three lms proxies (source of truth: the source) and lms-orchestrator")
        # The target speaks for CockroachDB here: the cockroach dialect is PostgreSQL's protocol.
        proxies = cs.proxies_for(source, target, target_dialect="cockroach", tls_dir=certs)
        started.extend(proxies)
        orch = lmstest.Orchestrator(proxies, tls_dir=certs)
        started.append(orch)
        http = "HTTPS" if certs else "HTTP"
        for p in proxies:
            print(f"lms: SQL on 127.0.0.1:{p.port}{' (TLS required)' if certs else ''}, {http} on "
                  f"127.0.0.1:{p.http_port}")
        print(f"lms-orchestrator: {orch.url}")
        cli(orch, "status")

        step(f"pgbench -M prepared, 8 clients over the three proxies, {SECONDS}s")
        load = cs.Load(proxies, seconds=SECONDS)
        time.sleep(SECONDS / 4)
        cli(orch, "connections", "list")

        step("consistent cutover while the load runs")
        before = cs.count(source)
        cli(orch, "cutover", "consistent", "begin", "--begin-timeout", "10s")
        print("(the orchestrator now writes a marker row on the source and waits for replication to "
              "carry it to the target before it commits)")
        cli(orch, "cutover", "consistent", "commit")
        at_commit = cs.count(source)
        cli(orch, "cutover", "get_metadata", "-i", "1")
        cli(orch, "status")

        step("the load goes on, now served by the target")
        time.sleep(1)
        print(f"pgbench_history on the target grows: {cs.count(target)} rows", flush=True)
        processed, failed, outputs = load.wait()
        print(f"pgbench: {processed} transactions, {failed} failed")
        print(f"pgbench_history: {before} rows on the source when the cutover began, {at_commit} at the commit, "
              f"{cs.count(source)} now (no write after the commit); {cs.count(target)} on the target")
        complete = cs.count(target) == processed
        print("every transaction pgbench counted is on the target:", "yes" if complete else "NO")
        if failed or not complete or cs.count(source) != at_commit:
            sys.exit("the demo's cutover lost or failed something; see above")
    finally:
        step("cleaning up")
        for thing in reversed(started):
            if isinstance(thing, lmstest.PostgresServer):
                thing.destroy()
            else:
                thing.stop()
        if certs:
            shutil.rmtree(certs, ignore_errors=True)
        print("every process stopped, every directory removed")


if __name__ == "__main__":
    main()
