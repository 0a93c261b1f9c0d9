#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Job store benchmark: results saved per second by the SQLite store, by claim batch size, with
# and without fsync at every commit.
#
#   bash bench/jobs/run.sh [--build-dir DIR] [--dir DIR] [bench_store options...]
#
#   --build-dir DIR  CMake build directory (default build-bench-jobs/, Release)
#   --dir DIR        where the store files go (default bench/out/jobs/); put it on the disk you
#                    mean to measure: a tmpfs makes fsync free and durable=1 meaningless
#   anything else is passed to bench_store: --n N (200000), --batches 1,16,256,1024,
#   --durable 1,0, --seconds S (60, cap per row), --submit-batch B (1000), --keys
#
# What it does: builds the micronlp_jobs library (CMake + ninja), compiles bench_store.c
# against it, prints the machine (CPU, load, file system, SQLite version), runs the benchmark
# and prints its markdown table, then the load again. The table is also written to
# bench/out/jobs.md. Only public tools: bash, cmake, ninja, cc, pkg-config, df, uptime.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

build=build-bench-jobs
dir=bench/out/jobs
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h | --help) sed -n '4,19p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
    esac
done

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" micronlp micronlp_jobs >/dev/null
# Static archives: the linker takes only the objects the benchmark reaches.
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iinclude bench/jobs/bench_store.c \
    "$build/libmicronlp_jobs.a" "$build/libmicronlp.a" \
    $(pkg-config --libs sqlite3 libutf8proc libxxhash) -lpthread -lm \
    -o "$build/bench_store"

mkdir -p "$dir" bench/out
{
    echo "## Job store (SQLite) — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
    echo "- load before: $(uptime | sed 's/.*load average/load average/')"
    echo "- store directory: $dir on $(df -T "$dir" | awk 'NR==2 {print $2 " (" $1 ")"}')"
    echo "- SQLite $(pkg-config --modversion sqlite3); bench_store ${args[*]:-(defaults)}"
    echo
    "$build/bench_store" --dir "$dir" "${args[@]}"
    echo
    echo "- load after: $(uptime | sed 's/.*load average/load average/')"
} | tee bench/out/jobs.md
