#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end checks of the `micronlp` command line itself: --help of every command lists every
# option, mistakes (unknown command or option, bad or out-of-range values, missing options,
# missing files, directories given as files) give exit code 2 (usage) or 1 (failure) and a
# message that names the culprit, and fastText's single-dash spellings are accepted.
# Needs MN_BIN (the binary). Prints one line per check and ends with "N passed, M failed".
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

# expect NAME CODE PHRASE CMD...: runs CMD (stdout to $TMP/out, stderr to $TMP/err) and checks
# the exit code and, when PHRASE is not empty, that stderr contains it.
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

# out_has NAME WORD...: the last command's stdout contains every WORD.
out_has() {
    local name=$1 w missing=""
    shift
    for w in "$@"; do
        grep -qF -- "$w" "$TMP/out" || missing="$missing $w"
    done
    if [[ -z $missing ]]; then ok "$name"; else bad "$name: stdout lacks$missing"; fi
}

# ---- help and version ---------------------------------------------------------------------
expect "--help exits 0" 0 "" "$BIN" --help
out_has "--help lists commands and exit codes" train eval predict info quantize "Exit codes"
expect "--version exits 0" 0 "" "$BIN" --version
out_has "--version prints the version" "micronlp "
expect "no arguments is a usage error" 2 "Usage" "$BIN"

declare -A opts=(
    [train]="--input --output --valid --epoch --lr --dim --word-ngrams --minn --maxn --bucket
             --min-count --loss --threads --seed --task --patience --autotune-seconds
             --no-normalize --quiet -wordNgrams -thread"
    [eval]="--model --input --k --threshold --json"
    [predict]="--model --k --threshold --json --lenient --label-prefix"
    [info]="--model --json"
    [quantize]="--model --output --cutoff --qout --input"
)
for cmd in train eval predict info quantize; do
    # shellcheck disable=SC2086
    expect "$cmd --help exits 0" 0 "" "$BIN" "$cmd" --help
    # shellcheck disable=SC2086
    out_has "$cmd --help mentions every option" ${opts[$cmd]}
done
expect "help train exits 0" 0 "" "$BIN" help train
out_has "help train shows defaults and ranges" "default 5" "range 1..10000"

# ---- unknown command and options ----------------------------------------------------------
expect "unknown command" 2 "unknown command 'trian'" "$BIN" trian
expect "unknown command suggests the closest" 2 "did you mean 'train'" "$BIN" trian
expect "help for an unknown command" 2 "unknown command" "$BIN" help nosuch
expect "unknown option is named" 2 "'--epohc'" "$BIN" train --input a --output b --epohc 5
expect "unknown option suggests the closest" 2 "did you mean --epoch" \
    "$BIN" train --input a --output b --epohc 5
expect "unknown fastText option is named" 2 "'-neg'" "$BIN" train -input a -output b -neg 5

# ---- values -------------------------------------------------------------------------------
expect "out-of-range value" 2 "--epoch: 0 is out of range 1..10000" \
    "$BIN" train --input a --output b --epoch 0
expect "out-of-range with --name=value" 2 "--lr: 11 is out of range 0..10" \
    "$BIN" train --input a --output b --lr=11
expect "not an integer" 2 "--dim: 'ten' is not an integer" \
    "$BIN" train --input a --output b --dim ten
expect "bad enum value lists choices" 2 "--loss: 'ns' is not one of softmax, ova, hs" \
    "$BIN" train --input a --output b --loss ns
expect "missing value" 2 "--output needs a value" "$BIN" train --input a --output
expect "forgotten value before next option" 2 "--input needs a value" \
    "$BIN" train --input --output b
expect "missing required --input" 2 "missing required option --input" "$BIN" train --output b
expect "missing required --model" 2 "missing required option --model" "$BIN" eval --input a
expect "predict without a model" 2 "--model" "$BIN" predict
expect "negative k" 2 "--k: -1 is out of range" "$BIN" predict --model m.mnlp --k -1
expect "autotune needs --valid" 2 "--autotune-seconds needs --valid" \
    "$BIN" train --input a --output b --autotune-seconds 10
expect "stray argument" 2 "unexpected argument 'extra'" \
    "$BIN" train --input a --output b extra

# ---- files --------------------------------------------------------------------------------
expect "missing training file names the path" 1 "$TMP/nope.txt" \
    "$BIN" train --input "$TMP/nope.txt" --output "$TMP/m.mnlp"
expect "directory as training file" 1 "is a directory" \
    "$BIN" train --input "$TMP" --output "$TMP/m.mnlp"
printf '__label__a x\n' >"$TMP/one.txt"
expect "directory as output file" 1 "is a directory" \
    "$BIN" train --input "$TMP/one.txt" --output "$TMP"
expect "output in a missing directory" 1 "$TMP/no/such/dir" \
    "$BIN" train --input "$TMP/one.txt" --output "$TMP/no/such/dir/m.mnlp"
expect "missing model file names the path" 1 "$TMP/nope.mnlp" \
    "$BIN" predict --model "$TMP/nope.mnlp"
expect "directory as model" 1 "is a directory" "$BIN" info --model "$TMP"
expect "missing eval file names the path" 1 "$TMP/nope.txt" \
    "$BIN" eval --model "$TMP/one.txt" --input "$TMP/nope.txt"
expect "missing predict input names the path" 1 "$TMP/nope.txt" \
    "$BIN" predict --model "$TMP/one.txt" "$TMP/nope.txt"

# ---- fastText spellings -------------------------------------------------------------------
# Parsing succeeds (so the missing file, exit 1, is the only complaint).
expect "fastText aliases parse" 1 "$TMP/nope.txt" \
    "$BIN" train -input "$TMP/nope.txt" -output "$TMP/m.mnlp" -epoch 5 -lr 0.5 -dim 10 \
    -wordNgrams 2 -minn 0 -maxn 0 -bucket 1000 -loss softmax -thread 1 -seed 1
expect "fastText alias range-checked" 2 "--epoch: 0 is out of range" \
    "$BIN" train -input a -output b -epoch 0
# A real fastText-style run.
for i in $(seq 1 40); do
    printf '__label__pos good great fine nice %d\n__label__neg bad awful poor sad %d\n' "$i" "$i"
done >"$TMP/ft.txt"
expect "fastText-style training runs" 0 "" \
    "$BIN" train -input "$TMP/ft.txt" -output "$TMP/ft.mnlp" -epoch 5 -lr 0.5 -dim 10 \
    -wordNgrams 2 -minn 0 -maxn 0 -bucket 1000 -loss softmax -thread 1 -seed 1 -verbose 0
if [[ -s $TMP/ft.mnlp ]]; then ok "fastText-style training wrote the model"; else bad "fastText-style training wrote the model"; fi

# ---- the two halves of the command --------------------------------------------------------
# `micronlp` links no network library (its start-up is most of a small predict's time); the
# HTTP commands run in micronlp-net, found next to it, with the same arguments and exit code.
if ldd "$BIN" | grep -qE 'libcurl|libmicrohttpd|libgnutls'; then
    fail=$((fail + 1)); echo "FAIL  micronlp links no network library: $(ldd "$BIN" | grep -oE 'lib(curl|microhttpd|gnutls)[^ ]*' | tr '\n' ' ')"
else
    ok "micronlp links no network library"
fi
expect "serve --help runs in micronlp-net" 0 "" "$BIN" serve --help
out_has "serve --help is serve's help" "Usage: micronlp serve" "--listen"
expect "help jobs runs in micronlp-net" 0 "" "$BIN" help jobs
out_has "help jobs is jobs' help" "Usage: micronlp jobs"
expect "a bad serve option is serve's usage error" 2 "--bogus" "$BIN" serve --bogus
expect "submit without a file is submit's usage error" 2 "" "$BIN" submit
# Alone, without its other half: a clear error, not a crash or a silent nothing.
mkdir -p "$TMP/alone"
cp "$BIN" "$TMP/alone/micronlp"
expect "serve without micronlp-net names it" 1 "'serve' runs in micronlp-net, which is neither in $TMP/alone" \
    "$TMP/alone/micronlp" serve
expect "predict without micronlp-net still works" 0 "" "$TMP/alone/micronlp" --version

echo "$pass passed, $fail failed"
((fail == 0))
