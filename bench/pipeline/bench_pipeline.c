/* SPDX-License-Identifier: MIT
 *
 * Routed pipeline vs the same models on every text, in one process, on one corpus:
 *
 *   bench_pipeline REPO PIPELINES CORPUS ROUTED EVERYTHING [ROUNDS]
 *
 * CORPUS has one text per line. Each pipeline runs over the whole corpus ROUNDS times (after
 * one warm-up pass); the best round's throughput is reported, with the routing overhead per
 * text (the run's time minus the time spent in models: deciding, evaluating `when`,
 * publishing answers) as mean and 99th percentile, and the steps each pipeline ran. Then every
 * step that ran in the routed pipeline is compared with the same step of the everything
 * pipeline on the same text (their JSON without timings): they must be identical.
 *
 * Built and run by bench/pipeline/run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/pipeline.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct corpus {
    char **text;
    size_t *len;
    size_t n;
    size_t bytes;
} corpus;

static int read_corpus(const char *path, corpus *c)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (c->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            c->text = realloc(c->text, alloc * sizeof *c->text);
            c->len = realloc(c->len, alloc * sizeof *c->len);
        }
        c->text[c->n] = malloc((size_t)n + 1);
        memcpy(c->text[c->n], line, (size_t)n);
        c->text[c->n][n] = '\0';
        c->len[c->n++] = (size_t)n;
        c->bytes += (size_t)n;
    }
    free(line);
    fclose(f);
    return 0;
}

typedef struct result {
    double texts_per_s, best_s;
    double overhead_mean_ns, overhead_p50_ns, overhead_p99_ns;
    size_t steps_run, steps_total;
    double step_s[64]; /* time in each step's model during the best round */
} result;

/* One pass over the corpus; kept in r when it is the fastest so far (round >= 0; round -1
 * warms caches and scratch). ov: room for one overhead per text. */
static void run_round(const mn_pipeline *p, mn_route *rt, const corpus *c, int round, result *r,
                      uint64_t *ov)
{
    size_t run_steps = 0, nsteps = mn_pipeline_step_count(p);
    uint64_t step_ns[64] = {0};
    double t0 = now();
    for (size_t i = 0; i < c->n; i++) {
        mn_pipeline_run(p, NULL, rt, c->text[i], c->len[i]);
        ov[i] = mn_route_overhead_ns(rt);
        for (size_t s = 0; s < nsteps && s < 64; s++) {
            run_steps += mn_route_status(rt, s) != MN_STEP_SKIPPED;
            step_ns[s] += mn_route_step_ns(rt, s);
        }
    }
    double el = now() - t0;
    if (round < 0 || el >= r->best_s)
        return;
    r->best_s = el;
    double sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += (double)ov[i];
    qsort(ov, c->n, sizeof *ov, cmp_u64);
    r->overhead_mean_ns = sum / (double)c->n;
    r->overhead_p50_ns = (double)ov[c->n / 2];
    r->overhead_p99_ns = (double)ov[(size_t)((double)c->n * 0.99)];
    r->steps_run = run_steps;
    r->steps_total = c->n * nsteps;
    for (size_t s = 0; s < nsteps && s < 64; s++)
        r->step_s[s] = (double)step_ns[s] / 1e9;
    r->texts_per_s = (double)c->n / r->best_s;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s REPO PIPELINES CORPUS ROUTED EVERYTHING [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 6 ? atoi(argv[6]) : 3;
    mn_err err;
    mn_dir_host *host;
    mn_pipelines *ps;
    if (mn_dir_host_new(argv[1], &host, &err) ||
        mn_pipelines_load(argv[2], mn_dir_host_get(host), &ps, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const mn_pipeline *routed = mn_pipelines_find(ps, argv[4], strlen(argv[4]));
    const mn_pipeline *every = mn_pipelines_find(ps, argv[5], strlen(argv[5]));
    corpus c = {0};
    if (!routed || !every || read_corpus(argv[3], &c) != 0 || c.n == 0) {
        fprintf(stderr, "no such pipeline, or no corpus\n");
        return 1;
    }
    mn_route *a, *b;
    mn_route_new(&a);
    mn_route_new(&b);
    /* The two pipelines take turns, round by round, so that both see the same spells of a
     * machine whose speed drifts; each keeps its fastest round. */
    result ra = {.best_s = 1e30}, rb = {.best_s = 1e30};
    uint64_t *ov = malloc(c.n * sizeof *ov);
    for (int round = -1; round < rounds; round++) {
        run_round(routed, a, &c, round, &ra, ov);
        run_round(every, b, &c, round, &rb, ov);
    }
    free(ov);

    /* Same answers for the steps that ran. */
    size_t compared = 0, differ = 0;
    for (size_t i = 0; i < c.n; i++) {
        mn_pipeline_run(routed, NULL, a, c.text[i], c.len[i]);
        mn_pipeline_run(every, NULL, b, c.text[i], c.len[i]);
        for (size_t s = 0; s < mn_pipeline_step_count(routed); s++) {
            if (mn_route_status(a, s) != MN_STEP_OK)
                continue;
            const char *name = mn_pipeline_step_name(routed, s);
            size_t t = 0;
            while (t < mn_pipeline_step_count(every) &&
                   strcmp(mn_pipeline_step_name(every, t), name) != 0)
                t++;
            if (t == mn_pipeline_step_count(every))
                continue;
            const char *ja, *jb;
            size_t la, lb;
            mn_route_step_json(a, s, c.text[i], c.len[i], MN_ROUTE_JSON_NO_TIMES, &ja, &la);
            char *copy = malloc(la + 1);
            memcpy(copy, ja, la + 1);
            mn_route_step_json(b, t, c.text[i], c.len[i], MN_ROUTE_JSON_NO_TIMES, &jb, &lb);
            compared++;
            if (la != lb || memcmp(copy, jb, la) != 0) {
                if (differ++ < 3)
                    fprintf(stderr, "differ: text %zu step %s\n  %s\n  %.*s\n", i, name, copy,
                            (int)lb, jb);
            }
            free(copy);
        }
    }
    printf("corpus: %zu texts, %.1f MB\n", c.n, (double)c.bytes / 1e6);
    printf("| pipeline | texts/s | steps run | routing overhead per text: mean / p50 / p99 |\n");
    printf("|---|---:|---:|---:|\n");
    printf("| %s (routed) | %.0f | %zu of %zu (%.0f%%) | %.2f / %.2f / %.2f µs |\n", argv[4],
           ra.texts_per_s, ra.steps_run, ra.steps_total,
           100.0 * (double)ra.steps_run / (double)ra.steps_total, ra.overhead_mean_ns / 1e3,
           ra.overhead_p50_ns / 1e3, ra.overhead_p99_ns / 1e3);
    printf("| %s (every model) | %.0f | %zu of %zu (%.0f%%) | %.2f / %.2f / %.2f µs |\n", argv[5],
           rb.texts_per_s, rb.steps_run, rb.steps_total,
           100.0 * (double)rb.steps_run / (double)rb.steps_total, rb.overhead_mean_ns / 1e3,
           rb.overhead_p50_ns / 1e3, rb.overhead_p99_ns / 1e3);
    printf("\nrouted / everything throughput: %.2fx\n", ra.texts_per_s / rb.texts_per_s);
    printf("answers compared for the steps that ran: %zu, different: %zu\n", compared, differ);
    printf("\nTime in each step's model (s, best round):\n\n| step | %s (routed) | %s (every model) |\n"
           "|---|---:|---:|\n",
           argv[4], argv[5]);
    for (size_t t = 0; t < mn_pipeline_step_count(every) && t < 64; t++) {
        const char *name = mn_pipeline_step_name(every, t);
        double routed_s = 0;
        for (size_t s = 0; s < mn_pipeline_step_count(routed) && s < 64; s++)
            if (strcmp(mn_pipeline_step_name(routed, s), name) == 0)
                routed_s = ra.step_s[s];
        printf("| %s | %.3f | %.3f |\n", name, routed_s, rb.step_s[t]);
    }
    mn_route_free(a);
    mn_route_free(b);
    mn_pipelines_free(ps);
    mn_dir_host_free(host);
    for (size_t i = 0; i < c.n; i++)
        free(c.text[i]);
    free(c.text);
    free(c.len);
    return differ ? 1 : 0;
}
