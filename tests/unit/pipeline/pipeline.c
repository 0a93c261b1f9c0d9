/* SPDX-License-Identifier: MIT
 *
 * Pipelines with the shipped models (models/: lang, spam, ner): loading and every refusal with
 * its file:line:column, routing decisions and their reasons, three-valued skips, `after`,
 * failed and timed-out steps (a host that makes one model slow or unavailable), parallel stages
 * giving the same answers as sequential ones, the combined JSON, allocation failures.
 */
#include "pipeline/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "test.h"

/* ---- a host over models/ that can make a model slow or broken ------------------------------ */

static mn_dir_host *dir;
static const mn_model_host *inner;
static unsigned slow_ms = 200;
/* Successful acquires and dones (slots given back): equal whenever nothing is running. */
static _Atomic unsigned acquired, done_count;

typedef struct fake {
    const char *name; /* as pipelines name it */
    const char *real; /* the model behind it */
    int broken;
    int slow;
    void *handle;
} fake;

static fake fakes[] = {
    {"slow", "spam", 0, 1, NULL},
    {"broken", "spam", 1, 0, NULL},
};

static void *fake_find(void *ctx, const char *name, mn_model_type *kind)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++)
        if (strcmp(name, fakes[i].name) == 0) {
            fakes[i].handle = inner->find(inner->ctx, fakes[i].real, kind);
            return fakes[i].handle ? &fakes[i] : NULL;
        }
    return inner->find(inner->ctx, name, kind);
}

static int fake_acquire(void *ctx, void *handle, mn_model **m, const char **version,
                        void **token)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++)
        if (handle == &fakes[i]) {
            if (fakes[i].broken)
                return MN_ENOTFOUND;
            if (fakes[i].slow)
                nanosleep(&(struct timespec){.tv_nsec = (long)slow_ms * 1000000L}, NULL);
            int rc = inner->acquire(inner->ctx, fakes[i].handle, m, version, token);
            acquired += rc == 0;
            return rc;
        }
    int rc = inner->acquire(inner->ctx, handle, m, version, token);
    acquired += rc == 0;
    return rc;
}

/* Counts the worker slots given back, as a server's host would (src/serve/pipelines.c). */
static void fake_done(void *ctx, void *token)
{
    (void)ctx;
    (void)token;
    done_count++;
}

static void fake_release(void *ctx, void *token)
{
    (void)ctx;
    inner->release(inner->ctx, token);
}

static mn_model_host host = {
    .find = fake_find, .acquire = fake_acquire, .done = fake_done, .release = fake_release};

static int setup(void)
{
    if (dir)
        return 0;
    const char *data = getenv("MN_TEST_DATA");
    char models[512];
    snprintf(models, sizeof models, "%s/../../models", data ? data : "tests/data");
    mn_err err;
    if (mn_dir_host_new(models, &dir, &err) != 0)
        return -1;
    inner = mn_dir_host_get(dir);
    return 0;
}

static mn_pipelines *load(const char *yaml, mn_err *err)
{
    mn_pipelines *ps = NULL;
    mn_err_clear(err);
    if (setup() != 0)
        return NULL;
    mn_pipelines_parse(yaml, strlen(yaml), "t.yaml", &host, &ps, err);
    return ps;
}

/* The first pipeline of yaml, and in *rt a route to run it; NULL (with the loader's message on
 * stderr) when the file does not load. */
static const mn_pipeline *first_with_route(const char *yaml, mn_pipelines **ps, mn_route **rt)
{
    mn_err err;
    *rt = NULL;
    *ps = load(yaml, &err);
    if (!*ps) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    if (mn_route_new(rt) != 0) {
        mn_pipelines_free(*ps);
        *ps = NULL;
        return NULL;
    }
    return mn_pipelines_at(*ps, 0);
}

/* UDHR-like English: the shipped lang model is sure of it (see docs/MODELS.md for where it is
 * not). */
static const char EN[] = "Everyone has the right to life, liberty and security of person, and "
                         "no one shall be held in slavery.";
static const char DE[] = "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie "
                         "sind mit Vernunft und Gewissen begabt.";

static const char BASIC[] = "pipelines:\n"
                            "  default:\n"
                            "    steps:\n"
                            "      - model: lang\n"
                            "      - model: spam\n"
                            "        when: lang.label == \"eng\" && words >= 3\n"
                            "      - model: ner\n"
                            "        when: lang.label in [\"eng\", \"deu\"]\n"
                            "    output:\n"
                            "      language: lang.label\n"
                            "      spam: spam\n"
                            "      people: ner\n";

/* ---- loading ------------------------------------------------------------------------------ */

TEST(loads_and_describes)
{
    mn_err err;
    mn_pipelines *ps = load(BASIC, &err);
    ASSERT(ps != NULL);
    if (!ps)
        MN_FAIL_AT("%s", err.msg);
    ASSERT_EQ(mn_pipelines_count(ps), 1);
    const mn_pipeline *p = mn_pipelines_find(ps, NULL, 0);
    ASSERT_STREQ(mn_pipeline_name(p), "default");
    ASSERT_EQ(mn_pipeline_step_count(p), 3);
    ASSERT_STREQ(mn_pipeline_step_name(p, 1), "spam");
    ASSERT_EQ(p->nstages, 2); /* lang, then spam and ner together */
    ASSERT(mn_pipelines_find(ps, "nope", 4) == NULL);
    mn_pipelines_free(ps);
}

TEST(refuses_bad_files_with_positions)
{
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {"", "t.yaml: empty pipeline file"},
        {"pipelines: [", "t.yaml:2:1: invalid YAML"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: !spam.ok\n",
         "t.yaml:5:15: when: YAML reads"},
        {"pipelines:\n  p:\n    steps:\n      - model: nope\n", "t.yaml:4:16: unknown model 'nope'"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n        when: lang.lable == \"x\"\n",
         "t.yaml:5:15: when: unknown field 'lang.lable'"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n      - model: spam\n"
         "        when: lang.score == \"x\"\n",
         "t.yaml:6:26: when: type error: '==' needs both sides of one type"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: ner.count > 0\n"
         "      - model: ner\n        when: spam.label == \"spam\"\n",
         "cycle"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: spam.ok\n", "cycle"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        colour: red\n",
         "t.yaml:5:9: unknown step key 'colour'"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n      - model: spam\n",
         "t.yaml:5:16: two steps named 'spam'"},
        {"pipelines:\n  p:\n    steps: []\n", "has no steps"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        k: 0\n",
         "t.yaml:5:12: k must be a whole number from 1 to 1000"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n    output:\n      x: spam.colour\n",
         "t.yaml:6:10: output 'x': unknown field 'spam.colour'"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        lang: x.label\n",
         "only a keywords step takes lang"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: spam.prob.eggs > 0\n",
         "t.yaml:5:15: when: model 'spam' has no label 'eggs'"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n      - model: spam\n"
         "        when: lang.prob.zzz > 0\n",
         "model 'lang' has no label 'zzz'"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        after: [nope]\n",
         "after: unknown step 'nope'"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: (len > 3\n",
         "t.yaml:5:"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        when: len\n", "bool"},
        {"version: 2\npipelines: {}\n", "t.yaml:1:10: pipeline file version 2"},
        {"pipes:\n  p: {}\n", "t.yaml:1:1: unknown key 'pipes'"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n---\nx: 1\n",
         "one YAML document"},
        {"pipelines:\n  p:\n    steps:\n      - model: spam\n        name: len\n",
         "a step name must be"},
        {"pipelines:\n  p:\n    steps:\n      - {model: spam}\n  p:\n    steps:\n      - "
         "{model: spam}\n",
         "two pipelines named 'p'"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n        sure_at: 0.9\n",
         "t.yaml:5:9: sure_at needs first_bytes"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n        first_bytes: 100\n"
         "        sure_at: 1.5\n",
         "t.yaml:6:18: sure_at must be a probability"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n        first_bytes: 0\n",
         "t.yaml:5:22: first_bytes must be a whole number from 1"},
        {"pipelines:\n  p:\n    steps:\n      - model: ner\n        first_bytes: 100\n",
         "t.yaml:5:9: first_bytes needs a model that answers with probabilities"},
        {"pipelines:\n  p:\n    steps:\n      - model: lang\n        max_bytes: 100\n"
         "        first_bytes: 100\n",
         "t.yaml:6:9: first_bytes (100) must be less than max_bytes (100)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_err err;
        mn_pipelines *ps = load(cases[i].yaml, &err);
        if (ps) {
            mn_pipelines_free(ps);
            MN_FAIL_AT("case %zu loaded, wanted \"%s\"", i, cases[i].want);
        }
        if (!strstr(err.msg, cases[i].want))
            MN_FAIL_AT("case %zu: \"%s\" does not contain \"%s\"", i, err.msg, cases[i].want);
    }
    mn_err err;
    mn_pipelines *ps = NULL;
    ASSERT(mn_pipelines_parse("a: \xff\n", 6, "bad.yaml", &host, &ps, &err) == MN_EUTF8);
    ASSERT(strstr(err.msg, "bad.yaml: invalid UTF-8 at byte 3") != NULL);
    ASSERT(mn_pipelines_load("/nonexistent/p.yaml", &host, &ps, &err) < 0);
    ASSERT(strstr(err.msg, "/nonexistent/p.yaml") != NULL);
}

/* ---- routing ------------------------------------------------------------------------------ */

static int step_index(const mn_pipeline *p, const char *name)
{
    for (size_t i = 0; i < mn_pipeline_step_count(p); i++)
        if (strcmp(mn_pipeline_step_name(p, i), name) == 0)
            return (int)i;
    return -1;
}

TEST(routes_by_language)
{
    mn_err err;
    mn_pipelines *ps = load(BASIC, &err);
    ASSERT(ps != NULL);
    const mn_pipeline *p = mn_pipelines_find(ps, NULL, 0);
    mn_route *rt;
    ASSERT_EQ(mn_route_new(&rt), 0);
    int spam = step_index(p, "spam"), ner = step_index(p, "ner");

    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, DE, strlen(DE)), 0);
    ASSERT_STREQ(mn_route_label(rt, 0, NULL), "deu");
    ASSERT_EQ(mn_route_status(rt, (size_t)spam), MN_STEP_SKIPPED);
    ASSERT_EQ(mn_route_status(rt, (size_t)ner), MN_STEP_OK);
    const char *why = mn_route_reason(rt, (size_t)spam);
    ASSERT(strstr(why, "when `lang.label == \"eng\" && words >= 3` is false") != NULL);
    ASSERT(strstr(why, "lang.label = \"deu\"") != NULL);
    ASSERT_EQ(mn_route_step_ns(rt, (size_t)spam), 0);
    ASSERT(mn_route_total_ns(rt) >= mn_route_overhead_ns(rt));

    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, EN, strlen(EN)), 0);
    ASSERT_STREQ(mn_route_label(rt, 0, NULL), "eng");
    ASSERT_EQ(mn_route_status(rt, (size_t)spam), MN_STEP_OK);
    ASSERT_STREQ(mn_route_reason(rt, (size_t)spam), "");
    const char *json;
    size_t len;
    ASSERT_EQ(mn_route_json(rt, EN, strlen(EN), 0, &json, &len), 0);
    float p_spam;
    const char *spam_label = mn_route_label(rt, (size_t)spam, &p_spam);
    ASSERT(spam_label != NULL);
    char want[128];
    snprintf(want, sizeof want, "\"output\":{\"language\":\"eng\",\"spam\":\"%s\",\"people\":[",
             spam_label);
    ASSERT(strstr(json, want) != NULL);
    ASSERT(strstr(json, "\"spam\":{\"status\":\"ok\",\"model\":\"spam\",\"version\":\"1\"") !=
           NULL);

    /* An empty text runs too: lang answers und, spam is skipped, nothing fails. */
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, "", 0), 0);
    ASSERT_STREQ(mn_route_label(rt, 0, NULL), "und");
    ASSERT_EQ(mn_route_status(rt, (size_t)spam), MN_STEP_SKIPPED);
    ASSERT_EQ(mn_route_json(rt, "", 0, 0, &json, &len), 0);
    ASSERT(strstr(json, "\"spam\":null") != NULL);
    mn_route_free(rt);
    mn_pipelines_free(ps);
}

TEST(missing_fields_are_unknown_not_false)
{
    static const char yaml[] =
        "pipelines:\n  p:\n    steps:\n"
        "      - model: lang\n"
        "      - model: spam\n        when: lang.label == \"xyz\"\n"
        "      - model: ner\n        when: spam.label != \"spam\"\n"  /* spam skipped: unknown */
        "      - name: ner2\n        model: ner\n        when: not (spam.label == \"spam\") || len > 0\n"
        "      - name: after_spam\n        model: ner\n        after: spam\n"
        "      - name: not_spam_ok\n        model: ner\n        when: not spam.ok\n";
    mn_pipelines *ps;
    mn_route *rt;
    const mn_pipeline *p = first_with_route(yaml, &ps, &rt);
    ASSERT(p != NULL);
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, EN, strlen(EN)), 0);
    ASSERT_EQ(mn_route_status(rt, 1), MN_STEP_SKIPPED);
    ASSERT_EQ(mn_route_status(rt, 2), MN_STEP_SKIPPED);
    ASSERT(strstr(mn_route_reason(rt, 2), "is unknown") != NULL);
    ASSERT(strstr(mn_route_reason(rt, 2), "spam.label is missing") != NULL);
    ASSERT_EQ(mn_route_status(rt, 3), MN_STEP_OK); /* unknown || true = true */
    ASSERT_EQ(mn_route_status(rt, 4), MN_STEP_SKIPPED);
    ASSERT(strstr(mn_route_reason(rt, 4), "waits for step 'spam', which was skipped") != NULL);
    ASSERT_EQ(mn_route_status(rt, 5), MN_STEP_OK); /* spam.ok is false (it did not run) */
    mn_route_free(rt);
    mn_pipelines_free(ps);
}

TEST(prob_fields)
{
    static const char yaml[] = "pipelines:\n  p:\n    steps:\n"
                               "      - model: spam\n"
                               "      - model: ner\n        when: spam.prob.spam > 0.5\n"
                               "      - name: ner2\n        model: ner\n"
                               "        when: spam.prob.ham > 0.5\n"
                               "    output:\n      p_spam: spam.prob.spam\n      s: spam\n";
    /* An unmistakable spam e-mail: the shipped spam model answers spam with p > 0.99. */
    static const char SPAM[] = "WINNER!! You have been selected for a FREE iPhone. Click "
                               "http://bit.ly/xyz to claim your prize now!";
    mn_pipelines *ps;
    mn_route *rt;
    const mn_pipeline *p = first_with_route(yaml, &ps, &rt);
    ASSERT(p != NULL);
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, SPAM, strlen(SPAM)), 0);
    ASSERT_STREQ(mn_route_label(rt, 0, NULL), "spam");
    ASSERT_EQ(mn_route_status(rt, 1), MN_STEP_OK);
    ASSERT_EQ(mn_route_status(rt, 2), MN_STEP_SKIPPED);
    ASSERT(strstr(mn_route_reason(rt, 2), "spam.prob.ham = ") != NULL);
    const char *json;
    size_t len;
    ASSERT_EQ(mn_route_json(rt, SPAM, strlen(SPAM), MN_ROUTE_JSON_NO_STEPS, &json, &len), 0);
    /* The step asked for every label to know p(spam), but shows only its k = 1 best. */
    ASSERT(strstr(json, "\"s\":\"spam\"") != NULL);
    ASSERT(strstr(json, "\"p_spam\":") != NULL);
    ASSERT(strstr(json, "\"steps\"") == NULL);
    mn_route_free(rt);
    mn_pipelines_free(ps);
    /* Loading looked the labels spam and ham up in the model: it gave back the worker slot it
     * took each time, as every run did (a server's spam model had run out of slots). */
    ASSERT_EQ(acquired, done_count);
    ASSERT(acquired >= 3);
}

TEST(failed_and_timed_out_steps_are_recorded)
{
    static const char yaml[] = "pipelines:\n  p:\n    steps:\n"
                               "      - model: lang\n"
                               "      - model: broken\n"
                               "      - model: slow\n        timeout_ms: 50\n"
                               "      - model: spam\n";
    mn_err err;
    mn_pipelines *ps = load(yaml, &err);
    if (!ps)
        MN_FAIL_AT("%s", err.msg);
    const mn_pipeline *p = mn_pipelines_at(ps, 0);
    /* 4 helpers: each round leaves its slow step running on one for 200 ms. */
    for (int threads = 0; threads <= 4; threads += 4) {
        mn_runner *r;
        mn_route *rt;
        ASSERT_EQ(mn_runner_new(threads, &r), 0);
        ASSERT_EQ(mn_route_new(&rt), 0);
        for (int round = 0; round < 3; round++) {
            ASSERT_EQ(mn_pipeline_run(p, r, rt, EN, strlen(EN)), 0);
            ASSERT_EQ(mn_route_status(rt, 0), MN_STEP_OK);
            ASSERT_EQ(mn_route_status(rt, 1), MN_STEP_FAILED);
            ASSERT(strstr(mn_route_reason(rt, 1), "model 'broken' is not loaded") != NULL);
            ASSERT_EQ(mn_route_status(rt, 2), MN_STEP_TIMEOUT);
            ASSERT(strstr(mn_route_reason(rt, 2), "timeout of 50 ms") != NULL);
            ASSERT_EQ(mn_route_status(rt, 3), MN_STEP_OK);
            if (threads)
                /* on a helper, no run waits the 200 ms the slow step takes: the route leaves
                 * the timed-out step to its helper */
                ASSERT(mn_route_total_ns(rt) < 150000000u);
            const char *json;
            size_t len;
            ASSERT_EQ(mn_route_json(rt, EN, strlen(EN), 0, &json, &len), 0);
            ASSERT(strstr(json, "\"broken\":{\"status\":\"failed\"") != NULL);
            ASSERT(strstr(json, "\"slow\":{\"status\":\"timeout\"") != NULL);
            ASSERT(strstr(json, "\"spam\":{\"status\":\"ok\"") != NULL);
        }
        mn_route_free(rt); /* waits for the abandoned slow step */
        mn_runner_free(r);
    }
    mn_pipelines_free(ps);
}

TEST(parallel_stages_give_the_same_answers)
{
    static const char yaml[] = "pipelines:\n  p:\n    steps:\n"
                               "      - model: lang\n        k: 3\n"
                               "      - model: spam\n        when: len > 10\n"
                               "      - model: ner\n"
                               "      - name: ner_en\n        model: ner\n"
                               "        when: lang.label == \"eng\"\n";
    mn_err err;
    mn_pipelines *ps = load(yaml, &err);
    if (!ps)
        MN_FAIL_AT("%s", err.msg);
    const mn_pipeline *p = mn_pipelines_at(ps, 0);
    mn_runner *seq, *par;
    mn_route *a, *b;
    ASSERT_EQ(mn_runner_new(0, &seq), 0);
    ASSERT_EQ(mn_runner_new(2, &par), 0);
    ASSERT_EQ(mn_route_new(&a), 0);
    ASSERT_EQ(mn_route_new(&b), 0);
    const char *texts[] = {EN, DE, "", "Bill Gates and Paul Allen founded Microsoft in Albuquerque."};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        ASSERT_EQ(mn_pipeline_run(p, seq, a, texts[i], len), 0);
        ASSERT_EQ(mn_pipeline_run(p, par, b, texts[i], len), 0);
        const char *ja, *jb;
        size_t la, lb;
        ASSERT_EQ(mn_route_json(a, texts[i], len, MN_ROUTE_JSON_NO_TIMES, &ja, &la), 0);
        ASSERT_EQ(mn_route_json(b, texts[i], len, MN_ROUTE_JSON_NO_TIMES, &jb, &lb), 0);
        ASSERT_EQ(la, lb);
        ASSERT(memcmp(ja, jb, la) == 0);
    }
    const char *ex;
    size_t exlen;
    ASSERT_EQ(mn_route_explain(b, &ex, &exlen), 0);
    ASSERT(strstr(ex, "pipeline p: 4 steps in 2 stages") != NULL);
    ASSERT(strstr(ex, "ner_en") != NULL);
    mn_route_free(a);
    mn_route_free(b);
    mn_runner_free(seq);
    mn_runner_free(par);
    mn_pipelines_free(ps);
}

TEST(max_bytes_reads_a_prefix)
{
    static const char yaml[] = "pipelines:\n  p:\n    steps:\n"
                               "      - model: ner\n"
                               "      - name: head\n        model: ner\n        max_bytes: 22\n";
    static const char text[] = "Bill Gates and Paul Allen founded Microsoft in Albuquerque.";
    mn_pipelines *ps;
    mn_route *rt;
    const mn_pipeline *p = first_with_route(yaml, &ps, &rt);
    ASSERT(p != NULL);
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, text, strlen(text)), 0);
    const mn__step_out *all = rt->out[0], *head = rt->out[1];
    ASSERT(all->nents >= 3);
    ASSERT(head->nents >= 1);
    ASSERT(head->nents < all->nents);
    for (size_t i = 0; i < head->nents; i++) /* cut at the space before "Allen" */
        ASSERT(head->ents[i].off + head->ents[i].len <= 19);
    mn_route_free(rt);
    mn_pipelines_free(ps);
}

/* A first look settles a text it is sure of; a text it is not sure of is read further, and
 * then answered exactly as a step without the first look answers it. */
TEST(first_bytes_reads_further_only_when_unsure)
{
    static const char yaml[] = "pipelines:\n  p:\n    steps:\n"
                               "      - name: whole\n        model: lang\n        k: 3\n"
                               "      - name: look\n        model: lang\n        k: 3\n"
                               "        first_bytes: 60\n        sure_at: 0.99\n"
                               "      - name: picky\n        model: lang\n        k: 3\n"
                               "        first_bytes: 60\n        sure_at: 0.99999\n"
                               "      - name: tiny\n        model: lang\n"
                               "        first_bytes: 2\n        sure_at: 0.5\n";
    mn_pipelines *ps;
    mn_route *rt;
    const mn_pipeline *p = first_with_route(yaml, &ps, &rt);
    ASSERT(p != NULL);
    /* German for 60 bytes, then English: the first look is sure of German */
    char text[512];
    snprintf(text, sizeof text, "%s %s %s", DE, EN, EN);
    size_t len = strlen(text);
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, text, len), 0);
    const mn__step_out *whole = rt->out[0], *look = rt->out[1], *picky = rt->out[2];
    ASSERT_EQ(whole->read, len);
    ASSERT(look->read <= 60 && look->read > 30);
    ASSERT_STREQ(mn_model_label(look->model, look->preds[0].label), "deu");
    ASSERT(look->preds[0].prob >= 0.99f);
    ASSERT_STREQ(mn_model_label(whole->model, whole->preds[0].label), "eng");
    /* the first look gives German 0.99998, under picky's bar: read to the end, with the same
     * answer as the whole step's */
    ASSERT(look->preds[0].prob < 0.99999f);
    ASSERT_EQ(picky->read, len);
    ASSERT_EQ(picky->npreds, whole->npreds);
    for (size_t i = 0; i < whole->npreds; i++) {
        ASSERT_EQ(picky->preds[i].label, whole->preds[i].label);
        ASSERT(picky->preds[i].prob == whole->preds[i].prob);
    }
    /* a first look that holds no whole character is no look: an empty text would be "und" */
    static const char JA[] = "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。";
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, JA, strlen(JA)), 0);
    ASSERT_EQ(rt->out[3]->read, strlen(JA));
    ASSERT_STREQ(mn_model_label(rt->out[3]->model, rt->out[3]->preds[0].label), "jpn");
    /* a text shorter than the first look is read once, whole */
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, EN, 40), 0);
    ASSERT_EQ(rt->out[1]->read, 40);
    const char *ex;
    size_t exn;
    ASSERT_EQ(mn_pipeline_run(p, NULL, rt, text, len), 0);
    ASSERT_EQ(mn_route_explain(rt, &ex, &exn), 0);
    ASSERT(strstr(ex, "; read ") != NULL);
    /* the JSON says how much of the text an answer is about, and only when not all of it */
    const char *json;
    size_t json_len;
    ASSERT_EQ(mn_route_json(rt, text, len, MN_ROUTE_JSON_NO_TIMES, &json, &json_len), 0);
    char want[64];
    snprintf(want, sizeof want, "\"read_bytes\":%zu}", look->read);
    ASSERT(strstr(json, want) != NULL);
    ASSERT(strstr(strstr(json, "\"whole\":"), "read_bytes") > strstr(json, "\"look\":"));
    mn_route_free(rt);
    mn_pipelines_free(ps);
}

TEST(allocation_failures_are_clean)
{
    mn_err err;
    ASSERT_EQ(setup(), 0);
    for (long nth = 1; nth < 400; nth++) {
        mn_pipelines *ps = NULL;
        mn_alloc_fail_after(nth);
        int rc = mn_pipelines_parse(BASIC, strlen(BASIC), "t.yaml", &host, &ps, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            mn_route *rt = NULL;
            mn_alloc_fail_after(nth);
            int rrc = mn_route_new(&rt);
            if (rrc == 0)
                rrc = mn_pipeline_run(mn_pipelines_at(ps, 0), NULL, rt, EN, strlen(EN));
            mn_alloc_fail_after(0);
            ASSERT(rrc == 0 || rrc == MN_ENOMEM);
            mn_route_free(rt);
            mn_pipelines_free(ps);
            if (nth > 200)
                break;
            continue;
        }
        ASSERT(rc == MN_ENOMEM || rc == MN_EINVAL); /* a failed model open says "cannot" */
    }
}

TEST(teardown)
{
    mn_dir_host_free(dir);
    dir = NULL;
}

TEST_MAIN(TEST_ENTRY(loads_and_describes) TEST_ENTRY(refuses_bad_files_with_positions)
              TEST_ENTRY(routes_by_language) TEST_ENTRY(missing_fields_are_unknown_not_false)
                  TEST_ENTRY(prob_fields) TEST_ENTRY(failed_and_timed_out_steps_are_recorded)
                      TEST_ENTRY(parallel_stages_give_the_same_answers)
                          TEST_ENTRY(max_bytes_reads_a_prefix)
                              TEST_ENTRY(first_bytes_reads_further_only_when_unsure)
                              TEST_ENTRY(allocation_failures_are_clean) TEST_ENTRY(teardown))
