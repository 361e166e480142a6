#!/usr/bin/env bash
# Configures and builds the project into build/ (Release with debug info). Arguments go to
# cmake --build, e.g. --target icr-server icrctl to build only the binaries (deploy/Containerfile).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
