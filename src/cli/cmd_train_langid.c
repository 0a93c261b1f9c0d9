/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type langid`: trains a language identifier (include/micronlp/langid.h): the
 * classifier options are those of `micronlp train` (same names, same fastText aliases; the
 * defaults are langid's: character 1- to 4-grams, dim 64, 10 epochs), plus the script rules and
 * the und threshold. --valid is the data the und threshold is tuned on; its lines labelled
 * `und`, or with a language absent from --input, are texts that should get `und`.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "cli/options.h"
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
    int no_normalize;
    int keep_punct;
    int tokenizer; /* 0 unicode, 1 whitespace */
    int quiet;
    int verbose;
} langid_opts;

static const char *const loss_names[] = {"softmax", "ova", "hs", NULL};
static const char *const format_names[] = {"auto", "fasttext", "tsv", NULL};
static const char *const tokenizer_names[] = {"unicode", "whitespace", NULL};

#define F(field) offsetof(langid_opts, field)
static const opt_spec langid_specs[] = {
    {"type", NULL, OPT_STRING, 1, 0, NULL, F(type), "TYPE", "langid (this page)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "training data: '__label__<language> text' lines or 'language<TAB>text'", OPT_REQUIRED},
    {"output", NULL, OPT_STRING, 1, 0, NULL, F(output), "FILE",
     "where to write the model (written atomically)", OPT_REQUIRED},
    {"valid", "autotune-validation", OPT_STRING, 1, 0, NULL, F(valid), "FILE",
     "tunes the und threshold (und/unknown-language lines should get und)", 0},
    {"format", NULL, OPT_ENUM, 1, 0, format_names, F(format), NULL,
     "data file format; auto looks for __label__ on the first line", 0},
    {"epoch", NULL, OPT_INT, 1, 10000, NULL, F(cfg.clf.epoch), "N",
     "passes over the training data", 0},
    {"lr", NULL, OPT_DOUBLE, 0, 10, NULL, F(cfg.clf.lr), "X", "learning rate at the start", 0},
    {"dim", NULL, OPT_INT, 1, 4096, NULL, F(cfg.clf.dim), "N", "size of the vectors", 0},
    {"word-ngrams", "wordNgrams", OPT_INT, 1, 10, NULL, F(cfg.clf.word_ngrams), "N",
     "longest word n-gram used as a feature (1 = single words)", 0},
    {"minn", NULL, OPT_INT, 0, 20, NULL, F(cfg.clf.minn), "N",
     "shortest character n-gram, in code points", 0},
    {"maxn", NULL, OPT_INT, 0, 20, NULL, F(cfg.clf.maxn), "N",
     "longest character n-gram (0 = no character n-grams)", 0},
    {"bucket", NULL, OPT_U32, 0, 100000000, NULL, F(cfg.clf.bucket), "N",
     "hash buckets shared by word and character n-grams", 0},
    {"min-count", "minCount", OPT_INT, 1, 1000000000, NULL, F(cfg.clf.min_count), "N",
     "words seen fewer times are left out of the vocabulary", 0},
    {"loss", NULL, OPT_ENUM, 1, 0, loss_names, F(cfg.clf.loss), NULL,
     "softmax: one label per text; ova: several; hs: very many labels", 0},
    {"threads", "thread", OPT_INT, 1, 1024, NULL, F(cfg.clf.threads), "N",
     "training threads (1 = bit-for-bit reproducible for a seed)", 0},
    {"seed", NULL, OPT_U64, 0, 4294967295.0, NULL, F(cfg.clf.seed), "N", "random seed", 0},
    {"lr-update-rate", "lrUpdateRate", OPT_INT, 1, 1000000, NULL, F(cfg.clf.lr_update_rate),
     "N", "tokens between learning-rate updates", 0},
    {"task", NULL, OPT_STRING, 1, 0, NULL, F(cfg.clf.task), "NAME",
     "what the model is for, stored in the model", 0},
    {"patience", NULL, OPT_INT, 0, 1000, NULL, F(cfg.clf.patience), "N",
     "stop after N epochs without gain on --valid (0 = never stop early)", 0},
    {"no-normalize", NULL, OPT_BOOL, 1, 0, NULL, F(no_normalize), NULL,
     "use tokens as they are (no NFKC, no case folding)", 0},
    {"keep-punct", NULL, OPT_BOOL, 1, 0, NULL, F(keep_punct), NULL,
     "make punctuation and symbol tokens features too (left out by default)", 0},
    {"tokenizer", NULL, OPT_ENUM, 1, 0, tokenizer_names, F(tokenizer), NULL,
     "unicode: words, URLs, e-mails, emoji, CJK; whitespace: split on spaces as fastText", 0},
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
#undef F

static const opt_command langid_cmd = {
    .name = "train --type langid",
    .usage = "--input FILE --output FILE [--valid FILE] [options]",
    .about = "Trains a language identifier: a character n-gram classifier plus Unicode-script\n"
             "rules (the script settles the language or narrows the candidates) and an und\n"
             "answer for texts of no known script or too little confidence.",
    .specs = langid_specs,
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
    if (o.no_normalize)
        o.cfg.clf.norm_flags = 0;
    if (o.keep_punct)
        o.cfg.clf.token_flags |= MN_TOKENS_KEEP_PUNCT;
    if (o.tokenizer == 1)
        o.cfg.clf.token_flags |= MN_TOKENS_WHITESPACE;

    if (cli_check_input("--input", o.input, 0) != 0 ||
        (o.valid && cli_check_input("--valid", o.valid, 0) != 0) ||
        cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    int rc, code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_dataset *train = NULL, *valid = NULL;
    mn_model *model = NULL;

    double t0 = now_sec();
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
    double t_loaded = now_sec();
    if (!o.quiet)
        fprintf(stderr, "Read %zu examples in %u languages from %s in %.2f s\n",
                mn_dataset_count(train), mn_dataset_label_count(train), o.input, t_loaded - t0);

    mn_err_clear(&err);
    rc = mn_langid_train(&o.cfg, train, valid, &model, &err);
    double t_trained = now_sec();
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
