/* SPDX-License-Identifier: MIT
 *
 * Benchmark of key-phrase extraction (mn_keywords_extract) with a keywords model: the texts of
 * the sanity set (tests/data/keywords/sanity.tsv, English, German, French, Spanish news-style
 * paragraphs) joined into texts of about 1 KB, and the same with the language guessed. One warm
 * scratch, as a server worker has. Prints CPU microseconds per text and per KB. Not a test.
 *
 *   bench_keywords MODEL SANITY.tsv [rounds=2000]
 */
#include "micronlp/keywords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of this process: on a busy machine wall time counts other jobs' turns too. */
static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct doc {
    char lang[8];
    char *text;
    size_t len;
} doc;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_keywords MODEL SANITY.tsv [rounds]\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 2000;
    mn_model *m = NULL;
    mn_err err;
    if (mn_model_open(argv[1], &m, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f)
        return 1;
    doc docs[64];
    size_t nd = 0;
    char line[8192];
    /* Texts of about 1 KB: paragraphs of one language appended until 1,000 bytes. */
    while (fgets(line, sizeof line, f) && nd < 64) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        *t1 = '\0';
        char *text = t2 + 1;
        text[strcspn(text, "\n")] = '\0';
        doc *d = nd ? &docs[nd - 1] : NULL;
        if (!d || strcmp(d->lang, line) != 0 || d->len >= 1000) {
            d = &docs[nd++];
            snprintf(d->lang, sizeof d->lang, "%s", line);
            d->text = calloc(1, 16384);
            d->len = 0;
        }
        d->len += (size_t)snprintf(d->text + d->len, 16384 - d->len, "%s%s", d->len ? " " : "",
                                   text);
    }
    fclose(f);
    mn_scratch *s = NULL;
    mn_scratch_new(&s);
    mn_keyword kw[10];
    size_t n, bytes = 0;
    for (size_t i = 0; i < nd; i++)
        bytes += docs[i].len;
    for (int guess = 0; guess < 2; guess++) {
        for (size_t i = 0; i < nd; i++) /* warm-up */
            mn_keywords_extract(m, s, docs[i].text, docs[i].len, docs[i].lang,
                                strlen(docs[i].lang), 10, kw, &n);
        double t0 = now_sec();
        for (int r = 0; r < rounds; r++)
            for (size_t i = 0; i < nd; i++)
                mn_keywords_extract(m, s, docs[i].text, docs[i].len, guess ? NULL : docs[i].lang,
                                    guess ? 0 : strlen(docs[i].lang), 10, kw, &n);
        double sec = now_sec() - t0;
        double texts = (double)rounds * nd;
        printf("%-14s %zu texts of %.0f bytes on average: %.1f us per text, %.1f us per KB, "
               "%.1f MB/s\n",
               guess ? "lang guessed" : "lang given", nd, (double)bytes / nd, 1e6 * sec / texts,
               1e6 * sec / ((double)rounds * bytes / 1024.0), (double)rounds * bytes / sec / 1e6);
    }
    mn_scratch_free(s);
    mn_model_release(m);
    for (size_t i = 0; i < nd; i++)
        free(docs[i].text);
    return 0;
}
