#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The rule that keeps the language-id held-out sets scoreable (scripts/data/udhr.py, held_out):
# a valid or test file keeps each text once, never a text of train.txt, and no text found under
# two labels (the package has identical sentences under two codes, and no answer is right for
# both); the first occurrence of a text is the one kept, in order, and every dropped row is
# counted by its reason. Runs the script's own function on rows made for the test (the UDHR
# package itself is not needed).
# Needs MN_SRC. Prints one line per check and ends with "N passed, M failed".
set -euo pipefail

SRC=${MN_SRC:?set MN_SRC to the source directory}

python3 -B - "$SRC/scripts/data" <<'EOF'
import sys

sys.path.insert(0, sys.argv[1])
import udhr  # noqa: E402

passed = failed = 0


def check(what, got, want):
    global passed, failed
    if got == want:
        passed += 1
        print("ok    %s" % what)
    else:
        failed += 1
        print("FAIL  %s: got %r, want %r" % (what, got, want))


train = {"seen in train", "also in train"}
rows = [
    ("kmr", "a sentence"),
    ("srp", "shared text"),
    ("kmr", "a sentence"),         # repeat: the first is kept
    ("bos", "shared text"),        # the same text under a second label: both go
    ("eng", "seen in train"),
    ("tur", "another sentence"),
    ("cnr", "also in train"),
    ("hrv", "also in train"),      # in train and under two labels: counted as in train
    ("kmr", "last one"),
]
out, dropped = udhr.held_out(rows, train)
check("kept rows, first occurrences in order", out,
      [("kmr", "a sentence"), ("tur", "another sentence"), ("kmr", "last one")])
check("dropped rows counted by reason", dropped,
      {"in train": 3, "under two labels": 2, "repeated": 1})
check("every row kept or counted", len(out) + sum(dropped.values()), len(rows))
out, dropped = udhr.held_out([("deu", "x"), ("deu", "y")], set())
check("distinct, unseen rows all kept", out, [("deu", "x"), ("deu", "y")])
check("nothing dropped then", sum(dropped.values()), 0)
out, dropped = udhr.held_out([], train)
check("an empty set stays empty", out, [])

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
