/* SPDX-License-Identifier: MIT
 *
 * Hints to the compiler and the CPU that hot loops use, defined once. Each is a no-op (or plain
 * `inline`) on compilers without the GNU builtins. Internal to micronlp (not installed).
 */
#ifndef MN_CORE_COMPILER_H
#define MN_CORE_COMPILER_H

#if defined(__GNUC__)
/* Inlined even where the compiler's size heuristics would not, for fast paths that must be
 * part of each loop calling them (and specialised by its constant arguments). */
#define MN_ALWAYS_INLINE inline __attribute__((always_inline))
/* Asks the CPU to start loading an address that will be read soon (used where lookups are
 * scattered over tables larger than the caches) ... */
#define MN_PREFETCH(addr) __builtin_prefetch(addr)
/* ... or into the L2 cache only, for data read after many other loads. */
#define MN_PREFETCH_L2(addr) __builtin_prefetch(addr, 0, 2)
#else
#define MN_ALWAYS_INLINE inline
#define MN_PREFETCH(addr) ((void)(addr))
#define MN_PREFETCH_L2(addr) ((void)(addr))
#endif

#endif
