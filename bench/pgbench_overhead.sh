#!/usr/bin/env bash
# Measures lms's overhead: pgbench direct, through PgBouncer (session mode) and through lms, against
# one PostgreSQL server, interleaved and repeated; prints medians and ratios. It measures; it does
# not pass or fail. Settings: LMS_BENCH_SECONDS (per run, default 10), LMS_BENCH_REPEAT (default 3),
# LMS_BENCH_WORKERS (lms event loops, default one per core), LMS_BENCH_ONLY (cases whose name
# contains this text).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/pgbench_overhead.py "$@"
