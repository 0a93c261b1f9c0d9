/* SPDX-License-Identifier: MIT
 *
 * The one hash function of the text layer: XXH3-64 (libxxhash) with a fixed seed. Model files
 * store feature ids derived from these values, so the seed and the algorithm are frozen: XXH3's
 * output is stable across platforms and releases since xxHash 0.8.0, and the seed below must
 * never change (tests/unit/text/hash.c pins known values). This is the only file that includes
 * <xxhash.h>; ngram.c reaches the streaming API through mn__hash64_concat3(), and hashes
 * character n-grams of up to 16 bytes with mn__hash64_short() (text/internal.h), XXH3's
 * short-input formulas written out, which the tests compare with this file's mn_hash64().
 */
#include "micronlp/text.h"

#include "text/internal.h"

#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* for the XXH3_state_t definition (stack state, no malloc) */
/* Compile Debian's header-only implementation into this file: tokens are short, and calling
 * the shared library through the PLT cost about a quarter of tokenize+hash time (perf). */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* The seed is the value of XXH_PRIME64_1 from xxhash.h, written out so that it is frozen here
 * even if the header ever changes. */
#define MN_HASH_SEED 0x9E3779B185EBCA87ull

/* Joined inputs up to this size are hashed in one shot from a stack copy. */
#define CONCAT_STACK_BYTES 256

uint64_t mn_hash64(const void *data, size_t len)
{
    return XXH3_64bits_withSeed(data, len, MN_HASH_SEED);
}

uint64_t mn__hash64_concat3(const void *a, size_t alen, const void *b, size_t blen,
                            const void *c, size_t clen)
{
    size_t total = alen + blen + clen;
    if (total <= CONCAT_STACK_BYTES) {
        unsigned char buf[CONCAT_STACK_BYTES];
        if (alen)
            memcpy(buf, a, alen);
        if (blen)
            memcpy(buf + alen, b, blen);
        if (clen)
            memcpy(buf + alen + blen, c, clen);
        return XXH3_64bits_withSeed(buf, total, MN_HASH_SEED);
    }
    /* Rare (only ill-formed or very long words): streaming gives the same value as one shot. */
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset_withSeed(&st, MN_HASH_SEED);
    if (alen)
        XXH3_64bits_update(&st, a, alen);
    if (blen)
        XXH3_64bits_update(&st, b, blen);
    if (clen)
        XXH3_64bits_update(&st, c, clen);
    return XXH3_64bits_digest(&st);
}
