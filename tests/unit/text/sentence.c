/* SPDX-License-Identifier: MIT
 *
 * Tests for the sentence splitter (src/text/sentence.c): a table of texts and the sentences
 * expected, separated by " | ", covering abbreviations, initials, decimals, quotes and
 * brackets after the full stop, ellipses, blank lines and non-Latin punctuation; offsets are
 * checked to be byte ranges of the input; the byte skip of the scan against decoding code
 * point by code point.
 */
#include "micronlp/text.h"

/* Included for skip_to_stop and the terminator tests (file-static). */
#include "text/sentence.c"

#include <stdlib.h>

#include "test.h"

static void join(const char *text, char *out, size_t cap)
{
    mn_sentence s[64];
    size_t n = mn_sentences(text, strlen(text), s, 64), w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 64; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%.*s", i ? " | " : "", (int)s[i].len,
                              text + s[i].off);
}

TEST(splits_as_expected)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Hello world. How are you? Fine!", "Hello world. | How are you? | Fine!"},
        {"", ""},
        {"   \n\t ", ""},
        {"No terminator at all", "No terminator at all"},
        {"  Leading and trailing spaces.   ", "Leading and trailing spaces."},
        /* abbreviations */
        {"Mr. Smith met Dr. Jones. They talked.", "Mr. Smith met Dr. Jones. | They talked."},
        {"See Fig. 3 for details. It is clear.", "See Fig. 3 for details. | It is clear."},
        {"Apple Inc. makes phones. Ok.", "Apple Inc. makes phones. | Ok."},
        {"Use tools, e.g. hammers. Then rest.", "Use tools, e.g. hammers. | Then rest."},
        {"He lives in the U.S. He works there.", "He lives in the U.S. He works there."},
        {"The U.S. economy grew. Prices fell.", "The U.S. economy grew. | Prices fell."},
        {"We met at 5 p.m. yesterday. Good.", "We met at 5 p.m. yesterday. | Good."},
        /* initials */
        {"J. R. R. Tolkien wrote it. Read it.", "J. R. R. Tolkien wrote it. | Read it."},
        {"George W. Bush spoke.", "George W. Bush spoke."},
        /* decimals, versions, domains */
        {"Pi is 3.14 roughly. Yes.", "Pi is 3.14 roughly. | Yes."},
        {"Visit example.com today. Now.", "Visit example.com today. | Now."},
        {"It costs $1,000.50 now. Cheap.", "It costs $1,000.50 now. | Cheap."},
        /* a lower-case next word continues the sentence */
        {"It was approx. five metres.", "It was approx. five metres."},
        /* quotes and brackets after the terminator stay with the sentence */
        {"He said \"Stop.\" Then he left.", "He said \"Stop.\" | Then he left."},
        {"(This is one.) This is two.", "(This is one.) | This is two."},
        {"She asked “why?” Nobody knew.", "She asked “why?” | Nobody knew."},
        {"Done.' Next.", "Done.' | Next."},
        /* ellipses */
        {"I think... maybe not.", "I think... maybe not."},
        {"He left... The end.", "He left... | The end."},
        {"Wait… What?", "Wait… | What?"},
        /* runs of ! and ? */
        {"Really?! Yes!!! Ok.", "Really?! | Yes!!! | Ok."},
        /* blank lines always end a sentence; single newlines do not */
        {"Title line\n\nBody text here", "Title line | Body text here"},
        {"one line\ncontinues here.", "one line\ncontinues here."},
        {"a\n  \n\n b", "a | b"},
        /* non-Latin punctuation */
        {"今日は晴れです。明日は雨です。", "今日は晴れです。 | 明日は雨です。"},
        {"本当？はい！", "本当？ | はい！"},
        {"「行く。」と言った。", "「行く。」 | と言った。"},
        {"كيف حالك؟ أنا بخير.", "كيف حالك؟ | أنا بخير."},
        {"यह एक वाक्य है। यह दूसरा है।", "यह एक वाक्य है। | यह दूसरा है।"},
        {"Это первое. Это второе.", "Это первое. | Это второе."},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char got[1024];
        join(cases[k].in, got, sizeof got);
        if (strcmp(got, cases[k].want) != 0) fprintf(stderr, "case %zu: '%s'\n", k, cases[k].in);
        ASSERT_STREQ(got, cases[k].want);
    }
}

TEST(offsets_cover_the_text_in_order)
{
    const char *text = "  Zoë said: «Hi.» Then… she left!  Fin. ";
    mn_sentence s[8];
    size_t n = mn_sentences(text, strlen(text), s, 8);
    ASSERT(n >= 2);
    size_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT(s[i].off >= prev);
        ASSERT(s[i].off + s[i].len <= strlen(text));
        ASSERT(s[i].len > 0);
        ASSERT(text[s[i].off] != ' ');
        ASSERT(text[s[i].off + s[i].len - 1] != ' ');
        prev = s[i].off + s[i].len;
    }
    /* the iterator and the convenience function agree; cap 0 still counts */
    ASSERT_EQ(mn_sentences(text, strlen(text), NULL, 0), n);
    mn_sentencer it;
    mn_sentence one;
    mn_sentencer_init(&it, text, strlen(text));
    size_t k = 0;
    while (mn_sentencer_next(&it, &one)) {
        ASSERT_EQ(one.off, s[k].off);
        ASSERT_EQ(one.len, s[k].len);
        k++;
    }
    ASSERT_EQ(k, n);
    ASSERT_EQ(mn_sentencer_next(&it, &one), 0);
}

TEST(ill_formed_bytes_do_not_stop_it)
{
    const char text[] = "Bad \xff\xfe bytes. Next \xc3 one.";
    mn_sentence s[4];
    size_t n = mn_sentences(text, sizeof text - 1, s, 4);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(s[1].off + s[1].len, sizeof text - 1);
    /* a text of terminators only */
    ASSERT_EQ(mn_sentences("...", 3, s, 4), 1);
    ASSERT_EQ(mn_sentences(". . .", 5, s, 4), 3);
}

/* The terminators and newlines from i as the scan meets them: with skip_to_stop (fast) or one
 * decoded code point at a time, as the scan did before it (stores up to cap positions). */
static size_t stops_of(const char *s, size_t len, int fast, size_t *at, size_t cap)
{
    size_t k = 0, i = 0;
    while (i < len) {
        if (fast) {
            i = skip_to_stop((const unsigned char *)s, len, i);
            if (i >= len)
                break;
        }
        int32_t c;
        size_t n = decode(s, len, i, &c);
        if (c == '\n' || is_stop(c) || is_cjk_stop(c)) {
            if (k < cap)
                at[k] = i;
            k++;
        }
        i += n;
    }
    return k;
}

TEST(byte_skip_stops_where_decoding_does)
{
    /* Pieces next to the terminators' encodings: the terminators, other code points with
     * their lead bytes (or second bytes but one bit), truncated and stray bytes, runs of ASCII
     * longer than a 16-byte block. */
    static const char *const pieces[] = {
        ".", "!", "?", "\n", " ", "abcdefghijklmnopq", "\xE2\x80\xA6", "\xE2\x80\xBC",
        "\xE2\x81\x87", "\xE2\x81\x89", "\xE2\x80\x99", "\xE2\x81\x80", "\xE2\x82\xAC",
        "\xD8\x9F", "\xD8\x9E", "\xD8\xA7", "\xDB\x94", "\xDB\x95", "\xDB\x96",
        "\xE0\xA5\xA4", "\xE0\xA5\xA5", "\xE0\xA4\xA4", "\xE0\xB8\x81", "\xE3\x80\x82",
        "\xE3\x81\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F", "\xEF\xBD\xA1", "\xEF\xBD\xA2",
        "\xEF\xBE\x80", "\xC3\xA9", "\xE2\x80", "\xE2", "\xEF\xBC", "\x80", "\xBF", "\xFF",
        "\xF0\x9F\x98\x80", "\xE4\xB8\xAD",
    };
    enum { NP = sizeof pieces / sizeof pieces[0] };
    srand(7);
    for (int round = 0; round < 20000; round++) {
        char text[256];
        size_t len = 0;
        int count = rand() % 24;
        for (int p = 0; p < count; p++) {
            const char *piece = pieces[rand() % NP];
            size_t n = strlen(piece);
            if (len + n > sizeof text)
                break;
            memcpy(text + len, piece, n);
            len += n;
        }
        size_t a[256], b[256];
        size_t na = stops_of(text, len, 1, a, 256), nb = stops_of(text, len, 0, b, 256);
        ASSERT_EQ(na, nb);
        for (size_t k = 0; k < na && k < 256; k++)
            ASSERT_EQ(a[k], b[k]);
    }
}

/* The quick steps over a '\n' and over a terminator followed by an ASCII byte that settles it
 * against decoding there: the same sentences, on texts of pieces around those cases (blank
 * lines with spaces, tabs and CRs, closers, abbreviations, decimals, non-ASCII after a stop). */
TEST(quick_steps_agree)
{
    static const char *const pieces[] = {
        ".", "!", "?", "\n", "\n\n", " \t\r", " ", "\t", "\r", "a", "B", "Dr", "e.g",
        "3", "x", "\"", "'", ")", "]", "}", "(", ",", "-", "#", "\x7F", "\x01", "\xC3\xA9",
        "\xE2\x80\xA6", "\xE2\x80\x99", "\xE3\x80\x82", "\xC2\xA0", "U.S", "www.ex.com",
    };
    enum { NP = sizeof pieces / sizeof pieces[0] };
    uint64_t x = 11;
    for (int round = 0; round < 20000; round++) {
        char text[512];
        size_t count = (size_t)(mn_test_next(&x) >> 33) % 64;
        size_t len = mn_test_join_pieces(&x, pieces, NP, count, text, sizeof text);
        mn_sentencer qa, qb;
        mn_sentencer_init(&qa, text, len);
        mn_sentencer_init(&qb, text, len);
        for (;;) {
            mn_sentence a = {0, 0}, b = {0, 0};
            int ga = sentencer_next(&qa, &a, 1), gb = sentencer_next(&qb, &b, 0);
            ASSERT_EQ(ga, gb);
            if (!ga)
                break;
            ASSERT(a.off == b.off && a.len == b.len && qa.pos == qb.pos);
        }
    }
}

TEST_MAIN(TEST_ENTRY(splits_as_expected) TEST_ENTRY(offsets_cover_the_text_in_order)
              TEST_ENTRY(ill_formed_bytes_do_not_stop_it)
                  TEST_ENTRY(byte_skip_stops_where_decoding_does)
                      TEST_ENTRY(quick_steps_agree))
