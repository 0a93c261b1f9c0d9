#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the mixed corpus of the pipeline benchmark, one text per line, from the held-out
(test) splits of the data the default models are built from:

  UDHR sentences in many languages  data/lang/test-sentences.txt     every 2nd line
  e-mails (SpamAssassin)            data/models/spam/test.txt        all
  film reviews (IMDb)               data/models/sentiment/test.txt   first 1500
  tweets (Davidson et al.)          data/models/toxicity/test.txt    first 1500

Labels are dropped; the lines are shuffled with a fixed seed. Each part is also written alone
to OUT-PART.txt (for the per-kind table). Prints the counts.
Usage: corpus.py OUT
"""
import random
import sys


def texts(path, every=1, limit=None):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % every:
                continue
            words = line.rstrip("\n").split(" ")
            while words and words[0].startswith("__label__"):
                words.pop(0)
            t = " ".join(words).strip()
            if t:
                out.append(t)
            if limit and len(out) == limit:
                break
    return out


parts = {
    "udhr": texts("data/lang/test-sentences.txt", every=2),
    "email": texts("data/models/spam/test.txt"),
    "review": texts("data/models/sentiment/test.txt", limit=1500),
    "tweet": texts("data/models/toxicity/test.txt", limit=1500),
}
for name, t in parts.items():
    if len(t) < 1000:
        sys.exit(f"corpus.py: only {len(t)} {name} texts: is the data complete?")
lines = [t for part in parts.values() for t in part]
random.Random(1).shuffle(lines)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for t in lines:
        f.write(t + "\n")
stem = sys.argv[1][:-4] if sys.argv[1].endswith(".txt") else sys.argv[1]
for name, part in parts.items():
    with open(f"{stem}-{name}.txt", "w", encoding="utf-8") as f:
        for t in part:
            f.write(t + "\n")
print(" ".join(f"{k}={len(v)}" for k, v in parts.items()), f"total={len(lines)}")
