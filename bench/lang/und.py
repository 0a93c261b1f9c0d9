#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What-if analysis of the langid `und` threshold: one threshold, or one per length band.

    und.py --bin MICRONLP --model MODEL [--tune-model FULL] [--fixed B:T,T ...] [--data DIR]
           [--out DIR] [--json]

The shipped model answers `und` when its best candidate's probability (after script narrowing)
is under one threshold, tuned by training on the validation set (src/models/langid.c,
pick_threshold: the threshold under which 2 per mille of the known-language texts answered
right fall; until 2026-11-29 the lowest threshold whose score, unknown-language texts answered
und + known-language texts answered right, was within one standard error of the best).
This script asks the model for its top 6 answers on every set (`micronlp predict --k 6`), takes
the best language and its probability from them (the model's own und answer is set aside), and
re-applies that same rule offline:
  - per length band (code points; e.g. bands 40 = texts of <= 40 and > 40 code points), each
    band's threshold tuned on the validation texts of that length;
  - with other confidence scores than the best probability: the sum of the two (top2) or three
    (top3) best probabilities, which do not count a text whose probability is split between
    near-identical languages (Bosnian/Croatian/Serbian) as unsure;
then scores the test sets as bench/lang/score.py does (und counts as wrong) and the modern
English sets as bench/lang/modern.py does (share answered eng).

--fixed BOUNDS:THRESHOLDS (repeatable) also scores fixed thresholds instead of tuned ones, e.g.
`--fixed 40:0.497,0.4` (texts of <= 40 code points 0.497, longer ones 0.4) or `--fixed :0.3`
(one threshold): what a chosen operating point would cost; nothing is tuned for these rows.
--tune-model: the model whose validation answers tune the thresholds (default: --model).
Training tunes on the unquantised model (data/lang/build/full.mnlp) and quantize keeps the
threshold, so `--tune-model data/lang/build/full.mnlp --model models/lang.mnlp` reproduces the
shipped model's threshold (checked: printed next to `micronlp info`'s und_threshold).
Data: DIR (default data/lang) as scripts/models/lang.sh leaves it: build/valid.txt (UDHR valid +
modern English valid, what training tunes on), test-{sentences,short,150}.txt, languages.tsv,
modern/test-eng-{short,150,whole}.txt. Answers are cached in --out (default
bench/out/lang-und), one file per model and set. The test sets are only scored here, never used
to choose anything.
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys

K = 6
TEST_SETS = [("sentences", "test-sentences.txt"), ("short", "test-short.txt"),
             ("150", "test-150.txt")]
ENG_SETS = [("eng-short", "modern/test-eng-short.txt"), ("eng-150", "modern/test-eng-150.txt"),
            ("eng-whole", "modern/test-eng-whole.txt")]
BANDS = [[], [40], [60], [100], [40, 160]]
SCORES = ["p1", "top2", "top3"]


def read_gold(path):
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            lab, _, text = line.partition(" ")
            out.append((lab[len("__label__"):], text))
    return out


def predict(bin_, model, gold_path, out_dir):
    """Top-K answers per line: None for und by script, else [(language, prob), ...]. Cached
    in out_dir under a name that changes with the model file and the data file."""
    key = hashlib.sha256(repr([(os.path.abspath(p), os.stat(p).st_size, os.stat(p).st_mtime_ns)
                               for p in (model, gold_path)]).encode()).hexdigest()[:16]
    cache = os.path.join(out_dir, "%s-%s.k%d" % (
        os.path.splitext(os.path.basename(gold_path))[0], key, K))
    if not os.path.exists(cache):
        texts = "".join(t + "\n" for _, t in read_gold(gold_path))
        r = subprocess.run([bin_, "predict", "--model", model, "--k", str(K)], input=texts,
                           capture_output=True, text=True, check=True)
        with open(cache, "w", encoding="utf-8") as fh:
            fh.write(r.stdout)
    out = []
    with open(cache, encoding="utf-8") as fh:
        for line in fh:
            w = line.split()
            if w and w[0] == "und":
                w = w[2:]  # und by threshold: the languages follow; und by script: nothing
            out.append([(w[i], float(w[i + 1])) for i in range(0, len(w), 2)] or None)
    return out


def confidence(answers, kind):
    if answers is None:
        return -1.0  # und by script: rejected at every threshold, as in langid.c
    n = {"p1": 1, "top2": 2, "top3": 3}[kind]
    return min(1.0, sum(p for _, p in answers[:n]))


RIGHT_LOST_PER_MILLE = 2  # langid.c's UND_RIGHT_LOST_PER_MILLE


def pick_threshold(items):
    """langid.c's pick_threshold on items (confidence, right): the threshold under which 2 per
    mille of the right answers fall (halfway to the next one); 0 when not one may be lost or
    only script-decided answers (1.0) would be."""
    right = sorted(p for p, ok in items if ok and p >= 0)
    lose = len(right) * RIGHT_LOST_PER_MILLE // 1000
    if lose == 0 or lose >= len(right):
        return 0.0
    below, above = right[lose - 1], right[lose]
    if below >= 1.0 or above >= 1.0:
        return 0.0
    return 0.5 * (below + above) if below < above else below


class Rule:
    """Thresholds per band: [(upper bound in code points or None, threshold)]."""

    def __init__(self, kind, bands):
        self.kind, self.bands = kind, bands

    def threshold(self, length):
        for hi, t in self.bands:
            if hi is None or length <= hi:
                return t
        raise AssertionError

    def answer(self, length, answers):
        c = confidence(answers, self.kind)
        return "und" if c < 0 or c < self.threshold(length) else answers[0][0]


def tune(kind, bounds, valid, known):
    bands, lo = [], 0
    for hi in bounds + [None]:
        items = [(confidence(a, kind), a is not None and g in known and a[0][0] == g)
                 for (g, t), a in valid if len(t) > lo and (hi is None or len(t) <= hi)]
        bands.append((hi, pick_threshold(items)))
        lo = hi
    return Rule(kind, bands)


def evaluate(rule, sets, valid, known):
    r = {"thresholds": [[hi, round(t, 6)] for hi, t in rule.bands]}
    v_unk = v_lost = v_score = 0
    for (g, t), a in valid:
        ans = rule.answer(len(t), a)
        if g not in known:
            v_unk += ans == "und"
            v_score += ans == "und"
        else:
            right = a is not None and a[0][0] == g
            v_lost += right and ans == "und"
            v_score += ans == g
    r["valid"] = {"score": v_score, "unknown_answered_und": v_unk, "right_answers_lost": v_lost,
                  "unknown": sum(1 for (g, _), _a in valid if g not in known)}
    for name, rows in sets.items():
        eng = name.startswith("eng")
        right = sum(1 for (g, t), a in rows if rule.answer(len(t), a) == ("eng" if eng else g))
        und = sum(1 for (g, t), a in rows if rule.answer(len(t), a) == "und")
        r[name] = {"examples": len(rows), "accuracy": right / len(rows), "right": right, "und": und}
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tune-model")
    ap.add_argument("--data", default="data/lang")
    ap.add_argument("--out", default="bench/out/lang-und")
    ap.add_argument("--fixed", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tune_model = args.tune_model or args.model
    os.makedirs(args.out, exist_ok=True)
    d = args.data
    with open(os.path.join(d, "languages.tsv"), encoding="utf-8") as fh:
        known = {ln.split("\t")[0] for ln in fh.read().split("\n")[1:] if ln}

    def answers(model, rel):
        path = os.path.join(d, rel)
        gold = read_gold(path)
        pred = predict(args.bin, model, path, args.out)
        assert len(gold) == len(pred), path
        return list(zip(gold, pred))

    valid_tune = answers(tune_model, "build/valid.txt")
    valid = answers(args.model, "build/valid.txt")
    sets = {n: answers(args.model, rel) for n, rel in TEST_SETS + ENG_SETS
            if os.path.exists(os.path.join(d, rel))}
    info = subprocess.run([args.bin, "info", "--model", args.model], capture_output=True,
                          text=True, check=True).stdout
    shipped = next((ln.split()[1] for ln in info.splitlines()
                    if ln.split()[:1] == ["und_threshold"]), "?")
    results = []
    for kind in SCORES:
        for bounds in BANDS:
            rule = tune(kind, bounds, valid_tune, known)
            res = evaluate(rule, sets, valid, known)
            res.update(score=kind, bands=bounds)
            results.append(res)
    for spec in args.fixed:
        b, _, ts = spec.partition(":")
        bounds = [int(x) for x in b.split(",") if x]
        ths = [float(x) for x in ts.split(",")]
        if len(ths) != len(bounds) + 1:
            sys.exit("und.py: --fixed %s: give one threshold more than bounds" % spec)
        res = evaluate(Rule("p1", list(zip(bounds + [None], ths))), sets, valid, known)
        res.update(score="p1 (fixed)", bands=bounds)
        results.append(res)
    if args.json:
        print(json.dumps({"shipped_und_threshold": shipped, "results": results}, indent=1))
        return
    print("und threshold in %s: %s; the rule re-applied offline to %s's validation answers: %.6f"
          % (args.model, shipped, tune_model, results[0]["thresholds"][0][1]))
    print()
    print("| confidence | bands (code points) | thresholds | valid: unknown answered und | "
          "valid: right answers lost | valid score | " + " | ".join(sets) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(sets))
    for r in results:
        th = ", ".join(("<= %d: " % hi if hi else ("rest: " if len(r["thresholds"]) > 1 else ""))
                       + "%.3f" % t for hi, t in r["thresholds"])
        cells = ["%.4f (und %d)" % (r[n]["accuracy"], r[n]["und"]) for n in sets]
        print("| %s | %s | %s | %d of %d | %d | %d | %s |" % (
            r["score"], ", ".join(map(str, r["bands"])) or "one", th,
            r["valid"]["unknown_answered_und"], r["valid"]["unknown"],
            r["valid"]["right_answers_lost"], r["valid"]["score"], " | ".join(cells)))
    v = results[0]["valid"]
    n = len(valid)
    a = v["score"] / n
    print()
    print("valid: %d texts (%d in unknown languages); one standard error of the score: %.0f texts"
          % (n, v["unknown"], math.sqrt(n * a * (1 - a))))


if __name__ == "__main__":
    sys.exit(main())
