/* SPDX-License-Identifier: MIT
 *
 * `micronlp route`: runs a pipeline on texts in this process and prints each combined result
 * (one JSON object per line), or with --explain which steps ran and why the others were
 * skipped. --check only loads and validates the pipeline file. The models come from a model
 * repository (default: the shipped models/), the pipelines from REPO/pipelines.yaml unless
 * --pipelines names another file.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "micronlp/alloc.h"
#include "micronlp/pipeline.h"
#include "micronlp/text.h"

typedef struct route_opts {
    const char *repo;
    const char *pipelines;
    const char *pipeline;
    const char *input;
    int explain;
    int check;
    int threads;
    int no_times;
} route_opts;

#define F(field) offsetof(route_opts, field)
static const opt_spec route_specs[] = {
    {"repo", NULL, OPT_STRING, 1, 0, NULL, F(repo), "DIR",
     "model repository (default: the shipped models/)", 0},
    {"pipelines", NULL, OPT_STRING, 1, 0, NULL, F(pipelines), "FILE",
     "pipeline file (default: REPO/pipelines.yaml)", 0},
    {"pipeline", NULL, OPT_STRING, 1, 0, NULL, F(pipeline), "NAME",
     "which pipeline of the file (default: the one named default)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "one text per line (\"-\" = standard input) instead of TEXT arguments", 0},
    {"explain", NULL, OPT_BOOL, 1, 0, NULL, F(explain), NULL,
     "show which steps ran and why the others were skipped, instead of JSON", 0},
    {"check", NULL, OPT_BOOL, 1, 0, NULL, F(check), NULL,
     "only load and validate the pipeline file", 0},
    {"threads", NULL, OPT_INT, 0, 256, NULL, F(threads), "N",
     "helper threads for independent steps (0 = all on one thread)", 0},
    {"no-times", NULL, OPT_BOOL, 1, 0, NULL, F(no_times), NULL,
     "leave timings out of the JSON (results that compare equal run to run)", 0},
    {0},
};
#undef F

static const opt_command route_cmd = {
    .name = "route",
    .usage = "[--repo DIR] [--pipelines FILE] [--pipeline NAME] [--explain] TEXT... | --input "
             "FILE",
    .about = "Runs a pipeline on each text: the language first, then only the models the "
             "text needs (each step's `when:`), and prints one combined JSON result per text, "
             "or with --explain the steps that ran and why the others were skipped.",
    .specs = route_specs,
};

static int route_one(const mn_pipeline *p, mn_runner *r, mn_route *rt, const route_opts *o,
                     const char *text, size_t len, const char *where)
{
    size_t bad;
    if (mn_utf8_validate(text, len, &bad) != 0) {
        cli_error("%s: invalid UTF-8 at byte %zu", where, bad);
        return MN_EXIT_FAIL;
    }
    int rc = mn_pipeline_run(p, r, rt, text, len);
    const char *out = NULL;
    size_t out_len = 0;
    if (rc == 0)
        rc = o->explain ? mn_route_explain(rt, &out, &out_len)
                        : mn_route_json(rt, text, len, o->no_times ? MN_ROUTE_JSON_NO_TIMES : 0,
                                        &out, &out_len);
    if (rc != 0)
        return cli_fail(NULL, rc, NULL);
    fwrite(out, 1, out_len, stdout);
    if (!o->explain)
        fputc('\n', stdout);
    return MN_EXIT_OK;
}

int cmd_route(int argc, char **argv)
{
    route_opts o = {0};
    char *pos[256];
    int npos = 0;
    int pr = opt_parse(&route_cmd, &o, argc, argv, pos, 256, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (!o.check && npos == 0 && !o.input)
        return opt_usage_error(&route_cmd, "give texts to route, or --input FILE");
    if (npos > 0 && o.input)
        return opt_usage_error(&route_cmd, "give texts or --input, not both");
    char repo_buf[4200], pipes_buf[4300];
    const char *repo = o.repo ? o.repo : cli_default_repo(repo_buf, sizeof repo_buf);
    if (!repo)
        return opt_usage_error(&route_cmd, "no --repo given and no models/ directory found");
    const char *pipes = o.pipelines;
    if (!pipes) {
        snprintf(pipes_buf, sizeof pipes_buf, "%s/pipelines.yaml", repo);
        pipes = pipes_buf;
    }
    if (cli_check_input("--pipelines", pipes, 0) != 0)
        return MN_EXIT_FAIL;
    if (o.input && cli_check_input("--input", o.input, 1) != 0)
        return MN_EXIT_FAIL;

    mn_err err;
    mn_err_clear(&err);
    mn_dir_host *host = NULL;
    mn_pipelines *ps = NULL;
    mn_runner *runner = NULL;
    mn_route *rt = NULL;
    int rc = mn_dir_host_new(repo, &host, &err);
    if (rc == 0)
        rc = mn_pipelines_load(pipes, mn_dir_host_get(host), &ps, &err);
    if (rc != 0) {
        int code = cli_fail(&err, rc, NULL);
        mn_dir_host_free(host);
        return code;
    }
    const mn_pipeline *p = mn_pipelines_find(ps, o.pipeline, o.pipeline ? strlen(o.pipeline) : 0);
    int code = MN_EXIT_OK;
    if (!p) {
        cli_error("--pipeline %s: no such pipeline in %s", o.pipeline, pipes);
        code = MN_EXIT_USAGE;
        goto done;
    }
    if (o.check) {
        for (size_t i = 0; i < mn_pipelines_count(ps); i++) {
            const mn_pipeline *q = mn_pipelines_at(ps, i);
            printf("%s: %zu steps:", mn_pipeline_name(q), mn_pipeline_step_count(q));
            for (size_t j = 0; j < mn_pipeline_step_count(q); j++)
                printf(" %s", mn_pipeline_step_name(q, j));
            printf("\n");
        }
        printf("%s: ok\n", pipes);
        goto flush;
    }
    if ((rc = mn_runner_new(o.threads, &runner)) != 0 || (rc = mn_route_new(&rt)) != 0) {
        code = cli_fail(NULL, rc, NULL);
        goto done;
    }
    if (o.input) {
        FILE *f = strcmp(o.input, "-") == 0 ? stdin : fopen(o.input, "rb");
        if (!f) {
            cli_error("--input %s: %s", o.input, strerror(errno));
            code = MN_EXIT_FAIL;
            goto done;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        size_t lineno = 0;
        while ((n = getline(&line, &cap, f)) >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            char where[4200];
            snprintf(where, sizeof where, "%s:%zu", o.input, lineno);
            if ((code = route_one(p, runner, rt, &o, line, (size_t)n, where)) != MN_EXIT_OK)
                break;
        }
        /* getline returns -1 on a read error as at the end: without this check a failed read
         * would end the input early and still exit 0. */
        int bad = code == MN_EXIT_OK && ferror(f), e = errno;
        free(line);
        if (f != stdin)
            fclose(f);
        if (bad) {
            cli_error("--input %s: read error: %s", o.input, strerror(e));
            code = MN_EXIT_FAIL;
        }
    } else {
        for (int i = 0; i < npos && code == MN_EXIT_OK; i++) {
            char where[32];
            snprintf(where, sizeof where, "text %d", i + 1);
            code = route_one(p, runner, rt, &o, pos[i], strlen(pos[i]), where);
        }
    }
flush:
    if ((fflush(stdout) != 0 || ferror(stdout)) && code == MN_EXIT_OK) {
        cli_error("writing the results: %s", strerror(errno));
        code = MN_EXIT_FAIL;
    }
done:
    mn_route_free(rt);
    mn_runner_free(runner);
    mn_pipelines_free(ps);
    mn_dir_host_free(host);
    return code;
}
