#!/usr/bin/env bash
# What each shadow mode costs: pgbench -S -c 16 (prepared) against the source directly, then
# through lms in none, async, sync and strict-sync (and async and sync without validation), with a
# second PostgreSQL server as the target;
# prints TPS and the ratio to direct. It measures; it does not pass or fail. Settings:
# LMS_BENCH_SECONDS (per run, default 10), LMS_BENCH_REPEAT (default 3).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/shadow_modes.py "$@"
