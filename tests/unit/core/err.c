/* SPDX-License-Identifier: MIT
 *
 * Tests for src/core/err.c: every code has a message and a name, OS errors pass through, and
 * the error record truncates instead of overflowing.
 */
#include <errno.h>

#include "micronlp/err.h"
#include "test.h"

TEST(codes_have_messages_and_names)
{
    for (int c = MN__ERR_BASE + 1; c < MN__ERR_END; c++) {
        ASSERT(strcmp(mn_strerror(c), "unknown error") != 0);
        ASSERT(strncmp(mn_errname(c), "MN_", 3) == 0);
    }
    ASSERT_STREQ(mn_strerror(MN_EUTF8), "invalid UTF-8");
    ASSERT_STREQ(mn_errname(MN_ECORRUPT), "MN_ECORRUPT");
    ASSERT_STREQ(mn_strerror(0), "success");
    ASSERT_STREQ(mn_strerror(-ENOENT), strerror(ENOENT));
    ASSERT_STREQ(mn_errname(-ENOENT), "ENOENT");
}

TEST(record_truncates_and_prefixes)
{
    mn_err err;
    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ASSERT_EQ(mn_err_set(&err, MN_EINVAL, "%s", long_text), MN_EINVAL);
    ASSERT_EQ(err.code, MN_EINVAL);
    ASSERT_EQ(strlen(err.msg), MN_ERR_MSG_MAX - 1);
    mn_err_set(&err, MN_ECORRUPT, "bad section");
    mn_err_prefix(&err, "%s", "model.bin");
    ASSERT_STREQ(err.msg, "model.bin: bad section");
    mn_err_prefix(&err, "%s", long_text);
    ASSERT_EQ(strlen(err.msg), MN_ERR_MSG_MAX - 1);
    ASSERT_EQ(mn_err_set(NULL, MN_ENOMEM, "ignored"), MN_ENOMEM);
    mn_err_clear(&err);
    ASSERT_EQ(err.code, 0);
    ASSERT_STREQ(err.msg, "");
}

TEST_MAIN(TEST_ENTRY(codes_have_messages_and_names) TEST_ENTRY(record_truncates_and_prefixes))
