#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The scikit-learn peer of bench/models/run.sh: TF-IDF + logistic regression, trained and tested
on the same fastText-format files as micronlp and fastText.

    sklearn_tfidf.py TRAIN TEST [TEST...] [--model PATH] [--C X] [--pred-dir DIR]

Features: TfidfVectorizer(lowercase, word unigrams and bigrams, min_df=2, sublinear_tf=True);
classifier: LogisticRegression(C=X (default 10), solver lbfgs, max_iter=2000),
multinomial for more than two classes. One thread (the caller sets OMP/OPENBLAS thread counts to
1 as well). Prints one JSON object per line: first {"train_sec", "train_cpu_sec", "size_bytes"},
then for each TEST {"file", "examples", "accuracy", "macro_f1", "predict_sec", "texts_per_sec"}.
predict_sec is in-process time for vectorising and classifying the file's texts (no start-up,
no file reading); size_bytes is the pickled vectorizer + model (the vocabulary dominates).
With --pred-dir, the predicted labels of TEST go to DIR/<basename of TEST>, one per line, for
bench/models/score.py (the scorer every tool's predictions go through).
"""
import json
import os
import pickle
import sys
import time

import numpy as np

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402


def load(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            ln = ln.rstrip("\n")
            if not ln:
                continue
            lab, _, text = ln.partition(" ")
            if not lab.startswith("__label__"):
                sys.exit("%s: not fastText format: %r" % (path, ln[:60]))
            labels.append(lab[9:])
            texts.append(text)
    return labels, texts


def main():
    args = sys.argv[1:]
    model_path, C, pred_dir = None, 10.0, None
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--model":
            model_path = args[i + 1]
            i += 2
        elif args[i] == "--pred-dir":
            pred_dir = args[i + 1]
            i += 2
        elif args[i] == "--C":
            C = float(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    if len(rest) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    y, x = load(rest[0])
    w0, c0 = time.perf_counter(), time.process_time()
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32)
    X = vec.fit_transform(x)
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(X, y)
    blob = pickle.dumps((vec, clf), protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"train_sec": time.perf_counter() - w0, "train_cpu_sec": time.process_time() - c0,
                      "size_bytes": len(blob), "C": C}), flush=True)
    if model_path:
        with open(model_path, "wb") as fh:
            fh.write(blob)
    for path in rest[1:]:
        gy, gx = load(path)
        t0 = time.perf_counter()
        pred = clf.predict(vec.transform(gx))
        dt = time.perf_counter() - t0
        if pred_dir:
            with open(os.path.join(pred_dir, os.path.basename(path)), "w", encoding="utf-8") as fh:
                fh.writelines(lab + "\n" for lab in pred)
        print(json.dumps({"file": path, "examples": len(gy), "accuracy": accuracy_score(gy, pred),
                          "macro_f1": f1_score(gy, pred, average="macro", labels=sorted(set(gy))),
                          "predict_sec": dt, "texts_per_sec": len(gy) / dt}), flush=True)


if __name__ == "__main__":
    main()
