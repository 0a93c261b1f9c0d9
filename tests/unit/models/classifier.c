/* SPDX-License-Identifier: MIT
 *
 * Tests for src/models/classifier.c, classifier_train.c and quantize.c: training converges on a
 * tiny fixed set for every loss, one thread is bit-for-bit deterministic, a saved model predicts
 * exactly as before, quantising keeps accuracy, prediction allocates nothing once warm, the
 * ASCII fast path of token hashing agrees with the normaliser, and the SIMD row sums and
 * scores are bit-identical to the scalar ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "micronlp/alloc.h"
#include "micronlp/models.h"
#include "test.h"
#include "model_checks.h"

/* The file itself, to compare token_hash's ASCII path with the normaliser. */
#include "models/classifier.c"

static char path_buf[4096];

static const char *data_path(const char *name)
{
    const char *dir = getenv("MN_TEST_DATA");
    snprintf(path_buf, sizeof path_buf, "%s/classify/%s", dir ? dir : "tests/data", name);
    return path_buf;
}

static mn_dataset *load(const char *name)
{
    mn_dataset *d = NULL;
    mn_err err;
    if (mn_dataset_load(data_path(name), MN_DATA_AUTO, NULL, &d, &err) != 0) {
        fprintf(stderr, "load %s: %s\n", name, err.msg);
        return NULL;
    }
    return d;
}

static double accuracy(const mn_model *m, const mn_dataset *test)
{
    mn_eval_result r;
    mn_err err;
    if (mn_model_eval(m, test, 1, 0.0f, &r, &err) != 0)
        return -1.0;
    double a = r.accuracy;
    mn_eval_result_deinit(&r);
    return a;
}

/* Trains on d with cfg; on failure prints why and returns NULL (the caller asserts). */
static mn_model *train_or_report(const mn_classifier_config *cfg, const mn_dataset *d)
{
    mn_model *m = NULL;
    mn_err err;
    if (mn_classifier_train(cfg, d, &m, &err) != 0)
        fprintf(stderr, "train: %s\n", err.msg);
    return m;
}

static mn_model *train_with(mn_loss loss, int threads, int maxn)
{
    mn_dataset *d = load("train.txt");
    if (!d)
        return NULL;
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.loss = loss;
    cfg.threads = threads;
    cfg.epoch = 20;
    cfg.dim = 16;
    cfg.bucket = 10000;
    cfg.lr = loss == MN_LOSS_SOFTMAX ? 0.5 : 0.2;
    if (maxn) {
        cfg.minn = 2;
        cfg.maxn = maxn;
    }
    mn_model *m = train_or_report(&cfg, d);
    mn_dataset_free(d);
    return m;
}

static void check_quality(mn_loss loss, int threads, int maxn)
{
    mn_model *m = train_with(loss, threads, maxn);
    ASSERT(m != NULL);
    mn_dataset *test = load("test.txt");
    ASSERT(test != NULL);
    double a = accuracy(m, test);
    ASSERT(a >= 0.9);
    ASSERT_EQ(mn_model_label_count(m), 3);
    mn_dataset_free(test);
    mn_model_release(m);
}

TEST(softmax_learns)
{
    check_quality(MN_LOSS_SOFTMAX, 1, 0);
}

TEST(ova_learns)
{
    check_quality(MN_LOSS_OVA, 1, 0);
}

/* One-vs-all ranks raw scores and takes sigmoids of the winners only: the answers must still
 * be the probabilities, sorted, and at or above the threshold. */
TEST(ova_threshold_and_order)
{
    mn_model *m = train_with(MN_LOSS_OVA, 1, 0);
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction p[3];
    size_t n, all;
    ASSERT_EQ(mn_model_predict(m, s, "bake bread oven", 15, 3, 0.0f, p, &all), 0);
    ASSERT_EQ(all, 3);
    ASSERT_STREQ(mn_model_label(m, p[0].label), "food");
    for (size_t i = 0; i < all; i++) {
        ASSERT(p[i].prob > 0.0f && p[i].prob < 1.0f);
        if (i)
            ASSERT(p[i - 1].prob >= p[i].prob);
    }
    float t = (p[0].prob + p[1].prob) / 2; /* between the first and the second */
    ASSERT_EQ(mn_model_predict(m, s, "bake bread oven", 15, 3, t, p, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT(p[0].prob >= t);
    ASSERT_EQ(mn_model_predict(m, s, "bake bread oven", 15, 3, 1.0f, p, &n), 0);
    ASSERT_EQ(n, 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(hs_learns)
{
    check_quality(MN_LOSS_HS, 1, 0);
}

TEST(char_ngrams_and_threads_learn)
{
    check_quality(MN_LOSS_SOFTMAX, 2, 4);
}

/* Same seed, one thread: the same probabilities to the last bit. */
TEST(one_thread_is_deterministic)
{
    mn_model *a = train_with(MN_LOSS_SOFTMAX, 1, 3);
    mn_model *b = train_with(MN_LOSS_SOFTMAX, 1, 3);
    ASSERT(a && b);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    const char *texts[] = {"server code bug", "bake bread", "", "goal goal goal", "日本語 text"};
    same_answers(a, b, s, texts, sizeof texts / sizeof *texts, 0.0);
    mn_scratch_free(s);
    mn_model_release(a);
    mn_model_release(b);
}

/* quantize: 0 (float), 8 or 6 bits per input weight. */
static void round_trip(mn_loss loss, int quantize)
{
    mn_model *m = train_with(loss, 1, 3), *q = NULL, *back = NULL;
    ASSERT(m != NULL);
    mn_err err;
    const mn_model *saved = m;
    if (quantize) {
        mn_quantize_config qc = {.cutoff = 300, .qout = 1, .bits = quantize};
        ASSERT_EQ(mn_model_quantize(m, &qc, &q, &err), 0);
        saved = q;
    }
    const char *path = mn_test_tmp_path(quantize ? "q.mnlp" : "m.mnlp");
    ASSERT_EQ(mn_model_save(saved, path, &err), 0);
    ASSERT_EQ(mn_model_open(path, &back, &err), 0);
    ASSERT_STREQ(mn_model_type_name(back), "classifier");
    const mn_classifier *cb = (const mn_classifier *)back;
    ASSERT_EQ(cb->p.in_bits, quantize == 6 ? 6u : 0u);
    ASSERT_EQ(mn_file_version(cb->file), quantize == 6 ? 3u : 1u);
    if (quantize) { /* the rows read back are the rows quantised: every weight and scale */
        const mn_classifier *cq = (const mn_classifier *)q;
        int lim = quantize == 6 ? MN_PACK6_MAX : 127, beyond = 0;
        ASSERT_EQ(cb->in.rows, cq->in.rows);
        ASSERT(memcmp(cb->in.q, cq->in.q, (size_t)cq->in.rows * cq->in.dim) == 0);
        ASSERT(memcmp(cb->in.scale, cq->in.scale, cq->in.rows * sizeof(float)) == 0);
        ASSERT(memcmp(cb->buckets, cq->buckets, cq->p.nbuckets * sizeof(uint32_t)) == 0);
        for (size_t i = 0; i < (size_t)cq->in.rows * cq->in.dim; i++)
            beyond += cq->in.q[i] > lim || cq->in.q[i] < -lim;
        ASSERT_EQ(beyond, 0);
    }
    ASSERT_EQ(mn_model_label_count(back), 3);
    ASSERT_STREQ(mn_model_meta(back, "loss"), mn_model_meta(m, "loss"));
    ASSERT(mn_model_meta(back, "train_hash") != NULL);
    mn_dataset *test = load("test.txt");
    ASSERT(test != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    for (size_t i = 0; i < mn_dataset_count(test); i++) {
        const char *text;
        size_t len, nl, na, nb;
        const uint32_t *labels;
        mn_dataset_get(test, i, &text, &len, &labels, &nl);
        mn_prediction pa[3], pb[3];
        ASSERT_EQ(mn_model_predict(saved, s, text, len, 3, 0.0f, pa, &na), 0);
        ASSERT_EQ(mn_model_predict(back, s, text, len, 3, 0.0f, pb, &nb), 0);
        ASSERT_EQ(na, nb);
        for (size_t j = 0; j < na; j++) {
            ASSERT_EQ(pa[j].label, pb[j].label);
            ASSERT_NEAR(pa[j].prob, pb[j].prob, 0.0);
        }
    }
    double before = accuracy(m, test), after = accuracy(back, test);
    ASSERT(after >= before - 0.05);
    if (quantize)
        ASSERT(mn_model_size_bytes(back) < mn_model_size_bytes(m) / 4);
    mn_scratch_free(s);
    mn_dataset_free(test);
    mn_model_release(back);
    mn_model_release(q);
    mn_model_release(m);
    unlink(path);
}

TEST(save_and_open_predict_the_same)
{
    round_trip(MN_LOSS_SOFTMAX, 0);
}

TEST(hs_round_trip)
{
    round_trip(MN_LOSS_HS, 0);
}

TEST(quantized_round_trip_keeps_accuracy)
{
    round_trip(MN_LOSS_SOFTMAX, 8);
}

TEST(six_bit_round_trip_keeps_accuracy)
{
    round_trip(MN_LOSS_SOFTMAX, 6);
}

/* Once the scratch has grown, prediction makes no allocation at all. */
TEST(warm_prediction_does_not_allocate)
{
    mn_model *m = train_with(MN_LOSS_SOFTMAX, 1, 4);
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    const char *text = "Großartige software: https://example.com/x code review 😀 #tech";
    mn_prediction p[3];
    size_t n;
    ASSERT_EQ(mn_model_predict(m, s, text, strlen(text), 3, 0.0f, p, &n), 0);
    mn_alloc_fail_after(1);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = mn_model_predict(m, s, text, strlen(text) - (size_t)(i % 7), 3, 0.0f, p, &n);
    mn_alloc_fail_after(0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(n, 3);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(threshold_and_k)
{
    mn_model *m = train_with(MN_LOSS_SOFTMAX, 1, 0);
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction p[3];
    size_t n;
    ASSERT_EQ(mn_model_predict(m, s, "code server bug", 15, 3, 0.0f, p, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(mn_model_label(m, p[0].label), "tech");
    ASSERT(p[0].prob >= p[1].prob && p[1].prob >= p[2].prob);
    ASSERT_NEAR(p[0].prob + p[1].prob + p[2].prob, 1.0, 1e-5);
    ASSERT_EQ(mn_model_predict(m, s, "code server bug", 15, 3, 0.99999f, p, &n), 0);
    ASSERT(n <= 1);
    ASSERT_EQ(mn_model_predict(m, s, "code", 4, 0, 0.0f, p, &n), MN_EINVAL);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(bad_config_is_refused)
{
    mn_dataset *d = load("train.txt");
    ASSERT(d != NULL);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    mn_model *m = NULL;
    mn_err err;
    cfg.dim = 0;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "dim") != NULL);
    mn_classifier_config_init(&cfg);
    cfg.minn = 5;
    cfg.maxn = 3;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), MN_EINVAL);
    ASSERT(m == NULL);
    mn_dataset_free(d);
}

/* Texts with no word at all still train (the vocabulary is empty, the bias row decides): the
 * empty word table was once handed to qsort as NULL, which UBSan stops on. */
TEST(texts_without_words_train)
{
    const char *path = mn_test_tmp_path("punct.txt");
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fputs("__label__a !!!\n__label__b ???\n", f);
    if (fclose(f) != 0)
        abort();
    mn_dataset *d = NULL;
    mn_err err;
    ASSERT_EQ(mn_dataset_load(path, MN_DATA_AUTO, NULL, &d, &err), 0);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 8;
    cfg.bucket = 1000;
    mn_model *m = NULL;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), 0);
    ASSERT_EQ(mn_model_label_count(m), 2);
    mn_model_release(m);
    mn_dataset_free(d);
}

/* ---- min_df, idf_lr, keep_rows ------------------------------------------------------------ */

/* train.txt plus one text with a word no other text has ("zebra"). */
static mn_dataset *load_with_rare_word(void)
{
    const char *path = mn_test_tmp_path("rare.txt");
    FILE *in = fopen(data_path("train.txt"), "rb"), *out = fopen(path, "wb");
    if (!in || !out)
        abort();
    char line[4096];
    while (fgets(line, sizeof line, in))
        fputs(line, out);
    fputs("__label__food zebra soup bread\n", out);
    fclose(in);
    fclose(out);
    mn_dataset *d = NULL;
    mn_err err;
    if (mn_dataset_load(path, MN_DATA_AUTO, NULL, &d, &err) != 0)
        fprintf(stderr, "load: %s\n", err.msg);
    return d;
}

static mn_model *train_selected(const mn_dataset *d, int min_df, double idf_lr, uint32_t keep)
{
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.epoch = 20;
    cfg.dim = 16;
    cfg.bucket = 10000;
    cfg.min_df = min_df;
    cfg.idf_lr = idf_lr;
    cfg.keep_rows = keep;
    return train_or_report(&cfg, d);
}

/* The probability of label 0 for text: enough to tell whether a word moves the answer. */
static float prob0(const mn_model *m, mn_scratch *s, const char *text)
{
    mn_prediction p[8];
    size_t n = 0;
    if (mn_model_predict(m, s, text, strlen(text), 8, 0.0f, p, &n) != 0)
        return -1.0f;
    for (size_t i = 0; i < n; i++)
        if (p[i].label == 0)
            return p[i].prob;
    return 0.0f;
}

/* The distinct words of train.txt, lower-cased, each alone as a text. */
static size_t vocabulary(char words[][32], size_t cap)
{
    FILE *f = fopen(data_path("train.txt"), "rb");
    if (!f)
        abort();
    size_t n = 0;
    char w[64];
    while (fscanf(f, "%63s", w) == 1) {
        if (strncmp(w, "__label__", 9) == 0 || strlen(w) >= 32)
            continue;
        for (char *c = w; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        size_t i = 0;
        while (i < n && strcmp(words[i], w) != 0)
            i++;
        if (i == n && n < cap)
            memcpy(words[n++], w, strlen(w) + 1);
    }
    fclose(f);
    return n;
}

TEST(feature_selection_options)
{
    mn_dataset *d = load_with_rare_word();
    mn_dataset *test = load("test.txt");
    ASSERT(d != NULL && test != NULL);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_model *plain = train_selected(d, 1, 0.0, 0);
    mn_model *df2 = train_selected(d, 2, 0.0, 0);
    mn_model *idf = train_selected(d, 1, 2.0, 0);
    mn_model *idf_again = train_selected(d, 1, 2.0, 0);
    mn_model *kept = train_selected(d, 1, 0.0, 5);
    ASSERT(plain && df2 && idf && idf_again && kept);

    /* min_df 2: the word of one text has no row, so it weighs what an unknown word weighs. */
    ASSERT(prob0(plain, s, "zebra") != prob0(plain, s, "qqqunknown"));
    ASSERT_EQ(prob0(df2, s, "zebra"), prob0(df2, s, "qqqunknown"));
    ASSERT(prob0(df2, s, "soup") != prob0(df2, s, "qqqunknown"));
    ASSERT(strcmp(mn_model_meta(df2, "min_df"), "2") == 0);
    ASSERT(mn_model_meta(plain, "min_df") == NULL);

    /* idf_lr: another model, as good, and still reproducible for a seed. */
    ASSERT(accuracy(idf, test) >= 0.9);
    ASSERT(prob0(idf, s, "soup bread") != prob0(plain, s, "soup bread"));
    ASSERT_EQ(prob0(idf, s, "soup bread"), prob0(idf_again, s, "soup bread"));
    ASSERT(mn_model_meta(idf, "idf_lr") != NULL);

    /* keep_rows 5: at most five rows are not zero, so single words give at most six answers
     * (the words whose rows were zeroed all give the same one); without it every word differs. */
    static char words[256][32];
    size_t nw = vocabulary(words, 256);
    ASSERT(nw > 20);
    float seen_plain[256], seen_kept[256];
    size_t distinct_plain = 0, distinct_kept = 0;
    for (size_t i = 0; i < nw; i++) {
        float a = prob0(plain, s, words[i]), b = prob0(kept, s, words[i]);
        size_t j = 0;
        while (j < distinct_plain && seen_plain[j] != a)
            j++;
        if (j == distinct_plain)
            seen_plain[distinct_plain++] = a;
        for (j = 0; j < distinct_kept && seen_kept[j] != b;)
            j++;
        if (j == distinct_kept)
            seen_kept[distinct_kept++] = b;
    }
    ASSERT(distinct_plain > 40);
    ASSERT(distinct_kept >= 2 && distinct_kept <= 6);
    ASSERT(strcmp(mn_model_meta(kept, "keep_rows"), "5") == 0);

    /* Out of range */
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    mn_model *m = NULL;
    mn_err err;
    cfg.idf_lr = -1.0;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "idf_lr") != NULL);
    mn_classifier_config_init(&cfg);
    cfg.min_df = -1;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "min_df") != NULL && m == NULL);

    mn_model_release(plain);
    mn_model_release(df2);
    mn_model_release(idf);
    mn_model_release(idf_again);
    mn_model_release(kept);
    mn_scratch_free(s);
    mn_dataset_free(test);
    mn_dataset_free(d);
}

/* Every allocation failure during training returns MN_ENOMEM and leaks nothing (ASan). */
TEST(training_survives_allocation_failures)
{
    mn_dataset *d = load("train.txt");
    ASSERT(d != NULL);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.epoch = 1;
    cfg.dim = 4;
    cfg.bucket = 1000;
    cfg.minn = 2;
    cfg.maxn = 3;
    cfg.loss = MN_LOSS_HS;
    int ok = 0;
    for (long n = 1; n < 2000 && !ok; n++) {
        mn_model *m = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_classifier_train(&cfg, d, &m, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            mn_model_release(m);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT(m == NULL);
        }
    }
    ASSERT(ok);
    mn_dataset_free(d);
}

TEST(autotune_returns_a_good_model)
{
    mn_dataset *d = load("train.txt"), *v = load("test.txt");
    ASSERT(d && v);
    mn_classifier_config cfg, best;
    mn_classifier_config_init(&cfg);
    cfg.dim = 8;
    cfg.bucket = 10000;
    mn_model *m = NULL;
    mn_err err;
    ASSERT_EQ(mn_classifier_autotune(&cfg, d, v, 1.0, &m, &best, &err), 0);
    ASSERT(m != NULL);
    ASSERT(accuracy(m, v) >= 0.9);
    ASSERT(atoi(mn_model_meta(m, "autotune_trials")) >= 2);
    mn_model_release(m);
    mn_dataset_free(d);
    mn_dataset_free(v);
}

/* A validation set picks the best epoch and stops after `patience` epochs without gain. */
TEST(early_stopping_on_validation)
{
    mn_dataset *d = load("train.txt"), *v = load("test.txt");
    ASSERT(d && v);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 8;
    cfg.bucket = 10000;
    cfg.epoch = 200;
    cfg.valid = v;
    cfg.patience = 3;
    mn_model *m = NULL;
    mn_err err;
    ASSERT_EQ(mn_classifier_train(&cfg, d, &m, &err), 0);
    int run = atoi(mn_model_meta(m, "epochs_run"));
    ASSERT(run >= 4 && run < 200);
    double best = atof(mn_model_meta(m, "valid_accuracy"));
    ASSERT(best >= 0.9);
    ASSERT_NEAR(accuracy(m, v), best, 1e-9); /* the kept weights are the best epoch's */
    ASSERT(mn_model_meta(m, "train_loss") != NULL);
    mn_model_release(m);
    mn_dataset_free(d);
    mn_dataset_free(v);
}

/* The hashes of word_hashes (tokens in batches, ASCII ones hashed from the lower-cased copy
 * of the text) must be those of the plain way: each token of next_token, normalised by
 * norm_token (mn_normalize), hashed by mn_hash64. Texts mix ASCII words of every length
 * around the 8- and 16-byte chunks, capitals, joiners, URLs, e-mails, numbers, non-ASCII
 * letters, marks, emoji, ill-formed bytes and long runs; some are long enough for several
 * batches; every flag set and tokenizer mode. */
/* The reference of the token flags FOLD_DIGITS and SHAPE, written out plainly: a token's
 * normalised bytes with digits 1-9 as 0, then hashed; the shape buckets found by counting up
 * instead of by bit tricks and integer logarithms. */
static uint64_t plain_word_hash(unsigned tf, const char *w, size_t wl)
{
    static char buf[1 << 16];
    if (!(tf & MN_TOKENS_FOLD_DIGITS) || wl > sizeof buf)
        return mn_hash64(w, wl);
    for (size_t i = 0; i < wl; i++)
        buf[i] = (w[i] >= '1' && w[i] <= '9') ? '0' : w[i];
    return mn_hash64(buf, wl);
}

/* Appends the 5 shape hashes of a text whose feature tokens are toks[0..n), n >= 1. */
static size_t plain_shape(const char *text, size_t len, const mn_token *toks, size_t n,
                          uint64_t *out)
{
    uint64_t cps = 0, ends = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < toks[i].len; j++)
            if (((unsigned char)text[toks[i].off + j] >> 6) != 2)
                cps++;
    for (size_t i = 0; i < len; i++)
        if (strchr(".!?", text[i]) && text[i])
            ends++;
    uint64_t sent = ends == 0 ? 1 : ends > n ? n : ends;
    unsigned b[3] = {0, 0, 0};
    while (b[0] < 20 && (2ull << b[0]) <= n + 1)
        b[0]++;
    b[1] = (unsigned)(2 * cps / n > 40 ? 40 : 2 * cps / n);
    while (b[2] < 40 && (2ull << b[2]) * sent * sent <= (n + sent) * (n + sent))
        b[2]++;
    unsigned char keys[5][5] = {{0xFF, 'S', 0, b[0], 0}, {0xFF, 'S', 1, b[1], 0},
                                {0xFF, 'S', 2, b[2], 0}, {0xFF, 'S', 3, b[0], b[1]},
                                {0xFF, 'S', 4, b[1], b[2]}};
    for (int k = 0; k < 5; k++)
        out[k] = mn_hash64(keys[k], 5);
    return 5;
}

TEST(word_hashes_match_reference)
{
    static const char *pieces[] = {
        " ", " ", " ", "\t", "a", "Z", "q", "Mx", "word", "WORD", "Hello", "0", "42", "3.14",
        "1,000", "10%", "-5", "_", "-", "'", "don't", ".", ",", "!!", ":", "@", "#t", "@u", "~",
        "=", "<", "\x01", "\x7F", "http://X.com/A", "www.Ab.org", "Bo@Ex.com", "3rd",
        "é", "É", "ﬁ", "ß", "İ", "\xCC\x81", "日", "Ａ", "Москва", "😀", "\xFF", "\xC3",
        "\xE2\x82", "\xE2\x80\x99", "\xC2\xA0", "Ｑ１９", "٣", "本", "人人", "かな", "。",
    };
    static const unsigned norms[] = {0, MN_NORM_NFKC, MN_NORM_CASEFOLD,
                                     MN_NORM_NFKC | MN_NORM_CASEFOLD, MN_NORM_STRIP_MARKS,
                                     MN_NORM_NFKC | MN_NORM_CASEFOLD | MN_NORM_STRIP_MARKS,
                                     8 /* an unknown bit alone */};
    static const unsigned tokens[] = {0, MN_TOKENS_KEEP_PUNCT, MN_TOKENS_WHITESPACE,
                                      MN_TOKENS_WHITESPACE | MN_TOKENS_KEEP_PUNCT,
                                      MN_TOKENS_FOLD_DIGITS, MN_TOKENS_SHAPE,
                                      MN_TOKENS_FOLD_DIGITS | MN_TOKENS_SHAPE |
                                          MN_TOKENS_KEEP_PUNCT,
                                      MN_TOKENS_WHITESPACE | MN_TOKENS_FOLD_DIGITS |
                                          MN_TOKENS_SHAPE,
                                      MN_TOKENS_CJK_RUNS,
                                      MN_TOKENS_CJK_RUNS | MN_TOKENS_KEEP_PUNCT | MN_TOKENS_SHAPE,
                                      MN_TOKENS_CJK_RUNS | MN_TOKENS_WHITESPACE};
    static mn_token toks[4096];
    size_t nascii = 0; /* the ASCII pieces come first */
    while ((unsigned char)pieces[nascii][0] < 0x80)
        nascii++;
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    static char text[4096];
    static uint64_t want[4096 + 6];
    for (int iter = 0; iter < 50000; iter++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 0, cap = (rng >> 40) % 8 == 0 ? sizeof text : 200;
        size_t goal = (size_t)(rng >> 33) % cap;
        int ascii = (rng >> 20) % 4 != 0;
        size_t np = ascii ? nascii : sizeof pieces / sizeof pieces[0];
        while (len < goal) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            const char *x = pieces[(rng >> 35) % np];
            size_t n = strlen(x);
            if ((rng >> 20) % 64 == 0) { /* a long run of word characters */
                n = 1 + (rng >> 8) % 100;
                if (len + n > goal)
                    break;
                for (size_t i = 0; i < n; i++)
                    text[len + i] = "aBc7Xyz"[(rng >> (i % 40)) % 7];
                len += n;
                continue;
            }
            if (len + n > goal)
                break;
            memcpy(text + len, x, n);
            len += n;
        }
        unsigned norm = norms[(rng >> 12) % (sizeof norms / sizeof norms[0])];
        unsigned tf = tokens[(rng >> 16) % (sizeof tokens / sizeof tokens[0])];
        /* the plain way */
        size_t nw = 0;
        mn_tokenizer t;
        mn_token tok;
        mn_tokenizer_init(&t, text, len);
        while (next_token(tf, &t, &tok)) {
            const char *w;
            size_t wl;
            ASSERT_EQ(norm_token(norm, s, text + tok.off, tok.len, &w, &wl), 0);
            toks[nw] = tok;
            want[nw++] = plain_word_hash(tf, w, wl);
        }
        if ((tf & MN_TOKENS_SHAPE) && nw)
            nw += plain_shape(text, len, toks, nw, want + nw);
        const uint64_t *got;
        size_t ng = 0;
        ASSERT_EQ(mn__clf_word_hashes(norm, tf, s, text, len, &got, &ng), 0);
        ASSERT_EQ(ng, nw);
        for (size_t i = 0; i < nw; i++)
            if (got[i] != want[i])
                MN_FAIL_AT("iter %d: norm %u tokens %u: token %zu differs in \"%.*s\"", iter,
                           norm, tf, i, (int)len, text);
    }
    mn_scratch_free(s);
}

/* mn__clf_features cuts and hashes tokens in batches (normalising only those with non-ASCII
 * bytes), maps each word's character n-grams to rows as it goes and copies a repeated word's
 * rows from its first occurrence; the rows must be those of taking token after token, hashing
 * every word afresh and mapping all buckets at the end, in the same order: for words repeated
 * in other case (the same once normalised), non-ASCII words and punctuation, more distinct
 * words than the memo takes and more tokens than a batch, every normalisation and tokenizer
 * mode, and a pruned model (whose map drops buckets) as well as a full one. */
static size_t features_plain(const mn_classifier *c, mn_scratch *s, const char *text,
                             size_t len, uint32_t *rows, uint64_t *h)
{
    const mn_clf_params *p = &c->p;
    size_t n = 0, nh = 0;
    rows[n++] = 0;
    static mn_token toks[1 << 14];
    static char folded[1 << 16];
    mn_tokenizer t;
    mn_token tok;
    mn_tokenizer_init(&t, text, len);
    while (next_token(p->token_flags, &t, &tok)) {
        const char *w;
        size_t wl;
        if (norm_token(p->norm_flags, s, text + tok.off, tok.len, &w, &wl) != 0)
            return 0;
        if ((p->token_flags & MN_TOKENS_FOLD_DIGITS) && wl <= sizeof folded) {
            for (size_t i = 0; i < wl; i++)
                folded[i] = (w[i] >= '1' && w[i] <= '9') ? '0' : w[i];
            w = folded;
        }
        toks[nh] = tok;
        h[nh++] = mn_hash64(w, wl);
        n += mn_char_ngrams(w, wl, (int)p->minn, (int)p->maxn, p->bucket, rows + n, 1u << 20);
    }
    if (p->word_ngrams > 1 && nh > 1)
        n += mn_word_ngrams(h, nh, (int)p->word_ngrams, p->bucket, rows + n, 1u << 20);
    n = map_buckets(c, rows, 1, n);
    if ((p->token_flags & MN_TOKENS_SHAPE) && nh)
        nh += plain_shape(text, len, toks, nh, h + nh);
    for (size_t i = 0; i < nh; i++) {
        uint32_t r = word_row(c->word_slots, c->word_mask, h[i]);
        rows[n] = r;
        n += r != 0;
    }
    return n;
}

TEST(repeated_words_give_the_same_features)
{
    mn_model *full = train_with(MN_LOSS_SOFTMAX, 1, 4), *pruned = NULL;
    ASSERT(full != NULL);
    mn_quantize_config qc = {.cutoff = 300, .qout = 1};
    mn_err err;
    ASSERT_EQ(mn_model_quantize(full, &qc, &pruned, &err), 0);
    ASSERT(((const mn_classifier *)pruned)->p.pruned);
    mn_scratch *s = NULL, *s2 = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    ASSERT_EQ(mn_scratch_new(&s2), 0);
    static const char *words[] = {"the", "The", "THE", "cat", "Cat", "sat", "ünïcode", "ÜNÏCODE",
                                  "a", "on", "mat", "mats", "x", "Straße", "STRASSE", "!",
                                  "Москва", "МОСКВА", "ﬁne", "Ａb", "e\xCC\x81", "日本", "don't",
                                  "3.14", "\xFF", "😀", "a,b", "\xE2\x82", "1961", "Ｑ１９",
                                  "end.", "why?!", "人人生而自由", "本", "かな。", "日"};
    static const unsigned norms[] = {0, MN_NORM_NFKC, MN_NORM_CASEFOLD,
                                     MN_NORM_NFKC | MN_NORM_CASEFOLD, MN_NORM_STRIP_MARKS,
                                     MN_NORM_NFKC | MN_NORM_CASEFOLD | MN_NORM_STRIP_MARKS};
    static const unsigned tokens[] = {0, MN_TOKENS_KEEP_PUNCT, MN_TOKENS_WHITESPACE,
                                      MN_TOKENS_WHITESPACE | MN_TOKENS_KEEP_PUNCT,
                                      MN_TOKENS_FOLD_DIGITS | MN_TOKENS_SHAPE,
                                      MN_TOKENS_KEEP_PUNCT | MN_TOKENS_SHAPE,
                                      MN_TOKENS_WHITESPACE | MN_TOKENS_FOLD_DIGITS,
                                      MN_TOKENS_CJK_RUNS,
                                      MN_TOKENS_CJK_RUNS | MN_TOKENS_KEEP_PUNCT};
    static char text[1 << 14];
    static uint32_t want[1 << 20];
    static uint64_t h[(1 << 14) + 8];
    uint64_t rng = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, goal = iter % 10 == 0 ? sizeof text - 64 : (size_t)(iter % 400);
        while (len < goal) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            if ((rng >> 60) < 4) { /* a fresh random word: fills the memo */
                size_t n = 1 + (rng >> 20) % 12;
                for (size_t i = 0; i < n; i++)
                    text[len++] = (char)('a' + (rng >> (4 * (i % 10))) % 26);
            } else {
                const char *w = words[(rng >> 33) % (sizeof words / sizeof words[0])];
                memcpy(text + len, w, strlen(w));
                len += strlen(w);
            }
            if ((rng >> 50) % 4 != 0) /* else words run together: CJK runs across batches */
                text[len++] = ' ';
        }
        unsigned norm = norms[(rng >> 8) % (sizeof norms / sizeof norms[0])];
        unsigned tf = tokens[(rng >> 14) % (sizeof tokens / sizeof tokens[0])];
        for (int k = 0; k < 2; k++) {
            mn_classifier *c = (mn_classifier *)(k ? pruned : full);
            c->p.norm_flags = norm;
            c->p.token_flags = tf;
            size_t nw = features_plain(c, s2, text, len, want, h);
            const uint32_t *got;
            size_t ng = 0;
            ASSERT_EQ(mn__clf_features(c, s, text, len, &got, &ng, NULL), 0);
            ASSERT_EQ(ng, nw);
            if (memcmp(got, want, nw * sizeof *want) != 0)
                MN_FAIL_AT("iter %d, %s model, norm %u tokens %u: rows differ for \"%.*s\"",
                           iter, k ? "pruned" : "full", norm, tf, (int)(len < 200 ? len : 200),
                           text);
        }
    }
    mn_scratch_free(s);
    mn_scratch_free(s2);
    mn_model_release(pruned);
    mn_model_release(full);
}

/* Texts of 8-12 random words, never seen twice, of 4-5 letters (label "short") or 9-12
 * ("long"): no word tells the label, only the mean word length does. */
static const char *write_word_size_data(const char *name, uint64_t rng, int lines)
{
    const char *path = mn_test_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    for (int i = 0; i < lines; i++) {
        int lng = i % 2;
        fprintf(f, "__label__%s", lng ? "long" : "short");
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int words = 8 + (int)((rng >> 40) % 5);
        for (int w = 0; w < words; w++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int letters = lng ? 9 + (int)((rng >> 20) % 4) : 4 + (int)((rng >> 20) % 2);
            fputc(' ', f);
            for (int j = 0; j < letters; j++)
                fputc('a' + (int)((rng >> (j * 5 % 59)) % 26), f);
        }
        fputs(".\n", f);
    }
    fclose(f);
    return path;
}

static mn_model *train_flags(const mn_dataset *d, unsigned token_flags)
{
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 8;
    cfg.epoch = 10;
    cfg.word_ngrams = 1;
    cfg.token_flags = token_flags;
    return train_or_report(&cfg, d);
}

/* Rewrites a model file's header to claim format version v, its checksum redone. */
static void claim_version(const char *path, unsigned char v)
{
    FILE *fh = fopen(path, "r+b");
    ASSERT(fh != NULL);
    unsigned char head[48];
    ASSERT_EQ(fread(head, 1, sizeof head, fh), sizeof head);
    head[8] = v;
    uint64_t sum = XXH3_64bits(head, 40);
    for (int i = 0; i < 8; i++)
        head[40 + i] = (unsigned char)(sum >> (8 * i));
    ASSERT_EQ(fseek(fh, 0, SEEK_SET), 0);
    ASSERT_EQ(fwrite(head, 1, sizeof head, fh), sizeof head);
    fclose(fh);
}

/* The model file at path is format version `version`, reopens with accuracy acc on test, and
 * is refused as inconsistent once its header claims version - 1: a reader of that version
 * would misread it. */
static void version_gate(const char *path, const mn_dataset *test, double acc,
                         unsigned char version)
{
    mn_err err;
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, &err), 0);
    ASSERT_EQ(mn_file_version(f), version);
    mn_file_close(f);
    mn_model *back = NULL;
    ASSERT_EQ(mn_model_open(path, &back, &err), 0);
    ASSERT_NEAR(accuracy(back, test), acc, 0.0);
    mn_model_release(back);
    claim_version(path, (unsigned char)(version - 1));
    back = NULL;
    ASSERT_EQ(mn_model_open(path, &back, &err), MN_ECORRUPT);
    ASSERT(back == NULL);
    ASSERT(strstr(err.msg, "classifier parameters are inconsistent") != NULL);
}

/* MN_TOKENS_SHAPE lets a model learn what no word says (here the mean word length), and
 * MN_TOKENS_FOLD_DIGITS makes numbers of one shape one feature; a model using either is saved
 * as format version 2 (older builds must refuse it, not misread it), and a file that claims
 * version 1 with those flags is refused as inconsistent. */
TEST(shape_and_digit_features)
{
    mn_dataset *train = NULL, *test = NULL;
    mn_err err;
    char tp[4096], vp[4096], pp[4096], sp[4096]; /* mn_test_tmp_path's buffer is reused */
    ASSERT(write_word_size_data("shape-train.txt", 7, 400) != NULL);
    snprintf(tp, sizeof tp, "%s", mn_test_tmp_path("shape-train.txt"));
    ASSERT_EQ(mn_dataset_load(tp, MN_DATA_AUTO, NULL, &train, &err), 0);
    ASSERT(write_word_size_data("shape-test.txt", 99, 200) != NULL);
    snprintf(vp, sizeof vp, "%s", mn_test_tmp_path("shape-test.txt"));
    ASSERT_EQ(mn_dataset_load(vp, MN_DATA_AUTO, NULL, &test, &err), 0);
    mn_model *plain = train_flags(train, 0);
    mn_model *shaped = train_flags(train, MN_TOKENS_SHAPE | MN_TOKENS_FOLD_DIGITS);
    ASSERT(plain && shaped);
    double a_plain = accuracy(plain, test), a_shaped = accuracy(shaped, test);
    ASSERT(a_plain <= 0.7);
    ASSERT(a_shaped >= 0.95);
    ASSERT_STREQ(mn_model_meta(shaped, "tokens"), "unicode+digits0+shape");
    ASSERT_STREQ(mn_model_meta(plain, "tokens"), "unicode");

    /* digits: "1961" and "1848" (and fullwidth "１９６１", NFKC's 1961) hash alike with the
     * flag, not without */
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    static const char *nums[] = {"paid 1961", "paid 1848", "paid １９６１"};
    for (int k = 0; k < 2; k++) {
        unsigned tf = k ? MN_TOKENS_FOLD_DIGITS : 0, norm = MN_NORM_NFKC | MN_NORM_CASEFOLD;
        uint64_t first[2];
        for (int i = 0; i < 3; i++) {
            const uint64_t *h;
            size_t n;
            ASSERT_EQ(mn__clf_word_hashes(norm, tf, s, nums[i], strlen(nums[i]), &h, &n), 0);
            ASSERT_EQ(n, 2);
            if (i == 0)
                memcpy(first, h, sizeof first);
            ASSERT_EQ(h[0], first[0]);
            ASSERT_EQ(h[1] == first[1], i != 1 || k);
        }
    }

    /* files: version 1 without the flags, 2 with; the same answers after reopening */
    snprintf(pp, sizeof pp, "%s", mn_test_tmp_path("plain.mnlp"));
    snprintf(sp, sizeof sp, "%s", mn_test_tmp_path("shaped.mnlp"));
    ASSERT_EQ(mn_model_save(plain, pp, &err), 0);
    ASSERT_EQ(mn_model_save(shaped, sp, &err), 0);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(pp, &f, &err), 0);
    ASSERT_EQ(mn_file_version(f), 1);
    mn_file_close(f);
    version_gate(sp, test, a_shaped, 2);

    unlink(pp);
    unlink(sp);
    unlink(tp);
    unlink(vp);
    mn_scratch_free(s);
    mn_model_release(plain);
    mn_model_release(shaped);
    mn_dataset_free(train);
    mn_dataset_free(test);
}

/* Texts of 6-10 "words" of four ideographs drawn from 甲乙丙丁, as pairs: label "ab" writes
 * 甲乙 and 丙丁, label "ba" 乙甲 and 丁丙. Both use each ideograph equally often, so only their
 * order tells the labels apart. */
static const char *write_han_order_data(const char *name, uint64_t rng, int lines)
{
    static const char *pairs[2][2] = {{"甲乙", "丙丁"}, {"乙甲", "丁丙"}};
    const char *path = mn_test_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    for (int i = 0; i < lines; i++) {
        int ba = i % 2;
        fprintf(f, "__label__%s ", ba ? "ba" : "ab");
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int words = 6 + (int)((rng >> 40) % 5);
        for (int w = 0; w < words; w++) {
            for (int k = 0; k < 2; k++)
                fputs(pairs[ba][(rng >> (w * 2 + k + 3)) & 1], f);
            fputs(w + 1 < words ? "，" : "。\n", f);
        }
    }
    fclose(f);
    return path;
}

/* Hashes of text under token flags tf (no normalisation) against the hashes of want[0..n). */
static void expect_tokens(mn_scratch *s, unsigned tf, const char *text, size_t len,
                          const char *const *want, size_t n)
{
    const uint64_t *h;
    size_t got = 0;
    ASSERT_EQ(mn__clf_word_hashes(0, tf, s, text, len, &h, &got), 0);
    ASSERT_EQ(got, n);
    for (size_t i = 0; i < n; i++)
        if (h[i] != mn_hash64(want[i], strlen(want[i])))
            MN_FAIL_AT("token %zu is not \"%.40s\"", i, want[i]);
}

/* MN_TOKENS_CJK_RUNS: adjacent Han and kana tokens are one token, up to a space, punctuation or
 * another kind of token, also where a run outlasts a batch of tokens or fills one; a model
 * with it tells apart texts that differ only in the order of their ideographs, which one per
 * ideograph cannot; it is saved as format version 3, and a file that claims version 2 with it
 * is refused. */
TEST(cjk_runs_are_one_token)
{
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    static const char *runs[] = {"人人生而自由", "在尊严"};
    static const char *chars[] = {"人", "人", "生", "而", "自", "由", "在", "尊", "严"};
    const char *t1 = "人人生而自由，在尊严";
    expect_tokens(s, MN_TOKENS_CJK_RUNS, t1, strlen(t1), runs, 2);
    expect_tokens(s, 0, t1, strlen(t1), chars, 9);
    static const char *mixed[] = {"日本語のテキスト", "abc", "漢字", "x"};
    const char *t2 = "日本語のテキスト abc漢字x";
    expect_tokens(s, MN_TOKENS_CJK_RUNS, t2, strlen(t2), mixed, 4);
    static const char *spaced[] = {"日", "本", "語"};
    expect_tokens(s, MN_TOKENS_CJK_RUNS, "日 本 語", strlen("日 本 語"), spaced, 3);

    /* runs that cross a batch (TOKEN_BATCH tokens), or are longer than one */
    static char text[4 * 1024 * 4];
    static char run[3 * 1024 + 1];
    static const char *want[1100];
    for (int k = 0; k < 600; k++)
        memcpy(run + 3 * k, "字", 3);
    run[3 * 600] = '\0';
    static const size_t before[] = {0, 1, TOKEN_BATCH - 2, TOKEN_BATCH - 1, TOKEN_BATCH,
                                    TOKEN_BATCH + 1, 2 * TOKEN_BATCH - 1};
    for (size_t b = 0; b < sizeof before / sizeof before[0]; b++) {
        size_t len = 0, n = 0;
        for (size_t i = 0; i < before[b]; i++) {
            memcpy(text + len, "a ", 2);
            len += 2;
            want[n++] = "a";
        }
        memcpy(text + len, run, 3 * 600);
        len += 3 * 600;
        want[n++] = run;
        memcpy(text + len, " b", 2);
        len += 2;
        want[n++] = "b";
        expect_tokens(s, MN_TOKENS_CJK_RUNS, text, len, want, n);
        expect_tokens(s, MN_TOKENS_CJK_RUNS | MN_TOKENS_KEEP_PUNCT, text, len, want, n);
    }
    mn_scratch_free(s);

    /* order: learnt with runs, not without */
    mn_dataset *train = NULL, *test = NULL;
    mn_err err;
    char tp[4096], vp[4096], mp[4096];
    ASSERT(write_han_order_data("han-train.txt", 7, 400) != NULL);
    snprintf(tp, sizeof tp, "%s", mn_test_tmp_path("han-train.txt"));
    ASSERT_EQ(mn_dataset_load(tp, MN_DATA_AUTO, NULL, &train, &err), 0);
    ASSERT(write_han_order_data("han-test.txt", 99, 200) != NULL);
    snprintf(vp, sizeof vp, "%s", mn_test_tmp_path("han-test.txt"));
    ASSERT_EQ(mn_dataset_load(vp, MN_DATA_AUTO, NULL, &test, &err), 0);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 8;
    cfg.epoch = 10;
    cfg.word_ngrams = 1; /* a word bigram would see the order too */
    cfg.minn = 1;
    cfg.maxn = 2;
    cfg.bucket = 10000;
    mn_model *apart = train_or_report(&cfg, train);
    cfg.token_flags = MN_TOKENS_CJK_RUNS;
    mn_model *runs_model = train_or_report(&cfg, train);
    ASSERT(apart && runs_model);
    double a_apart = accuracy(apart, test), a_runs = accuracy(runs_model, test);
    ASSERT(a_apart <= 0.7);
    ASSERT(a_runs >= 0.95);
    ASSERT_STREQ(mn_model_meta(runs_model, "tokens"), "unicode+cjkruns");

    snprintf(mp, sizeof mp, "%s", mn_test_tmp_path("runs.mnlp"));
    ASSERT_EQ(mn_model_save(runs_model, mp, &err), 0);
    version_gate(mp, test, a_runs, 3);

    unlink(mp);
    unlink(tp);
    unlink(vp);
    mn_model_release(apart);
    mn_model_release(runs_model);
    mn_dataset_free(train);
    mn_dataset_free(test);
}

/* The SSE2 sums of 8-bit rows (qsum_*, 16 weights per load and then 4) and the AVX2 ones
 * (qsum_avx2_*, on CPUs that have it) must be bit-identical to the scalar loop of add_row, for
 * every dimension they serve and rows in any order, repeated rows included. */
TEST(quantized_row_sums_match_scalar)
{
#if defined(__SSE2__)
    enum { ROWS = 50, MAXDIM = 32 };
    static int8_t q[ROWS * MAXDIM];
    static float scale[ROWS];
    uint64_t rng = 0x853C49E6748FEA9Bull;
    for (size_t i = 0; i < sizeof q; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        q[i] = (int8_t)(rng >> 56);
    }
    for (int r = 0; r < ROWS; r++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        scale[r] = (float)((rng >> 40) % 100000) * 1e-6f + 1e-7f;
    }
    uint32_t rows[200];
    for (uint32_t dim = 4; dim <= MAXDIM; dim += 4) {
        mn_clf_matrix m = {.q = q, .scale = scale, .rows = ROWS, .dim = dim};
        for (size_t n = 0; n <= 200; n += 7) {
            for (size_t i = 0; i < n; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                rows[i] = (uint32_t)(rng >> 33) % ROWS;
            }
            float want[MAXDIM] = {0}, got[MAXDIM];
            for (size_t i = 0; i < n; i++)
                add_row(&m, rows[i], want);
            qsums[dim / 4](&m, rows, n, got);
            if (memcmp(want, got, dim * sizeof(float)) != 0)
                MN_FAIL_AT("dim %u, %zu rows: sums differ", dim, n);
#if defined(MN_CLF_AVX2)
            if (have_avx2()) {
                memset(got, 0, sizeof got);
                qsums_avx2[dim / 4](&m, rows, n, got);
                if (memcmp(want, got, dim * sizeof(float)) != 0)
                    MN_FAIL_AT("AVX2, dim %u, %zu rows: sums differ", dim, n);
            }
#endif
        }
    }
#endif
}

/* Scoring with the output rows interleaved (many labels) gives exactly dot_row's scores, with
 * SSE2 and with AVX2 (on CPUs that have it), for 8-bit and float matrices, every dimension up
 * to 33 and row counts that leave partial blocks, an odd last block and partial groups of
 * blocks. */
TEST(blocked_scores_match_scalar)
{
#if defined(__SSE2__)
    enum { MAXROWS = 45, MAXDIM = 33 };
    static int8_t q[MAXROWS * MAXDIM];
    static float f[MAXROWS * MAXDIM], scale[MAXROWS];
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < MAXROWS * MAXDIM; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        q[i] = (int8_t)(rng >> 56);
        f[i] = (float)((int64_t)(rng >> 20) % 2000001 - 1000000) * 1e-6f;
    }
    for (int r = 0; r < MAXROWS; r++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        scale[r] = (float)((rng >> 40) % 100000) * 1e-6f + 1e-7f;
    }
    float v[MAXDIM], want[MAXROWS], got[MAXROWS];
    for (int quant = 0; quant <= 1; quant++)
        for (uint32_t dim = 1; dim <= MAXDIM; dim++)
            for (uint32_t rows = BLOCKED_MIN_ROWS; rows <= MAXROWS; rows += 3) {
                for (uint32_t j = 0; j < dim; j++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    v[j] = (float)((int64_t)(rng >> 24) % 200001 - 100000) * 1e-5f;
                }
                mn_classifier c = {.p = {.loss = MN_LOSS_SOFTMAX, .dim = dim}};
                c.out = quant ? (mn_clf_matrix){.q = q, .scale = scale, .rows = rows, .dim = dim}
                              : (mn_clf_matrix){.f = f, .rows = rows, .dim = dim};
                ASSERT_EQ(build_blocked_out(&c), 0);
                ASSERT(c.out8 != NULL);
                for (uint32_t r = 0; r < rows; r++)
                    want[r] = dot_row(&c.out, r, v);
                all_scores(&c, v, got);
                if (memcmp(want, got, rows * sizeof(float)) != 0)
                    MN_FAIL_AT("%s, dim %u, %u rows: scores differ", quant ? "int8" : "float",
                               dim, rows);
                /* each path on its own, whichever all_scores took */
                memset(got, 0, sizeof got);
                blocked_scores(&c, v, got);
                if (memcmp(want, got, rows * sizeof(float)) != 0)
                    MN_FAIL_AT("SSE2, %s, dim %u, %u rows: scores differ",
                               quant ? "int8" : "float", dim, rows);
#if defined(MN_CLF_AVX2)
                if (have_avx2()) {
                    memset(got, 0, sizeof got);
                    blocked_scores_avx2(&c, v, got);
                    if (memcmp(want, got, rows * sizeof(float)) != 0)
                        MN_FAIL_AT("AVX2, %s, dim %u, %u rows: scores differ",
                                   quant ? "int8" : "float", dim, rows);
                }
#endif
                mn_free(c.out8);
                mn_free(c.out8_scale);
            }
#endif
}

/* A pruned model maps a bucket id to its row through the rank lines (or, where those would be
 * larger, the hash table of bucket slots). The reference: the kept ids are increasing, so an
 * id's row is 1 + nwords + its index among them (binary search), or 0 if it is not kept. */
static uint32_t bucket_row_ref(const mn_classifier *c, uint32_t b)
{
    size_t lo = 0, hi = c->p.nbuckets;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->buckets[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->p.nbuckets && c->buckets[lo] == b ? 1 + c->p.nwords + (uint32_t)lo : 0;
}

/* map_buckets (and, for the rank lines, both builds of their loop) on ids[0..n), as one batch:
 * the rows of the kept ids, in order. Returns 0 on the first difference. */
static int bucket_map_agrees(const mn_classifier *c, const uint32_t *ids, size_t n,
                             uint32_t *got, uint32_t *want)
{
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        if ((want[nw] = bucket_row_ref(c, ids[i])) != 0)
            nw++;
    for (int build = 0; build < 3; build++) {
        memcpy(got, ids, n * sizeof *ids);
        size_t ng;
        if (build == 0)
            ng = map_buckets(c, got, 0, n);
        else if (!c->rank_lines)
            continue;
        else if (build == 1)
            ng = map_ranked_plain(c->rank_lines, (const char *)want, 0, (const float *)want, got, 0,
                                      n, 0);
        else {
#if defined(POPCNT_FN)
            if (!__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("bmi2"))
                continue;
            ng = map_ranked_popcnt(c->rank_lines, (const char *)want, 0, (const float *)want, got,
                                       0, n, 0);
#else
            continue;
#endif
        }
        if (ng != nw || memcmp(got, want, nw * sizeof *want) != 0) {
            fprintf(stderr, "build %d: %zu rows, expected %zu\n", build, ng, nw);
            return 0;
        }
    }
    return 1;
}

TEST(bucket_map_matches_reference)
{
    enum { MAX_KEPT = 100000 };
    static uint32_t kept[MAX_KEPT], ids[1 << 20], got[1 << 20], want[1 << 20];
    static const uint64_t vocab[3] = {11, 22, 33};
    /* bucket counts around the 384 ids of a line; one in every `per` ids kept (0: none,
     * 1: all), the first and last ids always kept in the odd cases */
    static const struct {
        uint32_t bucket, per;
    } cases[] = {
        {1, 0},      {1, 1},      {2, 2},     {64, 3},     {383, 1},    {384, 1},
        {385, 1},    {385, 7},    {768, 2},   {1000, 40},  {5000, 1},   {99991, 40},
        {100003, 3}, {200000, 0}, {250000, 500}, {2000000, 48}, {2000000, 1000},
        /* a few kept out of very many ids */
        {2000000000, 20000000},
    };
    uint64_t rng = 42;
    int nranked = 0, nhashed = 0;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        uint32_t bucket = cases[t].bucket, per = cases[t].per, nk = 0;
        for (uint64_t b = 0; b < bucket && nk < MAX_KEPT; b++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int ends = (t % 2) && (b == 0 || b == bucket - 1);
            if (ends || (per == 1) || (per > 1 && (rng >> 33) % per == 0))
                kept[nk++] = (uint32_t)b;
            if (per > 1000 && !ends) /* sparse over a huge range: jump ahead */
                b += (rng >> 20) % (2 * per);
        }
        mn_classifier *c = mn__clf_new();
        ASSERT(c != NULL);
        c->p = (mn_clf_params){.bucket = bucket, .nbuckets = nk, .pruned = 1, .nwords = 3};
        c->vocab = vocab;
        c->buckets = kept;
        ASSERT_EQ(mn__clf_index(c), 0);
        /* whichever is smaller: both kinds are among the cases */
        size_t lines_bytes = ((size_t)bucket + 383) / 384 * 64;
        ASSERT_EQ(c->rank_lines != NULL, lines_bytes <= pow2_at_least(2 * (uint64_t)nk) * 8);
        nranked += c->rank_lines != NULL;
        nhashed += c->rank_lines == NULL;
        /* every id of the smaller ranges, one at a time and all at once; for the larger ones
         * each kept id, its neighbours, the ends and random ids */
        size_t n = 0;
        if (bucket <= 300000) {
            for (uint32_t b = 0; b < bucket; b++)
                ids[n++] = b;
            for (uint32_t b = 0; b < bucket; b += 1 + b % 97)
                if (!bucket_map_agrees(c, &ids[b], 1, got, want))
                    MN_FAIL_AT("bucket %u, one in %u kept: id %u differs", bucket, per, b);
        } else {
            for (uint32_t i = 0; i < nk; i++) {
                ids[n++] = kept[i];
                if (kept[i] > 0)
                    ids[n++] = kept[i] - 1;
                if (kept[i] + 1 < bucket)
                    ids[n++] = kept[i] + 1;
            }
            ids[n++] = 0;
            ids[n++] = bucket - 1;
            while (n < (1 << 19)) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                ids[n++] = (uint32_t)((rng >> 32) % bucket);
            }
        }
        if (!bucket_map_agrees(c, ids, n, got, want))
            MN_FAIL_AT("bucket %u, one in %u kept (%u kept): rows differ", bucket, per, nk);
        c->buckets = NULL;
        c->vocab = NULL;
        mn_model_release(&c->base);
    }
    ASSERT(nranked >= 10 && nhashed >= 3);
}

/* The rank lines take a file's kept buckets ('BKTS') as increasing ids below the bucket count,
 * as every writer stores them: a file that breaks that is refused, not mapped to wrong rows. */
TEST(unsorted_kept_buckets_are_refused)
{
    mn_model *m = train_with(MN_LOSS_SOFTMAX, 1, 3), *q = NULL, *back = NULL;
    ASSERT(m != NULL);
    mn_quantize_config qc = {.cutoff = 300, .qout = 1};
    mn_err err;
    ASSERT_EQ(mn_model_quantize(m, &qc, &q, &err), 0);
    mn_classifier *c = (mn_classifier *)q;
    ASSERT(c->p.pruned && c->p.nbuckets >= 2);
    uint32_t *kept = (uint32_t *)(uintptr_t)c->buckets; /* quantize's own copy */
    const char *path = mn_test_tmp_path("unsorted.mnlp");
    for (int bad = 0; bad < 3; bad++) {
        uint32_t first = kept[0], second = kept[1], last = kept[c->p.nbuckets - 1];
        if (bad == 0) { /* two swapped */
            kept[0] = second;
            kept[1] = first;
        } else if (bad == 1) { /* one twice */
            kept[1] = first;
        } else { /* one past the bucket count */
            kept[c->p.nbuckets - 1] = c->p.bucket;
        }
        ASSERT_EQ(mn_model_save(q, path, &err), 0);
        ASSERT_EQ(mn_model_open(path, &back, &err), MN_ECORRUPT);
        kept[0] = first;
        kept[1] = second;
        kept[c->p.nbuckets - 1] = last;
    }
    ASSERT_EQ(mn_model_save(q, path, &err), 0);
    ASSERT_EQ(mn_model_open(path, &back, &err), 0);
    mn_model_release(back);
    mn_model_release(q);
    mn_model_release(m);
    unlink(path);
}

/* packing.h: 6-bit weights, half-precision scales and varint gaps read back what was written. */
TEST(packing_round_trips)
{
    static int8_t w[203], back[203];
    static uint8_t buf[sizeof w];
    for (size_t n = 0; n <= sizeof w; n++) {
        for (size_t i = 0; i < n; i++)
            w[i] = (int8_t)((int)((i * 37 + n) % 64) - 32);
        memset(buf, 0, sizeof buf);
        mn_pack6(w, n, buf);
        ASSERT_EQ(mn_unpack6(buf, n, back), 0);
        ASSERT(memcmp(w, back, n) == 0);
        if ((n * 6) % 8) { /* unused bits of the last byte set: refused */
            buf[mn_pack6_bytes(n) - 1] |= 0x80;
            ASSERT_EQ(mn_unpack6(buf, n, back), -1);
        }
    }
    /* Every finite half converts to float and back unchanged; infinities stay infinite. */
    for (uint32_t h = 0; h < 0x10000u; h++) {
        if (((h >> 10) & 0x1fu) == 0x1fu && (h & 0x3ffu))
            continue; /* NaN */
        ASSERT_EQ(mn_half_from_float(mn_half_to_float((uint16_t)h)), h);
    }
    /* Floats round to the nearest half (ties to even): halfway between two neighbours goes
     * to the even one, just past halfway to the far one. */
    ASSERT_EQ(mn_half_from_float(1.0f + 1.0f / 2048), 0x3c00u);
    ASSERT_EQ(mn_half_from_float(1.0f + 3.0f / 2048), 0x3c02u);
    ASSERT_EQ(mn_half_from_float(1.0f + 1.0f / 2048 + 1.0f / 65536), 0x3c01u);
    ASSERT_EQ(mn_half_from_float(65520.0f), 0x7c00u); /* rounds past the largest half */
    ASSERT_EQ(mn_half_from_float(65504.0f), 0x7bffu);
    ASSERT_EQ(mn_half_from_float(1e-9f), 0u);
    ASSERT_EQ(mn_half_from_float(5.9604645e-8f), 1u); /* the smallest subnormal */
    uint64_t x = 99;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        float f = ldexpf((float)(x >> 40) / (float)(1u << 24), (int)((x >> 8) % 40) - 30);
        uint16_t h = mn_half_from_float(f);
        float g = mn_half_to_float(h), up = mn_half_to_float((uint16_t)(h + 1)),
              down = h ? mn_half_to_float((uint16_t)(h - 1)) : -1.0f;
        ASSERT(fabsf(f - g) <= fabsf(up - f) && fabsf(f - g) <= fabsf(f - down));
    }
    uint8_t v[5];
    const uint32_t vals[] = {0, 1, 127, 128, 16383, 16384, 0x0fffffffu, 0xffffffffu};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        size_t n = mn_varint_put(vals[i], v);
        ASSERT_EQ(n, mn_varint_size(vals[i]));
        const uint8_t *p = v;
        uint32_t got = 1;
        ASSERT_EQ(mn_varint_get(&p, v + n, &got), 0);
        ASSERT_EQ(got, vals[i]);
        ASSERT(p == v + n);
        p = v;
        if (n > 1)
            ASSERT_EQ(mn_varint_get(&p, v + n - 1, &got), -1); /* cut short */
    }
    const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, too_big[] = {0xff, 0xff, 0xff,
                                                                                  0xff, 0x1f};
    const uint8_t *p = too_long;
    uint32_t got;
    ASSERT_EQ(mn_varint_get(&p, too_long + sizeof too_long, &got), -1);
    p = too_big;
    ASSERT_EQ(mn_varint_get(&p, too_big + sizeof too_big, &got), -1);
}

/* Opening a 6-bit file allocates its unpacked rows: every allocation failure is MN_ENOMEM with
 * nothing leaked (the sanitizer build checks), and the open succeeds once they stop. */
TEST(six_bit_open_survives_allocation_failures)
{
    mn_model *m = train_with(MN_LOSS_SOFTMAX, 1, 3), *q = NULL;
    ASSERT(m != NULL);
    mn_quantize_config qc = {.cutoff = 300, .qout = 1, .bits = 6};
    mn_err err;
    ASSERT_EQ(mn_model_quantize(m, &qc, &q, &err), 0);
    const char *path = mn_test_tmp_path("six-oom.mnlp");
    ASSERT_EQ(mn_model_save(q, path, &err), 0);
    int failed;
    open_under_alloc_failures(path, 1000, &failed);
    ASSERT(failed >= 3); /* opened, after the ids, rows and scales were refused once each */
    mn_model_release(q);
    mn_model_release(m);
    unlink(path);
}

/* Writes the sections of the model file at from into a file at to, with section `tag`'s bytes
 * replaced by data/size (tag 0: none) and the version given. */
static void resave(const char *from, const char *to, uint32_t tag, const void *data, size_t size,
                   uint32_t version)
{
    static const uint32_t tags[] = {
        MN_TAG('L', 'A', 'B', 'L'), MN_TAG('M', 'E', 'T', 'A'), TAG_PARAMS, TAG_VOCAB,
        TAG_BUCKETS_GAPS,           TAG_EMB6,                   TAG_EMBH,   TAG_OUTQ,
        TAG_OUTS};
    mn_file *f = NULL;
    mn_err err;
    ASSERT_EQ(mn_file_open(from, &f, &err), 0);
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(MN_MODEL_CLASSIFIER, &w), 0);
    ASSERT_EQ(mn_file_writer_need_version(w, version), 0);
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        const void *d;
        size_t n;
        ASSERT_EQ(mn_file_section(f, tags[i], &d, &n), 0);
        if (tags[i] == tag)
            d = data, n = size;
        ASSERT_EQ(mn_file_writer_add(w, tags[i], d, n), 0);
    }
    ASSERT_EQ(mn_file_writer_commit(w, to, &err), 0);
    mn_file_writer_free(w);
    mn_file_close(f);
}

/* Section bytes of the file at path (a copy the caller frees), for editing. */
static uint8_t *section_copy(const char *path, uint32_t tag, size_t extra, size_t *size)
{
    mn_file *f = NULL;
    mn_err err;
    const void *d;
    if (mn_file_open(path, &f, &err) != 0 || mn_file_section(f, tag, &d, size) != 0)
        return NULL;
    uint8_t *copy = malloc(*size + extra + 1);
    if (copy)
        memcpy(copy, d, *size);
    mn_file_close(f);
    return copy;
}

/* A 6-bit file whose sections do not hold what its parameters say is refused, whatever the
 * damage: ids not increasing or past the bucket count, a varint cut short or bytes after the
 * last id, rows of the wrong size or with bits set past the last weight, a scale that is not
 * finite, 6-bit rows in a file that says version 2, another bit width. The same sections
 * written back unchanged open. */
TEST(damaged_six_bit_sections_are_refused)
{
    mn_dataset *d = load("train.txt");
    ASSERT(d != NULL);
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 5; /* 30 bits a row: the last byte of the rows has unused bits */
    cfg.bucket = 10000;
    cfg.minn = 2;
    cfg.maxn = 3;
    cfg.epoch = 2;
    mn_model *m = train_or_report(&cfg, d), *q = NULL, *back = NULL;
    mn_dataset_free(d);
    ASSERT(m != NULL);
    mn_quantize_config qc = {.cutoff = 300, .qout = 1, .bits = 6};
    mn_err err;
    ASSERT_EQ(mn_model_quantize(m, &qc, &q, &err), 0);
    mn_classifier *c = (mn_classifier *)q;
    ASSERT(c->p.pruned && c->p.nbuckets >= 2 && c->buckets[0] > 0);
    ASSERT(((size_t)c->in.rows * c->p.dim * 6) % 8 != 0);
    char good[4096], bad[4096];
    snprintf(good, sizeof good, "%s", mn_test_tmp_path("six.mnlp"));
    snprintf(bad, sizeof bad, "%s", mn_test_tmp_path("six-bad.mnlp"));

    /* Kept ids out of order, twice, or past the bucket count (written by the writer itself). */
    uint32_t *kept = (uint32_t *)(uintptr_t)c->buckets;
    for (int k = 0; k < 3; k++) {
        uint32_t first = kept[0], second = kept[1], last = kept[c->p.nbuckets - 1];
        if (k == 0)
            kept[0] = second, kept[1] = first;
        else if (k == 1)
            kept[1] = first;
        else
            kept[c->p.nbuckets - 1] = c->p.bucket;
        ASSERT_EQ(mn_model_save(q, bad, &err), 0);
        ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
        ASSERT(strstr(err.msg, "'BKTV'") != NULL);
        kept[0] = first, kept[1] = second, kept[c->p.nbuckets - 1] = last;
    }
    ASSERT_EQ(mn_model_save(q, good, &err), 0);

    size_t n;
    uint8_t *s = section_copy(good, TAG_PARAMS, 0, &n);
    ASSERT(s != NULL);
    resave(good, bad, 0, NULL, 0, 3); /* unchanged: opens */
    ASSERT_EQ(mn_model_open(bad, &back, &err), 0);
    mn_model_release(back);
    resave(good, bad, 0, NULL, 0, 2);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    mn_clf_params p;
    memcpy(&p, s, sizeof p);
    p.in_bits = 5;
    resave(good, bad, TAG_PARAMS, &p, sizeof p, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    free(s);

    s = section_copy(good, TAG_BUCKETS_GAPS, 1, &n);
    ASSERT(s != NULL);
    s[n] = 1; /* one byte more */
    resave(good, bad, TAG_BUCKETS_GAPS, s, n + 1, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "past its") != NULL);
    resave(good, bad, TAG_BUCKETS_GAPS, s, n - 1, 3); /* the last id cut */
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    s[n - 1] |= 0x80; /* the last varint runs off the end */
    resave(good, bad, TAG_BUCKETS_GAPS, s, n, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    free(s);

    s = section_copy(good, TAG_EMB6, 0, &n);
    ASSERT(s != NULL);
    resave(good, bad, TAG_EMB6, s, n - 1, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    s[n - 1] |= 0x80; /* an unused bit */
    resave(good, bad, TAG_EMB6, s, n, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "'EMB6'") != NULL);
    free(s);

    s = section_copy(good, TAG_EMBH, 0, &n);
    ASSERT(s != NULL);
    s[n - 2] = 0x00, s[n - 1] = 0x7c; /* +infinity */
    resave(good, bad, TAG_EMBH, s, n, 3);
    ASSERT_EQ(mn_model_open(bad, &back, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "'EMBH'") != NULL);
    free(s);

    mn_model_release(q);
    mn_model_release(m);
    unlink(good);
    unlink(bad);
}

/* The softmax's max_score and divide_all (four lanes) against their scalar loops, bit for bit,
 * on random scores of every length up to 40 with zeros of both signs, infinities and NaNs
 * mixed in; for max_score, x - max must match (the lanes may return the other zero). */
TEST(softmax_steps_match_scalar)
{
    static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, -3.5f};
    uint64_t x = 77;
    for (int iter = 0; iter < 20000; iter++) {
        float v[40], a[40], b[40];
        uint32_t n = (uint32_t)iter % 41;
        for (uint32_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int pick = (int)(x >> 61);
            v[i] = iter % 3 == 0 && pick < 7 ? special[pick]
                                              : (float)((int64_t)(x >> 20) % 200000) / 1000.0f;
        }
        float want = -INFINITY;
        for (uint32_t i = 0; i < n; i++)
            if (v[i] > want)
                want = v[i];
        float got = max_score(v, n);
        for (uint32_t i = 0; i < n; i++) {
            float d1 = v[i] - want, d2 = v[i] - got;
            if (memcmp(&d1, &d2, sizeof d1) != 0 && !(d1 == 0 && d2 == 0) &&
                !(d1 != d1 && d2 != d2))
                MN_FAIL_AT("iter %d: max %g, want %g", iter, (double)got, (double)want);
        }
        if (!(got == want || (got != got && want != want)))
            MN_FAIL_AT("iter %d: max %g, want %g", iter, (double)got, (double)want);
        float z = n ? v[0] + 0.75f : 3.0f;
        memcpy(a, v, n * sizeof *v);
        memcpy(b, v, n * sizeof *v);
        for (uint32_t i = 0; i < n; i++)
            b[i] /= z;
        divide_all(a, n, z);
        if (memcmp(a, b, n * sizeof *a) != 0)
            MN_FAIL_AT("iter %d: quotients differ", iter);
    }
}

TEST_MAIN(TEST_ENTRY(softmax_learns) TEST_ENTRY(feature_selection_options) TEST_ENTRY(ova_learns) TEST_ENTRY(ova_threshold_and_order) TEST_ENTRY(hs_learns)
              TEST_ENTRY(char_ngrams_and_threads_learn) TEST_ENTRY(one_thread_is_deterministic)
                  TEST_ENTRY(save_and_open_predict_the_same) TEST_ENTRY(hs_round_trip)
                      TEST_ENTRY(quantized_round_trip_keeps_accuracy)
                      TEST_ENTRY(six_bit_round_trip_keeps_accuracy)
                      TEST_ENTRY(packing_round_trips)
                      TEST_ENTRY(damaged_six_bit_sections_are_refused)
                      TEST_ENTRY(six_bit_open_survives_allocation_failures)
                          TEST_ENTRY(warm_prediction_does_not_allocate)
                              TEST_ENTRY(threshold_and_k) TEST_ENTRY(bad_config_is_refused)
                                  TEST_ENTRY(texts_without_words_train)
                                  TEST_ENTRY(training_survives_allocation_failures)
                                      TEST_ENTRY(autotune_returns_a_good_model)
                                          TEST_ENTRY(early_stopping_on_validation)
                                              TEST_ENTRY(word_hashes_match_reference) TEST_ENTRY(repeated_words_give_the_same_features) TEST_ENTRY(shape_and_digit_features)
                                              TEST_ENTRY(cjk_runs_are_one_token)
                                                  TEST_ENTRY(quantized_row_sums_match_scalar)
                                                      TEST_ENTRY(blocked_scores_match_scalar)
                                                      TEST_ENTRY(softmax_steps_match_scalar)
                                                          TEST_ENTRY(bucket_map_matches_reference)
                                                          TEST_ENTRY(unsorted_kept_buckets_are_refused))
