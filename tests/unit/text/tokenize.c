/* SPDX-License-Identifier: MIT
 *
 * Tests for src/text/tokenize.c: a table of {text, expected tokens} covering words with inner
 * apostrophes and hyphens, numbers, URLs (trailing punctuation, brackets), e-mails, handles,
 * hashtags, emoji sequences (ZWJ, skin tones, flags, keycaps, variation selectors), Han and
 * kana, Hangul, Thai and Devanagari, punctuation runs and ill-formed bytes; exact byte offsets
 * on multi-byte text; structural invariants on random input (order, no overlap, in bounds, no
 * white space inside a token, nothing but separators left out); the ASCII fast paths against
 * the general path, token for token, and their quick exits (F_END, F_SOLO); batches against the
 * iterator, hashes included; the cap contract of mn_tokenize; kind names; and no allocation.
 */
#include "micronlp/text.h"

/* The file itself, to compare mn_tokenizer_next's ASCII fast paths with next_general. */
#include "text/tokenize.c"

#include "micronlp/alloc.h"
#include "test.h"

#include <utf8proc.h>

/* Renders tokens as "text|kind" joined by single spaces. */
static void render(const char *s, size_t len, char *out, size_t cap)
{
    mn_token toks[128];
    size_t n = mn_tokenize(s, len, toks, 128);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 128; i++) {
        int w = snprintf(out + o, cap - o, "%s%.*s|%s", i ? " " : "", (int)toks[i].len,
                         s + toks[i].off, mn_token_kind_name(toks[i].kind));
        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
    }
}

static const struct {
    const char *in;
    const char *want;
} tok_cases[] = {
    {"", ""},
    {"   \t\n ", ""},
    {"Hello, world!", "Hello|word ,|punct world|word !|punct"},
    {"Don't stop", "Don't|word stop|word"},
    {"don\xE2\x80\x99t", "don\xE2\x80\x99t|word"}, /* U+2019 apostrophe */
    {"state-of-the-art", "state-of-the-art|word"},
    {"'quoted' dogs' -dash- a--b", "'|punct quoted|word '|punct dogs|word '|punct -|punct "
                                   "dash|word -|punct a|word --|punct b|word"},
    {"snake_case __init__", "snake_case|word __|punct init|word __|punct"},
    {"l·l", "l·l|word"},
    /* Tibetan: syllables joined by tsheg (U+0F0B, non-breaking U+0F0C) up to a shad (U+0F0D) */
    {"\xE0\xBD\xA6\xE0\xBC\x8B\xE0\xBD\x82\xE0\xBC\x8C\xE0\xBC\x8D \xE0\xBD\xA6\xE0\xBC\x8B",
     "\xE0\xBD\xA6\xE0\xBC\x8B\xE0\xBD\x82|word \xE0\xBC\x8C|punct \xE0\xBC\x8D|punct "
     "\xE0\xBD\xA6|word \xE0\xBC\x8B|punct"},
    /* numbers */
    {"3.14 1,000 -5 +7 10% 1,000.50", "3.14|number 1,000|number -5|number +7|number 10%|number "
                                      "1,000.50|number"},
    {"costs 5. Next", "costs|word 5|number .|punct Next|word"},
    {"3rd 10-year-old 2x", "3rd|word 10-year-old|word 2x|word"},
    {"5 - 3", "5|number -|punct 3|number"},
    {"\xE2\x88\x92" "5", "\xE2\x88\x92" "5|number"}, /* U+2212 MINUS SIGN */
    {"١٢٣ ٤٥", "١٢٣|number ٤٥|number"},             /* Arabic-Indic digits */
    {"10:30", "10|number :|punct 30|number"},
    /* URLs */
    {"see http://x.com/a.", "see|word http://x.com/a|url .|punct"},
    {"(https://example.org/path?q=1&r=2#frag), ok",
     "(|punct https://example.org/path?q=1&r=2#frag|url )|punct ,|punct ok|word"},
    {"https://en.wikipedia.org/wiki/Foo_(bar) end",
     "https://en.wikipedia.org/wiki/Foo_(bar)|url end|word"},
    {"www.example.com/path, more", "www.example.com/path|url ,|punct more|word"},
    {"WWW.Example.COM!", "WWW.Example.COM|url !|punct"},
    {"ftp://files.example.net/a.tar.gz;", "ftp://files.example.net/a.tar.gz|url ;|punct"},
    {"http://例え.jp/パス。", "http://例え.jp/パス|url 。|punct"},
    {"http:// x", "http|word :|punct //|punct x|word"},
    {"<http://a.b/c>", "<|symbol http://a.b/c|url >|symbol"},
    /* e-mail, handles, hashtags */
    {"mail a.b@example.com.", "mail|word a.b@example.com|email .|punct"},
    {"x+tag@mail.co.uk", "x+tag@mail.co.uk|email"},
    {"42@numbers.org", "42@numbers.org|email"},
    {"foo@bar", "foo|word @bar|handle"},
    {"@user_1, @alice@mastodon.social", "@user_1|handle ,|punct @alice@mastodon.social|handle"},
    {"a @ b", "a|word @|punct b|word"},
    {"#topic #日本 #1 #100DaysOfCode", "#topic|hashtag #日本|hashtag #|punct 1|number "
                                        "#100DaysOfCode|hashtag"},
    /* emoji */
    {"hi😀there", "hi|word 😀|emoji there|word"},
    {"👍🏽👍", "👍🏽|emoji 👍|emoji"},
    {"👨‍👩‍👧 family", "👨‍👩‍👧|emoji family|word"},
    {"🏳️‍🌈", "🏳️‍🌈|emoji"},
    {"🇫🇷🇩🇪🇺", "🇫🇷|emoji 🇩🇪|emoji 🇺|emoji"},
    {"❤️ ❤", "❤️|emoji ❤|emoji"},
    {"1️⃣ #⃣ 1", "1️⃣|emoji #⃣|emoji 1|number"},
    {"🏴\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xB3\xF3\xA0\x81\xA3\xF3\xA0\x81\xB4\xF3\xA0\x81\xBF",
     "🏴\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xB3\xF3\xA0\x81\xA3\xF3\xA0\x81\xB4\xF3\xA0\x81"
     "\xBF|emoji"}, /* Scotland: tag sequence */
    {"\xE2\x80\xBC\xEF\xB8\x8F \xE2\x80\xBC", "\xE2\x80\xBC\xEF\xB8\x8F|emoji \xE2\x80\xBC|punct"},
    {"🏻", "🏻|emoji"},
    /* CJK */
    {"日本語", "日|cjk 本|cjk 語|cjk"},
    {"東京タワーです。", "東|cjk 京|cjk タワーです|cjk 。|punct"},
    {"ｶﾀｶﾅ", "ｶﾀｶﾅ|cjk"},
    {"iPhone手机", "iPhone|word 手|cjk 机|cjk"},
    {"葛\xF3\xA0\x84\x80城", "葛\xF3\xA0\x84\x80|cjk 城|cjk"}, /* ideographic variation selector */
    /* other scripts: white space and punctuation only */
    {"한국어 텍스트입니다.", "한국어|word 텍스트입니다|word .|punct"},
    {"ภาษาไทยง่าย", "ภาษาไทยง่าย|word"},
    {"ภาษา\xE2\x80\x8Bไทย", "ภาษา|word ไทย|word"}, /* ZWSP separates */
    {"हिन्दी भाषा।", "हिन्दी|word भाषा|word ।|punct"},
    {"Привет, мир", "Привет|word ,|punct мир|word"},
    {"می\xE2\x80\x8Cخواهم", "می\xE2\x80\x8Cخواهم|word"}, /* ZWNJ stays inside */
    {"ＡＢＣ！", "ＡＢＣ|word ！|punct"},
    /* punctuation and symbols */
    {"wow... what?! no!!", "wow|word ...|punct what|word ?!|punct no|word !!|punct"},
    {"a...?b", "a|word ...?|punct b|word"},
    {"(\"x\")", "(|punct \"|punct x|word \"|punct )|punct"},
    {"a == b => $5", "a|word ==|symbol b|word =|symbol >|symbol $|symbol 5|number"},
    {"…", "…|punct"},
    /* separators and format characters */
    {"\xEF\xBB\xBFstart", "start|word"},          /* BOM */
    {"a\xC2\xA0" "b\xE3\x80\x80" "c", "a|word b|word c|word"}, /* NBSP, ideographic space */
    {"co\xC2\xADop", "co\xC2\xADop|word"},          /* soft hyphen stays inside */
    {"\x01x\x7F", "x|word"},                       /* controls separate */
    {"e\xCC\x81 \xCC\x81", "e\xCC\x81|word \xCC\x81|word"},
    {"!\xCC\x81", "!\xCC\x81|punct"},              /* marks stay with any token */
    /* ill-formed UTF-8: one symbol per byte */
    {"bad\xFF\xC0" "byte", "bad|word \xFF|symbol \xC0|symbol byte|word"},
    {"\xE2\x82 x", "\xE2|symbol \x82|symbol x|word"},
    {"caf\xC3", "caf|word \xC3|symbol"},
};

TEST(table)
{
    for (size_t i = 0; i < sizeof tok_cases / sizeof tok_cases[0]; i++) {
        char got[4096];
        render(tok_cases[i].in, strlen(tok_cases[i].in), got, sizeof got);
        if (strcmp(got, tok_cases[i].want) != 0)
            MN_FAIL_AT("case %zu: \"%s\"\n  got:  %s\n  want: %s", i, tok_cases[i].in, got,
                       tok_cases[i].want);
    }
}

TEST(offsets_on_multibyte_text)
{
    const char *s = "日本 café 👍🏽x\xFF" "ok";
    mn_token t[16];
    size_t n = mn_tokenize(s, strlen(s), t, 16);
    static const struct {
        uint32_t off, len;
        int kind;
    } want[] = {
        {0, 3, MN_TOK_CJK},   {3, 3, MN_TOK_CJK},     {7, 5, MN_TOK_WORD},
        {13, 8, MN_TOK_EMOJI}, {21, 1, MN_TOK_WORD},  {22, 1, MN_TOK_SYMBOL},
        {23, 2, MN_TOK_WORD},
    };
    ASSERT_EQ(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(t[i].off, want[i].off);
        ASSERT_EQ(t[i].len, want[i].len);
        ASSERT_EQ(t[i].kind, want[i].kind);
    }
}

TEST(tokenize_cap_and_iterator)
{
    const char *s = "one two three four";
    mn_token t[4];
    t[2].off = 777;
    ASSERT_EQ(mn_tokenize(s, strlen(s), t, 2), 4);
    ASSERT_EQ(t[0].off, 0);
    ASSERT_EQ(t[1].off, 4);
    ASSERT_EQ(t[2].off, 777);
    ASSERT_EQ(mn_tokenize(s, strlen(s), NULL, 0), 4);
    mn_tokenizer it;
    mn_token tok;
    mn_tokenizer_init(&it, s, strlen(s));
    int k = 0;
    while (mn_tokenizer_next(&it, &tok))
        k++;
    ASSERT_EQ(k, 4);
    ASSERT_EQ(mn_tokenizer_next(&it, &tok), 0); /* stays at the end */
    ASSERT_EQ(mn_tokenize(NULL, 0, t, 4), 0);
}

TEST(kind_names)
{
    ASSERT_STREQ(mn_token_kind_name(MN_TOK_WORD), "word");
    ASSERT_STREQ(mn_token_kind_name(MN_TOK_URL), "url");
    ASSERT_STREQ(mn_token_kind_name(MN_TOK_SYMBOL), "symbol");
    ASSERT_STREQ(mn_token_kind_name(MN_TOK__COUNT), "unknown");
    ASSERT_STREQ(mn_token_kind_name(-1), "unknown");
    for (int k = 0; k < MN_TOK__COUNT; k++)
        ASSERT(strcmp(mn_token_kind_name(k), "unknown") != 0);
}

/* True if the code point at s[i] may be left out of every token (white space, controls,
 * format characters, ZWSP, BOM). Sets *n. */
static int skippable(const unsigned char *s, size_t len, size_t i, size_t *n)
{
    int32_t cp;
    *n = mn_utf8_decode((const char *)s + i, len - i, &cp);
    if (cp < 0)
        return 0;
    if (cp < 0x20 || cp == ' ' || cp == 0x7F || cp == 0x200B || cp == 0xFEFF || cp == 0x180E)
        return 1;
    int cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC ||
           cat == UTF8PROC_CATEGORY_CF;
}

static int is_ws(int32_t cp)
{
    return (cp >= 9 && cp <= 13) || cp == ' ' || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

static uint64_t rng = 0xDEADBEEFCAFEF00Dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* A random string of up to maxp pieces drawn from pieces[0..n) into s (256 bytes); its length. */
static size_t random_text(const char *const *pieces, size_t n, size_t maxp, char *s)
{
    size_t len = 0, np = rnd() % maxp;
    for (size_t p = 0; p < np; p++) {
        const char *x = pieces[rnd() % n];
        if (len + strlen(x) > 255)
            break;
        memcpy(s + len, x, strlen(x));
        len += strlen(x);
    }
    return len;
}

TEST(invariants_on_random_text)
{
    static const char *pieces[] = {
        " ", "\t", "a", "Z", "0", "9", ".", ",", "-", "'", "@", "#", "%", "+", "_", ":", "/",
        "http://", "www.", "com", "(", ")", "é", "\xCC\x81", "日", "カ", "\xE3\x82\x99", "한",
        "ไ", "😀", "🏽", "\xE2\x80\x8D", "\xEF\xB8\x8F", "🇫", "\xE2\x83\xA3", "\xC2\xA0",
        "\xE2\x80\x8B", "\xFF", "\xE2\x82", "\xC3", "!", "?", "…", "$", "\xE2\x80\x99", "\x01",
    };
    for (int iter = 0; iter < 100000; iter++) {
        char s[256];
        size_t len = random_text(pieces, sizeof pieces / sizeof pieces[0], 40, s);
        mn_tokenizer it;
        mn_token t;
        mn_tokenizer_init(&it, s, len);
        size_t prev_end = 0;
        while (mn_tokenizer_next(&it, &t)) {
            const unsigned char *u = (const unsigned char *)s;
            if (t.len == 0 || t.off < prev_end || (size_t)t.off + t.len > len)
                MN_FAIL_AT("iter %d: bad token %u+%u after %zu (len %zu)", iter, t.off, t.len,
                           prev_end, len);
            if (t.kind >= MN_TOK__COUNT)
                MN_FAIL_AT("iter %d: bad kind", iter);
            /* the gap holds only skippable characters */
            for (size_t i = prev_end, n; i < t.off; i += n)
                if (!skippable(u, t.off, i, &n))
                    MN_FAIL_AT("iter %d: byte %zu left out of every token", iter, i);
            /* no white space inside; an ill-formed byte is a token of its own */
            for (size_t i = t.off, n; i < (size_t)t.off + t.len; i += n) {
                int32_t cp;
                n = mn_utf8_decode(s + i, t.off + t.len - i, &cp);
                if (cp < 0 && (t.len != 1 || t.kind != MN_TOK_SYMBOL))
                    MN_FAIL_AT("iter %d: ill-formed byte inside a token", iter);
                if (cp >= 0 && is_ws(cp))
                    MN_FAIL_AT("iter %d: white space inside a token", iter);
            }
            prev_end = (size_t)t.off + t.len;
        }
        for (size_t i = prev_end, n; i < len; i += n)
            if (!skippable((const unsigned char *)s, len, i, &n))
                MN_FAIL_AT("iter %d: tail byte %zu left out", iter, i);
    }
}

/* Tokens of the fast paths and of the general path alone, from the same text, must agree. */
static int same_as_general(const char *s, size_t len, size_t *at)
{
    mn_tokenizer fast, slow;
    mn_token a, b;
    mn_tokenizer_init(&fast, s, len);
    mn_tokenizer_init(&slow, s, len);
    for (;;) {
        int ga = mn_tokenizer_next(&fast, &a);
        int gb = next_general(&slow, slow.pos, &b);
        if (ga != gb || fast.pos != slow.pos)
            break;
        if (!ga)
            return 1;
        if (a.off != b.off || a.len != b.len || a.kind != b.kind)
            break;
    }
    *at = fast.pos;
    return 0;
}

TEST(fast_path_matches_general_path)
{
    /* ASCII-heavy pieces, each next to every kind of byte that can change a token's end. */
    static const char *pieces[] = {
        " ", " ", "\n", "a", "Zx", "word", "w", "ww", "www.", "0", "42", "3.", ",", ".", "..",
        "!", "?", "-", "--", "'", "_", ":", "://", "http", "@", "#", "%", "+", "*", "=", "==",
        "<", ">", "\"", "(", ")", "$", "/", "~", "`", "|", "^", "&", ";", "com", "x.org",
        "é", "\xCC\x81", "日", "…", "\xE2\x80\x99", "\xE2\x80\x8D", "\xEF\xB8\x8F",
        "\xE2\x83\xA3", "\xC2\xA0", "\xFF", "\xC3", "😀", "\x01", "\x7F", "\t",
    };
    for (int iter = 0; iter < 200000; iter++) {
        char s[256];
        size_t len = random_text(pieces, sizeof pieces / sizeof pieces[0], 48, s);
        size_t at;
        if (!same_as_general(s, len, &at))
            MN_FAIL_AT("iter %d: paths differ at byte %zu of \"%.*s\"", iter, at, (int)len, s);
    }
    /* Every pair and triple of ASCII bytes, alone, after a letter and between letters. */
    for (int c1 = 1; c1 < 128; c1++) {
        for (int c2 = 1; c2 < 128; c2++) {
            for (int c3 = 0; c3 < 128; c3 += 3) {
                char s[8] = {'a', (char)c1, (char)c2, (char)c3, 'b', 0};
                size_t at;
                if (!same_as_general(s, 5, &at) || !same_as_general(s + 1, 2, &at) ||
                    !same_as_general(s + 1, 3, &at) || !same_as_general(s, 3, &at))
                    MN_FAIL_AT("paths differ on %02x %02x %02x", c1, c2, c3);
            }
        }
    }
}

/* The fast paths' quick exits: a word or number ends at once at an F_END byte, which must be
 * exactly the bytes the longer checks let through (ASCII, not a word character, joiner,
 * e-mail character, ':' or '@'); an F_SOLO character is a token alone when another ASCII
 * byte follows, which must be exactly the punctuation and symbols no rule but the run applies
 * to (not # @ - + . ! ?). */
TEST(fast_path_flags)
{
    for (int c = 0; c < 256; c++) {
        int want = c < 0x80 && !(aflags[c] & (F_WORD | F_JOIN | F_LOCAL)) && c != ':' &&
                   c != '@';
        if (!!(aflags[c] & F_END) != want)
            MN_FAIL_AT("byte %02x: F_END %d, want %d", c, !!(aflags[c] & F_END), want);
        want = (acls[c] == C_PUNCT || acls[c] == C_SYMBOL) && !strchr("#@-+.!?", c);
        if (!!(aflags[c] & F_SOLO) != want)
            MN_FAIL_AT("byte %02x: F_SOLO %d, want %d", c, !!(aflags[c] & F_SOLO), want);
    }
}

/* A batch holds the tokens of mn_tokenizer_next less the skipped kinds, in order, whatever
 * the batch size, and stops short only at the end; with hashes, each is mn_hash64 of the
 * token's bytes in src (here a copy of the text with every byte changed). */
TEST(batch_matches_iterator)
{
    static const char *pieces[] = {
        " ", "\t", "a", "Zx", "word", "0", "42", "3.14", ",", ".", "!!", "-", "'", "_", ":",
        "http://x.com/a", "@u", "#t", "%", "+", "=", "==", "<", "é", "\xCC\x81", "日", "…",
        "😀", "\xFF", "\x01", "a@b.io", "www.x.org",
    };
    static const unsigned skips[] = {
        0, MN_TOK_BIT(MN_TOK_PUNCT) | MN_TOK_BIT(MN_TOK_SYMBOL), MN_TOK_BIT(MN_TOK_WORD),
        ~0u, MN_TOK_BIT(MN_TOK_URL) | MN_TOK_BIT(MN_TOK_EMOJI) | MN_TOK_BIT(MN_TOK_NUMBER),
    };
    for (int iter = 0; iter < 20000; iter++) {
        char s[256], src[256];
        size_t len = random_text(pieces, sizeof pieces / sizeof pieces[0], 64, s);
        for (size_t i = 0; i < len; i++)
            src[i] = (char)(s[i] ^ 0x5A);
        unsigned skip = skips[rnd() % (sizeof skips / sizeof skips[0])];
        size_t cap = 1 + rnd() % 8;
        int hash = rnd() % 2;
        mn_token want[256], got[256 + 8];
        uint64_t h[256 + 8];
        size_t nw = 0, ng = 0, k;
        mn_tokenizer one, batch;
        mn_tokenizer_init(&one, s, len);
        while (mn_tokenizer_next(&one, &want[nw]))
            nw += !((skip >> want[nw].kind) & 1);
        mn_tokenizer_init(&batch, s, len);
        do {
            k = mn_tokenizer_next_batch(&batch, skip, hash ? src : NULL, got + ng,
                                        hash ? h + ng : NULL, cap);
            ng += k;
        } while (k == cap);
        ASSERT_EQ(ng, nw);
        for (size_t i = 0; i < nw; i++) {
            if (got[i].off != want[i].off || got[i].len != want[i].len ||
                got[i].kind != want[i].kind)
                MN_FAIL_AT("iter %d: token %zu differs in \"%.*s\"", iter, i, (int)len, s);
            if (hash && h[i] != mn_hash64(src + want[i].off, want[i].len))
                MN_FAIL_AT("iter %d: hash %zu differs in \"%.*s\"", iter, i, (int)len, s);
        }
        ASSERT_EQ(mn_tokenizer_next_batch(&batch, skip, NULL, got, NULL, cap), 0);
    }
}

TEST(no_allocation)
{
    const char *s = "Don't see http://x.com/a. mail a.b@example.com @u #t 3.14 👨‍👩‍👧 日本語 \xFF";
    mn_token t[64];
    mn_alloc_fail_after(1);
    size_t n = mn_tokenize(s, strlen(s), t, 64);
    mn_tokenizer it;
    mn_token one;
    mn_tokenizer_init(&it, s, strlen(s));
    int first = mn_tokenizer_next(&it, &one);
    const char *name = mn_token_kind_name(MN_TOK_EMAIL);
    long made = mn_alloc_fail_after(0);
    ASSERT_EQ(n, 14);
    ASSERT_EQ(first, 1);
    ASSERT_EQ(one.len, 5);
    ASSERT_STREQ(name, "email");
    ASSERT_EQ(made, 0);
}

/* classify_bmp (pages of classes filled at first use) against classify, over the whole Basic
 * Multilingual Plane, twice: filling a page and reading it. */
TEST(class_table_agrees)
{
    for (int round = 0; round < 2; round++)
        for (int32_t cp = 0; cp < 0x10000; cp++)
            ASSERT_EQ(classify_bmp(cp), classify(cp));
}

TEST_MAIN(TEST_ENTRY(table) TEST_ENTRY(offsets_on_multibyte_text)
              TEST_ENTRY(tokenize_cap_and_iterator) TEST_ENTRY(kind_names)
                  TEST_ENTRY(invariants_on_random_text)
                      TEST_ENTRY(fast_path_matches_general_path) TEST_ENTRY(fast_path_flags)
                          TEST_ENTRY(batch_matches_iterator) TEST_ENTRY(no_allocation)
                              TEST_ENTRY(class_table_agrees))
