/* SPDX-License-Identifier: MIT
 *
 * What the tagger's files share (tagger.c, tagger_train.c, tagger_eval.c, conll.c): the
 * in-memory tagged corpus, BIO label parsing and conlleval chunking, and the feature
 * extraction that training and tagging must do identically.
 */
#ifndef MN_MODELS_TAGGER_H
#define MN_MODELS_TAGGER_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "internal.h"

enum { MN_TAGGER_MAX_SENTENCE = 10000 }; /* tokens per sentence in a corpus file */

typedef struct mn_ctoken {
    uint32_t off, len; /* word bytes in the corpus text */
    uint32_t tag;      /* label index */
} mn_ctoken;

struct mn_tagged_corpus {
    char *text; /* owned copy of the input; words point into it */
    size_t text_len;
    mn_ctoken *tok;
    size_t ntok;
    size_t *sent; /* nsent + 1 token indices: sentence i is [sent[i], sent[i + 1]) */
    size_t nsent;
    char **labels;
    uint32_t nlabels;
    uint64_t hash;
};

/* ---- BIO ---- */

enum { MN_BIO_O = 0, MN_BIO_B = 1, MN_BIO_I = 2, MN_BIO_OTHER = 3 };

/* Parses a tag: "O" -> O; "B-X"/"I-X" -> B/I with the type X at *type (len *type_len); any
 * other tag -> OTHER (not an entity tag; it ends spans like O). */
int mn__bio_parse(const char *tag, const char **type, size_t *type_len);

/* One span found by mn__bio_chunks: tokens [first, first + count), type id. */
typedef struct mn_chunk {
    uint32_t first, count, type;
} mn_chunk;

/* Chunks a tag sequence with conlleval's rules, given per-label kind (MN_BIO_*) and type id.
 * Writes min(found, cap) chunks and returns the number found. */
size_t mn__bio_chunks(const uint32_t *tags, size_t n, const uint8_t *kind, const uint32_t *type,
                      mn_chunk *out, size_t cap);

/* ---- features ---- */

/* Static features per token (dynamic ones use the tags already chosen). */
enum { MN_TAGGER_NSTATIC = 24, MN_TAGGER_NDYN = 3 };

/* Computes the static feature buckets of n tokens (words[i], lens[i]) into
 * feats[i * MN_TAGGER_NSTATIC ...], bucket ids masked with mask. buf is scratch of at least
 * 4 * total word bytes + 16 * n + 64 bytes for lower-cased forms. */
void mn__tagger_static(const char *const *words, const size_t *lens, size_t n, uint32_t mask,
                       char *buf, size_t buf_cap, uint32_t *feats);
size_t mn__tagger_buf_bytes(const size_t *lens, size_t n);

/* Dynamic feature buckets of token i given the previous two tags (ntags = start marker). */
void mn__tagger_dynamic(uint32_t p1, uint32_t p2, uint64_t lower_hash, uint32_t mask,
                        uint32_t *out);

#endif
