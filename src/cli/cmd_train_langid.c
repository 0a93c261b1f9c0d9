/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type langid`: trains a language identifier (include/micronlp/langid.h): the
 * classifier options are those of `micronlp train` (same names, same fastText aliases; the
 * defaults are langid's: character 1- to 4-grams, dim 64, 10 epochs), plus the script rules and
 * the und threshold. --valid is the data the und threshold is tuned on; its lines labelled
 * `und`, or with a language absent from --input, are texts that should get `und`.
 */
#include "core/clock.h"
#include "cli/cli.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "cli/options.h"
#include "cli/train_options.h"
#include "micronlp/langid.h"
#include "micronlp/models.h"
#include "micronlp/text.h"

typedef struct langid_opts {
    mn_langid_config cfg;
    const char *type;
    const char *input;
    const char *output;
    const char *valid;
    int format; /* mn_data_format */
    cli_token_opts tok;
    int quiet;
    int verbose;
} langid_opts;


#define CFG(field) F(cfg.clf.field)
#define F(field) offsetof(langid_opts, field)
#define TOK(field) F(tok.field)
static const opt_spec langid_specs[] = {
    {"type", NULL, OPT_STRING, 1, 0, NULL, F(type), "TYPE", "langid (this page)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "training data: '__label__<language> text' lines or 'language<TAB>text'", OPT_REQUIRED},
    {"output", NULL, OPT_STRING, 1, 0, NULL, F(output), "FILE",
     "where to write the model (written atomically)", OPT_REQUIRED},
    {"valid", "autotune-validation", OPT_STRING, 1, 0, NULL, F(valid), "FILE",
     "tunes the und threshold (und/unknown-language lines should get und)", 0},
    {"format", NULL, OPT_ENUM, 1, 0, cli_format_names, F(format), NULL,
     "data file format; auto looks for __label__ on the first line", 0},
    CLI_CLASSIFIER_OPTIONS(CFG),
    CLI_TOKEN_OPTIONS(TOK),
    {"script-min-share", NULL, OPT_DOUBLE, 0, 1, NULL, F(cfg.script_min_share), "X",
     "a script belongs to a language when it holds this share of its training letters", 0},
    {"text-script-share", NULL, OPT_DOUBLE, 0, 1, NULL, F(cfg.text_script_share), "X",
     "scripts with this share of a text's letters must all belong to the answer", 0},
    {"und-threshold", NULL, OPT_DOUBLE, -1, 1, NULL, F(cfg.und_threshold), "X",
     "answer und below this probability (-1 = tune on --valid; 0 without it)", 0},
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "print nothing but errors", 0},
    {"verbose", NULL, OPT_INT, 0, 10, NULL, F(verbose), "N",
     "fastText compatibility: 0 is --quiet", OPT_HIDDEN},
    {0},
};
#undef TOK
#undef F
#undef CFG

static const opt_command langid_cmd = {
    .name = "train --type langid",
    .usage = "--input FILE --output FILE [--valid FILE] [options]",
    .about = "Trains a language identifier: a character n-gram classifier plus Unicode-script\n"
             "rules (the script settles the language or narrows the candidates) and an und\n"
             "answer for texts of no known script or too little confidence.",
    .specs = langid_specs,
};

int cmd_train_langid(int argc, char **argv)
{
    langid_opts o = {.verbose = 2, .format = MN_DATA_AUTO};
    mn_langid_config_init(&o.cfg);

    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&langid_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 0)
        return opt_usage_error(&langid_cmd, "unexpected argument '%s'", pos[0]);
    if (o.cfg.clf.patience > 0 && !o.valid)
        return opt_usage_error(&langid_cmd, "--patience needs --valid FILE");
    if (o.cfg.clf.maxn > 0 && o.cfg.clf.minn > o.cfg.clf.maxn)
        return opt_usage_error(&langid_cmd, "--minn (%d) is larger than --maxn (%d)",
                               o.cfg.clf.minn, o.cfg.clf.maxn);
    if (o.verbose == 0)
        o.quiet = 1;
    cli_token_opts_apply(&o.tok, &o.cfg.clf);

    if (cli_check_input("--input", o.input, 0) != 0 ||
        (o.valid && cli_check_input("--valid", o.valid, 0) != 0) ||
        cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    int rc, code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_dataset *train = NULL, *valid = NULL;
    mn_model *model = NULL;

    double t0 = mn__now_sec();
    rc = mn_dataset_load(o.input, (mn_data_format)o.format, NULL, &train, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    if (o.valid) {
        mn_err_clear(&err);
        rc = mn_dataset_load(o.valid, (mn_data_format)o.format, NULL, &valid, &err);
        if (rc != 0) {
            cli_fail(&err, rc, o.valid);
            goto done;
        }
        if (o.cfg.clf.patience > 0)
            o.cfg.clf.valid = valid;
    }
    double t_loaded = mn__now_sec();
    if (!o.quiet)
        fprintf(stderr, "Read %zu examples in %u languages from %s in %.2f s\n",
                mn_dataset_count(train), mn_dataset_label_count(train), o.input, t_loaded - t0);

    mn_err_clear(&err);
    rc = mn_langid_train(&o.cfg, train, valid, &model, &err);
    double t_trained = mn__now_sec();
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    mn_err_clear(&err);
    rc = mn_model_save(model, o.output, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.output);
        goto done;
    }
    if (!o.quiet) {
        fprintf(stderr, "Languages: %u  und threshold: %.4f%s\n",
                mn_model_label_count(model) - 1, mn_langid_und_threshold(model),
                o.cfg.und_threshold >= 0 ? " (given)" : valid ? " (tuned on --valid)" : "");
        fprintf(stderr, "Trained in %.2f s\n", t_trained - t_loaded);
        char hs[32];
        long long size = cli_file_size(o.output);
        fprintf(stderr, "Saved %s (%s)\n", o.output,
                cli_human_size(size >= 0 ? (unsigned long long)size
                                         : (unsigned long long)mn_model_size_bytes(model),
                               hs, sizeof hs));
    }
    code = MN_EXIT_OK;

done:
    mn_model_release(model);
    mn_dataset_free(valid);
    mn_dataset_free(train);
    return code;
}
