#!/usr/bin/env bash
# Runs the FHIR mapper unit tests with ICR_FHIR_SAMPLES set, so each resource they build is
# written out, then validates them all (validate.sh: base R4 and UK Core).
#   tests/fhir/samples.sh UNIT_TESTS_BINARY OUT_DIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$2" && mkdir -p "$2"
ICR_FHIR_SAMPLES="$2" "$1" --gtest_filter='Fhir*' >/dev/null
[ -n "$(ls -A "$2")" ] || { echo "samples.sh: the mapper tests wrote no samples" >&2; exit 1; }
exec bash "$HERE/validate.sh" "$2"
