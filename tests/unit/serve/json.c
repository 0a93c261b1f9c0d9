/* SPDX-License-Identifier: MIT
 *
 * The request JSON reader (src/serve/json.c, cJSON with an arena and checks of its own): what
 * it refuses and how it says so, the arena's reuse, and every allocation failing in turn.
 */
#include "serve/internal.h"

#include <string.h>

#include "micronlp/alloc.h"
#include "test.h"

enum { DEPTH = 32 };

TEST(parse_errors)
{
    mn__arena a = {0};
    mn__json *j = NULL;
    mn_err err;
    mn_err_clear(&err);
    ASSERT_EQ(mn__json_parse(&a, "{\"a\":1,\"a\":2}", 13, DEPTH, &j, NULL, &err), MN_EFORMAT);
    ASSERT_STREQ(err.msg, "malformed JSON: duplicate object key \"a\"");
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

/* What cJSON alone would take, refused with the place; and the lists read in any order. */
TEST(strict_where_cjson_is_lenient)
{
    mn__arena a = {0};
    mn__json *j = NULL;
    mn_err err;
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"{\"t\":\"a\tb\"}", "malformed JSON: control character in a string at line 1 column 8"},
        {"{\"t\":\"a\\u0000b\"}", "malformed JSON: \\u0000 is not allowed in a string at line 1 column 8"},
        {"{\"t\":1} 2", "malformed JSON: end of input expected at line 1 column 9"},
        {"{\"t\":1e999}", "malformed JSON: number out of range"},
        {"{\"t\":\"\\ud800\"}", NULL},       /* a lone surrogate */
        {"{\"t\":\n  [1,2,}", NULL},          /* a syntax error */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mn_err_clear(&err);
        int rc = mn__json_parse(&a, bad[i].body, strlen(bad[i].body), DEPTH, &j, NULL, &err);
        if (rc != MN_EFORMAT || strncmp(err.msg, "malformed JSON", 14) != 0 ||
            (bad[i].msg && strcmp(err.msg, bad[i].msg) != 0))
            MN_FAIL_AT("%s: %d %s", bad[i].body, rc, err.msg);
    }
    ASSERT_EQ(mn__json_parse(&a, "{\"t\":\n  [1,2,}", 14, DEPTH, &j, NULL, &err), MN_EFORMAT);
    ASSERT(strstr(err.msg, "at line 2 column") != NULL);
    /* A duplicate key among many members (the sorted check) */
    char big[2048];
    size_t n = 0;
    n += (size_t)snprintf(big + n, sizeof big - n, "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    n += (size_t)snprintf(big + n, sizeof big - n, "\"k17\":0}");
    ASSERT_EQ(mn__json_parse(&a, big, n, DEPTH, &j, NULL, &err), MN_EFORMAT);
    ASSERT_STREQ(err.msg, "malformed JSON: duplicate object key \"k17\"");
    big[n - 7] = '9'; /* "k97": no duplicate */
    big[n - 6] = '7';
    ASSERT_EQ(mn__json_parse(&a, big, n, DEPTH, &j, NULL, &err), 0);
    mn__json_free(&a, j);
    /* Lists: length, items forwards, backwards and skipping; numbers */
    const char *s = "{\"v\":[0,1,2,3,4,5,6,7,8,9],\"w\":[\"x\"],\"i\":2.0,\"f\":2.5,\"b\":true}";
    ASSERT_EQ(mn__json_parse(&a, s, strlen(s), DEPTH, &j, NULL, &err), 0);
    mn__json *v = mn__json_get(j, "v"), *w = mn__json_get(j, "w");
    ASSERT_EQ(mn__json_len(v), 10);
    ASSERT_EQ(mn__json_len(w), 1);
    ASSERT_EQ(mn__json_len(v), 10);
    for (size_t i = 0; i < mn__json_len(v); i++)
        ASSERT_NEAR(mn__json_num(mn__json_at(v, i)), (double)i, 0);
    for (size_t i = 10; i-- > 0;)
        ASSERT_NEAR(mn__json_num(mn__json_at(v, i)), (double)i, 0);
    ASSERT_NEAR(mn__json_num(mn__json_at(v, 7)), 7, 0);
    ASSERT(mn__json_at(w, 0) != NULL && mn__json_at(v, 10) == NULL && mn__json_at(w, 1) == NULL);
    ASSERT_NEAR(mn__json_num(mn__json_at(v, 3)), 3, 0);
    ASSERT(mn__json_is_int(mn__json_get(j, "i")) && !mn__json_is_int(mn__json_get(j, "f")));
    ASSERT(mn__json_bool(mn__json_get(j, "b")) && mn__json_get(j, "nope") == NULL);
    ASSERT_EQ(mn__json_type(v), MN__J_ARRAY);
    mn__json_free(&a, j);
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

TEST_MAIN(TEST_ENTRY(parse_errors) TEST_ENTRY(strict_where_cjson_is_lenient) TEST_ENTRY(out_of_memory))
