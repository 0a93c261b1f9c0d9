/* SPDX-License-Identifier: MIT
 *
 * `micronlp eval`: measures a model on a labelled file. Prints the headline numbers (accuracy,
 * P@k, R@k, macro-F1), a per-label table and, for up to 20 labels, the confusion matrix; or,
 * with --json, the same as one JSON object (written by hand here; the CLI links no JSON
 * library). The file's labels must be labels of the model.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli/options.h"
#include "micronlp/models.h"

typedef struct eval_opts {
    const char *model;
    const char *input;
    int format;
    int k;
    double threshold;
    int json;
} eval_opts;

static const char *const format_names[] = {"auto", "fasttext", "tsv", NULL};

#define F(field) offsetof(eval_opts, field)
static const opt_spec eval_specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE", "the model to measure",
     OPT_REQUIRED},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "labelled test data, same formats as for training", OPT_REQUIRED},
    {"format", NULL, OPT_ENUM, 1, 0, format_names, F(format), NULL,
     "data file format; auto looks for __label__ on the first line", 0},
    {"k", NULL, OPT_INT, 1, 1000, NULL, F(k), "N", "labels predicted per text, for P@k and R@k",
     0},
    {"threshold", NULL, OPT_DOUBLE, 0, 1, NULL, F(threshold), "X",
     "ignore predictions less probable than X", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL, "print one JSON object instead of tables",
     0},
    {0},
};
#undef F

static const opt_command eval_cmd = {
    .name = "eval",
    .usage = "--model FILE --input FILE [options]",
    .about = "Measures a model on labelled data: accuracy (top-1 is a gold label), precision\n"
             "and recall at k, macro-F1, per-label precision/recall/F1, confusion matrix.",
    .specs = eval_specs,
};

enum { MAX_CONFUSION_LABELS = 20 };

static uint64_t support(const mn_label_stats *s)
{
    return s->tp + s->fn;
}

static void print_json(const mn_model *m, const mn_eval_result *r)
{
    FILE *f = stdout;
    fprintf(f, "{\"examples\":%zu,\"k\":%d,\"accuracy\":", r->examples, r->k);
    cli_json_num(f, r->accuracy);
    fputs(",\"precision_at_k\":", f);
    cli_json_num(f, r->precision_at_k);
    fputs(",\"recall_at_k\":", f);
    cli_json_num(f, r->recall_at_k);
    fputs(",\"macro_f1\":", f);
    cli_json_num(f, r->macro_f1);
    fputs(",\"seconds\":", f);
    cli_json_num(f, r->seconds);
    fputs(",\"labels\":[", f);
    for (uint32_t i = 0; i < r->nlabels; i++) {
        const mn_label_stats *s = &r->per_label[i];
        const char *name = mn_model_label(m, i);
        fputs(i ? ",{\"label\":" : "{\"label\":", f);
        cli_json_str(f, name, strlen(name));
        fputs(",\"precision\":", f);
        cli_json_num(f, s->precision);
        fputs(",\"recall\":", f);
        cli_json_num(f, s->recall);
        fputs(",\"f1\":", f);
        cli_json_num(f, s->f1);
        fprintf(f, ",\"support\":%llu,\"tp\":%llu,\"fp\":%llu,\"fn\":%llu}",
                (unsigned long long)support(s), (unsigned long long)s->tp,
                (unsigned long long)s->fp, (unsigned long long)s->fn);
    }
    fputs("],\"confusion\":", f);
    if (r->confusion) {
        fputc('[', f);
        for (uint32_t i = 0; i < r->nlabels; i++) {
            fputs(i ? ",[" : "[", f);
            for (uint32_t j = 0; j < r->nlabels; j++)
                fprintf(f, j ? ",%llu" : "%llu",
                        (unsigned long long)r->confusion[(size_t)i * r->nlabels + j]);
            fputc(']', f);
        }
        fputc(']', f);
    } else {
        fputs("null", f);
    }
    fputs("}\n", f);
}

static void print_tables(const mn_model *m, const mn_eval_result *r)
{
    FILE *f = stdout;
    fprintf(f, "examples     %zu\n", r->examples);
    fprintf(f, "accuracy     %.4f\n", r->accuracy);
    fprintf(f, "P@%-3d        %.4f\n", r->k, r->precision_at_k);
    fprintf(f, "R@%-3d        %.4f\n", r->k, r->recall_at_k);
    fprintf(f, "macro-F1     %.4f\n", r->macro_f1);
    fprintf(f, "time         %.3f s\n", r->seconds);

    int w = 5; /* "label" */
    for (uint32_t i = 0; i < r->nlabels; i++) {
        int n = (int)strlen(mn_model_label(m, i));
        if (n > w)
            w = n;
    }
    if (w > 40)
        w = 40;
    fprintf(f, "\n%-*s  %9s  %9s  %9s  %9s\n", w, "label", "precision", "recall", "F1",
            "support");
    for (uint32_t i = 0; i < r->nlabels; i++) {
        const mn_label_stats *s = &r->per_label[i];
        fprintf(f, "%-*.*s  %9.4f  %9.4f  %9.4f  %9llu\n", w, w, mn_model_label(m, i),
                s->precision, s->recall, s->f1, (unsigned long long)support(s));
    }

    if (!r->confusion)
        return;
    if (r->nlabels > MAX_CONFUSION_LABELS) {
        fprintf(f, "\nconfusion matrix omitted (%u labels > %d); --json includes it\n",
                r->nlabels, MAX_CONFUSION_LABELS);
        return;
    }
    /* Columns are as wide as the largest count or the (cut) label name, at least 5. */
    int cw = 5;
    for (size_t i = 0; i < (size_t)r->nlabels * r->nlabels; i++) {
        char num[32];
        int n = snprintf(num, sizeof num, "%llu", (unsigned long long)r->confusion[i]);
        if (n > cw)
            cw = n;
    }
    int lw = w > 12 ? 12 : w;
    if (cw < lw)
        cw = lw;
    fprintf(f, "\nconfusion matrix (rows: gold, columns: predicted)\n%-*s", w, "");
    for (uint32_t j = 0; j < r->nlabels; j++)
        fprintf(f, "  %*.*s", cw, cw, mn_model_label(m, j));
    fputc('\n', f);
    for (uint32_t i = 0; i < r->nlabels; i++) {
        fprintf(f, "%-*.*s", w, w, mn_model_label(m, i));
        for (uint32_t j = 0; j < r->nlabels; j++)
            fprintf(f, "  %*llu", cw,
                    (unsigned long long)r->confusion[(size_t)i * r->nlabels + j]);
        fputc('\n', f);
    }
}

int cmd_eval(int argc, char **argv)
{
    if (cli_is_tagger_model(argc, argv))
        return cmd_eval_tagger(argc, argv);
    eval_opts o = {.format = MN_DATA_AUTO, .k = 1, .threshold = 0.0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&eval_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 0)
        return opt_usage_error(&eval_cmd, "unexpected argument '%s'", pos[0]);
    if (cli_check_input("--model", o.model, 0) != 0 || cli_check_input("--input", o.input, 0))
        return MN_EXIT_FAIL;

    int rc, code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    mn_dataset *d = NULL;
    mn_eval_result r;
    int have_result = 0;
    memset(&r, 0, sizeof r);

    rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_dataset_load(o.input, (mn_data_format)o.format, m, &d, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_model_eval(m, d, o.k, (float)o.threshold, &r, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    have_result = 1;
    if (o.json)
        print_json(m, &r);
    else
        print_tables(m, &r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("writing the results failed");
        goto done;
    }
    code = MN_EXIT_OK;

done:
    if (have_result)
        mn_eval_result_deinit(&r);
    mn_dataset_free(d);
    mn_model_release(m);
    return code;
}
