/* SPDX-License-Identifier: MIT
 *
 * Helpers shared by the files of the text layer (the .c files of src/text) and their tests, not part of the
 * public API. Names start with mn__ (STYLE.md section 2).
 */
#ifndef MN_TEXT_INTERNAL_H
#define MN_TEXT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h" /* MN_ALWAYS_INLINE */

/* A byte per code point of the Basic Multilingual Plane, computed by `compute` a page of 256
 * code points at a time on first use: text in one script keeps asking about the same few
 * hundred characters, and a table read costs less than utf8proc's property lookup and the
 * tests around it. Thread-safe: a page is filled once under a lock, then read without one.
 * Declare a table static, with only `compute` set. */
typedef struct mn__cp_pages {
    unsigned char (*compute)(int32_t cp);
    unsigned char tab[256][256];
    atomic_uchar ready[256];
} mn__cp_pages;

/* Fills page `page` of t if no thread has; returns it (cp_pages.c). */
const unsigned char *mn__cp_pages_fill(mn__cp_pages *t, unsigned page);

/* The page of t holding cp (< 0x10000): index it with cp & 0xFF. */
static inline const unsigned char *mn__cp_page(mn__cp_pages *t, int32_t cp)
{
    unsigned pg = (unsigned)cp >> 8;
    if (!atomic_load_explicit(&t->ready[pg], memory_order_acquire))
        return mn__cp_pages_fill(t, pg);
    return t->tab[pg];
}

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

/* mn_hash64 of p[0..len) for len <= 16, inline: XXH3-64's short-input formulas written out with
 * the seed and the secret folded into five constants (derived once from xxhash.h's default
 * secret and MN_HASH_SEED). Character n-grams are 1 to 16 bytes, and a call into the library's
 * dispatch cost more than the formula. Reads only p[0..len). tests/unit/text/hash.c compares it
 * with XXH3_64bits_withSeed for every length and many inputs. */
#define MN__XXH_BITFLIP_1TO3 0x9e3779b20d132522ull
#define MN__XXH_BITFLIP_4TO8 0xad3d1f4040010b1bull
#define MN__XXH_BITFLIP_9TO16_LO 0x05b9ed2d702e0440ull
#define MN__XXH_BITFLIP_9TO16_HI 0x111f428983aa87b3ull
#define MN__XXH_EMPTY 0x07f70f819703314dull

static inline uint32_t mn__read32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mn__read64le(const unsigned char *p)
{
    return (uint64_t)mn__read32le(p) | (uint64_t)mn__read32le(p + 4) << 32;
}

static inline uint64_t mn__rotl64(uint64_t x, unsigned r)
{
    return x << r | x >> (64 - r);
}

/* 1 to 3 bytes: packed = first byte << 16 | middle byte << 24 | last byte | len << 8, keyed,
 * then XXH64's avalanche. */
static inline uint64_t mn__hash64_mix1to3(uint32_t packed)
{
    uint64_t h = packed ^ MN__XXH_BITFLIP_1TO3;
    h ^= h >> 33;
    h *= 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0x165667B19E3779F9ull;
    return h ^ (h >> 32);
}

static inline uint64_t mn__hash64_1to3(const unsigned char *p, size_t len)
{
    return mn__hash64_mix1to3((uint32_t)p[0] << 16 | (uint32_t)p[len >> 1] << 24 |
                              (uint32_t)p[len - 1] | (uint32_t)len << 8);
}

/* 4 to 8 bytes: first_last = the first 4 bytes (little-endian) << 32 plus the last 4
 * (overlapping when fewer than 8), keyed, then the rrmxmx mix. */
static inline uint64_t mn__hash64_mix4to8(uint64_t first_last, size_t len)
{
    uint64_t h = first_last ^ MN__XXH_BITFLIP_4TO8;
    h ^= mn__rotl64(h, 49) ^ mn__rotl64(h, 24);
    h *= 0x9FB21C651E98DF25ull;
    h ^= (h >> 35) + len;
    h *= 0x9FB21C651E98DF25ull;
    return h ^ (h >> 28);
}

static inline uint64_t mn__hash64_4to8(const unsigned char *p, size_t len)
{
    return mn__hash64_mix4to8(((uint64_t)mn__read32le(p) << 32) + mn__read32le(p + len - 4),
                              len);
}

/* 9 to 16 bytes: the first and last 8, keyed, folded through a 128-bit product. */
static inline uint64_t mn__hash64_9to16(const unsigned char *p, size_t len)
{
    uint64_t lo = mn__read64le(p) ^ MN__XXH_BITFLIP_9TO16_LO;
    uint64_t hi = mn__read64le(p + len - 8) ^ MN__XXH_BITFLIP_9TO16_HI;
#if defined(__SIZEOF_INT128__)
    unsigned __int128 prod = (unsigned __int128)lo * hi;
    uint64_t fold = (uint64_t)prod ^ (uint64_t)(prod >> 64);
#else
    uint64_t a0 = lo & 0xFFFFFFFFu, a1 = lo >> 32, b0 = hi & 0xFFFFFFFFu, b1 = hi >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p10 & 0xFFFFFFFFu) + p01;
    uint64_t fold = ((mid << 32) | (p00 & 0xFFFFFFFFu)) ^ (p11 + (p10 >> 32) + (mid >> 32));
#endif
    uint64_t h = len + __builtin_bswap64(lo) + hi + fold;
    h ^= h >> 37;
    h *= 0x165667919E3779F9ull;
    return h ^ (h >> 32);
}

static inline uint64_t mn__hash64_short(const unsigned char *p, size_t len)
{
    if (len > 8)
        return mn__hash64_9to16(p, len);
    if (len >= 4)
        return mn__hash64_4to8(p, len);
    return len ? mn__hash64_1to3(p, len) : MN__XXH_EMPTY;
}

#endif
