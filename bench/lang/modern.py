#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scores a language identifier on the modern-text sets of scripts/data/lang-modern.py.

    modern.py DATA_DIR PRED_DIR [--json] [--labels LANGUAGES_TSV]

DATA_DIR holds test-eng-{short,150,whole}.txt and test-other-{whole,short}.txt with their .src
files; PRED_DIR holds one answer file per set, pred-<set>.txt (e.g. pred-eng-short.txt), one
line per text in the same order: `label prob label prob ...` as `micronlp predict --k 2` prints
it (only the first label is the answer; when it is `und`, the next label is the "best
language", scored separately).

English sets: recall of eng (the share of texts answered eng), the share answered und, the
answers that took the most texts away from eng, the same recall when und is replaced by the
best language, and eng recall per source.
Other languages: how often a text that is not English is answered eng (the failure that sends
a foreign text to the English models), and accuracy on the texts whose language the model knows
(LANGUAGES_TSV, default data/lang/languages.tsv).
"""
import json
import os
import sys


def read_lines(path):
    with open(path, encoding="utf-8") as fh:
        return [ln.rstrip("\n") for ln in fh]


def answers(path):
    out = []
    for ln in read_lines(path):
        w = ln.split()
        top = w[0] if w else "und"
        best = top
        if top == "und":
            best = w[2] if len(w) >= 3 else "und"
        out.append((top, best))
    return out


def gold_of(path):
    return [ln.split(" ", 1)[0][len("__label__"):] for ln in read_lines(path) if ln]


def eng_set(data, preds, name):
    gold = gold_of(os.path.join(data, "test-%s.txt" % name))
    srcs = read_lines(os.path.join(data, "test-%s.src" % name))
    pred = answers(os.path.join(preds, "pred-%s.txt" % name))
    if not (len(gold) == len(srcs) == len(pred)):
        sys.exit("modern: %s: %d texts, %d sources, %d answers" % (name, len(gold), len(srcs), len(pred)))
    n = len(gold)
    wrong = {}
    by = {}
    for (top, best), s in zip(pred, srcs):
        b = by.setdefault(s, [0, 0])
        b[0] += 1
        b[1] += top == "eng"
        if top != "eng":
            wrong[top] = wrong.get(top, 0) + 1
    r = {
        "examples": n,
        "eng_recall": sum(t == "eng" for t, _ in pred) / n,
        "und": sum(t == "und" for t, _ in pred) / n,
        "eng_recall_best_language": sum(b == "eng" for _, b in pred) / n,
        "top_wrong": dict(sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))[:6]),
        "by_source": {s: round(v[1] / v[0], 4) for s, v in sorted(by.items())},
    }
    return r


def other_set(data, preds, name, labels):
    gold = gold_of(os.path.join(data, "test-%s.txt" % name))
    pred = answers(os.path.join(preds, "pred-%s.txt" % name))
    if len(gold) != len(pred):
        sys.exit("modern: %s: %d texts, %d answers" % (name, len(gold), len(pred)))
    foreign = [(g, t) for g, (t, _) in zip(gold, pred) if g != "eng"]
    known = [(g, t) for g, (t, _) in zip(gold, pred) if g in labels]
    as_eng = sorted(g for g, t in foreign if t == "eng")
    return {
        "examples": len(gold),
        "not_english": len(foreign),
        "answered_eng": len(as_eng),
        "answered_eng_rate": len(as_eng) / len(foreign) if foreign else 0.0,
        "answered_eng_languages": as_eng,
        "known_language": len(known),
        "accuracy_known": sum(g == t for g, t in known) / len(known) if known else 0.0,
        "und_known": sum(t == "und" for _, t in known) / len(known) if known else 0.0,
    }


def main():
    a = sys.argv[1:]
    as_json = "--json" in a
    a = [x for x in a if x != "--json"]
    langs = "data/lang/languages.tsv"
    if "--labels" in a:
        i = a.index("--labels")
        langs = a[i + 1]
        del a[i : i + 2]
    if len(a) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    data, preds = a
    labels = {ln.split("\t", 1)[0] for ln in read_lines(langs)[1:]}
    r = {"eng": {}, "other": {}}
    for s in ("short", "150", "whole"):
        r["eng"][s] = eng_set(data, preds, "eng-" + s)
    for s in ("whole", "short"):
        r["other"][s] = other_set(data, preds, "other-" + s, labels)
    if as_json:
        print(json.dumps(r))
        return
    for s, v in r["eng"].items():
        print("English %-5s n=%-5d eng %.3f  und %.3f  (best language: eng %.3f)  lost to: %s" % (
            s, v["examples"], v["eng_recall"], v["und"], v["eng_recall_best_language"],
            " ".join("%s %d" % kv for kv in v["top_wrong"].items())))
        print("      by source: " + " ".join("%s %.2f" % kv for kv in v["by_source"].items()))
    for s, v in r["other"].items():
        print("Other   %-5s n=%-5d not English %d, answered eng %d (%.3f)%s; known language %d: accuracy %.3f (und %.3f)" % (
            s, v["examples"], v["not_english"], v["answered_eng"], v["answered_eng_rate"],
            " [" + " ".join(v["answered_eng_languages"]) + "]" if v["answered_eng_languages"] else "",
            v["known_language"], v["accuracy_known"], v["und_known"]))


if __name__ == "__main__":
    main()
