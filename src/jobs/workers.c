/* SPDX-License-Identifier: MIT
 *
 * Job workers (micronlp/jobs.h): claim a batch, run each text through its pipeline, save every
 * outcome of the batch in one transaction. Batching is what makes durable saving fast: one
 * fsync per batch instead of one per result.
 */
#include "micronlp/jobs.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "micronlp/alloc.h"

typedef struct worker {
    struct mn_jobs *jobs;
    pthread_t thread;
    int started;
} worker;

struct mn_jobs {
    mn_jobs_config cfg;
    worker *workers;
    int nworkers;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;  /* under mu */
    unsigned wakes; /* under mu: bumped by mn_jobs_wake */
    atomic_ullong done, attempts_failed, batches, store_errors;
};

void mn_jobs_config_init(mn_jobs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->threads = 1;
    cfg->batch = 128;
    cfg->idle_ms = 500;
}

static void jlog(mn_jobs *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jlog(mn_jobs *j, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (j->cfg.log_fn)
        j->cfg.log_fn(j->cfg.log_ctx, line);
    else
        fprintf(stderr, "%s\n", line);
}

/* Sleeps up to ms unless woken or stopping. Returns 1 when stopping. */
static int idle_wait(mn_jobs *j, unsigned ms, unsigned *seen_wakes)
{
    pthread_mutex_lock(&j->mu);
    if (!j->stopping && j->wakes == *seen_wakes) {
        struct timespec ts = mn__deadline_in_ms(ms);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    *seen_wakes = j->wakes;
    int stop = j->stopping;
    pthread_mutex_unlock(&j->mu);
    return stop;
}

static int stopping(mn_jobs *j)
{
    pthread_mutex_lock(&j->mu);
    int s = j->stopping;
    pthread_mutex_unlock(&j->mu);
    return s;
}

typedef struct outcome_ref {
    size_t off, len; /* the result or error text in the worker's buffer */
} outcome_ref;

static void *worker_main(void *arg)
{
    worker *w = arg;
    mn_jobs *j = w->jobs;
    mn_job_batch batch = {0};
    mn_route *rt = NULL;
    mn__buf texts = {0};
    mn_job_outcome *outs = mn_calloc(j->cfg.batch, sizeof *outs);
    outcome_ref *refs = mn_calloc(j->cfg.batch, sizeof *refs);
    unsigned wakes = 0;
    if (!outs || !refs || mn_route_new(&rt) != 0) {
        jlog(j, "jobs: worker cannot start: out of memory");
        goto done;
    }
    while (!stopping(j)) {
        mn_err err;
        mn_err_clear(&err);
        int rc = mn_store_claim(j->cfg.store, j->cfg.batch, &batch, &err);
        if (rc) {
            atomic_fetch_add(&j->store_errors, 1);
            jlog(j, "jobs: claim failed: %s", err.msg[0] ? err.msg : mn_strerror(rc));
            if (idle_wait(j, 1000, &wakes))
                break;
            continue;
        }
        if (batch.n == 0) {
            if (idle_wait(j, j->cfg.idle_ms, &wakes))
                break;
            continue;
        }
        mn__buf_reset(&texts);
        for (size_t i = 0; i < batch.n; i++) {
            const mn_job *job = &batch.jobs[i];
            mn_job_outcome *o = &outs[i];
            *o = (mn_job_outcome){.id = job->id};
            const mn_pipeline *p =
                mn_pipelines_find(j->cfg.pipelines, job->pipeline, strlen(job->pipeline));
            size_t start = texts.len;
            if (!p) {
                mn__buf_printf(&texts, "unknown pipeline '%s'", job->pipeline);
            } else if ((rc = mn_pipeline_run(p, j->cfg.runner, rt, job->text, job->len)) != 0) {
                mn__buf_printf(&texts, "pipeline '%s': %s", job->pipeline, mn_strerror(rc));
            } else {
                const char *json;
                size_t len;
                if ((rc = mn_route_json(rt, job->text, job->len, 0, &json, &len)) != 0) {
                    mn__buf_printf(&texts, "result: %s", mn_strerror(rc));
                } else {
                    o->ok = 1;
                    mn__buf_put(&texts, json, len);
                }
            }
            mn_route_reset(rt); /* the models go back now, not when the next job comes */
            refs[i] = (outcome_ref){start, texts.len - start};
            mn__buf_put(&texts, "\0", 1); /* errors are read as C strings */
        }
        if (texts.oom) {
            /* Nothing is saved; the jobs stay running and come back at the next open. */
            jlog(j, "jobs: out of memory building %zu results", batch.n);
            atomic_fetch_add(&j->store_errors, 1);
            mn__buf_free(&texts);
            continue;
        }
        size_t failed = 0;
        for (size_t i = 0; i < batch.n; i++) {
            const char *t = texts.ptr + refs[i].off;
            if (outs[i].ok) {
                outs[i].result = t;
                outs[i].result_len = refs[i].len;
            } else {
                outs[i].error = t;
                failed++;
            }
        }
        /* A refused save (disk full, locked database) is tried again, backing off to 6.4 s,
         * for as long as it takes: the results are in hand, and giving up would leave the
         * jobs marked running until the next restart. Only a stop ends the wait; the jobs
         * are then run again at the next open. */
        for (int attempt = 0;; attempt++) {
            mn_err_clear(&err);
            rc = mn_store_finish(j->cfg.store, outs, batch.n, &err);
            if (rc == 0)
                break;
            atomic_fetch_add(&j->store_errors, 1);
            jlog(j, "jobs: saving %zu results failed (attempt %d): %s", batch.n, attempt + 1,
                 err.msg[0] ? err.msg : mn_strerror(rc));
            if (idle_wait(j, 200u << (attempt < 5 ? attempt : 5), &wakes))
                break;
        }
        if (rc == 0) {
            atomic_fetch_add(&j->batches, 1);
            atomic_fetch_add(&j->done, batch.n - failed);
            atomic_fetch_add(&j->attempts_failed, failed);
            for (size_t i = 0; i < batch.n; i++)
                if (!outs[i].ok)
                    jlog(j, "jobs: job %lld failed (attempt %d): %s",
                         (long long)batch.jobs[i].id, batch.jobs[i].attempts, outs[i].error);
        }
    }
done:
    mn_route_free(rt);
    mn_store_batch_free(&batch);
    mn__buf_free(&texts);
    mn_free(outs);
    mn_free(refs);
    return NULL;
}

int mn_jobs_start(const mn_jobs_config *cfg, mn_jobs **out, mn_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->store || !cfg->pipelines || cfg->threads < 1 || cfg->threads > 256 ||
        cfg->batch < 1 || cfg->batch > 100000)
        return mn_err_set(err, MN_EINVAL, "jobs: need a store, pipelines, 1-256 threads and a "
                                          "batch of 1-100000");
    mn_jobs *j = mn_calloc(1, sizeof *j);
    if (!j)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    j->cfg = *cfg;
    if (j->cfg.idle_ms == 0)
        j->cfg.idle_ms = 500;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->workers = mn_calloc((size_t)cfg->threads, sizeof *j->workers);
    if (!j->workers) {
        mn_jobs_stop(j);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < cfg->threads; i++) {
        j->workers[i].jobs = j;
        if (pthread_create(&j->workers[i].thread, NULL, worker_main, &j->workers[i]) != 0) {
            mn_jobs_stop(j);
            return mn_err_set(err, MN_ENOMEM, "jobs: cannot start a worker thread");
        }
        j->workers[i].started = 1;
        j->nworkers++;
    }
    *out = j;
    return 0;
}

void mn_jobs_wake(mn_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->wakes++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void mn_jobs_get_stats(const mn_jobs *j, mn_jobs_stats *out)
{
    mn_jobs *m = (mn_jobs *)j;
    out->done = atomic_load(&m->done);
    out->attempts_failed = atomic_load(&m->attempts_failed);
    out->batches = atomic_load(&m->batches);
    out->store_errors = atomic_load(&m->store_errors);
}

void mn_jobs_stop(mn_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->nworkers; i++)
        if (j->workers[i].started)
            pthread_join(j->workers[i].thread, NULL);
    mn_free(j->workers);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    mn_free(j);
}
