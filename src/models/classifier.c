/* SPDX-License-Identifier: MIT
 *
 * The text classifier at prediction time: turning a text into feature rows, scoring them, and
 * the file sections that hold a trained classifier. Training is in classifier_train.c,
 * shrinking in quantize.c. See classifier.h for the row layout.
 *
 * A loaded classifier points straight into the mapped file: the matrices are used in place, so
 * loading costs a checksum pass plus building the small word index, and every process that maps
 * the same file shares one copy of the weights through the page cache. (6-bit input rows are
 * the exception: they are unpacked at load into the model's own 8-bit rows, read_packed_input.)
 */
#include "classifier.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* AVX2 versions of the hot loops, compiled for AVX2 function by function (the rest of the
 * library stays baseline x86-64) and chosen at run time from the CPU's flags. */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#define MN_CLF_AVX2 1
#include <immintrin.h>
#define AVX2_FN __attribute__((target("avx2")))
#endif

#include "core/big_alloc.h"
#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "packing.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "micronlp model files store floats little-endian; big-endian hosts need a byte-swapping loader"
#endif

#define TAG_PARAMS MN_TAG('C', 'L', 'S', 'H')
#define TAG_VOCAB MN_TAG('V', 'O', 'C', 'B')
#define TAG_BUCKETS MN_TAG('B', 'K', 'T', 'S')
#define TAG_EMB MN_TAG('E', 'M', 'B', 'D')
#define TAG_EMBQ MN_TAG('E', 'M', 'B', 'Q')
#define TAG_EMBS MN_TAG('E', 'M', 'B', 'S')
#define TAG_OUT MN_TAG('O', 'U', 'T', 'M')
#define TAG_OUTQ MN_TAG('O', 'U', 'T', 'Q')
#define TAG_OUTS MN_TAG('O', 'U', 'T', 'S')
#define TAG_TREE MN_TAG('T', 'R', 'E', 'E')
#define TAG_BUCKETS_GAPS MN_TAG('B', 'K', 'T', 'V')
#define TAG_EMB6 MN_TAG('E', 'M', 'B', '6')
#define TAG_EMBH MN_TAG('E', 'M', 'B', 'H')

/* Scratch slots used by the classifier (langid, which runs one inside, keeps 4 and 5). */
enum {
    SLOT_ROWS = 0,
    SLOT_HASHES = 1,
    SLOT_NORM = 2,
    SLOT_FLOATS = 3,
    SLOT_FOLD = 6,
    SLOT_NGRAM_MEMO = 7
};

/* ---- lookup tables ---------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint64_t n)
{
    uint64_t p = 16;
    while (p < n)
        p <<= 1;
    return (uint32_t)p;
}

/* Builds c->rank_lines over the sorted kept buckets (see mn_clf_rank_line). */
static int build_rank_lines(mn_classifier *c, size_t nlines)
{
    /* 63 bytes more than the lines, so that they can start on a cache line */
    unsigned char *mem = mn_calloc(nlines + 1, sizeof(mn_clf_rank_line));
    if (!mem)
        return MN_ENOMEM;
    mn_clf_rank_line *lines = (mn_clf_rank_line *)(void *)(mem + (-(uintptr_t)mem & 63));
    for (uint32_t i = 0; i < c->p.nbuckets; i++) {
        uint32_t b = c->buckets[i];
        lines[b / MN_CLF_RANK_IDS].bits[b % MN_CLF_RANK_IDS / 64] |= (uint64_t)1 << (b % 64);
    }
    uint32_t row = c->p.nwords;
    for (size_t l = 0; l < nlines; l++) {
        lines[l].rows_before = row;
        uint32_t before = 0;
        for (int w = 0; w < MN_CLF_RANK_WORDS; w++) {
            lines[l].before[w] = (uint16_t)before;
            for (uint64_t x = lines[l].bits[w]; x; x &= x - 1)
                before++;
        }
        row += before;
    }
    c->rank_mem = mem;
    c->rank_lines = lines;
    return 0;
}

int mn__clf_index(mn_classifier *c)
{
    mn_free(c->word_slots);
    mn_free(c->bucket_slots);
    mn_free(c->rank_mem);
    c->word_slots = NULL;
    c->bucket_slots = NULL;
    c->rank_mem = NULL;
    c->rank_lines = NULL;
    uint32_t n = pow2_at_least((uint64_t)c->p.nwords * 2);
    c->word_slots = mn_calloc(n, sizeof *c->word_slots);
    if (!c->word_slots)
        return MN_ENOMEM;
    c->word_mask = n - 1;
    /* In vocabulary order, so that of two equal hashes the first word wins, as it always did. */
    for (uint32_t i = 0; i < c->p.nwords; i++) {
        uint32_t j = (uint32_t)c->vocab[i] & c->word_mask;
        while (c->word_slots[j].row)
            j = (j + 1) & c->word_mask;
        c->word_slots[j] = (mn_clf_word_slot){.hash = c->vocab[i], .row = i + 1};
    }
    if (!c->p.pruned)
        return 0;
    /* The rank lines grow with the bucket ids, the hash table with the kept buckets: take the
     * smaller (the lines, for every shipped model). */
    size_t nlines = ((size_t)c->p.bucket + MN_CLF_RANK_IDS - 1) / MN_CLF_RANK_IDS;
    n = pow2_at_least((uint64_t)c->p.nbuckets * 2);
    if (nlines * sizeof(mn_clf_rank_line) <= (size_t)n * sizeof *c->bucket_slots)
        return build_rank_lines(c, nlines);
    c->bucket_slots = mn_calloc(n, sizeof *c->bucket_slots);
    if (!c->bucket_slots)
        return MN_ENOMEM;
    c->bucket_mask = n - 1;
    for (uint32_t i = 0; i < c->p.nbuckets; i++) {
        uint32_t j = (c->buckets[i] * 2654435761u) & c->bucket_mask;
        while (c->bucket_slots[j].row)
            j = (j + 1) & c->bucket_mask;
        c->bucket_slots[j] =
            (mn_clf_bucket_slot){.bucket = c->buckets[i], .row = 1 + c->p.nwords + i};
    }
    return 0;
}

/* Row of a word hash in the table slots[0..mask] (c->word_slots, c->word_mask, passed in so
 * a loop of lookups keeps them in registers), or 0 if the word is not in the vocabulary. */
static inline uint32_t word_row(const mn_clf_word_slot *slots, uint32_t mask, uint64_t h)
{
    for (uint32_t j = (uint32_t)h & mask;; j = (j + 1) & mask) {
        const mn_clf_word_slot *w = &slots[j];
        if (!w->row || w->hash == h)
            return w->row;
    }
}

/* Row of a bucket id in a pruned model's hash table slots[0..mask] (c->bucket_slots,
 * c->bucket_mask, passed in so a loop of lookups keeps them in registers), or 0 if the model
 * dropped it. */
static inline uint32_t bucket_row(const mn_clf_bucket_slot *slots, uint32_t mask, uint32_t b)
{
    for (uint32_t j = (b * 2654435761u) & mask;; j = (j + 1) & mask) {
        const mn_clf_bucket_slot *k = &slots[j];
        if (!k->row || k->bucket == b)
            return k->row;
    }
}

#if defined(MN_CLF_AVX2)
#define POPCNT_FN __attribute__((target("popcnt,bmi2")))
#endif

/* Row of bucket id b through the rank lines (see mn_clf_rank_line), and in *kept 1 if the
 * model has it, 0 if it dropped it (the row is then meaningless). Shifting b's bit to the top
 * of the word leaves the set bits at or below it: the count is its rank in the word plus one,
 * which rows_before allows for, and the top bit is whether it is kept. Inlined into callers
 * built with and without the popcnt instruction. */
static MN_ALWAYS_INLINE uint32_t ranked_row(const mn_clf_rank_line *lines, uint32_t b,
                                            uint32_t *kept)
{
    const mn_clf_rank_line *l = &lines[b / MN_CLF_RANK_IDS];
    unsigned w = b % MN_CLF_RANK_IDS / 64;
    uint64_t upto = l->bits[w] << (63 - b % 64);
    *kept = (uint32_t)(upto >> 63);
    return l->rows_before + l->before[w] + (uint32_t)__builtin_popcountll(upto);
}

/* How many lookups ahead to prefetch: enough to cover a memory round trip, measured on the
 * SpamAssassin benchmark (docs/BENCHMARKS.md). */
#define LOOKAHEAD 8

/* map_buckets_to through the rank lines: bucket ids rows[from..to), whose lines were asked
 * for earlier (prefetch_bucket_lines), become rows written from rows[dest] on (dest <= from).
 * Each row found is asked into L2 (rows_at + row * row_bytes), to be there when hidden_of sums
 * the text's rows; a dropped bucket's row is one of the next, or just past the matrix, where a
 * prefetch does no harm. With the caches cleared between texts, as the other steps of a
 * pipeline do, the two prefetches took the lang step from 20.5 to 18.8 us a text; without,
 * from 16.5 to 16.2. */
static MN_ALWAYS_INLINE size_t map_ranked(const mn_clf_rank_line *lines, const char *rows_at,
                                          size_t row_bytes, const float *scales, uint32_t *rows,
                                          size_t from, size_t to, size_t dest)
{
    size_t w = dest;
    for (size_t i = from; i < to; i++) {
        uint32_t kept;
        uint32_t r = ranked_row(lines, rows[i], &kept);
        MN_PREFETCH_L2(rows_at + r * row_bytes); /* a dropped bucket's r is a row nearby */
        MN_PREFETCH_L2(scales + r);
        rows[w] = r;
        w += kept; /* kept or not is a coin toss: no branch */
    }
    return w;
}

static size_t map_ranked_plain(const mn_clf_rank_line *lines, const char *rows_at,
                               size_t row_bytes, const float *scales, uint32_t *rows,
                               size_t from, size_t to, size_t dest)
{
    return map_ranked(lines, rows_at, row_bytes, scales, rows, from, to, dest);
}

#if defined(POPCNT_FN)
static POPCNT_FN size_t map_ranked_popcnt(const mn_clf_rank_line *lines, const char *rows_at,
                                          size_t row_bytes, const float *scales, uint32_t *rows,
                                          size_t from, size_t to, size_t dest)
{
    return map_ranked(lines, rows_at, row_bytes, scales, rows, from, to, dest);
}
#endif

/* ---- features ----------------------------------------------------------------------------- */

/* Asks for the rank lines of the bucket ids rows[from..to) (a pruned model's; other lookups
 * prefetch as they go). A word's n-grams are a dozen to a few dozen lookups, whose lines are
 * all asked for at once, so that their misses overlap. */
static void prefetch_bucket_lines(const mn_classifier *c, const uint32_t *rows, size_t from,
                                  size_t to)
{
    const mn_clf_rank_line *lines = c->rank_lines;
    if (!lines)
        return;
    for (size_t i = from; i < to; i++)
        MN_PREFETCH(&lines[rows[i] / MN_CLF_RANK_IDS]);
}

/* Replaces the bucket ids rows[from..to) by their rows, written from rows[dest] on (dest <=
 * from), dropping buckets a pruned model does not have. Returns the new end. */
static size_t map_buckets_to(const mn_classifier *c, uint32_t *rows, size_t from, size_t to,
                             size_t dest)
{
    size_t w = dest;
    if (!c->p.pruned) {
        uint32_t first = 1 + c->p.nwords; /* in a register: rows could alias c */
        for (size_t i = from; i < to; i++)
            rows[w++] = rows[i] + first;
        return w;
    }
    if (c->rank_lines) {
        const char *at = c->in.q ? (const char *)c->in.q : (const char *)c->in.f;
        size_t row_bytes = (size_t)c->in.dim * (c->in.q ? 1 : sizeof(float));
        /* an 8-bit row's scale too: hidden_of reads it with the row (float rows: the row's
         * first floats again, a prefetch that costs nothing) */
        const float *scales = c->in.q ? c->in.scale : c->in.f;
#if defined(POPCNT_FN)
        if (__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2"))
            return map_ranked_popcnt(c->rank_lines, at, row_bytes, scales, rows, from, to,
                                     dest);
#endif
        return map_ranked_plain(c->rank_lines, at, row_bytes, scales, rows, from, to, dest);
    }
    const mn_clf_bucket_slot *slots = c->bucket_slots;
    uint32_t mask = c->bucket_mask;
    size_t i = from;
    for (; i + LOOKAHEAD < to; i++) {
        MN_PREFETCH(&slots[(rows[i + LOOKAHEAD] * 2654435761u) & mask]);
        uint32_t r = bucket_row(slots, mask, rows[i]);
        rows[w] = r;
        w += r != 0; /* kept or not is a coin toss: no branch */
    }
    for (; i < to; i++) {
        uint32_t r = bucket_row(slots, mask, rows[i]);
        rows[w] = r;
        w += r != 0;
    }
    return w;
}

/* map_buckets_to in place, the lines asked for first. */
static size_t map_buckets(const mn_classifier *c, uint32_t *rows, size_t from, size_t to)
{
    prefetch_bucket_lines(c, rows, from, to);
    return map_buckets_to(c, rows, from, to, from);
}

/* Normalises one token into the scratch; returns the bytes to hash (maybe the token itself). */
static int norm_token(unsigned flags, mn_scratch *s, const char *tok, size_t len,
                      const char **out, size_t *out_len)
{
    if (!flags) {
        *out = tok;
        *out_len = len;
        return 0;
    }
    size_t cap = len * 4 + 16;
    for (int tries = 0; tries < 2; tries++) {
        char *buf = mn__scratch_reserve(s, SLOT_NORM, cap);
        if (!buf)
            return MN_ENOMEM;
        size_t need = 0;
        int rc = mn_normalize(tok, len, flags, buf, cap, &need);
        if (rc == 0) {
            *out = buf;
            *out_len = need;
            return 0;
        }
        if (rc != MN_ETOOBIG)
            return rc;
        cap = need + 16;
    }
    return MN_ENOMEM;
}

#define HI_BITS 0x8080808080808080ull
/* The 8 bytes at p. */
static inline uint64_t load8(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The token text[off .. off+len), 1 <= len <= 8, in the low bytes of a word, zeros above. One
 * load of an 8-byte window of the text that holds the token (when the text has 8 bytes), so
 * no byte outside the text is read. */
static inline uint64_t load_token8(const unsigned char *text, size_t text_len, size_t off,
                                   size_t len)
{
    uint64_t v = 0;
    if (text_len >= 8) {
        size_t w = off + 8 <= text_len ? off : text_len - 8;
        v = load8(text + w) >> (8 * (off - w));
    } else {
        memcpy(&v, text + off, len);
    }
    return len < 8 ? v & ((1ull << (8 * len)) - 1) : v;
}

/* True if the token text[off .. off+len), len >= 1, is all ASCII. */
static inline int ascii_token(const unsigned char *text, size_t text_len, size_t off,
                              size_t len)
{
    if (len <= 8)
        return !(load_token8(text, text_len, off, len) & HI_BITS);
    /* 8-byte chunks, the last one overlapping the one before */
    const unsigned char *p = text + off;
    uint64_t any = load8(p + len - 8);
    for (size_t i = 0; i < len - 8; i += 8)
        any |= load8(p + i);
    return !(any & HI_BITS);
}

/* Copies text[0..len) to out (which may be text itself) with ASCII capitals lower-cased (if
 * upper) and digits 1-9 made 0 (if digits), other bytes unchanged, and returns 1 if the text is
 * all ASCII. Most tokens are
 * ASCII, which NFKC and mark stripping leave alone and case folding only lower-cases
 * (mn_normalize's own ASCII path does the same), so their normalised bytes are read from this
 * copy, at the token's own offsets. */
static MN_ALWAYS_INLINE int fold_ascii_as(const char *text, size_t len, char *out, int upper,
                                          int digits)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned char *o = (unsigned char *)out;
    unsigned any = 0;
    size_t i = 0;
#if defined(__SSE2__)
    __m128i hi = _mm_setzero_si128();
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        hi = _mm_or_si128(hi, x);
        /* c - 'A' < 26 unsigned, as a signed compare after moving 'A' to -128 */
        if (upper) {
            __m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - 'A'))),
                                        _mm_set1_epi8((char)(-128 + 26)));
            x = _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20)));
        }
        if (digits) { /* c - '1' < 9: clear to '0' (0x30), which '1'..'9' all contain */
            __m128i dg = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '1'))),
                                        _mm_set1_epi8((char)(-128 + 9)));
            x = _mm_andnot_si128(_mm_and_si128(dg, _mm_set1_epi8(0x0F)), x);
        }
        _mm_storeu_si128((__m128i *)(void *)(o + i), x);
    }
    any = (unsigned)_mm_movemask_epi8(hi);
#endif
    for (; i < len; i++) {
        unsigned c = s[i];
        any |= c & 0x80;
        if (upper && c - 'A' < 26u)
            c |= 0x20;
        if (digits && c - '1' < 9u)
            c = '0';
        o[i] = (unsigned char)c;
    }
    return !any;
}


/* Extends CJK token tok over the CJK tokens that follow it with nothing between them
 * (MN_TOKENS_CJK_RUNS); the tokenizer is left after the run. */
static void join_cjk_run(mn_tokenizer *t, mn_token *tok)
{
    mn_token next;
    size_t pos = t->pos;
    while (mn_tokenizer_next(t, &next) && next.kind == MN_TOK_CJK &&
           next.off == tok->off + tok->len) {
        tok->len += next.len;
        pos = t->pos;
    }
    t->pos = pos;
}

/* The feature tokens of a text: the Unicode tokenizer's tokens less punctuation and symbols,
 * unless token_flags asks otherwise. pos is the tokenizer or, in whitespace mode, a byte
 * offset kept in t->pos. */
static inline int next_token(unsigned token_flags, mn_tokenizer *t, mn_token *tok)
{
    if (token_flags & MN_TOKENS_WHITESPACE) {
        size_t i = t->pos, len = t->len;
        const char *s = t->text;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
                           s[i] == '\v' || s[i] == '\f'))
            i++;
        if (i >= len)
            return 0;
        size_t j = i;
        while (j < len && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' ||
                             s[j] == '\v' || s[j] == '\f'))
            j++;
        *tok = (mn_token){.off = (uint32_t)i, .len = (uint32_t)(j - i), .kind = MN_TOK_WORD};
        t->pos = j;
        return 1;
    }
    while (mn_tokenizer_next(t, tok))
        if ((token_flags & MN_TOKENS_KEEP_PUNCT) ||
            (tok->kind != MN_TOK_PUNCT && tok->kind != MN_TOK_SYMBOL)) {
            if ((token_flags & MN_TOKENS_CJK_RUNS) && tok->kind == MN_TOK_CJK)
                join_cjk_run(t, tok);
            return 1;
        }
    return 0;
}

/* Joins each run of adjacent CJK tokens in a batch out[0..n) of cap into one token, hashed
 * again from src, and returns the tokens left. A run that ends a full batch may go on in the
 * next: it is left out and the tokenizer set back to its start, or, when it is the whole
 * batch, extended by join_cjk_run. */
static size_t join_cjk_runs(mn_tokenizer *t, const char *src, mn_token *out, uint64_t *hashes,
                            size_t n, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0, j; i < n; i = j, k++) {
        j = i + 1;
        if (out[i].kind == MN_TOK_CJK)
            while (j < n && out[j].kind == MN_TOK_CJK &&
                   out[j].off == out[j - 1].off + out[j - 1].len)
                j++;
        out[k] = out[i];
        hashes[k] = hashes[i];
        if (j > i + 1) {
            out[k].len = out[j - 1].off + out[j - 1].len - out[i].off;
            hashes[k] = mn_hash64(src + out[k].off, out[k].len);
        }
    }
    if (n == cap && k > 0 && out[k - 1].kind == MN_TOK_CJK) {
        if (k > 1) {
            t->pos = out[--k].off;
        } else {
            uint32_t len = out[0].len;
            join_cjk_run(t, &out[0]);
            if (out[0].len != len)
                hashes[0] = mn_hash64(src + out[0].off, out[0].len);
        }
    }
    return k;
}

/* Up to cap next feature tokens (next_token's) into out, with hashes[i] the mn_hash64 of
 * their bytes in src (the text or a copy with the same offsets); none means the text is done
 * (fewer than cap does not: CJK runs are joined after a batch is cut). */
static size_t next_hashed(unsigned token_flags, mn_tokenizer *t, const char *src, mn_token *out,
                          uint64_t *hashes, size_t cap)
{
    if (!(token_flags & MN_TOKENS_WHITESPACE)) {
        unsigned skip = (token_flags & MN_TOKENS_KEEP_PUNCT)
                            ? 0
                            : MN_TOK_BIT(MN_TOK_PUNCT) | MN_TOK_BIT(MN_TOK_SYMBOL);
        size_t n = mn_tokenizer_next_batch(t, skip, src, out, hashes, cap);
        return (token_flags & MN_TOKENS_CJK_RUNS) ? join_cjk_runs(t, src, out, hashes, n, cap) : n;
    }
    size_t n = 0;
    for (; n < cap && next_token(token_flags, t, &out[n]); n++)
        hashes[n] = mn_hash64(src + out[n].off, out[n].len);
    return n;
}

/* Tokens cut and hashed per call. */
#define TOKEN_BATCH 256

/* Where a text's tokens are hashed from: the text itself, or its lower-cased copy
 * (fold_ascii_as) when case folding, in which an ASCII token is already its normal form, at the
 * same offsets; *all_ascii when no token needs mn_normalize. With MN_TOKENS_FOLD_DIGITS the
 * copy (made even without case folding) has its digits folded too. */
static int hash_source(unsigned norm_flags, unsigned token_flags, mn_scratch *s,
                       const char *text, size_t len, const char **src, int *all_ascii)
{
    *src = text;
    *all_ascii = !norm_flags;
    int digits = (token_flags & MN_TOKENS_FOLD_DIGITS) != 0;
    if ((norm_flags & MN_NORM_CASEFOLD) || digits) {
        char *f = mn__scratch_reserve(s, SLOT_FOLD, len + 1);
        if (!f)
            return MN_ENOMEM;
        /* constant arguments, so that each call gets its own loop */
        if (!(norm_flags & MN_NORM_CASEFOLD))
            (void)fold_ascii_as(text, len, f, 0, 1); /* *all_ascii stays !norm_flags */
        else if (digits)
            *all_ascii = fold_ascii_as(text, len, f, 1, 1);
        else
            *all_ascii = fold_ascii_as(text, len, f, 1, 0);
        *src = f;
    }
    return 0;
}

/* Token tok's normalised bytes and their hash: as next_hashed gave them from src for an ASCII
 * token, else norm_token's output (digits folded if asked: it is the scratch's own copy, since
 * a text with norm_flags 0 has all_ascii set), hashed again. */
static int token_word(unsigned norm_flags, unsigned token_flags, mn_scratch *s,
                      const char *text, size_t len, const char *src, int all_ascii,
                      const mn_token *tok, const char **w, size_t *wl, uint64_t *h)
{
    *w = src + tok->off;
    *wl = tok->len;
    if (all_ascii || ascii_token((const unsigned char *)text, len, tok->off, tok->len))
        return 0;
    int rc = norm_token(norm_flags, s, text + tok->off, tok->len, w, wl);
    if (rc == 0) {
        if (token_flags & MN_TOKENS_FOLD_DIGITS) /* in place: the copy is the scratch's */
            (void)fold_ascii_as(*w, *wl, (char *)(uintptr_t)*w, 0, 1);
        *h = mn_hash64(*w, *wl);
    }
    return rc;
}

/* ---- the text's shape (MN_TOKENS_SHAPE) -------------------------------------------------- */

enum { SHAPE_FEATURES = 5 };

/* What the shape features are made of: the text's sentence ends and whether it has non-ASCII
 * bytes (shape_begin, one pass), and its feature tokens' code points (shape_add each). */
typedef struct shape_stats {
    uint64_t code_points;
    uint64_t ends; /* '.', '!' and '?' bytes */
    int non_ascii;
} shape_stats;

static void shape_begin(shape_stats *st, const char *text, size_t len)
{
    const unsigned char *u = (const unsigned char *)text;
    uint64_t ends = 0;
    unsigned hi = 0;
    size_t i = 0;
#if defined(__SSE2__)
    __m128i any = _mm_setzero_si128(), sums = _mm_setzero_si128();
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        any = _mm_or_si128(any, x);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')),
                                              _mm_cmpeq_epi8(x, _mm_set1_epi8('!'))),
                                 _mm_cmpeq_epi8(x, _mm_set1_epi8('?')));
        /* the matches as 1s, summed into two 64-bit lanes */
        sums = _mm_add_epi64(sums, _mm_sad_epu8(_mm_and_si128(m, _mm_set1_epi8(1)),
                                                _mm_setzero_si128()));
    }
    uint64_t lane[2];
    memcpy(lane, &sums, sizeof lane);
    ends = lane[0] + lane[1];
    hi = (unsigned)_mm_movemask_epi8(any);
#endif
    for (; i < len; i++) {
        hi |= u[i] & 0x80u;
        ends += (uint64_t)(u[i] == '.') + (u[i] == '!') + (u[i] == '?');
    }
    *st = (shape_stats){.ends = ends, .non_ascii = hi != 0};
}

/* A token's code points: its bytes, less the UTF-8 continuation bytes an ASCII text has none of. */
static inline void shape_add(shape_stats *st, const char *text, const mn_token *tok)
{
    uint64_t cps = tok->len;
    if (st->non_ascii) {
        const unsigned char *p = (const unsigned char *)text + tok->off;
        for (uint32_t i = 0; i < tok->len; i++)
            cps -= (p[i] & 0xC0u) == 0x80u;
    }
    st->code_points += cps;
}

/* floor(log2(x)), x >= 1 */
static inline unsigned ilog2_u64(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/* The SHAPE_FEATURES hashes of a text's shape, from its ntok feature tokens (ntok >= 1): three
 * buckets, each alone, then length with word size and word size with sentence length; each the
 * hash of 5 bytes {0xFF, 'S', feature, bucket, bucket or 0}, which no token has (0xFF is never
 * in UTF-8). All in integers, so that every build buckets alike:
 *   length:    floor(log2(ntok + 1)), at most 20;
 *   word size: floor(2 * code points / ntok), at most 40;
 *   sentence:  floor(2 * log2(ntok / sentences + 1)) = floor(log2(((ntok + sentences) /
 *              sentences)^2)), sentences = the count of '.', '!', '?' within 1..ntok, at most
 *              40. */
static void shape_hashes(uint64_t ntok, const shape_stats *st, uint64_t *out)
{
    uint64_t n = ntok < (1ull << 30) ? ntok : (1ull << 30);
    uint64_t ends = st->ends;
    uint64_t sent = ends ? (ends < n ? ends : n) : 1;
    uint64_t q = ((n + sent) * (n + sent)) / (sent * sent);
    uint64_t bucket[3] = {ilog2_u64(n + 1), st->code_points * 2 / n, ilog2_u64(q)};
    static const uint64_t cap[3] = {20, 40, 40};
    unsigned char b[3];
    for (unsigned k = 0; k < 3; k++)
        b[k] = (unsigned char)(bucket[k] < cap[k] ? bucket[k] : cap[k]);
    static const unsigned char pair[SHAPE_FEATURES][2] = {{0, 3}, {1, 3}, {2, 3}, {0, 1}, {1, 2}};
    for (unsigned k = 0; k < SHAPE_FEATURES; k++) {
        unsigned char key[5] = {0xFF, 'S', (unsigned char)k, b[pair[k][0]],
                                pair[k][1] < 3 ? b[pair[k][1]] : 0};
        out[k] = mn_hash64(key, sizeof key);
    }
}

/* The hash of each feature token of a text, mn_hash64 of norm_token's output, into h (room
 * for len + 1), and their count in *n; st, if not NULL, sums what the shape features need.
 * Tokens are cut and hashed in batches (a call per batch, not per token), all from
 * hash_source; the few tokens with non-ASCII bytes are then normalised and hashed again one
 * by one. */
static int word_hashes(unsigned norm_flags, unsigned token_flags, mn_scratch *s,
                       const char *text, size_t len, uint64_t *h, size_t *n, shape_stats *st)
{
    const char *src;
    int all_ascii;
    int rc = hash_source(norm_flags, token_flags, s, text, len, &src, &all_ascii);
    if (rc)
        return rc;
    mn_tokenizer t;
    mn_token tok[TOKEN_BATCH];
    size_t count = 0, got;
    mn_tokenizer_init(&t, text, len);
    do {
        got = next_hashed(token_flags, &t, src, tok, h + count, TOKEN_BATCH);
        for (size_t i = 0; i < got && !all_ascii; i++) {
            const char *w;
            size_t wl;
            if ((rc = token_word(norm_flags, token_flags, s, text, len, src, all_ascii, &tok[i],
                                 &w, &wl, &h[count + i])))
                return rc;
        }
        for (size_t i = 0; st && i < got; i++)
            shape_add(st, text, &tok[i]);
        count += got;
    } while (got > 0);
    *n = count;
    return 0;
}

int mn__clf_word_hashes(unsigned norm_flags, unsigned token_flags, mn_scratch *s, const char *text, size_t len,
                        const uint64_t **hashes, size_t *n)
{
    uint64_t *h = mn__scratch_reserve(s, SLOT_HASHES, (len + 1 + SHAPE_FEATURES) * sizeof *h);
    if (!h)
        return MN_ENOMEM;
    shape_stats st = {0};
    int shape = (token_flags & MN_TOKENS_SHAPE) != 0;
    if (shape)
        shape_begin(&st, text, len);
    int rc = word_hashes(norm_flags, token_flags, s, text, len, h, n, shape ? &st : NULL);
    if (rc)
        return rc;
    if (shape && *n) {
        shape_hashes(*n, &st, h + *n);
        *n += SHAPE_FEATURES;
    }
    *hashes = h;
    return 0;
}

/* A word's character n-gram rows, met earlier in the same text: they sit at rows[start ..
 * start + count), already mapped from bucket ids, so a repeat copies them instead of hashing
 * every n-gram and looking every bucket up again (a text repeats about a third of its words,
 * mostly short ones). Keyed by the normalised word's 64-bit hash and byte length. */
typedef struct ngram_memo {
    uint64_t h;
    uint32_t start;
    uint16_t wl1;   /* byte length + 1; 0: an empty slot */
    uint16_t count; /* 16 bytes a slot: clearing the table is part of every call */
} ngram_memo;
enum { NGRAM_MEMO_MIN = 64, NGRAM_MEMO_MAX = 4096 }; /* slots: a quarter of the bytes, bounded */

/* Maps the waiting bucket ids rows[from..to) of a word to rows written from rows[n] on, fills
 * in its memo slot (if any) and returns the new end of the rows. */
static size_t flush_pending(const mn_classifier *c, uint32_t *rows, size_t from, size_t to,
                            size_t n, ngram_memo *m)
{
    size_t end = map_buckets_to(c, rows, from, to, n);
    if (m) {
        m->start = (uint32_t)n;
        m->count = (uint16_t)(end - n);
    }
    return end;
}

int mn__clf_features(const mn_classifier *c, mn_scratch *s, const char *text, size_t len,
                     const uint32_t **rows_out, size_t *n_out, size_t *ntokens)
{
    const mn_clf_params *p = &c->p;
    /* Upper bound: bias + one row per token + (word_ngrams - 1) per token + char n-grams, of
     * which a token of L code points has at most (maxn - minn + 1) * (L + 2). Tokens are at
     * least one byte, so bytes bound both tokens and code points. */
    size_t per_byte = p->word_ngrams > 1 ? p->word_ngrams : 1;
    size_t cap = 2 + len * per_byte;
    if (p->maxn > 0 && p->bucket > 0)
        cap += (size_t)(p->maxn - p->minn + 1) * 3 * (len + 1);
    int shape = (p->token_flags & MN_TOKENS_SHAPE) != 0;
    if (shape)
        cap += SHAPE_FEATURES;
    uint32_t *rows = mn__scratch_reserve(s, SLOT_ROWS, cap * sizeof *rows);
    uint64_t *h = mn__scratch_reserve(s, SLOT_HASHES, (len + 1 + SHAPE_FEATURES) * sizeof *h);
    if (!rows || !h)
        return MN_ENOMEM;
    size_t n = 0, nh = 0;
    shape_stats st = {0};
    if (shape)
        shape_begin(&st, text, len);
    rows[n++] = 0; /* bias */
    int buckets = p->bucket > 0;
    /* First the ids: word hashes, and the bucket ids of character and word n-grams. The table
     * lookups come after, in batches, so the next lookups can be prefetched while one waits.
     * Character n-grams need each normalised token, so they go token by token. */
    if (!(p->maxn > 0 && buckets)) {
        int rc = word_hashes(p->norm_flags, p->token_flags, s, text, len, h, &nh,
                             shape ? &st : NULL);
        if (rc)
            return rc;
    } else {
        size_t nmemo = NGRAM_MEMO_MIN;
        while (nmemo < NGRAM_MEMO_MAX && nmemo < len / 4)
            nmemo *= 2;
        ngram_memo *memo = mn__scratch_reserve(s, SLOT_NGRAM_MEMO, nmemo * sizeof *memo);
        if (!memo)
            return MN_ENOMEM;
        memset(memo, 0, nmemo * sizeof *memo);
        size_t nmemo_used = 0;
        /* Tokens are cut and hashed in batches, as in word_hashes; only tokens with non-ASCII
         * bytes are normalised one by one. */
        const char *src;
        int all_ascii;
        int rc = hash_source(p->norm_flags, p->token_flags, s, text, len, &src, &all_ascii);
        if (rc)
            return rc;
        mn_tokenizer t;
        mn_token tok[TOKEN_BATCH];
        size_t got_tok;
        mn_tokenizer_init(&t, text, len);
        /* A word's bucket ids are mapped to rows while the next word's n-grams are hashed:
         * their lines, asked for when they were hashed, have had a word's time to arrive
         * (asked for just before their lookups, most still missed). rows[0..n) are rows, the
         * previous word's ids wait at rows[pend..pend_end), pend >= n, its memo slot (or
         * NULL) in pend_memo. */
        size_t pend = n, pend_end = n;
        ngram_memo *pend_memo = NULL;
        do {
            got_tok = next_hashed(p->token_flags, &t, src, tok, h + nh, TOKEN_BATCH);
            for (size_t i = 0; i < got_tok; i++, nh++) {
                const char *w;
                size_t wl;
                if ((rc = token_word(p->norm_flags, p->token_flags, s, text, len, src, all_ascii,
                                     &tok[i], &w, &wl, &h[nh])))
                    return rc;
                if (shape)
                    shape_add(&st, text, &tok[i]);
                uint64_t wh = h[nh];
                ngram_memo *m = &memo[wh & (nmemo - 1)];
                while (m->wl1 && (m->h != wh || m->wl1 != wl + 1))
                    m = m + 1 < memo + nmemo ? m + 1 : memo;
                if (m->wl1) { /* the same rows as its first occurrence, in the same order */
                    n = flush_pending(c, rows, pend, pend_end, n, pend_memo);
                    memcpy(rows + n, rows + m->start, (size_t)m->count * sizeof *rows);
                    n += m->count;
                    pend = pend_end = n;
                    pend_memo = NULL;
                    continue;
                }
                size_t got = mn_char_ngrams(w, wl, (int)p->minn, (int)p->maxn, p->bucket,
                                            rows + pend_end, cap - pend_end);
                /* the bound above makes this exact */
                got = got < cap - pend_end ? got : cap - pend_end;
                prefetch_bucket_lines(c, rows, pend_end, pend_end + got);
                n = flush_pending(c, rows, pend, pend_end, n, pend_memo);
                pend = pend_end;
                pend_end += got;
                pend_memo = NULL;
                /* Memoised (half full at most) if its rows, at most its ids, fit a slot. The
                 * slot is taken now, its rows filled in when mapped. */
                if (nmemo_used < nmemo / 2 && pend_end <= UINT32_MAX && wl < UINT16_MAX &&
                    got <= UINT16_MAX) {
                    *m = (ngram_memo){wh, 0, (uint16_t)(wl + 1), 0};
                    pend_memo = m;
                    nmemo_used++;
                }
            }
        } while (got_tok > 0);
        n = flush_pending(c, rows, pend, pend_end, n, pend_memo);
    }
    if (p->word_ngrams > 1 && buckets && nh > 1) {
        size_t got = mn_word_ngrams(h, nh, (int)p->word_ngrams, p->bucket, rows + n, cap - n);
        got = got < cap - n ? got : cap - n;
        n = map_buckets(c, rows, n, n + got);
    }
    size_t nwords = nh; /* the tokens, then the shape features (which n-grams do not span) */
    if (shape && nh) {
        shape_hashes(nh, &st, h + nh);
        nwords += SHAPE_FEATURES;
    }
    /* again, in case the text was long; the last LOOKAHEAD in a loop with no prefetch */
    const mn_clf_word_slot *slots = c->word_slots;
    uint32_t mask = c->word_mask;
    size_t i = 0;
    for (; i + LOOKAHEAD < nwords; i++) {
        MN_PREFETCH(&slots[(uint32_t)h[i + LOOKAHEAD] & mask]);
        uint32_t r = word_row(slots, mask, h[i]);
        rows[n] = r;
        n += r != 0;
    }
    for (; i < nwords; i++) {
        uint32_t r = word_row(slots, mask, h[i]);
        rows[n] = r;
        n += r != 0;
    }
    *rows_out = rows;
    *n_out = n;
    if (ntokens)
        *ntokens = nh;
    return 0;
}

/* ---- scoring ------------------------------------------------------------------------------ */

static inline void prefetch_row(const mn_clf_matrix *m, uint32_t r)
{
    if (m->f) {
        const float *row = m->f + (size_t)r * m->dim;
        for (uint32_t j = 0; j < m->dim; j += 16)
            MN_PREFETCH(row + j);
    } else {
        const int8_t *row = m->q + (size_t)r * m->dim;
        for (uint32_t j = 0; j < m->dim; j += 64)
            MN_PREFETCH(row + j);
        MN_PREFETCH(m->scale + r);
    }
}

static inline void add_row(const mn_clf_matrix *m, uint32_t r, float *v)
{
    uint32_t dim = m->dim;
    if (m->f) {
        const float *row = m->f + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++)
            v[j] += row[j];
    } else {
        const int8_t *row = m->q + (size_t)r * dim;
        float sc = m->scale[r];
        for (uint32_t j = 0; j < dim; j++)
            v[j] += sc * (float)row[j];
    }
}

static inline float dot_row(const mn_clf_matrix *m, uint32_t r, const float *v)
{
    uint32_t dim = m->dim;
    float sum = 0.0f;
    if (m->f) {
        const float *row = m->f + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++)
            sum += row[j] * v[j];
        return sum;
    }
    const int8_t *row = m->q + (size_t)r * dim;
    for (uint32_t j = 0; j < dim; j++)
        sum += (float)row[j] * v[j];
    return sum * m->scale[r];
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* ---- scoring many labels ------------------------------------------------------------------ */

/* dot_row adds weight after weight into one float, a chain of dependent adds that cannot be
 * reordered without changing the result; with hundreds of labels (lang has 444) that chain was
 * most of a prediction. Interleaving the rows eight at a time lets one SIMD lane run one row's
 * chain, the same multiplies and adds in the same order, so the scores are bit-identical, eight
 * rows per AVX2 instruction (two SSE2 ones) and four blocks in flight. The interleaved copy
 * holds 8-bit weights as floats (converted exactly), so that a weight costs a multiply and an
 * add, not also the conversion: 4 times the bytes, 57 KB for lang's 444 x 32. */
enum { BLOCKED_MIN_ROWS = 8, BLOCKS_IN_FLIGHT = 4 };

#if defined(__SSE2__)
/* 8-bit weights as floats, sign-extended and converted exactly (the hidden-layer sums read
 * them so): the 4 at p ... */
static inline __m128 s8x4_ps(const int8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    __m128i b = _mm_cvtsi32_si128(x);
    b = _mm_unpacklo_epi8(b, b);
    return _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(b, b), 24));
}

/* ... and the 16 at p, in order, as four vectors of 4. */
static inline void s8x16_ps(const int8_t *p, __m128 out[4])
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i lo = _mm_unpacklo_epi8(x, x), hi = _mm_unpackhi_epi8(x, x);
    /* each weight four times in a 32-bit lane; the arithmetic shift keeps one, signed */
    __m128i w[4] = {_mm_unpacklo_epi16(lo, lo), _mm_unpackhi_epi16(lo, lo),
                    _mm_unpacklo_epi16(hi, hi), _mm_unpackhi_epi16(hi, hi)};
    for (int j = 0; j < 4; j++)
        out[j] = _mm_cvtepi32_ps(_mm_srai_epi32(w[j], 24));
}

/* Scores of every row through the blocks (all_scores' blocked path), four rows per register. */
static void blocked_scores(const mn_classifier *c, const float *v, float *scores)
{
    uint32_t dim = c->out.dim, nl = c->out.rows, nb = c->out8_blocks;
    size_t stride = (size_t)dim * 8; /* floats per block */
    for (uint32_t b0 = 0; b0 < nb; b0 += BLOCKS_IN_FLIGHT) {
        uint32_t g = nb - b0 < BLOCKS_IN_FLIGHT ? nb - b0 : BLOCKS_IN_FLIGHT;
        __m128 acc[BLOCKS_IN_FLIGHT][2];
        for (uint32_t k = 0; k < BLOCKS_IN_FLIGHT; k++)
            acc[k][0] = acc[k][1] = _mm_setzero_ps();
        const float *f = c->out8 + b0 * stride;
        for (uint32_t j = 0; j < dim; j++) {
            __m128 x = _mm_set1_ps(v[j]);
            for (uint32_t k = 0; k < g; k++) {
                const float *w = f + k * stride + (size_t)j * 8; /* weight j of 8 rows */
                for (int h = 0; h < 2; h++)
                    acc[k][h] = _mm_add_ps(acc[k][h], _mm_mul_ps(_mm_loadu_ps(w + 4 * h), x));
            }
        }
        for (uint32_t k = 0; k < g; k++) {
            float t[8];
            for (int h = 0; h < 2; h++) {
                __m128 a = acc[k][h];
                if (c->out8_scale)
                    a = _mm_mul_ps(a, _mm_loadu_ps(c->out8_scale + (size_t)8 * (b0 + k) + 4 * h));
                _mm_storeu_ps(t + 4 * h, a);
            }
            uint32_t r = 8 * (b0 + k);
            memcpy(scores + r, t, (nl - r < 8 ? nl - r : 8) * sizeof *t);
        }
    }
}
#endif

#if defined(MN_CLF_AVX2)
/* blocked_scores eight rows per register. No FMA: a fused multiply-add rounds once, not
 * twice. */
static AVX2_FN void blocked_scores_avx2(const mn_classifier *c, const float *v, float *scores)
{
    uint32_t dim = c->out.dim, nl = c->out.rows, nb = c->out8_blocks;
    size_t stride = (size_t)dim * 8; /* floats per block */
    for (uint32_t b0 = 0; b0 < nb; b0 += BLOCKS_IN_FLIGHT) {
        uint32_t g = nb - b0 < BLOCKS_IN_FLIGHT ? nb - b0 : BLOCKS_IN_FLIGHT;
        __m256 acc[BLOCKS_IN_FLIGHT];
        for (uint32_t k = 0; k < BLOCKS_IN_FLIGHT; k++)
            acc[k] = _mm256_setzero_ps();
        const float *f = c->out8 + b0 * stride;
        if (g == BLOCKS_IN_FLIGHT) { /* a constant count, so the accumulators stay in registers */
            for (uint32_t j = 0; j < dim; j++) {
                __m256 x = _mm256_set1_ps(v[j]);
                for (uint32_t k = 0; k < BLOCKS_IN_FLIGHT; k++)
                    acc[k] = _mm256_add_ps(
                        acc[k], _mm256_mul_ps(_mm256_loadu_ps(f + k * stride + (size_t)j * 8), x));
            }
        } else {
            for (uint32_t j = 0; j < dim; j++) {
                __m256 x = _mm256_set1_ps(v[j]);
                for (uint32_t k = 0; k < g; k++)
                    acc[k] = _mm256_add_ps(
                        acc[k], _mm256_mul_ps(_mm256_loadu_ps(f + k * stride + (size_t)j * 8), x));
            }
        }
        for (uint32_t k = 0; k < g; k++) {
            if (c->out8_scale)
                acc[k] = _mm256_mul_ps(acc[k],
                                       _mm256_loadu_ps(c->out8_scale + (size_t)8 * (b0 + k)));
            uint32_t r = 8 * (b0 + k);
            if (nl - r >= 8) {
                _mm256_storeu_ps(scores + r, acc[k]);
            } else {
                float t[8];
                _mm256_storeu_ps(t, acc[k]);
                memcpy(scores + r, t, (nl - r) * sizeof *t);
            }
        }
    }
}

/* True if this CPU runs AVX2 (libgcc reads the flags once, at startup). */
static inline int have_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}
#endif

/* Builds c->out8 from c->out (softmax and one-vs-all models with many labels). */
static int build_blocked_out(mn_classifier *c)
{
#if defined(__SSE2__)
    const mn_clf_matrix *m = &c->out;
    if (c->p.loss == MN_LOSS_HS || m->rows < BLOCKED_MIN_ROWS)
        return 0;
    uint32_t nb = (m->rows + 7) / 8, dim = m->dim;
    float *w = mn_calloc((size_t)nb * 8 * dim, sizeof *w);
    float *sc = m->q ? mn_calloc((size_t)nb * 8, sizeof *sc) : NULL;
    if (!w || (m->q && !sc)) {
        mn_free(w);
        mn_free(sc);
        return MN_ENOMEM;
    }
    for (uint32_t r = 0; r < m->rows; r++) {
        size_t at = (size_t)(r / 8) * 8 * dim + r % 8;
        for (uint32_t j = 0; j < dim; j++) {
            size_t from = (size_t)r * dim + j;
            w[at + (size_t)j * 8] = m->q ? (float)m->q[from] : m->f[from];
        }
        if (sc)
            sc[r] = m->scale[r];
    }
    c->out8 = w;
    c->out8_scale = sc;
    c->out8_blocks = nb;
#else
    (void)c;
#endif
    return 0;
}

/* Scores of every output row against the hidden vector. */
static void all_scores(const mn_classifier *c, const float *hidden, float *scores)
{
#if defined(__SSE2__)
    if (c->out8) {
#if defined(MN_CLF_AVX2)
        if (have_avx2()) {
            blocked_scores_avx2(c, hidden, scores);
            return;
        }
#endif
        blocked_scores(c, hidden, scores);
        return;
    }
#endif
    for (uint32_t i = 0; i < c->out.rows; i++)
        scores[i] = dot_row(&c->out, i, hidden);
}

/* Fills the probability of every leaf below node by walking the tree. */
static void hs_walk(const mn_classifier *c, const float *hidden, uint32_t node, float p,
                    float *probs)
{
    uint32_t nl = c->tree.nlabels;
    if (node < nl) {
        probs[node] = p;
        return;
    }
    float f = sigmoid(dot_row(&c->out, node - nl, hidden));
    hs_walk(c, hidden, (uint32_t)c->tree.left[node - nl], p * (1.0f - f), probs);
    hs_walk(c, hidden, (uint32_t)c->tree.right[node - nl], p * f, probs);
}

#if defined(__SSE2__)
/* acc[0..nv) += sc * the 4 * nv 8-bit weights at row: 16 weights per load where the row has
 * them, then 4. */
static inline void qadd(__m128 *acc, int nv, const int8_t *row, __m128 sc)
{
    int k = 0;
    for (; k + 4 <= nv; k += 4) {
        __m128 w[4];
        s8x16_ps(row + 4 * k, w);
        for (int j = 0; j < 4; j++)
            acc[k + j] = _mm_add_ps(acc[k + j], _mm_mul_ps(sc, w[j]));
    }
    for (; k < nv; k++)
        acc[k] = _mm_add_ps(acc[k], _mm_mul_ps(sc, s8x4_ps(row + 4 * k)));
}

/* Sum of the 8-bit rows rows[0..n) of m, each times its scale, for a dim of 4 * NV floats,
 * with the sum held in NV registers. Per element this is the scalar loop of add_row: the same
 * multiply and then add, in the same order of rows, so the sums are bit-identical. The rows
 * LOOKAHEAD ahead are prefetched, in a loop of its own so the rest need no check. */
#define MN_QSUM(NV)                                                                                \
    static void qsum_##NV(const mn_clf_matrix *m, const uint32_t *rows, size_t n, float *out)    \
    {                                                                                              \
        __m128 acc[NV];                                                                            \
        for (int k = 0; k < NV; k++)                                                               \
            acc[k] = _mm_setzero_ps();                                                             \
        size_t i = 0;                                                                              \
        for (; i + LOOKAHEAD < n; i++) {                                                           \
            MN_PREFETCH(m->q + (size_t)rows[i + LOOKAHEAD] * (4 * NV));                            \
            MN_PREFETCH(m->scale + rows[i + LOOKAHEAD]);                                           \
            qadd(acc, NV, m->q + (size_t)rows[i] * (4 * NV), _mm_set1_ps(m->scale[rows[i]]));      \
        }                                                                                          \
        for (; i < n; i++)                                                                         \
            qadd(acc, NV, m->q + (size_t)rows[i] * (4 * NV), _mm_set1_ps(m->scale[rows[i]]));      \
        for (int k = 0; k < NV; k++)                                                               \
            _mm_storeu_ps(out + 4 * k, acc[k]);                                                    \
    }
MN_QSUM(1)
MN_QSUM(2)
MN_QSUM(3)
MN_QSUM(4)
MN_QSUM(5)
MN_QSUM(6)
MN_QSUM(7)
MN_QSUM(8)
#undef MN_QSUM

typedef void (*qsum_fn)(const mn_clf_matrix *m, const uint32_t *rows, size_t n, float *out);
static const qsum_fn qsums[9] = {NULL,    qsum_1, qsum_2, qsum_3, qsum_4,
                                 qsum_5, qsum_6, qsum_7, qsum_8};
#endif

#if defined(MN_CLF_AVX2)
/* qadd with 8 weights per register: acc[0..nv/2) += sc * weights 8k..8k+7, and, for an odd
 * nv, *tail += sc * the last 4 weights. */
static inline AVX2_FN void qadd_avx2(__m256 *acc, __m128 *tail, int nv, const int8_t *row,
                                     float sc)
{
    __m256 s = _mm256_set1_ps(sc);
    for (int k = 0; k < nv / 2; k++) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(row + 8 * k));
        __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
        acc[k] = _mm256_add_ps(acc[k], _mm256_mul_ps(s, w));
    }
    if (nv % 2)
        *tail = _mm_add_ps(*tail,
                           _mm_mul_ps(_mm256_castps256_ps128(s), s8x4_ps(row + 8 * (nv / 2))));
}

/* MN_QSUM with 8 floats per register: the same multiply and then add per element, rows in
 * the same order, so the same bits. Not FMA, which rounds once instead of twice. */
#define MN_QSUM_AVX2(NV)                                                                           \
    static AVX2_FN void qsum_avx2_##NV(const mn_clf_matrix *m, const uint32_t *rows, size_t n,   \
                                       float *out)                                                 \
    {                                                                                              \
        __m256 acc[(NV) / 2 + 1];                                                                  \
        __m128 tail = _mm_setzero_ps();                                                            \
        for (int k = 0; k < (NV) / 2 + 1; k++)                                                     \
            acc[k] = _mm256_setzero_ps();                                                          \
        size_t i = 0;                                                                              \
        for (; i + LOOKAHEAD < n; i++) {                                                           \
            MN_PREFETCH(m->q + (size_t)rows[i + LOOKAHEAD] * (4 * NV));                            \
            MN_PREFETCH(m->scale + rows[i + LOOKAHEAD]);                                           \
            qadd_avx2(acc, &tail, NV, m->q + (size_t)rows[i] * (4 * NV), m->scale[rows[i]]);       \
        }                                                                                          \
        for (; i < n; i++)                                                                         \
            qadd_avx2(acc, &tail, NV, m->q + (size_t)rows[i] * (4 * NV), m->scale[rows[i]]);       \
        for (int k = 0; k < (NV) / 2; k++)                                                         \
            _mm256_storeu_ps(out + 8 * k, acc[k]);                                                 \
        if ((NV) % 2)                                                                              \
            _mm_storeu_ps(out + 8 * ((NV) / 2), tail);                                             \
    }
MN_QSUM_AVX2(1)
MN_QSUM_AVX2(2)
MN_QSUM_AVX2(3)
MN_QSUM_AVX2(4)
MN_QSUM_AVX2(5)
MN_QSUM_AVX2(6)
MN_QSUM_AVX2(7)
MN_QSUM_AVX2(8)
#undef MN_QSUM_AVX2

static const qsum_fn qsums_avx2[9] = {NULL,        qsum_avx2_1, qsum_avx2_2,
                                      qsum_avx2_3, qsum_avx2_4, qsum_avx2_5,
                                      qsum_avx2_6, qsum_avx2_7, qsum_avx2_8};
#endif

/* The text's vector: the mean of its rows. */
static void hidden_of(const mn_classifier *c, const uint32_t *rows, size_t n, float *hidden)
{
    uint32_t dim = c->p.dim;
#if defined(__SSE2__)
    /* Quantised models of up to 32 dimensions (the shipped ones have 8 to 32), 8 floats per
     * register where the CPU has AVX2 */
    if (c->in.q && dim % 4 == 0 && dim <= 32) {
#if defined(MN_CLF_AVX2)
        if (have_avx2())
            qsums_avx2[dim / 4](&c->in, rows, n, hidden);
        else
#endif
            qsums[dim / 4](&c->in, rows, n, hidden);
    } else
#endif
    {
        memset(hidden, 0, dim * sizeof *hidden);
        for (size_t i = 0; i < n; i++) {
            if (i + LOOKAHEAD < n)
                prefetch_row(&c->in, rows[i + LOOKAHEAD]);
            add_row(&c->in, rows[i], hidden);
        }
    }
    float inv = 1.0f / (float)n;
    for (uint32_t j = 0; j < dim; j++)
        hidden[j] *= inv;
}

/* The largest of v[0..n), NaNs ignored, -INFINITY if none: the loop of "if (v[i] > max)
 * max = v[i]", four lanes at a time (a softmax over lang's 444 labels). The lanes may pick
 * +0 where the loop keeps -0 or the reverse; x - max and so the softmax are the same. */
static float max_score(const float *v, uint32_t n)
{
    float max = -INFINITY;
    uint32_t i = 0;
#if defined(__SSE2__)
    if (n >= 4) {
        __m128 m = _mm_set1_ps(-INFINITY);
        for (; i + 4 <= n; i += 4) /* a NaN in the first operand yields the second */
            m = _mm_max_ps(_mm_loadu_ps(v + i), m);
        float lanes[4];
        _mm_storeu_ps(lanes, m);
        for (int k = 0; k < 4; k++)
            if (lanes[k] > max)
                max = lanes[k];
    }
#endif
    for (; i < n; i++)
        if (v[i] > max)
            max = v[i];
    return max;
}

/* v[i] /= z for i < n, four at a time: the same correctly rounded quotients. */
static void divide_all(float *v, uint32_t n, float z)
{
    uint32_t i = 0;
#if defined(__SSE2__)
    __m128 d = _mm_set1_ps(z);
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(v + i, _mm_div_ps(_mm_loadu_ps(v + i), d));
#endif
    for (; i < n; i++)
        v[i] /= z;
}

void mn__clf_probs(const mn_classifier *c, const uint32_t *rows, size_t n, float *hidden,
                   float *probs)
{
    hidden_of(c, rows, n, hidden);
    uint32_t nl = c->base.nlabels;
    switch (c->p.loss) {
    case MN_LOSS_SOFTMAX: {
        float z = 0.0f;
        all_scores(c, hidden, probs);
        float max = max_score(probs, nl);
        /* one after the other: the sum's order is part of the result */
        for (uint32_t i = 0; i < nl; i++) {
            probs[i] = expf(probs[i] - max);
            z += probs[i];
        }
        divide_all(probs, nl, z);
        break;
    }
    case MN_LOSS_OVA:
        all_scores(c, hidden, probs);
        for (uint32_t i = 0; i < nl; i++)
            probs[i] = sigmoid(probs[i]);
        break;
    case MN_LOSS_HS:
        if (nl == 1)
            probs[0] = 1.0f;
        else
            hs_walk(c, hidden, 2 * nl - 2, 1.0f, probs);
        break;
    }
}

static int clf_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                       float threshold, mn_prediction *out, size_t *n_out)
{
    const mn_classifier *c = (const mn_classifier *)m;
    const uint32_t *rows;
    size_t n;
    int rc = mn__clf_features(c, s, text, len, &rows, &n, NULL);
    if (rc)
        return rc;
    float *f = mn__scratch_reserve(s, SLOT_FLOATS,
                                   ((size_t)c->p.dim + c->base.nlabels) * sizeof(float));
    if (!f)
        return MN_ENOMEM;
    float *probs = f + c->p.dim;
    uint32_t nl = c->base.nlabels;
    if (c->p.loss == MN_LOSS_OVA) {
        /* The sigmoid is monotonic: rank the raw scores against the threshold's logit and
         * take the sigmoid of the k winners only (with many labels, the exps were most of
         * the time). */
        hidden_of(c, rows, n, f);
        all_scores(c, f, probs);
        float cut = threshold <= 0.0f   ? -INFINITY
                    : threshold >= 1.0f ? INFINITY
                                        : logf(threshold / (1.0f - threshold));
        size_t got = mn__topk(probs, nl, k, cut, out);
        for (size_t i = 0; i < got; i++)
            out[i].prob = sigmoid(out[i].prob);
        /* Rounding can put a winner just under the threshold in probability terms. */
        while (got > 0 && out[got - 1].prob < threshold)
            got--;
        *n_out = got;
        return 0;
    }
    mn__clf_probs(c, rows, n, f, probs);
    *n_out = mn__topk(probs, nl, k, threshold, out);
    return 0;
}

/* ---- save / load ------------------------------------------------------------------------- */

static int add_matrix(mn_file_writer *w, const mn_clf_matrix *m, uint32_t tf, uint32_t tq,
                      uint32_t ts)
{
    size_t cells = (size_t)m->rows * m->dim;
    if (m->f)
        return mn_file_writer_add(w, tf, m->f, cells * sizeof(float));
    int rc = mn_file_writer_add(w, tq, m->q, cells);
    return rc ? rc : mn_file_writer_add(w, ts, m->scale, (size_t)m->rows * sizeof(float));
}

/* The 6-bit form of the input matrix (mn_clf_params.in_bits == 6): kept bucket ids as gaps,
 * rows packed, scales in half precision, each section built a chunk at a time. */
static int add_packed_input(mn_file_writer *w, const mn_classifier *c)
{
    enum { CHUNK = 4096 };
    uint8_t buf[CHUNK * 6];
    int rc = 0;
    if (c->p.pruned) {
        rc = mn_file_writer_begin(w, TAG_BUCKETS_GAPS);
        size_t n = 0;
        for (uint32_t i = 0; !rc && i < c->p.nbuckets; i++) {
            n += mn_varint_put(c->buckets[i] - (i ? c->buckets[i - 1] : 0), buf + n);
            if (n > sizeof buf - 5 || i + 1 == c->p.nbuckets) {
                rc = mn_file_writer_append(w, buf, n);
                n = 0;
            }
        }
    }
    const mn_clf_matrix *m = &c->in;
    size_t cells = (size_t)m->rows * m->dim;
    /* CHUNK * 4 weights pack into CHUNK * 3 whole bytes, so chunks join without a seam. */
    if (!rc)
        rc = mn_file_writer_begin(w, TAG_EMB6);
    for (size_t i = 0; !rc && i < cells; i += (size_t)CHUNK * 4) {
        size_t n = cells - i < (size_t)CHUNK * 4 ? cells - i : (size_t)CHUNK * 4;
        mn_pack6(m->q + i, n, buf);
        rc = mn_file_writer_append(w, buf, mn_pack6_bytes(n));
    }
    if (!rc)
        rc = mn_file_writer_begin(w, TAG_EMBH);
    for (uint32_t r = 0; !rc && r < m->rows; r += CHUNK) {
        uint32_t n = m->rows - r < CHUNK ? m->rows - r : CHUNK;
        for (uint32_t i = 0; i < n; i++) {
            uint16_t h = mn_half_from_float(m->scale[r + i]);
            memcpy(buf + 2 * i, &h, 2);
        }
        rc = mn_file_writer_append(w, buf, (size_t)n * 2);
    }
    return rc;
}

int mn__clf_write_sections(const mn_classifier *c, mn_file_writer *w)
{
    int rc = mn_file_writer_need_version(w, mn__clf_min_version(&c->p));
    if (!rc)
        rc = mn_file_writer_add(w, TAG_PARAMS, &c->p, sizeof c->p);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_VOCAB, c->vocab, (size_t)c->p.nwords * 8);
    if (c->p.in_bits == 6) {
        if (!rc)
            rc = add_packed_input(w, c);
    } else {
        if (!rc && c->p.pruned)
            rc = mn_file_writer_add(w, TAG_BUCKETS, c->buckets, (size_t)c->p.nbuckets * 4);
        if (!rc)
            rc = add_matrix(w, &c->in, TAG_EMB, TAG_EMBQ, TAG_EMBS);
    }
    if (!rc)
        rc = add_matrix(w, &c->out, TAG_OUT, TAG_OUTQ, TAG_OUTS);
    if (!rc && c->p.loss == MN_LOSS_HS && c->base.nlabels > 1) {
        size_t ni = c->base.nlabels - 1;
        rc = mn_file_writer_begin(w, TAG_TREE);
        if (!rc)
            rc = mn_file_writer_append(w, c->tree.left, ni * 4);
        if (!rc)
            rc = mn_file_writer_append(w, c->tree.right, ni * 4);
    }
    return rc;
}

static int clf_save(const mn_model *m, const char *path, mn_err *err)
{
    const mn_classifier *c = (const mn_classifier *)m;
    mn_file_writer *w = NULL;
    int rc = mn_file_writer_new(MN_MODEL_CLASSIFIER, &w);
    if (rc)
        return mn_err_set(err, rc, "%s: out of memory", path);
    rc = mn__model_write_common(m, w);
    if (!rc)
        rc = mn__clf_write_sections(c, w);
    return mn_file_writer_finish(w, rc, path, err);
}

static void clf_destroy(mn_model *m)
{
    mn_classifier *c = (mn_classifier *)m;
    mn_free(c->word_slots);
    mn_free(c->bucket_slots);
    mn_free(c->rank_mem);
    mn_free(c->out8);
    mn_free(c->out8_scale);
    for (size_t i = 0; i < sizeof c->owned / sizeof c->owned[0]; i++)
        mn_free(c->owned[i]);
    mn__big_free(c->big);
    mn_file_close(c->file);
    mn__model_deinit(m);
    mn_free(c);
}

static const mn_model_ops classifier_ops = {
    .name = "classifier",
    .predict = clf_predict,
    .save = clf_save,
    .destroy = clf_destroy,
};

mn_classifier *mn__clf_new(void)
{
    mn_classifier *c = mn_calloc(1, sizeof *c);
    if (c)
        mn__model_init(&c->base, &classifier_ops, MN_MODEL_CLASSIFIER);
    return c;
}

/* Finds a section that must hold exactly `want` bytes. */
static int need_section(const mn_file *f, uint32_t tag, size_t want, const void **data,
                        mn_err *err)
{
    size_t size;
    char name[5] = {(char)tag, (char)(tag >> 8), (char)(tag >> 16), (char)(tag >> 24), 0};
    if (mn_file_section(f, tag, data, &size) != 0)
        return mn_err_set(err, MN_ECORRUPT, "section '%s' is missing", name);
    if (size != want)
        return mn_err_set(err, MN_ECORRUPT, "section '%s' holds %zu bytes, expected %zu", name,
                          size, want);
    return 0;
}

static int load_matrix(const mn_file *f, int quantized, uint32_t rows, uint32_t dim,
                       uint32_t tf, uint32_t tq, uint32_t ts, mn_clf_matrix *m, mn_err *err)
{
    const void *d;
    size_t cells = (size_t)rows * dim;
    m->rows = rows;
    m->dim = dim;
    if (!quantized) {
        int rc = need_section(f, tf, cells * sizeof(float), &d, err);
        m->f = d;
        return rc;
    }
    int rc = need_section(f, tq, cells, &d, err);
    m->q = d;
    if (!rc)
        rc = need_section(f, ts, (size_t)rows * sizeof(float), &d, err);
    m->scale = d;
    return rc;
}

/* Unpacks the 6-bit form of the input matrix (add_packed_input) into the model's own 8-bit
 * rows, float scales and bucket ids (c->big), checking every byte: the sections must hold
 * exactly what the parameters say. Their sizes are checked before anything is allocated, so a
 * file cannot ask for more memory than a few times its own size. */
static int read_packed_input(mn_classifier *c, const mn_file *f, uint32_t rows, mn_err *err)
{
    const mn_clf_params *p = &c->p;
    const void *gaps = NULL, *packed, *halves;
    size_t gaps_size = 0, cells = (size_t)rows * p->dim;
    int rc;
    if (p->pruned) {
        if (mn_file_section(f, TAG_BUCKETS_GAPS, &gaps, &gaps_size) != 0)
            return mn_err_set(err, MN_ECORRUPT, "section 'BKTV' is missing");
        if (gaps_size < p->nbuckets || gaps_size > (size_t)p->nbuckets * 5)
            return mn_err_set(err, MN_ECORRUPT, "section 'BKTV' holds %zu bytes, not %u ids",
                              gaps_size, p->nbuckets);
    }
    if ((rc = need_section(f, TAG_EMB6, mn_pack6_bytes(cells), &packed, err)) ||
        (rc = need_section(f, TAG_EMBH, (size_t)rows * 2, &halves, err)))
        return rc;
    /* One block (core/big_alloc.h): the rows, then the scales and the ids, 4-byte aligned.
     * Written all over here, so it is taken in huge pages where the kernel offers them: lang's
     * 2.8 MB faulted in 4 KB at a time took half of `micronlp predict` of one line. */
    size_t scale_at = (cells + 3) & ~(size_t)3, ids_at = scale_at + (size_t)rows * 4;
    char *block = mn__big_alloc(ids_at + (p->pruned ? (size_t)p->nbuckets * 4 : 0), 1, 0);
    c->big = block;
    if (!block)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    int8_t *q = (int8_t *)block;
    float *scale = (float *)(void *)(block + scale_at);
    uint32_t *ids = p->pruned ? (uint32_t *)(void *)(block + ids_at) : NULL;
    if (p->pruned) {
        const uint8_t *at = gaps, *end = at + gaps_size;
        uint64_t id = 0;
        for (uint32_t i = 0; i < p->nbuckets; i++) {
            uint32_t gap;
            if (mn_varint_get(&at, end, &gap) != 0 || (i > 0 && gap == 0) ||
                (id += gap) >= p->bucket)
                return mn_err_set(err, MN_ECORRUPT, "kept buckets ('BKTV') are not increasing "
                                                    "ids below the bucket count");
            ids[i] = (uint32_t)id;
        }
        if (at != end)
            return mn_err_set(err, MN_ECORRUPT, "section 'BKTV' holds bytes past its %u ids",
                              p->nbuckets);
        c->buckets = ids;
    }
    if (mn_unpack6(packed, cells, q) != 0)
        return mn_err_set(err, MN_ECORRUPT, "section 'EMB6' has bits set past its last weight");
    const uint8_t *h = halves;
    for (uint32_t r = 0; r < rows; r++) {
        uint16_t v;
        memcpy(&v, h + 2 * (size_t)r, 2);
        scale[r] = mn_half_to_float(v);
        if (!isfinite(scale[r]))
            return mn_err_set(err, MN_ECORRUPT, "section 'EMBH' holds a scale that is not finite");
    }
    c->in = (mn_clf_matrix){.q = q, .scale = scale, .rows = rows, .dim = p->dim};
    return 0;
}

int mn__classifier_load(const mn_file *f, mn_model **out, mn_err *err)
{
    mn_classifier *c = mn__clf_new();
    if (!c) {
        mn_file_close((mn_file *)f);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    c->file = (mn_file *)f;
    int rc = mn__clf_read(c, f, err);
    if (rc) {
        clf_destroy(&c->base);
        return rc;
    }
    *out = &c->base;
    return 0;
}

int mn__clf_read(mn_classifier *c, const mn_file *f, mn_err *err)
{
    const void *d;
    int rc;
    if ((rc = need_section(f, TAG_PARAMS, sizeof c->p, &d, err)))
        goto fail;
    memcpy(&c->p, d, sizeof c->p);
    if ((rc = mn__model_read_common(&c->base, f, err)))
        goto fail;
    const mn_clf_params *p = &c->p;
    uint32_t nl = c->base.nlabels;
    if (p->dim < 1 || p->dim > 4096 || p->loss > MN_LOSS_HS || nl < 1 ||
        p->nout != (p->loss == MN_LOSS_HS ? nl - 1 : nl) || p->word_ngrams > 16 ||
        p->maxn > 64 || (p->maxn && (p->minn < 1 || p->minn > p->maxn)) ||
        (!p->pruned && p->nbuckets != p->bucket) || p->nwords > (1u << 30) ||
        p->nbuckets > (1u << 30) || p->qinput > 1 || p->qoutput > 1 || p->pruned > 1 ||
        (p->in_bits != 0 && (p->in_bits != 6 || !p->qinput)) ||
        (p->token_flags & ~MN__TOKENS_KNOWN) || mn_file_version(f) < mn__clf_min_version(p)) {
        rc = mn_err_set(err, MN_ECORRUPT, "classifier parameters are inconsistent");
        goto fail;
    }
    if ((rc = need_section(f, TAG_VOCAB, (size_t)p->nwords * 8, &d, err)))
        goto fail;
    c->vocab = d;
    uint32_t rows = 1 + p->nwords + p->nbuckets;
    if (p->in_bits == 6) {
        if ((rc = read_packed_input(c, f, rows, err)))
            goto fail;
    } else if (p->pruned) {
        if ((rc = need_section(f, TAG_BUCKETS, (size_t)p->nbuckets * 4, &d, err)))
            goto fail;
        c->buckets = d;
        /* Rows follow the kept ids' order, which the rank lines take as increasing. */
        for (uint32_t i = 0; i < p->nbuckets; i++) {
            if (c->buckets[i] >= p->bucket || (i > 0 && c->buckets[i] <= c->buckets[i - 1])) {
                rc = mn_err_set(err, MN_ECORRUPT, "kept buckets ('BKTS') are not increasing "
                                                  "ids below the bucket count");
                goto fail;
            }
        }
    }
    if ((p->in_bits != 6 && (rc = load_matrix(f, (int)p->qinput, rows, p->dim, TAG_EMB,
                                              TAG_EMBQ, TAG_EMBS, &c->in, err))) ||
        (rc = load_matrix(f, (int)p->qoutput, p->nout, p->dim, TAG_OUT, TAG_OUTQ, TAG_OUTS,
                          &c->out, err)))
        goto fail;
    if (p->loss == MN_LOSS_HS && nl > 1) {
        size_t ni = nl - 1;
        if ((rc = need_section(f, TAG_TREE, ni * 8, &d, err)))
            goto fail;
        c->tree.left = d;
        c->tree.right = c->tree.left + ni;
        c->tree.nlabels = nl;
        /* Children must be earlier nodes: that bounds every walk, whatever the file says. */
        for (size_t i = 0; i < ni; i++) {
            if (c->tree.left[i] < 0 || c->tree.right[i] < 0 ||
                (size_t)c->tree.left[i] >= nl + i || (size_t)c->tree.right[i] >= nl + i) {
                rc = mn_err_set(err, MN_ECORRUPT, "hierarchical softmax tree is malformed");
                goto fail;
            }
        }
    }
    if ((rc = mn__clf_index(c)) || (rc = build_blocked_out(c))) {
        mn_err_set(err, rc, "out of memory building the lookup tables");
        goto fail;
    }
    c->base.size_bytes = mn_file_size(f);
    return 0;
fail:
    return rc;
}
