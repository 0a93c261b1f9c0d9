/* SPDX-License-Identifier: MIT
 *
 * Tests for src/core/alloc.c: the fault injector fails exactly from the Nth allocation on, a
 * replacement allocator sees every call, and big blocks are aligned, zeroed when asked and
 * freed whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/big_alloc.h"
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

/* Blocks of 1 MB and more start on a 2 MB boundary (so that they can be huge pages), smaller
 * ones on 16 bytes; every byte is usable (ASan checks the bounds) and zeroed when asked; an
 * overflowing size and a failing mn_malloc give NULL; mn__big_free takes NULL. */
TEST(big_blocks)
{
    static const size_t sizes[] = {1, 100, (1u << 20) - 1, 1u << 20, (2u << 20) + 3, 5u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = mn__big_alloc(n, 1, 1);
        ASSERT(p != NULL);
        size_t align = n >= (1u << 20) ? (2u << 20) : 16;
        ASSERT_EQ((uintptr_t)p % align, 0);
        size_t nonzero = 0;
        for (size_t j = 0; j < n; j++)
            nonzero += p[j] != 0;
        ASSERT_EQ(nonzero, 0);
        memset(p, 0xAB, n);
        mn__big_free(p);
    }
    uint32_t *w = mn__big_alloc(300000, sizeof *w, 0);
    ASSERT(w != NULL);
    ASSERT_EQ((uintptr_t)w % (2u << 20), 0);
    w[299999] = 7;
    mn__big_free(w);
    ASSERT(mn__big_alloc((size_t)-1 / 2, 4, 0) == NULL);
    mn_alloc_fail_after(1);
    void *f = mn__big_alloc(3u << 20, 1, 1);
    mn_alloc_fail_after(0);
    ASSERT(f == NULL);
    mn__big_free(NULL);
}

TEST_MAIN(TEST_ENTRY(fail_after_n) TEST_ENTRY(calloc_overflow_and_strndup)
              TEST_ENTRY(replacement_allocator) TEST_ENTRY(big_blocks))
