#!/usr/bin/env bash
# Validates the Kubernetes manifests offline (validate.js): deploy/k8s and deploy/k8s/migrate,
# rendered by kubectl kustomize and by the built-in renderer (which must agree), or by the
# built-in renderer alone when kubectl is missing. With --selftest, shows the validator refuses
# each broken variant in selftest-cases.yaml instead. Installs the npm dependencies on first use.
#   tests/k8s/validate.sh [--selftest]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "validate.sh: $tool missing (deploy/install-deps.sh installs it)" >&2; exit 2; }
done
if [ ! -d "$HERE/node_modules/kubernetes-models" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  log=$(mktemp)
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 2; }
  rm -f "$log"
fi
script=validate.js
[ "${1:-}" = --selftest ] && script=selftest.js
exec node "$HERE/$script" "$ROOT/deploy/k8s" "$ROOT/deploy/k8s/migrate"
