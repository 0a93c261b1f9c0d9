/* SPDX-License-Identifier: MIT
 *
 * What every file of the `micronlp` command shares: the list of subcommands (one X-macro line
 * each, which gives both the cmd_<name>() prototypes below and the command table in main.c),
 * the exit codes, and small helpers for printing errors, checking paths and writing JSON.
 * Adding a subcommand is one line in MN_CLI_COMMANDS plus one file src/cli/cmd_<name>.c (or
 * src/cli/net/cmd_<name>.c) that defines `int cmd_<name>(int argc, char **argv)`; argv[0] is the
 * subcommand's name.
 *
 * The library never prints; everything the user sees comes from here. Errors go to stderr as
 * "micronlp: error: <message>", results to stdout.
 */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "micronlp/err.h"

#ifndef MN_VERSION
#define MN_VERSION "0.1.0"
#endif

/* X(name, where, one-line summary), in the order `micronlp --help` lists them. `where` is
 * LOCAL for commands that only read and write files, NET for those that talk HTTP (a server, or a
 * client of one): they live in src/cli/net/ and are built only into `micronlp-net`, the half of
 * the command that links libmicrohttpd and libcurl. Loading those libraries (and the TLS stacks
 * they pull in) costs ~16 ms at every start, more than `predict` needs for a small file, so
 * `micronlp` leaves them out and hands a NET command over to `micronlp-net` with execv (same
 * process id, same arguments). */
#define MN_CLI_COMMANDS(X)                                                                         \
    X(train, LOCAL, "train a model: classifier (default), tagger, langid or keywords")             \
    X(eval, LOCAL, "measure a model on a labelled file (accuracy, P@k, R@k, F1, confusion)")      \
    X(predict, LOCAL, "label each line of a file or of standard input")                           \
    X(info, LOCAL, "describe a model file: type, version, size, labels, metadata")                 \
    X(quantize, LOCAL, "shrink a classifier to 8-bit weights (optionally pruned)")                \
    X(serve, NET, "serve models over HTTP (native, Hugging Face, Open Inference v2), hot swap")  \
    X(route, LOCAL, "run a pipeline on texts: only the models each text needs; --explain says why") \
    X(submit, NET, "send the texts of a file to a running server as jobs (results saved there)") \
    X(jobs, NET, "list, show and export jobs and their results from a running server")

#define MN__CLI_DECL(name, where, summary) int cmd_##name(int argc, char **argv);
MN_CLI_COMMANDS(MN__CLI_DECL)
#undef MN__CLI_DECL

/* `micronlp train --type T` for model types other than the classifier: each lives in its own
 * file, src/cli/cmd_train_<type>.c, with its own option table. */
int cmd_train_tagger(int argc, char **argv);
int cmd_train_langid(int argc, char **argv);
int cmd_train_keywords(int argc, char **argv);

/* `micronlp eval` / `predict` on a tagger model (cmd_eval_tagger.c, cmd_predict_tagger.c):
 * cmd_eval and cmd_predict hand over when cli_is_tagger_model() says the --model file (or
 * the first argument ending in .mnlp) is a micronlp tagger. */
int cli_is_tagger_model(int argc, char **argv);
int cmd_eval_tagger(int argc, char **argv);
int cmd_predict_tagger(int argc, char **argv);

/* `micronlp predict` on a keywords model (cmd_predict_keywords.c): texts as arguments or lines,
 * key phrases out. cli_is_keywords_model() looks at the header of the --model file (or the
 * first argument ending in .mnlp). */
int cli_is_keywords_model(int argc, char **argv);
int cmd_predict_keywords(int argc, char **argv);

/* Exit codes, listed in `micronlp --help`. */
enum {
    MN_EXIT_OK = 0,    /* success */
    MN_EXIT_FAIL = 1,  /* bad data, bad model, I/O error, out of memory */
    MN_EXIT_USAGE = 2, /* bad command line */
};

/* "micronlp: error: <fmt>\n" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* "micronlp: warning: <fmt>\n" and "micronlp: note: <fmt>\n" on stderr. */
void cli_warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void cli_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Reports a failed library call and returns MN_EXIT_FAIL. Prints err's message when it has
 * one (prefixed with path if the message does not already name it), else "path: <strerror>".
 * path may be NULL. */
int cli_fail(const mn_err *err, int rc, const char *path);

/* Checks before any work is done that path names a readable regular file (or is "-" when
 * allow_stdin). Prints a clear error naming the path ("no such file", "is a directory") and
 * returns -1; 0 if fine. what is the option it came from, e.g. "--input". */
int cli_check_input(const char *what, const char *path, int allow_stdin);

/* Checks that path can be created: its directory exists and path is not a directory.
 * Prints an error and returns -1, else 0. Called before training, so a long run never ends
 * in "cannot write". */
int cli_check_output(const char *what, const char *path);

/* 1 if path is a directory. */
int cli_is_dir(const char *path);

/* The directory of this program's executable (/proc/self/exe without its last part) into
 * buf. Returns 0, or -1 when it cannot be read. */
int cli_program_dir(char *buf, size_t cap);

/* The shipped models/ directory: ./models, else models/ beside or above this binary's
 * directory. NULL when none is found; buf holds the path when it is not "models". */
const char *cli_default_repo(char *buf, size_t cap);

/* The end of a predicting command's loop: reports a read error on `in` (named `name`) or a
 * failure writing standard output ("writing the <what> failed"). Returns 0 if both are fine,
 * else -1 after printing the error. */
int cli_finish_stream(FILE *in, const char *name, const char *what);

/* Size of a file in bytes, or -1. */
long long cli_file_size(const char *path);

/* "12.3 KiB" into buf. Returns buf. */
const char *cli_human_size(unsigned long long bytes, char *buf, size_t cap);

/* Writes s[0..len) as a JSON string with quotes and escapes ("\"", "\\", control characters
 * as \n \t \uXXXX). s must be valid UTF-8 (what the library hands out always is). */
void cli_json_str(FILE *f, const char *s, size_t len);

/* Writes a JSON number with 6 significant digits; NaN and infinities become null. */
void cli_json_num(FILE *f, double v);

/* Edit distance (optimal string alignment: insert, delete, substitute, swap two neighbours)
 * between a[0..alen) and b, for "did you mean" hints. Strings longer than 63 bytes compare
 * as far apart. */
int cli_distance(const char *a, size_t alen, const char *b);

#endif
