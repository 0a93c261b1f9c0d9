/* SPDX-License-Identifier: MIT
 *
 * Option tables for the subcommands. Each command declares its options once, as an array of
 * opt_spec (long name, fastText alias, type, bounds, field offset, help); that one table
 * drives parsing, range checks, "did you mean" hints and the generated --help text.
 *
 * Defaults are not written in the table: a command first fills its option struct (usually
 * from the library's *_init function, e.g. mn_classifier_config_init), and the value a field
 * holds when parsing starts is its default. So --help can never drift from the library.
 *
 * Spellings accepted for an option named "word-ngrams" with alias "wordNgrams":
 *   --word-ngrams 2   --word-ngrams=2   -word-ngrams 2   -wordNgrams 2   --wordNgrams=2
 * Boolean options take no value (--json), or an explicit one (--json=false).
 * "--" ends the options; "-" alone is a positional argument (standard input).
 */
#ifndef MN_CLI_OPTIONS_H
#define MN_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

typedef enum opt_type {
    OPT_END = 0, /* terminates a table */
    OPT_INT,     /* int */
    OPT_U32,     /* uint32_t */
    OPT_U64,     /* uint64_t */
    OPT_SIZE,    /* size_t */
    OPT_DOUBLE,  /* double */
    OPT_STRING,  /* const char * (points into argv) */
    OPT_BOOL,    /* int, 0 or 1 */
    OPT_ENUM,    /* int: index into choices (choices[i] names value i) */
} opt_type;

enum {
    OPT_REQUIRED = 1u << 0, /* parsing fails if a string option is still NULL at the end */
    OPT_HIDDEN = 1u << 1,   /* accepted, but not listed in --help (compatibility spellings) */
};

typedef struct opt_spec {
    const char *name;  /* long name without dashes: "word-ngrams" */
    const char *alias; /* other spelling (fastText's), or NULL: "wordNgrams" */
    opt_type type;
    double min, max;   /* inclusive bounds for numeric types (ignored when min > max) */
    const char *const *choices; /* OPT_ENUM: NULL-terminated value names */
    size_t offset;     /* offsetof(<command's option struct>, field) */
    const char *metavar; /* "N", "FILE", "X" shown in --help */
    const char *help;  /* one line */
    unsigned flags;    /* OPT_REQUIRED, OPT_HIDDEN */
} opt_spec;

/* A command's whole command-line description. */
typedef struct opt_command {
    const char *name;  /* "train" */
    const char *usage; /* after "micronlp train ": "--input FILE --output FILE [options]" */
    const char *about; /* a paragraph printed under the usage line; may be NULL */
    const opt_spec *specs; /* terminated by an entry with type OPT_END */
} opt_command;

enum {
    OPT_OK = 0,   /* parsed; run the command */
    OPT_HELP = 1, /* --help was printed to stdout: exit 0 */
    OPT_ERROR = -1, /* a usage error was printed to stderr: exit 2 */
};

/* Parses argv[1..argc) (argv[0] is the command name) into the struct at base. Arguments that
 * are not options are stored in pos[0..*npos) in order; more than pos_cap of them is a usage
 * error. Returns OPT_OK, OPT_HELP or OPT_ERROR (message already printed). */
int opt_parse(const opt_command *cmd, void *base, int argc, char **argv, char **pos,
              int pos_cap, int *npos);

/* Writes the generated help for cmd, showing the current field values of base as defaults. */
void opt_print_help(const opt_command *cmd, const void *base, FILE *out);

/* Prints "micronlp: error: <fmt>" plus a hint to run --help; returns MN_EXIT_USAGE.
 * For checks a command makes after parsing (options that depend on each other). */
int opt_usage_error(const opt_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The positional arguments of a predicting command: the model may come first instead of
 * --model (when it ends in .mnlp, .bin or .ftz), then at most one input file ("-" or none =
 * standard input). Sets *model (if still NULL), *path and *name (for messages: "<stdin>" or the
 * path) and returns -1 to go on, or an exit code after printing the usage error. Then checks
 * that the model and input are readable files (exit code 1 with a message if not). */
int opt_predict_inputs(const opt_command *cmd, char **pos, int npos, const char **model,
                       const char **path, const char **name);

#endif
