/* SPDX-License-Identifier: MIT
 *
 * What the files of src/serve/ share. The server is split so that no file knows more than it
 * must:
 *
 *   http.c      libmicrohttpd: sockets, keep-alive, body accumulation with a size limit,
 *               timeouts, drain. Turns each whole request into an mn__request and sends back
 *               the mn__response. The only file that includes <microhttpd.h>.
 *   handlers.c  routing and the APIs (native, Hugging Face, Open Inference Protocol v2, admin,
 *               health), the one code -> HTTP status table, the request log line. Handlers
 *               take a parsed request and fill a response, so tests call them without sockets.
 *   json.c      the JSON reader (a thin wrapper over cJSON, the only file that includes it)
 *               and the JSON writer into a reusable per-worker buffer.
 *   repo.c      the model repository: scanning, versions, loading, hot swap, per-model worker
 *               slots and queue, the poller thread.
 *   metrics.c   per model and version counters and histograms, Prometheus text.
 *   server.c    mn_server_new/start/stop/free, per-thread workers, logging.
 *
 * Ownership: a served model name is an mn__entry; entries live as long as the server (admin
 * "unload" only empties them), so handlers may keep an entry pointer without a lock. The model
 * an entry serves is an mn__version, reference-counted: a handler takes a reference under the
 * entry's short lock, predicts without any lock, and releases it; a swap exchanges the pointer
 * under the same lock and drops the server's reference, so the old model is freed by whichever
 * request finishes last on it.
 */
#ifndef MN_SERVE_INTERNAL_H
#define MN_SERVE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/clock.h"
#include "micronlp/jobs.h"
#include "micronlp/models.h"
#include "micronlp/pipeline.h"
#include "micronlp/serve.h"
#include "micronlp/store.h"

/* ---- serve's own error codes -------------------------------------------------------------- */

/* Failures only the service has; the library's MN_E* codes are used where they fit. Both kinds
 * map to HTTP statuses through the one table in handlers.c. Values sit clear of MN_E*. */
#define MN__SERVE_ERRNO_MAP(X)                                                                     \
    X(EJSONTYPE, "wrong type in request")      /* 422 */                                           \
    X(EMETHOD, "method not allowed")           /* 405 */                                           \
    X(EAUTH, "unauthorized")                   /* 401 */                                           \
    X(EFORBIDDEN, "forbidden")                 /* 403 */                                           \
    X(EOVERLOAD, "model busy")                 /* 429 */                                           \
    X(ETIMEOUT, "request timeout")             /* 408 */                                           \
    X(EUNAVAIL, "not ready")                   /* 503 */

enum {
    MN__SERVE_ERR_BASE = -11000,
#define MN__SERVE_ENUM(name, msg) MN__##name,
    MN__SERVE_ERRNO_MAP(MN__SERVE_ENUM)
#undef MN__SERVE_ENUM
    MN__SERVE_ERR_END
};

/* ---- byte buffer and JSON writer: core/buf.h ------------------------------------------- */

/* ---- JSON reader (json.c) ------------------------------------------------------------------ */

typedef struct mn__json mn__json; /* a parsed value; children are borrowed from the root */

/* Where a worker's parsed JSON lives: one block reused by every request (jansson's allocations
 * are bump-allocated from it), so parsing allocates nothing once the block has grown to the
 * largest request seen. Allocations that do not fit go to mn_malloc and the block grows before
 * the next parse. */
typedef struct mn__arena {
    char *base;
    size_t cap, used;
    size_t want; /* bytes the last parse needed */
    int live;    /* parsed documents not yet freed */
} mn__arena;
void mn__arena_free(mn__arena *a);

typedef enum mn__jtype {
    MN__J_NULL,
    MN__J_BOOL,
    MN__J_NUMBER,
    MN__J_STRING,
    MN__J_ARRAY,
    MN__J_OBJECT,
} mn__jtype;

/* Parses a whole JSON document. Refuses nesting deeper than max_depth before parsing (no
 * recursion on hostile input), empty bodies, trailing garbage and ill-formed UTF-8. Returns 0,
 * MN_EFORMAT (err: "malformed JSON: <reason> at line L column C"), MN_EUTF8 (err: byte offset;
 * *bad_offset set) or MN_ENOMEM. */
int mn__json_parse(mn__arena *a, const char *s, size_t len, int max_depth, mn__json **out,
                   size_t *bad_offset, mn_err *err);
/* Frees a parsed document (NULL is a no-op); a is the arena it was parsed with (or NULL). */
void mn__json_free(mn__arena *a, mn__json *j);
mn__jtype mn__json_type(const mn__json *j);
/* Member of an object, or NULL (also when j is not an object). */
mn__json *mn__json_get(const mn__json *j, const char *key);
size_t mn__json_len(const mn__json *j); /* array length; 0 for non-arrays */
mn__json *mn__json_at(const mn__json *j, size_t i);
/* String value and its length (may contain NUL), or NULL when j is not a string. */
const char *mn__json_str(const mn__json *j, size_t *len);
double mn__json_num(const mn__json *j);
int mn__json_is_int(const mn__json *j);
int mn__json_bool(const mn__json *j);

/* ---- metrics (metrics.c) ------------------------------------------------------------------- */

enum { MN__NSTATUS = 14, MN__NBUCKETS = 14 };

/* Counters of one model version (or of requests not bound to a model). Lock-free. */
typedef struct mn__stats {
    atomic_ullong by_status[MN__NSTATUS]; /* index from mn__status_index() */
    atomic_ullong lat_bucket[MN__NBUCKETS]; /* non-cumulative; the last is +Inf */
    atomic_ullong lat_count;
    atomic_ullong lat_sum_ns;
    atomic_ullong texts; /* texts predicted */
} mn__stats;

int mn__status_index(int status);
void mn__stats_record(mn__stats *st, int status, uint64_t elapsed_ns);

/* ---- repository (repo.c) ------------------------------------------------------------------- */

struct mn__entry;

/* One loaded model version: immutable after load, shared, reference-counted. */
typedef struct mn__version {
    atomic_int refs;
    mn_model *model;
    struct mn__entry *entry; /* the served name it belongs to (entries outlive versions) */
    long vnum;            /* the version directory's number (1 for a flat NAME.mnlp) */
    char version[24];     /* vnum as text */
    char path[PATH_MAX];  /* the model file */
    double load_seconds;  /* time mn_model_open took */
    size_t size_bytes;
    time_t mtime;         /* the file's, to notice an in-place replacement */
    off_t file_size;
    ino_t ino;
    mn__stats stats;
} mn__version;

mn__version *mn__version_retain(mn__version *v);
void mn__version_release(mn__version *v);

enum { MN__NAME_MAX = 128, MN__MAX_MODELS = 256, MN__REFUSED_MAX = 4 };

typedef struct mn__refused {
    char path[PATH_MAX];
    time_t mtime;
    off_t size;
} mn__refused;

/* One served model name. */
typedef struct mn__entry {
    char name[MN__NAME_MAX];
    pthread_mutex_t mu;   /* guards cur and the worker-slot counters; held for nanoseconds */
    pthread_cond_t cv;    /* a worker slot was freed */
    mn__version *cur;     /* the version answering requests, or NULL (unloaded / none loaded) */
    int workers;          /* concurrent predictions allowed */
    int busy;             /* predictions running */
    unsigned waiting;     /* requests waiting for a slot */
    unsigned queue_depth; /* waiting allowed before 429 */
    size_t max_texts, max_text_bytes; /* per-model limits (0 = the server's) */
    /* Below: only under the server's repo_mu. */
    long pinned;          /* admin/config default version; 0 = the highest */
    long config_default;  /* default_version from the model's config file; 0 = none */
    int unloaded;         /* unloaded by admin: the poller leaves it alone until "load" */
    mn__refused refused[MN__REFUSED_MAX]; /* files that failed to load (logged once) */
    int nrefused;
} mn__entry;

/* Finds a served name (entries are never removed, so the pointer stays valid). Lock-free. */
mn__entry *mn__repo_find(mn_server *s, const char *name, size_t len);
/* Returns the current version with a reference, or NULL. */
mn__version *mn__entry_acquire(mn__entry *e);
/* Takes a worker slot: waits in the bounded queue up to timeout_ms. 0 or MN__EOVERLOAD. */
int mn__entry_enter(mn__entry *e, unsigned timeout_ms);
void mn__entry_leave(mn__entry *e);

/* Scans the whole repository: new models, new versions (hot swap), changed files. Logs what
 * it does. Serialised by repo_mu. Returns the number of models serving afterwards. */
int mn__repo_scan(mn_server *s);
/* Admin operations; err says what was wrong. version 0 = the default choice. load with force
 * re-opens the file even when that version is already serving (admin "reload"). */
int mn__repo_load(mn_server *s, const char *name, long version, int force, mn_err *err);
int mn__repo_unload(mn_server *s, const char *name, mn_err *err);
int mn__repo_set_default(mn_server *s, const char *name, long version, mn_err *err);
int mn__repo_set_workers(mn_server *s, const char *name, int workers, long queue_depth,
                         mn_err *err);
/* Lists the numeric versions present on disk for a model (ascending) into out[0..cap).
 * Returns the count. */
size_t mn__repo_versions(mn_server *s, const char *name, long *out, size_t cap);
void mn__repo_free(mn_server *s);

/* ---- per-thread worker state --------------------------------------------------------------- */

typedef struct mn__worker {
    mn_scratch *scratch;
    mn__buf out;          /* the response body */
    mn__buf tmp;          /* scratch text (UTF-8 repair, messages) */
    mn__arena jarena;     /* parsed request JSON */
    mn_prediction *preds; /* k answers per text, texts one after another */
    size_t preds_cap;
    size_t *counts;       /* answers per text */
    size_t counts_cap;
    mn_tagged *tags;      /* tagger output for one text */
    size_t tags_cap;
    mn_entity *ents;      /* entities of one text */
    size_t ents_cap;
    mn_route *route;      /* pipeline runs (/v1/analyze), created on first use */
} mn__worker;

int mn__worker_new(mn__worker **out);
void mn__worker_free(mn__worker *w);
/* The calling thread's worker, created on first use and freed when the thread exits. */
mn__worker *mn__worker_get(mn_server *s);

/* ---- requests (handlers.c) ----------------------------------------------------------------- */

typedef struct mn__request {
    const char *method;        /* "GET", "POST" ... */
    const char *path;          /* decoded path, without the query string */
    const char *authorization; /* the Authorization header, or NULL */
    const char *body;
    size_t body_len;
    uint64_t started_ns;       /* monotonic time the request began arriving */
    /* The Inference-Header-Content-Length header (v2 binary tensor data: the body is that many
     * bytes of JSON, then raw tensors), or NULL. */
    const char *infer_header_len;
    /* A query-string argument (decoded), or NULL; get_arg may be NULL (no arguments). */
    const char *(*get_arg)(const void *conn, const char *key);
    const void *conn;
} mn__request;

typedef struct mn__response {
    int status;
    const char *body; /* borrowed from the worker's buffer (or static) */
    size_t body_len;
    const char *content_type;
    unsigned retry_after_s; /* > 0: a Retry-After header */
    const char *allow;      /* 405: the Allow header */
    int www_authenticate;   /* 401: a WWW-Authenticate: Bearer header */
    size_t infer_header_bytes; /* > 0: an Inference-Header-Content-Length header (v2 binary
                                  outputs: the body's first infer_header_bytes are JSON) */
    char model[MN__NAME_MAX]; /* for the log line; "" if none */
    char version[24];
    size_t texts;
} mn__response;

/* Routes and answers one whole request. Never fails: errors become error responses. */
void mn__serve_handle(mn_server *s, mn__worker *w, const mn__request *rq, mn__response *rs);
/* Fills rs with {"error": msg} and the status the code maps to (used by http.c for 413/408). */
void mn__serve_error(mn__worker *w, mn__response *rs, int code, const char *msg);
int mn__serve_status(int code);
/* Writes the request log line (subject to the rate limit). */
void mn__serve_log_request(mn_server *s, const mn__request *rq, const mn__response *rs);

/* ---- http (http.c) ------------------------------------------------------------------------- */

typedef struct mn__http mn__http;
int mn__http_start(mn_server *s, mn__http **out, mn_err *err);
int mn__http_port(const mn__http *h);
void mn__http_quiesce(mn__http *h); /* stop accepting new connections */
void mn__http_stop(mn__http *h);    /* close everything, join the threads, free */

/* ---- the server (server.c) ----------------------------------------------------------------- */

struct mn_server {
    mn_server_config cfg;   /* strings point into the copies below */
    char *listen_copy, *repo_copy, *token_copy;
    char **model_names;     /* copies of cfg.models */
    pthread_mutex_t repo_mu; /* serialises scans and admin changes */
    mn__entry *entries[MN__MAX_MODELS];
    atomic_size_t nentries; /* entries[0..n) are published */
    mn__http *http;
    pthread_key_t worker_key;
    int have_key;
    pthread_t poller;
    int poller_started;
    pthread_mutex_t poll_mu;
    pthread_cond_t poll_cv;
    int stopping;           /* under poll_mu */
    atomic_int draining;    /* stop() began: not ready, close connections after the answer */
    atomic_int inflight;    /* requests begun and not completed (all connections) */
    mn__stats unrouted;     /* requests not bound to a loaded model version */
    uint64_t started_ns;
    uint64_t ready_ns;
    atomic_llong log_window; /* second of the current request-log window */
    atomic_uint log_count;
    atomic_uint log_dropped;
    /* pipelines and jobs (pipeline_host.c, api_pipeline.c) */
    char *pipelines_copy, *store_copy;
    mn_model_host host;     /* the pipelines' view of the repository */
    mn_pipelines *pipelines; /* NULL: no pipeline file */
    mn_runner *runner;
    mn_store *store;        /* NULL: no job store */
    mn_jobs *jobs;
};

/* ---- pipelines and jobs -------------------------------------------------------------------- */

/* Loads the pipeline file, opens the job store (server creation). */
int mn__pipelines_init(mn_server *s, mn_err *err);
int mn__jobs_start(mn_server *s, mn_err *err);
void mn__jobs_stop(mn_server *s);
void mn__pipelines_free(mn_server *s);
/* The APIs. Each writes its JSON (or CSV / JSON lines) answer into out and returns 0, or an
 * error code with err's message. *status gets 200 or 202; *content_type the body's type. */
int mn__api_analyze(mn_server *s, mn__worker *w, const mn__json *body, mn__buf *out,
                    mn_err *err);
int mn__api_jobs_submit(mn_server *s, const mn__json *body, mn__buf *out, mn_err *err);
int mn__api_job_get(mn_server *s, const char *id, mn__buf *out, mn_err *err);
int mn__api_jobs_list(mn_server *s, const mn__request *rq, mn__buf *out,
                      const char **content_type, mn_err *err);
int mn__api_pipelines(mn_server *s, mn__buf *out, mn_err *err);

/* One log line: "<RFC3339 time> <level> serve <key=value ...>". */
void mn__log(mn_server *s, const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int mn__model_allowed(const mn_server *s, const char *name);

/* Prometheus text of every counter into b. */
void mn__metrics_write(mn_server *s, mn__buf *b);

#endif
