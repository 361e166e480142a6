#!/usr/bin/env bash
# The stack on this machine: a private PostgreSQL cluster (deploy/pg.sh), migrated, and
# icr-server on it, with tokens issued by icrctl. Shared by deploy/quickstart.sh, deploy/bench.sh
# and tests/e2e/dashboard_e2e.sh. Source this file, then:
#   stack_start DIR LISTEN [ICR-SERVER FLAGS...]
#       PostgreSQL under DIR/pg (reused when there), migrations, the reference data files of
#       db/reference (icrctl refdata load), then icr-server listening on
#       LISTEN (host:port) with every service and the flags given, logging to DIR/icr-server.log
#       (or $STACK_SERVER_LOG), its pid in DIR/icr-server.pid; waits until LISTEN answers. An
#       icr-server still running from DIR/icr-server.pid is kept. Sets PG_URL, PG_PORT and
#       STACK_SERVER_PID. PG_OPTS is passed on to pg_start.
#   stack_wait HOST:PORT [PID]   waits (10 s) until HOST:PORT accepts connections; fails early
#                                when PID (default STACK_SERVER_PID) has exited
#   stack_token DIR NAME ORG ROLE   prints a token for ORG and ROLE, issued once and kept in
#                                   DIR/tokens/NAME (mode 600)
#   stack_demo_tokens DIR   writes DIR/tokens/demo, the tokens `icrctl demo seed --tokens` takes
#                           (one per organisation and role `icrctl demo principals` lists),
#                           once; prints its path
#   stack_stop DIR          stops icr-server (DIR/icr-server.pid) and PostgreSQL
# STACK_BUILD names the build directory (default: build/ of this checkout).
STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_BUILD=${STACK_BUILD:-$STACK_ROOT/build}
ICRCTL=$STACK_BUILD/clients/icrctl/icrctl
ICR_SERVER=$STACK_BUILD/services/server/icr-server
source "$STACK_ROOT/deploy/pg.sh"

stack_wait() {
  local host=${1%:*} port=${1##*:} pid=${2:-${STACK_SERVER_PID:-}}
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "stack: nothing answers on $1" >&2
  return 1
}

stack_start() {
  local dir=$1 listen=$2
  shift 2
  mkdir -p "$dir"
  # As root the cluster runs as the postgres OS user: it must be able to reach DIR/pg.
  [ "$(id -u)" = 0 ] && chmod o+x "$dir"
  pg_start "$dir/pg" || return 1
  "$ICRCTL" db migrate --database-url "$PG_URL" >"$dir/migrate.log" || { cat "$dir/migrate.log" >&2; return 1; }
  # Reference data changes (ICB mergers, council reorganisations) the migrations' starting set
  # lacks; a rerun changes nothing.
  "$ICRCTL" refdata load --database-url "$PG_URL" "$STACK_ROOT"/db/reference/*.csv \
    >"$dir/refdata.log" || { cat "$dir/refdata.log" >&2; return 1; }
  local log=${STACK_SERVER_LOG:-$dir/icr-server.log}
  if [ -f "$dir/icr-server.pid" ] && kill -0 "$(cat "$dir/icr-server.pid")" 2>/dev/null; then
    STACK_SERVER_PID=$(cat "$dir/icr-server.pid")
    echo "    icr-server already running (pid $STACK_SERVER_PID)"
  else
    nohup "$ICR_SERVER" --listen "$listen" --services all --database-url "$PG_URL" "$@" \
      >>"$log" 2>&1 &
    STACK_SERVER_PID=$!
    echo "$STACK_SERVER_PID" >"$dir/icr-server.pid"
  fi
  export STACK_SERVER_PID
  stack_wait "$listen" || { tail -20 "$log" >&2; return 1; }
}

stack_token() {
  local dir=$1 name=$2 org=$3 role=$4 file=$1/tokens/$2
  mkdir -p "$dir/tokens" && chmod 700 "$dir/tokens"
  if [ ! -s "$file" ]; then
    (umask 077; "$ICRCTL" admin token create --org "$org" --role "$role" --label "stack $name" \
      --database-url "$PG_URL" >"$file") || return 1
  fi
  cat "$file"
}

stack_demo_tokens() {
  local dir=$1 file=$1/tokens/demo principals org role token
  mkdir -p "$dir/tokens" && chmod 700 "$dir/tokens"
  if [ ! -s "$file" ]; then
    principals=$("$ICRCTL" demo principals) || return 1
    : >"$file.new" && chmod 600 "$file.new"
    while read -r org role; do
      token=$("$ICRCTL" admin token create --org "$org" --role "$role" --label "demo seed" \
        --database-url "$PG_URL") || return 1
      echo "$org $role $token" >>"$file.new"
    done <<<"$principals"
    mv "$file.new" "$file"
  fi
  echo "$file"
}

stack_stop() {
  local dir=$1 pid
  if [ -f "$dir/icr-server.pid" ]; then
    pid=$(cat "$dir/icr-server.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "icr-server stopped"
    fi
    rm -f "$dir/icr-server.pid"
  fi
  pg_stop "$dir/pg"
}
