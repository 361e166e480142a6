#!/usr/bin/env bash
# No acknowledged write lost across failover: a Jepsen "set" check through icr-server.
#
# Twice, on clusters of its own: a primary P (fsync on) and a standby S streaming from P over
# 127.0.0.2, icr-server pointed at both through one multi-host URL
#   host=127.0.0.1,127.0.0.1 port=P,S target_session_attrs=read-write
# and 4 writers (set_writer) recording events with ids never used before through its gRPC API,
# logging invoke / ok / info per id. After 3 s the replication link is cut (nftables, 2 s), P is
# crashed (pg_ctl stop -m immediate), S promoted, the link healed, and the writers carry on for
# 3 s through the same icr-server, whose pool reconnects to S through the URL. Then, on S:
#   lost       = acknowledged - stored   must be empty
#   unexpected = stored - invoked        must be empty
#   recovered  = indeterminate & stored  allowed
# and every id is stored at most once.
#   run 1: S is a synchronous standby (synchronous_standby_names = '*', synchronous_commit = on):
#          must lose nothing;
#   run 2, negative control: asynchronous replication, same faults: must lose something, or the
#          check could not fail.
# Also: during the outage the service answers UNAVAILABLE (or DEADLINE_EXCEEDED), never INTERNAL
# or UNKNOWN, and it acknowledges writes again after the promotion without a restart.
#
# usage: tests/reliability/failover_set_check.sh [BUILD_DIR [SET_WRITER]]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REL_BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
WRITER=${2:-$REL_BUILD/tests/set_writer}
source "$HERE/lib.sh"
rel_setup failover_set_check
export LC_ALL=C

# run MODE (sync | async): one failover under load; sets LOST for the caller.
run() {
  local mode=$1 P S PRIMARY STANDBY GRPC
  local sync=()
  [ "$mode" = sync ] && sync=("synchronous_standby_names = '*'")
  rel_pg_start "$mode-primary" "${sync[@]}"
  # The standby, once promoted, has no standby of its own: it must not wait for one.
  rel_standby "$mode-standby" "$mode-primary" "synchronous_standby_names = ''"
  P=${REL_PORT[$mode-primary]} S=${REL_PORT[$mode-standby]}
  PRIMARY=${REL_URL[$mode-primary]} STANDBY=${REL_URL[$mode-standby]}
  local state=
  for _ in $(seq 1 100); do
    state=$(rel_sql "$PRIMARY" "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'")
    [ "$state" = "$mode" ] && break
    sleep 0.1
  done
  [ "$state" = "$mode" ] || rel_fail "$mode: the standby is not streaming as $mode (sync_state '$state')"
  rel_migrate "$PRIMARY"
  rel_token "$mode-writer" RGD system "$PRIMARY" >/dev/null  # set_writer reads the file
  rel_server_start "$mode-server" --services record --database-timeout 2 \
    --database-url "host=127.0.0.1,127.0.0.1 port=$P,$S user=postgres dbname=postgres target_session_attrs=read-write"
  GRPC=${REL_ADDR[$mode-server]}
  echo "==> $mode: primary $P, standby $S (streaming, $state), icr-server $GRPC"

  local log=$REL_DIR/$mode
  "$WRITER" "$GRPC" "$REL_DIR/tokens/$mode-writer" 4 "$log" &
  local writer=$!
  rel_track "$writer"
  acknowledged() { cat "$log".w*.log | grep -c '^ok ' || true; }
  sleep 3
  rel_partition "$mode-primary"
  local ok_at_partition ok_at_crash ok_at_promotion
  ok_at_partition=$(acknowledged)
  sleep 2
  ok_at_crash=$(acknowledged)
  rel_pg_stop "$mode-primary" immediate
  rel_promote "$mode-standby"
  rel_heal
  ok_at_promotion=$(acknowledged)
  echo "    acknowledged during the partition: $((ok_at_crash - ok_at_partition))"
  sleep 3
  kill -TERM "$writer"
  wait "$writer"

  cat "$log".w*.log >"$log.all"
  awk '$1 == "invoke" {print $2}' "$log.all" | sort >"$log.invoked"
  awk '$1 == "ok" {print $2}' "$log.all" | sort >"$log.ok"
  awk '$1 == "info" {print $2}' "$log.all" | sort >"$log.info"
  rel_sql "$STANDBY" "SELECT event_id FROM core.event WHERE event_id LIKE 'set-%'" | sort >"$log.stored"
  local twice
  twice=$(rel_sql "$STANDBY" "SELECT count(*) FROM (SELECT 1 FROM core.event WHERE event_id LIKE 'set-%'
                       GROUP BY source_org, event_id HAVING count(*) > 1) t")
  LOST=$(comm -23 "$log.ok" "$log.stored" | wc -l)
  local unexpected recovered
  unexpected=$(comm -23 "$log.stored" "$log.invoked" | wc -l)
  recovered=$(comm -12 "$log.info" "$log.stored" | wc -l)
  echo "    invoked $(wc -l <"$log.invoked"), acknowledged $(wc -l <"$log.ok"), indeterminate $(wc -l <"$log.info") ($recovered stored), stored $(wc -l <"$log.stored")"
  echo "    lost $LOST, unexpected $unexpected, stored twice $twice"
  local codes
  codes=$(awk '$1 == "info" {print $3}' "$log.all" | sort | uniq -c | awk '{printf "%s code %s; ", $1, $2}')
  echo "    errors: ${codes:-none} (14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 13 INTERNAL, 2 UNKNOWN, -1 OK but not stored)"
  [ "$unexpected" = 0 ] || rel_fail "$mode: ids stored that no writer sent"
  [ "$twice" = 0 ] || rel_fail "$mode: an id stored twice"
  awk '$1 == "info" && $3 != 14 && $3 != 4 {bad = 1} END {exit bad}' "$log.all" ||
    rel_fail "$mode: answers other than UNAVAILABLE or DEADLINE_EXCEEDED during the outage"
  grep -q '^info .* 14$' "$log.all" || rel_fail "$mode: the outage was never answered UNAVAILABLE"
  local ok_after=$(($(wc -l <"$log.ok") - ok_at_promotion))
  echo "    acknowledged after the promotion: $ok_after"
  [ "$ok_after" -gt 0 ] || rel_fail "$mode: icr-server acknowledged nothing after the promotion"
  rel_server_stop "$mode-server"
  rel_pg_stop "$mode-standby" immediate
}

run sync
SYNC_LOST=$LOST
run async
ASYNC_LOST=$LOST
echo "==> lost: sync $SYNC_LOST, async $ASYNC_LOST"
[ "$SYNC_LOST" = 0 ] || rel_fail "synchronous replication lost $SYNC_LOST acknowledged writes"
[ "$ASYNC_LOST" -gt 0 ] || rel_fail "negative control: asynchronous replication lost nothing, so the check cannot fail"
echo "PASS failover_set_check"
