#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scores the key-phrase methods on the small hand-written sanity set
(tests/data/keywords/sanity.tsv: lang, gold phrases, text).

Usage: sanity.py MICRONLP_BIN MODEL [--k 5] [--methods yake,rake] [--max-words 4]

For each method, the top k phrases of each text are compared with its gold phrases after case
folding: "exact" counts a gold phrase found as a predicted phrase; "partial" also counts one that
a predicted phrase contains or that contains a predicted phrase (word boundaries). Prints recall
of gold phrases at k (exact, partial), whether the top phrase is gold (exact, partial), and
the mean time per text as the CLI reports nothing about it (see bench/keywords/speed.sh)."""
import json
import os
import re
import subprocess
import sys


def words(s):
    return re.findall(r"\w+", s.casefold())


def contains(a, b):
    """Word sequence b inside word sequence a."""
    return any(a[i:i + len(b)] == b for i in range(len(a) - len(b) + 1)) if b else False


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    binary, model = args[0], args[1]
    k, methods, maxw = 5, ["yake", "rake"], None
    rest = args[2:]
    while rest:
        if rest[0] == "--k":
            k = int(rest[1]); rest = rest[2:]
        elif rest[0] == "--methods":
            methods = rest[1].split(","); rest = rest[2:]
        elif rest[0] == "--max-words":
            maxw = rest[1]; rest = rest[2:]
        else:
            sys.exit("unknown argument %s" % rest[0])
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "tests", "data", "keywords", "sanity.tsv")
    rows = []
    for ln in open(path, encoding="utf-8"):
        if ln.startswith("#") or not ln.strip():
            continue
        lang, gold, text = ln.rstrip("\n").split("\t")
        rows.append((lang, gold.split("|"), text))
    print("sanity set: %d texts, %d gold phrases, k = %d" % (len(rows), sum(len(g) for _, g, _ in rows), k))
    for method in methods:
        ex = pa = top_ex = top_pa = total = 0
        for lang, gold, text in rows:
            cmd = [binary, "predict", model, "--lang", lang, "--k", str(k), "--method", method, "--json"]
            if maxw:
                cmd += ["--max-words", maxw]
            out = subprocess.run(cmd + ["--", text], capture_output=True, text=True, check=True).stdout
            pred = [words(x["text"]) for x in json.loads(out)["keywords"]]
            for g in gold:
                gw = words(g)
                total += 1
                ex += any(p == gw for p in pred)
                pa += any(contains(p, gw) or contains(gw, p) for p in pred)
            if pred:
                top_ex += any(pred[0] == words(g) for g in gold)
                top_pa += any(contains(pred[0], words(g)) or contains(words(g), pred[0]) for g in gold)
        n = len(rows)
        print("%-5s recall@%d exact %.3f partial %.3f | top-1 gold exact %.3f partial %.3f"
              % (method, k, ex / total, pa / total, top_ex / n, top_pa / n))


if __name__ == "__main__":
    main()
