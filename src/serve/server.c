/* SPDX-License-Identifier: MIT
 *
 * The server object: configuration (copied), lifecycle (new loads the repository, start opens
 * the socket and the poller, stop drains), the per-thread workers (prediction scratch and
 * reusable buffers, created on a thread's first request and freed when the thread exits) and
 * the log line format "<time> <level> serve key=value ...".
 */
#include "micronlp/serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "serve/internal.h"

void mn_server_config_init(mn_server_config *cfg)
{
    *cfg = (mn_server_config){
        .listen = "127.0.0.1:8080",
        .threads = 2,
        .max_body_bytes = 1u << 20,
        .max_texts = 256,
        .max_text_bytes = 100u << 10,
        .request_timeout_ms = 10000,
        .max_connections = 1024,
        .workers = 0,
        .queue_depth = 64,
        .poll_ms = 2000,
        .log_rate = 10,
        .job_threads = 1,
    };
}

void mn__log(mn_server *s, const char *level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s serve ", ts.tv_nsec / 1000000,
                  level);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (s && s->cfg.log_fn) {
        s->cfg.log_fn(s->cfg.log_ctx, line);
    } else {
        size_t len = strlen(line);
        if (len + 1 < sizeof line) {
            line[len] = '\n';
            line[len + 1] = '\0';
        }
        fputs(line, stderr); /* one call, so concurrent lines do not interleave */
    }
}

int mn__model_allowed(const mn_server *s, const char *name)
{
    if (!s->model_names)
        return 1;
    for (size_t i = 0; i < s->cfg.nmodels; i++)
        if (strcmp(s->model_names[i], name) == 0)
            return 1;
    return 0;
}

/* ---- workers ------------------------------------------------------------------------------ */

int mn__worker_new(mn__worker **out)
{
    mn__worker *w = mn_calloc(1, sizeof *w);
    if (!w)
        return MN_ENOMEM;
    if (mn_scratch_new(&w->scratch) != 0) {
        mn_free(w);
        return MN_ENOMEM;
    }
    *out = w;
    return 0;
}

void mn__worker_free(mn__worker *w)
{
    if (!w)
        return;
    mn_route_free(w->route);
    mn_scratch_free(w->scratch);
    mn__buf_free(&w->out);
    mn__buf_free(&w->tmp);
    mn__arena_free(&w->jarena);
    mn_free(w->preds);
    mn_free(w->counts);
    mn_free(w->tags);
    mn_free(w->ents);
    mn_free(w);
}

static void worker_destroy(void *p)
{
    mn__worker_free(p);
}

mn__worker *mn__worker_get(mn_server *s)
{
    mn__worker *w = pthread_getspecific(s->worker_key);
    if (w)
        return w;
    if (mn__worker_new(&w) != 0)
        return NULL;
    pthread_setspecific(s->worker_key, w);
    return w;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    return s ? mn_strndup(s, strlen(s)) : NULL;
}

int mn_server_new(const mn_server_config *cfg, mn_server **out, mn_err *err)
{
    if (!cfg->repo_dir || !cfg->listen)
        return mn_err_set(err, MN_EINVAL, "a repository directory and a listen address are "
                          "required");
    if (cfg->threads < 1 || cfg->threads > 1024)
        return mn_err_set(err, MN_EINVAL, "threads must be 1..1024");
    struct stat st;
    if (stat(cfg->repo_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return mn_err_set(err, MN_ERRNO(ENOENT), "%s: no such directory", cfg->repo_dir);
    mn_server *s = mn_calloc(1, sizeof *s);
    if (!s)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    pthread_mutex_init(&s->repo_mu, NULL);
    pthread_mutex_init(&s->poll_mu, NULL);
    pthread_cond_init(&s->poll_cv, NULL);
    s->cfg = *cfg;
    s->listen_copy = dup_str(cfg->listen);
    s->repo_copy = dup_str(cfg->repo_dir);
    s->token_copy = cfg->admin_token && cfg->admin_token[0] ? dup_str(cfg->admin_token) : NULL;
    if (!s->listen_copy || !s->repo_copy || (cfg->admin_token && cfg->admin_token[0] &&
                                             !s->token_copy))
        goto oom;
    s->cfg.listen = s->listen_copy;
    s->cfg.repo_dir = s->repo_copy;
    s->cfg.admin_token = s->token_copy;
    if (cfg->models && cfg->nmodels) {
        s->model_names = mn_calloc(cfg->nmodels, sizeof(char *));
        if (!s->model_names)
            goto oom;
        for (size_t i = 0; i < cfg->nmodels; i++)
            if (!(s->model_names[i] = dup_str(cfg->models[i])))
                goto oom;
    }
    s->cfg.models = NULL;
    if (pthread_key_create(&s->worker_key, worker_destroy) != 0)
        goto oom;
    s->have_key = 1;
    s->started_ns = mn__now_ns();
    int serving = mn__repo_scan(s);
    for (size_t i = 0; s->model_names && i < cfg->nmodels; i++)
        if (!mn__repo_find(s, s->model_names[i], strlen(s->model_names[i])))
            mn__log(s, "warn", "event=missing model=%s repo=%s", s->model_names[i],
                    s->cfg.repo_dir);
    mn__log(s, "info", "event=repo repo=%s models=%d", s->cfg.repo_dir, serving);
    int rc = mn__pipelines_init(s, err);
    if (rc != 0) {
        mn_server_free(s);
        return rc;
    }
    *out = s;
    return 0;
oom:
    mn_server_free(s);
    return mn_err_set(err, MN_ENOMEM, "out of memory");
}

static void *poll_main(void *arg)
{
    mn_server *s = arg;
    pthread_mutex_lock(&s->poll_mu);
    while (!s->stopping) {
        struct timespec until = mn__deadline_in_ms(s->cfg.poll_ms);
        pthread_cond_timedwait(&s->poll_cv, &s->poll_mu, &until);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->poll_mu);
        mn__repo_scan(s);
        pthread_mutex_lock(&s->poll_mu);
    }
    pthread_mutex_unlock(&s->poll_mu);
    return NULL;
}

int mn_server_start(mn_server *s, mn_err *err)
{
    int rc = mn__http_start(s, &s->http, err);
    if (rc != 0)
        return rc;
    if ((rc = mn__jobs_start(s, err)) != 0) {
        mn__http_stop(s->http);
        s->http = NULL;
        return rc;
    }
    if (s->cfg.poll_ms > 0) {
        if (pthread_create(&s->poller, NULL, poll_main, s) == 0)
            s->poller_started = 1;
        else
            mn__log(s, "warn", "event=poller error=\"cannot start thread\"");
    }
    s->ready_ns = mn__now_ns();
    mn__log(s, "info", "event=ready listen=%s port=%d threads=%d start_ms=%.2f", s->cfg.listen,
            mn_server_port(s), s->cfg.threads, (double)(s->ready_ns - s->started_ns) / 1e6);
    return 0;
}

int mn_server_port(const mn_server *s)
{
    return s && s->http ? mn__http_port(s->http) : 0;
}

static void stop_poller(mn_server *s)
{
    if (!s->poller_started)
        return;
    pthread_mutex_lock(&s->poll_mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->poll_cv);
    pthread_mutex_unlock(&s->poll_mu);
    pthread_join(s->poller, NULL);
    s->poller_started = 0;
}

int mn_server_stop(mn_server *s, unsigned drain_ms)
{
    if (!s || !s->http)
        return 0;
    atomic_store(&s->draining, 1);
    mn__http_quiesce(s->http);
    stop_poller(s);
    uint64_t deadline = mn__now_ns() + (uint64_t)drain_ms * 1000000u;
    int left;
    while ((left = atomic_load(&s->inflight)) > 0 && mn__now_ns() < deadline)
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    mn__log(s, "info", "event=stop drained=%s in_flight=%d", left ? "no" : "yes", left);
    mn__http_stop(s->http);
    s->http = NULL;
    mn__jobs_stop(s); /* each job worker saves the batch in hand first */
    return left;
}

void mn_server_free(mn_server *s)
{
    if (!s)
        return;
    if (s->http) {
        mn__http_stop(s->http);
        s->http = NULL;
    }
    stop_poller(s);
    mn__pipelines_free(s);
    mn__repo_free(s);
    if (s->have_key) {
        /* The calling thread's worker (if it answered requests itself) goes too. */
        mn__worker_free(pthread_getspecific(s->worker_key));
        pthread_key_delete(s->worker_key);
    }
    pthread_mutex_destroy(&s->repo_mu);
    pthread_mutex_destroy(&s->poll_mu);
    pthread_cond_destroy(&s->poll_cv);
    if (s->model_names)
        for (size_t i = 0; i < s->cfg.nmodels; i++)
            mn_free(s->model_names[i]);
    mn_free(s->model_names);
    mn_free(s->listen_copy);
    mn_free(s->repo_copy);
    mn_free(s->token_copy);
    mn_free(s);
}
