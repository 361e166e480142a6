#!/usr/bin/env bash
# Private PostgreSQL clusters for quickstart, tests and benchmarks. Source this file, then:
#   pg_start DIR [PORT]   initdb (once) and start a cluster under DIR; sets PG_URL and PG_PORT
#   pg_stop DIR           stop it (fast)
# PG_OPTS, if set, adds server options (e.g. "-c shared_buffers=1GB") when a cluster starts.
# As root, the cluster runs as the `postgres` OS user (initdb refuses to run as root).
PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
[ -x "$PG_BIN/initdb" ] || PG_BIN=/usr/lib/postgresql/15/bin

pg_as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_free_port() {
  perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
}

pg_start() {
  local dir=$1 port=${2:-}
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  if [ -f "$dir/port" ] && [ -z "$port" ]; then port=$(cat "$dir/port"); fi
  [ -n "$port" ] || port=$(pg_free_port)
  if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_OPTS:-}" \
      start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
  fi
  echo "$port" >"$dir/port"
  PG_PORT=$port
  PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  export PG_PORT PG_URL
}

pg_stop() {
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
