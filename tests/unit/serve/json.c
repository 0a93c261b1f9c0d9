/* SPDX-License-Identifier: MIT
 *
 * The request JSON reader (src/serve/json.c, jansson with an arena): its errors, the arena's
 * reuse, and every allocation failing in turn.
 */
#include "serve/internal.h"

#include <string.h>

#include "micronlp/alloc.h"
#include "test.h"

enum { DEPTH = 32 };

TEST(parse_errors_are_janssons)
{
    mn__arena a = {0};
    mn__json *j = NULL;
    mn_err err;
    mn_err_clear(&err);
    ASSERT_EQ(mn__json_parse(&a, "{\"a\":1,\"a\":2}", 13, DEPTH, &j, NULL, &err), MN_EFORMAT);
    ASSERT(strstr(err.msg, "malformed JSON: duplicate object key near '\"a\"'") != NULL);
    ASSERT_EQ(mn__json_parse(&a, "{\"a\":[[[[1]]]]}", 15, 3, &j, NULL, &err), MN_EFORMAT);
    ASSERT_STREQ(err.msg, "malformed JSON: nesting deeper than 3");
    /* the arena: parse, read, free, again */
    for (int i = 0; i < 3; i++) {
        const char *s = "{\"text\":\"caf\\u00e9\",\"k\":7,\"p\":0.5}";
        ASSERT_EQ(mn__json_parse(&a, s, strlen(s), DEPTH, &j, NULL, &err), 0);
        size_t n = 0;
        const char *t = mn__json_str(mn__json_get(j, "text"), &n);
        ASSERT_MEMEQ(t, n, "caf\xc3\xa9");
        ASSERT(mn__json_is_int(mn__json_get(j, "k")));
        ASSERT_NEAR(mn__json_num(mn__json_get(j, "p")), 0.5, 0);
        mn__json_free(&a, j);
        ASSERT_EQ(a.live, 0);
    }
    mn__arena_free(&a);
}

TEST(out_of_memory)
{
    /* Every allocation failing in turn: a clean MN_ENOMEM (or success), never a crash or a
     * leak (ASan builds check the latter). */
    const char *s = "{\"texts\":[\"a\\n\",\"b\"],\"k\":2,\"o\":{\"x\":[1,2.5,null]}}";
    for (int n = 1; n < 200; n++) {
        mn__json *j = NULL;
        mn_err err;
        mn_err_clear(&err);
        mn_alloc_fail_after(n);
        int rc = mn__json_parse(NULL, s, strlen(s), DEPTH, &j, NULL, &err);
        mn_alloc_fail_after(0);
        if (rc != 0 && rc != MN_ENOMEM)
            MN_FAIL_AT("allocation %d failing: %d %s", n, rc, err.msg);
        mn__json_free(NULL, j);
        if (rc == 0 && n > 1)
            break;
    }
}

TEST_MAIN(TEST_ENTRY(parse_errors_are_janssons) TEST_ENTRY(out_of_memory))
