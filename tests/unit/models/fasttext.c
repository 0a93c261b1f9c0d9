/* SPDX-License-Identifier: MIT
 *
 * Tests for src/models/fasttext.c: trains small models with the real `fasttext` (0.9.x, a
 * declared test dependency) on tests/data/fasttext/train.txt, for every loss and feature
 * (word n-grams, character n-grams, quantization with and without pruning, quantized output),
 * and checks that our top-3 labels and probabilities match `fasttext predict-prob` on every line
 * of tests/data/fasttext/test.txt within 1e-4. Then feeds truncated, corrupted and hostile
 * files to the loader, which must refuse each with a clean error and never crash.
 */
#include "models/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "test.h"

#define TOL 1e-4
#define TIE 1e-6

static char tmpdir[256];

static void cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

/* The per-process temporary directory, made on first use and removed at exit. */
static const char *tmp(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/mn_fasttext_XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(cleanup);
    }
    return tmpdir;
}

static const char *data(void)
{
    const char *d = getenv("MN_TEST_DATA");
    return d && *d ? d : "tests/data";
}

static const char *fasttext_bin(void)
{
    const char *f = getenv("MN_FASTTEXT");
    return f && *f ? f : "fasttext";
}

/* Runs a shell command (printf-style); returns its exit status, or -1. */
static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static int spit(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* The fasttext binary must be there: a missing dependency is a failure, not a skip. */
#define REQUIRE_FASTTEXT()                                                                         \
    do {                                                                                           \
        if (run("command -v %s >/dev/null 2>&1", fasttext_bin()) != 0)                             \
            MN_FAIL_AT("`%s` not found: the fastText CLI (Debian package `fasttext`, 0.9.2) is a " \
                       "declared test dependency (.ci/run installs it); set MN_FASTTEXT to its "   \
                       "path",                                                                     \
                       fasttext_bin());                                                            \
    } while (0)

/* Trains <tmp>/<name>.bin with `fasttext supervised <opts>` on train.txt. */
static void train(const char *name, const char *opts)
{
    int rc = run("%s supervised -input '%s/fasttext/train.txt' -output '%s/%s' -thread 1 -seed 1 "
                 "-verbose 0 %s >'%s/%s.log' 2>&1",
                 fasttext_bin(), data(), tmp(), name, opts, tmp(), name);
    if (rc != 0)
        MN_FAIL_AT("fasttext supervised %s failed (exit %d); see %s/%s.log", opts, rc, tmp(), name);
}

static const char *strip_prefix(const char *s)
{
    return strncmp(s, "__label__", 9) == 0 ? s + 9 : s;
}

/* Predicts every line of the test file with model `file` (k = 3) and compares with
 * `fasttext predict-prob`. Labels must be equal, except among tied probabilities, whose order
 * fastText leaves to its heap. */
static void compare(const char *file, const char *test_txt, float threshold, double *maxdiff)
{
    char model[512], out_path[512];
    snprintf(model, sizeof model, "%s/%s", tmp(), file);
    snprintf(out_path, sizeof out_path, "%s/%s.pred", tmp(), file);
    int rc = run("%s predict-prob '%s' '%s' 3 %g >'%s' 2>&1", fasttext_bin(), model, test_txt,
                 (double)threshold, out_path);
    if (rc != 0)
        MN_FAIL_AT("fasttext predict-prob %s failed (exit %d)", model, rc);

    size_t tlen = 0, plen = 0;
    char *text = slurp(test_txt, &tlen), *pred = slurp(out_path, &plen);
    mn_model *m = NULL;
    mn_scratch *s = NULL;
    mn_err err = {0};
    ASSERT(text && pred);
    rc = mn_model_open(model, &m, &err);
    if (rc)
        MN_FAIL_AT("mn_model_open(%s): %s", model, err.msg);
    ASSERT_EQ(mn_model_kind(m), MN_MODEL_FASTTEXT);
    ASSERT_EQ(mn_scratch_new(&s), 0);

    char *tline = text, *pline = pred;
    int lineno = 0, ties = 0;
    while (*tline) {
        lineno++;
        char *tend = strchr(tline, '\n'), *pend = strchr(pline, '\n');
        if (!tend || !pend)
            MN_FAIL_AT("%s: line %d: test file or fastText output ends early", file, lineno);
        *pend = '\0';
        mn_prediction p[3];
        size_t n = 0;
        ASSERT_EQ(mn_model_predict(m, s, tline, (size_t)(tend - tline), 3, threshold, p, &n), 0);

        /* fastText: "__label__a 0.9 __label__b 0.05 ..." */
        char *save = NULL;
        size_t i = 0;
        for (char *tok = strtok_r(pline, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
            char *prob = strtok_r(NULL, " ", &save);
            if (!prob || i >= n)
                MN_FAIL_AT("%s: line %d: fastText gives more predictions than our %zu", file,
                           lineno, n);
            double want = strtod(prob, NULL), got = p[i].prob;
            double d = fabs(want - got);
            if (d > *maxdiff)
                *maxdiff = d;
            if (d > TOL)
                MN_FAIL_AT("%s: line %d: prediction %zu: %s %.9g vs ours %s %.9g", file, lineno, i,
                           tok, want, mn_model_label(m, p[i].label), got);
            if (strcmp(strip_prefix(tok), mn_model_label(m, p[i].label)) != 0) {
                /* Accept only a tie: the label fastText put here has our probability. */
                int32_t id = mn_model_label_find(m, strip_prefix(tok), strlen(strip_prefix(tok)));
                if (id < 0 || d > TIE)
                    MN_FAIL_AT("%s: line %d: prediction %zu: %s vs ours %s", file, lineno, i, tok,
                               mn_model_label(m, p[i].label));
                ties++;
            }
        }
        if (i != n)
            MN_FAIL_AT("%s: line %d: fastText gives %zu predictions, we give %zu", file, lineno, i,
                       n);
        tline = tend + 1;
        pline = pend + 1;
    }
    printf("     %-14s %3d lines, max |dp| %.3g%s\n", file, lineno, *maxdiff,
           ties ? " (some tied labels in another order)" : "");
    mn_scratch_free(s);
    mn_model_release(m);
    free(text);
    free(pred);
}

static void compare_default(const char *file)
{
    char test_txt[512];
    double maxdiff = 0;
    snprintf(test_txt, sizeof test_txt, "%s/fasttext/test.txt", data());
    compare(file, test_txt, 0.0f, &maxdiff);
}

TEST(softmax_words)
{
    REQUIRE_FASTTEXT();
    train("sm", "-dim 16 -epoch 25 -lr 1.0");
    if (mn_test_failed)
        return;
    compare_default("sm.bin");
}

TEST(softmax_word_ngrams)
{
    REQUIRE_FASTTEXT();
    train("sm2", "-dim 16 -epoch 25 -lr 1.0 -wordNgrams 2 -bucket 20000");
    if (mn_test_failed)
        return;
    compare_default("sm2.bin");
}

TEST(softmax_subwords)
{
    REQUIRE_FASTTEXT();
    train("smc", "-dim 16 -epoch 25 -lr 1.0 -minn 2 -maxn 4 -bucket 20000");
    if (mn_test_failed)
        return;
    compare_default("smc.bin");
}

TEST(ova)
{
    REQUIRE_FASTTEXT();
    train("ova", "-dim 12 -epoch 25 -lr 0.5 -loss ova -wordNgrams 2 -minn 2 -maxn 4 -bucket 20000");
    if (mn_test_failed)
        return;
    compare_default("ova.bin");
    if (mn_test_failed)
        return;
    /* With a threshold, as for multi-label prediction. */
    char test_txt[512];
    double maxdiff = 0;
    snprintf(test_txt, sizeof test_txt, "%s/fasttext/test.txt", data());
    compare("ova.bin", test_txt, 0.3f, &maxdiff);
}

TEST(hs)
{
    REQUIRE_FASTTEXT();
    train("hs", "-dim 16 -epoch 25 -lr 1.0 -loss hs -wordNgrams 2 -bucket 20000");
    if (mn_test_failed)
        return;
    compare_default("hs.bin");
    if (mn_test_failed)
        return;
    char test_txt[512];
    double maxdiff = 0;
    snprintf(test_txt, sizeof test_txt, "%s/fasttext/test.txt", data());
    compare("hs.bin", test_txt, 0.05f, &maxdiff);
}

TEST(ns)
{
    REQUIRE_FASTTEXT();
    train("ns", "-dim 16 -epoch 25 -lr 0.5 -loss ns -minn 1 -maxn 5 -bucket 5000");
    if (mn_test_failed)
        return;
    compare_default("ns.bin");
}

TEST(quantized)
{
    REQUIRE_FASTTEXT();
    train("q", "-dim 10 -epoch 25 -lr 1.0 -wordNgrams 2 -minn 2 -maxn 4 -bucket 20000");
    if (mn_test_failed)
        return;
    /* Pruned (cutoff) with norms quantized apart, dim 10 / dsub 4: a shorter last sub-vector. */
    int rc = run("%s quantize -output '%s/q' -input '%s/fasttext/train.txt' -qnorm -retrain "
                 "-epoch 1 -cutoff 1000 -dsub 4 -thread 1 -verbose 0 >'%s/q.qlog' 2>&1",
                 fasttext_bin(), tmp(), data(), tmp());
    if (rc != 0)
        MN_FAIL_AT("fasttext quantize failed (exit %d); see %s/q.qlog", rc, tmp());
    compare_default("q.ftz");
    if (mn_test_failed)
        return;
    mn_model *m = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/q.ftz", tmp());
    ASSERT_EQ(mn_model_open(path, &m, NULL), 0);
    ASSERT_STREQ(mn_model_meta(m, "quantized"), "1");
    mn_model_release(m);

    /* Not pruned, no norms. */
    train("q2", "-dim 16 -epoch 25 -lr 1.0 -wordNgrams 2 -bucket 2000");
    if (mn_test_failed)
        return;
    rc = run("%s quantize -output '%s/q2' -input '%s/fasttext/train.txt' -thread 1 -verbose 0 "
             ">'%s/q2.qlog' 2>&1",
             fasttext_bin(), tmp(), data(), tmp());
    if (rc != 0)
        MN_FAIL_AT("fasttext quantize failed (exit %d); see %s/q2.qlog", rc, tmp());
    compare_default("q2.ftz");
}

/* -qout quantizes the output matrix, which needs at least 256 rows: 300 labels. */
TEST(quantized_output)
{
    REQUIRE_FASTTEXT();
    char path[512];
    snprintf(path, sizeof path, "%s/many.txt", tmp());
    FILE *f = fopen(path, "w");
    ASSERT(f);
    uint32_t x = 12345;
    for (int i = 0; i < 1500; i++) {
        int label = i % 300;
        fprintf(f, "__label__L%d", label);
        for (int w = 0; w < 6; w++) {
            x = x * 1103515245u + 12345u;
            fprintf(f, " w%u", w < 3 ? (unsigned)(label * 7 + w) : (unsigned)((x >> 16) % 900));
        }
        fputc('\n', f);
    }
    fclose(f);
    int rc = run("%s supervised -input '%s' -output '%s/many' -dim 8 -epoch 5 -lr 1.0 -thread 1 "
                 "-verbose 0 >/dev/null 2>&1 && %s quantize -output '%s/many' -input '%s' -qout "
                 "-qnorm -thread 1 -verbose 0 >/dev/null 2>&1",
                 fasttext_bin(), path, tmp(), fasttext_bin(), tmp(), path);
    if (rc != 0)
        MN_FAIL_AT("fasttext supervised/quantize -qout failed (exit %d)", rc);
    double maxdiff = 0;
    compare("many.ftz", path, 0.0f, &maxdiff);
}

/* Labels, metadata, save refusal and the text conventions around end of line. */
TEST(model_surface)
{
    REQUIRE_FASTTEXT();
    train("surf", "-dim 8 -epoch 5 -wordNgrams 2 -bucket 1000");
    if (mn_test_failed)
        return;
    char path[512], out[512];
    snprintf(path, sizeof path, "%s/surf.bin", tmp());
    snprintf(out, sizeof out, "%s/surf.mn", tmp());
    mn_model *m = NULL;
    mn_err err = {0};
    ASSERT_EQ(mn_model_open(path, &m, &err), 0);
    ASSERT_STREQ(mn_model_type_name(m), "fasttext");
    ASSERT_EQ(mn_model_label_count(m), 8);
    ASSERT(mn_model_label_find(m, "sports", 6) >= 0);
    ASSERT(mn_model_label_find(m, "__label__sports", 15) < 0);
    ASSERT_STREQ(mn_model_meta(m, "source"), "fasttext");
    ASSERT_STREQ(mn_model_meta(m, "dim"), "8");
    ASSERT_STREQ(mn_model_meta(m, "loss"), "softmax");
    ASSERT_STREQ(mn_model_meta(m, "word_ngrams"), "2");
    ASSERT_STREQ(mn_model_meta(m, "bucket"), "1000");
    ASSERT_STREQ(mn_model_meta(m, "maxn"), "0");
    ASSERT_STREQ(mn_model_meta(m, "quantized"), "0");
    ASSERT(mn_model_size_bytes(m) > 0);
    ASSERT_EQ(mn_model_save(m, out, &err), MN_EUNSUPPORTED);
    ASSERT(strstr(err.msg, "retrain") != NULL);

    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction a[8], b[8];
    size_t na = 0, nb = 0;
    /* A trailing newline is the end of line fastText appends anyway. */
    ASSERT_EQ(mn_model_predict(m, s, "good match goal", 15, 8, 0.0f, a, &na), 0);
    ASSERT_EQ(mn_model_predict(m, s, "good match goal\n", 16, 8, 0.0f, b, &nb), 0);
    ASSERT_EQ(na, 8);
    ASSERT_EQ(nb, 8);
    for (size_t i = 0; i < na; i++) {
        ASSERT_EQ(a[i].label, b[i].label);
        ASSERT_NEAR(a[i].prob, b[i].prob, 1e-7);
        ASSERT(i == 0 || a[i].prob <= a[i - 1].prob);
    }
    /* An empty text gives the prior over "</s>"; k larger than the label count is fine. */
    ASSERT_EQ(mn_model_predict(m, s, "", 0, 20, 0.0f, a, &na), 0);
    ASSERT_EQ(na, 8);
    /* The threshold applies. */
    ASSERT_EQ(mn_model_predict(m, s, "good match goal", 15, 8, 0.99f, a, &na), 0);
    ASSERT(na <= 1);
    mn_scratch_free(s);
    mn_model_release(m);
}

/* ---- refusals ----------------------------------------------------------------------------- */

/* A small valid model to damage: no n-grams, so the file is a few KB. */
static char *small_model(size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/small.bin", tmp());
    if (access(path, R_OK) != 0 &&
        run("%s supervised -input '%s/fasttext/train.txt' -output '%s/small' -dim 4 -epoch 1 "
            "-thread 1 -verbose 0 >/dev/null 2>&1",
            fasttext_bin(), data(), tmp()) != 0)
        return NULL;
    return slurp(path, len);
}

static int open_bytes(const void *p, size_t len, mn_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/damaged.bin", tmp());
    if (spit(path, p, len) != 0)
        return -9999;
    mn_model *m = NULL;
    int rc = mn__fasttext_open(path, &m, err);
    if (rc == 0) {
        mn_scratch *s = NULL;
        mn_prediction pr[4];
        size_t n;
        if (mn_scratch_new(&s) == 0) {
            mn_model_predict(m, s, "match goal é 東京\tthe", 20, 4, 0.0f, pr, &n);
            mn_scratch_free(s);
        }
        mn_model_release(m);
    } else if (strncmp(err->msg, path, strlen(path)) != 0) {
        fprintf(stderr, "error message does not name the file: %s\n", err->msg);
        return -9998;
    }
    return rc;
}

static void put32(char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        p[i] = (char)(u >> (8 * i));
}

/* Offsets in the header: magic 0, version 4, args 8.. (dim 8, wordNgrams 28, loss 32, model 36,
 * bucket 40, minn 44, maxn 48), dictionary 64 (size 64, nwords 68, nlabels 72). */
TEST(truncated)
{
    REQUIRE_FASTTEXT();
    size_t len = 0;
    char *buf = small_model(&len);
    ASSERT(buf);
    mn_err err;
    ASSERT_EQ(open_bytes(buf, len, &err), 0);
    /* Every cut in the header and dictionary, then a spread over the matrices. */
    for (size_t cut = 0; cut < len; cut += cut < 4096 ? 1 : 97) {
        int rc = open_bytes(buf, cut, &err);
        if (rc != MN_ETRUNC)
            MN_FAIL_AT("cut at %zu of %zu: %d (%s), expected MN_ETRUNC", cut, len, rc, err.msg);
    }
    free(buf);
}

TEST(bad_header)
{
    REQUIRE_FASTTEXT();
    size_t len = 0;
    char *buf = small_model(&len);
    ASSERT(buf);
    mn_err err;
    char *c = malloc(len);
    ASSERT(c);

    /* Garbage right after the magic: a nonsense version. */
    memcpy(c, buf, len);
    for (size_t i = 4; i < len; i++)
        c[i] = (char)(i * 131 + 7);
    ASSERT_EQ(open_bytes(c, len, &err), MN_EVERSION);
    /* Garbage after magic and version. */
    put32(c + 4, 12);
    int rc = open_bytes(c, len, &err);
    ASSERT(rc == MN_ECORRUPT || rc == MN_ETRUNC || rc == MN_EUNSUPPORTED);

    struct {
        size_t off;
        int32_t v;
        int want;
    } cases[] = {
        {4, 13, MN_EVERSION},          /* newer format */
        {4, 10, MN_EVERSION},          /* older format */
        {0, 0x12345678, MN_EFOREIGN},  /* magic */
        {8, 100000, MN_ECORRUPT},      /* dim */
        {8, 0, MN_ECORRUPT},           /* dim */
        {8, -5, MN_ECORRUPT},          /* dim */
        {32, 9, MN_ECORRUPT},          /* loss */
        {36, 2, MN_EUNSUPPORTED},      /* skipgram */
        {40, -1, MN_ECORRUPT},         /* bucket */
        {48, 1000000, MN_ECORRUPT},    /* maxn */
        {28, 0x7fffffff, MN_ECORRUPT}, /* wordNgrams */
        {64, -1, MN_ECORRUPT},         /* size */
        {68, 100000, MN_ECORRUPT},     /* nwords > size */
        {72, -3, MN_ECORRUPT},         /* nlabels */
        {64, 0x7fffffff, MN_ECORRUPT}, /* size: sizes no longer add up */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(c, buf, len);
        put32(c + cases[i].off, cases[i].v);
        rc = open_bytes(c, len, &err);
        if (rc != cases[i].want)
            MN_FAIL_AT("case %zu (offset %zu = %d): %d (%s), expected %d", i, cases[i].off,
                       cases[i].v, rc, err.msg, cases[i].want);
    }
    /* All three sizes lying together: refused before allocating for 2^31 entries. */
    memcpy(c, buf, len);
    put32(c + 64, 0x7ffffff0);
    put32(c + 68, 0x7ffffff0 - 8);
    rc = open_bytes(c, len, &err);
    ASSERT_EQ(rc, MN_ETRUNC);
    free(c);
    free(buf);
}

/* Deterministic random damage, as a fuzzer would do: never a crash (run under ASan/UBSan). */
TEST(mutations)
{
    REQUIRE_FASTTEXT();
    size_t len = 0;
    char *buf = small_model(&len);
    ASSERT(buf);
    char *c = malloc(len);
    ASSERT(c);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int opened = 0;
    for (int round = 0; round < 600; round++) {
        memcpy(c, buf, len);
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Mostly the header and dictionary, where the sizes are. */
            size_t span = (x >> 40) % 4 ? (len < 1500 ? len : 1500) : len;
            size_t at = (size_t)(x % span);
            c[at] = (x >> 32) % 3 ? (char)(x >> 24) : (char)0xff;
        }
        mn_err err;
        int rc = open_bytes(c, len, &err);
        ASSERT(rc == 0 || rc == MN_ETRUNC || rc == MN_ECORRUPT || rc == MN_EVERSION ||
               rc == MN_EFOREIGN || rc == MN_EUNSUPPORTED);
        opened += rc == 0;
    }
    printf("     %d of 600 damaged files still opened\n", opened);
    free(c);
    free(buf);
}

/* Every allocation failure during open gives MN_ENOMEM and leaks nothing. */
TEST(out_of_memory)
{
    REQUIRE_FASTTEXT();
    size_t len = 0;
    char *buf = small_model(&len);
    ASSERT(buf);
    char path[512];
    snprintf(path, sizeof path, "%s/small.bin", tmp());
    free(buf);
    mn_model *m = NULL;
    int rc = MN_ENOMEM;
    long nth;
    for (nth = 1; nth < 200 && rc == MN_ENOMEM; nth++) {
        mn_err err;
        mn_alloc_fail_after(nth);
        rc = mn__fasttext_open(path, &m, &err);
        mn_alloc_fail_after(0);
        if (rc != 0 && rc != MN_ENOMEM)
            MN_FAIL_AT("allocation %ld failing: %d (%s)", nth, rc, err.msg);
    }
    ASSERT_EQ(rc, 0);
    ASSERT(nth > 2);
    mn_model_release(m);
}

TEST(sniff)
{
    unsigned char head[8] = {0xba, 0x16, 0x4f, 0x2f, 12, 0, 0, 0}; /* 793712314 */
    ASSERT(mn__fasttext_sniff(head, 8));
    ASSERT(!mn__fasttext_sniff(head, 3));
    ASSERT(!mn__fasttext_sniff("MICRONLP", 8));
    mn_model *m = NULL;
    mn_err err;
    ASSERT(mn__fasttext_open("/nonexistent/model.bin", &m, &err) == MN_ERRNO(ENOENT));
}

TEST_MAIN(TEST_ENTRY(sniff) TEST_ENTRY(softmax_words) TEST_ENTRY(softmax_word_ngrams)
              TEST_ENTRY(softmax_subwords) TEST_ENTRY(ova) TEST_ENTRY(hs) TEST_ENTRY(ns)
                  TEST_ENTRY(quantized) TEST_ENTRY(quantized_output) TEST_ENTRY(model_surface)
                      TEST_ENTRY(truncated) TEST_ENTRY(bad_header) TEST_ENTRY(mutations)
                          TEST_ENTRY(out_of_memory))
