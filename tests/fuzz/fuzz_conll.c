/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the tagged-corpus reader (src/models/conll.c) and, on the same bytes, the
 * sentence splitter (src/text/sentence.c). Invariants: any bytes load or are refused with a
 * message; a loaded corpus has tokens inside its text with tag indices in range, no empty
 * sentence and none over 10,000 tokens; entity corpora hold only O, B-X and I-X tags and no
 * I-X right after O; sentences are ordered, non-empty byte ranges inside the input.
 */
#include <stdint.h>
#include <string.h>

#include "micronlp/models.h"
#include "micronlp/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int fmt = MN_TAG_FORMAT_AUTO; fmt <= MN_TAG_FORMAT_CONLL; fmt++) {
        mn_tagged_corpus *c = NULL;
        mn_err err;
        mn_err_clear(&err);
        unsigned flags = size && (data[0] & 1) ? MN_TAGS_SIMPLIFY : 0;
        if (mn_tagged_corpus_parse((const char *)data, size, "fuzz", (mn_tag_format)fmt, flags, &c,
                                   &err) != 0) {
            if (err.msg[0] == '\0') __builtin_trap(); /* every refusal says why */
            continue;
        }
        uint32_t nl = mn_tagged_corpus_label_count(c);
        int bio = 1;
        for (uint32_t k = 0; k < nl; k++) {
            const char *l = mn_tagged_corpus_label(c, k);
            if (!(strcmp(l, "O") == 0 || ((l[0] == 'B' || l[0] == 'I') && l[1] == '-' && l[2])))
                bio = 0;
        }
        for (size_t i = 0; i < mn_tagged_corpus_sentence_count(c); i++) {
            size_t n = mn_tagged_corpus_sentence_len(c, i);
            if (n == 0 || n > 10000) __builtin_trap();
            const char *prev = "O";
            for (size_t j = 0; j < n; j++) {
                const char *w;
                size_t l;
                uint32_t t;
                mn_tagged_corpus_token(c, i, j, &w, &l, &t);
                if (t >= nl || l == 0) __builtin_trap();
                const char *tag = mn_tagged_corpus_label(c, t);
                if (bio && fmt == MN_TAG_FORMAT_CONLL) {
                    if (!(strcmp(tag, "O") == 0 || tag[0] == 'B' || tag[0] == 'I'))
                        __builtin_trap();
                    if (tag[0] == 'I' && strcmp(prev, "O") == 0) __builtin_trap();
                }
                prev = tag;
            }
        }
        mn_tagged_corpus_free(c);
    }
    mn_sentencer st;
    mn_sentence s;
    size_t end = 0;
    mn_sentencer_init(&st, (const char *)data, size);
    while (mn_sentencer_next(&st, &s)) {
        if (s.off < end || s.len == 0 || (size_t)s.off + s.len > size) __builtin_trap();
        end = s.off + s.len;
    }
    return 0;
}
