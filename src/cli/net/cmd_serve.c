/* SPDX-License-Identifier: MIT
 *
 * `micronlp serve`: serves the models of a repository over HTTP (see include/micronlp/serve.h
 * for the layout and the APIs) until SIGTERM or SIGINT, then drains: it stops accepting,
 * lets the requests in progress finish within --drain-seconds, and exits.
 *
 * With no --repo it serves the shipped default models: the models/ directory in the current
 * directory, else the one beside the build directory of this binary (models/NAME.mnlp is model
 * NAME, version 1). The admin token is read from --admin-token-file or the environment variable
 * MICRONLP_ADMIN_TOKEN, never from the command line, where other users could read it in ps.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "micronlp/alloc.h"
#include "micronlp/serve.h"

typedef struct serve_opts {
    const char *repo;
    const char *models;
    const char *listen;
    int threads;
    int workers;
    size_t max_body_bytes;
    size_t max_texts;
    size_t max_text_bytes;
    double request_timeout;
    uint32_t max_connections;
    uint32_t queue_depth;
    double poll_seconds;
    double drain_seconds;
    const char *admin_token_file;
    int log_requests;
    uint32_t log_rate;
    const char *pipelines;
    const char *store;
    int no_store;
    int job_threads;
    int pipeline_threads;
} serve_opts;

#define F(field) offsetof(serve_opts, field)
static const opt_spec serve_specs[] = {
    {"repo", NULL, OPT_STRING, 1, 0, NULL, F(repo), "DIR",
     "model repository: DIR/<model>/<version>/model.mnlp or DIR/<model>.mnlp", 0},
    {"models", NULL, OPT_STRING, 1, 0, NULL, F(models), "A,B",
     "serve only these models of the repository", 0},
    {"listen", NULL, OPT_STRING, 1, 0, NULL, F(listen), "ADDR:PORT", "address to listen on", 0},
    {"threads", NULL, OPT_INT, 1, 1024, NULL, F(threads), "N", "HTTP worker threads", 0},
    {"workers", NULL, OPT_INT, 0, 1024, NULL, F(workers), "N",
     "concurrent predictions per model (0 = --threads)", 0},
    {"queue-depth", NULL, OPT_U32, 0, 1000000, NULL, F(queue_depth), "N",
     "requests that may wait for a model's worker; more get 429", 0},
    {"max-body-bytes", NULL, OPT_SIZE, 64, 1073741824.0, NULL, F(max_body_bytes), "N",
     "largest request body (413 above)", 0},
    {"max-texts", NULL, OPT_SIZE, 1, 1000000, NULL, F(max_texts), "N",
     "texts per request (413 above)", 0},
    {"max-text-bytes", NULL, OPT_SIZE, 1, 1073741824.0, NULL, F(max_text_bytes), "N",
     "bytes per text (413 above)", 0},
    {"request-timeout", NULL, OPT_DOUBLE, 0.1, 3600, NULL, F(request_timeout), "SEC",
     "a request must arrive within SEC; idle connections close after SEC", 0},
    {"max-connections", NULL, OPT_U32, 1, 1000000, NULL, F(max_connections), "N",
     "open connections at once", 0},
    {"poll-seconds", NULL, OPT_DOUBLE, 0, 86400, NULL, F(poll_seconds), "SEC",
     "check the repository for new versions every SEC (0 = never)", 0},
    {"drain-seconds", NULL, OPT_DOUBLE, 0, 3600, NULL, F(drain_seconds), "SEC",
     "on SIGTERM/SIGINT, wait up to SEC for requests in progress", 0},
    {"admin-token-file", NULL, OPT_STRING, 1, 0, NULL, F(admin_token_file), "FILE",
     "enables /v1/admin with the bearer token in FILE (or env MICRONLP_ADMIN_TOKEN)", 0},
    {"log-requests", NULL, OPT_BOOL, 1, 0, NULL, F(log_requests), NULL,
     "log every request (default: at most --log-rate lines per second)", 0},
    {"log-rate", NULL, OPT_U32, 0, 1000000, NULL, F(log_rate), "N",
     "request log lines per second without --log-requests", 0},
    {"pipelines", NULL, OPT_STRING, 1, 0, NULL, F(pipelines), "FILE",
     "pipeline file for /v1/analyze and jobs (default: REPO/pipelines.yaml if present, "
     "unless --models serves only some models)", 0},
    {"store", NULL, OPT_STRING, 1, 0, NULL, F(store), "PATH",
     "job store (SQLite file) for /v1/jobs; default micronlp.db when there are pipelines", 0},
    {"no-store", NULL, OPT_BOOL, 1, 0, NULL, F(no_store), NULL, "no job store: no /v1/jobs", 0},
    {"job-threads", NULL, OPT_INT, 0, 256, NULL, F(job_threads), "N",
     "threads running submitted jobs (0 = only accept them, for workers elsewhere)", 0},
    {"pipeline-threads", NULL, OPT_INT, 0, 256, NULL, F(pipeline_threads), "N",
     "helper threads running a text's independent steps in parallel (0 = none)", 0},
    {0},
};
#undef F

static const opt_command serve_cmd = {
    .name = "serve",
    .usage = "[--repo DIR] [--models A,B] [--listen ADDR:PORT] [--pipelines FILE] [--store "
             "PATH] [options]",
    .about = "Serves models over HTTP: native JSON (/v1/models/NAME:predict), Hugging Face "
             "shapes (/hf/models/NAME), Open Inference Protocol v2 (/v2/...), /metrics, "
             "/healthz, /readyz, and /v1/admin with a bearer token. With a pipeline file: "
             "/v1/analyze (each text through only the models it needs) and /v1/jobs (texts "
             "accepted durably, run by job workers, results saved in the store). New versions "
             "dropped in the repository are swapped in without failing a request. Stops on "
             "SIGTERM, saving the jobs in hand.",
    .specs = serve_specs,
};

/* Reads the token: the first line of path, without surrounding whitespace. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("--admin-token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[1024];
    char *tok = NULL;
    if (fgets(line, sizeof line, f)) {
        char *p = line, *e = line + strlen(line);
        while (*p == ' ' || *p == '\t')
            p++;
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > p)
            tok = mn_strndup(p, (size_t)(e - p));
    }
    fclose(f);
    if (!tok)
        cli_error("--admin-token-file %s: no token in the file", path);
    return tok;
}

int cmd_serve(int argc, char **argv)
{
    mn_server_config cfg;
    mn_server_config_init(&cfg);
    serve_opts o = {
        .listen = cfg.listen,
        .threads = cfg.threads,
        .workers = cfg.workers,
        .max_body_bytes = cfg.max_body_bytes,
        .max_texts = cfg.max_texts,
        .max_text_bytes = cfg.max_text_bytes,
        .request_timeout = cfg.request_timeout_ms / 1000.0,
        .max_connections = cfg.max_connections,
        .queue_depth = cfg.queue_depth,
        .poll_seconds = cfg.poll_ms / 1000.0,
        .drain_seconds = 10,
        .log_rate = cfg.log_rate,
        .job_threads = cfg.job_threads,
        .pipeline_threads = cfg.pipeline_threads,
    };
    int npos = 0;
    int pr = opt_parse(&serve_cmd, &o, argc, argv, NULL, 0, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;

    char repo_buf[4200];
    const char *repo = o.repo ? o.repo : cli_default_repo(repo_buf, sizeof repo_buf);
    if (!repo)
        return opt_usage_error(&serve_cmd, "no --repo given and no models/ directory found");
    if (!cli_is_dir(repo)) {
        cli_error("--repo %s: no such directory", repo);
        return MN_EXIT_FAIL;
    }

    /* --models a,b,c -> an array of names (pointers into one copy). */
    char *names_copy = NULL;
    const char *names[256];
    size_t nnames = 0;
    if (o.models) {
        names_copy = mn_strndup(o.models, strlen(o.models));
        if (!names_copy)
            return cli_fail(NULL, MN_ENOMEM, NULL);
        for (char *save = NULL, *t = strtok_r(names_copy, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (nnames == sizeof names / sizeof names[0]) {
                mn_free(names_copy);
                return opt_usage_error(&serve_cmd, "--models: too many names");
            }
            names[nnames++] = t;
        }
        if (nnames == 0) {
            mn_free(names_copy);
            return opt_usage_error(&serve_cmd, "--models: no model names");
        }
    }

    char *token = NULL;
    if (o.admin_token_file) {
        if (!(token = read_token(o.admin_token_file))) {
            mn_free(names_copy);
            return MN_EXIT_FAIL;
        }
    } else {
        const char *env = getenv("MICRONLP_ADMIN_TOKEN");
        if (env && *env)
            token = mn_strndup(env, strlen(env));
    }

    cfg.listen = o.listen;
    cfg.repo_dir = repo;
    cfg.models = nnames ? names : NULL;
    cfg.nmodels = nnames;
    cfg.threads = o.threads;
    cfg.workers = o.workers;
    cfg.max_body_bytes = o.max_body_bytes;
    cfg.max_texts = o.max_texts;
    cfg.max_text_bytes = o.max_text_bytes;
    cfg.request_timeout_ms = (unsigned)(o.request_timeout * 1000.0);
    cfg.max_connections = o.max_connections;
    cfg.queue_depth = o.queue_depth;
    cfg.poll_ms = (unsigned)(o.poll_seconds * 1000.0);
    cfg.admin_token = token;
    cfg.log_requests = o.log_requests;
    cfg.log_rate = o.log_rate;
    cfg.job_threads = o.job_threads;
    cfg.pipeline_threads = o.pipeline_threads;
    char pipes_buf[4300];
    cfg.pipelines_path = o.pipelines;
    if (!o.pipelines) {
        /* The repository's pipelines name its models; with only some of them served (--models)
         * they would not load, so they are left out unless --pipelines asks for a file. */
        snprintf(pipes_buf, sizeof pipes_buf, "%s/pipelines.yaml", repo);
        cfg.pipelines_path = !o.models && access(pipes_buf, R_OK) == 0 ? pipes_buf : "";
    } else if (cli_check_input("--pipelines", o.pipelines, 0) != 0) {
        mn_free(names_copy);
        mn_free(token);
        return MN_EXIT_FAIL;
    }
    if (o.store && o.no_store)
        return opt_usage_error(&serve_cmd, "--store and --no-store contradict each other");
    cfg.store_url = o.no_store ? NULL : o.store ? o.store : *cfg.pipelines_path ? "micronlp.db"
                                                                                : NULL;

    /* SIGTERM/SIGINT are taken by sigwait below; the server's threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    mn_err err;
    mn_err_clear(&err);
    mn_server *s = NULL;
    int rc = mn_server_new(&cfg, &s, &err);
    if (token) {
        memset(token, 0, strlen(token));
        mn_free(token);
    }
    mn_free(names_copy);
    if (rc != 0)
        return cli_fail(&err, rc, NULL);
    if ((rc = mn_server_start(s, &err)) != 0) {
        mn_server_free(s);
        return cli_fail(&err, rc, NULL);
    }
    int sig = 0;
    sigwait(&set, &sig);
    int left = mn_server_stop(s, (unsigned)(o.drain_seconds * 1000.0));
    mn_server_free(s);
    return left == 0 ? MN_EXIT_OK : MN_EXIT_FAIL;
}
