#!/usr/bin/env bash
# Stops what deploy/quickstart.sh started: icr-server and the private PostgreSQL cluster.
# Data under var/ is kept; delete var/ to start from scratch.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=$ROOT/var
if [ -f "$VAR/icr-server.pid" ]; then
  pid=$(cat "$VAR/icr-server.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "icr-server stopped"
  fi
  rm -f "$VAR/icr-server.pid"
fi
source "$ROOT/deploy/pg.sh"
pg_stop "$VAR/pg" && echo "PostgreSQL stopped"
