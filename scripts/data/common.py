# SPDX-License-Identifier: MIT
"""Helpers shared by the data converters in scripts/data/ (imported, never run).

Every converter turns one public data set into fastText-format files (`__label__x text`, one
example per line, UTF-8, no tab or newline inside a text) and states its own split rule; the
helpers here only write files atomically, normalise whitespace and print a summary, so that all
data sets look the same to `micronlp train` and to the peers in bench/models/."""
import hashlib
import os
import re
import sys

WS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def die(prog, msg):
    sys.stderr.write("%s: %s\n" % (prog, msg))
    sys.exit(1)


def clean(text):
    """All whitespace and control characters -> one space, trimmed; a literal "__label__"
    becomes "_label_" so that no word of a text reads as a label."""
    return WS.sub(" ", text).strip().replace("__label__", "_label_")


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).digest()


def hash_bucket(text, n):
    """First 8 bytes of SHA-256(text), big-endian, modulo n: a split that depends on the text
    alone, so it does not change when the order or the rest of the data changes."""
    return int.from_bytes(sha(text)[:8], "big") % n


def line(label, text):
    return "__label__%s %s\n" % (label, text)


def write(out, name, rows, order="sha"):
    """rows: list of (label, text). order="sha" sorts lines by SHA-256 of the text (a fixed
    shuffle that mixes classes); order="keep" writes them as given. Atomic (tmp + rename)."""
    os.makedirs(out, exist_ok=True)
    if order == "sha":
        rows = sorted(rows, key=lambda r: sha(r[1]))
    tmp = os.path.join(out, name + ".txt.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(line(lab, t) for lab, t in rows)
    os.replace(tmp, os.path.join(out, name + ".txt"))


def describe(name, rows, labels):
    counts = {}
    for lab, _ in rows:
        counts[lab] = counts.get(lab, 0) + 1
    return "  %-22s %6d lines (%s)\n" % (
        name + ".txt", len(rows), ", ".join("%s %d" % (l, counts.get(l, 0)) for l in labels))


def summary(out, prog, head, parts, labels):
    """Writes OUT/SUMMARY (also to stderr): the header line(s) and one line per file."""
    s = "%s: %s\n" % (prog, head)
    for name, rows in parts:
        s += describe(name, rows, labels)
    with open(os.path.join(out, "SUMMARY"), "w") as fh:
        fh.write(s)
    sys.stderr.write(s)


def expect(prog, what, got, want):
    if got != want:
        die(prog, "%s: expected %s, found %s (package changed?)" % (what, want, got))
