#!/usr/bin/env bash
# Installs a test tool's npm dependencies (npm ci from its package-lock.json) when they are
# missing or older than the lock; prints npm's log only when it fails (exit 2).
#   tests/npm-ci.sh DIR MODULE    DIR holds package-lock.json; MODULE is one it installs
set -euo pipefail
dir=$1 module=$2
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "npm-ci.sh: $tool missing (deploy/install-deps.sh installs it)" >&2; exit 2; }
done
if [ ! -d "$dir/node_modules/$module" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
  log=$(mktemp)
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 2; }
  rm -f "$log"
fi
