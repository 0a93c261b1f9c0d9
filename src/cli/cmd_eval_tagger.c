/* SPDX-License-Identifier: MIT
 *
 * `micronlp eval` and `micronlp predict` on a tagger model (cmd_eval.c and cmd_predict.c hand
 * over to these when the model file is a tagger). eval scores a tagged corpus: token accuracy,
 * and for entity models exact-span precision/recall/F1 per type as CoNLL conlleval does.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "micronlp/models.h"

/* The value of --model (or -model, --model=), else the first argument ending in .mnlp. */
static const char *model_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--model") == 0 || strcmp(a, "-model") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(a, "--model=", 8) == 0) return a + 8;
    }
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (argv[i][0] != '-' && n > 5 && strcmp(argv[i] + n - 5, ".mnlp") == 0) return argv[i];
    }
    return NULL;
}

int cli_is_tagger_model(int argc, char **argv)
{
    const char *path = model_arg(argc, argv);
    if (!path) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char h[16];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got < 16 || memcmp(h, "MICRONLP", 8) != 0) return 0;
    uint32_t type =
        (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
    return type == MN_MODEL_TAGGER;
}

typedef struct eval_opts {
    const char *model;
    const char *input;
    int format;
    int simplify;
    int json;
} eval_opts;

static const char *const format_names[] = {"auto", "brown", "conll", NULL};

#define F(field) offsetof(eval_opts, field)
static const opt_spec specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE", "the tagger to measure",
     OPT_REQUIRED},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "tagged test data, same formats as for training", OPT_REQUIRED},
    {"format", NULL, OPT_ENUM, 1, 0, format_names, F(format), NULL,
     "data file format; auto: a TAB or fields without '/' mean conll", 0},
    {"simplify-tags", NULL, OPT_BOOL, 1, 0, NULL, F(simplify), NULL,
     "Brown: strip -tl, -hl, -nc and fw- from the gold tags (as the model was trained)", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL, "print one JSON object", 0},
    {0},
};
#undef F

static const opt_command cmd = {
    .name = "eval",
    .usage = "--model TAGGER --input FILE [options]",
    .about = "Measures a tagger on tagged data: token accuracy and, for entity (BIO) models,\n"
             "exact-span precision/recall/F1 per type with CoNLL conlleval's rules.",
    .specs = specs,
};

static void json_stats(FILE *f, const mn_span_stats *s)
{
    fputs("{\"type\":", f);
    cli_json_str(f, s->type, strlen(s->type));
    fputs(",\"precision\":", f);
    cli_json_num(f, s->precision);
    fputs(",\"recall\":", f);
    cli_json_num(f, s->recall);
    fputs(",\"f1\":", f);
    cli_json_num(f, s->f1);
    fprintf(f, ",\"tp\":%llu,\"fp\":%llu,\"fn\":%llu}", (unsigned long long)s->tp,
            (unsigned long long)s->fp, (unsigned long long)s->fn);
}

int cmd_eval_tagger(int argc, char **argv)
{
    eval_opts o = {0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP) return MN_EXIT_OK;
    if (pr != OPT_OK) return MN_EXIT_USAGE;
    if (npos > 0) return opt_usage_error(&cmd, "unexpected argument '%s'", pos[0]);
    if (cli_check_input("--model", o.model, 0) != 0 || cli_check_input("--input", o.input, 0))
        return MN_EXIT_FAIL;
    int code = MN_EXIT_FAIL, have = 0;
    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    mn_tagged_corpus *c = NULL;
    mn_tag_eval_result r;
    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_tagged_corpus_load(o.input, (mn_tag_format)o.format, o.simplify ? MN_TAGS_SIMPLIFY : 0,
                               &c, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_tagger_eval(m, c, &r, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    have = 1;
    double tps = r.seconds > 0 ? (double)r.tokens / r.seconds : 0.0;
    if (o.json) {
        fprintf(stdout, "{\"sentences\":%zu,\"tokens\":%zu,\"accuracy\":", r.sentences, r.tokens);
        cli_json_num(stdout, r.accuracy);
        fprintf(stdout, ",\"unknown_tags\":%llu,\"seconds\":", (unsigned long long)r.unknown_tags);
        cli_json_num(stdout, r.seconds);
        fputs(",\"tokens_per_sec\":", stdout);
        cli_json_num(stdout, tps);
        if (r.entities) {
            fputs(",\"entities\":", stdout);
            json_stats(stdout, &r.all);
            fputs(",\"types\":[", stdout);
            for (uint32_t i = 0; i < r.ntypes; i++) {
                if (i) fputc(',', stdout);
                json_stats(stdout, &r.per_type[i]);
            }
            fputc(']', stdout);
        }
        fputs("}\n", stdout);
    } else {
        printf("sentences    %zu\n", r.sentences);
        printf("tokens       %zu\n", r.tokens);
        printf("accuracy     %.4f\n", r.accuracy);
        if (r.unknown_tags)
            printf("unknown tags %llu (gold tags the model does not have; counted wrong)\n",
                   (unsigned long long)r.unknown_tags);
        printf("time         %.3f s (%.0f tokens/s)\n", r.seconds, tps);
        if (r.entities) {
            printf("\n%-12s  %9s  %9s  %9s  %7s  %7s\n", "type", "precision", "recall", "F1",
                   "gold", "found");
            for (uint32_t i = 0; i <= r.ntypes; i++) {
                const mn_span_stats *s = i < r.ntypes ? &r.per_type[i] : &r.all;
                printf("%-12.12s  %9.4f  %9.4f  %9.4f  %7llu  %7llu\n",
                       i < r.ntypes ? s->type : "all", s->precision, s->recall, s->f1,
                       (unsigned long long)(s->tp + s->fn), (unsigned long long)(s->tp + s->fp));
            }
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("writing the results failed");
        goto done;
    }
    code = MN_EXIT_OK;
done:
    if (have) mn_tag_eval_result_deinit(&r);
    mn_tagged_corpus_free(c);
    mn_model_release(m);
    return code;
}
