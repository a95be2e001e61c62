#!/usr/bin/env bash
# The local demo: installs what is missing, builds LMS, starts a PostgreSQL 15 server of its own in a
# temporary directory, puts lms in front of it, drives pgbench through it, prints what happened, and
# cleans everything up. Nothing listens on a standard port; nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
ninja -C build >/dev/null
exec python3 scripts/demo.py "$@"
