#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the services and the tests need (only those
# missing). Run as root, or with sudo available; does nothing when everything is present.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config perl openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libpq-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev libcxxopts-dev libssl-dev libcpp-httplib-dev libboost1.74-dev
  prometheus-cpp-dev
  postgresql postgresql-client
  chromium nodejs npm   # the dashboard's browser test (tests/e2e)
  nftables curl         # the reliability tests: network partitions, the HTTP dashboard
  mdbtools              # ImportDataset reads a trust's MHSDS Intermediate Database (.mdb/.accdb)
)
# A package counts as present when it is installed, or (node and npm) when its command is there:
# NodeSource's nodejs bundles npm and conflicts with Debian's npm package.
present() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
  case $1 in
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    *) return 1 ;;
  esac
}
missing=()
for p in "${PACKAGES[@]}" "$@"; do
  present "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
