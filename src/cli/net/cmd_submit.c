/* SPDX-License-Identifier: MIT
 *
 * `micronlp submit FILE`: sends the texts of a file to a running server as jobs (POST
 * /v1/jobs), a batch per request, with a progress bar. Formats: JSON lines ({"text": ...,
 * "key": ...}), TSV (KEY<TAB>TEXT, or TEXT alone) or plain text (one text per line).
 *
 * Every job gets an idempotency key (the one given, else FILE-NAME:LINE:HASH-OF-TEXT), so a
 * submission that failed half way can simply be run again: what the server already accepted
 * comes back as duplicates, nothing is stored twice. A batch the server did not accept (it was
 * busy, or the connection dropped) is sent again, a few times, for the same reason.
 */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cli/net/client.h"
#include "cli/options.h"
#include "micronlp/alloc.h"
#include "micronlp/text.h"

typedef struct submit_opts {
    const char *server;
    const char *pipeline;
    int format;
    size_t batch;
    int no_keys;
    int quiet;
    int print_ids;
    size_t max_request_bytes;
} submit_opts;

enum { FMT_AUTO, FMT_JSONL, FMT_TSV, FMT_TEXT };
static const char *const formats[] = {"auto", "jsonl", "tsv", "text", NULL};

#define F(field) offsetof(submit_opts, field)
static const opt_spec submit_specs[] = {
    {"server", NULL, OPT_STRING, 1, 0, NULL, F(server), "URL",
     "the server (default: $MICRONLP_SERVER or http://127.0.0.1:8080)", 0},
    {"pipeline", NULL, OPT_STRING, 1, 0, NULL, F(pipeline), "NAME",
     "pipeline to run (default: the server's default)", 0},
    {"format", NULL, OPT_ENUM, 1, 0, formats, F(format), "F",
     "auto (by extension: .jsonl .ndjson, .tsv, else text), jsonl, tsv or text", 0},
    {"batch", NULL, OPT_SIZE, 1, 10000, NULL, F(batch), "N", "texts per request (at most)", 0},
    {"max-request-bytes", NULL, OPT_SIZE, 4096, 1073741824.0, NULL, F(max_request_bytes), "N",
     "start a new request before one grows over N bytes (the server's --max-body-bytes)", 0},
    {"no-keys", NULL, OPT_BOOL, 1, 0, NULL, F(no_keys), NULL,
     "no automatic idempotency keys (a re-run then submits everything again)", 0},
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "no progress bar or summary", 0},
    {"print-ids", NULL, OPT_BOOL, 1, 0, NULL, F(print_ids), NULL,
     "print LINE<TAB>JOB-ID for every text on standard output", 0},
    {0},
};
#undef F

static const opt_command submit_cmd = {
    .name = "submit",
    .usage = "FILE|- [--server URL] [--pipeline NAME] [--format F] [--batch N]",
    .about = "Submits each text of FILE as a job to a running `micronlp serve`; the server "
             "saves every result in its store (see `micronlp jobs`). Safe to run again after "
             "a failure: texts already accepted are recognised by their key and not stored "
             "twice.",
    .specs = submit_specs,
};

typedef struct pending {
    char *body;    /* the request being built: {"pipeline":..,"texts":[..],"keys":[..]} */
    size_t body_len;
    FILE *texts, *keys; /* memory streams of the two arrays */
    char *tbuf, *kbuf;
    size_t tlen, klen;
    size_t n;
    size_t *lines; /* line number of each text */
} pending;

static int pending_open(pending *p)
{
    p->texts = open_memstream(&p->tbuf, &p->tlen);
    p->keys = open_memstream(&p->kbuf, &p->klen);
    p->n = 0;
    return p->texts && p->keys ? 0 : -1;
}

static void pending_close(pending *p)
{
    if (p->texts)
        fclose(p->texts);
    if (p->keys)
        fclose(p->keys);
    free(p->tbuf);
    free(p->kbuf);
    p->texts = p->keys = NULL;
    p->tbuf = p->kbuf = NULL;
}

static void progress(const submit_opts *o, size_t done, size_t total, double t0, int final)
{
    if (o->quiet || !isatty(2))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double el = (double)ts.tv_sec + ts.tv_nsec / 1e9 - t0;
    double rate = el > 0 ? (double)done / el : 0;
    if (total) {
        int w = 30, fill = (int)((double)w * (double)done / (double)total);
        char bar[31];
        for (int i = 0; i < w; i++)
            bar[i] = i < fill ? '#' : ' ';
        bar[w] = '\0';
        fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu jobs  %.0f/s ", bar,
                100.0 * (double)done / (double)total, done, total, rate);
    } else {
        fprintf(stderr, "\r%zu jobs  %.0f/s ", done, rate);
    }
    if (final)
        fputc('\n', stderr);
}

/* Sends the batch; retries what the server did not accept. Returns 0 or an exit code. */
static int send_batch(cli_client *c, const submit_opts *o, pending *p, const char *name,
                      size_t *dups, size_t *accepted)
{
    fflush(p->texts);
    fflush(p->keys);
    FILE *b = open_memstream(&p->body, &p->body_len);
    if (!b)
        return cli_fail(NULL, MN_ENOMEM, NULL);
    fputs("{", b);
    if (o->pipeline) {
        fputs("\"pipeline\":", b);
        cli_json_str(b, o->pipeline, strlen(o->pipeline));
        fputs(",", b);
    }
    fprintf(b, "\"texts\":[%.*s]", (int)p->tlen, p->tbuf);
    if (!o->no_keys)
        fprintf(b, ",\"keys\":[%.*s]", (int)p->klen, p->kbuf);
    fputs("}", b);
    fclose(b);
    int code = MN_EXIT_FAIL;
    for (int attempt = 0; attempt < 6; attempt++) {
        const char *out;
        size_t out_len;
        long st = cli_http(c, "POST", "/v1/jobs", p->body, p->body_len, 120, &out, &out_len);
        if (st == 202) {
            json_t *r = json_loadb(out, out_len, 0, NULL);
            json_t *jobs = r ? json_object_get(r, "jobs") : NULL;
            if (!json_is_array(jobs) || json_array_size(jobs) != p->n) {
                json_decref(r);
                cli_error("%s: lines %zu-%zu: unexpected answer from the server", name,
                          p->lines[0], p->lines[p->n - 1]);
                break;
            }
            for (size_t i = 0; i < p->n; i++) {
                json_t *job = json_array_get(jobs, i);
                *dups += json_is_true(json_object_get(job, "duplicate"));
                if (o->print_ids)
                    printf("%zu\t%lld\n", p->lines[i],
                           (long long)json_integer_value(json_object_get(job, "id")));
            }
            json_decref(r);
            *accepted += p->n;
            code = MN_EXIT_OK;
            break;
        }
        char msg[512];
        if (st == 429 || st == 503 || (st < 0 && !o->no_keys)) {
            if (st >= 0)
                cli_warn("server busy (%ld): %s; trying again", st,
                         cli_http_error(out, msg, sizeof msg));
            nanosleep(&(struct timespec){.tv_sec = 1 << (attempt < 4 ? attempt : 4)}, NULL);
            continue;
        }
        if (st >= 0)
            cli_error("%s: lines %zu-%zu refused (%ld): %s", name, p->lines[0],
                      p->lines[p->n - 1], st, cli_http_error(out, msg, sizeof msg));
        break;
    }
    free(p->body);
    p->body = NULL;
    return code;
}

int cmd_submit(int argc, char **argv)
{
    submit_opts o = {.batch = 500, .max_request_bytes = 1 << 20};
    char *pos[2];
    int npos = 0;
    int pr = opt_parse(&submit_cmd, &o, argc, argv, pos, 2, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos != 1)
        return opt_usage_error(&submit_cmd, "give one FILE (or - for standard input)");
    const char *path = pos[0];
    if (cli_check_input("FILE", path, 1) != 0)
        return MN_EXIT_FAIL;
    int fmt = o.format;
    if (fmt == FMT_AUTO) {
        const char *dot = strrchr(path, '.');
        fmt = dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson")) ? FMT_JSONL
              : dot && !strcmp(dot, ".tsv")                              ? FMT_TSV
                                                                         : FMT_TEXT;
    }
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return MN_EXIT_FAIL;
    }
    /* Total lines for the progress bar (a regular file only). */
    size_t total = 0;
    if (f != stdin && !o.quiet && isatty(2)) {
        int ch;
        while ((ch = getc(f)) != EOF)
            total += ch == '\n';
        rewind(f);
    }
    cli_client *c = cli_client_new(cli_server_url(o.server));
    if (!c) {
        if (f != stdin)
            fclose(f);
        return MN_EXIT_FAIL;
    }
    pending p = {0};
    p.lines = mn_calloc(o.batch, sizeof *p.lines);
    int code = MN_EXIT_OK;
    if (!p.lines || pending_open(&p) != 0) {
        code = cli_fail(NULL, MN_ENOMEM, NULL);
        goto done;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t0 = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    char *line = NULL;
    size_t cap = 0, lineno = 0, dups = 0, accepted = 0, empty = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        line[n] = '\0';
        size_t bad;
        if (mn_utf8_validate(line, (size_t)n, &bad) != 0) {
            cli_error("%s:%zu: invalid UTF-8 at byte %zu", name, lineno, bad);
            code = MN_EXIT_FAIL;
            break;
        }
        const char *text = line, *key = NULL;
        size_t tlen = (size_t)n, klen = 0;
        json_t *j = NULL;
        if (fmt == FMT_JSONL) {
            if (n == 0) {
                empty++;
                continue;
            }
            json_error_t jerr;
            j = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
            json_t *jt = j ? json_object_get(j, "text") : NULL;
            json_t *jk = j ? json_object_get(j, "key") : NULL;
            if (!j || !json_is_object(j) || !json_is_string(jt) || (jk && !json_is_string(jk) &&
                                                                    !json_is_null(jk))) {
                cli_error("%s:%zu: %s", name, lineno,
                          !j ? jerr.text
                             : "expected an object with \"text\" (a string) and optionally "
                               "\"key\" (a string)");
                json_decref(j);
                code = MN_EXIT_FAIL;
                break;
            }
            text = json_string_value(jt);
            tlen = json_string_length(jt);
            if (json_is_string(jk)) {
                key = json_string_value(jk);
                klen = json_string_length(jk);
            }
        } else if (fmt == FMT_TSV) {
            char *tab = memchr(line, '\t', (size_t)n);
            if (tab) {
                key = line;
                klen = (size_t)(tab - line);
                text = tab + 1;
                tlen = (size_t)n - klen - 1;
            }
        }
        if (tlen == 0) {
            json_decref(j);
            empty++;
            continue;
        }
        /* Keep each request under the server's body limit: send what is pending first when
         * this text would take the body over it (escapes can grow a text to 6x). */
        fflush(p.texts);
        fflush(p.keys);
        if (p.n && p.tlen + p.klen + 2 * tlen + 1024 > o.max_request_bytes) {
            if ((code = send_batch(c, &o, &p, name, &dups, &accepted)) != MN_EXIT_OK) {
                json_decref(j);
                break;
            }
            pending_close(&p);
            if (pending_open(&p) != 0) {
                json_decref(j);
                code = cli_fail(NULL, MN_ENOMEM, NULL);
                break;
            }
            progress(&o, accepted, total, t0, 0);
        }
        if (p.n)
            fputc(',', p.texts), fputc(',', p.keys);
        cli_json_str(p.texts, text, tlen);
        if (key) {
            cli_json_str(p.keys, key, klen);
        } else {
            char auto_key[300];
            int kl = snprintf(auto_key, sizeof auto_key, "%.200s:%zu:%016llx", base, lineno,
                              (unsigned long long)XXH3_64bits(text, tlen));
            cli_json_str(p.keys, auto_key, (size_t)kl);
        }
        json_decref(j);
        p.lines[p.n++] = lineno;
        if (p.n == o.batch) {
            if ((code = send_batch(c, &o, &p, name, &dups, &accepted)) != MN_EXIT_OK)
                break;
            pending_close(&p);
            if (pending_open(&p) != 0) {
                code = cli_fail(NULL, MN_ENOMEM, NULL);
                break;
            }
            progress(&o, accepted, total, t0, 0);
        }
    }
    if (code == MN_EXIT_OK && ferror(f)) {
        cli_error("%s: read error", name);
        code = MN_EXIT_FAIL;
    }
    if (code == MN_EXIT_OK && p.n)
        code = send_batch(c, &o, &p, name, &dups, &accepted);
    progress(&o, accepted, total, t0, 1);
    free(line);
    if (!o.quiet)
        fprintf(stderr, "%s %zu jobs%s%s (%zu already known by their key%s)\n",
                code == MN_EXIT_OK ? "submitted" : "submitted only", accepted,
                o.pipeline ? " to pipeline " : "", o.pipeline ? o.pipeline : "", dups,
                empty ? ", empty lines skipped" : "");
done:
    pending_close(&p);
    mn_free(p.lines);
    cli_client_free(c);
    if (f != stdin)
        fclose(f);
    return code;
}
