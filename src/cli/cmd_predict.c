/* SPDX-License-Identifier: MIT
 *
 * `micronlp predict`: labels each line of a file or of standard input, one output line per
 * input line, as "label prob label prob ..." or, with --json, one JSON object per line.
 *
 * It is built to answer fast from a cold start and to stream: the model is mapped and nothing
 * else is prepared; lines are read with getline (through a 1 MiB input buffer) into one reused
 * buffer; one mn_scratch and one prediction array serve every line; output goes through a
 * 64 KiB stdout buffer (line-buffered on a terminal or with --flush), probabilities formatted
 * without printf. So after the first line, a line costs no allocation.
 *
 * Input checks: a line must be valid UTF-8 (else "FILE:LINE: invalid UTF-8 at byte N" and exit
 * 1, or with --lenient each bad sequence becomes U+FFFD) and at most 1 MiB. Leading
 * "__label__x" tokens are skipped, so a labelled test file can be fed as it is.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "micronlp/models.h"
#include "micronlp/text.h"

enum { MAX_LINE_BYTES = 1 << 20 };

typedef struct predict_opts {
    const char *model;
    int k;
    double threshold;
    int json;
    int lenient;
    int flush;
    const char *label_prefix;
} predict_opts;

#define F(field) offsetof(predict_opts, field)
static const opt_spec predict_specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE",
     "the model (or the first argument, if it ends in .mnlp/.bin/.ftz)", 0},
    {"k", NULL, OPT_INT, 1, 1000, NULL, F(k), "N", "most probable labels printed per line", 0},
    {"threshold", NULL, OPT_DOUBLE, 0, 1, NULL, F(threshold), "X",
     "leave out labels less probable than X", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL,
     "one JSON object per line: {\"labels\":[{\"label\":..,\"prob\":..}]}", 0},
    {"lenient", NULL, OPT_BOOL, 1, 0, NULL, F(lenient), NULL,
     "replace invalid UTF-8 by U+FFFD instead of stopping", 0},
    {"label-prefix", NULL, OPT_STRING, 1, 0, NULL, F(label_prefix), "STR",
     "print STR before each label in plain output (\"__label__\" as fastText)", 0},
    {"flush", NULL, OPT_BOOL, 1, 0, NULL, F(flush), NULL,
     "write each answer at once (when driven line by line through a pipe)", 0},
    {0},
};
#undef F

static const opt_command predict_cmd = {
    .name = "predict",
    .usage = "--model FILE [options] [FILE|-]",
    .about = "Reads texts, one per line, from FILE or standard input (the default, also '-')\n"
             "and prints the most probable labels of each: 'label prob label prob ...'.",
    .specs = predict_specs,
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Skips leading whitespace and "__label__x" tokens. */
static const char *skip_labels(const char *s, size_t *len)
{
    const char *p = s, *end = s + *len;
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if ((size_t)(end - p) >= 9 && memcmp(p, "__label__", 9) == 0) {
            while (p < end && !is_space(*p))
                p++;
            continue;
        }
        break;
    }
    *len = (size_t)(end - p);
    return p;
}

/* Writes x as printf("%.6g", (double)x) does, into out (at least 32 bytes); returns the length.
 * Probabilities from 2^-14 to 1 (nearly every printed one) are formatted here with exact
 * integer arithmetic, since printf's arbitrary-precision path cost as much as predicting a
 * short text; anything else goes to snprintf. x = m * 2^-sh exactly, so the six significant
 * digits are floor(m * 10^p / 2^sh), rounded half to even like glibc, with m * 10^p < 2^54. */
static size_t fmt_prob(float x, char *out)
{
    static const uint64_t pow10[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint32_t exp = (bits >> 23) & 0xFF;
    /* exponent 113 is [2^-14, 2^-13), which holds 10^-4; 1.0 is exponent 127, mantissa 0 */
    if ((bits >> 31) || exp < 113 || exp > 127 || (exp == 127 && (bits & 0x7FFFFF))) {
        int w = snprintf(out, 32, "%.6g", (double)x);
        return w > 0 ? (size_t)w : 0;
    }
    uint64_t m = (bits & 0x7FFFFF) | 0x800000;
    unsigned sh = 150 - exp; /* x = m / 2^sh, sh in 23..37 */
    for (int e10 = 0; e10 >= -4; e10--) {
        unsigned p = (unsigned)(5 - e10);
        uint64_t num = m * pow10[p];
        uint64_t q = num >> sh, r = num & ((1ull << sh) - 1), half = 1ull << (sh - 1);
        if (q < 100000)
            continue; /* x < 10^e10 */
        if (r > half || (r == half && (q & 1)))
            q++;
        if (q == 1000000) { /* rounded up to the next power of ten */
            q = 100000;
            e10++;
        }
        /* fixed notation with 5 - e10 decimals, trailing zeros dropped */
        char digits[6];
        for (int k = 5; k >= 0; k--) {
            digits[k] = (char)('0' + q % 10);
            q /= 10;
        }
        int nd = 6;
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
        size_t o = 0;
        if (e10 == 0) {
            out[o++] = digits[0];
            if (nd > 1) {
                out[o++] = '.';
                memcpy(out + o, digits + 1, (size_t)nd - 1);
                o += (size_t)nd - 1;
            }
        } else {
            out[o++] = '0';
            out[o++] = '.';
            for (int z = -1; z > e10; z--)
                out[o++] = '0';
            memcpy(out + o, digits, (size_t)nd);
            o += (size_t)nd;
        }
        out[o] = '\0';
        return o;
    }
    int w = snprintf(out, 32, "%.6g", (double)x); /* 2^-14 <= x < 10^-4: exponent notation */
    return w > 0 ? (size_t)w : 0;
}

static void print_plain(const mn_model *m, const predict_opts *o, const mn_prediction *pred,
                        size_t n)
{
    char num[40];
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(' ');
        if (o->label_prefix)
            fputs(o->label_prefix, stdout);
        fputs(mn_model_label(m, pred[i].label), stdout);
        num[0] = ' ';
        fwrite(num, 1, 1 + fmt_prob(pred[i].prob, num + 1), stdout);
    }
    putchar('\n');
}

static void print_json(const mn_model *m, const mn_prediction *pred, size_t n)
{
    fputs("{\"labels\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        const char *name = mn_model_label(m, pred[i].label);
        fputs(i ? ",{\"label\":" : "{\"label\":", stdout);
        cli_json_str(stdout, name, strlen(name));
        fputs(",\"prob\":", stdout);
        cli_json_num(stdout, (double)pred[i].prob);
        putchar('}');
    }
    fputs("]}\n", stdout);
}

int cmd_predict(int argc, char **argv)
{
    if (cli_is_tagger_model(argc, argv))
        return cmd_predict_tagger(argc, argv);
    if (cli_is_keywords_model(argc, argv))
        return cmd_predict_keywords(argc, argv);
    static char outbuf[1 << 16], inbuf[1 << 20];
    predict_opts o = {.k = 1, .threshold = 0.0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&predict_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    const char *path, *name;
    int ec = opt_predict_inputs(&predict_cmd, pos, npos, &o.model, &path, &name);
    if (ec >= 0)
        return ec;
    int from_stdin = strcmp(path, "-") == 0;

    int code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    mn_scratch *s = NULL;
    mn_prediction *pred = NULL;
    char *line = NULL, *fixed = NULL;
    size_t line_cap = 0, fixed_cap = 0;
    FILE *in = NULL;

    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    rc = mn_scratch_new(&s);
    pred = malloc(sizeof *pred * (size_t)o.k);
    if (rc != 0 || !pred) {
        cli_error("out of memory");
        goto done;
    }
    in = from_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    setvbuf(stdout, outbuf, (o.flush || isatty(STDOUT_FILENO)) ? _IOLBF : _IOFBF,
            sizeof outbuf);
    /* Large reads: stdio's default buffer makes a read system call per 4 KiB of input. A
     * read returns what a pipe or terminal has, so this does not delay streaming input. */
    setvbuf(in, inbuf, _IOFBF, sizeof inbuf);

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
        const char *text = line;
        size_t bad;
        if (mn_utf8_validate(line, len, &bad) != 0) {
            if (!o.lenient) {
                fflush(stdout);
                cli_error("%s:%lu: invalid UTF-8 at byte %zu (use --lenient to replace it)",
                          name, lineno, bad + 1);
                goto done;
            }
            if (fixed_cap < 3 * len) {
                char *nb = realloc(fixed, 3 * len);
                if (!nb) {
                    cli_error("out of memory");
                    goto done;
                }
                fixed = nb;
                fixed_cap = 3 * len;
            }
            len = mn_utf8_repair(line, len, fixed);
            text = fixed;
        }
        text = skip_labels(text, &len);
        size_t n = 0;
        rc = mn_model_predict(m, s, text, len, o.k, (float)o.threshold, pred, &n);
        if (rc != 0) {
            fflush(stdout);
            cli_error("%s:%lu: prediction failed: %s", name, lineno, mn_strerror(rc));
            goto done;
        }
        if (o.json)
            print_json(m, pred, n);
        else
            print_plain(m, &o, pred, n);
    }
    if (cli_finish_stream(in, name, "predictions") != 0)
        goto done;
    code = MN_EXIT_OK;

done:
    fflush(stdout);
    if (in && in != stdin)
        fclose(in);
    free(fixed);
    free(line);
    free(pred);
    mn_scratch_free(s);
    mn_model_release(m);
    return code;
}
