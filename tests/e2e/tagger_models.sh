#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end checks of the sequence tagger and the shipped pos/ner models:
#   - quality floors of models/pos.mnlp and models/ner.mnlp on small fixed samples of their test
#     splits (tests/data/models/pos.txt: the first 250 sentences of the Brown test files, simple
#     tags; ner-*.txt: the first sentences of the wikigold, BTC section F and WNUT17 test parts,
#     mapped as scripts/models/ner.sh does; CC BY 4.0, see docs/MODELS.md for the papers)
#   - both models are at most 5 MB; predict (plain, --json with entity spans and byte offsets)
#   - train --type tagger / eval / predict on the tiny corpora of tests/data/tagger/
#   - bad input: malformed columns, a token without /tag, invalid UTF-8, an empty file, a
#     sentence over 10,000 tokens, unknown tags in an eval file: clear errors or defined results
# Needs MN_BIN (and MN_SRC for the models; default: the repository of this script).
# Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${MN_TEST_DATA:-$SRC/tests/data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL  $1"
    sed 's/^/      | /' "$TMP/err" 2>/dev/null | head -n 8
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# expect NAME CODE PHRASE CMD...: exit code and a phrase on stderr (stdout -> $TMP/out).
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

# at_least NAME VALUE FLOOR
at_least() {
    if awk -v v="$2" -v f="$3" 'BEGIN { exit !(v + 0 >= f + 0) }'; then
        ok "$1 ($2 >= $3)"
    else
        echo "got $2, floor $3" >"$TMP/err"
        bad "$1 ($2 < $3)"
    fi
}

json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$TMP/out" "$1"; }

# ---- shipped models -------------------------------------------------------------------------
POS=$SRC/models/pos.mnlp
NER=$SRC/models/ner.mnlp
for m in "$POS" "$NER"; do
    check "$(basename "$m") exists" test -s "$m"
    check "$(basename "$m") is at most 5 MB" test "$(stat -c %s "$m")" -le 5000000
done

expect "pos eval" 0 "" "$BIN" eval --model "$POS" --input "$DATA/models/pos.txt" --format brown --json
at_least "pos accuracy on the Brown sample" "$(json_field 'd["accuracy"]')" 0.965

for set in wikigold:0.43 btc:0.66 wnut17:0.42; do
    name=${set%%:*} floor=${set#*:}
    expect "ner eval $name" 0 "" "$BIN" eval --model "$NER" --input "$DATA/models/ner-$name.txt" --format conll --json
    at_least "ner entity F1 on the $name sample" "$(json_field 'd["entities"]["f1"]')" "$floor"
done

printf 'The old man saw the dog .\n' >"$TMP/pos-in.txt"
expect "pos predict" 0 "" "$BIN" predict --model "$POS" "$TMP/pos-in.txt"
check "pos predict tags words" grep -qE '^The/at old/jj man/nn saw/vbd the/at dog/nn ./.$' "$TMP/out"

printf 'Yesterday Barack Obama met Angela Merkel in London .\n\nZoë met 東京 fans in Zürich\nMicrosoft opened an office in New York .\n' >"$TMP/ner-in.txt"
expect "ner predict --json" 0 "" "$BIN" predict --model "$NER" --json "$TMP/ner-in.txt"
check "four JSON lines" test "$(wc -l <"$TMP/out")" -eq 4
check "entity spans are byte ranges of the text" python3 - "$TMP/out" "$TMP/ner-in.txt" <<'PY'
import json, sys
lines = open(sys.argv[2], "rb").read().split(b"\n")
for raw, out in zip(lines, open(sys.argv[1])):
    d = json.loads(out)
    for t in d["tokens"]:
        assert raw[t["off"]:t["off"] + t["len"]].decode() == t["text"], t
        assert 0 < t["score"] <= 1
    for e in d["entities"]:
        assert raw[e["off"]:e["off"] + e["len"]].decode() == e["text"], e
        assert e["type"] in ("PER", "ORG", "LOC", "MISC"), e
ents = {(e["text"], e["type"]) for l in open(sys.argv[1]) for e in json.loads(l)["entities"]}
for want in [("Barack Obama", "PER"), ("London", "LOC"), ("Microsoft", "ORG"), ("New York", "LOC")]:
    assert want in ents, (want, ents)
PY

printf 'The dog ran. It was fast.\n' | "$BIN" predict --model "$POS" --sentences >"$TMP/out" 2>"$TMP/err"
check "predict --sentences tags sentence by sentence" grep -qx 'The/at dog/nn ran/vbd ./. It/pps was/bedz fast/rb ./.' "$TMP/out"

# ---- train / eval / predict on the tiny corpora ------------------------------------------------
M=$TMP/pos.mnlp
expect "train --type tagger" 0 "Saved" "$BIN" train --type tagger --input "$DATA/tagger/pos.train.txt" \
    --output "$M" --epoch 5 --seed 3 --bucket 65536
expect "eval the new tagger" 0 "" "$BIN" eval --model "$M" --input "$DATA/tagger/pos.test.txt" --json
at_least "tiny POS accuracy" "$(json_field 'd["accuracy"]')" 0.95
M2=$TMP/pos2.mnlp
"$BIN" train --type tagger --input "$DATA/tagger/pos.train.txt" --output "$M2" --epoch 5 --seed 3 \
    --bucket 65536 --quiet
printf 'The red dog sees a book .\n' | "$BIN" predict --model "$M" >"$TMP/a.txt"
printf 'The red dog sees a book .\n' | "$BIN" predict --model "$M2" >"$TMP/b.txt"
check "same seed, same tags" cmp -s "$TMP/a.txt" "$TMP/b.txt"
N=$TMP/ner.mnlp
expect "train an entity tagger (conll)" 0 "Saved" "$BIN" train --type tagger \
    --input "$DATA/tagger/ner.train.txt" --valid "$DATA/tagger/ner.test.txt" --output "$N" --epoch 4
expect "eval entities" 0 "" "$BIN" eval --model "$N" --input "$DATA/tagger/ner.test.txt"
check "eval prints per-type table" grep -qE '^all +[0-9.]+ +[0-9.]+ +[0-9.]+' "$TMP/out"
expect "train --help" 0 "" "$BIN" train --type tagger --help
check "help lists tagger options" grep -q -- "--simplify-tags" "$TMP/out"

# ---- bad input -----------------------------------------------------------------------------------
printf 'a\tO\nb\n' >"$TMP/onefield.txt"
expect "a line without a label" 1 "onefield.txt:2:" "$BIN" train --type tagger --format conll \
    --input "$TMP/onefield.txt" --output "$TMP/x.mnlp"
printf 'ok/nn word ./.\n' >"$TMP/noslash.txt"
expect "a Brown token without /tag" 1 "noslash.txt:1: token 'word' has no /tag" "$BIN" train \
    --type tagger --format brown --input "$TMP/noslash.txt" --output "$TMP/x.mnlp"
printf 'a\tO\n\xff\tO\n' >"$TMP/utf8.txt"
expect "invalid UTF-8 in training data" 1 "utf8.txt:2: invalid UTF-8" "$BIN" train --type tagger \
    --input "$TMP/utf8.txt" --output "$TMP/x.mnlp"
: >"$TMP/empty.txt"
expect "empty training file" 1 "empty.txt" "$BIN" train --type tagger --input "$TMP/empty.txt" \
    --output "$TMP/x.mnlp"
awk 'BEGIN { for (i = 0; i < 10001; i++) printf "w/nn "; print "" }' >"$TMP/long.txt"
expect "a sentence over 10,000 tokens" 1 "long.txt:1: sentence has more than 10000 tokens" "$BIN" \
    train --type tagger --input "$TMP/long.txt" --output "$TMP/x.mnlp"
expect "bad bucket" 2 "power of two" "$BIN" train --type tagger --input "$DATA/tagger/pos.train.txt" \
    --output "$TMP/x.mnlp" --bucket 1000
printf 'Anna\tB-PER\nZorro\tB-HERO\n' >"$TMP/unknown.txt"
expect "unknown tags in an eval file" 0 "" "$BIN" eval --model "$N" --input "$TMP/unknown.txt"
check "unknown tags are reported" grep -q "unknown tags 1" "$TMP/out"
expect "eval file with a malformed line" 1 "bad.txt:1:" bash -c "printf 'lonely\n' >'$TMP/bad.txt'; '$BIN' eval --model '$N' --input '$TMP/bad.txt' --format conll"
printf 'fine line\n\xc3\x28 bad\n' >"$TMP/bad-utf8.txt"
expect "predict stops at invalid UTF-8" 1 "bad-utf8.txt:2: invalid UTF-8" "$BIN" predict --model "$N" "$TMP/bad-utf8.txt"
expect "predict --lenient goes on" 0 "" "$BIN" predict --model "$N" --lenient "$TMP/bad-utf8.txt"
check "two lines tagged" test "$(wc -l <"$TMP/out")" -eq 2
printf '\n\n' | "$BIN" predict --model "$N" --json >"$TMP/out" 2>"$TMP/err"
check "empty lines give empty results" grep -qx '{"tokens":\[\],"entities":\[\]}' "$TMP/out"

echo "$pass passed, $fail failed"
((fail == 0))
