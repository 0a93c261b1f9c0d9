#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Formats bench/out/classifier/results.tsv (key<TAB>value lines written by run.sh) as the
markdown table of the classifier benchmark.

    table.py RESULTS.tsv AUTOTUNE(0|1) AUTOTUNE_SECONDS
"""
import json
import os
import sys

res = {}
with open(sys.argv[1]) as fh:
    for line in fh:
        k, _, v = line.rstrip("\n").partition("\t")
        res[k] = v
# Prediction CPU time from hyperfine's JSON (mean user + system per run), next to results.tsv:
# texts per CPU second hardly depends on what else the machine is doing, unlike texts/s.
rdir = os.path.dirname(os.path.abspath(sys.argv[1]))
for ds in ("spam", "cooking"):
    for tool in ("ft", "mn"):
        path = os.path.join(rdir, "%s-pred-%s.json" % (ds, tool))
        lines = res.get(ds + ".predict.lines")
        if os.path.exists(path) and lines:
            with open(path) as fh:
                r = json.load(fh)["results"][0]
            res["%s.predict.%s.tpc" % (ds, tool)] = str(float(lines) / (r["user"] + r["system"]))
autotune = sys.argv[2] == "1"
at_seconds = sys.argv[3]


def num(key):
    v = res.get(key, "")
    try:
        return float(v)
    except ValueError:
        return None


def fmt(v, kind):
    if v is None:
        return "—"
    if kind == "acc":
        return "%.3f" % v
    if kind == "int":
        return "{:,}".format(int(round(v)))
    if kind == "s":
        return "%.2f s" % v
    if kind == "ms":
        return "%.1f ms" % v
    if kind == "mb":
        return "%.1f MB" % v
    return str(v)


rows = []


def row(ds, run, metric, key_ft, key_mn, kind, better, step=None):
    """step: result key prefixes (fastText, micronlp) of the timed step, for the others' load."""
    ft, mn = num(key_ft), num(key_mn)
    ratio = "—"
    if ft is not None and mn is not None and ft != 0:
        ratio = "%.2f×" % (mn / ft)
    others = ""
    if step:
        f = [num(k + ".foreign") for k in step]
        others = " / ".join("—" if v is None else "%.2f" % v for v in f)
    rows.append("| %s | %s | %s %s | %s | %s | %s | %s |" % (
        ds, run, metric, better, fmt(ft, kind), fmt(mn, kind), ratio, others))


names = {"spam": "SpamAssassin", "cooking": "cooking (multi-label)"}
for ds in ("spam", "cooking"):
    if ds + ".params" not in res:
        continue
    name = names[ds]
    runs = [("t2", "train, 2 threads"), ("t1", "train, 1 thread")]
    if autotune:
        runs.append(("autotune", "autotune %s s, 2 threads" % at_seconds))
    for tag, label in runs:
        p = "%s.%s." % (ds, tag)
        if p + "ft.wall" not in res and p + "mn.wall" not in res:
            continue
        step = (p + "ft", p + "mn")
        row(name, label, "training wall time", p + "ft.wall", p + "mn.wall", "s", "↓", step)
        row(name, label, "training CPU time (user+sys)", p + "ft.cpu", p + "mn.cpu", "s", "↓")
        row(name, label, "peak RSS (training)", p + "ft.rss", p + "mn.rss", "mb", "↓")
        if tag != "autotune":
            row(name, label, "words/sec/thread (tool's own count)", p + "ft.wps", p + "mn.wps",
                "int", "↑")
            row(name, label, "words/sec/thread (wc -w × epochs / wall)", p + "ft.wpsc",
                p + "mn.wpsc", "int", "↑")
        row(name, label, "P@1", p + "ft.p1", p + "mn.p1", "acc", "↑")
        if ds == "cooking":
            row(name, label, "R@5", p + "ft.r5", p + "mn.r5", "acc", "↑")
        row(name, label, "model size", p + "ft.size", p + "mn.size", "mb", "↓")
    lines = res.get(ds + ".predict.lines")
    if not lines:
        continue
    label = "predict, 1 thread, %s texts" % ("{:,}".format(int(lines)) if lines else "?")
    row(name, label, "texts/s", ds + ".predict.ft.tps", ds + ".predict.mn.tps", "int", "↑",
        (ds + ".predict.ft", ds + ".predict.mn"))
    row(name, label, "texts per CPU second", ds + ".predict.ft.tpc", ds + ".predict.mn.tpc",
        "int", "↑")
    row(name, "predict, 1 line", "time to first answer", ds + ".first.ft.ms", ds + ".first.mn.ms",
        "ms", "↓", (ds + ".first.ft", ds + ".first.mn"))

out = []
out.append("Machine: %s × %s, %s RAM; load average %s at start, %s at end; fastText %s (Debian); micronlp: %s; %s."
           % (res.get("machine.nproc"), res.get("machine.cpu"), res.get("machine.ram"),
              res.get("machine.load"), res.get("machine.load_end"), res.get("version.fasttext"),
              res.get("version.micronlp") or "not run", res.get("date")))
out.append("")
for ds in ("spam", "cooking"):
    if ds + ".params" in res:
        out.append("- %s: %s train / %s test lines; both tools: %s, minCount 1, seed 1."
                   % (names[ds], res.get(ds + ".train.lines"), res.get(ds + ".test.lines"),
                      res.get(ds + ".params")))
out.append("")
out.append("| data set | run | metric | fastText | micronlp | micronlp / fastText | others' CPU (ft / mn) |")
out.append("|---|---|---|---:|---:|---:|---:|")
out.extend(rows)
out.append("")
out.append("↑ higher is better, ↓ lower is better. Wall time and peak RSS are the whole process "
           "(/usr/bin/time -v): reading data, training, saving the model. words/sec/thread: each "
           "tool's own figure from its last progress line (training only; each tool counts the tokens "
           "of its own tokenizer: fastText splits on whitespace, micronlp also splits punctuation, "
           "which matters on raw e-mails), and one common figure: `wc -w` of the training "
           "file × epochs / whole-process wall time / threads. P@1 / R@5 from `fasttext test` and "
           "`micronlp eval --json` on the test file. Prediction: median of hyperfine runs, one "
           "process, one thread, test texts (labels stripped) replicated; the 1-thread models. "
           "Others' CPU: cores used on average by other processes on the machine while the step "
           "was measured (from /proc/stat minus the step's own CPU time); above ~0.3 the timing "
           "of that step is disturbed.")
bad = []
for k, v in res.items():
    if ".check." not in k:
        continue
    own = num(k.replace(".check.", "."))
    if own is not None and num(k) is not None and abs(own - num(k)) > 0.0015:
        bad.append("%s: tool says %.4f, common scorer %.4f" % (k.replace(".check", ""), own, num(k)))
if any(".check." in k for k in res):
    if bad:
        out.append("- The tools' own P@1 / R@5 DISAGREE with bench/classifier/score.py applied to "
                   "their predictions: " + "; ".join(bad) + ".")
    else:
        out.append("- Cross-check: bench/classifier/score.py, applied to each tool's `predict` "
                   "output, gives the same P@1 / R@5 as the tool's own test command (±0.0015).")
if autotune and any(".autotune." in k for k in res):
    out.append("- Autotune rows: both tools get only the loss, 2 threads and seed 1 (fastText does "
               "not tune a hyperparameter given on its command line), train on tune-train.txt, "
               "tune against valid.txt for the budget, and are scored on test.txt; wall time "
               "includes the final training after the search.")
for ds in ("spam", "cooking"):
    if ds + ".predict.agree" in res:
        out.append("- %s: the two tools' 1-thread models give the same top-1 label on %.1f %% of "
                   "the test texts." % (names[ds], 100 * float(res[ds + ".predict.agree"])))
    for tool, tname in (("ft", "fastText"), ("mn", "micronlp")):
        k = "%s.autotune.%s.chosen" % (ds, tool)
        if res.get(k):
            out.append("- %s autotune, %s chose: %s." % (names[ds], tname, res[k]))
print("\n".join(out))
