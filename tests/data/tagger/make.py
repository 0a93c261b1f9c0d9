#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Generates the tiny tagged corpora the tagger unit tests train on (committed; rerun to change):
#   pos.train.txt / pos.test.txt  Brown-style word/tag sentences from a small grammar, with
#                                 ambiguous words ("run", "book", "light" are nouns or verbs)
#   ner.train.txt / ner.test.txt  CoNLL token<TAB>label sentences, BIO over PER, ORG, LOC
import random

rng = random.Random(7)
DET = ["the", "a", "this", "every"]
ADJ = ["big", "small", "red", "quiet", "old", "new", "light"]
NOUN = ["dog", "cat", "book", "run", "light", "house", "river", "idea", "car", "plan"]
VERB = ["sees", "likes", "book", "run", "light", "finds", "makes", "wants"]
ADV = ["quickly", "slowly", "often", "today"]
PREP = ["in", "on", "near", "with"]


def np_():
    out = [(rng.choice(DET), "at")]
    if rng.random() < 0.5:
        out.append((rng.choice(ADJ), "jj"))
    out.append((rng.choice(NOUN), "nn"))
    return out


def sentence():
    s = np_()
    s.append((rng.choice(VERB), "vb"))
    s += np_()
    if rng.random() < 0.5:
        s.append((rng.choice(PREP), "in"))
        s += np_()
    if rng.random() < 0.4:
        s.append((rng.choice(ADV), "rb"))
    s.append((".", "."))
    s[0] = (s[0][0].capitalize(), s[0][1])
    return s


def write_pos(path, n):
    with open(path, "w") as f:
        for _ in range(n):
            f.write(" ".join(w + "/" + t for w, t in sentence()) + "\n\n")


PER = [["Anna", "Berg"], ["John"], ["Maria", "de", "Souza"], ["Li", "Wei"], ["Omar"]]
ORG = [["Acme", "Corp"], ["United", "Nations"], ["Nokia"], ["Red", "Cross"]]
LOC = [["Paris"], ["New", "York"], ["Lagos"], ["Rio", "de", "Janeiro"], ["Oslo"]]
FRAMES = [
    ["{PER}", "works", "for", "{ORG}", "in", "{LOC}", "."],
    ["{PER}", "visited", "{LOC}", "with", "{PER}", "."],
    ["{ORG}", "opened", "an", "office", "in", "{LOC}", "today", "."],
    ["yesterday", "{PER}", "met", "the", "head", "of", "{ORG}", "."],
    ["the", "weather", "in", "{LOC}", "was", "nice", "."],
]


def ner_sentence():
    out = []
    for slot in rng.choice(FRAMES):
        if slot.startswith("{"):
            typ = slot[1:-1]
            words = rng.choice({"PER": PER, "ORG": ORG, "LOC": LOC}[typ])
            out += [(w, ("B-" if i == 0 else "I-") + typ) for i, w in enumerate(words)]
        else:
            out.append((slot, "O"))
    return out


def write_ner(path, n):
    with open(path, "w") as f:
        for _ in range(n):
            for w, t in ner_sentence():
                f.write(w + "\t" + t + "\n")
            f.write("\n")


write_pos("pos.train.txt", 300)
write_pos("pos.test.txt", 60)
write_ner("ner.train.txt", 200)
write_ner("ner.test.txt", 50)
