#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scores the answers of bench/lang/heldout.sh on the wider held-out split.

    heldout.py OUT_DIR VALID_ENG 'NAME=PREFIX' ...

For each model, PREFIX.valid-sentences.pred and PREFIX.valid.pred hold one answer per line of
OUT_DIR/valid-sentences.text and OUT_DIR/valid.text ('label prob label prob ...' as `micronlp
predict --k 2` prints, or a bare label as fastText's): the first label is the answer (`und`
counts as wrong), the first that is not `und` the best language.

Sentences: wrong answers, each weighted as the test split weighs it (the test set takes at most
20 sentences per language, so a sentence counts min(1, 20 / its language's sentences)), then
unweighted, then Mandarin alone (the language with the most sentences but one). All texts:
wrong answers of known-language texts by length in code points (the snippets are 20-40 and
140-160), the modern English lines (VALID_ENG, as their own row), texts with Han or kana, and
unknown-language texts answered `und`.
"""
import re
import sys
from collections import Counter

CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def answers(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            first = w[0] if w else "und"
            best = next((w[i] for i in range(0, len(w), 2) if w[i] != "und"), "und")
            out.append((first, best))
    return out


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: heldout.py OUT_DIR VALID_ENG NAME=PREFIX ...\n")
        sys.exit(2)
    out, eng_path = sys.argv[1], sys.argv[2]
    models = [a.split("=", 1) for a in sys.argv[3:]]
    sgold = lines(out + "/valid-sentences.gold")
    gold, texts = lines(out + "/valid.gold"), lines(out + "/valid.text")
    eng = {l.split(" ", 1)[1] for l in lines(eng_path) if " " in l}
    per_lang = Counter(sgold)
    weight = [min(1.0, 20.0 / per_lang[g]) for g in sgold]

    def band(t):
        if t in eng:
            return "modern eng"
        n = len(t)
        return "<=40" if n <= 40 else "41-139" if n < 140 else "140-160" if n <= 160 else ">160"

    bands = ["<=40", "41-139", "140-160", ">160", "modern eng"]
    known = [i for i, g in enumerate(gold) if g != "und"]
    counts = Counter(band(texts[i]) for i in known)
    cjk = [i for i in known if CJK.search(texts[i])]
    unknown = sum(1 for g in gold if g == "und")
    cmn = [i for i, g in enumerate(sgold) if g == "cmn"]

    print("Sentences held out: %d (%.0f with the test set's weights: at most 20 a language)"
          % (len(sgold), sum(weight)))
    print("| model | wrong, test-like weights | in its best language | wrong, unweighted |"
          " in its best language | Mandarin wrong of %d |" % len(cmn))
    print("|---|---:|---:|---:|---:|---:|")
    for name, prefix in models:
        a = answers(prefix + ".valid-sentences.pred")
        if len(a) != len(sgold):
            sys.exit("heldout.py: %s has %d answers for %d sentences" % (prefix, len(a), len(sgold)))
        w = sum(wt for wt, g, (f, _) in zip(weight, sgold, a) if f != g)
        wb = sum(wt for wt, g, (_, b) in zip(weight, sgold, a) if b != g)
        u = sum(1 for g, (f, _) in zip(sgold, a) if f != g)
        ub = sum(1 for g, (_, b) in zip(sgold, a) if b != g)
        c = sum(1 for i in cmn if a[i][0] != "cmn")
        print("| %s | %.1f | %.1f | %d | %d | %d |" % (name, w, wb, u, ub, c))
    print()
    print("All held-out texts: wrong answers (`und` counted wrong) of the known-language texts"
          " by length in code points, all of them, all in the best language; Han or kana texts;"
          " unknown-language texts answered `und`")
    print("| model | " + " | ".join("%s (%d)" % (b, counts[b]) for b in bands)
          + " | all (%d) | in its best language | Han or kana (%d) | `und` for unknown (%d) |"
          % (len(known), len(cjk), unknown))
    print("|---|" + "---:|" * (len(bands) + 4))
    for name, prefix in models:
        a = answers(prefix + ".valid.pred")
        if len(a) != len(gold):
            sys.exit("heldout.py: %s has %d answers for %d texts" % (prefix, len(a), len(gold)))
        wrong = Counter(band(texts[i]) for i in known if a[i][0] != gold[i])
        row = [wrong[b] for b in bands]
        best = sum(1 for i in known if a[i][1] != gold[i])
        ck = sum(1 for i in cjk if a[i][0] != gold[i])
        und = sum(1 for g, (f, _) in zip(gold, a) if g == "und" and f == "und")
        print("| %s | %s | %d | %d | %d | %d |"
              % (name, " | ".join(str(x) for x in row), sum(row), best, ck, und))


if __name__ == "__main__":
    main()
