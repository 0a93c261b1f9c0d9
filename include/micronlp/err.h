/* SPDX-License-Identifier: MIT
 *
 * Error codes and the error record that functions reading outside input fill in.
 *
 * Every function returns an int: 0 on success, a negative code on failure. Our own codes are
 * generated from MN_ERRNO_MAP below; failures of the operating system come back as -errno, so
 * mn_strerror() can name both. Functions that read files, requests or options also take an
 * mn_err * that receives a human message such as "train.txt:12: invalid UTF-8 at byte 7".
 * Filling an mn_err never allocates, so it works when memory is exhausted.
 */
#ifndef MICRONLP_ERR_H
#define MICRONLP_ERR_H

#include <stddef.h>

/* X(name, message). Values start at -10000, well clear of any -errno. */
#define MN_ERRNO_MAP(X)                                                                            \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOMEM, "out of memory")                                                                     \
    X(EUTF8, "invalid UTF-8")                                                                      \
    X(EFORMAT, "malformed input")                                                                  \
    X(ECORRUPT, "corrupted file")                                                                  \
    X(ETRUNC, "truncated file")                                                                    \
    X(EFOREIGN, "not a micronlp file")                                                             \
    X(EVERSION, "unsupported format version")                                                      \
    X(ETOOBIG, "input too large")                                                                  \
    X(ENOTFOUND, "not found")                                                                      \
    X(EUNSUPPORTED, "unsupported operation")                                                       \
    X(EEMPTY, "empty input")                                                                       \
    X(EUSAGE, "invalid usage")

enum {
    MN_OK = 0,
    MN__ERR_BASE = -10000,
#define MN__ERR_ENUM(name, msg) MN_##name,
    MN_ERRNO_MAP(MN__ERR_ENUM)
#undef MN__ERR_ENUM
    MN__ERR_END
};

/* Converts an errno value to our convention (negative). */
#define MN_ERRNO(e) (-(e))

/* Returns a static description of any code returned by micronlp (ours or -errno). Never NULL. */
const char *mn_strerror(int code);

/* Returns the symbolic name of a code ("MN_EUTF8", "ENOENT" for -ENOENT, "OK"). Never NULL. */
const char *mn_errname(int code);

#define MN_ERR_MSG_MAX 512

/* Caller-owned error record. code is 0 until an error is set. */
typedef struct mn_err {
    int code;
    char msg[MN_ERR_MSG_MAX];
} mn_err;

/* Clears the record. */
void mn_err_clear(mn_err *err);

/* Sets code and a printf-formatted message, truncated to fit. err may be NULL, in which case
 * nothing is recorded. Returns code so callers can write `return mn_err_set(err, MN_EINVAL, ...)`. */
int mn_err_set(mn_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to an existing message (used to add a file name on the way up). */
void mn_err_prefix(mn_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
