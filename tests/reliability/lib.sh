#!/usr/bin/env bash
# Shared by the reliability tests (tests/reliability/*.sh): PostgreSQL clusters of the test's own
# (primaries, streaming standbys, a network partition between them) and icr-server PROCESSES from
# the build, all under one scratch directory. Source this file with REL_BUILD set to the build
# directory, then:
#   rel_setup NAME          scratch directory REL_DIR (/tmp/icr-rel-NAME-XXXXXX) and the EXIT trap
#                           rel_cleanup: it runs rel_cleanup_hook (a test may define its own),
#                           deletes our nft table, stops the processes still ours (by PID: TERM,
#                           KILL after 3 s) and our clusters, keeps the logs in
#                           REL_BUILD/reliability/NAME when the test failed, removes REL_DIR
#   rel_pg_start NAME [CONF...]
#                           initdb and start a cluster in REL_DIR/NAME on a free port, listening on
#                           127.0.0.1 and 127.0.0.2 (a partition can cut only the replication
#                           link, which goes to 127.0.0.2), fsync and synchronous_commit on, ready
#                           to be a primary; CONF lines are added to its postgresql.conf (later
#                           lines win, e.g. "fsync = off"). Sets REL_PORT[NAME] and REL_URL[NAME]
#                           (its postgres database)
#   rel_standby NAME PRIMARY [CONF...]
#                           pg_basebackup -R from cluster PRIMARY (over 127.0.0.2) and start it as
#                           a hot standby streaming from there; sets REL_PORT, REL_URL as above
#   rel_pg_stop NAME [MODE] pg_ctl stop (MODE fast, or immediate: a crash)
#   rel_promote NAME        pg_ctl promote, waiting until it accepts writes
#   rel_migrate URL         icrctl db migrate (log in REL_DIR/migrate.log)
#   rel_db_new CLUSTER DB   another database in that cluster, migrated; prints its URL
#   rel_sql URL SQL...      psql -Atq, each SQL one -c, stops on the first error
#   rel_wait_replay PRIMARY STANDBY
#                           waits (30 s) until the standby has replayed what the primary wrote
#   rel_partition NAME      drops TCP to and from 127.0.0.2:port of cluster NAME (an nftables
#                           table of this shell's own, icr_rel_PID)
#   rel_heal                deletes that table (only ours)
#   rel_free_port           sets REL_FREE_PORT: a free TCP port on 127.0.0.1 not already
#                           handed out here
#   rel_server_start NAME [--listen HOST:PORT] [ICR-SERVER FLAGS...]
#                           icr-server on LISTEN (default a free port), no dashboard and no FHIR
#                           port unless the flags say so, logging to REL_DIR/NAME.log; waits until
#                           it answers. Sets REL_PID[NAME] and REL_ADDR[NAME] (host:port)
#   rel_server_kill NAME [SIGNAL]   signal (default KILL) and wait for it to exit
#   rel_server_stop NAME    SIGTERM (a clean shutdown), SIGKILL after 10 s
#   rel_server_of_pid PID   prints the NAME of the server with that pid ("" when none)
#   rel_track PID           another process of ours for rel_cleanup to stop
#   rel_token NAME ORG ROLE URL   prints a token (issued once by icrctl admin token create
#                                 against URL, kept in REL_DIR/tokens/NAME, mode 600)
#   rel_now                 seconds since the epoch, with a fraction
#   rel_calc EXPR           prints EXPR (awk arithmetic, e.g. "$a - $b")
#   rel_less A B            true when number A < number B
#   rel_after SECONDS       prints rel_now + SECONDS;  rel_before T: true while rel_now < T
#   rel_fail MESSAGE        prints FAIL: MESSAGE and exits 1
# Nothing else on the machine is touched.
REL_BUILD=${REL_BUILD:?set REL_BUILD to the build directory}
STACK_BUILD=$REL_BUILD
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/stack.sh"
PSQL=$PG_BIN/psql
declare -A REL_PID REL_ADDR REL_PORT REL_URL
REL_TRACKED=()
REL_CLUSTERS=()
REL_PORTS_GIVEN=" "
REL_NFT_TABLE=icr_rel_$$
REL_NFT_MADE=0

for f in "$ICRCTL" "$ICR_SERVER"; do
  [ -x "$f" ] || { echo "reliability: $f is not built" >&2; exit 1; }
done

rel_setup() {
  REL_DIR=$(mktemp -d "/tmp/icr-rel-$1-XXXXXX")
  REL_KEEP=$REL_BUILD/reliability/$1
  rm -rf "$REL_KEEP"
  # As root the clusters run as the postgres OS user: it must write their directories there.
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$REL_DIR"
  trap rel_cleanup EXIT
}

rel_cleanup_hook() { :; }
rel_cleanup() {
  local rc=$? pid name stat ppid
  rel_cleanup_hook
  rel_heal
  for pid in "${REL_TRACKED[@]}"; do
    # Only a process still ours: a PID that has ended may since belong to someone else.
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -r _ ppid _ <<<"${stat##*) }"
    [ "$ppid" = "$$" ] || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for name in "${REL_CLUSTERS[@]}"; do
    pg_as_owner "$PG_BIN/pg_ctl" -D "$REL_DIR/$name" -m immediate -w stop >/dev/null 2>&1 || true
  done
  # On failure the logs (servers', clusters', the test's own) are kept; tokens are not.
  if [ "$rc" != 0 ]; then
    mkdir -p "$REL_KEEP"
    find "$REL_DIR" -maxdepth 1 -type f -exec cp {} "$REL_KEEP/" \;
    echo "logs kept in $REL_KEEP" >&2
  fi
  rm -rf "$REL_DIR"
  return "$rc"
}

rel_track() { REL_TRACKED+=("$1"); }

rel_free_port() {
  REL_FREE_PORT=$(pg_free_port)
  while [[ "$REL_PORTS_GIVEN" == *" $REL_FREE_PORT "* ]]; do REL_FREE_PORT=$(pg_free_port); done
  REL_PORTS_GIVEN+="$REL_FREE_PORT "
}

# Adds CONF lines to cluster NAME's postgresql.conf, sets its port, starts it.
rel_pg_configure_start() {
  local name=$1 line
  shift
  rel_free_port
  REL_PORT[$name]=$REL_FREE_PORT
  REL_URL[$name]="host=127.0.0.1 port=${REL_PORT[$name]} user=postgres dbname=postgres"
  for line in "port = ${REL_PORT[$name]}" "$@"; do
    echo "$line" >>"$REL_DIR/$name/postgresql.conf"
  done
  REL_CLUSTERS+=("$name")
  pg_as_owner "$PG_BIN/pg_ctl" -D "$REL_DIR/$name" -l "$REL_DIR/$name.pg.log" -w -t 60 start \
    >/dev/null || { tail -20 "$REL_DIR/$name.pg.log" >&2; return 1; }
}

rel_pg_start() {
  local name=$1
  shift
  pg_as_owner "$PG_BIN/initdb" -D "$REL_DIR/$name" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync --no-instructions >"$REL_DIR/$name.initdb.log" 2>&1 ||
    { cat "$REL_DIR/$name.initdb.log" >&2; return 1; }
  echo "host replication postgres 127.0.0.0/8 trust" >>"$REL_DIR/$name/pg_hba.conf"
  rel_pg_configure_start "$name" "listen_addresses = '127.0.0.1,127.0.0.2'" \
    "unix_socket_directories = '$REL_DIR'" "wal_level = replica" "max_wal_senders = 5" \
    "hot_standby = on" "fsync = on" "synchronous_commit = on" "max_connections = 100" \
    "wal_receiver_status_interval = 1s" "$@"
}

rel_standby() {
  local name=$1 primary=$2
  shift 2
  pg_as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.2 -p "${REL_PORT[$primary]}" -U postgres \
    -D "$REL_DIR/$name" -R -X stream -c fast >"$REL_DIR/$name.basebackup.log" 2>&1 ||
    { cat "$REL_DIR/$name.basebackup.log" >&2; return 1; }
  rel_pg_configure_start "$name" "$@"
}

rel_pg_stop() { pg_as_owner "$PG_BIN/pg_ctl" -D "$REL_DIR/$1" -m "${2:-fast}" -w stop >/dev/null; }

rel_promote() { pg_as_owner "$PG_BIN/pg_ctl" -D "$REL_DIR/$1" -w promote >/dev/null; }

rel_migrate() {
  "$ICRCTL" db migrate --database-url "$1" >>"$REL_DIR/migrate.log" 2>&1 ||
    { tail -20 "$REL_DIR/migrate.log" >&2; return 1; }
}

rel_db_new() {
  local url="host=127.0.0.1 port=${REL_PORT[$1]} user=postgres dbname=$2"
  rel_sql "${REL_URL[$1]}" "CREATE DATABASE $2" >/dev/null || return 1
  rel_migrate "$url" || return 1
  echo "$url"
}

rel_sql() {
  local url=$1 args=() q
  shift
  for q in "$@"; do args+=(-c "$q"); done
  "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$url" "${args[@]}"
}

rel_wait_replay() {
  local primary=${REL_URL[$1]} standby=${REL_URL[$2]} lsn
  lsn=$(rel_sql "$primary" "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 300); do
    [ "$(rel_sql "$standby" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
    sleep 0.1
  done
  echo "reliability: the standby $2 did not replay $lsn within 30 s" >&2
  return 1
}

rel_partition() {
  local port=${REL_PORT[$1]}
  nft add table inet "$REL_NFT_TABLE"
  REL_NFT_MADE=1
  nft add chain inet "$REL_NFT_TABLE" out '{ type filter hook output priority 0; }'
  nft add rule inet "$REL_NFT_TABLE" out ip daddr 127.0.0.2 tcp dport "$port" drop
  nft add rule inet "$REL_NFT_TABLE" out ip saddr 127.0.0.2 tcp sport "$port" drop
}

rel_heal() {
  [ "$REL_NFT_MADE" = 1 ] || return 0
  nft delete table inet "$REL_NFT_TABLE" && REL_NFT_MADE=0
}

rel_server_start() {
  local name=$1 listen
  shift
  if [ "${1:-}" = --listen ]; then
    listen=$2
    shift 2
  else
    rel_free_port
    listen=127.0.0.1:$REL_FREE_PORT
  fi
  ICR_DASHBOARD_LISTEN=off ICR_FHIR_LISTEN=off "$ICR_SERVER" --listen "$listen" "$@" \
    >>"$REL_DIR/$name.log" 2>&1 &
  REL_PID[$name]=$!
  disown "$!"  # no job notice when a test kills it
  rel_track "${REL_PID[$name]}"
  REL_ADDR[$name]=$listen
  stack_wait "$listen" "${REL_PID[$name]}" || { tail -20 "$REL_DIR/$name.log" >&2; return 1; }
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

rel_token() { PG_URL=$4 stack_token "$REL_DIR" "$1" "$2" "$3"; }

rel_now() { date +%s.%N; }
rel_calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
rel_less() { awk "BEGIN { exit !($1 < $2) }"; }
rel_after() { rel_calc "$(rel_now) + $1"; }
rel_before() { rel_less "$(rel_now)" "$1"; }

rel_fail() {
  echo "FAIL: $*" >&2
  exit 1
}
