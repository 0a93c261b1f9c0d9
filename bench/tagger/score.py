#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Scores "token<TAB>gold<TAB>predicted" lines (blank line between sentences) the way CoNLL's
# conlleval does, and the way `micronlp eval` does: token accuracy, and for BIO tags exact-span
# precision/recall/F1 (micro over all types). A stray I-X (after O or another type) starts a
# span. Prints JSON: {"tokens":N,"accuracy":A,"precision":P,"recall":R,"f1":F}.
#   bench/tagger/score.py PRED_FILE
import json
import sys


def chunks(tags):
    out, start, typ = [], None, None
    for i, t in enumerate(tags + ["O"]):
        cont = t.startswith("I-") and typ is not None and t[2:] == typ
        if start is not None and not cont:
            out.append((start, i, typ))
            start, typ = None, None
        if t.startswith("B-") or (t.startswith("I-") and not cont):
            start, typ = i, t[2:]
    return set(out)


def main(path):
    tokens = correct = tp = fp = fn = 0
    gold, pred = [], []

    def flush():
        nonlocal tp, fp, fn
        g, p = chunks(gold), chunks(pred)
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
        gold.clear()
        pred.clear()

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            parts = line.split("\t")
            g, p = parts[-2], parts[-1]
            tokens += 1
            correct += g == p
            gold.append(g)
            pred.append(p)
    flush()
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    print(json.dumps({"tokens": tokens, "accuracy": correct / max(tokens, 1), "precision": pr,
                      "recall": rc, "f1": f1}))


if __name__ == "__main__":
    main(sys.argv[1])
