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
/* N-gram hashes per call into hash.c: at least VWORD_STACK + 2, one start's worth at most. */
#define NGRAM_HASH_BATCH 512

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
    /* The hashes, in pieces of at most NGRAM_HASH_BATCH (all of a word's at once but for
     * freak minn/maxn): a word of ncp code points has at most ncp n-grams per start k. */
    uint64_t hv[NGRAM_HASH_BATCH];
    size_t per = (size_t)(maxn - minn) + 1;
    per = per < ncp ? per : ncp;
    size_t kstep = NGRAM_HASH_BATCH / per;
    for (size_t k = 0; k < ncp; k += kstep) {
        size_t k1 = ncp - k < kstep ? ncp : k + kstep;
        size_t got = mn__hash64_ngrams(v, start, ncp, k, k1, (size_t)minn, (size_t)maxn, hv);
        size_t fit = total < cap ? (cap - total < got ? cap - total : got) : 0;
        for (size_t i = 0; i < fit; i++)
            out[total + i] = fastmod_u64(hv[i], &fm);
        total += got;
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
