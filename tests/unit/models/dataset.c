/* SPDX-License-Identifier: MIT
 *
 * Tests for src/models/dataset.c: both input formats, multi-label lines, and every bad line
 * refused with "path:line: reason" rather than skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "micronlp/models.h"
#include "test.h"

static const char *write_file(const char *name, const char *content, size_t len)
{
    const char *path = mn_test_tmp_path(name);
    FILE *f = fopen(path, "wb");
    fwrite(content, 1, len, f);
    fclose(f);
    return path;
}

#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

TEST(fasttext_format)
{
    const char *p = WRITE("ft.txt", "__label__a hello world\n\n  \n__label__b __label__a  two labels here \r\n"
                                    "__label__b last line without newline");
    mn_dataset *d;
    mn_err err;
    ASSERT_EQ(mn_dataset_load(p, MN_DATA_AUTO, NULL, &d, &err), 0);
    ASSERT_EQ(mn_dataset_count(d), 3);
    ASSERT_EQ(mn_dataset_label_count(d), 2);
    ASSERT_STREQ(mn_dataset_label(d, 0), "a");
    ASSERT_STREQ(mn_dataset_label(d, 1), "b");
    const char *text;
    size_t len, nl;
    const uint32_t *labels;
    mn_dataset_get(d, 1, &text, &len, &labels, &nl);
    ASSERT_MEMEQ(text, len, "two labels here");
    ASSERT_EQ(nl, 2);
    ASSERT_EQ(labels[0], 1);
    ASSERT_EQ(labels[1], 0);
    mn_dataset_get(d, 2, &text, &len, &labels, &nl);
    ASSERT_MEMEQ(text, len, "last line without newline");
    mn_dataset_free(d);
}

TEST(tsv_format)
{
    const char *p = WRITE("t.tsv", "spam\tBuy now!\nham, work\tmeeting at 10\n");
    mn_dataset *d;
    mn_err err;
    ASSERT_EQ(mn_dataset_load(p, MN_DATA_AUTO, NULL, &d, &err), 0);
    ASSERT_EQ(mn_dataset_count(d), 2);
    ASSERT_EQ(mn_dataset_label_count(d), 3);
    ASSERT_STREQ(mn_dataset_label(d, 2), "work");
    mn_dataset_free(d);
}

static void expect_error(const char *name, const char *content, size_t len, int code,
                         const char *phrase)
{
    const char *p = write_file(name, content, len);
    mn_dataset *d = NULL;
    mn_err err;
    mn_err_clear(&err);
    ASSERT_EQ(mn_dataset_load(p, MN_DATA_AUTO, NULL, &d, &err), code);
    ASSERT(d == NULL);
    ASSERT(strstr(err.msg, name) != NULL);
    if (!strstr(err.msg, phrase))
        MN_FAIL_AT("message \"%s\" lacks \"%s\"", err.msg, phrase);
}

TEST(bad_lines_name_file_and_line)
{
    static const char bad_utf8[] = "__label__a fine\n__label__a caf\xc3 broken\n";
    expect_error("utf8.txt", bad_utf8, sizeof bad_utf8 - 1, MN_EUTF8, ":2: invalid UTF-8 at byte 15");
    static const char no_text[] = "__label__a fine\n__label__b   \n";
    expect_error("notext.txt", no_text, sizeof no_text - 1, MN_EFORMAT, ":2: label with no text");
    static const char no_label[] = "__label__a fine\njust text\n";
    expect_error("nolabel.txt", no_label, sizeof no_label - 1, MN_EFORMAT, ":2: no label");
    static const char empty_label[] = "__label__ text\n";
    expect_error("emptylabel.txt", empty_label, sizeof empty_label - 1, MN_EFORMAT,
                 ":1: empty label name");
    expect_error("empty.txt", "", 0, MN_EEMPTY, "no examples");
    expect_error("blank.txt", "\n\n  \n", 4, MN_EEMPTY, "no examples");
}

TEST(line_over_one_mib_is_refused)
{
    size_t n = (1u << 20) + 100;
    char *big = mn_malloc(n);
    memcpy(big, "__label__a ", 11);
    memset(big + 11, 'x', n - 12);
    big[n - 1] = '\n';
    expect_error("big.txt", big, n, MN_ETOOBIG, ":1: line is");
    mn_free(big);
}

TEST(missing_file_and_directory)
{
    mn_dataset *d = NULL;
    mn_err err;
    ASSERT_EQ(mn_dataset_load("/nonexistent/x.txt", MN_DATA_AUTO, NULL, &d, &err), -ENOENT);
    ASSERT(strstr(err.msg, "/nonexistent/x.txt") != NULL);
    int rc = mn_dataset_load("/tmp", MN_DATA_AUTO, NULL, &d, &err);
    ASSERT(rc < 0);
    ASSERT(strstr(err.msg, "/tmp") != NULL);
}

TEST(allocation_failures_are_clean)
{
    const char *p = WRITE("alloc.txt", "__label__a x y\n__label__b z\n__label__c w\n");
    int ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        mn_dataset *d = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_dataset_load(p, MN_DATA_AUTO, NULL, &d, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            ASSERT_EQ(mn_dataset_count(d), 3);
            mn_dataset_free(d);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
        }
    }
    ASSERT(ok);
}

TEST_MAIN(TEST_ENTRY(fasttext_format) TEST_ENTRY(tsv_format) TEST_ENTRY(bad_lines_name_file_and_line)
              TEST_ENTRY(line_over_one_mib_is_refused) TEST_ENTRY(missing_file_and_directory)
                  TEST_ENTRY(allocation_failures_are_clean))
