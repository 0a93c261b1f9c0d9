/* SPDX-License-Identifier: MIT
 *
 * Large blocks that are written all over soon after they are allocated (training tables, a
 * model's unpacked rows): every 4 KB page of them faults in, and in a virtual machine a fault
 * costs 10-15 us of CPU. Where the kernel offers transparent huge pages on request, blocks of
 * 1 MB or more start on a 2 MB boundary and ask for them (a hint: nothing changes where it is
 * refused); the padding around is never touched, so it costs address space, not memory.
 * Allocated through mn_malloc (its hooks and fault injector apply); the pointer mn_malloc gave
 * is kept just below the one returned.
 */
#ifndef MN_CORE_BIG_ALLOC_H
#define MN_CORE_BIG_ALLOC_H

#include <stddef.h>

/* n * size_bytes bytes, zeroed if zero is set; NULL on overflow or when mn_malloc fails. */
void *mn__big_alloc(size_t n, size_t size_bytes, int zero);
/* Frees a block of mn__big_alloc (NULL is fine). */
void mn__big_free(void *p);

#endif
