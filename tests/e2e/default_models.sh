#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Quality floors of the default models shipped in models/ (built by scripts/models/build.sh,
# described in docs/MODELS.md). For each model: the file is at most its size limit, `info` shows
# its task, and `eval --json` on a small fixed sample of its test split (tests/data/models/NAME.txt:
# the first 200 test lines, each cut to at most 300 characters) reaches at least the floor below.
# Each floor is a little under the accuracy measured on that sample when the model was built, so
# a rebuilt model that got worse (or a change in tokenisation, hashing or quantisation that
# shifts predictions) fails here. The samples are excerpts, so their accuracy is lower than the
# full test split's (docs/MODELS.md has those numbers).
# Needs MN_BIN and MN_SRC. Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:?set MN_SRC to the source directory}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# name | floor (accuracy on the sample) | measured when built | size limit (bytes)
MODELS='
spam       0.93 0.945 1048576
topic      0.52 0.550 1048576
sentiment  0.78 0.815 1048576
toxicity   0.87 0.900 1048576
'

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL  $1"
    [ -s "$TMP/err" ] && sed 's/^/      | /' "$TMP/err" | head -n 8
    : >"$TMP/err"
}
: >"$TMP/err"

# eval_floor WHAT MODEL SAMPLE FLOOR MEASURED: `eval` of MODEL on SAMPLE reaches FLOOR.
eval_floor() {
    if "$BIN" eval --model "$2" --input "$3" --json >"$TMP/eval" 2>"$TMP/err"; then
        local acc n
        acc=$(sed -n 's/.*"accuracy":\([0-9.eE+-]*\).*/\1/p' "$TMP/eval" | head -1)
        n=$(sed -n 's/.*"examples":\([0-9]*\).*/\1/p' "$TMP/eval" | head -1)
        if [ -z "$acc" ]; then
            bad "$1: no accuracy in eval --json output"
        elif awk -v a="$acc" -v f="$4" 'BEGIN { exit !(a >= f) }'; then
            ok "$1: accuracy $acc on $n sample lines >= floor $4 (built: $5)"
        else
            bad "$1: accuracy $acc on $n sample lines < floor $4 (built: $5)"
        fi
    else
        bad "$1: eval failed"
    fi
}

while read -r name floor measured limit; do
    [ -n "$name" ] || continue
    model=$SRC/models/$name.mnlp
    sample=$SRC/tests/data/models/$name.txt
    if [ ! -f "$model" ]; then bad "$name: $model is missing"; continue; fi
    if [ ! -f "$sample" ]; then bad "$name: $sample is missing"; continue; fi

    size=$(stat -c %s "$model")
    if [ "$size" -le "$limit" ]; then ok "$name: size $size bytes <= $limit"; else bad "$name: size $size bytes > $limit"; fi

    if "$BIN" info --model "$model" >"$TMP/info" 2>"$TMP/err" &&
        grep -Eq "^[[:space:]]*task[[:space:]]+$name[[:space:]]*$" "$TMP/info"; then
        ok "$name: info shows task $name"
    else
        bad "$name: info does not show task $name"
    fi

    eval_floor "$name" "$model" "$sample" "$floor" "$measured"
done <<<"$MODELS"

# Text that is not mail (the film reviews, Brown paragraphs and tweets of the samples above) is
# ham to the spam model: it trains on 900 such texts besides SpamAssassin (docs/MODELS.md).
cat "$SRC/tests/data/models/sentiment.txt" "$SRC/tests/data/models/topic.txt" \
    "$SRC/tests/data/models/toxicity.txt" | sed 's/^__label__[^ ]* /__label__ham /' >"$TMP/not-mail.txt"
eval_floor "spam on text that is not mail (ham)" "$SRC/models/spam.mnlp" "$TMP/not-mail.txt" 0.95 \
    "0.982; trained on SpamAssassin alone: 0.898"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
