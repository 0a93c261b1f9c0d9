/* SPDX-License-Identifier: MIT
 *
 * Job workers: threads that take submitted texts from a store (micronlp/store.h), run each
 * through its pipeline (micronlp/pipeline.h) and save the combined result with its provenance
 * (model versions, per-step times), a batch per transaction.
 *
 * A job fails, and is tried again up to the store's max_attempts before it is dead-lettered,
 * when its pipeline cannot run at all (unknown pipeline, result not storable). A step that
 * fails or times out inside a pipeline does not fail the job: the result records that step's
 * failure and keeps the rest.
 */
#ifndef MICRONLP_JOBS_H
#define MICRONLP_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"
#include "micronlp/pipeline.h"
#include "micronlp/store.h"

typedef struct mn_jobs mn_jobs;

typedef struct mn_jobs_config {
    mn_store *store;
    const mn_pipelines *pipelines;
    mn_runner *runner;  /* helper threads for parallel steps; may be NULL */
    int threads;        /* worker threads (default 1) */
    size_t batch;       /* jobs claimed and saved per transaction (default 128) */
    unsigned idle_ms;   /* how often an idle worker looks for work it was not told of (500) */
    /* One log line (no newline); NULL = stderr. Called from worker threads. */
    void (*log_fn)(void *ctx, const char *line);
    void *log_ctx;
} mn_jobs_config;

void mn_jobs_config_init(mn_jobs_config *cfg);

/* Starts the workers. The store and pipelines must outlive mn_jobs_stop. */
int mn_jobs_start(const mn_jobs_config *cfg, mn_jobs **out, mn_err *err);

/* Wakes idle workers: call after submitting. Thread-safe. */
void mn_jobs_wake(mn_jobs *j);

typedef struct mn_jobs_stats {
    uint64_t done;     /* results saved */
    uint64_t attempts_failed; /* queued again, or dead-lettered after the last attempt */
    uint64_t batches;  /* transactions that saved results */
    uint64_t store_errors; /* claims or saves the store refused (disk full, locked ...) */
} mn_jobs_stats;

void mn_jobs_get_stats(const mn_jobs *j, mn_jobs_stats *out);

/* Stops: each worker saves the batch in hand, then exits. Jobs claimed but not saved (only
 * when the store refuses the save) stay "running" and are queued again when the store is next
 * opened. NULL is a no-op. */
void mn_jobs_stop(mn_jobs *j);

#endif
