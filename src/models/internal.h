/* SPDX-License-Identifier: MIT
 *
 * What every model type shares: the base struct each model embeds as its first member, the
 * per-type operations table, and the per-thread scratch space. Only src/models/ includes this.
 */
#ifndef MN_MODELS_INTERNAL_H
#define MN_MODELS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h" /* MN_PREFETCH, MN_ALWAYS_INLINE */
#include "micronlp/models.h"

typedef struct mn_model_ops {
    const char *name; /* "classifier", "fasttext" */
    int (*predict)(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                   float threshold, mn_prediction *out, size_t *n_out);
    int (*save)(const mn_model *m, const char *path, mn_err *err);
    void (*destroy)(mn_model *m); /* frees the derived struct and everything it owns */
} mn_model_ops;

typedef struct mn_meta_pair {
    char *key, *value;
} mn_meta_pair;

/* Base of every model. Labels and metadata are owned copies (small); weights may live in a
 * mapping owned by the derived struct. */
struct mn_model {
    const mn_model_ops *ops;
    atomic_int refs;
    mn_model_type type;
    uint32_t nlabels;
    char **labels;      /* nlabels NUL-terminated names */
    mn_meta_pair *meta; /* nmeta pairs, in insertion order */
    size_t nmeta;
    size_t size_bytes;
};

/* Initialises the base (one reference, no labels, no meta). */
void mn__model_init(mn_model *m, const mn_model_ops *ops, mn_model_type type);
/* Frees labels and meta of the base (the derived destroy calls this). */
void mn__model_deinit(mn_model *m);
/* Copies the label names. */
int mn__model_set_labels(mn_model *m, char *const *labels, const size_t *lens, uint32_t n);
/* Sets (or replaces) a metadata value; both strings are copied. */
int mn__model_meta_set(mn_model *m, const char *key, const char *value);

/* Serialises labels and meta into the 'LABL' and 'META' sections and parses them back, so every
 * micronlp-format model stores them the same way:
 *   LABL: u32 count, then count x { u32 len, bytes } (no padding)
 *   META: u32 count, then count x { u32 klen, key, u32 vlen, value } */
struct mn_file_writer;
struct mn_file;
int mn__model_write_common(const mn_model *m, struct mn_file_writer *w);
int mn__model_read_common(mn_model *m, const struct mn_file *f, mn_err *err);

/* Per-thread working memory: a few grow-only buffers. Models take what they need with
 * mn__scratch_reserve, so after warm-up no prediction allocates. */
enum { MN_SCRATCH_SLOTS = 8 };
struct mn_scratch {
    void *buf[MN_SCRATCH_SLOTS];
    size_t cap[MN_SCRATCH_SLOTS];
};

/* Returns slot i grown to at least size bytes (contents are not preserved), or NULL. */
void *mn__scratch_reserve(mn_scratch *s, int slot, size_t size_bytes);

/* Top-k selection shared by models: keeps the k best (label, prob) with prob >= threshold,
 * sorted best first. Returns the count. */
size_t mn__topk(const float *probs, uint32_t n, int k, float threshold, mn_prediction *out);

/* Model type openers, tried by mn_model_open(). */
/* Each takes ownership of f, also when it fails. */
int mn__classifier_load(const struct mn_file *f, mn_model **out, mn_err *err);
int mn__tagger_load(const struct mn_file *f, mn_model **out, mn_err *err);
int mn__langid_load(const struct mn_file *f, mn_model **out, mn_err *err);
int mn__keywords_load(const struct mn_file *f, mn_model **out, mn_err *err);
int mn__fasttext_sniff(const void *head, size_t len);
int mn__fasttext_open(const char *path, mn_model **out, mn_err *err);

#endif
