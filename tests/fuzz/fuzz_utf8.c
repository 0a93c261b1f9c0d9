/* SPDX-License-Identifier: MIT
 *
 * libFuzzer driver for src/text/utf8.c and src/text/normalize.c. Checks, for any input: decode
 * walks the text in 1..4-byte steps and finds an ill-formed sequence exactly when validate
 * fails, at the same offset; repair output is valid, bounded by 3 * len, and equals the input
 * exactly when validate succeeds; encode(decode(x)) gives back x; normalize never writes past
 * cap, reports the same size whatever cap is, outputs valid UTF-8 and treats the input and its
 * repair alike. Build and run: see tests/fuzz/README.md.
 */
#include "micronlp/text.h"

#include "micronlp/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define MAX_IN 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_IN)
        return 0;
    const char *s = (const char *)data;
    static char rep[3 * MAX_IN], norm[8 * MAX_IN + 64], norm2[8 * MAX_IN + 64];

    size_t bad = (size_t)-1;
    int rc = mn_utf8_validate(s, size, &bad);
    CHECK(rc == 0 || rc == MN_EUTF8);

    size_t first_bad = (size_t)-1;
    for (size_t i = 0; i < size;) {
        int32_t cp;
        size_t n = mn_utf8_decode(s + i, size - i, &cp);
        CHECK(n >= 1 && n <= 4 && i + n <= size);
        if (cp < 0) {
            CHECK(n == 1);
            if (first_bad == (size_t)-1)
                first_bad = i;
        } else {
            char enc[4];
            CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
            CHECK(mn_utf8_encode(cp, enc) == n && memcmp(enc, s + i, n) == 0);
        }
        i += n;
    }
    CHECK((rc == 0) == (first_bad == (size_t)-1));
    if (rc)
        CHECK(bad == first_bad);

    size_t rn = mn_utf8_repair(s, size, rep);
    CHECK(rn <= 3 * size);
    CHECK(mn_utf8_validate(rep, rn, NULL) == 0);
    CHECK((rc == 0) == (rn == size && memcmp(rep, s, size) == 0));

    unsigned flags = size ? data[0] & 7u : 0;
    size_t need = 0;
    int nrc = mn_normalize(s, size, flags, norm, sizeof norm, &need);
    if (nrc == 0) {
        CHECK(mn_utf8_validate(norm, need, NULL) == 0);
        size_t need2 = 0;
        CHECK(mn_normalize(rep, rn, flags, norm2, sizeof norm2, &need2) == 0);
        CHECK(need2 == need && memcmp(norm, norm2, need) == 0);
        /* a too small buffer: exact size reported, nothing written past cap */
        size_t cap = need / 2;
        char *small = malloc(cap + 16);
        CHECK(small != NULL);
        memset(small, 0x5A, cap + 16);
        size_t need3 = 0;
        int r3 = mn_normalize(s, size, flags, small, cap, &need3);
        CHECK(need3 == need);
        CHECK(r3 == (cap < need ? MN_ETOOBIG : 0));
        for (size_t k = cap; k < cap + 16; k++)
            CHECK((unsigned char)small[k] == 0x5A);
        free(small);
    } else {
        CHECK(nrc == MN_ETOOBIG && need > sizeof norm);
    }
    return 0;
}
