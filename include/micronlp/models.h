/* SPDX-License-Identifier: MIT
 *
 * Models behind one interface: open a model file, predict, describe, save; train a classifier.
 *
 * A model is immutable once loaded and shared by every thread that predicts with it; it is
 * reference-counted so a server can swap in a new version while requests still hold the old
 * one. Each thread brings its own mn_scratch (hidden vectors, feature buffers), so prediction
 * takes no lock and, once the scratch has grown to the largest text seen, allocates nothing.
 *
 * File formats: micronlp's own checksummed format (see src/models/format.h) and fastText's
 * supervised .bin, both recognised by mn_model_open().
 */
#ifndef MICRONLP_MODELS_H
#define MICRONLP_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"

typedef struct mn_model mn_model;
typedef struct mn_scratch mn_scratch;

typedef enum mn_model_type {
    MN_MODEL_CLASSIFIER = 1, /* micronlp text classifier (embedding bag + linear output) */
    MN_MODEL_FASTTEXT = 2,   /* a fastText supervised .bin, read as is */
    MN_MODEL_TAGGER = 3,     /* sequence tagger: part of speech, named entities */
    MN_MODEL_LANGID = 4,     /* language identifier: a classifier plus Unicode-script rules */
    MN_MODEL_KEYWORDS = 5,   /* key phrases from stop-word lists (micronlp/keywords.h) */
} mn_model_type;

typedef enum mn_loss {
    MN_LOSS_SOFTMAX = 0, /* one label per text */
    MN_LOSS_OVA = 1,     /* one-vs-all: independent sigmoid per label (multi-label) */
    MN_LOSS_HS = 2,      /* hierarchical softmax over a Huffman tree (many labels) */
} mn_loss;

/* One answer: a label index and its probability. */
typedef struct mn_prediction {
    uint32_t label;
    float prob;
} mn_prediction;

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* Opens a model file (micronlp or fastText .bin, recognised by its first bytes). The micronlp
 * format is mapped read-only; its checksum is verified before use. On success *out holds a
 * model with one reference. Errors: -ENOENT etc. for the file, MN_EFOREIGN, MN_EVERSION,
 * MN_ETRUNC, MN_ECORRUPT, MN_ENOMEM; err gets "path: what was wrong". */
int mn_model_open(const char *path, mn_model **out, mn_err *err);

/* Reference counting (thread-safe). release frees the model with the last reference; NULL is a
 * no-op. */
mn_model *mn_model_retain(mn_model *m);
void mn_model_release(mn_model *m);

/* Writes the model to path in micronlp's format, atomically (temporary file + rename).
 * A fastText model cannot be saved (MN_EUNSUPPORTED): its features differ from micronlp's, so
 * retrain it with mn_classifier_train. */
int mn_model_save(const mn_model *m, const char *path, mn_err *err);

/* ---- description -------------------------------------------------------------------------- */

mn_model_type mn_model_kind(const mn_model *m);
const char *mn_model_type_name(const mn_model *m); /* "classifier", "fasttext", "tagger",
                                                   * "langid", "keywords" */
uint32_t mn_model_label_count(const mn_model *m);
/* Label i without any "__label__" prefix; NUL-terminated; valid while the model lives. */
const char *mn_model_label(const mn_model *m, uint32_t i);
/* Index of a label by name, or -1. */
int32_t mn_model_label_find(const mn_model *m, const char *name, size_t len);

/* Metadata as key/value pairs (task, created, train_hash, hyperparameters, metrics ...).
 * Returns the number of pairs; fills *key / *value for pair i < count. */
size_t mn_model_meta_count(const mn_model *m);
void mn_model_meta_get(const mn_model *m, size_t i, const char **key, const char **value);
/* Value for key, or NULL. */
const char *mn_model_meta(const mn_model *m, const char *key);

/* Bytes the model occupies (file size for mapped models). */
size_t mn_model_size_bytes(const mn_model *m);

/* ---- prediction --------------------------------------------------------------------------- */

/* Per-thread working memory for one model (or any model: it grows as needed). */
int mn_scratch_new(mn_scratch **out);
void mn_scratch_free(mn_scratch *s);

/* Predicts up to k labels with probability >= threshold for text[0..len), best first.
 * The whole text is one document (a fastText model sees each newline as its end-of-line
 * token). Fewer than k answers come back when fewer pass the threshold.
 * Writes them to out[0..k) and the count to *n_out. The text must be valid UTF-8 (validate
 * with mn_utf8_validate, or repair, first); an empty text is allowed and gives the prior.
 * Thread-safe for distinct scratch objects. Returns 0, MN_EINVAL or MN_ENOMEM. */
int mn_model_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                     float threshold, mn_prediction *out, size_t *n_out);

/* ---- training ----------------------------------------------------------------------------- */

/* A labelled data set held in memory: texts are spans of one buffer, labels are indices. */
typedef struct mn_dataset mn_dataset;

typedef enum mn_data_format {
    MN_DATA_AUTO = 0,     /* "__label__" prefix on the first line -> FASTTEXT, else TSV */
    MN_DATA_FASTTEXT = 1, /* __label__a __label__b text ... */
    MN_DATA_TSV = 2,      /* label<TAB>text (labels separated by ',' for multi-label) */
} mn_data_format;

/* Reads a data set. Every line must be valid UTF-8, carry at least one label and some text, and
 * be at most 1 MiB; a violation fails with "path:line: ..." (no silent skips). Blank lines are
 * allowed and ignored. If labels_from is given, the label list starts with the model's labels
 * (same indices) and labels the model does not know are appended after them, so they count as
 * gold labels in evaluation but can never be predicted; otherwise labels are collected in
 * order of first appearance. Labels: leading "__label__X" words (FASTTEXT) or the first
 * column split on ',' (TSV). */
int mn_dataset_load(const char *path, mn_data_format fmt, const mn_model *labels_from,
                    mn_dataset **out, mn_err *err);
void mn_dataset_free(mn_dataset *d);
size_t mn_dataset_count(const mn_dataset *d);
uint32_t mn_dataset_label_count(const mn_dataset *d);
const char *mn_dataset_label(const mn_dataset *d, uint32_t i);
/* Example i: its text and its labels (indices into the data set's label list). */
void mn_dataset_get(const mn_dataset *d, size_t i, const char **text, size_t *len,
                    const uint32_t **labels, size_t *nlabels);
/* Content hash of the file as read (XXH3 64), recorded in models trained on it. */
uint64_t mn_dataset_hash(const mn_dataset *d);

typedef struct mn_train_progress {
    double progress;       /* 0..1 */
    double words_per_sec_thread;
    double lr;
    double loss;           /* running average */
    double eta_sec;
    double elapsed_sec;
} mn_train_progress;

/* Which tokens of a text become classifier features. By default the Unicode tokenizer's words,
 * numbers, URLs, e-mails, handles, hashtags, emoji and CJK characters do, and lone punctuation
 * and symbols do not: on SpamAssassin they only diluted the average (measured: accuracy 0.980
 * with them, 0.989 without; docs/BENCHMARKS.md). */
enum {
    MN_TOKENS_KEEP_PUNCT = 1u << 0, /* punctuation and symbol tokens are features too */
    MN_TOKENS_WHITESPACE = 1u << 1, /* split on ASCII whitespace only, as fastText does */
    /* Every digit 1-9 of a token reads as 0: "1961" and "1848" are one feature, "0000", as
     * are "$1.50" and "$2.75"; what a number looks like tells the kind of text, its value
     * rarely does. */
    MN_TOKENS_FOLD_DIGITS = 1u << 2,
    /* Five more features of each text with tokens, its shape: how many tokens (log2
     * buckets), their mean length in code points (half-point buckets) and tokens per sentence
     * (sentences end at '.', '!' or '?'; half log2 buckets), each alone, then the first two
     * and the last two as pairs. Paragraphs of fiction, reports and news differ in these more
     * than in any single word. Word n-grams do not span them. */
    MN_TOKENS_SHAPE = 1u << 3,
    /* CJK tokens with nothing between them are one token: a run of Han ideographs and kana,
     * as far as the next space or punctuation, so that its character n-grams see sequences
     * ("的权利" against "嘅权利") rather than each character alone. Chinese varieties share
     * most of their characters and differ in what follows what. */
    MN_TOKENS_CJK_RUNS = 1u << 4,
};

typedef struct mn_classifier_config {
    const char *task;      /* free text, stored in the model ("spam", "lang" ...) */
    int dim;               /* embedding size */
    int epoch;
    double lr;
    int word_ngrams;       /* 1 = words only */
    int minn, maxn;        /* character n-gram lengths; maxn 0 = none */
    uint32_t bucket;       /* hash buckets for n-grams */
    int min_count;         /* words seen fewer times are not in the vocabulary */
    mn_loss loss;
    int threads;
    uint64_t seed;
    unsigned norm_flags;   /* MN_NORM_* applied to each token before hashing */
    unsigned token_flags;  /* MN_TOKENS_* : which tokens become features */
    int lr_update_rate;    /* tokens between lr updates (fastText: 100) */
    /* Feature selection and weighting, all off by default (the model format does not change):
     * min_df      features found in fewer than min_df training texts get no row (<= 1 = off);
     * idf_lr      each input row's learning rate is scaled by idf^idf_lr, idf = 1 + ln((1 + N) /
     *             (1 + df)), normalised to a mean of 1 over the training tokens (0 = off): rare,
     *             telling features learn faster, as TF-IDF weighting does for a linear model;
     * keep_rows   after training keep only this many input rows, those of largest df times the
     *             norm of the row seen through the centred output matrix (what the row moves in
     *             the scores of the training texts), and zero the others, so that
     *             `quantize --cutoff keep_rows` keeps exactly them (0 = keep all). */
    int min_df;
    double idf_lr;
    uint32_t keep_rows;
    /* Early stopping on a validation set: evaluate every epoch, keep the best, stop after
     * `patience` epochs without gain (0 = never stop early). */
    const mn_dataset *valid;
    int patience;
    /* Called about every 100 ms from the training thread 0; may be NULL. */
    void (*on_progress)(const mn_train_progress *p, void *ctx);
    void *progress_ctx;
    volatile int *cancel; /* training stops early when *cancel becomes non-zero; may be NULL */
} mn_classifier_config;

/* Defaults: dim 50, epoch 5, lr 0.5 (softmax) , word_ngrams 2, minn 0, maxn 0, bucket 2M,
 * min_count 1, softmax, 1 thread, seed 1, norm NFKC|CASEFOLD, token_flags 0,
 * lr_update_rate 100, min_df 1, idf_lr 0, keep_rows 0. */
void mn_classifier_config_init(mn_classifier_config *cfg);

/* Trains a classifier. With threads == 1 the result is bit-for-bit reproducible for a seed.
 * Returns 0 and a new model in *out, or MN_EINVAL / MN_EEMPTY / MN_ENOMEM with err filled. */
int mn_classifier_train(const mn_classifier_config *cfg, const mn_dataset *train, mn_model **out,
                        mn_err *err);

/* Hyperparameter search within a time budget, as fastText's autotune: trains candidates drawn
 * around base (dim, epoch, lr, word_ngrams, minn/maxn, bucket) on train, scores each on valid by
 * accuracy (ties: macro-F1), and returns the best model; *best (if not NULL) receives its
 * configuration (valid/on_progress fields copied from base). The last candidate is cut short
 * when the budget ends. Same threads and seed rules as mn_classifier_train. */
int mn_classifier_autotune(const mn_classifier_config *base, const mn_dataset *train,
                           const mn_dataset *valid, double budget_sec, mn_model **out,
                           mn_classifier_config *best, mn_err *err);

/* Shrinks a classifier: keep only the `cutoff` most useful rows of the input matrix (0 = all)
 * and store weights as 8-bit integers with one scale per row. */
typedef struct mn_quantize_config {
    size_t cutoff;
    int qout; /* also quantise the output matrix */
    /* Bits per input weight: 8 (or 0), or 6 for about half as many rows again in the same
     * bytes (weights -31..31, half-precision row scales; the file needs format version 3). */
    int bits;
} mn_quantize_config;
int mn_model_quantize(const mn_model *m, const mn_quantize_config *cfg, mn_model **out,
                      mn_err *err);

/* ---- evaluation --------------------------------------------------------------------------- */

typedef struct mn_label_stats {
    uint64_t tp, fp, fn; /* at k = 1 for single-label; at threshold for multi-label */
    double precision, recall, f1;
} mn_label_stats;

typedef struct mn_eval_result {
    size_t examples;
    int k;
    double accuracy;      /* top-1 is one of the gold labels */
    double precision_at_k, recall_at_k;
    double macro_f1;
    uint32_t nlabels;
    mn_label_stats *per_label; /* nlabels entries */
    uint64_t *confusion;       /* nlabels x nlabels, row = gold (first gold label), col = top-1 */
    double seconds;
} mn_eval_result;

/* Evaluates m on d. Labels are matched by name; gold labels the model does not know count as
 * misses. Predictions are the top k with probability >= threshold; accuracy is whether the
 * best one is a gold label. Per-label counts use all k predictions. */
int mn_model_eval(const mn_model *m, const mn_dataset *d, int k, float threshold,
                  mn_eval_result *out, mn_err *err);
void mn_eval_result_deinit(mn_eval_result *r);

/* ==== sequence tagging (part of speech, named entities) ================================== *
 *
 * A tagger model (MN_MODEL_TAGGER) gives one tag per token: an averaged structured perceptron
 * over hashed features of the word, its neighbours and the tags already chosen, decoded
 * greedily left to right. Its labels are its tags; entity models use BIO tags ("B-PER",
 * "I-PER", "O"), from which mn_model_entities builds spans.
 *
 * mn_model_predict on a tagger returns MN_EUNSUPPORTED: a tagger answers per token, so use
 * mn_model_tag / mn_model_tag_tokens / mn_model_entities. Like prediction, tagging is
 * thread-safe for distinct scratch objects and allocates nothing once the scratch is warm. */

/* One tagged token: a byte range of the caller's text, its tag (a label index of the model)
 * and the tag's probability (softmax over the perceptron scores of that token). */
typedef struct mn_tagged {
    uint32_t off, len; /* bytes into the text */
    uint32_t tag;      /* label index */
    float score;       /* 0..1 */
} mn_tagged;

/* One entity: a run of tokens [first, first + count) read from BIO tags with CoNLL conlleval
 * rules (a B- starts a span; an I- continues a span of its type, or starts one after O or
 * another type), its byte range in the text, and its type (the label after "B-"/"I-",
 * pointing into the model's labels, not NUL-terminated at type_len). score is the mean of the
 * token scores. */
typedef struct mn_entity {
    uint32_t off, len;   /* bytes into the text: first token's start to last token's end */
    uint32_t first, count;
    const char *type;
    uint32_t type_len;
    float score;
} mn_entity;

/* Tags a raw text: tokenises it with the Unicode tokenizer (mn_tokenizer_next: all tokens,
 * punctuation included) and tags every token. Writes min(count, cap) tokens to out and the
 * total count to *n_out (call again with a larger out when *n_out > cap). Text must be valid
 * UTF-8 (see mn_utf8_validate). The text is one sequence: split long texts into sentences
 * first (mn_sentencer_next) for best results. Returns 0, MN_EINVAL (not a tagger, NULL
 * arguments), MN_ETOOBIG (more than 2^32 - 1 bytes) or MN_ENOMEM. */
int mn_model_tag(const mn_model *m, mn_scratch *s, const char *text, size_t len, mn_tagged *out,
                 size_t cap, size_t *n_out);

/* Tags pre-split tokens words[i][0..lens[i]) (for evaluation and callers with their own
 * tokenizer). Writes tags[0..n) and, if scores is not NULL, scores[0..n). */
int mn_model_tag_tokens(const mn_model *m, mn_scratch *s, const char *const *words,
                        const size_t *lens, size_t n, uint32_t *tags, float *scores);

/* Tags the text as mn_model_tag does and returns its entities (spans of BIO tags): writes
 * min(count, cap) to out and the total to *n_out. A model whose tags are not BIO gives 0
 * entities. Same return codes as mn_model_tag. */
int mn_model_entities(const mn_model *m, mn_scratch *s, const char *text, size_t len,
                      mn_entity *out, size_t cap, size_t *n_out);

/* ---- tagged corpora (Brown word/tag, CoNLL columns) ---- */

/* Sentences of (word, tag) pairs read whole into memory. Formats:
 *   BROWN  one sentence per line, tokens "word/tag" split on the LAST slash (NLTK's reader);
 *          blank lines are ignored
 *   CONLL  one token per line, "token<TAB>label" or "token label" (first and last column
 *          when there are more), blank lines between sentences, "-DOCSTART-" lines ignored
 *   AUTO   looks at the first line with content: a TAB, or not every field holding a '/',
 *          means CONLL, else BROWN
 * Entity tags (CONLL labels that are all "O" or "X-TYPE" with X one of B, I, E, S, U, L) are
 * converted to BIO on load: S/U -> B, E/L -> I, and an I- that does not continue its type
 * (IO files: "I-PER I-PER O I-LOC") -> B. Errors name "path:line": a line without a label, a
 * word/tag pair with an empty side, invalid UTF-8, a sentence of more than 10,000 tokens; an
 * input with no tokens is MN_EEMPTY. Offsets are 32-bit: inputs are at most 4 GiB. */
typedef struct mn_tagged_corpus mn_tagged_corpus;

typedef enum mn_tag_format {
    MN_TAG_FORMAT_AUTO = 0,
    MN_TAG_FORMAT_BROWN = 1,
    MN_TAG_FORMAT_CONLL = 2,
} mn_tag_format;

enum {
    /* Brown: simplified tags, without the -tl (title), -hl (headline), -nc (cited) suffixes
     * and the fw- (foreign word) prefix: 472 tags become 190 */
    MN_TAGS_SIMPLIFY = 1u << 0,
    MN_TAGS_KEEP_SCHEME = 1u << 1, /* keep entity tags as they are (no BIO conversion) */
};

int mn_tagged_corpus_load(const char *path, mn_tag_format fmt, unsigned flags,
                          mn_tagged_corpus **out, mn_err *err);
/* Same from memory (copied); name is used in messages. */
int mn_tagged_corpus_parse(const char *data, size_t len, const char *name, mn_tag_format fmt,
                           unsigned flags, mn_tagged_corpus **out, mn_err *err);
void mn_tagged_corpus_free(mn_tagged_corpus *c);
size_t mn_tagged_corpus_sentence_count(const mn_tagged_corpus *c);
size_t mn_tagged_corpus_token_count(const mn_tagged_corpus *c);
uint32_t mn_tagged_corpus_label_count(const mn_tagged_corpus *c);
const char *mn_tagged_corpus_label(const mn_tagged_corpus *c, uint32_t i);
/* Sentence i: its token count, and token j's word (not NUL-terminated) and tag. */
size_t mn_tagged_corpus_sentence_len(const mn_tagged_corpus *c, size_t i);
void mn_tagged_corpus_token(const mn_tagged_corpus *c, size_t i, size_t j, const char **word,
                            size_t *len, uint32_t *tag);
/* Content hash of the input (XXH3 64). */
uint64_t mn_tagged_corpus_hash(const mn_tagged_corpus *c);
/* Writes the corpus to path in fmt (BROWN or CONLL with a TAB), atomically enough for tests
 * (plain fopen/fwrite). Returns 0, MN_EINVAL or -errno. */
int mn_tagged_corpus_save(const mn_tagged_corpus *c, const char *path, mn_tag_format fmt,
                          mn_err *err);

/* ---- training ---- */

typedef struct mn_tagger_config {
    const char *task;         /* stored in the model ("pos", "ner") */
    int epoch;                /* passes over the training data */
    uint64_t seed;            /* sentence order is shuffled each epoch with this seed */
    uint32_t bucket;          /* hashed feature rows while training (power of two) */
    size_t max_size_bytes;    /* prune the smallest weights until the file fits (0 = keep all) */
    /* Tag dictionary (as NLTK's tagger): a word seen at least tagdict_min_count times with one
     * tag in at least tagdict_ratio of them always gets that tag, without scoring; this halves
     * training and tagging time on Brown at no cost in accuracy. 0 = no dictionary. */
    uint32_t tagdict_min_count;
    double tagdict_ratio;
    const mn_tagged_corpus *valid; /* optional: accuracy after each epoch, best epoch kept */
    void (*on_progress)(const mn_train_progress *p, void *ctx); /* may be NULL */
    void *progress_ctx;
    volatile int *cancel;     /* stops after the current sentence when set; may be NULL */
} mn_tagger_config;

/* Defaults: epoch 8, seed 1, bucket 2^20, max_size_bytes 4.5 MB, tag dictionary for words
 * seen 20 times with one tag in 97% of them. */
void mn_tagger_config_init(mn_tagger_config *cfg);

/* Trains a tagger on a corpus (single-threaded, bit-for-bit reproducible for a seed).
 * Returns 0 and a model, or MN_EINVAL / MN_EEMPTY / MN_ENOMEM with err filled. */
int mn_tagger_train(const mn_tagger_config *cfg, const mn_tagged_corpus *train, mn_model **out,
                    mn_err *err);

/* ---- evaluation ---- */

/* Exact-span scores of one entity type (or of all, in mn_tag_eval_result). */
typedef struct mn_span_stats {
    char type[32];        /* entity type, truncated to 31 bytes */
    uint64_t tp, fp, fn;  /* spans: correct, predicted but wrong, gold but missed */
    double precision, recall, f1;
} mn_span_stats;

typedef struct mn_tag_eval_result {
    size_t sentences, tokens;
    uint64_t correct;        /* tokens whose predicted tag equals the gold tag (by name) */
    double accuracy;
    uint64_t unknown_tags;   /* gold tokens with a tag the model does not have (always wrong) */
    int entities;            /* the model's tags are BIO: the span scores below are set */
    mn_span_stats all;       /* micro-averaged over all types (conlleval's headline), type "all" */
    uint32_t ntypes;
    mn_span_stats *per_type; /* ntypes entries, gold and predicted types, sorted by name */
    double seconds;          /* tagging time */
} mn_tag_eval_result;

/* Tags every sentence of c with m and compares with its gold tags (matched by name). Span
 * scores follow CoNLL conlleval: a span is correct when type, first and last token match.
 * Returns 0, MN_EINVAL (not a tagger) or MN_ENOMEM. */
int mn_tagger_eval(const mn_model *m, const mn_tagged_corpus *c, mn_tag_eval_result *out,
                   mn_err *err);
void mn_tag_eval_result_deinit(mn_tag_eval_result *r);

#endif
