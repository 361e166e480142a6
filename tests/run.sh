#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts one throwaway PostgreSQL cluster for
# the whole run, runs ctest (unit tests without a database, integration tests through real gRPC
# channels against real PostgreSQL, and the dashboard's browser test in headless Chromium, which
# starts a stack of its own), and stops the cluster whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

"$ROOT/deploy/install-deps.sh"
"$ROOT/deploy/build.sh"

source "$ROOT/deploy/pg.sh"
PG_DIR=$(mktemp -d /tmp/icr-test-pg-XXXXXX)
cleanup() { pg_stop "$PG_DIR"; rm -rf "$PG_DIR"; }
trap cleanup EXIT
pg_start "$PG_DIR"
export ICR_TEST_PG="host=127.0.0.1 port=$PG_PORT user=postgres"
echo "PostgreSQL for tests on port $PG_PORT"

cd "${BUILD_DIR:-$ROOT/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
