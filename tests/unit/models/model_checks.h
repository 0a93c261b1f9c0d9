/* SPDX-License-Identifier: MIT
 *
 * Checks the model tests share: two models give the same answers, and a model file opens
 * cleanly whichever allocation fails. Include after test.h (they use its ASSERTs).
 */
#ifndef MN_TEST_MODEL_CHECKS_H
#define MN_TEST_MODEL_CHECKS_H

#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/models.h"

/* a and b give the same top 3 labels for each of texts[0..n), probabilities within tol (tol 0:
 * the same float, bit for bit). */
static inline void same_answers(const mn_model *a, const mn_model *b, mn_scratch *s,
                                const char *const *texts, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        mn_prediction pa[3], pb[3];
        size_t na, nb;
        ASSERT_EQ(mn_model_predict(a, s, texts[i], strlen(texts[i]), 3, 0.0f, pa, &na), 0);
        ASSERT_EQ(mn_model_predict(b, s, texts[i], strlen(texts[i]), 3, 0.0f, pb, &nb), 0);
        ASSERT_EQ(na, nb);
        for (size_t j = 0; j < na; j++) {
            ASSERT_EQ(pa[j].label, pb[j].label);
            if (tol == 0.0)
                ASSERT(memcmp(&pa[j].prob, &pb[j].prob, sizeof(float)) == 0);
            else
                ASSERT_NEAR(pa[j].prob, pb[j].prob, tol);
        }
    }
}

/* Opens the model file at path with the 1st, 2nd, ... allocation failing, until an open
 * succeeds (at most limit tries): every failed open must be MN_ENOMEM with no model. *failed:
 * the opens refused before one succeeded, or -1 if none did. Leaks show in the sanitizer build. */
static inline void open_under_alloc_failures(const char *path, long limit, int *failed)
{
    *failed = -1;
    int refused = 0;
    for (long n = 1; n < limit; n++) {
        mn_model *o = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_model_open(path, &o, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            mn_model_release(o);
            *failed = refused;
            return;
        }
        ASSERT_EQ(rc, MN_ENOMEM);
        ASSERT(o == NULL);
        refused++;
    }
}

#endif
