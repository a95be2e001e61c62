#!/usr/bin/env bash
# The local demo: installs what is missing, builds LMS, then tells a live migration end to end with
# processes of its own: two PostgreSQL 15 servers in temporary directories with logical replication
# from source to target, three lms proxies, lms-orchestrator, a pgbench load, and a consistent cutover
# through lms-cli while the load runs. Nothing listens on a standard port; nothing leaves the machine.
# --tls: the same with TLS on every hop (certificates from packaging/make-certs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
ninja -C build >/dev/null
exec python3 scripts/demo.py "$@"
