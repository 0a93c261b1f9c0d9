/* SPDX-License-Identifier: MIT
 *
 * The job store: where submitted texts wait and where their results are kept, with provenance.
 *
 * One interface, several back ends: SQLite in WAL mode is the embedded default (a file, no
 * server); PostgreSQL follows for scale-out behind the same calls. A store URL picks the back
 * end: "sqlite:PATH" or a plain PATH.
 *
 * The promise: a job the store accepted (mn_store_submit returned 0) is never lost and never
 * gets two results. Submission is one durable transaction; a result is written in the same
 * transaction that marks its job done; jobs left "running" by a process that died (kill -9)
 * are queued again when the store is next opened, and run again; a result already saved is
 * never replaced. A job that fails max_attempts times goes to the dead-letter state "failed"
 * with its last error.
 *
 * A SQLite store belongs to one process at a time (an advisory lock on PATH.lock): a second
 * process opening it gets -EBUSY with a clear message, so two processes never run each
 * other's jobs. Thread-safe: calls may come from any thread, except mn_store_close, which must
 * not overlap any other call on the same store.
 */
#ifndef MICRONLP_STORE_H
#define MICRONLP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"

typedef struct mn_store mn_store;

typedef enum mn_job_state {
    MN_JOB_QUEUED = 0,  /* waiting for a worker */
    MN_JOB_RUNNING = 1, /* claimed by a worker */
    MN_JOB_DONE = 2,    /* result saved */
    MN_JOB_FAILED = 3,  /* dead letter: failed max_attempts times */
} mn_job_state;

/* "queued", "running", "done", "failed"; and back (-1 for an unknown name). */
const char *mn_job_state_name(mn_job_state s);
int mn_job_state_parse(const char *name, size_t len);

typedef struct mn_store_config {
    const char *url;        /* "sqlite:PATH" or PATH; created with its schema when missing */
    int max_attempts;       /* attempts before dead letter (default 3; 0 = default) */
    int durable;            /* 1 (default): fsync at every submit and finish (survives power
                               loss; a claim is not synced: lost, it leaves its jobs queued,
                               as reopening would anyway);
                               0: survives a process crash only (SQLite synchronous=NORMAL) */
    unsigned busy_timeout_ms; /* wait this long for a locked database (default 5000; 0 =
                                 default) */
} mn_store_config;

/* Fills in the defaults (url NULL). The store copies what it needs: cfg and url may be freed
 * after mn_store_open returns. */
void mn_store_config_init(mn_store_config *cfg);

/* Opens (creating or migrating the schema: PRAGMA user_version) and requeues jobs a dead
 * process left running (*requeued, may be NULL). A job left running on its last attempt
 * (attempts >= max_attempts) goes to the dead letter instead, with the error "the process
 * running this job died (attempt N of M)", so a text that crashes the process every time
 * cannot keep it crashing; it is not counted in *requeued. Errors: -EBUSY (another process
 * holds it, or this process already has it open), MN_EVERSION (schema newer than this build),
 * MN_ECORRUPT (not a store / damaged database; a file that is not a store is never written
 * to), MN_EUNSUPPORTED (postgres:// or an unknown scheme), MN_EINVAL (bad config), -errno for
 * the file; err says which file and what. */
int mn_store_open(const mn_store_config *cfg, mn_store **out, size_t *requeued, mn_err *err);
void mn_store_close(mn_store *st);

/* One text to submit. key: an idempotency key (NULL = none): submitting a key already known
 * returns the earlier job's id and stores nothing new. */
typedef struct mn_job_input {
    const char *text;
    size_t len;
    const char *key;
    size_t key_len;
} mn_job_input;

/* Accepts n jobs for `pipeline` in one transaction; when it returns 0 they are durable.
 * ids[i] receives each job's id; dup[i] (may be NULL) is 1 where the key was already known
 * (also for a key repeated within the batch: the later ones get the first one's id).
 * All or nothing: on error no job of the batch is stored (ids and dup then hold nothing
 * meaningful). Checked before anything is written: pipeline non-empty, at most 256 bytes,
 * valid UTF-8; each text valid UTF-8 (text may be NULL when len is 0); each key at most 256
 * bytes, valid UTF-8, no NUL byte (err names the text: "texts[2]: invalid UTF-8 at byte 4").
 * n = 0 does nothing and returns 0. Errors: MN_EINVAL, -ENOSPC / -EIO (disk full, I/O error),
 * -EBUSY (database locked past the timeout), MN_ETOOBIG, MN_ENOMEM. */
int mn_store_submit(mn_store *st, const char *pipeline, const mn_job_input *in, size_t n,
                    int64_t *ids, uint8_t *dup, mn_err *err);

/* A claimed job. Strings stay valid until the next mn_store_claim on the same batch or
 * mn_store_batch_free; pipeline and text are NUL-terminated (text may hold NUL bytes: use
 * len). */
typedef struct mn_job {
    int64_t id;
    const char *pipeline;
    const char *text;
    size_t len;
    int attempts; /* including this one */
} mn_job;

/* Start from a zeroed batch (mn_job_batch b = {0}), reuse it for every claim of a worker (its
 * memory only grows, so a warm worker does not allocate), free it with mn_store_batch_free. */
typedef struct mn_job_batch {
    mn_job *jobs;
    size_t n, cap;
    char *arena; /* text storage */
    size_t arena_len, arena_cap;
} mn_job_batch;

/* Frees the batch's memory and zeroes it; NULL is a no-op. */
void mn_store_batch_free(mn_job_batch *b);

/* Claims up to max queued jobs, oldest first, marking them running (attempts + 1), in one
 * transaction. b->n = 0 when none are queued. On error nothing is claimed and b->n = 0. */
int mn_store_claim(mn_store *st, size_t max, mn_job_batch *b, mn_err *err);

/* What became of one claimed job. */
typedef struct mn_job_outcome {
    int64_t id;
    int ok;                  /* 1: result holds the combined result (JSON) */
    const char *result;
    size_t result_len;
    const char *error;       /* ok == 0: why (kept with the job) */
} mn_job_outcome;

/* Records outcomes in one transaction: ok -> result saved and state done (a job that already
 * has a result keeps it: never two results); failed -> queued again, or failed (dead letter)
 * once attempts reach max_attempts. Only a job that is running takes an outcome: an outcome
 * for a job that is done, failed, queued or unknown changes nothing (so finishing twice is
 * harmless; the first outcome of a job repeated in o wins). ok needs a result that is valid
 * UTF-8 (MN_EINVAL otherwise, nothing recorded); error may be NULL. All or nothing, with the
 * same errors as mn_store_submit. */
int mn_store_finish(mn_store *st, const mn_job_outcome *o, size_t n, mn_err *err);

/* A job as stored. Strings stay valid until the callback returns. */
typedef struct mn_job_record {
    int64_t id;
    mn_job_state state;
    const char *pipeline;
    const char *text;
    size_t len;
    const char *key;         /* NULL if none */
    int attempts;
    const char *error;       /* last error, or NULL */
    const char *result;      /* JSON, or NULL */
    size_t result_len;
    int64_t created_ms, finished_ms; /* Unix milliseconds; finished 0 when not finished */
} mn_job_record;

/* Returns 0 and calls fn once, or MN_ENOTFOUND. fn may call submit, claim and finish, but not
 * get, list or counts on the same store (those return -EDEADLK there). */
int mn_store_get(mn_store *st, int64_t id, void (*fn)(void *ctx, const mn_job_record *r),
                 void *ctx, mn_err *err);

typedef struct mn_job_filter {
    int state;             /* mn_job_state, or -1 for any */
    const char *pipeline;  /* NULL = any */
    int64_t after_id;      /* paging cursor: only ids > after_id (0 = from the start) */
    size_t limit;          /* 0 = no limit */
    int with_text;         /* 0: r->text is NULL (cheaper listings) */
    int with_result;       /* 0: r->result is NULL */
} mn_job_filter;

/* Calls fn for each matching job in id order; fn returns non-zero to stop early. Returns the
 * number of rows visited (>= 0, counting the row where fn stopped) or a negative code
 * (MN_EINVAL for an unknown state). Reads a consistent snapshot and does not hold up
 * submit/claim/finish. fn: as for mn_store_get. */
long mn_store_list(mn_store *st, const mn_job_filter *f,
                   int (*fn)(void *ctx, const mn_job_record *r), void *ctx, mn_err *err);

/* Jobs per state, counts[4] indexed by mn_job_state; untouched on error. Cheap whatever the
 * number of jobs (counters kept by each write), so it can back a metrics endpoint. */
int mn_store_counts(mn_store *st, int64_t counts[4], mn_err *err);

#endif
