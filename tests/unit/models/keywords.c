/* SPDX-License-Identifier: MIT
 *
 * Tests of src/models/keywords.c: building a keywords model from a small stop-word file
 * (tests/data/keywords/stopwords.tsv), its language codes and aliases, the save/open round
 * trip, extraction (English and German texts with a clear top phrase, stop words never
 * returned, exact spans over multi-byte text, empty and stop-word-only texts, the guess and the
 * language-independent fallback, Chinese, Japanese, Thai and Vietnamese), allocation failures,
 * the warm path without allocation, threads, and damaged files; and the fast paths against the
 * general ones (byte scans, capitals, token batches, spelling reuse, rank_few and its bounds,
 * the languages' own stop-word filters).
 */
/* The file under test is included, so the damaged-file test can write tables that pass the
 * checksums but disagree with each other (its structs and section tags are file-static). */
#include "models/keywords.c"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "test.h"

static const char *data_path(const char *name)
{
    static char buf[4096];
    const char *dir = getenv("MN_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/keywords/%s", dir ? dir : "tests/data", name);
    return buf;
}

static mn_model *build(void)
{
    mn_model *m = NULL;
    mn_err err;
    mn_err_clear(&err);
    int rc = mn_keywords_build(data_path("stopwords.tsv"), &m, &err);
    if (rc != 0)
        fprintf(stderr, "build: %s\n", err.msg);
    return m;
}

static const char *write_file(const char *name, const char *content, size_t len)
{
    const char *p = mn_test_tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    fwrite(content, 1, len, f);
    fclose(f);
    return p;
}

/* Extracts with the default options; the phrases as a C string "a|b|c" in buf. */
static size_t extract(const mn_model *m, mn_scratch *s, const char *text, const char *lang,
                      size_t k, mn_keyword *out, char *buf, size_t cap)
{
    size_t n = 99;
    int rc = mn_keywords_extract(m, s, text, strlen(text), lang, lang ? strlen(lang) : 0, k, out,
                                 &n);
    if (rc != 0) {
        fprintf(stderr, "extract: %s\n", mn_strerror(rc));
        return 0;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s%.*s", i ? "|" : "",
                                 (int)(out[i].end - out[i].start), text + out[i].start);
    return n;
}

/* Checks every span: inside the text, on UTF-8 boundaries, no surrounding space, scores in
 * (0, 1] best first with the best at 1, no stop word, punctuation or number as a token, and
 * distinct after normalisation. Returns 0 if all hold. */
static int check_spans(const mn_model *m, int32_t lang, const char *text, const mn_keyword *kw,
                       size_t n)
{
    size_t len = strlen(text);
    char norm[8][256];
    size_t nlen[8];
    for (size_t i = 0; i < n; i++) {
        const mn_keyword *k = &kw[i];
        if (!(k->start < k->end && k->end <= len))
            return fprintf(stderr, "span %zu out of the text\n", i), -1;
        if (((unsigned char)text[k->start] & 0xC0) == 0x80 ||
            (k->end < len && ((unsigned char)text[k->end] & 0xC0) == 0x80))
            return fprintf(stderr, "span %zu cuts a UTF-8 sequence\n", i), -1;
        if (text[k->start] == ' ' || text[k->end - 1] == ' ')
            return fprintf(stderr, "span %zu has surrounding space\n", i), -1;
        if (!(k->score > 0.0f && k->score <= 1.0f) || (i == 0 && k->score != 1.0f) ||
            (i > 0 && k->score > kw[i - 1].score))
            return fprintf(stderr, "score %zu is %g\n", i, (double)k->score), -1;
        mn_token tok[32];
        size_t nt = mn_tokenize(text + k->start, k->end - k->start, tok, 32);
        for (size_t t = 0; t < nt && t < 32; t++) {
            const char *w = text + k->start + tok[t].off;
            if (tok[t].kind == MN_TOK_PUNCT || tok[t].kind == MN_TOK_NUMBER)
                return fprintf(stderr, "span %zu holds '%.*s'\n", i, (int)tok[t].len, w), -1;
            if (lang >= 0 && mn_keywords_is_stopword(m, (uint32_t)lang, w, tok[t].len))
                return fprintf(stderr, "span %zu holds stop word '%.*s'\n", i, (int)tok[t].len,
                               w),
                       -1;
        }
        if (i < 8) {
            if (mn_normalize(text + k->start, k->end - k->start, MN_NORM_NFKC | MN_NORM_CASEFOLD,
                             norm[i], sizeof norm[i], &nlen[i]) != 0)
                return -1;
            for (size_t j = 0; j < i; j++)
                if (nlen[j] == nlen[i] && memcmp(norm[j], norm[i], nlen[i]) == 0)
                    return fprintf(stderr, "spans %zu and %zu are the same phrase\n", j, i), -1;
        }
    }
    return 0;
}

static const char *const EN_TEXT =
    "Solar panels are appearing on more homes as electricity prices keep rising. Installers "
    "report that demand for rooftop installations doubled last year. A typical household can "
    "cover half of its yearly use with solar panels, and batteries store the surplus for the "
    "evening. Owners of solar panels pay less for electricity.";

static const char *const DE_TEXT =
    "Die Bundesregierung hat am Mittwoch ein neues Klimaschutzgesetz beschlossen. Das "
    "Klimaschutzgesetz soll die Emissionen im Verkehr bis 2030 halbieren. Umweltverbände "
    "kritisieren das Klimaschutzgesetz, weil die Emissionen in Gebäuden kaum sinken.";

TEST(build_describes_the_model)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    ASSERT_EQ(mn_model_kind(m), MN_MODEL_KEYWORDS);
    ASSERT_STREQ(mn_model_type_name(m), "keywords");
    ASSERT_EQ(mn_model_label_count(m), 5);
    ASSERT_STREQ(mn_model_label(m, 0), "en");
    ASSERT_STREQ(mn_model_label(m, 1), "de");
    ASSERT_STREQ(mn_model_label(m, 2), "zh");
    ASSERT_STREQ(mn_model_label(m, 4), "th");
    ASSERT_STREQ(mn_model_meta(m, "task"), "keywords");
    ASSERT_STREQ(mn_model_meta(m, "languages"), "5");
    ASSERT_STREQ(mn_model_meta(m, "aliases"), "7"); /* eng deu ger cmn zho vie tha */
    /* 85 lines, 85 distinct (language, word) pairs: "in" is in two lists */
    ASSERT_STREQ(mn_model_meta(m, "words"), "85");
    ASSERT_STREQ(mn_model_meta(m, "source"),
                 "micronlp unit-test lists (a few words per language, written for the tests)");
    ASSERT(mn_model_meta(m, "note") != NULL);
    ASSERT(mn_model_meta(m, "created") != NULL);
    ASSERT(mn_model_size_bytes(m) > 85 * 10);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction p[2];
    size_t n = 7;
    ASSERT_EQ(mn_model_predict(m, s, "text", 4, 1, 0.0f, p, &n), MN_EUNSUPPORTED);
    ASSERT_EQ(n, 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(language_codes_and_aliases)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    static const struct {
        const char *code;
        int32_t lang;
    } cases[] = {
        {"en", 0},  {"eng", 0},    {"ENG", 0},     {"en-US", 0}, {"en_GB", 0}, {"de", 1},
        {"deu", 1}, {"ger", 1},    {"de-AT", 1},   {"zho", 2},   {"cmn", 2},   {"zh-Hans", 2},
        {"vie", 3}, {"tha", 4},    {"fr", -1},     {"fra", -1},  {"und", -1},  {"", -1},
        {"-en", -1}, {"e n", -1},  {"english", -1}, {"averyveryverylongcode", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t got = mn_keywords_lang_find(m, cases[i].code, strlen(cases[i].code));
        if (got != cases[i].lang)
            MN_FAIL_AT("lang_find(\"%s\") = %d, want %d", cases[i].code, got, cases[i].lang);
        ASSERT_EQ(mn_keywords_has_lang(m, cases[i].code, strlen(cases[i].code)),
                  cases[i].lang >= 0);
    }
    ASSERT_EQ(mn_keywords_lang_find(m, NULL, 0), -1);
    ASSERT_EQ(mn_keywords_lang_find(NULL, "en", 2), -1);
    mn_model_release(m);
}

TEST(stop_words_are_normalised)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    ASSERT_EQ(mn_keywords_is_stopword(m, 0, "the", 3), 1);
    ASSERT_EQ(mn_keywords_is_stopword(m, 0, "THE", 3), 1);
    ASSERT_EQ(mn_keywords_is_stopword(m, 0, "\xEF\xBD\x94he", 5), 1); /* full-width t: NFKC */
    ASSERT_EQ(mn_keywords_is_stopword(m, 0, "It's", 4), 1);
    ASSERT_EQ(mn_keywords_is_stopword(m, 0, "solar", 5), 0);
    ASSERT_EQ(mn_keywords_is_stopword(m, 1, "the", 3), 0); /* the is not German */
    ASSERT_EQ(mn_keywords_is_stopword(m, 1, "Die", 3), 1);
    ASSERT_EQ(mn_keywords_is_stopword(m, 1, "STRASSE", 7), 1); /* Straße, case folded */
    ASSERT_EQ(mn_keywords_is_stopword(m, 2, "\xE4\xB8\x80\xE4\xB8\xAA", 6), 1); /* 一个 */
    ASSERT_EQ(mn_keywords_is_stopword(m, 2, "\xE4\xB8\x80", 3), 0);             /* 一 */
    ASSERT_EQ(mn_keywords_is_stopword(m, 3, "ai n\xE1\xBA\xA5y", 8), 1);        /* ai nấy */
    ASSERT_EQ(mn_keywords_is_stopword(m, 3, "ai", 2), 0);
    ASSERT_EQ(mn_keywords_is_stopword(m, 9, "the", 3), 0);
    mn_model_release(m);
}

/* Every (language, word or phrase) line of the list file is found in its language and only in
 * the languages that list it, in the built model and in the one read back (each derives its own
 * miss filter): a filter set from other bits than it tests would turn real stop words away. */
TEST(every_listed_word_is_found)
{
    mn_model *built = build();
    ASSERT(built != NULL);
    mn_err err;
    const char *path = mn_test_tmp_path("listed.mnlp");
    ASSERT_EQ(mn_model_save(built, path, &err), 0);
    mn_model *opened = NULL;
    ASSERT_EQ(mn_model_open(path, &opened, &err), 0);
    FILE *f = fopen(data_path("stopwords.tsv"), "rb");
    ASSERT(f != NULL);
    struct {
        int32_t lang;
        char word[64];
    } lines[128];
    size_t n = 0;
    char line[256];
    while (fgets(line, sizeof line, f) && n < 128) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        size_t code_len = strcspn(line, ",\t");
        lines[n].lang = mn_keywords_lang_find(built, line, code_len);
        ASSERT(lines[n].lang >= 0);
        snprintf(lines[n].word, sizeof lines[n].word, "%.*s", (int)strcspn(tab + 1, "\r\n"),
                 tab + 1);
        n++;
    }
    fclose(f);
    ASSERT_EQ(n, 85);
    size_t phrases = 0;
    mn_model *models[] = {built, opened};
    for (size_t i = 0; i < n; i++) {
        const char *w = lines[i].word;
        phrases += strchr(w, ' ') != NULL;
        for (uint32_t l = 0; l < mn_model_label_count(built); l++) {
            int want = 0;
            for (size_t j = 0; j < n; j++)
                want |= lines[j].lang == (int32_t)l && strcmp(lines[j].word, w) == 0;
            for (size_t k = 0; k < 2; k++)
                if (mn_keywords_is_stopword(models[k], l, w, strlen(w)) != want)
                    MN_FAIL_AT("\"%s\" in list %u of the %s model: want %d", w, l,
                               k ? "opened" : "built", want);
        }
    }
    ASSERT(phrases >= 2); /* "ai nấy", "bao giờ" */
    /* The filter against the table it was built from: every entry passes it, and it turns
     * most other hashes away (or it would save no lookups). */
    for (size_t k = 0; k < 2; k++) {
        const mn_keywords *kw = (const mn_keywords *)models[k];
        for (uint32_t i = 0; i < kw->p.nentries; i++) {
            ASSERT(filter_may_have(kw, kw->hashes[i]));
            ASSERT(stop_has(kw, kw->lang_of[i], kw->hashes[i]));
        }
        uint64_t x = 0x9e3779b97f4a7c15ull;
        size_t passed = 0;
        for (int r = 0; r < 100000; r++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            passed += (size_t)filter_may_have(kw, x ^ (x >> 29));
        }
        ASSERT(passed < 100000 / 4); /* 85 entries in 1,024 bits */
    }
    mn_model_release(opened);
    mn_model_release(built);
}

TEST(english_top_phrase)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[8];
    char buf[1024];
    size_t n = extract(m, s, EN_TEXT, "eng", 5, kw, buf, sizeof buf);
    ASSERT(n >= 3);
    ASSERT_MEMEQ(EN_TEXT + kw[0].start, kw[0].end - kw[0].start, "Solar panels");
    ASSERT_EQ(kw[0].start, 0);
    ASSERT_EQ(check_spans(m, 0, EN_TEXT, kw, n), 0);
    ASSERT(strstr(buf, "electricity prices") != NULL);
    /* "en" and "eng" are the same list */
    mn_keyword kw2[8];
    char buf2[1024];
    ASSERT_EQ(extract(m, s, EN_TEXT, "en", 5, kw2, buf2, sizeof buf2), n);
    ASSERT_STREQ(buf2, buf);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(german_top_phrase)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[8];
    char buf[1024];
    size_t n = extract(m, s, DE_TEXT, "deu", 5, kw, buf, sizeof buf);
    ASSERT(n >= 3);
    ASSERT_MEMEQ(DE_TEXT + kw[0].start, kw[0].end - kw[0].start, "Klimaschutzgesetz");
    ASSERT_EQ(check_spans(m, 1, DE_TEXT, kw, n), 0);
    ASSERT(strstr(buf, "Emissionen") != NULL);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(unicode_offsets_are_exact)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    /* Multi-byte text before and inside the phrases; a possessive left out of the span. */
    const char *text = "\xC2\xBB\xC3\x9C" "ber \xE2\x80\x94 \xC3\x89mile Zola's \xC2\xAB"
                       "Germinal\xC2\xBB is a novel by \xC3\x89mile Zola. \xC3\x89mile Zola "
                       "wrote Germinal in 1885.";
    mn_keyword kw[8];
    char buf[1024];
    size_t n = extract(m, s, text, "en", 8, kw, buf, sizeof buf);
    ASSERT(n >= 2);
    ASSERT_EQ(check_spans(m, 0, text, kw, n), 0);
    int zola = 0, germinal = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = kw[i].end - kw[i].start;
        const char *p = text + kw[i].start;
        if (l == strlen("\xC3\x89mile Zola") && memcmp(p, "\xC3\x89mile Zola", l) == 0) {
            zola = 1;
            ASSERT_EQ(kw[i].start, 12); /* the first occurrence, without its "'s" */
        }
        if (l == 8 && memcmp(p, "Germinal", 8) == 0) {
            germinal = 1;
            ASSERT_EQ(kw[i].start, 28);
        }
    }
    if (!zola || !germinal)
        MN_FAIL_AT("expected \"Émile Zola\" and \"Germinal\", got %s", buf);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(nothing_to_extract)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[4];
    size_t n = 9;
    ASSERT_EQ(mn_keywords_extract(m, s, "", 0, "en", 2, 4, kw, &n), 0);
    ASSERT_EQ(n, 0);
    n = 9;
    ASSERT_EQ(mn_keywords_extract(m, s, NULL, 0, NULL, 0, 4, kw, &n), 0);
    ASSERT_EQ(n, 0);
    static const char *const none[] = {
        "The is of and the in with that, to for are it on this.", "   \n\t ",
        "12, 3.14 -- 42% !!! ... ?", "Die und das ist nicht in mit von.",
        "\xE7\x9A\x84\xE6\x98\xAF\xE4\xB8\x80\xE4\xB8\xAA\xE3\x80\x82", /* 的是一个。 */
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        n = 9;
        const char *lang = i == 3 ? "de" : i == 4 ? "zh" : "en";
        ASSERT_EQ(mn_keywords_extract(m, s, none[i], strlen(none[i]), lang, 2, 4, kw, &n), 0);
        if (n != 0)
            MN_FAIL_AT("text %zu gave %zu phrases", i, n);
    }
    /* k = 0 asks for nothing */
    n = 9;
    ASSERT_EQ(mn_keywords_extract(m, s, EN_TEXT, strlen(EN_TEXT), "en", 2, 0, NULL, &n), 0);
    ASSERT_EQ(n, 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(bad_arguments)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[4];
    size_t n = 9;
    ASSERT_EQ(mn_keywords_extract(NULL, s, "a", 1, NULL, 0, 4, kw, &n), MN_EINVAL);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(mn_keywords_extract(m, NULL, "a", 1, NULL, 0, 4, kw, &n), MN_EINVAL);
    ASSERT_EQ(mn_keywords_extract(m, s, NULL, 3, NULL, 0, 4, kw, &n), MN_EINVAL);
    ASSERT_EQ(mn_keywords_extract(m, s, "a", 1, NULL, 0, 4, NULL, &n), MN_EINVAL);
    ASSERT_EQ(mn_keywords_extract(m, s, "a", 1, NULL, 0, 4, kw, NULL), MN_EINVAL);
    mn_keywords_options o = {.method = 7};
    ASSERT_EQ(mn_keywords_extract_ex(m, s, "a", 1, NULL, 0, &o, 4, kw, &n, NULL), MN_EINVAL);
    o = (mn_keywords_options){.max_words = 9};
    ASSERT_EQ(mn_keywords_extract_ex(m, s, "a", 1, NULL, 0, &o, 4, kw, &n, NULL), MN_EINVAL);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(guess_and_fallback)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[8], ref[8];
    size_t n = 0, nref = 0;
    mn_keywords_info info;
    /* A language without a list (or und, or none): the English list is found from the text. */
    static const char *const langs[] = {NULL, "und", "fra", "xyz"};
    ASSERT_EQ(mn_keywords_extract(m, s, EN_TEXT, strlen(EN_TEXT), "en", 2, 8, ref, &nref), 0);
    for (size_t i = 0; i < 4; i++) {
        const char *l = langs[i];
        ASSERT_EQ(mn_keywords_extract_ex(m, s, EN_TEXT, strlen(EN_TEXT), l, l ? strlen(l) : 0,
                                         NULL, 8, kw, &n, &info),
                  0);
        ASSERT_EQ(info.lang, 0);
        ASSERT_EQ(info.guessed, 1);
        ASSERT_EQ(n, nref);
        for (size_t j = 0; j < n; j++)
            ASSERT(kw[j].start == ref[j].start && kw[j].end == ref[j].end);
    }
    ASSERT_EQ(mn_keywords_extract_ex(m, s, DE_TEXT, strlen(DE_TEXT), NULL, 0, NULL, 8, kw, &n,
                                     &info),
              0);
    ASSERT_EQ(info.lang, 1);
    ASSERT_EQ(info.guessed, 1);
    /* Given, not guessed */
    ASSERT_EQ(mn_keywords_extract_ex(m, s, DE_TEXT, strlen(DE_TEXT), "de", 2, NULL, 8, kw, &n,
                                     &info),
              0);
    ASSERT_EQ(info.lang, 1);
    ASSERT_EQ(info.guessed, 0);
    ASSERT(info.tokens > 20 && info.candidates >= n);
    /* No list fits (one hit only, "in"): the length rule stands in and still answers. */
    const char *other = "Zorgblat frimmel quaxo ut zorgblat in vendar. Frimmel quaxo ut lo "
                        "zorgblat.";
    char buf[512];
    ASSERT_EQ(mn_keywords_extract_ex(m, s, other, strlen(other), "xx", 2, NULL, 8, kw, &n,
                                     &info),
              0);
    ASSERT_EQ(info.lang, -1);
    ASSERT_EQ(info.guessed, 0);
    ASSERT(n >= 1);
    ASSERT_EQ(check_spans(m, -1, other, kw, n), 0);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = kw[i].end - kw[i].start;
        ASSERT(!(l == 2 && memcmp(other + kw[i].start, "ut", 2) == 0)); /* two letters */
        ASSERT(!(l == 2 && memcmp(other + kw[i].start, "lo", 2) == 0));
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%.*s|", (int)l,
                                 other + kw[i].start);
    }
    if (!strstr(buf, "Zorgblat") && !strstr(buf, "zorgblat"))
        MN_FAIL_AT("the most frequent word is missing: %s", buf);
    mn_scratch_free(s);
    mn_model_release(m);
}

/* Tokens are stored in one pass into a block sized by a guess (one per two bytes), again when a
 * text has more, and counted first for long texts: the answer must not depend on the path. The
 * same phrases come out of a plain text, a dense one (a token per byte after the prose), and
 * in a long one (the prose after 70 KB of spaces). */
TEST(token_count_paths_agree)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    size_t plen = strlen(EN_TEXT), pad = 70000;
    char *dense = malloc(plen + 2001), *longt = malloc(pad + plen + 1);
    ASSERT(dense && longt);
    memcpy(dense, EN_TEXT, plen);
    for (size_t i = 0; i < 2000; i++) /* "()()" is 2,000 tokens in 2,000 bytes */
        dense[plen + i] = i % 2 ? ')' : '(';
    dense[plen + 2000] = '\0';
    memset(longt, ' ', pad);
    memcpy(longt + pad, EN_TEXT, plen + 1);
    mn_keyword ref[8], kw[8];
    size_t nref = 0, n = 0;
    mn_keywords_info info;
    ASSERT_EQ(mn_keywords_extract_ex(m, s, EN_TEXT, plen, "en", 2, NULL, 8, ref, &nref, &info), 0);
    size_t tokens = info.tokens;
    ASSERT(nref >= 3);
    ASSERT_EQ(mn_keywords_extract_ex(m, s, dense, strlen(dense), "en", 2, NULL, 8, kw, &n, &info),
              0);
    ASSERT_EQ(info.tokens, tokens + 2000);
    ASSERT_EQ(n, nref);
    for (size_t j = 0; j < n; j++)
        ASSERT(kw[j].start == ref[j].start && kw[j].end == ref[j].end);
    ASSERT_EQ(mn_keywords_extract_ex(m, s, longt, strlen(longt), "en", 2, NULL, 8, kw, &n, &info),
              0);
    ASSERT_EQ(info.tokens, tokens);
    ASSERT_EQ(n, nref);
    for (size_t j = 0; j < n; j++)
        ASSERT(kw[j].start == ref[j].start + pad && kw[j].end == ref[j].end + pad);
    /* And the short text again, after the scratch grew for the long ones. */
    ASSERT_EQ(mn_keywords_extract_ex(m, s, EN_TEXT, plen, "en", 2, NULL, 8, kw, &n, &info), 0);
    ASSERT_EQ(n, nref);
    for (size_t j = 0; j < n; j++)
        ASSERT(kw[j].start == ref[j].start && kw[j].end == ref[j].end);
    free(dense);
    free(longt);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(chinese_japanese_thai_vietnamese)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[8];
    char buf[1024];
    /* 机器学习是人工智能的一个分支。机器学习算法从数据中学习规律，深度学习是机器学习的一种方法。 */
    const char *zh = "\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6\xE4\xB9\xA0\xE6\x98\xAF\xE4\xBA\xBA"
                     "\xE5\xB7\xA5\xE6\x99\xBA\xE8\x83\xBD\xE7\x9A\x84\xE4\xB8\x80\xE4\xB8\xAA"
                     "\xE5\x88\x86\xE6\x94\xAF\xE3\x80\x82\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6"
                     "\xE4\xB9\xA0\xE7\xAE\x97\xE6\xB3\x95\xE4\xBB\x8E\xE6\x95\xB0\xE6\x8D\xAE"
                     "\xE4\xB8\xAD\xE5\xAD\xA6\xE4\xB9\xA0\xE8\xA7\x84\xE5\xBE\x8B\xEF\xBC\x8C"
                     "\xE6\xB7\xB1\xE5\xBA\xA6\xE5\xAD\xA6\xE4\xB9\xA0\xE6\x98\xAF\xE6\x9C\xBA"
                     "\xE5\x99\xA8\xE5\xAD\xA6\xE4\xB9\xA0\xE7\x9A\x84\xE4\xB8\x80\xE7\xA7\x8D"
                     "\xE6\x96\xB9\xE6\xB3\x95\xE3\x80\x82";
    size_t n = extract(m, s, zh, "zh", 8, kw, buf, sizeof buf);
    ASSERT(n >= 3);
    ASSERT_MEMEQ(zh + kw[0].start, kw[0].end - kw[0].start, "\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6"
                                                            "\xE4\xB9\xA0"); /* 机器学习 */
    ASSERT_EQ(check_spans(m, 2, zh, kw, n), 0);
    for (size_t i = 0; i < n; i++) {
        size_t l = kw[i].end - kw[i].start;
        ASSERT(l >= 6 && l <= 12); /* 2 to 4 characters */
    }
    /* Japanese, no list: kana particles split, Han runs are phrases. 東京都に住んでいる人たちは、
     * とても親切です。東京都の人口は多いです。 */
    const char *ja = "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD\xE3\x81\xAB\xE4\xBD\x8F\xE3\x82\x93"
                     "\xE3\x81\xA7\xE3\x81\x84\xE3\x82\x8B\xE4\xBA\xBA\xE3\x81\x9F\xE3\x81\xA1"
                     "\xE3\x81\xAF\xE3\x80\x81\xE3\x81\xA8\xE3\x81\xA6\xE3\x82\x82\xE8\xA6\xAA"
                     "\xE5\x88\x87\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82\xE6\x9D\xB1\xE4\xBA\xAC"
                     "\xE9\x83\xBD\xE3\x81\xAE\xE4\xBA\xBA\xE5\x8F\xA3\xE3\x81\xAF\xE5\xA4\x9A"
                     "\xE3\x81\x84\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82";
    n = extract(m, s, ja, NULL, 8, kw, buf, sizeof buf);
    ASSERT(n >= 2);
    ASSERT_MEMEQ(ja + kw[0].start, kw[0].end - kw[0].start, "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD");
    ASSERT_EQ(check_spans(m, -1, ja, kw, n), 0);
    ASSERT(strstr(buf, "\xE8\xA6\xAA\xE5\x88\x87") != NULL); /* 親切 */
    /* Thai: the words are split at the stop words found inside them. ภาษาไทยเป็นภาษาที่สวยงาม
     * และภาษาไทยมีประวัติศาสตร์ยาวนาน */
    const char *th = "\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8\x97"
                     "\xE0\xB8\xA2\xE0\xB9\x80\xE0\xB8\x9B\xE0\xB9\x87\xE0\xB8\x99\xE0\xB8\xA0"
                     "\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB8\x97\xE0\xB8\xB5\xE0\xB9\x88"
                     "\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xA2\xE0\xB8\x87\xE0\xB8\xB2\xE0\xB8\xA1"
                     " \xE0\xB9\x81\xE0\xB8\xA5\xE0\xB8\xB0\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9"
                     "\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8\x97\xE0\xB8\xA2\xE0\xB8\xA1\xE0\xB8\xB5"
                     "\xE0\xB8\x9B\xE0\xB8\xA3\xE0\xB8\xB0\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\x95"
                     "\xE0\xB8\xB4\xE0\xB8\xA8\xE0\xB8\xB2\xE0\xB8\xAA\xE0\xB8\x95\xE0\xB8\xA3"
                     "\xE0\xB9\x8C\xE0\xB8\xA2\xE0\xB8\xB2\xE0\xB8\xA7\xE0\xB8\x99\xE0\xB8\xB2"
                     "\xE0\xB8\x99";
    n = extract(m, s, th, "tha", 8, kw, buf, sizeof buf);
    ASSERT(n >= 2);
    ASSERT_EQ(check_spans(m, 4, th, kw, n), 0);
    ASSERT(strstr(buf, "\xE0\xB9\x80\xE0\xB8\x9B\xE0\xB9\x87\xE0\xB8\x99") == NULL); /* เป็น */
    ASSERT(strstr(buf, "\xE0\xB8\x97\xE0\xB8\xB5\xE0\xB9\x88") == NULL);             /* ที่ */
    ASSERT(strstr(buf, "\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8"
                       "\x97\xE0\xB8\xA2") != NULL); /* ภาษาไทย */
    /* Vietnamese: the stop phrase "ai nấy" is matched as two tokens. */
    const char *vi = "Ai n\xE1\xBA\xA5y \xC4\x91\xE1\xBB\x81u bi\xE1\xBA\xBFt tr\xC6\xB0\xE1\xBB"
                     "\x9Dng h\xE1\xBB\x8D" "c. Tr\xC6\xB0\xE1\xBB\x9Dng h\xE1\xBB\x8D" "c c\xE1"
                     "\xBB\xA7" "a ch\xC3\xBAng t\xC3\xB4i l\xC3\xA0 tr\xC6\xB0\xE1\xBB\x9Dng "
                     "h\xE1\xBB\x8D" "c l\xE1\xBB\x9Bn.";
    n = extract(m, s, vi, "vie", 8, kw, buf, sizeof buf);
    ASSERT(n >= 1);
    ASSERT_EQ(check_spans(m, 3, vi, kw, n), 0);
    ASSERT(strstr(buf, "Ai") == NULL && strstr(buf, "n\xE1\xBA\xA5y") == NULL);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(rake_and_max_words)
{
    mn_model *m = build();
    mn_scratch *s = NULL;
    ASSERT(m != NULL && mn_scratch_new(&s) == 0);
    mn_keyword kw[8];
    size_t n = 0;
    mn_keywords_options o = {.method = MN_KEYWORDS_RAKE};
    ASSERT_EQ(mn_keywords_extract_ex(m, s, EN_TEXT, strlen(EN_TEXT), "en", 2, &o, 8, kw, &n,
                                     NULL),
              0);
    ASSERT(n >= 3);
    ASSERT_EQ(check_spans(m, 0, EN_TEXT, kw, n), 0);
    o = (mn_keywords_options){.max_words = 1};
    ASSERT_EQ(mn_keywords_extract_ex(m, s, EN_TEXT, strlen(EN_TEXT), "en", 2, &o, 8, kw, &n,
                                     NULL),
              0);
    ASSERT(n >= 3);
    for (size_t i = 0; i < n; i++)
        ASSERT(memchr(EN_TEXT + kw[i].start, ' ', kw[i].end - kw[i].start) == NULL);
    ASSERT_EQ(check_spans(m, 0, EN_TEXT, kw, n), 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(save_open_round_trip)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    const char *path = mn_test_tmp_path("kw.mnlp");
    mn_err err;
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    mn_model *o = NULL;
    ASSERT_EQ(mn_model_open(path, &o, &err), 0);
    ASSERT_EQ(mn_model_kind(o), MN_MODEL_KEYWORDS);
    ASSERT_EQ(mn_model_label_count(o), mn_model_label_count(m));
    for (uint32_t i = 0; i < mn_model_label_count(m); i++)
        ASSERT_STREQ(mn_model_label(o, i), mn_model_label(m, i));
    ASSERT_EQ(mn_model_meta_count(o), mn_model_meta_count(m));
    ASSERT_STREQ(mn_model_meta(o, "source"), mn_model_meta(m, "source"));
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    ASSERT_EQ(mn_model_size_bytes(o), ftell(f));
    fclose(f);
    ASSERT_EQ(mn_keywords_lang_find(o, "ger", 3), 1);
    ASSERT_EQ(mn_keywords_is_stopword(o, 3, "ai n\xE1\xBA\xA5y", 8), 1);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    static const char *const texts[] = {EN_TEXT, DE_TEXT};
    for (int t = 0; t < 2; t++) {
        mn_keyword a[8], b[8];
        size_t na = 0, nb = 0;
        ASSERT_EQ(mn_keywords_extract(m, s, texts[t], strlen(texts[t]), NULL, 0, 8, a, &na), 0);
        ASSERT_EQ(mn_keywords_extract(o, s, texts[t], strlen(texts[t]), NULL, 0, 8, b, &nb), 0);
        ASSERT_EQ(na, nb);
        ASSERT(na > 0);
        for (size_t i = 0; i < na; i++)
            ASSERT(a[i].start == b[i].start && a[i].end == b[i].end && a[i].score == b[i].score);
    }
    /* Saving the opened model gives the same bytes. */
    const char *path2 = mn_test_tmp_path("kw2.mnlp");
    ASSERT_EQ(mn_model_save(o, path2, &err), 0);
    FILE *f1 = fopen(path, "rb"), *f2 = fopen(path2, "rb");
    ASSERT(f1 && f2);
    int same = 1, c1, c2;
    do {
        c1 = fgetc(f1);
        c2 = fgetc(f2);
        same &= c1 == c2;
    } while (c1 != EOF && c2 != EOF);
    fclose(f1);
    fclose(f2);
    ASSERT(same);
    mn_scratch_free(s);
    mn_model_release(o);
    mn_model_release(m);
}

TEST(build_errors_name_the_line)
{
    static const struct {
        const char *content;
        int rc;
        const char *msg;
    } cases[] = {
        {"en\tthe\nen the\n", MN_EFORMAT, ":2: expected 'lang<TAB>word'"},
        {"en,eng\tthe\nfr,eng\tle\n", MN_EFORMAT, ":2: alias 'eng' already names language 'en'"},
        {"en,eng\tthe\neng\tof\n", MN_EFORMAT, ":2: 'eng' is an alias of language 'en'"},
        {"en\tthe\ne n\tof\n", MN_EFORMAT, ":2: language code 'e n'"},
        {"en\t  \n", MN_EFORMAT, ":1: the word is empty"},
        {"en\ta b c d e f g h i\n", MN_EFORMAT, ":1: more than 8 tokens"},
        {"en\tthe\nen\t\xFF\n", MN_EUTF8, ":2: invalid UTF-8 at byte 4"},
        {"# only a comment\n\n", MN_EEMPTY, "no stop words"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = write_file("bad.tsv", cases[i].content, strlen(cases[i].content));
        mn_model *m = NULL;
        mn_err err;
        mn_err_clear(&err);
        int rc = mn_keywords_build(p, &m, &err);
        if (rc != cases[i].rc || m != NULL || !strstr(err.msg, cases[i].msg) ||
            strncmp(err.msg, p, strlen(p)) != 0)
            MN_FAIL_AT("case %zu: rc %d, message \"%s\"", i, rc, err.msg);
    }
    mn_model *m = NULL;
    mn_err err;
    ASSERT_EQ(mn_keywords_build(mn_test_tmp_path("missing.tsv"), &m, &err), -ENOENT);
    ASSERT(m == NULL);
    ASSERT_EQ(mn_keywords_build(NULL, &m, &err), MN_EINVAL);
}

TEST(damaged_files_are_refused)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    const char *path = mn_test_tmp_path("good.mnlp");
    mn_err err;
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ASSERT(len > 512 && len < sizeof buf);
    /* A flipped byte in the body: the checksum refuses it. */
    buf[len - 3] ^= 0x40;
    const char *bad = write_file("flipped.mnlp", (const char *)buf, len);
    mn_model *o = NULL;
    ASSERT_EQ(mn_model_open(bad, &o, &err), MN_ECORRUPT);
    ASSERT(o == NULL);
    buf[len - 3] ^= 0x40;
    /* Truncated */
    bad = write_file("short.mnlp", (const char *)buf, len - 100);
    ASSERT_EQ(mn_model_open(bad, &o, &err), MN_ETRUNC);
    /* Checksums right, tables wrong: sections that do not agree are refused before use. */
    mn_keywords *kw = (mn_keywords *)m;
    static const char *const want[] = {"keywords parameters", "entries are not sorted",
                                       "aliases section"};
    for (int variant = 0; variant < 3; variant++) {
        mn_file_writer *w = NULL;
        ASSERT_EQ(mn_file_writer_new(MN_MODEL_KEYWORDS, &w), 0);
        ASSERT_EQ(mn__model_write_common(m, w), 0);
        kw_params p = kw->p;
        if (variant == 0)
            p.nlangs = 9;
        ASSERT_EQ(mn_file_writer_add(w, TAG_KWPR, &p, sizeof p), 0);
        ASSERT_EQ(mn_file_writer_add(w, TAG_KWLN, kw->langs, (size_t)kw->p.nlangs * 8), 0);
        uint64_t *h = malloc((size_t)kw->p.nentries * 8);
        memcpy(h, kw->hashes, (size_t)kw->p.nentries * 8);
        if (variant == 1) {
            /* swap two entries of one bucket */
            for (uint32_t b = 0; b + 1 < (1u << kw->p.bucket_bits); b++) {
                if (kw->index[b + 1] - kw->index[b] >= 2) {
                    uint32_t i = kw->index[b];
                    uint64_t t = h[i];
                    h[i] = h[i + 1];
                    h[i + 1] = t;
                    break;
                }
            }
        }
        ASSERT_EQ(mn_file_writer_add(w, TAG_KWHS, h, (size_t)kw->p.nentries * 8), 0);
        free(h);
        ASSERT_EQ(mn_file_writer_add(w, TAG_KWLG, kw->lang_of, (size_t)kw->p.nentries * 2), 0);
        ASSERT_EQ(mn_file_writer_add(w, TAG_KWIX, kw->index,
                                     (((size_t)1 << kw->p.bucket_bits) + 1) * 4),
                  0);
        if (variant != 2) {
            static const unsigned char none[4] = {0};
            ASSERT_EQ(mn_file_writer_add(w, TAG_KWAL, none, 4), 0);
        }
        const char *p2 = mn_test_tmp_path("tables.mnlp");
        ASSERT_EQ(mn_file_writer_commit(w, p2, &err), 0);
        mn_file_writer_free(w);
        mn_err_clear(&err);
        ASSERT_EQ(mn_model_open(p2, &o, &err), MN_ECORRUPT);
        if (!strstr(err.msg, want[variant]) || !strstr(err.msg, "tables.mnlp"))
            MN_FAIL_AT("variant %d: \"%s\"", variant, err.msg);
    }
    mn_model_release(m);
}

/* Every allocation failure in building, saving, opening and extracting returns MN_ENOMEM (or
 * the writer's error) and leaks nothing (ASan); a warm scratch then extracts with every
 * allocation failing. */
TEST(allocation_failures_are_clean)
{
    int ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_model *m = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_keywords_build(data_path("stopwords.tsv"), &m, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            mn_model_release(m);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT(m == NULL);
        }
    }
    ASSERT(ok);
    mn_model *m = build();
    ASSERT(m != NULL);
    const char *path = mn_test_tmp_path("oom.mnlp");
    ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_model_save(m, path, &err);
        mn_alloc_fail_after(0);
        ok = rc == 0;
        if (!ok)
            ASSERT_EQ(rc, MN_ENOMEM);
    }
    ASSERT(ok);
    ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_model *o = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_model_open(path, &o, &err);
        mn_alloc_fail_after(0);
        ok = rc == 0;
        if (ok)
            mn_model_release(o);
        else
            ASSERT_EQ(rc, MN_ENOMEM);
    }
    ASSERT(ok);
    ok = 0;
    mn_keyword kw[8];
    for (long n = 1; n < 100 && !ok; n++) {
        mn_scratch *s = NULL;
        ASSERT_EQ(mn_scratch_new(&s), 0);
        size_t got = 9;
        mn_alloc_fail_after(n);
        int rc = mn_keywords_extract(m, s, DE_TEXT, strlen(DE_TEXT), "de", 2, 8, kw, &got);
        mn_alloc_fail_after(0);
        ok = rc == 0;
        if (!ok) {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT_EQ(got, 0);
        }
        mn_scratch_free(s);
    }
    ASSERT(ok);
    /* Warm: the scratch has grown for the longest text; nothing is allocated any more. */
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    size_t got = 0;
    ASSERT_EQ(mn_keywords_extract(m, s, EN_TEXT, strlen(EN_TEXT), NULL, 0, 8, kw, &got), 0);
    mn_alloc_fail_after(1);
    int rc = 0;
    static const char *const texts[] = {"Solar panels and batteries.", "", "Die Emissionen.",
                                        "\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6\xE4\xB9\xA0"};
    for (int i = 0; i < 50 && rc == 0; i++) {
        const char *t = i % 5 == 4 ? EN_TEXT : texts[i % 4];
        rc = mn_keywords_extract(m, s, t, strlen(t), i % 2 ? "en" : NULL, i % 2 ? 2 : 0, 8, kw,
                                 &got);
    }
    mn_alloc_fail_after(0);
    ASSERT_EQ(rc, 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

typedef struct thread_arg {
    const mn_model *m;
    int failures;
} thread_arg;

static void *worker(void *p)
{
    thread_arg *a = p;
    mn_scratch *s = NULL;
    if (mn_scratch_new(&s) != 0) {
        a->failures++;
        return NULL;
    }
    mn_keyword ref[8], kw[8];
    size_t nref = 0, n = 0;
    mn_keywords_extract(a->m, s, EN_TEXT, strlen(EN_TEXT), "en", 2, 8, ref, &nref);
    for (int i = 0; i < 200; i++) {
        const char *t = i % 2 ? DE_TEXT : EN_TEXT;
        if (mn_keywords_extract(a->m, s, t, strlen(t), NULL, 0, 8, kw, &n) != 0 || n == 0)
            a->failures++;
        if (!(i % 2) && (n != nref || kw[0].start != ref[0].start || kw[0].end != ref[0].end))
            a->failures++;
    }
    mn_scratch_free(s);
    return NULL;
}

TEST(threads_share_one_model)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    pthread_t t[4];
    thread_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (thread_arg){m, 0};
        ASSERT_EQ(pthread_create(&t[i], NULL, worker, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(a[i].failures, 0);
    }
    mn_model_release(m);
}

/* scan_bytes (8 ASCII bytes at a time) against scan_bytes_slow (byte by byte) on tokens of
 * every length up to 40 at every offset, with the text's end and the buffer's room near the
 * token's end, over ASCII that has every letter, the bytes around the letter ranges, and
 * non-ASCII bytes at every position of a piece. */
TEST(byte_scan_paths_agree)
{
    static const char alpha[] = "@AZ[`az{09 -'_\x7f\xc3\xa9\xe2\x80\x99\xff";
    srand(11);
    for (int round = 0; round < 50000; round++) {
        char text[64];
        size_t tlen = 1 + (size_t)(rand() % 48);
        int non_ascii = rand() % 3 == 0;
        for (size_t i = 0; i < tlen; i++) {
            size_t k = (size_t)rand() % (non_ascii ? sizeof alpha - 1 : 16);
            text[i] = rand() % 4 ? alpha[k] : (char)(0x20 + rand() % 0x5F);
        }
        size_t off = (size_t)rand() % tlen, len = 1 + (size_t)rand() % (tlen - off);
        size_t cap = len + (size_t)(rand() % 12);
        char lo_fast[80], lo_slow[80];
        memset(lo_fast, 0, sizeof lo_fast);
        memset(lo_slow, 0, sizeof lo_slow);
        tok_bytes f, sl = {.ascii = 1};
        scan_bytes(text + off, len, tlen - off, lo_fast, cap, &f);
        scan_bytes_slow(text + off, len, 0, lo_slow, &sl);
        /* and against the definition: continuation bytes always, the rest for ASCII */
        size_t cont = 0;
        int ascii = 1;
        for (size_t i = 0; i < len; i++) {
            cont += ((unsigned char)text[off + i] & 0xC0) == 0x80;
            ascii &= (unsigned char)text[off + i] < 0x80;
        }
        ASSERT_EQ(f.ascii, ascii);
        ASSERT_EQ(sl.ascii, ascii);
        ASSERT_EQ(f.cont, cont);
        ASSERT_EQ(sl.cont, cont);
        if (!ascii)
            continue;
        ASSERT_EQ(f.letters, sl.letters);
        ASSERT_EQ(f.upper, sl.upper);
        ASSERT(memcmp(lo_fast, lo_slow, len) == 0);
        /* without a buffer */
        scan_bytes(text + off, len, tlen - off, NULL, 0, &f);
        ASSERT_EQ(f.letters, sl.letters);
        ASSERT_EQ(f.upper, sl.upper);
    }
}

/* is_upper_memo against is_upper_cp: code points that share a slot, in turns, so a slot is
 * filled, hit and taken over; ASCII; ill-formed bytes. */
TEST(upper_memo_agrees)
{
    kw_run r;
    memset(r.up_cp, 0xFF, sizeof r.up_cp);
    static const int32_t cps[] = {0xC9,   0xE9,   0xC9 + KW_UPPER_MEMO, 0x416, 0x436,
                                  0x416 + 2 * KW_UPPER_MEMO,
                                  0x1E9E, 0x10A0, 0x2D00, 0x4E2D, 0x130, 0x1C5, 0x3A3, 0x3C2,
                                  0x1F88, 0x24B6, 0x10400, 0xFF21, 0x5D0, 0x905};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
            char b[8];
            size_t n = mn_utf8_encode(cps[i], b), cl;
            b[n] = 'x';
            ASSERT_EQ(is_upper_memo(&r, b, n + 1), is_upper_cp(b, n + 1, &cl));
        }
    }
    size_t cl;
    ASSERT_EQ(is_upper_memo(&r, "Ab", 2), 1);
    ASSERT_EQ(is_upper_memo(&r, "ab", 2), 0);
    ASSERT_EQ(is_upper_memo(&r, "\xc3", 1), is_upper_cp("\xc3", 1, &cl));
    ASSERT_EQ(is_upper_memo(&r, "\xff", 1), 0);
}

/* tokens_pass (batches of KW_TOKEN_BATCH) against one mn_tokenizer_next call per token, on
 * texts whose token counts fall on, next to and between batch sizes, and with the stored
 * capacity short of the count. */
TEST(token_batches_match_tokenizer)
{
    static const char *const piece[] = {"word ", "x", ", ", "Straße ", "42 ", "#tag ", "😀", "a.b "};
    mn_model *m = build();
    ASSERT(m != NULL);
    srand(5);
    for (int round = 0; round < 400; round++) {
        char text[4096];
        size_t len = 0, want = (size_t)(round % 200) + (round / 200) * KW_TOKEN_BATCH;
        for (size_t i = 0; i < want && len + 16 < sizeof text; i++) {
            const char *p = piece[rand() % 8];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        static kw_tok got[4096];
        static mn_token ref[4096];
        mn_tokenizer t;
        size_t nref = 0;
        mn_tokenizer_init(&t, text, len);
        while (mn_tokenizer_next(&t, &ref[nref]))
            nref++;
        kw_run r = {.kw = (const mn_keywords *)m, .text = text, .len = len, .lang = -1};
        size_t caps[] = {4096, nref / 2};
        for (int c = 0; c < 2; c++) {
            tok_out o = {.p = got, .cap = caps[c]};
            ASSERT_EQ(tokens_pass(&r, &o), 0);
            ASSERT_EQ(o.n, nref);
            for (size_t i = 0; i < nref && i < caps[c]; i++)
                ASSERT(got[i].off == ref[i].off && got[i].len == ref[i].len &&
                       got[i].kind == ref[i].kind);
        }
    }
    mn_model_release(m);
}

/* Texts for the fast-path tests: repeated words in both cases, possessives, stop words and
 * stop phrases ("'ll", "ai nấy"), punctuation and non-ASCII letters. */
static const char *const mixed_piece[] = {
    "the ", "The ", "of ", "and ", "solar ", "Solar ", "energy ", "panels ", "Google's ",
    "GOOGLE ", "NASA ", "cheap ", "Straße ", "straße ", "Größe ", "die ", "Berlin ", ", ",
    ". ", "! ", "e.g. ", "you'll ", "'ll ", "ai nấy ", "của ", "Hà Nội ", "一个", "机器学习", "x ",
    "42 ", "#climate ", "rate ", "learning ", "machine ", "it's ", "Über ", "über ", "naïve ",
    "café ", "Café ", "model ", "models ", "Google’s ", "ça ",
};
enum { MIXED_PIECES = sizeof mixed_piece / sizeof mixed_piece[0] };

/* Cuts text into tokens and analyses them as mn_keywords_extract_ex does, into *mem carved
 * from s: *n tokens, *nw words, *nwt word tokens; reuse and narrow as analyse_tokens takes
 * them. Sets mn_test_failed on a failure. */
static void tokens_analysed(const mn_keywords *kw, mn_scratch *s, const char *text, size_t len,
                            int32_t lang, int reuse, int narrow, kw_mem *mem, size_t *n,
                            uint32_t *nw, uint32_t *nwt)
{
    kw_run r = {.kw = kw, .s = s, .text = text, .len = len, .lang = lang, .nb = {.s = s}};
    memset(r.up_cp, 0xFF, sizeof r.up_cp);
    tok_out count_only = {.cap = 0};
    ASSERT_EQ(tokens_pass(&r, &count_only), 0);
    *n = count_only.n;
    ASSERT(*n > 0 && *n <= 4096);
    ASSERT_EQ(carve(s, *n, KW_DEFAULT_WORDS, kw->p.nlangs, mem), 0);
    tok_out to = {.p = mem->tok, .cap = *n};
    ASSERT_EQ(tokens_pass(&r, &to), 0);
    r.nb.p = s->buf[SLOT_KW_NORM];
    r.nb.cap = s->cap[SLOT_KW_NORM];
    ASSERT_EQ(analyse_tokens(&r, mem, *n, to.nwords, to.nlong, nw, nwt, reuse, narrow), 0);
}

/* analyse_tokens reusing what a spelling met before gave (hash, flags, word) and keeping pairs
 * of neighbours as 32-bit keys, each against the general path (working out every token, 64-bit
 * keys): the same tokens, words and word statistics, field by field. */
TEST(spelling_reuse_agrees)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    const mn_keywords *kw = (const mn_keywords *)m;
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    uint64_t x = 41;
    static kw_tok toks[3][4096];
    static kw_word words[3][4096];
    for (int round = 0; round < 300; round++) {
        char text[8192];
        size_t count = 1 + (size_t)(mn_test_next(&x) >> 33) % 500;
        size_t len = mn_test_join_pieces(&x, mixed_piece, MIXED_PIECES, count, text, sizeof text);
        uint32_t nw[3], nwt[3];
        size_t n = 0;
        /* mode 0: the general path; 1: reuse only; 2: reuse and narrow pairs */
        for (int mode = 0; mode < 3; mode++) {
            kw_mem mem;
            tokens_analysed(kw, s, text, len, round % 3 - 1, mode > 0, mode > 1, &mem, &n,
                            &nw[mode], &nwt[mode]);
            if (mn_test_failed)
                return;
            memcpy(toks[mode], mem.tok, n * sizeof *mem.tok);
            memcpy(words[mode], mem.words, nw[mode] * sizeof *mem.words);
        }
        for (int mode = 1; mode < 3; mode++) {
            ASSERT_EQ(nw[0], nw[mode]);
            ASSERT_EQ(nwt[0], nwt[mode]);
            for (size_t i = 0; i < n; i++) {
                const kw_tok *a = &toks[0][i], *b = &toks[mode][i];
                ASSERT(a->off == b->off && a->len == b->len && a->h == b->h && a->word == b->word &&
                       a->sent == b->sent && a->kind == b->kind && a->flags == b->flags &&
                       a->cps == b->cps && a->trim == b->trim && a->cap0 == b->cap0);
            }
            for (uint32_t w = 0; w < nw[0] && w < nw[mode]; w++) {
                const kw_word *a = &words[0][w], *b = &words[mode][w];
                ASSERT(a->h == b->h && a->tf == b->tf && a->tf_case == b->tf_case && a->sf == b->sf &&
                       a->first_sent == b->first_sent && a->left_d == b->left_d &&
                       a->right_d == b->right_d && a->left_n == b->left_n && a->right_n == b->right_n);
            }
        }
    }
    mn_scratch_free(s);
    mn_model_release(m);
}

/* rank_few (the few phrases that may rank, scored and ranked) against scoring and ranking
 * every phrase, on texts long enough that rank_few has phrases to leave out; both methods,
 * given and guessed languages, several k and phrase lengths. Spans and scores must match to the
 * bit. */
TEST(rank_few_agrees)
{
    static const char *const langs[] = {"en", "de", "vi", "zh", NULL};
    mn_model *m = build();
    ASSERT(m != NULL);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    uint64_t x = 17;
    int pruned = 0;
    for (int round = 0; round < 600; round++) {
        char text[8192];
        size_t count = 5 + (size_t)(mn_test_next(&x) >> 33) % 400;
        size_t len = mn_test_join_pieces(&x, mixed_piece, MIXED_PIECES, count, text, sizeof text);
        const char *lang = langs[round % 5];
        size_t lang_len = lang ? strlen(lang) : 0;
        mn_keywords_options opts = {.method = round % 7 == 0 ? MN_KEYWORDS_RAKE
                                                             : MN_KEYWORDS_DEFAULT,
                                    .max_words = (size_t)1 + (size_t)(round % 8)};
        size_t k = (size_t)1 + (size_t)(mn_test_next(&x) >> 33) % 12;
        mn_keyword fast[16], slow[16];
        size_t nf = 99, ns = 99;
        mn_keywords_info fi, si;
        ASSERT_EQ(extract_ranked(m, s, text, len, lang, lang_len, &opts, k, fast, &nf, &fi, 0), 0);
        ASSERT_EQ(extract_ranked(m, s, text, len, lang, lang_len, &opts, k, slow, &ns, &si, 1), 0);
        ASSERT_EQ(nf, ns);
        ASSERT_EQ(fi.candidates, si.candidates);
        for (size_t i = 0; i < nf && i < ns; i++) {
            ASSERT_EQ(fast[i].start, slow[i].start);
            ASSERT_EQ(fast[i].end, slow[i].end);
            ASSERT(memcmp(&fast[i].score, &slow[i].score, sizeof fast[i].score) == 0);
        }
        pruned += opts.method != MN_KEYWORDS_RAKE && fi.candidates > 2 * (4 * k + 16);
    }
    ASSERT(pruned > 100); /* rank_few had phrases to leave out */
    mn_scratch_free(s);
    mn_model_release(m);
}

/* rank_few against phrase_scores and rank over all phrases, on made-up phrase sets: values
 * (roots of the products of any length alike) spread over orders of magnitude or bunched
 * within 0.1%, and many phrases copying another's
 * product and sum (equal values, or values an ulp apart through the length's root), so the
 * best few and the ones left out often tie or nearly tie. No word is shared (mask 0), so
 * nothing is redundant. */
TEST(rank_few_agrees_on_ties)
{
    static kw_phrase ph[3000];
    static uint32_t order[3000];
    kw_mem mem = {.phrases = ph, .order = order};
    uint64_t x = 29;
    int settled = 0;
    for (int round = 0; round < 3000; round++) {
        uint32_t np = 1 + (uint32_t)((mn_test_next(&x) >> 33) % 3000);
        double spread = round % 3 == 0 ? 30 : round % 3 == 1 ? 0.5 : 0.001;
        for (uint32_t p = 0; p < np; p++) {
            uint32_t len = 1 + (uint32_t)((mn_test_next(&x) >> 33) % 4);
            double u = (double)(mn_test_next(&x) >> 11) / 9007199254740992.0;
            uint32_t tf = 1 + (uint32_t)((mn_test_next(&x) >> 33) % 3);
            ph[p] = (kw_phrase){.first = p, .end = p + len, .tf = spread < 1 ? 1 : tf,
                                .prod = pow(0.35 * exp(-spread * u), sqrt(len)),
                                .sum = spread * u};
            if (p > 0 && (mn_test_next(&x) >> 33) % 3 == 0) {
                const kw_phrase *o = &ph[(mn_test_next(&x) >> 33) % p];
                ph[p].prod = o->prod;
                ph[p].sum = o->sum;
                ph[p].tf = o->tf;
                if ((mn_test_next(&x) >> 33) % 2)
                    ph[p].end = p + (o->end - o->first);
            }
        }
        size_t k = 1 + (size_t)((mn_test_next(&x) >> 33) % 10);
        mn_keyword fast[16], slow[16];
        size_t nf = 0, ns = 0;
        if (rank_few(&mem, np, k, fast, &nf) != 0)
            continue;
        settled++;
        phrase_scores(&mem, np, 0);
        for (uint32_t p = 0; p < np; p++)
            order[p] = p;
        ASSERT_EQ(rank(&mem, order, np, k, 0, -1, slow, &ns), 0);
        ASSERT_EQ(nf, ns);
        for (size_t i = 0; i < nf && i < ns; i++) {
            ASSERT_EQ(fast[i].start, slow[i].start);
            ASSERT(memcmp(&fast[i].score, &slow[i].score, sizeof fast[i].score) == 0);
        }
    }
    ASSERT(settled > 1000);
}

/* yake_bounds around yake_value (pow) over products from 1e-300 to 1e300, every length and a
 * few frequencies; and not much wider than needed (rank_few leaves out little otherwise). */
TEST(yake_bounds_hold)
{
    uint64_t x = 3;
    for (int round = 0; round < 200000; round++) {
        double u = (double)(mn_test_next(&x) >> 11) / 9007199254740992.0;
        kw_phrase ph = {.first = 0,
                        .end = (uint32_t)(1 + (mn_test_next(&x) >> 33) % KW_MAX_WORDS),
                        .tf = (uint32_t)(1 + (mn_test_next(&x) >> 33) % 4),
                        .prod = pow(10.0, (u - 0.5) * 600),
                        .sum = (double)(mn_test_next(&x) >> 40) / 1e5};
        double lo, hi, v = yake_value(&ph);
        yake_bounds(&ph, &lo, &hi);
        ASSERT(lo <= v && v <= hi);
        ASSERT(hi < 1.5 * lo || ph.prod < 1e-290 || ph.prod > 1e290);
    }
}

/* A language's own filter (probe_has) against reading the whole table: every entry is found
 * in its language, and hashes near the entries' (one bit off) and random ones give the same
 * answer both ways in every language. */
TEST(language_filters_agree)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    const mn_keywords *kw = (const mn_keywords *)m;
    uint64_t x = 23;
    for (uint32_t i = 0; i < kw->p.nentries; i++)
        ASSERT(stop_has(kw, kw->lang_of[i], kw->hashes[i]));
    for (int round = 0; round < 20000; round++) {
        uint64_t h = mn_test_next(&x);
        if (round % 2)
            h = kw->hashes[(h >> 33) % kw->p.nentries] ^ (uint64_t)1 << (round % 64);
        for (uint32_t l = 0; l < kw->p.nlangs; l++) {
            int want = 0;
            for (uint32_t i = 0; i < kw->p.nentries; i++)
                want |= kw->hashes[i] == h && kw->lang_of[i] == l;
            ASSERT_EQ(stop_has(kw, l, h), want);
        }
    }
    mn_model_release(m);
}

/* mark_pass through the filter of phrase starts (a model opened from a file with 'KWFT', or
 * built) against looking up every window (the filter left out, as for a file without the
 * section): the same stop and content marks on texts full of stop phrases ("'ll", "e.g.",
 * "ai nấy"). A file written without the section opens and falls back. */
TEST(phrase_start_filter_agrees)
{
    mn_model *m = build();
    ASSERT(m != NULL);
    mn_keywords *kw = (mn_keywords *)m;
    ASSERT(kw->first_filter != NULL && kw->nfirsts > 0);
    for (uint32_t i = 0; i < kw->nfirsts; i++) {
        const stop_probe sp = stop_probe_of(kw, kw->firsts[i].lang);
        ASSERT(probe_may_start(&sp, kw->firsts[i].h));
    }
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    uint64_t x = 7;
    static uint8_t flags[2][4096];
    int skipped = 0;
    for (int round = 0; round < 300; round++) {
        char text[8192];
        size_t count = 1 + (size_t)(mn_test_next(&x) >> 33) % 500;
        size_t len = mn_test_join_pieces(&x, mixed_piece, MIXED_PIECES, count, text, sizeof text);
        int32_t lang = round % 4 == 3 ? 3 : round % 2; /* en, de, vi */
        size_t n = 0, nph[2];
        for (int general = 0; general < 2; general++) {
            uint64_t *filter = kw->first_filter;
            if (general)
                kw->first_filter = NULL;
            kw_mem mem;
            uint32_t nw, nwt;
            tokens_analysed(kw, s, text, len, -1, 1, 1, &mem, &n, &nw, &nwt);
            if (mn_test_failed)
                return;
            content_stats cs = {.maxtf = 1};
            mark_pass(kw, lang, text, &mem, n, nwt, KW_DEFAULT_WORDS, &cs, &nph[general]);
            for (size_t i = 0; i < n; i++)
                flags[general][i] = mem.tok[i].flags;
            if (!general) {
                const stop_probe sp = stop_probe_of(kw, (uint32_t)lang);
                for (size_t i = 0; i < n; i++)
                    skipped += !probe_may_start(&sp, mem.tok[i].h);
            }
            kw->first_filter = filter;
        }
        ASSERT_EQ(nph[0], nph[1]);
        ASSERT(memcmp(flags[0], flags[1], n) == 0);
    }
    ASSERT(skipped > 0);
    /* Saved with the section, opened with it; written without it, opened without it. */
    mn_err err;
    const char *path = mn_test_tmp_path("kwft.mnlp");
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    mn_model *o = NULL;
    ASSERT_EQ(mn_model_open(path, &o, &err), 0);
    ASSERT(((mn_keywords *)o)->first_filter != NULL);
    ASSERT_EQ(((mn_keywords *)o)->nfirsts, kw->nfirsts);
    mn_model_release(o);
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(MN_MODEL_KEYWORDS, &w), 0);
    ASSERT_EQ(mn__model_write_common(m, w), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWPR, &kw->p, sizeof kw->p), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWLN, kw->langs, (size_t)kw->p.nlangs * 8), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWHS, kw->hashes, (size_t)kw->p.nentries * 8), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWLG, kw->lang_of, (size_t)kw->p.nentries * 2), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWIX, kw->index,
                                 (((size_t)1 << kw->p.bucket_bits) + 1) * 4),
              0);
    static const unsigned char none[4] = {0};
    ASSERT_EQ(mn_file_writer_add(w, TAG_KWAL, none, 4), 0);
    const char *p2 = mn_test_tmp_path("nokwft.mnlp");
    ASSERT_EQ(mn_file_writer_commit(w, p2, &err), 0);
    mn_file_writer_free(w);
    ASSERT_EQ(mn_model_open(p2, &o, &err), 0);
    ASSERT(((mn_keywords *)o)->first_filter == NULL);
    mn_scratch_free(s);
    mn_model_release(o);
    mn_model_release(m);
}

TEST_MAIN(
    TEST_ENTRY(build_describes_the_model)
    TEST_ENTRY(language_codes_and_aliases)
    TEST_ENTRY(stop_words_are_normalised)
    TEST_ENTRY(every_listed_word_is_found)
    TEST_ENTRY(english_top_phrase)
    TEST_ENTRY(german_top_phrase)
    TEST_ENTRY(unicode_offsets_are_exact)
    TEST_ENTRY(nothing_to_extract)
    TEST_ENTRY(bad_arguments)
    TEST_ENTRY(guess_and_fallback)
    TEST_ENTRY(token_count_paths_agree)
    TEST_ENTRY(chinese_japanese_thai_vietnamese)
    TEST_ENTRY(rake_and_max_words)
    TEST_ENTRY(save_open_round_trip)
    TEST_ENTRY(build_errors_name_the_line)
    TEST_ENTRY(damaged_files_are_refused)
    TEST_ENTRY(allocation_failures_are_clean)
    TEST_ENTRY(threads_share_one_model)
    TEST_ENTRY(byte_scan_paths_agree)
    TEST_ENTRY(upper_memo_agrees)
    TEST_ENTRY(token_batches_match_tokenizer)
    TEST_ENTRY(spelling_reuse_agrees)
    TEST_ENTRY(rank_few_agrees)
    TEST_ENTRY(rank_few_agrees_on_ties)
    TEST_ENTRY(yake_bounds_hold)
    TEST_ENTRY(language_filters_agree)
    TEST_ENTRY(phrase_start_filter_agrees)
)
