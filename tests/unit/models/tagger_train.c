/* SPDX-License-Identifier: MIT
 *
 * Differential tests for the tagger's training paths (src/models/tagger_train.c, included to
 * reach its switches): dense rows (few tags) against the sparse rows every tag set can use,
 * and features cached across epochs against features recomputed for each sentence, must all
 * give the same model on the tiny fixed corpora, up to the order of the entries in a row.
 */
#include "models/tagger_train.c"

#include "tagger_corpus.h"
#include "test.h"


/* Trains with the given switches: 3 epochs, the validation file picking one. */
static mn_tagger *train_with(const mn_tagged_corpus *tr, const mn_tagged_corpus *va,
                             size_t cache_bytes, uint32_t dense_tags, size_t max_size)
{
    cache_max_bytes = cache_bytes;
    dense_max_tags = dense_tags;
    mn_tagger_config cfg;
    mn_tagger_config_init(&cfg);
    cfg.epoch = 3;
    cfg.bucket = 1 << 12; /* small: buckets collide, rows fill up */
    cfg.max_size_bytes = max_size;
    cfg.valid = va;
    mn_model *m = NULL;
    mn_err err;
    int rc = mn_tagger_train(&cfg, tr, &m, &err);
    cache_max_bytes = CACHE_MAX_BYTES;
    dense_max_tags = DENSE_TAGS;
    if (rc) fprintf(stderr, "train: %s\n", err.msg);
    return rc ? NULL : (mn_tagger *)m;
}

static int by_tag(const void *a, const void *b)
{
    const mn_tg_entry *x = a, *y = b;
    return (x->tag & 0x7fff) - (y->tag & 0x7fff);
}

/* Same parameters, slots, dictionary and metadata; each row's entries the same as a set. */
static int same_model(const mn_tagger *a, const mn_tagger *b)
{
    if (memcmp(&a->p, &b->p, sizeof a->p) != 0) return 0;
    if (memcmp(a->slots, b->slots, ((size_t)a->p.slot_mask + 1) * 2 * sizeof *a->slots) != 0)
        return 0;
    if (a->p.dict_slots && memcmp(a->dict, b->dict, (size_t)a->p.dict_slots * sizeof *a->dict) != 0)
        return 0;
    const char *va = mn_model_meta(&a->base, "valid_accuracy");
    const char *vb = mn_model_meta(&b->base, "valid_accuracy");
    const char *ea = mn_model_meta(&a->base, "epoch"), *eb = mn_model_meta(&b->base, "epoch");
    if (!va || !vb || strcmp(va, vb) || !ea || !eb || strcmp(ea, eb)) return 0;
    size_t n = a->p.nentries;
    mn_tg_entry *x = mn_malloc((n ? n : 1) * sizeof *x), *y = mn_malloc((n ? n : 1) * sizeof *y);
    int same = x && y;
    if (same) {
        memcpy(x, a->entries, n * sizeof *x);
        memcpy(y, b->entries, n * sizeof *y);
    }
    for (size_t first = 0, e = 0; same && e < n; e++) {
        if (!(x[e].tag & 0x8000)) continue;
        qsort(x + first, e + 1 - first, sizeof *x, by_tag);
        qsort(y + first, e + 1 - first, sizeof *y, by_tag);
        for (size_t i = first; i <= e; i++)
            if ((x[i].tag & 0x7fff) != (y[i].tag & 0x7fff) || x[i].w != y[i].w) same = 0;
        first = e + 1;
    }
    mn_free(x);
    mn_free(y);
    return same;
}

TEST(dense_and_sparse_rows_give_the_same_model)
{
    mn_tagged_corpus *tr = load("ner.train.txt"), *va = load("ner.test.txt");
    ASSERT(tr && va);
    ASSERT(tr->nlabels <= DENSE_TAGS);
    mn_tagger *dense = train_with(tr, va, CACHE_MAX_BYTES, DENSE_TAGS, 4500000);
    mn_tagger *sparse = train_with(tr, va, CACHE_MAX_BYTES, 0, 4500000);
    ASSERT(dense && sparse);
    ASSERT(dense->p.nentries > 0);
    ASSERT(same_model(dense, sparse));
    /* and when pruning to a budget that holds about half the weights */
    size_t budget = dense->base.size_bytes - dense->p.nentries * sizeof(mn_tg_entry) / 2;
    mn_tagger *dense_small = train_with(tr, va, CACHE_MAX_BYTES, DENSE_TAGS, budget);
    mn_tagger *sparse_small = train_with(tr, va, CACHE_MAX_BYTES, 0, budget);
    ASSERT(dense_small && sparse_small);
    ASSERT(dense_small->p.nentries < dense->p.nentries);
    ASSERT(same_model(dense_small, sparse_small));
    mn__tagger_free(dense);
    mn__tagger_free(sparse);
    mn__tagger_free(dense_small);
    mn__tagger_free(sparse_small);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(va);
}

TEST(cached_and_recomputed_features_give_the_same_model)
{
    const char *sets[][2] = {{"ner.train.txt", "ner.test.txt"}, {"pos.train.txt", "pos.test.txt"}};
    for (size_t i = 0; i < 2; i++) {
        mn_tagged_corpus *tr = load(sets[i][0]), *va = load(sets[i][1]);
        ASSERT(tr && va);
        mn_tagger *cached = train_with(tr, va, CACHE_MAX_BYTES, DENSE_TAGS, 4500000);
        mn_tagger *recomputed = train_with(tr, va, 0, DENSE_TAGS, 4500000);
        ASSERT(cached && recomputed);
        ASSERT(memcmp(cached->entries, recomputed->entries,
                      cached->p.nentries * sizeof *cached->entries) == 0);
        ASSERT(same_model(cached, recomputed));
        mn__tagger_free(cached);
        mn__tagger_free(recomputed);
        mn_tagged_corpus_free(tr);
        mn_tagged_corpus_free(va);
    }
}

TEST_MAIN(TEST_ENTRY(dense_and_sparse_rows_give_the_same_model)
              TEST_ENTRY(cached_and_recomputed_features_give_the_same_model))
