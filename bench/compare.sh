#!/usr/bin/env bash
# lms side by side with the direct connection and with PgBouncer, in one run on one machine:
# pgbench -S (simple and prepared protocol) and the default write script at 1, 16 and 64 clients,
# direct, through PgBouncer (session mode) and through lms (shadow none, then async to a second
# server); TPS, mean and p99 latency, the proxy's CPU per 1,000 transactions, its peak RSS and its
# memory per idle client, with every ratio to direct and to PgBouncer. Then sysbench
# oltp_point_select and oltp_read_write on MariaDB, direct vs through lms (bench/mysql.py). And
# transaction pooling (bench/txn_pool.py): PgBouncer in transaction mode, lms in transaction mode
# and lms (session) in front of PgBouncer (transaction), 8 database connections each, at 16, 64
# and 500 clients (-S, the write script, BEGIN; -S; END), with each pooler's CPU per transaction.
# It measures; it does not pass or fail. Settings: LMS_BENCH_SECONDS (per run, default 10),
# LMS_BENCH_ONLY (cases whose name contains this text; "mysql" for the MySQL part only),
# LMS_BENCH_IDLE_CLIENTS (default 300), LMS_BENCH_REPEAT (interleaved runs per case, medians;
# default 3), LMS_BENCH_BASELINE (another build directory, say of the commit before a change: its
# lms runs as "lms before" beside this one, interleaved, and each case ends with the ratio).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/compare.py "$@"
