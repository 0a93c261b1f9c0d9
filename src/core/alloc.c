/* SPDX-License-Identifier: MIT
 *
 * Allocation hooks and the fault injector used by tests (see tests/unit/core/alloc.c).
 */
#include "micronlp/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static mn_allocator current = {malloc, realloc, free};
static atomic_long fail_at;   /* 0: never fail; else fail when count reaches it */
static atomic_long count;     /* allocations since last mn_alloc_fail_after() */

static int should_fail(void)
{
    long n = atomic_fetch_add(&count, 1) + 1;
    long f = atomic_load(&fail_at);
    return f > 0 && n >= f;
}

void *mn_malloc(size_t size_bytes)
{
    if (should_fail())
        return NULL;
    return current.malloc_fn(size_bytes ? size_bytes : 1);
}

void *mn_calloc(size_t n, size_t size_bytes)
{
    if (size_bytes && n > (size_t)-1 / size_bytes)
        return NULL;
    size_t total = n * size_bytes;
    void *p = mn_malloc(total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *mn_realloc(void *ptr, size_t size_bytes)
{
    if (should_fail())
        return NULL;
    return current.realloc_fn(ptr, size_bytes ? size_bytes : 1);
}

void mn_free(void *ptr)
{
    if (ptr)
        current.free_fn(ptr);
}

char *mn_strndup(const char *s, size_t len)
{
    char *p = mn_malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void mn_allocator_set(const mn_allocator *a)
{
    if (a)
        current = *a;
    else
        current = (mn_allocator){malloc, realloc, free};
}

long mn_alloc_fail_after(long nth)
{
    long made = atomic_exchange(&count, 0);
    atomic_store(&fail_at, nth);
    return made;
}
