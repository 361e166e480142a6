#!/usr/bin/env bash
# Shared by the reliability tests (tests/reliability/*.sh): a PostgreSQL cluster of the test's own
# and icr-server PROCESSES from the build on it, started, killed and stopped by PID. Source this
# file with REL_BUILD set to the build directory, then:
#   rel_setup NAME          a temp dir REL_DIR (/tmp/icr-rel-NAME-XXXXXX) removed on exit, with
#                           every server and the cluster stopped (trap set here; add your own
#                           cleanup as rel_cleanup_hook)
#   rel_db_start            PostgreSQL under REL_DIR/pg (deploy/pg.sh: as root it runs as the
#                           postgres user), migrated; sets PG_URL, PG_PORT
#   rel_db_new NAME         another migrated database in that cluster; prints its URL
#   rel_server_start NAME [ICR-SERVER FLAGS...]
#                           icr-server on a free port (no dashboard, no FHIR port) against
#                           $REL_DB_URL (default PG_URL), logging to REL_DIR/NAME.log; waits until
#                           it answers. Sets REL_PID[NAME] and REL_ADDR[NAME] (127.0.0.1:port)
#   rel_server_kill NAME [SIGNAL]   signal (default KILL) and wait for it to exit
#   rel_server_stop NAME    SIGTERM (a clean shutdown), SIGKILL after 10 s
#   rel_server_of_pid PID   prints the NAME of the server with that pid ("" when none)
#   rel_token NAME ORG ROLE prints a token (issued once by icrctl admin token create)
#   rel_sql SQL             one value (psql -At) from $REL_DB_URL (default PG_URL)
#   rel_now                 seconds since the epoch, with a fraction
#   rel_calc EXPR           prints EXPR (awk arithmetic, e.g. "$a - $b")
#   rel_less A B            true when number A < number B
#   rel_after SECONDS       prints rel_now + SECONDS;  rel_before T: true while rel_now < T
#   rel_fail MESSAGE        prints FAIL: MESSAGE and exits 1
REL_BUILD=${REL_BUILD:?set REL_BUILD to the build directory}
STACK_BUILD=$REL_BUILD
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/stack.sh"
PSQL=${PSQL:-$PG_BIN/psql}
declare -A REL_PID REL_ADDR

for f in "$ICRCTL" "$ICR_SERVER"; do
  [ -x "$f" ] || { echo "reliability: $f is not built" >&2; exit 1; }
done

rel_cleanup_hook() { :; }
rel_cleanup() {
  local name
  rel_cleanup_hook
  for name in "${!REL_PID[@]}"; do kill -9 "${REL_PID[$name]}" 2>/dev/null || true; done
  pg_stop "$REL_DIR/pg"
  if [ -n "${REL_KEEP:-}" ]; then echo "kept $REL_DIR"; else rm -rf "$REL_DIR"; fi
}

rel_setup() {
  REL_DIR=$(mktemp -d "/tmp/icr-rel-$1-XXXXXX")
  # As root the cluster runs as the postgres OS user: it must be able to reach REL_DIR/pg.
  [ "$(id -u)" = 0 ] && chmod o+x "$REL_DIR"
  trap rel_cleanup EXIT
}

rel_db_start() {
  pg_start "$REL_DIR/pg" || return 1
  "$ICRCTL" db migrate --database-url "$PG_URL" >"$REL_DIR/migrate.log" ||
    { cat "$REL_DIR/migrate.log" >&2; return 1; }
}

rel_db_new() {
  local url=postgresql://postgres@127.0.0.1:$PG_PORT/$1
  "$PSQL" -q -d "$PG_URL" -c "CREATE DATABASE $1" >/dev/null || return 1
  "$ICRCTL" db migrate --database-url "$url" >>"$REL_DIR/migrate.log" || return 1
  echo "$url"
}

rel_server_start() {
  local name=$1 port
  shift
  port=$(pg_free_port)
  "$ICR_SERVER" --listen "127.0.0.1:$port" --database-url "${REL_DB_URL:-$PG_URL}" \
    --dashboard-listen off --fhir-listen off "$@" >>"$REL_DIR/$name.log" 2>&1 &
  REL_PID[$name]=$!
  disown "$!"  # no job notice when a test kills it
  REL_ADDR[$name]=127.0.0.1:$port
  stack_wait "127.0.0.1:$port" "${REL_PID[$name]}" ||
    { tail -20 "$REL_DIR/$name.log" >&2; return 1; }
}

rel_server_kill() {
  local name=$1 pid=${REL_PID[$1]}
  kill -"${2:-KILL}" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  unset "REL_PID[$name]"
}

rel_server_stop() {
  local name=$1 pid=${REL_PID[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rel_server_kill "$name" KILL
}

rel_server_of_pid() {
  local name
  for name in "${!REL_PID[@]}"; do
    [ "${REL_PID[$name]}" = "$1" ] && { echo "$name"; return 0; }
  done
  echo ""
}

rel_token() { PG_URL=${REL_DB_URL:-$PG_URL} stack_token "$REL_DIR" "$@"; }

rel_sql() { "$PSQL" -X -q -At -d "${REL_DB_URL:-$PG_URL}" -c "$1"; }

rel_now() { date +%s.%N; }
rel_calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
rel_less() { awk "BEGIN { exit !($1 < $2) }"; }
rel_after() { rel_calc "$(rel_now) + $1"; }
rel_before() { rel_less "$(rel_now)" "$1"; }

rel_fail() {
  echo "FAIL: $*" >&2
  exit 1
}
