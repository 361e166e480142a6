#!/usr/bin/env bash
# Read routing to a streaming replica (--database-read-url), on clusters of its own: a primary and
# a hot standby (hot_standby_feedback on, max_standby_streaming_delay 1 s), icr-server with
#   --database-url      the primary
#   --database-read-url host=127.0.0.1,127.0.0.1 port=STANDBY,PRIMARY target_session_attrs=prefer-standby
# and a small demo population with computed indicators. It shows:
#   1. the dashboard (GetDashboard over gRPC, the HTTP dashboard and its CSV) answers from the
#      standby while a lock on the primary blocks every read of the results there (the standby's
#      replay is paused, so the lock does not reach it), and the read pool's connections are on
#      the standby, none on the primary;
#   2. the recompute's reads run on the standby: it completes while the primary holds locks on
#      the tables it reads (its write, to the results table, goes to the primary);
#   3. with feedback on, a long repeatable-read transaction on the standby and a recompute through
#      the service both survive the primary deleting and vacuuming rows they read; negative
#      control: with feedback off the same transaction is cancelled ("conflict with recovery").
#      The service's recompute is one short transaction per month here (well under the 1 s
#      delay), too short to overlap deterministically, so the negative control uses the direct
#      psql transaction;
#   4. with the standby stopped, reads fall back to the primary and the dashboard answers;
#      negative control for 1: a lock on the primary now blocks the dashboard.
#
# usage: tests/reliability/replica_routing.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
source "$HERE/cluster.sh"
cl_init replica_routing
trap cl_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "==> $*"; }

P=$(pg_free_port)
S=$(pg_free_port)
while [ "$S" = "$P" ]; do S=$(pg_free_port); done
step "primary on $P, standby on $S ($CL_DIR)"
cl_primary primary "$P"
cl_standby standby "$P" "$S" "hot_standby_feedback = on" "max_standby_streaming_delay = 1s"

PRIMARY_URL="host=127.0.0.1 port=$P user=postgres dbname=postgres"
READ_URL="host=127.0.0.1,127.0.0.1 port=$S,$P user=postgres dbname=postgres target_session_attrs=prefer-standby application_name=icr-read"
"$ICRCTL" db migrate --database-url "$PRIMARY_URL" >"$CL_DIR/migrate.log"
SYSTEM_TOKEN=$(cat "$(cl_token system RGD system "$PRIMARY_URL")")
ANALYST_TOKEN=$(cat "$(cl_token analyst RGD performance_analyst "$PRIMARY_URL")")
PG_URL=$PRIMARY_URL  # for stack_demo_tokens
DEMO_TOKENS=$(stack_demo_tokens "$CL_DIR")

GRPC=$(pg_free_port)
HTTP=$(pg_free_port)
while [ "$HTTP" = "$GRPC" ]; do HTTP=$(pg_free_port); done
cl_server server "127.0.0.1:$GRPC" --services all --database-url "$PRIMARY_URL" \
  --database-read-url "$READ_URL" --dashboard-listen "127.0.0.1:$HTTP" --fhir-listen off \
  --national-store --pool-size 4 --database-timeout 3
grep -q "performance reads .* go to host=127.0.0.1,127.0.0.1 port=$S,$P dbname=postgres target_session_attrs=prefer-standby" \
  "$CL_DIR/server.log" || fail "icr-server did not log where reads go"

ctl() { ICR_TOKEN=$1 "$ICRCTL" --server "127.0.0.1:$GRPC" "${@:2}"; }
step "demo seed and indicators"
ctl "$SYSTEM_TOKEN" demo seed --people 40 --seed 7 --tokens "$DEMO_TOKENS" >"$CL_DIR/seed.log"
FIRST_OF_MONTH=$(date -u +%Y-%m-01)
LAST=$(date -u -d "$FIRST_OF_MONTH -1 month" +%Y-%m)
FIRST=$(date -u -d "$FIRST_OF_MONTH -3 months" +%Y-%m)
cl_wait_replay "$P" "$S"  # the recompute reads the standby: it must have the seed
ctl "$SYSTEM_TOKEN" kpi compute --from "$FIRST" --to "$LAST" >"$CL_DIR/compute.log"
RESULTS=$(cl_sql "$P" "SELECT count(*) FROM perf.kpi_result")
[ "$RESULTS" -gt 0 ] || fail "no indicator results on the primary after kpi compute"
cl_wait_replay "$P" "$S"
dashboard() { timeout 20 env ICR_TOKEN="$ANALYST_TOKEN" "$ICRCTL" --server "127.0.0.1:$GRPC" \
  kpi dashboard --month "$LAST" --json; }
dashboard >"$CL_DIR/dashboard.json" || fail "dashboard"
grep -q '"figures"' "$CL_DIR/dashboard.json" || fail "dashboard without figures"

# A psql session on the primary holding a lock until it is terminated (application_name rel-lock).
hold_lock() {
  PGAPPNAME=rel-lock psql -h 127.0.0.1 -p "$P" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 \
    -c "BEGIN" -c "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(300)" \
    >/dev/null 2>&1 &
  cl_track $!
  for _ in $(seq 1 100); do
    [ "$(cl_sql "$P" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE a.application_name = 'rel-lock' AND l.mode = 'AccessExclusiveLock' AND l.granted
        AND l.relation = '${1%%,*}'::regclass")" -ge 1 ] && return 0
    sleep 0.1
  done
  fail "the lock on $1 was not taken"
}
release_lock() {
  cl_sql "$P" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'rel-lock'" >/dev/null
}
replay() { cl_sql "$S" "SELECT pg_wal_replay_$1()" >/dev/null; }

step "1. dashboard from the standby while the primary's results table is locked"
replay pause
hold_lock perf.kpi_result
start=$(date +%s%N)
dashboard >"$CL_DIR/dashboard-locked.json" || fail "GetDashboard did not answer while the primary was locked"
cmp -s "$CL_DIR/dashboard.json" "$CL_DIR/dashboard-locked.json" || fail "the standby's dashboard differs"
curl -sf -m 20 -b "icr_session=$ANALYST_TOKEN" "http://127.0.0.1:$HTTP/?month=$LAST" \
  -o "$CL_DIR/dashboard.html" || fail "the HTTP dashboard did not answer while the primary was locked"
curl -sf -m 20 -b "icr_session=$ANALYST_TOKEN" "http://127.0.0.1:$HTTP/export.csv?month=$LAST" \
  -o "$CL_DIR/export.csv" || fail "the CSV did not come while the primary was locked"
[ "$(wc -l <"$CL_DIR/export.csv")" -gt 1 ] || fail "the CSV has no figures"
echo "    GetDashboard, HTTP dashboard and CSV in $((($(date +%s%N) - start) / 1000000)) ms with the primary locked"
ON_STANDBY=$(cl_sql "$S" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
ON_PRIMARY=$(cl_sql "$P" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
echo "    read-pool connections: $ON_STANDBY on the standby, $ON_PRIMARY on the primary"
[ "$ON_STANDBY" -ge 1 ] && [ "$ON_PRIMARY" = 0 ] || fail "the read pool is not (only) on the standby"
release_lock

step "2. the recompute reads the standby while the primary locks the tables it reads"
hold_lock core.person
ctl "$SYSTEM_TOKEN" kpi compute --from "$LAST" --to "$LAST" >"$CL_DIR/compute-locked.log" 2>&1 ||
  { cat "$CL_DIR/compute-locked.log" >&2; fail "kpi compute while core.person was locked on the primary"; }
release_lock
replay resume

# A repeatable-read transaction on the standby holding its snapshot for 4 s, while the primary
# deletes rows it reads and vacuums them away (three times, to overlap any replay timing).
long_read_with_churn() {
  local out=$1
  psql -h 127.0.0.1 -p "$S" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 \
    -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM core.care_contact" \
    -c "SELECT pg_sleep(4)" -c "SELECT count(*) FROM core.care_contact" -c "COMMIT" \
    >"$out" 2>&1 &
  local reader=$!
  cl_track "$reader"
  sleep 0.5
  for _ in 1 2 3; do
    cl_sql "$P" "DELETE FROM core.care_contact WHERE ctid IN (SELECT ctid FROM core.care_contact LIMIT 20)" \
      "VACUUM core.care_contact" >/dev/null
    sleep 0.3
  done
  wait "$reader"
}

step "3. feedback on: no recovery conflict for a long standby read or the recompute"
cl_wait_replay "$P" "$S"
ctl "$SYSTEM_TOKEN" kpi compute --from "$FIRST" --to "$LAST" >"$CL_DIR/compute-churn.log" 2>&1 &
COMPUTE=$!
cl_track "$COMPUTE"
long_read_with_churn "$CL_DIR/read-feedback-on.out" ||
  { cat "$CL_DIR/read-feedback-on.out" >&2; fail "the standby read was cancelled with hot_standby_feedback on"; }
wait "$COMPUTE" || { cat "$CL_DIR/compute-churn.log" >&2; fail "kpi compute during the churn"; }
# Once the standby has replayed the recompute's writes, both hold the same results.
cl_wait_replay "$P" "$S"
RESULTS_SQL="SELECT count(*), md5(string_agg(r::text, ',' ORDER BY r::text)) FROM perf.kpi_result r"
[ "$(cl_sql "$P" "$RESULTS_SQL")" = "$(cl_sql "$S" "$RESULTS_SQL")" ] ||
  fail "the standby's results differ from the primary's after replay"
COUNTS=$(grep -v '^$' "$CL_DIR/read-feedback-on.out" | tr '\n' ' ')
read -r BEFORE AFTER <<<"$COUNTS"
[ -n "$BEFORE" ] && [ "$BEFORE" = "$AFTER" ] || fail "the repeatable-read counts differ: $COUNTS"
echo "    standby read kept its snapshot ($BEFORE contacts both times); recompute OK"

step "3'. negative control: feedback off cancels the same read"
cl_sql "$S" "ALTER SYSTEM SET hot_standby_feedback = off" "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
  [ "$(cl_sql "$P" "SELECT count(*) FROM pg_stat_replication WHERE backend_xmin IS NOT NULL")" = 0 ] && break
  sleep 0.1
done
cl_wait_replay "$P" "$S"
if long_read_with_churn "$CL_DIR/read-feedback-off.out"; then
  fail "negative control: the standby read survived with hot_standby_feedback off"
fi
grep -q "conflict with recovery" "$CL_DIR/read-feedback-off.out" ||
  { cat "$CL_DIR/read-feedback-off.out" >&2; fail "negative control: not a recovery conflict"; }
echo "    $(grep -m1 'conflict with recovery' "$CL_DIR/read-feedback-off.out")"

step "4. standby stopped: reads fall back to the primary"
cl_stop standby
dashboard >"$CL_DIR/dashboard-fallback.json" || fail "no dashboard after the standby stopped"
grep -q '"figures"' "$CL_DIR/dashboard-fallback.json" || fail "fallback dashboard without figures"
ON_PRIMARY=$(cl_sql "$P" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
[ "$ON_PRIMARY" -ge 1 ] || fail "the read pool did not move to the primary"
echo "    dashboard answered from the primary ($ON_PRIMARY read-pool connection(s) there)"
step "4'. negative control for 1: now the lock on the primary blocks the dashboard"
hold_lock perf.kpi_result
if dashboard >/dev/null 2>"$CL_DIR/dashboard-blocked.err"; then
  fail "negative control: the dashboard answered through a locked primary"
fi
echo "    blocked as expected: $(tail -1 "$CL_DIR/dashboard-blocked.err")"
release_lock
dashboard >/dev/null || fail "no dashboard after the lock was released"
echo "PASS replica_routing"
