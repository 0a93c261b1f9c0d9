/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the service's request handling (src/serve/handlers.c, src/serve/json.c):
 * the input is "METHOD PATH\n" followed by the body. A tiny classifier "m" is trained once into
 * a temporary repository, and every input goes through mn__serve_handle() as one request.
 * Invariants: the status is 200..599; the body is not empty; every JSON answer starts with '{'
 * or '[' and is valid UTF-8; errors are 4xx/5xx with {"error": ...}; a worker slot is never
 * leaked (the model's busy count is back to 0 after each request).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "micronlp/text.h"
#include "serve/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mn_server *srv;

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

static mn__worker *wk;

static int setup(void)
{
    char dir[] = "/tmp/fuzz-serve-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/train.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < 20; i++)
        fputs("__label__sport goal team score\n__label__food bread soup cheese\n", f);
    fclose(f);
    mn_err err;
    mn_dataset *d = NULL;
    if (mn_dataset_load(path, MN_DATA_AUTO, NULL, &d, &err) != 0)
        return -1;
    mn_classifier_config cfg;
    mn_classifier_config_init(&cfg);
    cfg.dim = 4;
    cfg.epoch = 1;
    cfg.bucket = 1000;
    mn_model *m = NULL;
    int rc = mn_classifier_train(&cfg, d, &m, &err);
    mn_dataset_free(d);
    if (rc)
        return -1;
    snprintf(path, sizeof path, "%s/m", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/m/1", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/m/1/model.mnlp", dir);
    rc = mn_model_save(m, path, &err);
    mn_model_release(m);
    if (rc)
        return -1;
    mn_server_config sc;
    mn_server_config_init(&sc);
    sc.repo_dir = dir;
    sc.poll_ms = 0;
    sc.admin_token = "t";
    sc.max_texts = 16;
    sc.max_text_bytes = 4096;
    sc.log_fn = quiet;
    if (mn_server_new(&sc, &srv, &err) != 0)
        return -1;
    return mn__worker_new(&wk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv && setup() != 0)
        __builtin_trap();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    if (head > 200)
        return 0;
    char line[256], *sp;
    memcpy(line, data, head);
    line[head] = '\0';
    sp = strchr(line, ' ');
    if (!sp || memchr(line, '\0', head))
        return 0;
    *sp = '\0';
    mn__request rq = {
        .method = line,
        .path = sp + 1,
        .authorization = "Bearer t",
        .body = nl ? (const char *)nl + 1 : "",
        .body_len = nl ? size - head - 1 : 0,
        .started_ns = mn__now_ns(),
    };
    mn__response rs = {0};
    mn__serve_handle(srv, wk, &rq, &rs);
    if (rs.status < 200 || rs.status > 599 || rs.body_len == 0)
        __builtin_trap();
    if (strncmp(rs.content_type, "application/json", 16) == 0) {
        if (rs.body[0] != '{' && rs.body[0] != '[')
            __builtin_trap();
        if (mn_utf8_validate(rs.body, rs.body_len, NULL) != 0)
            __builtin_trap();
        if (rs.status >= 400 && strncmp(rs.body, "{\"error\":", 9) != 0)
            __builtin_trap();
    }
    mn__entry *e = mn__repo_find(srv, "m", 1);
    if (e && e->busy != 0)
        __builtin_trap();
    return 0;
}
