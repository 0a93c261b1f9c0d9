/* SPDX-License-Identifier: MIT
 *
 * The tiny tagged corpora of tests/data/tagger, for the tagger's tests.
 */
#ifndef MN_TEST_TAGGER_CORPUS_H
#define MN_TEST_TAGGER_CORPUS_H

#include <stdio.h>
#include <stdlib.h>

#include "micronlp/models.h"

/* tests/data/tagger/NAME (or under $MN_TEST_DATA), any format; NULL with the reason printed. */
static mn_tagged_corpus *load(const char *name)
{
    char path[512];
    const char *dir = getenv("MN_TEST_DATA");
    snprintf(path, sizeof path, "%s/tagger/%s", dir ? dir : "tests/data", name);
    mn_tagged_corpus *c = NULL;
    mn_err err;
    if (mn_tagged_corpus_load(path, MN_TAG_FORMAT_AUTO, 0, &c, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return c;
}

#endif
