#!/usr/bin/env bash
# Sets up the machine, builds LMS and runs every test:
#   1. the release build: unit tests, then integration tests against real PostgreSQL 15 servers;
#   2. the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer;
#   3. each libFuzzer target for LMS_FUZZ_SECONDS (default 30) on its seed corpus.
# Ends with one line "N passed, N failed" and a non-zero exit if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/setup.sh

fuzz_seconds=${LMS_FUZZ_SECONDS:-27}
passed=0
failed=0

count_meson_results() {  # build dir
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  local ok bad
  ok=$(grep -c '"result": "OK"' "$log" || true)
  bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  passed=$((passed + ok))
  failed=$((failed + bad))
}

build_and_test() {  # build dir, label, meson options...
  local dir=$1 label=$2
  shift 2
  echo "== $label: build"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
  echo "== $label: tests"
  meson test -C "$dir" --print-errorlogs --no-rebuild || true
  count_meson_results "$dir"
}

build_and_test build "release build"

# Sanitized: every lms started by the integration tests runs under ASan and UBSan; the harness
# fails a test whose lms printed a sanitizer report or exited non-zero (LeakSanitizer's exit
# included). RSS bounds are checked in the release build only.
LMS_SANITIZED=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  build_and_test build-asan "sanitized build (ASan, UBSan)" \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

echo "== fuzzing: ${fuzz_seconds}s per target"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
targets=(fuzz_frame fuzz_front_handshake fuzz_back_handshake fuzz_scram fuzz_connection_string fuzz_inspect fuzz_summary
         fuzz_mysql_framer fuzz_mysql_handshake fuzz_mysql_connection_string fuzz_config fuzz_control_json
         fuzz_translation)
ninja -C build-fuzz "${targets[@]/#/fuzz/}" >/dev/null
python3 fuzz/make_seeds.py build-fuzz/seeds
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  # Hand-built seeds (make_seeds.py) and, where there are some, real traffic (capture_seeds.py).
  seeds=("build-fuzz/seeds/$t")
  [ -d "fuzz/captures/$t" ] && seeds+=("fuzz/captures/$t")
  if "build-fuzz/fuzz/$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="build-fuzz/$t-" "build-fuzz/corpus/$t" "${seeds[@]}" \
       >"build-fuzz/$t.log" 2>&1; then
    echo "fuzz $t: $(grep -E '^Done' "build-fuzz/$t.log" || echo done)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED; see below"
    tail -40 "build-fuzz/$t.log"
    failed=$((failed + 1))
  fi
done

cd "$root"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
