#!/usr/bin/env python3
"""Transaction pooling side by side: pgbench direct, through PgBouncer in transaction mode, through
lms in transaction mode, and through the chain an application pays when it keeps its PgBouncer
behind lms (lms in session mode -> PgBouncer in transaction mode), at 16, 64 and 500 clients, with
8 database connections for every pooler. Run by compare.sh (LMS_BENCH_ONLY=txn for this part
alone); it measures, it does not pass or fail.

PgBouncer is Debian's (1.18 on Debian 12), which has no prepared statements in transaction mode
(they came in 1.21): the cases use pgbench's extended protocol with unnamed statements, which
every pooler here carries; `-M prepared` runs through lms only, against direct."""
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from compare import REPEAT, SECONDS, pgbench, ratio  # noqa: E402
from pgbench_overhead import PgBouncer  # noqa: E402

POOL = 8  # database connections per pooler: PgBouncer's pool, lms's workers' pools together
# lms's workers (LMS_BENCH_WORKERS, default 1): one, as PgBouncer is one thread with one pool, on a
# machine where pgbench and PostgreSQL want the same two cores; each more worker is one more
# thread to wake on them and splits the pool (the kernel spreads clients over the workers).
WORKERS = int(os.environ.get("LMS_BENCH_WORKERS", "1"))
CLIENTS = (16, 64, 500)


def seconds_for(clients):
    """A run's length: pgbench's -T counts from before its clients connect, and 500 logins straight
    to PostgreSQL (a backend forked and a SCRAM exchange each) take 5-10 s on two cores; the rate
    is over what is left, so the run is made longer by what the logins may take."""
    return SECONDS + clients // 25


def cases():
    out = []
    for clients in CLIENTS:
        jobs = ["-j", "2", "-c", str(clients)]
        out.append((f"-S extended c{clients}", ["-S", "-M", "extended", *jobs], True, clients))
        out.append((f"write ext.  c{clients}", ["-M", "extended", *jobs], True, clients))
        out.append((f"-S prepared c{clients}", ["-S", "-M", "prepared", *jobs], False, clients))
    return out


def main():
    pg = lmstest.PostgresServer()
    bouncer = lms_txn = chain = None
    log_dir = tempfile.mkdtemp(prefix="lms-txn-bench-")
    try:
        env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
        import subprocess
        subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(pg.port), "-U", lmstest.USER, "-i", "-s", "10", "-q",
                        lmstest.DATABASE], check=True, capture_output=True, env=env)
        # The chain's lms holds a PgBouncer client connection per client of its own, beside pgbench's.
        bouncer = PgBouncer(pg, max_clients=2 * max(CLIENTS) + 100, pool_size=POOL, pool_mode="transaction")
        lms_txn = lmstest.Lms(pg.url(), own_session=True, workers=WORKERS,
                              extra=["--pool-mode", "transaction", "--server-pool-size", str(POOL // WORKERS)])
        # The chain: lms keeps a connection per client (session mode), PgBouncer pools them.
        chain = lmstest.Lms(f"postgresql://{lmstest.USER}:{lmstest.PASSWORD}@127.0.0.1:{bouncer.port}/{lmstest.DATABASE}"
                            "", own_session=True, workers=WORKERS,
                            extra=[])
        targets = [("direct", pg.port), ("bouncer txn", bouncer.port), ("lms txn", lms_txn.port),
                   ("lms>bouncer", chain.port)]
        print(f"transaction pooling: {POOL} database connections per pooler (PgBouncer's pool; lms {WORKERS} "
              f"worker(s) x {POOL // WORKERS}); pgbench {SECONDS}s per run (+1 s per 25 clients for their logins), {REPEAT} interleaved runs per case, medians; "
              f"lms>bouncer: lms in session mode in front of PgBouncer in transaction mode")
        print(f"{'case':20} {'via':12} {'tps':>8} {'p99':>8}   {'tps/direct':>10} {'tps/bouncer':>11} {'txn/chain':>9}")
        for name, args, everyone, clients in cases():
            if os.environ.get("LMS_BENCH_ONLY", "") not in ("", "txn") and os.environ["LMS_BENCH_ONLY"] not in name:
                continue
            vias = targets if everyone else [t for t in targets if t[0] in ("direct", "lms txn")]
            runs = {via: [] for via, _ in vias}
            for _ in range(REPEAT):
                for via, port in vias:
                    tps, _, _, p99 = pgbench(port, args, log_dir, seconds_for(clients))
                    runs[via].append((tps, p99))
            results = {via: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
                       for via, rs in runs.items()}
            direct = results["direct"][0]
            for via, (tps, p99) in results.items():
                line = f"{name if via == 'direct' else '':20} {via:12} {tps:8.0f} {p99:8.3f}"
                if via != "direct":
                    line += f"   {ratio(tps, direct):>10}"
                    line += f" {ratio(tps, results['bouncer txn'][0]) if 'bouncer txn' in results and via != 'bouncer txn' else '':>11}"
                    line += f" {ratio(tps, results['lms>bouncer'][0]) if via == 'lms txn' and 'lms>bouncer' in results else '':>9}"
                print(line, flush=True)
    finally:
        for proxy in (lms_txn, chain):
            if proxy is not None:
                proxy.stop()
        if bouncer is not None:
            bouncer.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
