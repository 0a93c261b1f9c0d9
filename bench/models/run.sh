#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The default models against their peers, each task side by side in one run on the same split.
#
#   bash bench/models/run.sh [options]
#
#   --only NAME[,NAME]  tasks to run (default: spam,topic,sentiment,toxicity)
#   --bin PATH          use this micronlp binary instead of building build-bench/micronlp
#   --runs N            hyperfine runs for each prediction-throughput figure (default 5)
#   --min-lines N       replicate the test texts to at least N lines for throughput (default 50000)
#   --idle-wait S       before each measured step, wait up to S seconds (default 120) for the
#                       other processes on the machine to use less than 0.3 of a core
#
# For each task, on data/models/NAME/{train,test}.txt made by the same converters as the shipped
# model (scripts/models/recipes.sh):
#   micronlp  the shipped recipe: `micronlp train` (RECIPE, 1 thread, seed 1) + `micronlp quantize
#             --cutoff CUTOFF --qout` (the model in models/NAME.mnlp is this one);
#   fastText  Debian's `fasttext supervised` with the same RECIPE string, 1 thread, seed 1 (.bin),
#             and `fasttext quantize -qnorm -cutoff CUTOFF -retrain` of it (.ftz), the
#             quantisation fastText's documentation recommends for a size budget (no -qout:
#             fastText refuses it for an output matrix under 256 rows, i.e. under 256 labels);
#   sklearn   TF-IDF (word 1-2-grams, min_df 2, sublinear tf) + LogisticRegression(C=SK_C), one
#             thread, Debian's python3-sklearn (bench/models/sklearn_tfidf.py).
# Measured: accuracy and macro-F1 on test.txt (and the extra evaluation sets), every tool's
# predictions scored by one scorer (bench/models/score.py); training wall and CPU (user+sys) time
# (/usr/bin/time; micronlp and fastText: train + quantize, whole process); predictions per second
# on one thread (micronlp and fastText: `predict` over the test texts replicated to --min-lines
# lines, whole process including model load: lines / median wall time of hyperfine runs, and
# lines / mean CPU time (user+sys), which other jobs on the machine disturb less; scikit-learn: in-process
# transform + predict of the test texts, no start-up and no file reading, which favours it);
# model file size (scikit-learn: the pickled vectorizer + model).
# Writes bench/out/models.md (the table) and keeps logs and raw numbers in bench/out/models/.
# Only public tools: bash, awk, python3 (+ python3-sklearn), /usr/bin/time, hyperfine, fasttext.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

only=spam,topic,sentiment,toxicity
bin=
runs=5
min_lines=50000
idle_wait=120
while [ $# -gt 0 ]; do
    case $1 in
    --only) only=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --min-lines) min_lines=$2; shift 2 ;;
    --idle-wait) idle_wait=$2; shift 2 ;;
    -h | --help) sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

prog=run.sh
# shellcheck source=bench/models/common.sh
. bench/models/common.sh
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install hyperfine)"

out=bench/out
work=$out/models
mkdir -p "$work"
res=$work/results.tsv
: >"$res"
put() { printf '%s\t%s\n' "$1" "$2" >>"$res"; }

put machine.nproc "$(nproc)"
put machine.cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
put machine.ram "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
put machine.load "$(awk '{ print $1 }' /proc/loadavg)"
put version.fasttext "$(dpkg-query -W -f='${Version}' fasttext 2>/dev/null || echo unknown)"
put version.sklearn "$($PY -c 'import sklearn; print(sklearn.__version__)')"
put date "$(date -u +%Y-%m-%dT%H:%MZ)"

build_micronlp
MN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
put version.micronlp "$("$MN" --version 2>/dev/null | head -1)"

# ---- quiet-machine helpers (as bench/classifier/run.sh) ---------------------------------------
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
wait_idle() {
    local start=$SECONDS b0 b1 warned=0
    while :; do
        b0=$(busy_ticks); sleep 2; b1=$(busy_ticks)
        if [ $((b1 - b0)) -lt $((HZ * 6 / 10)) ]; then return 0; fi
        if [ $((SECONDS - start)) -ge "$idle_wait" ]; then
            [ $warned -eq 2 ] || echo "run.sh: warning: machine still busy after ${idle_wait}s; measuring anyway (CPU times stay valid)" >&2
            return 0
        fi
        [ $warned -ge 1 ] || { echo "run.sh: machine busy ($((100 * (b1 - b0) / (2 * HZ)))% of a core used by others); waiting" >&2; warned=1; }
    done
}
wall_of() {
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.2f", s }' "$1"
}
cpu_of() { awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$1"; }
# timed BASE CMD...: runs CMD under /usr/bin/time -v (BASE.{out,err,time}); dies on failure
timed() {
    local base=$1
    shift
    if ! /usr/bin/time -v -o "$base.time" "$@" >"$base.out" 2>"$base.err"; then
        tr '\r' '\n' <"$base.err" | tail -20 >&2
        die "failed: $*"
    fi
}
addf() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
score() { $PY bench/models/score.py "$1" "$2"; }
# tps KEY LINES CMD: single-thread whole-process throughput, median of hyperfine runs
tps() {
    local key=$1 lines=$2 json=$work/$1.hf.json
    shift 2
    wait_idle
    hyperfine -N --runs "$runs" --warmup 1 --export-json "$json" "$*" >&2
    # texts per second of wall time (median run), and per second of CPU time (user+sys, mean),
    # the figure that stays meaningful when other jobs share the machine
    put "$key.tps" "$($PY -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.0f" % (int(sys.argv[2]) / r["median"]))' "$json" "$lines")"
    put "$key.cps" "$($PY -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.0f" % (int(sys.argv[2]) / (r["user"] + r["system"])))' "$json" "$lines")"
    put "$key.load" "$(awk '{ print $1 }' /proc/loadavg)"
}

IFS=, read -r -a tasks <<<"$only"
for name in "${tasks[@]}"; do
    [ -n "${RECIPE[$name]:-}" ] || die "unknown task $name"
    d=data/models/$name
    w=$work/$name
    mkdir -p "$w"
    log "$name: data"
    models_data "$name" 2>"$w/data.log" || { cat "$w/data.log" >&2; die "$name: data failed"; }
    put "$name.train.lines" "$(wc -l <"$d/${TRAIN_FILE[$name]}")"
    put "$name.test.lines" "$(wc -l <"$d/test.txt")"
    put "$name.recipe" "${RECIPE[$name]} ${MN_ONLY[$name]}, cutoff ${CUTOFF[$name]}"
    put "$name.extra" "${EXTRA[$name]}"
    sets="test ${EXTRA[$name]}"
    for s in $sets; do sed 's/^__label__[^ ]* //' "$d/$s.txt" >"$w/$s.texts"; done

    # micronlp: the shipped recipe
    log "$name: micronlp train + quantize"
    wait_idle
    # shellcheck disable=SC2086
    timed "$w/mn.train" "$MN" train --input "$d/${TRAIN_FILE[$name]}" --output "$w/mn-full.mnlp" ${RECIPE[$name]} ${MN_ONLY[$name]} \
        --threads 1 --seed 1 --task "$name" --quiet
    timed "$w/mn.quant" "$MN" quantize --model "$w/mn-full.mnlp" --output "$w/mn.mnlp" --cutoff "${CUTOFF[$name]}" --qout
    put "$name.mn.train.wall" "$(addf "$(wall_of "$w/mn.train.time")" "$(wall_of "$w/mn.quant.time")")"
    put "$name.mn.train.cpu" "$(addf "$(cpu_of "$w/mn.train.time")" "$(cpu_of "$w/mn.quant.time")")"
    put "$name.mn.train.load" "$(awk '{ print $1 }' /proc/loadavg)"
    put "$name.mn.size" "$(stat -c %s "$w/mn.mnlp")"
    put "$name.mnfull.size" "$(stat -c %s "$w/mn-full.mnlp")"
    for s in $sets; do
        "$MN" predict --model "$w/mn.mnlp" --k 1 "$w/$s.texts" >"$w/mn.$s.pred"
        put "$name.mn.$s" "$(score "$d/$s.txt" "$w/mn.$s.pred")"
        "$MN" predict --model "$w/mn-full.mnlp" --k 1 "$w/$s.texts" >"$w/mnfull.$s.pred"
        put "$name.mnfull.$s" "$(score "$d/$s.txt" "$w/mnfull.$s.pred")"
    done
    # cross-check: micronlp's own eval agrees with the common scorer
    put "$name.mn.eval" "$("$MN" eval --model "$w/mn.mnlp" --input "$d/test.txt" --json |
        $PY -c 'import json, sys; j = json.load(sys.stdin); print("%.4f %.4f" % (j["accuracy"], j["macro_f1"]))')"

    # fastText: same recipe; .bin and .ftz
    log "$name: fastText supervised + quantize"
    wait_idle
    # shellcheck disable=SC2086
    timed "$w/ft.train" "$FT" supervised -input "$d/${TRAIN_FILE[$name]}" -output "$w/ft" ${RECIPE[$name]} -thread 1 -seed 1
    rm -f "$w/ft.vec"
    # shellcheck disable=SC2086
    timed "$w/ft.quant" "$FT" quantize -input "$d/${TRAIN_FILE[$name]}" -output "$w/ft" ${RECIPE[$name]} -thread 1 \
        -qnorm -cutoff "${CUTOFF[$name]}" -retrain
    rm -f "$w/ft.vec"
    put "$name.ft.train.wall" "$(wall_of "$w/ft.train.time")"
    put "$name.ft.train.cpu" "$(cpu_of "$w/ft.train.time")"
    put "$name.ftz.train.wall" "$(addf "$(wall_of "$w/ft.train.time")" "$(wall_of "$w/ft.quant.time")")"
    put "$name.ftz.train.cpu" "$(addf "$(cpu_of "$w/ft.train.time")" "$(cpu_of "$w/ft.quant.time")")"
    put "$name.ft.train.load" "$(awk '{ print $1 }' /proc/loadavg)"
    put "$name.ft.size" "$(stat -c %s "$w/ft.bin")"
    put "$name.ftz.size" "$(stat -c %s "$w/ft.ftz")"
    for s in $sets; do
        "$FT" predict "$w/ft.bin" "$w/$s.texts" 1 >"$w/ft.$s.pred"
        put "$name.ft.$s" "$(score "$d/$s.txt" "$w/ft.$s.pred")"
        "$FT" predict "$w/ft.ftz" "$w/$s.texts" 1 >"$w/ftz.$s.pred"
        put "$name.ftz.$s" "$(score "$d/$s.txt" "$w/ftz.$s.pred")"
    done

    # scikit-learn
    log "$name: scikit-learn TF-IDF + logistic regression (C=${SK_C[$name]})"
    wait_idle
    files=()
    for s in $sets; do files+=("$d/$s.txt"); done
    mkdir -p "$w/sk"
    timed "$w/sk.run" env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        $PY bench/models/sklearn_tfidf.py "$d/${TRAIN_FILE[$name]}" "${files[@]}" --C "${SK_C[$name]}" --pred-dir "$w/sk"
    $PY - "$w/sk.run.out" "$name" >>"$res" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
name = sys.argv[2]
print("%s.sk.train.wall\t%.2f" % (name, lines[0]["train_sec"]))
print("%s.sk.train.cpu\t%.2f" % (name, lines[0]["train_cpu_sec"]))
print("%s.sk.size\t%d" % (name, lines[0]["size_bytes"]))
print("%s.sk.tps\t%.0f" % (name, lines[1]["texts_per_sec"]))
PYEOF
    put "$name.sk.train.load" "$(awk '{ print $1 }' /proc/loadavg)"
    for s in $sets; do
        put "$name.sk.$s" "$(score "$d/$s.txt" "$w/sk/$s.txt")"
    done

    # prediction throughput, one thread, whole process
    n=$(wc -l <"$w/test.texts")
    copies=$(((min_lines + n - 1) / n))
    : >"$w/rep.texts"
    for ((i = 0; i < copies; i++)); do cat "$w/test.texts" >>"$w/rep.texts"; done
    lines=$(wc -l <"$w/rep.texts")
    put "$name.predict.lines" "$lines"
    log "$name: prediction throughput over $lines lines"
    tps "$name.mn" "$lines" "$MN predict --model $w/mn.mnlp --k 1 $w/rep.texts"
    tps "$name.ft" "$lines" "$FT predict $w/ft.bin $w/rep.texts 1"
    tps "$name.ftz" "$lines" "$FT predict $w/ft.ftz $w/rep.texts 1"
    rm -f "$w/rep.texts" "$w/mn-full.mnlp" "$w/ft.bin"
done
put machine.load_end "$(awk '{ print $1 }' /proc/loadavg)"
$PY bench/models/table.py "$res" >"$out/models.md"
cat "$out/models.md"
