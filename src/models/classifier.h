/* SPDX-License-Identifier: MIT
 *
 * The text classifier's in-memory layout, shared by its loader/predictor (classifier.c), its
 * trainer (classifier_train.c) and quantizer (quantize.c). Only src/models/ includes this.
 *
 * Features of a text are rows of the input matrix:
 *
 *   row 0                      bias (every text has it, so an empty text gets the prior)
 *   rows 1 .. nwords           vocabulary words (hash of the normalised token, see 'VOCB')
 *   rows 1+nwords ..           hashed buckets of word n-grams and character n-grams; if the
 *                              model was pruned, only the buckets listed in 'BKTS' (or, as
 *                              gaps, 'BKTV') have a row
 *
 * The text's vector is the mean of its rows; scores are output-matrix x vector.
 */
#ifndef MN_MODELS_CLASSIFIER_H
#define MN_MODELS_CLASSIFIER_H

#include <stdint.h>

#include "format.h"
#include "internal.h"

/* The token flags a classifier file may hold, and those only format versions 2 and 3 know. */
#define MN__TOKENS_KNOWN                                                                           \
    (MN_TOKENS_KEEP_PUNCT | MN_TOKENS_WHITESPACE | MN_TOKENS_FOLD_DIGITS | MN_TOKENS_SHAPE |      \
     MN_TOKENS_CJK_RUNS)
#define MN__TOKENS_V2 (MN_TOKENS_FOLD_DIGITS | MN_TOKENS_SHAPE)
#define MN__TOKENS_V3 MN_TOKENS_CJK_RUNS

/* Fixed-size hyperparameter block stored as section 'CLSH' (little-endian u32 fields). */
typedef struct mn_clf_params {
    uint32_t dim;
    uint32_t word_ngrams;
    uint32_t minn, maxn;
    uint32_t bucket;      /* hash space of n-grams (before pruning) */
    uint32_t loss;        /* mn_loss */
    uint32_t norm_flags;  /* MN_NORM_* applied to tokens */
    uint32_t nwords;      /* vocabulary rows */
    uint32_t nbuckets;    /* bucket rows present: bucket, or the count in 'BKTS' if pruned */
    uint32_t pruned;      /* 1 if 'BKTS' lists the kept buckets */
    uint32_t qinput;      /* 1 if the input matrix is 8-bit ('EMBQ' + 'EMBS') */
    uint32_t qoutput;     /* 1 if the output matrix is 8-bit ('OUTQ' + 'OUTS') */
    uint32_t nout;        /* rows of the output matrix: labels, or labels - 1 for hs */
    uint32_t token_flags; /* MN_TOKENS_* */
    /* 0, or 6: the 8-bit input rows are stored in 6 bits ('EMB6', weights -31..31) with
     * half-precision scales ('EMBH') and, if pruned, the kept bucket ids as gaps ('BKTV');
     * format version 3, unpacked at load (packing.h). Prediction sees 8-bit rows either way. */
    uint32_t in_bits;
    uint32_t reserved;
} mn_clf_params;
_Static_assert(sizeof(mn_clf_params) == 16 * 4, "CLSH is 64 bytes");

/* The oldest format version that describes a classifier with these parameters: 3 for 6-bit
 * input rows or the version-3 token flags, 2 for the version-2 ones, else 1. The writer raises
 * the file to it and the reader refuses a file that claims less, since a reader of that older
 * version would misread the model (format.h). */
static inline uint32_t mn__clf_min_version(const mn_clf_params *p)
{
    if (p->in_bits != 0 || (p->token_flags & MN__TOKENS_V3))
        return 3;
    return (p->token_flags & MN__TOKENS_V2) ? 2 : 1;
}

/* An 8-bit or float matrix, rows x dim. */
typedef struct mn_clf_matrix {
    const float *f;       /* float rows, or NULL */
    const int8_t *q;      /* quantised rows, or NULL */
    const float *scale;   /* one scale per quantised row */
    uint32_t rows, dim;
} mn_clf_matrix;

/* Hierarchical softmax tree over labels: nodes 0..nlabels-1 are leaves, the rest internal;
 * node nlabels-1+i ... root is the last node (2*nlabels-2). Internal node n has output row
 * n - nlabels. */
typedef struct mn_clf_tree {
    const int32_t *left, *right; /* per internal node (index n - nlabels) */
    uint32_t nlabels;
} mn_clf_tree;

/* Lookup tables built at load (open addressing, linear probing): the key is stored with its
 * row so that a lookup reads one cache line; row 0 (the bias) marks an empty slot. */
typedef struct mn_clf_word_slot {
    uint64_t hash; /* word hash, as in 'VOCB' */
    uint32_t row;  /* 1 + index into vocab, or 0 if empty */
    uint32_t unused;
} mn_clf_word_slot;

typedef struct mn_clf_bucket_slot {
    uint32_t bucket; /* bucket id, as in 'BKTS' */
    uint32_t row;    /* 1 + nwords + index into buckets, or 0 if empty */
} mn_clf_bucket_slot;

/* A pruned model's kept buckets as a bitmap over all bucket ids with the row count before each
 * piece of it (a rank directory), one cache line per MN_CLF_RANK_IDS ids. The hash table of
 * bucket slots takes 2 to 4 slots of 8 bytes per kept bucket, 1 MB for the language model's
 * 42,000 of 2M buckets, and most lookups missed the L1 cache, many the L2; this is 64 bytes
 * per 384 ids whatever is kept (333 KB for 2M ids), and a lookup reads one line:
 *
 *   byte 0             4              16                                       64
 *        +-------------+--------------+----------------------------------------+
 *        | rows_before | before[0..5] | bits[0..5]                             |
 *        | u32         | u16 x 6      | u64 x 6: bit i of word w is id 384 * line + 64 * w + i
 *        +-------------+--------------+----------------------------------------+
 *
 * Id b is kept if its bit is set, and then its row is rows_before + before[w] + the set bits
 * at or below it in bits[w] (rows_before: nwords + the kept ids of earlier lines, so that the
 * first kept id gets row 1 + nwords; before[w]: kept ids in words 0..w-1 of the line). Rows
 * follow the order of 'BKTS', which the loader checks is increasing. */
enum { MN_CLF_RANK_WORDS = 6, MN_CLF_RANK_IDS = 64 * MN_CLF_RANK_WORDS };
typedef struct mn_clf_rank_line {
    uint32_t rows_before;
    uint16_t before[MN_CLF_RANK_WORDS];
    uint64_t bits[MN_CLF_RANK_WORDS];
} mn_clf_rank_line;
_Static_assert(sizeof(mn_clf_rank_line) == 64, "a rank line is one cache line");

typedef struct mn_classifier {
    mn_model base;
    mn_clf_params p;
    mn_clf_matrix in, out;
    mn_clf_tree tree;
    const uint64_t *vocab;   /* nwords word hashes; word i is row 1 + i */
    const uint32_t *buckets; /* pruned models: sorted kept bucket ids */
    mn_clf_word_slot *word_slots;     /* word hash -> row, word_mask + 1 slots */
    uint32_t word_mask;
    /* Pruned models: bucket id -> row, through the rank lines, or where those would be larger
     * (a few kept buckets out of very many ids) the hash table of bucket slots. */
    const mn_clf_rank_line *rank_lines; /* 64-byte aligned, in rank_mem */
    void *rank_mem;
    mn_clf_bucket_slot *bucket_slots;
    uint32_t bucket_mask;
    /* The output matrix once more, as floats, rows interleaved eight at a time so that one
     * SIMD lane scores one label (blocked_scores in classifier.c); built at load for models
     * with many labels, NULL otherwise. */
    float *out8;             /* [block][weight][8] */
    float *out8_scale;       /* 8-bit out: each row's scale, 8 per block; else NULL */
    uint32_t out8_blocks;
    mn_file *file;           /* mapping the weights live in, or NULL when owned */
    void *owned[8];          /* buffers owned by a trained/quantised model, freed on destroy */
    void *big;               /* a 6-bit model's unpacked input (mn__big_alloc), or NULL */
} mn_classifier;

/* Builds the lookup tables over c->vocab / c->buckets. */
int mn__clf_index(mn_classifier *c);

/* Extracts the input rows of a text into the scratch (slot 0) and returns their count in
 * *n; *rows points into the scratch; *ntokens (if not NULL) gets the number of tokens.
 * Also used at training time. */
int mn__clf_features(const mn_classifier *c, mn_scratch *s, const char *text, size_t len,
                     const uint32_t **rows, size_t *n, size_t *ntokens);

/* Word hashes of a text in order (normalised tokens), into scratch slot 1. */
int mn__clf_word_hashes(unsigned norm_flags, unsigned token_flags, mn_scratch *s, const char *text, size_t len,
                        const uint64_t **hashes, size_t *n);

/* Reads a classifier's sections from f into c (from mn__clf_new): the weights point into f's
 * mapping, which the caller keeps open for as long as c lives (c->file is not set). Lets
 * other model types (langid) embed a classifier stored in their own file. On failure c holds
 * partial state: destroy it with mn_model_release(&c->base). */
int mn__clf_read(mn_classifier *c, const mn_file *f, mn_err *err);

/* Writes the classifier's sections (CLSH, VOCB, ... but not LABL/META) into w. */
int mn__clf_write_sections(const mn_classifier *c, mn_file_writer *w);

/* Allocates an empty classifier with base initialised. */
mn_classifier *mn__clf_new(void);

/* Scores and probabilities for given features, into out_probs (nlabels floats). hidden is a
 * dim-float work vector. */
void mn__clf_probs(const mn_classifier *c, const uint32_t *rows, size_t n, float *hidden,
                   float *probs);

/* An input row and how much it matters, for choosing the rows a smaller model keeps (quantize's
 * norm, training's keep_rows); mn__row_score_desc orders by score, best first, then by row, so
 * the choice is deterministic. */
typedef struct mn__row_score {
    float score;
    uint32_t row;
} mn__row_score;
int mn__row_score_desc(const void *a, const void *b);

#endif
