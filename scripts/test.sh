#!/usr/bin/env bash
# Sets up the machine, builds LMS and runs every test:
#   1. the release build (packaging/Dockerfile's options with the tests on; warnings are errors):
#      unit tests, then integration tests against real PostgreSQL 15 and MariaDB servers;
#   2. the packaged build: exactly packaging/Dockerfile's configuration, installed into a
#      temporary root, its lms run (scripts/package_check.sh); ccache hands it the objects the
#      release build compiled with the same options;
#   3. the build with AddressSanitizer and UndefinedBehaviorSanitizer (clang, with the libFuzzer
#      targets): the unit tests and the integration files that exercise memory (the `memory`
#      suite, tests/meson.build says which);
#   4. each libFuzzer target of that build for LMS_FUZZ_SECONDS (default 15) on its seed corpus,
#      two at a time.
# Ends with each phase's wall time and one line "N passed, N failed"; exits non-zero if anything
# failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

fuzz_seconds=${LMS_FUZZ_SECONDS:-15}
passed=0
failed=0
phases=()
phase_started=0

begin_phase() {  # label
  phase_started=$(date +%s)
  echo "== $1"
}

end_phase() {  # label
  phases+=("$(printf '%-48s %4ds' "$1" $(($(date +%s) - phase_started)))")
}

count_meson_results() {  # build dir
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  local ok bad
  ok=$(grep -c '"result": "OK"' "$log" || true)
  bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  passed=$((passed + ok))
  failed=$((failed + bad))
}

build() {  # build dir, label, meson options...
  local dir=$1 label=$2
  shift 2
  begin_phase "$label: build"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null
  else
    meson configure "$dir" -Dwerror=true >/dev/null  # a tree set up by hand, without it
  fi
  # The build's own output is kept in a file and shown when it fails (set -e would end the run
  # with nothing said).
  if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
    tail -60 "$dir/ninja.log"
    echo "$label: the build failed"
    exit 1
  fi
  end_phase "$label: build"
}

run_tests() {  # build dir, label, meson test arguments...
  local dir=$1 label=$2
  shift 2
  begin_phase "$label: tests"
  meson test -C "$dir" --print-errorlogs --no-rebuild "$@" || true
  count_meson_results "$dir"
  end_phase "$label: tests"
}

begin_phase "setup"
scripts/setup.sh
end_phase "setup"

# The release build is the packaged one (packaging/Dockerfile's options) with the tests on: what
# is tested is what ships, and the packaged build below finds every object it compiles in ccache.
release_options=$(scripts/package_options.sh)
# shellcheck disable=SC2086  # the options are words, as the Dockerfile's shell splits them
build build "release build" ${release_options//-Dtests=false/} -Dtests=true
run_tests build "release build"

begin_phase "packaged build (the Dockerfile's configuration)"
if scripts/package_check.sh build-package; then
  passed=$((passed + 1))
else
  echo "package check: FAILED"
  failed=$((failed + 1))
fi
end_phase "packaged build (the Dockerfile's configuration)"

# Sanitized: every lms started by the integration tests runs under ASan and UBSan; the harness
# fails a test whose lms printed a sanitizer report or exited non-zero (LeakSanitizer's exit
# included). RSS bounds are checked in the release build only. Built with clang, whose warnings are
# errors here as GCC's are in the release build, and with libFuzzer's coverage instrumentation:
# the fuzz targets come out of the same compile. (Its own directory: a build-asan set up before,
# with GCC and no fuzz targets, is not reused.)
CC=clang CXX=clang++ build build-sanitized "sanitized build" -Dfuzz=true \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
LMS_SANITIZED=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_tests build-sanitized "sanitized build" --suite unit --suite memory

targets=(fuzz_frame fuzz_front_handshake fuzz_back_handshake fuzz_scram fuzz_connection_string fuzz_inspect fuzz_summary
         fuzz_mysql_framer fuzz_mysql_handshake fuzz_mysql_connection_string fuzz_config fuzz_control_json
         fuzz_translation fuzz_pooling)
fuzz_dir=build-sanitized/fuzz

fuzz_one() {  # target; its verdict goes to $fuzz_dir/<target>.verdict
  local t=$1
  mkdir -p "$fuzz_dir/corpus/$t"
  # Hand-built seeds (make_seeds.py) and, where there are some, real traffic (capture_seeds.py).
  local seeds=("$fuzz_dir/seeds/$t")
  [ -d "fuzz/captures/$t" ] && seeds+=("fuzz/captures/$t")
  if "$fuzz_dir/$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$fuzz_dir/$t-" "$fuzz_dir/corpus/$t" "${seeds[@]}" \
       >"$fuzz_dir/$t.log" 2>&1; then
    echo ok >"$fuzz_dir/$t.verdict"
  else
    echo failed >"$fuzz_dir/$t.verdict"
  fi
}

begin_phase "fuzzing: ${fuzz_seconds}s per target, two at a time"
python3 fuzz/make_seeds.py "$fuzz_dir/seeds"
# Each fuzzer is single-threaded: two at once use both cores and halve the wall time.
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  fuzz_one "${targets[i]}" &
  if ((i + 1 < ${#targets[@]})); then fuzz_one "${targets[i + 1]}" & fi
  wait
done
for t in "${targets[@]}"; do
  if [ "$(cat "$fuzz_dir/$t.verdict")" = ok ]; then
    echo "fuzz $t: $(grep -E '^Done' "$fuzz_dir/$t.log" || echo done)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED; see below"
    tail -40 "$fuzz_dir/$t.log"
    failed=$((failed + 1))
  fi
done
end_phase "fuzzing: ${fuzz_seconds}s per target, two at a time"

cd "$root"
echo "== wall time per phase"
printf '%s\n' "${phases[@]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
