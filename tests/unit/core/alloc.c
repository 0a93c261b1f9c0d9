/* SPDX-License-Identifier: MIT
 *
 * Tests for src/core/alloc.c: the fault injector fails exactly from the Nth allocation on, and a
 * replacement allocator sees every call.
 */
#include <stdlib.h>

#include "micronlp/alloc.h"
#include "test.h"

TEST(fail_after_n)
{
    mn_alloc_fail_after(3);
    void *a = mn_malloc(8), *b = mn_calloc(2, 8), *c = mn_malloc(8), *d = mn_realloc(NULL, 4);
    mn_alloc_fail_after(0);
    ASSERT(a && b);
    ASSERT(c == NULL && d == NULL);
    mn_free(a);
    mn_free(b);
    ASSERT_EQ(mn_alloc_fail_after(0), 0);
    void *e = mn_malloc(1);
    ASSERT(e != NULL);
    mn_free(e);
    ASSERT_EQ(mn_alloc_fail_after(0), 1);
}

TEST(calloc_overflow_and_strndup)
{
    ASSERT(mn_calloc((size_t)-1 / 2, 4) == NULL);
    char *s = mn_strndup("hello world", 5);
    ASSERT_STREQ(s, "hello");
    mn_free(s);
    mn_free(NULL);
}

static int calls;
static void *counting_malloc(size_t n)
{
    calls++;
    return malloc(n);
}

TEST(replacement_allocator)
{
    mn_allocator a = {counting_malloc, realloc, free};
    mn_allocator_set(&a);
    void *p = mn_malloc(16);
    mn_allocator_set(NULL);
    ASSERT_EQ(calls, 1);
    free(p);
}

TEST_MAIN(TEST_ENTRY(fail_after_n) TEST_ENTRY(calloc_overflow_and_strndup)
              TEST_ENTRY(replacement_allocator))
