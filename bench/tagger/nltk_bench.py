#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# NLTK side of bench/tagger/run.sh: trains NLTK's averaged perceptron tagger
# (nltk.tag.perceptron.PerceptronTagger, 5 iterations as its default) on the same training file
# micronlp trains on, pickles the model (size), tags each test file in process (tokens/s on one
# thread) and writes "token<TAB>gold<TAB>predicted" lines for bench/tagger/score.py.
#
#   nltk_bench.py brown|conll TRAIN MODEL_OUT TEST PRED_OUT [TEST PRED_OUT ...]
#
# Prints one JSON line: train_sec, model_bytes, max_rss_kb, and per test file tag_sec, tokens.
import json
import pickle
import random
import resource
import sys
import time

from nltk.tag.perceptron import PerceptronTagger


def read(fmt, path):
    sents = []
    with open(path, encoding="utf-8") as f:
        if fmt == "brown":
            for line in f:
                toks = line.split()
                if toks:
                    sents.append([tuple(t.rsplit("/", 1)) for t in toks])
        else:
            cur = []
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if not line.strip() or len(parts) < 2:
                    if cur:
                        sents.append(cur)
                    cur = []
                    continue
                cur.append((parts[0].strip(), parts[-1].strip()))
            if cur:
                sents.append(cur)
    return sents


def main():
    fmt, train_path, model_path = sys.argv[1:4]
    tests = sys.argv[4:]
    random.seed(1)
    train = read(fmt, train_path)
    tagger = PerceptronTagger(load=False)
    t0 = time.perf_counter()
    tagger.train(train, nr_iter=5)
    train_sec = time.perf_counter() - t0
    with open(model_path, "wb") as f:
        pickle.dump((tagger.model.weights, tagger.tagdict, tagger.classes), f, -1)
    import os
    out = {"train_sec": train_sec, "model_bytes": os.path.getsize(model_path), "tests": []}
    for test_path, pred_path in zip(tests[0::2], tests[1::2]):
        test = read(fmt, test_path)
        words = [[w for w, _ in s] for s in test]
        t1 = time.perf_counter()
        pred = [tagger.tag(ws) for ws in words]
        tag_sec = time.perf_counter() - t1
        with open(pred_path, "w", encoding="utf-8") as f:
            for s, p in zip(test, pred):
                for (w, g), (_, t) in zip(s, p):
                    f.write(f"{w}\t{g}\t{t}\n")
                f.write("\n")
        out["tests"].append({"test": test_path, "tag_sec": tag_sec,
                             "tokens": sum(len(s) for s in test)})
    out["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


if __name__ == "__main__":
    main()
