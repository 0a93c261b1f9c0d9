/* SPDX-License-Identifier: MIT
 *
 * Entry point of the `micronlp` command: the table of subcommands (built from
 * MN_CLI_COMMANDS in cli.h, one line per command), top-level help and version, the dispatch
 * to cmd_<name>(), and "did you mean" for a mistyped command. Built twice: as `micronlp`, whose
 * table has no function for the NET commands (it hands them over to `micronlp-net`, see cli.h),
 * and with MN_CLI_NET defined as `micronlp-net`, which runs every command itself. Also home of the small helpers
 * every subcommand shares (error printing, path checks, JSON strings), declared in cli.h.
 */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

#define MN__CLI_FN_LOCAL(name) cmd_##name
#ifdef MN_CLI_NET
#define MN__CLI_FN_NET(name) cmd_##name
#else
#define MN__CLI_FN_NET(name) NULL /* runs in micronlp-net: hand_over() */
#endif
static const command commands[] = {
#define MN__CLI_ROW(name, where, summary) {#name, MN__CLI_FN_##where(name), summary},
    MN_CLI_COMMANDS(MN__CLI_ROW)
#undef MN__CLI_ROW
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *out)
{
    fprintf(out, "Usage: micronlp <command> [options]\n"
                 "\n"
                 "Small NLP models, trained in seconds, served fast.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Run 'micronlp <command> --help' (or 'micronlp help <command>') for its options.\n"
                 "fastText spellings of the training options (-input, -output, -epoch, -lr, -dim,\n"
                 "-wordNgrams, -minn, -maxn, -bucket, -loss, -thread, -seed ...) are accepted.\n"
                 "\n"
                 "Other options:\n"
                 "  --help, -h    show this help\n"
                 "  --version     print the version\n"
                 "\n"
                 "Exit codes:\n"
                 "  0  success\n"
                 "  1  failure: bad data, bad model file, I/O error, out of memory\n"
                 "  2  usage error: unknown command or option, bad or missing value\n");
}

static const command *lookup(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Replaces this process with micronlp-net, given the whole argument vector (argv[1] is the
 * command). It is looked for next to this program (the build tree, or both in one bin
 * directory), then in ../libexec/micronlp (where `cmake --install` puts it). Returns only on
 * failure. */
static int hand_over(char **argv)
{
    char dir[PATH_MAX];
    if (cli_program_dir(dir, sizeof dir) != 0) {
        cli_error("'%s' runs in micronlp-net, but this program cannot find its own path "
                  "(/proc/self/exe): %s",
                  argv[1], strerror(errno));
        return MN_EXIT_FAIL;
    }
    static const char *const places[] = {"%s/micronlp-net", "%s/../libexec/micronlp/micronlp-net"};
    char path[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        snprintf(path, sizeof path, places[i], dir);
        execv(path, argv);
        if (errno != ENOENT) {
            cli_error("'%s' runs in %s, which cannot be started: %s", argv[1], path,
                      strerror(errno));
            return MN_EXIT_FAIL;
        }
    }
    cli_error("'%s' runs in micronlp-net, which is neither in %s nor in %s/../libexec/micronlp: "
              "build or install micronlp again",
              argv[1], dir, dir);
    return MN_EXIT_FAIL;
}

static int unknown_command(const char *name)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    size_t len = strlen(name);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        int d = cli_distance(name, len, commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
        }
    }
    if (best && best_d <= (int)len / 2 + 2)
        cli_error("unknown command '%s' (did you mean '%s'?)", name, best);
    else
        cli_error("unknown command '%s'", name);
    fprintf(stderr, "Run 'micronlp --help' for the list of commands.\n");
    return MN_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MN_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
        usage(stdout);
        return MN_EXIT_OK;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0 || strcmp(a, "version") == 0) {
        printf("micronlp %s\n", MN_VERSION);
        return MN_EXIT_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return MN_EXIT_OK;
        }
        const command *c = lookup(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        char help[] = "--help";
        char *args[] = {argv[0], argv[2], help, NULL};
        return c->fn ? c->fn(2, args + 1) : hand_over(args);
    }
    if (a[0] == '-') {
        cli_error("unknown option '%s' (options go after the command)", a);
        fprintf(stderr, "Run 'micronlp --help' for the list of commands.\n");
        return MN_EXIT_USAGE;
    }
    const command *c = lookup(a);
    if (!c)
        return unknown_command(a);
    return c->fn ? c->fn(argc - 1, argv + 1) : hand_over(argv);
}

/* ---- helpers shared by the subcommands (declared in cli.h) ------------------------------ */

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "micronlp: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("error", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning", fmt, ap);
    va_end(ap);
}

void cli_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("note", fmt, ap);
    va_end(ap);
}

int cli_finish_stream(FILE *in, const char *name, const char *what)
{
    if (ferror(in)) {
        fflush(stdout);
        cli_error("%s: read error: %s", name, strerror(errno));
        return -1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("writing the %s failed: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_fail(const mn_err *err, int rc, const char *path)
{
    if (err && err->code != 0 && err->msg[0] != '\0') {
        if (path && !strstr(err->msg, path))
            cli_error("%s: %s", path, err->msg);
        else
            cli_error("%s", err->msg);
    } else if (path) {
        cli_error("%s: %s", path, mn_strerror(rc));
    } else {
        cli_error("%s", mn_strerror(rc));
    }
    return MN_EXIT_FAIL;
}

int cli_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_program_dir(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

const char *cli_default_repo(char *buf, size_t cap)
{
    if (cli_is_dir("models"))
        return "models";
    if (!buf || cap == 0)
        return NULL;
    char exe[PATH_MAX];
    if (cli_program_dir(exe, sizeof exe) != 0)
        return NULL;
    /* the build tree or a bin/ directory; ../../ is from libexec/micronlp/ (micronlp-net) */
    static const char *const rel[] = {"models", "../models", "../share/micronlp/models",
                                      "../../share/micronlp/models"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(buf, cap, "%s/%s", exe, rel[i]);
        if (cli_is_dir(buf))
            return buf;
    }
    return NULL;
}

int cli_check_input(const char *what, const char *path, int allow_stdin)
{
    if (allow_stdin && strcmp(path, "-") == 0)
        return 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            cli_error("%s %s: no such file", what, path);
        else
            cli_error("%s %s: %s", what, path, strerror(e));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error("%s %s: is a directory, not a file", what, path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

int cli_check_output(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("%s %s: is a directory; give a file name", what, path);
        return -1;
    }
    /* The directory part must exist: "a/b/m.mnlp" needs "a/b". */
    const char *slash = strrchr(path, '/');
    if (slash) {
        char dir[4096];
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) {
            cli_error("%s %s: path too long", what, path);
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error("%s %s: directory %s does not exist", what, path, dir);
            return -1;
        }
    }
    return 0;
}

long long cli_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

const char *cli_human_size(unsigned long long bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", bytes);
    else
        snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

void cli_json_str(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fputs("\\u00", f);
                putc(hex[c >> 4], f);
                putc(hex[c & 15], f);
            } else {
                putc(c, f);
            }
        }
    }
    putc('"', f);
}

void cli_json_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

int cli_distance(const char *a, size_t alen, const char *b)
{
    enum { MAX = 64 };
    size_t blen = strlen(b);
    if (alen >= MAX || blen >= MAX)
        return 1 << 20;
    /* Three rows of the optimal-string-alignment table: row i lives in rows[i % 3]. */
    int rows[3][MAX];
    for (size_t j = 0; j <= blen; j++)
        rows[0][j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        int *p = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
        p[0] = (int)i;
        for (size_t j = 1; j <= blen; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = prev[j] + 1;
            if (p[j - 1] + 1 < v)
                v = p[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            p[j] = v;
        }
    }
    return rows[alen % 3][blen];
}
