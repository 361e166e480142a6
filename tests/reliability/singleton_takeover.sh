#!/usr/bin/env bash
# singleton_takeover: three icr-server processes on one database (s117, record and performance,
# --kpi-refresh 1). Exactly one holds each singleton work (the S117 feed follower, the KPI
# refresh): the lease table names one holder and only that process's log says it holds it (and
# only a holder ever ran the KPI refresh). Detentions under s3 are written through RecordEvents,
# each of which the follower turns into an S117 entitlement; the follower's holder is SIGKILLed
# mid-stream and the writes go on through the survivors. Checked: another process took the work
# over within a bound (printed), and every detention was applied exactly once: one entitlement
# per person, one 's117_opened' history row and one detention link each, no feed errors, and the
# follower's cursor at the head of the feed, as `icrctl s117 wait` reports from a replica that
# is not the follower.
# Negative control (at the end, on a database of its own): replicas without a follower (the s117
# service not hosted) leave the same check failing.
#
# usage: tests/reliability/singleton_takeover.sh [BUILD_DIR]   (default: build/)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REL_BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
source "$HERE/lib.sh"

PEOPLE=${PEOPLE:-60}      # people, one qualifying detention each
KILL_AFTER=${KILL_AFTER:-20}  # detentions written before the follower's holder is killed
TAKEOVER_BOUND=10         # seconds: lease 5 s + attempts every 1 s + margin
COUNCIL=E08000035 ICB=QWO TRUST=RGD

rel_setup singleton
rel_pg_start db
DB=${REL_URL[db]}
rel_migrate "$DB"

# PEOPLE valid NHS numbers in the 999 test range (Modulus 11), one a line.
nhs_numbers() {
  local n=0 i=0 base sum d k check
  while [ "$n" -lt "$1" ]; do
    i=$((i + 1))
    base=$(printf '999%06d' "$((700000 + i))")
    sum=0
    for k in 0 1 2 3 4 5 6 7 8; do d=${base:$k:1}; sum=$((sum + d * (10 - k))); done
    check=$(((11 - sum % 11) % 11))
    [ "$check" = 10 ] && continue
    echo "$base$check"
    n=$((n + 1))
  done
}

# The server holding WORK now ("" when none holds it).
holder_of() {
  local holder
  holder=$(rel_sql "$DB" "SELECT holder FROM core.singleton_lease WHERE work = '$1' AND expires_at > now()")
  [ -n "$holder" ] || { echo ""; return 0; }
  rel_server_of_pid "$(echo "$holder" | cut -d: -f2)"
}

# Waits up to $2 seconds until WORK ($1) is held by a running server; prints its name.
wait_holder() {
  local name deadline
  deadline=$(rel_after "$2")
  while rel_before "$deadline"; do
    name=$(holder_of "$1")
    [ -n "$name" ] && { echo "$name"; return 0; }
    sleep 0.1
  done
  return 1
}

# Sends person $1 (an NHS number) with icrctl through the running servers, trying the next one
# when a server is down; sets LAST_SERVER.
ctl_any() {
  local tries name
  for tries in 1 2 3 4 5 6; do
    for name in "${!REL_PID[@]}"; do
      if "$ICRCTL" --server "${REL_ADDR[$name]}" --token "$TOKEN" "$@" >"$REL_DIR/ctl.out" 2>&1; then
        LAST_SERVER=$name
        return 0
      fi
    done
    sleep 0.2
  done
  cat "$REL_DIR/ctl.out" >&2
  return 1
}

add_person() {
  ctl_any person upsert --nhs-number "$1" --family-name Testperson --given-name Sam \
    --dob 1980-05-17 --council "$COUNCIL" --icb "$ICB" || rel_fail "person upsert"
}

# Records a qualifying detention (s3) for person $1; LAST_CURSOR is the write's change cursor.
add_detention() {
  echo "{\"eventId\":\"det-$1\",\"nhsNumber\":\"$1\",\"detentionStart\":{\"detentionId\":\"D-$1\",\"legalStatusCode\":\"03\",\"startedAt\":\"$(date -u -d '2 days ago' +%Y-%m-%dT10:00:00Z)\",\"providerCode\":\"$TRUST\"}}" \
    >"$REL_DIR/event.jsonl"
  ctl_any --json events record --file "$REL_DIR/event.jsonl" || rel_fail "events record"
  LAST_CURSOR=$(sed -n 's/.*"change_cursor": *"\([^"]*\)".*/\1/p' "$REL_DIR/ctl.out")
  [ -n "$LAST_CURSOR" ] || rel_fail "no change cursor in: $(cat "$REL_DIR/ctl.out")"
}

# The exactly-once check for $1 people, waiting up to $2 seconds for the follower to reach the
# head of the feed; prints what differs and fails when anything does.
check_applied() {
  local want=$1 deadline pending bad=""
  deadline=$(rel_after "$2")
  while :; do
    pending=$(rel_sql "$DB" "SELECT count(*) FROM core.changes c, s117.feed_cursor f
                       WHERE f.consumer = 's117' AND (c.txid, c.seq) > (f.txid, f.seq)")
    [ "$pending" != 0 ] && rel_before "$deadline" || break
    sleep 0.2
  done
  local -A got=(
    [detentions]=$(rel_sql "$DB" "SELECT count(*) FROM core.detention")
    [entitlements]=$(rel_sql "$DB" "SELECT count(*) FROM s117.episode")
    [people_entitled]=$(rel_sql "$DB" "SELECT count(DISTINCT person_id) FROM s117.episode")
    [opened_history]=$(rel_sql "$DB" "SELECT count(*) FROM s117.episode_history WHERE action = 's117_opened'")
    [detention_links]=$(rel_sql "$DB" "SELECT count(*) FROM s117.episode_detention")
  )
  local key
  for key in detentions entitlements people_entitled opened_history detention_links; do
    [ "${got[$key]}" = "$want" ] || bad+=" $key=${got[$key]} (want $want)"
  done
  local errors
  errors=$(rel_sql "$DB" "SELECT count(*) FROM s117.feed_error")
  [ "$errors" = 0 ] || bad+=" feed_errors=$errors"
  [ "$pending" = 0 ] || bad+=" changes_after_cursor=$pending"
  echo "check: ${got[entitlements]} entitlements for ${got[detentions]} detentions," \
    "${got[opened_history]} opened rows, ${got[detention_links]} links, $errors feed errors," \
    "$pending changes after the follower's cursor"
  [ -z "$bad" ] || { echo "check: differs:$bad"; return 1; }
}

echo "==> 3 icr-server processes on one database"
declare -A METRICS
for s in s1 s2 s3; do
  rel_free_port
  METRICS[$s]=127.0.0.1:$REL_FREE_PORT
  rel_server_start "$s" --database-url "$DB" --services s117,record,performance --kpi-refresh 1 \
    --metrics-listen "${METRICS[$s]}"
done
TOKEN=$(rel_token system "$TRUST" system "$DB")
FOLLOWER=$(wait_holder s117_follower 10) || rel_fail "nobody holds s117_follower"
KPI=$(wait_holder kpi_refresh 10) || rel_fail "nobody holds kpi_refresh"
sleep 2  # a few renewals and refreshes
for work in s117_follower kpi_refresh; do
  n=$(grep -l "holding singleton work $work" "$REL_DIR"/s?.log | wc -l)
  [ "$n" = 1 ] || rel_fail "$n processes logged holding $work (want 1)"
done
for s in s1 s2 s3; do
  grep -q "singleton work competed for: kpi_refresh,s117_follower" "$REL_DIR/$s.log" ||
    rel_fail "$s did not log the work it competes for"
done
# Each replica's icr_singleton_held{work} says the same: 1 in the holder, 0 in the others.
for work in s117_follower kpi_refresh; do
  holder=$FOLLOWER
  [ "$work" = kpi_refresh ] && holder=$KPI
  for s in s1 s2 s3; do
    want=0
    [ "$s" = "$holder" ] && want=1
    got=$(curl -sf "http://${METRICS[$s]}/metrics" |
      awk -v w="icr_singleton_held{work=\"$work\"}" '$1 == w { print $2 }')
    [ "$got" = "$want" ] || rel_fail "$s: icr_singleton_held{work=\"$work\"} is '$got' (want $want)"
  done
done
echo "    s117_follower held by $FOLLOWER, kpi_refresh by $KPI (lease table, logs and metrics agree)"

echo "==> $PEOPLE people, then a detention each; SIGKILL $FOLLOWER after $KILL_AFTER"
mapfile -t NHS < <(nhs_numbers "$PEOPLE")
for nhs in "${NHS[@]}"; do add_person "$nhs"; done
i=0
for nhs in "${NHS[@]:0:$KILL_AFTER}"; do add_detention "$nhs"; i=$((i + 1)); done
KILLED=$FOLLOWER
KILLED_AT=$(rel_now)
rel_server_kill "$KILLED"
echo "    killed $KILLED (SIGKILL) at $(date -u +%T.%N | cut -c1-12)"
# Keep writing while nobody follows, until another process holds the follower.
NEW=""
while [ -z "$NEW" ]; do
  [ "$i" -lt "$PEOPLE" ] || rel_fail "no takeover within the writes (raise PEOPLE)"
  add_detention "${NHS[$i]}"
  i=$((i + 1))
  NEW=$(holder_of s117_follower)
  rel_before "$(rel_calc "$KILLED_AT + $TAKEOVER_BOUND + 5")" || rel_fail "no takeover"
  sleep 0.2
done
ACQUIRED=$(rel_sql "$DB" "SELECT extract(epoch FROM acquired_at) FROM core.singleton_lease WHERE work = 's117_follower'")
TAKEOVER=$(rel_calc "$ACQUIRED - $KILLED_AT")
printf '    s117_follower taken over by %s %.2f s after the kill (%d detentions written meanwhile)\n' \
  "$NEW" "$TAKEOVER" "$((i - KILL_AFTER))"
rel_less "$TAKEOVER" "$TAKEOVER_BOUND" || rel_fail "takeover took ${TAKEOVER}s (bound ${TAKEOVER_BOUND}s)"
[ "$i" -lt "$PEOPLE" ] || rel_fail "no writes left after the takeover (raise PEOPLE)"
for nhs in "${NHS[@]:$i}"; do add_detention "$nhs"; done
echo "    $((PEOPLE - i)) detentions written after the takeover"

KPI_NOW=$(wait_holder kpi_refresh $TAKEOVER_BOUND) || rel_fail "nobody holds kpi_refresh"
echo "    kpi_refresh held by $KPI_NOW"
sleep 1.5  # a refresh by the new holder
for s in s1 s2 s3; do
  refreshes=$(grep -c "kpi refresh:" "$REL_DIR/$s.log" || true)
  if grep -q "holding singleton work kpi_refresh" "$REL_DIR/$s.log"; then
    echo "    $s held kpi_refresh and refreshed $refreshes times"
  else
    [ "$refreshes" = 0 ] || rel_fail "$s refreshed $refreshes times without holding kpi_refresh"
  fi
done
[ "$(grep -c "kpi refresh:" "$REL_DIR/$KPI_NOW.log")" -gt 0 ] || rel_fail "$KPI_NOW holds kpi_refresh but did not refresh"

echo "==> the register has applied every detention exactly once"
WAITER=""
for s in "${!REL_PID[@]}"; do [ "$s" = "$NEW" ] || WAITER=$s; done
"$ICRCTL" --server "${REL_ADDR[$WAITER]}" --token "$TOKEN" s117 wait --cursor "$LAST_CURSOR" \
  --wait-ms 20000 || rel_fail "icrctl s117 wait on $WAITER (not the follower) did not see the last write"
echo "    icrctl s117 wait on $WAITER (not the follower): the last write is applied"
check_applied "$PEOPLE" 20 || rel_fail "not every change applied exactly once"

echo "==> negative control: the same check with no follower in any replica"
for s in "${!REL_PID[@]}"; do rel_server_stop "$s"; done
DB=$(rel_db_new db negative)
rel_server_start n1 --database-url "$DB" --services record,performance
TOKEN=$(rel_token negative-system "$TRUST" system "$DB")
mapfile -t NHS < <(nhs_numbers 5)
for nhs in "${NHS[@]}"; do add_person "$nhs"; add_detention "$nhs"; done
if check_applied 5 3; then rel_fail "negative control: the check passed without a follower"; fi
echo "    the check failed, as it must"
echo "PASS singleton_takeover"
