#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One scorer for both tools: P@k and R@k from a gold fastText-format file and a predictions file
(one line per text; labels with or without "__label__", optionally each followed by a probability
as in `micronlp predict` and `fasttext predict-prob`).

    score.py GOLD PREDICTIONS K   -> prints "P@K R@K"
P@k = correct predicted labels / predicted labels; R@k = correct predicted labels / gold labels
(the definitions of `fasttext test`).
"""
import sys

P = "__label__"


def gold_labels(line):
    out = []
    for tok in line.split():
        if not tok.startswith(P):
            break
        out.append(tok[len(P):])
    return out


def predicted(line, k):
    out = []
    for tok in line.split():
        try:
            float(tok)
            continue  # a probability
        except ValueError:
            pass
        out.append(tok[len(P):] if tok.startswith(P) else tok)
    return out[:k]


def main():
    gold_path, pred_path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(gold_path, encoding="utf-8") as g, open(pred_path, encoding="utf-8") as p:
        gold = [gold_labels(l) for l in g if l.strip()]
        pred = [predicted(l, k) for l in p]
    if len(gold) != len(pred):
        sys.exit("score: %d gold lines but %d prediction lines" % (len(gold), len(pred)))
    correct = npred = ngold = 0
    for gl, pl in zip(gold, pred):
        gs = set(gl)
        correct += sum(1 for x in pl if x in gs)
        npred += len(pl)
        ngold += len(gl)
    print("%.4f %.4f" % (correct / max(npred, 1), correct / max(ngold, 1)))


if __name__ == "__main__":
    main()
