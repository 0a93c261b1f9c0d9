#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Regenerates the tiny fixed classification set used by the unit and e2e tests: three topics
# whose words overlap a little, plus shared filler words, so a model must learn, not memorise.
import random
rng = random.Random(7)
topics = {
    "sport": "goal match team coach league score striker referee stadium season win fans ball".split(),
    "food": "recipe bake flour sugar oven dinner taste spicy salad soup garlic cheese bread".split(),
    "tech": "software laptop code server cloud chip network python compile bug database app".split(),
}
filler = "the a of and to in is it for on with today new great very really about".split()
shared = "season taste code win".split()  # words that also appear in other topics
def line(label):
    words = rng.sample(topics[label], 4) + rng.sample(filler, 4)
    if rng.random() < 0.3:
        words.append(rng.choice(shared))
    rng.shuffle(words)
    if rng.random() < 0.2:
        words[0] = words[0].capitalize()
    return " ".join(words)
for name, n in (("train.txt", 300), ("test.txt", 90)):
    with open(name, "w") as f:
        for i in range(n):
            label = ("sport", "food", "tech")[i % 3]
            f.write(f"__label__{label} {line(label)}\n")
