/* SPDX-License-Identifier: MIT
 *
 * Pipelines and jobs inside the server: the pipeline file is loaded against the server's own
 * repository (so every step follows hot swaps and respects each model's worker slots), the
 * job store is opened, and job workers run beside the HTTP threads.
 */
#include "serve/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "micronlp/alloc.h"

/* ---- the repository as a model host ------------------------------------------------------- */

static void *host_find(void *ctx, const char *name, mn_model_type *kind)
{
    mn_server *s = ctx;
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    if (!e)
        return NULL;
    mn__version *v = mn__entry_acquire(e);
    if (!v)
        return NULL;
    *kind = mn_model_kind(v->model);
    mn__version_release(v);
    return e;
}

static const char *host_find_error(void *ctx)
{
    (void)ctx;
    return "not in the repository, or it failed to load (see the log)";
}

/* A step takes a worker slot of its model, as a request would, so a model's worker count
 * bounds its concurrency whether texts come from /predict, /v1/analyze or jobs. */
static int host_acquire(void *ctx, void *handle, mn_model **model, const char **version,
                        void **token)
{
    mn_server *s = ctx;
    mn__entry *e = handle;
    if (mn__entry_enter(e, s->cfg.request_timeout_ms) != 0)
        return -EBUSY;
    mn__version *v = mn__entry_acquire(e);
    if (!v) {
        mn__entry_leave(e);
        return MN_ENOTFOUND;
    }
    atomic_fetch_add(&v->stats.texts, 1);
    *model = v->model;
    *version = v->version;
    *token = v;
    return 0;
}

/* The worker slot is given back as soon as the step has its answer ... */
static void host_done(void *ctx, void *token)
{
    (void)ctx;
    mn__entry_leave(((mn__version *)token)->entry);
}

/* ... the model version only when the route lets go of the answer (its labels live there). */
static void host_release(void *ctx, void *token)
{
    (void)ctx;
    mn__version_release(token);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mn__pipelines_init(mn_server *s, mn_err *err)
{
    s->host = (mn_model_host){.ctx = s, .find = host_find, .acquire = host_acquire,
                              .done = host_done, .release = host_release,
                              .find_error = host_find_error};
    char path[4096];
    const char *file = s->cfg.pipelines_path;
    if (!file) {
        snprintf(path, sizeof path, "%s/pipelines.yaml", s->cfg.repo_dir);
        file = file_exists(path) ? path : NULL;
    } else if (!*file) {
        file = NULL;
    }
    int rc;
    if (file) {
        if ((rc = mn_pipelines_load(file, &s->host, &s->pipelines, err)) != 0)
            return rc;
        if (!(s->pipelines_copy = mn_strndup(file, strlen(file))))
            return mn_err_set(err, MN_ENOMEM, "out of memory");
        mn__log(s, "info", "event=pipelines file=%s pipelines=%zu", file,
                mn_pipelines_count(s->pipelines));
    }
    if (s->cfg.pipeline_threads > 0 && (rc = mn_runner_new(s->cfg.pipeline_threads,
                                                           &s->runner)) != 0)
        return mn_err_set(err, rc, "cannot start pipeline threads");
    if (s->cfg.store_url) {
        if (!s->pipelines)
            return mn_err_set(err, MN_EINVAL,
                              "a job store needs pipelines: no pipeline file (%s/pipelines.yaml "
                              "or --pipelines)",
                              s->cfg.repo_dir);
        mn_store_config sc;
        mn_store_config_init(&sc);
        sc.url = s->cfg.store_url;
        size_t requeued = 0;
        if ((rc = mn_store_open(&sc, &s->store, &requeued, err)) != 0)
            return rc;
        if (!(s->store_copy = mn_strndup(s->cfg.store_url, strlen(s->cfg.store_url))))
            return mn_err_set(err, MN_ENOMEM, "out of memory");
        mn__log(s, "info", "event=store url=%s requeued=%zu", s->cfg.store_url, requeued);
    }
    s->cfg.pipelines_path = s->pipelines_copy;
    s->cfg.store_url = s->store_copy;
    return 0;
}

static void jobs_log(void *ctx, const char *line)
{
    mn__log(ctx, "warn", "%s", line);
}

int mn__jobs_start(mn_server *s, mn_err *err)
{
    if (!s->store || s->jobs || s->cfg.job_threads <= 0)
        return 0; /* no store, or a node that only accepts jobs for workers elsewhere */
    mn_jobs_config jc;
    mn_jobs_config_init(&jc);
    jc.store = s->store;
    jc.pipelines = s->pipelines;
    jc.runner = s->runner;
    jc.threads = s->cfg.job_threads;
    jc.log_fn = jobs_log;
    jc.log_ctx = s;
    return mn_jobs_start(&jc, &s->jobs, err);
}

void mn__jobs_stop(mn_server *s)
{
    mn_jobs_stop(s->jobs);
    s->jobs = NULL;
}

void mn__pipelines_free(mn_server *s)
{
    mn__jobs_stop(s);
    mn_store_close(s->store);
    s->store = NULL;
    mn_runner_free(s->runner);
    s->runner = NULL;
    mn_pipelines_free(s->pipelines);
    s->pipelines = NULL;
    mn_free(s->pipelines_copy);
    mn_free(s->store_copy);
    s->pipelines_copy = s->store_copy = NULL;
}
