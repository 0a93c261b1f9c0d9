/* SPDX-License-Identifier: MIT
 *
 * `micronlp train`: reads a labelled file, trains a classifier (or searches hyperparameters
 * within a time budget with --autotune-seconds), and saves the model. Options map one to one
 * onto mn_classifier_config, whose library defaults are the defaults shown by --help; the
 * fastText spellings (-input, -epoch, -wordNgrams, -thread ...) are accepted as aliases.
 *
 * On a terminal, a progress line in fastText's look is redrawn on stderr at most ten times a
 * second; otherwise only the closing summary is printed. Ctrl-C during training sets the
 * library's cancel flag, so the model learned so far is still saved (a second Ctrl-C kills).
 */
#include "core/clock.h"
#include "cli/cli.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/train_options.h"
#include "micronlp/models.h"
#include "micronlp/text.h"

_Static_assert(sizeof(mn_loss) == sizeof(int), "OPT_ENUM stores an int into cfg.loss");

typedef struct train_opts {
    mn_classifier_config cfg;
    const char *type;
    const char *input;
    const char *output;
    const char *valid;
    int format;           /* mn_data_format */
    int autotune_seconds; /* 0 = plain training */
    cli_token_opts tok;
    int quiet;
    int verbose; /* fastText's -verbose; 0 means --quiet */
} train_opts;


#define CFG(field) F(cfg.field)
#define F(field) offsetof(train_opts, field)
#define TOK(field) F(tok.field)
static const opt_spec train_specs[] = {
    {"type", NULL, OPT_STRING, 1, 0, NULL, F(type), "TYPE",
     "model type: classifier (this page), tagger, langid or keywords (train --type T --help)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "training data: '__label__x text' lines or 'label<TAB>text'", OPT_REQUIRED},
    {"output", NULL, OPT_STRING, 1, 0, NULL, F(output), "FILE",
     "where to write the model (written atomically)", OPT_REQUIRED},
    {"valid", "autotune-validation", OPT_STRING, 1, 0, NULL, F(valid), "FILE",
     "validation data, for --patience and --autotune-seconds", 0},
    {"format", NULL, OPT_ENUM, 1, 0, cli_format_names, F(format), NULL,
     "data file format; auto looks for __label__ on the first line", 0},
    CLI_CLASSIFIER_OPTIONS(CFG),
    {"autotune-seconds", "autotune-duration", OPT_INT, 0, 604800, NULL, F(autotune_seconds),
     "N", "search hyperparameters for N seconds, scored on --valid (0 = off)", 0},
    CLI_TOKEN_OPTIONS(TOK),
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "print nothing but errors", 0},
    {"verbose", NULL, OPT_INT, 0, 10, NULL, F(verbose), "N",
     "fastText compatibility: 0 is --quiet", OPT_HIDDEN},
    {0},
};
#undef TOK
#undef F
#undef CFG

static const opt_command train_cmd = {
    .name = "train",
    .usage = "--input FILE --output FILE [options]",
    .about = "Trains a text classifier (fastText-style: word and character n-grams, embedding\n"
             "bag, linear output) and saves it. Progress is shown on a terminal; Ctrl-C stops\n"
             "training early and still saves the model learned so far.",
    .specs = train_specs,
};

/* ---- progress line and Ctrl-C ----------------------------------------------------------- */

/* Written only by the signal handler, read by the training threads through cfg.cancel. */
static volatile int cancel_flag;
/* A progress line without its newline is on screen (the handler starts a new line). */
static volatile int line_open;

typedef struct progress_view {
    int draw;             /* stderr is a terminal and not --quiet */
    int drawn;            /* a progress line is on screen (needs a newline before more text) */
    double last_draw_sec; /* monotonic time of the last redraw */
    mn_train_progress last;
    int have_last;
} progress_view;

static void draw(const mn_train_progress *p)
{
    fprintf(stderr, "\rProgress: %5.1f%%  words/sec/thread: %8.0f  lr: %.6f  loss: %.6f  ETA: ",
            100.0 * p->progress, p->words_per_sec_thread, p->lr, p->loss);
    /* The first estimates (before 1% or half a second) swing wildly: show none. */
    if (p->progress >= 1.0 || (p->progress >= 0.01 && p->elapsed_sec >= 0.5)) {
        long eta = p->eta_sec > 0 ? (long)(p->eta_sec + 0.5) : 0;
        fprintf(stderr, "%ldh %ldm %lds   ", eta / 3600, (eta / 60) % 60, eta % 60);
    } else {
        fputs("-           ", stderr);
    }
    fflush(stderr);
}

static void on_progress(const mn_train_progress *p, void *ctx)
{
    progress_view *v = ctx;
    v->last = *p;
    v->have_last = 1;
    if (!v->draw)
        return;
    double t = mn__now_sec();
    if (v->drawn && t - v->last_draw_sec < 0.1 && p->progress < 1.0)
        return;
    v->last_draw_sec = t;
    v->drawn = 1;
    line_open = 1;
    draw(p);
}

static void end_progress(progress_view *v)
{
    if (!v->drawn)
        return;
    if (v->have_last)
        draw(&v->last);
    fputc('\n', stderr);
    v->drawn = 0;
    line_open = 0;
}

static void on_sigint(int sig)
{
    (void)sig;
    cancel_flag = 1;
    static const char msg[] = "\nmicronlp: note: interrupted: stopping training (Ctrl-C again to "
                              "abort)\n";
    size_t skip = line_open ? 0 : 1; /* strlen is not async-signal-safe everywhere */
    ssize_t w = write(STDERR_FILENO, msg + skip, sizeof msg - 1 - skip);
    (void)w;
}

/* The vocabulary size, if the model records it in its metadata. */
static const char *vocab_meta(const mn_model *m)
{
    static const char *const keys[] = {"vocab_size", "vocabulary", "vocab", "nwords", "words"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = mn_model_meta(m, keys[i]);
        if (v)
            return v;
    }
    return NULL;
}

/* The model type named by --type (default classifier); other types have their own files. */
static const char *model_type_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--type=", 7) == 0)
            return argv[i] + 7;
    }
    return "classifier";
}

int cmd_train(int argc, char **argv)
{
    const char *type = model_type_arg(argc, argv);
    if (strcmp(type, "tagger") == 0)
        return cmd_train_tagger(argc, argv);
    if (strcmp(type, "langid") == 0)
        return cmd_train_langid(argc, argv);
    if (strcmp(type, "keywords") == 0)
        return cmd_train_keywords(argc, argv);
    if (strcmp(type, "classifier") != 0) {
        cli_error("--type: unknown model type '%s' (classifier, tagger, langid, keywords)", type);
        return MN_EXIT_USAGE;
    }
    train_opts o = {.verbose = 2};
    mn_classifier_config_init(&o.cfg);
    o.format = MN_DATA_AUTO;

    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&train_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 0)
        return opt_usage_error(&train_cmd, "unexpected argument '%s'", pos[0]);
    if (o.autotune_seconds > 0 && !o.valid)
        return opt_usage_error(&train_cmd, "--autotune-seconds needs --valid FILE (the "
                                           "held-out data candidates are scored on)");
    if (o.cfg.patience > 0 && !o.valid)
        return opt_usage_error(&train_cmd, "--patience needs --valid FILE");
    if (o.cfg.maxn > 0 && o.cfg.minn > o.cfg.maxn)
        return opt_usage_error(&train_cmd, "--minn (%d) is larger than --maxn (%d)", o.cfg.minn,
                               o.cfg.maxn);
    if (o.verbose == 0)
        o.quiet = 1;
    cli_token_opts_apply(&o.tok, &o.cfg);

    if (cli_check_input("--input", o.input, 0) != 0 ||
        (o.valid && cli_check_input("--valid", o.valid, 0) != 0) ||
        cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    int rc, code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_dataset *train = NULL, *valid = NULL;
    mn_model *model = NULL;
    progress_view view = {.draw = !o.quiet && isatty(STDERR_FILENO)};
    struct sigaction old_sa;
    int sa_installed = 0;

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
        o.cfg.valid = valid;
    }
    double t_loaded = mn__now_sec();
    if (!o.quiet)
        fprintf(stderr, "Read %zu examples with %u labels from %s in %.2f s\n",
                mn_dataset_count(train), mn_dataset_label_count(train), o.input, t_loaded - t0);

    o.cfg.on_progress = on_progress;
    o.cfg.progress_ctx = &view;
    cancel_flag = 0;
    o.cfg.cancel = &cancel_flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills as usual */
    if (sigaction(SIGINT, &sa, &old_sa) == 0)
        sa_installed = 1;

    mn_err_clear(&err);
    mn_classifier_config best = o.cfg;
    if (o.autotune_seconds > 0)
        rc = mn_classifier_autotune(&o.cfg, train, valid, (double)o.autotune_seconds, &model,
                                    &best, &err);
    else
        rc = mn_classifier_train(&o.cfg, train, &model, &err);
    double t_trained = mn__now_sec();
    if (sa_installed) {
        sigaction(SIGINT, &old_sa, NULL);
        sa_installed = 0;
    }
    end_progress(&view);
    if (rc != 0) {
        cli_fail(&err, rc, o.input);
        goto done;
    }
    if (cancel_flag && !o.quiet)
        cli_note("training was interrupted at %.1f%%; saving the model learned so far",
                 view.have_last ? 100.0 * view.last.progress : 0.0);

    mn_err_clear(&err);
    rc = mn_model_save(model, o.output, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.output);
        goto done;
    }

    if (!o.quiet) {
        if (o.autotune_seconds > 0)
            fprintf(stderr,
                    "Autotune chose: --dim %d --epoch %d --lr %g --word-ngrams %d --minn %d "
                    "--maxn %d --bucket %u --loss %s\n",
                    best.dim, best.epoch, best.lr, best.word_ngrams, best.minn, best.maxn,
                    (unsigned)best.bucket,
                    (unsigned)best.loss < 3 ? cli_loss_names[best.loss] : "?");
        const char *vocab = vocab_meta(model);
        fprintf(stderr, "Examples: %zu  labels: %u", mn_dataset_count(train),
                mn_model_label_count(model));
        if (vocab)
            fprintf(stderr, "  vocabulary: %s words", vocab);
        fputc('\n', stderr);
        fprintf(stderr, "Trained in %.2f s", t_trained - t_loaded);
        if (view.have_last)
            fprintf(stderr, "  words/sec/thread: %.0f  final loss: %.6f",
                    view.last.words_per_sec_thread, view.last.loss);
        fputc('\n', stderr);
        char hs[32];
        long long size = cli_file_size(o.output);
        fprintf(stderr, "Saved %s (%s)\n", o.output,
                cli_human_size(size >= 0 ? (unsigned long long)size
                                         : (unsigned long long)mn_model_size_bytes(model),
                               hs, sizeof hs));
    }
    code = MN_EXIT_OK;

done:
    if (sa_installed)
        sigaction(SIGINT, &old_sa, NULL);
    mn_model_release(model);
    mn_dataset_free(valid);
    mn_dataset_free(train);
    return code;
}
