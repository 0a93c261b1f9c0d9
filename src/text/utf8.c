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

/* Length of the sequence announced by lead byte c (0 for bytes that can never start one) and
 * the allowed range of its second byte; later bytes are always 80..BF. */
static inline size_t lead_info(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0xC2)
        return 0; /* continuation bytes, and C0/C1 which only start overlong forms */
    if (c < 0xE0)
        return 2;
    if (c < 0xF0) {
        if (c == 0xE0)
            *lo = 0xA0; /* E0 80..9F would be overlong */
        else if (c == 0xED)
            *hi = 0x9F; /* ED A0..BF would be a surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (c == 0xF0)
            *lo = 0x90; /* overlong */
        else if (c == 0xF4)
            *hi = 0x8F; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* Decodes a well-formed sequence at p or returns the length of its maximal ill-formed subpart
 * (>= 1) with *cp = -1. */
static inline size_t decode(const unsigned char *p, size_t len, int32_t *cp)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    unsigned lo, hi;
    size_t n = lead_info(c, &lo, &hi);
    if (n == 0) {
        *cp = -1;
        return 1;
    }
    if (len < 2 || p[1] < lo || p[1] > hi) {
        *cp = -1;
        return 1;
    }
    int32_t v = (int32_t)(c & (0x7Fu >> n)) << 6 | (int32_t)(p[1] & 0x3F);
    for (size_t i = 2; i < n; i++) {
        if (i >= len || (p[i] & 0xC0) != 0x80) {
            *cp = -1;
            return i; /* lead plus the valid continuation bytes seen so far */
        }
        v = v << 6 | (int32_t)(p[i] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t mn_utf8_decode(const char *s, size_t len, int32_t *cp)
{
    if (len == 0) {
        *cp = -1;
        return 0;
    }
    size_t n = decode((const unsigned char *)s, len, cp);
    return *cp < 0 ? 1 : n;
}

size_t mn__utf8_decode_lenient(const char *s, size_t len, int32_t *cp, int *bad)
{
    size_t n = decode((const unsigned char *)s, len, cp);
    *bad = *cp < 0;
    if (*bad)
        *cp = 0xFFFD;
    return n;
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
        size_t n = decode(p + i, len - i, &cp);
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
        size_t n = decode(p + i, len - i, &cp);
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
