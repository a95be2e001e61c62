#!/usr/bin/env bash
# Builds LMS the way packaging/Dockerfile builds the image, with the `meson setup` options read
# from the Dockerfile itself so that the two cannot drift, installs it into a temporary root as the
# image does (`meson install --destdir`), and runs what was installed: `lms --version`, then one
# query through the installed lms (plugins found relative to the binary) to a PostgreSQL server of
# its own, and the installed orchestrator serving its console (found relative to the binary).
# -Dwerror=true on top: a warning that a packager's release build would print fails here.
#   scripts/package_check.sh [BUILD_DIR]   (default build-package)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-package}

options=$(scripts/package_options.sh)
prefix=$(sed -n 's|.*--prefix=\([^ ]*\).*|\1|p' <<<"$options")
echo "package_check: meson setup $options -Dwerror=true"
if [ ! -f "$dir/build.ninja" ]; then
  # shellcheck disable=SC2086  # the options are words, as the Dockerfile's shell splits them
  meson setup "$dir" $options -Dwerror=true >/dev/null
fi
if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
  tail -60 "$dir/ninja.log"
  echo "package_check: the build failed" >&2
  exit 1
fi

root=$(mktemp -d /tmp/lms-package-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$dir" --destdir "$root" --no-rebuild --quiet
lms="$root$prefix/bin/lms"
"$lms" --version
python3 tests/package/installed_lms.py "$lms"
python3 tests/package/installed_console.py "$root$prefix/bin/lms-orchestrator"
