#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One scorer for every tool in bench/models/run.sh: accuracy and macro-F1 of top-1 predictions.

    score.py GOLD PRED

GOLD is a fastText-format file (`__label__x text`, one label per line); PRED has one prediction
per line, in the same order, whose first field is the label, with or without "__label__"
(micronlp `predict`, fastText `predict`, the scikit-learn peer). Macro-F1 is the mean over the
labels that occur in GOLD of per-label F1 (0 when a label is never predicted right), as
scikit-learn's f1_score(average="macro", labels=gold labels). Prints "accuracy macro_f1 n".
"""
import sys


def labels(path, gold):
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for ln in fh:
            f = ln.split()
            if gold and not ln.strip():
                continue
            lab = f[0] if f else ""
            out.append(lab[9:] if lab.startswith("__label__") else lab)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    g, p = labels(sys.argv[1], True), labels(sys.argv[2], False)
    if len(g) != len(p):
        sys.exit("score.py: %s has %d lines, %s has %d" % (sys.argv[1], len(g), sys.argv[2], len(p)))
    right = sum(1 for a, b in zip(g, p) if a == b)
    f1s = []
    for lab in sorted(set(g)):
        tp = sum(1 for a, b in zip(g, p) if a == lab and b == lab)
        fp = sum(1 for a, b in zip(g, p) if a != lab and b == lab)
        fn = sum(1 for a, b in zip(g, p) if a == lab and b != lab)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    print("%.4f %.4f %d" % (right / len(g), sum(f1s) / len(f1s), len(g)))


if __name__ == "__main__":
    main()
