#!/usr/bin/env bash
# import_sigkill_resend: icr-server is SIGKILLed in the middle of a streaming import (`icrctl
# s117 import FILE.csv`: ImportRegister, each row its own transaction), restarted, and the same
# whole file sent again. The stored state must equal a clean single import of the file into a
# database of its own: per source_ref one entitlement with the same person, state, dates and
# bodies, one history row and one audit row per entitlement, nothing lost and nothing twice;
# and the rerun must answer every row stored before the kill DUPLICATE.
# Negative control: before the resend the same comparison fails (rows missing).
#
# usage: tests/reliability/import_sigkill_resend.sh [BUILD_DIR]   (default: build/)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REL_BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
source "$HERE/lib.sh"

ROWS=${ROWS:-1500}
COUNCIL=E08000035

rel_setup import
# fsync and synchronous_commit off: icr-server is killed, not PostgreSQL, and 3000 commits
# with fsync take twice as long.
rel_pg_start db "fsync = off" "synchronous_commit = off"
DB=${REL_URL[db]}
rel_migrate "$DB"
CLEAN_URL=$(rel_db_new db clean)

echo "==> a register of $ROWS entitlements"
FILE=$REL_DIR/register.csv
awk -v rows="$ROWS" 'BEGIN {
  print "source_ref,nhs_number,family_name,given_name,date_of_birth,qualifying_section," \
        "detention_start_date,left_hospital_date,detaining_provider_code,council_code," \
        "council_basis,icb_code,icb_basis,registered_on"
  n = 0
  for (i = 1; n < rows; i++) {
    base = sprintf("999%06d", 800000 + i); sum = 0
    for (k = 0; k < 9; k++) sum += substr(base, k + 1, 1) * (10 - k)
    check = (11 - sum % 11) % 11
    if (check == 10) continue
    n++
    printf "REG-%05d,%s%d,Okafor,Ada,1980-02-03,S3,2023-01-0%d,2023-03-1%d,RGD,E08000035," \
           "OR_ENGLAND_S117_3A,QWO,CORE_GP_REGISTRATION,2023-03-20\n", n, base, check, n % 9 + 1, n % 9
  }
}' >"$FILE"

# Imports FILE through server $1; output in $2.
import() {
  "$ICRCTL" --server "${REL_ADDR[$1]}" --token "$TOKEN" s117 import "$FILE" >"$2" 2>&1
}
# What the import stored, one line per source_ref, comparable across databases.
state() {
  rel_sql "$1" "
    SELECT e.source_ref, p.nhs_number, e.state, e.detention_start_date, e.effective_from,
           e.responsible_council_code, e.responsible_icb_code,
           (SELECT count(*) FROM s117.episode_history h WHERE h.episode_id = e.episode_id),
           (SELECT count(*) FROM core.audit a WHERE a.person_id = e.person_id
              AND a.action = 'ImportRegister')
    FROM s117.episode e JOIN core.person p USING (person_id)
    ORDER BY e.source_ref" >"$2"
  rel_sql "$1" "SELECT count(*), count(DISTINCT source_ref), count(DISTINCT person_id)
                FROM s117.episode" >>"$2"
  rel_sql "$1" "SELECT count(*) FROM core.person" >>"$2"
}

echo "==> the clean import, into a database of its own"
rel_server_start clean --database-url "$CLEAN_URL" --services s117,record
TOKEN=$(rel_token clean-system "$COUNCIL" system "$CLEAN_URL")
START=$(rel_now)
import clean "$REL_DIR/clean.out" || rel_fail "clean import: $(tail -3 "$REL_DIR/clean.out")"
echo "    $(tail -1 "$REL_DIR/clean.out") in $(rel_calc "$(rel_now) - $START")s"
rel_server_stop clean
state "$CLEAN_URL" "$REL_DIR/clean.state"

echo "==> the import again, icr-server SIGKILLed mid-stream"
rel_server_start a --database-url "$DB" --services s117,record
TOKEN=$(rel_token system "$COUNCIL" system "$DB")
import a "$REL_DIR/first.out" &
IMPORT=$!
KILL_AT=$((ROWS / 3))
for _ in $(seq 1 600); do
  n=$(grep -c '^row ' "$REL_DIR/first.out" 2>/dev/null || true)
  [ "${n:-0}" -ge "$KILL_AT" ] && break
  kill -0 "$IMPORT" 2>/dev/null || break
  sleep 0.05
done
rel_server_kill a
wait "$IMPORT" && rel_fail "the import finished before the kill (raise ROWS)"
STORED_BEFORE=$(grep -c '^row .* STORED' "$REL_DIR/first.out" || true)
IN_DB=$(rel_sql "$DB" "SELECT count(*) FROM s117.episode")
echo "    killed after $STORED_BEFORE rows answered STORED ($IN_DB in the store); icrctl said:" \
  "$(tail -1 "$REL_DIR/first.out")"
[ "$STORED_BEFORE" -gt 0 ] && [ "$IN_DB" -lt "$ROWS" ] || rel_fail "the kill was not mid-stream"

echo "==> negative control: without the resend the stored state differs from the clean import"
state "$DB" "$REL_DIR/killed.state"
if cmp -s "$REL_DIR/clean.state" "$REL_DIR/killed.state"; then
  rel_fail "negative control: the comparison passed with rows missing"
fi
echo "    differs, as it must ($(($(wc -l <"$REL_DIR/clean.state") - $(wc -l <"$REL_DIR/killed.state"))) lines fewer)"

echo "==> restart, send the whole file again"
rel_server_start b --database-url "$DB" --services s117,record
import b "$REL_DIR/second.out" || rel_fail "resend: $(tail -3 "$REL_DIR/second.out")"
echo "    $(tail -1 "$REL_DIR/second.out")"
DUPLICATES=$(grep -c '^row .* DUPLICATE' "$REL_DIR/second.out" || true)
[ "$DUPLICATES" = "$IN_DB" ] || rel_fail "$DUPLICATES rows DUPLICATE on the resend, $IN_DB were stored before"
# Every row the first run answered STORED is DUPLICATE now.
grep '^row .* STORED' "$REL_DIR/first.out" | awk '{print $2}' | sort >"$REL_DIR/first.stored"
grep '^row .* DUPLICATE' "$REL_DIR/second.out" | awk '{print $2}' | sort >"$REL_DIR/second.dup"
[ -z "$(comm -23 "$REL_DIR/first.stored" "$REL_DIR/second.dup")" ] ||
  rel_fail "rows answered STORED before the kill were not DUPLICATE on the resend"
state "$DB" "$REL_DIR/resent.state"
diff "$REL_DIR/clean.state" "$REL_DIR/resent.state" >"$REL_DIR/state.diff" ||
  rel_fail "the stored state differs from the clean import: $(head -5 "$REL_DIR/state.diff")"
echo "    the stored state equals the clean import ($(tail -2 "$REL_DIR/resent.state" | head -1 | tr '|' ' ') entitlements, source refs, people)"
echo "PASS import_sigkill_resend"
