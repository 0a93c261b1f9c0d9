/* SPDX-License-Identifier: MIT
 *
 * The code table behind mn_strerror() and the mn_err record helpers. Nothing here allocates.
 */
#include "micronlp/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *mn_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define MN__ERR_STR(name, msg)                                                                     \
    case MN_##name:                                                                                \
        return msg;
        MN_ERRNO_MAP(MN__ERR_STR)
#undef MN__ERR_STR
    default:
        break;
    }
    if (code < 0 && code > MN__ERR_BASE)
        return strerror(-code);
    return "unknown error";
}

const char *mn_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define MN__ERR_NAME(name, msg)                                                                    \
    case MN_##name:                                                                                \
        return "MN_" #name;
        MN_ERRNO_MAP(MN__ERR_NAME)
#undef MN__ERR_NAME
    case -ENOENT:
        return "ENOENT";
    case -EACCES:
        return "EACCES";
    case -EISDIR:
        return "EISDIR";
    case -EIO:
        return "EIO";
    default:
        return "EUNKNOWN";
    }
}

void mn_err_clear(mn_err *err)
{
    if (!err)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}

int mn_err_set(mn_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void mn_err_prefix(mn_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[MN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* Build "prefix: old" by hand: truncation is intended, and snprintf would warn. */
    char old[MN_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    size_t cap = sizeof err->msg - 1, pos = 0;
    for (const char *parts[] = {prefix, ": ", old}, **p = parts; p < parts + 3; p++) {
        size_t len = strlen(*p);
        if (len > cap - pos)
            len = cap - pos;
        memcpy(err->msg + pos, *p, len);
        pos += len;
    }
    err->msg[pos] = '\0';
}
