#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Rebuilds models/keywords.mnlp, the key-phrase extraction model, from the stop-word lists of the
# npm package stopwords-iso (pinned in scripts/fetch-data.sh), with one command.
#
#   scripts/models/keywords.sh [--bin PATH]
#
#   --bin PATH   use this micronlp binary (default: build one, CMake Release, in build-models/)
#
# Steps: fetch stopwords-iso (version and sha512 checked), convert it with
# scripts/data/stopwords.py into data/keywords/stopwords.tsv (58 languages, 21,707 words, every
# count asserted; ISO 639-1 codes with the ISO 639-3 aliases the lang model answers), build the
# model with `micronlp train --type keywords` (no training: the lists are normalised and hashed;
# SOURCE_DATE_EPOCH pins the timestamp, so a rebuild is byte-identical), score it on the
# hand-written sanity set (bench/keywords/sanity.py) and write:
#
#   models/keywords.mnlp        the model
#   models/keywords.build.txt   source, counts, size, sanity-set scores of both methods
# Only public tools: bash, python3, npm, openssl, cmake, ninja.
set -euo pipefail
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764288000}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

die() {
    echo "keywords.sh: $*" >&2
    exit 1
}

bin=
while [ $# -gt 0 ]; do
    case $1 in
    --bin) [ $# -ge 2 ] || die "--bin needs a path"; bin=$2; shift 2 ;;
    -h | --help) sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
if [ -z "$bin" ]; then
    if [ ! -f build-models/build.ninja ]; then
        cmake -S . -B build-models -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null || die "cmake configure failed"
    fi
    ninja -C build-models micronlp-cli >/dev/null || die "building micronlp failed (ninja -C build-models micronlp-cli)"
    bin=build-models/micronlp
fi
[ -x "$bin" ] || die "$bin is not an executable"

pkg=$(scripts/fetch-data.sh stopwords-iso)
d=data/keywords
mkdir -p "$d" models
python3 scripts/data/stopwords.py "$pkg" "$d/stopwords.tsv"
"$bin" train --type keywords --input "$d/stopwords.tsv" --output models/keywords.mnlp 2>"$d/build.log" ||
    { cat "$d/build.log" >&2; die "building the model failed"; }
size=$(stat -c %s models/keywords.mnlp)
{
    echo "keywords: micronlp train --type keywords --input $d/stopwords.tsv"
    echo "data: $(basename "$(dirname "$pkg")"), $(grep -vc '^#' "$d/stopwords.tsv") stop words in" \
        "$(grep -v '^#' "$d/stopwords.tsv" | cut -f1 | sort -u | wc -l) languages (scripts/data/stopwords.py)"
    "$bin" info --model models/keywords.mnlp | awk '$1 == "words" || $1 == "aliases" || $1 == "languages" { printf "%s %s; ", $1, $2 } END { print "" }' |
        sed 's/^/model: /; s/; $//'
    echo "size: $size bytes"
    echo "sanity set (tests/data/keywords/sanity.tsv, hand-written, k = 5):"
    python3 bench/keywords/sanity.py "$bin" models/keywords.mnlp | sed 's/^/  /'
} >models/keywords.build.txt
cat models/keywords.build.txt >&2
