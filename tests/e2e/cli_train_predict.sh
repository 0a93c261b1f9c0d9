#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end run of the model commands on a tiny generated data set (two clearly separable
# classes): train, predict from stdin and from a file (plain and --json), eval (accuracy floor),
# info, quantize (smaller, still predicts). Then bad input: invalid UTF-8, empty file, a label
# with no text, a line over 1 MiB, truncated and foreign model files. Each must fail with exit
# code 1 and a message naming the file (and line), never crash.
# Needs MN_BIN. Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL  $1"
    sed 's/^/      | /' "$TMP/err" | head -n 8
}
check() { # check NAME CONDITION-COMMAND...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# expect NAME CODE PHRASE CMD...: as in cli_usage.sh (stdout -> $TMP/out, stderr -> $TMP/err).
expect() {
    local name=$1 want=$2 phrase=$3
    shift 3
    local got=0
    "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
    if ((got >= 128)); then
        bad "$name: killed by signal $((got - 128))"
    elif ((got != want)); then
        bad "$name: exit code $got, expected $want"
    elif [[ -n $phrase ]] && ! grep -qF -- "$phrase" "$TMP/err"; then
        bad "$name: stderr does not contain '$phrase'"
    else
        ok "$name"
    fi
}

json_lines_ok() { python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$TMP/out"; }

# ---- data: 200 training and 40 test lines, words drawn by a fixed pattern -----------------
gen() { # gen COUNT OFFSET
    awk -v n="$1" -v off="$2" 'BEGIN {
        split("goal match team score player coach league stadium referee season", s, " ");
        split("pizza pasta bread cheese salad soup butter recipe oven garlic", f, " ");
        for (i = off; i < off + n; i++) {
            a = i % 10 + 1; b = (i * 3 + 1) % 10 + 1; c = (i * 7 + 2) % 10 + 1;
            if (i % 2) print "__label__sport the " s[a] " and " s[b] " with " s[c];
            else       print "__label__food the " f[a] " and " f[b] " with " f[c];
        }
    }'
}
gen 200 0 >"$TMP/train.txt"
gen 40 1000 >"$TMP/test.txt"
M=$TMP/m.mnlp

# ---- train --------------------------------------------------------------------------------
expect "train" 0 "Saved" "$BIN" train --input "$TMP/train.txt" --output "$M" \
    --epoch 20 --lr 0.5 --dim 16 --bucket 20000 --threads 1 --seed 1 --task demo
check "train wrote the model" test -s "$M"
check "no progress line when stderr is not a terminal" bash -c "! grep -q 'Progress:' '$TMP/err'"
check "summary names examples and labels" grep -q "labels: 2" "$TMP/err"
expect "train --quiet" 0 "" "$BIN" train --input "$TMP/train.txt" --output "$TMP/quiet.mnlp" \
    --epoch 2 --bucket 20000 --quiet
check "--quiet prints nothing" test ! -s "$TMP/err"

# ---- predict ------------------------------------------------------------------------------
printf 'goal match team\npizza cheese\n' >"$TMP/two.txt"
expect "predict from stdin" 0 "" "$BIN" predict --model "$M" <"$TMP/two.txt"
check "stdin answers: sport then food" \
    bash -c "[[ \$(cut -d' ' -f1 '$TMP/out' | tr '\n' ' ') == 'sport food ' ]]"
expect "predict from a labelled file, model as first argument" 0 "" \
    "$BIN" predict "$M" "$TMP/test.txt"
check "one answer per input line" bash -c "[[ \$(wc -l <'$TMP/out') -eq 40 ]]"
cp "$TMP/out" "$TMP/with_labels.out"
sed 's/^__label__[^ ]* //' "$TMP/test.txt" >"$TMP/test_nolabels.txt"
expect "predict the same texts without labels" 0 "" "$BIN" predict "$M" "$TMP/test_nolabels.txt"
check "leading __label__ tokens are ignored" cmp -s "$TMP/out" "$TMP/with_labels.out"
expect "predict --k 2 --label-prefix" 0 "" \
    "$BIN" predict --model "$M" --k 2 --label-prefix __label__ - <"$TMP/two.txt"
check "two labels with prefix per line" \
    bash -c "awk 'NF != 4 || \$1 !~ /^__label__/ { exit 1 }' '$TMP/out'"
expect "predict --json" 0 "" "$BIN" predict --model "$M" --json --k 2 "$TMP/test.txt"
check "--json lines parse" json_lines_ok

# ---- eval, info ---------------------------------------------------------------------------
expect "eval" 0 "" "$BIN" eval --model "$M" --input "$TMP/test.txt"
check "eval accuracy >= 0.9" awk '$1 == "accuracy" { found = 1; if ($2 < 0.9) exit 1 }
    END { exit !found }' "$TMP/out"
check "eval prints a confusion matrix" grep -q "confusion matrix" "$TMP/out"
expect "eval --json" 0 "" "$BIN" eval --model "$M" --input "$TMP/test.txt" --json
check "eval --json parses, accuracy >= 0.9" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["accuracy"] >= 0.9 and len(r["labels"]) == 2 and len(r["confusion"]) == 2' "$TMP/out"
expect "info" 0 "" "$BIN" info "$M"
check "info shows the labels" bash -c "grep -q sport '$TMP/out' && grep -q food '$TMP/out'"
expect "info --json" 0 "" "$BIN" info --model "$M" --json
check "info --json parses" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert sorted(r["labels"]) == ["food", "sport"], r' "$TMP/out"

# ---- digit folding and shape features: named in the model, and they survive quantisation ----
S=$TMP/shape.mnlp
expect "train --fold-digits --shape-features" 0 "" "$BIN" train --input "$TMP/train.txt" \
    --output "$S" --epoch 5 --fold-digits --shape-features --quiet
expect "info of a shape model" 0 "" "$BIN" info --model "$S"
check "info says the tokens: unicode+digits0+shape" grep -q "tokens *unicode+digits0+shape" "$TMP/out"
check "info says format version 2" grep -q "version 2" "$TMP/out"
expect "quantize a shape model" 0 "" "$BIN" quantize --model "$S" --output "$TMP/shape-q.mnlp"
expect "quantized shape model predicts" 0 "" "$BIN" predict --model "$TMP/shape-q.mnlp" <"$TMP/two.txt"
check "quantized shape answers: sport then food" \
    bash -c "[[ \$(cut -d' ' -f1 '$TMP/out' | tr '\n' ' ') == 'sport food ' ]]"
expect "info of a plain model says format version 1" 0 "" "$BIN" info --model "$M"
check "plain model: format version 1" grep -q "version 1" "$TMP/out"

# ---- quantize -----------------------------------------------------------------------------
Q=$TMP/q.mnlp
expect "quantize" 0 "" "$BIN" quantize --model "$M" --output "$Q" --input "$TMP/test.txt"
check "quantized model is smaller" bash -c "[[ \$(stat -c %s '$Q') -lt \$(stat -c %s '$M') ]]"
expect "quantized model predicts" 0 "" "$BIN" predict --model "$Q" <"$TMP/two.txt"
check "quantized answers: sport then food" \
    bash -c "[[ \$(cut -d' ' -f1 '$TMP/out' | tr '\n' ' ') == 'sport food ' ]]"

# ---- bad training data --------------------------------------------------------------------
train_bad() { "$BIN" train --input "$1" --output "$TMP/bad.mnlp" --epoch 1 --quiet; }
printf '__label__a fine text\n__label__b bad \xff byte\n' >"$TMP/utf8.txt"
expect "invalid UTF-8 in training file" 1 "utf8.txt:2" train_bad "$TMP/utf8.txt"
: >"$TMP/empty.txt"
expect "empty training file" 1 "empty.txt" train_bad "$TMP/empty.txt"
printf '__label__a fine text\n__label__b\n' >"$TMP/notext.txt"
expect "label with no text" 1 "notext.txt:2" train_bad "$TMP/notext.txt"
{
    printf '__label__a fine text\n__label__b '
    head -c 1100000 /dev/zero | tr '\0' 'x'
    printf '\n'
} >"$TMP/long.txt"
expect "line over 1 MiB in training file" 1 "long.txt:2" train_bad "$TMP/long.txt"

# ---- bad predict input --------------------------------------------------------------------
printf 'goal match\nbad \xc3\x28 byte\n' >"$TMP/p_utf8.txt"
expect "invalid UTF-8 on stdin" 1 "<stdin>:2: invalid UTF-8 at byte" \
    "$BIN" predict --model "$M" <"$TMP/p_utf8.txt"
expect "--lenient repairs invalid UTF-8" 0 "" "$BIN" predict --model "$M" --lenient \
    <"$TMP/p_utf8.txt"
check "--lenient still answers every line" bash -c "[[ \$(wc -l <'$TMP/out') -eq 2 ]]"
{
    printf 'goal\n'
    head -c 1100000 /dev/zero | tr '\0' 'x'
    printf '\n'
} >"$TMP/p_long.txt"
expect "predict line over 1 MiB" 1 "p_long.txt:2: line is longer than 1 MiB" \
    "$BIN" predict --model "$M" "$TMP/p_long.txt"

# ---- bad model files ----------------------------------------------------------------------
size=$(stat -c %s "$M")
head -c $((size / 2)) "$M" >"$TMP/half.mnlp"
head -c 100 "$M" >"$TMP/head100.mnlp"
head -c 10 "$M" >"$TMP/head10.mnlp"
: >"$TMP/zero.mnlp"
for f in half head100 head10 zero; do
    expect "truncated model ($f): predict" 1 "$f.mnlp" \
        "$BIN" predict --model "$TMP/$f.mnlp" <"$TMP/two.txt"
    expect "truncated model ($f): info" 1 "$f.mnlp" "$BIN" info "$TMP/$f.mnlp"
done
expect "truncated model: eval" 1 "half.mnlp" "$BIN" eval --model "$TMP/half.mnlp" \
    --input "$TMP/test.txt"
expect "text file as model" 1 "train.txt" "$BIN" predict --model "$TMP/train.txt" <"$TMP/two.txt"
# One flipped byte in the middle: the checksum must catch it.
cp "$M" "$TMP/flip.mnlp"
python3 -c 'import sys; p, i = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[i] ^= 0xff; open(p, "wb").write(b)' "$TMP/flip.mnlp" $((size / 2))
expect "corrupted model" 1 "flip.mnlp" "$BIN" predict --model "$TMP/flip.mnlp" <"$TMP/two.txt"

echo "$pass passed, $fail failed"
((fail == 0))
