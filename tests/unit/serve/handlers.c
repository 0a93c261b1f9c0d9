/* SPDX-License-Identifier: MIT
 *
 * The service's handlers in process, without sockets: a model is trained on
 * tests/data/classify/train.txt, saved into a temporary repository, and each API and error
 * case is one call to mn__serve_handle() with a hand-made request. Also: overload (429 with
 * Retry-After), admin auth and operations, hot swap and a corrupted version in the repository.
 */
#include "serve/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "test.h"

static char repo[256];
static mn_server *srv;
static mn__worker *wk;
static mn__response rs;
static char logbuf[16384];

static void capture_log(void *ctx, const char *line)
{
    (void)ctx;
    size_t n = strlen(logbuf);
    if (n + strlen(line) + 2 < sizeof logbuf) {
        strcat(logbuf, line);
        strcat(logbuf, "\n");
    }
}

static int train_into(const char *path, int epoch)
{
    const char *data = getenv("MN_TEST_DATA");
    char in[512];
    snprintf(in, sizeof in, "%s/classify/train.txt", data ? data : "tests/data");
    mn_err err;
    mn_err_clear(&err);
    mn_dataset *d = NULL;
    if (mn_dataset_load(in, MN_DATA_AUTO, NULL, &d, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 16;
    cfg.epoch = epoch;
    cfg.bucket = 20000;
    cfg.task = "topic";
    mn_model *m = NULL;
    int rc = mn_classifier_train(&cfg, d, &m, &err);
    if (rc == 0)
        rc = mn_model_save(m, path, &err);
    mn_model_release(m);
    mn_dataset_free(d);
    return rc;
}

static void mkdirs(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", repo, rel);
    mkdir(p, 0755);
}

static int setup(void)
{
    snprintf(repo, sizeof repo, "/tmp/mn-serve-unit-XXXXXX");
    if (!mkdtemp(repo))
        return -1;
    mkdirs("topic");
    mkdirs("topic/1");
    char p[512];
    snprintf(p, sizeof p, "%s/topic/1/model.mnlp", repo);
    if (train_into(p, 10) != 0)
        return -1;
    mn_server_config cfg;
    mn_server_config_init(&cfg);
    cfg.repo_dir = repo;
    cfg.max_texts = 4;
    cfg.max_text_bytes = 64;
    cfg.admin_token = "s3cret";
    cfg.log_fn = capture_log;
    cfg.poll_ms = 0;
    mn_err err;
    mn_err_clear(&err);
    if (mn_server_new(&cfg, &srv, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return mn__worker_new(&wk);
}

static void teardown(void)
{
    mn__worker_free(wk);
    mn_server_free(srv);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", repo);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", repo);
}

/* One request; the body is a C string (or NULL). The response is in rs, its body NUL-ended. */
static int call_auth(const char *method, const char *path, const char *body, const char *auth)
{
    memset(&rs, 0, sizeof rs);
    mn__request rq = {
        .method = method,
        .path = path,
        .authorization = auth,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .started_ns = mn__now_ns(),
    };
    mn__serve_handle(srv, wk, &rq, &rs);
    return rs.status;
}

static int call(const char *method, const char *path, const char *body)
{
    return call_auth(method, path, body, NULL);
}

static int has(const char *needle)
{
    char copy[65536];
    size_t n = rs.body_len < sizeof copy - 1 ? rs.body_len : sizeof copy - 1;
    memcpy(copy, rs.body, n);
    copy[n] = '\0';
    if (!strstr(copy, needle)) {
        fprintf(stderr, "body %s\n  lacks %s\n", copy, needle);
        return 0;
    }
    return 1;
}

TEST(health)
{
    ASSERT_EQ(call("GET", "/healthz", NULL), 200);
    ASSERT_EQ(call("GET", "/readyz", NULL), 200);
    ASSERT(has("\"models\":1"));
    ASSERT_EQ(call("GET", "/v2/health/live", NULL), 200);
    ASSERT_EQ(call("GET", "/v2/health/ready", NULL), 200);
    ASSERT_EQ(call("GET", "/v2", NULL), 200);
    ASSERT(has("\"name\":\"micronlp\""));
}

TEST(predict_native)
{
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"goal team score\"}"), 200);
    ASSERT(has("\"model\":\"topic\",\"version\":\"1\",\"labels\":[{\"label\":\"sport\""));
    ASSERT_EQ(call("POST", "/v1/models/topic:predict",
                   "{\"texts\":[\"goal team\",\"bread soup\"],\"k\":3,\"threshold\":0}"),
              200);
    ASSERT(has("\"predictions\":[[{\"label\":\"sport\""));
    ASSERT(has("],[{\"label\":\"food\""));
    ASSERT_EQ(rs.texts, 2);
    ASSERT_EQ(call("POST", "/v1/models/topic/versions/1:predict", "{\"text\":\"chip\"}"), 200);
    /* threshold 1 leaves nothing */
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"x\",\"threshold\":1}"), 200);
    ASSERT(has("\"labels\":[]"));
}

TEST(predict_hf_and_v2)
{
    ASSERT_EQ(call("POST", "/hf/models/topic",
                   "{\"inputs\":\"goal team score\",\"options\":{\"wait_for_model\":true}}"),
              200);
    ASSERT(has("[[{\"label\":\"sport\",\"score\":"));
    ASSERT(has("{\"label\":\"tech\"") || has("{\"label\":\"food\""));
    ASSERT_EQ(call("POST", "/hf/models/topic",
                   "{\"inputs\":[\"goal\",\"bread\"],\"parameters\":{\"top_k\":1}}"),
              200);
    ASSERT(has("],[{"));
    ASSERT_EQ(call("GET", "/v2/models/topic", NULL), 200);
    ASSERT(has("\"datatype\":\"BYTES\""));
    ASSERT_EQ(call("GET", "/v2/models/topic/versions/1/ready", NULL), 200);
    ASSERT_EQ(call("POST", "/v2/models/topic/infer",
                   "{\"id\":\"r1\",\"inputs\":[{\"name\":\"text\",\"shape\":[2],"
                   "\"datatype\":\"BYTES\",\"data\":[\"goal team\",\"bread soup\"]}]}"),
              200);
    ASSERT(has("\"id\":\"r1\""));
    ASSERT(has("{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[2,1],\"data\":[\"sport\","
               "\"food\"]}"));
    ASSERT(has("{\"name\":\"score\",\"datatype\":\"FP32\",\"shape\":[2,1]"));
    ASSERT_EQ(call("POST", "/v2/models/topic/infer",
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[3],\"datatype\":\"BYTES\","
                   "\"data\":[\"a\"]}]}"),
              400);
    ASSERT_EQ(call("POST", "/v2/models/topic/infer",
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"FP32\","
                   "\"data\":[1]}]}"),
              400);
    ASSERT_EQ(call("POST", "/v2/models/topic/versions/9/infer", "{}"), 404);
}

TEST(models_listing)
{
    ASSERT_EQ(call("GET", "/v1/models", NULL), 200);
    ASSERT(has("\"name\":\"topic\""));
    ASSERT(has("\"labels\":[\"sport\",\"food\",\"tech\"]"));
    ASSERT(has("\"task\":\"topic\""));
    ASSERT_EQ(call("GET", "/v1/models/topic", NULL), 200);
    ASSERT_EQ(call("GET", "/v1/models/nope", NULL), 404);
}

TEST(bad_requests)
{
    const char *u = "/v1/models/topic:predict";
    ASSERT_EQ(call("POST", u, "{\"text\":"), 400);
    ASSERT(has("malformed JSON"));
    ASSERT_EQ(call("POST", u, ""), 400);
    char deep[300];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    ASSERT_EQ(call("POST", u, deep), 400);
    ASSERT(has("nesting"));
    ASSERT_EQ(call("POST", u, "{\"texts\":[\"fine\",\"b\xff" "ad\"]}"), 400);
    ASSERT(has("texts[1]: invalid UTF-8 at byte 1"));
    ASSERT_EQ(call("POST", u, "{\"text\":\"\xc3\"}"), 400);
    ASSERT(has("text: invalid UTF-8 at byte 0"));
    ASSERT_EQ(call("POST", u, "{\"text\":5}"), 422);
    ASSERT_EQ(call("POST", u, "{\"texts\":\"no\"}"), 422);
    ASSERT_EQ(call("POST", u, "{\"texts\":[]}"), 422);
    ASSERT_EQ(call("POST", u, "{\"texts\":[\"a\",[1]]}"), 422);
    ASSERT(has("texts[1]: expected a string"));
    ASSERT_EQ(call("POST", u, "{\"text\":\"a\",\"k\":0}"), 422);
    ASSERT_EQ(call("POST", u, "{\"text\":\"a\",\"threshold\":\"x\"}"), 422);
    ASSERT_EQ(call("POST", u, "{}"), 422);
    ASSERT_EQ(call("POST", u, "[]"), 422);
    ASSERT_EQ(call("POST", u, "{\"text\":\"a\",\"text\":\"b\"}"), 400);
    ASSERT_EQ(call("POST", u, "{\"texts\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 413);
    char big[200];
    snprintf(big, sizeof big, "{\"text\":\"%080d\"}", 1);
    ASSERT_EQ(call("POST", u, big), 413);
    ASSERT_EQ(call("POST", "/v1/models/nope:predict", "{\"text\":\"a\"}"), 404);
    ASSERT_EQ(call("POST", "/v1/models/topic/versions/2:predict", "{\"text\":\"a\"}"), 404);
    ASSERT_EQ(call("POST", "/v1/models/topic:explain", "{}"), 404);
    ASSERT_EQ(call("GET", "/nowhere", NULL), 404);
    ASSERT_EQ(call("GET", "/v1/models/caf\xe9", NULL), 404); /* a decoded %E9 in the path */
    ASSERT_EQ(mn_utf8_validate(rs.body, rs.body_len, NULL), 0);
    ASSERT(has("caf\xef\xbf\xbd"));
    ASSERT_EQ(call("GET", u, NULL), 405);
    ASSERT_STREQ(rs.allow, "POST");
    ASSERT_EQ(call("DELETE", "/v1/models", NULL), 405);
    ASSERT_EQ(call("POST", "/hf/models/topic", "{\"inputs\":3}"), 422);
    ASSERT_EQ(call("POST", "/hf/models/topic", "{\"inputs\":\"a\",\"parameters\":[]}"), 422);
}

TEST(steady_state_allocates_nothing)
{
    /* Once the worker's buffers, scratch and JSON arena have grown, answering makes no
     * allocation through mn_malloc (jansson included): every allocation from now on fails. */
    const char *reqs[][2] = {
        {"/v1/models/topic:predict", "{\"texts\":[\"goal team score\",\"bread\"],\"k\":2}"},
        {"/hf/models/topic", "{\"inputs\":\"goal team score\"}"},
        {"/v2/models/topic/infer", "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],"
                                   "\"datatype\":\"BYTES\",\"data\":[\"goal\"]}]}"},
        {"/v1/models/topic:predict", "{\"text\":5}"},
    };
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            mn_alloc_fail_after(1);
        for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
            int st = call("POST", reqs[i][0], reqs[i][1]);
            if (st != (i == 3 ? 422 : 200)) {
                mn_alloc_fail_after(0);
                MN_FAIL_AT("round %d request %zu: status %d", round, i, st);
            }
        }
    }
    mn_alloc_fail_after(0);
}

TEST(status_table)
{
    ASSERT_EQ(mn__serve_status(0), 200);
    ASSERT_EQ(mn__serve_status(MN_EFORMAT), 400);
    ASSERT_EQ(mn__serve_status(MN_EUTF8), 400);
    ASSERT_EQ(mn__serve_status(MN_ENOTFOUND), 404);
    ASSERT_EQ(mn__serve_status(MN_ETOOBIG), 413);
    ASSERT_EQ(mn__serve_status(MN__EJSONTYPE), 422);
    ASSERT_EQ(mn__serve_status(MN__EOVERLOAD), 429);
    ASSERT_EQ(mn__serve_status(MN__ETIMEOUT), 408);
    ASSERT_EQ(mn__serve_status(MN__EMETHOD), 405);
    ASSERT_EQ(mn__serve_status(MN__EAUTH), 401);
    ASSERT_EQ(mn__serve_status(-12345), 500);
}

TEST(overload_429)
{
    const char *tok = "Bearer s3cret";
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/workers",
                        "{\"workers\":1,\"queue_depth\":0}", tok),
              200);
    mn__entry *e = mn__repo_find(srv, "topic", 5);
    ASSERT(e != NULL);
    ASSERT_EQ(mn__entry_enter(e, 0), 0); /* someone holds the only worker */
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"a\"}"), 429);
    ASSERT_EQ(rs.retry_after_s, 1);
    mn__entry_leave(e);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"a\"}"), 200);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/workers", "{\"workers\":2,"
                        "\"queue_depth\":64}", tok),
              200);
}

TEST(admin)
{
    const char *good = "Bearer s3cret";
    ASSERT_EQ(call("POST", "/v1/admin/models/topic/reload", NULL), 401);
    ASSERT(rs.www_authenticate);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/reload", NULL, "Bearer s3cre"), 401);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/reload", NULL, "Bearer s3cretX"), 401);
    ASSERT_EQ(call_auth("GET", "/v1/admin/models/topic/reload", NULL, good), 405);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/reload", NULL, good), 200);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/unload", NULL, good), 200);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"a\"}"), 404);
    ASSERT_EQ(call("GET", "/readyz", NULL), 503);
    ASSERT_EQ(mn__repo_scan(srv), 0); /* the poller leaves an unloaded model alone */
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/load", NULL, good), 200);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"a\"}"), 200);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/nope/load", NULL, good), 404);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/default", "{\"version\":5}", good), 404);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/workers", "{\"workers\":\"x\"}", good),
              422);
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/bogus", NULL, good), 404);
    ASSERT_EQ(call_auth("POST", "/v1/admin/scan", NULL, good), 200);
}

TEST(hot_swap_and_corrupt_version)
{
    const char *good = "Bearer s3cret";
    mn__entry *e = mn__repo_find(srv, "topic", 5);
    mn__version *held = mn__entry_acquire(e); /* an in-flight request on version 1 */
    ASSERT(held != NULL);
    mkdirs("topic/2");
    char p[512];
    snprintf(p, sizeof p, "%s/topic/2/model.mnlp", repo);
    ASSERT_EQ(train_into(p, 5), 0);
    ASSERT_EQ(mn__repo_scan(srv), 1);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"goal\"}"), 200);
    ASSERT(has("\"version\":\"2\""));
    /* the old version still works for whoever holds it */
    mn_prediction pr[1];
    size_t n = 0;
    ASSERT_EQ(mn_model_predict(held->model, wk->scratch, "goal", 4, 1, 0, pr, &n), 0);
    ASSERT_EQ(n, 1);
    mn__version_release(held);
    /* a corrupted version 3 is refused and logged once; version 2 keeps serving */
    mkdirs("topic/3");
    snprintf(p, sizeof p, "%s/topic/3/model.mnlp", repo);
    FILE *f = fopen(p, "wb");
    ASSERT(f != NULL);
    fputs("MICRONLP garbage that is not a model", f);
    fclose(f);
    logbuf[0] = '\0';
    ASSERT_EQ(mn__repo_scan(srv), 1);
    ASSERT(strstr(logbuf, "event=refused model=topic version=3") != NULL);
    logbuf[0] = '\0';
    mn__repo_scan(srv);
    ASSERT(strstr(logbuf, "event=refused") == NULL);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"goal\"}"), 200);
    ASSERT(has("\"version\":\"2\""));
    /* pin version 1, then back to the highest loadable */
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/default", "{\"version\":\"1\"}", good),
              200);
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"goal\"}"), 200);
    ASSERT(has("\"version\":\"1\""));
    ASSERT_EQ(call_auth("POST", "/v1/admin/models/topic/default", "{\"version\":null}", good),
              200);
    ASSERT_EQ(call("GET", "/v1/models/topic", NULL), 200);
    ASSERT(has("\"versions\":[\"1\",\"2\",\"3\"]"));
    ASSERT(has("\"version\":\"2\""));
}

TEST(metrics)
{
    ASSERT_EQ(call("POST", "/v1/models/topic:predict", "{\"text\":\"goal\"}"), 200);
    ASSERT_EQ(call("GET", "/metrics", NULL), 200);
    ASSERT(strncmp(rs.content_type, "text/plain", 10) == 0);
    ASSERT(has("micronlp_requests_total{model=\"topic\",version="));
    ASSERT(has("code=\"200\"}"));
    ASSERT(has("micronlp_request_duration_seconds_bucket{model=\"topic\""));
    ASSERT(has("micronlp_model_size_bytes{model=\"topic\""));
    ASSERT(has("micronlp_model_load_seconds{"));
    ASSERT(has("micronlp_model_queue_depth{"));
    ASSERT(has("micronlp_model_in_flight{"));
    ASSERT(has("micronlp_requests_total{code=\"404\"}"));
}

TEST(flat_repository)
{
    /* models/NAME.mnlp is model NAME, version 1 */
    char p[512];
    snprintf(p, sizeof p, "%s/flat.mnlp", repo);
    ASSERT_EQ(train_into(p, 3), 0);
    ASSERT_EQ(mn__repo_scan(srv), 2);
    ASSERT_EQ(call("POST", "/hf/models/flat", "{\"inputs\":\"goal\"}"), 200);
    ASSERT_EQ(call("GET", "/v2/models/flat/versions/1", NULL), 200);
}

TEST(per_model_config)
{
    mkdirs("cfgm");
    mkdirs("cfgm/4");
    char p[512];
    snprintf(p, sizeof p, "%s/cfgm/4/model.mnlp", repo);
    ASSERT_EQ(train_into(p, 2), 0);
    snprintf(p, sizeof p, "%s/cfgm/config", repo);
    FILE *f = fopen(p, "w");
    ASSERT(f != NULL);
    fputs("# per-model settings\nworkers = 3\nqueue_depth: 5\nmax_texts = 2\nbogus = 1\n"
          "max_text_bytes = x\n", f);
    fclose(f);
    logbuf[0] = '\0';
    ASSERT_EQ(mn__repo_scan(srv), 3);
    ASSERT(strstr(logbuf, "key=bogus error=\"unknown key") != NULL);
    ASSERT(strstr(logbuf, "key=max_text_bytes error=\"not a number\"") != NULL);
    ASSERT_EQ(call("GET", "/v1/models/cfgm", NULL), 200);
    ASSERT(has("\"workers\":3,\"queue_depth\":5"));
    ASSERT(has("\"version\":\"4\""));
    ASSERT_EQ(call("POST", "/v1/models/cfgm:predict", "{\"texts\":[\"a\",\"b\",\"c\"]}"), 413);
    ASSERT_EQ(call("POST", "/v1/models/cfgm:predict", "{\"texts\":[\"a\",\"b\"]}"), 200);
}

static void run_all(void);
int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (setup() != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    run_all();
    int failed = mn_test_failed;
    teardown();
    return failed;
}

/* The tests share one server and run in order (later ones build on the repository state). */
static void run_all(void)
{
    static const mn_test_case cases[] = {
        TEST_ENTRY(health) TEST_ENTRY(predict_native) TEST_ENTRY(predict_hf_and_v2)
        TEST_ENTRY(models_listing) TEST_ENTRY(bad_requests) TEST_ENTRY(steady_state_allocates_nothing)
        TEST_ENTRY(status_table)
        TEST_ENTRY(overload_429) TEST_ENTRY(admin) TEST_ENTRY(hot_swap_and_corrupt_version)
        TEST_ENTRY(metrics) TEST_ENTRY(flat_repository) TEST_ENTRY(per_model_config)};
    int failed = 0, ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_test_failed = 0;
        cases[i].fn();
        ran++;
        if (mn_test_failed) {
            failed++;
            fprintf(stderr, "FAIL %s\n", cases[i].name);
        } else {
            printf("ok   %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", ran - failed, failed);
    mn_test_failed = failed != 0;
}
