#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Key-phrase extraction: speed (bench_keywords.c, about 1 KB texts, warm scratch) and the
# sanity-set scores of both methods (sanity.py), with the shipped models/keywords.mnlp.
#
#   bash bench/keywords/run.sh [--build-dir DIR]      (default build-bench-keywords/, Release)
#
# Only public tools: bash, cmake, ninja, cc, python3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=build-bench-keywords
[ "${1:-}" = --build-dir ] && build=$2
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" micronlp micronlp-cli >/dev/null
mkdir -p bench/out
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/keywords/bench_keywords.c \
    "$build/libmicronlp.a" $(pkg-config --libs libutf8proc libxxhash) -lm -lpthread \
    -o bench/out/bench_keywords
echo "machine: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load $(awk '{ print $1 }' /proc/loadavg)"
bench/out/bench_keywords models/keywords.mnlp tests/data/keywords/sanity.tsv
python3 bench/keywords/sanity.py "$build/micronlp" models/keywords.mnlp
