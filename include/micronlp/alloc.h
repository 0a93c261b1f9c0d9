/* SPDX-License-Identifier: MIT
 *
 * All allocation in micronlp goes through these hooks, so an application can plug in its own
 * allocator and tests can make the Nth allocation fail to prove every error path is clean.
 */
#ifndef MICRONLP_ALLOC_H
#define MICRONLP_ALLOC_H

#include <stddef.h>

void *mn_malloc(size_t size_bytes);
void *mn_calloc(size_t count, size_t size_bytes);
/* Like realloc(3): on failure returns NULL and leaves ptr untouched. */
void *mn_realloc(void *ptr, size_t size_bytes);
void mn_free(void *ptr);
/* Copies len bytes and adds a NUL. */
char *mn_strndup(const char *s, size_t len);

typedef struct mn_allocator {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
} mn_allocator;

/* Replaces the allocator (NULL restores the C library's). Call before any other micronlp call;
 * not thread-safe. */
void mn_allocator_set(const mn_allocator *a);

/* Test hook: the nth allocation from now on (1-based) and every later one fail; 0 disables.
 * Returns the number of allocations made since the last call (to size fault-injection loops). */
long mn_alloc_fail_after(long nth);

#endif
