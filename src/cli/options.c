/* SPDX-License-Identifier: MIT
 *
 * The table-driven option parser behind every subcommand (see options.h): finds each option
 * by its long name or alias, converts and range-checks the value, stores it through the
 * table's field offset, and explains every mistake in one line that names the option, the
 * value and what would have been accepted. Also generates the --help text from the same table.
 */
#include "cli/options.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void *field(void *base, const opt_spec *o)
{
    return (char *)base + o->offset;
}

static const void *cfield(const void *base, const opt_spec *o)
{
    return (const char *)base + o->offset;
}

static int name_is(const char *s, size_t len, const char *name)
{
    return name && strlen(name) == len && memcmp(s, name, len) == 0;
}

static const opt_spec *find(const opt_command *cmd, const char *s, size_t len)
{
    for (const opt_spec *o = cmd->specs; o->type != OPT_END; o++)
        if (name_is(s, len, o->name) || name_is(s, len, o->alias))
            return o;
    return NULL;
}

/* Formats a bound without noise: 10000, not 10000.000000; 0.001 stays 0.001. */
static const char *fmt_num(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", v);
    return buf;
}

int opt_usage_error(const opt_command *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s", msg);
    fprintf(stderr, "Run 'micronlp %s --help' for the options.\n", cmd->name);
    return MN_EXIT_USAGE;
}

static int unknown(const opt_command *cmd, const char *arg, const char *s, size_t len)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    for (const opt_spec *o = cmd->specs; o->type != OPT_END; o++) {
        if (o->flags & OPT_HIDDEN)
            continue;
        int d = cli_distance(s, len, o->name);
        if (o->alias) {
            int da = cli_distance(s, len, o->alias);
            if (da < d)
                d = da;
        }
        /* A prefix ("--thr" for "--threads") is a good hint even when far in edits. */
        if (len >= 2 && strncmp(o->name, s, len) == 0)
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    int limit = (int)len / 2 + 1;
    if (limit < 3)
        limit = 3;
    int eq = (int)(strchr(arg, '=') ? strchr(arg, '=') - arg : (ptrdiff_t)strlen(arg));
    if (best && best_d <= limit)
        return opt_usage_error(cmd, "unknown option '%.*s' for '%s' (did you mean --%s?)", eq,
                               arg, cmd->name, best);
    return opt_usage_error(cmd, "unknown option '%.*s' for '%s'", eq, arg, cmd->name);
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static int range_ok(const opt_spec *o, double v)
{
    return o->min > o->max || (v >= o->min && v <= o->max);
}

static int out_of_range(const opt_command *cmd, const opt_spec *o, const char *v)
{
    char a[32], b[32];
    return opt_usage_error(cmd, "--%s: %s is out of range %s..%s", o->name, v,
                           fmt_num(o->min, a, sizeof a), fmt_num(o->max, b, sizeof b));
}

/* Converts v and stores it; returns 0 or a usage exit code (message printed). */
static int set_value(const opt_command *cmd, const opt_spec *o, void *base, const char *v)
{
    char *end = NULL;
    switch (o->type) {
    case OPT_INT:
    case OPT_U32:
    case OPT_U64:
    case OPT_SIZE: {
        errno = 0;
        /* strtoull accepts "-1" and wraps it; parse signed first so "-1" is a range error. */
        long long sv = strtoll(v, &end, 10);
        if (end == v || *end != '\0')
            return opt_usage_error(cmd, "--%s: '%s' is not an integer", o->name, v);
        if (errno == ERANGE || !range_ok(o, (double)sv))
            return out_of_range(cmd, o, v);
        if (o->type != OPT_INT && sv < 0)
            return out_of_range(cmd, o, v);
        if (o->type == OPT_INT) {
            if (sv < INT32_MIN || sv > INT32_MAX)
                return out_of_range(cmd, o, v);
            *(int *)field(base, o) = (int)sv;
        } else if (o->type == OPT_U32) {
            if (sv > (long long)UINT32_MAX)
                return out_of_range(cmd, o, v);
            *(uint32_t *)field(base, o) = (uint32_t)sv;
        } else if (o->type == OPT_U64) {
            *(uint64_t *)field(base, o) = (uint64_t)sv;
        } else {
            *(size_t *)field(base, o) = (size_t)sv;
        }
        return 0;
    }
    case OPT_DOUBLE: {
        errno = 0;
        double d = strtod(v, &end);
        if (end == v || *end != '\0' || isnan(d) || isinf(d))
            return opt_usage_error(cmd, "--%s: '%s' is not a number", o->name, v);
        if (!range_ok(o, d))
            return out_of_range(cmd, o, v);
        *(double *)field(base, o) = d;
        return 0;
    }
    case OPT_STRING:
        if (*v == '\0')
            return opt_usage_error(cmd, "--%s: the value is empty", o->name);
        *(const char **)field(base, o) = v;
        return 0;
    case OPT_BOOL: {
        int b;
        if (parse_bool(v, &b) != 0)
            return opt_usage_error(cmd, "--%s: '%s' is not a boolean (true or false)", o->name,
                                   v);
        *(int *)field(base, o) = b;
        return 0;
    }
    case OPT_ENUM: {
        char list[256];
        size_t used = 0;
        list[0] = '\0';
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(v, o->choices[i]) == 0) {
                *(int *)field(base, o) = i;
                return 0;
            }
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             o->choices[i]);
            if (n > 0 && (size_t)n < sizeof list - used)
                used += (size_t)n;
        }
        return opt_usage_error(cmd, "--%s: '%s' is not one of %s", o->name, v, list);
    }
    case OPT_END:
        break;
    }
    return opt_usage_error(cmd, "--%s: internal error (bad option type)", o->name);
}

int opt_parse(const opt_command *cmd, void *base, int argc, char **argv, char **pos,
              int pos_cap, int *npos)
{
    int n = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (n >= pos_cap) {
                opt_usage_error(cmd, "unexpected argument '%s'", a);
                return OPT_ERROR;
            }
            pos[n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
            opt_print_help(cmd, base, stdout);
            return OPT_HELP;
        }
        const char *s = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const opt_spec *o = find(cmd, s, len);
        if (!o) {
            unknown(cmd, a, s, len);
            return OPT_ERROR;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (o->type == OPT_BOOL) {
            v = "true";
        } else {
            /* "--input --output m" is a forgotten value, not a file named "--output".
             * "-5" and "-" stay values (a negative number, standard input). */
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-' &&
                                  argv[i + 1][2] != '\0')) {
                opt_usage_error(cmd, "--%s needs a value (%s)", o->name,
                                o->metavar ? o->metavar : "VALUE");
                return OPT_ERROR;
            }
            v = argv[++i];
        }
        if (set_value(cmd, o, base, v) != 0)
            return OPT_ERROR;
    }
    for (const opt_spec *o = cmd->specs; o->type != OPT_END; o++) {
        if ((o->flags & OPT_REQUIRED) && o->type == OPT_STRING &&
            *(const char *const *)cfield(base, o) == NULL) {
            opt_usage_error(cmd, "missing required option --%s %s", o->name,
                            o->metavar ? o->metavar : "VALUE");
            return OPT_ERROR;
        }
    }
    *npos = n;
    return OPT_OK;
}

/* The current value of a field as text, or NULL when there is nothing worth showing. */
static const char *default_text(const opt_spec *o, const void *base, char *buf, size_t cap)
{
    switch (o->type) {
    case OPT_INT:
        snprintf(buf, cap, "%d", *(const int *)cfield(base, o));
        return buf;
    case OPT_U32:
        snprintf(buf, cap, "%" PRIu32, *(const uint32_t *)cfield(base, o));
        return buf;
    case OPT_U64:
        snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)cfield(base, o));
        return buf;
    case OPT_SIZE:
        snprintf(buf, cap, "%zu", *(const size_t *)cfield(base, o));
        return buf;
    case OPT_DOUBLE:
        snprintf(buf, cap, "%g", *(const double *)cfield(base, o));
        return buf;
    case OPT_STRING: {
        const char *s = *(const char *const *)cfield(base, o);
        if (!s)
            return NULL;
        snprintf(buf, cap, "\"%s\"", s);
        return buf;
    }
    case OPT_ENUM: {
        int i = *(const int *)cfield(base, o);
        return i >= 0 && o->choices[i] ? o->choices[i] : NULL;
    }
    case OPT_BOOL:
    case OPT_END:
        break;
    }
    return NULL;
}

void opt_print_help(const opt_command *cmd, const void *base, FILE *out)
{
    fprintf(out, "Usage: micronlp %s %s\n", cmd->name, cmd->usage);
    if (cmd->about)
        fprintf(out, "\n%s\n", cmd->about);
    fprintf(out, "\nOptions:\n");
    for (const opt_spec *o = cmd->specs; o->type != OPT_END; o++) {
        if (o->flags & OPT_HIDDEN)
            continue;
        char head[256], metavar[128];
        if (o->type == OPT_ENUM) {
            size_t used = 0;
            metavar[0] = '\0';
            for (int i = 0; o->choices[i]; i++) {
                int k = snprintf(metavar + used, sizeof metavar - used, "%s%s", i ? "|" : "",
                                 o->choices[i]);
                if (k > 0 && (size_t)k < sizeof metavar - used)
                    used += (size_t)k;
            }
        } else {
            snprintf(metavar, sizeof metavar, "%s", o->metavar ? o->metavar : "");
        }
        snprintf(head, sizeof head, "--%s%s%s", o->name, metavar[0] ? " " : "", metavar);
        if (strlen(head) > 26)
            fprintf(out, "  %s\n  %-26s  %s\n", head, "", o->help);
        else
            fprintf(out, "  %-26s  %s\n", head, o->help);

        /* Second line: required / default / range / alias, whichever apply. */
        char extra[256], dbuf[64], a[32], b[32];
        size_t used = 0;
        extra[0] = '\0';
#define EXTRA(...)                                                                                 \
    do {                                                                                           \
        int k_ = snprintf(extra + used, sizeof extra - used, "%s", used ? "; " : "");             \
        if (k_ > 0 && (size_t)k_ < sizeof extra - used)                                            \
            used += (size_t)k_;                                                                    \
        k_ = snprintf(extra + used, sizeof extra - used, __VA_ARGS__);                             \
        if (k_ > 0 && (size_t)k_ < sizeof extra - used)                                            \
            used += (size_t)k_;                                                                    \
    } while (0)
        if (o->flags & OPT_REQUIRED)
            EXTRA("required");
        const char *d = default_text(o, base, dbuf, sizeof dbuf);
        if (d && !(o->flags & OPT_REQUIRED))
            EXTRA("default %s", d);
        if (o->min <= o->max && o->type != OPT_STRING && o->type != OPT_BOOL &&
            o->type != OPT_ENUM)
            EXTRA("range %s..%s", fmt_num(o->min, a, sizeof a), fmt_num(o->max, b, sizeof b));
        if (o->alias)
            EXTRA("also -%s", o->alias);
#undef EXTRA
        if (used)
            fprintf(out, "  %-26s  (%s)\n", "", extra);
    }
    fprintf(out, "  %-26s  %s\n", "--help", "show this help and exit");
}

static int has_model_ext(const char *p)
{
    static const char *const exts[] = {".mnlp", ".bin", ".ftz"};
    size_t n = strlen(p);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(p + n - e, exts[i]) == 0)
            return 1;
    }
    return 0;
}

int opt_predict_inputs(const opt_command *cmd, char **pos, int npos, const char **model,
                       const char **path, const char **name)
{
    int first = 0;
    if (!*model && npos > 0 && has_model_ext(pos[0]))
        *model = pos[first++];
    if (!*model)
        return opt_usage_error(cmd, "missing required option --model FILE");
    if (npos - first > 1)
        return opt_usage_error(cmd, "unexpected argument '%s' (one input file at most)",
                               pos[first + 1]);
    *path = npos - first == 1 ? pos[first] : "-";
    int from_stdin = strcmp(*path, "-") == 0;
    *name = from_stdin ? "<stdin>" : *path;
    if (cli_check_input("--model", *model, 0) != 0 ||
        (!from_stdin && cli_check_input("input", *path, 0) != 0))
        return MN_EXIT_FAIL;
    return -1;
}
