/* SPDX-License-Identifier: MIT
 *
 * `micronlp jobs`: the jobs of a running server. With no argument, counts per state and the
 * first jobs matching the filters as a table; with an ID, that job and its result; with
 * --export jsonl|csv, every matching job, page after page; with --wait, blocks until no job is
 * queued or running (for scripts).
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/net/client.h"
#include "cli/options.h"
#include "micronlp/alloc.h"

typedef struct jobs_opts {
    const char *server;
    const char *state;
    const char *pipeline;
    uint64_t after;
    size_t limit;
    int export_fmt;
    int wait;
    double timeout;
    int text;
} jobs_opts;

enum { EXPORT_NONE, EXPORT_JSONL, EXPORT_CSV };
static const char *const exports[] = {"none", "jsonl", "csv", NULL};

#define F(field) offsetof(jobs_opts, field)
static const opt_spec jobs_specs[] = {
    {"server", NULL, OPT_STRING, 1, 0, NULL, F(server), "URL",
     "the server (default: $MICRONLP_SERVER or http://127.0.0.1:8080)", 0},
    {"state", NULL, OPT_STRING, 1, 0, NULL, F(state), "S",
     "only jobs in state S: queued, running, done or failed", 0},
    {"pipeline", NULL, OPT_STRING, 1, 0, NULL, F(pipeline), "NAME", "only this pipeline's jobs",
     0},
    {"after", NULL, OPT_U64, 0, 9e18, NULL, F(after), "ID", "only jobs after this id (paging)",
     0},
    {"limit", NULL, OPT_SIZE, 1, 100000, NULL, F(limit), "N", "jobs to list", 0},
    {"export", NULL, OPT_ENUM, 1, 0, exports, F(export_fmt), "F",
     "write every matching job to standard output as jsonl or csv", 0},
    {"text", NULL, OPT_BOOL, 1, 0, NULL, F(text), NULL, "include the texts", 0},
    {"wait", NULL, OPT_BOOL, 1, 0, NULL, F(wait), NULL,
     "wait until no job is queued or running", 0},
    {"timeout", NULL, OPT_DOUBLE, 0.1, 86400, NULL, F(timeout), "SEC", "--wait gives up after SEC",
     0},
    {0},
};
#undef F

static const opt_command jobs_cmd = {
    .name = "jobs",
    .usage = "[ID] [--server URL] [--state S] [--pipeline NAME] [--export jsonl|csv] [--wait]",
    .about = "Shows the jobs of a running `micronlp serve` and their saved results: counts and "
             "a table, one job in full (ID), or everything matching as JSON lines or CSV "
             "(--export).",
    .specs = jobs_specs,
};

static int http_ok(long st, const char *out, const char *what)
{
    if (st == 200)
        return 1;
    if (st >= 0) {
        char msg[512];
        cli_error("%s: %ld %s", what, st, cli_http_error(out, msg, sizeof msg));
    }
    return 0;
}

static void add_arg(char *q, size_t cap, const char *key, const char *val)
{
    size_t n = strlen(q);
    /* Values are names and numbers: letters, digits, '-', '_' need no escaping; anything else
     * is refused by the server as unknown anyway. */
    snprintf(q + n, cap - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", key, val);
}

static int summary(cli_client *c, int64_t counts[4])
{
    const char *out;
    size_t len;
    long st = cli_http(c, "GET", "/v1/jobs/summary", NULL, 0, 30, &out, &len);
    if (!http_ok(st, out, "/v1/jobs/summary"))
        return -1;
    json_t *j = json_loadb(out, len, 0, NULL);
    static const char *const names[] = {"queued", "running", "done", "failed"};
    for (int i = 0; i < 4; i++)
        counts[i] = j ? (int64_t)json_integer_value(json_object_get(j, names[i])) : 0;
    json_decref(j);
    return j ? 0 : -1;
}

int cmd_jobs(int argc, char **argv)
{
    jobs_opts o = {.limit = 20, .timeout = 3600};
    char *pos[2];
    int npos = 0;
    int pr = opt_parse(&jobs_cmd, &o, argc, argv, pos, 2, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 1)
        return opt_usage_error(&jobs_cmd, "give at most one job ID");
    if (npos == 1 && (o.export_fmt || o.wait))
        return opt_usage_error(&jobs_cmd, "an ID shows one job: no --export or --wait with it");
    cli_client *c = cli_client_new(cli_server_url(o.server));
    if (!c)
        return MN_EXIT_FAIL;
    int code = MN_EXIT_OK;
    const char *out;
    size_t len;
    char path[1024];
    if (npos == 1) {
        char *end;
        long long id = strtoll(pos[0], &end, 10);
        if (*end || id <= 0) {
            cli_client_free(c);
            return opt_usage_error(&jobs_cmd, "job ID %s: expected a positive number", pos[0]);
        }
        snprintf(path, sizeof path, "/v1/jobs/%lld", id);
        long st = cli_http(c, "GET", path, NULL, 0, 30, &out, &len);
        if (!http_ok(st, out, path)) {
            code = MN_EXIT_FAIL;
        } else {
            json_t *j = json_loadb(out, len, 0, NULL);
            char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
            puts(pretty ? pretty : out);
            free(pretty);
            json_decref(j);
        }
        cli_client_free(c);
        return code;
    }
    if (o.wait) {
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            int64_t n[4];
            if (summary(c, n) != 0) {
                code = MN_EXIT_FAIL;
                break;
            }
            if (n[0] + n[1] == 0) {
                fprintf(stderr, "no job waiting: %lld done, %lld failed\n", (long long)n[2],
                        (long long)n[3]);
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > o.timeout) {
                cli_error("--wait: %lld jobs still queued or running after %g s",
                          (long long)(n[0] + n[1]), o.timeout);
                code = MN_EXIT_FAIL;
                break;
            }
            nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        }
        cli_client_free(c);
        return code;
    }
    char q[512] = "";
    if (o.state)
        add_arg(q, sizeof q, "state", o.state);
    if (o.pipeline)
        add_arg(q, sizeof q, "pipeline", o.pipeline);
    if (o.export_fmt) {
        add_arg(q, sizeof q, "format", exports[o.export_fmt]);
        add_arg(q, sizeof q, "limit", "10000");
        add_arg(q, sizeof q, "text", o.text ? "1" : "0");
        uint64_t after = o.after;
        for (int first = 1;; first = 0) {
            char aq[64];
            snprintf(aq, sizeof aq, "&after=%llu", (unsigned long long)after);
            snprintf(path, sizeof path, "/v1/jobs%s%s", q, aq);
            long st = cli_http(c, "GET", path, NULL, 0, 300, &out, &len);
            if (!http_ok(st, out, "/v1/jobs")) {
                code = MN_EXIT_FAIL;
                break;
            }
            const char *body = out;
            if (o.export_fmt == EXPORT_CSV && !first) {
                const char *nl = strchr(body, '\n'); /* the header once */
                body = nl ? nl + 1 : body + strlen(body);
            }
            fwrite(body, 1, strlen(body), stdout);
            /* The last id of the page: the start of its last line. */
            size_t rows = 0;
            const char *last = NULL;
            for (const char *p = out; *p;) {
                const char *nl = strchr(p, '\n');
                if (!nl)
                    break;
                if (nl > p && !(o.export_fmt == EXPORT_CSV && p == out)) {
                    rows++;
                    last = p;
                }
                p = nl + 1;
            }
            if (rows < 10000 || !last)
                break;
            after = strtoull(o.export_fmt == EXPORT_CSV ? last : strstr(last, "\"id\":") + 5,
                             NULL, 10);
        }
        if (fflush(stdout) != 0)
            code = MN_EXIT_FAIL;
        cli_client_free(c);
        return code;
    }
    int64_t n[4];
    if (summary(c, n) != 0) {
        cli_client_free(c);
        return MN_EXIT_FAIL;
    }
    printf("jobs: %lld queued, %lld running, %lld done, %lld failed\n", (long long)n[0],
           (long long)n[1], (long long)n[2], (long long)n[3]);
    char lim[32], aft[32];
    snprintf(lim, sizeof lim, "%zu", o.limit);
    add_arg(q, sizeof q, "limit", lim);
    if (o.after) {
        snprintf(aft, sizeof aft, "%llu", (unsigned long long)o.after);
        add_arg(q, sizeof q, "after", aft);
    }
    snprintf(path, sizeof path, "/v1/jobs%s", q);
    long st = cli_http(c, "GET", path, NULL, 0, 60, &out, &len);
    if (!http_ok(st, out, "/v1/jobs")) {
        cli_client_free(c);
        return MN_EXIT_FAIL;
    }
    json_t *j = json_loadb(out, len, 0, NULL);
    json_t *jobs = j ? json_object_get(j, "jobs") : NULL;
    if (json_array_size(jobs))
        printf("%-8s %-8s %-12s %-3s %s\n", "ID", "STATE", "PIPELINE", "TRY", "OUTPUT / ERROR");
    for (size_t i = 0; i < json_array_size(jobs); i++) {
        json_t *job = json_array_get(jobs, i);
        json_t *res = json_object_get(job, "result");
        char *what = NULL;
        if (res)
            what = json_dumps(json_object_get(res, "output"), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        const char *err = json_string_value(json_object_get(job, "error"));
        printf("%-8lld %-8s %-12.12s %-3lld %.100s\n",
               (long long)json_integer_value(json_object_get(job, "id")),
               json_string_value(json_object_get(job, "state")),
               json_string_value(json_object_get(job, "pipeline")),
               (long long)json_integer_value(json_object_get(job, "attempts")),
               what ? what : err ? err : "");
        free(what);
    }
    json_t *next = j ? json_object_get(j, "next_after") : NULL;
    if (json_is_integer(next))
        printf("more: micronlp jobs --after %lld\n", (long long)json_integer_value(next));
    json_decref(j);
    cli_client_free(c);
    return code;
}
