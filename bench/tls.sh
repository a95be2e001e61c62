#!/usr/bin/env bash
# What TLS through lms costs: pgbench -S with 16 clients (simple and prepared) and with 1, over
# TLS straight to PostgreSQL, then over TLS to lms which speaks TLS to PostgreSQL (two handshakes,
# two encryptions); prints medians and the ratio. It measures; it does not pass or fail.
# Settings: LMS_BENCH_SECONDS (per run, default 10), LMS_BENCH_REPEAT (default 3).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/tls.py "$@"
