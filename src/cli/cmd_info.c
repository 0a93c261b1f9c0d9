/* SPDX-License-Identifier: MIT
 *
 * `micronlp info`: describes a model file: its type, file format and version, size, labels
 * (the count and the first 20) and every metadata pair the model carries (task, training data
 * hash, hyperparameters, metrics ...). Plain text, or one JSON object with --json.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli/options.h"
#include "micronlp/models.h"

typedef struct info_opts {
    const char *model;
    int json;
} info_opts;

#define F(field) offsetof(info_opts, field)
static const opt_spec info_specs[] = {
    {"model", NULL, OPT_STRING, 1, 0, NULL, F(model), "FILE",
     "the model file (may also be given as the only argument)", 0},
    {"json", NULL, OPT_BOOL, 1, 0, NULL, F(json), NULL, "print one JSON object", 0},
    {0},
};
#undef F

static const opt_command info_cmd = {
    .name = "info",
    .usage = "--model FILE [--json]   or   micronlp info FILE",
    .about = "Describes a model file: type, format version, size, labels, metadata.",
    .specs = info_specs,
};

enum { SHOWN_LABELS = 20 };

/* The container and its version, read from the first bytes: "micronlp" + version for our
 * format (magic "MICRONLP", u32 LE version; see src/models/format.h), "fastText" + version for
 * a fastText .bin (i32 magic 793712314, i32 version). version is 0 when unknown. */
static const char *file_format(const char *path, uint32_t *version)
{
    unsigned char h[12];
    *version = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return "unknown";
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n >= 12 && memcmp(h, "MICRONLP", 8) == 0) {
        *version = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 |
                   (uint32_t)h[11] << 24;
        return "micronlp";
    }
    if (n >= 8) {
        uint32_t magic = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                         (uint32_t)h[3] << 24;
        if (magic == 793712314u) {
            *version = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
                       (uint32_t)h[7] << 24;
            return "fastText";
        }
    }
    return "unknown";
}

static void print_json(const char *path, const mn_model *m, const char *fmt, uint32_t version,
                       unsigned long long size)
{
    FILE *f = stdout;
    fputs("{\"path\":", f);
    cli_json_str(f, path, strlen(path));
    fputs(",\"type\":", f);
    const char *type = mn_model_type_name(m);
    cli_json_str(f, type, strlen(type));
    fputs(",\"format\":", f);
    cli_json_str(f, fmt, strlen(fmt));
    fprintf(f, ",\"format_version\":%u,\"size_bytes\":%llu,\"label_count\":%u,\"labels\":[",
            (unsigned)version, size, mn_model_label_count(m));
    for (uint32_t i = 0; i < mn_model_label_count(m); i++) {
        const char *l = mn_model_label(m, i);
        if (i)
            fputc(',', f);
        cli_json_str(f, l, strlen(l));
    }
    fputs("],\"metadata\":{", f);
    for (size_t i = 0; i < mn_model_meta_count(m); i++) {
        const char *k = NULL, *v = NULL;
        mn_model_meta_get(m, i, &k, &v);
        if (i)
            fputc(',', f);
        cli_json_str(f, k ? k : "", k ? strlen(k) : 0);
        fputc(':', f);
        cli_json_str(f, v ? v : "", v ? strlen(v) : 0);
    }
    fputs("}}\n", f);
}

static void print_plain(const char *path, const mn_model *m, const char *fmt, uint32_t version,
                        unsigned long long size)
{
    char hs[32];
    uint32_t nl = mn_model_label_count(m);
    printf("model        %s\n", path);
    printf("type         %s\n", mn_model_type_name(m));
    if (version)
        printf("format       %s, version %u\n", fmt, (unsigned)version);
    else
        printf("format       %s\n", fmt);
    printf("size         %s (%llu bytes)\n", cli_human_size(size, hs, sizeof hs), size);
    printf("labels       %u%s", nl, nl ? ":" : "");
    for (uint32_t i = 0; i < nl && i < SHOWN_LABELS; i++)
        printf(" %s", mn_model_label(m, i));
    if (nl > SHOWN_LABELS)
        printf(" ... (%u more; --json lists all)", nl - SHOWN_LABELS);
    putchar('\n');
    size_t nm = mn_model_meta_count(m);
    if (nm == 0)
        return;
    int w = 1;
    for (size_t i = 0; i < nm; i++) {
        const char *k = NULL, *v = NULL;
        mn_model_meta_get(m, i, &k, &v);
        int kl = k ? (int)strlen(k) : 0;
        if (kl > w)
            w = kl;
    }
    if (w > 30)
        w = 30;
    printf("metadata\n");
    for (size_t i = 0; i < nm; i++) {
        const char *k = NULL, *v = NULL;
        mn_model_meta_get(m, i, &k, &v);
        printf("  %-*s  %s\n", w, k ? k : "", v ? v : "");
    }
}

int cmd_info(int argc, char **argv)
{
    info_opts o = {0};
    char *pos[4];
    int npos = 0;
    int pr = opt_parse(&info_cmd, &o, argc, argv, pos, 4, &npos);
    if (pr == OPT_HELP)
        return MN_EXIT_OK;
    if (pr != OPT_OK)
        return MN_EXIT_USAGE;
    int first = 0;
    if (!o.model && npos > 0)
        o.model = pos[first++];
    if (!o.model)
        return opt_usage_error(&info_cmd, "missing required option --model FILE");
    if (npos > first)
        return opt_usage_error(&info_cmd, "unexpected argument '%s'", pos[first]);
    if (cli_check_input("--model", o.model, 0) != 0)
        return MN_EXIT_FAIL;

    mn_err err;
    mn_err_clear(&err);
    mn_model *m = NULL;
    int rc = mn_model_open(o.model, &m, &err);
    if (rc != 0)
        return cli_fail(&err, rc, o.model);
    uint32_t version;
    const char *fmt = file_format(o.model, &version);
    long long fs = cli_file_size(o.model);
    unsigned long long size =
        fs >= 0 ? (unsigned long long)fs : (unsigned long long)mn_model_size_bytes(m);
    if (o.json)
        print_json(o.model, m, fmt, version, size);
    else
        print_plain(o.model, m, fmt, version, size);
    mn_model_release(m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("writing the description failed");
        return MN_EXIT_FAIL;
    }
    return MN_EXIT_OK;
}
