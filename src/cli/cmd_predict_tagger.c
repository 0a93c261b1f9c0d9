/* SPDX-License-Identifier: MIT
 *
 * `micronlp predict` on a tagger model: tags each line of a file or of standard input (one
 * line = one sequence) and prints "word/TAG word/TAG ..." or, with --json, one object per
 * line with the tokens (byte offsets into the line, tag, score) and, for entity models, the
 * entity spans. As the classifier's predict, it streams: one scratch and reused buffers, so
 * after warm-up a line costs no allocation.
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
    int json;
    int sentences;
    int lenient;
    int flush;
} predict_opts;

#define F(field) offsetof(predict_opts, field)
static const opt_spec specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE",
     "the tagger (or the first argument, if it ends in .mnlp)", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL,
     "one JSON object per line: {\"tokens\":[...],\"entities\":[...]}", 0},
    {"sentences", NULL, OPT_BOOL, 1, 0, NULL, F(sentences), NULL,
     "split each line into sentences (mn_sentencer) and tag them one by one", 0},
    {"lenient", NULL, OPT_BOOL, 1, 0, NULL, F(lenient), NULL,
     "replace invalid UTF-8 by U+FFFD instead of stopping", 0},
    {"flush", NULL, OPT_BOOL, 1, 0, NULL, F(flush), NULL, "write each answer at once", 0},
    {0},
};
#undef F

static const opt_command cmd = {
    .name = "predict",
    .usage = "--model TAGGER [options] [FILE|-]",
    .about = "Tags each line of FILE or standard input: 'word/TAG word/TAG ...', or with --json\n"
             "tokens with byte offsets, tags and scores, and entity spans for entity models.",
    .specs = specs,
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

int cmd_predict_tagger(int argc, char **argv)
{
    static char outbuf[1 << 16];
    predict_opts o = {0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP) return MN_EXIT_OK;
    if (pr != OPT_OK) return MN_EXIT_USAGE;
    const char *path, *name;
    int ec = opt_predict_inputs(&cmd, pos, npos, &o.model, &path, &name);
    if (ec >= 0)
        return ec;
    int from_stdin = strcmp(path, "-") == 0;

    int code = MN_EXIT_FAIL;
    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    mn_scratch *s = NULL;
    mn_tagged *tok = NULL;
    mn_entity *ent = NULL;
    size_t tok_cap = 0, ent_cap = 0;
    char *line = NULL, *fixed = NULL;
    size_t line_cap = 0, fixed_cap = 0;
    FILE *in = NULL;
    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0) {
        cli_fail(&err, rc, o.model);
        goto done;
    }
    if (mn_scratch_new(&s) != 0 || grow((void **)&tok, &tok_cap, 64, sizeof *tok) != 0 ||
        grow((void **)&ent, &ent_cap, 16, sizeof *ent) != 0) {
        cli_error("out of memory");
        goto done;
    }
    in = from_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    setvbuf(stdout, outbuf, (o.flush || isatty(STDOUT_FILENO)) ? _IOLBF : _IOFBF, sizeof outbuf);
    unsigned long lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
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
                cli_error("%s:%lu: invalid UTF-8 at byte %zu (use --lenient to replace it)", name,
                          lineno, bad + 1);
                goto done;
            }
            if (grow((void **)&fixed, &fixed_cap, 3 * len + 1, 1) != 0) {
                cli_error("out of memory");
                goto done;
            }
            len = mn_utf8_repair(line, len, fixed);
            text = fixed;
        }
        size_t n = 0, ne = 0;
        mn_sentencer sp;
        mn_sentence sent = {0, (uint32_t)len};
        mn_sentencer_init(&sp, text, len);
        rc = 0;
        /* Without --sentences the whole line is one sequence (one pass of the loop). */
        while (rc == 0 && (o.sentences ? mn_sentencer_next(&sp, &sent) : n == 0 && ne == 0)) {
            const char *st = text + sent.off;
            size_t got_n = 0, got_e = 0;
            for (int pass = 0; pass < 2 && rc == 0; pass++) {
                rc = mn_model_tag(m, s, st, sent.len, tok + n, tok_cap - n, &got_n);
                if (rc == 0 && n + got_n > tok_cap) {
                    if (pass || grow((void **)&tok, &tok_cap, n + got_n, sizeof *tok) != 0) {
                        cli_error("out of memory");
                        goto done;
                    }
                    continue;
                }
                break;
            }
            for (size_t i = n; rc == 0 && i < n + got_n; i++)
                tok[i].off += sent.off;
            if (rc == 0 && o.json) {
                for (int pass = 0; pass < 2 && rc == 0; pass++) {
                    rc = mn_model_entities(m, s, st, sent.len, ent + ne, ent_cap - ne, &got_e);
                    if (rc == 0 && ne + got_e > ent_cap) {
                        if (pass || grow((void **)&ent, &ent_cap, ne + got_e, sizeof *ent) != 0) {
                            cli_error("out of memory");
                            goto done;
                        }
                        continue;
                    }
                    break;
                }
                for (size_t i = ne; rc == 0 && i < ne + got_e; i++) {
                    ent[i].off += sent.off;
                    ent[i].first += (uint32_t)n;
                }
            }
            n += got_n;
            ne += got_e;
            if (!o.sentences) break;
        }
        if (rc != 0) {
            fflush(stdout);
            cli_error("%s:%lu: tagging failed: %s", name, lineno, mn_strerror(rc));
            goto done;
        }
        if (o.json) {
            fputs("{\"tokens\":[", stdout);
            for (size_t i = 0; i < n; i++) {
                const char *tag = mn_model_label(m, tok[i].tag);
                fputs(i ? ",{\"text\":" : "{\"text\":", stdout);
                cli_json_str(stdout, text + tok[i].off, tok[i].len);
                printf(",\"off\":%u,\"len\":%u,\"tag\":", tok[i].off, tok[i].len);
                cli_json_str(stdout, tag, strlen(tag));
                fputs(",\"score\":", stdout);
                cli_json_num(stdout, tok[i].score);
                putchar('}');
            }
            fputs("],\"entities\":[", stdout);
            for (size_t i = 0; i < ne; i++) {
                fputs(i ? ",{\"type\":" : "{\"type\":", stdout);
                cli_json_str(stdout, ent[i].type, ent[i].type_len);
                fputs(",\"text\":", stdout);
                cli_json_str(stdout, text + ent[i].off, ent[i].len);
                printf(",\"off\":%u,\"len\":%u,\"score\":", ent[i].off, ent[i].len);
                cli_json_num(stdout, ent[i].score);
                putchar('}');
            }
            fputs("]}\n", stdout);
        } else {
            for (size_t i = 0; i < n; i++) {
                if (i) putchar(' ');
                fwrite(text + tok[i].off, 1, tok[i].len, stdout);
                putchar('/');
                fputs(mn_model_label(m, tok[i].tag), stdout);
            }
            putchar('\n');
        }
    }
    if (cli_finish_stream(in, name, "tags") != 0)
        goto done;
    code = MN_EXIT_OK;
done:
    fflush(stdout);
    if (in && in != stdin) fclose(in);
    free(fixed);
    free(line);
    free(tok);
    free(ent);
    mn_scratch_free(s);
    mn_model_release(m);
    return code;
}
