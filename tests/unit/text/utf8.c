/* SPDX-License-Identifier: MIT
 *
 * Tests for src/text/utf8.c: table-driven validation (overlongs, surrogates, truncated
 * sequences, the U+10FFFF limit, errors on either side of the 8-byte ASCII fast path), decode,
 * encode of every scalar value, repair with one U+FFFD per maximal subpart (Unicode table 3-8),
 * a differential test of validate against a naive byte-by-byte reference on random input, and
 * a check that nothing allocates.
 */
#include "micronlp/text.h"

#include "micronlp/alloc.h"
#include "micronlp/err.h"
#include "test.h"
#include "text/internal.h"

#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *in;
    size_t len;
    int ok;
    size_t bad; /* offset of the first ill-formed sequence when !ok */
} validate_cases[] = {
    {S(""), 1, 0},
    {S("hello, world"), 1, 0},
    {S("a\0b"), 1, 0},                         /* NUL is well-formed */
    {S("\x7F"), 1, 0},                         /* DEL */
    {S("\xC2\x80"), 1, 0},                     /* U+0080 */
    {S("\xDF\xBF"), 1, 0},                     /* U+07FF */
    {S("\xE0\xA0\x80"), 1, 0},                 /* U+0800 */
    {S("\xED\x9F\xBF"), 1, 0},                 /* U+D7FF, last before the surrogates */
    {S("\xEE\x80\x80"), 1, 0},                 /* U+E000 */
    {S("\xEF\xBF\xBD"), 1, 0},                 /* U+FFFD */
    {S("\xEF\xBF\xBF"), 1, 0},                 /* U+FFFF (noncharacter, still well-formed) */
    {S("\xF0\x90\x80\x80"), 1, 0},             /* U+10000 */
    {S("\xF4\x8F\xBF\xBF"), 1, 0},             /* U+10FFFF */
    {S("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x91\x8D"), 1, 0},
    {S("\x80"), 0, 0},                         /* lone continuation */
    {S("\xBF"), 0, 0},
    {S("\xC0\x80"), 0, 0},                     /* overlong NUL */
    {S("\xC1\xBF"), 0, 0},                     /* overlong U+007F */
    {S("\xE0\x80\x80"), 0, 0},                 /* overlong 3-byte */
    {S("\xE0\x9F\xBF"), 0, 0},                 /* overlong U+07FF */
    {S("\xF0\x80\x80\x80"), 0, 0},             /* overlong 4-byte */
    {S("\xF0\x8F\xBF\xBF"), 0, 0},             /* overlong U+FFFF */
    {S("\xED\xA0\x80"), 0, 0},                 /* U+D800 surrogate */
    {S("\xED\xBF\xBF"), 0, 0},                 /* U+DFFF surrogate */
    {S("\xED\xA0\xBD\xED\xB2\xA9"), 0, 0},     /* CESU-8 surrogate pair */
    {S("\xF4\x90\x80\x80"), 0, 0},             /* U+110000 */
    {S("\xF5\x80\x80\x80"), 0, 0},
    {S("\xF8\x88\x80\x80\x80"), 0, 0},         /* old 5-byte form */
    {S("\xFE"), 0, 0},
    {S("\xFF"), 0, 0},
    {S("\xC3"), 0, 0},                         /* truncated 2-byte */
    {S("\xE2\x82"), 0, 0},                     /* truncated 3-byte */
    {S("\xF0\x9F\x98"), 0, 0},                 /* truncated 4-byte */
    {S("\xE2\x82 "), 0, 0},                    /* interrupted by ASCII */
    {S("\xC3\xC3\xA9"), 0, 0},                 /* lead followed by lead */
    {S("ab\xC3\xA9\x80"), 0, 4},               /* stray continuation after a good sequence */
    {S("abcdefg\xFF"), 0, 7},                  /* just before the first 8-byte block ends */
    {S("abcdefgh\xFF"), 0, 8},                 /* first byte after a full block */
    {S("abcdefghijklmno\xE2\x82"), 0, 15},
    {S("abcdefghijklmnop\xC0\xAF"), 0, 16},
    {S("abcdefghijklmnop\xC3\xA9qrstuvwxyz012345\xED\xA0\x80"), 0, 34},
};

TEST(validate_table)
{
    for (size_t i = 0; i < sizeof validate_cases / sizeof validate_cases[0]; i++) {
        size_t bad = 12345;
        int rc = mn_utf8_validate(validate_cases[i].in, validate_cases[i].len, &bad);
        if (validate_cases[i].ok) {
            if (rc != 0)
                MN_FAIL_AT("case %zu: expected valid, got %d at %zu", i, rc, bad);
            if (bad != 12345)
                MN_FAIL_AT("case %zu: bad_offset touched on success", i);
        } else {
            if (rc != MN_EUTF8)
                MN_FAIL_AT("case %zu: expected MN_EUTF8, got %d", i, rc);
            if (bad != validate_cases[i].bad)
                MN_FAIL_AT("case %zu: bad_offset %zu, want %zu", i, bad, validate_cases[i].bad);
        }
        ASSERT_EQ(mn_utf8_validate(validate_cases[i].in, validate_cases[i].len, NULL),
                  validate_cases[i].ok ? 0 : MN_EUTF8);
    }
}

static const struct {
    const char *in;
    size_t len;
    int32_t cp;
    size_t n;
} decode_cases[] = {
    {S("A"), 'A', 1},
    {S("\0"), 0, 1},
    {S("\xC3\xA9x"), 0xE9, 2},
    {S("\xE2\x82\xAC"), 0x20AC, 3},
    {S("\xF0\x9F\x98\x80"), 0x1F600, 4},
    {S("\xF4\x8F\xBF\xBF"), 0x10FFFF, 4},
    {S("\xF4\x90\x80\x80"), -1, 1},
    {S("\xED\xA0\x80"), -1, 1},
    {S("\xE0\x9F\xBF"), -1, 1},
    {S("\xC0\x80"), -1, 1},
    {S("\xE2\x82"), -1, 1},  /* truncated: consumes 1 byte */
    {S("\xF0\x9F\x98"), -1, 1},
    {S("\x80"), -1, 1},
    {S("\xFF"), -1, 1},
};

TEST(decode_table)
{
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        int32_t cp = 7;
        size_t n = mn_utf8_decode(decode_cases[i].in, decode_cases[i].len, &cp);
        if (cp != decode_cases[i].cp || n != decode_cases[i].n)
            MN_FAIL_AT("case %zu: got cp %" PRId32 " n %zu, want %" PRId32 " %zu", i, cp, n,
                       decode_cases[i].cp, decode_cases[i].n);
    }
    int32_t cp = 0;
    ASSERT_EQ(mn_utf8_decode("\xC3\xA9", 1, &cp), 1); /* len cuts the sequence */
    ASSERT_EQ(cp, -1);
    ASSERT_EQ(mn_utf8_decode("", 0, &cp), 0);
}

TEST(encode_table)
{
    static const struct {
        int32_t cp;
        const char *want;
    } cases[] = {
        {0x41, "A"},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0xD7FF, "\xED\x9F\xBF"},
        {0xE000, "\xEE\x80\x80"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x1F44D, "\xF0\x9F\x91\x8D"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
        {0xD800, "\xEF\xBF\xBD"}, /* not scalar values: U+FFFD */
        {0xDFFF, "\xEF\xBF\xBD"},
        {0x110000, "\xEF\xBF\xBD"},
        {-1, "\xEF\xBF\xBD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[4];
        size_t n = mn_utf8_encode(cases[i].cp, out);
        ASSERT_MEMEQ(out, n, cases[i].want);
    }
}

TEST(encode_decode_every_scalar)
{
    for (int32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char b[4];
        size_t n = mn_utf8_encode(cp, b);
        int32_t back;
        size_t m = mn_utf8_decode(b, n, &back);
        if (m != n || back != cp || mn_utf8_validate(b, n, NULL) != 0)
            MN_FAIL_AT("round trip of U+%04" PRIX32 " failed", cp);
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (n != want)
            MN_FAIL_AT("U+%04" PRIX32 " encoded in %zu bytes", cp, n);
    }
}

#define R "\xEF\xBF\xBD"

static const struct {
    const char *in;
    size_t len;
    const char *want;
} repair_cases[] = {
    {S(""), ""},
    {S("plain ascii, longer than eight bytes"), "plain ascii, longer than eight bytes"},
    {S("caf\xC3\xA9"), "caf\xC3\xA9"},
    {S("\xFF"), R},
    {S("a\xFF" "b"), "a" R "b"},
    {S("\xE2\x82" "A"), R "A"},                  /* one maximal subpart */
    {S("\xF0\x9F\x98"), R},
    {S("\xC0\x80"), R R},                        /* C0 can never start a sequence */
    {S("\xED\xA0\x80"), R R R},                  /* surrogate: ED then A0 is out of range */
    {S("\xF4\x90\x80\x80"), R R R R},
    /* Unicode 15, table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
    {S("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"), "a" R R R "b" R "c" R R "d"},
    {S("12345678\xFF" "9"), "12345678" R "9"},
};

TEST(repair_table)
{
    for (size_t i = 0; i < sizeof repair_cases / sizeof repair_cases[0]; i++) {
        char out[3 * 64];
        size_t n = mn_utf8_repair(repair_cases[i].in, repair_cases[i].len, out);
        ASSERT_MEMEQ(out, n, repair_cases[i].want);
        ASSERT_EQ(mn_utf8_validate(out, n, NULL), 0);
    }
}

/* The reference: decode each sequence arithmetically, then reject by value (overlong,
 * surrogate, too large), with no tables and no fast path. */
static int naive_validate(const unsigned char *s, size_t len, size_t *bad)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            *bad = i;
            return -1;
        }
        if (i + n > len) {
            *bad = i;
            return -1;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return -1;
            }
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = i;
            return -1;
        }
        i += n;
    }
    return 0;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Mostly ASCII with scattered well-formed and ill-formed sequences, so that both the 8-byte
 * fast path and every branch of the slow path are hit at all alignments. */
static size_t random_text(unsigned char *b, size_t cap)
{
    size_t len = rnd() % cap;
    size_t i = 0;
    while (i < len) {
        uint32_t r = rnd() % 100;
        if (r < 80) {
            b[i++] = (unsigned char)(0x20 + rnd() % 95);
        } else if (r < 92 && i + 4 <= len) {
            char enc[4];
            int32_t cp = (int32_t)(rnd() % 0x110000);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xE9;
            size_t n = mn_utf8_encode(cp, enc);
            memcpy(b + i, enc, n);
            i += n;
        } else {
            b[i++] = (unsigned char)rnd(); /* any byte, often ill-formed */
        }
    }
    return i < len ? i : len;
}

TEST(validate_matches_naive_reference)
{
    static unsigned char buf[300];
    static char rep[900];
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = random_text(buf, sizeof buf);
        size_t b1 = 0, b2 = 0;
        int r1 = mn_utf8_validate((const char *)buf, len, &b1);
        int r2 = naive_validate(buf, len, &b2);
        if ((r1 == 0) != (r2 == 0) || (r1 && b1 != b2))
            MN_FAIL_AT("iter %d len %zu: validate %d@%zu, naive %d@%zu", iter, len, r1, b1, r2,
                       b2);
        /* repair leaves valid text alone, and changes anything else */
        size_t n = mn_utf8_repair((const char *)buf, len, rep);
        int same = n == len && memcmp(rep, buf, len) == 0;
        if (same != (r1 == 0))
            MN_FAIL_AT("iter %d: repair %s but validate says %d", iter,
                       same ? "kept it" : "changed it", r1);
        if (mn_utf8_validate(rep, n, NULL) != 0)
            MN_FAIL_AT("iter %d: repair output is not valid", iter);
    }
}

TEST(decode_agrees_with_validate)
{
    static unsigned char buf[64];
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = random_text(buf, sizeof buf);
        int ok = 1;
        for (size_t i = 0; i < len;) {
            int32_t cp;
            i += mn_utf8_decode((const char *)buf + i, len - i, &cp);
            ok &= cp >= 0;
        }
        ASSERT_EQ(ok, mn_utf8_validate((const char *)buf, len, NULL) == 0);
    }
}

TEST(no_allocation)
{
    mn_alloc_fail_after(1);
    char out[64];
    size_t bad = 0;
    int rc1 = mn_utf8_validate(S("ok \xC3\xA9 then \xFF"), &bad);
    int32_t cp;
    size_t n = mn_utf8_decode(S("\xE2\x82\xAC"), &cp);
    size_t e = mn_utf8_encode(0x1F600, out);
    size_t r = mn_utf8_repair(S("a\xFF" "b"), out);
    long made = mn_alloc_fail_after(0);
    ASSERT_EQ(rc1, MN_EUTF8);
    ASSERT_EQ(bad, 11);
    ASSERT_EQ(n, 3);
    ASSERT_EQ(cp, 0x20AC);
    ASSERT_EQ(e, 4);
    ASSERT_MEMEQ(out, r, "a" R "b");
    ASSERT_EQ(made, 0);
}

TEST_MAIN(TEST_ENTRY(validate_table) TEST_ENTRY(decode_table) TEST_ENTRY(encode_table)
              TEST_ENTRY(encode_decode_every_scalar) TEST_ENTRY(repair_table)
                  TEST_ENTRY(validate_matches_naive_reference)
                      TEST_ENTRY(decode_agrees_with_validate) TEST_ENTRY(no_allocation))
