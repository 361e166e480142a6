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
REL_BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
source "$HERE/lib.sh"
rel_setup replica_routing

step() { echo "==> $*"; }

rel_pg_start primary
rel_standby standby primary "hot_standby_feedback = on" "max_standby_streaming_delay = 1s"
P=${REL_PORT[primary]} S=${REL_PORT[standby]}
PRIMARY=${REL_URL[primary]} STANDBY=${REL_URL[standby]}
step "primary on $P, standby on $S ($REL_DIR)"

READ_URL="host=127.0.0.1,127.0.0.1 port=$S,$P user=postgres dbname=postgres target_session_attrs=prefer-standby application_name=icr-read"
rel_migrate "$PRIMARY"
SYSTEM_TOKEN=$(rel_token system RGD system "$PRIMARY")
ANALYST_TOKEN=$(rel_token analyst RGD performance_analyst "$PRIMARY")
DEMO_TOKENS=$(PG_URL=$PRIMARY stack_demo_tokens "$REL_DIR")

rel_free_port
HTTP=$REL_FREE_PORT
rel_server_start server --services all --database-url "$PRIMARY" \
  --database-read-url "$READ_URL" --dashboard-listen "127.0.0.1:$HTTP" --fhir-listen off \
  --national-store --pool-size 4 --database-timeout 3
GRPC=${REL_ADDR[server]}
grep -q "performance reads .* go to host=127.0.0.1,127.0.0.1 port=$S,$P dbname=postgres target_session_attrs=prefer-standby" \
  "$REL_DIR/server.log" || rel_fail "icr-server did not log where reads go"

ctl() { ICR_TOKEN=$1 "$ICRCTL" --server "$GRPC" "${@:2}"; }
step "demo seed and indicators"
ctl "$SYSTEM_TOKEN" demo seed --people 40 --seed 7 --tokens "$DEMO_TOKENS" >"$REL_DIR/seed.log"
FIRST_OF_MONTH=$(date -u +%Y-%m-01)
LAST=$(date -u -d "$FIRST_OF_MONTH -1 month" +%Y-%m)
FIRST=$(date -u -d "$FIRST_OF_MONTH -3 months" +%Y-%m)
rel_wait_replay primary standby  # the recompute reads the standby: it must have the seed
ctl "$SYSTEM_TOKEN" kpi compute --from "$FIRST" --to "$LAST" >"$REL_DIR/compute.log"
RESULTS=$(rel_sql "$PRIMARY" "SELECT count(*) FROM perf.kpi_result")
[ "$RESULTS" -gt 0 ] || rel_fail "no indicator results on the primary after kpi compute"
rel_wait_replay primary standby
dashboard() { timeout 20 env ICR_TOKEN="$ANALYST_TOKEN" "$ICRCTL" --server "$GRPC" \
  kpi dashboard --month "$LAST" --json; }
dashboard >"$REL_DIR/dashboard.json" || rel_fail "dashboard"
grep -q '"figures"' "$REL_DIR/dashboard.json" || rel_fail "dashboard without figures"

# A psql session on the primary holding a lock until it is terminated (application_name rel-lock).
hold_lock() {
  PGAPPNAME=rel-lock rel_sql "$PRIMARY" "BEGIN" "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" \
    "SELECT pg_sleep(300)" >/dev/null 2>&1 &
  rel_track $!
  for _ in $(seq 1 100); do
    [ "$(rel_sql "$PRIMARY" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE a.application_name = 'rel-lock' AND l.mode = 'AccessExclusiveLock' AND l.granted
        AND l.relation = '${1%%,*}'::regclass")" -ge 1 ] && return 0
    sleep 0.1
  done
  rel_fail "the lock on $1 was not taken"
}
release_lock() {
  rel_sql "$PRIMARY" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'rel-lock'" >/dev/null
}
replay() { rel_sql "$STANDBY" "SELECT pg_wal_replay_$1()" >/dev/null; }

step "1. dashboard from the standby while the primary's results table is locked"
replay pause
hold_lock perf.kpi_result
start=$(date +%s%N)
dashboard >"$REL_DIR/dashboard-locked.json" || rel_fail "GetDashboard did not answer while the primary was locked"
cmp -s "$REL_DIR/dashboard.json" "$REL_DIR/dashboard-locked.json" || rel_fail "the standby's dashboard differs"
curl -sf -m 20 -b "icr_session=$ANALYST_TOKEN" "http://127.0.0.1:$HTTP/?month=$LAST" \
  -o "$REL_DIR/dashboard.html" || rel_fail "the HTTP dashboard did not answer while the primary was locked"
curl -sf -m 20 -b "icr_session=$ANALYST_TOKEN" "http://127.0.0.1:$HTTP/export.csv?month=$LAST" \
  -o "$REL_DIR/export.csv" || rel_fail "the CSV did not come while the primary was locked"
[ "$(wc -l <"$REL_DIR/export.csv")" -gt 1 ] || rel_fail "the CSV has no figures"
echo "    GetDashboard, HTTP dashboard and CSV in $((($(date +%s%N) - start) / 1000000)) ms with the primary locked"
ON_STANDBY=$(rel_sql "$STANDBY" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
ON_PRIMARY=$(rel_sql "$PRIMARY" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
echo "    read-pool connections: $ON_STANDBY on the standby, $ON_PRIMARY on the primary"
[ "$ON_STANDBY" -ge 1 ] && [ "$ON_PRIMARY" = 0 ] || rel_fail "the read pool is not (only) on the standby"
release_lock

step "2. the recompute reads the standby while the primary locks the tables it reads"
hold_lock core.person
ctl "$SYSTEM_TOKEN" kpi compute --from "$LAST" --to "$LAST" >"$REL_DIR/compute-locked.log" 2>&1 ||
  { cat "$REL_DIR/compute-locked.log" >&2; rel_fail "kpi compute while core.person was locked on the primary"; }
release_lock
replay resume

# A repeatable-read transaction on the standby holding its snapshot for 4 s, while the primary
# deletes rows it reads and vacuums them away (three times, to overlap any replay timing).
long_read_with_churn() {
  local out=$1
  rel_sql "$STANDBY" "BEGIN ISOLATION LEVEL REPEATABLE READ" \
    "SELECT count(*) FROM core.care_contact" "SELECT pg_sleep(4)" \
    "SELECT count(*) FROM core.care_contact" "COMMIT" >"$out" 2>&1 &
  local reader=$!
  rel_track "$reader"
  sleep 0.5
  for _ in 1 2 3; do
    rel_sql "$PRIMARY" "DELETE FROM core.care_contact WHERE ctid IN (SELECT ctid FROM core.care_contact LIMIT 20)" \
      "VACUUM core.care_contact" >/dev/null
    sleep 0.3
  done
  wait "$reader"
}

step "3. feedback on: no recovery conflict for a long standby read or the recompute"
rel_wait_replay primary standby
ctl "$SYSTEM_TOKEN" kpi compute --from "$FIRST" --to "$LAST" >"$REL_DIR/compute-churn.log" 2>&1 &
COMPUTE=$!
rel_track "$COMPUTE"
long_read_with_churn "$REL_DIR/read-feedback-on.out" ||
  { cat "$REL_DIR/read-feedback-on.out" >&2; rel_fail "the standby read was cancelled with hot_standby_feedback on"; }
wait "$COMPUTE" || { cat "$REL_DIR/compute-churn.log" >&2; rel_fail "kpi compute during the churn"; }
# Once the standby has replayed the recompute's writes, both hold the same results.
rel_wait_replay primary standby
RESULTS_SQL="SELECT count(*), md5(string_agg(r::text, ',' ORDER BY r::text)) FROM perf.kpi_result r"
[ "$(rel_sql "$PRIMARY" "$RESULTS_SQL")" = "$(rel_sql "$STANDBY" "$RESULTS_SQL")" ] ||
  rel_fail "the standby's results differ from the primary's after replay"
COUNTS=$(grep -v '^$' "$REL_DIR/read-feedback-on.out" | tr '\n' ' ')
read -r BEFORE AFTER <<<"$COUNTS"
[ -n "$BEFORE" ] && [ "$BEFORE" = "$AFTER" ] || rel_fail "the repeatable-read counts differ: $COUNTS"
echo "    standby read kept its snapshot ($BEFORE contacts both times); recompute OK"

step "3'. negative control: feedback off cancels the same read"
rel_sql "$STANDBY" "ALTER SYSTEM SET hot_standby_feedback = off" "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
  [ "$(rel_sql "$PRIMARY" "SELECT count(*) FROM pg_stat_replication WHERE backend_xmin IS NOT NULL")" = 0 ] && break
  sleep 0.1
done
rel_wait_replay primary standby
if long_read_with_churn "$REL_DIR/read-feedback-off.out"; then
  rel_fail "negative control: the standby read survived with hot_standby_feedback off"
fi
grep -q "conflict with recovery" "$REL_DIR/read-feedback-off.out" ||
  { cat "$REL_DIR/read-feedback-off.out" >&2; rel_fail "negative control: not a recovery conflict"; }
echo "    $(grep -m1 'conflict with recovery' "$REL_DIR/read-feedback-off.out")"

step "4. standby stopped: reads fall back to the primary"
rel_pg_stop standby
dashboard >"$REL_DIR/dashboard-fallback.json" || rel_fail "no dashboard after the standby stopped"
grep -q '"figures"' "$REL_DIR/dashboard-fallback.json" || rel_fail "fallback dashboard without figures"
ON_PRIMARY=$(rel_sql "$PRIMARY" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'icr-read'")
[ "$ON_PRIMARY" -ge 1 ] || rel_fail "the read pool did not move to the primary"
echo "    dashboard answered from the primary ($ON_PRIMARY read-pool connection(s) there)"
step "4'. negative control for 1: now the lock on the primary blocks the dashboard"
hold_lock perf.kpi_result
if dashboard >/dev/null 2>"$REL_DIR/dashboard-blocked.err"; then
  rel_fail "negative control: the dashboard answered through a locked primary"
fi
echo "    blocked as expected: $(tail -1 "$REL_DIR/dashboard-blocked.err")"
release_lock
dashboard >/dev/null || rel_fail "no dashboard after the lock was released"
echo "PASS replica_routing"
