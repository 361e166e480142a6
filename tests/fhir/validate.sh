#!/usr/bin/env bash
# Validates FHIR JSON / NDJSON files and folders offline: base R4 (fhir npm package) plus the
# project's UK Core checker (validate.mjs). Installs the npm dependencies on first use.
#   tests/fhir/validate.sh [--definitions DIR]... FILE_OR_DIR...
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "validate.sh: $tool missing (deploy/install-deps.sh installs it)" >&2; exit 2; }
done
if [ ! -d "$HERE/node_modules/fhir" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  log=$(mktemp)
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 2; }
  rm -f "$log"
fi
exec node "$HERE/validate.mjs" "$@"
