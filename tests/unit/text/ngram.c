/* SPDX-License-Identifier: MIT
 *
 * Tests for src/text/ngram.c: word n-gram order and counts, explicit character n-gram lists
 * for ASCII and multi-byte words, a differential test against a literal transcription of
 * fastText's computeSubwords (which builds "<w>" and each n-gram as strings) on random words
 * including ill-formed bytes, cap truncation, degenerate arguments, the remainder by
 * multiplication against the % operator, and no allocation.
 */
#include "micronlp/text.h"

/* The file itself, to reach fastmod_u64. */
#include "text/ngram.c"

#include "micronlp/alloc.h"
#include "test.h"

#define BIG 0xFFFFFFFFu /* a bucket that keeps most of the hash, so lists are comparable */

static uint32_t hb(const char *s, uint32_t bucket)
{
    return (uint32_t)(mn_hash64(s, strlen(s)) % bucket);
}

TEST(word_ngrams_order_and_count)
{
    uint64_t h[4] = {11, 22, 33, 44};
    uint32_t out[16];
    /* n = 3: at i=0 bigram (0,1), trigram (0,1,2); i=1: (1,2), (1,2,3); i=2: (2,3). */
    size_t k = mn_word_ngrams(h, 4, 3, BIG, out, 16);
    ASSERT_EQ(k, 5);
    uint64_t b01 = mn_hash_combine(11, 22), b12 = mn_hash_combine(22, 33);
    ASSERT_EQ(out[0], b01 % BIG);
    ASSERT_EQ(out[1], mn_hash_combine(b01, 33) % BIG);
    ASSERT_EQ(out[2], b12 % BIG);
    ASSERT_EQ(out[3], mn_hash_combine(b12, 44) % BIG);
    ASSERT_EQ(out[4], mn_hash_combine(33, 44) % BIG);
    /* counts: sum over i of min(n-1, count-1-i) */
    ASSERT_EQ(mn_word_ngrams(h, 4, 2, 10, out, 16), 3);
    ASSERT_EQ(mn_word_ngrams(h, 4, 4, 10, out, 16), 6);
    ASSERT_EQ(mn_word_ngrams(h, 4, 9, 10, out, 16), 6);
    ASSERT_EQ(mn_word_ngrams(h, 4, 1, 10, out, 16), 0);
    ASSERT_EQ(mn_word_ngrams(h, 4, 0, 10, out, 16), 0);
    ASSERT_EQ(mn_word_ngrams(h, 1, 3, 10, out, 16), 0);
    ASSERT_EQ(mn_word_ngrams(h, 0, 3, 10, out, 16), 0);
    ASSERT_EQ(mn_word_ngrams(h, 4, 3, 0, out, 16), 0); /* bucket 0: nothing, no division */
    for (size_t i = 0; i < 3; i++)
        ASSERT(out[i] < 10);
}

TEST(word_ngrams_cap)
{
    uint64_t h[5] = {1, 2, 3, 4, 5};
    uint32_t all[16], few[16];
    size_t k = mn_word_ngrams(h, 5, 3, 1000, all, 16);
    ASSERT_EQ(k, 7);
    few[2] = 0xDEADBEEF;
    ASSERT_EQ(mn_word_ngrams(h, 5, 3, 1000, few, 2), 7);
    ASSERT_EQ(few[0], all[0]);
    ASSERT_EQ(few[1], all[1]);
    ASSERT_EQ(few[2], 0xDEADBEEF);
    ASSERT_EQ(mn_word_ngrams(h, 5, 3, 1000, NULL, 0), 7);
}

static const struct {
    const char *word;
    int minn, maxn;
    const char *want[24]; /* NULL-terminated, in order */
} char_cases[] = {
    {"ab", 1, 3, {"<a", "<ab", "a", "ab", "ab>", "b", "b>", NULL}},
    {"ab", 2, 2, {"<a", "ab", "b>", NULL}},
    {"where", 3, 3, {"<wh", "whe", "her", "ere", "re>", NULL}},
    {"a", 1, 6, {"<a", "<a>", "a", "a>", NULL}},
    {"", 1, 3, {"<>", NULL}},
    {"", 3, 6, {NULL}},
    {"ab", 5, 6, {NULL}},
    /* code points, not bytes: é is 2 bytes, 日 3, 👍 4 */
    {"é", 1, 2, {"<é", "é", "é>", NULL}},
    {"日本", 2, 3, {"<日", "<日本", "日本", "日本>", "本>", NULL}},
    {"a👍", 3, 3, {"<a👍", "a👍>", NULL}},
};

TEST(char_ngrams_table)
{
    for (size_t c = 0; c < sizeof char_cases / sizeof char_cases[0]; c++) {
        uint32_t out[32];
        const char *w = char_cases[c].word;
        size_t k = mn_char_ngrams(w, strlen(w), char_cases[c].minn, char_cases[c].maxn, BIG,
                                  out, 32);
        size_t want = 0;
        while (char_cases[c].want[want])
            want++;
        if (k != want)
            MN_FAIL_AT("\"%s\" %d..%d: %zu n-grams, want %zu", w, char_cases[c].minn,
                       char_cases[c].maxn, k, want);
        for (size_t i = 0; i < want; i++)
            if (out[i] != hb(char_cases[c].want[i], BIG))
                MN_FAIL_AT("\"%s\": n-gram %zu is not \"%s\"", w, i, char_cases[c].want[i]);
    }
}

/* fastText Dictionary::computeSubwords, transcribed with explicit strings. */
static size_t reference(const char *w, size_t len, int minn, int maxn, uint32_t bucket,
                        uint32_t *out, size_t cap)
{
    char word[300], ngram[300];
    size_t wl = 0, total = 0;
    word[wl++] = '<';
    memcpy(word + wl, w, len);
    wl += len;
    word[wl++] = '>';
    for (size_t i = 0; i < wl; i++) {
        size_t nl = 0;
        if ((word[i] & 0xC0) == 0x80)
            continue;
        for (size_t j = i, n = 1; j < wl && n <= (size_t)maxn; n++) {
            ngram[nl++] = word[j++];
            while (j < wl && (word[j] & 0xC0) == 0x80)
                ngram[nl++] = word[j++];
            if (n >= (size_t)minn && !(n == 1 && (i == 0 || j == wl))) {
                if (total < cap)
                    out[total] = (uint32_t)(mn_hash64(ngram, nl) % bucket);
                total++;
            }
        }
    }
    return total;
}

TEST(char_ngrams_match_fasttext_loop)
{
    static const char *pieces[] = {"a", "b", "z", "-", "é", "ß", "日", "本", "👍", "\xCC\x81",
                                   "\x80", "\xFF", "\xE2\x82", "'", "0"};
    uint64_t x = 42;
    for (int iter = 0; iter < 20000; iter++) {
        char w[128];
        size_t npieces = (size_t)(mn_test_next(&x) >> 60);
        size_t len = mn_test_join_pieces(&x, pieces, sizeof pieces / sizeof pieces[0], npieces,
                                         w, sizeof w);
        int minn = 1 + (int)((x >> 20) % 4), maxn = minn + (int)((x >> 24) % 4);
        uint32_t bucket = 1 + (uint32_t)((x >> 28) % 2000003);
        uint32_t a[512], b[512];
        size_t ka = mn_char_ngrams(w, len, minn, maxn, bucket, a, 512);
        size_t kb = reference(w, len, minn, maxn, bucket, b, 512);
        ASSERT_EQ(ka, kb);
        for (size_t i = 0; i < ka && i < 512; i++)
            if (a[i] != b[i])
                MN_FAIL_AT("iter %d: n-gram %zu differs", iter, i);
    }
}

/* The all-ASCII path (one 8-byte window per start, unrolled for minn 1 maxn 4) against the
 * fastText loop: ASCII words of 0 to 254 bytes (the longest "<w>" on the stack), every
 * minn..maxn up to 8 and past it, and caps just under and at the count (the general path). */
TEST(char_ngrams_ascii_match_fasttext_loop)
{
    uint64_t x = 4242;
    static uint32_t a[2400], b[2400];
    for (int iter = 0; iter < 20000; iter++) {
        char w[256];
        size_t len = (size_t)(mn_test_next(&x) >> 32) % (iter % 10 == 0 ? 255 : 16);
        for (size_t i = 0; i < len; i++)
            w[i] = (char)(0x20 + (mn_test_next(&x) >> 58)); /* 64 printable characters */
        int minn = iter % 3 == 0 ? 1 : 1 + (int)((x >> 20) % 5);
        int maxn = iter % 3 == 0 ? 4 : minn + (int)((x >> 24) % 6);
        uint32_t bucket = iter % 2 ? 2000000 : 2 + (uint32_t)((x >> 28) % 2000003);
        size_t all = reference(w, len, minn, maxn, bucket, b, 2400);
        size_t cap = iter % 7 == 0 && all > 0 ? all - 1 : 2400;
        size_t ka = mn_char_ngrams(w, len, minn, maxn, bucket, a, cap);
        ASSERT_EQ(ka, all);
        for (size_t i = 0; i < ka && i < cap; i++)
            if (a[i] != b[i])
                MN_FAIL_AT("iter %d (len %zu, %d..%d): n-gram %zu differs", iter, len, minn,
                           maxn, i);
    }
}

TEST(char_ngrams_cap_and_degenerate)
{
    uint32_t all[64], few[64];
    size_t k = mn_char_ngrams("micronlp", 8, 3, 6, 2000000, all, 64);
    ASSERT_EQ(k, 26); /* "<micronlp>" has 10 code points: 8 + 7 + 6 + 5 */
    few[3] = 7;
    ASSERT_EQ(mn_char_ngrams("micronlp", 8, 3, 6, 2000000, few, 3), 26);
    ASSERT_EQ(few[0], all[0]);
    ASSERT_EQ(few[2], all[2]);
    ASSERT_EQ(few[3], 7);
    ASSERT_EQ(mn_char_ngrams("micronlp", 8, 3, 6, 2000000, NULL, 0), 26);
    ASSERT_EQ(mn_char_ngrams("micronlp", 8, 0, 0, 100, all, 64), 0); /* maxn 0: disabled */
    ASSERT_EQ(mn_char_ngrams("micronlp", 8, 3, 6, 0, all, 64), 0);  /* bucket 0 */
    ASSERT_EQ(mn_char_ngrams("micronlp", 8, 4, 3, 100, all, 64), 0); /* maxn < minn */
    for (size_t i = 0; i < 26; i++)
        ASSERT(all[i] < 2000000);
}

TEST(char_ngrams_long_word)
{
    /* A word longer than the 256-byte stack buffer of the hash helper: the whole "<w>" n-gram
     * goes through the streaming path and must equal the one-shot hash. */
    char w[400], joined[402];
    memset(w, 'x', sizeof w);
    joined[0] = '<';
    memcpy(joined + 1, w, sizeof w);
    joined[401] = '>';
    uint32_t out[1];
    /* minn = maxn = 402 code points: the only n-gram is the whole "<w>" */
    ASSERT_EQ(mn_char_ngrams(w, sizeof w, 402, 402, BIG, out, 1), 1);
    ASSERT_EQ(out[0], mn_hash64(joined, sizeof joined) % BIG);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

TEST(fastmod_matches_remainder)
{
    const uint32_t ds[] = {1, 2, 3, 5, 7, 10, 255, 256, 1000003, 2000000, 0x7FFFFFFFu,
                           0x80000000u, 0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0] + 2000; k++) {
        uint32_t d = k < sizeof ds / sizeof ds[0] ? ds[k] : (uint32_t)(rnd64() >> (rnd64() % 32));
        if (d == 0)
            continue;
        fastmod f = fastmod_init(d);
        uint64_t edge[] = {0, 1, d - 1, d, (uint64_t)d + 1, UINT64_MAX, UINT64_MAX - 1,
                           UINT64_MAX / d * d, UINT64_MAX / d * d - 1, (uint64_t)1 << 63};
        for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++)
            if (fastmod_u64(edge[e], &f) != edge[e] % d)
                MN_FAIL_AT("%" PRIu64 " %% %u", edge[e], d);
        for (int i = 0; i < 2000; i++) {
            uint64_t x = rnd64() >> (rnd64() % 64);
            if (fastmod_u64(x, &f) != x % d)
                MN_FAIL_AT("%" PRIu64 " %% %u", x, d);
        }
    }
    /* and through mn_word_ngrams with the bucket count of the shipped models */
    uint64_t h[64];
    uint32_t out[64 * 3];
    for (int i = 0; i < 64; i++)
        h[i] = rnd64();
    size_t got = mn_word_ngrams(h, 64, 2, 2000000, out, 64 * 3);
    ASSERT_EQ(got, 63);
    for (int i = 0; i < 63; i++)
        ASSERT_EQ(out[i], mn_hash_combine(h[i], h[i + 1]) % 2000000);
}

TEST(no_allocation)
{
    uint64_t h[3] = {1, 2, 3};
    uint32_t out[64];
    char w[400];
    memset(w, 'y', sizeof w);
    mn_alloc_fail_after(1);
    size_t a = mn_word_ngrams(h, 3, 3, 100, out, 64);
    size_t b = mn_char_ngrams("hello", 5, 3, 6, 100, out, 64);
    size_t c = mn_char_ngrams(w, sizeof w, 402, 402, 100, out, 64);
    long made = mn_alloc_fail_after(0);
    ASSERT_EQ(a, 3);
    ASSERT_EQ(b, 5 + 4 + 3 + 2); /* "<hello>": 7 code points */
    ASSERT_EQ(c, 1);
    ASSERT_EQ(made, 0);
}

TEST_MAIN(TEST_ENTRY(word_ngrams_order_and_count) TEST_ENTRY(word_ngrams_cap)
              TEST_ENTRY(char_ngrams_table) TEST_ENTRY(char_ngrams_match_fasttext_loop)
                  TEST_ENTRY(char_ngrams_ascii_match_fasttext_loop)
                  TEST_ENTRY(char_ngrams_cap_and_degenerate) TEST_ENTRY(char_ngrams_long_word)
                      TEST_ENTRY(fastmod_matches_remainder) TEST_ENTRY(no_allocation))
