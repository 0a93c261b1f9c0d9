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

/* mn__hash64_short (XXH3's short-input formulas with the seed folded in) against mn_hash64,
 * which calls the library, for every length 0..16, on random bytes and on runs of one byte. */
TEST(short_matches_library)
{
    uint64_t x = 7;
    unsigned char buf[16];
    for (int iter = 0; iter < 200000; iter++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = iter % 16 == 0 ? (unsigned char)iter : (unsigned char)(x >> 56);
        }
        size_t len = (size_t)iter % 17;
        uint64_t want = mn_hash64(buf, len), got = mn__hash64_short(buf, len);
        if (got != want)
            MN_FAIL_AT("length %zu, iter %d: %016" PRIx64 ", want %016" PRIx64, len, iter, got,
                       want);
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
              TEST_ENTRY(concat_matches_joined)
                  TEST_ENTRY(short_matches_library)
                  TEST_ENTRY(combine_is_order_sensitive)
                  TEST_ENTRY(spread_over_buckets) TEST_ENTRY(no_allocation))
