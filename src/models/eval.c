/* SPDX-License-Identifier: MIT
 *
 * Evaluating a model on a labelled data set: accuracy, precision and recall at k, per-label
 * precision/recall/F1, macro-F1 and a confusion matrix. Labels are matched by name, so a data
 * set loaded on its own (or with labels the model never saw) is scored correctly: unknown gold
 * labels count as misses.
 */
#include "core/clock.h"
#include "micronlp/models.h"

#include <string.h>
#include <time.h>

#include "internal.h"
#include "micronlp/alloc.h"

int mn_model_eval(const mn_model *m, const mn_dataset *d, int k, float threshold,
                  mn_eval_result *out, mn_err *err)
{
    if (!m || !d || !out || k < 1)
        return mn_err_set(err, MN_EINVAL, "eval needs a model, data and k >= 1");
    double t0 = mn__now_sec();
    uint32_t nl = mn_model_label_count(m), nd = mn_dataset_label_count(d);
    memset(out, 0, sizeof *out);
    int32_t *map = mn_malloc((nd ? nd : 1) * sizeof *map);
    mn_prediction *pred = mn_malloc((size_t)k * sizeof *pred);
    mn_scratch *s = NULL;
    out->per_label = mn_calloc(nl, sizeof *out->per_label);
    out->confusion = mn_calloc((size_t)nl * nl, sizeof *out->confusion);
    int rc = MN_ENOMEM;
    if (!map || !pred || !out->per_label || !out->confusion || mn_scratch_new(&s))
        goto fail;
    for (uint32_t i = 0; i < nd; i++) {
        const char *name = mn_dataset_label(d, i);
        map[i] = mn_model_label_find(m, name, strlen(name));
    }
    uint64_t correct = 0, tp_total = 0, predicted = 0, gold_total = 0;
    size_t n = mn_dataset_count(d);
    for (size_t i = 0; i < n; i++) {
        const char *text;
        size_t len, ng, np = 0;
        const uint32_t *gold;
        mn_dataset_get(d, i, &text, &len, &gold, &ng);
        if ((rc = mn_model_predict(m, s, text, len, k, threshold, pred, &np)))
            goto fail;
        gold_total += ng;
        predicted += np;
        for (size_t p = 0; p < np; p++) {
            int hit = 0;
            for (size_t g = 0; g < ng; g++)
                hit |= map[gold[g]] == (int32_t)pred[p].label;
            if (hit) {
                tp_total++;
                out->per_label[pred[p].label].tp++;
                if (p == 0)
                    correct++;
            } else {
                out->per_label[pred[p].label].fp++;
            }
        }
        for (size_t g = 0; g < ng; g++) {
            int32_t gl = map[gold[g]];
            if (gl < 0)
                continue;
            int found = 0;
            for (size_t p = 0; p < np; p++)
                found |= pred[p].label == (uint32_t)gl;
            if (!found)
                out->per_label[gl].fn++;
        }
        /* An example whose best answer fell under the threshold has no top-1 column. */
        if (ng && map[gold[0]] >= 0 && np)
            out->confusion[(size_t)map[gold[0]] * nl + pred[0].label]++;
    }
    double f1_sum = 0.0;
    uint32_t f1_n = 0;
    for (uint32_t i = 0; i < nl; i++) {
        mn_label_stats *st = &out->per_label[i];
        st->precision = st->tp + st->fp ? (double)st->tp / (double)(st->tp + st->fp) : 0.0;
        st->recall = st->tp + st->fn ? (double)st->tp / (double)(st->tp + st->fn) : 0.0;
        st->f1 = st->precision + st->recall > 0
                     ? 2 * st->precision * st->recall / (st->precision + st->recall)
                     : 0.0;
        if (st->tp + st->fp + st->fn > 0) {
            f1_sum += st->f1;
            f1_n++;
        }
    }
    out->examples = n;
    out->k = k;
    out->nlabels = nl;
    out->accuracy = n ? (double)correct / (double)n : 0.0;
    out->precision_at_k = predicted ? (double)tp_total / (double)predicted : 0.0;
    out->recall_at_k = gold_total ? (double)tp_total / (double)gold_total : 0.0;
    out->macro_f1 = f1_n ? f1_sum / f1_n : 0.0;
    out->seconds = mn__now_sec() - t0;
    mn_free(map);
    mn_free(pred);
    mn_scratch_free(s);
    return 0;
fail:
    mn_free(map);
    mn_free(pred);
    mn_scratch_free(s);
    mn_eval_result_deinit(out);
    return mn_err_set(err, rc, "evaluation failed: %s", mn_strerror(rc));
}

void mn_eval_result_deinit(mn_eval_result *r)
{
    if (!r)
        return;
    mn_free(r->per_label);
    mn_free(r->confusion);
    r->per_label = NULL;
    r->confusion = NULL;
}
