#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the offensive-language tweets of Davidson et al. (ICWSM 2017) into a 3-class data set in
fastText format: `__label__hate <tweet>`, `__label__offensive <tweet>`, `__label__neither <tweet>`.

    toxicity.py [DATA_DIR] OUT_DIR

DATA_DIR holds labeled_data.csv (default: ../shared/data/toxicity relative to the repository, as
described in that directory's README). The CSV has a header
`,count,hate_speech,offensive_language,neither,class,tweet`; `class` is the majority of the
CrowdFlower annotators: 0 = hate speech -> hate, 1 = offensive language -> offensive,
2 = neither -> neither. It is parsed with Python's csv module (quoted fields span lines); the
header, the 24,783 rows, that every `class` is 0/1/2 and that the annotator counts agree with it
are asserted.

Cleaning: HTML entities are decoded (`&amp;` -> &, `&#128514;` -> the emoji; done twice, since some
tweets are escaped twice, `&amp;#8220;`), whitespace and control characters (including the quoted
newlines) collapse to one space, a literal "__label__" becomes "_label_". Nothing else is changed:
retweet markers, @handles and URLs stay, because the model sees raw tweets when it serves.
Deduplication after cleaning: identical texts are kept once; a text with two labels is dropped.

Split (deterministic, no text on both sides): h = first 8 bytes of SHA-256(text), big-endian.
    h % 5 == 0        -> test.txt   (20 %)
    otherwise         -> train.txt  (80 %), and for tuning runs that must not see the test set:
    h % 5 == 1        -> valid.txt (part of train.txt), h % 5 in {2,3,4} -> tune-train.txt
Lines are ordered by SHA-256 of the text.
"""
import csv
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PROG = "toxicity"
LABELS = ["hate", "offensive", "neither"]
HEADER = ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"]


def main():
    args = sys.argv[1:]
    if len(args) == 1:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        args = [os.path.join(root, "..", "shared", "data", "toxicity")] + args
    if len(args) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    src, out = args
    path = os.path.join(src, "labeled_data.csv")
    if not os.path.isfile(path):
        common.die(PROG, "%s: missing (pass the directory that holds labeled_data.csv)" % path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as e:
        common.die(PROG, "%s: unreadable CSV: %s" % (path, e))
    if not rows or rows[0] != HEADER:
        common.die(PROG, "%s: header %r, expected %r" % (path, rows[0] if rows else None, HEADER))
    rows = rows[1:]
    common.expect(PROG, "rows in %s" % path, len(rows), 24783)
    pairs = []
    empty = 0
    for n, r in enumerate(rows, 2):
        if len(r) != 7 or r[5] not in ("0", "1", "2"):
            common.die(PROG, "%s: record %d (starting line ~%d): bad row %r" % (path, n - 1, n, r[:6]))
        votes = [int(r[2]), int(r[3]), int(r[4])]
        if sum(votes) != int(r[1]) or votes[int(r[5])] != max(votes):
            common.die(PROG, "%s: record %d: class %s disagrees with the votes %r" % (path, n - 1, r[5], votes))
        t = common.clean(html.unescape(html.unescape(r[6])))
        if not t:
            empty += 1
            continue
        pairs.append((LABELS[int(r[5])], t))

    labels, order = {}, []
    for lab, t in pairs:
        if t not in labels:
            labels[t] = set()
            order.append(t)
        labels[t].add(lab)
    kept = [(next(iter(labels[t])), t) for t in order if len(labels[t]) == 1]
    conflicts = len(order) - len(kept)
    dups = len(pairs) - len(order)

    parts = {"train": [], "test": [], "valid": [], "tune-train": []}
    for lab, t in kept:
        h = common.hash_bucket(t, 5)
        if h == 0:
            parts["test"].append((lab, t))
        else:
            parts["train"].append((lab, t))
            parts["valid" if h == 1 else "tune-train"].append((lab, t))
    for name, rs in parts.items():
        common.write(out, name, rs)
    head = ("24783 tweets, %d empty, %d exact duplicates merged, %d texts with two labels dropped "
            "-> %d tweets") % (empty, dups, conflicts, len(kept))
    common.summary(out, PROG, head, [(n, parts[n]) for n in ("train", "test", "valid", "tune-train")],
                   LABELS)


if __name__ == "__main__":
    main()
