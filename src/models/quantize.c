/* SPDX-License-Identifier: MIT
 *
 * Shrinking a trained classifier: keep only the input rows with the largest norms (the features
 * that move predictions most; fastText's --cutoff does the same) and store weights as 8-bit
 * integers with one float scale per row. A 2M-bucket float model of hundreds of MB becomes a
 * file of a few hundred KB with a small accuracy loss (measured in docs/BENCHMARKS.md).
 */
#include "classifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "langid.h"
#include "micronlp/alloc.h"
#include "packing.h"

static void get_row(const mn_clf_matrix *m, uint32_t r, float *dst)
{
    if (m->f) {
        memcpy(dst, m->f + (size_t)r * m->dim, m->dim * sizeof *dst);
        return;
    }
    for (uint32_t j = 0; j < m->dim; j++)
        dst[j] = m->scale[r] * (float)m->q[(size_t)r * m->dim + j];
}

static float row_norm(const mn_clf_matrix *m, uint32_t r, float *tmp)
{
    get_row(m, r, tmp);
    double s = 0.0;
    for (uint32_t j = 0; j < m->dim; j++)
        s += (double)tmp[j] * tmp[j];
    return (float)sqrt(s);
}

/* Weights -levels..levels times one scale per row. With half_scale the scale is rounded to
 * half precision first (as the 6-bit file stores it), so the rows saved are the rows used. */
static void quantize_row(const float *x, uint32_t dim, int levels, int half_scale, int8_t *q,
                         float *scale)
{
    float max = 0.0f;
    for (uint32_t j = 0; j < dim; j++)
        if (fabsf(x[j]) > max)
            max = fabsf(x[j]);
    *scale = max > 0 ? max / (float)levels : 1.0f;
    if (half_scale) {
        *scale = mn_half_to_float(mn_half_from_float(*scale));
        if (*scale == 0.0f) { /* a row too small for a half scale contributes nothing */
            *scale = 1.0f;
            max = 0.0f;
        }
    }
    for (uint32_t j = 0; j < dim; j++) {
        long v = max > 0 ? lroundf(x[j] / *scale) : 0;
        q[j] = (int8_t)(v > levels ? levels : v < -levels ? -levels : v);
    }
}

int mn__row_score_desc(const void *a, const void *b)
{
    const mn__row_score *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int mn_model_quantize(const mn_model *m, const mn_quantize_config *cfg, mn_model **out,
                      mn_err *err)
{
    if (!m || !cfg || !out)
        return mn_err_set(err, MN_EINVAL, "quantize needs a model and a configuration");
    if (m->type == MN_MODEL_LANGID)
        return mn__langid_quantize(m, cfg, out, err);
    if (m->type != MN_MODEL_CLASSIFIER)
        return mn_err_set(err, MN_EUNSUPPORTED, "only micronlp classifiers can be quantized "
                                                "(this is a %s model)", m->ops->name);
    if (cfg->bits != 0 && cfg->bits != 8 && cfg->bits != 6)
        return mn_err_set(err, MN_EINVAL, "quantize: %d bits per weight: 8 or 6", cfg->bits);
    const mn_classifier *src = (const mn_classifier *)m;
    const mn_clf_params *p = &src->p;
    int six = cfg->bits == 6;
    uint32_t dim = p->dim, nrows = src->in.rows;
    mn_classifier *c = mn__clf_new();
    mn__row_score *sc = NULL;
    float *tmp = mn_malloc(dim * sizeof *tmp);
    int rc = MN_ENOMEM;
    if (!c || !tmp)
        goto fail;
    c->p = *p;

    /* Which rows survive: the bias always, then the largest norms up to cutoff. */
    size_t cand = nrows - 1, keep = cand;
    if (cfg->cutoff > 0 && cfg->cutoff < cand)
        keep = cfg->cutoff;
    sc = mn_malloc((cand ? cand : 1) * sizeof *sc);
    if (!sc)
        goto fail;
    for (uint32_t r = 1; r < nrows; r++)
        sc[r - 1] = (mn__row_score){row_norm(&src->in, r, tmp), r};
    if (keep < cand)
        qsort(sc, cand, sizeof *sc, mn__row_score_desc);
    /* Kept rows back in their original order: words first, then buckets by id. */
    uint32_t *kept = mn_malloc((keep ? keep : 1) * sizeof *kept);
    c->owned[7] = kept; /* scratch until the end; freed with the model if we fail */
    if (!kept)
        goto fail;
    for (size_t i = 0; i < keep; i++)
        kept[i] = sc[i].row;
    qsort(kept, keep, sizeof *kept, by_u32);
    size_t nw = 0;
    while (nw < keep && kept[nw] <= p->nwords)
        nw++;
    size_t nb = keep - nw;
    int prune = cfg->cutoff > 0 && keep < cand;

    uint64_t *vocab = mn_malloc((nw ? nw : 1) * sizeof *vocab);
    uint32_t *buckets = mn_malloc((nb ? nb : 1) * sizeof *buckets);
    c->owned[0] = vocab;
    c->owned[6] = buckets;
    if (!vocab || !buckets)
        goto fail;
    for (size_t i = 0; i < nw; i++)
        vocab[i] = src->vocab[kept[i] - 1];
    for (size_t i = 0; i < nb; i++) {
        uint32_t b = kept[nw + i] - 1 - p->nwords;
        buckets[i] = p->pruned ? src->buckets[b] : b;
    }
    c->vocab = vocab;
    c->buckets = buckets;
    c->p.nwords = (uint32_t)nw;
    if (prune || p->pruned) {
        c->p.pruned = 1;
        c->p.nbuckets = (uint32_t)nb;
    }

    /* Input matrix, 8-bit (6-bit weights are kept in 8 bits in memory). A half-precision
     * scale over 65504 would be infinite: no trained weight is near that. */
    uint32_t rows = 1 + (uint32_t)keep;
    int8_t *q = mn_malloc((size_t)rows * dim);
    float *scale = mn_malloc(rows * sizeof *scale);
    c->owned[1] = q;
    c->owned[2] = scale;
    if (!q || !scale)
        goto fail;
    for (uint32_t r = 0; r < rows; r++) {
        get_row(&src->in, r == 0 ? 0 : kept[r - 1], tmp);
        quantize_row(tmp, dim, six ? MN_PACK6_MAX : 127, six, q + (size_t)r * dim, &scale[r]);
        if (!isfinite(scale[r])) {
            rc = MN_EINVAL;
            mn_err_set(err, rc, "quantize: a weight is too large for a 6-bit row's scale");
            goto fail_set;
        }
    }
    c->in = (mn_clf_matrix){.q = q, .scale = scale, .rows = rows, .dim = dim};
    c->p.qinput = 1;
    c->p.in_bits = six ? 6 : 0;

    /* Output matrix: copied, or 8-bit with --qout. */
    uint32_t no = p->nout;
    if (cfg->qout) {
        int8_t *oq = mn_malloc((size_t)(no ? no : 1) * dim);
        float *os = mn_malloc((no ? no : 1) * sizeof *os);
        c->owned[3] = oq;
        c->owned[4] = os;
        if (!oq || !os)
            goto fail;
        for (uint32_t r = 0; r < no; r++) {
            get_row(&src->out, r, tmp);
            quantize_row(tmp, dim, 127, 0, oq + (size_t)r * dim, &os[r]);
        }
        c->out = (mn_clf_matrix){.q = oq, .scale = os, .rows = no, .dim = dim};
        c->p.qoutput = 1;
    } else {
        float *of = mn_malloc((size_t)(no ? no : 1) * dim * sizeof *of);
        c->owned[3] = of;
        if (!of)
            goto fail;
        for (uint32_t r = 0; r < no; r++)
            get_row(&src->out, r, of + (size_t)r * dim);
        c->out = (mn_clf_matrix){.f = of, .rows = no, .dim = dim};
        c->p.qoutput = 0;
    }
    if (p->loss == MN_LOSS_HS && src->base.nlabels > 1) {
        size_t ni = src->base.nlabels - 1;
        int32_t *tree = mn_malloc(ni * 2 * sizeof *tree);
        c->owned[5] = tree;
        if (!tree)
            goto fail;
        memcpy(tree, src->tree.left, ni * sizeof *tree);
        memcpy(tree + ni, src->tree.right, ni * sizeof *tree);
        c->tree = (mn_clf_tree){.left = tree, .right = tree + ni, .nlabels = src->tree.nlabels};
    }
    if ((rc = mn__model_set_labels(&c->base, src->base.labels, NULL, src->base.nlabels)))
        goto fail;
    for (size_t i = 0; i < src->base.nmeta; i++)
        if ((rc = mn__model_meta_set(&c->base, src->base.meta[i].key, src->base.meta[i].value)))
            goto fail;
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", cfg->cutoff);
    const char *kind = six ? (cfg->qout ? "int6+qout" : "int6")
                           : (cfg->qout ? "int8+qout" : "int8");
    if ((rc = mn__model_meta_set(&c->base, "quantized", kind)) ||
        (rc = mn__model_meta_set(&c->base, "cutoff", buf)))
        goto fail;
    if ((rc = mn__clf_index(c)))
        goto fail;
    mn_free(c->owned[7]);
    c->owned[7] = NULL;
    if (six) {
        size_t gaps = 0;
        for (size_t i = 0; i < nb; i++)
            gaps += mn_varint_size(buckets[i] - (i ? buckets[i - 1] : 0));
        c->base.size_bytes = mn_pack6_bytes((size_t)rows * dim) + (size_t)rows * 2 + nw * 8 + gaps;
    } else {
        c->base.size_bytes = (size_t)rows * (dim + 4) + nw * 8 + nb * 4;
    }
    mn_free(sc);
    mn_free(tmp);
    *out = &c->base;
    return 0;
fail:
    mn_err_set(err, rc ? rc : MN_ENOMEM, "quantize: %s", mn_strerror(rc ? rc : MN_ENOMEM));
fail_set:
    mn_free(sc);
    mn_free(tmp);
    mn_model_release(c ? &c->base : NULL);
    return rc ? rc : MN_ENOMEM;
}
