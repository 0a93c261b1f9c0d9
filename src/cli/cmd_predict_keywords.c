/* SPDX-License-Identifier: MIT
 *
 * `micronlp predict` on a keywords model: extracts the key phrases of texts given as
 * arguments, or of each line of --input FILE or standard input, and prints one phrase per line
 * ("phrase<TAB>score", a blank line after each text) or, with --json, one object per text with
 * byte offsets. As the other predict commands it streams: one scratch and reused buffers, so
 * after warm-up a text costs no allocation.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "micronlp/keywords.h"
#include "micronlp/models.h"
#include "micronlp/text.h"

enum { MAX_LINE_BYTES = 1 << 20 };

typedef struct predict_opts {
    const char *model;
    const char *input;
    const char *lang;
    int k;
    int method; /* mn_keywords_method */
    int max_words;
    int json;
    int lenient;
    int flush;
} predict_opts;

static const char *const method_names[] = {"default", "yake", "rake", NULL};

#define F(field) offsetof(predict_opts, field)
static const opt_spec specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE",
     "the keywords model (or the first argument, if it ends in .mnlp)", 0},
    {"lang", NULL, OPT_STRING, 1, 0, NULL, F(lang), "CODE",
     "language of the texts: eng, deu, fra ... or en, de (default: guessed per text)", 0},
    {"k", NULL, OPT_INT, 1, 1000, NULL, F(k), "N", "key phrases per text", 0},
    {"method", NULL, OPT_ENUM, 1, 0, method_names, F(method), NULL,
     "scoring: yake (YAKE-like, the default) or rake", 0},
    {"max-words", NULL, OPT_INT, 1, 8, NULL, F(max_words), "N",
     "longest phrase in words (Han characters for Chinese/Japanese)", 0},
    {"input", NULL, OPT_STRING, 1, 0, NULL, F(input), "FILE",
     "read texts from FILE, one per line ('-' = standard input, the default without TEXT)", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL,
     "one JSON object per text: {\"lang\":..,\"keywords\":[{\"text\",\"start\",\"end\",\"score\"}]}",
     0},
    {"lenient", NULL, OPT_BOOL, 1, 0, NULL, F(lenient), NULL,
     "replace invalid UTF-8 by U+FFFD instead of stopping", 0},
    {"flush", NULL, OPT_BOOL, 1, 0, NULL, F(flush), NULL, "write each answer at once", 0},
    {0},
};
#undef F

static const opt_command cmd = {
    .name = "predict",
    .usage = "KEYWORDS.mnlp [--lang CODE] [options] [TEXT...]",
    .about = "Extracts key phrases: of each TEXT argument, else of each line of --input FILE or\n"
             "standard input. Prints 'phrase<TAB>score' lines, best first, and a blank line\n"
             "after each text; with --json one object per text (byte offsets, end exclusive).",
    .specs = specs,
};

/* The value of --model (or -model, --model=), else the first argument ending in .mnlp. */
static const char *model_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--model") == 0 || strcmp(a, "-model") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(a, "--model=", 8) == 0)
            return a + 8;
    }
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (argv[i][0] != '-' && n > 5 && strcmp(argv[i] + n - 5, ".mnlp") == 0)
            return argv[i];
    }
    return NULL;
}

int cli_is_keywords_model(int argc, char **argv)
{
    const char *path = model_arg(argc, argv);
    if (!path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char h[16];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got < 16 || memcmp(h, "MICRONLP", 8) != 0)
        return 0;
    uint32_t type =
        (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
    return type == MN_MODEL_KEYWORDS;
}

typedef struct run {
    const predict_opts *o;
    const mn_model *m;
    mn_scratch *s;
    mn_keyword *kw;
    char *fixed;
    size_t fixed_cap;
} run;

/* Extracts and prints the phrases of one text; name/lineno for messages. Returns 0 or -1. */
static int one(run *r, const char *text, size_t len, const char *name, unsigned long lineno)
{
    size_t bad;
    if (mn_utf8_validate(text, len, &bad) != 0) {
        fflush(stdout);
        if (!r->o->lenient) {
            if (lineno)
                cli_error("%s:%lu: invalid UTF-8 at byte %zu (use --lenient to replace it)", name,
                          lineno, bad + 1);
            else
                cli_error("%s: invalid UTF-8 at byte %zu (use --lenient to replace it)", name,
                          bad + 1);
            return -1;
        }
        if (3 * len + 1 > r->fixed_cap) {
            char *np = realloc(r->fixed, 3 * len + 1);
            if (!np) {
                cli_error("out of memory");
                return -1;
            }
            r->fixed = np;
            r->fixed_cap = 3 * len + 1;
        }
        len = mn_utf8_repair(text, len, r->fixed);
        text = r->fixed;
    }
    const predict_opts *o = r->o;
    mn_keywords_options opts = {.method = o->method, .max_words = (uint32_t)o->max_words};
    mn_keywords_info info;
    size_t n = 0;
    int rc = mn_keywords_extract_ex(r->m, r->s, text, len, o->lang, o->lang ? strlen(o->lang) : 0,
                                    &opts, (size_t)o->k, r->kw, &n, &info);
    if (rc != 0) {
        fflush(stdout);
        if (lineno)
            cli_error("%s:%lu: extraction failed: %s", name, lineno, mn_strerror(rc));
        else
            cli_error("%s: extraction failed: %s", name, mn_strerror(rc));
        return -1;
    }
    if (o->json) {
        fputs("{\"lang\":", stdout);
        if (info.lang >= 0) {
            const char *l = mn_model_label(r->m, (uint32_t)info.lang);
            cli_json_str(stdout, l, strlen(l));
        } else {
            fputs("null", stdout);
        }
        printf(",\"guessed\":%s,\"keywords\":[", info.guessed ? "true" : "false");
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",{\"text\":" : "{\"text\":", stdout);
            cli_json_str(stdout, text + r->kw[i].start, r->kw[i].end - r->kw[i].start);
            printf(",\"start\":%u,\"end\":%u,\"score\":", r->kw[i].start, r->kw[i].end);
            cli_json_num(stdout, r->kw[i].score);
            putchar('}');
        }
        fputs("]}\n", stdout);
    } else {
        for (size_t i = 0; i < n; i++) {
            fwrite(text + r->kw[i].start, 1, r->kw[i].end - r->kw[i].start, stdout);
            printf("\t%.4g\n", (double)r->kw[i].score);
        }
        putchar('\n');
    }
    return 0;
}

int cmd_predict_keywords(int argc, char **argv)
{
    static char outbuf[1 << 16];
    predict_opts o = {.k = 10};
    int cap = argc > 1 ? argc : 1;
    char **pos = malloc((size_t)cap * sizeof *pos);
    if (!pos) {
        cli_error("out of memory");
        return MN_EXIT_FAIL;
    }
    int npos = 0, code = MN_EXIT_FAIL;
    int pr = opt_parse(&cmd, &o, argc, argv, pos, cap, &npos);
    if (pr != OPT_OK) {
        free(pos);
        return pr == OPT_HELP ? MN_EXIT_OK : MN_EXIT_USAGE;
    }
    int first = 0;
    if (!o.model && npos > 0)
        o.model = pos[first++];
    if (!o.model) {
        free(pos);
        return opt_usage_error(&cmd, "missing the model (--model FILE)");
    }
    if (o.input && npos > first) {
        int at = first;
        free(pos);
        return opt_usage_error(&cmd, "give texts as arguments or --input FILE, not both (%d "
                                     "text argument%s)",
                               npos - at, npos - at == 1 ? "" : "s");
    }
    if (cli_check_input("--model", o.model, 0) != 0 ||
        (o.input && cli_check_input("--input", o.input, 1) != 0)) {
        free(pos);
        return MN_EXIT_FAIL;
    }

    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    FILE *in = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    run r = {.o = &o};
    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    if (mn_model_kind(m) != MN_MODEL_KEYWORDS) {
        cli_error("%s: not a keywords model (type %s)", o.model, mn_model_type_name(m));
        goto done;
    }
    r.m = m;
    r.kw = malloc((size_t)o.k * sizeof *r.kw);
    if (!r.kw || mn_scratch_new(&r.s) != 0) {
        cli_error("out of memory");
        goto done;
    }
    if (o.lang && !mn_keywords_has_lang(m, o.lang, strlen(o.lang)) && strcmp(o.lang, "und") != 0)
        cli_note("no stop-word list for '%s': guessing the list from each text", o.lang);
    setvbuf(stdout, outbuf, (o.flush || isatty(STDOUT_FILENO)) ? _IOLBF : _IOFBF, sizeof outbuf);
    const char *name = "<arguments>";
    if (npos > first) {
        for (int i = first; i < npos; i++) {
            /* The classifiers' predict reads a FILE argument; here arguments are texts, so a
             * lone argument naming a file is most likely a slip. */
            struct stat st;
            if (!strpbrk(pos[i], " \t\n") && stat(pos[i], &st) == 0 && S_ISREG(st.st_mode))
                cli_note("'%s' is analysed as text, though a file has that name; for the "
                         "file's lines use --input %s",
                         pos[i], pos[i]);
            if (one(&r, pos[i], strlen(pos[i]), "argument", 0) != 0)
                goto done;
        }
    } else {
        int from_stdin = !o.input || strcmp(o.input, "-") == 0;
        name = from_stdin ? "<stdin>" : o.input;
        in = from_stdin ? stdin : fopen(o.input, "rb");
        if (!in) {
            cli_error("%s: cannot open: %s", o.input, strerror(errno));
            goto done;
        }
        unsigned long lineno = 0;
        ssize_t got;
        while ((got = getline(&line, &line_cap, in)) >= 0) {
            lineno++;
            size_t len = (size_t)got;
            if (len && line[len - 1] == '\n')
                len--;
            if (len && line[len - 1] == '\r')
                len--;
            if (len > MAX_LINE_BYTES) {
                fflush(stdout);
                cli_error("%s:%lu: line is longer than 1 MiB (%zu bytes)", name, lineno, len);
                goto done;
            }
            if (one(&r, line, len, name, lineno) != 0)
                goto done;
        }
    }
    /* (with texts as arguments, in is NULL and standard input is untouched) */
    if (cli_finish_stream(in ? in : stdin, name, "key phrases") != 0)
        goto done;
    code = MN_EXIT_OK;
done:
    fflush(stdout);
    if (in && in != stdin)
        fclose(in);
    free(line);
    free(r.fixed);
    free(r.kw);
    free(pos);
    mn_scratch_free(r.s);
    mn_model_release(m);
    return code;
}
