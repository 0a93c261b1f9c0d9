#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the markdown table of bench/lang/run.sh from the answers it left in OUT.

    table.py OUT DATA_DIR

OUT holds tools.tsv (tool, supported list or "all", predictions/s, CPU seconds, size in bytes),
the answers <tool>-<set>.pred and micronlp's top-60 answers mn-k60-<set>.txt; DATA_DIR the gold
test-<set>.txt files. Scoring is bench/lang/score.py's.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402

SETS = [("sentences", "sentences"), ("short", "20-40 chars"), ("150", "~150 chars")]


def human(n):
    n = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%.0f %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024


def restricted(k60_path, supported):
    out = []
    with open(k60_path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            out.append(next((l for l in w[0::2] if l in supported), "und"))
    return out


def cells(gold, pred, supported):
    c = []
    for s, _ in SETS:
        r = score.score(gold[s], pred[s], supported)
        c.append("%.3f / %.3f" % (r["accuracy"], r["macro_f1"]))
    return c


def main():
    out, data = sys.argv[1], sys.argv[2]
    gold = {s: score.read_gold(os.path.join(data, "test-%s.txt" % s)) for s, _ in SETS}
    tools = []
    with open(os.path.join(out, "tools.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            name, sup, pps, cpu, size = line.rstrip("\n").split("\t")
            tools.append((name, sup, pps, cpu, size))
    files = {
        "micronlp": "mn", "micronlp, no und": "mn-nound",
        "fastText .ftz (cutoff 48000, qout)": "ft-ftz", "fastText .bin": "ft-bin",
        "fastText .ftz, on micronlp's training lines": "ft-same-ftz",
        "fastText .bin, on micronlp's training lines": "ft-same-bin",
    }
    head = "| %s | " + " | ".join(n for _, n in SETS) + " | languages | predictions/s (1 thread) | size |"
    sep = "|---|" + "---|" * (len(SETS) + 3)
    lines = []
    nlang = len(set(gold["sentences"]))
    lines.append("All %d languages of the split (accuracy / macro-F1; `und` counts as wrong):" % nlang)
    lines.append("")
    lines.append(head % "tool")
    lines.append(sep)
    for name, sup, pps, cpu, size in tools:
        if name not in files:
            continue
        pred = {s: score.read_pred(os.path.join(out, "%s-%s.pred" % (files[name], s))) for s, _ in SETS}
        speed = "{:,}".format(int(float(pps))) if pps != "-" else "(not measured)"
        lines.append("| %s | %s | %d | %s | %s |" % (name, " | ".join(cells(gold, pred, None)), nlang,
                                                   speed, human(size)))
    lines.append("")
    lines.append("Each npm peer on the languages it supports (same examples for the rows under it):")
    lines.append("")
    lines.append(head % "tool")
    lines.append(sep)
    mn = next(t for t in tools if t[0] == "micronlp")
    for name, sup, pps, cpu, size in tools:
        if name in files:
            continue
        with open(sup, encoding="utf-8") as f:
            supported = {l.strip() for l in f if l.strip()}
        pred = {s: score.read_pred(os.path.join(out, "%s-%s.pred" % (name, s))) for s, _ in SETS}
        mnp = {s: score.read_pred(os.path.join(out, "mn-%s.pred" % s)) for s, _ in SETS}
        rp = {s: restricted(os.path.join(out, "mn-k60-%s.txt" % s), supported) for s, _ in SETS}
        n = len(supported & set(gold["sentences"]))
        lines.append("| **%s** | %s | %d | %s | %s |" % (name, " | ".join(cells(gold, pred, supported)), n,
                                                       "{:,}".format(int(float(pps))), human(size)))
        lines.append("| micronlp (all %d) | %s | %d | %s | %s |" % (nlang, " | ".join(cells(gold, mnp, supported)),
                                                                  n, "{:,}".format(int(float(mn[2]))), human(mn[4])))
        lines.append("| micronlp (%s's languages) | %s | %d | | |" % (name, " | ".join(cells(gold, rp, supported)), n))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
