/* SPDX-License-Identifier: MIT
 *
 * Helpers shared by the files of the text layer (the .c files of src/text) and their tests, not part of the
 * public API. Names start with mn__ (STYLE.md section 2).
 */
#ifndef MN_TEXT_INTERNAL_H
#define MN_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Length of the sequence announced by lead byte c (0 for bytes that can never start one) and
 * the allowed range of its second byte; later bytes are always 80..BF. */
static inline size_t mn__utf8_lead_info(unsigned c, unsigned *lo, unsigned *hi)
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
 * (>= 1) with *cp = -1; len must be > 0. Inline, because the tokenizer, the sentencer and
 * normalisation decode every non-ASCII code point of a text and a call costs as much as the
 * decoding; mn_utf8_decode and mn__utf8_decode_lenient are this plus their error conventions. */
static inline size_t mn__utf8_decode_raw(const unsigned char *p, size_t len, int32_t *cp)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    unsigned lo, hi;
    size_t n = mn__utf8_lead_info(c, &lo, &hi);
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

/* mn_utf8_decode() inline, for len > 0: an ill-formed byte gives *cp = -1 and 1. */
static inline size_t mn__utf8_decode1(const char *s, size_t len, int32_t *cp)
{
    size_t n = mn__utf8_decode_raw((const unsigned char *)s, len, cp);
    return *cp < 0 ? 1 : n;
}

/* Decodes one code point like mn_utf8_decode(), but an ill-formed sequence consumes its whole
 * "maximal subpart" (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts"; the
 * same rule as the WHATWG encoding standard and Python) and stores 0xFFFD in *cp.
 * Sets *bad to 1 for an ill-formed sequence, else 0. len must be > 0. */
static inline size_t mn__utf8_decode_lenient(const char *s, size_t len, int32_t *cp, int *bad)
{
    size_t n = mn__utf8_decode_raw((const unsigned char *)s, len, cp);
    *bad = *cp < 0;
    if (*bad)
        *cp = 0xFFFD;
    return n;
}

/* Hashes the concatenation a[0..alen) b[0..blen) c[0..clen) exactly as mn_hash64() hashes the
 * joined bytes, without allocating (short inputs go through a stack buffer, long ones through
 * XXH3's streaming state on the stack). Any pointer may be NULL when its length is 0. */
uint64_t mn__hash64_concat3(const void *a, size_t alen, const void *b, size_t blen,
                            const void *c, size_t clen);

/* The character n-grams of a word, hashed: v holds "<w>", start[k] is the byte offset of its
 * k-th code point (k < ncp, start[ncp] = the length of v). For k in [k0, k1) and e from k + minn
 * to min(k + maxn, ncp), skipping "<" and ">" alone (e == k + 1 at k == 0 or e == ncp), out
 * gets mn_hash64 of v[start[k] .. start[e]), in that order; returns the count. One call per
 * word rather than one per n-gram, so XXH3's short-input path is inlined into the loop. The
 * caller makes room for (k1 - k0) * (maxn - minn + 1) values (minn >= 1). */
size_t mn__hash64_ngrams(const unsigned char *v, const uint16_t *start, size_t ncp, size_t k0,
                         size_t k1, size_t minn, size_t maxn, uint64_t *out);

#endif
