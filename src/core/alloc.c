/* SPDX-License-Identifier: MIT
 *
 * Allocation hooks and the fault injector used by tests (see tests/unit/core/alloc.c), and
 * large blocks that ask for huge pages (core/big_alloc.h).
 */
/* madvise(MADV_HUGEPAGE) is a Linux extension, hidden by the project-wide _POSIX_C_SOURCE. */
#if defined(__linux__)
#define _DEFAULT_SOURCE
#endif
#include "micronlp/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/big_alloc.h"

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

enum { HUGE_BYTES = 2u << 20 };

void *mn__big_alloc(size_t n, size_t size_bytes, int zero)
{
    if (size_bytes && n > ((size_t)-1 - 3 * (size_t)HUGE_BYTES) / size_bytes)
        return NULL;
    size_t bytes = n * size_bytes;
    size_t align = bytes >= HUGE_BYTES / 2 ? HUGE_BYTES : 16;
    size_t span = (bytes + align - 1) & ~(align - 1); /* whole huge pages */
    char *raw = mn_malloc(span + align + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t a = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
    void *p = (void *)a;
    memcpy((char *)p - sizeof(void *), &raw, sizeof raw);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == HUGE_BYTES)
        (void)madvise(p, span, MADV_HUGEPAGE);
#endif
    if (zero)
        memset(p, 0, bytes);
    return p;
}

void mn__big_free(void *p)
{
    if (!p)
        return;
    void *raw;
    memcpy(&raw, (char *)p - sizeof(void *), sizeof raw);
    mn_free(raw);
}
