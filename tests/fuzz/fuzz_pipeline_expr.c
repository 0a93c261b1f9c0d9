/* SPDX-License-Identifier: MIT
 *
 * libFuzzer driver for src/pipeline/expr.c, the `when:` expression compiler and evaluator.
 * The input is the expression source; a fixed lookup offers a few fields of each type (and an
 * alias). Checks, for any input: compile returns 0, MN_EFORMAT or MN_EINVAL; on failure *out
 * is untouched and the error has a non-empty, valid UTF-8 message and an offset inside the
 * source; on success the source is kept byte for byte and the slots are distinct, known and
 * in range. Evaluation gives -1, 0 or 1, never -1 when no value is missing, and is monotone
 * in Kleene's sense: a result reached with some values missing stays the same whatever those
 * values are. `not (src)` evaluates to the negation. explain never writes past cap and
 * writes valid UTF-8. With the k-th allocation failing, compile returns MN_ENOMEM or what it
 * returned before, and leaks nothing. Build and run: see tests/fuzz/README.md.
 */
#include "pipeline/expr.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/err.h"
#include "micronlp/text.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NSLOTS = 7 };

static const struct {
    const char *name;
    uint32_t slot;
    mn__etype type;
} fields[] = {
    {"len", 0, MN__T_NUM},        {"bytes", 1, MN__T_NUM},        {"lang.label", 2, MN__T_STR},
    {"script", 3, MN__T_STR},     {"has_url", 4, MN__T_BOOL},     {"spam.is_spam", 5, MN__T_BOOL},
    {"spam.score", 6, MN__T_NUM}, {"text.len", 0, MN__T_NUM}, /* alias of len */
};

static int lookup(void *ctx, const char *name, size_t len, uint32_t *slot, mn__etype *type,
                  char *msg, size_t msg_cap)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0) {
            *slot = fields[i].slot;
            *type = fields[i].type;
            return 0;
        }
    if (len > 2 && name[0] == 'x' && name[1] == '.') /* a message to pass through */
        snprintf(msg, msg_cap, "unknown step 'x' in '%.*s'", (int)len, name);
    return MN_EINVAL;
}

static mn__value num(double x)
{
    return (mn__value){.type = MN__T_NUM, .num = x};
}

static mn__value str(const char *s)
{
    return (mn__value){.type = MN__T_STR, .str = s, .len = strlen(s)};
}

static mn__value bln(int b)
{
    return (mn__value){.type = MN__T_BOOL, .num = b};
}

/* Two full value sets; masks of missing slots are applied on top. */
static void full_set(int which, mn__value *v)
{
    if (which == 0) {
        v[0] = num(42), v[1] = num(44), v[2] = str("en"), v[3] = str("Latn");
        v[4] = bln(1), v[5] = bln(0), v[6] = num(0.1);
    } else if (which == 1) {
        v[0] = num(0), v[1] = num(-1), v[2] = str(""), v[3] = str("de");
        v[4] = bln(0), v[5] = bln(1), v[6] = num(NAN);
    } else {
        v[0] = num(1e300), v[1] = num(-0.0), v[2] = str("de"), v[3] = str("\xC3\xA9\"\\\n");
        v[4] = bln(1), v[5] = bln(1), v[6] = num(0.5);
    }
}

static void check_explain(const mn__expr *e, const mn__value *v)
{
    static const size_t caps[] = {0, 1, 2, 5, 17, 40, 512};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t cap = caps[i];
        char *buf = malloc(cap ? cap : 1); /* exact size: ASan sees any write past cap */
        CHECK(buf != NULL);
        size_t n = mn__expr_explain(e, v, buf, cap);
        if (cap) {
            CHECK(n < cap && strlen(buf) == n);
            CHECK(mn_utf8_validate(buf, n, NULL) == 0);
        } else {
            CHECK(n == 0);
        }
        free(buf);
    }
}

static void check_error(int rc, const mn__expr *e, const mn__expr_error *err, size_t size)
{
    CHECK(rc == MN_EFORMAT || rc == MN_EINVAL);
    CHECK(e == (const mn__expr *)err); /* the sentinel: *out untouched */
    size_t n = strnlen(err->msg, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg);
    CHECK(mn_utf8_validate(err->msg, n, NULL) == 0);
    CHECK(err->offset <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MN__EXPR_MAX_SOURCE + 64)
        return 0;
    const char *src = (const char *)data;
    mn__expr_error err;
    mn__expr *e = (mn__expr *)&err;
    int rc = mn__expr_compile(src, size, lookup, NULL, &e, &err);
    if (rc != 0) {
        check_error(rc, e, &err, size);
    } else {
        CHECK(e != (mn__expr *)&err && e != NULL);
        CHECK(strlen(mn__expr_source(e)) == size && memcmp(mn__expr_source(e), src, size) == 0);
        size_t ns = mn__expr_nslots(e);
        CHECK(ns <= NSLOTS);
        for (size_t i = 0; i < ns; i++) {
            CHECK(mn__expr_slot(e, i) < NSLOTS);
            for (size_t j = 0; j < i; j++)
                CHECK(mn__expr_slot(e, i) != mn__expr_slot(e, j));
        }
        CHECK(mn__expr_slot(e, ns) == UINT32_MAX);

        /* not (src): the negation, unless the extra level or bytes hit a limit */
        int neg_rc = -1;
        mn__expr *neg = NULL;
        char *wrapped = malloc(size + 7);
        CHECK(wrapped != NULL);
        memcpy(wrapped, "not (", 5);
        memcpy(wrapped + 5, src, size);
        wrapped[size + 5] = ')';
        neg_rc = mn__expr_compile(wrapped, size + 6, lookup, NULL, &neg, &err);
        free(wrapped);
        CHECK(neg_rc == 0 || neg_rc == MN_EINVAL);

        mn__value full[NSLOTS], part[NSLOTS];
        uint32_t seed = 2166136261u;
        for (size_t i = 0; i < size; i++)
            seed = (seed ^ data[i]) * 16777619u;
        for (int which = 0; which < 3; which++) {
            full_set(which, full);
            int r = mn__expr_eval(e, full);
            CHECK(r == 1 || r == 0); /* nothing missing: never unknown */
            if (neg_rc == 0)
                CHECK(mn__expr_eval(neg, full) == 1 - r);
            check_explain(e, full);
            for (int m = 0; m < 6; m++) {
                uint32_t mask = m == 0 ? 0x7Fu : (seed >> (m * 5)) & 0x7Fu;
                for (int s = 0; s < NSLOTS; s++)
                    part[s] = (mask >> s) & 1 ? (mn__value){.type = MN__T_MISSING} : full[s];
                if (m == 5) /* a value of the wrong type counts as missing */
                    for (int s = 0; s < NSLOTS; s++)
                        if ((mask >> s) & 1)
                            part[s] = full[s].type == MN__T_STR ? num(1) : str("x");
                int rp = mn__expr_eval(e, part);
                CHECK(rp == -1 || rp == 0 || rp == 1);
                if (rp != -1)
                    CHECK(rp == r); /* Kleene logic is monotone */
                if (neg_rc == 0)
                    CHECK(mn__expr_eval(neg, part) == (rp == -1 ? -1 : 1 - rp));
                check_explain(e, part);
            }
        }
        mn__expr_free(neg);
        mn__expr_free(e);
    }

    /* the k-th allocation fails: out of memory, or the same outcome as before */
    long k = size ? 1 + data[size - 1] % 12 : 1;
    mn__expr *f = (mn__expr *)&err;
    mn_alloc_fail_after(k);
    int frc = mn__expr_compile(src, size, lookup, NULL, &f, &err);
    mn_alloc_fail_after(0);
    CHECK(frc == MN_ENOMEM || frc == rc);
    if (frc == 0)
        mn__expr_free(f);
    else
        CHECK(f == (mn__expr *)&err);
    return 0;
}
