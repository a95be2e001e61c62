#!/usr/bin/env bash
# Prints the `meson setup` options packaging/Dockerfile builds the image with, read from the
# Dockerfile itself so that what CI builds cannot drift from what is shipped.
#   scripts/package_options.sh   ->   --buildtype=release -Dtests=false --prefix=/app
set -euo pipefail
cd "$(dirname "$0")/.."
# " && meson setup /build --buildtype=release -Dtests=false --prefix=/app \"
options=$(sed -n 's|^.*meson setup /build \(.*[^ \\]\)[ \\]*$|\1|p' packaging/Dockerfile)
if [ -z "$options" ] || ! grep -q -- '--prefix=' <<<"$options"; then
  echo "package_options: no 'meson setup /build ... --prefix=...' line in packaging/Dockerfile" >&2
  exit 1
fi
echo "$options"
