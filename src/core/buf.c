/* SPDX-License-Identifier: MIT
 *
 * The reusable byte buffer and JSON writer (see buf.h).
 */
#include "core/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/err.h"

void mn__buf_reset(mn__buf *b)
{
    b->len = 0;
    b->oom = 0;
}

void mn__buf_free(mn__buf *b)
{
    mn_free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

int mn__buf_reserve(mn__buf *b, size_t extra)
{
    if (b->oom)
        return MN_ENOMEM;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = mn_realloc(b->ptr, cap);
    if (!p) {
        b->oom = 1;
        return MN_ENOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

void mn__buf_put(mn__buf *b, const char *s, size_t len)
{
    if (mn__buf_reserve(b, len) != 0)
        return;
    memcpy(b->ptr + b->len, s, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void mn__buf_puts(mn__buf *b, const char *s)
{
    mn__buf_put(b, s, strlen(s));
}

void mn__buf_printf(mn__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        mn__buf_put(b, small, (size_t)n);
        return;
    }
    if (mn__buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mn__buf_json_str(mn__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (mn__buf_reserve(b, len * 6 + 2) != 0)
        return;
    char *o = b->ptr + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
}

void mn__buf_json_num(mn__buf *b, double v)
{
    if (isnan(v) || isinf(v))
        mn__buf_put(b, "null", 4);
    else
        mn__buf_printf(b, "%.6g", v);
}
