#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Adds text that is not mail, as ham, to the spam model's training data.

    spam-other-ham.py SPAM_TRAIN OUT PER_SOURCE SOURCE_TRAIN...

SpamAssassin's ham is mailing-list talk and its spam is marketing, so a model trained on it
alone calls a film review or a tweet spam about one time in nine. This script writes OUT: the
lines of SPAM_TRAIN followed by PER_SOURCE texts from each SOURCE_TRAIN (the train splits of the
other default models: film reviews, Brown paragraphs, tweets; fastText-format lines whose
labels are dropped) labelled `ham`, the first PER_SOURCE in SHA-256 order of the text, so the
choice does not depend on file order, all lines shuffled with a fixed seed (fastText reads its
input in order). Only train splits are read: the other models' test splits stay unseen. Each
source must hold at least PER_SOURCE texts, or the script stops.
"""
import hashlib
import os
import random
import sys

PROG = "spam-other-ham"


def die(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(1)


def texts(path):
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                words = line.rstrip("\n").split(" ")
                while words and words[0].startswith("__label__"):
                    words.pop(0)
                t = " ".join(words).strip()
                if t:
                    out.append(t)
    except (OSError, UnicodeDecodeError) as e:
        die("%s: %s" % (path, e))
    return out


def main():
    if len(sys.argv) < 5:
        die("usage: spam-other-ham.py SPAM_TRAIN OUT PER_SOURCE SOURCE_TRAIN...")
    spam_train, out, per, sources = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    try:
        with open(spam_train, encoding="utf-8") as fh:
            lines = [ln if ln.endswith("\n") else ln + "\n" for ln in fh if ln.strip()]
    except (OSError, UnicodeDecodeError) as e:
        die("%s: %s" % (spam_train, e))
    added = []
    for src in sources:
        ts = sorted(set(texts(src)), key=lambda t: hashlib.sha256(t.encode()).digest())
        if len(ts) < per:
            die("%s: %d texts, need %d" % (src, len(ts), per))
        added += ["__label__ham %s\n" % t for t in ts[:per]]
    merged = lines + added
    random.Random(1).shuffle(merged)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(merged)
    os.replace(tmp, out)
    sys.stderr.write("%s: %s: %d lines (%d from %s, %d ham from %d other sets)\n"
                     % (PROG, out, len(lines) + len(added), len(lines), spam_train, len(added),
                        len(sources)))


if __name__ == "__main__":
    main()
