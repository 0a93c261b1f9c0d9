#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Converts the npm package stopwords-iso (its stopwords-iso.json: {"en": ["a", ...], ...}) into
the stop-word file `micronlp train --type keywords` reads:

    # source: stopwords-iso@1.1.0
    en,eng<TAB>a

one line per (language, word), the language as the package names it (ISO 639-1) followed by the
ISO 639-3 codes that should find the same list. The first 639-3 code is the one micronlp's
language identifier (models/lang.mnlp, trained on UDHR) answers; macrolanguage codes follow
(Arabic: the UDHR text is Standard Arabic `arb`, the macrolanguage is `ara`). The mapping lives
here, not in C, so a new list or a new lang model only changes this table.

Usage: stopwords.py PACKAGE_DIR OUT.tsv

Every count is asserted: the package must hold exactly the languages and the number of words per
language recorded below (stopwords-iso 1.1.0). A changed, partial or unreadable package stops
with a message and exit status 1; nothing is written then, so a smaller list never appears
silently. Words are written as the package has them (the model builder normalises them); a
word containing a tab or a line break, or an empty one, is an error.
"""
import json
import os
import sys

PROG = "stopwords.py"
VERSION = "1.1.0"

# ISO 639-1 (as stopwords-iso names its lists) -> ISO 639-3 aliases, the lang model's code first
# (for the lists in NOT_IN_LANG below, the language's own code, which the lang model never answers).
ALIASES = {
    "af": ["afr"], "ar": ["arb", "ara"], "bg": ["bul"], "bn": ["ben"], "br": ["bre"],
    "ca": ["cat"], "cs": ["ces"], "da": ["dan"], "de": ["deu"], "el": ["ell"], "en": ["eng"],
    "eo": ["epo"], "es": ["spa"], "et": ["ekk", "est"], "eu": ["eus"],
    "fa": ["pes", "prs", "fas"],  # Iranian Persian; Dari shares the function words
    "fi": ["fin"], "fr": ["fra"], "ga": ["gle"], "gl": ["glg"], "gu": ["guj"], "ha": ["hau"],
    "he": ["heb"], "hi": ["hin"], "hr": ["hrv"], "hu": ["hun"], "hy": ["hye"], "id": ["ind"],
    "it": ["ita"], "ja": ["jpn"], "ko": ["kor"],
    "ku": ["ckb", "kur"],  # the list is Central Kurdish (Sorani, Arabic script)
    "la": ["lat"], "lt": ["lit"], "lv": ["lvs", "lav"], "mr": ["mar"],
    "ms": ["zlm", "zsm", "msa"], "nl": ["nld"],
    "no": ["nob", "nor"],  # the list is Bokmål; Nynorsk (nno) differs and is not aliased
    "pl": ["pol"], "pt": ["por"], "ro": ["ron"], "ru": ["rus"], "sk": ["slk"], "sl": ["slv"],
    "so": ["som"], "st": ["sot"], "sv": ["swe"], "sw": ["swh", "swa"], "th": ["tha"],
    "tl": ["tgl", "fil"], "tr": ["tur"], "uk": ["ukr"], "ur": ["urd"], "vi": ["vie"],
    "yo": ["yor"], "zh": ["cmn", "zho"], "zu": ["zul"],
}

# Lists whose language the shipped lang model has no text for, so it never answers their code
# (a caller names it with --lang): the UDHR package's ckb declaration is a copy of its kmr
# (Northern Kurdish, Latin letters) one, so the lang model has no Sorani (docs/MODELS.md, lang).
NOT_IN_LANG = {"ku"}

# Words per language in stopwords-iso 1.1.0 (58 languages, 21,707 words).
COUNTS = {
    "af": 51, "ar": 480, "bg": 259, "bn": 398, "br": 1203, "ca": 278, "cs": 423, "da": 170,
    "de": 620, "el": 847, "en": 1298, "eo": 173, "es": 732, "et": 35, "eu": 98, "fa": 799,
    "fi": 847, "fr": 691, "ga": 109, "gl": 160, "gu": 224, "ha": 39, "he": 194, "hi": 225,
    "hr": 179, "hu": 789, "hy": 45, "id": 758, "it": 632, "ja": 134, "ko": 679, "ku": 62,
    "la": 49, "lt": 474, "lv": 161, "mr": 99, "ms": 475, "nl": 413, "no": 221, "pl": 329,
    "pt": 560, "ro": 434, "ru": 559, "sk": 418, "sl": 446, "so": 30, "st": 31, "sv": 418,
    "sw": 74, "th": 116, "tl": 147, "tr": 504, "uk": 73, "ur": 517, "vi": 645, "yo": 60,
    "zh": 794, "zu": 29,
}
TOTAL = 21707


def die(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s PACKAGE_DIR OUT.tsv\n" % PROG)
        sys.exit(2)
    pkg, out = sys.argv[1], sys.argv[2]
    assert set(ALIASES) == set(COUNTS) and sum(COUNTS.values()) == TOTAL
    try:
        with open(os.path.join(pkg, "package.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
        with open(os.path.join(pkg, "stopwords-iso.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as e:
        die("%s: cannot read the package: %s" % (pkg, e))
    if meta.get("name") != "stopwords-iso" or meta.get("version") != VERSION:
        die("%s: expected stopwords-iso %s, found %s %s (update COUNTS for a new version)"
            % (pkg, VERSION, meta.get("name"), meta.get("version")))
    if not isinstance(data, dict):
        die("stopwords-iso.json: expected an object of language -> word list")
    if set(data) != set(COUNTS):
        missing, extra = sorted(set(COUNTS) - set(data)), sorted(set(data) - set(COUNTS))
        die("languages: expected %d, found %d (missing %s, unexpected %s; package changed?)"
            % (len(COUNTS), len(data), missing or "none", extra or "none"))
    lines = ["# source: stopwords-iso@%s\n" % VERSION,
             "# license: MIT (stopwords-iso); words as published, one language per block\n"]
    total = 0
    for lang in sorted(data):
        words = data[lang]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            die("%s: expected a list of strings" % lang)
        if len(words) != COUNTS[lang]:
            die("%s: expected %d words, found %d (package changed?)"
                % (lang, COUNTS[lang], len(words)))
        key = ",".join([lang] + ALIASES[lang])
        for i, w in enumerate(words):
            if not w.strip() or any(c in w for c in "\t\n\r\x0b\x0c\x85\u2028\u2029"):
                die("%s: word %d (%r) is empty or holds a tab or line break" % (lang, i + 1, w))
            lines.append("%s\t%s\n" % (key, w.strip()))
        total += len(words)
    if total != TOTAL:
        die("words: expected %d, found %d" % (TOTAL, total))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    os.replace(tmp, out)
    sys.stderr.write("%s: %d languages, %d words -> %s\n" % (PROG, len(data), total, out))


if __name__ == "__main__":
    main()
