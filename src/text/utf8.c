/* SPDX-License-Identifier: MIT
 *
 * UTF-8 validation, decoding, encoding and repair. Every other part of the text layer reads
 * text through these functions, so they implement the strict definition of well-formed UTF-8
 * (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF) and take a
 * fast path over runs of ASCII, checked 8 bytes at a time. Nothing here allocates.
 */
#include "micronlp/text.h"

#include "micronlp/err.h"
#include "text/internal.h"

#include <string.h>

#define ASCII_MASK 0x8080808080808080ull

/* True if the 8 bytes at p are all ASCII. memcpy keeps the load legal at any alignment; the
 * compiler turns it into one unaligned load. */
static inline int ascii8(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (v & ASCII_MASK) == 0;
}

size_t mn_utf8_decode(const char *s, size_t len, int32_t *cp)
{
    if (len == 0) {
        *cp = -1;
        return 0;
    }
    return mn__utf8_decode1(s, len, cp);
}

int mn_utf8_validate(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII dominates most corpora: skip it 8 bytes at a time. */
        while (i + 8 <= len && ascii8(p + i))
            i += 8;
        while (i < len && p[i] < 0x80)
            i++;
        if (i == len)
            break;
        int32_t cp;
        size_t n = mn__utf8_decode_raw(p + i, len - i, &cp);
        if (cp < 0) {
            if (bad_offset)
                *bad_offset = i;
            return MN_EUTF8;
        }
        i += n;
    }
    return 0;
}

size_t mn_utf8_encode(int32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD; /* not a scalar value: encode the replacement character instead */
    uint32_t u = (uint32_t)cp;
    if (u < 0x80) {
        o[0] = (unsigned char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (unsigned char)(0xC0 | u >> 6);
        o[1] = (unsigned char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (unsigned char)(0xE0 | u >> 12);
        o[1] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | u >> 18);
    o[1] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (u & 0x3F));
    return 4;
}

size_t mn_utf8_repair(const char *s, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        while (i + 8 <= len && ascii8(p + i)) {
            memcpy(out + o, p + i, 8);
            i += 8;
            o += 8;
        }
        if (i == len)
            break;
        if (p[i] < 0x80) {
            out[o++] = (char)p[i++];
            continue;
        }
        int32_t cp;
        size_t n = mn__utf8_decode_raw(p + i, len - i, &cp);
        if (cp < 0) {
            /* One U+FFFD per maximal subpart, so "E2 82 41" becomes U+FFFD "A". */
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
        }
        i += n;
    }
    return o;
}
