#!/usr/bin/env bash
# db_hung: the database stops answering while icr-server serves. The test's own PostgreSQL (its
# postmaster and every backend) is stopped with SIGSTOP: connections stay open and the kernel
# still acknowledges every byte, but nothing answers. A call (icrctl kpi list: ListIndicators
# reads the store) must come back UNAVAILABLE, not INTERNAL and not hanging, within
# --database-timeout plus a margin; after SIGCONT the same icr-server process answers again,
# without a restart.
# Negative control: with a larger --database-timeout the same call is still unanswered at the
# first bound, so the bound measures the flag.
# (tests/integration/outage_pgtest.cpp holds the in-process cases: a refused, frozen or blocked
# database behind a proxy; this one is the process as deployed, with its flag.)
#
# usage: tests/reliability/db_hung.sh [BUILD_DIR]   (default: build/)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REL_BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
source "$HERE/lib.sh"

TIMEOUT=2         # --database-timeout, seconds
MARGIN=1.5        # for the answer to travel and the client to start
LARGE_TIMEOUT=20  # the negative control's --database-timeout

rel_setup dbhung
rel_pg_start db
DB=${REL_URL[db]}
rel_migrate "$DB"
FROZEN=""
# The cluster's processes: the postmaster (first line of postmaster.pid) and its children (from
# /proc, so that no procps is needed).
pg_pids() {
  local pm
  pm=$(head -1 "$REL_DIR/db/postmaster.pid")
  echo "$pm" $(cat "/proc/$pm/task/$pm/children")
}
freeze() { FROZEN=$(pg_pids); kill -STOP $FROZEN; }
thaw() { [ -z "$FROZEN" ] || kill -CONT $FROZEN 2>/dev/null || true; FROZEN=""; }
rel_cleanup_hook() { thaw; }

TOKEN=$(rel_token analyst RGD performance_analyst "$DB")
call() { "$ICRCTL" --server "${REL_ADDR[$1]}" --token "$TOKEN" kpi list; }

echo "==> icr-server --database-timeout $TIMEOUT; a call while the database answers"
rel_server_start h1 --database-url "$DB" --services performance --database-timeout "$TIMEOUT" --pool-size 2
PID=${REL_PID[h1]}
call h1 >/dev/null || rel_fail "the call failed before the database stopped"

echo "==> the database stops answering (SIGSTOP to its $(pg_pids | wc -w) processes)"
freeze
START=$(rel_now)
set +e
OUT=$(call h1 2>&1)
RC=$?
set -e
ELAPSED=$(rel_calc "$(rel_now) - $START")
echo "    answered in ${ELAPSED}s (exit $RC): $(echo "$OUT" | tail -1)"
[ "$RC" != 0 ] || rel_fail "the call succeeded with the database stopped"
echo "$OUT" | grep -q "UNAVAILABLE" || rel_fail "not UNAVAILABLE: $OUT"
if echo "$OUT" | grep -q "INTERNAL"; then rel_fail "INTERNAL: $OUT"; fi
BOUND=$(rel_calc "$TIMEOUT + $MARGIN")
rel_less "$ELAPSED" "$BOUND" || rel_fail "UNAVAILABLE after ${ELAPSED}s (bound ${BOUND}s)"

echo "==> the database answers again (SIGCONT): the same process recovers"
thaw
RECOVERED=""
for _ in $(seq 1 50); do
  if call h1 >/dev/null 2>&1; then RECOVERED=yes; break; fi
  sleep 0.2
done
[ -n "$RECOVERED" ] || rel_fail "no answer after the database came back"
kill -0 "$PID" 2>/dev/null || rel_fail "icr-server exited"
echo "    answered again, icr-server pid $PID unchanged"

echo "==> negative control: --database-timeout $LARGE_TIMEOUT, the same call at ${BOUND}s"
rel_server_stop h1
rel_server_start h2 --database-url "$DB" --services performance --database-timeout "$LARGE_TIMEOUT" --pool-size 2
call h2 >/dev/null || rel_fail "the call failed before the database stopped"
freeze
call h2 >"$REL_DIR/negative.out" 2>&1 &
CALL=$!
sleep "$BOUND"
if ! kill -0 "$CALL" 2>/dev/null; then
  rel_fail "negative control: answered within ${BOUND}s with --database-timeout $LARGE_TIMEOUT: $(cat "$REL_DIR/negative.out")"
fi
echo "    still unanswered at ${BOUND}s, as it must be"
thaw
wait "$CALL" || true
echo "PASS db_hung"
