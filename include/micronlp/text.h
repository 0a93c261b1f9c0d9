/* SPDX-License-Identifier: MIT
 *
 * The text layer: UTF-8 validation and repair, Unicode normalisation (NFKC + case folding, via
 * utf8proc), a word tokenizer that reports byte offsets into the original text, and hashing of
 * words, word n-grams and character n-grams into feature ids.
 *
 * Nothing in this header allocates: callers pass buffers, tokens are (offset, length) pairs into
 * the caller's text. All functions are thread-safe (they keep no state of their own).
 */
#ifndef MICRONLP_TEXT_H
#define MICRONLP_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A borrowed byte range. */
typedef struct mn_span {
    const char *ptr;
    size_t len;
} mn_span;

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Returns 0 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF),
 * else MN_EUTF8 with *bad_offset (if not NULL) set to the byte offset of the first bad byte. */
int mn_utf8_validate(const char *s, size_t len, size_t *bad_offset);

/* Decodes one code point at s (len > 0 bytes available). Returns the number of bytes consumed
 * (1..4) and stores the code point in *cp; an ill-formed sequence consumes 1 byte and stores
 * -1. */
size_t mn_utf8_decode(const char *s, size_t len, int32_t *cp);

/* Encodes cp (valid scalar value) into out (>= 4 bytes). Returns bytes written (1..4). */
size_t mn_utf8_encode(int32_t cp, char *out);

/* Lenient mode: copies s to out replacing each ill-formed sequence by U+FFFD (EF BF BD).
 * out must have room for 3 * len bytes. Returns the bytes written. out may not alias s. */
size_t mn_utf8_repair(const char *s, size_t len, char *out);

/* ---- normalisation ---------------------------------------------------------------------- */

enum {
    MN_NORM_NFKC = 1u << 0,     /* compatibility composition: "ﬁ" -> "fi", full-width -> ASCII */
    MN_NORM_CASEFOLD = 1u << 1, /* Unicode case folding: "Straße" -> "strasse" */
    /* drop combining diacritics (U+0300..036F, 1AB0..1AFF, 1DC0..1DFF, 20D0..20FF, FE20..FE2F)
     * after decomposition: "café" -> "cafe"; script marks (kana voicing, viramas) are kept */
    MN_NORM_STRIP_MARKS = 1u << 2,
};

/* Normalises s[0..len) (valid UTF-8; ill-formed bytes become U+FFFD) into out[0..cap).
 * Returns 0 and stores the length in *out_len, or MN_ETOOBIG if cap is too small (then
 * *out_len holds the size needed). 4 * len + 16 bytes is always enough for NFKC+casefold of
 * text in practice; the exact bound is reported on MN_ETOOBIG. ASCII input takes a fast path. */
int mn_normalize(const char *s, size_t len, unsigned flags, char *out, size_t cap,
                 size_t *out_len);

/* ---- tokenizer -------------------------------------------------------------------------- */

typedef enum mn_token_kind {
    MN_TOK_WORD = 0, /* letters/marks/digits mixed, incl. inner apostrophes and hyphens */
    MN_TOK_NUMBER,   /* 12, 3.14, 1,000, -5, 10%  */
    MN_TOK_URL,      /* http://..., https://..., www.example.com/path */
    MN_TOK_EMAIL,    /* a.b@example.com */
    MN_TOK_HANDLE,   /* @user */
    MN_TOK_HASHTAG,  /* #topic */
    MN_TOK_EMOJI,    /* one emoji incl. ZWJ sequences, skin tones, flags */
    MN_TOK_CJK,      /* one Han ideograph, or a run of kana */
    MN_TOK_PUNCT,    /* one punctuation character (runs like "..." or "!!" kept together) */
    MN_TOK_SYMBOL,   /* other symbols, and ill-formed bytes (one token per byte) */
    MN_TOK__COUNT
} mn_token_kind;

/* One token: a byte range of the original text. */
typedef struct mn_token {
    uint32_t off; /* byte offset into the text */
    uint32_t len; /* length in bytes */
    uint8_t kind; /* mn_token_kind */
} mn_token;

/* Tokenizer state over a caller-owned text. Init, then call next until it returns 0. */
typedef struct mn_tokenizer {
    const char *text;
    size_t len;
    size_t pos;
} mn_tokenizer;

void mn_tokenizer_init(mn_tokenizer *t, const char *text, size_t len);

/* Stores the next token in *tok and returns 1, or returns 0 at the end. Whitespace (Unicode
 * White_Space) separates tokens and is never part of one. */
int mn_tokenizer_next(mn_tokenizer *t, mn_token *tok);

/* The bit of a token kind in the skip mask of mn_tokenizer_next_batch. */
#define MN_TOK_BIT(kind) (1u << (kind))

/* The next tokens, as mn_tokenizer_next gives them one by one, less those whose kind is in
 * skip (MN_TOK_BIT(MN_TOK_PUNCT) | ..., or 0 for all): stores up to cap of them in out and
 * returns how many. Fewer than cap means the text is done. If hashes is not NULL, also stores
 * hashes[i] = mn_hash64(src + out[i].off, out[i].len), where src is the text itself or a copy
 * of it with the same offsets (lower-cased, say); src is not read when hashes is NULL.
 * For feature extraction: one call per batch instead of one or two per token, and each token
 * is hashed as soon as it is cut, so the processor overlaps the two. */
size_t mn_tokenizer_next_batch(mn_tokenizer *t, unsigned skip, const char *src, mn_token *out,
                               uint64_t *hashes, size_t cap);

/* Convenience: tokenizes the whole text into out[0..cap). Returns the total number of tokens,
 * which may exceed cap (only the first cap are stored). */
size_t mn_tokenize(const char *text, size_t len, mn_token *out, size_t cap);

/* Short name of a token kind ("word", "url", ...). */
const char *mn_token_kind_name(int kind);

/* ---- hashing and n-grams ---------------------------------------------------------------- */

/* 64-bit hash of a byte string (XXH3, fixed seed): stable across platforms and versions,
 * because model files store these values. */
uint64_t mn_hash64(const void *data, size_t len);

/* Combines the hashes of consecutive words into one n-gram hash (order-sensitive). */
static inline uint64_t mn_hash_combine(uint64_t h, uint64_t next)
{
    /* Multiply-xorshift mix: cheap, and good enough to spread n-grams over buckets. */
    h ^= next + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* Word n-grams of order 2..n over word hashes h[0..count): writes (hash % bucket) for each
 * n-gram to out[0..cap), in order (all bigrams at i, then trigrams at i, ... for i = 0..count).
 * Returns the number of n-grams, which may exceed cap (only the first cap are stored).
 * bucket must be > 0. */
size_t mn_word_ngrams(const uint64_t *h, size_t count, int n, uint32_t bucket, uint32_t *out,
                      size_t cap);

/* Character n-grams of the word w[0..len) wrapped as "<w>", for lengths minn..maxn counted in
 * code points (never splitting a UTF-8 sequence), hashed (mn_hash64) and reduced modulo bucket
 * into out[0..cap). The lone boundary markers "<" and ">" are never produced (as in fastText).
 * Order: by start position, then by length. Returns the count, which may exceed cap.
 * minn >= 1, maxn >= minn, bucket > 0; maxn == 0 produces nothing. */
size_t mn_char_ngrams(const char *w, size_t len, int minn, int maxn, uint32_t bucket,
                      uint32_t *out, size_t cap);

/* ==== sentence splitting ================================================================== *
 *
 * A rule-based sentence splitter over the caller's text, reporting byte ranges like the
 * tokenizer (no allocation, no state beyond the iterator). A sentence ends after a terminator
 * (. ! ? and runs of them, the ellipsis …, and 。！？｡ ؟ ۔ । ॥) plus any closing quotes and
 * brackets, when whitespace or the end of the text follows (the CJK full stops end a
 * sentence even without a space), and always at a blank line. A full stop does not end one:
 *   - inside a token (3.14, e.g., U.S., example.com): no whitespace follows it
 *   - after a known abbreviation (Mr. Dr. Prof. St. vs. Inc. Jan. Fig. No. ...) or a word
 *     with inner full stops (e.g. U.S. a.m.)
 *   - after a single capital letter (initials: J. R. R. Tolkien)
 *   - when the next word starts with a lower-case ASCII letter ("approx. five", "wait... no")
 * Sentences are trimmed of surrounding whitespace; blank stretches produce none. */

typedef struct mn_sentence {
    uint32_t off; /* byte offset into the text */
    uint32_t len; /* length in bytes */
} mn_sentence;

typedef struct mn_sentencer {
    const char *text;
    size_t len;
    size_t pos;
} mn_sentencer;

void mn_sentencer_init(mn_sentencer *s, const char *text, size_t len);

/* Stores the next sentence in *out and returns 1, or returns 0 at the end. Texts longer than
 * 4 GiB are cut at 4 GiB. Ill-formed UTF-8 is read as one byte per code point. */
int mn_sentencer_next(mn_sentencer *s, mn_sentence *out);

/* Convenience: splits the whole text into out[0..cap). Returns the total number of sentences,
 * which may exceed cap (only the first cap are stored). */
size_t mn_sentences(const char *text, size_t len, mn_sentence *out, size_t cap);

#endif
