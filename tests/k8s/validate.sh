#!/usr/bin/env bash
# Validates the Kubernetes manifests offline (validate.js): deploy/k8s and deploy/k8s/migrate,
# rendered by kubectl kustomize and by the built-in renderer (which must agree), or by the
# built-in renderer alone when kubectl is missing. With --selftest, shows the validator refuses
# each broken variant in selftest-cases.yaml instead. Installs the npm dependencies on first use.
#   tests/k8s/validate.sh [--selftest]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
"$HERE/../npm-ci.sh" "$HERE" kubernetes-models
script=validate.js
[ "${1:-}" = --selftest ] && script=selftest.js
exec node "$HERE/$script" "$ROOT/deploy/k8s" "$ROOT/deploy/k8s/migrate"
