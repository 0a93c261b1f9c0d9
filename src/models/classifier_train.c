/* SPDX-License-Identifier: MIT
 *
 * Training the text classifier: vocabulary, features cached once per example, then SGD over an
 * embedding bag with a linearly decaying learning rate, several threads updating the shared
 * weights without locks (Hogwild), as fastText does. Also the time-budgeted hyperparameter
 * search (autotune).
 *
 * Unlike fastText, each example's feature rows are computed once, before the first epoch, and
 * reused: tokenising, normalising and hashing are paid once instead of once per epoch, and the
 * examples are visited in a fresh seeded order every epoch (fastText reads the file in order).
 *
 * Three options, all off by default, select and weight features without changing the model
 * format or prediction: min_df drops features found in too few texts (they would keep their
 * random initial rows), idf_lr gives rare features a larger learning rate (what TF-IDF weighting
 * does for a linear model: reparametrising row w = a * v and training v is training w with its
 * learning rate times a^2), and keep_rows prunes the trained model to the rows that matter for
 * the training texts, which the quantiser's norm alone cannot tell (it does not know how often a
 * row is used).
 */
#include "core/clock.h"
#include "classifier.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

#define SIGMOID_TABLE 512
#define SIGMOID_MAX 8.0f
#define LOG_TABLE 512

static float sigmoid_table[SIGMOID_TABLE + 1];
static float log_table[LOG_TABLE + 1];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    for (int i = 0; i <= SIGMOID_TABLE; i++) {
        double x = (i * 2.0 * SIGMOID_MAX) / SIGMOID_TABLE - SIGMOID_MAX;
        sigmoid_table[i] = (float)(1.0 / (1.0 + exp(-x)));
    }
    for (int i = 0; i <= LOG_TABLE; i++)
        log_table[i] = (float)log(((double)i + 1e-5) / LOG_TABLE);
}

static inline float fast_sigmoid(float x)
{
    if (!(x >= -SIGMOID_MAX)) /* also NaN: a diverging run must not index out of the table */
        return 0.0f;
    if (x > SIGMOID_MAX)
        return 1.0f;
    return sigmoid_table[(int)((x + SIGMOID_MAX) * SIGMOID_TABLE / SIGMOID_MAX / 2)];
}

static inline float fast_log(float x)
{
    if (!(x >= 0.0f))
        return log_table[0];
    if (x > 1.0f)
        return 0.0f;
    return log_table[(int)(x * LOG_TABLE)];
}

/* splitmix64: small, fast, and good enough for shuffling and initialisation. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline float rng_uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((rng_next(s) >> 40) * (1.0 / 16777216.0));
}

void mn_classifier_config_init(mn_classifier_config *cfg)
{
    *cfg = (mn_classifier_config){
        .task = "",
        .dim = 50,
        .epoch = 5,
        .lr = 0.5,
        .word_ngrams = 2,
        .minn = 0,
        .maxn = 0,
        .bucket = 2000000,
        .min_count = 1,
        .loss = MN_LOSS_SOFTMAX,
        .threads = 1,
        .seed = 1,
        .norm_flags = MN_NORM_NFKC | MN_NORM_CASEFOLD,
        .lr_update_rate = 100,
        .patience = 0,
        .min_df = 1,
        .idf_lr = 0.0,
        .keep_rows = 0,
    };
}

/* ---- vocabulary ------------------------------------------------------------------------- */

typedef struct word_count {
    uint64_t hash;
    uint64_t count;
} word_count;

typedef struct counter {
    word_count *slots;
    size_t cap, used;
} counter;

static int counter_add(counter *c, uint64_t h)
{
    if ((c->used + 1) * 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1 << 14;
        word_count *ns = mn_calloc(ncap, sizeof *ns);
        if (!ns)
            return MN_ENOMEM;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slots[i].count)
                continue;
            size_t j = c->slots[i].hash & (ncap - 1);
            while (ns[j].count)
                j = (j + 1) & (ncap - 1);
            ns[j] = c->slots[i];
        }
        mn_free(c->slots);
        c->slots = ns;
        c->cap = ncap;
    }
    size_t j = h & (c->cap - 1);
    while (c->slots[j].count && c->slots[j].hash != h)
        j = (j + 1) & (c->cap - 1);
    if (!c->slots[j].count) {
        c->slots[j].hash = h;
        c->used++;
    }
    c->slots[j].count++;
    return 0;
}

static int by_count_desc(const void *a, const void *b)
{
    const word_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* ---- Huffman tree for hierarchical softmax ------------------------------------------------ */

typedef struct hs_paths {
    uint32_t *nodes; /* per label: path of output rows, root last */
    uint8_t *codes;
    uint32_t *off, *len;
} hs_paths;

/* Builds the tree from label counts (labels in any order) and each label's path. */
static int build_tree(uint32_t nl, const uint64_t *counts, int32_t *left, int32_t *right,
                      hs_paths *paths)
{
    uint32_t nodes = 2 * nl - 1;
    uint64_t *cnt = mn_calloc(nodes, sizeof *cnt);
    uint32_t *order = mn_calloc(nl, sizeof *order);
    int32_t *parent = mn_calloc(nodes, sizeof *parent);
    uint8_t *bit = mn_calloc(nodes, 1);
    int rc = MN_ENOMEM;
    if (!cnt || !order || !parent || !bit)
        goto done;
    /* Leaves sorted by count descending so the two-pointer merge sees ascending counts from the
     * end, as in the classic word2vec construction. */
    for (uint32_t i = 0; i < nl; i++)
        order[i] = i;
    for (uint32_t i = 1; i < nl; i++) {
        uint32_t v = order[i], j = i;
        while (j > 0 && counts[order[j - 1]] < counts[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    /* Leaf position p (0 = most frequent) holds label order[p]; merge from the rare end. */
    int64_t leaf = (int64_t)nl - 1;
    uint32_t node = nl; /* next internal node id */
    for (uint32_t i = 0; i < nl; i++)
        cnt[i] = counts[i] ? counts[i] : 1;
    uint32_t inode = nl; /* next internal node to consume */
    for (uint32_t k = 0; k < nl - 1; k++) {
        uint32_t pick[2];
        for (int t = 0; t < 2; t++) {
            if (leaf >= 0 && (inode >= node || cnt[order[leaf]] <= cnt[inode]))
                pick[t] = order[leaf--];
            else
                pick[t] = inode++;
        }
        cnt[node] = cnt[pick[0]] + cnt[pick[1]];
        left[node - nl] = (int32_t)pick[0];
        right[node - nl] = (int32_t)pick[1];
        parent[pick[0]] = (int32_t)node;
        parent[pick[1]] = (int32_t)node;
        bit[pick[1]] = 1;
        node++;
    }
    /* Paths: from leaf up to the root. */
    paths->off = mn_calloc(nl, sizeof *paths->off);
    paths->len = mn_calloc(nl, sizeof *paths->len);
    size_t total = 0;
    if (!paths->off || !paths->len)
        goto done;
    for (uint32_t i = 0; i < nl; i++) {
        uint32_t d = 0;
        for (uint32_t n = i; n != nodes - 1; n = (uint32_t)parent[n])
            d++;
        paths->off[i] = (uint32_t)total;
        paths->len[i] = d;
        total += d;
    }
    paths->nodes = mn_calloc(total ? total : 1, sizeof *paths->nodes);
    paths->codes = mn_calloc(total ? total : 1, 1);
    if (!paths->nodes || !paths->codes)
        goto done;
    for (uint32_t i = 0; i < nl; i++) {
        uint32_t d = 0;
        for (uint32_t n = i; n != nodes - 1; n = (uint32_t)parent[n]) {
            paths->nodes[paths->off[i] + d] = (uint32_t)parent[n] - nl;
            paths->codes[paths->off[i] + d] = bit[n];
            d++;
        }
    }
    rc = 0;
done:
    mn_free(cnt);
    mn_free(order);
    mn_free(parent);
    mn_free(bit);
    return rc;
}

static void hs_paths_free(hs_paths *p)
{
    mn_free(p->nodes);
    mn_free(p->codes);
    mn_free(p->off);
    mn_free(p->len);
}

/* ---- training state -------------------------------------------------------------------- */

typedef struct trainer {
    const mn_classifier_config *cfg;
    const mn_dataset *data;
    mn_classifier *c;
    float *in, *out;      /* the weights being trained (also c->in.f / c->out.f) */
    uint32_t *feat;       /* all examples' rows, concatenated */
    size_t *feat_off;     /* per example: start in feat; feat_off[n] = end */
    uint32_t *tokens;     /* per example: tokens (for lr schedule and words/s) */
    size_t nex;
    uint64_t total_tokens; /* per epoch */
    hs_paths hs;
    _Atomic uint64_t processed; /* tokens processed so far, all threads */
    _Atomic int stop;
    _Atomic int diverged; /* a loss became NaN or infinite */
    double started;
    double deadline;      /* absolute monotonic time, 0 = none */
    int epoch;            /* current epoch (0-based) when training epoch by epoch */
    double loss_sum[64];  /* per thread, current reporting window */
    uint64_t loss_n[64];
    float last_loss;
    float *row_lr;        /* per input row: learning-rate factor (idf_lr), or NULL */
} trainer;

typedef struct worker {
    trainer *t;
    int id;
    size_t from, to;      /* example range */
    int epochs;           /* epochs to run in this call */
    uint64_t rng;
    uint32_t *order;
    float *hidden, *grad, *probs;
} worker;

static inline float dot(const float *a, const float *b, uint32_t n)
{
    float s = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline void axpy(float *y, float a, const float *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* Rows of a long text are scattered over a matrix far larger than the caches, so summing them
 * waits on memory; asking for rows a few steps ahead overlaps those waits (measured: see
 * docs/BENCHMARKS.md, training words/s). */
#define PREFETCH_ROWS 6

static inline void prefetch_row(const float *row, uint32_t dim)
{
    for (uint32_t j = 0; j < dim; j += 16)
        MN_PREFETCH(row + j);
}

/* One binary logistic step on output row r; returns the loss. */
static inline float binary_step(trainer *t, uint32_t r, const float *hidden, float *grad,
                                int label, float lr)
{
    uint32_t dim = t->c->p.dim;
    float *row = t->out + (size_t)r * dim;
    float score = fast_sigmoid(dot(row, hidden, dim));
    float alpha = lr * ((float)label - score);
    axpy(grad, alpha, row, dim);
    axpy(row, alpha, hidden, dim);
    return label ? -fast_log(score) : -fast_log(1.0f - score);
}

static float update(worker *w, const uint32_t *rows, size_t n, const uint32_t *labels,
                    size_t nlabels, float lr)
{
    trainer *t = w->t;
    uint32_t dim = t->c->p.dim, nl = t->c->base.nlabels;
    float *hidden = w->hidden, *grad = w->grad;
    memset(hidden, 0, dim * sizeof *hidden);
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_ROWS < n)
            prefetch_row(t->in + (size_t)rows[i + PREFETCH_ROWS] * dim, dim);
        axpy(hidden, 1.0f, t->in + (size_t)rows[i] * dim, dim);
    }
    float inv = 1.0f / (float)n;
    for (uint32_t j = 0; j < dim; j++)
        hidden[j] *= inv;
    memset(grad, 0, dim * sizeof *grad);
    float loss = 0.0f;
    uint32_t target = labels[nlabels == 1 ? 0 : rng_next(&w->rng) % nlabels];
    switch (t->c->p.loss) {
    case MN_LOSS_SOFTMAX: {
        float *p = w->probs, max = -INFINITY, z = 0.0f;
        for (uint32_t i = 0; i < nl; i++) {
            p[i] = dot(t->out + (size_t)i * dim, hidden, dim);
            if (p[i] > max)
                max = p[i];
        }
        for (uint32_t i = 0; i < nl; i++) {
            p[i] = expf(p[i] - max);
            z += p[i];
        }
        for (uint32_t i = 0; i < nl; i++) {
            p[i] /= z;
            float alpha = lr * ((i == target ? 1.0f : 0.0f) - p[i]);
            float *row = t->out + (size_t)i * dim;
            axpy(grad, alpha, row, dim);
            axpy(row, alpha, hidden, dim);
        }
        loss = -fast_log(p[target]);
        break;
    }
    case MN_LOSS_OVA:
        for (uint32_t i = 0; i < nl; i++) {
            int is = 0;
            for (size_t j = 0; j < nlabels; j++)
                is |= labels[j] == i;
            loss += binary_step(t, i, hidden, grad, is, lr);
        }
        break;
    case MN_LOSS_HS: {
        uint32_t off = t->hs.off[target], len = t->hs.len[target];
        for (uint32_t d = 0; d < len; d++)
            loss += binary_step(t, t->hs.nodes[off + d], hidden, grad, t->hs.codes[off + d], lr);
        break;
    }
    }
    for (uint32_t j = 0; j < dim; j++)
        grad[j] *= inv;
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_ROWS < n)
            prefetch_row(t->in + (size_t)rows[i + PREFETCH_ROWS] * dim, dim);
        axpy(t->in + (size_t)rows[i] * dim, t->row_lr ? t->row_lr[rows[i]] : 1.0f, grad, dim);
    }
    return loss;
}

static void report(trainer *t, double now)
{
    const mn_classifier_config *cfg = t->cfg;
    uint64_t done = atomic_load_explicit(&t->processed, memory_order_relaxed);
    double total = (double)t->total_tokens * cfg->epoch;
    double progress = total > 0 ? (double)done / total : 1.0;
    if (progress > 1.0)
        progress = 1.0;
    double elapsed = now - t->started;
    double ls = 0.0;
    uint64_t ln = 0;
    for (int i = 0; i < cfg->threads && i < 64; i++) {
        ls += t->loss_sum[i];
        ln += t->loss_n[i];
    }
    if (ln)
        t->last_loss = (float)(ls / (double)ln);
    if (!cfg->on_progress)
        return;
    mn_train_progress p = {
        .progress = progress,
        .words_per_sec_thread = elapsed > 0 ? (double)done / elapsed / cfg->threads : 0.0,
        .lr = cfg->lr * (1.0 - progress),
        .loss = t->last_loss,
        .eta_sec = progress > 0 ? elapsed / progress * (1.0 - progress) : 0.0,
        .elapsed_sec = elapsed,
    };
    cfg->on_progress(&p, cfg->progress_ctx);
}

static void *work(void *arg)
{
    worker *w = arg;
    trainer *t = w->t;
    const mn_classifier_config *cfg = t->cfg;
    double total = (double)t->total_tokens * cfg->epoch;
    size_t n = w->to - w->from;
    uint64_t local = 0;
    double next_report = 0.0;
    for (int e = 0; e < w->epochs; e++) {
        for (size_t i = 0; i < n; i++)
            w->order[i] = (uint32_t)(w->from + i);
        for (size_t i = n; i > 1; i--) {
            size_t j = rng_next(&w->rng) % i;
            uint32_t tmp = w->order[i - 1];
            w->order[i - 1] = w->order[j];
            w->order[j] = tmp;
        }
        for (size_t i = 0; i < n; i++) {
            if (atomic_load_explicit(&t->stop, memory_order_relaxed))
                return NULL;
            uint32_t ex = w->order[i];
            uint64_t done = atomic_load_explicit(&t->processed, memory_order_relaxed);
            float progress = total > 0 ? (float)((double)done / total) : 1.0f;
            float lr = (float)cfg->lr * (1.0f - (progress < 1.0f ? progress : 1.0f));
            const char *text;
            size_t len, nlab;
            const uint32_t *labels;
            mn_dataset_get(t->data, ex, &text, &len, &labels, &nlab);
            (void)text;
            (void)len;
            const uint32_t *rows = t->feat + t->feat_off[ex];
            size_t nrows = t->feat_off[ex + 1] - t->feat_off[ex];
            float l = update(w, rows, nrows, labels, nlab, lr);
            if (!isfinite(l)) {
                /* Weights overflowed: every later step would only spread NaN. */
                atomic_store(&t->diverged, 1);
                atomic_store(&t->stop, 1);
                return NULL;
            }
            if (w->id < 64) {
                t->loss_sum[w->id] += l;
                t->loss_n[w->id]++;
            }
            local += t->tokens[ex] + 1;
            if (local >= (uint64_t)cfg->lr_update_rate) {
                atomic_fetch_add_explicit(&t->processed, local, memory_order_relaxed);
                local = 0;
                if (w->id == 0) {
                    double now = mn__now_sec();
                    if (t->deadline > 0 && now >= t->deadline)
                        atomic_store(&t->stop, 1);
                    if (cfg->cancel && *cfg->cancel)
                        atomic_store(&t->stop, 1);
                    if (now >= next_report) {
                        report(t, now);
                        next_report = now + 0.1;
                    }
                }
            }
        }
    }
    atomic_fetch_add_explicit(&t->processed, local, memory_order_relaxed);
    return NULL;
}

/* Runs `epochs` epochs over all examples with cfg->threads threads. */
static int run_epochs(trainer *t, int epochs)
{
    int nt = t->cfg->threads;
    if ((size_t)nt > t->nex)
        nt = (int)t->nex;
    worker *ws = mn_calloc((size_t)nt, sizeof *ws);
    pthread_t *th = mn_calloc((size_t)nt, sizeof *th);
    uint32_t dim = t->c->p.dim, nl = t->c->base.nlabels;
    int rc = ws && th ? 0 : MN_ENOMEM;
    int started = 0;
    for (int i = 0; !rc && i < nt; i++) {
        worker *w = &ws[i];
        w->t = t;
        w->id = i;
        w->from = t->nex * (size_t)i / (size_t)nt;
        w->to = t->nex * (size_t)(i + 1) / (size_t)nt;
        w->epochs = epochs;
        w->rng = t->cfg->seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 7919 + (uint64_t)t->epoch;
        w->order = mn_malloc((w->to - w->from + 1) * sizeof *w->order);
        w->hidden = mn_malloc(((size_t)dim * 2 + nl) * sizeof(float));
        if (!w->order || !w->hidden)
            rc = MN_ENOMEM;
        else {
            w->grad = w->hidden + dim;
            w->probs = w->grad + dim;
        }
    }
    if (!rc && nt == 1) {
        work(&ws[0]); /* no thread for one worker: keeps single-thread runs simple to debug */
    } else {
        for (int i = 0; !rc && i < nt; i++) {
            if (pthread_create(&th[i], NULL, work, &ws[i]) != 0) {
                atomic_store(&t->stop, 1);
                rc = MN_ENOMEM;
                break;
            }
            started++;
        }
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    for (int i = 0; ws && i < nt; i++) {
        mn_free(ws[i].order);
        mn_free(ws[i].hidden);
    }
    mn_free(ws);
    mn_free(th);
    return rc;
}

/* ---- feature selection and weighting (min_df, idf_lr, keep_rows) ------------------------- */

static int by_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Document frequency of every row id below nrows: in how many examples it occurs. */
static int doc_freq(const trainer *t, size_t nrows, uint32_t **out)
{
    uint32_t *df = mn_calloc(nrows ? nrows : 1, sizeof *df);
    size_t longest = 0;
    for (size_t i = 0; i < t->nex; i++)
        if (t->feat_off[i + 1] - t->feat_off[i] > longest)
            longest = t->feat_off[i + 1] - t->feat_off[i];
    uint32_t *tmp = mn_malloc((longest ? longest : 1) * sizeof *tmp);
    if (!df || !tmp) {
        mn_free(df);
        mn_free(tmp);
        return MN_ENOMEM;
    }
    for (size_t i = 0; i < t->nex; i++) {
        size_t n = t->feat_off[i + 1] - t->feat_off[i];
        memcpy(tmp, t->feat + t->feat_off[i], n * sizeof *tmp);
        qsort(tmp, n, sizeof *tmp, by_u32_asc);
        for (size_t k = 0; k < n; k++)
            if (k == 0 || tmp[k] != tmp[k - 1])
                df[tmp[k]]++;
    }
    mn_free(tmp);
    *out = df;
    return 0;
}

/* Drops from every example the rows found in fewer than min_df examples (an example that would
 * be left empty keeps its first row). Row ids are those before bucket pruning. */
static int filter_min_df(trainer *t, size_t nrows, int min_df, size_t *fn)
{
    uint32_t *df;
    int rc = doc_freq(t, nrows, &df);
    if (rc)
        return rc;
    size_t w = 0;
    for (size_t i = 0; i < t->nex; i++) {
        size_t a = t->feat_off[i], b = t->feat_off[i + 1], w0 = w;
        uint32_t first = t->feat[a];
        for (size_t k = a; k < b; k++)
            if (df[t->feat[k]] >= (uint32_t)min_df)
                t->feat[w++] = t->feat[k];
        if (w == w0 && b > a)
            t->feat[w++] = first;
        t->feat_off[i] = w0;
    }
    t->feat_off[t->nex] = w;
    *fn = w;
    mn_free(df);
    return 0;
}

/* Row learning-rate factors idf^power, scaled to a mean of 1 over all training tokens so the
 * learning rate keeps its meaning. */
static int make_row_lr(trainer *t, const uint32_t *df, size_t nrows, double power)
{
    t->row_lr = mn_malloc((nrows ? nrows : 1) * sizeof *t->row_lr);
    if (!t->row_lr)
        return MN_ENOMEM;
    for (size_t r = 0; r < nrows; r++)
        t->row_lr[r] = (float)pow(1.0 + log((1.0 + (double)t->nex) / (1.0 + df[r])), power);
    double sum = 0.0;
    size_t n = t->feat_off[t->nex];
    for (size_t i = 0; i < n; i++)
        sum += t->row_lr[t->feat[i]];
    float scale = sum > 0 ? (float)((double)n / sum) : 1.0f;
    for (size_t r = 0; r < nrows; r++)
        t->row_lr[r] *= scale;
    return 0;
}


/* Keeps row 0 and the keep rows of largest df * |O_c row| (O_c: the output matrix minus its
 * mean row, since softmax ignores what all scores share) and zeroes the others. */
static int keep_top_rows(trainer *t, const uint32_t *df, size_t nrows, size_t keep)
{
    uint32_t dim = t->c->p.dim, no = t->c->p.nout;
    float *oc = mn_malloc((size_t)(no ? no : 1) * dim * sizeof *oc);
    float *mean = mn_calloc(dim, sizeof *mean);
    mn__row_score *sc = mn_malloc(nrows * sizeof *sc);
    uint8_t *kept = mn_calloc(nrows, 1);
    int rc = MN_ENOMEM;
    if (!oc || !mean || !sc || !kept)
        goto done;
    memcpy(oc, t->out, (size_t)no * dim * sizeof *oc);
    if (t->c->p.loss == MN_LOSS_SOFTMAX && no > 0) {
        for (uint32_t i = 0; i < no; i++)
            for (uint32_t j = 0; j < dim; j++)
                mean[j] += oc[(size_t)i * dim + j] / (float)no;
        for (uint32_t i = 0; i < no; i++)
            for (uint32_t j = 0; j < dim; j++)
                oc[(size_t)i * dim + j] -= mean[j];
    }
    for (size_t r = 1; r < nrows; r++) {
        double s2 = 0.0;
        for (uint32_t i = 0; i < no; i++) {
            double d = dot(oc + (size_t)i * dim, t->in + r * dim, dim);
            s2 += d * d;
        }
        sc[r - 1] = (mn__row_score){(float)(sqrt(s2) * df[r]), (uint32_t)r};
    }
    qsort(sc, nrows - 1, sizeof *sc, mn__row_score_desc);
    kept[0] = 1;
    for (size_t i = 0; i < keep; i++)
        kept[sc[i].row] = 1;
    for (size_t r = 0; r < nrows; r++)
        if (!kept[r])
            memset(t->in + r * dim, 0, dim * sizeof(float));
    rc = 0;
done:
    mn_free(oc);
    mn_free(mean);
    mn_free(sc);
    mn_free(kept);
    return rc;
}

/* ---- building the model -------------------------------------------------------------------- */

static int check_config(const mn_classifier_config *cfg, mn_err *err)
{
    if (cfg->dim < 1 || cfg->dim > 4096)
        return mn_err_set(err, MN_EINVAL, "dim %d is out of range 1..4096", cfg->dim);
    if (cfg->epoch < 1 || cfg->epoch > 100000)
        return mn_err_set(err, MN_EINVAL, "epoch %d is out of range 1..100000", cfg->epoch);
    if (!(cfg->lr > 0.0 && cfg->lr <= 100.0))
        return mn_err_set(err, MN_EINVAL, "lr %g is out of range (0, 100]", cfg->lr);
    if (cfg->word_ngrams < 1 || cfg->word_ngrams > 16)
        return mn_err_set(err, MN_EINVAL, "word_ngrams %d is out of range 1..16",
                          cfg->word_ngrams);
    if (cfg->maxn < 0 || cfg->maxn > 64 || cfg->minn < 0 ||
        (cfg->maxn > 0 && (cfg->minn < 1 || cfg->minn > cfg->maxn)))
        return mn_err_set(err, MN_EINVAL,
                          "character n-grams need 1 <= minn <= maxn <= 64 (got %d..%d)",
                          cfg->minn, cfg->maxn);
    if (cfg->bucket > (1u << 30))
        return mn_err_set(err, MN_EINVAL, "bucket %u is above 2^30", cfg->bucket);
    if ((cfg->word_ngrams > 1 || cfg->maxn > 0) && cfg->bucket == 0)
        return mn_err_set(err, MN_EINVAL, "n-grams need bucket > 0");
    if (cfg->loss > MN_LOSS_HS)
        return mn_err_set(err, MN_EINVAL, "unknown loss %d", (int)cfg->loss);
    if (cfg->threads < 1 || cfg->threads > 64)
        return mn_err_set(err, MN_EINVAL, "threads %d is out of range 1..64", cfg->threads);
    if (cfg->min_count < 1)
        return mn_err_set(err, MN_EINVAL, "min_count must be >= 1");
    if (cfg->lr_update_rate < 1)
        return mn_err_set(err, MN_EINVAL, "lr_update_rate must be >= 1");
    if (cfg->min_df < 0)
        return mn_err_set(err, MN_EINVAL, "min_df must be >= 0");
    if (!(cfg->idf_lr >= 0.0 && cfg->idf_lr <= 10.0))
        return mn_err_set(err, MN_EINVAL, "idf_lr %g is out of range 0..10", cfg->idf_lr);
    return 0;
}

static int set_meta_u64(mn_model *m, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return mn__model_meta_set(m, key, buf);
}

static int set_meta_f(mn_model *m, const char *key, double v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", v);
    return mn__model_meta_set(m, key, buf);
}

static const char *loss_name(mn_loss l)
{
    return l == MN_LOSS_OVA ? "ova" : l == MN_LOSS_HS ? "hs" : "softmax";
}

static int write_meta(mn_classifier *c, const mn_classifier_config *cfg, const mn_dataset *d,
                      double seconds, uint64_t tokens)
{
    mn_model *m = &c->base;
    char buf[64];
    /* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the timestamp, so rebuilding a shipped
     * model with the same data and seed gives the same bytes. */
    time_t now = time(NULL);
    const char *pinned = getenv("SOURCE_DATE_EPOCH");
    if (pinned && *pinned) {
        char *end;
        long long v = strtoll(pinned, &end, 10);
        if (*end == '\0' && v >= 0)
            now = (time_t)v;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int rc = mn__model_meta_set(m, "task", cfg->task ? cfg->task : "");
    rc = rc ? rc : mn__model_meta_set(m, "created", buf);
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)mn_dataset_hash(d));
    rc = rc ? rc : mn__model_meta_set(m, "train_hash", buf);
    rc = rc ? rc : set_meta_u64(m, "train_examples", mn_dataset_count(d));
    rc = rc ? rc : set_meta_u64(m, "train_tokens", tokens);
    rc = rc ? rc : set_meta_u64(m, "dim", (uint64_t)cfg->dim);
    rc = rc ? rc : set_meta_u64(m, "epoch", (uint64_t)cfg->epoch);
    rc = rc ? rc : set_meta_f(m, "lr", cfg->lr);
    rc = rc ? rc : set_meta_u64(m, "word_ngrams", (uint64_t)cfg->word_ngrams);
    rc = rc ? rc : set_meta_u64(m, "minn", (uint64_t)cfg->minn);
    rc = rc ? rc : set_meta_u64(m, "maxn", (uint64_t)cfg->maxn);
    rc = rc ? rc : set_meta_u64(m, "bucket", cfg->bucket);
    rc = rc ? rc : set_meta_u64(m, "min_count", (uint64_t)cfg->min_count);
    rc = rc ? rc : mn__model_meta_set(m, "loss", loss_name(cfg->loss));
    unsigned tf = cfg->token_flags;
    char token_kind[64];
    snprintf(token_kind, sizeof token_kind, "%s%s%s%s",
             (tf & MN_TOKENS_WHITESPACE)   ? "whitespace"
             : (tf & MN_TOKENS_KEEP_PUNCT) ? "unicode+punct"
                                           : "unicode",
             (tf & MN_TOKENS_CJK_RUNS) && !(tf & MN_TOKENS_WHITESPACE) ? "+cjkruns" : "",
             (tf & MN_TOKENS_FOLD_DIGITS) ? "+digits0" : "", (tf & MN_TOKENS_SHAPE) ? "+shape" : "");
    rc = rc ? rc : mn__model_meta_set(m, "tokens", token_kind);
    rc = rc ? rc
            : mn__model_meta_set(m, "normalize",
                                 cfg->norm_flags ? "nfkc+casefold" : "none");
    rc = rc ? rc : set_meta_u64(m, "threads", (uint64_t)cfg->threads);
    rc = rc ? rc : set_meta_u64(m, "seed", cfg->seed);
    rc = rc ? rc : set_meta_u64(m, "vocabulary", c->p.nwords);
    if (cfg->min_df > 1)
        rc = rc ? rc : set_meta_u64(m, "min_df", (uint64_t)cfg->min_df);
    if (cfg->idf_lr > 0.0)
        rc = rc ? rc : set_meta_f(m, "idf_lr", cfg->idf_lr);
    if (cfg->keep_rows > 0)
        rc = rc ? rc : set_meta_u64(m, "keep_rows", cfg->keep_rows);
    /* The duration varies from run to run: left out of reproducible builds. */
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    if (!(epoch && *epoch))
        rc = rc ? rc : set_meta_f(m, "train_seconds", seconds);
    return rc;
}

/* Everything after the configuration check; deadline is absolute (0 = none). */
static int train(const mn_classifier_config *cfg, const mn_dataset *data, double deadline,
                 mn_model **out, double *valid_score, mn_err *err)
{
    pthread_once(&tables_once, init_tables);
    double started = mn__now_sec();
    size_t nex = mn_dataset_count(data);
    uint32_t nl = mn_dataset_label_count(data);
    trainer t = {.cfg = cfg, .data = data, .nex = nex, .started = started, .deadline = deadline};
    counter words = {0};
    mn_scratch *s = NULL;
    mn_classifier *c = NULL;
    float *best_in = NULL, *best_out = NULL;
    uint64_t *label_counts = NULL;
    uint32_t *df = NULL; /* per input row: training texts it occurs in (feature options only) */
    int rc = MN_ENOMEM;
    if (nex == 0 || nl == 0)
        return mn_err_set(err, MN_EEMPTY, "no training examples");
    if (mn_scratch_new(&s))
        goto oom;

    /* Pass 1: count words. */
    label_counts = mn_calloc(nl, sizeof *label_counts);
    if (!label_counts)
        goto oom;
    for (size_t i = 0; i < nex; i++) {
        const char *text;
        size_t len, nlab, nh;
        const uint32_t *labels;
        const uint64_t *h;
        mn_dataset_get(data, i, &text, &len, &labels, &nlab);
        for (size_t j = 0; j < nlab; j++)
            label_counts[labels[j]]++;
        if ((rc = mn__clf_word_hashes(cfg->norm_flags, cfg->token_flags, s, text, len, &h, &nh)))
            goto oom;
        for (size_t j = 0; j < nh; j++)
            if ((rc = counter_add(&words, h[j])))
                goto oom;
    }
    size_t nw = 0;
    for (size_t i = 0; i < words.cap; i++)
        if (words.slots[i].count >= (uint64_t)cfg->min_count)
            words.slots[nw++] = words.slots[i];
    if (nw) /* with no word at all (punctuation-only texts) slots is NULL: not for qsort */
        qsort(words.slots, nw, sizeof *words.slots, by_count_desc);

    c = mn__clf_new();
    if (!c)
        goto oom;
    c->p = (mn_clf_params){
        .dim = (uint32_t)cfg->dim,
        .word_ngrams = (uint32_t)cfg->word_ngrams,
        .minn = (uint32_t)cfg->minn,
        .maxn = (uint32_t)cfg->maxn,
        .bucket = (cfg->word_ngrams > 1 || cfg->maxn > 0) ? cfg->bucket : 0,
        .loss = (uint32_t)cfg->loss,
        .norm_flags = cfg->norm_flags,
        .token_flags = cfg->token_flags,
        .nwords = (uint32_t)nw,
        .nout = cfg->loss == MN_LOSS_HS ? nl - 1 : nl,
    };
    c->p.nbuckets = c->p.bucket;
    {
        char **names = mn_calloc(nl, sizeof *names);
        if (!names)
            goto oom;
        for (uint32_t i = 0; i < nl; i++)
            names[i] = (char *)mn_dataset_label(data, i);
        rc = mn__model_set_labels(&c->base, names, NULL, nl);
        mn_free(names);
        if (rc)
            goto oom;
    }
    uint64_t *vocab = mn_malloc((nw ? nw : 1) * sizeof *vocab);
    c->owned[0] = vocab;
    if (!vocab)
        goto oom;
    for (size_t i = 0; i < nw; i++)
        vocab[i] = words.slots[i].hash;
    c->vocab = vocab;
    mn_free(words.slots);
    words.slots = NULL;
    if ((rc = mn__clf_index(c)))
        goto oom;

    if (cfg->loss == MN_LOSS_HS && nl > 1) {
        int32_t *tree = mn_malloc((size_t)(nl - 1) * 2 * sizeof *tree);
        c->owned[3] = tree;
        if (!tree)
            goto oom;
        c->tree = (mn_clf_tree){.left = tree, .right = tree + (nl - 1), .nlabels = nl};
        if ((rc = build_tree(nl, label_counts, tree, tree + (nl - 1), &t.hs)))
            goto oom;
    }

    /* Pass 2: every example's feature rows, once. */
    t.feat_off = mn_malloc((nex + 1) * sizeof *t.feat_off);
    t.tokens = mn_malloc(nex * sizeof *t.tokens);
    size_t fcap = 1 << 16, fn = 0;
    t.feat = mn_malloc(fcap * sizeof *t.feat);
    if (!t.feat_off || !t.tokens || !t.feat)
        goto oom;
    for (size_t i = 0; i < nex; i++) {
        const char *text;
        size_t len, nlab, nrows, ntok;
        const uint32_t *labels, *r;
        mn_dataset_get(data, i, &text, &len, &labels, &nlab);
        if ((rc = mn__clf_features(c, s, text, len, &r, &nrows, &ntok)))
            goto oom;
        if (fn + nrows > fcap) {
            while (fn + nrows > fcap)
                fcap *= 2;
            uint32_t *g = mn_realloc(t.feat, fcap * sizeof *g);
            if (!g)
                goto oom;
            t.feat = g;
        }
        memcpy(t.feat + fn, r, nrows * sizeof *r);
        t.feat_off[i] = fn;
        fn += nrows;
        t.tokens[i] = (uint32_t)(ntok > UINT32_MAX ? UINT32_MAX : ntok);
        t.total_tokens += t.tokens[i] + 1;
    }
    t.feat_off[nex] = fn;
    t.c = c;
    if (cfg->min_df > 1 &&
        (rc = filter_min_df(&t, 1 + (size_t)c->p.nwords + c->p.bucket, cfg->min_df, &fn)))
        goto oom;

    /* Only buckets some training text hashed into get a row: the others would keep their random
     * initial values and add noise at prediction time. This shrinks a 2M-bucket model to the
     * rows it uses, and the training working set with it. */
    if (c->p.bucket > 0) {
        uint32_t base = 1 + c->p.nwords, nb = c->p.bucket, used = 0;
        uint32_t *remap = mn_calloc(nb, sizeof *remap); /* bucket -> compact index + 1 */
        if (!remap)
            goto oom;
        for (size_t i = 0; i < fn; i++)
            if (t.feat[i] >= base && !remap[t.feat[i] - base])
                remap[t.feat[i] - base] = 1;
        uint32_t *kept = mn_malloc(((size_t)nb + 1) * sizeof *kept);
        if (!kept) {
            mn_free(remap);
            goto oom;
        }
        for (uint32_t b = 0; b < nb; b++)
            if (remap[b]) {
                kept[used] = b;
                remap[b] = ++used;
            }
        for (size_t i = 0; i < fn; i++)
            if (t.feat[i] >= base)
                t.feat[i] = base + remap[t.feat[i] - base] - 1;
        mn_free(remap);
        c->owned[4] = kept;
        c->buckets = kept;
        c->p.pruned = 1;
        c->p.nbuckets = used;
        if ((rc = mn__clf_index(c)))
            goto oom;
    }

    uint32_t dim = c->p.dim;
    size_t rows = 1 + (size_t)c->p.nwords + c->p.nbuckets;
    t.in = mn_malloc(rows * dim * sizeof(float));
    t.out = mn_calloc((size_t)(c->p.nout ? c->p.nout : 1) * dim, sizeof(float));
    c->owned[1] = t.in;
    c->owned[2] = t.out;
    if (!t.in || !t.out)
        goto oom;
    uint64_t seed = cfg->seed;
    for (size_t i = 0; i < rows * dim; i++)
        t.in[i] = rng_uniform(&seed, -1.0f / (float)dim, 1.0f / (float)dim);
    c->in = (mn_clf_matrix){.f = t.in, .rows = (uint32_t)rows, .dim = dim};
    c->out = (mn_clf_matrix){.f = t.out, .rows = c->p.nout, .dim = dim};
    if (cfg->min_df > 1 || cfg->idf_lr > 0.0 || cfg->keep_rows > 0) {
        if ((rc = doc_freq(&t, rows, &df)))
            goto oom;
        /* Vocabulary words dropped by min_df would add their random rows at prediction. */
        if (cfg->min_df > 1)
            for (size_t r = 1; r < rows; r++)
                if (df[r] == 0)
                    memset(t.in + r * dim, 0, dim * sizeof(float));
        if (cfg->idf_lr > 0.0 && (rc = make_row_lr(&t, df, rows, cfg->idf_lr)))
            goto oom;
    }

    /* Epochs: all at once, or one by one when a validation set decides when to stop. */
    double best = -1.0;
    int epochs_run = cfg->epoch;
    if (!cfg->valid) {
        if ((rc = run_epochs(&t, cfg->epoch)))
            goto oom;
    } else {
        int since_best = 0;
        best_in = mn_malloc(rows * dim * sizeof(float));
        best_out = mn_malloc((size_t)(c->p.nout ? c->p.nout : 1) * dim * sizeof(float));
        if (!best_in || !best_out)
            goto oom;
        for (t.epoch = 0; t.epoch < cfg->epoch && !atomic_load(&t.stop); t.epoch++) {
            if ((rc = run_epochs(&t, 1)))
                goto oom;
            mn_eval_result r;
            if ((rc = mn_model_eval(&c->base, cfg->valid, 1, 0.0f, &r, err)))
                goto fail;
            double score = r.accuracy;
            mn_eval_result_deinit(&r);
            if (score > best) {
                best = score;
                since_best = 0;
                memcpy(best_in, t.in, rows * dim * sizeof(float));
                memcpy(best_out, t.out, (size_t)c->p.nout * dim * sizeof(float));
            } else if (cfg->patience > 0 && ++since_best >= cfg->patience) {
                t.epoch++;
                break;
            }
        }
        epochs_run = t.epoch;
        memcpy(t.in, best_in, rows * dim * sizeof(float));
        memcpy(t.out, best_out, (size_t)c->p.nout * dim * sizeof(float));
        if (valid_score)
            *valid_score = best;
    }
    if (df && cfg->keep_rows > 0 && (size_t)cfg->keep_rows < rows - 1 &&
        !atomic_load(&t.diverged) && (rc = keep_top_rows(&t, df, rows, cfg->keep_rows)))
        goto oom;
    if (atomic_load(&t.diverged)) {
        uint64_t done = atomic_load(&t.processed);
        rc = mn_err_set(err, MN_EINVAL,
                        "training diverged at %.1f%% (the loss became NaN); lower the learning "
                        "rate (lr %g)",
                        100.0 * (double)done / ((double)t.total_tokens * cfg->epoch), cfg->lr);
        goto fail;
    }
    report(&t, mn__now_sec());
    double seconds = mn__now_sec() - started;
    if ((rc = write_meta(c, cfg, data, seconds, t.total_tokens)))
        goto oom;
    if (cfg->valid && (rc = set_meta_f(&c->base, "valid_accuracy", best)))
        goto oom;
    if (atomic_load(&t.stop) && !cfg->valid)
        epochs_run = (int)((double)atomic_load(&t.processed) / (double)t.total_tokens);
    if ((rc = set_meta_u64(&c->base, "epochs_run", (uint64_t)epochs_run)) ||
        (rc = set_meta_f(&c->base, "train_loss", t.last_loss)))
        goto oom;
    c->base.size_bytes = rows * dim * 4 + (size_t)c->p.nout * dim * 4 + (size_t)nw * 8;
    *out = &c->base;
    c = NULL;
    rc = 0;
    goto done;
oom:
    if (rc == 0 || rc == MN_ENOMEM)
        rc = mn_err_set(err, MN_ENOMEM, "out of memory while training");
    else
        mn_err_set(err, rc, "training failed: %s", mn_strerror(rc));
fail:
done:
    mn_free(words.slots);
    mn_free(label_counts);
    mn_free(t.feat);
    mn_free(t.feat_off);
    mn_free(t.tokens);
    mn_free(best_in);
    mn_free(best_out);
    mn_free(t.row_lr);
    mn_free(df);
    hs_paths_free(&t.hs);
    mn_scratch_free(s);
    mn_model_release(c ? &c->base : NULL);
    return rc;
}

int mn_classifier_train(const mn_classifier_config *cfg, const mn_dataset *data, mn_model **out,
                        mn_err *err)
{
    if (!cfg || !data || !out)
        return mn_err_set(err, MN_EINVAL, "missing configuration or data");
    int rc = check_config(cfg, err);
    if (rc)
        return rc;
    return train(cfg, data, 0.0, out, NULL, err);
}

/* ---- autotune ------------------------------------------------------------------------------ */

static int clamp_i(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Draws a candidate: half the time near the best so far, else anywhere in the search space. */
static void sample(mn_classifier_config *c, const mn_classifier_config *best, uint64_t *rng,
                   double spread)
{
    *c = *best;
    int wide = rng_next(rng) % 2 == 0;
    double s = wide ? 1.0 : spread;
    double u;
    u = rng_uniform(rng, -1.0f, 1.0f) * s;
    c->epoch = clamp_i((int)lround(best->epoch * exp(u * 1.5)), 1, 100);
    u = rng_uniform(rng, -1.0f, 1.0f) * s;
    c->lr = best->lr * exp(u * 1.5);
    if (c->lr < 0.01)
        c->lr = 0.01;
    if (c->lr > 5.0)
        c->lr = 5.0;
    u = rng_uniform(rng, -1.0f, 1.0f) * s;
    c->dim = clamp_i((int)lround(best->dim * exp(u)), 8, 300);
    if (rng_next(rng) % 3 == 0)
        c->word_ngrams = clamp_i(best->word_ngrams + (int)(rng_next(rng) % 3) - 1, 1, 4);
    if (rng_next(rng) % 3 == 0) {
        if (rng_next(rng) % 2) {
            c->minn = 0;
            c->maxn = 0;
        } else {
            c->minn = 2 + (int)(rng_next(rng) % 2);
            c->maxn = c->minn + 1 + (int)(rng_next(rng) % 3);
        }
    }
    if (rng_next(rng) % 3 == 0) {
        static const uint32_t buckets[] = {100000, 500000, 1000000, 2000000, 4000000};
        c->bucket = buckets[rng_next(rng) % 5];
    }
    if ((c->word_ngrams > 1 || c->maxn > 0) && c->bucket == 0)
        c->bucket = 2000000;
}

int mn_classifier_autotune(const mn_classifier_config *base, const mn_dataset *train_set,
                           const mn_dataset *valid, double budget_sec, mn_model **out,
                           mn_classifier_config *best_out, mn_err *err)
{
    if (!base || !train_set || !valid || !out || !(budget_sec > 0))
        return mn_err_set(err, MN_EINVAL, "autotune needs training data, a validation set and "
                                          "a positive time budget");
    int rc = check_config(base, err);
    if (rc)
        return rc;
    double deadline = mn__now_sec() + budget_sec;
    mn_classifier_config best = *base, cand = *base;
    best.valid = NULL;
    best.patience = 0;
    mn_model *best_model = NULL;
    double best_score = -1.0;
    uint64_t rng = base->seed ^ 0x5eedull;
    int trials = 0;
    while (mn__now_sec() < deadline && !(base->cancel && *base->cancel)) {
        if (trials > 0) {
            double spread = 1.0 - (mn__now_sec() - (deadline - budget_sec)) / budget_sec;
            sample(&cand, &best, &rng, spread > 0.2 ? spread : 0.2);
        }
        cand.valid = NULL;
        cand.on_progress = NULL;
        mn_model *m = NULL;
        /* The first candidate always completes, so there is a model whatever the budget. */
        rc = train(&cand, train_set, trials == 0 ? 0.0 : deadline, &m, NULL, err);
        if (rc)
            break;
        mn_eval_result r;
        rc = mn_model_eval(m, valid, 1, 0.0f, &r, err);
        if (rc) {
            mn_model_release(m);
            break;
        }
        double score = r.accuracy + 1e-3 * r.macro_f1;
        mn_eval_result_deinit(&r);
        trials++;
        if (base->on_progress) {
            double now = mn__now_sec(), spent = now - (deadline - budget_sec);
            mn_train_progress pr = {
                .progress = spent / budget_sec > 1.0 ? 1.0 : spent / budget_sec,
                .lr = cand.lr,
                .loss = 1.0 - (score > best_score ? score : best_score),
                .eta_sec = deadline > now ? deadline - now : 0.0,
                .elapsed_sec = spent,
            };
            base->on_progress(&pr, base->progress_ctx);
        }
        int finished = mn__now_sec() < deadline || trials == 1;
        if (finished && score > best_score) {
            best_score = score;
            best = cand;
            mn_model_release(best_model);
            best_model = m;
        } else {
            mn_model_release(m);
        }
    }
    if (!best_model) {
        if (!rc)
            rc = mn_err_set(err, MN_EINVAL, "autotune found no model within %.0f s", budget_sec);
        return rc;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", trials);
    mn__model_meta_set(best_model, "autotune_trials", buf);
    snprintf(buf, sizeof buf, "%.6g", budget_sec);
    mn__model_meta_set(best_model, "autotune_seconds", buf);
    if (best_out) {
        *best_out = best;
        best_out->valid = base->valid;
        best_out->on_progress = base->on_progress;
        best_out->progress_ctx = base->progress_ctx;
    }
    *out = best_model;
    return 0;
}
