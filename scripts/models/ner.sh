#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Rebuilds models/ner.mnlp, the English named-entity tagger (BIO over PER, ORG, LOC, MISC), from
# three CC BY 4.0 corpora that no package registry ships (see ../shared/data/README.md):
# wikigold (Wikipedia, IO tags), the Broad Twitter Corpus (BIO) and WNUT 2017 (BIO, six types).
#
#   scripts/models/ner.sh [NER_DIR] [BUILD_DIR]   (defaults: ../shared/data/ner, build)
#
# Label mapping (the loader then turns IO into BIO: an I- that does not continue a span of its
# type starts one):
#   wikigold  I-PER I-ORG I-LOC I-MISC as they are
#   BTC       B/I-PER, B/I-ORG, B/I-LOC as they are (BTC has no MISC)
#   WNUT17    person -> PER, location -> LOC, corporation -> ORG, group -> ORG,
#             product -> MISC, creative-work -> MISC
# Splits:
#   wikigold  documents (-DOCSTART-) in file order d = 0..144: d % 10 == 9 -> test,
#             d % 10 == 4 -> valid, else train
#   BTC       section f -> test; sections a, b, e, g, h -> train
#   WNUT17    wnut17train.conll -> train, emerging.dev.conll -> valid,
#             emerging.test.annotated -> test
# One model is trained on all train parts (valid: wikigold valid + WNUT17 dev, picks the epoch)
# and measured on each test part separately. Writes data/ner/*.txt, reused by bench/tagger/run.sh.
set -euo pipefail
# A fixed timestamp makes a rebuild from the same data byte-identical (reproducible-builds.org).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764288000}
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/models/tagger-recipe.sh
. scripts/models/tagger-recipe.sh
src=${1:-../shared/data/ner}
build=${2:-build}
bin=$build/micronlp
[ -x "$bin" ] || { echo "ner.sh: $bin not found: build first (cmake -S . -B $build -G Ninja && ninja -C $build)" >&2; exit 1; }
for f in wikigold/wikigold.conll.txt btc/a.conll btc/b.conll btc/e.conll btc/f.conll btc/g.conll \
    btc/h.conll wnut17/wnut17train.conll wnut17/emerging.dev.conll wnut17/emerging.test.annotated; do
    [ -f "$src/$f" ] || { echo "ner.sh: $src/$f is missing (pass the ner data directory as the first argument)" >&2; exit 1; }
done
out=data/ner
mkdir -p "$out" models

# wikigold: split by document; "token label" -> "token<TAB>label"; drop -DOCSTART- lines.
awk -v out="$out" '
    BEGIN { d = -1 }
    /^-DOCSTART-/ { d++; next }
    {
        part = (d % 10 == 9) ? "test" : (d % 10 == 4) ? "valid" : "train"
        f = out "/wikigold." part ".txt"
        if (NF == 0) { print "" > f; next }
        print $1 "\t" $NF > f
    }' "$src/wikigold/wikigold.conll.txt"

# BTC: already token<TAB>BIO; a few lines have an empty or blank token (a character lost upstream):
# they are dropped (a following I- then starts its span).
btc() { cat "$@" | tr -d '\r' | awk -F'\t' 'NF >= 2 && $1 ~ /^[[:space:]]*$/ { next } { print }'; }
btc "$src"/btc/{a,b,e,g,h}.conll >"$out/btc.train.txt"
btc "$src/btc/f.conll" >"$out/btc.test.txt"

# WNUT17: six types onto four.
wnut() {
    tr -d '\r' <"$1" | awk -F'\t' '
        NF < 2 { print ""; next }
        {
            l = $NF
            sub(/-person$/, "-PER", l); sub(/-location$/, "-LOC", l)
            sub(/-corporation$/, "-ORG", l); sub(/-group$/, "-ORG", l)
            sub(/-product$/, "-MISC", l); sub(/-creative-work$/, "-MISC", l)
            print $1 "\t" l
        }'
}
wnut "$src/wnut17/wnut17train.conll" >"$out/wnut17.train.txt"
wnut "$src/wnut17/emerging.dev.conll" >"$out/wnut17.valid.txt"
wnut "$src/wnut17/emerging.test.annotated" >"$out/wnut17.test.txt"

# blank line between files so sentences never join
for f in wikigold.train btc.train wnut17.train; do cat "$out/$f.txt"; echo; done >"$out/train.txt"
for f in wikigold.valid wnut17.valid; do cat "$out/$f.txt"; echo; done >"$out/valid.txt"

# --max-size: weights pruned (smallest first) until the file fits in 2,000,000 bytes; entity F1
# on the test parts 0.4370 / 0.6886 / 0.2813 (wikigold / BTC / WNUT17) against 0.4272 / 0.6928 /
# 0.2864 for the 3.8 MB model, all above NLTK and OpenNLP (docs/BENCHMARKS.md).
/usr/bin/time -f "ner.sh: train: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$bin" train --type tagger --task ner --format conll --input "$out/train.txt" \
    --valid "$out/valid.txt" --output models/ner.mnlp --epoch "${EPOCH:-$TAGGER_EPOCHS}" \
    --seed 1 --max-size "${TAGGER_MAX_BYTES[ner]}"
for t in wikigold btc wnut17; do
    echo "== $t test"
    "$bin" eval --model models/ner.mnlp --input "$out/$t.test.txt" --format conll
done
ls -l models/ner.mnlp
