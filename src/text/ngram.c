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
/* x % d by multiplication: a 64-bit division costs tens of cycles, and a text has a few of
 * them per word. With m = ceil(2^128 / d), x % d = ((m * x mod 2^128) * d) >> 128 for every
 * 64-bit x and 32-bit d >= 2 (Lemire, Kaser and Kurz, "Faster remainder by direct
 * computation", 2019: 128 >= 64 + 32 bits suffice). tests/unit/text/ngram.c compares it with
 * the % operator. */
typedef struct fastmod {
    unsigned __int128 m;
    uint32_t d;
} fastmod;

static inline fastmod fastmod_init(uint32_t d)
{
    return (fastmod){.m = d >= 2 ? ~(unsigned __int128)0 / d + 1 : 0, .d = d};
}

static inline uint32_t fastmod_u64(uint64_t x, const fastmod *f)
{
    if (f->d < 2)
        return 0;
    unsigned __int128 low = f->m * x;
    uint64_t lo = (uint64_t)low, hi = (uint64_t)(low >> 64);
    unsigned __int128 t = (unsigned __int128)hi * f->d + (((unsigned __int128)lo * f->d) >> 64);
    return (uint32_t)(t >> 64);
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
     * that every n-gram is one slice of it, hashed in one call. The code points are found
     * once, not once per n-gram as in char_ngrams_long: start[k] is the k-th byte of "<w>"
     * that is not a continuation byte (start[ncp] = vlen), and the n-grams are the slices
     * start[k] .. start[k + n), in the same order. */
    unsigned char v[VWORD_STACK];
    v[0] = '<';
    memcpy(v + 1, u, len);
    v[len + 1] = '>';
    uint16_t start[VWORD_STACK + 1];
    size_t ncp = 0, total = 0;
    for (size_t i = 0; i < vlen; i++) {
        start[ncp] = (uint16_t)i;
        ncp += !is_cont(v[i]);
    }
    start[ncp] = (uint16_t)vlen;
    for (size_t k = 0; k < ncp; k++) {
        size_t last = k + (size_t)maxn < ncp ? k + (size_t)maxn : ncp;
        for (size_t e = k + (size_t)minn; e <= last; e++) {
            if (e == k + 1 && (k == 0 || e == ncp))
                continue; /* "<" or ">" alone */
            uint64_t hv = mn_hash64(v + start[k], (size_t)(start[e] - start[k]));
            if (total < cap)
                out[total] = fastmod_u64(hv, &fm);
            total++;
        }
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
