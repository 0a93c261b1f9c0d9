/* SPDX-License-Identifier: MIT
 *
 * HTTP transport over libmicrohttpd (the only file that includes <microhttpd.h>).
 *
 * MHD runs a fixed pool of `threads` event-loop threads (epoll); each thread accepts and
 * serves its own connections, keep-alive included, and calls on_request() for every request.
 * Because prediction takes microseconds it runs right there, on the pool thread, with that
 * thread's worker (scratch + buffers), so there is no hand-off and no lock on the hot path.
 *
 * Per connection (MHD_OPTION_NOTIFY_CONNECTION) we keep one body buffer that is reused by
 * every request on the connection. A request's life:
 *
 *   first call    headers are in: note the time; Content-Length over the limit -> 413 now
 *   upload calls  append to the body buffer; over the limit -> remember, discard the rest;
 *                 past the request deadline -> drop the connection (slow trickling clients)
 *   final call    408/413 if so, else mn__serve_handle() and queue the answer
 *   completed     (MHD_OPTION_NOTIFY_COMPLETED, also when the client vanished) -> in-flight--
 *
 * Idle connections are closed after the request timeout too (MHD_OPTION_CONNECTION_TIMEOUT),
 * the number of connections is capped (MHD_OPTION_CONNECTION_LIMIT), and so is each one's
 * memory for headers (CONN_MEMORY_BYTES).
 */
#include "serve/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "micronlp/alloc.h"

struct mn__http {
    mn_server *s;
    struct MHD_Daemon *d;
    int port;
    int quiesced;
};

enum { ST_IDLE = 0, ST_READING, ST_TOO_BIG, ST_ANSWERED };

/* Memory MHD gives each connection for the request line, headers and reading. MHD zeroes the
 * part it used after every request: with its default of 32 KB that was ~48 KB of memset per
 * request, 3% of the server's CPU time under wrk (perf). Bodies do not need the room (they
 * go to the connection's own buffer), so 8 KB is plenty: request headers up to ~7.5 KB in all
 * are served, longer ones get 431, like nginx's default 8 KB header buffers. */
enum { CONN_MEMORY_BYTES = 8192 };

/* One per TCP connection, reused by each request on it. */
typedef struct conn {
    mn__buf body;
    int state;
    int counted;          /* this request counts in s->inflight */
    uint64_t started_ns;
} conn;


/* A decoded query-string argument of the request on connection c (handlers ask by name). */
static const char *query_arg(const void *c, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)c, MHD_GET_ARGUMENT_KIND, key);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = mn_calloc(1, sizeof(conn));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn *k = *socket_context;
        if (k) {
            mn__buf_free(&k->body);
            mn_free(k);
        }
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    mn_server *s = cls;
    conn *k = *req_cls;
    (void)c;
    if (!k)
        return;
    if (k->counted)
        atomic_fetch_sub(&s->inflight, 1);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && k->state == ST_READING &&
        (s->cfg.log_requests))
        mn__log(s, "warn", "event=abort reason=%s ms=%.3f",
                toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT  ? "client_abort"
                : toe == MHD_REQUEST_TERMINATED_READ_ERROR    ? "read_error"
                                                              : "other",
                (double)(mn__now_ns() - k->started_ns) / 1e6);
    k->counted = 0;
    k->state = ST_IDLE;
    k->body.len = 0;
    *req_cls = NULL;
}

static enum MHD_Result send_response(mn_server *s, struct MHD_Connection *c,
                                     const mn__request *rq, mn__response *rs)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs->body_len, (void *)rs->body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rs->content_type ? rs->content_type : "application/json");
    if (rs->retry_after_s) {
        char v[16];
        snprintf(v, sizeof v, "%u", rs->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (rs->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (rs->infer_header_bytes) {
        char v[24];
        snprintf(v, sizeof v, "%zu", rs->infer_header_bytes);
        MHD_add_response_header(r, "Inference-Header-Content-Length", v);
    }
    if (atomic_load(&s->draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    mn__serve_log_request(s, rq, rs);
    return ret;
}

/* Answers with an error from http's own checks (413, 408) through the shared table. */
static enum MHD_Result send_error(mn_server *s, struct MHD_Connection *c, const char *method,
                                  const char *url, conn *k, int code, const char *msg)
{
    mn__worker *w = mn__worker_get(s);
    if (!w)
        return MHD_NO;
    mn__response rs = {0};
    mn__serve_error(w, &rs, code, msg);
    mn__request rq = {.method = method, .path = url, .started_ns = k->started_ns};
    mn__stats_record(&s->unrouted, rs.status, mn__now_ns() - k->started_ns);
    k->state = ST_ANSWERED;
    return send_response(s, c, &rq, &rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    mn_server *s = cls;
    (void)version;
    conn *k = *req_cls;
    if (!k) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        k = ci ? ci->socket_context : NULL;
        if (!k)
            return MHD_NO; /* no memory for the connection: drop it */
        *req_cls = k;
        k->state = ST_READING;
        k->body.len = 0;
        k->body.oom = 0;
        k->started_ns = mn__now_ns();
        k->counted = 1;
        atomic_fetch_add(&s->inflight, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (n > s->cfg.max_body_bytes) {
                char msg[128];
                snprintf(msg, sizeof msg, "request body of %llu bytes is over the limit of %zu",
                         n, s->cfg.max_body_bytes);
                return send_error(s, c, method, url, k, MN_ETOOBIG, msg);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (mn__now_ns() - k->started_ns > (uint64_t)s->cfg.request_timeout_ms * 1000000u) {
            if (s->cfg.log_requests)
                mn__log(s, "warn", "event=drop reason=slow_body path=%s", url);
            return MHD_NO; /* trickling client: close the connection */
        }
        if (k->state != ST_READING)
            return MHD_YES; /* answered or over the limit: discard */
        if (k->body.len + n > s->cfg.max_body_bytes) {
            k->state = ST_TOO_BIG;
            return MHD_YES;
        }
        mn__buf_put(&k->body, upload_data, n);
        return MHD_YES;
    }
    if (k->state == ST_ANSWERED)
        return MHD_YES;
    if (k->state == ST_TOO_BIG) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body is over the limit of %zu bytes",
                 s->cfg.max_body_bytes);
        return send_error(s, c, method, url, k, MN_ETOOBIG, msg);
    }
    if (k->body.oom)
        return send_error(s, c, method, url, k, MN_ENOMEM, "out of memory");
    if (mn__now_ns() - k->started_ns > (uint64_t)s->cfg.request_timeout_ms * 1000000u)
        return send_error(s, c, method, url, k, MN__ETIMEOUT, "the request took too long to "
                          "arrive");
    mn__worker *w = mn__worker_get(s);
    if (!w)
        return MHD_NO;
    mn__request rq = {
        .method = method,
        .path = url,
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION),
        .infer_header_len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                        "Inference-Header-Content-Length"),
        .body = k->body.ptr ? k->body.ptr : "",
        .body_len = k->body.len,
        .started_ns = k->started_ns,
        .get_arg = query_arg,
        .conn = c,
    };
    mn__response rs = {0};
    mn__serve_handle(s, w, &rq, &rs);
    k->state = ST_ANSWERED;
    return send_response(s, c, &rq, &rs);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, mn_err *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return mn_err_set(err, MN_EINVAL, "--listen %s: expected ADDR:PORT", listen);
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return mn_err_set(err, MN_EINVAL, "--listen %s: address too long", listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == '\0')
        return mn_err_set(err, MN_EINVAL, "--listen %s: bad port", listen);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return mn_err_set(err, MN_EINVAL, "--listen %s: '%s' is not an IPv4 address", listen,
                          host);
    return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"')
            *p = '\'';
    mn__log(cls, "warn", "event=http error=\"%s\"", msg);
}

int mn__http_start(mn_server *s, mn__http **out, mn_err *err)
{
    struct sockaddr_in sa;
    int rc = parse_listen(s->cfg.listen, &sa, err);
    if (rc)
        return rc;
    mn__http *h = mn_calloc(1, sizeof *h);
    if (!h)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    h->s = s;
    unsigned timeout_s = (s->cfg.request_timeout_ms + 999) / 1000;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    errno = 0;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        timeout_s, MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_BYTES,
        MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (!h->d) {
        int e = errno ? errno : EADDRINUSE;
        mn_free(h);
        return mn_err_set(err, MN_ERRNO(e), "%s: cannot listen: %s", s->cfg.listen,
                          strerror(e));
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : ntohs(sa.sin_port);
    *out = h;
    return 0;
}

int mn__http_port(const mn__http *h)
{
    return h->port;
}

void mn__http_quiesce(mn__http *h)
{
    if (!h || h->quiesced)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    h->quiesced = 1;
}

void mn__http_stop(mn__http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    mn_free(h);
}
