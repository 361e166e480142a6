#!/usr/bin/env bash
# Proves the validator catches what it should (ctest fhir_validator_selftest): every fixture in
# selftest/good passes, and every fixture in selftest/bad fails with the problem that
# selftest/bad/expected.tsv names for it. The project's definitions (services/fhir/definitions)
# come first; selftest/definitions holds stand-ins for the project artefacts the fixtures use,
# used only for URLs the project does not define (yet).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEFS=(--definitions "$HERE/ukcore" --definitions "$ROOT/services/fhir/definitions"
      --definitions "$HERE/selftest/definitions")
fail=0

echo "==> good fixtures"
if ! out=$("$HERE/validate.sh" "${DEFS[@]}" "$HERE/selftest/good"); then
  echo "$out"
  echo "FAIL: a good fixture was refused" >&2
  fail=1
else
  echo "$out" | tail -1
fi

echo "==> bad fixtures"
declare -A seen=()
while IFS=$'\t' read -r name expected; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  seen[$name]=1
  out=$("$HERE/validate.sh" "${DEFS[@]}" "$HERE/selftest/bad/$name"); rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL: $name: exit $rc, want 1"; echo "$out"; fail=1
  elif ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: $name: no line containing: $expected"; echo "$out"; fail=1
  else
    echo "caught: $name"
  fi
done <"$HERE/selftest/bad/expected.tsv"
for f in "$HERE"/selftest/bad/*.json "$HERE"/selftest/bad/*.ndjson; do
  name=$(basename "$f")
  [ -n "${seen[$name]:-}" ] || { echo "FAIL: $name has no line in expected.tsv"; fail=1; }
done

[ "$fail" -eq 0 ] && echo "fhir validator selftest: all good fixtures pass, all ${#seen[@]} bad ones caught"
exit "$fail"
