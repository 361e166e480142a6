#!/usr/bin/env bash
# Validates FHIR JSON / NDJSON files and folders offline: base R4 (fhir npm package) plus the
# project's UK Core checker (validate.mjs). Installs the npm dependencies on first use.
#   tests/fhir/validate.sh [--definitions DIR]... FILE_OR_DIR...
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$HERE/../npm-ci.sh" "$HERE" fhir
exec node "$HERE/validate.mjs" "$@"
