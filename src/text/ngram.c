/* SPDX-License-Identifier: MIT
 *
 * Word n-grams and character n-grams hashed into fixed buckets, the features of the linear
 * models (as in fastText: Dictionary::addWordNgrams and Dictionary::computeSubwords). No
 * strings are built or stored: word n-grams combine word hashes, and character n-grams of
 * "<w>" are hashed straight from the word, with the boundary markers joined on the stack.
 */
#include "micronlp/text.h"

#include "text/internal.h"

size_t mn_word_ngrams(const uint64_t *h, size_t count, int n, uint32_t bucket, uint32_t *out,
                      size_t cap)
{
    if (n < 2 || bucket == 0)
        return 0;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t acc = h[i];
        for (size_t j = i + 1; j < count && j - i < (size_t)n; j++) {
            acc = mn_hash_combine(acc, h[j]);
            if (total < cap)
                out[total] = (uint32_t)(acc % bucket);
            total++;
        }
    }
    return total;
}

static inline int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Byte at index k of the virtual string "<" w ">" (k in 0..len+1). */
static inline unsigned char vbyte(const unsigned char *w, size_t len, size_t k)
{
    return k == 0 ? '<' : k == len + 1 ? '>' : w[k - 1];
}

size_t mn_char_ngrams(const char *w, size_t len, int minn, int maxn, uint32_t bucket,
                      uint32_t *out, size_t cap)
{
    if (maxn <= 0 || bucket == 0 || maxn < minn)
        return 0;
    if (minn < 1)
        minn = 1;
    const unsigned char *u = (const unsigned char *)w;
    size_t vlen = len + 2; /* length of "<w>" */
    size_t total = 0;
    /* The loop of fastText's computeSubwords over the virtual string: i is a start byte that is
     * not a continuation byte, and each step of j adds one code point (a byte plus its
     * continuation bytes, without further validation). */
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
            uint64_t hv;
            if (!lt && !gt)
                hv = mn_hash64(u + wstart, wend - wstart);
            else
                hv = mn__hash64_concat3("<", (size_t)lt, u + wstart, wend - wstart, ">",
                                        (size_t)gt);
            if (total < cap)
                out[total] = (uint32_t)(hv % bucket);
            total++;
        }
    }
    return total;
}
