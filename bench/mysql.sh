#!/usr/bin/env bash
# What lms costs MySQL clients: sysbench oltp_point_select (and oltp_read_write) with 16 threads
# straight to MariaDB and through lms (source dialect mysql, shadow mode none), interleaved and
# repeated; prints medians and the ratio (goal: 0.85 of direct for point selects). It measures; it
# does not pass or fail. Settings: LMS_BENCH_SECONDS (per run, default 10), LMS_BENCH_REPEAT
# (default 3).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/mysql.py "$@"
