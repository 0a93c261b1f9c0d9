/* SPDX-License-Identifier: MIT
 *
 * Training the sequence tagger: an averaged structured perceptron (Collins 2002) with greedy
 * left-to-right decoding, as NLTK's and spaCy v1's taggers. Each epoch visits the sentences
 * in a new seeded order; for each token the current weights pick a tag given the tags already
 * picked, and when it is wrong, every feature of the token moves one step towards the gold
 * tag and away from the guess. The model keeps the average of the weights over all steps
 * (Daume's trick: a second accumulator u += step * delta, average = w - u / steps), which
 * generalises much better than the last weights.
 *
 * While training, each hashed feature bucket owns a small growable row of (tag, w, u)
 * entries in one pool, so memory follows the updates actually made rather than buckets x
 * tags (Brown's 472 tags would need gigabytes as a dense table); with at most 16 tags
 * (NER's 9) a touched bucket owns a dense row of all tags instead. After each epoch the
 * validation file is tagged with the averaged weights as they stand; when it scores best so
 * far they are copied aside (a snapshot), and at the end the best snapshot is quantised to
 * int16 and pruned, smallest weights first, until the file fits max_size_bytes. The
 * validation score stored in the model is that of the model as it ships.
 *
 * Where the time goes (NER: 210k tokens, 9 tags, 8 epochs): each epoch scores the 91k tokens
 * that the tag dictionary does not settle against 27 rows scattered over tables larger than
 * the caches. So the static features of those tokens are computed once and kept (they never
 * change), rows are fetched ahead, no model is built until the end, and the large tables ask
 * for huge pages (core/big_alloc.h).
 */
#include "core/big_alloc.h"
#include "core/clock.h"
#include "micronlp/models.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "tagger.h"

/* Entries are split hot and cold: scoring reads only (w, tag); u lives in a parallel array
 * that only updates touch (measured: 25% faster training on Brown than one 12-byte entry). */
typedef struct tw_entry {
    float w;
    uint32_t tag;
} tw_entry;

typedef struct tw_row {
    uint32_t off;
    uint16_t n, cap;
} tw_row;

/* With few tags (NER's 9), each touched bucket instead owns one dense row of DENSE_TAGS
 * weights, a 64-byte line: scoring adds whole rows without looking at tags or lengths, and an
 * update never searches or moves a row. Buckets without a row point at row 0, kept zero. */
enum { DENSE_TAGS = 16 };

typedef struct trainer {
    uint32_t ntags, mask;
    mn_tg_dict *dict;
    uint32_t dict_slots;
    uint64_t *touched; /* one bit per bucket: it has a row */
    size_t nrows;      /* buckets with a row */
    double steps;
    float *score; /* max(ntags, DENSE_TAGS) */
    int dense;
    /* sparse rows (more than DENSE_TAGS tags) */
    tw_row *rows;
    tw_entry *pool;
    float *upool;    /* u of pool[i] */
    size_t nentries; /* live entries (the pool also holds the dead copies of moved rows);
                      * dense: a bound, tags of rows that became non-zero */
    size_t pool_len, pool_cap;
    size_t pool_hint; /* first pool capacity */
    /* dense rows */
    uint32_t *drow;    /* per bucket: its row, 0 = none */
    float *dw, *du;    /* rows x DENSE_TAGS: w and u */
    size_t dlen, dcap; /* rows in use (row 0 included), allocated */
} trainer;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline unsigned ctz64(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

/* The row table, the weights, the feature cache and the word counts are touched all over, so
 * every 4 KB page of them faults in: 12,700 faults were a sixth of NER training in a virtual
 * machine. They ask for huge pages (core/big_alloc.h). */
void mn_tagger_config_init(mn_tagger_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->task = "tagger";
    cfg->epoch = 8;
    cfg->seed = 1;
    cfg->bucket = 1u << 20;
    cfg->max_size_bytes = 4500000;
    cfg->tagdict_min_count = 20;
    cfg->tagdict_ratio = 0.97;
}

/* ---- tag dictionary ------------------------------------------------------------------------ */

typedef struct count_slot {
    uint64_t word;
    uint32_t tag;   /* UINT32_MAX in the totals table */
    uint32_t count; /* 0 = empty */
} count_slot;

/* (word, tag) and (word, total) counts, at most 3/4 full. Sized for 3/8 of the tokens at first
 * (NER has 83k for 210k tokens; Brown 104k for 929k), and grows beyond. */
typedef struct counts {
    count_slot *t;
    uint32_t mask, used;
} counts;

static count_slot *count_find(count_slot *t, uint32_t mask, uint64_t word, uint32_t tag)
{
    uint64_t h = mn_hash_combine(word, tag);
    for (uint32_t j = (uint32_t)h & mask;; j = (j + 1) & mask)
        if (!t[j].count || (t[j].word == word && t[j].tag == tag)) return &t[j];
}

/* Adds one to (word, tag); MN_ENOMEM when the table cannot grow. */
static int count_add(counts *c, uint64_t word, uint32_t tag)
{
    if ((uint64_t)(c->used + 1) * 4 > (uint64_t)(c->mask + 1) * 3) {
        uint32_t nm = c->mask * 2 + 1;
        if (nm > (1u << 30)) return MN_ENOMEM;
        count_slot *nt = mn__big_alloc((size_t)nm + 1, sizeof *nt, 1);
        if (!nt) return MN_ENOMEM;
        for (uint32_t j = 0; j <= c->mask; j++)
            if (c->t[j].count) *count_find(nt, nm, c->t[j].word, c->t[j].tag) = c->t[j];
        mn__big_free(c->t);
        c->t = nt;
        c->mask = nm;
    }
    count_slot *s = count_find(c->t, c->mask, word, tag);
    if (!s->count) {
        *s = (count_slot){word, tag, 0};
        c->used++;
    }
    s->count++;
    return 0;
}

static int qualifies(const mn_tagger_config *cfg, const counts *c, const count_slot *s)
{
    if (!s->count || s->tag == UINT32_MAX) return 0;
    uint32_t total = count_find(c->t, c->mask, s->word, UINT32_MAX)->count;
    return total >= cfg->tagdict_min_count && s->count >= cfg->tagdict_ratio * total;
}

/* Builds the dictionary of frequent unambiguous words; *slots 0 when none qualify. */
static int build_dict(const mn_tagger_config *cfg, const mn_tagged_corpus *c, mn_tg_dict **out,
                      uint32_t *slots_out)
{
    *out = NULL;
    *slots_out = 0;
    if (!cfg->tagdict_min_count) return 0;
    counts ct = {.mask = 4095};
    while (ct.mask < c->ntok / 2 && ct.mask < (1u << 28))
        ct.mask = ct.mask * 2 + 1;
    int rc = MN_ENOMEM;
    mn_tg_dict *d = NULL;
    if (!(ct.t = mn__big_alloc((size_t)ct.mask + 1, sizeof *ct.t, 1))) goto fail;
    for (size_t i = 0; i < c->ntok; i++) {
        uint64_t w = mn_hash64(c->text + c->tok[i].off, c->tok[i].len);
        if ((rc = count_add(&ct, w, c->tok[i].tag)) || (rc = count_add(&ct, w, UINT32_MAX)))
            goto fail;
    }
    uint32_t nd = 0;
    for (uint32_t j = 0; j <= ct.mask; j++)
        nd += (uint32_t)qualifies(cfg, &ct, &ct.t[j]);
    if (!nd) {
        mn__big_free(ct.t);
        return 0;
    }
    uint32_t slots = 16;
    while (slots < nd * 2 + 1)
        slots <<= 1;
    rc = MN_ENOMEM;
    if (!(d = mn_calloc(slots, sizeof *d))) goto fail;
    for (uint32_t j = 0; j <= ct.mask; j++) {
        if (!qualifies(cfg, &ct, &ct.t[j])) continue;
        uint32_t k = (uint32_t)(ct.t[j].word >> 32) & (slots - 1);
        while (d[k].used)
            k = (k + 1) & (slots - 1);
        d[k] = (mn_tg_dict){ct.t[j].word, ct.t[j].tag, 1};
    }
    mn__big_free(ct.t);
    *out = d;
    *slots_out = slots;
    return 0;
fail:
    mn__big_free(ct.t);
    mn_free(d);
    return rc;
}

/* ---- static features ------------------------------------------------------------------------ */

/* The static features of a training sentence, as the epoch loop reads them: per token, its
 * dictionary tag (UINT32_MAX when it must be scored); per scored token, in order, its
 * MN_TAGGER_NSTATIC buckets and the hash of its lower-cased form (for the dynamic features).
 * Dictionary tokens carry no features: they are more than half of the tokens of Brown and NER. */
typedef struct sent_feats {
    const uint32_t *known;
    const uint32_t *feats;
    const uint64_t *lower;
    size_t nscored;
} sent_feats;

/* Where sent_feats come from. Features never change during training, so they are computed
 * once for the whole corpus when that fits in CACHE_MAX_BYTES (NER: 10 MB; Brown: 38 MB) and
 * kept; a larger corpus has them recomputed for each sentence in each epoch instead. */
enum { CACHE_MAX_BYTES = 512u << 20 };

/* Which paths training takes. Only tests/unit/models/tagger_train.c, which includes this file,
 * changes them, to check on small data that every path gives the same model. */
static size_t cache_max_bytes = CACHE_MAX_BYTES;
static uint32_t dense_max_tags = DENSE_TAGS;

typedef struct feat_source {
    const mn_tagged_corpus *c;
    const trainer *tr;
    /* per-sentence scratch */
    const char **words;
    size_t *lens;
    char *buf;
    size_t buf_bytes;
    void *info;
    uint32_t *feats; /* maxlen x NSTATIC */
    uint64_t *lower; /* maxlen */
    uint32_t *known; /* maxlen */
    /* the cache: NULL when the corpus is too large */
    void *c_block;     /* holds the three arrays below */
    uint32_t *c_known; /* per token */
    uint32_t *c_feats; /* per scored token x NSTATIC */
    uint64_t *c_lower; /* per scored token */
    size_t *c_first;   /* per sentence: its first scored token */
} feat_source;

/* Computes sentence s's features into the scratch; returns the number of scored tokens. */
static size_t extract(feat_source *fs, size_t s)
{
    const mn_tagged_corpus *c = fs->c;
    const trainer *tr = fs->tr;
    size_t first = c->sent[s], n = c->sent[s + 1] - first;
    for (size_t i = 0; i < n; i++) {
        fs->words[i] = c->text + c->tok[first + i].off;
        fs->lens[i] = c->tok[first + i].len;
    }
    mn__tagger_static(fs->words, fs->lens, n, tr->mask, fs->buf, fs->buf_bytes, fs->feats,
                      fs->info);
    /* Pack the scored tokens' rows to the front (row k <= i: moving down never overwrites a
     * row still to be read). */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t = mn__tg_dict_find(tr->dict, tr->dict_slots, mn__tagger_info_word(fs->info, i));
        fs->known[i] = t >= 0 ? (uint32_t)t : UINT32_MAX;
        if (t >= 0) continue;
        if (k != i)
            memcpy(fs->feats + k * MN_TAGGER_NSTATIC, fs->feats + i * MN_TAGGER_NSTATIC,
                   sizeof(uint32_t) * MN_TAGGER_NSTATIC);
        fs->lower[k++] = mn__tagger_info_lower(fs->info, i);
    }
    return k;
}

static void feat_source_deinit(feat_source *fs)
{
    mn_free(fs->words);
    mn_free(fs->lens);
    mn_free(fs->buf);
    mn_free(fs->info);
    mn_free(fs->feats);
    mn_free(fs->lower);
    mn_free(fs->known);
    mn__big_free(fs->c_block);
    mn_free(fs->c_first);
}

/* Allocates the scratch and, when the corpus is small enough, fills the cache. The trainer's
 * mask and dictionary must be set. */
static int feat_source_init(feat_source *fs, const mn_tagged_corpus *c, const trainer *tr)
{
    *fs = (feat_source){.c = c, .tr = tr};
    size_t maxlen = 1, maxbytes = 0;
    for (size_t s = 0; s < c->nsent; s++) {
        size_t n = c->sent[s + 1] - c->sent[s], bytes = 0;
        for (size_t i = c->sent[s]; i < c->sent[s + 1]; i++)
            bytes += 4 * c->tok[i].len + 16;
        if (n > maxlen) maxlen = n;
        if (bytes > maxbytes) maxbytes = bytes;
    }
    fs->buf_bytes = maxbytes + 64;
    fs->words = mn_malloc(maxlen * sizeof *fs->words);
    fs->lens = mn_malloc(maxlen * sizeof *fs->lens);
    fs->buf = mn_malloc(fs->buf_bytes);
    fs->info = mn_malloc(mn__tagger_info_bytes(maxlen));
    fs->feats = mn_malloc(maxlen * MN_TAGGER_NSTATIC * sizeof *fs->feats);
    fs->lower = mn_malloc(maxlen * sizeof *fs->lower);
    fs->known = mn_malloc(maxlen * sizeof *fs->known);
    if (!fs->words || !fs->lens || !fs->buf || !fs->info || !fs->feats || !fs->lower || !fs->known)
        return MN_ENOMEM;
    /* One block, bounded by every token being scored; pages past the scored tokens are never
     * touched. Layout: known (ntok), lower (ntok), feats (ntok x NSTATIC), the small arrays
     * first so that the touched pages are few and together. */
    size_t per_tok = MN_TAGGER_NSTATIC * sizeof(uint32_t) + sizeof(uint64_t) + sizeof(uint32_t);
    if (c->ntok > cache_max_bytes / per_tok) return 0;
    fs->c_block = mn__big_alloc(c->ntok + 1, per_tok, 0);
    fs->c_first = mn_malloc((c->nsent + 1) * sizeof *fs->c_first);
    if (!fs->c_block || !fs->c_first) return MN_ENOMEM;
    fs->c_lower = fs->c_block;
    fs->c_known = (uint32_t *)(void *)(fs->c_lower + c->ntok + 1);
    fs->c_feats = fs->c_known + c->ntok + 1 + (c->ntok + 1) % 2; /* 8-byte aligned */
    size_t k = 0;
    for (size_t s = 0; s < c->nsent; s++) {
        size_t ns = extract(fs, s), first = c->sent[s], n = c->sent[s + 1] - first;
        fs->c_first[s] = k;
        memcpy(fs->c_known + first, fs->known, n * sizeof *fs->known);
        memcpy(fs->c_feats + k * MN_TAGGER_NSTATIC, fs->feats,
               ns * MN_TAGGER_NSTATIC * sizeof *fs->feats);
        memcpy(fs->c_lower + k, fs->lower, ns * sizeof *fs->lower);
        k += ns;
    }
    fs->c_first[c->nsent] = k;
    return 0;
}

static sent_feats sentence(feat_source *fs, size_t s)
{
    if (fs->c_first) {
        size_t k = fs->c_first[s];
        return (sent_feats){fs->c_known + fs->c->sent[s], fs->c_feats + k * MN_TAGGER_NSTATIC,
                            fs->c_lower + k, fs->c_first[s + 1] - k};
    }
    size_t ns = extract(fs, s);
    return (sent_feats){fs->known, fs->feats, fs->lower, ns};
}

/* ---- weights ------------------------------------------------------------------------------- */

static int update_sparse(trainer *tr, uint32_t b, uint32_t tag, float d)
{
    tw_row *r = &tr->rows[b];
    tw_entry *e = tr->pool + r->off;
    for (uint32_t i = 0; i < r->n; i++) {
        if (e[i].tag == tag) {
            e[i].w += d;
            tr->upool[r->off + i] += (float)tr->steps * d;
            return 0;
        }
    }
    if (r->n == r->cap) {
        /* Move the row to the end of the pool with twice the room; the old copy is dead. */
        uint32_t nc = r->cap ? (uint32_t)r->cap * 2 : 2;
        if (nc > tr->ntags) nc = tr->ntags;
        if (tr->pool_len + nc > tr->pool_cap) {
            /* The first size is a guess that avoids regrowing (each copy faults in fresh
             * pages): sparse rows on NER ended with 3.2 entries per training token. */
            size_t cap = tr->pool_cap ? tr->pool_cap * 2 : tr->pool_hint;
            while (cap < tr->pool_len + nc)
                cap *= 2;
            if (cap > UINT32_MAX) return MN_ENOMEM;
            tw_entry *np = mn__big_alloc(cap, sizeof *np, 0);
            float *nu = mn__big_alloc(cap, sizeof *nu, 0);
            if (!np || !nu) {
                mn__big_free(np);
                mn__big_free(nu);
                return MN_ENOMEM;
            }
            if (tr->pool_len) {
                memcpy(np, tr->pool, tr->pool_len * sizeof *np);
                memcpy(nu, tr->upool, tr->pool_len * sizeof *nu);
            }
            mn__big_free(tr->pool);
            mn__big_free(tr->upool);
            tr->pool = np;
            tr->upool = nu;
            tr->pool_cap = cap;
        }
        memcpy(tr->pool + tr->pool_len, tr->pool + r->off, r->n * sizeof(tw_entry));
        memcpy(tr->upool + tr->pool_len, tr->upool + r->off, r->n * sizeof(float));
        r->off = (uint32_t)tr->pool_len;
        r->cap = (uint16_t)nc;
        tr->pool_len += nc;
    }
    if (!r->n) {
        tr->touched[b >> 6] |= 1ull << (b & 63);
        tr->nrows++;
    }
    tr->nentries++;
    tr->upool[r->off + r->n] = (float)tr->steps * d;
    tr->pool[r->off + r->n++] = (tw_entry){d, tag};
    return 0;
}

/* Gives bucket b a dense row (zero), growing the rows when full. */
static int new_dense_row(trainer *tr, uint32_t b)
{
    if (tr->dlen == tr->dcap) {
        size_t cap = tr->dcap * 2;
        float *nw = mn__big_alloc(cap, DENSE_TAGS * sizeof *nw, 0);
        float *nu = mn__big_alloc(cap, DENSE_TAGS * sizeof *nu, 0);
        if (!nw || !nu || cap > UINT32_MAX) {
            mn__big_free(nw);
            mn__big_free(nu);
            return MN_ENOMEM;
        }
        memcpy(nw, tr->dw, tr->dlen * DENSE_TAGS * sizeof *nw);
        memcpy(nu, tr->du, tr->dlen * DENSE_TAGS * sizeof *nu);
        mn__big_free(tr->dw);
        mn__big_free(tr->du);
        tr->dw = nw;
        tr->du = nu;
        tr->dcap = cap;
    }
    memset(tr->dw + tr->dlen * DENSE_TAGS, 0, DENSE_TAGS * sizeof *tr->dw);
    memset(tr->du + tr->dlen * DENSE_TAGS, 0, DENSE_TAGS * sizeof *tr->du);
    tr->drow[b] = (uint32_t)tr->dlen++;
    tr->touched[b >> 6] |= 1ull << (b & 63);
    tr->nrows++;
    return 0;
}

/* Sets score[] to the sum of the rows of a token's features. */
static inline void score_token(const trainer *tr, const uint32_t *all, float *score)
{
    if (tr->dense) {
        float acc[DENSE_TAGS] = {0}; /* a local the compiler keeps in registers */
        for (int f = 0; f < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; f++) {
            const float *w = tr->dw + (size_t)tr->drow[all[f]] * DENSE_TAGS;
            for (int j = 0; j < DENSE_TAGS; j++)
                acc[j] += w[j];
        }
        memcpy(score, acc, sizeof acc);
        return;
    }
    for (uint32_t j = 0; j < tr->ntags; j++)
        score[j] = 0.0f;
    for (int f = 0; f < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; f++) {
        const tw_row *r = &tr->rows[all[f]];
        const tw_entry *e = tr->pool + r->off;
        for (uint32_t i = 0; i < r->n; i++)
            score[e[i].tag] += e[i].w;
    }
}

/* The perceptron step for a wrong guess: every feature moves one step towards gold and away
 * from guess; u records the step for the average. */
static int update_token(trainer *tr, const uint32_t *all, uint32_t gold, uint32_t guess)
{
    float step = (float)tr->steps;
    for (int f = 0; f < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; f++) {
        uint32_t b = all[f];
        if (!tr->dense) {
            if (update_sparse(tr, b, gold, 1.0f) || update_sparse(tr, b, guess, -1.0f))
                return MN_ENOMEM;
            continue;
        }
        if (!tr->drow[b] && new_dense_row(tr, b)) return MN_ENOMEM;
        size_t r = (size_t)tr->drow[b] * DENSE_TAGS;
        tr->nentries += (tr->du[r + gold] == 0.0f) + (tr->du[r + guess] == 0.0f);
        tr->dw[r + gold] += 1.0f;
        tr->du[r + gold] += step;
        tr->dw[r + guess] -= 1.0f;
        tr->du[r + guess] -= step;
    }
    return 0;
}

/* ---- turning the averaged weights into a model ------------------------------------------ */

static uint32_t slots_for(uint64_t rows)
{
    uint64_t s = 16;
    while (s * 3 < rows * 4 + 4) /* load <= 0.75, and at least one empty slot */
        s <<= 1;
    return (uint32_t)s;
}

/* The averaged weights at the end of the best epoch so far, as compact arrays of the rows
 * holding entries in bucket order: what build_model turns into the model once training ends. */
typedef struct snapshot {
    size_t nrows, nentries;
    void *rows_block;    /* bucket and len */
    void *entries_block; /* avg and tag */
    uint32_t *bucket;    /* per row: bucket */
    uint16_t *len;       /* per row: entries */
    float *avg;          /* per entry: averaged weight */
    uint16_t *tag;       /* per entry: tag */
    size_t rows_cap, entries_cap;
} snapshot;

static void snapshot_deinit(snapshot *sn)
{
    mn__big_free(sn->rows_block);
    mn__big_free(sn->entries_block);
}

/* Copies the averaged weights of the rows holding entries, in bucket order, into sn: the
 * rows are scattered over the pool, so this is the one pass that reads memory out of order
 * (fetching a few rows ahead); build_model then reads sn in order. */
/* Makes *block hold at least need items of item_bytes, with room to grow by half (rows and
 * entries are only added from epoch to epoch); the old contents are not kept. */
static int reserve_block(void **block, size_t *cap, size_t need, size_t item_bytes)
{
    if (need <= *cap)
        return 0;
    size_t c = need + need / 2;
    mn__big_free(*block);
    *cap = 0;
    if (!(*block = mn__big_alloc(c, item_bytes, 0)))
        return MN_ENOMEM;
    *cap = c;
    return 0;
}

static int gather(const trainer *tr, snapshot *sn)
{
    if (reserve_block(&sn->rows_block, &sn->rows_cap, tr->nrows,
                      sizeof(uint32_t) + sizeof(uint16_t)) ||
        reserve_block(&sn->entries_block, &sn->entries_cap, tr->nentries,
                      sizeof(float) + sizeof(uint16_t)))
        return MN_ENOMEM;
    sn->bucket = sn->rows_block;
    sn->len = (uint16_t *)(void *)(sn->bucket + sn->rows_cap);
    sn->avg = sn->entries_block;
    sn->tag = (uint16_t *)(void *)(sn->avg + sn->entries_cap);
    size_t k = 0;
    for (size_t w = 0; w <= tr->mask >> 6; w++)
        for (uint64_t bits = tr->touched[w]; bits; bits &= bits - 1)
            sn->bucket[k++] = (uint32_t)(w * 64 + ctz64(bits));
    assert(k == tr->nrows);
    float steps = (float)tr->steps;
    size_t e = 0;
    if (tr->dense) {
        /* A tag whose w and u are both zero has no entry (as if never updated). update_token
         * counts each update of a tag whose u was zero, so nentries bounds the entries. */
        for (size_t j = 0; j < k; j++) {
            if (j + 16 < k) MN_PREFETCH(&tr->drow[sn->bucket[j + 16]]);
            if (j + 8 < k) {
                size_t r = (size_t)tr->drow[sn->bucket[j + 8]] * DENSE_TAGS;
                MN_PREFETCH(tr->dw + r);
                MN_PREFETCH(tr->du + r);
            }
            const float *w = tr->dw + (size_t)tr->drow[sn->bucket[j]] * DENSE_TAGS;
            const float *u = tr->du + (size_t)tr->drow[sn->bucket[j]] * DENSE_TAGS;
            size_t first = e;
            for (uint32_t t = 0; t < tr->ntags; t++) {
                if (w[t] == 0.0f && u[t] == 0.0f) continue;
                sn->tag[e] = (uint16_t)t;
                sn->avg[e++] = w[t] - u[t] / steps;
            }
            sn->len[j] = (uint16_t)(e - first);
        }
        assert(e <= tr->nentries);
        sn->nrows = k;
        sn->nentries = e;
        return 0;
    }
    for (size_t j = 0; j < k; j++) {
        if (j + 16 < k) MN_PREFETCH(&tr->rows[sn->bucket[j + 16]]);
        if (j + 8 < k) {
            uint32_t off = tr->rows[sn->bucket[j + 8]].off;
            MN_PREFETCH(tr->pool + off);
            MN_PREFETCH(tr->upool + off);
        }
        const tw_row *r = &tr->rows[sn->bucket[j]];
        sn->len[j] = r->n;
        for (uint32_t i = 0; i < r->n; i++, e++) {
            sn->tag[e] = (uint16_t)tr->pool[r->off + i].tag;
            sn->avg[e] = tr->pool[r->off + i].w - tr->upool[r->off + i] / steps;
        }
    }
    assert(e == tr->nentries);
    sn->nrows = k;
    sn->nentries = e;
    return 0;
}

static int build_model(const snapshot *sn, const trainer *tr, const mn_tagger_config *cfg,
                       const mn_tagged_corpus *train, mn_tagger **out)
{
    size_t nrows = sn->nrows, nent = sn->nentries;
    float maxabs = 0.0f;
    for (size_t e = 0; e < nent; e++) {
        float a = fabsf(sn->avg[e]);
        if (a > maxabs) maxabs = a;
    }
    if (!(maxabs > 0.0f)) maxabs = 1.0f;
    float scale = maxabs / 32767.0f;
    /* Pruning: histograms of the quantised magnitudes of all entries and of each row's
     * largest, so the smallest threshold that fits the budget is found in one pass. */
    uint32_t *hist_e = mn_calloc(32768 * 2, sizeof *hist_e);
    if (!hist_e) return MN_ENOMEM;
    uint32_t *hist_r = hist_e + 32768;
    for (size_t j = 0, e = 0; j < nrows; j++) {
        long rmax = 0;
        for (uint32_t i = 0; i < sn->len[j]; i++, e++) {
            long q = lroundf(fabsf(sn->avg[e]) / scale);
            if (q > 32767) q = 32767;
            hist_e[q]++;
            if (q > rmax) rmax = q;
        }
        hist_r[rmax]++;
    }
    /* header, section table, labels, metadata (a generous bound), the dictionary */
    size_t overhead = 16384 + (size_t)tr->dict_slots * sizeof(mn_tg_dict);
    for (uint32_t i = 0; i < train->nlabels; i++)
        overhead += strlen(train->labels[i]) + 4;
    /* Keep |q| >= qth: qth = 1 drops only what rounds to zero. */
    long qth = 1;
    uint64_t nr = 0, ne = 0;
    for (long q = 32767; q >= 1; q--) {
        uint64_t r2 = nr + hist_r[q], e2 = ne + hist_e[q];
        if (cfg->max_size_bytes &&
            (uint64_t)slots_for(r2) * 8 + e2 * 4 + overhead > cfg->max_size_bytes) {
            qth = q + 1;
            break;
        }
        nr = r2;
        ne = e2;
    }
    mn_free(hist_e);
    if (ne > UINT32_MAX / 2) return MN_ENOMEM;
    mn_tagger *t = mn__tagger_new();
    if (!t) return MN_ENOMEM;
    uint32_t ns = slots_for(nr);
    t->owned_slots = mn_calloc((size_t)ns * 2, sizeof *t->owned_slots);
    t->owned_entries = mn_malloc((ne ? ne : 1) * sizeof *t->owned_entries);
    int rc = MN_ENOMEM;
    if (!t->owned_slots || !t->owned_entries) goto fail;
    t->p = (mn_tg_params){.feature_version = MN_TAGGER_FEATURES,
                          .ntags = tr->ntags,
                          .bucket_mask = tr->mask,
                          .nrows = (uint32_t)nr,
                          .slot_mask = ns - 1,
                          .nentries = (uint32_t)ne,
                          .scale = scale};
    uint32_t e = 0;
    for (size_t j = 0, x = 0; j < nrows; j++) {
        if (j + 8 < nrows) /* the slot that row j + 8 probes first */
            MN_PREFETCH(&t->owned_slots[2 * (((sn->bucket[j + 8] + 1) * 2654435761u) & (ns - 1))]);
        uint32_t first = e;
        for (uint32_t i = 0; i < sn->len[j]; i++, x++) {
            long q = lroundf(sn->avg[x] / scale);
            if (q > 32767) q = 32767;
            if (q < -32767) q = -32767;
            if (labs(q) < qth) continue;
            t->owned_entries[e++] = (mn_tg_entry){sn->tag[x], (int16_t)q};
        }
        if (e == first) continue;
        t->owned_entries[e - 1].tag |= 0x8000;
        uint32_t key = sn->bucket[j] + 1;
        uint32_t s = (key * 2654435761u) & (ns - 1);
        while (t->owned_slots[2 * s])
            s = (s + 1) & (ns - 1);
        t->owned_slots[2 * s] = key;
        t->owned_slots[2 * s + 1] = first;
    }
    t->slots = t->owned_slots;
    t->entries = t->owned_entries;
    if (tr->dict_slots) {
        t->owned_dict = mn_malloc((size_t)tr->dict_slots * sizeof *t->owned_dict);
        if (!t->owned_dict) {
            rc = MN_ENOMEM;
            goto fail;
        }
        memcpy(t->owned_dict, tr->dict, (size_t)tr->dict_slots * sizeof *t->owned_dict);
        t->dict = t->owned_dict;
        t->p.dict_slots = tr->dict_slots;
    }
    if ((rc = mn__model_set_labels(&t->base, train->labels, NULL, train->nlabels)) ||
        (rc = mn__tagger_index_labels(t)))
        goto fail;
    t->base.size_bytes = (size_t)ns * 8 + (size_t)ne * 4 + overhead;
    *out = t;
    return 0;
fail:
    mn__tagger_free(t);
    return rc;
}
/* ---- fetching rows ahead, scoring the validation file ------------------------------------ */

/* The rows are scattered over tables larger than the caches: while scored token k of
 * sentence features sf is scored, fetch the row heads (sparse) or row numbers (dense) of
 * scored token k + 2 and the rows themselves of token k + 1. Macros, not functions: GCC takes
 * a void function that only reads and prefetches for a pure one and drops its calls (GCC 12). */
#define PREFETCH_AHEAD(tr, sf, k)                                                                  \
    do {                                                                                           \
        if ((k) + 2 < (sf).nscored) {                                                              \
            const uint32_t *f2_ = (sf).feats + ((k) + 2) * MN_TAGGER_NSTATIC;                      \
            for (int f_ = 0; f_ < MN_TAGGER_NSTATIC; f_++)                                         \
                MN_PREFETCH((tr)->dense ? (const void *)&(tr)->drow[f2_[f_]]                       \
                                        : (const void *)&(tr)->rows[f2_[f_]]);                     \
        }                                                                                          \
        if ((k) + 1 < (sf).nscored) {                                                              \
            const uint32_t *f1_ = (sf).feats + ((k) + 1) * MN_TAGGER_NSTATIC;                      \
            for (int f_ = 0; f_ < MN_TAGGER_NSTATIC; f_++)                                         \
                MN_PREFETCH((tr)->dense ? (const void *)((tr)->dw +                                \
                                                         (size_t)(tr)->drow[f1_[f_]] * DENSE_TAGS) \
                                        : (const void *)((tr)->pool + (tr)->rows[f1_[f_]].off));   \
        }                                                                                          \
    } while (0)

/* The next sentence's features, from the cache (sentences come in a shuffled order). */
#define PREFETCH_SENTENCE(fs, s)                                                                   \
    do {                                                                                           \
        if ((fs)->c_first) {                                                                       \
            const uint32_t *f_ = (fs)->c_feats + (fs)->c_first[s] * MN_TAGGER_NSTATIC;             \
            MN_PREFETCH((fs)->c_known + (fs)->c->sent[s]);                                         \
            MN_PREFETCH(f_);                                                                       \
            MN_PREFETCH(f_ + 16);                                                                  \
            MN_PREFETCH(f_ + 32);                                                                  \
        }                                                                                          \
    } while (0)

#define PREFETCH_FIRST(tr, sf)                                                                     \
    do {                                                                                           \
        for (size_t k_ = 0; k_ < (sf).nscored && k_ < 2; k_++)                                     \
            for (int f_ = 0; f_ < MN_TAGGER_NSTATIC; f_++)                                         \
                MN_PREFETCH(                                                                       \
                    (tr)->dense                                                                    \
                        ? (const void *)&(tr)->drow[(sf).feats[k_ * MN_TAGGER_NSTATIC + f_]]       \
                        : (const void *)&(tr)->rows[(sf).feats[k_ * MN_TAGGER_NSTATIC + f_]]);     \
    } while (0)

typedef struct valid_ctx {
    const trainer *tr;
    feat_source *fs; /* of the validation corpus */
} valid_ctx;

/* Greedy decoding of validation sentence s with the averaged weights as they stand: what a
 * model built now would hold before rounding to int16 and pruning. Scoring them straight
 * from the training tables saves building (and throwing away) a model after every epoch. */
static int tag_valid(void *ctx, size_t s, const char *const *words, const size_t *lens, size_t n,
                     uint32_t *tags)
{
    const valid_ctx *v = ctx;
    const trainer *tr = v->tr;
    (void)words, (void)lens;
    sent_feats sf = sentence(v->fs, s);
    float steps = (float)tr->steps;
    PREFETCH_FIRST(tr, sf);
    uint32_t p1 = tr->ntags, p2 = tr->ntags;
    for (size_t i = 0, k = 0; i < n; i++) {
        uint32_t best = sf.known[i];
        if (best == UINT32_MAX) {
            PREFETCH_AHEAD(tr, sf, k);
            uint32_t all[MN_TAGGER_NSTATIC + MN_TAGGER_NDYN];
            memcpy(all, sf.feats + k * MN_TAGGER_NSTATIC, sizeof(uint32_t) * MN_TAGGER_NSTATIC);
            mn__tagger_dynamic(p1, p2, sf.lower[k], tr->mask, all + MN_TAGGER_NSTATIC);
            k++;
            if (tr->dense) {
                /* sum(w) - sum(u) / steps: the averaged score, one division per tag */
                float sw[DENSE_TAGS] = {0}, su[DENSE_TAGS] = {0};
                for (int f = 0; f < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; f++) {
                    size_t r = (size_t)tr->drow[all[f]] * DENSE_TAGS;
                    for (int j = 0; j < DENSE_TAGS; j++) {
                        sw[j] += tr->dw[r + j];
                        su[j] += tr->du[r + j];
                    }
                }
                for (int j = 0; j < DENSE_TAGS; j++)
                    tr->score[j] = sw[j] - su[j] / steps;
            } else {
                for (uint32_t j = 0; j < tr->ntags; j++)
                    tr->score[j] = 0.0f;
                for (int f = 0; f < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; f++) {
                    const tw_row *r = &tr->rows[all[f]];
                    for (uint32_t e = r->off; e < r->off + r->n; e++)
                        tr->score[tr->pool[e].tag] += tr->pool[e].w - tr->upool[e] / steps;
                }
            }
            best = 0;
            for (uint32_t j = 1; j < tr->ntags; j++)
                if (tr->score[j] > tr->score[best]) best = j;
        }
        tags[i] = best;
        p2 = p1;
        p1 = best;
    }
    return 0;
}

static int set_meta_num(mn_model *m, const char *key, double v, const char *fmt)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    return mn__model_meta_set(m, key, buf);
}

static int add_meta(mn_tagger *t, const mn_tagger_config *cfg, const mn_tagged_corpus *train,
                    int epochs, double secs, double valid_acc)
{
    mn_model *m = &t->base;
    char hash[32], created[32];
    /* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the timestamp and leaves the duration
     * out, so rebuilding a shipped model with the same data and seed gives the same bytes. */
    const char *pinned = getenv("SOURCE_DATE_EPOCH");
    time_t now = time(NULL);
    if (pinned && *pinned) {
        char *end;
        long long v = strtoll(pinned, &end, 10);
        if (*end == '\0' && v >= 0) now = (time_t)v;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)train->hash);
    int rc = mn__model_meta_set(m, "task", cfg->task ? cfg->task : "tagger");
    if (!rc) rc = mn__model_meta_set(m, "created", created);
    if (!rc) rc = mn__model_meta_set(m, "algorithm", "averaged perceptron, greedy decoding");
    if (!rc) rc = mn__model_meta_set(m, "train_hash", hash);
    if (!rc) rc = set_meta_num(m, "train_sentences", (double)train->nsent, "%.0f");
    if (!rc) rc = set_meta_num(m, "train_tokens", (double)train->ntok, "%.0f");
    if (!rc) rc = set_meta_num(m, "epoch", epochs, "%.0f");
    if (!rc) rc = set_meta_num(m, "seed", (double)cfg->seed, "%.0f");
    if (!rc) rc = set_meta_num(m, "bucket", (double)t->p.bucket_mask + 1, "%.0f");
    if (!rc) rc = set_meta_num(m, "weights", t->p.nentries, "%.0f");
    if (!rc) rc = set_meta_num(m, "tagdict_min_count", cfg->tagdict_min_count, "%.0f");
    if (!rc && !(pinned && *pinned)) rc = set_meta_num(m, "train_seconds", secs, "%.2f");
    if (!rc && valid_acc >= 0) rc = set_meta_num(m, "valid_accuracy", valid_acc, "%.4f");
    return rc;
}

int mn_tagger_train(const mn_tagger_config *cfg, const mn_tagged_corpus *train, mn_model **out,
                    mn_err *err)
{
    if (!cfg || !train || !out)
        return mn_err_set(err, MN_EINVAL, "training needs a configuration and data");
    if (cfg->epoch < 1 || cfg->bucket < 16 || (cfg->bucket & (cfg->bucket - 1)))
        return mn_err_set(err, MN_EINVAL, "epoch must be >= 1 and bucket a power of two >= 16");
    if (train->ntok == 0) return mn_err_set(err, MN_EEMPTY, "no training tokens");
    if (train->nlabels > 0x7fff)
        return mn_err_set(err, MN_EINVAL, "%u tags: at most 32767 are supported", train->nlabels);
    double t0 = mn__now_sec();
    trainer tr = {.ntags = train->nlabels,
                  .mask = cfg->bucket - 1,
                  .steps = 1.0,
                  .dense = train->nlabels <= dense_max_tags,
                  .pool_hint = train->ntok < (1 << 14) ? 1 << 16 : train->ntok * 4};
    feat_source fs = {0}, vfs = {0};
    snapshot best = {0};
    mn_tagger *model = NULL;
    size_t *order = mn_malloc(train->nsent * sizeof *order);
    tr.score = mn_malloc((tr.ntags > DENSE_TAGS ? tr.ntags : DENSE_TAGS) * sizeof *tr.score);
    tr.touched = mn_calloc(((size_t)cfg->bucket + 63) / 64, sizeof *tr.touched);
    if (tr.dense) {
        /* First guess at the rows: NER touches 139k buckets with 210k tokens. */
        tr.dcap = (train->ntok < cfg->bucket ? train->ntok : cfg->bucket) + 1;
        tr.dlen = 1; /* row 0: zero, for buckets without a row */
        tr.drow = mn__big_alloc((size_t)cfg->bucket, sizeof *tr.drow, 1);
        tr.dw = mn__big_alloc(tr.dcap, DENSE_TAGS * sizeof *tr.dw, 0);
        tr.du = mn__big_alloc(tr.dcap, DENSE_TAGS * sizeof *tr.du, 0);
        if (tr.dw) memset(tr.dw, 0, DENSE_TAGS * sizeof *tr.dw);
        if (tr.du) memset(tr.du, 0, DENSE_TAGS * sizeof *tr.du);
    } else {
        tr.rows = mn__big_alloc((size_t)cfg->bucket, sizeof *tr.rows, 1);
    }
    double best_acc = -1.0;
    int best_epoch = 0;
    int rc = MN_ENOMEM;
    if (!order || !tr.score || !tr.touched ||
        (tr.dense ? !tr.drow || !tr.dw || !tr.du : !tr.rows) ||
        build_dict(cfg, train, &tr.dict, &tr.dict_slots) || feat_source_init(&fs, train, &tr) ||
        (cfg->valid && feat_source_init(&vfs, cfg->valid, &tr))) {
        rc = mn_err_set(err, MN_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t s = 0; s < train->nsent; s++)
        order[s] = s;
    uint64_t rng = cfg->seed;
    double last_report = t0;
    size_t total = train->ntok * (size_t)cfg->epoch, done_tokens = 0;
    for (int ep = 0; ep < cfg->epoch; ep++) {
        for (size_t s = train->nsent; s > 1; s--) {
            size_t j = (size_t)(splitmix(&rng) % s);
            size_t x = order[s - 1];
            order[s - 1] = order[j];
            order[j] = x;
        }
        uint64_t wrong = 0, seen = 0;
        int cancelled = 0;
        for (size_t si = 0; si < train->nsent; si++) {
            if (cfg->cancel && *cfg->cancel) {
                cancelled = 1;
                break;
            }
            size_t s = order[si], first = train->sent[s], n = train->sent[s + 1] - first;
            sent_feats sf = sentence(&fs, s);
            PREFETCH_FIRST(&tr, sf);
            if (si + 1 < train->nsent) PREFETCH_SENTENCE(&fs, order[si + 1]);
            uint32_t p1 = tr.ntags, p2 = tr.ntags;
            for (size_t i = 0, k = 0; i < n; i++) {
                if (sf.known[i] != UINT32_MAX) {
                    p2 = p1;
                    p1 = sf.known[i];
                    continue;
                }
                PREFETCH_AHEAD(&tr, sf, k);
                uint32_t all[MN_TAGGER_NSTATIC + MN_TAGGER_NDYN];
                memcpy(all, sf.feats + k * MN_TAGGER_NSTATIC, sizeof(uint32_t) * MN_TAGGER_NSTATIC);
                mn__tagger_dynamic(p1, p2, sf.lower[k], tr.mask, all + MN_TAGGER_NSTATIC);
                k++;
                score_token(&tr, all, tr.score);
                uint32_t guess = 0;
                for (uint32_t j = 1; j < tr.ntags; j++)
                    if (tr.score[j] > tr.score[guess]) guess = j;
                uint32_t gold = train->tok[first + i].tag;
                if (guess != gold) {
                    wrong++;
                    if (update_token(&tr, all, gold, guess)) {
                        rc = mn_err_set(err, MN_ENOMEM, "out of memory");
                        goto done;
                    }
                }
                tr.steps += 1.0;
                p2 = p1;
                p1 = guess;
            }
            seen += n;
            done_tokens += n;
            if (cfg->on_progress && (si & 255) == 0) {
                double t = mn__now_sec();
                if (t - last_report >= 0.1) {
                    last_report = t;
                    double el = t - t0, prog = (double)done_tokens / (double)total;
                    mn_train_progress p = {.progress = prog,
                                           .words_per_sec_thread = done_tokens / (el > 0 ? el : 1),
                                           .lr = 1.0,
                                           .loss = seen ? (double)wrong / (double)seen : 0.0,
                                           .eta_sec = prog > 0 ? el / prog - el : 0.0,
                                           .elapsed_sec = el};
                    cfg->on_progress(&p, cfg->progress_ctx);
                }
            }
        }
        if (cfg->valid || ep + 1 == cfg->epoch || cancelled) {
            double acc = -1.0;
            if (cfg->valid) {
                valid_ctx vc = {&tr, &vfs};
                mn_tag_eval_result r;
                if ((rc = mn__tagger_eval_ex((const char *const *)train->labels, train->nlabels,
                                             tag_valid, &vc, cfg->valid, &r, err)))
                    goto done;
                acc = r.entities ? r.all.f1 : r.accuracy;
                mn_tag_eval_result_deinit(&r);
            }
            if (!best_epoch || acc > best_acc) {
                if ((rc = gather(&tr, &best))) {
                    mn_err_set(err, rc, "out of memory");
                    goto done;
                }
                best_acc = acc;
                best_epoch = ep + 1;
            }
        }
        if (cancelled) break;
    }
    if ((rc = build_model(&best, &tr, cfg, train, &model))) {
        mn_err_set(err, rc, "out of memory");
        goto done;
    }
    if (cfg->valid) {
        /* The score kept in the model is that of the model as it ships (int16, pruned). */
        mn_tag_eval_result r;
        if ((rc = mn_tagger_eval(&model->base, cfg->valid, &r, err))) goto done;
        best_acc = r.entities ? r.all.f1 : r.accuracy;
        mn_tag_eval_result_deinit(&r);
    }
    if (cfg->on_progress) {
        double el = mn__now_sec() - t0;
        mn_train_progress p = {.progress = 1.0,
                               .words_per_sec_thread = done_tokens / (el > 0 ? el : 1),
                               .lr = 1.0,
                               .elapsed_sec = el};
        cfg->on_progress(&p, cfg->progress_ctx);
    }
    if ((rc = add_meta(model, cfg, train, best_epoch, mn__now_sec() - t0, best_acc))) {
        mn_err_set(err, rc, "out of memory");
        goto done;
    }
    *out = &model->base;
    model = NULL;
    rc = 0;
done:
    mn__tagger_free(model);
    snapshot_deinit(&best);
    feat_source_deinit(&fs);
    feat_source_deinit(&vfs);
    mn_free(order);
    mn_free(tr.score);
    mn_free(tr.touched);
    mn__big_free(tr.rows);
    mn__big_free(tr.pool);
    mn__big_free(tr.upool);
    mn__big_free(tr.drow);
    mn__big_free(tr.dw);
    mn__big_free(tr.du);
    mn_free(tr.dict);
    return rc;
}
