#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Quality floor of the shipped language identifier, models/lang.mnlp (built by
# scripts/models/lang.sh, described under "## lang" in docs/MODELS.md), and the langid behaviour
# the command shows: the file is at most 2 MiB and a langid model; `eval` on a small fixed sample
# of the test split (tests/data/models/lang.txt: every 50th whole sentence, every 20th 20-40
# character snippet and every 50th ~150 character snippet of the held-out articles) reaches at
# least the floor below (a little under the accuracy measured when the model was built); modern
# English (tests/data/models/lang-modern-eng.txt: 40 short e-mail, review, chat and news lines
# written for this test, the kind of text users send) is answered `eng` at least MODERN_FLOOR of
# the time (the UDHR-only model answered 7 of 40, mostly Scots, Nigerian Pidgin or und);
# everyday text in other languages (tests/data/models/lang-modern-other.txt: 42 news and
# message lines in 21 languages, also written for this test) is answered right at least
# OTHER_FLOOR of the time (the model without everyday vocabulary: 29 of 42, calling Spanish news
# Slovak and French und); the script settles Korean, Thai and Georgian text; digits and emoji get `und`; probabilities of the
# top 3 sum to at most 1; a langid model is trained from a few lines with `train --type langid`,
# and a damaged model file is refused.
# Needs MN_BIN and MN_SRC. Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:?set MN_SRC to the source directory}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

MODEL=$SRC/models/lang.mnlp
SAMPLE=$SRC/tests/data/models/lang.txt
FLOOR=0.945   # a little under the accuracy measured on the sample when the model was built
MEASURED=0.958
LIMIT=2097152
MODERN=$SRC/tests/data/models/lang-modern-eng.txt
MODERN_FLOOR=0.9    # share of the 40 modern English lines answered eng
MODERN_MEASURED=1.0 # measured when the model was built (the UDHR-only model: 0.175)
OTHER=$SRC/tests/data/models/lang-modern-other.txt
OTHER_FLOOR=0.85    # share of the 42 lines in other languages answered right
OTHER_MEASURED=0.952 # measured when the model was built (without everyday vocabulary: 0.690)

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

# accuracy_floor WHAT FILE FLOOR MEASURED: `eval` of the model on FILE reaches FLOOR.
accuracy_floor() {
    if "$BIN" eval --model "$MODEL" --input "$2" --json >"$TMP/eval" 2>"$TMP/err"; then
        local acc n
        acc=$(sed -n 's/.*"accuracy":\([0-9.eE+-]*\).*/\1/p' "$TMP/eval" | head -1)
        n=$(sed -n 's/.*"examples":\([0-9]*\).*/\1/p' "$TMP/eval" | head -1)
        if [ -n "$acc" ] && awk -v a="$acc" -v f="$3" 'BEGIN { exit !(a >= f) }'; then
            ok "$1: $acc of $n >= floor $3 (measured $4)"
        else
            bad "$1: '$acc' of $n < floor $3 (measured $4)"
        fi
    else
        bad "eval on $2 failed"
    fi
}

if [ -f "$MODEL" ] && [ -f "$SAMPLE" ]; then
    size=$(stat -c %s "$MODEL")
    if [ "$size" -le "$LIMIT" ]; then ok "size $size bytes <= $LIMIT"; else bad "size $size bytes > $LIMIT"; fi
    if "$BIN" info --model "$MODEL" >"$TMP/info" 2>"$TMP/err" && grep -Eq '^type[[:space:]]+langid' "$TMP/info" &&
        grep -Eq '^[[:space:]]*task[[:space:]]+lang[[:space:]]*$' "$TMP/info"; then
        ok "info: type langid, task lang"
    else
        bad "info does not show type langid and task lang"
    fi
    accuracy_floor "UDHR sample texts" "$SAMPLE" "$FLOOR" "$MEASURED"
    accuracy_floor "modern English lines answered eng" "$MODERN" "$MODERN_FLOOR" "$MODERN_MEASURED"
    accuracy_floor "everyday lines in 21 other languages right" "$OTHER" "$OTHER_FLOOR" "$OTHER_MEASURED"

    # Script rules and und, through `predict`.
    printf '%s\n' '모든 인간은 태어날 때부터 자유로우며' 'มนุษย์ทั้งหลายเกิดมามีอิสระ' \
        'ყველა ადამიანი იბადება თავისუფალი' '12345 678' '😀👍🏽🎉' >"$TMP/texts"
    if "$BIN" predict --model "$MODEL" <"$TMP/texts" >"$TMP/pred" 2>"$TMP/err" &&
        [ "$(awk '{ printf "%s ", $1 }' "$TMP/pred")" = "kor tha kat und und " ]; then
        ok "script settles kor/tha/kat; digits and emoji are und"
    else
        echo "got: $(awk '{ printf "%s ", $1 }' "$TMP/pred" 2>/dev/null)" >>"$TMP/err"
        bad "script rules / und"
    fi
    printf '%s\n' 'Alle Menschen sind frei und gleich an Würde und Rechten geboren.' \
        'Todos los seres humanos nacen libres e iguales' 'все люди рождаются свободными' >"$TMP/texts"
    if "$BIN" predict --model "$MODEL" --k 3 <"$TMP/texts" >"$TMP/pred" 2>"$TMP/err" &&
        awk '{ s = 0; for (i = 2; i <= NF; i += 2) s += $i; if (s > 1.0001) bad = 1 } END { exit bad }' "$TMP/pred" &&
        [ "$(awk '{ printf "%s ", $1 }' "$TMP/pred")" = "deu spa rus " ]; then
        ok "top 3: deu spa rus, probabilities sum to <= 1"
    else
        cat "$TMP/pred" >>"$TMP/err" 2>/dev/null || true
        bad "top-3 answers"
    fi
else
    bad "$MODEL or $SAMPLE is missing (scripts/models/lang.sh --write-sample builds them)"
fi

# Training from the command line, and a damaged file.
{
    for i in 1 2 3; do
        echo "__label__eng all human beings are born free and equal in dignity and rights $i"
        echo "__label__fra tous les êtres humains naissent libres et égaux en dignité et en droits $i"
        echo "__label__rus все люди рождаются свободными и равными в своем достоинстве $i"
        echo "__label__kor 모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다 $i"
    done
} >"$TMP/train.txt"
if "$BIN" train --type langid --input "$TMP/train.txt" --output "$TMP/m.mnlp" --epoch 50 --dim 16 \
    --bucket 10000 --quiet 2>"$TMP/err" &&
    printf 'les êtres humains\nвсе люди\n인간은\n' | "$BIN" predict --model "$TMP/m.mnlp" >"$TMP/pred" 2>>"$TMP/err" &&
    [ "$(awk '{ printf "%s ", $1 }' "$TMP/pred")" = "fra rus kor " ]; then
    ok "train --type langid learns a tiny set"
else
    bad "train --type langid on a tiny set"
fi
if [ -f "$TMP/m.mnlp" ]; then
    cp "$TMP/m.mnlp" "$TMP/bad.mnlp"
    size=$(stat -c %s "$TMP/bad.mnlp")
    printf '\x55' | dd of="$TMP/bad.mnlp" bs=1 seek=$((size - 5)) conv=notrunc 2>/dev/null
    if "$BIN" predict --model "$TMP/bad.mnlp" </dev/null >/dev/null 2>"$TMP/err"; then
        bad "a damaged model was accepted"
    elif grep -q "bad.mnlp" "$TMP/err"; then
        : >"$TMP/err"
        ok "a damaged model is refused with a message naming the file"
    else
        bad "damaged model: no message naming the file"
    fi
fi
if "$BIN" train --type langid --input "$TMP/train.txt" --output "$TMP/m2.mnlp" --und-threshold 2 \
    >/dev/null 2>"$TMP/err"; then
    bad "--und-threshold 2 was accepted"
else
    : >"$TMP/err"
    ok "--und-threshold out of range is a usage error"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
