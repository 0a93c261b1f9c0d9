#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages micronlp needs. Usage: scripts/deps.sh [build|test|bench]
#   build: compiler, CMake and the libraries the library links
#   test:  build + what the test suite drives (fastText for interop parity, clang for sanitizers)
#   bench: test + the peers the benchmarks compare against
set -euo pipefail
what=${1:-build}
pkgs=(build-essential cmake ninja-build pkg-config libutf8proc-dev libxxhash-dev libmicrohttpd-dev libjansson-dev libcjson-dev libyaml-dev libsqlite3-dev libcurl4-openssl-dev)
case $what in
build) ;;
test) pkgs+=(fasttext python3) ;;
bench)
    pkgs+=(fasttext python3 clang hyperfine time python3-sklearn wrk hey nginx python3-fastapi python3-uvicorn python3-fasttext curl)
    # Debian's npm conflicts with a Node.js installed from elsewhere (NodeSource's bundles npm).
    command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
