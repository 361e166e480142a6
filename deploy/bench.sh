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
source "$ROOT/deploy/stack.sh"
DIR=$(mktemp -d /tmp/icr-bench-XXXXXX)
REPLICA_PID=
cleanup() {
  [ -z "$REPLICA_PID" ] || { kill "$REPLICA_PID" 2>/dev/null; wait "$REPLICA_PID" 2>/dev/null || true; }
  stack_stop "$DIR" >/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
# 1 GB of shared buffers (PostgreSQL's default is 128 MB): the person-keyed indexes that every
# write touches stay in memory at 100,000 people and more. PG_OPTS overrides it.
PORT=$(pg_free_port)
FHIR_PORT=$(pg_free_port)
while [ "$FHIR_PORT" = "$PORT" ]; do FHIR_PORT=$(pg_free_port); done
METRICS_1=$(pg_free_port)
METRICS_2=$(pg_free_port)
PG_OPTS=${PG_OPTS:--c shared_buffers=1GB} stack_start "$DIR" "127.0.0.1:$PORT" \
  --dashboard-listen off --fhir-listen "127.0.0.1:$FHIR_PORT" --export-dir "$DIR/export" \
  --metrics-listen "127.0.0.1:$METRICS_1" --log-level warn
SERVER_PID=$STACK_SERVER_PID
# A second icr-server on the same database, for the replicas phase (one server against two
# behind round_robin).
REPLICA_PORT=$(pg_free_port)
"$ICR_SERVER" --listen "127.0.0.1:$REPLICA_PORT" --services all --database-url "$PG_URL" \
  --dashboard-listen off --fhir-listen off --metrics-listen "127.0.0.1:$METRICS_2" --log-level warn \
  >>"$DIR/icr-server-2.log" 2>&1 &
REPLICA_PID=$!
stack_wait "127.0.0.1:$REPLICA_PORT" "$REPLICA_PID"
SYSTEM=$(stack_token "$DIR" system RGD system)
ANALYST=$(stack_token "$DIR" analyst QWO performance_analyst)
COUNCIL=$(stack_token "$DIR" council-system E08000035 system)
echo "== seeding $PEOPLE people"
start=$SECONDS
"$ICRCTL" --server "127.0.0.1:$PORT" --token "$SYSTEM" demo seed --people "$PEOPLE" --seed 1 \
  --tokens "$(stack_demo_tokens "$DIR")"
echo "seed took $((SECONDS - start)) s"
MONTH=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)
echo "== benchmark (server pid $SERVER_PID, KPI month $MONTH)"
"$BIN/clients/bench/icr-bench" --server "127.0.0.1:$PORT" --replica "127.0.0.1:$REPLICA_PORT" --fhir "127.0.0.1:$FHIR_PORT" --token "$SYSTEM" --analyst-token "$ANALYST" \
  --council-token "$COUNCIL" --database-url "$PG_URL" --server-pid "$SERVER_PID" --kpi-month "$MONTH" \
  --json "$BIN/bench-report.json" "${@:2}"
# How the calls were spread: each server's own count of GetIntegratedRecord calls answered.
for m in "$METRICS_1" "$METRICS_2"; do
  curl -s "http://127.0.0.1:$m/metrics" | awk -v m="$m" '
    /^grpc_server_handled_total/ && /grpc_method="GetIntegratedRecord"/ { n += $2 }
    END { printf "server with metrics on %s answered %d GetIntegratedRecord calls\n", m, n }'
done
echo "report: $BIN/bench-report.json"
