#!/usr/bin/env bash
# Benchmark: starts a private PostgreSQL and icr-server, seeds a synthetic population, computes
# the indicators and runs icr-bench against it. Figures are whole-machine and noisy; each is
# reported beside a baseline measured in the same run.
#   deploy/bench.sh [PEOPLE]        (default 100000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEOPLE=${1:-100000}
"$ROOT/deploy/install-deps.sh"
"$ROOT/deploy/build.sh" >/dev/null
BIN=$ROOT/build
ICRCTL=$BIN/clients/icrctl/icrctl
source "$ROOT/deploy/pg.sh"
DIR=$(mktemp -d /tmp/icr-bench-XXXXXX)
chmod 755 "$DIR"  # as root the cluster under it runs as `postgres`, which must reach it
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; pg_stop "$DIR/pg"; rm -rf "$DIR"; }
trap cleanup EXIT
# 1 GB of shared buffers (PostgreSQL's default is 128 MB): the person-keyed indexes that every
# write touches stay in memory at 100,000 people and more. PG_OPTS overrides it.
PG_OPTS=${PG_OPTS:--c shared_buffers=1GB} pg_start "$DIR/pg"
"$ICRCTL" db migrate --database-url "$PG_URL" >/dev/null
SYSTEM=$("$ICRCTL" admin token create --org RGD --role system --database-url "$PG_URL")
ANALYST=$("$ICRCTL" admin token create --org QWO --role performance_analyst --database-url "$PG_URL")
PORT=$(pg_free_port)
"$BIN/services/server/icr-server" --listen "127.0.0.1:$PORT" --services all --dashboard-listen off \
  --database-url "$PG_URL" --log-level warn >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
sleep 1
echo "== seeding $PEOPLE people"
start=$SECONDS
"$ICRCTL" --server "127.0.0.1:$PORT" --token "$SYSTEM" demo seed --people "$PEOPLE" --seed 1 \
  --database-url "$PG_URL"
echo "seed took $((SECONDS - start)) s"
MONTH=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)
echo "== benchmark (server pid $SERVER_PID, KPI month $MONTH)"
"$BIN/clients/bench/icr-bench" --server "127.0.0.1:$PORT" --token "$SYSTEM" --analyst-token "$ANALYST" \
  --database-url "$PG_URL" --server-pid "$SERVER_PID" --kpi-month "$MONTH" \
  --json "$BIN/bench-report.json" "${@:2}"
echo "report: $BIN/bench-report.json"
