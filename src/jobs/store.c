/* SPDX-License-Identifier: MIT
 *
 * What every store back end shares: job state names, the configuration defaults, the checks
 * on arguments (so a back end never sees an invalid pipeline name, text or key), the URL
 * dispatch to a back end, and the batch arena a claim fills. See internal.h for the layout.
 */
#include "micronlp/store.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "jobs/internal.h"
#include "micronlp/alloc.h"
#include "micronlp/text.h"

static const char *const state_names[] = {"queued", "running", "done", "failed"};

const char *mn_job_state_name(mn_job_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "?";
}

int mn_job_state_parse(const char *name, size_t len)
{
    for (int i = 0; i < 4; i++)
        if (strlen(state_names[i]) == len && memcmp(state_names[i], name, len) == 0)
            return i;
    return -1;
}

void mn_store_config_init(mn_store_config *cfg)
{
    *cfg = (mn_store_config){.url = NULL, .max_attempts = 3, .durable = 1,
                             .busy_timeout_ms = 5000};
}

/* ---- open: URL dispatch ---------------------------------------------------------------------- */

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int mn_store_open(const mn_store_config *cfg, mn_store **out, size_t *requeued, mn_err *err)
{
    if (!cfg || !out)
        return mn_err_set(err, MN_EINVAL, "mn_store_open: NULL argument");
    if (!cfg->url || !cfg->url[0])
        return mn_err_set(err, MN_EINVAL, "store URL is empty");
    if (cfg->max_attempts < 0)
        return mn_err_set(err, MN_EINVAL, "%s: max_attempts %d is negative", cfg->url,
                          cfg->max_attempts);
    mn_store_config c = *cfg;
    if (c.max_attempts == 0) /* a zero-filled config means "the default", as for the timeout */
        c.max_attempts = 3;
    if (c.busy_timeout_ms == 0)
        c.busy_timeout_ms = 5000;
    c.durable = c.durable != 0;

    const char *url = cfg->url, *path = NULL;
    if (has_prefix(url, "sqlite:")) {
        path = url + strlen("sqlite:");
        if (has_prefix(path, "//")) /* sqlite:///abs/path, the form other tools write */
            path += 2;
    } else if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://")) {
        return mn_err_set(err, MN_EUNSUPPORTED,
                          "%s: the PostgreSQL store back end is not built yet; use sqlite:PATH",
                          url);
    } else {
        /* A scheme (letters then "://") that we do not know is a typo, not a file name. */
        const char *p = url;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '+' || *p == '-' || *p == '.')
            p++;
        if (p != url && has_prefix(p, "://"))
            return mn_err_set(err, MN_EUNSUPPORTED,
                              "%s: unknown store scheme \"%.*s\" (supported: sqlite:PATH or PATH)",
                              url, (int)(p - url), url);
        path = url;
    }
    if (!path[0])
        return mn_err_set(err, MN_EINVAL, "%s: no file name after the scheme", url);
    return mn__store_sqlite_ops.open(&c, path, out, requeued, err);
}

void mn_store_close(mn_store *st)
{
    if (st)
        st->ops->close(st);
}

/* ---- checks shared by every back end --------------------------------------------------------- */

static int check_pipeline(const char *pipeline, size_t *len, mn_err *err)
{
    if (!pipeline || !pipeline[0])
        return mn_err_set(err, MN_EINVAL, "pipeline name is empty");
    size_t n = strnlen(pipeline, MN__STORE_PIPELINE_MAX + 1);
    if (n > MN__STORE_PIPELINE_MAX)
        return mn_err_set(err, MN_EINVAL, "pipeline name longer than %d bytes",
                          MN__STORE_PIPELINE_MAX);
    size_t bad;
    if (mn_utf8_validate(pipeline, n, &bad) != 0)
        return mn_err_set(err, MN_EINVAL, "pipeline name: invalid UTF-8 at byte %zu", bad);
    *len = n;
    return 0;
}

int mn_store_submit(mn_store *st, const char *pipeline, const mn_job_input *in, size_t n,
                    int64_t *ids, uint8_t *dup, mn_err *err)
{
    if (!st || (n && (!in || !ids)))
        return mn_err_set(err, MN_EINVAL, "mn_store_submit: NULL argument");
    size_t plen = 0;
    int rc = check_pipeline(pipeline, &plen, err);
    if (rc)
        return rc;
    /* Everything is checked before the back end starts its transaction, so a bad job costs
     * nothing and leaves nothing behind. */
    for (size_t i = 0; i < n; i++) {
        size_t bad;
        if (!in[i].text && in[i].len)
            return mn_err_set(err, MN_EINVAL, "texts[%zu]: NULL text", i);
        if (in[i].len && mn_utf8_validate(in[i].text, in[i].len, &bad) != 0)
            return mn_err_set(err, MN_EINVAL, "texts[%zu]: invalid UTF-8 at byte %zu", i, bad);
        if (!in[i].key) {
            if (in[i].key_len)
                return mn_err_set(err, MN_EINVAL, "texts[%zu]: NULL key", i);
            continue;
        }
        if (in[i].key_len == 0)
            return mn_err_set(err, MN_EINVAL, "texts[%zu]: empty idempotency key", i);
        if (in[i].key_len > MN__STORE_KEY_MAX)
            return mn_err_set(err, MN_EINVAL,
                              "texts[%zu]: idempotency key of %zu bytes (at most %d)", i,
                              in[i].key_len, MN__STORE_KEY_MAX);
        if (mn_utf8_validate(in[i].key, in[i].key_len, &bad) != 0)
            return mn_err_set(err, MN_EINVAL, "texts[%zu]: key: invalid UTF-8 at byte %zu", i,
                              bad);
        if (memchr(in[i].key, '\0', in[i].key_len))
            return mn_err_set(err, MN_EINVAL, "texts[%zu]: key contains a NUL byte", i);
    }
    if (n == 0)
        return 0;
    return st->ops->submit(st, pipeline, plen, in, n, ids, dup, err);
}

int mn_store_claim(mn_store *st, size_t max, mn_job_batch *b, mn_err *err)
{
    if (!st || !b)
        return mn_err_set(err, MN_EINVAL, "mn_store_claim: NULL argument");
    mn__batch_reset(b);
    if (max == 0)
        return 0;
    return st->ops->claim(st, max, b, err);
}

int mn_store_finish(mn_store *st, const mn_job_outcome *o, size_t n, mn_err *err)
{
    if (!st || (n && !o))
        return mn_err_set(err, MN_EINVAL, "mn_store_finish: NULL argument");
    for (size_t i = 0; i < n; i++) {
        if (!o[i].ok)
            continue;
        size_t bad;
        if (!o[i].result)
            return mn_err_set(err, MN_EINVAL, "job %lld: ok without a result", (long long)o[i].id);
        if (mn_utf8_validate(o[i].result, o[i].result_len, &bad) != 0)
            return mn_err_set(err, MN_EINVAL, "job %lld: result: invalid UTF-8 at byte %zu",
                              (long long)o[i].id, bad);
    }
    if (n == 0)
        return 0;
    return st->ops->finish(st, o, n, err);
}

int mn_store_get(mn_store *st, int64_t id, void (*fn)(void *ctx, const mn_job_record *r),
                 void *ctx, mn_err *err)
{
    if (!st || !fn)
        return mn_err_set(err, MN_EINVAL, "mn_store_get: NULL argument");
    return st->ops->get(st, id, fn, ctx, err);
}

long mn_store_list(mn_store *st, const mn_job_filter *f,
                   int (*fn)(void *ctx, const mn_job_record *r), void *ctx, mn_err *err)
{
    if (!st || !f || !fn)
        return mn_err_set(err, MN_EINVAL, "mn_store_list: NULL argument");
    if (f->state < -1 || f->state > MN_JOB_FAILED)
        return mn_err_set(err, MN_EINVAL, "unknown job state %d", f->state);
    return st->ops->list(st, f, fn, ctx, err);
}

int mn_store_counts(mn_store *st, int64_t counts[4], mn_err *err)
{
    if (!st || !counts)
        return mn_err_set(err, MN_EINVAL, "mn_store_counts: NULL argument");
    return st->ops->counts(st, counts, err);
}

/* ---- batch arena ----------------------------------------------------------------------------- */

void mn_store_batch_free(mn_job_batch *b)
{
    if (!b)
        return;
    mn_free(b->jobs);
    mn_free(b->arena);
    *b = (mn_job_batch){0};
}

void mn__batch_reset(mn_job_batch *b)
{
    b->n = 0;
    b->arena_len = 0;
}

/* Grows by doubling so a warm batch stops allocating. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return MN_ENOMEM;
        c *= 2;
    }
    void *q = mn_realloc(*p, c * elem);
    if (!q)
        return MN_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* Offsets live in the pointer fields until mn__batch_seal: the arena may still move. */
#define OFF_TO_PTR(off) ((const char *)(uintptr_t)(off))
#define PTR_TO_OFF(ptr) ((size_t)(uintptr_t)(ptr))

int mn__batch_add(mn_job_batch *b, int64_t id, int attempts, const char *pipeline,
                  size_t pipeline_len, const char *text, size_t text_len)
{
    int rc = grow((void **)&b->jobs, &b->cap, b->n + 1, sizeof *b->jobs);
    if (rc)
        return rc;
    size_t poff = SIZE_MAX;
    if (b->n) {
        size_t prev = PTR_TO_OFF(b->jobs[b->n - 1].pipeline);
        if (b->arena_len - prev > pipeline_len &&
            memcmp(b->arena + prev, pipeline, pipeline_len) == 0 &&
            b->arena[prev + pipeline_len] == '\0')
            poff = prev;
    }
    size_t need = text_len + 1 + (poff == SIZE_MAX ? pipeline_len + 1 : 0);
    if (need > SIZE_MAX - b->arena_len)
        return MN_ENOMEM;
    rc = grow((void **)&b->arena, &b->arena_cap, b->arena_len + need, 1);
    if (rc)
        return rc;
    if (poff == SIZE_MAX) {
        poff = b->arena_len;
        memcpy(b->arena + poff, pipeline, pipeline_len);
        b->arena[poff + pipeline_len] = '\0';
        b->arena_len += pipeline_len + 1;
    }
    size_t toff = b->arena_len;
    if (text_len)
        memcpy(b->arena + toff, text, text_len);
    b->arena[toff + text_len] = '\0';
    b->arena_len += text_len + 1;
    b->jobs[b->n++] = (mn_job){.id = id, .pipeline = OFF_TO_PTR(poff), .text = OFF_TO_PTR(toff),
                               .len = text_len, .attempts = attempts};
    return 0;
}

void mn__batch_seal(mn_job_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        b->jobs[i].pipeline = b->arena + PTR_TO_OFF(b->jobs[i].pipeline);
        b->jobs[i].text = b->arena + PTR_TO_OFF(b->jobs[i].text);
    }
}
