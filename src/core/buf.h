/* SPDX-License-Identifier: MIT
 *
 * A grow-only byte buffer with a JSON writer, reused across requests and results: the service's
 * responses, the pipeline's combined results and the job store's rows are all printed into one.
 * Internal to micronlp (not installed).
 */
#ifndef MN_CORE_BUF_H
#define MN_CORE_BUF_H

#include <stddef.h>

/* After a failed allocation `oom` is set and further writes are dropped, so writers need not
 * check every call; check oom (or mn__buf_reserve's result) once at the end. */
typedef struct mn__buf {
    char *ptr;
    size_t len, cap;
    int oom;
} mn__buf;

void mn__buf_reset(mn__buf *b);
void mn__buf_free(mn__buf *b);
int mn__buf_reserve(mn__buf *b, size_t extra_bytes);
void mn__buf_put(mn__buf *b, const char *s, size_t len);
void mn__buf_puts(mn__buf *b, const char *s);
void mn__buf_printf(mn__buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A JSON string with quotes; s must be valid UTF-8. */
void mn__buf_json_str(mn__buf *b, const char *s, size_t len);
/* A JSON number with up to 6 significant digits; NaN and infinities become null. */
void mn__buf_json_num(mn__buf *b, double v);

#endif
