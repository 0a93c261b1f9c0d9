/* SPDX-License-Identifier: MIT
 *
 * The request JSON reader (src/serve/json.c). Its fast path builds jansson values in one pass
 * and leaves everything else to json_loadb(); the differential tests here check, on a table of
 * edge cases and on random mutations of typical requests, that whatever the fast path accepts
 * jansson accepts too with an equal value, and that the requests a client really sends do take
 * the fast path. The file includes json.c to reach fast_parse().
 */
#include "serve/json.c"

#include "micronlp/alloc.h"
#include "test.h"

enum { DEPTH = 32 };

/* 1: the fast path took it (and jansson agrees), 0: left to jansson, -1: they disagree. */
static int differ(const char *s, size_t len)
{
    size_t bad;
    if (mn_utf8_validate(s, len, &bad) != 0 || len == 0 || nesting_exceeds(s, len, DEPTH))
        return 0; /* mn__json_parse refuses these before either parser runs */
    json_t *quick = fast_parse(s, len, DEPTH);
    json_error_t je;
    json_t *slow = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    int rc = !quick ? 0 : slow && json_equal(quick, slow) ? 1 : -1;
    if (rc < 0)
        fprintf(stderr, "fast and jansson disagree on [%.*s] (jansson: %s)\n", (int)len, s,
                slow ? "equal? no" : je.text);
    json_decref(quick);
    json_decref(slow);
    return rc;
}

static int differ_str(const char *s)
{
    return differ(s, strlen(s));
}

TEST(fast_path_takes_real_requests)
{
    pthread_once(&alloc_once, set_alloc);
    static const char *const ok[] = {
        "{\"text\":\"Congratulations! You have been selected.\"}",
        " {\"texts\" : [\"a\", \"b\\n\\\"c\\\"\"], \"k\": 3, \"threshold\": 0.25 } \n",
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"x\"]}]}",
        "{\"text\":\"caf\\u00e9 \\ud83d\\ude00 \\u4e2d \\/\\b\\f\\r\\t\"}",
        "{\"a\":null,\"b\":true,\"c\":false,\"d\":-0,\"e\":-12.5e-3,\"f\":1E+2,\"g\":{}}",
        "[]",
        "[[[1]],{\"\":\"\"}]",
        "{\"n\":999999999999999999,\"m\":-999999999999999999,\"r\":1e-400}",
        "{\"text\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (differ_str(ok[i]) != 1)
            MN_FAIL_AT("not taken by the fast path: %s", ok[i]);
}

TEST(fast_path_leaves_errors_to_jansson)
{
    pthread_once(&alloc_once, set_alloc);
    static const char *const bad[] = {
        "{\"a\":1,\"a\":2}",         /* duplicate key */
        "{\"a\":\"\\u0000\"}",       /* NUL */
        "{\"a\\u0000\":1}",          /* NUL in a key */
        "{\"a\":\"\\ud800\"}",       /* lone high surrogate */
        "{\"a\":\"\\udc00\"}",       /* lone low surrogate */
        "{\"a\":\"\\ud800\\u0041\"}", /* high surrogate, then no low one */
        "{\"a\":\"\\x\"}",           /* unknown escape */
        "{\"a\":\"\\u12\"}",         /* short \u */
        "{\"a\":\"tab\there\"}",     /* raw control character */
        "{\"a\":1234567890123456789}", /* 19 digits */
        "{\"a\":99999999999999999999999}",
        "{\"a\":1e400}",             /* real overflow */
        "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}",
        "{\"a\":truex}", "{\"a\":nul}", "{\"a\":True}",
        "{\"a\":1,}", "[1,]", "{,}", "{\"a\"}", "{\"a\" 1}", "{1:2}", "[1 2]",
        "{\"a\":1}x", "{\"a\":1}{}", "\"text\"", "5", "true", "", "   ", "\xef\xbb\xbf{}",
        "{\"a\":\"unterminated", "{\"a\":\"\\", "[", "{", "{\"a\":[}]",
        "{\"a\":\"a\x00b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        if (strcmp(bad[i], "{\"a\":\"a") == 0)
            len = 11; /* the one with a raw NUL inside */
        int rc = differ(bad[i], len);
        if (rc != 0)
            MN_FAIL_AT("fast path %s: %s", rc > 0 ? "took" : "disagrees on", bad[i]);
    }
}

TEST(special_bytes_at_every_offset)
{
    /* The string scan goes eight bytes at a time: a control character, a quote, a backslash
     * or a UTF-8 byte at each offset of a long string, against jansson. */
    pthread_once(&alloc_once, set_alloc);
    static const char *const specials[] = {"\x01", "\x1f", "\t", "\\n", "\\\"", "\"", "\xc3\xa9", " "};
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (int at = 0; at < 40; at++) {
            char buf[128];
            int n = snprintf(buf, sizeof buf, "{\"text\":\"%.*s%s%.*s\"}", at,
                             "abcdefghijklmnopqrstuvwxyz0123456789ABCD", specials[k], 40 - at,
                             "abcdefghijklmnopqrstuvwxyz0123456789ABCD");
            if (differ(buf, (size_t)n) < 0)
                MN_FAIL_AT("disagreement on [%s]", buf);
        }
    }
}

/* xorshift: the same mutations on every run */
static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

TEST(differential_random)
{
    pthread_once(&alloc_once, set_alloc);
    static const char *const seeds[] = {
        "{\"text\":\"Win a FREE prize \\u00e9\\n now\"}",
        "{\"texts\":[\"a\",\"b\"],\"k\":2,\"threshold\":0.5}",
        "{\"inputs\":[{\"name\":\"t\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"x\",\"y\"]}],"
        "\"parameters\":{\"k\":1,\"flag\":true,\"z\":null}}",
        "[1,-2.5e3,\"\\ud83d\\ude00\",{\"\":[]},false]",
    };
    static const char alphabet[] = "{}[]\",:\\ \n0123456789-+.eEtrufalsn\x01\xc3\xa9u";
    char buf[512];
    int taken = 0, left = 0;
    for (int iter = 0; iter < 200000; iter++) {
        const char *seed = seeds[rnd(sizeof seeds / sizeof seeds[0])];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)rnd(3);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd((uint32_t)len + 1);
            char c = alphabet[rnd(sizeof alphabet - 1)];
            switch (rnd(4)) {
            case 0: /* replace */
                if (at < len)
                    buf[at] = c;
                break;
            case 1: /* insert */
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            case 2: /* delete */
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            default: /* truncate */
                len = at;
                break;
            }
        }
        int rc = differ(buf, len);
        if (rc < 0)
            MN_FAIL_AT("iteration %d: disagreement on [%.*s]", iter, (int)len, buf);
        rc ? taken++ : left++;
    }
    ASSERT(taken > 10000); /* the fast path really was exercised */
    ASSERT(left > 10000);
}

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
    /* the fast path and the arena: parse, read, free, again */
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

TEST_MAIN(TEST_ENTRY(fast_path_takes_real_requests) TEST_ENTRY(fast_path_leaves_errors_to_jansson)
              TEST_ENTRY(special_bytes_at_every_offset) TEST_ENTRY(differential_random) TEST_ENTRY(parse_errors_are_janssons)
              TEST_ENTRY(out_of_memory))
