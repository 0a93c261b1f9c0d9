#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the corpora of the pipeline benchmark, one text per line, from the held-out (test)
splits of the data the default models are built from. Labels are dropped.

Kinds of text (each is also written alone to OUT-KIND.txt, for the per-kind table):
  udhr     UDHR sentences, 444 languages   data/lang/test-sentences.txt   every 2nd line
  udhr-doc UDHR documents: the held-out sentences of one language joined, in order, into
           texts of up to 1,300 bytes (about a film review's length), every language
  email    e-mails (SpamAssassin)          data/models/spam/test.txt      all
  review   film reviews (IMDb)             data/models/sentiment/test.txt first 1500
  tweet    tweets (Davidson et al.)        data/models/toxicity/test.txt  first 1500

Mixes (shuffled with a fixed seed):
  OUT.txt          half the bytes in other languages, half in English: every udhr-doc text,
                   and e-mails, reviews and tweets in the proportions of the English-heavy mix
                   (1173 : 1500 : 1500 by count), as many as make the other half
  OUT-english.txt  the English-heavy mix: udhr + email + review + tweet, all of each
                   (7% of the bytes in other languages)
  OUT-half-english.txt  the English half of OUT.txt alone
Prints one line per file: name, texts, bytes, share of bytes not in English.
Usage: corpus.py OUT.txt
"""
import random
import sys

DOC_BYTES = 1300


def texts(path, every=1, limit=None, labels=False):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % every:
                continue
            words = line.rstrip("\n").split(" ")
            label = None
            while words and words[0].startswith("__label__"):
                label = words.pop(0)[len("__label__"):]
            t = " ".join(words).strip()
            if t:
                out.append((label, t) if labels else t)
            if limit and len(out) == limit:
                break
    return out


def documents(sentences):
    """Joins each language's sentences, in file order, into texts of up to DOC_BYTES bytes."""
    by_lang = {}
    for label, t in sentences:
        by_lang.setdefault(label, []).append(t)
    docs = []
    for label in sorted(by_lang):
        cur = ""
        for t in by_lang[label]:
            if cur and len((cur + " " + t).encode()) > DOC_BYTES:
                docs.append(cur)
                cur = ""
            cur = t if not cur else cur + " " + t
        if cur:
            docs.append(cur)
    return docs


def nbytes(lines):
    return sum(len(t.encode()) + 1 for t in lines)


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for t in lines:
            f.write(t + "\n")


def main():
    if len(sys.argv) != 2 or not sys.argv[1].endswith(".txt"):
        sys.exit("usage: corpus.py OUT.txt")
    out = sys.argv[1]
    stem = out[:-4]
    kinds = {
        "udhr": texts("data/lang/test-sentences.txt", every=2),
        "udhr-doc": documents(texts("data/lang/test-sentences.txt", labels=True)),
        "email": texts("data/models/spam/test.txt"),
        "review": texts("data/models/sentiment/test.txt", limit=1500),
        "tweet": texts("data/models/toxicity/test.txt", limit=1500),
    }
    for name, t in kinds.items():
        if len(t) < 440:
            sys.exit(f"corpus.py: only {len(t)} {name} texts: is the data complete?")
    english = ("email", "review", "tweet")

    # The English-heavy mix: every text of every kind but the documents.
    heavy = kinds["udhr"] + [t for k in english for t in kinds[k]]
    # Half and half: English texts taken in turns (e-mail, reviews, tweets in the counts'
    # proportion) until their bytes reach the other languages' bytes.
    other = kinds["udhr-doc"]
    target = nbytes(other)
    counts = {k: len(kinds[k]) for k in english}
    total = sum(counts.values())
    taken = {k: 0 for k in english}
    eng = []
    step = 0
    while nbytes(eng) < target:
        step += 1
        progressed = False
        for k in english:
            want = step * counts[k] // total
            while taken[k] < want and taken[k] < counts[k] and nbytes(eng) < target:
                eng.append(kinds[k][taken[k]])
                taken[k] += 1
                progressed = True
        if not progressed and all(taken[k] == counts[k] for k in english):
            sys.exit("corpus.py: not enough English text for the half-and-half mix")
    half = other + eng

    random.Random(1).shuffle(heavy)
    random.Random(1).shuffle(half)
    write(out, half)
    write(f"{stem}-english.txt", heavy)
    write(f"{stem}-half-english.txt", eng)
    for name, t in kinds.items():
        write(f"{stem}-{name}.txt", t)

    def line(name, lines, foreign):
        b = nbytes(lines)
        print(f"{name} texts={len(lines)} bytes={b} other-languages={nbytes(foreign) / b:.0%}")

    line("half", half, other)
    line("english-heavy", heavy, kinds["udhr"])
    print("half-english-parts " + " ".join(f"{k}={taken[k]}" for k in english))
    for name, t in kinds.items():
        line(name, t, t if name.startswith("udhr") else [])


if __name__ == "__main__":
    main()
