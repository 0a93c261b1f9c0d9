/* SPDX-License-Identifier: MIT
 *
 * libFuzzer driver for src/text/tokenize.c (and the n-gram hashing that follows it in the
 * feature pipeline). Checks, for any input: tokens come in order, do not overlap, lie inside
 * the text and are not empty; no token contains White_Space; an ill-formed byte is always a
 * SYMBOL token of exactly one byte; kinds are in range; mn_tokenize(), the iterator and
 * batches (and their hashes) agree; and character n-grams of every token stay below the
 * bucket. Build and run: see tests/fuzz/README.md.
 */
#include "micronlp/text.h"

#include <stdint.h>
#include <string.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define MAX_TOKENS 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_ws(int32_t cp)
{
    return (cp >= 9 && cp <= 13) || cp == ' ' || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    static mn_token toks[MAX_TOKENS];
    static uint32_t ngrams[1 << 16];
    size_t total = mn_tokenize(s, size, toks, MAX_TOKENS);
    CHECK(total <= size);

    mn_tokenizer it;
    mn_token t;
    mn_tokenizer_init(&it, s, size);
    size_t k = 0, prev_end = 0;
    while (mn_tokenizer_next(&it, &t)) {
        CHECK(t.len > 0);
        CHECK(t.off >= prev_end);
        CHECK((size_t)t.off + t.len <= size);
        CHECK(t.kind < MN_TOK__COUNT);
        if (k < MAX_TOKENS)
            CHECK(toks[k].off == t.off && toks[k].len == t.len && toks[k].kind == t.kind);
        for (size_t i = t.off, n; i < (size_t)t.off + t.len; i += n) {
            int32_t cp;
            n = mn_utf8_decode(s + i, t.off + t.len - i, &cp);
            if (cp < 0)
                CHECK(t.len == 1 && t.kind == MN_TOK_SYMBOL);
            else
                CHECK(!is_ws(cp));
        }
        size_t m = mn_char_ngrams(s + t.off, t.len, 3, 6, 1000003, ngrams, 1 << 16);
        for (size_t i = 0; i < m && i < (1 << 16); i++)
            CHECK(ngrams[i] < 1000003);
        prev_end = (size_t)t.off + t.len;
        k++;
    }
    CHECK(k == total);
    CHECK(mn_tokenizer_next(&it, &t) == 0);

    /* Batches (of an odd size, less punctuation and symbols) hold the same tokens, hashed. */
    unsigned skip = MN_TOK_BIT(MN_TOK_PUNCT) | MN_TOK_BIT(MN_TOK_SYMBOL);
    mn_token batch[7];
    uint64_t hashes[7];
    size_t got, j = 0;
    mn_tokenizer_init(&it, s, size);
    do {
        got = mn_tokenizer_next_batch(&it, skip, s, batch, hashes, 7);
        for (size_t b = 0; b < got; b++, j++) {
            while (j < total && j < MAX_TOKENS && ((skip >> toks[j].kind) & 1))
                j++;
            CHECK(j < total);
            if (j < MAX_TOKENS)
                CHECK(toks[j].off == batch[b].off && toks[j].len == batch[b].len &&
                      toks[j].kind == batch[b].kind);
            CHECK(hashes[b] == mn_hash64(s + batch[b].off, batch[b].len));
        }
    } while (got == 7);
    for (; j < total && j < MAX_TOKENS; j++)
        CHECK((skip >> toks[j].kind) & 1);
    return 0;
}
