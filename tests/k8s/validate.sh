#!/usr/bin/env bash
# Validates the Kubernetes manifests offline (validate.js): deploy/k8s and deploy/k8s/migrate,
# rendered by kubectl kustomize and by the built-in renderer (which must agree), or by the
# built-in renderer alone when kubectl is missing. With --selftest, shows the validator refuses
# each broken variant in selftest-cases.yaml instead; with --flags BIN, checks instead that every
# icr-server flag and ICR_* variable the manifests and deploy/systemd use is one `BIN --help`
# lists. Installs the npm dependencies on first use.
#   tests/k8s/validate.sh [--selftest | --flags ICR_SERVER_BINARY]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
"$HERE/../npm-ci.sh" "$HERE" kubernetes-models
PATHS=("$ROOT/deploy/k8s" "$ROOT/deploy/k8s/migrate")
case "${1:-}" in
  --selftest) exec node "$HERE/selftest.js" "${PATHS[@]}" ;;
  --flags) exec node "$HERE/validate.js" --icr-server "$2" \
             --text "$ROOT/deploy/systemd/icr-server.service" \
             --text "$ROOT/deploy/systemd/icr-server.env.example" "${PATHS[@]}" ;;
  *) exec node "$HERE/validate.js" "${PATHS[@]}" ;;
esac
