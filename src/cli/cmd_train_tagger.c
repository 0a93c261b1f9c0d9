/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type tagger`: reads a tagged corpus (Brown "word/tag" lines or CoNLL
 * columns; entity schemes become BIO), trains the averaged-perceptron sequence tagger and
 * saves it. Options map onto mn_tagger_config, whose library defaults are the defaults shown
 * by --help. Ctrl-C stops after the current sentence and still saves the model.
 */
#include "core/clock.h"
#include "cli/cli.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/options.h"
#include "micronlp/models.h"

typedef struct tagger_opts {
    mn_tagger_config cfg;
    const char *type;
    const char *input;
    const char *output;
    const char *valid;
    int format; /* mn_tag_format */
    int simplify;
    int keep_scheme;
    int quiet;
} tagger_opts;

static const char *const format_names[] = {"auto", "brown", "conll", NULL};

#define F(field) offsetof(tagger_opts, field)
static const opt_spec tagger_specs[] = {
    {"type", NULL, OPT_STRING, 1, 0, NULL, F(type), "TYPE", "model type: tagger (this page)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "tagged training data: 'word/tag' lines (brown) or 'token<TAB>label' columns (conll)",
     OPT_REQUIRED},
    {"output", NULL, OPT_STRING, 1, 0, NULL, F(output), "FILE",
     "where to write the model (written atomically)", OPT_REQUIRED},
    {"valid", NULL, OPT_STRING, 1, 0, NULL, F(valid), "FILE",
     "validation data: scored after every epoch, the best epoch is kept", 0},
    {"format", NULL, OPT_ENUM, 1, 0, format_names, F(format), NULL,
     "data file format; auto: a TAB or fields without '/' mean conll", 0},
    {"simplify-tags", NULL, OPT_BOOL, 1, 0, NULL, F(simplify), NULL,
     "Brown: strip the -tl, -hl, -nc suffixes and the fw- prefix from tags", 0},
    {"keep-scheme", NULL, OPT_BOOL, 1, 0, NULL, F(keep_scheme), NULL,
     "keep IO/BIOES entity tags as they are (default: convert to BIO)", 0},
    {"epoch", NULL, OPT_INT, 1, 1000, NULL, F(cfg.epoch), "N", "passes over the training data", 0},
    {"seed", NULL, OPT_U64, 0, 4294967295.0, NULL, F(cfg.seed), "N", "random seed (sentence order)",
     0},
    {"bucket", NULL, OPT_U32, 16, 1073741824, NULL, F(cfg.bucket), "N",
     "hashed feature buckets while training (a power of two)", 0},
    {"max-size", NULL, OPT_SIZE, 0, 1e12, NULL, F(cfg.max_size_bytes), "BYTES",
     "prune the smallest weights until the model file fits (0 = keep all)", 0},
    {"tagdict-min-count", NULL, OPT_U32, 0, 1e9, NULL, F(cfg.tagdict_min_count), "N",
     "words seen N times with one tag are tagged by lookup (0 = no tag dictionary)", 0},
    {"tagdict-ratio", NULL, OPT_DOUBLE, 0.5, 1, NULL, F(cfg.tagdict_ratio), "X",
     "... when that tag has at least this share of their occurrences", 0},
    {"task", NULL, OPT_STRING, 1, 0, NULL, F(cfg.task), "NAME",
     "what the model is for (\"pos\", \"ner\"), stored in the model", 0},
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "print nothing but errors", 0},
    {0},
};
#undef F

static const opt_command tagger_cmd = {
    .name = "train --type tagger",
    .usage = "--input FILE --output FILE [options]",
    .about = "Trains a sequence tagger (part of speech, named entities): an averaged perceptron\n"
             "over hashed word, affix, shape and neighbour features and the previous tags,\n"
             "decoded greedily. Deterministic for a seed. Ctrl-C stops early and saves.",
    .specs = tagger_specs,
};

static volatile int cancel_flag;

static void on_sigint(int sig)
{
    (void)sig;
    cancel_flag = 1;
    static const char msg[] = "\nmicronlp: note: interrupted: stopping training (Ctrl-C again to "
                              "abort)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

typedef struct view {
    int draw;
    int drawn;
    double last;
} view;

static void on_progress(const mn_train_progress *p, void *ctx)
{
    view *v = ctx;
    if (!v->draw) return;
    double t = mn__now_sec();
    if (v->drawn && t - v->last < 0.1 && p->progress < 1.0) return;
    v->last = t;
    v->drawn = 1;
    fprintf(stderr, "\rProgress: %5.1f%%  tokens/sec: %8.0f  error rate: %.4f  ETA: %4.0fs ",
            100.0 * p->progress, p->words_per_sec_thread, p->loss, p->eta_sec);
    fflush(stderr);
}

static mn_tagged_corpus *load(const char *path, const tagger_opts *o)
{
    mn_err err;
    mn_err_clear(&err);
    mn_tagged_corpus *c = NULL;
    unsigned flags =
        (o->simplify ? MN_TAGS_SIMPLIFY : 0) | (o->keep_scheme ? MN_TAGS_KEEP_SCHEME : 0);
    int rc = mn_tagged_corpus_load(path, (mn_tag_format)o->format, flags, &c, &err);
    if (rc != 0) {
        cli_fail(&err, rc, path);
        return NULL;
    }
    return c;
}

int cmd_train_tagger(int argc, char **argv)
{
    tagger_opts o = {0};
    mn_tagger_config_init(&o.cfg);
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&tagger_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP) return MN_EXIT_OK;
    if (pr != OPT_OK) return MN_EXIT_USAGE;
    if (npos > 0) return opt_usage_error(&tagger_cmd, "unexpected argument '%s'", pos[0]);
    if (o.cfg.bucket & (o.cfg.bucket - 1))
        return opt_usage_error(&tagger_cmd, "--bucket must be a power of two (got %u)",
                               (unsigned)o.cfg.bucket);
    if (cli_check_input("--input", o.input, 0) != 0 ||
        (o.valid && cli_check_input("--valid", o.valid, 0) != 0) ||
        cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    int code = MN_EXIT_FAIL;
    mn_tagged_corpus *train = NULL, *valid = NULL;
    mn_model *model = NULL;
    view v = {.draw = !o.quiet && isatty(STDERR_FILENO)};
    struct sigaction sa, old_sa;
    int sa_installed = 0;
    mn_err err;

    double t0 = mn__now_sec();
    if (!(train = load(o.input, &o))) goto done;
    if (o.valid) {
        if (!(valid = load(o.valid, &o))) goto done;
        o.cfg.valid = valid;
    }
    double t1 = mn__now_sec();
    if (!o.quiet)
        fprintf(stderr, "Read %zu sentences, %zu tokens, %u tags from %s in %.2f s\n",
                mn_tagged_corpus_sentence_count(train), mn_tagged_corpus_token_count(train),
                mn_tagged_corpus_label_count(train), o.input, t1 - t0);
    o.cfg.on_progress = on_progress;
    o.cfg.progress_ctx = &v;
    cancel_flag = 0;
    o.cfg.cancel = &cancel_flag;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    if (sigaction(SIGINT, &sa, &old_sa) == 0) sa_installed = 1;
    mn_err_clear(&err);
    int rc = mn_tagger_train(&o.cfg, train, &model, &err);
    double t2 = mn__now_sec();
    if (sa_installed) {
        sigaction(SIGINT, &old_sa, NULL);
        sa_installed = 0;
    }
    if (v.drawn) fputc('\n', stderr);
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
        const char *va = mn_model_meta(model, "valid_accuracy");
        const char *ep = mn_model_meta(model, "epoch");
        fprintf(stderr, "Trained in %.2f s (%.0f tokens/s)", t2 - t1,
                (double)mn_tagged_corpus_token_count(train) * o.cfg.epoch /
                    (t2 - t1 > 0 ? t2 - t1 : 1));
        if (va) fprintf(stderr, "  best epoch %s, validation score %s", ep ? ep : "?", va);
        fputc('\n', stderr);
        char hs[32];
        long long size = cli_file_size(o.output);
        fprintf(stderr, "Saved %s (%s, %s weights)\n", o.output,
                cli_human_size(size >= 0 ? (unsigned long long)size : 0, hs, sizeof hs),
                mn_model_meta(model, "weights") ? mn_model_meta(model, "weights") : "?");
    }
    code = MN_EXIT_OK;
done:
    if (sa_installed) sigaction(SIGINT, &old_sa, NULL);
    mn_model_release(model);
    mn_tagged_corpus_free(valid);
    mn_tagged_corpus_free(train);
    return code;
}
