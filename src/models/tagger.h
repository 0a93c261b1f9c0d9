/* SPDX-License-Identifier: MIT
 *
 * What the tagger's files share (tagger.c, tagger_train.c, tagger_eval.c, conll.c): the
 * in-memory tagged corpus, BIO label parsing and conlleval chunking, and the feature
 * extraction that training and tagging must do identically.
 */
#ifndef MN_MODELS_TAGGER_H
#define MN_MODELS_TAGGER_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "internal.h"

enum { MN_TAGGER_MAX_SENTENCE = 10000 }; /* tokens per sentence in a corpus file */

typedef struct mn_ctoken {
    uint32_t off, len; /* word bytes in the corpus text */
    uint32_t tag;      /* label index */
} mn_ctoken;

struct mn_tagged_corpus {
    char *text; /* owned copy of the input; words point into it */
    size_t text_len;
    mn_ctoken *tok;
    size_t ntok;
    size_t *sent; /* nsent + 1 token indices: sentence i is [sent[i], sent[i + 1]) */
    size_t nsent;
    char **labels;
    uint32_t nlabels;
    uint64_t hash;
};

/* ---- BIO ---- */

enum { MN_BIO_O = 0, MN_BIO_B = 1, MN_BIO_I = 2, MN_BIO_OTHER = 3 };

/* Parses a tag: "O" -> O; "B-X"/"I-X" -> B/I with the type X at *type (len *type_len); any
 * other tag -> OTHER (not an entity tag; it ends spans like O). */
int mn__bio_parse(const char *tag, const char **type, size_t *type_len);

/* One span found by mn__bio_chunks: tokens [first, first + count), type id. */
typedef struct mn_chunk {
    uint32_t first, count, type;
} mn_chunk;

/* Chunks a tag sequence with conlleval's rules, given per-label kind (MN_BIO_*) and type id.
 * Writes min(found, cap) chunks and returns the number found. */
size_t mn__bio_chunks(const uint32_t *tags, size_t n, const uint8_t *kind, const uint32_t *type,
                      mn_chunk *out, size_t cap);

/* Scores predicted chunks against gold chunks (both as mn__bio_chunks gives them): exact
 * first/count/type matches are true positives of their type in st[], the rest false
 * positives (predicted) or false negatives (gold), as conlleval counts. */
void mn__span_match(const mn_chunk *gold, size_t ng, const mn_chunk *pred, size_t np,
                    mn_span_stats *st);
/* Fills precision, recall and F1 from tp/fp/fn. */
void mn__span_finish(mn_span_stats *s);

/* ---- features ---- */

/* Static features per token (from the words around it) and dynamic ones (from the tags
 * chosen before it). Changing the feature set changes MN_TAGGER_FEATURES, so old files are
 * refused rather than misread. */
enum { MN_TAGGER_NSTATIC = 24, MN_TAGGER_NDYN = 3, MN_TAGGER_FEATURES = 1 };

/* Scratch bytes for the lower-cased forms of n tokens, and for their per-token info. */
size_t mn__tagger_buf_bytes(const size_t *lens, size_t n);
size_t mn__tagger_info_bytes(size_t n);

/* Computes the static feature buckets of n tokens (words[i], lens[i]) into
 * feats[i * MN_TAGGER_NSTATIC + k], masked with mask; buf (buf_cap >= mn__tagger_buf_bytes)
 * and info (mn__tagger_info_bytes) are scratch, info is read by the dynamic features. */
void mn__tagger_static(const char *const *words, const size_t *lens, size_t n, uint32_t mask,
                       char *buf, size_t buf_cap, uint32_t *feats, void *info);
uint64_t mn__tagger_info_lower(const void *info, size_t i);
uint64_t mn__tagger_info_word(const void *info, size_t i); /* mn_hash64 of the word as written */

/* Dynamic feature buckets of a token given the previous two tags (ntags = before the start)
 * and the hash of its lower-cased form. */
void mn__tagger_dynamic(uint32_t p1, uint32_t p2, uint64_t lower_hash, uint32_t mask,
                        uint32_t *out);

/* ---- the model ---- */

typedef struct mn_tg_params {
    uint32_t feature_version; /* MN_TAGGER_FEATURES */
    uint32_t ntags;
    uint32_t bucket_mask; /* feature buckets - 1 (a power of two minus one) */
    uint32_t nrows;       /* buckets that kept weights */
    uint32_t slot_mask;   /* slots - 1 (a power of two minus one, more slots than rows) */
    uint32_t nentries;
    float scale;         /* weight = entry.w * scale */
    uint32_t dict_slots; /* tag dictionary slots (a power of two), 0 = no dictionary */
    uint32_t reserved[8];
} mn_tg_params;
_Static_assert(sizeof(mn_tg_params) == 64, "TGPR section layout");

typedef struct mn_tg_entry {
    uint16_t tag; /* tag index; 0x8000 set on the last entry of a row */
    int16_t w;
} mn_tg_entry;
_Static_assert(sizeof(mn_tg_entry) == 4, "TGEN entry layout");

/* Tag dictionary entry: a frequent word seen (almost) always with one tag is tagged without
 * scoring, as NLTK's tagger does; open addressing on the word's hash, used = 0 marks empty. */
typedef struct mn_tg_dict {
    uint64_t word; /* mn_hash64 of the word as written */
    uint32_t tag;
    uint32_t used;
} mn_tg_dict;
_Static_assert(sizeof(mn_tg_dict) == 16, "TGDC entry layout");

/* Looks a word hash up in a dictionary of slots (power of two); returns the tag or -1. */
static inline int64_t mn__tg_dict_find(const mn_tg_dict *d, uint32_t slots, uint64_t word)
{
    if (!slots) return -1;
    for (uint32_t j = (uint32_t)(word >> 32) & (slots - 1);; j = (j + 1) & (slots - 1)) {
        if (!d[j].used) return -1;
        if (d[j].word == word) return d[j].tag;
    }
}

typedef struct mn_tagger {
    mn_model base;
    mn_tg_params p;
    const uint32_t *slots; /* (slot_mask + 1) x {key, first entry} */
    const mn_tg_entry *entries;
    const mn_tg_dict *dict; /* p.dict_slots entries, or NULL */
    mn_tg_dict *owned_dict;
    uint32_t *owned_slots; /* set when built by training rather than mapped */
    mn_tg_entry *owned_entries;
    mn_file *file;
    /* BIO view of the labels, built at load */
    int is_bio;
    uint8_t *kind;          /* per label: MN_BIO_* */
    uint32_t *type;         /* per label: entity type id */
    const char **type_name; /* per type: points into the labels */
    uint32_t *type_len;
    uint32_t ntypes;
    /* exp_tab[k] = exp(-k * scale) for the k (a best score minus another) whose term enters a
     * token's softmax, as decoding would compute it; NULL (exp_len 0) for small tag sets or
     * very fine scales, where decoding calls exp itself. Built with the BIO view. */
    double *exp_tab;
    uint32_t exp_len;
} mn_tagger;

mn_tagger *mn__tagger_new(void);
void mn__tagger_free(mn_tagger *t);
/* Builds what tagging derives from the labels and params once (the BIO view, exp_tab);
 * call after both are set. Returns 0 or MN_ENOMEM. */
int mn__tagger_index_labels(mn_tagger *t);
/* Tags n tokens (n >= 0) with the scratch; scores may be NULL. */
int mn__tagger_tag(const mn_tagger *t, mn_scratch *s, const char *const *words, const size_t *lens,
                   size_t n, uint32_t *tags, float *scores);

/* Tags sentence s of the corpus being scored (its n words given too) into tags[n], as label
 * indices of the tagger; returns 0 or MN_ENOMEM. */
typedef int (*mn__tag_sentence_fn)(void *ctx, size_t s, const char *const *words,
                                   const size_t *lens, size_t n, uint32_t *tags);

/* mn_tagger_eval with the tagging done by tag(ctx, ...) for a tagger whose labels are
 * labels[nlabels] (borrowed): training scores its validation file this way straight from the
 * weights it is learning, without building a model each epoch. */
int mn__tagger_eval_ex(const char *const *labels, uint32_t nlabels, mn__tag_sentence_fn tag,
                       void *ctx, const mn_tagged_corpus *c, mn_tag_eval_result *out, mn_err *err);

#endif
