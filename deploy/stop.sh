#!/usr/bin/env bash
# Stops what deploy/quickstart.sh started: icr-server and the private PostgreSQL cluster.
# Data under var/ is kept; delete var/ to start from scratch.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=$ROOT/var
source "$ROOT/deploy/stack.sh"
stack_stop "$VAR" && echo "PostgreSQL stopped"
