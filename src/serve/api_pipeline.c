/* SPDX-License-Identifier: MIT
 *
 * The pipeline and job APIs:
 *
 *   GET  /v1/pipelines                      the pipelines and their steps
 *   POST /v1/analyze    {"pipeline": P, "text": T} | {"texts": [T, ...]}
 *        -> the combined result (one text) or {"results": [...]}
 *   POST /v1/jobs       {"pipeline": P, "text": T, "key": K} | {"texts": [...], "keys": [...]}
 *        -> 202 {"pipeline": P, "jobs": [{"id": N, "duplicate": false}, ...]}
 *   GET  /v1/jobs/{id}  the job, its state, its result
 *   GET  /v1/jobs?state=&pipeline=&after=&limit=&format=json|jsonl|csv&text=0|1&result=0|1
 *   GET  /v1/jobs/summary   jobs per state
 *
 * A submission is answered only after the store has made it durable.
 */
#include "serve/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micronlp/alloc.h"

enum { MAX_JOB_TEXTS = 10000, DEFAULT_LIMIT = 100, MAX_LIMIT = 100000 };

static int want_pipeline(mn_server *s, const mn__json *body, const mn_pipeline **p,
                         mn_err *err)
{
    if (!s->pipelines)
        return mn_err_set(err, MN_ENOTFOUND,
                          "no pipelines: start the server with a pipeline file (--pipelines)");
    const mn__json *pj = mn__json_get(body, "pipeline");
    size_t len = 0;
    const char *name = NULL;
    if (pj) {
        name = mn__json_str(pj, &len);
        if (!name)
            return mn_err_set(err, MN__EJSONTYPE, "pipeline: expected a string");
    }
    *p = mn_pipelines_find(s->pipelines, name, len);
    if (!*p)
        return mn_err_set(err, MN_ENOTFOUND, "unknown pipeline '%.*s'",
                          (int)(len > 64 ? 64 : len), name ? name : "");
    return 0;
}

/* The texts of a body: "text" (one) or "texts" (a list); limits from the server's config. */
static int body_texts(mn_server *s, const mn__json *body, size_t max_texts, const mn__json **one,
                      const mn__json **arr, size_t *n, mn_err *err)
{
    *one = mn__json_get(body, "text");
    *arr = mn__json_get(body, "texts");
    if ((*one && *arr) || (!*one && !*arr))
        return mn_err_set(err, MN_EINVAL, "give either \"text\" (a string) or \"texts\" (a list)");
    if (*arr && mn__json_type(*arr) != MN__J_ARRAY)
        return mn_err_set(err, MN__EJSONTYPE, "texts: expected a list of strings");
    *n = *one ? 1 : mn__json_len(*arr);
    if (*n == 0)
        return mn_err_set(err, MN_EEMPTY, "texts: empty list");
    if (*n > max_texts)
        return mn_err_set(err, MN_ETOOBIG, "texts: %zu texts, the limit is %zu per request", *n,
                          max_texts);
    for (size_t i = 0; i < *n; i++) {
        size_t len;
        const char *t = mn__json_str(*one ? *one : mn__json_at(*arr, i), &len);
        if (!t)
            return *one ? mn_err_set(err, MN__EJSONTYPE, "text: expected a string")
                        : mn_err_set(err, MN__EJSONTYPE, "texts[%zu]: expected a string", i);
        if (len > s->cfg.max_text_bytes)
            return *one ? mn_err_set(err, MN_ETOOBIG, "text: %zu bytes, the limit is %zu", len,
                                     s->cfg.max_text_bytes)
                        : mn_err_set(err, MN_ETOOBIG, "texts[%zu]: %zu bytes, the limit is %zu",
                                     i, len, s->cfg.max_text_bytes);
    }
    return 0;
}

int mn__api_analyze(mn_server *s, mn__worker *w, const mn__json *body, mn__buf *out,
                    mn_err *err)
{
    const mn_pipeline *p;
    int rc = want_pipeline(s, body, &p, err);
    if (rc)
        return rc;
    const mn__json *one, *arr;
    size_t n;
    if ((rc = body_texts(s, body, s->cfg.max_texts, &one, &arr, &n, err)))
        return rc;
    if (!w->route && mn_route_new(&w->route) != 0)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    mn__buf_reset(out);
    if (!one)
        mn__buf_puts(out, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *t = mn__json_str(one ? one : mn__json_at(arr, i), &len);
        const char *json;
        size_t jlen;
        rc = mn_pipeline_run(p, s->runner, w->route, t, len);
        if (rc == 0)
            rc = mn_route_json(w->route, t, len, 0, &json, &jlen);
        if (rc == 0) {
            if (i)
                mn__buf_put(out, ",", 1);
            mn__buf_put(out, json, jlen);
        }
        mn_route_reset(w->route); /* gives the models (and their worker slots) back at once */
        if (rc)
            return mn_err_set(err, rc, "text %zu: %s", i, mn_strerror(rc));
    }
    if (!one)
        mn__buf_puts(out, "]}");
    return out->oom ? mn_err_set(err, MN_ENOMEM, "out of memory") : 0;
}

/* ---- jobs --------------------------------------------------------------------------------- */

int mn__api_jobs_submit(mn_server *s, const mn__json *body, mn__buf *out, mn_err *err)
{
    if (!s->store)
        return mn_err_set(err, MN_ENOTFOUND, "no job store: start the server with --store");
    const mn_pipeline *p;
    int rc = want_pipeline(s, body, &p, err);
    if (rc)
        return rc;
    const mn__json *one, *arr;
    size_t n;
    if ((rc = body_texts(s, body, MAX_JOB_TEXTS, &one, &arr, &n, err)))
        return rc;
    const mn__json *key = mn__json_get(body, "key"), *keys = mn__json_get(body, "keys");
    if (key && !one)
        return mn_err_set(err, MN_EINVAL, "\"key\" goes with \"text\"; use \"keys\" with "
                                          "\"texts\"");
    if (keys && (one || mn__json_type(keys) != MN__J_ARRAY || mn__json_len(keys) != n))
        return mn_err_set(err, MN_EINVAL, "\"keys\" must be a list as long as \"texts\"");
    mn_job_input *in = mn_calloc(n, sizeof *in);
    int64_t *ids = mn_calloc(n, sizeof *ids);
    uint8_t *dup = mn_calloc(n, 1);
    if (!in || !ids || !dup) {
        rc = mn_err_set(err, MN_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        in[i].text = mn__json_str(one ? one : mn__json_at(arr, i), &in[i].len);
        const mn__json *k = key ? key : keys ? mn__json_at(keys, i) : NULL;
        if (k && mn__json_type(k) != MN__J_NULL) {
            in[i].key = mn__json_str(k, &in[i].key_len);
            if (!in[i].key) {
                rc = key ? mn_err_set(err, MN__EJSONTYPE, "key: expected a string")
                         : mn_err_set(err, MN__EJSONTYPE, "keys[%zu]: expected a string", i);
                goto done;
            }
        }
    }
    if ((rc = mn_store_submit(s->store, mn_pipeline_name(p), in, n, ids, dup, err)) != 0)
        goto done;
    mn_jobs_wake(s->jobs);
    mn__buf_reset(out);
    mn__buf_puts(out, "{\"pipeline\":");
    mn__buf_json_str(out, mn_pipeline_name(p), strlen(mn_pipeline_name(p)));
    mn__buf_puts(out, ",\"jobs\":[");
    for (size_t i = 0; i < n; i++)
        mn__buf_printf(out, "%s{\"id\":%lld,\"duplicate\":%s}", i ? "," : "", (long long)ids[i],
                       dup[i] ? "true" : "false");
    mn__buf_puts(out, "]}");
    if (out->oom)
        rc = mn_err_set(err, MN_ENOMEM, "out of memory");
done:
    mn_free(in);
    mn_free(ids);
    mn_free(dup);
    return rc;
}

/* One job as JSON; the result is stored JSON and goes in as is. */
static void write_job(mn__buf *b, const mn_job_record *r)
{
    mn__buf_printf(b, "{\"id\":%lld,\"state\":\"%s\",\"pipeline\":", (long long)r->id,
                   mn_job_state_name(r->state));
    mn__buf_json_str(b, r->pipeline, strlen(r->pipeline));
    mn__buf_printf(b, ",\"attempts\":%d,\"created_ms\":%lld,\"finished_ms\":", r->attempts,
                   (long long)r->created_ms);
    if (r->finished_ms)
        mn__buf_printf(b, "%lld", (long long)r->finished_ms);
    else
        mn__buf_puts(b, "null");
    mn__buf_puts(b, ",\"key\":");
    if (r->key)
        mn__buf_json_str(b, r->key, strlen(r->key));
    else
        mn__buf_puts(b, "null");
    mn__buf_puts(b, ",\"error\":");
    if (r->error)
        mn__buf_json_str(b, r->error, strlen(r->error));
    else
        mn__buf_puts(b, "null");
    if (r->text) {
        mn__buf_puts(b, ",\"text\":");
        mn__buf_json_str(b, r->text, r->len);
    }
    if (r->result) {
        mn__buf_puts(b, ",\"result\":");
        mn__buf_put(b, r->result, r->result_len);
    }
    mn__buf_put(b, "}", 1);
}

static void get_cb(void *ctx, const mn_job_record *r)
{
    write_job(ctx, r);
}

static int parse_id(const char *s, int64_t *out)
{
    if (!*s || strlen(s) > 18)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v > 0 ? 0 : -1;
}

int mn__api_job_get(mn_server *s, const char *id, mn__buf *out, mn_err *err)
{
    if (!s->store)
        return mn_err_set(err, MN_ENOTFOUND, "no job store: start the server with --store");
    mn__buf_reset(out);
    if (strcmp(id, "summary") == 0) {
        int64_t c[4];
        int rc = mn_store_counts(s->store, c, err);
        if (rc)
            return rc;
        mn__buf_printf(out, "{\"queued\":%lld,\"running\":%lld,\"done\":%lld,\"failed\":%lld}",
                       (long long)c[0], (long long)c[1], (long long)c[2], (long long)c[3]);
        return 0;
    }
    int64_t v;
    if (parse_id(id, &v) != 0)
        return mn_err_set(err, MN_ENOTFOUND, "no such job '%.32s' (ids are positive numbers)",
                          id);
    int rc = mn_store_get(s->store, v, get_cb, out, err);
    if (rc == MN_ENOTFOUND)
        return mn_err_set(err, rc, "no job %lld", (long long)v);
    if (rc == 0 && out->oom)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    return rc;
}

/* ---- listing and export -------------------------------------------------------------------- */

enum { FMT_JSON, FMT_JSONL, FMT_CSV };

typedef struct list_ctx {
    mn__buf *b;
    int fmt;
    size_t n;
    int64_t last;
} list_ctx;

static void csv_field(mn__buf *b, const char *s, size_t len)
{
    mn__buf_put(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            mn__buf_put(b, "\"", 1);
        mn__buf_put(b, s + i, 1);
    }
    mn__buf_put(b, "\"", 1);
}

static int list_cb(void *ctx, const mn_job_record *r)
{
    list_ctx *c = ctx;
    mn__buf *b = c->b;
    if (c->fmt == FMT_CSV) {
        mn__buf_printf(b, "%lld,%s,", (long long)r->id, mn_job_state_name(r->state));
        csv_field(b, r->pipeline, strlen(r->pipeline));
        mn__buf_printf(b, ",%d,%lld,", r->attempts, (long long)r->created_ms);
        if (r->finished_ms)
            mn__buf_printf(b, "%lld", (long long)r->finished_ms);
        mn__buf_put(b, ",", 1);
        if (r->key)
            csv_field(b, r->key, strlen(r->key));
        mn__buf_put(b, ",", 1);
        if (r->error)
            csv_field(b, r->error, strlen(r->error));
        mn__buf_put(b, ",", 1);
        if (r->text)
            csv_field(b, r->text, r->len);
        mn__buf_put(b, ",", 1);
        if (r->result)
            csv_field(b, r->result, r->result_len);
        mn__buf_put(b, "\r\n", 2);
    } else {
        if (c->fmt == FMT_JSON && c->n)
            mn__buf_put(b, ",", 1);
        write_job(b, r);
        if (c->fmt == FMT_JSONL)
            mn__buf_put(b, "\n", 1);
    }
    c->n++;
    c->last = r->id;
    return b->oom; /* stop early when memory ran out */
}

static const char *arg(const mn__request *rq, const char *key)
{
    return rq->get_arg ? rq->get_arg(rq->conn, key) : NULL;
}

static int arg_flag(const mn__request *rq, const char *key, int dflt)
{
    const char *v = arg(rq, key);
    if (!v)
        return dflt;
    return strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && strcmp(v, "no") != 0;
}

int mn__api_jobs_list(mn_server *s, const mn__request *rq, mn__buf *out,
                      const char **content_type, mn_err *err)
{
    if (!s->store)
        return mn_err_set(err, MN_ENOTFOUND, "no job store: start the server with --store");
    mn_job_filter f = {.state = -1, .limit = DEFAULT_LIMIT};
    const char *v;
    int fmt = FMT_JSON;
    if ((v = arg(rq, "format")) != NULL) {
        if (strcmp(v, "json") == 0)
            fmt = FMT_JSON;
        else if (strcmp(v, "jsonl") == 0)
            fmt = FMT_JSONL;
        else if (strcmp(v, "csv") == 0)
            fmt = FMT_CSV;
        else
            return mn_err_set(err, MN_EINVAL, "format: '%.16s' is not json, jsonl or csv", v);
    }
    if ((v = arg(rq, "state")) != NULL &&
        (f.state = mn_job_state_parse(v, strlen(v))) < 0)
        return mn_err_set(err, MN_EINVAL,
                          "state: '%.16s' is not queued, running, done or failed", v);
    f.pipeline = arg(rq, "pipeline");
    if ((v = arg(rq, "after")) != NULL && strcmp(v, "0") != 0 && parse_id(v, &f.after_id) != 0)
        return mn_err_set(err, MN_EINVAL, "after: expected a job id");
    if ((v = arg(rq, "limit")) != NULL) {
        int64_t l;
        if (parse_id(v, &l) != 0 || l > MAX_LIMIT)
            return mn_err_set(err, MN_EINVAL, "limit: expected 1 to %d", MAX_LIMIT);
        f.limit = (size_t)l;
    }
    f.with_text = arg_flag(rq, "text", fmt != FMT_JSON);
    f.with_result = arg_flag(rq, "result", 1);
    mn__buf_reset(out);
    list_ctx c = {.b = out, .fmt = fmt};
    if (fmt == FMT_JSON)
        mn__buf_puts(out, "{\"jobs\":[");
    else if (fmt == FMT_CSV)
        mn__buf_puts(out, "id,state,pipeline,attempts,created_ms,finished_ms,key,error,text,"
                          "result\r\n");
    long rows = mn_store_list(s->store, &f, list_cb, &c, err);
    if (rows < 0)
        return (int)rows;
    if (fmt == FMT_JSON) {
        mn__buf_puts(out, "],\"next_after\":");
        if (c.n == f.limit && c.n > 0)
            mn__buf_printf(out, "%lld", (long long)c.last);
        else
            mn__buf_puts(out, "null");
        mn__buf_put(out, "}", 1);
    }
    if (out->oom)
        return mn_err_set(err, MN_ENOMEM, "out of memory (ask for fewer jobs: limit)");
    *content_type = fmt == FMT_JSON    ? "application/json"
                    : fmt == FMT_JSONL ? "application/x-ndjson"
                                       : "text/csv; charset=utf-8";
    return 0;
}

int mn__api_pipelines(mn_server *s, mn__buf *out, mn_err *err)
{
    (void)err;
    mn__buf_reset(out);
    mn__buf_puts(out, "{\"pipelines\":[");
    for (size_t i = 0; i < mn_pipelines_count(s->pipelines); i++) {
        const mn_pipeline *p = mn_pipelines_at(s->pipelines, i);
        mn__buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        mn__buf_json_str(out, mn_pipeline_name(p), strlen(mn_pipeline_name(p)));
        mn__buf_puts(out, ",\"steps\":[");
        for (size_t j = 0; j < mn_pipeline_step_count(p); j++) {
            const char *name = mn_pipeline_step_name(p, j), *model = mn_pipeline_step_model(p, j);
            mn__buf_puts(out, j ? ",{\"name\":" : "{\"name\":");
            mn__buf_json_str(out, name, strlen(name));
            mn__buf_puts(out, ",\"model\":");
            mn__buf_json_str(out, model, strlen(model));
            mn__buf_put(out, "}", 1);
        }
        mn__buf_puts(out, "]}");
    }
    mn__buf_puts(out, "]}");
    return out->oom ? MN_ENOMEM : 0;
}
