/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type keywords`: builds a keywords model (include/micronlp/keywords.h) from
 * a stop-word file, "lang[,alias...]<TAB>word" per line (scripts/data/stopwords.py writes one
 * from the npm package stopwords-iso). Nothing is learned: the lists are normalised, hashed and
 * stored, so this takes well under a second. The stop-word file may be given as --input or as
 * the only argument.
 */
#include "core/clock.h"
#include "cli/cli.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "cli/options.h"
#include "micronlp/keywords.h"
#include "micronlp/models.h"

typedef struct keywords_opts {
    const char *type;
    const char *input;
    const char *output;
    int quiet;
} keywords_opts;

#define F(field) offsetof(keywords_opts, field)
static const opt_spec keywords_specs[] = {
    {"type", NULL, OPT_STRING, 1, 0, NULL, F(type), "TYPE", "keywords (this page)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "stop words: 'lang[,alias...]<TAB>word' lines (or give FILE as the argument)", 0},
    {"output", "o", OPT_STRING, 1, 0, NULL, F(output), "FILE",
     "where to write the model (written atomically)", OPT_REQUIRED},
    {"quiet", NULL, OPT_BOOL, 1, 0, NULL, F(quiet), NULL, "print nothing but errors", 0},
    {0},
};
#undef F

static const opt_command keywords_cmd = {
    .name = "train --type keywords",
    .usage = "[--input] STOPWORDS.tsv --output FILE",
    .about = "Builds a key-phrase extraction model from stop-word lists, one 'lang<TAB>word'\n"
             "per line; 'en,eng<TAB>the' also lets the list be found by the code eng. Comment\n"
             "lines '# key: value' at the top become model metadata (e.g. '# source: ...').\n"
             "Try it with: micronlp predict FILE --lang eng \"some text\".",
    .specs = keywords_specs,
};

int cmd_train_keywords(int argc, char **argv)
{
    keywords_opts o = {0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&keywords_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    if (npos > 1 || (npos == 1 && o.input))
        return opt_usage_error(&keywords_cmd, "unexpected argument '%s' (one stop-word file)",
                               pos[npos - 1]);
    if (npos == 1)
        o.input = pos[0];
    if (!o.input)
        return opt_usage_error(&keywords_cmd, "missing the stop-word file (--input FILE)");
    if (cli_check_input("--input", o.input, 0) != 0 || cli_check_output("--output", o.output) != 0)
        return MN_EXIT_FAIL;

    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    double t0 = mn__now_sec();
    int rc = mn_keywords_build(o.input, &m, &err);
    if (rc != 0)
        return cli_fail(&err, rc, o.input);
    double t1 = mn__now_sec();
    mn_err_clear(&err);
    rc = mn_model_save(m, o.output, &err);
    if (rc != 0) {
        mn_model_release(m);
        return cli_fail(&err, rc, o.output);
    }
    if (!o.quiet) {
        const char *words = mn_model_meta(m, "words"), *aliases = mn_model_meta(m, "aliases");
        fprintf(stderr, "Languages: %u  aliases: %s  stop words: %s (distinct after "
                        "normalisation)\n",
                mn_model_label_count(m), aliases ? aliases : "0", words ? words : "?");
        fprintf(stderr, "Built in %.3f s\n", t1 - t0);
        char hs[32];
        long long size = cli_file_size(o.output);
        fprintf(stderr, "Saved %s (%s)\n", o.output,
                cli_human_size(size >= 0 ? (unsigned long long)size
                                         : (unsigned long long)mn_model_size_bytes(m),
                               hs, sizeof hs));
    }
    mn_model_release(m);
    return MN_EXIT_OK;
}
