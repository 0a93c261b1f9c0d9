/* SPDX-License-Identifier: MIT
 *
 * What the job store's files share: the back-end ops table and the batch arena helpers.
 *
 *   store.c         the public mn_store_* calls: argument checks every back end needs (UTF-8,
 *                   key length, ...), URL dispatch, then a call through st->ops.
 *   store_sqlite.c  the SQLite back end; the only file that includes <sqlite3.h>.
 *
 * A back end embeds struct mn_store as its first member and sets ops, so store.c can dispatch
 * without knowing the back end's layout (as Redis does with ConnectionType). Arguments reach a
 * back end already checked: ops functions only translate them into their database.
 */
#ifndef MN_JOBS_INTERNAL_H
#define MN_JOBS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/store.h"

/* Longest idempotency key and pipeline name accepted, in bytes. */
#define MN__STORE_KEY_MAX 256
#define MN__STORE_PIPELINE_MAX 256

typedef struct mn__store_ops {
    const char *name; /* "sqlite" */
    /* path: what followed the scheme. cfg has its defaults filled in. */
    int (*open)(const mn_store_config *cfg, const char *path, mn_store **out, size_t *requeued,
                mn_err *err);
    void (*close)(mn_store *st);
    int (*submit)(mn_store *st, const char *pipeline, size_t pipeline_len, const mn_job_input *in,
                  size_t n, int64_t *ids, uint8_t *dup, mn_err *err);
    int (*claim)(mn_store *st, size_t max, mn_job_batch *b, mn_err *err);
    int (*finish)(mn_store *st, const mn_job_outcome *o, size_t n, mn_err *err);
    int (*get)(mn_store *st, int64_t id, void (*fn)(void *ctx, const mn_job_record *r), void *ctx,
               mn_err *err);
    long (*list)(mn_store *st, const mn_job_filter *f,
                 int (*fn)(void *ctx, const mn_job_record *r), void *ctx, mn_err *err);
    int (*counts)(mn_store *st, int64_t counts[4], mn_err *err);
} mn__store_ops;

struct mn_store {
    const mn__store_ops *ops;
    int max_attempts; /* >= 1 */
    int durable;      /* 0 or 1 */
    unsigned busy_timeout_ms;
};

extern const mn__store_ops mn__store_sqlite_ops;

/* ---- batch arena (store.c) ------------------------------------------------------------------
 *
 * A claim fills b->jobs[0..n) and copies each job's pipeline and text into b->arena, both
 * grow-only so a worker that claims in a loop stops allocating once warm:
 *
 *   arena: | pipeline\0 | text\0 | text\0 | pipeline\0 | text\0 | ...
 *
 * A pipeline is copied only when it differs from the previous job's. While the batch is being
 * filled the arena may move, so jobs hold offsets into it; mn__batch_seal turns them into
 * pointers once the last job is in.
 */

/* Empties b, keeping its memory. */
void mn__batch_reset(mn_job_batch *b);

/* Appends a job. pipeline/text are copied. Returns 0 or MN_ENOMEM (b unchanged but for
 * capacity). */
int mn__batch_add(mn_job_batch *b, int64_t id, int attempts, const char *pipeline,
                  size_t pipeline_len, const char *text, size_t text_len);

/* Turns the offsets into pointers; call once after the last mn__batch_add. */
void mn__batch_seal(mn_job_batch *b);

#endif
