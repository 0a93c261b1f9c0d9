/* SPDX-License-Identifier: MIT
 *
 * Word n-grams and character n-grams hashed into fixed buckets, the features of the linear
 * models (as in fastText: Dictionary::addWordNgrams and Dictionary::computeSubwords). No
 * strings are built or stored: word n-grams combine word hashes, and character n-grams of
 * "<w>" are hashed straight from the word, with the boundary markers joined on the stack.
 */
#include "micronlp/text.h"

#include "text/internal.h"

#include <string.h>

#if defined(__SIZEOF_INT128__)
/* x % d without a division: a 64-bit division costs tens of cycles, and a text has a few of
 * them per word. The quotient is one high multiply, two shifts and an add away (Granlund and
 * Montgomery, "Division by invariant integers using multiplication", 1994, figure 4.1): with
 * l = ceil(log2 d) and m = floor(2^64 * (2^l - d) / d) + 1, t = (m * x) >> 64 and
 * q = (t + ((x - t) >> 1)) >> (l - 1) equal floor(x / d) for every 64-bit x and d >= 2.
 * That is fewer multiplies than the remainder by direct computation that it replaces.
 * tests/unit/text/ngram.c compares it with the % operator. */
typedef struct fastmod {
    uint64_t m;
    uint32_t d;
    unsigned sh; /* l - 1 */
} fastmod;

static inline fastmod fastmod_init(uint32_t d)
{
    if (d < 2)
        return (fastmod){.d = d};
    unsigned l = 0;
    while (((uint64_t)1 << l) < d)
        l++;
    unsigned __int128 num = (unsigned __int128)(((uint64_t)1 << l) - d) << 64;
    return (fastmod){.m = (uint64_t)(num / d) + 1, .d = d, .sh = l - 1};
}

/* fastmod_u64 for d >= 2, without the test (the character n-gram loops test once per word). */
static inline uint32_t fastmod_u64_big(uint64_t x, const fastmod *f)
{
    uint64_t t = (uint64_t)(((unsigned __int128)f->m * x) >> 64);
    uint64_t q = (t + ((x - t) >> 1)) >> f->sh;
    return (uint32_t)(x - q * f->d);
}

static inline uint32_t fastmod_u64(uint64_t x, const fastmod *f)
{
    if (f->d < 2)
        return 0;
    uint64_t t = (uint64_t)(((unsigned __int128)f->m * x) >> 64);
    uint64_t q = (t + ((x - t) >> 1)) >> f->sh;
    return (uint32_t)(x - q * f->d);
}
#else
typedef struct fastmod {
    uint32_t d;
} fastmod;

static inline fastmod fastmod_init(uint32_t d)
{
    return (fastmod){.d = d};
}

static inline uint32_t fastmod_u64(uint64_t x, const fastmod *f)
{
    return (uint32_t)(x % f->d);
}

static inline uint32_t fastmod_u64_big(uint64_t x, const fastmod *f)
{
    return (uint32_t)(x % f->d);
}
#endif

/* fastmod_init(d), remembered per thread: the bucket count is the same for every word of a
 * model, and the 128-bit division was a noticeable part of hashing a short word. */
static inline fastmod fastmod_of(uint32_t d)
{
    static _Thread_local fastmod last; /* d = 0 until the first call, which never asks for 0 */
    if (last.d != d)
        last = fastmod_init(d);
    return last;
}

size_t mn_word_ngrams(const uint64_t *h, size_t count, int n, uint32_t bucket, uint32_t *out,
                      size_t cap)
{
    if (n < 2 || bucket == 0)
        return 0;
    fastmod fm = fastmod_of(bucket);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t acc = h[i];
        for (size_t j = i + 1; j < count && j - i < (size_t)n; j++) {
            acc = mn_hash_combine(acc, h[j]);
            if (total < cap)
                out[total] = fastmod_u64(acc, &fm);
            total++;
        }
    }
    return total;
}

static inline int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Bytes of the longest "<w>" built on the stack. */
#define VWORD_STACK 256

/* Byte at index k of the virtual string "<" w ">" (k in 0..len+1). */
static inline unsigned char vbyte(const unsigned char *w, size_t len, size_t k)
{
    return k == 0 ? '<' : k == len + 1 ? '>' : w[k - 1];
}

/* mn_hash64 of p[0..n), n >= 1: inline for the lengths of character n-grams. */
static inline uint64_t slice_hash(const unsigned char *p, size_t n)
{
    return n <= 16 ? mn__hash64_short(p, n) : mn_hash64(p, n);
}

/* The hash of the first n bytes of window (8 bytes of "<w>" from an n-gram's start, little-
 * endian), 1 <= n <= 8: mn__hash64_short with the bytes taken from a register. */
static inline uint64_t window_hash(uint64_t window, size_t n)
{
    if (n <= 3) {
        uint32_t first = (uint32_t)window & 0xFF;
        uint32_t mid = (uint32_t)(window >> (8 * (n >> 1))) & 0xFF;
        uint32_t last = (uint32_t)(window >> (8 * (n - 1))) & 0xFF;
        return mn__hash64_mix1to3(first << 16 | mid << 24 | last | (uint32_t)n << 8);
    }
    uint64_t first4 = (uint32_t)window, last4 = (uint32_t)(window >> (8 * (n - 4)));
    return mn__hash64_mix4to8((first4 << 32) + last4, n);
}

/* The buckets of the 256 one-byte n-grams for fm's bucket count, remembered per thread like
 * fastmod_of: a quarter of an ASCII word's n-grams (minn 1, maxn 4) are single letters, a table
 * lookup instead of a hash and a remainder. */
static const uint32_t *byte_buckets(const fastmod *fm)
{
    static _Thread_local uint32_t table[256];
    static _Thread_local uint32_t table_d; /* 0 until built */
    if (table_d != fm->d) {
        for (unsigned c = 0; c < 256; c++) {
            unsigned char b = (unsigned char)c;
            table[c] = fastmod_u64(mn__hash64_1to3(&b, 1), fm);
        }
        table_d = fm->d;
    }
    return table;
}

/* The n-gram buckets of an all-ASCII "<w>" (code point k is byte k) of vlen bytes at v, with 8
 * readable bytes after it, for minn = lo .. maxn = hi <= 8; out has room for all. Inlined with
 * the shipped lo and hi as constants, so that the loop over lengths unrolls into a fixed set
 * of hashes of one load, each length's shifts constant. */
static MN_ALWAYS_INLINE size_t ascii_ngrams(const unsigned char *v, size_t vlen, size_t lo,
                                            size_t hi, const fastmod *fm, uint32_t *out)
{
    const uint32_t *one = byte_buckets(fm);
    size_t total = 0;
    for (size_t k = 0; k < vlen; k++) {
        uint64_t window = mn__read64le(v + k);
        size_t room = vlen - k;
        int marker = k == 0 || room == 1; /* "<" and ">" alone are not n-grams */
        for (size_t n = lo; n <= hi; n++)
            if (n <= room && !(n == 1 && marker))
                out[total++] = n == 1 ? one[window & 0xFF]
                                      : fastmod_u64_big(window_hash(window, n), fm);
    }
    return total;
}

static size_t ascii_ngrams_any(const unsigned char *v, size_t vlen, size_t lo, size_t hi,
                               const fastmod *fm, uint32_t *out)
{
    return ascii_ngrams(v, vlen, lo, hi, fm, out);
}

/* The language model's n-gram lengths */
static size_t ascii_ngrams_1to4(const unsigned char *v, size_t vlen, const fastmod *fm,
                                uint32_t *out)
{
    return ascii_ngrams(v, vlen, 1, 4, fm, out);
}

static size_t char_ngrams_long(const unsigned char *u, size_t len, int minn, int maxn,
                               const fastmod *fm, uint32_t *out, size_t cap);

size_t mn_char_ngrams(const char *w, size_t len, int minn, int maxn, uint32_t bucket,
                      uint32_t *out, size_t cap)
{
    if (maxn <= 0 || bucket == 0 || maxn < minn)
        return 0;
    if (minn < 1)
        minn = 1;
    const unsigned char *u = (const unsigned char *)w;
    size_t vlen = len + 2; /* length of "<w>" */
    fastmod fm = fastmod_of(bucket);
    if (vlen > VWORD_STACK)
        return char_ngrams_long(u, len, minn, maxn, &fm, out, cap);
    /* Words of up to VWORD_STACK - 2 bytes (all but freak ones) are copied once as "<w>", so
     * that every n-gram is one slice of it, hashed and reduced to its bucket in one pass. */
    unsigned char v[VWORD_STACK + 8];
    v[0] = '<';
    memcpy(v + 1, u, len);
    v[len + 1] = '>';
    size_t lo = (size_t)minn, hi = (size_t)maxn, total = 0;
    unsigned high = 0;
    for (size_t i = 0; i < len; i++)
        high |= u[i];
    /* All ASCII (most words), short n-grams, room for all and a bucket count >= 2 */
    if (!(high & 0x80) && hi <= 8 && fm.d >= 2 && vlen * (hi - lo + 1) <= cap) {
        memset(v + vlen, 0, 8); /* the windows read past the end; their bytes are unused */
        if (lo == 1 && hi == 4)
            return ascii_ngrams_1to4(v, vlen, &fm, out);
        return ascii_ngrams_any(v, vlen, lo, hi, &fm, out);
    }
    /* The code points are found once, not once per n-gram as in char_ngrams_long: start[k] is
     * the k-th byte of "<w>" that is not a continuation byte (start[ncp] = vlen), and the
     * n-grams are the slices start[k] .. start[k + n), in the same order. */
    uint16_t start[VWORD_STACK + 1];
    size_t ncp = 0;
    for (size_t i = 0; i < vlen; i++) {
        start[ncp] = (uint16_t)i;
        ncp += !is_cont(v[i]);
    }
    start[ncp] = (uint16_t)vlen;
    for (size_t k = 0; k < ncp; k++) {
        size_t last = k + hi < ncp ? k + hi : ncp;
        size_t e = k + lo + (lo == 1 && (k == 0 || k + 1 == ncp));
        const unsigned char *p = v + start[k];
        for (; e <= last; e++, total++)
            if (total < cap)
                out[total] = fastmod_u64(slice_hash(p, (size_t)(start[e] - start[k])), &fm);
    }
    return total;
}

/* mn_char_ngrams for words too long to copy: the loop of fastText's computeSubwords over the
 * virtual string "<w>", each n-gram hashed in up to three pieces. */
static size_t char_ngrams_long(const unsigned char *u, size_t len, int minn, int maxn,
                               const fastmod *fm, uint32_t *out, size_t cap)
{
    size_t vlen = len + 2, total = 0;
    /* i is a start byte that is not a continuation byte, and each step of j adds one code
     * point (a byte plus its continuation bytes, without further validation). */
    for (size_t i = 0; i < vlen; i++) {
        if (is_cont(vbyte(u, len, i)))
            continue;
        size_t j = i;
        for (int n = 1; j < vlen && n <= maxn; n++) {
            j++;
            while (j < vlen && is_cont(vbyte(u, len, j)))
                j++;
            if (n < minn || (n == 1 && (i == 0 || j == vlen)))
                continue;
            /* The n-gram is v[i..j); split it into an optional "<", a slice of w, and an
             * optional ">". */
            int lt = i == 0, gt = j == vlen;
            size_t wstart = lt ? 0 : i - 1; /* slice of w, [wstart, wend) */
            size_t wend = j - 1 - (size_t)gt;
            uint64_t hv = mn__hash64_concat3("<", (size_t)lt, u + wstart, wend - wstart, ">",
                                             (size_t)gt);
            if (total < cap)
                out[total] = fastmod_u64(hv, fm);
            total++;
        }
    }
    return total;
}
