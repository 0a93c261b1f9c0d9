/* SPDX-License-Identifier: MIT
 *
 * Benchmark of `when:` expressions (src/pipeline/expr.c): ns per evaluation of a few
 * expressions a pipeline might route on, over 4096 varied texts' values (some missing), plus
 * the cost of compiling and of explaining. Routing has about 5 us per text in total and a
 * pipeline has several expressions, so one evaluation should stay well under 100 ns. Not part
 * of the test suite. Build (after building build-expr/) and run from the repository root with
 * the command below; `bench_expr [rounds=15]`.
 */
/* clang-format off */
/* cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/pipeline/bench_expr.c build-expr/libmicronlp_pipeline.a build-expr/libmicronlp.a $(pkg-config --libs libutf8proc libxxhash yaml-0.1) -lm -lpthread -o build-expr/bench_expr && ./build-expr/bench_expr */
/* clang-format on */
#include "pipeline/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/err.h"

enum { S_LEN, S_LABEL, S_SCORE, S_URL, S_SPAM, S_SCRIPT, NSLOTS, NTEXTS = 4096 };

static const struct {
    const char *name;
    uint32_t slot;
    mn__etype type;
} fields[] = {
    {"len", S_LEN, MN__T_NUM},
    {"lang.label", S_LABEL, MN__T_STR},
    {"spam.score", S_SCORE, MN__T_NUM},
    {"has_url", S_URL, MN__T_BOOL},
    {"spam.is_spam", S_SPAM, MN__T_BOOL},
    {"script", S_SCRIPT, MN__T_STR},
};

static int lookup(void *ctx, const char *name, size_t len, uint32_t *slot, mn__etype *type,
                  char *msg, size_t msg_cap)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0) {
            *slot = fields[i].slot;
            *type = fields[i].type;
            return 0;
        }
    snprintf(msg, msg_cap, "unknown field '%.*s'", (int)len, name);
    return MN_EINVAL;
}

static const char *const exprs[] = {
    "lang.label in [\"en\",\"de\"] && spam.score < 0.5 && len > 20", /* the typical one */
    "len > 20",
    "has_url && !spam.is_spam",
    "lang.label in [\"en\",\"de\",\"fr\",\"es\",\"it\",\"pt\",\"nl\",\"sv\",\"da\",\"no\",\"fi\","
    "\"pl\",\"cs\",\"sk\",\"sl\",\"hr\",\"hu\",\"ro\",\"bg\",\"el\"]",
    "(lang.label == \"en\" || script == \"Latn\") && not (spam.score >= 0.9 || len < 3) && "
    "len not in [0, 1, 2]",
};

static uint64_t rng = 0x853C49E6748FEA9Bull;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static mn__value texts[NTEXTS][NSLOTS];

static void make_texts(void)
{
    static const char *const labels[] = {"en", "de", "fr", "es", "ja", "und"};
    static const char *const scripts[] = {"Latn", "Latn", "Latn", "Cyrl", "Hani"};
    for (int t = 0; t < NTEXTS; t++) {
        mn__value *v = texts[t];
        const char *l = labels[rnd(6)], *s = scripts[rnd(5)];
        v[S_LEN] = (mn__value){.type = MN__T_NUM, .num = rnd(400)};
        v[S_LABEL] = (mn__value){.type = MN__T_STR, .str = l, .len = strlen(l)};
        v[S_SCORE] = (mn__value){.type = MN__T_NUM, .num = rnd(1000) / 1000.0};
        v[S_URL] = (mn__value){.type = MN__T_BOOL, .num = rnd(2)};
        v[S_SPAM] = (mn__value){.type = MN__T_BOOL, .num = rnd(4) == 0};
        v[S_SCRIPT] = (mn__value){.type = MN__T_STR, .str = s, .len = strlen(s)};
        if (rnd(10) == 0) /* a skipped step */
            v[1 + rnd(NSLOTS - 1)].type = MN__T_MISSING;
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    if (rounds < 1) rounds = 1;
    make_texts();
    printf("%-60s %10s %10s %8s\n", "expression", "best ns", "mean ns", "true%");
    long sink = 0;
    for (size_t x = 0; x < sizeof exprs / sizeof exprs[0]; x++) {
        mn__expr *e;
        mn__expr_error err;
        if (mn__expr_compile(exprs[x], strlen(exprs[x]), lookup, NULL, &e, &err)) {
            fprintf(stderr, "%s: %s\n", exprs[x], err.msg);
            return 1;
        }
        enum { PASSES = 200 };
        double best = 1e30, total = 0;
        long trues = 0;
        for (int r = 0; r < rounds; r++) {
            double t0 = now_ns();
            for (int p = 0; p < PASSES; p++)
                for (int t = 0; t < NTEXTS; t++) {
                    int v = mn__expr_eval(e, texts[t]);
                    sink += v;
                    trues += v == 1;
                }
            double ns = (now_ns() - t0) / ((double)PASSES * NTEXTS);
            total += ns;
            if (ns < best) best = ns;
        }
        char shown[61];
        snprintf(shown, sizeof shown, "%s", exprs[x]);
        printf("%-60s %10.1f %10.1f %7.1f%%\n", shown, best, total / rounds,
               100.0 * (double)trues / ((double)rounds * PASSES * NTEXTS));
        mn__expr_free(e);
    }

    /* compile and explain: load time and tracing, not the hot path */
    const char *typical = exprs[0];
    enum { N = 20000 };
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        mn__expr *e;
        mn__expr_error err;
        if (mn__expr_compile(typical, strlen(typical), lookup, NULL, &e, &err)) return 1;
        mn__expr_free(e);
    }
    printf("compile (typical):  %.0f ns\n", (now_ns() - t0) / N);
    mn__expr *e;
    mn__expr_error err;
    mn__expr_compile(typical, strlen(typical), lookup, NULL, &e, &err);
    char buf[256];
    t0 = now_ns();
    for (int i = 0; i < N; i++)
        sink += (long)mn__expr_explain(e, texts[i % NTEXTS], buf, sizeof buf);
    printf("explain (typical):  %.0f ns   e.g. %s\n", (now_ns() - t0) / N, buf);
    mn__expr_free(e);
    printf("sizeof(mn__value) = %zu\n", sizeof(mn__value));
    return sink == 42 ? 2 : 0; /* keeps the results alive */
}
