#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Sequence tagging benchmark: micronlp's tagger against NLTK's averaged perceptron tagger
# (python3-nltk, Debian's /usr/bin/python3) and Apache OpenNLP's POS tagger and name finder
# (Debian package opennlp, default maxent parameters), on the same splits in one run:
#   POS  Brown, 400 train / 50 valid / 50 test files (scripts/models/pos.sh), simple and full tags
#   NER  one model on wikigold + BTC + WNUT17 train parts, tested on each test part
#        (scripts/models/ner.sh)
# micronlp's models are trained as the shipped ones are (scripts/models/tagger-recipe.sh: 8
# epochs, pruned with --max-size to fit 2,000,000 bytes; POS full tags 4,500,000).
# Measures accuracy / exact-span entity F1 (conlleval rules, bench/tagger/score.py for the peers,
# `micronlp eval` for micronlp), training time (wall, and CPU = user + sys of the training
# process), tagging speed in process on one thread (tokens/s over the test files, after
# loading), model size on disk, and peak memory (max RSS) while training.
#
#   bench/tagger/run.sh [BUILD_DIR] [NER_DIR]     (defaults: build, ../shared/data/ner)
#   PARTS="pos-simple pos-full ner" (default: all) picks experiments; SUMMARY_ONLY=1 only
#   rebuilds the table from the outputs already in bench/out/tagger/.
#
# Needs: apt-get install -y python3-nltk opennlp default-jdk-headless. Writes bench/out/tagger.md
# and keeps the raw outputs in bench/out/tagger/. Run it alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
nerdir=${2:-../shared/data/ner}
bin=$build/micronlp
py=/usr/bin/python3
jar=/usr/share/java/opennlp-tools.jar
[ -x "$bin" ] || { echo "run.sh: $bin not found: build first" >&2; exit 1; }
$py -c 'import nltk' 2>/dev/null || { echo "run.sh: apt-get install -y python3-nltk" >&2; exit 1; }
[ -f "$jar" ] && command -v javac >/dev/null || { echo "run.sh: apt-get install -y opennlp default-jdk-headless" >&2; exit 1; }
[ -f data/pos/test.simple.txt ] || bash scripts/models/pos.sh "$build"
[ -f data/ner/wnut17.test.txt ] || bash scripts/models/ner.sh "$nerdir" "$build"

# shellcheck source=scripts/models/tagger-recipe.sh
. scripts/models/tagger-recipe.sh
out=bench/out/tagger
mkdir -p "$out/java"
[ -n "${SUMMARY_ONLY:-}" ] || javac -cp "$jar" -d "$out/java" bench/tagger/OpenNlpBench.java
T="/usr/bin/time -f %e,%U,%S,%M -o"

run_micronlp() { # name format epochs max-size train valid test...  (as scripts/models/*.sh)
    local name=$1 fmt=$2 ep=$3 max=$4 train=$5 valid=$6
    shift 6
    echo "== micronlp $name" >&2
    $T "$out/$name.micronlp.time" "$bin" train --type tagger --format "$fmt" --input "$train" \
        --valid "$valid" --output "$out/$name.micronlp.mnlp" --epoch "$ep" --seed 1 \
        --max-size "$max" --quiet
    local i=0
    for t in "$@"; do
        "$bin" eval --model "$out/$name.micronlp.mnlp" --input "$t" --format "$fmt" --json \
            >"$out/$name.micronlp.eval$i.json"
        i=$((i + 1))
    done
}
run_nltk() { # name format train test...
    local name=$1 fmt=$2 train=$3
    shift 3
    echo "== nltk $name" >&2
    local args=() i=0
    for t in "$@"; do args+=("$t" "$out/$name.nltk.pred$i"); i=$((i + 1)); done
    $T "$out/$name.nltk.time" $py bench/tagger/nltk_bench.py "$fmt" "$train" "$out/$name.nltk.pkl" \
        "${args[@]}" >"$out/$name.nltk.json"
    for ((j = 0; j < i; j++)); do $py bench/tagger/score.py "$out/$name.nltk.pred$j" >"$out/$name.nltk.score$j.json"; done
}
run_opennlp() { # name task train test...
    local name=$1 task=$2 train=$3
    shift 3
    echo "== opennlp $name" >&2
    local args=() i=0
    for t in "$@"; do args+=("$t" "$out/$name.opennlp.pred$i"); i=$((i + 1)); done
    $T "$out/$name.opennlp.time" java -cp "$jar:$out/java" OpenNlpBench "$task" "$train" \
        "$out/$name.opennlp.bin" "${args[@]}" >"$out/$name.opennlp.log" 2>&1
    for ((j = 0; j < i; j++)); do $py bench/tagger/score.py "$out/$name.opennlp.pred$j" >"$out/$name.opennlp.score$j.json"; done
}

parts=${PARTS:-pos-simple pos-full ner}
ner_tests=(data/ner/wikigold.test.txt data/ner/btc.test.txt data/ner/wnut17.test.txt)
if [ -z "${SUMMARY_ONLY:-}" ]; then
    for part in $parts; do
        case $part in
        pos-simple | pos-full)
            tags=${part#pos-}
            max=${TAGGER_MAX_BYTES[pos]}
            [ "$tags" = full ] && max=${TAGGER_MAX_BYTES[pos-full]}
            run_micronlp "$part" brown "$TAGGER_EPOCHS" "$max" "data/pos/train.$tags.txt" "data/pos/valid.$tags.txt" "data/pos/test.$tags.txt"
            run_nltk "$part" brown "data/pos/train.$tags.txt" "data/pos/test.$tags.txt"
            run_opennlp "$part" pos "data/pos/train.$tags.txt" "data/pos/test.$tags.txt"
            ;;
        ner)
            run_micronlp ner conll "$TAGGER_EPOCHS" "${TAGGER_MAX_BYTES[ner]}" data/ner/train.txt data/ner/valid.txt "${ner_tests[@]}"
            run_nltk ner conll data/ner/train.txt "${ner_tests[@]}"
            run_opennlp ner ner data/ner/train.txt "${ner_tests[@]}"
            ;;
        *) echo "run.sh: unknown part $part" >&2; exit 2 ;;
        esac
    done
fi

$py - "$out" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >bench/out/tagger.md <<'PY'
import json, os, re, sys
out, ncpu, cpu = sys.argv[1], sys.argv[2], sys.argv[3]
def tm(p):
    e, u, s, m = open(p).read().strip().splitlines()[-1].split(",")
    return float(e), float(u) + float(s), int(m)
def size(p):
    return os.path.getsize(p) / 1e6
rows = []
tests = {"pos-simple": ["Brown test, simple tags"], "pos-full": ["Brown test, full tags"],
         "ner": ["wikigold test docs", "BTC section F", "WNUT17 test"]}
def have(p):
    return os.path.exists(p) and os.path.getsize(p) > 0
for name, labels in tests.items():
    ent = name == "ner"
    if not have(f"{out}/{name}.micronlp.time"):
        continue
    # micronlp
    w, c, m = tm(f"{out}/{name}.micronlp.time")
    for i, lab in enumerate(labels):
        e = json.load(open(f"{out}/{name}.micronlp.eval{i}.json"))
        q = e["entities"]["f1"] if ent else e["accuracy"]
        rows.append((name, i, 0, lab, "micronlp", q, w if i == 0 else None, c if i == 0 else None,
                     e["tokens_per_sec"], size(f"{out}/{name}.micronlp.mnlp"), m))
    # nltk
    if not have(f"{out}/{name}.nltk.json"):
        continue
    w, c, m = tm(f"{out}/{name}.nltk.time")
    nj = json.load(open(f"{out}/{name}.nltk.json"))
    for i, lab in enumerate(labels):
        sc = json.load(open(f"{out}/{name}.nltk.score{i}.json"))
        t = nj["tests"][i]
        rows.append((name, i, 1, lab, "NLTK 3.8 perceptron", sc["f1"] if ent else sc["accuracy"],
                     nj["train_sec"] if i == 0 else None, c if i == 0 else None,
                     t["tokens"] / t["tag_sec"], nj["model_bytes"] / 1e6, m))
    # opennlp
    if not have(f"{out}/{name}.opennlp.score{len(labels) - 1}.json"):
        continue
    w, c, m = tm(f"{out}/{name}.opennlp.time")
    log = open(f"{out}/{name}.opennlp.log").read()
    head = dict(re.findall(r"(train_sec|model_bytes)=([0-9.]+)", log))
    per = {int(t): (float(s), int(n)) for t, s, n in re.findall(r"test=(\d+) tag_sec=([0-9.]+) tokens=(\d+)", log)}
    for i, lab in enumerate(labels):
        sc = json.load(open(f"{out}/{name}.opennlp.score{i}.json"))
        rows.append((name, i, 2, lab, "OpenNLP 2.1 maxent", sc["f1"] if ent else sc["accuracy"],
                     float(head["train_sec"]) if i == 0 else None, c if i == 0 else None,
                     per[i][1] / per[i][0], float(head["model_bytes"]) / 1e6, m))
print(f"Machine: {ncpu} CPUs ({cpu}), one thread per tool. Training CPU = user + sys of the whole")
print("training process (micronlp: load, train, score --valid each epoch, save; NLTK: train and tag;")
print("OpenNLP: JVM, train, tag). Tagging speed: in process, one thread, test files only.")
print()
print("| test set | tool | accuracy / entity F1 | training wall s | training CPU s | tagging tokens/s | model MB | training max RSS MB |")
print("|---|---|---|---|---|---|---|---|")
order = list(tests)
rows.sort(key=lambda r: (order.index(r[0]), r[1], r[2]))
for _, _, _, lab, tool, q, w, c, tps, mb, rss in rows:
    f = lambda v, fmt: (fmt % v) if v is not None else "(one model)"
    print(f"| {lab} | {tool} | {q:.4f} | {f(w, '%.1f')} | {f(c, '%.1f')} | {tps:,.0f} | {mb:.2f} | {rss / 1024:.0f} |")
PY
cat bench/out/tagger.md
