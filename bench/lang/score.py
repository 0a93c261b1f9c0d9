#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scores language identification answers, the same way for every tool.

    score.py GOLD PRED [--supported FILE] [--json] [--groups]

GOLD: fastText-format lines (`__label__xxx text`); PRED: one answer per line, in the same order
(an ISO 639-3 code, `und`, or empty for no answer; anything after the first space is ignored,
and a `__label__` prefix is stripped). With --supported (one ISO 639-3 code per line), only
examples whose gold language is in that list are scored: a peer is judged on the languages it
claims to know, and every other answer it gives (also a language outside the list) is simply
wrong.

Accuracy: right answers / scored examples ("und" and no answer are wrong).
Macro-F1: the mean over the scored gold languages of F1 (precision over the scored examples
predicted as that language, recall over its examples).
--groups: accuracy inside confusable groups (GROUPS below): for the examples of a group's
languages, how often the answer is right, and how often it is another member of the group.
"""
import json
import sys

GROUPS = {
    "Malay/Indonesian": ["zlm", "ind", "min", "bjn", "abs", "pmy", "mad", "jav", "sun", "ban"],
    "Bosnian/Croatian/Serbian/Montenegrin": ["bos", "hrv", "srp", "cnr", "slv"],
    "Danish/Norwegian/Swedish": ["dan", "nob", "nno", "swe", "fao", "isl"],
    "Czech/Slovak": ["ces", "slk"],
    "Spanish/Galician/Portuguese/Asturian": ["spa", "glg", "por", "ast", "lad", "mwl", "ext"],
    "Catalan/Occitan/French": ["cat", "oci", "fra", "frp"],
    "Hindi/Marathi/Nepali/Sanskrit/Bhojpuri/Maithili/Magahi": ["hin", "mar", "npi", "san", "bho", "mai", "mag"],
    "Chinese varieties": ["cmn", "yue", "wuu", "hak", "nan", "gan", "hsn", "cjy"],
    "Russian/Ukrainian/Belarusian/Bulgarian": ["rus", "ukr", "bel", "bul", "rue"],
    "Persian/Dari": ["pes", "prs"],
    "Quechua varieties": ["quz", "quy", "qug", "qvc", "qvh", "qvm", "qvn", "qwh", "qxn", "qxu", "qva"],
    "Zulu/Xhosa/Ndebele/Swati": ["zul", "xho", "nbl", "nde", "ssw"],
    "Sotho/Tswana/Pedi": ["sot", "tsn", "nso"],
    "English/Scots/English-based creoles": ["eng", "sco", "pcm", "jam", "kri", "tpi", "bis"],
}


def read_gold(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            lab = line.split(" ", 1)[0]
            if not lab.startswith("__label__"):
                sys.exit("score: %s: not fastText format: %r" % (path, line[:40]))
            out.append(lab[len("__label__"):])
    return out


def read_pred(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.strip().split(" ", 1)[0] if line.strip() else ""
            if w.startswith("__label__"):
                w = w[len("__label__"):]
            out.append(w)
    return out


def score(gold, pred, supported=None):
    if len(gold) != len(pred):
        sys.exit("score: %d gold lines but %d answers" % (len(gold), len(pred)))
    pairs = [(g, p) for g, p in zip(gold, pred) if supported is None or g in supported]
    n = len(pairs)
    right = sum(1 for g, p in pairs if g == p)
    langs = sorted({g for g, _ in pairs})
    tp = {l: 0 for l in langs}
    fp = {l: 0 for l in langs}
    fn = {l: 0 for l in langs}
    for g, p in pairs:
        if g == p:
            tp[g] += 1
        else:
            fn[g] += 1
            if p in fp:
                fp[p] += 1
    f1s = []
    for l in langs:
        pr = tp[l] / (tp[l] + fp[l]) if tp[l] + fp[l] else 0.0
        rc = tp[l] / (tp[l] + fn[l]) if tp[l] + fn[l] else 0.0
        f1s.append(2 * pr * rc / (pr + rc) if pr + rc else 0.0)
    und = sum(1 for _, p in pairs if p in ("und", ""))
    return {
        "examples": n,
        "languages": len(langs),
        "accuracy": right / n if n else 0.0,
        "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "und": und,
    }


def groups(gold, pred):
    out = {}
    for name, members in GROUPS.items():
        ms = set(members)
        pairs = [(g, p) for g, p in zip(gold, pred) if g in ms]
        if not pairs:
            continue
        present = sorted({g for g, _ in pairs})
        if len(present) < 2:
            continue
        right = sum(1 for g, p in pairs if g == p)
        inside = sum(1 for g, p in pairs if g != p and p in ms)
        out[name] = {
            "languages": present,
            "examples": len(pairs),
            "accuracy": right / len(pairs),
            "confused_within": inside / len(pairs),
        }
    return out


def main():
    args = sys.argv[1:]
    supported = None
    as_json = "--json" in args
    want_groups = "--groups" in args
    args = [a for a in args if a not in ("--json", "--groups")]
    if "--supported" in args:
        i = args.index("--supported")
        with open(args[i + 1], encoding="utf-8") as f:
            supported = {l.strip() for l in f if l.strip()}
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    gold, pred = read_gold(args[0]), read_pred(args[1])
    r = score(gold, pred, supported)
    if want_groups:
        r["groups"] = groups(gold, pred)
    if as_json:
        print(json.dumps(r, indent=1 if want_groups else None))
    else:
        print("examples %d  languages %d  accuracy %.4f  macro-F1 %.4f  und %d"
              % (r["examples"], r["languages"], r["accuracy"], r["macro_f1"], r["und"]))
        for name, g in r.get("groups", {}).items():
            print("  %-50s %-40s n=%-4d acc %.3f  within-group errors %.3f"
                  % (name, " ".join(g["languages"]), g["examples"], g["accuracy"], g["confused_within"]))


if __name__ == "__main__":
    main()
