#!/usr/bin/env bash
# How long a consistent cutover stalls the application: with pgbench running short transactions
# through three proxies (source → target by logical replication), it times begin until every proxy
# has paused, commit until the first transaction the target served, and the longest transaction any
# client saw, next to the longest one before the cutover. It measures; it does not pass or fail.
# Settings: LMS_BENCH_REPEAT (cutovers, there and back, default 3).
source "$(dirname "$0")/prepare.sh"
exec python3 bench/cutover.py "$@"
