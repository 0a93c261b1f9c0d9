/* SPDX-License-Identifier: MIT
 *
 * Tests for src/text/hash.c: mn_hash64 values are pinned (model files store them, so any
 * change here is a format break), the concatenating helper matches hashing the joined bytes on
 * both its stack and streaming paths, mn_hash_combine is order-sensitive, and nothing
 * allocates.
 */
#include "micronlp/text.h"

#include "micronlp/alloc.h"
#include "test.h"
#include "text/internal.h"

/* Frozen: XXH3-64 with seed 0x9E3779B185EBCA87. (As a cross-check, XXH3 with seed 0 of ""
 * is the published 2D06800538D394C2.) */
static const struct {
    const char *in;
    uint64_t want;
} pinned[] = {
    {"", 0x07f70f819703314dull},
    {"a", 0x838edf4a33f02a91ull},
    {"hello", 0xc1bca3c3f1575242ull},
    {"micronlp", 0xaf38c0fe2f097f6bull},
    {"日本語", 0xac1cfde832578cf3ull},
    {"the quick brown fox jumps over the lazy dog", 0x22cd9b17e423ffc3ull},
};

TEST(pinned_values)
{
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        uint64_t h = mn_hash64(pinned[i].in, strlen(pinned[i].in));
        if (h != pinned[i].want)
            MN_FAIL_AT("mn_hash64(\"%s\") = %016" PRIx64 ", want %016" PRIx64, pinned[i].in, h,
                       pinned[i].want);
    }
}

TEST(null_with_zero_length)
{
    ASSERT(mn_hash64(NULL, 0) == pinned[0].want);
}

TEST(concat_matches_joined)
{
    static unsigned char buf[1200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    /* Lengths on both sides of the 256-byte stack buffer. */
    static const size_t lens[] = {0, 1, 3, 7, 100, 253, 254, 255, 256, 257, 600, 1190};
    for (size_t a = 0; a < 3; a++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t c = 0; c < 3; c++) {
                size_t b = lens[li];
                uint64_t want = mn_hash64(buf, a + b + c);
                uint64_t got = mn__hash64_concat3(buf, a, buf + a, b, buf + a + b, c);
                if (want != got)
                    MN_FAIL_AT("concat3(%zu, %zu, %zu) differs", a, b, c);
            }
    ASSERT(mn__hash64_concat3(NULL, 0, NULL, 0, NULL, 0) == pinned[0].want);
}

/* mn__hash64_ngrams (XXH3's short path inlined in a loop) against mn_hash64 of each slice it
 * stands for, on random bytes cut at random "code point" starts: slices of 1 to over 16 bytes,
 * all minn/maxn pairs up to 6, and ranges of starts that begin and end anywhere. */
TEST(ngrams_match_one_by_one)
{
    uint64_t x = 99;
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char v[64];
        uint16_t start[65];
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t ncp = 2 + (size_t)(x >> 59) % 20, at = 0;
        for (size_t k = 0; k < ncp; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            start[k] = (uint16_t)at;
            at += 1 + (size_t)(x >> 62); /* 1..4 bytes */
        }
        start[ncp] = (uint16_t)at;
        for (size_t i = 0; i < at; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            v[i] = (unsigned char)(x >> 56);
        }
        size_t minn = 1 + (size_t)(x >> 20) % 4, maxn = minn + (size_t)(x >> 24) % 3;
        size_t k0 = (size_t)(x >> 30) % ncp, k1 = k0 + (size_t)(x >> 40) % (ncp - k0 + 1);
        uint64_t got[64 * 8];
        size_t n = mn__hash64_ngrams(v, start, ncp, k0, k1, minn, maxn, got), want = 0;
        for (size_t k = k0; k < k1; k++)
            for (size_t e = k + minn; e <= k + maxn && e <= ncp; e++) {
                if (e == k + 1 && (k == 0 || e == ncp))
                    continue;
                uint64_t h = mn_hash64(v + start[k], start[e] - start[k]);
                if (want >= n || got[want] != h)
                    MN_FAIL_AT("iter %d: n-gram %zu of starts %zu..%zu differs", iter, want, k0,
                               k1);
                want++;
            }
        ASSERT_EQ(n, want);
    }
}

TEST(combine_is_order_sensitive)
{
    uint64_t a = mn_hash64("new", 3), b = mn_hash64("york", 4);
    ASSERT(mn_hash_combine(a, b) != mn_hash_combine(b, a));
    ASSERT(mn_hash_combine(a, b) == mn_hash_combine(a, b));
    ASSERT(mn_hash_combine(a, b) != a && mn_hash_combine(a, b) != b);
}

TEST(spread_over_buckets)
{
    /* 20000 distinct keys into 64 buckets: each bucket should get 312 +- a lot less than 50%. */
    unsigned counts[64] = {0};
    char key[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "w%d", i);
        counts[mn_hash64(key, (size_t)n) % 64]++;
    }
    for (int i = 0; i < 64; i++)
        ASSERT(counts[i] > 200 && counts[i] < 450);
}

TEST(no_allocation)
{
    mn_alloc_fail_after(1);
    uint64_t h = mn_hash64("hello", 5);
    char big[1000];
    memset(big, 'x', sizeof big);
    uint64_t h2 = mn__hash64_concat3("<", 1, big, sizeof big, ">", 1); /* streaming path */
    long made = mn_alloc_fail_after(0);
    ASSERT(h == 0xc1bca3c3f1575242ull);
    ASSERT(h2 != 0);
    ASSERT_EQ(made, 0);
}

TEST_MAIN(TEST_ENTRY(pinned_values) TEST_ENTRY(null_with_zero_length)
              TEST_ENTRY(concat_matches_joined) TEST_ENTRY(ngrams_match_one_by_one)
                  TEST_ENTRY(combine_is_order_sensitive)
                  TEST_ENTRY(spread_over_buckets) TEST_ENTRY(no_allocation))
