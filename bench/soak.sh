#!/usr/bin/env bash
# Soak: pgbench (9 reads : 1 TPC-B-like write, prepared statements) through two lms proxies for
# LMS_SOAK_SECONDS (default 600) with a consistent cutover back and forth every
# LMS_SOAK_CUTOVER_EVERY seconds (default 60), both databases kept in step by shadow mode sync.
# Prints the proxies' and the orchestrator's RSS and open file descriptors every
# LMS_SOAK_SAMPLE_EVERY seconds (default 10), then every client error and refused cutover, the
# growth of each figure (last third over first third) and the row counts of both databases.
# It measures; it does not pass or fail.
source "$(dirname "$0")/prepare.sh"
exec python3 bench/soak.py "$@"
