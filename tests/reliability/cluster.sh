#!/usr/bin/env bash
# PostgreSQL primaries, streaming standbys, network partitions and icr-server processes for the
# reliability tests, all under one scratch directory and removed by cl_cleanup. Source this file
# with BUILD set to the build directory, then:
#   cl_init NAME            scratch directory CL_DIR=/tmp/icr-NAME-XXXXXX; call `trap cl_cleanup EXIT`
#                           (on failure the logs are kept in BUILD/reliability/NAME)
#   cl_primary NAME PORT [CONF...]
#                           initdb and start a primary listening on 127.0.0.1 and 127.0.0.2 (so a
#                           partition can cut only the replication link, which goes to 127.0.0.2),
#                           fsync and synchronous_commit on; CONF lines are added to its
#                           postgresql.conf (e.g. "synchronous_standby_names = '*'")
#   cl_standby NAME PRIMARY_PORT PORT [CONF...]
#                           pg_basebackup -R from the primary (over 127.0.0.2) and start it as a
#                           hot standby streaming from there
#   cl_stop NAME [MODE]     pg_ctl stop (MODE fast, or immediate: a crash)
#   cl_promote NAME         pg_ctl promote, waiting until it accepts writes
#   cl_sql PORT SQL...      psql -Atq on 127.0.0.1:PORT, database postgres, stops on error
#   cl_wait_replay PRIMARY_PORT STANDBY_PORT
#                           waits (30 s) until the standby has replayed what the primary wrote
#   cl_partition PORT       drops TCP between 127.0.0.2:PORT and anything (nftables table of our own)
#   cl_heal                 deletes that table (only ours)
#   cl_server NAME LISTEN FLAGS...
#                           starts icr-server (--listen LISTEN FLAGS...) logging to CL_DIR/NAME.log;
#                           sets SERVER_PID; waits until LISTEN answers
#   cl_token NAME ORG ROLE URL
#                           a token for ORG and ROLE in CL_DIR/NAME.token (mode 600); prints the path
#   cl_track PID            stop PID (TERM, then KILL) in cl_cleanup
# Processes are stopped by the PIDs recorded here, the nft table is this shell's own
# (icr_rel_$$), and nothing else on the machine is touched.
STACK_BUILD=${BUILD:?BUILD must name the build directory}
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/stack.sh"

CL_NFT_TABLE=icr_rel_$$
CL_NFT_MADE=0
CL_CLUSTERS=()
CL_PIDS=()

cl_init() {
  CL_DIR=$(mktemp -d "/tmp/icr-$1-XXXXXX")
  CL_KEEP=$BUILD/reliability/$1
  rm -rf "$CL_KEEP"
  # As root the clusters run as the postgres OS user: it must reach their directories.
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$CL_DIR"
  export CL_DIR
}

cl_track() { CL_PIDS+=("$1"); }

cl_cleanup() {
  local rc=$? pid name stat ppid
  cl_heal
  for pid in "${CL_PIDS[@]}"; do
    # Only a process still ours: a PID that has ended may since belong to someone else.
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -r _ ppid _ <<<"${stat##*) }"
    [ "$ppid" = "$$" ] || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for name in "${CL_CLUSTERS[@]}"; do
    pg_as_owner "$PG_BIN/pg_ctl" -D "$CL_DIR/$name" -m immediate -w stop >/dev/null 2>&1 || true
  done
  # On failure the logs (servers', clusters', writers') are kept in BUILD/reliability/NAME.
  if [ "$rc" != 0 ]; then
    mkdir -p "$CL_KEEP"
    find "$CL_DIR" -maxdepth 1 -type f ! -name '*.token' -exec cp {} "$CL_KEEP/" \;
    echo "logs kept in $CL_KEEP" >&2
  fi
  rm -rf "$CL_DIR"
  return "$rc"
}

cl_conf() {
  local data=$1
  shift
  local line
  for line in "$@"; do echo "$line" >>"$data/postgresql.conf"; done
}

cl_start() {
  local name=$1
  pg_as_owner "$PG_BIN/pg_ctl" -D "$CL_DIR/$name" -l "$CL_DIR/$name.log" -w -t 60 start >/dev/null ||
    { tail -20 "$CL_DIR/$name.log" >&2; return 1; }
}

cl_primary() {
  local name=$1 port=$2
  shift 2
  pg_as_owner "$PG_BIN/initdb" -D "$CL_DIR/$name" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync --no-instructions >"$CL_DIR/$name.initdb.log" 2>&1 ||
    { cat "$CL_DIR/$name.initdb.log" >&2; return 1; }
  cl_conf "$CL_DIR/$name" "listen_addresses = '127.0.0.1,127.0.0.2'" "port = $port" \
    "unix_socket_directories = '$CL_DIR'" "wal_level = replica" "max_wal_senders = 5" \
    "hot_standby = on" "fsync = on" "synchronous_commit = on" "max_connections = 100" \
    "wal_receiver_status_interval = 1s" "$@"
  echo "host replication postgres 127.0.0.0/8 trust" >>"$CL_DIR/$name/pg_hba.conf"
  CL_CLUSTERS+=("$name")
  cl_start "$name"
}

cl_standby() {
  local name=$1 primary_port=$2 port=$3
  shift 3
  pg_as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.2 -p "$primary_port" -U postgres \
    -D "$CL_DIR/$name" -R -X stream -c fast >"$CL_DIR/$name.basebackup.log" 2>&1 ||
    { cat "$CL_DIR/$name.basebackup.log" >&2; return 1; }
  cl_conf "$CL_DIR/$name" "port = $port" "$@"
  CL_CLUSTERS+=("$name")
  cl_start "$name"
}

cl_stop() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$CL_DIR/$1" -m "${2:-fast}" -w stop >/dev/null
}

cl_promote() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$CL_DIR/$1" -w promote >/dev/null
}

cl_sql() {
  local port=$1
  shift
  local args=() q
  for q in "$@"; do args+=(-c "$q"); done
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 "${args[@]}"
}

cl_wait_replay() {
  local primary=$1 standby=$2 lsn
  lsn=$(cl_sql "$primary" "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 300); do
    [ "$(cl_sql "$standby" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
    sleep 0.1
  done
  echo "cluster: the standby on $standby did not replay $lsn within 30 s" >&2
  return 1
}

cl_partition() {
  local port=$1
  nft add table inet "$CL_NFT_TABLE"
  CL_NFT_MADE=1
  nft add chain inet "$CL_NFT_TABLE" out '{ type filter hook output priority 0; }'
  nft add rule inet "$CL_NFT_TABLE" out ip daddr 127.0.0.2 tcp dport "$port" drop
  nft add rule inet "$CL_NFT_TABLE" out ip saddr 127.0.0.2 tcp sport "$port" drop
}

cl_heal() {
  [ "$CL_NFT_MADE" = 1 ] || return 0
  nft delete table inet "$CL_NFT_TABLE" && CL_NFT_MADE=0
}

cl_server() {
  local name=$1 listen=$2
  shift 2
  "$ICR_SERVER" --listen "$listen" "$@" >"$CL_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  cl_track "$SERVER_PID"
  stack_wait "$listen" "$SERVER_PID" || { tail -20 "$CL_DIR/$name.log" >&2; return 1; }
}

cl_token() {
  local name=$1 org=$2 role=$3 url=$4
  (umask 077; "$ICRCTL" admin token create --org "$org" --role "$role" --label "reliability $name" \
    --database-url "$url" >"$CL_DIR/$name.token")
  echo "$CL_DIR/$name.token"
}
