/* SPDX-License-Identifier: MIT
 *
 * Routing and the HTTP APIs of the service. mn__serve_handle() takes one whole request
 * (method, path, Authorization header, body) and fills a response (status, JSON body, a few
 * headers), so every API is testable in process without sockets (tests/unit/serve/handlers.c).
 *
 *   GET  /healthz /readyz /metrics
 *   GET  /v1/models   /v1/models/{name}
 *   POST /v1/models/{name}:predict   /v1/models/{name}/versions/{v}:predict
 *        {"text": "..."} | {"texts": ["...", ...]}, "k": 1, "threshold": 0.0
 *   POST /hf/models/{name}            {"inputs": str | [str], "parameters": {"top_k": N}}
 *   GET  /v2  /v2/health/live  /v2/health/ready
 *   GET  /v2/models/{name}[/versions/{v}][/ready]   POST .../infer (JSON, or the binary tensor
 *        data extension: Inference-Header-Content-Length, see h_v2_infer)
 *   POST /v1/admin/models/{name}/{load|unload|reload|default|workers}  /v1/admin/scan
 *   GET  /v1/pipelines   POST /v1/analyze   POST|GET /v1/jobs   GET /v1/jobs/{id|summary}
 *        (api_pipeline.c)
 *
 * Every failure is a negative code; handle_error() turns it into {"error": "..."} with the
 * status from the one table below (`status_table`). Handlers write JSON straight into the
 * worker's reusable buffer; the request body is parsed once.
 */
#include "serve/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

#ifndef MN_VERSION
#define MN_VERSION "0.1.0"
#endif

enum { MAX_DEPTH = 32 };

/* ---- the one code -> HTTP status table ---------------------------------------------------- */

static const struct {
    int code;
    int status;
} status_table[] = {
    {MN_EINVAL, 400},       {MN_EFORMAT, 400},      {MN_EUTF8, 400},
    {MN_EUSAGE, 400},       {MN__EAUTH, 401},       {MN__EFORBIDDEN, 403},
    {MN_ENOTFOUND, 404},    {MN__EMETHOD, 405},     {MN__ETIMEOUT, 408},
    {MN_ETOOBIG, 413},      {MN__EJSONTYPE, 422},   {MN_EEMPTY, 422},
    {MN_ECORRUPT, 422},     {MN_ETRUNC, 422},       {MN_EFOREIGN, 422},
    {MN_EVERSION, 422},     {MN__EOVERLOAD, 429},   {MN_EUNSUPPORTED, 501},
    {MN_ENOMEM, 503},       {MN__EUNAVAIL, 503},
    /* the job store: disk full, database locked past its timeout — try again later */
    {MN_ERRNO(ENOSPC), 503}, {MN_ERRNO(EBUSY), 503},
};

int mn__serve_status(int code)
{
    if (code == 0)
        return 200;
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == code)
            return status_table[i].status;
    return 500;
}

static const char *serve_strerror(int code)
{
    switch (code) {
#define MN__SERVE_CASE(name, msg)                                                                  \
    case MN__##name:                                                                               \
        return msg;
        MN__SERVE_ERRNO_MAP(MN__SERVE_CASE)
#undef MN__SERVE_CASE
    default:
        return mn_strerror(code);
    }
}

void mn__serve_error(mn__worker *w, mn__response *rs, int code, const char *msg)
{
    rs->status = mn__serve_status(code);
    if (rs->status == 429 || rs->status == 503)
        rs->retry_after_s = 1;
    if (rs->status == 401)
        rs->www_authenticate = 1;
    if (!msg || !*msg)
        msg = serve_strerror(code);
    size_t len = strlen(msg);
    if (mn_utf8_validate(msg, len, NULL) != 0) {
        /* The message quotes the request (a percent-decoded path): repair it so the answer
         * stays valid JSON. */
        mn__buf_reset(&w->tmp);
        for (size_t i = 0; i < len;) {
            int32_t cp;
            size_t n = mn_utf8_decode(msg + i, len - i, &cp);
            mn__buf_put(&w->tmp, cp < 0 ? "\xEF\xBF\xBD" : msg + i, cp < 0 ? 3 : n);
            i += n;
        }
        msg = w->tmp.oom ? "invalid request" : w->tmp.ptr;
        len = w->tmp.oom ? strlen(msg) : w->tmp.len;
    }
    mn__buf_reset(&w->out);
    mn__buf_puts(&w->out, "{\"error\":");
    mn__buf_json_str(&w->out, msg, len);
    mn__buf_puts(&w->out, "}");
    if (w->out.oom) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        rs->status = 503;
        rs->body = oom;
        rs->body_len = sizeof oom - 1;
    } else {
        rs->body = w->out.ptr;
        rs->body_len = w->out.len;
    }
    rs->content_type = "application/json";
}

/* ---- per-request context ------------------------------------------------------------------ */

typedef struct hctx {
    mn_server *s;
    mn__worker *w;
    const mn__request *rq;
    mn__response *rs;
    mn__json *body;    /* parsed body or NULL */
    mn__entry *e;      /* the model entry the request names */
    mn__version *v;    /* retained version it runs on */
    int entered;       /* holds a worker slot of e */
    mn_err err;
} hctx;

static int fail(hctx *h, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(hctx *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h->err.code = code;
    vsnprintf(h->err.msg, sizeof h->err.msg, fmt, ap);
    va_end(ap);
    return code;
}

static void ok_json(hctx *h)
{
    h->rs->status = 200;
    h->rs->body = h->w->out.ptr;
    h->rs->body_len = h->w->out.len;
    h->rs->content_type = "application/json";
}

/* ---- invalid UTF-8: say which text ---------------------------------------------------------- */

/* U+FDD0, a noncharacter, stands in for each ill-formed byte so the body can be parsed and the
 * string holding it found. */
static const char MARK[] = "\xEF\xB7\x90";

static int find_mark(const mn__json *j, char *path, size_t cap, size_t *at)
{
    size_t len;
    const char *str = mn__json_str(j, &len);
    if (str) {
        size_t orig = 0; /* byte offset in the original text: each mark was one byte there */
        for (size_t i = 0; i < len; orig++) {
            if (i + 3 <= len && memcmp(str + i, MARK, 3) == 0) {
                *at = orig;
                return 1;
            }
            i++;
        }
        return 0;
    }
    if (mn__json_type(j) == MN__J_ARRAY) {
        for (size_t i = 0; i < mn__json_len(j); i++) {
            size_t n = strlen(path);
            snprintf(path + n, cap - n, "[%zu]", i);
            if (find_mark(mn__json_at(j, i), path, cap, at))
                return 1;
            path[n] = '\0';
        }
        return 0;
    }
    if (mn__json_type(j) == MN__J_OBJECT) {
        static const char *const keys[] = {"text", "texts", "inputs", "data", "parameters"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            mn__json *c = mn__json_get(j, keys[i]);
            if (!c)
                continue;
            size_t n = strlen(path);
            snprintf(path + n, cap - n, "%s%s", n ? "." : "", keys[i]);
            if (find_mark(c, path, cap, at))
                return 1;
            path[n] = '\0';
        }
    }
    return 0;
}

static int bad_utf8(hctx *h, size_t len, size_t bad_offset)
{
    const char *b = h->rq->body;
    mn__buf *t = &h->w->tmp;
    mn__buf_reset(t);
    for (size_t i = 0; i < len;) {
        int32_t cp;
        size_t n = mn_utf8_decode(b + i, len - i, &cp);
        if (cp < 0)
            mn__buf_put(t, MARK, 3);
        else
            mn__buf_put(t, b + i, n);
        i += n;
    }
    mn__json *root = NULL;
    char path[128] = "";
    size_t at = 0;
    int found = 0;
    if (!t->oom && mn__json_parse(&h->w->jarena, t->ptr, t->len, MAX_DEPTH, &root, NULL,
                                  NULL) == 0) {
        found = find_mark(root, path, sizeof path, &at);
        mn__json_free(&h->w->jarena, root);
    }
    if (found)
        return fail(h, MN_EUTF8, "%s: invalid UTF-8 at byte %zu", path, at);
    return fail(h, MN_EUTF8, "invalid UTF-8 at byte %zu of the body", bad_offset);
}

/* Parses the first len bytes of the body: all of it, except for a v2 binary request. */
static int parse_json(hctx *h, size_t len)
{
    size_t bad = 0;
    int rc = mn__json_parse(&h->w->jarena, h->rq->body, len, MAX_DEPTH, &h->body, &bad, &h->err);
    if (rc == MN_EUTF8)
        return bad_utf8(h, len, bad);
    if (rc == 0 && mn__json_type(h->body) != MN__J_OBJECT)
        return fail(h, MN__EJSONTYPE, "the body must be a JSON object");
    return rc;
}

static int parse_body(hctx *h)
{
    return parse_json(h, h->rq->body_len);
}

/* ---- models ------------------------------------------------------------------------------- */

/* snprintf(dst, cap, "%s", src) without the format machinery (once per request). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Resolves the model (and optional version) a request names and takes a reference. */
static int resolve(hctx *h, const char *name, size_t nlen, const char *ver, size_t vlen)
{
    h->e = mn__repo_find(h->s, name, nlen);
    if (!h->e)
        return fail(h, MN_ENOTFOUND, "model '%.*s' not found", (int)(nlen > 128 ? 128 : nlen),
                    name);
    h->v = mn__entry_acquire(h->e);
    if (!h->v)
        return fail(h, MN_ENOTFOUND, "model '%s' is not loaded", h->e->name);
    if (ver && (strlen(h->v->version) != vlen || memcmp(ver, h->v->version, vlen) != 0))
        return fail(h, MN_ENOTFOUND, "model '%s' version '%.*s' is not loaded (serving %s)",
                    h->e->name, (int)(vlen > 32 ? 32 : vlen), ver, h->v->version);
    copy_str(h->rs->model, sizeof h->rs->model, h->e->name);
    copy_str(h->rs->version, sizeof h->rs->version, h->v->version);
    return 0;
}

/* Texts of a request: one string, an array of strings, or a v2 BYTES tensor in binary form
 * (each element a 4-byte little-endian length, then its bytes; the framing is checked when the
 * tensor is read, so text_at() can trust it). */
typedef struct texts {
    const mn__json *one;   /* a single string value, or NULL */
    const mn__json *arr;   /* an array, or NULL */
    const char *bin;       /* a binary BYTES tensor, or NULL; n is then set by its reader */
    size_t bin_len;
    size_t bin_i, bin_off; /* cursor: element bin_i starts at bin_off (texts go in order) */
    const char *field;     /* "text", "texts", "inputs", "inputs[0].data" for messages */
    size_t n;
} texts;

static uint32_t le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static const char *text_at(texts *t, size_t i, size_t *len)
{
    if (t->bin) {
        if (i < t->bin_i)
            t->bin_i = t->bin_off = 0;
        for (; t->bin_i < i; t->bin_i++)
            t->bin_off += 4 + (size_t)le32(t->bin + t->bin_off);
        *len = le32(t->bin + t->bin_off);
        return t->bin + t->bin_off + 4;
    }
    return mn__json_str(t->one ? t->one : mn__json_at(t->arr, i), len);
}

static int check_texts(hctx *h, texts *t)
{
    size_t max_texts = h->e->max_texts ? h->e->max_texts : h->s->cfg.max_texts;
    size_t max_bytes = h->e->max_text_bytes ? h->e->max_text_bytes : h->s->cfg.max_text_bytes;
    if (!t->bin)
        t->n = t->one ? 1 : mn__json_len(t->arr);
    if (t->n == 0)
        return fail(h, MN_EEMPTY, "%s: empty list", t->field);
    if (t->n > max_texts)
        return fail(h, MN_ETOOBIG, "%s: %zu texts, the limit is %zu per request", t->field,
                    t->n, max_texts);
    for (size_t i = 0; i < t->n; i++) {
        size_t len;
        const char *s = text_at(t, i, &len);
        if (!s)
            return t->one ? fail(h, MN__EJSONTYPE, "%s: expected a string", t->field)
                          : fail(h, MN__EJSONTYPE, "%s[%zu]: expected a string", t->field, i);
        if (len > max_bytes)
            return t->one ? fail(h, MN_ETOOBIG, "%s: %zu bytes, the limit is %zu", t->field, len,
                                 max_bytes)
                          : fail(h, MN_ETOOBIG, "%s[%zu]: %zu bytes, the limit is %zu", t->field,
                                 i, len, max_bytes);
        size_t bad;
        if (t->bin && mn_utf8_validate(s, len, &bad) != 0) /* JSON strings are checked by parsing */
            return fail(h, MN_EUTF8, "%s[%zu]: invalid UTF-8 at byte %zu", t->field, i, bad);
    }
    return 0;
}

/* Takes one of the model's worker slots, waiting in its bounded queue for at most what is left
 * of the request's time; 429 when the queue is full. mn__serve_handle gives the slot back. */
static int enter(hctx *h)
{
    uint64_t elapsed_ms = (mn__now_ns() - h->rq->started_ns) / 1000000u;
    unsigned wait_ms = h->s->cfg.request_timeout_ms > elapsed_ms
                           ? (unsigned)(h->s->cfg.request_timeout_ms - elapsed_ms)
                           : 0;
    if (mn__entry_enter(h->e, wait_ms) != 0)
        return fail(h, MN__EOVERLOAD, "model '%s' is busy: %d workers and %u queued requests "
                    "are in use; retry later", h->e->name, h->e->workers, h->e->queue_depth);
    h->entered = 1;
    return 0;
}

/* Runs the model over every text: k answers each into w->preds, counts into w->counts. */
static int run(hctx *h, texts *t, int k, float threshold)
{
    mn__worker *w = h->w;
    size_t need = t->n * (size_t)k;
    if (need > w->preds_cap) {
        mn_prediction *p = mn_realloc(w->preds, need * sizeof *p);
        if (!p)
            return fail(h, MN_ENOMEM, "out of memory");
        w->preds = p;
        w->preds_cap = need;
    }
    if (t->n > w->counts_cap) {
        size_t *c = mn_realloc(w->counts, t->n * sizeof *c);
        if (!c)
            return fail(h, MN_ENOMEM, "out of memory");
        w->counts = c;
        w->counts_cap = t->n;
    }
    int rc0 = enter(h);
    if (rc0)
        return rc0;
    for (size_t i = 0; i < t->n; i++) {
        size_t len;
        const char *s = text_at(t, i, &len);
        int rc = mn_model_predict(h->v->model, w->scratch, s, len, k, threshold,
                                  w->preds + i * (size_t)k, &w->counts[i]);
        if (rc != 0)
            return fail(h, rc, "%s[%zu]: prediction failed: %s", t->field, i, mn_strerror(rc));
    }
    atomic_fetch_add_explicit(&h->v->stats.texts, t->n, memory_order_relaxed);
    h->rs->texts = t->n;
    mn__entry_leave(h->e);
    h->entered = 0;
    return 0;
}

/* Reads an optional integer >= lo; absent leaves *out. */
static int opt_int(hctx *h, const mn__json *obj, const char *key, long lo, long hi, long *out)
{
    mn__json *j = mn__json_get(obj, key);
    if (!j || mn__json_type(j) == MN__J_NULL)
        return 0;
    if (!mn__json_is_int(j))
        return fail(h, MN__EJSONTYPE, "%s: expected an integer", key);
    double v = mn__json_num(j);
    if (v < (double)lo || v > (double)hi)
        return fail(h, MN__EJSONTYPE, "%s: must be between %ld and %ld", key, lo, hi);
    *out = (long)v;
    return 0;
}

static int opt_prob(hctx *h, const mn__json *obj, const char *key, float *out)
{
    mn__json *j = mn__json_get(obj, key);
    if (!j || mn__json_type(j) == MN__J_NULL)
        return 0;
    if (mn__json_type(j) != MN__J_NUMBER)
        return fail(h, MN__EJSONTYPE, "%s: expected a number", key);
    double v = mn__json_num(j);
    if (!(v >= 0.0 && v <= 1.0))
        return fail(h, MN__EJSONTYPE, "%s: must be between 0 and 1", key);
    *out = (float)v;
    return 0;
}

static void write_labels(mn__buf *b, const mn_model *m, const mn_prediction *p, size_t n,
                         const char *score_key)
{
    mn__buf_put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        const char *label = mn_model_label(m, p[i].label);
        mn__buf_puts(b, i ? ",{\"label\":" : "{\"label\":");
        mn__buf_json_str(b, label, strlen(label));
        mn__buf_puts(b, ",\"");
        mn__buf_puts(b, score_key);
        mn__buf_puts(b, "\":");
        mn__buf_json_num(b, p[i].prob);
        mn__buf_put(b, "}", 1);
    }
    mn__buf_put(b, "]", 1);
}

static int clamp_k(const mn__version *v, long k)
{
    uint32_t n = mn_model_label_count(v->model);
    return (int)(k > (long)n ? (long)n : k);
}

/* ---- taggers: tokens and entities --------------------------------------------------------- */

static int is_tagger(const hctx *h)
{
    return mn_model_kind(h->v->model) == MN_MODEL_TAGGER;
}

static int is_bio(const mn_model *m)
{
    for (uint32_t i = 0; i < mn_model_label_count(m); i++)
        if (strncmp(mn_model_label(m, i), "B-", 2) == 0)
            return 1;
    return 0;
}

/* Character (code point) offset of byte offset off, moving a cursor that only goes forward:
 * clients index strings by characters (Python's str), not by UTF-8 bytes. */
static size_t char_at(const char *t, size_t *bpos, size_t *cpos, size_t off)
{
    for (; *bpos < off; (*bpos)++)
        if (((unsigned char)t[*bpos] & 0xC0) != 0x80)
            (*cpos)++;
    return *cpos;
}

enum { TAG_NATIVE, TAG_HF };

static void write_span(mn__buf *b, const char *key, const char *k, size_t klen, const char *t,
                       uint32_t off, uint32_t len, size_t *bp, size_t *cp, float score, int hf)
{
    mn__buf_printf(b, "{\"%s\":", key);
    mn__buf_json_str(b, k, klen);
    mn__buf_puts(b, hf ? ",\"word\":" : ",\"text\":");
    mn__buf_json_str(b, t + off, len);
    size_t start = char_at(t, bp, cp, off), end = char_at(t, bp, cp, (size_t)off + len);
    mn__buf_printf(b, ",\"start\":%zu,\"end\":%zu,\"score\":", start, end);
    mn__buf_json_num(b, score);
    mn__buf_put(b, "}", 1);
}

/* Tags one text and writes it: native `"tokens":[...],"entities":[...]` (entities only for
 * BIO models), or Hugging Face token-classification `[{"entity_group","word","start","end",
 * "score"}]` (entities for BIO models, else one group per token). */
static int tag_one(hctx *h, const char *t, size_t len, int mode, int bio)
{
    mn__worker *w = h->w;
    const mn_model *m = h->v->model;
    mn__buf *b = &w->out;
    size_t n = 0, bp = 0, cp = 0;
    if (mode == TAG_NATIVE || !bio) {
        int rc = mn_model_tag(m, w->scratch, t, len, w->tags, w->tags_cap, &n);
        if (rc == 0 && n > w->tags_cap) {
            mn_tagged *p = mn_realloc(w->tags, n * sizeof *p);
            if (!p)
                return fail(h, MN_ENOMEM, "out of memory");
            w->tags = p;
            w->tags_cap = n;
            rc = mn_model_tag(m, w->scratch, t, len, w->tags, w->tags_cap, &n);
        }
        if (rc)
            return fail(h, rc, "tagging failed: %s", mn_strerror(rc));
        mn__buf_puts(b, mode == TAG_NATIVE ? "\"tokens\":[" : "[");
        for (size_t i = 0; i < n; i++) {
            const char *tag = mn_model_label(m, w->tags[i].tag);
            if (i)
                mn__buf_put(b, ",", 1);
            write_span(b, mode == TAG_NATIVE ? "tag" : "entity_group", tag, strlen(tag), t,
                       w->tags[i].off, w->tags[i].len, &bp, &cp, w->tags[i].score,
                       mode == TAG_HF);
        }
        mn__buf_put(b, "]", 1);
        if (!bio)
            return 0;
        mn__buf_puts(b, ",\"entities\":");
    }
    int rc = mn_model_entities(m, w->scratch, t, len, w->ents, w->ents_cap, &n);
    if (rc == 0 && n > w->ents_cap) {
        mn_entity *p = mn_realloc(w->ents, n * sizeof *p);
        if (!p)
            return fail(h, MN_ENOMEM, "out of memory");
        w->ents = p;
        w->ents_cap = n;
        rc = mn_model_entities(m, w->scratch, t, len, w->ents, w->ents_cap, &n);
    }
    if (rc)
        return fail(h, rc, "tagging failed: %s", mn_strerror(rc));
    bp = cp = 0;
    mn__buf_put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        const mn_entity *e = &w->ents[i];
        if (i)
            mn__buf_put(b, ",", 1);
        write_span(b, mode == TAG_NATIVE ? "type" : "entity_group", e->type, e->type_len, t,
                   e->off, e->len, &bp, &cp, e->score, mode == TAG_HF);
    }
    mn__buf_put(b, "]", 1);
    return 0;
}

/* Tags every text of a request in the shape of mode. */
static int tag_all(hctx *h, texts *t, int mode)
{
    int rc = enter(h);
    if (rc)
        return rc;
    int bio = is_bio(h->v->model);
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    if (mode == TAG_NATIVE) {
        mn__buf_puts(b, "{\"model\":");
        mn__buf_json_str(b, h->e->name, strlen(h->e->name));
        mn__buf_puts(b, ",\"version\":");
        mn__buf_json_str(b, h->v->version, strlen(h->v->version));
        mn__buf_puts(b, t->one ? "," : ",\"results\":[");
    } else if (!t->one) {
        mn__buf_put(b, "[", 1);
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t len;
        const char *s = text_at(t, i, &len);
        if (i)
            mn__buf_put(b, ",", 1);
        if (mode == TAG_NATIVE && !t->one)
            mn__buf_put(b, "{", 1);
        if ((rc = tag_one(h, s, len, mode, bio)) != 0)
            return rc;
        if (mode == TAG_NATIVE && !t->one)
            mn__buf_put(b, "}", 1);
    }
    if (mode == TAG_NATIVE)
        mn__buf_puts(b, t->one ? "}" : "]}");
    else if (!t->one)
        mn__buf_put(b, "]", 1);
    atomic_fetch_add_explicit(&h->v->stats.texts, t->n, memory_order_relaxed);
    h->rs->texts = t->n;
    ok_json(h);
    return 0;
}

/* POST /v1/models/{name}[/versions/{v}]:predict */
static int h_predict(hctx *h)
{
    int rc;
    if ((rc = parse_body(h)) != 0)
        return rc;
    texts t = {0};
    mn__json *one = mn__json_get(h->body, "text"), *many = mn__json_get(h->body, "texts");
    if (one && many)
        return fail(h, MN__EJSONTYPE, "give either \"text\" or \"texts\", not both");
    if (one) {
        t.one = one;
        t.field = "text";
    } else if (many) {
        if (mn__json_type(many) != MN__J_ARRAY)
            return fail(h, MN__EJSONTYPE, "texts: expected an array of strings");
        t.arr = many;
        t.field = "texts";
    } else {
        return fail(h, MN__EJSONTYPE, "missing \"text\" (a string) or \"texts\" (an array)");
    }
    long k = 1;
    float threshold = 0.0f;
    if ((rc = opt_int(h, h->body, "k", 1, 1000000, &k)) != 0 ||
        (rc = opt_prob(h, h->body, "threshold", &threshold)) != 0 || (rc = check_texts(h, &t)))
        return rc;
    if (is_tagger(h))
        return tag_all(h, &t, TAG_NATIVE);
    int kk = clamp_k(h->v, k);
    if ((rc = run(h, &t, kk, threshold)) != 0)
        return rc;
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    mn__buf_puts(b, "{\"model\":");
    mn__buf_json_str(b, h->e->name, strlen(h->e->name));
    mn__buf_puts(b, ",\"version\":");
    mn__buf_json_str(b, h->v->version, strlen(h->v->version));
    if (t.one) {
        mn__buf_puts(b, ",\"labels\":");
        write_labels(b, h->v->model, h->w->preds, h->w->counts[0], "prob");
    } else {
        mn__buf_puts(b, ",\"predictions\":[");
        for (size_t i = 0; i < t.n; i++) {
            if (i)
                mn__buf_put(b, ",", 1);
            write_labels(b, h->v->model, h->w->preds + i * (size_t)kk, h->w->counts[i], "prob");
        }
        mn__buf_put(b, "]", 1);
    }
    mn__buf_put(b, "}", 1);
    ok_json(h);
    return 0;
}

/* POST /hf/models/{name}: the Hugging Face text-classification shape. */
static int h_hf(hctx *h)
{
    int rc;
    if ((rc = parse_body(h)) != 0)
        return rc;
    mn__json *in = mn__json_get(h->body, "inputs");
    texts t = {.field = "inputs"};
    if (!in)
        return fail(h, MN__EJSONTYPE, "missing \"inputs\" (a string or an array of strings)");
    if (mn__json_type(in) == MN__J_STRING)
        t.one = in;
    else if (mn__json_type(in) == MN__J_ARRAY)
        t.arr = in;
    else
        return fail(h, MN__EJSONTYPE, "inputs: expected a string or an array of strings");
    mn__json *params = mn__json_get(h->body, "parameters");
    if (params && mn__json_type(params) != MN__J_OBJECT && mn__json_type(params) != MN__J_NULL)
        return fail(h, MN__EJSONTYPE, "parameters: expected an object");
    long k = (long)mn_model_label_count(h->v->model);
    float threshold = 0.0f;
    if (params && ((rc = opt_int(h, params, "top_k", 1, 1000000, &k)) != 0 ||
                   (rc = opt_prob(h, params, "threshold", &threshold)) != 0))
        return rc;
    if ((rc = check_texts(h, &t)) != 0)
        return rc;
    if (is_tagger(h))
        return tag_all(h, &t, TAG_HF);
    int kk = clamp_k(h->v, k);
    if ((rc = run(h, &t, kk, threshold)) != 0)
        return rc;
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    mn__buf_put(b, "[", 1);
    for (size_t i = 0; i < t.n; i++) {
        if (i)
            mn__buf_put(b, ",", 1);
        write_labels(b, h->v->model, h->w->preds + i * (size_t)kk, h->w->counts[i], "score");
    }
    mn__buf_put(b, "]", 1);
    ok_json(h);
    return 0;
}

/* The v2 binary tensor data extension ("binary_tensor_data": tritonclient and the KServe SDK
 * send inputs this way by default, and ask for binary outputs when they name none). With the
 * Inference-Header-Content-Length header, the body is that many bytes of JSON followed by the
 * tensors marked binary in it, in input order, as raw bytes:
 *
 *   {"inputs":[{"name":"text","datatype":"BYTES","shape":[2],      09 00 00 00 f r e e   c a s h
 *     "parameters":{"binary_data_size":21}}]}                      04 00 00 00 h i ! !
 *   |<------------- Inference-Header-Content-Length ------------->|<--- binary_data_size: 21 --->|
 *
 * A BYTES element is a 4-byte little-endian length and that many bytes; an FP32 element is 4
 * bytes, little-endian IEEE 754. Outputs asked for with "parameters": {"binary_data": true}, or
 * all outputs with the request's "parameters": {"binary_data_output": true} (an output's own
 * "binary_data" overrides it), are answered the same way: the JSON gives their
 * "binary_data_size" instead of "data", the raw tensors follow it in output order, and the
 * response's Inference-Header-Content-Length header gives the JSON's length. */

/* Checks the framing of a binary BYTES tensor bin[0..size) and counts its elements into t. */
static int read_bytes_tensor(hctx *h, const char *bin, size_t size, texts *t)
{
    size_t n = 0;
    for (size_t off = 0; off < size; n++) {
        if (size - off < 4)
            return fail(h, MN_EINVAL, "inputs[0]: binary element %zu has %zu bytes, less than "
                        "its 4-byte length", n, size - off);
        uint32_t len = le32(bin + off);
        if (len > size - off - 4)
            return fail(h, MN_EINVAL, "inputs[0]: binary element %zu: length %lu runs past the "
                        "tensor's end", n, (unsigned long)len);
        off += 4 + (size_t)len;
    }
    t->bin = bin;
    t->bin_len = size;
    t->n = n;
    return 0;
}

static void put_le32(mn__buf *b, uint32_t v)
{
    char c[4] = {(char)(v & 0xff), (char)(v >> 8 & 0xff), (char)(v >> 16 & 0xff),
                 (char)(v >> 24 & 0xff)};
    mn__buf_put(b, c, 4);
}

/* Reads an optional boolean parameter; absent or null leaves *out. */
static int opt_bool(hctx *h, const mn__json *obj, const char *key, const char *where, int *out)
{
    mn__json *j = mn__json_get(obj, key);
    if (!j || mn__json_type(j) == MN__J_NULL)
        return 0;
    if (mn__json_type(j) != MN__J_BOOL)
        return fail(h, MN__EJSONTYPE, "%s%s: expected true or false", where, key);
    *out = mn__json_bool(j);
    return 0;
}

/* POST /v2/models/{name}[/versions/{v}]/infer: one BYTES input tensor of texts, in JSON or
 * binary (above); outputs "label" (BYTES) and "score" (FP32), [texts, k] each. */
static int h_v2_infer(hctx *h)
{
    int rc;
    if (is_tagger(h))
        return fail(h, MN_EUNSUPPORTED, "model '%s' is a tagger: v2 infer serves classifiers; "
                    "use /v1/models/%s:predict or /hf/models/%s", h->e->name, h->e->name,
                    h->e->name);
    size_t json_len = h->rq->body_len, bin_len = 0;
    const char *bin = NULL, *hl = h->rq->infer_header_len;
    if (hl) {
        char *end;
        unsigned long long n = strtoull(hl, &end, 10);
        if (!(*hl >= '0' && *hl <= '9') || *end || n > h->rq->body_len)
            return fail(h, MN_EINVAL, "Inference-Header-Content-Length: expected the length of "
                        "the JSON at the start of the body (0 to %zu), got '%.32s'",
                        h->rq->body_len, hl);
        json_len = (size_t)n;
        bin = h->rq->body + json_len;
        bin_len = h->rq->body_len - json_len;
    }
    if ((rc = parse_json(h, json_len)) != 0)
        return rc;
    mn__json *inputs = mn__json_get(h->body, "inputs");
    if (!inputs || mn__json_type(inputs) != MN__J_ARRAY || mn__json_len(inputs) == 0)
        return fail(h, MN__EJSONTYPE, "inputs: expected a non-empty array of tensors");
    if (mn__json_len(inputs) != 1)
        return fail(h, MN_EINVAL, "inputs: this model takes one BYTES tensor of texts, got %zu",
                    mn__json_len(inputs));
    mn__json *in = mn__json_at(inputs, 0);
    size_t len;
    const char *dt = mn__json_str(mn__json_get(in, "datatype"), &len);
    const char *name = mn__json_str(mn__json_get(in, "name"), &len);
    if (!name)
        return fail(h, MN__EJSONTYPE, "inputs[0].name: expected a string");
    if (!dt || strcmp(dt, "BYTES") != 0)
        return fail(h, MN_EINVAL, "inputs[0].datatype: expected \"BYTES\"");
    mn__json *shape = mn__json_get(in, "shape");
    if (!shape || mn__json_type(shape) != MN__J_ARRAY || mn__json_len(shape) == 0)
        return fail(h, MN__EJSONTYPE, "inputs[0].shape: expected an array of integers");
    double elems = 1;
    for (size_t i = 0; i < mn__json_len(shape); i++) {
        mn__json *d = mn__json_at(shape, i);
        if (!mn__json_is_int(d) || mn__json_num(d) < 0)
            return fail(h, MN__EJSONTYPE, "inputs[0].shape[%zu]: expected an integer >= 0", i);
        elems *= mn__json_num(d);
    }
    texts t = {.field = "inputs[0].data"};
    mn__json *data = mn__json_get(in, "data");
    mn__json *bsize = mn__json_get(mn__json_get(in, "parameters"), "binary_data_size");
    if (bsize && mn__json_type(bsize) != MN__J_NULL) {
        if (!mn__json_is_int(bsize) || mn__json_num(bsize) < 0)
            return fail(h, MN__EJSONTYPE, "inputs[0].parameters.binary_data_size: expected an "
                        "integer >= 0");
        if (data)
            return fail(h, MN_EINVAL, "inputs[0]: give \"data\" or binary data "
                        "(parameters.binary_data_size), not both");
        if (!bin)
            return fail(h, MN_EINVAL, "inputs[0]: binary data needs the "
                        "Inference-Header-Content-Length header");
        /* One input, so its tensor is all that follows the JSON. */
        if (mn__json_num(bsize) != (double)bin_len)
            return fail(h, MN_EINVAL, "inputs[0].parameters.binary_data_size is %.0f but %zu "
                        "bytes follow the JSON header", mn__json_num(bsize), bin_len);
        if ((rc = read_bytes_tensor(h, bin, bin_len, &t)) != 0)
            return rc;
        t.field = "inputs[0]";
        if ((double)t.n != elems)
            return fail(h, MN_EINVAL, "inputs[0]: shape has %.0f elements but the binary data "
                        "has %zu", elems, t.n);
    } else {
        if (!data || mn__json_type(data) != MN__J_ARRAY)
            return fail(h, MN__EJSONTYPE, "inputs[0].data: expected an array of strings");
        if (bin_len > 0)
            return fail(h, MN_EINVAL, "%zu bytes follow the JSON header but no input has "
                        "parameters.binary_data_size", bin_len);
        /* Row-major nested data ([[...]]) of one row is accepted as its flat content. */
        if (mn__json_len(data) == 1 && mn__json_type(mn__json_at(data, 0)) == MN__J_ARRAY)
            data = mn__json_at(data, 0);
        t.arr = data;
        if ((double)mn__json_len(data) != elems)
            return fail(h, MN_EINVAL, "inputs[0]: shape has %.0f elements but data has %zu",
                        elems, mn__json_len(data));
    }
    long k = 1;
    int bin_default = 0;
    mn__json *params = mn__json_get(h->body, "parameters");
    if ((rc = opt_int(h, params, "top_k", 1, 1000000, &k)) != 0 ||
        (rc = opt_bool(h, params, "binary_data_output", "parameters.", &bin_default)) != 0 ||
        (rc = check_texts(h, &t)))
        return rc;
    /* want[o]: output o (0 label, 1 score) is sent; binary[o]: as raw bytes. */
    int want[2] = {1, 1}, binary[2] = {bin_default, bin_default};
    mn__json *outs = mn__json_get(h->body, "outputs");
    if (outs && mn__json_type(outs) == MN__J_ARRAY && mn__json_len(outs) > 0) {
        want[0] = want[1] = 0;
        for (size_t i = 0; i < mn__json_len(outs); i++) {
            mn__json *out = mn__json_at(outs, i);
            const char *on = mn__json_str(mn__json_get(out, "name"), &len);
            int o = on && strcmp(on, "label") == 0 ? 0 : on && strcmp(on, "score") == 0 ? 1 : -1;
            if (o < 0)
                return fail(h, MN_EINVAL, "outputs[%zu]: unknown output (this model has "
                            "\"label\" and \"score\")", i);
            mn__json *op = mn__json_get(out, "parameters");
            if (mn__json_get(op, "classification"))
                return fail(h, MN_EUNSUPPORTED, "outputs[%zu]: the classification extension "
                            "is not supported: use top_k and the label output", i);
            want[o] = 1;
            if ((rc = opt_bool(h, op, "binary_data", "outputs[].parameters.", &binary[o])) != 0)
                return rc;
        }
    }
    int kk = clamp_k(h->v, k);
    if ((rc = run(h, &t, kk, 0.0f)) != 0)
        return rc;
    const mn_model *m = h->v->model;
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    mn__buf_puts(b, "{\"model_name\":");
    mn__buf_json_str(b, h->e->name, strlen(h->e->name));
    mn__buf_puts(b, ",\"model_version\":");
    mn__buf_json_str(b, h->v->version, strlen(h->v->version));
    const char *id = mn__json_str(mn__json_get(h->body, "id"), &len);
    if (id) {
        mn__buf_puts(b, ",\"id\":");
        mn__buf_json_str(b, id, len);
    }
    mn__buf_puts(b, ",\"outputs\":[");
    int first = 1;
    for (int o = 0; o < 2; o++) {
        if (!want[o])
            continue;
        mn__buf_printf(b, "%s{\"name\":\"%s\",\"datatype\":\"%s\",\"shape\":[%zu,%d]",
                       first ? "" : ",", o ? "score" : "label", o ? "FP32" : "BYTES", t.n, kk);
        first = 0;
        if (binary[o]) {
            size_t size = t.n * (size_t)kk * 4; /* FP32, or the BYTES length prefixes */
            for (size_t i = 0; o == 0 && i < t.n; i++)
                for (size_t j = 0; j < h->w->counts[i]; j++)
                    size += strlen(mn_model_label(m, h->w->preds[i * (size_t)kk + j].label));
            mn__buf_printf(b, ",\"parameters\":{\"binary_data_size\":%zu}}", size);
            continue;
        }
        mn__buf_puts(b, ",\"data\":[");
        for (size_t i = 0; i < t.n; i++) {
            const mn_prediction *p = h->w->preds + i * (size_t)kk;
            for (int j = 0; j < kk; j++) {
                if (i || j)
                    mn__buf_put(b, ",", 1);
                int have = (size_t)j < h->w->counts[i];
                if (o == 0) {
                    const char *l = have ? mn_model_label(m, p[j].label) : "";
                    mn__buf_json_str(b, l, strlen(l));
                } else {
                    mn__buf_json_num(b, have ? p[j].prob : 0.0);
                }
            }
        }
        mn__buf_puts(b, "]}");
    }
    mn__buf_puts(b, "]}");
    size_t header_bytes = b->len;
    for (int o = 0; o < 2; o++) {
        if (!want[o] || !binary[o])
            continue;
        for (size_t i = 0; i < t.n; i++) {
            const mn_prediction *p = h->w->preds + i * (size_t)kk;
            for (int j = 0; j < kk; j++) {
                int have = (size_t)j < h->w->counts[i];
                if (o == 0) {
                    const char *l = have ? mn_model_label(m, p[j].label) : "";
                    put_le32(b, (uint32_t)strlen(l));
                    mn__buf_puts(b, l);
                } else {
                    float f = have ? p[j].prob : 0.0f;
                    uint32_t u;
                    memcpy(&u, &f, sizeof u);
                    put_le32(b, u);
                }
            }
        }
    }
    ok_json(h);
    if ((want[0] && binary[0]) || (want[1] && binary[1])) {
        h->rs->infer_header_bytes = header_bytes;
        h->rs->content_type = "application/octet-stream";
    }
    return 0;
}

/* ---- descriptions ------------------------------------------------------------------------- */

static void write_model(hctx *h, mn__entry *e, int full)
{
    mn__buf *b = &h->w->out;
    mn__version *v = mn__entry_acquire(e);
    mn__buf_puts(b, "{\"name\":");
    mn__buf_json_str(b, e->name, strlen(e->name));
    long vers[64];
    size_t nv = mn__repo_versions(h->s, e->name, vers, 64);
    mn__buf_puts(b, ",\"versions\":[");
    for (size_t i = 0; i < nv; i++)
        mn__buf_printf(b, "%s\"%ld\"", i ? "," : "", vers[i]);
    mn__buf_puts(b, "]");
    pthread_mutex_lock(&e->mu);
    int workers = e->workers;
    unsigned qd = e->queue_depth;
    pthread_mutex_unlock(&e->mu);
    mn__buf_printf(b, ",\"workers\":%d,\"queue_depth\":%u", workers, qd);
    if (!v) {
        mn__buf_puts(b, ",\"state\":\"unloaded\"}");
        return;
    }
    const mn_model *m = v->model;
    const char *type = mn_model_type_name(m);
    mn__buf_puts(b, ",\"state\":\"ready\",\"version\":");
    mn__buf_json_str(b, v->version, strlen(v->version));
    mn__buf_puts(b, ",\"type\":");
    mn__buf_json_str(b, type, strlen(type));
    mn__buf_printf(b, ",\"size_bytes\":%zu,\"load_seconds\":%.6f,\"labels\":[", v->size_bytes,
                   v->load_seconds);
    for (uint32_t i = 0; i < mn_model_label_count(m); i++) {
        const char *l = mn_model_label(m, i);
        if (i)
            mn__buf_put(b, ",", 1);
        mn__buf_json_str(b, l, strlen(l));
    }
    mn__buf_puts(b, "]");
    if (full) {
        mn__buf_puts(b, ",\"metadata\":{");
        for (size_t i = 0; i < mn_model_meta_count(m); i++) {
            const char *key, *val;
            mn_model_meta_get(m, i, &key, &val);
            if (i)
                mn__buf_put(b, ",", 1);
            mn__buf_json_str(b, key, strlen(key));
            mn__buf_put(b, ":", 1);
            mn__buf_json_str(b, val, strlen(val));
        }
        mn__buf_puts(b, "}");
    }
    mn__buf_puts(b, "}");
    mn__version_release(v);
}

static int h_models(hctx *h)
{
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    mn__buf_puts(b, "{\"models\":[");
    size_t n = atomic_load_explicit(&h->s->nentries, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        if (i)
            mn__buf_put(b, ",", 1);
        write_model(h, h->s->entries[i], 1);
    }
    mn__buf_puts(b, "]}");
    ok_json(h);
    return 0;
}

static int h_model(hctx *h, const char *name, size_t nlen)
{
    mn__entry *e = mn__repo_find(h->s, name, nlen);
    if (!e)
        return fail(h, MN_ENOTFOUND, "model '%.*s' not found", (int)(nlen > 128 ? 128 : nlen),
                    name);
    mn__buf_reset(&h->w->out);
    write_model(h, e, 1);
    ok_json(h);
    return 0;
}

static int loaded_count(mn_server *s)
{
    int n = 0;
    size_t ne = atomic_load_explicit(&s->nentries, memory_order_acquire);
    for (size_t i = 0; i < ne; i++) {
        mn__version *v = mn__entry_acquire(s->entries[i]);
        n += v != NULL;
        mn__version_release(v);
    }
    return n;
}

static int h_ready(hctx *h, int v2)
{
    int n = loaded_count(h->s);
    if (atomic_load(&h->s->draining))
        return fail(h, MN__EUNAVAIL, "shutting down");
    if (n == 0)
        return fail(h, MN__EUNAVAIL, "no model loaded");
    mn__buf_reset(&h->w->out);
    if (v2)
        mn__buf_puts(&h->w->out, "{\"ready\":true}");
    else
        mn__buf_printf(&h->w->out, "{\"status\":\"ready\",\"models\":%d}", n);
    ok_json(h);
    return 0;
}

static int h_v2_model(hctx *h, int ready)
{
    mn__buf *b = &h->w->out;
    mn__buf_reset(b);
    if (ready) {
        if (atomic_load(&h->s->draining))
            return fail(h, MN__EUNAVAIL, "shutting down");
        mn__buf_puts(b, "{\"name\":");
        mn__buf_json_str(b, h->e->name, strlen(h->e->name));
        mn__buf_puts(b, ",\"ready\":true}");
        ok_json(h);
        return 0;
    }
    mn__buf_puts(b, "{\"name\":");
    mn__buf_json_str(b, h->e->name, strlen(h->e->name));
    mn__buf_puts(b, ",\"versions\":[");
    mn__buf_json_str(b, h->v->version, strlen(h->v->version));
    const char *type = mn_model_type_name(h->v->model);
    mn__buf_puts(b, "],\"platform\":\"micronlp_");
    mn__buf_puts(b, type);
    mn__buf_puts(b, "\",\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}],"
                    "\"outputs\":[{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[-1,-1]},"
                    "{\"name\":\"score\",\"datatype\":\"FP32\",\"shape\":[-1,-1]}]}");
    ok_json(h);
    return 0;
}

static int h_metrics(hctx *h)
{
    mn__buf_reset(&h->w->out);
    mn__metrics_write(h->s, &h->w->out);
    ok_json(h);
    h->rs->content_type = "text/plain; version=0.0.4";
    return 0;
}

/* ---- admin -------------------------------------------------------------------------------- */

static int authorized(hctx *h)
{
    const char *token = h->s->cfg.admin_token;
    if (!token)
        return fail(h, MN__EFORBIDDEN, "the admin API is disabled: start the server with "
                    "--admin-token-file or MICRONLP_ADMIN_TOKEN");
    const char *a = h->rq->authorization;
    if (!a || strncmp(a, "Bearer ", 7) != 0)
        return fail(h, MN__EAUTH, "missing \"Authorization: Bearer <token>\"");
    a += 7;
    size_t la = strlen(a), lt = strlen(token);
    unsigned char diff = (unsigned char)(la != lt);
    for (size_t i = 0; i < lt; i++) /* constant time in the token's length */
        diff |= (unsigned char)(token[i] ^ (i < la ? a[i] : 0));
    if (diff)
        return fail(h, MN__EAUTH, "invalid admin token");
    return 0;
}

/* A version given as 2 or "2" in field "version" of the body; 0 when absent/null. */
static int body_version(hctx *h, long *out)
{
    *out = 0;
    if (!h->body)
        return 0;
    mn__json *j = mn__json_get(h->body, "version");
    if (!j || mn__json_type(j) == MN__J_NULL)
        return 0;
    size_t len;
    const char *s = mn__json_str(j, &len);
    if (s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (len == 0 || *end || v < 0)
            return fail(h, MN__EJSONTYPE, "version: expected a positive integer");
        *out = v;
        return 0;
    }
    return opt_int(h, h->body, "version", 0, 1000000000000L, out);
}

static int h_admin(hctx *h, const char *name, size_t nlen, const char *op)
{
    int rc = authorized(h);
    if (rc)
        return rc;
    if (h->rq->body_len > 0 && (rc = parse_body(h)) != 0)
        return rc;
    char mname[MN__NAME_MAX];
    if (nlen >= sizeof mname)
        return fail(h, MN_ENOTFOUND, "model not found");
    memcpy(mname, name, nlen);
    mname[nlen] = '\0';
    long version = 0;
    if (strcmp(op, "load") == 0 || strcmp(op, "reload") == 0) {
        if ((rc = body_version(h, &version)) != 0)
            return rc;
        rc = mn__repo_load(h->s, mname, version, op[0] == 'r', &h->err);
    } else if (strcmp(op, "unload") == 0) {
        rc = mn__repo_unload(h->s, mname, &h->err);
    } else if (strcmp(op, "default") == 0) {
        if ((rc = body_version(h, &version)) != 0)
            return rc;
        rc = mn__repo_set_default(h->s, mname, version, &h->err);
    } else if (strcmp(op, "workers") == 0) {
        long workers = 0, qd = -1;
        if (!h->body)
            return fail(h, MN__EJSONTYPE, "expected {\"workers\": N, \"queue_depth\": M}");
        if ((rc = opt_int(h, h->body, "workers", 1, 1024, &workers)) != 0 ||
            (rc = opt_int(h, h->body, "queue_depth", 0, 1000000, &qd)) != 0)
            return rc;
        if (workers == 0 && qd < 0)
            return fail(h, MN__EJSONTYPE, "expected {\"workers\": N, \"queue_depth\": M}");
        rc = mn__repo_set_workers(h->s, mname, (int)workers, qd, &h->err);
    } else {
        return fail(h, MN_ENOTFOUND, "unknown admin operation '%s'", op);
    }
    if (rc)
        return rc;
    mn__entry *e = mn__repo_find(h->s, mname, nlen);
    mn__buf_reset(&h->w->out);
    if (e)
        write_model(h, e, 0);
    else
        mn__buf_puts(&h->w->out, "{}");
    ok_json(h);
    return 0;
}

/* ---- routing ------------------------------------------------------------------------------ */

static int method_is(hctx *h, const char *m, const char *allow)
{
    if (strcmp(h->rq->method, m) == 0)
        return 1;
    if (strcmp(m, "GET") == 0 && strcmp(h->rq->method, "HEAD") == 0)
        return 1;
    h->rs->allow = allow;
    return 0;
}

#define REQUIRE(h, m)                                                                              \
    do {                                                                                           \
        if (!method_is(h, m, m))                                                                   \
            return fail(h, MN__EMETHOD, "method %s not allowed here; use %s", (h)->rq->method, m); \
    } while (0)

/* If path starts with prefix, returns the rest, else NULL. */
static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/* Splits "name/versions/v/rest" (v2 shapes): name, optional version, rest ("" / "ready" /
 * "infer"). Returns 0 or -1 for an unknown shape. */
static int split_v2(const char *p, const char **name, size_t *nlen, const char **ver,
                    size_t *vlen, const char **rest)
{
    const char *slash = strchr(p, '/');
    *name = p;
    *nlen = slash ? (size_t)(slash - p) : strlen(p);
    *ver = NULL;
    *vlen = 0;
    *rest = "";
    if (!slash)
        return *nlen ? 0 : -1;
    p = slash + 1;
    const char *r = after(p, "versions/");
    if (r) {
        slash = strchr(r, '/');
        *ver = r;
        *vlen = slash ? (size_t)(slash - r) : strlen(r);
        if (*vlen == 0)
            return -1;
        if (!slash)
            return 0;
        p = slash + 1;
    }
    *rest = p;
    return (strcmp(p, "ready") == 0 || strcmp(p, "infer") == 0) ? 0 : -1;
}

static int route(hctx *h)
{
    const char *path = h->rq->path, *p;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/v2/health/live") == 0) {
        REQUIRE(h, "GET");
        mn__buf_reset(&h->w->out);
        mn__buf_puts(&h->w->out, path[1] == 'h' ? "{\"status\":\"ok\"}" : "{\"live\":true}");
        ok_json(h);
        return 0;
    }
    if (strcmp(path, "/readyz") == 0 || strcmp(path, "/v2/health/ready") == 0) {
        REQUIRE(h, "GET");
        return h_ready(h, path[1] == 'v');
    }
    if (strcmp(path, "/metrics") == 0) {
        REQUIRE(h, "GET");
        return h_metrics(h);
    }
    if (strcmp(path, "/v1/models") == 0 || strcmp(path, "/v1/models/") == 0) {
        REQUIRE(h, "GET");
        return h_models(h);
    }
    if ((p = after(path, "/v1/models/")) != NULL) {
        const char *colon = strchr(p, ':');
        if (colon) {
            if (strcmp(colon, ":predict") != 0)
                return fail(h, MN_ENOTFOUND, "unknown action '%s' (use :predict)", colon);
            REQUIRE(h, "POST");
            const char *ver = NULL, *vs = strstr(p, "/versions/");
            size_t nlen = (size_t)(colon - p), vlen = 0;
            if (vs && vs < colon) {
                nlen = (size_t)(vs - p);
                ver = vs + 10;
                vlen = (size_t)(colon - ver);
            }
            int rc = resolve(h, p, nlen, ver, vlen);
            return rc ? rc : h_predict(h);
        }
        if (strchr(p, '/'))
            return fail(h, MN_ENOTFOUND, "no such path: %s", path);
        REQUIRE(h, "GET");
        return h_model(h, p, strlen(p));
    }
    if ((p = after(path, "/hf/models/")) != NULL) {
        if (strchr(p, '/'))
            return fail(h, MN_ENOTFOUND, "no such path: %s", path);
        REQUIRE(h, "POST");
        int rc = resolve(h, p, strlen(p), NULL, 0);
        return rc ? rc : h_hf(h);
    }
    if (strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0) {
        REQUIRE(h, "GET");
        mn__buf_reset(&h->w->out);
        mn__buf_puts(&h->w->out, "{\"name\":\"micronlp\",\"version\":\"" MN_VERSION
                                 "\",\"extensions\":[\"binary_tensor_data\"]}");
        ok_json(h);
        return 0;
    }
    if ((p = after(path, "/v2/models/")) != NULL) {
        const char *name, *ver, *rest;
        size_t nlen, vlen;
        if (split_v2(p, &name, &nlen, &ver, &vlen, &rest) != 0)
            return fail(h, MN_ENOTFOUND, "no such path: %s", path);
        if (strcmp(rest, "infer") == 0)
            REQUIRE(h, "POST");
        else
            REQUIRE(h, "GET");
        int rc = resolve(h, name, nlen, ver, vlen);
        if (rc)
            return rc;
        if (strcmp(rest, "infer") == 0)
            return h_v2_infer(h);
        return h_v2_model(h, strcmp(rest, "ready") == 0);
    }
    if ((p = after(path, "/v1/admin/")) != NULL) {
        REQUIRE(h, "POST");
        if (strcmp(p, "scan") == 0 || strcmp(p, "reload") == 0) {
            int rc = authorized(h);
            if (rc)
                return rc;
            int n = mn__repo_scan(h->s);
            mn__buf_reset(&h->w->out);
            mn__buf_printf(&h->w->out, "{\"models\":%d}", n);
            ok_json(h);
            return 0;
        }
        const char *m = after(p, "models/");
        const char *slash = m ? strchr(m, '/') : NULL;
        if (!slash || slash == m)
            return fail(h, MN_ENOTFOUND, "no such path: %s", path);
        return h_admin(h, m, (size_t)(slash - m), slash + 1);
    }
    if (strcmp(path, "/v1/pipelines") == 0) {
        REQUIRE(h, "GET");
        int rc = mn__api_pipelines(h->s, &h->w->out, &h->err);
        if (rc == 0)
            ok_json(h);
        return rc;
    }
    if (strcmp(path, "/v1/analyze") == 0) {
        REQUIRE(h, "POST");
        int rc = parse_body(h);
        if (rc == 0)
            rc = mn__api_analyze(h->s, h->w, h->body, &h->w->out, &h->err);
        if (rc == 0)
            ok_json(h);
        return rc;
    }
    if (strcmp(path, "/v1/jobs") == 0) {
        int rc;
        if (strcmp(h->rq->method, "POST") == 0) {
            if ((rc = parse_body(h)) == 0 &&
                (rc = mn__api_jobs_submit(h->s, h->body, &h->w->out, &h->err)) == 0) {
                ok_json(h);
                h->rs->status = 202;
            }
            return rc;
        }
        if (!method_is(h, "GET", "GET, POST"))
            return fail(h, MN__EMETHOD, "method %s not allowed here; use GET or POST",
                        h->rq->method);
        const char *type = "application/json";
        if ((rc = mn__api_jobs_list(h->s, h->rq, &h->w->out, &type, &h->err)) == 0) {
            ok_json(h);
            h->rs->content_type = type;
        }
        return rc;
    }
    if ((p = after(path, "/v1/jobs/")) != NULL) {
        REQUIRE(h, "GET");
        int rc = mn__api_job_get(h->s, p, &h->w->out, &h->err);
        if (rc == 0)
            ok_json(h);
        return rc;
    }
    return fail(h, MN_ENOTFOUND, "no such path: %s", path);
}

void mn__serve_handle(mn_server *s, mn__worker *w, const mn__request *rq, mn__response *rs)
{
    hctx h = {.s = s, .w = w, .rq = rq, .rs = rs};
    mn_err_clear(&h.err);
    int rc = route(&h);
    if (h.entered)
        mn__entry_leave(h.e);
    if (rc != 0)
        mn__serve_error(w, rs, rc, h.err.msg);
    mn__json_free(&w->jarena, h.body);
    uint64_t elapsed = mn__now_ns() - rq->started_ns;
    mn__stats_record(h.v ? &h.v->stats : &s->unrouted, rs->status, elapsed);
    mn__version_release(h.v);
}

/* ---- request log -------------------------------------------------------------------------- */

void mn__serve_log_request(mn_server *s, const mn__request *rq, const mn__response *rs)
{
    if (!s->cfg.log_requests) {
        /* At most log_rate lines per second; the count of dropped lines is reported with the
         * next line that gets through. */
        long long sec = (long long)(mn__now_ns() / 1000000000u);
        long long win = atomic_load(&s->log_window);
        if (win != sec && atomic_compare_exchange_strong(&s->log_window, &win, sec))
            atomic_store(&s->log_count, 0);
        if (atomic_fetch_add(&s->log_count, 1) >= s->cfg.log_rate) {
            atomic_fetch_add(&s->log_dropped, 1);
            return;
        }
    }
    char path[160];
    size_t o = 0;
    for (const char *p = rq->path; *p && o + 4 < sizeof path; p++) {
        unsigned char c = (unsigned char)*p;
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
            path[o++] = (char)c;
        else
            o += (size_t)snprintf(path + o, sizeof path - o, "%%%02X", c);
    }
    path[o] = '\0';
    unsigned dropped = atomic_exchange(&s->log_dropped, 0);
    double ms = (double)(mn__now_ns() - rq->started_ns) / 1e6;
    const char *level = rs->status >= 500 ? "error" : rs->status >= 400 ? "warn" : "info";
    char extra[64] = "";
    if (dropped)
        snprintf(extra, sizeof extra, " log_dropped=%u", dropped);
    if (rs->model[0])
        mn__log(s, level, "method=%s path=%s status=%d model=%s version=%s texts=%zu ms=%.3f%s",
                rq->method, path, rs->status, rs->model, rs->version, rs->texts, ms, extra);
    else
        mn__log(s, level, "method=%s path=%s status=%d ms=%.3f%s", rq->method, path, rs->status,
                ms, extra);
}
