#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `micronlp route` with the shipped models and models/pipelines.yaml: the shipped pipeline file
# loads; --explain says which steps ran and why the others were skipped; the JSON result of a
# German text skips the English models; the routed and the run-everything pipelines agree on
# every step that ran in both; invalid pipeline files are refused with file:line:column and
# exit code 1, as are input that fails to read and output that fails to write; bad arguments
# exit 2. Ends with "N passed, M failed".
set -uo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
check() {
    if eval "$2"; then
        pass=$((pass + 1)); echo "ok    $1"
    else
        fail=$((fail + 1)); echo "FAIL  $1"; head -c 800 "$TMP/out" | sed 's/^/      | /'
    fi
}
R() { "$BIN" route --repo "$SRC/models" "$@" >"$TMP/out" 2>&1; }

R --check
check "the shipped pipeline file loads" '[[ $? == 0 ]] && grep -q "pipelines.yaml: ok" $TMP/out'

DE="Alle Menschen sind frei und gleich an Würde und Rechten geboren."
EN="Everyone has the right to life, liberty and security of person."
R --explain "$DE"
check "--explain: German text, English models skipped with the reason" \
    'grep -q "deu" $TMP/out && grep -q "spam .*skipped  when \`lang.label == \"eng\"\` is false: lang.label = \"deu\"" $TMP/out'
check "--explain: keywords ran in German" 'grep -q "keywords .*ran .*(language deu)" $TMP/out'

# English that the spam model is sure is spam stops after the spam step, and says why.
# (an e-mail of the spam test split, SpamAssassin)
SPAM="E-Business [c2971] HOW TO SUBSTANTIALLY INCREASE SALES: Easily accept major credit cards right away! =========================================== Submit the following via email to receive more information. Or vist our online submition http://utenti.tripod.it/aha7666 NAME: PHONENUMBER: AND BEST TIME TO CALL: =========================================== Merchant Status will help you increase sales by "
R --explain "$SPAM"
check "--explain: sure spam stops after the spam step" \
    'grep -q "spam .*ran  *spam " $TMP/out && grep -q "ner .*skipped  when .*spam.prob.spam < 0.9\` is false: lang.label = \"eng\", spam.prob.spam = 0.9" $TMP/out && grep -q "keywords .*skipped" $TMP/out && ! grep -q "sentiment .*ran" $TMP/out'
R --explain "$EN"
check "--explain: ordinary English runs every English model" \
    'grep -q "spam .*ran  *ham " $TMP/out && grep -q "sentiment .*ran" $TMP/out && grep -q "ner .*ran" $TMP/out && grep -q "keywords .*ran" $TMP/out'

# The shipped language step looks at the first 250 bytes and, being sure, stops there; the
# other steps read the whole text.
LONG="$DE $DE $DE $DE $DE $DE"
R --explain "$LONG"
check "--explain: the language step read only a first look of a ${#LONG}-character text" \
    'grep -q "lang .*ran  *deu 1.000; read 2[0-9][0-9] of [0-9]* bytes" $TMP/out && ! grep -q "keywords .*read " $TMP/out'
R --no-times "$LONG"
check "JSON: the language step says how much it read, the others do not" \
    'python3 -c "import json; s=json.load(open(\"$TMP/out\"))[\"steps\"]; assert 200 <= s[\"lang\"][\"read_bytes\"] <= 250 and \"read_bytes\" not in s[\"keywords\"], s"'

R --no-times "$DE"
check "JSON: one object per text, English models null in the output" \
    'python3 -c "import json,sys; r=json.load(open(\"$TMP/out\")); o=r[\"output\"]; assert o[\"language\"]==\"deu\" and o[\"spam\"] is None and len(o[\"keywords\"])>0 and r[\"steps\"][\"ner\"][\"status\"]==\"skipped\", o"'

printf '%s\n%s\n' "$EN" "$DE" >"$TMP/in.txt"
"$BIN" route --repo "$SRC/models" --no-times --input "$TMP/in.txt" >"$TMP/routed" 2>&1
"$BIN" route --repo "$SRC/models" --no-times --pipeline everything --input "$TMP/in.txt" >"$TMP/all" 2>&1
cp "$TMP/routed" "$TMP/out"
check "routed and everything agree on the steps that ran" 'python3 - "$TMP/routed" "$TMP/all" <<EOF
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 2
ran = 0
for x, y in zip(a, b):
    for name, step in x["steps"].items():
        if step["status"] == "ok":
            ran += 1
            assert step == y["steps"][name], name
assert ran >= 3
EOF'

R --threads 2 --no-times --input "$TMP/in.txt"
check "--threads 2 gives the same results" 'cmp -s $TMP/out $TMP/routed'

# ---- invalid pipeline files: file:line:column and exit 1 -----------------------------------
bad() { # bad NAME YAML EXPECTED
    printf '%s' "$2" >"$TMP/p.yaml"
    "$BIN" route --repo "$SRC/models" --pipelines "$TMP/p.yaml" --check >"$TMP/out" 2>&1
    rc=$? want=$3
    check "refused: $1" '[[ $rc == 1 ]] && grep -qF -- "$want" $TMP/out'
}
bad "unknown model" $'pipelines:\n  p:\n    steps:\n      - model: nope\n' "p.yaml:4:16: unknown model 'nope'"
bad "unknown field" $'pipelines:\n  p:\n    steps:\n      - model: lang\n      - model: spam\n        when: lang.labl == "eng"\n' "p.yaml:6:15: when: unknown field 'lang.labl'"
bad "type error" $'pipelines:\n  p:\n    steps:\n      - model: lang\n      - model: spam\n        when: lang.score > "x"\n' "p.yaml:6:28: when: type error"
bad "cycle" $'pipelines:\n  p:\n    steps:\n      - model: spam\n        when: ner.count > 0\n      - model: ner\n        when: spam.label == "ham"\n' "cycle"
bad "syntax error" $'pipelines:\n  p:\n    steps:\n      - model: spam\n        when: len > > 3\n' "p.yaml:5:"
bad "YAML error" $'pipelines:\n  p: [\n' "invalid YAML"
bad "unknown key" $'pipelines:\n  p:\n    stepz: []\n' "p.yaml:3:5: unknown pipeline key 'stepz'"
printf 'pipelines:\n  p:\n    steps:\n      - model: \xff\n' >"$TMP/p.yaml"
"$BIN" route --repo "$SRC/models" --pipelines "$TMP/p.yaml" --check >"$TMP/out" 2>&1
check "refused: invalid UTF-8" '[[ $? == 1 ]] && grep -q "invalid UTF-8 at byte" $TMP/out'
"$BIN" route --repo "$SRC/models" --pipelines "$TMP/missing.yaml" --check >"$TMP/out" 2>&1
check "missing pipeline file: exit 1 naming it" '[[ $? == 1 ]] && grep -q "missing.yaml" $TMP/out'

# ---- usage -----------------------------------------------------------------------------------
R
check "no text: usage error, exit 2" '[[ $? == 2 ]]'
R --pipeline nope "x"
check "unknown pipeline: exit 2" '[[ $? == 2 ]] && grep -q "no such pipeline" $TMP/out'
printf 'ok\n\xc3\x28 bad\n' >"$TMP/bad.txt"
R --input "$TMP/bad.txt"
check "invalid UTF-8 input line: exit 1 with file:line" '[[ $? == 1 ]] && grep -q "bad.txt:2: invalid UTF-8" $TMP/out'
R --no-times --input - <"$TMP"
check "input that fails to read (a directory on stdin): exit 1, not a short run" \
    '[[ $? == 1 ]] && grep -q "read error: Is a directory" $TMP/out'
"$BIN" route --repo "$SRC/models" --check >/dev/full 2>"$TMP/out"
check "--check to a full device: exit 1" '[[ $? == 1 ]] && grep -q "writing the results" $TMP/out'
"$BIN" route --help >"$TMP/out" 2>&1
check "--help" '[[ $? == 0 ]] && grep -q -- "--explain" $TMP/out'

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
