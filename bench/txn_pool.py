#!/usr/bin/env python3
"""Transaction pooling side by side: pgbench direct, through PgBouncer in transaction mode, through
lms in transaction mode, and through the chain an application pays when it keeps its PgBouncer
behind lms (lms in session mode -> PgBouncer in transaction mode), at 16, 64 and 500 clients, with
8 database connections for every pooler. Run by compare.sh (LMS_BENCH_ONLY=txn for this part
alone); it measures, it does not pass or fail.

PgBouncer is Debian's (1.18 on Debian 12), which has no prepared statements in transaction mode
(they came in 1.21): the cases use pgbench's extended protocol with unnamed statements, which
every pooler here carries; `-M prepared` runs through lms only, against direct. Besides pgbench's
own scripts, `BEGIN; -S; END` (a read in a transaction, as drivers that leave autocommit off send
it) shows the BEGIN lms answers itself: its transaction holds a connection for 2 round trips, not 3.
lms cached: lms in transaction mode with pool-cache-unnamed, which prepares each unnamed statement
once per database connection (the database no longer parses and plans it at every run).
cpu: the poolers' CPU per transaction in microseconds (for the chain, lms's and PgBouncer's), a
steadier figure than the rate on a shared machine."""
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
from compare import REPEAT, SECONDS, Meter, pgbench, ratio  # noqa: E402
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


READ_IN_TRANSACTION = """\\set aid random(1, 100000 * :scale)
BEGIN;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
END;
"""


def cases(script):
    out = []
    for clients in CLIENTS:
        jobs = ["-j", "2", "-c", str(clients)]
        out.append((f"-S extended c{clients}", ["-S", "-M", "extended", *jobs], True, clients))
        out.append((f"write ext.  c{clients}", ["-M", "extended", *jobs], True, clients))
        out.append((f"txn -S ext. c{clients}", ["-f", script, "-M", "extended", *jobs], True, clients))
        out.append((f"-S prepared c{clients}", ["-S", "-M", "prepared", *jobs], False, clients))
    return out


def main():
    pg = lmstest.PostgresServer()
    bouncer = lms_txn = lms_cached = chain = None
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
        lms_cached = lmstest.Lms(pg.url(), own_session=True, workers=WORKERS,
                                 extra=["--pool-mode", "transaction", "--server-pool-size", str(POOL // WORKERS),
                                        "--pool-cache-unnamed"])
        # The chain: lms keeps a connection per client (session mode), PgBouncer pools them.
        chain = lmstest.Lms(f"postgresql://{lmstest.USER}:{lmstest.PASSWORD}@127.0.0.1:{bouncer.port}/{lmstest.DATABASE}"
                            "", own_session=True, workers=WORKERS,
                            extra=[])
        # Each target with the processes whose CPU it costs.
        targets = [("direct", pg.port, []), ("bouncer txn", bouncer.port, [Meter(bouncer.pid())]),
                   ("lms txn", lms_txn.port, [Meter(lms_txn.proc.pid)]),
                   ("lms cached", lms_cached.port, [Meter(lms_cached.proc.pid)]),
                   ("lms>bouncer", chain.port, [Meter(chain.proc.pid), Meter(bouncer.pid())])]
        script = os.path.join(log_dir, "read_in_transaction.sql")
        with open(script, "w") as f:
            f.write(READ_IN_TRANSACTION)
        print(f"transaction pooling: {POOL} database connections per pooler (PgBouncer's pool; lms {WORKERS} "
              f"worker(s) x {POOL // WORKERS}); pgbench {SECONDS}s per run (+1 s per 25 clients for their logins), {REPEAT} interleaved runs per case, medians; "
              f"lms>bouncer: lms in session mode in front of PgBouncer in transaction mode")
        print(f"{'case':20} {'via':12} {'tps':>8} {'p99':>8} {'cpu':>6}   {'tps/direct':>10} {'tps/bouncer':>11} "
              f"{'txn/chain':>9} {'cpu/bouncer':>11}")
        for name, args, everyone, clients in cases(script):
            if os.environ.get("LMS_BENCH_ONLY", "") not in ("", "txn") and os.environ["LMS_BENCH_ONLY"] not in name:
                continue
            vias = targets if everyone else [t for t in targets if t[0] in ("direct", "lms txn")]
            runs = {via: [] for via, _, _ in vias}
            for _ in range(REPEAT):
                for via, port, meters in vias:
                    cpu_before = sum(m.cpu_seconds() for m in meters)
                    tps, count, _, p99 = pgbench(port, args, log_dir, seconds_for(clients))
                    cpu = (sum(m.cpu_seconds() for m in meters) - cpu_before) * 1e6 / count if meters else 0
                    runs[via].append((tps, p99, cpu))
            results = {via: tuple(statistics.median(r[i] for r in rs) for i in range(3)) for via, rs in runs.items()}
            direct = results["direct"][0]
            bouncer_result = results.get("bouncer txn")
            for via, (tps, p99, cpu) in results.items():
                cpu_text = f"{cpu:6.1f}" if cpu else f"{'-':>6}"
                line = f"{name if via == 'direct' else '':20} {via:12} {tps:8.0f} {p99:8.3f} {cpu_text}"
                if via != "direct":
                    versus_bouncer = bouncer_result is not None and via != "bouncer txn"
                    line += f"   {ratio(tps, direct):>10}"
                    line += f" {ratio(tps, bouncer_result[0]) if versus_bouncer else '':>11}"
                    line += f" {ratio(tps, results['lms>bouncer'][0]) if via.startswith('lms ') and 'lms>bouncer' in results else '':>9}"
                    line += f" {ratio(cpu, bouncer_result[2]) if versus_bouncer else '':>11}"
                print(line, flush=True)
    finally:
        for proxy in (lms_txn, lms_cached, chain):
            if proxy is not None:
                proxy.stop()
        if bouncer is not None:
            bouncer.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
