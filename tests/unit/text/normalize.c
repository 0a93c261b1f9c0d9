/* SPDX-License-Identifier: MIT
 *
 * Tests for src/text/normalize.c: table-driven NFKC, case folding and mark stripping
 * (compatibility forms, Hangul, canonical reordering, expansions, kana voicing, emoji), ill-
 * formed input, the MN_ETOOBIG contract (exact size reported, no byte written past cap), a
 * differential test against utf8proc's own allocating utf8proc_map() on random strings built
 * from tricky code points, idempotence, agreement with mn_utf8_repair, no allocation, and the
 * same output from the fast path for code points that normalise alone as from the general one.
 * (The test includes <utf8proc.h> only to call the reference.)
 */
#include "micronlp/text.h"

#include "micronlp/alloc.h"
#include "micronlp/err.h"
#include "test.h"

#include <utf8proc.h>

/* The file itself, to compare its fast path with the general one. */
#include "text/normalize.c"

#define NFKC MN_NORM_NFKC
#define FOLD MN_NORM_CASEFOLD
#define STRIP MN_NORM_STRIP_MARKS
#define ALL (NFKC | FOLD | STRIP)
#define R "\xEF\xBF\xBD"

static const struct {
    const char *in;
    unsigned flags;
    const char *want;
} norm_cases[] = {
    {"", ALL, ""},
    {"plain ascii text", 0, "plain ascii text"},
    {"Hello WORLD 123 !?", FOLD, "hello world 123 !?"},
    {"Hello WORLD", NFKC, "Hello WORLD"},
    {"Hello WORLD", STRIP, "Hello WORLD"},
    /* NFKC */
    {"ﬁnance", NFKC, "finance"},
    {"ＡＢＣ１２３", NFKC, "ABC123"},
    {"①②", NFKC, "12"},
    {"㎏", NFKC, "kg"},
    {"x²", NFKC, "x2"},
    {"…", NFKC, "..."},
    {"e\xCC\x81", NFKC, "é"},                    /* e + U+0301 composes */
    {"E\xCC\x81t\xC3\xA9", NFKC, "Été"},
    {"\xE2\x84\xAB", NFKC, "Å"},                  /* U+212B ANGSTROM SIGN -> U+00C5 */
    {"ｶﾞｷﾞ", NFKC, "ガギ"},                       /* half-width kana + voiced mark */
    {"\xE1\x84\x80\xE1\x85\xA1", NFKC, "가"},    /* conjoining jamo L V */
    {"\xEA\xB0\x80\xE1\x86\xA8", NFKC, "각"},    /* LV syllable + T */
    {"\xE1\xBA\x9B\xCC\xA3", NFKC, "\xE1\xB9\xA9"}, /* UAX #15 example: U+1E9B U+0323 -> U+1E69 */
    {"q\xCC\x87\xCC\xA3", NFKC, "q\xCC\xA3\xCC\x87"}, /* canonical reordering (ccc 230, 220) */
    {"a\xCC\x81\xCC\xA3", NFKC, "\xE1\xBA\xA1\xCC\x81"}, /* reorder then compose: ạ + U+0301 */
    {"\xEF\xB7\xBA", NFKC,                        /* U+FDFA expands to 18 code points */
     "\xD8\xB5\xD9\x84\xD9\x89 \xD8\xA7\xD9\x84\xD9\x84\xD9\x87 \xD8\xB9\xD9\x84\xD9\x8A\xD9\x87 "
     "\xD9\x88\xD8\xB3\xD9\x84\xD9\x85"},
    {"\xE0\xAD\x87\xE0\xAC\xBE", NFKC, "\xE0\xAD\x8B"}, /* Oriya: two ccc-0 marks compose */
    {"日本語のテキスト", NFKC, "日本語のテキスト"},
    {"\xE2\x9D\xA4\xEF\xB8\x8F", NFKC, "\xE2\x9D\xA4\xEF\xB8\x8F"}, /* ❤️ keeps U+FE0F */
    /* case folding */
    {"Straße", FOLD, "strasse"},
    {"ΣΊΣΥΦΟΣ", FOLD, "σίσυφοσ"},
    {"İ", FOLD, "i\xCC\x87"},
    {"\xE2\x84\xAA", FOLD, "k"},                  /* KELVIN SIGN */
    {"ÀB", FOLD, "àb"},
    {"ǅ", FOLD, "ǆ"},
    {"ＡＢＣ", FOLD, "ａｂｃ"},                   /* folding alone keeps the width */
    {"ＡＢＣ", NFKC | FOLD, "abc"},
    /* mark stripping */
    {"café", STRIP, "cafe"},
    {"Crème Brûlée", STRIP, "Creme Brulee"},
    {"naïve façade", STRIP, "naive facade"},
    {"e\xCC\x81\xCC\xA3x", STRIP, "ex"},
    {"Ελληνικά", STRIP, "Ελληνικα"},
    {"Łódź", STRIP, "Łodz"},                      /* Ł has no decomposition */
    {"です", STRIP, "です"},                      /* kana voicing is not an accent */
    {"हिन्दी", STRIP, "हिन्दी"},
    {"ภาษาไทยง่าย", STRIP, "ภาษาไทยง่าย"},
    {"Ｃａｆé ﬁ Straße", ALL, "cafe fi strasse"},
    {"ÉCOLE", FOLD | STRIP, "ecole"},
    /* ill-formed input: U+FFFD per maximal subpart, like mn_utf8_repair */
    {"a\xFF" "b", 0, "a" R "b"},
    {"a\xFF" "b", ALL, "a" R "b"},
    {"\xE2\x82" "A", NFKC, R "A"},
    {"\xC0\x80", FOLD, R R},
    {"e\xFF\xCC\x81", NFKC, "e" R "\xCC\x81"},    /* the mark does not jump over U+FFFD */
};

TEST(table)
{
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        char out[256];
        size_t n = 9999;
        int rc = mn_normalize(norm_cases[i].in, strlen(norm_cases[i].in), norm_cases[i].flags, out, sizeof out,
                              &n);
        if (rc != 0)
            MN_FAIL_AT("case %zu (\"%s\"): rc %d", i, norm_cases[i].in, rc);
        if (n != strlen(norm_cases[i].want) || memcmp(out, norm_cases[i].want, n) != 0)
            MN_FAIL_AT("case %zu: \"%s\" flags %u -> \"%.*s\", want \"%s\"", i, norm_cases[i].in,
                       norm_cases[i].flags, (int)n, out, norm_cases[i].want);
    }
}

TEST(too_big_reports_exact_size_and_never_overruns)
{
    static const char *inputs[] = {"Straße ﬁ café", "plain ascii that is long enough", "\xEF\xB7\xBA",
                                   ("a\xFF\xFE" "b"), "ｶﾞｷﾞ", ""};
    for (size_t t = 0; t < sizeof inputs / sizeof inputs[0]; t++) {
        for (unsigned flags = 0; flags < 8; flags++) {
            const char *in = inputs[t];
            char full[256];
            size_t need;
            ASSERT_EQ(mn_normalize(in, strlen(in), flags, full, sizeof full, &need), 0);
            ASSERT_EQ(mn_normalize(in, strlen(in), flags, NULL, 0, &need), need ? MN_ETOOBIG : 0);
            for (size_t cap = 0; cap <= need; cap++) {
                char buf[300];
                memset(buf, '#', sizeof buf);
                size_t n = 0;
                int rc = mn_normalize(in, strlen(in), flags, buf, cap, &n);
                ASSERT_EQ(n, need);
                ASSERT_EQ(rc, cap < need ? MN_ETOOBIG : 0);
                for (size_t k = cap; k < sizeof buf; k++)
                    if (buf[k] != '#')
                        MN_FAIL_AT("wrote byte %zu with cap %zu", k, cap);
                if (rc == 0)
                    ASSERT(memcmp(buf, full, need) == 0);
            }
        }
    }
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Code points that exercise composition, reordering, Hangul, compatibility and case. */
static const int32_t pool[] = {
    'a', 'e', 'A', 'E', 'i', 'I', 'o', 'k', 's', 'S', ' ', '.', '1', 0x0300, 0x0301, 0x0308,
    0x0323, 0x0327, 0x0345, 0x0344, 0x0F73, 0x0B47, 0x0B3E, 0x0B57, 0x0BC6, 0x0BBE, 0x0BD7,
    0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0x3099, 0x309A, 0x304B, 0x30AB, 0xFF76, 0xFF9E,
    0x00C5, 0x212B, 0x00DF, 0x1E9E, 0x0130, 0x03A3, 0x03C2, 0xFB01, 0xFDFA, 0x2460, 0x00B2,
    0x1E9B, 0x1E0A, 0x2126, 0x212A, 0x1F600, 0xFE0F, 0x200D, 0x05D0, 0x05B8, 0x0915, 0x093C,
    0x094D, 0x0E01, 0x0E48, 0x1D15E, 0x1D165, 0x2ADC, 0x0340, 0x0958, 0x01C4, 0x00BD,
};

static size_t random_text(char *b)
{
    size_t len = 0, n = rnd() % 24;
    for (size_t i = 0; i < n; i++) {
        int32_t cp = (rnd() % 8) ? pool[rnd() % (sizeof pool / sizeof pool[0])]
                                 : (int32_t)(rnd() % 0x30000);
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 'x';
        len += mn_utf8_encode(cp, b + len);
    }
    return len;
}

TEST(matches_utf8proc_map)
{
    static const struct {
        unsigned ours;
        utf8proc_option_t ref;
    } modes[] = {
        {NFKC, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT},
        {NFKC | FOLD, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD},
        {FOLD, UTF8PROC_CASEFOLD},
    };
    for (int iter = 0; iter < 50000; iter++) {
        char in[24 * 4];
        size_t len = random_text(in);
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            utf8proc_uint8_t *ref = NULL;
            utf8proc_ssize_t rn =
                utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, &ref,
                             modes[m].ref);
            ASSERT(rn >= 0);
            char out[1024];
            size_t n;
            int rc = mn_normalize(in, len, modes[m].ours, out, sizeof out, &n);
            int same = rc == 0 && n == (size_t)rn && memcmp(out, ref, n) == 0;
            free(ref);
            if (!same)
                MN_FAIL_AT("iter %d mode %zu: \"%.*s\" differs from utf8proc (%zu vs %zd)", iter,
                           m, (int)len, in, n, (ssize_t)rn);
        }
    }
}

TEST(idempotent_and_repair_consistent)
{
    for (int iter = 0; iter < 50000; iter++) {
        char in[200];
        size_t len = random_text(in);
        if (rnd() % 3 == 0 && len) /* sprinkle ill-formed bytes */
            in[rnd() % len] = (char)(0x80 | rnd());
        for (unsigned flags = 0; flags < 8; flags++) {
            char a[2048], b[2048], rep[600], c[2048];
            size_t na, nb, nr, nc;
            ASSERT_EQ(mn_normalize(in, len, flags, a, sizeof a, &na), 0);
            ASSERT_EQ(mn_utf8_validate(a, na, NULL), 0);
            /* NFKC and NFKC+fold are idempotent; folding alone may need a second pass for a
             * handful of characters (e.g. U+0345), so only check the NFKC modes. */
            if (flags & NFKC) {
                ASSERT_EQ(mn_normalize(a, na, flags, b, sizeof b, &nb), 0);
                if (na != nb || memcmp(a, b, na) != 0)
                    MN_FAIL_AT("iter %d flags %u: not idempotent", iter, flags);
            }
            nr = mn_utf8_repair(in, len, rep);
            ASSERT_EQ(mn_normalize(rep, nr, flags, c, sizeof c, &nc), 0);
            if (na != nc || memcmp(a, c, na) != 0)
                MN_FAIL_AT("iter %d flags %u: normalize(s) != normalize(repair(s))", iter, flags);
        }
    }
}

TEST(long_run_of_marks)
{
    /* 500 combining marks after one letter: processed in bounded pieces, no overflow. */
    char in[1 + 500 * 2], out[4096];
    in[0] = 'a';
    for (int i = 0; i < 500; i++)
        memcpy(in + 1 + 2 * i, i % 2 ? "\xCC\x81" : "\xCC\xA3", 2);
    size_t n;
    ASSERT_EQ(mn_normalize(in, sizeof in, NFKC, out, sizeof out, &n), 0);
    ASSERT_EQ(mn_utf8_validate(out, n, NULL), 0);
    ASSERT_EQ(mn_normalize(in, sizeof in, ALL, out, sizeof out, &n), 0);
    ASSERT_MEMEQ(out, n, "a");
}

TEST(no_allocation)
{
    char out[256];
    size_t n1, n2, n3;
    mn_alloc_fail_after(1);
    int r1 = mn_normalize("Ｃａｆé ﬁ Straße", strlen("Ｃａｆé ﬁ Straße"), ALL, out, sizeof out, &n1);
    int r2 = mn_normalize("\xEF\xB7\xBA", 3, NFKC, out, sizeof out, &n2);
    int r3 = mn_normalize("x\xFF", 2, ALL, out, 1, &n3);
    long made = mn_alloc_fail_after(0);
    ASSERT_EQ(r1, 0);
    ASSERT_EQ(n1, strlen("cafe fi strasse"));
    ASSERT_EQ(r2, 0);
    ASSERT_EQ(r3, MN_ETOOBIG);
    ASSERT_EQ(n3, 4);
    ASSERT_EQ(made, 0);
}

/* Every code point of the solo tables' ranges, and a sample of all others, alone and next to
 * neighbours that compose, reorder, strip or break (marks, jamo, ill-formed bytes): the fast
 * path gives exactly what the general path gives, under every set of flags. */
TEST(fast_path_matches_general_path)
{
    static const char *nb[] = {
        "a", "A", " ", "\xCC\x81", "\xCC\x88", "\xCC\xA3", "\xCD\x85", "\xE1\x86\xA8",
        "\xE1\x85\xA1", "\xE0\xAC\xBE", "\xE3\x82\x99", "\xEF\xB8\x8F", "\xC3\xA9",
        "\xC3\x85", "\xE1\xBA\xA1", "\xEA\xB0\x80", "\xE4\xB8\x80", "\xEF\xAC\x81",
        "\xD8\xA7", "\xD9\x8B", "\xD6\xB8", "\xE0\xA4\xBC", "\xE0\xB9\x88",
        "\xE1\xBA\x9B", "\xCD\x84", "\xE0\xBD\xB3", "\xFF", "\xE2\x82", "\xC3\x9F",
        "\xE2\x84\xAA",
    };
    enum { NNB = sizeof nb / sizeof nb[0] };
    size_t checked = 0;
    for (unsigned flags = 1; flags <= ALL; flags++) {
        for (int32_t cp = 0x80; cp < 0x30000; cp++) {
            int in_table = solo_index(cp) >= 0;
            if ((cp >= 0xD800 && cp <= 0xDFFF) || (!in_table && cp % 61 != 0))
                continue;
            char c[4];
            size_t cn = mn_utf8_encode(cp, c);
            for (int t = 0; t < NNB; t++) {
                if (!in_table && t % 3 != 0)
                    continue;
                size_t bn = strlen(nb[t]);
                char in[3][16];
                size_t inn[3];
                memcpy(in[0], c, cn); /* cp nb */
                memcpy(in[0] + cn, nb[t], bn);
                inn[0] = cn + bn;
                memcpy(in[1], nb[t], bn); /* nb cp */
                memcpy(in[1] + bn, c, cn);
                inn[1] = cn + bn;
                memcpy(in[2], c, cn); /* cp nb cp */
                memcpy(in[2] + cn, nb[t], bn);
                memcpy(in[2] + cn + bn, c, cn);
                inn[2] = 2 * cn + bn;
                for (int v = 0; v < 3; v++) {
                    char a[256], b[256];
                    size_t na, nb2;
                    ASSERT_EQ(normalize(in[v], inn[v], flags, a, sizeof a, &na, 1), 0);
                    ASSERT_EQ(normalize(in[v], inn[v], flags, b, sizeof b, &nb2, 0), 0);
                    if (na != nb2 || memcmp(a, b, na) != 0)
                        MN_FAIL_AT("U+%04X with neighbour %d, form %d, flags %u: fast path "
                                   "differs", (unsigned)cp, t, v, flags);
                    checked++;
                }
            }
        }
    }
    ASSERT(checked > 1000000);
}

/* Every BMP code point the inert pages call inert is its own decomposition under NFKC and case
 * folding, has the combining class the page keeps, and is never the second or later code point
 * of the canonical decomposition of a code point that is not excluded from composition (so
 * nothing composes with it); the general path agrees. */
TEST(inert_entries_match_decompositions)
{
    static unsigned char later[0x10000]; /* 1: after the first in some canonical decomposition */
    for (int32_t cp = 0; cp < 0x110000; cp++) {
        /* Composition exclusions never compose, so their pieces do not count. */
        if ((cp >= 0xD800 && cp <= 0xDFFF) || utf8proc_get_property(cp)->comp_exclusion)
            continue;
        int32_t d[DECOMP_MAX];
        int bc = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(cp, d, DECOMP_MAX, UTF8PROC_DECOMPOSE, &bc);
        if (m > 1 && utf8proc_get_property(d[0])->combining_class != 0)
            continue; /* a non-starter decomposition (U+0F73): excluded as well */
        for (utf8proc_ssize_t j = 1; j < m; j++)
            if (d[j] < 0x10000)
                later[d[j]] = 1;
    }
    size_t inert = 0;
    for (int32_t cp = 0x80; cp < 0x10000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        uint8_t v = inert_page(cp)[cp & 0xFF];
        if (!v)
            continue;
        inert++;
        int32_t d[DECOMP_MAX];
        int bc = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(
            cp, d, DECOMP_MAX, UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD, &bc);
        if (m != 1 || d[0] != cp || later[cp] ||
            v - 1 != utf8proc_get_property(cp)->combining_class)
            MN_FAIL_AT("U+%04X is not inert", (unsigned)cp);
        char in[8], a[64], b[64];
        size_t n = mn_utf8_encode(cp, in), na, nb;
        in[n] = 'A';
        ASSERT_EQ(normalize(in, n + 1, NFKC | MN_NORM_CASEFOLD, a, sizeof a, &na, 0), 0);
        ASSERT_EQ(normalize(in, n + 1, NFKC | MN_NORM_CASEFOLD, b, sizeof b, &nb, 1), 0);
        ASSERT(na == n + 1 && memcmp(a, in, n) == 0 && a[n] == 'a');
        ASSERT(nb == na && memcmp(a, b, na) == 0);
    }
    ASSERT(inert > 30000);
}

/* Random words of inert letters and marks of several combining classes (in and out of
 * canonical order), mixed with capitals, marks that compose, jamo, astral and ill-formed bytes:
 * the fast path (inert text, solo code points) gives what the general path gives. */
TEST(inert_words_match_general_path)
{
    static const int32_t mix[] = {
        'a',    'Z',    '-',    0x915,  0x93F,  0x94D,  0x93C,  0x928,  0x930,  0x9BE,  0x9C7,
        0x995,  0xB95,  0xBBE,  0xBC6,  0x5D0,  0x5B8,  0x5B4,  0x591,  0x5C1,  0x5BC,  0xE01,
        0xE33,  0xE48,  0xE38,  0xE34,  0x301,  0x316,  0x334,  0x345,  0x410,  0x430,  0x3B1,
        0x391,  0x627,  0x64B,  0x650,  0x651,  0x1100, 0x1161, 0x11A8, 0xAC00, 0x4E2D, 0x3099,
        0x304B, 0xFB01, 0xFF21, 0x10400, 0x1D15E, 0xCD5,  0xCC6,  0x102E, 0x1025, 0xF71,  0xF72,
        0xF80,  0x1B05, 0x1B35, 0x200D, 0xAD,   0x1F600, 0x6F,  0x325,  0xDCF,  0xDD9,
    };
    enum { NP = sizeof mix / sizeof mix[0] };
    srand(23);
    size_t fast_hits = 0;
    for (int round = 0; round < 200000; round++) {
        char in[80];
        size_t n = 0, w = 1 + (size_t)(rand() % 12);
        for (size_t i = 0; i < w; i++)
            n += mn_utf8_encode(mix[rand() % NP], in + n);
        if (rand() % 50 == 0)
            in[rand() % n] = (char)0xC3; /* ill-formed, or a different letter */
        for (unsigned flags = 1; flags <= ALL; flags++) {
            char a[400], b[400];
            size_t na, nb;
            ASSERT_EQ(normalize(in, n, flags, a, sizeof a, &na, 1), 0);
            ASSERT_EQ(normalize(in, n, flags, b, sizeof b, &nb, 0), 0);
            if (na != nb || memcmp(a, b, na) != 0)
                MN_FAIL_AT("round %d flags %u: fast path differs", round, flags);
            if (flags == (NFKC | MN_NORM_CASEFOLD)) {
                char c[400];
                fast_hits += inert_text(in, n, 0, 1, c) && memcmp(c, b, n) == 0;
            }
        }
    }
    ASSERT(fast_hits > 1000);
}

TEST_MAIN(TEST_ENTRY(table) TEST_ENTRY(too_big_reports_exact_size_and_never_overruns)
              TEST_ENTRY(matches_utf8proc_map) TEST_ENTRY(idempotent_and_repair_consistent)
                  TEST_ENTRY(long_run_of_marks) TEST_ENTRY(no_allocation)
                      TEST_ENTRY(fast_path_matches_general_path)
                          TEST_ENTRY(inert_entries_match_decompositions)
                              TEST_ENTRY(inert_words_match_general_path))
