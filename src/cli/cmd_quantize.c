/* SPDX-License-Identifier: MIT
 *
 * `micronlp quantize`: shrinks a classifier (8-bit weights with one scale per row, optionally
 * keeping only the --cutoff most useful input rows and quantising the output matrix too),
 * saves it, and prints the sizes before and after. With --input it also measures accuracy and
 * macro-F1 of both models on that labelled file, so the cost of the shrink is visible.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli/options.h"
#include "micronlp/models.h"

typedef struct quantize_opts {
    const char *model;
    const char *output;
    const char *input;
    int format;
    size_t cutoff;
    int qout;
    int bits;
    int quiet;
} quantize_opts;

static const char *const format_names[] = {"auto", "fasttext", "tsv", NULL};

#define F(field) offsetof(quantize_opts, field)
static const opt_spec quantize_specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE", "the model to shrink",
     OPT_REQUIRED},
    {"output", NULL, OPT_STRING, 1, 0, NULL, F(output), "FILE", "where to write the small model",
     OPT_REQUIRED},
    {"cutoff", NULL, OPT_SIZE, 0, 1e12, NULL, F(cutoff), "N",
     "keep only the N most useful input rows (0 = keep all)", 0},
    {"qout", NULL, OPT_BOOL, 1, 0, NULL, F(qout), NULL, "quantise the output matrix too", 0},
    {"bits", NULL, OPT_INT, 6, 8, NULL, F(bits), "N",
     "bits per input weight: 8, or 6 for about half as many rows again in the same bytes "
     "(a model file of format version 3)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "labelled data: report accuracy before and after", 0},
    {"format", NULL, OPT_ENUM, 1, 0, format_names, F(format), NULL,
     "format of --input; auto looks for __label__ on the first line", 0},
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "print nothing but errors", 0},
    {0},
};
#undef F

static const opt_command quantize_cmd = {
    .name = "quantize",
    .usage = "--model FILE --output FILE [options]",
    .about = "Shrinks a classifier to 8-bit (or 6-bit) weights, optionally pruned to the\n"
             "--cutoff most useful rows. With --input, measures accuracy before and after.",
    .specs = quantize_specs,
};

/* Accuracy and macro-F1 of m on d; returns 0 or prints the error and returns -1. */
static int measure(const mn_model *m, const mn_dataset *d, const char *path, double *acc,
                   double *f1)
{
    mn_err err;
    mn_err_clear(&err);
    mn_eval_result r;
    memset(&r, 0, sizeof r);
    int rc = mn_model_eval(m, d, 1, 0.0f, &r, &err);
    if (rc != 0) {
        cli_fail(&err, rc, path);
        return -1;
    }
    *acc = r.accuracy;
    *f1 = r.macro_f1;
    mn_eval_result_deinit(&r);
    return 0;
}

int cmd_quantize(int argc, char **argv)
{
    quantize_opts o = {.format = MN_DATA_AUTO, .bits = 8};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&quantize_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 0)
        return opt_usage_error(&quantize_cmd, "unexpected argument '%s'", pos[0]);
    if (o.bits != 8 && o.bits != 6)
        return opt_usage_error(&quantize_cmd, "--bits must be 8 or 6, not %d", o.bits);
    if (strcmp(o.model, o.output) == 0)
        return opt_usage_error(&quantize_cmd,
                               "--output must differ from --model (the model is mapped while "
                               "it is read)");
    if (cli_check_input("--model", o.model, 0) != 0 ||
        (o.input && cli_check_input("--input", o.input, 0) != 0) ||
        cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    int code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL, *q = NULL;
    mn_dataset *d = NULL;
    double acc0 = 0, f10 = 0, acc1 = 0, f11 = 0;

    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    if (o.input) {
        mn_err_clear(&err);
        rc = mn_dataset_load(o.input, (mn_data_format)o.format, m, &d, &err);
        if (rc != 0) {
            cli_fail(&err, rc, o.input);
            goto done;
        }
        if (measure(m, d, o.input, &acc0, &f10) != 0)
            goto done;
    }
    mn_quantize_config qc = {.cutoff = o.cutoff, .qout = o.qout, .bits = o.bits};
    mn_err_clear(&err);
    rc = mn_model_quantize(m, &qc, &q, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_model_save(q, o.output, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.output);
        goto done;
    }
    if (d && measure(q, d, o.input, &acc1, &f11) != 0)
        goto done;

    if (!o.quiet) {
        long long before = cli_file_size(o.model), after = cli_file_size(o.output);
        if (before < 0)
            before = (long long)mn_model_size_bytes(m);
        if (after < 0)
            after = (long long)mn_model_size_bytes(q);
        char hb[32], ha[32];
        printf("size      %s -> %s (%.1f%% of the original)\n",
               cli_human_size((unsigned long long)before, hb, sizeof hb),
               cli_human_size((unsigned long long)after, ha, sizeof ha),
               before > 0 ? 100.0 * (double)after / (double)before : 0.0);
        if (d) {
            printf("accuracy  %.4f -> %.4f\n", acc0, acc1);
            printf("macro-F1  %.4f -> %.4f\n", f10, f11);
        }
        printf("saved     %s\n", o.output);
    }
    code = MN_EXIT_OK;

done:
    mn_dataset_free(d);
    mn_model_release(q);
    mn_model_release(m);
    return code;
}
