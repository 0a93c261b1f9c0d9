/* SPDX-License-Identifier: MIT
 *
 * The model service: one process serves one model or many over HTTP from a model repository.
 *
 *   repo/                         a model repository
 *     spam/                       one model, named by its directory
 *       config                    optional "key = value" lines: default_version, workers,
 *       1/model.mnlp                queue_depth, max_texts, max_text_bytes
 *       2/model.mnlp              versions are directories with a numeric name; the highest is
 *     lang.mnlp                   the default. A file NAME.mnlp (or NAME.bin) directly in the
 *                                 repository is model NAME, version 1 (the shipped models/).
 *
 * APIs (all JSON; errors are {"error": "..."} with the HTTP status from one code table):
 *   native   GET /v1/models, GET /v1/models/{name}, POST /v1/models/{name}:predict
 *   Hugging Face  POST /hf/models/{name}    ({"inputs": str | [str], "parameters": {...}})
 *   Open Inference Protocol v2  /v2, /v2/health/{live,ready}, /v2/models/{name}[/versions/{v}]
 *            [/ready | /infer]; infer takes JSON tensors or the binary tensor data extension
 *            (Inference-Header-Content-Length), which Triton's and KServe's clients use
 *   health   GET /healthz, /readyz;  metrics  GET /metrics (Prometheus text)
 *   admin    POST /v1/admin/... with "Authorization: Bearer <token>"
 *
 * Models are loaded once and shared read-only by every worker thread; each thread keeps its
 * own prediction scratch and response buffer. The repository is polled; a new version is
 * loaded beside the old one and swapped in, so in-flight requests finish on the old model.
 *
 * Thread safety: mn_server_new/start/stop/free are called from one controlling thread.
 */
#ifndef MICRONLP_SERVE_H
#define MICRONLP_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"

typedef struct mn_server mn_server;

/* Configuration, copied by mn_server_new (the caller may free its strings afterwards). */
typedef struct mn_server_config {
    const char *listen;         /* "ADDR:PORT" (IPv4), e.g. "127.0.0.1:8080"; port 0 = any */
    const char *repo_dir;       /* model repository (see above); required */
    const char *const *models;  /* serve only these model names; NULL = every model found */
    size_t nmodels;
    int threads;                /* HTTP worker threads (the bounded pool) */
    size_t max_body_bytes;      /* larger request bodies get 413 */
    size_t max_texts;           /* texts per request; more get 413 */
    size_t max_text_bytes;      /* bytes per text; longer get 413 */
    unsigned request_timeout_ms; /* a request must arrive whole within this (408 / dropped);
                                   also the idle timeout of keep-alive connections */
    unsigned max_connections;   /* open connections at once; more are refused */
    int workers;                /* default per-model concurrent predictions (0 = threads) */
    unsigned queue_depth;       /* per-model requests allowed to wait for a worker; beyond it
                                   the answer is 429 with Retry-After */
    unsigned poll_ms;           /* repository poll period; 0 = never poll */
    const char *admin_token;    /* bearer token for /v1/admin; NULL or "" = admin disabled */
    int log_requests;           /* 1: log every request; 0: at most log_rate lines per second */
    unsigned log_rate;          /* request log lines per second when log_requests is 0 */
    /* Pipelines and jobs: the pipeline file (NULL = repo_dir/pipelines.yaml when it exists;
     * "" = none), the job store URL (NULL = no /v1/jobs; see micronlp/store.h), job worker
     * threads (0 = accept jobs only, for workers in another process), and helper threads that
     * run a text's independent steps in parallel. */
    const char *pipelines_path;
    const char *store_url;
    int job_threads;
    int pipeline_threads;
    /* Where log lines go (one line, no newline). NULL = stderr. Called from any thread. */
    void (*log_fn)(void *ctx, const char *line);
    void *log_ctx;
} mn_server_config;

/* Defaults: listen 127.0.0.1:8080, 2 threads, body 1 MiB, 256 texts, text 100 KiB, request
 * timeout 10 s, 1024 connections, workers = threads, queue depth 64, poll every 2 s, admin
 * disabled, request log at most 10 lines per second. */
void mn_server_config_init(mn_server_config *cfg);

/* Creates a server and loads the repository (no socket is opened yet, so handlers can be
 * exercised in process). Models that fail to load are logged and skipped. Errors: MN_EINVAL
 * (bad config), -ENOENT (no repository), MN_ENOMEM; err says what was wrong. */
int mn_server_new(const mn_server_config *cfg, mn_server **out, mn_err *err);

/* Binds the listen address and starts the HTTP worker pool and the repository poller.
 * Returns 0, or -errno / MN_EINVAL with err filled (e.g. "127.0.0.1:80: address in use"). */
int mn_server_start(mn_server *s, mn_err *err);

/* The bound TCP port (after start), or 0. */
int mn_server_port(const mn_server *s);

/* Graceful stop: stops accepting connections, reports not ready, waits up to drain_ms for
 * requests in progress to finish, then closes every connection and stops the threads.
 * Returns the number of requests still in progress when the deadline passed (0 = clean). */
int mn_server_stop(mn_server *s, unsigned drain_ms);

/* Stops (without draining) if needed and frees everything. NULL is a no-op. */
void mn_server_free(mn_server *s);

#endif
