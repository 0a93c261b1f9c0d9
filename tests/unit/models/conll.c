/* SPDX-License-Identifier: MIT
 *
 * Tests for the tagged-corpus reader (src/models/conll.c): Brown "word/tag" and CoNLL
 * columns, format detection, entity schemes converted to BIO, Brown tag simplification,
 * round trips through mn_tagged_corpus_save, and every error with its line number.
 */
#include <errno.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "micronlp/models.h"
#include "test.h"

static mn_tagged_corpus *parse(const char *data, mn_tag_format fmt, unsigned flags, int *rc,
                               mn_err *err)
{
    mn_tagged_corpus *c = NULL;
    *rc = mn_tagged_corpus_parse(data, strlen(data), "t.txt", fmt, flags, &c, err);
    return c;
}

/* "w/t w/t | w/t" : the corpus written as Brown, sentences separated by " | ". */
static void flatten(const mn_tagged_corpus *c, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < mn_tagged_corpus_sentence_count(c); i++) {
        if (i) n += (size_t)snprintf(out + n, cap - n, " | ");
        for (size_t j = 0; j < mn_tagged_corpus_sentence_len(c, i); j++) {
            const char *w;
            size_t l;
            uint32_t t;
            mn_tagged_corpus_token(c, i, j, &w, &l, &t);
            n += (size_t)snprintf(out + n, cap - n, "%s%.*s/%s", j ? " " : "", (int)l, w,
                                  mn_tagged_corpus_label(c, t));
        }
    }
}

TEST(reads_every_format)
{
    static const struct {
        const char *in;
        mn_tag_format fmt;
        unsigned flags;
        const char *want;
    } cases[] = {
        /* Brown: split on the last slash, one sentence per line, blank lines ignored */
        {"\tThe/at and/or/cc 1/2/cd ./.\n\n\tHe/pps ran/vbd\n", MN_TAG_FORMAT_AUTO, 0,
         "The/at and/or/cc 1/2/cd ./. | He/pps ran/vbd"},
        {"a/b", MN_TAG_FORMAT_BROWN, 0, "a/b"},
        /* simplified Brown tags */
        {"The/at-tl Times/np-tl-hl ./. mais/fw-cc x/nn$-nc", MN_TAG_FORMAT_BROWN, MN_TAGS_SIMPLIFY,
         "The/at Times/np ./. mais/cc x/nn$"},
        /* CoNLL: tab or spaces, first and last columns, blank lines, -DOCSTART- */
        {"-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP I-NP "
         "B-PER\n",
         MN_TAG_FORMAT_AUTO, 0, "EU/B-ORG rejects/O | Peter/B-PER"},
        {"New York\tB-LOC\nis\tO\r\n\n\nok\tO\n", MN_TAG_FORMAT_CONLL, 0,
         "New York/B-LOC is/O | ok/O"},
        /* IO -> BIO */
        {"010 I-MISC\nis O\nJohn I-PER\nSmith I-PER\nParis I-LOC\n", MN_TAG_FORMAT_CONLL, 0,
         "010/B-MISC is/O John/B-PER Smith/I-PER Paris/B-LOC"},
        /* BIOES -> BIO */
        {"A\tS-PER\nB\tB-ORG\nC\tE-ORG\nD\tO\nE\tB-LOC\nF\tI-LOC\nG\tE-LOC\nH\tI-LOC\n",
         MN_TAG_FORMAT_CONLL, 0, "A/B-PER B/B-ORG C/I-ORG D/O E/B-LOC F/I-LOC G/I-LOC H/B-LOC"},
        /* BILOU -> BIO */
        {"A\tU-PER\nB\tB-ORG\nC\tL-ORG\n", MN_TAG_FORMAT_CONLL, 0, "A/B-PER B/B-ORG C/I-ORG"},
        /* BIO stays, I- after another type or after O starts a span */
        {"A\tB-PER\nB\tI-PER\nC\tI-LOC\nD\tO\nE\tI-ORG\n", MN_TAG_FORMAT_CONLL, 0,
         "A/B-PER B/I-PER C/B-LOC D/O E/B-ORG"},
        /* keep the scheme when asked */
        {"A\tI-PER\nB\tE-PER\n", MN_TAG_FORMAT_CONLL, MN_TAGS_KEEP_SCHEME, "A/I-PER B/E-PER"},
        /* columns that are not entity tags are left alone */
        {"The DT\nI PRP\nB-52 NNP\n", MN_TAG_FORMAT_AUTO, 0, "The/DT I/PRP B-52/NNP"},
        /* a sentence break at -DOCSTART- even without a blank line */
        {"a O\n-DOCSTART- O\nb O\n", MN_TAG_FORMAT_CONLL, 0, "a/O | b/O"},
        /* UTF-8 words */
        {"Zürich\tB-LOC\n東京\tB-LOC\n🙂\tO\n", MN_TAG_FORMAT_AUTO, 0,
         "Zürich/B-LOC 東京/B-LOC 🙂/O"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc;
        mn_err err;
        mn_tagged_corpus *c = parse(cases[k].in, cases[k].fmt, cases[k].flags, &rc, &err);
        if (rc != 0) fprintf(stderr, "case %zu: %s\n", k, err.msg);
        ASSERT_EQ(rc, 0);
        char got[512];
        flatten(c, got, sizeof got);
        if (strcmp(got, cases[k].want) != 0) fprintf(stderr, "case %zu\n", k);
        ASSERT_STREQ(got, cases[k].want);
        mn_tagged_corpus_free(c);
    }
}

TEST(entity_labels_start_with_o)
{
    int rc;
    mn_err err;
    mn_tagged_corpus *c = parse("A\tB-PER\nB\tO\n", MN_TAG_FORMAT_CONLL, 0, &rc, &err);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(mn_tagged_corpus_label(c, 0), "O");
    ASSERT_EQ(mn_tagged_corpus_label_count(c), 3); /* O, B-PER, I-PER */
    ASSERT_EQ(mn_tagged_corpus_token_count(c), 2);
    ASSERT(mn_tagged_corpus_label(c, 3) == NULL);
    mn_tagged_corpus_free(c);
}

TEST(errors_name_the_line)
{
    static const struct {
        const char *in;
        mn_tag_format fmt;
        int rc;
        const char *msg;
    } cases[] = {
        {"a O\nb\n", MN_TAG_FORMAT_CONLL, MN_EFORMAT, "t.txt:2: expected"},
        {"a\tO\n\t\tO\n", MN_TAG_FORMAT_CONLL, MN_EFORMAT, "t.txt:2: expected"},
        {"ok/nn\nword\n", MN_TAG_FORMAT_BROWN, MN_EFORMAT, "t.txt:2: token 'word' has no /tag"},
        {"/nn\n", MN_TAG_FORMAT_BROWN, MN_EFORMAT, "t.txt:1: token '/nn' has an empty word"},
        {"a/nn b/\n", MN_TAG_FORMAT_BROWN, MN_EFORMAT, "t.txt:1: token 'b/' has an empty tag"},
        {"a O\n\nb\xff O\n", MN_TAG_FORMAT_CONLL, MN_EUTF8, "t.txt:3: invalid UTF-8 at byte 2"},
        {"a/b \xc3\x28/c\n", MN_TAG_FORMAT_BROWN, MN_EUTF8, "t.txt:1: invalid UTF-8 at byte 5"},
        {"", MN_TAG_FORMAT_AUTO, MN_EEMPTY, "t.txt: no tagged tokens"},
        {"\n\n  \n", MN_TAG_FORMAT_CONLL, MN_EEMPTY, "t.txt: no tagged tokens"},
        {"-DOCSTART- -X- O O\n\n", MN_TAG_FORMAT_AUTO, MN_EEMPTY, "t.txt: no tagged tokens"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc;
        mn_err err;
        mn_err_clear(&err);
        mn_tagged_corpus *c = parse(cases[k].in, cases[k].fmt, 0, &rc, &err);
        ASSERT(c == NULL);
        ASSERT_EQ(rc, cases[k].rc);
        if (strncmp(err.msg, cases[k].msg, strlen(cases[k].msg)) != 0)
            fprintf(stderr, "case %zu: got '%s'\n", k, err.msg);
        ASSERT(strncmp(err.msg, cases[k].msg, strlen(cases[k].msg)) == 0);
    }
}

TEST(sentences_longer_than_10000_tokens_are_refused)
{
    size_t n = 10001;
    char *buf = malloc(n * 4 + 16);
    ASSERT(buf != NULL);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + len, "a/b ", 4);
        len += 4;
    }
    mn_tagged_corpus *c = NULL;
    mn_err err;
    ASSERT_EQ(mn_tagged_corpus_parse(buf, len, "big", MN_TAG_FORMAT_BROWN, 0, &c, &err),
              MN_ETOOBIG);
    ASSERT(strstr(err.msg, "big:1: sentence has more than 10000 tokens") != NULL);
    /* exactly 10,000 is fine */
    ASSERT_EQ(mn_tagged_corpus_parse(buf, len - 4, "big", MN_TAG_FORMAT_BROWN, 0, &c, &err), 0);
    ASSERT_EQ(mn_tagged_corpus_token_count(c), 10000);
    mn_tagged_corpus_free(c);
    free(buf);
}

TEST(round_trips_through_both_formats)
{
    const char *in = "The/at Times/np and/or/cc ./.\n\nZoë/np saw/vbd 東京/np\n";
    int rc;
    mn_err err;
    mn_tagged_corpus *c = parse(in, MN_TAG_FORMAT_BROWN, 0, &rc, &err);
    ASSERT_EQ(rc, 0);
    char want[512], got[512], path[64];
    flatten(c, want, sizeof want);
    snprintf(path, sizeof path, "/tmp/mn-conll-test-%d.txt", (int)getpid());
    for (int fmt = MN_TAG_FORMAT_BROWN; fmt <= MN_TAG_FORMAT_CONLL; fmt++) {
        ASSERT_EQ(mn_tagged_corpus_save(c, path, (mn_tag_format)fmt, &err), 0);
        mn_tagged_corpus *back = NULL;
        ASSERT_EQ(mn_tagged_corpus_load(path, MN_TAG_FORMAT_AUTO, 0, &back, &err), 0);
        flatten(back, got, sizeof got);
        ASSERT_STREQ(got, want);
        mn_tagged_corpus_free(back);
    }
    mn_tagged_corpus_free(c);
    /* entity corpus through CoNLL */
    c = parse("John\tB-PER\nSmith\tI-PER\nin\tO\nRome\tB-LOC\n\nhi\tO\n", MN_TAG_FORMAT_CONLL, 0,
              &rc, &err);
    ASSERT_EQ(rc, 0);
    flatten(c, want, sizeof want);
    ASSERT_EQ(mn_tagged_corpus_save(c, path, MN_TAG_FORMAT_CONLL, &err), 0);
    mn_tagged_corpus *back = NULL;
    ASSERT_EQ(mn_tagged_corpus_load(path, MN_TAG_FORMAT_AUTO, 0, &back, &err), 0);
    flatten(back, got, sizeof got);
    ASSERT_STREQ(got, want);
    ASSERT_EQ(mn_tagged_corpus_hash(back) != 0, 1);
    mn_tagged_corpus_free(back);
    ASSERT_EQ(mn_tagged_corpus_save(c, path, MN_TAG_FORMAT_AUTO, &err), MN_EINVAL);
    unlink(path);
    mn_tagged_corpus_free(c);
}

TEST(missing_file_and_bad_arguments)
{
    mn_tagged_corpus *c = NULL;
    mn_err err;
    ASSERT_EQ(mn_tagged_corpus_load("/nonexistent/x.txt", MN_TAG_FORMAT_AUTO, 0, &c, &err),
              -ENOENT);
    ASSERT(strstr(err.msg, "/nonexistent/x.txt") != NULL);
    ASSERT_EQ(mn_tagged_corpus_parse(NULL, 3, "x", MN_TAG_FORMAT_AUTO, 0, &c, &err), MN_EINVAL);
    ASSERT_EQ(mn_tagged_corpus_parse("a/b", 3, "x", (mn_tag_format)9, 0, &c, &err), MN_EINVAL);
    ASSERT(c == NULL);
    mn_tagged_corpus_free(NULL);
    ASSERT_EQ(mn_tagged_corpus_sentence_count(NULL), 0);
}

TEST(loading_survives_allocation_failures)
{
    const char *in = "-DOCSTART- O\n\nJohn I-PER\nSmith I-PER\nin O\nParis I-LOC\n\nok O\n";
    int ok = 0;
    for (long n = 1; n < 500 && !ok; n++) {
        mn_tagged_corpus *c = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_tagged_corpus_parse(in, strlen(in), "x", MN_TAG_FORMAT_AUTO, 0, &c, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            ASSERT_EQ(mn_tagged_corpus_token_count(c), 5);
            mn_tagged_corpus_free(c);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT(c == NULL);
        }
    }
    ASSERT(ok);
}

TEST_MAIN(TEST_ENTRY(reads_every_format) TEST_ENTRY(entity_labels_start_with_o)
              TEST_ENTRY(errors_name_the_line)
                  TEST_ENTRY(sentences_longer_than_10000_tokens_are_refused)
                      TEST_ENTRY(round_trips_through_both_formats)
                          TEST_ENTRY(missing_file_and_bad_arguments)
                              TEST_ENTRY(loading_survives_allocation_failures))
