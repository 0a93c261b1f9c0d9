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

/* ---- v2 binary tensor data ----------------------------------------------------------------- */

/* A request with an Inference-Header-Content-Length header (hdr, or NULL) and a raw body. */
static int call_raw(const char *path, const char *body, size_t len, const char *hdr)
{
    memset(&rs, 0, sizeof rs);
    mn__request rq = {
        .method = "POST",
        .path = path,
        .body = body,
        .body_len = len,
        .started_ns = mn__now_ns(),
        .infer_header_len = hdr,
    };
    mn__serve_handle(srv, wk, &rq, &rs);
    return rs.status;
}

/* json, then each text as a BYTES element (4-byte little-endian length, bytes) into out;
 * returns the body's length and puts the JSON's length, as text, in hdr. */
static size_t bin_body(char *out, size_t cap, char hdr[24], const char *json,
                       const char *const *texts, size_t n)
{
    size_t o = strlen(json);
    memcpy(out, json, o);
    snprintf(hdr, 24, "%zu", o);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(texts[i]);
        if (o + 4 + l > cap)
            abort();
        out[o++] = (char)(l & 0xff);
        out[o++] = (char)(l >> 8 & 0xff);
        out[o++] = (char)(l >> 16 & 0xff);
        out[o++] = (char)(l >> 24 & 0xff);
        memcpy(out + o, texts[i], l);
        o += l;
    }
    return o;
}

static uint32_t rd32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

TEST(v2_binary_tensors)
{
    static const char *const two[] = {"goal team", "bread soup"};
    char body[1024], hdr[24];
    size_t n;
    const char *P = "/v2/models/topic/infer";

    ASSERT_EQ(call("GET", "/v2", NULL), 200);
    ASSERT(has("\"extensions\":[\"binary_tensor_data\"]"));

    /* binary input (21 bytes: 4 + 9 + 4 + 10 = 27), JSON output */
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":27}}]}", two, 2);
    ASSERT_EQ(call_raw(P, body, n, hdr), 200);
    ASSERT_EQ(rs.infer_header_bytes, 0);
    ASSERT_STREQ(rs.content_type, "application/json");
    ASSERT(has("\"shape\":[2,1],\"data\":[\"sport\",\"food\"]}"));

    /* all outputs binary: JSON header, then label (BYTES) and score (FP32) in output order */
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":27}}],"
                 "\"parameters\":{\"binary_data_output\":true}}", two, 2);
    ASSERT_EQ(call_raw(P, body, n, hdr), 200);
    ASSERT_STREQ(rs.content_type, "application/octet-stream");
    size_t hb = rs.infer_header_bytes;
    ASSERT(hb > 0 && hb < rs.body_len);
    ASSERT_EQ(rs.body[hb - 1], '}');
    ASSERT(has("{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[2,1],"
               "\"parameters\":{\"binary_data_size\":17}}")); /* 4 + "sport" + 4 + "food" */
    ASSERT(has("{\"name\":\"score\",\"datatype\":\"FP32\",\"shape\":[2,1],"
               "\"parameters\":{\"binary_data_size\":8}}"));
    ASSERT_EQ(rs.body_len - hb, 17 + 8);
    const char *b = rs.body + hb;
    ASSERT_EQ(rd32(b), 5);
    ASSERT_MEMEQ(b + 4, 5, "sport");
    ASSERT_EQ(rd32(b + 9), 4);
    ASSERT_MEMEQ(b + 13, 4, "food");
    for (int i = 0; i < 2; i++) {
        uint32_t u = rd32(b + 17 + 4 * i);
        float f;
        memcpy(&f, &u, sizeof f);
        ASSERT(f > 0.0f && f <= 1.0f);
    }

    /* an output's own binary_data overrides binary_data_output; JSON input, top_k 2 */
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"data\":[\"goal\"]}],\"parameters\":{\"binary_data_output\":true,\"top_k\":2},"
                   "\"outputs\":[{\"name\":\"label\",\"parameters\":{\"binary_data\":false}},"
                   "{\"name\":\"score\"}]}"),
              200);
    ASSERT(has("\"shape\":[1,2],\"data\":[\"sport\","));
    ASSERT(has("{\"name\":\"score\",\"datatype\":\"FP32\",\"shape\":[1,2],"
               "\"parameters\":{\"binary_data_size\":8}}]}"));
    ASSERT_EQ(rs.body_len - rs.infer_header_bytes, 8);

    /* only the label, binary */
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"data\":[\"goal\"]}],\"outputs\":[{\"name\":\"label\","
                   "\"parameters\":{\"binary_data\":true}}]}"),
              200);
    ASSERT(has("\"parameters\":{\"binary_data_size\":9}}]}"));
    ASSERT_EQ(rs.body_len - rs.infer_header_bytes, 4 + 5);

    /* bad binary requests: 4xx with a message, never a crash or an over-read */
    static const char *const invalid[] = {"goal", "\xff\xfe"};
    static const char *const long_text[] = {
        "0123456789012345678901234567890123456789012345678901234567890123456789"};
    static const char *const none[] = {NULL};
    const char *json27 = "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                         "\"parameters\":{\"binary_data_size\":27}}]}";
    n = bin_body(body, sizeof body, hdr, json27, two, 2);
    ASSERT_EQ(call_raw(P, body, n, "99999"), 400);
    ASSERT(has("Inference-Header-Content-Length"));
    ASSERT_EQ(call_raw(P, body, n, "12x"), 400);
    ASSERT_EQ(call_raw(P, body, n, "-5"), 400);
    ASSERT_EQ(call_raw(P, body, n - 1, hdr), 400); /* one byte short */
    ASSERT(has("binary_data_size is 27 but 26 bytes"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":9223372036854775807}}]}", two, 2);
    ASSERT_EQ(call_raw(P, body, n, hdr), 400);
    ASSERT_EQ(call_raw(P, body, n, NULL), 400);    /* no header: the bytes are not JSON */
    ASSERT_EQ(call_raw(P, body, n, "0"), 400);     /* empty JSON */
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":30}}]}", two, 2);
    memcpy(body + n, "\x07\x00\x00", 3); /* a third element cut inside its length */
    ASSERT_EQ(call_raw(P, body, n + 3, hdr), 400);
    ASSERT(has("binary element 2 has 3 bytes"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":13}}]}", two, 1);
    body[atoi(hdr)] = 100; /* the element's length: 100, past the 9 bytes there */
    ASSERT_EQ(call_raw(P, body, n, hdr), 400);
    ASSERT(has("runs past the tensor's end"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[3],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":27}}]}", two, 2);
    ASSERT_EQ(call_raw(P, body, n, hdr), 400);
    ASSERT(has("shape has 3 elements but the binary data has 2"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":14}}]}", invalid, 2);
    ASSERT_EQ(call_raw(P, body, n, hdr), 400);
    ASSERT(has("inputs[0][1]: invalid UTF-8 at byte 0"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":74}}]}", long_text, 1);
    ASSERT_EQ(call_raw(P, body, n, hdr), 413);
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[0],\"datatype\":\"BYTES\","
                 "\"parameters\":{\"binary_data_size\":0}}]}", none, 0);
    ASSERT_EQ(call_raw(P, body, n, hdr), 422); /* no texts */
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"parameters\":{\"binary_data_size\":5}}]}"),
              400); /* binary data without the header */
    ASSERT(has("needs the Inference-Header-Content-Length header"));
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                 "\"data\":[\"goal\"],\"parameters\":{\"binary_data_size\":13}}]}", two, 1);
    ASSERT_EQ(call_raw(P, body, n, hdr), 400); /* data and binary data */
    n = bin_body(body, sizeof body, hdr,
                 "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                 "\"data\":[\"goal\"]}]}", two, 1);
    ASSERT_EQ(call_raw(P, body, n, hdr), 400); /* bytes after the JSON that nothing claims */
    ASSERT(has("no input has parameters.binary_data_size"));
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"parameters\":{\"binary_data_size\":\"5\"}}]}"),
              422);
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"data\":[\"goal\"]}],\"parameters\":{\"binary_data_output\":1}}"),
              422);
    ASSERT_EQ(call("POST", P,
                   "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\","
                   "\"data\":[\"goal\"]}],\"outputs\":[{\"name\":\"label\","
                   "\"parameters\":{\"classification\":2}}]}"),
              501);
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
     * allocation through mn_malloc (cJSON included): every allocation from now on fails. */
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
        TEST_ENTRY(v2_binary_tensors)
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
