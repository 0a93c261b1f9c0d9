/* SPDX-License-Identifier: MIT
 *
 * Helpers shared by the files of the text layer (the .c files of src/text) and their tests, not part of the
 * public API. Names start with mn__ (STYLE.md section 2).
 */
#ifndef MN_TEXT_INTERNAL_H
#define MN_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point like mn_utf8_decode(), but an ill-formed sequence consumes its whole
 * "maximal subpart" (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts"; the
 * same rule as the WHATWG encoding standard and Python) and stores 0xFFFD in *cp.
 * Sets *bad to 1 for an ill-formed sequence, else 0. len must be > 0. */
size_t mn__utf8_decode_lenient(const char *s, size_t len, int32_t *cp, int *bad);

/* Hashes the concatenation a[0..alen) b[0..blen) c[0..clen) exactly as mn_hash64() hashes the
 * joined bytes, without allocating (short inputs go through a stack buffer, long ones through
 * XXH3's streaming state on the stack). Any pointer may be NULL when its length is 0. */
uint64_t mn__hash64_concat3(const void *a, size_t alen, const void *b, size_t blen,
                            const void *c, size_t clen);

#endif
