/* SPDX-License-Identifier: MIT
 *
 * The text classifier at prediction time: turning a text into feature rows, scoring them, and
 * the file sections that hold a trained classifier. Training is in classifier_train.c,
 * shrinking in quantize.c. See classifier.h for the row layout.
 *
 * A loaded classifier points straight into the mapped file: the matrices are used in place, so
 * loading costs a checksum pass plus building the small word index, and every process that maps
 * the same file shares one copy of the weights through the page cache.
 */
#include "classifier.h"

#include <math.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "micronlp model files store floats little-endian; big-endian hosts need a byte-swapping loader"
#endif

#define TAG_PARAMS MN_TAG('C', 'L', 'S', 'H')
#define TAG_VOCAB MN_TAG('V', 'O', 'C', 'B')
#define TAG_BUCKETS MN_TAG('B', 'K', 'T', 'S')
#define TAG_EMB MN_TAG('E', 'M', 'B', 'D')
#define TAG_EMBQ MN_TAG('E', 'M', 'B', 'Q')
#define TAG_EMBS MN_TAG('E', 'M', 'B', 'S')
#define TAG_OUT MN_TAG('O', 'U', 'T', 'M')
#define TAG_OUTQ MN_TAG('O', 'U', 'T', 'Q')
#define TAG_OUTS MN_TAG('O', 'U', 'T', 'S')
#define TAG_TREE MN_TAG('T', 'R', 'E', 'E')

/* Scratch slots used by the classifier. */
enum { SLOT_ROWS = 0, SLOT_HASHES = 1, SLOT_NORM = 2, SLOT_FLOATS = 3 };

/* ---- lookup tables ---------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint64_t n)
{
    uint64_t p = 16;
    while (p < n)
        p <<= 1;
    return (uint32_t)p;
}

int mn__clf_index(mn_classifier *c)
{
    mn_free(c->word_slots);
    mn_free(c->bucket_slots);
    c->word_slots = c->bucket_slots = NULL;
    uint32_t n = pow2_at_least((uint64_t)c->p.nwords * 2);
    c->word_slots = mn_calloc(n, sizeof *c->word_slots);
    if (!c->word_slots)
        return MN_ENOMEM;
    c->word_mask = n - 1;
    for (uint32_t i = 0; i < c->p.nwords; i++) {
        uint32_t j = (uint32_t)c->vocab[i] & c->word_mask;
        while (c->word_slots[j])
            j = (j + 1) & c->word_mask;
        c->word_slots[j] = i + 1;
    }
    if (c->p.pruned) {
        n = pow2_at_least((uint64_t)c->p.nbuckets * 2);
        c->bucket_slots = mn_calloc(n, sizeof *c->bucket_slots);
        if (!c->bucket_slots)
            return MN_ENOMEM;
        c->bucket_mask = n - 1;
        for (uint32_t i = 0; i < c->p.nbuckets; i++) {
            uint32_t j = (c->buckets[i] * 2654435761u) & c->bucket_mask;
            while (c->bucket_slots[j])
                j = (j + 1) & c->bucket_mask;
            c->bucket_slots[j] = i + 1;
        }
    }
    return 0;
}

/* Row of a word hash, or 0 if the word is not in the vocabulary. */
static inline uint32_t word_row(const mn_classifier *c, uint64_t h)
{
    for (uint32_t j = (uint32_t)h & c->word_mask; c->word_slots[j]; j = (j + 1) & c->word_mask)
        if (c->vocab[c->word_slots[j] - 1] == h)
            return c->word_slots[j];
    return 0;
}

/* Row of a bucket id, or 0 if a pruned model dropped it. */
static inline uint32_t bucket_row(const mn_classifier *c, uint32_t b)
{
    uint32_t base = 1 + c->p.nwords;
    if (!c->p.pruned)
        return base + b;
    for (uint32_t j = (b * 2654435761u) & c->bucket_mask; c->bucket_slots[j];
         j = (j + 1) & c->bucket_mask)
        if (c->buckets[c->bucket_slots[j] - 1] == b)
            return base + c->bucket_slots[j] - 1;
    return 0;
}

/* ---- features ----------------------------------------------------------------------------- */

/* How many lookups ahead to prefetch: enough to cover a memory round trip, measured on the
 * SpamAssassin benchmark (docs/BENCHMARKS.md). */
#define LOOKAHEAD 8

/* Replaces the bucket ids rows[from..to) by their rows, dropping buckets a pruned model does
 * not have. Returns the new end. */
static size_t map_buckets(const mn_classifier *c, uint32_t *rows, size_t from, size_t to)
{
    size_t w = from;
    if (!c->p.pruned) {
        for (size_t i = from; i < to; i++)
            rows[i] += 1 + c->p.nwords;
        return to;
    }
    for (size_t i = from; i < to; i++) {
        if (i + LOOKAHEAD < to)
            MN_PREFETCH(
                &c->bucket_slots[(rows[i + LOOKAHEAD] * 2654435761u) & c->bucket_mask]);
        uint32_t r = bucket_row(c, rows[i]);
        if (r)
            rows[w++] = r;
    }
    return w;
}

/* Normalises one token into the scratch; returns the bytes to hash (maybe the token itself). */
static int norm_token(unsigned flags, mn_scratch *s, const char *tok, size_t len,
                      const char **out, size_t *out_len)
{
    if (!flags) {
        *out = tok;
        *out_len = len;
        return 0;
    }
    size_t cap = len * 4 + 16;
    for (int tries = 0; tries < 2; tries++) {
        char *buf = mn__scratch_reserve(s, SLOT_NORM, cap);
        if (!buf)
            return MN_ENOMEM;
        size_t need = 0;
        int rc = mn_normalize(tok, len, flags, buf, cap, &need);
        if (rc == 0) {
            *out = buf;
            *out_len = need;
            return 0;
        }
        if (rc != MN_ETOOBIG)
            return rc;
        cap = need + 16;
    }
    return MN_ENOMEM;
}

/* The feature tokens of a text: the Unicode tokenizer's tokens less punctuation and symbols,
 * unless token_flags asks otherwise. pos is the tokenizer or, in whitespace mode, a byte
 * offset kept in t->pos. */
static inline int next_token(unsigned token_flags, mn_tokenizer *t, mn_token *tok)
{
    if (token_flags & MN_TOKENS_WHITESPACE) {
        size_t i = t->pos, len = t->len;
        const char *s = t->text;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
                           s[i] == '\v' || s[i] == '\f'))
            i++;
        if (i >= len)
            return 0;
        size_t j = i;
        while (j < len && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' ||
                             s[j] == '\v' || s[j] == '\f'))
            j++;
        *tok = (mn_token){.off = (uint32_t)i, .len = (uint32_t)(j - i), .kind = MN_TOK_WORD};
        t->pos = j;
        return 1;
    }
    while (mn_tokenizer_next(t, tok))
        if ((token_flags & MN_TOKENS_KEEP_PUNCT) ||
            (tok->kind != MN_TOK_PUNCT && tok->kind != MN_TOK_SYMBOL))
            return 1;
    return 0;
}

int mn__clf_word_hashes(unsigned norm_flags, unsigned token_flags, mn_scratch *s, const char *text, size_t len,
                        const uint64_t **hashes, size_t *n)
{
    uint64_t *h = mn__scratch_reserve(s, SLOT_HASHES, (len + 1) * sizeof *h);
    if (!h)
        return MN_ENOMEM;
    mn_tokenizer t;
    mn_token tok;
    size_t count = 0;
    mn_tokenizer_init(&t, text, len);
    while (next_token(token_flags, &t, &tok)) {
        const char *w;
        size_t wl;
        int rc = norm_token(norm_flags, s, text + tok.off, tok.len, &w, &wl);
        if (rc)
            return rc;
        h[count++] = mn_hash64(w, wl);
    }
    *hashes = h;
    *n = count;
    return 0;
}

int mn__clf_features(const mn_classifier *c, mn_scratch *s, const char *text, size_t len,
                     const uint32_t **rows_out, size_t *n_out, size_t *ntokens)
{
    const mn_clf_params *p = &c->p;
    /* Upper bound: bias + one row per token + (word_ngrams - 1) per token + char n-grams, of
     * which a token of L code points has at most (maxn - minn + 1) * (L + 2). Tokens are at
     * least one byte, so bytes bound both tokens and code points. */
    size_t per_byte = p->word_ngrams > 1 ? p->word_ngrams : 1;
    size_t cap = 2 + len * per_byte;
    if (p->maxn > 0 && p->bucket > 0)
        cap += (size_t)(p->maxn - p->minn + 1) * 3 * (len + 1);
    uint32_t *rows = mn__scratch_reserve(s, SLOT_ROWS, cap * sizeof *rows);
    uint64_t *h = mn__scratch_reserve(s, SLOT_HASHES, (len + 1) * sizeof *h);
    if (!rows || !h)
        return MN_ENOMEM;
    size_t n = 0, nh = 0;
    rows[n++] = 0; /* bias */
    int buckets = p->bucket > 0;
    mn_tokenizer t;
    mn_token tok;
    mn_tokenizer_init(&t, text, len);
    /* First the ids: word hashes, and the bucket ids of character and word n-grams. The table
     * lookups come after, in batches, so the next lookups can be prefetched while one waits. */
    while (next_token(p->token_flags, &t, &tok)) {
        const char *w;
        size_t wl;
        int rc = norm_token(p->norm_flags, s, text + tok.off, tok.len, &w, &wl);
        if (rc)
            return rc;
        h[nh++] = mn_hash64(w, wl);
        if (p->maxn > 0 && buckets) {
            size_t got = mn_char_ngrams(w, wl, (int)p->minn, (int)p->maxn, p->bucket, rows + n,
                                        cap - n);
            n += got < cap - n ? got : cap - n; /* the bound above makes this exact */
        }
    }
    if (p->word_ngrams > 1 && buckets && nh > 1) {
        size_t got = mn_word_ngrams(h, nh, (int)p->word_ngrams, p->bucket, rows + n, cap - n);
        n += got < cap - n ? got : cap - n;
    }
    n = map_buckets(c, rows, 1, n);
    for (size_t i = 0; i < nh; i++) {
        if (i + LOOKAHEAD < nh)
            MN_PREFETCH(&c->word_slots[(uint32_t)h[i + LOOKAHEAD] & c->word_mask]);
        uint32_t r = word_row(c, h[i]);
        if (r)
            rows[n++] = r;
    }
    *rows_out = rows;
    *n_out = n;
    if (ntokens)
        *ntokens = nh;
    return 0;
}

/* ---- scoring ------------------------------------------------------------------------------ */

static inline void prefetch_row(const mn_clf_matrix *m, uint32_t r)
{
    if (m->f) {
        const float *row = m->f + (size_t)r * m->dim;
        for (uint32_t j = 0; j < m->dim; j += 16)
            MN_PREFETCH(row + j);
    } else {
        const int8_t *row = m->q + (size_t)r * m->dim;
        for (uint32_t j = 0; j < m->dim; j += 64)
            MN_PREFETCH(row + j);
        MN_PREFETCH(m->scale + r);
    }
}

static inline void add_row(const mn_clf_matrix *m, uint32_t r, float *v)
{
    uint32_t dim = m->dim;
    if (m->f) {
        const float *row = m->f + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++)
            v[j] += row[j];
    } else {
        const int8_t *row = m->q + (size_t)r * dim;
        float sc = m->scale[r];
        for (uint32_t j = 0; j < dim; j++)
            v[j] += sc * (float)row[j];
    }
}

static inline float dot_row(const mn_clf_matrix *m, uint32_t r, const float *v)
{
    uint32_t dim = m->dim;
    float sum = 0.0f;
    if (m->f) {
        const float *row = m->f + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++)
            sum += row[j] * v[j];
        return sum;
    }
    const int8_t *row = m->q + (size_t)r * dim;
    for (uint32_t j = 0; j < dim; j++)
        sum += (float)row[j] * v[j];
    return sum * m->scale[r];
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* Scores of every output row against the hidden vector. */
static void all_scores(const mn_clf_matrix *out, uint32_t nl, const float *hidden, float *scores)
{
    for (uint32_t i = 0; i < nl; i++)
        scores[i] = dot_row(out, i, hidden);
}

/* Fills the probability of every leaf below node by walking the tree. */
static void hs_walk(const mn_classifier *c, const float *hidden, uint32_t node, float p,
                    float *probs)
{
    uint32_t nl = c->tree.nlabels;
    if (node < nl) {
        probs[node] = p;
        return;
    }
    float f = sigmoid(dot_row(&c->out, node - nl, hidden));
    hs_walk(c, hidden, (uint32_t)c->tree.left[node - nl], p * (1.0f - f), probs);
    hs_walk(c, hidden, (uint32_t)c->tree.right[node - nl], p * f, probs);
}

/* The text's vector: the mean of its rows. */
static void hidden_of(const mn_classifier *c, const uint32_t *rows, size_t n, float *hidden)
{
    uint32_t dim = c->p.dim;
    memset(hidden, 0, dim * sizeof *hidden);
    for (size_t i = 0; i < n; i++) {
        if (i + LOOKAHEAD < n)
            prefetch_row(&c->in, rows[i + LOOKAHEAD]);
        add_row(&c->in, rows[i], hidden);
    }
    float inv = 1.0f / (float)n;
    for (uint32_t j = 0; j < dim; j++)
        hidden[j] *= inv;
}

void mn__clf_probs(const mn_classifier *c, const uint32_t *rows, size_t n, float *hidden,
                   float *probs)
{
    hidden_of(c, rows, n, hidden);
    uint32_t nl = c->base.nlabels;
    switch (c->p.loss) {
    case MN_LOSS_SOFTMAX: {
        float max = -INFINITY, z = 0.0f;
        for (uint32_t i = 0; i < nl; i++) {
            probs[i] = dot_row(&c->out, i, hidden);
            if (probs[i] > max)
                max = probs[i];
        }
        for (uint32_t i = 0; i < nl; i++) {
            probs[i] = expf(probs[i] - max);
            z += probs[i];
        }
        for (uint32_t i = 0; i < nl; i++)
            probs[i] /= z;
        break;
    }
    case MN_LOSS_OVA:
        for (uint32_t i = 0; i < nl; i++)
            probs[i] = sigmoid(dot_row(&c->out, i, hidden));
        break;
    case MN_LOSS_HS:
        if (nl == 1)
            probs[0] = 1.0f;
        else
            hs_walk(c, hidden, 2 * nl - 2, 1.0f, probs);
        break;
    }
}

static int clf_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                       float threshold, mn_prediction *out, size_t *n_out)
{
    const mn_classifier *c = (const mn_classifier *)m;
    const uint32_t *rows;
    size_t n;
    int rc = mn__clf_features(c, s, text, len, &rows, &n, NULL);
    if (rc)
        return rc;
    float *f = mn__scratch_reserve(s, SLOT_FLOATS,
                                   ((size_t)c->p.dim + c->base.nlabels) * sizeof(float));
    if (!f)
        return MN_ENOMEM;
    float *probs = f + c->p.dim;
    uint32_t nl = c->base.nlabels;
    if (c->p.loss == MN_LOSS_OVA) {
        /* The sigmoid is monotonic: rank the raw scores against the threshold's logit and
         * take the sigmoid of the k winners only (with many labels, the exps were most of
         * the time). */
        hidden_of(c, rows, n, f);
        all_scores(&c->out, nl, f, probs);
        float cut = threshold <= 0.0f   ? -INFINITY
                    : threshold >= 1.0f ? INFINITY
                                        : logf(threshold / (1.0f - threshold));
        size_t got = mn__topk(probs, nl, k, cut, out);
        for (size_t i = 0; i < got; i++)
            out[i].prob = sigmoid(out[i].prob);
        /* Rounding can put a winner just under the threshold in probability terms. */
        while (got > 0 && out[got - 1].prob < threshold)
            got--;
        *n_out = got;
        return 0;
    }
    mn__clf_probs(c, rows, n, f, probs);
    *n_out = mn__topk(probs, nl, k, threshold, out);
    return 0;
}

/* ---- save / load ------------------------------------------------------------------------- */

static int add_matrix(mn_file_writer *w, const mn_clf_matrix *m, uint32_t tf, uint32_t tq,
                      uint32_t ts)
{
    size_t cells = (size_t)m->rows * m->dim;
    if (m->f)
        return mn_file_writer_add(w, tf, m->f, cells * sizeof(float));
    int rc = mn_file_writer_add(w, tq, m->q, cells);
    return rc ? rc : mn_file_writer_add(w, ts, m->scale, (size_t)m->rows * sizeof(float));
}

int mn__clf_write_sections(const mn_classifier *c, mn_file_writer *w)
{
    int rc = mn_file_writer_add(w, TAG_PARAMS, &c->p, sizeof c->p);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_VOCAB, c->vocab, (size_t)c->p.nwords * 8);
    if (!rc && c->p.pruned)
        rc = mn_file_writer_add(w, TAG_BUCKETS, c->buckets, (size_t)c->p.nbuckets * 4);
    if (!rc)
        rc = add_matrix(w, &c->in, TAG_EMB, TAG_EMBQ, TAG_EMBS);
    if (!rc)
        rc = add_matrix(w, &c->out, TAG_OUT, TAG_OUTQ, TAG_OUTS);
    if (!rc && c->p.loss == MN_LOSS_HS && c->base.nlabels > 1) {
        size_t ni = c->base.nlabels - 1;
        rc = mn_file_writer_begin(w, TAG_TREE);
        if (!rc)
            rc = mn_file_writer_append(w, c->tree.left, ni * 4);
        if (!rc)
            rc = mn_file_writer_append(w, c->tree.right, ni * 4);
    }
    return rc;
}

static int clf_save(const mn_model *m, const char *path, mn_err *err)
{
    const mn_classifier *c = (const mn_classifier *)m;
    mn_file_writer *w = NULL;
    int rc = mn_file_writer_new(MN_MODEL_CLASSIFIER, &w);
    if (rc)
        return mn_err_set(err, rc, "%s: out of memory", path);
    rc = mn__model_write_common(m, w);
    if (!rc)
        rc = mn__clf_write_sections(c, w);
    return mn_file_writer_finish(w, rc, path, err);
}

static void clf_destroy(mn_model *m)
{
    mn_classifier *c = (mn_classifier *)m;
    mn_free(c->word_slots);
    mn_free(c->bucket_slots);
    for (size_t i = 0; i < sizeof c->owned / sizeof c->owned[0]; i++)
        mn_free(c->owned[i]);
    mn_file_close(c->file);
    mn__model_deinit(m);
    mn_free(c);
}

static const mn_model_ops classifier_ops = {
    .name = "classifier",
    .predict = clf_predict,
    .save = clf_save,
    .destroy = clf_destroy,
};

mn_classifier *mn__clf_new(void)
{
    mn_classifier *c = mn_calloc(1, sizeof *c);
    if (c)
        mn__model_init(&c->base, &classifier_ops, MN_MODEL_CLASSIFIER);
    return c;
}

/* Finds a section that must hold exactly `want` bytes. */
static int need_section(const mn_file *f, uint32_t tag, size_t want, const void **data,
                        mn_err *err)
{
    size_t size;
    char name[5] = {(char)tag, (char)(tag >> 8), (char)(tag >> 16), (char)(tag >> 24), 0};
    if (mn_file_section(f, tag, data, &size) != 0)
        return mn_err_set(err, MN_ECORRUPT, "section '%s' is missing", name);
    if (size != want)
        return mn_err_set(err, MN_ECORRUPT, "section '%s' holds %zu bytes, expected %zu", name,
                          size, want);
    return 0;
}

static int load_matrix(const mn_file *f, int quantized, uint32_t rows, uint32_t dim,
                       uint32_t tf, uint32_t tq, uint32_t ts, mn_clf_matrix *m, mn_err *err)
{
    const void *d;
    size_t cells = (size_t)rows * dim;
    m->rows = rows;
    m->dim = dim;
    if (!quantized) {
        int rc = need_section(f, tf, cells * sizeof(float), &d, err);
        m->f = d;
        return rc;
    }
    int rc = need_section(f, tq, cells, &d, err);
    m->q = d;
    if (!rc)
        rc = need_section(f, ts, (size_t)rows * sizeof(float), &d, err);
    m->scale = d;
    return rc;
}

int mn__classifier_load(const mn_file *f, mn_model **out, mn_err *err)
{
    mn_classifier *c = mn__clf_new();
    if (!c) {
        mn_file_close((mn_file *)f);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    c->file = (mn_file *)f;
    int rc = mn__clf_read(c, f, err);
    if (rc) {
        clf_destroy(&c->base);
        return rc;
    }
    *out = &c->base;
    return 0;
}

int mn__clf_read(mn_classifier *c, const mn_file *f, mn_err *err)
{
    const void *d;
    int rc;
    if ((rc = need_section(f, TAG_PARAMS, sizeof c->p, &d, err)))
        goto fail;
    memcpy(&c->p, d, sizeof c->p);
    if ((rc = mn__model_read_common(&c->base, f, err)))
        goto fail;
    const mn_clf_params *p = &c->p;
    uint32_t nl = c->base.nlabels;
    if (p->dim < 1 || p->dim > 4096 || p->loss > MN_LOSS_HS || nl < 1 ||
        p->nout != (p->loss == MN_LOSS_HS ? nl - 1 : nl) || p->word_ngrams > 16 ||
        p->maxn > 64 || (p->maxn && (p->minn < 1 || p->minn > p->maxn)) ||
        (!p->pruned && p->nbuckets != p->bucket) || p->nwords > (1u << 30) ||
        p->nbuckets > (1u << 30) || p->qinput > 1 || p->qoutput > 1 || p->pruned > 1) {
        rc = mn_err_set(err, MN_ECORRUPT, "classifier parameters are inconsistent");
        goto fail;
    }
    if ((rc = need_section(f, TAG_VOCAB, (size_t)p->nwords * 8, &d, err)))
        goto fail;
    c->vocab = d;
    if (p->pruned) {
        if ((rc = need_section(f, TAG_BUCKETS, (size_t)p->nbuckets * 4, &d, err)))
            goto fail;
        c->buckets = d;
    }
    uint32_t rows = 1 + p->nwords + p->nbuckets;
    if ((rc = load_matrix(f, (int)p->qinput, rows, p->dim, TAG_EMB, TAG_EMBQ, TAG_EMBS, &c->in,
                          err)) ||
        (rc = load_matrix(f, (int)p->qoutput, p->nout, p->dim, TAG_OUT, TAG_OUTQ, TAG_OUTS,
                          &c->out, err)))
        goto fail;
    if (p->loss == MN_LOSS_HS && nl > 1) {
        size_t ni = nl - 1;
        if ((rc = need_section(f, TAG_TREE, ni * 8, &d, err)))
            goto fail;
        c->tree.left = d;
        c->tree.right = c->tree.left + ni;
        c->tree.nlabels = nl;
        /* Children must be earlier nodes: that bounds every walk, whatever the file says. */
        for (size_t i = 0; i < ni; i++) {
            if (c->tree.left[i] < 0 || c->tree.right[i] < 0 ||
                (size_t)c->tree.left[i] >= nl + i || (size_t)c->tree.right[i] >= nl + i) {
                rc = mn_err_set(err, MN_ECORRUPT, "hierarchical softmax tree is malformed");
                goto fail;
            }
        }
    }
    if ((rc = mn__clf_index(c))) {
        mn_err_set(err, rc, "out of memory indexing the vocabulary");
        goto fail;
    }
    c->base.size_bytes = mn_file_size(f);
    return 0;
fail:
    return rc;
}
