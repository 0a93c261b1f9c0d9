/* SPDX-License-Identifier: MIT
 *
 * Counters of the service and their Prometheus text exposition (GET /metrics). Each loaded
 * model version carries an mn__stats (requests by status, a latency histogram, texts
 * predicted), updated with relaxed atomics by whichever worker answered; requests that reach
 * no model (health, bad routes, unknown models) count in the server's "unrouted" stats. Gauges
 * (in flight, waiting in the queue, workers, load time, size) are read when scraped.
 */
#include "serve/internal.h"

#include <stdio.h>

static const int statuses[MN__NSTATUS] = {200, 400, 401, 403, 404, 405, 408,
                                          413, 422, 429, 500, 503, 204, 0 /* other */};

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[MN__NBUCKETS - 1] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                0.0025,  0.005,  0.01,    0.025,  0.05,
                                                0.1,     0.5,    1.0};

int mn__status_index(int status)
{
    for (int i = 0; i < MN__NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return MN__NSTATUS - 1;
}

void mn__stats_record(mn__stats *st, int status, uint64_t elapsed_ns)
{
    atomic_fetch_add_explicit(&st->by_status[mn__status_index(status)], 1, memory_order_relaxed);
    double sec = (double)elapsed_ns / 1e9;
    int b = 0;
    while (b < MN__NBUCKETS - 1 && sec > bounds[b])
        b++;
    atomic_fetch_add_explicit(&st->lat_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->lat_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->lat_sum_ns, elapsed_ns, memory_order_relaxed);
}

static unsigned long long ld(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* labels: `model="spam",version="2"` or empty. */
static void write_stats(mn__buf *b, mn__stats *st, const char *labels)
{
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i < MN__NSTATUS; i++) {
        unsigned long long n = ld(&st->by_status[i]);
        if (n == 0)
            continue;
        if (statuses[i])
            mn__buf_printf(b, "micronlp_requests_total{%s%scode=\"%d\"} %llu\n", labels, sep,
                           statuses[i], n);
        else
            mn__buf_printf(b, "micronlp_requests_total{%s%scode=\"other\"} %llu\n", labels, sep,
                           n);
    }
    unsigned long long cum = 0;
    for (int i = 0; i < MN__NBUCKETS; i++) {
        cum += ld(&st->lat_bucket[i]);
        if (i < MN__NBUCKETS - 1)
            mn__buf_printf(b, "micronlp_request_duration_seconds_bucket{%s%sle=\"%g\"} %llu\n",
                           labels, sep, bounds[i], cum);
        else
            mn__buf_printf(b, "micronlp_request_duration_seconds_bucket{%s%sle=\"+Inf\"} %llu\n",
                           labels, sep, cum);
    }
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    mn__buf_printf(b, "micronlp_request_duration_seconds_sum%s%s%s %.9f\n", open, labels, close,
                   (double)ld(&st->lat_sum_ns) / 1e9);
    mn__buf_printf(b, "micronlp_request_duration_seconds_count%s%s%s %llu\n", open, labels,
                   close, ld(&st->lat_count));
}

void mn__metrics_write(mn_server *s, mn__buf *b)
{
    mn__buf_puts(b, "# HELP micronlp_requests_total Requests answered, by model, version and "
                    "HTTP status.\n# TYPE micronlp_requests_total counter\n"
                    "# HELP micronlp_request_duration_seconds Time from the first byte of a "
                    "request to its answer.\n"
                    "# TYPE micronlp_request_duration_seconds histogram\n");
    write_stats(b, &s->unrouted, "");
    size_t n = atomic_load_explicit(&s->nentries, memory_order_acquire);
    char labels[MN__NAME_MAX + 64];
    for (size_t i = 0; i < n; i++) {
        mn__entry *e = s->entries[i];
        mn__version *v = mn__entry_acquire(e);
        if (!v)
            continue;
        snprintf(labels, sizeof labels, "model=\"%s\",version=\"%s\"", e->name, v->version);
        write_stats(b, &v->stats, labels);
        mn__version_release(v);
    }
    mn__buf_puts(b, "# HELP micronlp_model_texts_total Texts predicted.\n"
                    "# TYPE micronlp_model_texts_total counter\n"
                    "# HELP micronlp_model_in_flight Predictions running now.\n"
                    "# TYPE micronlp_model_in_flight gauge\n"
                    "# HELP micronlp_model_queue_depth Requests waiting for a worker.\n"
                    "# TYPE micronlp_model_queue_depth gauge\n"
                    "# HELP micronlp_model_workers Concurrent predictions allowed.\n"
                    "# TYPE micronlp_model_workers gauge\n"
                    "# HELP micronlp_model_load_seconds Time the loaded version took to open.\n"
                    "# TYPE micronlp_model_load_seconds gauge\n"
                    "# HELP micronlp_model_size_bytes Memory the loaded version occupies.\n"
                    "# TYPE micronlp_model_size_bytes gauge\n");
    for (size_t i = 0; i < n; i++) {
        mn__entry *e = s->entries[i];
        pthread_mutex_lock(&e->mu);
        int busy = e->busy, workers = e->workers;
        unsigned waiting = e->waiting;
        pthread_mutex_unlock(&e->mu);
        mn__version *v = mn__entry_acquire(e);
        if (!v)
            continue;
        snprintf(labels, sizeof labels, "model=\"%s\",version=\"%s\"", e->name, v->version);
        mn__buf_printf(b, "micronlp_model_texts_total{%s} %llu\n", labels, ld(&v->stats.texts));
        mn__buf_printf(b, "micronlp_model_in_flight{%s} %d\n", labels, busy);
        mn__buf_printf(b, "micronlp_model_queue_depth{%s} %u\n", labels, waiting);
        mn__buf_printf(b, "micronlp_model_workers{%s} %d\n", labels, workers);
        mn__buf_printf(b, "micronlp_model_load_seconds{%s} %.6f\n", labels, v->load_seconds);
        mn__buf_printf(b, "micronlp_model_size_bytes{%s} %zu\n", labels, v->size_bytes);
        mn__version_release(v);
    }
    mn__buf_printf(b,
                   "# HELP micronlp_requests_in_flight Requests being received or answered.\n"
                   "# TYPE micronlp_requests_in_flight gauge\nmicronlp_requests_in_flight %d\n"
                   "# HELP micronlp_uptime_seconds Seconds since the server started.\n"
                   "# TYPE micronlp_uptime_seconds gauge\nmicronlp_uptime_seconds %.3f\n",
                   atomic_load(&s->inflight), (double)(mn__now_ns() - s->started_ns) / 1e9);
    int64_t counts[4];
    mn_err err;
    if (s->store && mn_store_counts(s->store, counts, &err) == 0) {
        mn__buf_puts(b, "# HELP micronlp_jobs Jobs in the store, by state.\n"
                        "# TYPE micronlp_jobs gauge\n");
        for (int i = 0; i < 4; i++)
            mn__buf_printf(b, "micronlp_jobs{state=\"%s\"} %lld\n",
                           mn_job_state_name((mn_job_state)i), (long long)counts[i]);
    }
    if (s->jobs) {
        mn_jobs_stats js;
        mn_jobs_get_stats(s->jobs, &js);
        mn__buf_printf(b,
                       "# HELP micronlp_job_results_saved_total Results saved by the job "
                       "workers.\n# TYPE micronlp_job_results_saved_total counter\n"
                       "micronlp_job_results_saved_total %llu\n"
                       "# HELP micronlp_job_attempts_failed_total Job attempts that failed "
                       "(retried or dead-lettered).\n"
                       "# TYPE micronlp_job_attempts_failed_total counter\n"
                       "micronlp_job_attempts_failed_total %llu\n"
                       "# HELP micronlp_job_store_errors_total Claims or saves the store "
                       "refused.\n# TYPE micronlp_job_store_errors_total counter\n"
                       "micronlp_job_store_errors_total %llu\n",
                       (unsigned long long)js.done, (unsigned long long)js.attempts_failed,
                       (unsigned long long)js.store_errors);
    }
}
