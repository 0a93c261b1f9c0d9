/* SPDX-License-Identifier: MIT
 *
 * Scoring a tagger on a tagged corpus: token accuracy, and for entity (BIO) models exact-span
 * precision, recall and F1 per type and overall, with CoNLL conlleval's chunk rules (an I-
 * after O or after another type starts a span, so malformed gold and predicted sequences are
 * read the way conlleval reads them). Tags are matched by name; gold tags the model lacks
 * count as wrong tokens, and their spans as missed.
 */
#include "core/clock.h"
#include "micronlp/models.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "tagger.h"

/* Entity types seen in gold or predicted tags (few: linear search is fine). */
typedef struct types {
    const char **name;
    size_t *len;
    uint32_t n, cap;
} types;

static int64_t type_id(types *t, const char *s, size_t len)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->len[i] == len && memcmp(t->name[i], s, len) == 0) return i;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 8;
        const char **nn = mn_realloc(t->name, nc * sizeof *nn);
        if (!nn) return -1;
        t->name = nn;
        size_t *nl = mn_realloc(t->len, nc * sizeof *nl);
        if (!nl) return -1;
        t->len = nl;
        t->cap = nc;
    }
    t->name[t->n] = s;
    t->len[t->n] = len;
    return t->n++;
}

static void finish(mn_span_stats *s)
{
    s->precision = s->tp + s->fp ? (double)s->tp / (double)(s->tp + s->fp) : 0.0;
    s->recall = s->tp + s->fn ? (double)s->tp / (double)(s->tp + s->fn) : 0.0;
    s->f1 = s->precision + s->recall > 0 ? 2 * s->precision * s->recall / (s->precision + s->recall)
                                         : 0.0;
}

void mn__span_match(const mn_chunk *gc, size_t ng, const mn_chunk *pc, size_t np, mn_span_stats *st)
{
    /* Both lists are ordered by first token and do not overlap: match them in one walk. */
    size_t gi = 0, pi = 0;
    while (gi < ng || pi < np) {
        if (gi < ng && pi < np && gc[gi].first == pc[pi].first && gc[gi].count == pc[pi].count &&
            gc[gi].type == pc[pi].type) {
            st[gc[gi].type].tp++;
            gi++;
            pi++;
        } else if (pi >= np || (gi < ng && gc[gi].first <= pc[pi].first)) {
            st[gc[gi].type].fn++;
            gi++;
        } else {
            st[pc[pi].type].fp++;
            pi++;
        }
    }
}

void mn__span_finish(mn_span_stats *s)
{
    finish(s);
}

static int by_type(const void *a, const void *b)
{
    return strcmp(((const mn_span_stats *)a)->type, ((const mn_span_stats *)b)->type);
}

void mn_tag_eval_result_deinit(mn_tag_eval_result *r)
{
    if (!r) return;
    mn_free(r->per_type);
    r->per_type = NULL;
    r->ntypes = 0;
}

typedef struct model_ctx {
    const mn_tagger *t;
    mn_scratch *sc;
} model_ctx;

static int tag_with_model(void *ctx, size_t s, const char *const *words, const size_t *lens,
                          size_t n, uint32_t *tags)
{
    const model_ctx *mc = ctx;
    (void)s;
    return mn__tagger_tag(mc->t, mc->sc, words, lens, n, tags, NULL);
}

int mn_tagger_eval(const mn_model *m, const mn_tagged_corpus *c, mn_tag_eval_result *out,
                   mn_err *err)
{
    if (!m || !c || !out || mn_model_kind(m) != MN_MODEL_TAGGER)
        return mn_err_set(err, MN_EINVAL, "eval needs a tagger model and a tagged corpus");
    model_ctx mc = {(const mn_tagger *)m, NULL};
    if (mn_scratch_new(&mc.sc)) {
        memset(out, 0, sizeof *out);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    int rc = mn__tagger_eval_ex((const char *const *)m->labels, m->nlabels, tag_with_model, &mc, c,
                                out, err);
    mn_scratch_free(mc.sc);
    return rc;
}

int mn__tagger_eval_ex(const char *const *labels, uint32_t nlabels, mn__tag_sentence_fn tag,
                       void *ctx, const mn_tagged_corpus *c, mn_tag_eval_result *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    uint32_t nd = c->nlabels, nm = nlabels, nu = nd + nm;
    size_t maxlen = 0;
    for (size_t s = 0; s < c->nsent; s++)
        if (c->sent[s + 1] - c->sent[s] > maxlen) maxlen = c->sent[s + 1] - c->sent[s];
    int32_t *gold2model = mn_malloc(nd * sizeof *gold2model);
    uint8_t *kind = mn_calloc(nu, 1);
    uint32_t *type = mn_calloc(nu, sizeof *type);
    const char **words = mn_malloc((maxlen + 1) * sizeof *words);
    size_t *lens = mn_malloc((maxlen + 1) * sizeof *lens);
    uint32_t *pred = mn_malloc((maxlen + 1) * sizeof *pred);
    uint32_t *gold = mn_malloc((maxlen + 1) * sizeof *gold);
    mn_chunk *gc = mn_malloc((maxlen + 1) * sizeof *gc);
    mn_chunk *pc = mn_malloc((maxlen + 1) * sizeof *pc);
    mn_span_stats *st = NULL;
    types ty = {0};
    int rc = MN_ENOMEM;
    if (!gold2model || !kind || !type || !words || !lens || !pred || !gold || !gc || !pc) goto fail;
    /* Unified label space: dataset labels 0..nd, then model labels nd..nd+nm. */
    for (uint32_t i = 0; i < nu; i++) {
        const char *name = i < nd ? c->labels[i] : labels[i - nd];
        const char *tn = NULL;
        size_t tl = 0;
        kind[i] = (uint8_t)mn__bio_parse(name, &tn, &tl);
        if (kind[i] == MN_BIO_B || kind[i] == MN_BIO_I) {
            int64_t id = type_id(&ty, tn, tl);
            if (id < 0) goto fail;
            type[i] = (uint32_t)id;
        }
        if (i >= nd) {
            out->entities |= kind[i] == MN_BIO_B || kind[i] == MN_BIO_I;
            continue;
        }
        /* Once per scoring, as mn_model_label_find does: a linear search is enough. */
        gold2model[i] = -1;
        for (uint32_t j = 0; j < nm && gold2model[i] < 0; j++)
            if (strcmp(labels[j], name) == 0) gold2model[i] = (int32_t)j;
    }
    st = mn_calloc(ty.n ? ty.n : 1, sizeof *st);
    if (!st) goto fail;
    double t0 = mn__now_sec(), tagging = 0.0;
    for (size_t s = 0; s < c->nsent; s++) {
        size_t first = c->sent[s], n = c->sent[s + 1] - first;
        for (size_t i = 0; i < n; i++) {
            words[i] = c->text + c->tok[first + i].off;
            lens[i] = c->tok[first + i].len;
            gold[i] = c->tok[first + i].tag;
        }
        double a = mn__now_sec();
        if ((rc = tag(ctx, s, words, lens, n, pred))) goto fail;
        tagging += mn__now_sec() - a;
        for (size_t i = 0; i < n; i++) {
            int32_t gm = gold2model[gold[i]];
            if (gm < 0)
                out->unknown_tags++;
            else if ((uint32_t)gm == pred[i])
                out->correct++;
            pred[i] += nd;
        }
        out->tokens += n;
        out->sentences++;
        if (!out->entities) continue;
        size_t ng = mn__bio_chunks(gold, n, kind, type, gc, maxlen + 1);
        size_t np = mn__bio_chunks(pred, n, kind, type, pc, maxlen + 1);
        mn__span_match(gc, ng, pc, np, st);
    }
    (void)t0;
    out->seconds = tagging;
    out->accuracy = out->tokens ? (double)out->correct / (double)out->tokens : 0.0;
    if (out->entities) {
        for (uint32_t i = 0; i < ty.n; i++) {
            size_t l = ty.len[i] < sizeof st[i].type - 1 ? ty.len[i] : sizeof st[i].type - 1;
            memcpy(st[i].type, ty.name[i], l);
            st[i].type[l] = '\0';
            out->all.tp += st[i].tp;
            out->all.fp += st[i].fp;
            out->all.fn += st[i].fn;
            finish(&st[i]);
        }
        finish(&out->all);
        memcpy(out->all.type, "all", 4);
        qsort(st, ty.n, sizeof *st, by_type);
        out->per_type = st;
        out->ntypes = ty.n;
        st = NULL;
    }
    rc = 0;
fail:
    if (rc) mn_err_set(err, rc, "out of memory");
    mn_free(st);
    mn_free(ty.name);
    mn_free(ty.len);
    mn_free(gold2model);
    mn_free(kind);
    mn_free(type);
    mn_free(words);
    mn_free(lens);
    mn_free(pred);
    mn_free(gold);
    mn_free(gc);
    mn_free(pc);
    return rc;
}
