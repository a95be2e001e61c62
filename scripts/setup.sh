#!/usr/bin/env bash
# Installs every Debian 12 package LMS needs to build, test, demo and benchmark.
# Idempotent: packages already present are not touched, and apt is only called when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
  # meson compiles through it when present: the packaged build then reuses the release build's
  # objects, compiled with the same options
  ccache
  # libraries the code links
  libuv1-dev libssl-dev libtomlplusplus-dev libspdlog-dev libboost-dev libboost-filesystem-dev
  libpq-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libgtest-dev libmariadb-dev
  # the console's charts (copied into the build and the install)
  libjs-chart.js
  # real servers and clients the tests, the demo and the benchmarks drive
  postgresql-15 postgresql-client-15 pgbouncer python3 procps iproute2
  mariadb-server mariadb-client sysbench
  # the Helm chart's tests: Go's text/template with Sprig (Helm's engine) for the renderer, YAML and
  # JSON-schema checks, a real Prometheus and promtool
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev golang-github-xeipuuv-gojsonschema-dev
  yamllint prometheus
  # the console's browser test: headless Chromium driven through chromedriver by Debian's python3;
  # MySQL's C client library as applications call it (mysql_change_user), from the same python3;
  # psycopg2, a PostgreSQL driver as applications use one (transaction pooling's tests)
  chromium chromium-driver python3-selenium python3-mysqldb python3-psycopg2
  # JDBC (pgjdbc, run from source by the JDK's launcher) and Node.js: the other drivers transaction
  # pooling's tests run applications through
  libpostgresql-jdbc-java openjdk-17-jdk-headless nodejs
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # The Debian postgresql package starts a cluster on 5432 by default; LMS never uses it. policy-rc.d
  # keeps apt from starting services while it installs.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-postgres for the same tests: Debian's node-pg with Debian's nodejs; where another nodejs is
# installed (NodeSource's, which Debian's node-* packages cannot depend on), the npm registry's, in
# the tests' folder.
drivers="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/drivers"
has_node_pg() { (cd "$drivers" && node -e 'require("pg")' >/dev/null 2>&1); }
if ! has_node_pg; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends node-pg >/dev/null 2>&1 ||
    ! has_node_pg; then
    echo "setup: installing node-postgres (pg) from the npm registry into $drivers"
    npm install --no-audit --no-fund --no-save --silent --prefix "$drivers" pg@8
  fi
fi

# The PostgreSQL server binaries live outside PATH on Debian; tests and scripts find them here.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "setup: PostgreSQL 15 server binaries not found after install" >&2
  exit 1
fi
echo "setup: all packages present"
