/* SPDX-License-Identifier: MIT
 *
 * The keywords model (MN_MODEL_KEYWORDS, include/micronlp/keywords.h): stop-word lists for
 * many languages, stored as hashes, and unsupervised key-phrase extraction over them.
 *
 * Storage. A stop word (or stop phrase: "ai nấy", "一个") is tokenised as text is, each token
 * normalised (NFKC + case fold) and hashed (mn_hash64), the token hashes combined in order
 * (mn_hash_combine). All (hash, language) pairs of all lists sit in one array sorted by hash,
 * with a parallel array of language ids and a bucket index on the hash's top bits, so a lookup
 * reads a handful of neighbouring entries (about 3 for stopwords-iso's 21,600 words and 8,192
 * buckets) and the same array answers "which languages have this word" for guessing the list.
 * A bitset on the hashes' low bits, derived at load (not stored), turns most misses away
 * before the scan.
 *
 *   'KWPR'  kw_params (32 bytes): version, languages, entries, bucket bits
 *   'KWLN'  per language: kw_lang (8 bytes): words, longest entry in tokens and code points
 *   'KWHS'  entries x u64: hashes, sorted (ties by language)
 *   'KWLG'  entries x u16: the language of each entry
 *   'KWIX'  (2^bits + 1) x u32: KWIX[b] = first entry whose hash >> (64 - bits) >= b
 *   'KWAL'  aliases: u32 count, then count x { u32 language, u32 len, len bytes }
 *   'KWFT'  optional: kw_first (16 bytes) per distinct (first token, language) of the stop
 *           phrases of two or more tokens, sorted; without it, every window of tokens is
 *           looked up (files written before it)
 *   LABL, META as every model (labels: the languages' own codes, "en")
 *
 * Extraction (mn_keywords_extract_ex) runs in passes over one token array, all in the caller's
 * scratch (slot 0: tokens, spelling, word and phrase tables carved from one block; slot 1: the
 * normalisation buffer; both grow-only), so a warm call allocates nothing:
 *   1. tokens: mn_tokenizer_next; Thai/Lao words split at the list's stop words found inside
 *      them; per token the sentence (mn_sentencer), and the normalised hash, casing, kind and
 *      word of its spelling, worked out once per distinct spelling
 *   2. words (in the same pass): distinct normalised words, their frequency and statistics
 *   3. language: the given list, or a guess from stop-word hits, or none (a length rule)
 *   4. stop marks (longest stop phrase first, through the list's own filter, from the tokens
 *      that may start one: 'KWFT'), content marks
 *   5. word scores, candidates (runs of content tokens within a sentence) and their scores
 *   6. ranking (an in-place heapsort: qsort may allocate) and containment dedupe; for YAKE,
 *      scores and ranking of the few phrases that may rank (rank_few) when that settles it
 */
#include "micronlp/keywords.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "internal.h"
#include "micronlp/alloc.h"
#include "micronlp/text.h"

#define TAG_KWPR MN_TAG('K', 'W', 'P', 'R')
#define TAG_KWLN MN_TAG('K', 'W', 'L', 'N')
#define TAG_KWHS MN_TAG('K', 'W', 'H', 'S')
#define TAG_KWLG MN_TAG('K', 'W', 'L', 'G')
#define TAG_KWIX MN_TAG('K', 'W', 'I', 'X')
#define TAG_KWAL MN_TAG('K', 'W', 'A', 'L')
#define TAG_KWFT MN_TAG('K', 'W', 'F', 'T')
#define KW_VERSION 1u

enum {
    KW_MAX_STOP_TOKENS = 8, /* longest stop phrase, in tokens */
    KW_GUESS_TOKENS_BYTES = 1 << 16, /* texts up to this size are tokenized once (see extract) */
    KW_CODE_MAX = 15,       /* longest language code, in bytes */
    KW_MAX_CPS = 32,        /* longest stop word tried inside a Thai/Lao word, in code points */
    KW_DEFAULT_WORDS = 4,
    KW_MAX_WORDS = 8,
    KW_GUESS_WORDS = 512, /* words of the text looked at to guess the list */
    KW_UPPER_MEMO = 64,   /* slots of is_upper_memo (a power of two) */
    KW_TOKEN_BATCH = 64,  /* tokens cut per mn_tokenizer_next_batch call */
    SLOT_KW = 0,
    SLOT_KW_NORM = 1,
};
#define NONE UINT32_MAX

/* Section 'KWPR' (little-endian). */
typedef struct kw_params {
    uint32_t version;     /* KW_VERSION */
    uint32_t nlangs;      /* languages (= labels) */
    uint32_t nentries;    /* (hash, language) pairs */
    uint32_t bucket_bits; /* 1..24: KWIX has 2^bucket_bits + 1 entries */
    uint32_t reserved[4];
} kw_params;
_Static_assert(sizeof(kw_params) == 32, "KWPR is 32 bytes");

/* Section 'KWLN', one per language. */
typedef struct kw_lang {
    uint32_t words;      /* distinct normalised entries */
    uint16_t max_tokens; /* longest entry, in tokens (1..8) */
    uint16_t max_cps;    /* longest Thai/Lao entry, in code points (0: none; splits words) */
} kw_lang;
_Static_assert(sizeof(kw_lang) == 8, "KWLN entries are 8 bytes");

/* Section 'KWFT': the first token of a stop phrase of two or more tokens. The entries hold
 * only whole-phrase hashes, so this is what tells, from one token, that no stop phrase can
 * start there. */
typedef struct kw_first {
    uint64_t h; /* the token's normalised hash */
    uint32_t lang;
    uint32_t reserved; /* 0 */
} kw_first;
_Static_assert(sizeof(kw_first) == 16, "KWFT entries are 16 bytes");

/* A language code (label or alias) and the list it names, sorted by code for lookup. */
typedef struct kw_code {
    char code[KW_CODE_MAX + 1];
    uint32_t lang;
    uint32_t is_label;
} kw_code;

/* Where one language's filter lies in an array of them: from word off, bits - 1 = mask. */
typedef struct kw_span {
    uint32_t off;
    uint32_t mask;
} kw_span;

typedef struct mn_keywords {
    mn_model base;
    mn_file *file; /* the mapping, or NULL for a built model */
    kw_params p;
    const kw_lang *langs;
    const uint64_t *hashes;
    const uint16_t *lang_of;
    const uint32_t *index;
    kw_lang *langs_owned; /* built model: the arrays above */
    uint64_t *hashes_owned;
    uint16_t *lang_of_owned;
    uint32_t *index_owned;
    const kw_first *firsts; /* 'KWFT', or NULL when the file has none */
    uint32_t nfirsts;
    kw_first *firsts_owned;
    kw_code *codes; /* labels and aliases, sorted by code */
    uint32_t ncodes;
    uint64_t *filter;     /* built at load: bit (h & filter_mask) set for every entry's hash */
    uint64_t filter_mask; /* filter bits - 1 */
    uint64_t *lang_filter; /* built at load: the languages' own filters (lang_filter_at) */
    struct {
        kw_span stop;  /* the language's filter in lang_filter */
        kw_span first; /* its filter of phrase starts in first_filter */
    } *lang_filter_at;
    uint64_t *first_filter; /* built at load from firsts (first_filter_build), or NULL */
} mn_keywords;

static inline uint32_t shift_of(const mn_keywords *kw)
{
    return 64u - kw->p.bucket_bits;
}

/* The filters below are bitsets of hash bits: a clear bit says no entry has that hash. */
static inline int bit_get(const uint64_t *words, uint64_t bit)
{
    return (int)((words[bit >> 6] >> (bit & 63)) & 1);
}

static inline void bit_set(uint64_t *words, uint64_t bit)
{
    words[bit >> 6] |= (uint64_t)1 << (bit & 63);
}

/* Bits of a filter of n entries at about per bits each: a power of two, from 64 up to cap. */
static size_t filter_bits(size_t n, size_t per, size_t cap)
{
    size_t bits = 64;
    while (bits < cap && bits < n * per)
        bits <<= 1;
    return bits;
}

/* The next filter of `bits` bits in an array of them that holds *words words so far. */
static kw_span span_next(size_t bits, size_t *words)
{
    kw_span sp = {.off = (uint32_t)*words, .mask = (uint32_t)(bits - 1)};
    *words += bits / 64;
    return sp;
}

/* 0 if no list has h; 1 if one may. Most words and phrases looked up are on no list, and
 * the filter answers them from one bit instead of reading the bucket's index entry, hashes
 * and language ids: three cache lines from about 250 KB of tables for stopwords-iso. It reads
 * the hash's low bits because the top ones only pick the bucket. */
static inline int filter_may_have(const mn_keywords *kw, uint64_t h)
{
    return bit_get(kw->filter, h & kw->filter_mask);
}

/* A language's own filter: bit (h >> 40) & mask set for each of its entries' hashes, about 32
 * bits an entry (8 KB for English's 1,300), so the filter of the list in use stays in the L1
 * cache and turns away all but about 1 in 30 lookups of words that are not on it (the other
 * languages' words too). */
static inline uint64_t lang_filter_bit(uint64_t h, uint32_t mask)
{
    return (h >> 40) & mask;
}

/* A language's filters of phrase starts: bit h & mask set for the first token of each of its
 * stop phrases of two or more tokens (kw_first), about 64 bits each (64 bytes for English's 8
 * tokens, 2 KB for Chinese's 216), so that all but about 1 in 64 tokens that start none skip
 * the windows of tokens from them (mark_pass): combining and looking up the hashes of those
 * windows cost more than the rest of the stop marks. Built when the model has kw->firsts. */
static int first_filter_build(mn_keywords *kw)
{
    size_t total = 0;
    for (uint32_t l = 0; l < kw->p.nlangs; l++) {
        size_t count = 0;
        for (uint32_t i = 0; i < kw->nfirsts; i++)
            count += kw->firsts[i].lang == l;
        kw->lang_filter_at[l].first = span_next(filter_bits(count, 64, (size_t)1 << 24), &total);
    }
    kw->first_filter = mn_calloc(total ? total : 1, sizeof *kw->first_filter);
    if (!kw->first_filter)
        return MN_ENOMEM;
    for (uint32_t i = 0; i < kw->nfirsts; i++) {
        kw_span sp = kw->lang_filter_at[kw->firsts[i].lang].first;
        bit_set(kw->first_filter + sp.off, kw->firsts[i].h & sp.mask);
    }
    return 0;
}

/* Derives the filters from kw->hashes: the one of all lists, about 8 bits an entry (32 KB for
 * stopwords-iso), so about 1 word in 13 that is on no list still scans its bucket; and one per
 * language (lang_filter_bit). */
static int filter_build(mn_keywords *kw)
{
    size_t bits = filter_bits(kw->p.nentries, 8, (size_t)1 << 28);
    kw->filter = mn_calloc(bits / 64, sizeof *kw->filter);
    if (!kw->filter)
        return MN_ENOMEM;
    kw->filter_mask = bits - 1;
    for (uint32_t i = 0; i < kw->p.nentries; i++)
        bit_set(kw->filter, kw->hashes[i] & kw->filter_mask);
    uint32_t nl = kw->p.nlangs;
    kw->lang_filter_at = mn_calloc(nl ? nl : 1, sizeof *kw->lang_filter_at);
    if (!kw->lang_filter_at)
        return MN_ENOMEM;
    size_t total = 0;
    for (uint32_t l = 0; l < nl; l++)
        kw->lang_filter_at[l].stop =
            span_next(filter_bits(kw->langs[l].words, 32, (size_t)1 << 24), &total);
    kw->lang_filter = mn_calloc(total ? total : 1, sizeof *kw->lang_filter);
    if (!kw->lang_filter)
        return MN_ENOMEM;
    for (uint32_t i = 0; i < kw->p.nentries; i++) {
        kw_span sp = kw->lang_filter_at[kw->lang_of[i]].stop;
        bit_set(kw->lang_filter + sp.off, lang_filter_bit(kw->hashes[i], sp.mask));
    }
    return kw->firsts ? first_filter_build(kw) : 0;
}

/* The stop-word tables of one language, held in locals: a pass making millions of lookups
 * (mark_pass) would otherwise reload them from the model after every write to a token's
 * flags, which may alias anything. */
typedef struct stop_probe {
    const uint64_t *filter; /* the language's own filter (lang_filter_bit) */
    uint32_t filter_mask;
    uint32_t first_mask;
    const uint64_t *first; /* its filter of phrase starts (first_filter_build), or NULL */
    const uint32_t *index;
    const uint64_t *hashes;
    const uint16_t *lang_of;
    uint32_t shift;
    uint32_t lang;
} stop_probe;

static inline stop_probe stop_probe_of(const mn_keywords *kw, uint32_t lang)
{
    kw_span stop = kw->lang_filter_at[lang].stop, first = kw->lang_filter_at[lang].first;
    return (stop_probe){.filter = kw->lang_filter + stop.off,
                        .filter_mask = stop.mask,
                        .first_mask = first.mask,
                        .first = kw->first_filter ? kw->first_filter + first.off : NULL,
                        .index = kw->index, .hashes = kw->hashes, .lang_of = kw->lang_of,
                        .shift = shift_of(kw), .lang = lang};
}

/* 1 if (h, sp->lang) is an entry, looked up in the tables (the filter not asked). */
static inline int probe_scan(const stop_probe *sp, uint64_t h)
{
    uint32_t b = (uint32_t)(h >> sp->shift);
    for (uint32_t i = sp->index[b], e = sp->index[b + 1]; i < e; i++) {
        uint64_t x = sp->hashes[i];
        if (x > h)
            return 0;
        if (x == h && sp->lang_of[i] == sp->lang)
            return 1;
    }
    return 0;
}

static inline int probe_may_have(const stop_probe *sp, uint64_t h)
{
    return bit_get(sp->filter, lang_filter_bit(h, sp->filter_mask));
}

/* 0 if no stop phrase of two or more tokens of sp->lang starts with the token hashed h. */
static inline int probe_may_start(const stop_probe *sp, uint64_t h)
{
    return !sp->first || bit_get(sp->first, h & sp->first_mask);
}

/* 1 if (h, sp->lang) is an entry. */
static inline int probe_has(const stop_probe *sp, uint64_t h)
{
    return probe_may_have(sp, h) && probe_scan(sp, h);
}

/* 1 if (h, lang) is an entry. */
static inline int stop_has(const mn_keywords *kw, uint32_t lang, uint64_t h)
{
    const stop_probe sp = stop_probe_of(kw, lang);
    return probe_has(&sp, h);
}

/* ---- language codes ----------------------------------------------------------------------- */

static int code_cmp(const void *a, const void *b)
{
    return strcmp(((const kw_code *)a)->code, ((const kw_code *)b)->code);
}

static int code_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lower-cases code[0..len) into buf (KW_CODE_MAX + 1); 0 if it is not a valid code. */
static int code_norm(const char *code, size_t len, char *buf)
{
    if (len == 0 || len > KW_CODE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (!code_char_ok(c))
            return 0;
        buf[i] = c;
    }
    buf[len] = '\0';
    return 1;
}

static int32_t find_code(const mn_keywords *kw, const char *lang, size_t lang_len)
{
    /* The primary subtag: "en-US" -> "en", "zh_Hans" -> "zh". */
    size_t n = 0;
    while (n < lang_len && lang[n] != '-' && lang[n] != '_')
        n++;
    kw_code key;
    if (!code_norm(lang, n, key.code))
        return -1;
    size_t lo = 0, hi = kw->ncodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(kw->codes[mid].code, key.code);
        if (c == 0)
            return (int32_t)kw->codes[mid].lang;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const mn_keywords *as_kw(const mn_model *m)
{
    return m && m->type == MN_MODEL_KEYWORDS ? (const mn_keywords *)m : NULL;
}

int32_t mn_keywords_lang_find(const mn_model *m, const char *lang, size_t lang_len)
{
    const mn_keywords *kw = as_kw(m);
    return kw && lang ? find_code(kw, lang, lang_len) : -1;
}

int mn_keywords_has_lang(const mn_model *m, const char *lang, size_t lang_len)
{
    return mn_keywords_lang_find(m, lang, lang_len) >= 0;
}

/* ---- hashing a word or phrase as the lists store it -------------------------------------- */

/* A grow-only buffer for normalised tokens: the scratch's slot (extraction) or a heap block
 * (building). */
typedef struct nbuf {
    mn_scratch *s; /* NULL: p is owned and grown with mn_realloc */
    char *p;
    size_t cap;
} nbuf;

static int nbuf_norm(nbuf *b, const char *w, size_t len, const char **out, size_t *out_len)
{
    size_t need = 0;
    int rc = mn_normalize(w, len, MN_NORM_NFKC | MN_NORM_CASEFOLD, b->p, b->cap, &need);
    if (rc == MN_ETOOBIG) {
        size_t cap = need + 16;
        if (b->s) {
            char *np = mn__scratch_reserve(b->s, SLOT_KW_NORM, cap);
            if (!np)
                return MN_ENOMEM;
            b->p = np;
            b->cap = b->s->cap[SLOT_KW_NORM];
        } else {
            char *np = mn_realloc(b->p, cap);
            if (!np)
                return MN_ENOMEM;
            b->p = np;
            b->cap = cap;
        }
        rc = mn_normalize(w, len, MN_NORM_NFKC | MN_NORM_CASEFOLD, b->p, b->cap, &need);
    }
    if (rc)
        return rc;
    *out = b->p;
    *out_len = need;
    return 0;
}

static int nbuf_hash(nbuf *b, const char *w, size_t len, uint64_t *h)
{
    const char *p;
    size_t n;
    int rc = nbuf_norm(b, w, len, &p, &n);
    if (rc)
        return rc;
    *h = mn_hash64(p, n);
    return 0;
}

/* Hash of a word or stop phrase: its tokens' normalised hashes combined. *ntok gets the token
 * count (0: nothing but whitespace), *first (unless NULL) the first token's hash; at most
 * KW_MAX_STOP_TOKENS are hashed. */
static int phrase_hash(nbuf *b, const char *w, size_t len, uint64_t *h, size_t *ntok,
                       uint64_t *first)
{
    mn_tokenizer t;
    mn_token tok;
    size_t n = 0;
    uint64_t acc = 0;
    mn_tokenizer_init(&t, w, len);
    while (mn_tokenizer_next(&t, &tok)) {
        if (++n > KW_MAX_STOP_TOKENS)
            break;
        uint64_t th;
        int rc = nbuf_hash(b, w + tok.off, tok.len, &th);
        if (rc)
            return rc;
        acc = n == 1 ? th : mn_hash_combine(acc, th);
        if (n == 1 && first)
            *first = th;
    }
    *h = acc;
    *ntok = n;
    return 0;
}

static size_t count_cps(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

int mn_keywords_is_stopword(const mn_model *m, uint32_t lang, const char *word, size_t len)
{
    const mn_keywords *kw = as_kw(m);
    if (!kw || lang >= kw->p.nlangs || (!word && len))
        return 0;
    char local[256];
    nbuf b = {.s = NULL, .p = local, .cap = sizeof local};
    uint64_t h = 0;
    size_t ntok = 0;
    int rc = phrase_hash(&b, word ? word : "", len, &h, &ntok, NULL);
    /* A word longer than the stack buffer made b.p a heap block (never the case for the
     * stack buffer itself). */
    if (b.p != local)
        mn_free(b.p);
    if (rc || ntok == 0 || ntok > KW_MAX_STOP_TOKENS)
        return 0;
    return stop_has(kw, lang, h);
}

/* ---- extraction ------------------------------------------------------------------------ */

enum {
    TF_WORD = 1u << 0,    /* a word, CJK character/kana run or hashtag: has word statistics */
    TF_STOP = 1u << 1,    /* on the stop list (or the stand-in rule) */
    TF_CONTENT = 1u << 2, /* may be part of a phrase */
    TF_UPPER = 1u << 3,   /* starts with a capital, not at the start of a sentence */
    TF_ACRONYM = 1u << 4, /* all capitals, at least two letters */
    TF_CJK = 1u << 5,     /* a Han character or kana run */
    TF_LETTER = 1u << 6,  /* holds a letter (not only digits and signs) */
    TF_KANA = 1u << 7,    /* hiragana only: particles and endings, never content */
};

typedef struct kw_tok {
    uint32_t off, len; /* bytes of the text */
    uint64_t h;        /* normalised hash (stop-word lookups) */
    uint32_t word;     /* index into the word table, or NONE */
    uint32_t sent;     /* sentence index */
    uint8_t kind;      /* mn_token_kind */
    uint8_t flags;     /* TF_* */
    uint8_t cps;       /* code points, at most 255 */
    uint8_t trim;      /* bytes of a possessive "'s" / "’s" left out of spans and statistics */
    uint8_t cap0;      /* a word (not CJK) starting with a capital: TF_UPPER off a sentence start */
} kw_tok;

typedef struct kw_word {
    uint64_t h;          /* normalised hash, possessive removed */
    uint32_t tf;         /* occurrences */
    uint32_t tf_case;    /* capitalised (not sentence-initial) or acronym occurrences */
    uint32_t sf;         /* sentences it occurs in */
    uint32_t last_sent;  /* sentence of the previous occurrence */
    uint32_t first_sent; /* sentence of the first occurrence */
    uint32_t left_d;     /* distinct words seen just before it */
    uint32_t right_d;    /* ... just after it */
    uint32_t left_n;     /* occurrences with a word just before */
    uint32_t right_n;    /* ... just after */
    uint32_t deg, cfreq; /* RAKE: sum of the lengths of the candidates holding it; count */
    double score;        /* YAKE: S(w), lower is better; RAKE: deg / freq */
    uint8_t stop1;       /* mark_pass: the word alone is on the list: 0 not asked, 1 no, 2 yes */
} kw_word;

typedef struct kw_phrase {
    uint64_t h;
    uint32_t first, end; /* tokens of the first occurrence */
    uint32_t tf;
    uint64_t mask; /* bit (word hash % 64) of each word: phrases sharing no bit share no word */
    double prod;   /* YAKE: product of the word scores, first to last */
    double sum;    /* ... and their sum */
    double score;  /* normalised: 1 = best */
} kw_phrase;

typedef struct kw_run {
    const mn_keywords *kw;
    mn_scratch *s;
    const char *text;
    size_t len;
    int32_t lang; /* list used for splitting Thai words during tokenisation, or -1 */
    nbuf nb;
    int32_t up_cp[KW_UPPER_MEMO]; /* is_upper_memo: code point of each slot, -1 if empty */
    uint8_t up_is[KW_UPPER_MEMO]; /* ... and whether it is a capital */
} kw_run;

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Thai and Lao: scripts written without spaces between words whose lists we can split by. */
static int no_space_script(int32_t cp)
{
    return cp >= 0x0E01 && cp <= 0x0EFF;
}

/* A word may start at byte q of the token [a, b): not before a combining vowel or tone mark,
 * not after a leading vowel. */
static int split_ok(const char *t, size_t a, size_t q, size_t b)
{
    if (q == a || q == b)
        return 1;
    int32_t cp, prev = -1;
    mn_utf8_decode(t + q, b - q, &cp);
    size_t r = q;
    while (r > a && ((unsigned char)t[r - 1] & 0xC0) == 0x80)
        r--;
    if (r > a) {
        size_t p = r - 1;
        while (p > a && ((unsigned char)t[p] & 0xC0) == 0x80)
            p--;
        mn_utf8_decode(t + p, q - p, &prev);
    }
    if (cp == 0x0E31 || (cp >= 0x0E34 && cp <= 0x0E3A) || (cp >= 0x0E47 && cp <= 0x0E4E) ||
        cp == 0x0EB1 || (cp >= 0x0EB4 && cp <= 0x0EBC) || (cp >= 0x0EC8 && cp <= 0x0ECD))
        return 0;
    if ((prev >= 0x0E40 && prev <= 0x0E44) || (prev >= 0x0EC0 && prev <= 0x0EC4))
        return 0;
    return 1;
}

/* Tokens as they are found: all are counted, the first cap stored. */
typedef struct tok_out {
    kw_tok *p;
    size_t n, cap;
    size_t nwords; /* tokens of the kinds that are words (TF_WORD) */
    size_t nlong;  /* tokens of two or more bytes (the spelling table's, see analyse_tokens) */
} tok_out;

/* The token kinds that are words (TF_WORD). */
#define WORD_KINDS (MN_TOK_BIT(MN_TOK_WORD) | MN_TOK_BIT(MN_TOK_CJK) | MN_TOK_BIT(MN_TOK_HASHTAG))

static inline void put_tok(tok_out *o, uint32_t off, uint32_t len, uint8_t kind)
{
    if (o->n < o->cap)
        o->p[o->n] = (kw_tok){.off = off, .len = len, .kind = kind, .word = NONE};
    o->n++;
    o->nwords += (WORD_KINDS >> kind) & 1;
    o->nlong += len > 1;
}

/* Splits a Thai/Lao word [a, b) at the stop words of r->lang found in it (longest first,
 * left to right) and emits the pieces. */
static int split_word(kw_run *r, size_t a, size_t b, tok_out *out)
{
    const mn_keywords *kw = r->kw;
    uint32_t lang = (uint32_t)r->lang;
    size_t maxc = kw->langs[lang].max_cps;
    size_t p = a, seg = a;
    while (p < b) {
        size_t best = 0;
        if (split_ok(r->text, a, p, b)) {
            size_t q = p, c = 0;
            while (q < b && c < maxc) {
                int32_t cp;
                q += mn_utf8_decode(r->text + q, b - q, &cp);
                c++;
                if (c < 2 || !split_ok(r->text, a, q, b))
                    continue;
                uint64_t h;
                int rc = nbuf_hash(&r->nb, r->text + p, q - p, &h);
                if (rc)
                    return rc;
                if (stop_has(kw, lang, h))
                    best = q;
            }
        }
        if (best) {
            if (seg < p)
                put_tok(out, (uint32_t)seg, (uint32_t)(p - seg), MN_TOK_WORD);
            put_tok(out, (uint32_t)p, (uint32_t)(best - p), MN_TOK_WORD);
            p = seg = best;
            continue;
        }
        int32_t cp;
        p += mn_utf8_decode(r->text + p, b - p, &cp);
    }
    if (seg < b)
        put_tok(out, (uint32_t)seg, (uint32_t)(b - seg), MN_TOK_WORD);
    return 0;
}

/* Pass 1a: tokens; out->n ends as the count, even past out->cap. The tokens are put into a
 * local tok_out, which stays in registers: through out, every store of a token may alias the
 * counts and makes them reloaded. */
static int tokens_pass(kw_run *r, tok_out *out)
{
    mn_tokenizer t;
    mn_token batch[KW_TOKEN_BATCH];
    tok_out o = {.p = out->p, .cap = out->cap};
    int split = r->lang >= 0 && r->kw->langs[r->lang].max_cps >= 2;
    mn_tokenizer_init(&t, r->text, r->len);
    /* In batches: the batch cuts its tokens without a call per token (mn_tokenizer_next is
     * one), and gives the same tokens. A batch short of its size ends the text. */
    size_t got;
    do {
        got = mn_tokenizer_next_batch(&t, 0, r->text, batch, NULL, KW_TOKEN_BATCH);
        for (size_t b = 0; b < got; b++) {
            const mn_token *tok = &batch[b];
            if (split && tok->kind == MN_TOK_WORD && (unsigned char)r->text[tok->off] >= 0xE0) {
                int32_t cp;
                mn_utf8_decode(r->text + tok->off, tok->len, &cp);
                if (no_space_script(cp)) {
                    tok_out pieces = o;
                    int rc = split_word(r, tok->off, (size_t)tok->off + tok->len, &pieces);
                    o = pieces;
                    if (rc)
                        return rc;
                    continue;
                }
            }
            put_tok(&o, tok->off, tok->len, tok->kind);
        }
    } while (got == KW_TOKEN_BATCH);
    *out = o;
    return 0;
}

static int is_upper_cp(const char *s, size_t len, size_t *cp_len)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp_len = 1;
        return c >= 'A' && c <= 'Z';
    }
    int32_t cp;
    size_t n = mn_utf8_decode(s, len, &cp);
    *cp_len = n;
    if (cp < 0)
        return 0;
    char folded[64];
    size_t fl = 0;
    if (mn_normalize(s, n, MN_NORM_CASEFOLD, folded, sizeof folded, &fl) != 0)
        return 0;
    return fl != n || memcmp(folded, s, n) != 0;
}

/* is_upper_cp of the first code point of s (len > 0 bytes), remembered by code point for the
 * run: a text's capitals come from a few letters, and telling one outside ASCII takes a call
 * of mn_normalize. */
static int is_upper_memo(kw_run *r, const char *s, size_t len)
{
    size_t n;
    if ((unsigned char)s[0] < 0x80)
        return is_upper_cp(s, len, &n);
    int32_t cp;
    mn_utf8_decode(s, len, &cp);
    if (cp < 0)
        return 0;
    size_t slot = (size_t)cp & (KW_UPPER_MEMO - 1);
    if (r->up_cp[slot] != cp) {
        r->up_is[slot] = (uint8_t)is_upper_cp(s, len, &n);
        r->up_cp[slot] = cp;
    }
    return r->up_is[slot];
}

/* A token's spelling (its bytes and kind) met before in the text gives the same hash, flags
 * (less TF_UPPER, which depends on the place), code points, possessive and word, so those are
 * copied from its first occurrence: a text repeats about half of its words, and normalising,
 * hashing and finding the word cost more than finding the spelling. The spelling table holds
 * token indices, placed by spelling_slot and checked by comparing the bytes, so a hit is exact.
 * spell_head is the token's first 8 bytes (all of a short token, zero-padded). */
static inline uint64_t spell_head(const char *w, size_t len, size_t readable)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the token's bytes only (little-endian): a table, as a shift by 64 - 8 len is costlier */
    static const uint64_t keep[9] = {
        0, 0xFFull, 0xFFFFull, 0xFFFFFFull, 0xFFFFFFFFull, 0xFFFFFFFFFFull, 0xFFFFFFFFFFFFull,
        0xFFFFFFFFFFFFFFull, ~0ull,
    };
    if (readable >= 8) {
        memcpy(&v, w, 8);
        return v & keep[len < 8 ? len : 8];
    }
#else
    (void)readable;
#endif
    memcpy(&v, w, len < 8 ? len : 8);
    return v;
}

static inline size_t spelling_slot(const char *w, size_t len, uint64_t head, size_t mask)
{
    uint64_t k = head + len * 0x9e3779b97f4a7c15ull;
    if (len > 8) {
        uint64_t tail;
        memcpy(&tail, w + len - 8, 8);
        k ^= tail * 0xc2b2ae3d27d4eb4full;
    }
    return (size_t)mix64(k) & mask;
}

/* Index of an earlier token with the same spelling as tok[i], or NONE after noting tok[i] in
 * the table as the first of its spelling. */
static inline uint32_t spelling_find(const kw_run *r, const kw_tok *tok, uint32_t i, uint64_t head,
                                     uint32_t *tab, size_t mask)
{
    const kw_tok *t = &tok[i];
    const char *w = r->text + t->off;
    size_t j = spelling_slot(w, t->len, head, mask);
    for (;;) {
        uint32_t ti = tab[j];
        if (ti == NONE) {
            tab[j] = i;
            return NONE;
        }
        const kw_tok *o = &tok[ti];
        if (o->len == t->len && o->kind == t->kind &&
            (t->len <= 8 ? spell_head(r->text + o->off, o->len, r->len - o->off) == head
                         : memcmp(r->text + o->off, w, t->len) == 0))
            return ti;
        j = (j + 1) & mask;
    }
}

/* One look at a token's bytes: ASCII or not, UTF-8 continuation bytes, and for an ASCII token
 * its letters, capitals and (when lo is not NULL) its bytes lower-cased into lo, which is what
 * NFKC + case folding (mn_normalize) gives. Of a token that is not ASCII only ascii and cont
 * are known: it is normalised, and its letters are not counted. */
typedef struct tok_bytes {
    int ascii;
    size_t letters, upper, cont; /* ASCII letters, ASCII capitals, continuation bytes */
} tok_bytes;

static void scan_bytes_slow(const char *w, size_t len, size_t from, char *lo, tok_bytes *o)
{
    for (size_t j = from; j < len; j++) {
        unsigned char c = (unsigned char)w[j];
        if (c >= 0x80) {
            o->ascii = 0;
            for (; j < len; j++)
                o->cont += ((unsigned char)w[j] & 0xC0) == 0x80;
            return;
        }
        if (lo)
            lo[j] = (char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c);
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
            o->letters++;
            o->upper += c <= 'Z';
        }
    }
}

/* scan_bytes_slow from the start, 8 ASCII bytes at a time where it can: the text has 8 bytes to
 * read at w + j (readable: bytes of the text from w) and lo room for 8 to write (lo_cap), and
 * those of the token are ASCII; a last short piece is masked to the token's bytes. Capitals
 * and letters are found by adding to each byte (below 0x80, so no carry crosses bytes) the
 * offset that carries it into the top bit from the range's first byte on and not from the byte
 * past its end. The rest, from the first piece with a non-ASCII byte, goes byte by byte.
 * tests/unit/models/keywords.c compares the two. */
static void scan_bytes(const char *w, size_t len, size_t readable, char *lo, size_t lo_cap,
                       tok_bytes *o)
{
    *o = (tok_bytes){.ascii = 1};
    size_t j = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    if (lo && len + 8 <= lo_cap) {
        for (; j < len && readable - j >= 8; j += 8) {
            uint64_t v;
            memcpy(&v, w + j, 8);
            if (len - j < 8)
                v &= ~0ull >> (8 * (8 - (len - j))); /* the token's bytes only (little-endian) */
            if (v & high)
                break;
            uint64_t up = (v + ones * (0x80 - 'A')) & ~(v + ones * (0x80 - 'Z' - 1)) & high;
            uint64_t lower = v | up >> 2;
            uint64_t let =
                (lower + ones * (0x80 - 'a')) & ~(lower + ones * (0x80 - 'z' - 1)) & high;
            memcpy(lo + j, &lower, 8);
            /* bit 7 of each byte: their sum lands in the top byte */
            o->upper += (size_t)(((up >> 7) * ones) >> 56);
            o->letters += (size_t)(((let >> 7) * ones) >> 56);
        }
    }
#else
    (void)readable;
    (void)lo_cap;
#endif
    scan_bytes_slow(w, len, j, lo, o);
}

/* The block carved from scratch slot 0. */
typedef struct kw_mem {
    kw_tok *tok;
    kw_word *words;
    uint32_t *wtab; /* word hash table: indices into words */
    uint32_t *stab; /* spelling table (spelling_find): indices into tok */
    size_t wcap;    /* entries of wtab and stab */
    uint64_t *pairs; /* set of (left word, right word) + 1 */
    size_t pcap;
    kw_phrase *phrases;
    uint32_t *ptab;
    size_t phcap;
    uint32_t *order;
    uint32_t *langc;
} kw_mem;

/* The flags that follow from a token's spelling alone (see spelling_find). */
#define TF_SPELLING (TF_WORD | TF_CJK | TF_LETTER | TF_ACRONYM | TF_KANA)

/* Pass 1b and 2: per token the sentence, and the hash, flags and word of its spelling; the word
 * table (all words, stop words too: they are neighbours) is keyed by the hash without a
 * possessive ending; and the words' statistics for YAKE (all words; content words are the ones
 * scored). A token of one byte (punctuation mostly: a third of the tokens of e-mails) finds
 * the first of its spelling in a table by that byte; the spelling table holds the longer ones
 * (nlong) and has room for twice as many (at most wcap, a power of two at least twice n); wtab
 * has at most wcap entries. A pair of neighbours ends at a word, so the pair set needs room
 * for the word tokens (nwtok_kinds, the tokens of word kinds) only. When the word indices fit
 * 16 bits (fewer than 65,535 tokens), a pair is a 32-bit key, which halves the set to clear
 * and to probe. Without reuse, every token is worked out as if its spelling were new, and
 * without narrow every pair is a 64-bit key (the general paths, for
 * tests/unit/models/keywords.c to compare with). */
static MN_ALWAYS_INLINE int analyse_tokens(kw_run *r, kw_mem *m, size_t n, size_t nwtok_kinds,
                                           size_t nlong, uint32_t *nwords_out, uint32_t *nwtok_out,
                                           int reuse, int narrow)
{
    kw_tok *tok = m->tok;
    uint32_t *stab = m->stab, *wtab = m->wtab;
    size_t mask = m->wcap - 1;
    size_t scap = pow2_at_least(2 * nlong);
    if (scap > m->wcap)
        scap = m->wcap;
    size_t smask = scap - 1;
    uint32_t first_of_byte[256]; /* the first token of each one-byte spelling, or NONE */
    memset(first_of_byte, 0xFF, sizeof first_of_byte);
    /* The words and the pairs of neighbouring words are at most the word tokens. */
    size_t pcap = pow2_at_least(2 * nwtok_kinds);
    if (pcap > m->pcap)
        pcap = m->pcap;
    size_t pmask = pcap - 1, wmask = pmask < mask ? pmask : mask;
    uint32_t nwords = 0, nwtok = 0;
    memset(stab, 0xFF, scap * sizeof *stab);
    memset(wtab, 0xFF, (wmask + 1) * sizeof *wtab);
    narrow = narrow && n < 0xFFFF;
    uint64_t *pairs = m->pairs;
    uint32_t *pairs32 = (uint32_t *)(void *)m->pairs;
    memset(pairs, 0, pcap * (narrow ? sizeof *pairs32 : sizeof *pairs));
    mn_sentencer sp;
    mn_sentence cur = {0, 0};
    uint32_t sent = 0;
    int sent_start = 1;
    mn_sentencer_init(&sp, r->text, r->len);
    /* The end of the current sentence; SIZE_MAX past the last one. */
    size_t sent_end = mn_sentencer_next(&sp, &cur) ? (size_t)cur.off + cur.len : SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        kw_tok *t = &tok[i];
        const char *w = r->text + t->off;
        while (t->off >= sent_end) {
            sent_end = mn_sentencer_next(&sp, &cur) ? (size_t)cur.off + cur.len : SIZE_MAX;
            if (sent_end == SIZE_MAX)
                break;
            sent++;
            sent_start = 1;
        }
        t->sent = sent;
        uint32_t same;
        if (t->len == 1) {
            uint32_t *first = &first_of_byte[(unsigned char)w[0]];
            same = *first;
            if (same == NONE)
                *first = (uint32_t)i;
            else if (tok[same].kind != t->kind)
                same = NONE; /* worked out anew */
        } else {
            uint64_t head = spell_head(w, t->len, r->len - t->off);
            same = spelling_find(r, tok, (uint32_t)i, head, stab, smask);
        }
        if (!reuse)
            same = NONE;
        uint8_t f;
        if (same != NONE) {
            const kw_tok *o = &tok[same];
            t->h = o->h;
            t->cps = o->cps;
            t->trim = o->trim;
            t->cap0 = o->cap0;
            t->word = o->word;
            f = o->flags & TF_SPELLING;
            if (t->word != NONE)
                m->words[t->word].tf++;
        } else {
            tok_bytes tb;
            char *lo = t->len <= r->nb.cap ? r->nb.p : NULL;
            scan_bytes(w, t->len, r->len - t->off, lo, lo ? r->nb.cap : 0, &tb);
            int ascii = tb.ascii;
            size_t letters = tb.letters, upper = tb.upper, cont = tb.cont;
            if (ascii && lo) {
                t->h = mn_hash64(lo, t->len);
            } else {
                int rc = nbuf_hash(&r->nb, w, t->len, &t->h);
                if (rc)
                    return rc;
            }
            size_t cps = t->len - cont;
            t->cps = (uint8_t)(cps > 255 ? 255 : cps);
            f = 0;
            if (t->kind == MN_TOK_WORD || t->kind == MN_TOK_CJK || t->kind == MN_TOK_HASHTAG)
                f |= TF_WORD;
            if (t->kind == MN_TOK_CJK) {
                f |= TF_CJK | TF_LETTER;
                int kana = 1;
                for (size_t j = 0; j < t->len && kana;) {
                    int32_t cp;
                    j += mn_utf8_decode(w + j, t->len - j, &cp);
                    kana = cp >= 0x3041 && cp <= 0x309F;
                }
                if (kana)
                    f |= TF_KANA;
            } else if (f & TF_WORD) {
                if (!ascii || letters)
                    f |= TF_LETTER;
                if (ascii && letters >= 2 && upper == letters)
                    f |= TF_ACRONYM;
                size_t skip = t->kind == MN_TOK_HASHTAG ? 1 : 0;
                t->cap0 = t->len > skip && is_upper_memo(r, w + skip, t->len - skip);
                /* Possessive "'s" / "’s": "Google's" counts as "google". */
                if (t->len > 3 && (w[t->len - 1] == 's' || w[t->len - 1] == 'S')) {
                    if (w[t->len - 2] == '\'')
                        t->trim = 2;
                    else if (t->len > 5 && memcmp(w + t->len - 4, "\xE2\x80\x99", 3) == 0)
                        t->trim = 4;
                }
            }
            if (f & TF_WORD) {
                uint64_t h = t->h;
                int rc;
                if (t->trim && (rc = nbuf_hash(&r->nb, w, t->len - t->trim, &h)))
                    return rc;
                size_t j = (size_t)mix64(h) & wmask;
                for (;;) {
                    uint32_t wi = wtab[j];
                    if (wi == NONE) {
                        wtab[j] = nwords;
                        m->words[nwords] = (kw_word){.h = h, .tf = 1, .last_sent = NONE};
                        t->word = nwords++;
                        break;
                    }
                    if (m->words[wi].h == h) {
                        m->words[wi].tf++;
                        t->word = wi;
                        break;
                    }
                    j = (j + 1) & wmask;
                }
            }
        }
        if (f & TF_WORD) {
            if (!sent_start && t->cap0)
                f |= TF_UPPER;
            sent_start = 0;
            nwtok++;
        }
        t->flags = f;
        if (t->word == NONE)
            continue;
        kw_word *wd = &m->words[t->word];
        if (wd->last_sent != sent) {
            if (wd->sf == 0)
                wd->first_sent = sent;
            wd->sf++;
            wd->last_sent = sent;
        }
        if (f & (TF_UPPER | TF_ACRONYM))
            wd->tf_case++;
        if (i > 0 && tok[i - 1].word != NONE && tok[i - 1].sent == sent) {
            uint32_t a = tok[i - 1].word, b = t->word;
            int added = 0;
            if (narrow) {
                uint32_t key = (a << 16 | b) + 1;
                size_t j = (size_t)mix64(key) & pmask;
                while (pairs32[j] && pairs32[j] != key)
                    j = (j + 1) & pmask;
                if (!pairs32[j]) {
                    pairs32[j] = key;
                    added = 1;
                }
            } else {
                uint64_t key = ((uint64_t)a << 32 | b) + 1;
                size_t j = (size_t)mix64(key) & pmask;
                while (pairs[j] && pairs[j] != key)
                    j = (j + 1) & pmask;
                if (!pairs[j]) {
                    pairs[j] = key;
                    added = 1;
                }
            }
            if (added) {
                wd->left_d++;
                m->words[a].right_d++;
            }
            wd->left_n++;
            m->words[a].right_n++;
        }
    }
    *nwords_out = nwords;
    *nwtok_out = nwtok;
    return 0;
}

static int carve(mn_scratch *s, size_t n, size_t maxw, uint32_t nlangs, kw_mem *m)
{
    size_t maxp = n * maxw;
    m->wcap = pow2_at_least(2 * n);
    m->pcap = pow2_at_least(2 * n);
    m->phcap = pow2_at_least(2 * maxp);
    size_t sizes[] = {
        n * sizeof(kw_tok),          n * sizeof(kw_word),       m->wcap * sizeof(uint32_t),
        m->wcap * sizeof(uint32_t),
        m->pcap * sizeof(uint64_t),  maxp * sizeof(kw_phrase), m->phcap * sizeof(uint32_t),
        maxp * sizeof(uint32_t),     (size_t)nlangs * sizeof(uint32_t) + 8,
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += (sizes[i] + 15) & ~(size_t)15;
    char *p = mn__scratch_reserve(s, SLOT_KW, total);
    if (!p)
        return MN_ENOMEM;
    void **slots[] = {(void **)&m->tok,     (void **)&m->words,   (void **)&m->wtab,
                      (void **)&m->stab,
                      (void **)&m->pairs,   (void **)&m->phrases, (void **)&m->ptab,
                      (void **)&m->order,   (void **)&m->langc};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = p;
        p += (sizes[i] + 15) & ~(size_t)15;
    }
    return 0;
}

/* Pass 3: guesses the list from stop-word hits; -1 when no list clearly fits. */
static int32_t guess_lang(const mn_keywords *kw, const kw_tok *tok, size_t n, uint32_t *langc)
{
    uint32_t nl = kw->p.nlangs;
    if (nl == 0)
        return -1;
    memset(langc, 0, (size_t)nl * sizeof *langc);
    size_t seen = 0;
    for (size_t i = 0; i < n && seen < KW_GUESS_WORDS; i++) {
        if (!(tok[i].flags & TF_WORD))
            continue;
        seen++;
        uint64_t h = tok[i].h;
        if (!filter_may_have(kw, h))
            continue;
        uint32_t b = (uint32_t)(h >> shift_of(kw));
        for (uint32_t e = kw->index[b], end = kw->index[b + 1]; e < end; e++) {
            if (kw->hashes[e] > h)
                break;
            if (kw->hashes[e] == h)
                langc[kw->lang_of[e]]++;
        }
    }
    uint32_t best = 0, second = 0;
    int32_t li = -1;
    for (uint32_t l = 0; l < nl; l++) {
        if (langc[l] > best) {
            second = best;
            best = langc[l];
            li = (int32_t)l;
        } else if (langc[l] > second) {
            second = langc[l];
        }
    }
    return best >= 2 && best > second ? li : -1;
}

/* The longest stop phrase of 2 or more tokens from tok[0] among those whose filter bit is set
 * in may (bit l: the phrase of l + 1 tokens), in tokens; 0 if none. */
static size_t longest_stop(const stop_probe *sp, const kw_tok *tok, unsigned may)
{
    uint64_t acc[KW_MAX_STOP_TOKENS];
    unsigned top = 31u - (unsigned)__builtin_clz(may);
    acc[0] = tok[0].h;
    for (unsigned l = 1; l <= top; l++)
        acc[l] = mn_hash_combine(acc[l - 1], tok[l].h);
    for (unsigned l = top; l >= 1; l--)
        if (((may >> l) & 1) && probe_scan(sp, acc[l]))
            return l + 1;
    return 0;
}

/* Frequency statistics over the distinct content words, for YAKE. Sums of integers, so the same
 * whatever order the words come in. */
typedef struct content_stats {
    double sum, sum2, maxtf;
    uint32_t cnt;
} content_stats;

/* Pass 4: stop and content marks; returns in *nphrases at most how many phrases of up to maxw
 * words the runs of content tokens hold (candidates_pass's table is sized for it). With cs
 * (YAKE), also its statistics, each content word marked counted (cfreq = 1; RAKE does not run
 * in the same call). */
static void mark_pass(const mn_keywords *kw, int32_t lang, const char *text, kw_mem *m, size_t n,
                      uint32_t nwords_tok, size_t maxw, content_stats *cs, size_t *nphrases)
{
    kw_tok *tok = m->tok;
    if (lang >= 0) {
        uint32_t maxt = kw->langs[lang].max_tokens;
        const stop_probe sp = stop_probe_of(kw, (uint32_t)lang);
        for (size_t i = 0; i < n;) {
            /* The phrases of 2..lim tokens from i, when one may start at i, go through the
             * language's filter, which turns nearly all of them away, before any is looked up
             * (longest_stop). */
            size_t lim = maxt < n - i ? maxt : n - i, hit = 0;
            const kw_tok *t = &tok[i];
            uint64_t h = t->h;
            unsigned may = 0;
            if (lim > 1 && probe_may_start(&sp, h)) {
                for (size_t l = 1; l < lim; l++) {
                    h = mn_hash_combine(h, t[l].h);
                    may |= (unsigned)probe_may_have(&sp, h) << l;
                }
            }
            if (may)
                hit = longest_stop(&sp, t, may);
            if (!hit && (t->flags & TF_WORD)) {
                /* The word alone: asked once per word (the word's hash is the token's but
                 * for a possessive ending). */
                kw_word *w = &m->words[t->word];
                if (t->trim)
                    hit = (size_t)probe_has(&sp, t->h);
                else if (w->stop1)
                    hit = w->stop1 - 1u;
                else
                    w->stop1 = (uint8_t)(1 + (hit = (size_t)probe_has(&sp, t->h)));
            }
            if (!hit) {
                i++;
                continue;
            }
            for (size_t l = 0; l < hit; l++)
                tok[i + l].flags |= TF_STOP;
            i += hit;
        }
    } else {
        /* No list: short words are function words in most languages written with spaces; a
         * three-letter word that makes 2% of the text ("the", "und", "les") is one too. */
        uint32_t often = nwords_tok / 50 > 2 ? nwords_tok / 50 : 2;
        for (size_t i = 0; i < n; i++) {
            kw_tok *t = &tok[i];
            if (!(t->flags & TF_WORD) || (t->flags & TF_CJK))
                continue;
            if (t->cps <= 2 || (t->cps == 3 && !(t->flags & TF_ACRONYM) &&
                                m->words[t->word].tf >= often))
                t->flags |= TF_STOP;
        }
    }
    size_t phrases = 0, run = 0, last = NONE;
    for (size_t i = 0; i < n; i++) {
        kw_tok *t = &tok[i];
        uint8_t f = t->flags;
        if (!(f & TF_WORD) || (f & (TF_STOP | TF_KANA)) || !(f & TF_LETTER))
            continue;
        /* One ASCII letter ("U" of "U.S.", "x") is not a phrase word. */
        if (t->cps == 1 && !(f & TF_CJK) && (unsigned char)text[t->off] < 0x80)
            continue;
        t->flags |= TF_CONTENT;
        /* A run goes on as candidates_pass's: the next token, same sentence, no possessive. */
        run = last == i - 1 && tok[i - 1].sent == t->sent && !tok[i - 1].trim ? run + 1 : 1;
        phrases += run < maxw ? run : maxw;
        last = i;
        kw_word *w = &m->words[t->word];
        if (!cs || w->cfreq)
            continue;
        w->cfreq = 1;
        cs->sum += w->tf;
        cs->sum2 += (double)w->tf * w->tf;
        if (w->tf > cs->maxtf)
            cs->maxtf = w->tf;
        cs->cnt++;
    }
    *nphrases = phrases;
}

static void yake_word_scores(kw_mem *m, const content_stats *cs, uint32_t nwords, uint32_t nsent)
{
    double sum = cs->sum, sum2 = cs->sum2, maxtf = cs->maxtf;
    uint32_t cnt = cs->cnt;
    double mean = cnt ? sum / cnt : 0, var = cnt ? sum2 / cnt - mean * mean : 0;
    double sd = var > 0 ? sqrt(var) : 0;
    /* Most words are rare and occur first in an early sentence: their logarithms are taken
     * once per call (the same values, from the same calls). -1 marks "not yet": both are
     * at least 0 (tf >= 1; log(log(3 + s)) > 0). */
    enum { MEMO = 64 };
    double log_tf[MEMO], pos_of[MEMO];
    for (size_t i = 0; i < MEMO; i++)
        log_tf[i] = pos_of[i] = -1;
    for (uint32_t i = 0; i < nwords; i++) {
        kw_word *w = &m->words[i];
        if (!w->cfreq)
            continue;
        double tf = w->tf;
        double ltf;
        if (w->tf < MEMO) {
            if (log_tf[w->tf] < 0)
                log_tf[w->tf] = log(tf);
            ltf = log_tf[w->tf];
        } else {
            ltf = log(tf);
        }
        double t_case = (double)w->tf_case / (1.0 + ltf);
        double t_pos;
        if (w->first_sent < MEMO) {
            if (pos_of[w->first_sent] < 0)
                pos_of[w->first_sent] = log(log(3.0 + w->first_sent));
            t_pos = pos_of[w->first_sent];
        } else {
            t_pos = log(log(3.0 + w->first_sent));
        }
        double t_freq = tf / (mean + sd);
        double wl = w->left_n ? (double)w->left_d / w->left_n : 0;
        double wr = w->right_n ? (double)w->right_d / w->right_n : 0;
        double t_rel = 1.0 + (wl + wr) * tf / maxtf;
        double t_sent = (double)w->sf / (nsent ? nsent : 1);
        w->score = t_rel * t_pos / (t_case + t_freq / t_rel + t_sent / t_rel);
    }
}

/* Inserts the phrase tok[a..b) (content tokens) whose word hashes combine to h and set the
 * bits of mask (see kw_phrase); returns its index or NONE when full. The table has cap slots. */
static uint32_t phrase_add(kw_mem *m, uint32_t *np, size_t maxp, size_t cap, uint32_t a,
                           uint32_t b, uint64_t h, uint64_t bits, double prod, double sum)
{
    size_t mask = cap - 1, j = (size_t)mix64(h) & mask;
    for (;;) {
        uint32_t pi = m->ptab[j];
        if (pi == NONE) {
            if (*np >= maxp)
                return NONE;
            m->ptab[j] = *np;
            m->phrases[*np] = (kw_phrase){
                .h = h, .first = a, .end = b, .tf = 1, .mask = bits, .prod = prod, .sum = sum};
            return (*np)++;
        }
        if (m->phrases[pi].h == h) {
            m->phrases[pi].tf++;
            return pi;
        }
        j = (j + 1) & mask;
    }
}

/* A CJK-only phrase of one character says little: phrases need two code points there. */
static int phrase_ok(const kw_tok *tok, uint32_t a, uint32_t b)
{
    return b - a > 1 || !(tok[a].flags & TF_CJK) || tok[a].cps > 1;
}

/* Pass 5b: candidates. A phrase is a piece of at most maxw tokens of a run of content tokens,
 * so there are at most nphrases (mark_pass counts them): the phrase table is sized for that
 * rather than for all n tokens (a phrase's index follows the order of insertion, whatever the
 * table's size). */
static uint32_t candidates_pass(kw_mem *m, size_t n, size_t maxw, int rake, size_t nphrases)
{
    uint32_t np = 0;
    size_t maxp = n * maxw;
    size_t cap = pow2_at_least(2 * nphrases);
    if (cap > m->phcap)
        cap = m->phcap;
    memset(m->ptab, 0xFF, cap * sizeof *m->ptab);
    for (size_t i = 0; i < n;) {
        if (!(m->tok[i].flags & TF_CONTENT)) {
            i++;
            continue;
        }
        size_t b = i + 1;
        while (b < n && (m->tok[b].flags & TF_CONTENT) && m->tok[b].sent == m->tok[i].sent &&
               !m->tok[b - 1].trim)
            b++;
        if (rake) {
            for (size_t a = i; a < b;) {
                size_t e = a + maxw < b ? a + maxw : b;
                if (phrase_ok(m->tok, (uint32_t)a, (uint32_t)e)) {
                    uint64_t h = 0, bits = 0;
                    for (size_t x = a; x < e; x++) {
                        uint64_t wh = m->words[m->tok[x].word].h;
                        h = x == a ? wh : mn_hash_combine(h, wh);
                        bits |= (uint64_t)1 << (wh & 63);
                    }
                    phrase_add(m, &np, maxp, cap, (uint32_t)a, (uint32_t)e, h, bits, 0, 0);
                    for (size_t x = a; x < e; x++) {
                        kw_word *w = &m->words[m->tok[x].word];
                        w->deg += (uint32_t)(e - a);
                        w->cfreq++;
                    }
                }
                a = e;
            }
        } else {
            /* The phrases starting at a grow one word at a time: their hash, mask, and the
             * product and sum of their word scores too (in the order phrase_scores took them,
             * so the same values). */
            for (size_t a = i; a < b; a++) {
                uint64_t h = 0, bits = 0;
                double prod = 1, sum = 0;
                /* phrase_ok holds for every phrase of two or more tokens */
                int one_ok = phrase_ok(m->tok, (uint32_t)a, (uint32_t)a + 1);
                for (size_t e = a + 1; e <= b && e - a <= maxw; e++) {
                    const kw_word *w = &m->words[m->tok[e - 1].word];
                    uint64_t wh = w->h;
                    h = e == a + 1 ? wh : mn_hash_combine(h, wh);
                    bits |= (uint64_t)1 << (wh & 63);
                    prod *= w->score;
                    sum += w->score;
                    if (e > a + 1 || one_ok)
                        phrase_add(m, &np, maxp, cap, (uint32_t)a, (uint32_t)e, h, bits, prod, sum);
                }
            }
        }
        i = b;
    }
    return np;
}

/* YAKE's phrase value (lower is better). Its product of word scores (each mostly below 1)
 * favours long phrases: "neues Klimaschutzgesetz beschlossen" over "Klimaschutzgesetz". The
 * root by the square root of the length damps that; the squared phrase frequency rewards
 * repetition. Both were chosen on bench/keywords/sanity.py (docs/MODELS.md). */
static inline double yake_value(const kw_phrase *ph)
{
    double len = (double)(ph->end - ph->first);
    /* One word: pow(prod, 1) is prod exactly (pow errs by under one ulp), so skip it. */
    double root = ph->end - ph->first == 1 ? ph->prod : pow(ph->prod, 1.0 / sqrt(len));
    return root / ((double)ph->tf * ph->tf * (1.0 + ph->sum));
}

static void phrase_scores(kw_mem *m, uint32_t np, int rake)
{
    double best = 0;
    for (uint32_t p = 0; p < np; p++) {
        kw_phrase *ph = &m->phrases[p];
        double v;
        if (rake) {
            v = 0;
            for (uint32_t i = ph->first; i < ph->end; i++) {
                const kw_word *w = &m->words[m->tok[i].word];
                v += (double)w->deg / (w->cfreq ? w->cfreq : 1);
            }
            if (v > best)
                best = v;
        } else {
            v = yake_value(ph);
            if (p == 0 || v < best)
                best = v;
        }
        ph->score = v;
    }
    for (uint32_t p = 0; p < np; p++) {
        kw_phrase *ph = &m->phrases[p];
        double v = rake ? (best > 0 ? ph->score / best : 1) : (ph->score > 0 ? best / ph->score : 1);
        ph->score = v > 1 ? 1 : v;
    }
}

/* 2^i for a normal double's exponent, or 0 outside that range. */
static inline double pow2i(int64_t i)
{
    if (i < -1022 || i > 1023)
        return 0;
    uint64_t bits = (uint64_t)(i + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static inline int64_t floor_i(double y)
{
    int64_t i = (int64_t)y;
    return (double)i > y ? i - 1 : i;
}

/* Bounds lo <= yake_value(ph) <= hi without pow. With prod = m 2^e, m in [0.5, 1), log2 prod
 * lies between e + 2(m - 1) (the chord of the concave log2 over [0.5, 1]) and e + (m - 1) / ln 2
 * (its tangent at 1); and 2^f, f in [0, 1), between 1 + f ln 2 (the tangent at 0 of the convex
 * 2^f) and 1 + f (its chord). The bounds end at most about 40% apart; 1e-9 more each side
 * covers rounding. Gives lo = 0, hi = inf when prod is not a positive normal number. */
static inline void yake_bounds(const kw_phrase *ph, double *lo, double *hi)
{
    uint32_t len = ph->end - ph->first;
    double denom = (double)ph->tf * ph->tf * (1.0 + ph->sum);
    if (len == 1) {
        *lo = *hi = ph->prod / denom;
        return;
    }
    *lo = 0;
    *hi = HUGE_VAL;
    uint64_t bits;
    memcpy(&bits, &ph->prod, sizeof bits);
    int64_t ex = (int64_t)((bits >> 52) & 0x7FF);
    if (bits >> 63 || ex == 0 || ex == 0x7FF || !(denom > 0 && denom < HUGE_VAL))
        return;
    uint64_t mbits = (bits & ~(0x7FFull << 52)) | (uint64_t)1022 << 52;
    double mant;
    memcpy(&mant, &mbits, sizeof mant);
    double e = 1.0 / sqrt((double)len);
    double y_lo = e * ((double)(ex - 1022) + 2.0 * (mant - 1.0));
    double y_hi = e * ((double)(ex - 1022) + (mant - 1.0) * 1.4426950408889634);
    int64_t i_lo = floor_i(y_lo), i_hi = floor_i(y_hi);
    double r_lo = (1.0 + (y_lo - (double)i_lo) * 0.6931471805599453) * pow2i(i_lo);
    double r_hi = (1.0 + (y_hi - (double)i_hi)) * pow2i(i_hi);
    if (r_lo > 0 && r_hi > 0) {
        *lo = r_lo / denom * (1 - 1e-9);
        *hi = r_hi / denom * (1 + 1e-9);
    }
}

/* Better: higher score, then earlier. */
static inline int better(const kw_phrase *ph, uint32_t a, uint32_t b)
{
    if (ph[a].score != ph[b].score)
        return ph[a].score > ph[b].score;
    return ph[a].first < ph[b].first;
}

/* A binary heap of phrase indices with the best on top; ranking pops from it only until k
 * phrases are chosen, so a long text's thousands of candidates are never fully sorted (and no
 * qsort, which may allocate). */
static void sift(const kw_phrase *ph, uint32_t *o, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && better(ph, o[c + 1], o[c]))
            c++;
        if (!better(ph, o[c], o[i]))
            return;
        uint32_t t = o[i];
        o[i] = o[c];
        o[c] = t;
        i = c;
    }
}

static void heap_init(const kw_phrase *ph, uint32_t *o, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(ph, o, i, n);
}

/* Removes and returns the best of o[0..*n). */
static uint32_t heap_pop(const kw_phrase *ph, uint32_t *o, size_t *n)
{
    uint32_t top = o[0];
    o[0] = o[--*n];
    sift(ph, o, 0, *n);
    return top;
}

static inline uint64_t word_at(const kw_mem *m, uint32_t tok)
{
    return m->words[m->tok[tok].word].h;
}

/* 1 if the word sequence of phrase a occurs inside phrase b's. */
static int inside(const kw_mem *m, const kw_phrase *a, const kw_phrase *b)
{
    uint32_t la = a->end - a->first, lb = b->end - b->first;
    if (la > lb)
        return 0;
    for (uint32_t s = 0; s + la <= lb; s++) {
        uint32_t j = 0;
        while (j < la && word_at(m, a->first + j) == word_at(m, b->first + s + j))
            j++;
        if (j == la)
            return 1;
    }
    return 0;
}

/* 1 if a ends with words that b starts with ("machine learning" / "learning rate"; for
 * Chinese the overlapping character n-grams "机器学习" / "器学习算"). */
static int overlaps(const kw_mem *m, const kw_phrase *a, const kw_phrase *b)
{
    uint32_t la = a->end - a->first, lb = b->end - b->first;
    for (uint32_t o = 1; o < la && o <= lb; o++) {
        uint32_t j = 0;
        while (j < o && word_at(m, a->end - o + j) == word_at(m, b->first + j))
            j++;
        if (j == o)
            return 1;
    }
    return 0;
}

/* A phrase adds nothing next to a chosen one when one contains the other or they overlap. */
static int redundant(const kw_mem *m, const kw_phrase *a, const kw_phrase *b)
{
    return inside(m, a, b) || inside(m, b, a) || overlaps(m, a, b) || overlaps(m, b, a);
}

/* Pass 6: pops phrases order[0..count) (scored) best first into out (phrase indices in start
 * for now) until k are chosen, leaving out those redundant with one chosen before (YAKE).
 * A phrase scored floor or less is not popped: 1 then (rank_few's phrases left out may tie
 * with it), else 0. */
static int rank(const kw_mem *m, uint32_t *order, size_t count, size_t k, int rake, double floor,
                mn_keyword *out, size_t *got_out)
{
    heap_init(m->phrases, order, count);
    size_t got = 0, left = count;
    while (left > 0 && got < k) {
        if (!(m->phrases[order[0]].score > floor))
            return 1;
        uint32_t pi = heap_pop(m->phrases, order, &left);
        const kw_phrase *ph = &m->phrases[pi];
        int dup = 0;
        for (size_t c = 0; c < got && !rake && !dup; c++) {
            const kw_phrase *q = &m->phrases[out[c].start];
            dup = (ph->mask & q->mask) && redundant(m, ph, q);
        }
        if (dup)
            continue;
        out[got++] = (mn_keyword){.start = pi, .end = 0, .score = (float)ph->score};
    }
    *got_out = got;
    return 0;
}

/* Pass 5c and 6 for YAKE without the pow of most phrases: a text's top k come from its few
 * best phrases, so only those whose value may be among the `want` lowest are computed
 * (yake_bounds picks them, and the best value is among them), scored and ranked. The heap
 * pops them in the order it pops them from all phrases, as better() orders any two phrases
 * but those of equal score starting at the same token (never seen: their lengths differ).
 * Returns 1 when that does not settle the ranking (too many phrases redundant, or a tie with
 * one left out may be possible) or k is large: the caller then scores and ranks all phrases. */
static int rank_few(kw_mem *m, uint32_t np, size_t k, mn_keyword *out, size_t *got)
{
    enum { FEW_MAX = 256 };
    size_t want = 4 * k + 16;
    if (want > FEW_MAX || np <= 2 * want)
        return 1;
    /* The want lowest upper bounds, in a max-heap: top[0] ends as the want-th lowest. */
    double top[FEW_MAX];
    size_t ntop = 0;
    for (uint32_t p = 0; p < np; p++) {
        kw_phrase *ph = &m->phrases[p];
        double lo, hi;
        yake_bounds(ph, &lo, &hi);
        if (!(lo >= 0))
            return 1; /* not a number: left to phrase_scores */
        ph->score = lo;
        size_t i;
        if (ntop < want) {
            i = ntop++;
            while (i > 0 && top[(i - 1) / 2] < hi) {
                top[i] = top[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            top[i] = hi;
        } else if (hi < top[0]) {
            i = 0;
            for (;;) {
                size_t c = 2 * i + 1;
                if (c >= want)
                    break;
                if (c + 1 < want && top[c + 1] > top[c])
                    c++;
                if (!(top[c] > hi))
                    break;
                top[i] = top[c];
                i = c;
            }
            top[i] = hi;
        }
    }
    double limit = top[0];
    if (!(limit < HUGE_VAL))
        return 1;
    /* Every phrase left out has a value above limit; at least want kept ones are at most it. */
    size_t nkept = 0;
    double best = 0;
    for (uint32_t p = 0; p < np; p++) {
        kw_phrase *ph = &m->phrases[p];
        if (!(ph->score <= limit))
            continue;
        double v = yake_value(ph);
        if (!(v > 0))
            return 1;
        if (nkept == 0 || v < best)
            best = v;
        ph->score = v;
        m->order[nkept++] = p;
    }
    for (size_t c = 0; c < nkept; c++) {
        kw_phrase *ph = &m->phrases[m->order[c]];
        double v = best / ph->score;
        ph->score = v > 1 ? 1 : v;
    }
    /* A phrase left out scores best / value < best / limit, which rounds to floor at most. */
    double floor = best / limit;
    return rank(m, m->order, nkept, k, 0, floor, out, got) || *got < k;
}

/* mn_keywords_extract_ex; with rank_all, without rank_few (every phrase scored and ranked: the
 * general path, for tests/unit/models/keywords.c to compare with). Inlined, so that
 * mn_keywords_extract_ex is the extraction in profiles (callgrind --toggle-collect). */
static MN_ALWAYS_INLINE int extract_ranked(const mn_model *model, mn_scratch *s, const char *text,
                                           size_t len, const char *lang, size_t lang_len,
                                           const mn_keywords_options *opts, size_t k,
                                           mn_keyword *out, size_t *n_out, mn_keywords_info *info,
                                           int rank_all)
{
    if (n_out)
        *n_out = 0;
    if (info)
        *info = (mn_keywords_info){.lang = -1};
    const mn_keywords *kw = as_kw(model);
    int method = opts ? opts->method : MN_KEYWORDS_DEFAULT;
    size_t maxw = opts && opts->max_words ? opts->max_words : KW_DEFAULT_WORDS;
    if (!kw || !s || !n_out || (!text && len) || (k && !out) || (!lang && lang_len) ||
        method < MN_KEYWORDS_DEFAULT || method > MN_KEYWORDS_RAKE || maxw > KW_MAX_WORDS)
        return MN_EINVAL;
    if (len >= UINT32_MAX)
        return MN_ETOOBIG;
    int rake = method == MN_KEYWORDS_RAKE;
    kw_run r = {.kw = kw, .s = s, .text = text, .len = len, .lang = -1,
                .nb = {.s = s, .p = s->buf[SLOT_KW_NORM], .cap = s->cap[SLOT_KW_NORM]}};
    int32_t li = lang ? find_code(kw, lang, lang_len) : -1;
    int guessed = 0;
    r.lang = li;
    memset(r.up_cp, 0xFF, sizeof r.up_cp);
    if (len == 0 || k == 0)
        goto report;

    /* Tokens are stored as they are found, in a block carved for a guess of their count (one
     * per two bytes holds for text with spaces); a text with more is tokenized again into a
     * block of the right size. Long texts are counted first, so that memory follows the real
     * count. The tokens are the block's first part, so carving it again for the real count
     * keeps them. */
    kw_mem m;
    tok_out to = {.cap = len <= KW_GUESS_TOKENS_BYTES ? len / 2 + 16 : 0};
    int rc;
    if (to.cap) {
        if ((rc = carve(s, to.cap, maxw, kw->p.nlangs, &m)))
            return rc;
        to.p = m.tok;
    }
    if ((rc = tokens_pass(&r, &to)))
        return rc;
    size_t n = to.n;
    if (info)
        info->tokens = n;
    if (n == 0)
        goto report;
    if ((uint64_t)n * maxw >= UINT32_MAX)
        return MN_ETOOBIG;
    if ((rc = carve(s, n, maxw, kw->p.nlangs, &m)))
        return rc;
    if (n > to.cap) {
        tok_out again = {.p = m.tok, .cap = n};
        if ((rc = tokens_pass(&r, &again)))
            return rc;
        assert(again.n == n); /* the same tokens, the same splits */
    } else {
        assert(m.tok == to.p);
    }
    uint32_t nwords = 0, nwtok = 0;
    if ((rc = analyse_tokens(&r, &m, n, to.nwords, to.nlong, &nwords, &nwtok, 1, 1)))
        return rc;
    if (li < 0) {
        li = guess_lang(kw, m.tok, n, m.langc);
        guessed = li >= 0;
    }
    content_stats cs = {.maxtf = 1};
    size_t nphrases = 0;
    mark_pass(kw, li, text, &m, n, nwtok, maxw, rake ? NULL : &cs, &nphrases);
    uint32_t nsent = m.tok[n - 1].sent + 1;
    if (!rake)
        yake_word_scores(&m, &cs, nwords, nsent);
    uint32_t np = candidates_pass(&m, n, maxw, rake, nphrases);
    size_t got = 0;
    if (rake || rank_all || rank_few(&m, np, k, out, &got) != 0) {
        phrase_scores(&m, np, rake);
        for (uint32_t p = 0; p < np; p++)
            m.order[p] = p;
        rank(&m, m.order, np, k, rake, -1, out, &got);
    }
    for (size_t c = 0; c < got; c++) {
        const kw_phrase *ph = &m.phrases[out[c].start];
        const kw_tok *last = &m.tok[ph->end - 1];
        out[c].start = m.tok[ph->first].off;
        out[c].end = last->off + last->len - last->trim;
        if (!(out[c].score > 0))
            out[c].score = 1e-6f;
    }
    *n_out = got;
    if (info)
        info->candidates = np;
report:
    if (info) {
        info->lang = li;
        info->guessed = guessed;
    }
    return 0;
}

int mn_keywords_extract_ex(const mn_model *model, mn_scratch *s, const char *text, size_t len,
                           const char *lang, size_t lang_len, const mn_keywords_options *opts,
                           size_t k, mn_keyword *out, size_t *n_out, mn_keywords_info *info)
{
    return extract_ranked(model, s, text, len, lang, lang_len, opts, k, out, n_out, info, 0);
}

int mn_keywords_extract(const mn_model *m, mn_scratch *s, const char *text, size_t len,
                        const char *lang, size_t lang_len, size_t k, mn_keyword *out,
                        size_t *n_out)
{
    return mn_keywords_extract_ex(m, s, text, len, lang, lang_len, NULL, k, out, n_out, NULL);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static int kw_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                      float threshold, mn_prediction *out, size_t *n_out)
{
    (void)m, (void)s, (void)text, (void)len, (void)k, (void)threshold, (void)out;
    *n_out = 0;
    return MN_EUNSUPPORTED; /* a keywords model answers spans: mn_keywords_extract */
}

static void kw_destroy(mn_model *m)
{
    mn_keywords *kw = (mn_keywords *)m;
    mn_free(kw->langs_owned);
    mn_free(kw->hashes_owned);
    mn_free(kw->lang_of_owned);
    mn_free(kw->index_owned);
    mn_free(kw->codes);
    mn_free(kw->filter);
    mn_free(kw->lang_filter);
    mn_free(kw->lang_filter_at);
    mn_free(kw->first_filter);
    mn_free(kw->firsts_owned);
    mn_file_close(kw->file);
    mn__model_deinit(m);
    mn_free(kw);
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int kw_save(const mn_model *m, const char *path, mn_err *err)
{
    const mn_keywords *kw = (const mn_keywords *)m;
    mn_file_writer *w = NULL;
    int rc = mn_file_writer_new(MN_MODEL_KEYWORDS, &w);
    if (rc)
        return mn_err_set(err, rc, "%s: out of memory", path);
    size_t nbuckets = ((size_t)1 << kw->p.bucket_bits) + 1;
    rc = mn__model_write_common(m, w);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_KWPR, &kw->p, sizeof kw->p);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_KWLN, kw->langs, (size_t)kw->p.nlangs * sizeof *kw->langs);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_KWHS, kw->hashes, (size_t)kw->p.nentries * 8);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_KWLG, kw->lang_of, (size_t)kw->p.nentries * 2);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_KWIX, kw->index, nbuckets * 4);
    if (!rc)
        rc = mn_file_writer_begin(w, TAG_KWAL);
    unsigned char b4[4];
    uint32_t nal = 0;
    for (uint32_t i = 0; i < kw->ncodes; i++)
        nal += !kw->codes[i].is_label;
    put_u32le(b4, nal);
    if (!rc)
        rc = mn_file_writer_append(w, b4, 4);
    for (uint32_t i = 0; !rc && i < kw->ncodes; i++) {
        const kw_code *c = &kw->codes[i];
        if (c->is_label)
            continue;
        put_u32le(b4, c->lang);
        rc = mn_file_writer_append(w, b4, 4);
        put_u32le(b4, (uint32_t)strlen(c->code));
        if (!rc)
            rc = mn_file_writer_append(w, b4, 4);
        if (!rc)
            rc = mn_file_writer_append(w, c->code, strlen(c->code));
    }
    if (!rc && kw->firsts && kw->nfirsts)
        rc = mn_file_writer_add(w, TAG_KWFT, kw->firsts, (size_t)kw->nfirsts * sizeof *kw->firsts);
    return mn_file_writer_finish(w, rc, path, err);
}

static const mn_model_ops keywords_ops = {
    .name = "keywords",
    .predict = kw_predict,
    .save = kw_save,
    .destroy = kw_destroy,
};

static mn_keywords *kw_new(void)
{
    mn_keywords *kw = mn_calloc(1, sizeof *kw);
    if (kw)
        mn__model_init(&kw->base, &keywords_ops, MN_MODEL_KEYWORDS);
    return kw;
}

/* Builds the sorted code table from the labels plus n aliases already in kw->codes[0..n)
 * (the array has room for nlabels more). Fails on a code named twice. */
static int codes_finish(mn_keywords *kw, uint32_t naliases)
{
    uint32_t n = naliases;
    for (uint32_t i = 0; i < kw->base.nlabels; i++) {
        kw_code *c = &kw->codes[n++];
        if (!code_norm(kw->base.labels[i], strlen(kw->base.labels[i]), c->code))
            return MN_ECORRUPT;
        c->lang = i;
        c->is_label = 1;
    }
    qsort(kw->codes, n, sizeof *kw->codes, code_cmp);
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(kw->codes[i - 1].code, kw->codes[i].code) == 0)
            return MN_ECORRUPT;
    kw->ncodes = n;
    return 0;
}

/* Checks the tables against each other, so a lookup can never read out of bounds or miss. */
static const char *check_tables(const mn_keywords *kw)
{
    const kw_params *p = &kw->p;
    size_t nb = (size_t)1 << p->bucket_bits;
    if (kw->index[0] != 0 || kw->index[nb] != p->nentries)
        return "bucket index does not cover the entries";
    uint64_t words = 0;
    for (uint32_t l = 0; l < p->nlangs; l++) {
        if (kw->langs[l].max_tokens < 1 || kw->langs[l].max_tokens > KW_MAX_STOP_TOKENS ||
            kw->langs[l].max_cps > KW_MAX_CPS)
            return "language table is damaged";
        words += kw->langs[l].words;
    }
    if (words != p->nentries)
        return "language word counts do not add up to the entries";
    for (size_t b = 0; b < nb; b++) {
        if (kw->index[b] > kw->index[b + 1])
            return "bucket index is not sorted";
        for (uint32_t i = kw->index[b]; i < kw->index[b + 1]; i++) {
            if ((kw->hashes[i] >> shift_of(kw)) != b)
                return "an entry is in the wrong bucket";
            if (i > 0 && (kw->hashes[i - 1] > kw->hashes[i] ||
                          (kw->hashes[i - 1] == kw->hashes[i] &&
                           kw->lang_of[i - 1] >= kw->lang_of[i])))
                return "entries are not sorted";
            if (kw->lang_of[i] >= p->nlangs)
                return "an entry names an unknown language";
        }
    }
    return NULL;
}

int mn__keywords_load(const struct mn_file *f, mn_model **out, mn_err *err)
{
    mn_keywords *kw = kw_new();
    if (!kw) {
        mn_file_close((mn_file *)f);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    kw->file = (mn_file *)f;
    int rc = mn__model_read_common(&kw->base, f, err);
    if (rc)
        goto fail;
    const void *d;
    size_t size;
    rc = MN_ECORRUPT;
    if (mn_file_section(f, TAG_KWPR, &d, &size) != 0 || size != sizeof kw->p) {
        mn_err_set(err, rc, "keywords parameters ('KWPR') missing");
        goto fail;
    }
    memcpy(&kw->p, d, sizeof kw->p);
    const kw_params *p = &kw->p;
    if (p->version != KW_VERSION || p->nlangs != kw->base.nlabels || p->nlangs > 65535 ||
        p->bucket_bits < 1 || p->bucket_bits > 24) {
        mn_err_set(err, rc, "keywords parameters are inconsistent");
        goto fail;
    }
    size_t nb = ((size_t)1 << p->bucket_bits) + 1;
    struct {
        uint32_t tag;
        size_t size;
        const void **dst;
        const char *what;
    } secs[] = {
        {TAG_KWLN, (size_t)p->nlangs * sizeof(kw_lang), (const void **)&kw->langs, "KWLN"},
        {TAG_KWHS, (size_t)p->nentries * 8, (const void **)&kw->hashes, "KWHS"},
        {TAG_KWLG, (size_t)p->nentries * 2, (const void **)&kw->lang_of, "KWLG"},
        {TAG_KWIX, nb * 4, (const void **)&kw->index, "KWIX"},
    };
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        if (mn_file_section(f, secs[i].tag, &d, &size) != 0 || size != secs[i].size) {
            mn_err_set(err, rc, "section '%s' missing or of the wrong size", secs[i].what);
            goto fail;
        }
        *secs[i].dst = d;
    }
    const char *bad = check_tables(kw);
    if (bad) {
        mn_err_set(err, rc, "keywords tables: %s", bad);
        goto fail;
    }
    if (mn_file_section(f, TAG_KWFT, &d, &size) == 0) {
        if (size == 0 || size % sizeof(kw_first) != 0 || size / sizeof(kw_first) > UINT32_MAX) {
            mn_err_set(err, rc, "section 'KWFT' is of the wrong size");
            goto fail;
        }
        kw->firsts = d;
        kw->nfirsts = (uint32_t)(size / sizeof(kw_first));
        for (uint32_t i = 0; i < kw->nfirsts; i++) {
            if (kw->firsts[i].lang >= p->nlangs) {
                mn_err_set(err, rc, "keywords tables: a phrase start names an unknown language");
                goto fail;
            }
        }
    }
    if (filter_build(kw) != 0) {
        rc = mn_err_set(err, MN_ENOMEM, "out of memory (stop-word filter)");
        goto fail;
    }
    if (mn_file_section(f, TAG_KWAL, &d, &size) != 0 || size < 4) {
        mn_err_set(err, rc, "aliases section ('KWAL') missing");
        goto fail;
    }
    const unsigned char *a = d;
    uint32_t nal = get_u32le(a);
    if (nal > (size - 4) / 9) {
        mn_err_set(err, rc, "alias count %u does not fit its section", nal);
        goto fail;
    }
    kw->codes = mn_calloc((size_t)nal + p->nlangs + 1, sizeof *kw->codes);
    if (!kw->codes) {
        rc = mn_err_set(err, MN_ENOMEM, "out of memory");
        goto fail;
    }
    size_t pos = 4;
    for (uint32_t i = 0; i < nal; i++) {
        if (size - pos < 8) {
            mn_err_set(err, rc, "alias %u is damaged", i);
            goto fail;
        }
        uint32_t lang = get_u32le(a + pos), len = get_u32le(a + pos + 4);
        pos += 8;
        if (lang >= p->nlangs || len > size - pos ||
            !code_norm((const char *)a + pos, len, kw->codes[i].code) ||
            memcmp(kw->codes[i].code, a + pos, len) != 0) {
            mn_err_set(err, rc, "alias %u is damaged", i);
            goto fail;
        }
        kw->codes[i].lang = lang;
        pos += len;
    }
    if (codes_finish(kw, nal) != 0) {
        mn_err_set(err, rc, "a language code is invalid or named twice");
        goto fail;
    }
    kw->base.size_bytes = mn_file_size(f);
    *out = &kw->base;
    return 0;
fail:
    kw_destroy(&kw->base);
    return rc;
}

/* ---- building from a stop-word file ------------------------------------------------------ */

typedef struct kw_entry {
    uint64_t h;
    uint32_t lang;
} kw_entry;

static int entry_cmp(const void *a, const void *b)
{
    const kw_entry *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->lang > y->lang) - (x->lang < y->lang);
}

typedef struct kw_builder {
    const char *path;
    char *data;
    kw_entry *ents;
    size_t nents, ents_cap;
    kw_entry *firsts; /* (first token, language) of the phrases of two or more tokens */
    size_t nfirsts, firsts_cap;
    kw_code *codes; /* labels and aliases as read, in order */
    uint32_t ncodes;
    size_t codes_cap;
    kw_lang *langs;
    char (*names)[KW_CODE_MAX + 1]; /* language codes, by language */
    uint32_t nlangs;
    size_t langs_cap, names_cap;
    nbuf nb;
} kw_builder;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *np = mn_realloc(*p, c * elem);
    if (!np)
        return MN_ENOMEM;
    *p = np;
    *cap = c;
    return 0;
}

static int builder_add_code(kw_builder *b, const char *code, uint32_t lang, int is_label)
{
    if (grow((void **)&b->codes, &b->codes_cap, (size_t)b->ncodes + 1, sizeof *b->codes))
        return MN_ENOMEM;
    kw_code *c = &b->codes[b->ncodes++];
    memset(c, 0, sizeof *c);
    memcpy(c->code, code, strlen(code) + 1);
    c->lang = lang;
    c->is_label = (uint32_t)is_label;
    return 0;
}

/* Parses the "lang[,alias...]" field of line lineno; sets *lang. */
static int builder_langs(kw_builder *b, const char *f, size_t n, unsigned long lineno,
                         uint32_t *lang, mn_err *err)
{
    int32_t li = -1;
    for (size_t i = 0; i <= n;) {
        size_t e = i;
        while (e < n && f[e] != ',')
            e++;
        char code[KW_CODE_MAX + 1];
        if (!code_norm(f + i, e - i, code))
            return mn_err_set(err, MN_EFORMAT,
                              "%s:%lu: language code '%.*s' is not 1-15 letters, digits, '-' "
                              "or '_'",
                              b->path, lineno, (int)(e - i < 40 ? e - i : 40), f + i);
        int32_t known = -1;
        int known_label = 0;
        for (uint32_t c = 0; c < b->ncodes && known < 0; c++) {
            if (strcmp(b->codes[c].code, code) == 0) {
                known = (int32_t)b->codes[c].lang;
                known_label = (int)b->codes[c].is_label;
            }
        }
        if (i == 0 && known >= 0 && !known_label)
            return mn_err_set(err, MN_EFORMAT,
                              "%s:%lu: '%s' is an alias of language '%s', not a list of its own",
                              b->path, lineno, code, b->names[known]);
        if (i == 0 && known >= 0) {
            li = known;
        } else if (i == 0) {
            if (b->nlangs >= 65535)
                return mn_err_set(err, MN_EFORMAT, "%s:%lu: more than 65535 languages", b->path,
                                  lineno);
            if (grow((void **)&b->langs, &b->langs_cap, (size_t)b->nlangs + 1, sizeof *b->langs) ||
                grow((void **)&b->names, &b->names_cap, (size_t)b->nlangs + 1, sizeof *b->names) ||
                builder_add_code(b, code, b->nlangs, 1))
                return mn_err_set(err, MN_ENOMEM, "out of memory");
            li = (int32_t)b->nlangs++;
            b->langs[li] = (kw_lang){0};
            memcpy(b->names[li], code, sizeof code);
        } else if (known >= 0 && known != li) {
            return mn_err_set(err, MN_EFORMAT, "%s:%lu: alias '%s' already names language '%s'",
                              b->path, lineno, code, b->names[known]);
        } else if (known < 0 && builder_add_code(b, code, (uint32_t)li, 0)) {
            return mn_err_set(err, MN_ENOMEM, "out of memory");
        }
        i = e + 1;
    }
    *lang = (uint32_t)li;
    return 0;
}

static int meta_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_'))
            return 0;
    return 1;
}

static int set_meta_u(mn_model *m, const char *key, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    return mn__model_meta_set(m, key, buf);
}

/* Model metadata, first: task and created (so they lead, as in every model). */
static int builder_meta_head(mn_keywords *kw)
{
    char created[32];
    const char *pinned = getenv("SOURCE_DATE_EPOCH");
    time_t now = time(NULL);
    if (pinned && *pinned) {
        char *end;
        long long v = strtoll(pinned, &end, 10);
        if (*end == '\0' && v >= 0)
            now = (time_t)v;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int rc = mn__model_meta_set(&kw->base, "task", "keywords");
    return rc ? rc : mn__model_meta_set(&kw->base, "created", created);
}

/* Then, after the file's "# key: value" pairs: method and counts. */
static int builder_meta_tail(mn_keywords *kw, const kw_builder *b, uint64_t file_hash)
{
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)file_hash);
    mn_model *m = &kw->base;
    uint32_t nal = 0;
    for (uint32_t i = 0; i < b->ncodes; i++)
        nal += !b->codes[i].is_label;
    int rc = mn__model_meta_set(m, "algorithm",
                                "stop-word lists (NFKC + case fold, XXH3); YAKE-like scoring, "
                                "RAKE on request");
    if (!rc)
        rc = mn__model_meta_set(m, "train_hash", hash);
    if (!rc)
        rc = set_meta_u(m, "languages", kw->p.nlangs);
    if (!rc)
        rc = set_meta_u(m, "aliases", nal);
    if (!rc)
        rc = set_meta_u(m, "words", kw->p.nentries);
    return rc;
}

/* Sorts and dedupes the entries, and fills the tables of kw. */
static int builder_tables(mn_keywords *kw, kw_builder *b)
{
    if (b->nents)
        qsort(b->ents, b->nents, sizeof *b->ents, entry_cmp);
    size_t n = 0;
    for (size_t i = 0; i < b->nents; i++)
        if (n == 0 || entry_cmp(&b->ents[n - 1], &b->ents[i]) != 0)
            b->ents[n++] = b->ents[i];
    if (n > UINT32_MAX)
        return MN_ETOOBIG;
    /* About 5 entries per bucket: a lookup reads one or two cache lines. */
    uint32_t bits = 1;
    while (bits < 24 && ((size_t)1 << bits) * 5 < n)
        bits++;
    size_t nb = (size_t)1 << bits;
    kw->hashes_owned = mn_malloc((n ? n : 1) * sizeof *kw->hashes_owned);
    kw->lang_of_owned = mn_malloc((n ? n : 1) * sizeof *kw->lang_of_owned);
    kw->index_owned = mn_malloc((nb + 1) * sizeof *kw->index_owned);
    kw->langs_owned = mn_malloc((b->nlangs ? b->nlangs : 1) * sizeof *kw->langs_owned);
    if (!kw->hashes_owned || !kw->lang_of_owned || !kw->index_owned || !kw->langs_owned)
        return MN_ENOMEM;
    memcpy(kw->langs_owned, b->langs, (size_t)b->nlangs * sizeof *b->langs);
    for (uint32_t l = 0; l < b->nlangs; l++)
        kw->langs_owned[l].words = 0;
    size_t e = 0;
    for (size_t bk = 0; bk <= nb; bk++) {
        while (e < n && (b->ents[e].h >> (64 - bits)) < bk)
            e++;
        kw->index_owned[bk] = (uint32_t)e;
    }
    kw->index_owned[nb] = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        kw->hashes_owned[i] = b->ents[i].h;
        kw->lang_of_owned[i] = (uint16_t)b->ents[i].lang;
        kw->langs_owned[b->ents[i].lang].words++;
    }
    kw->p = (kw_params){
        .version = KW_VERSION,
        .nlangs = b->nlangs,
        .nentries = (uint32_t)n,
        .bucket_bits = bits,
    };
    /* The phrase starts, sorted and deduped as the entries. */
    if (b->nfirsts)
        qsort(b->firsts, b->nfirsts, sizeof *b->firsts, entry_cmp);
    size_t nf = 0;
    for (size_t i = 0; i < b->nfirsts; i++)
        if (nf == 0 || entry_cmp(&b->firsts[nf - 1], &b->firsts[i]) != 0)
            b->firsts[nf++] = b->firsts[i];
    kw->firsts_owned = mn_calloc(nf ? nf : 1, sizeof *kw->firsts_owned);
    if (!kw->firsts_owned)
        return MN_ENOMEM;
    for (size_t i = 0; i < nf; i++)
        kw->firsts_owned[i] = (kw_first){.h = b->firsts[i].h, .lang = b->firsts[i].lang};
    kw->firsts = kw->firsts_owned;
    kw->nfirsts = (uint32_t)nf;
    kw->langs = kw->langs_owned;
    kw->hashes = kw->hashes_owned;
    kw->lang_of = kw->lang_of_owned;
    kw->index = kw->index_owned;
    return filter_build(kw);
}

int mn_keywords_build(const char *path, mn_model **out, mn_err *err)
{
    if (!path || !out)
        return mn_err_set(err, MN_EINVAL, "keywords: no stop-word file or output");
    kw_builder b = {.path = path};
    mn_keywords *kw = NULL;
    FILE *fp = fopen(path, "rb");
    int rc;
    if (!fp) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            size_t c = cap ? cap * 2 : 1 << 17;
            char *np = mn_realloc(b.data, c);
            if (!np) {
                fclose(fp);
                rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
                goto fail;
            }
            b.data = np;
            cap = c;
        }
        size_t got = fread(b.data + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        int e = errno;
        fclose(fp);
        rc = mn_err_set(err, MN_ERRNO(e ? e : EIO), "%s: read error", path);
        goto fail;
    }
    fclose(fp);
    b.data[len] = '\0';
    uint64_t file_hash = mn_hash64(b.data, len);

    kw = kw_new();
    if (!kw || builder_meta_head(kw) != 0) {
        rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    unsigned long lineno = 0;
    int seen_word = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && b.data[e] != '\n')
            e++;
        size_t next = e + 1, ll = e - i;
        const char *ln = b.data + i;
        lineno++;
        i = next;
        if (ll && ln[ll - 1] == '\r')
            ll--;
        size_t bad;
        if (mn_utf8_validate(ln, ll, &bad) != 0) {
            rc = mn_err_set(err, MN_EUTF8, "%s:%lu: invalid UTF-8 at byte %zu", path, lineno,
                            bad + 1);
            goto fail;
        }
        size_t sp = 0;
        while (sp < ll && (ln[sp] == ' ' || ln[sp] == '\t'))
            sp++;
        if (sp == ll)
            continue;
        if (ln[0] == '#') {
            /* "# key: value" before the first word becomes metadata. */
            const char *k = ln + 1;
            size_t rest = ll - 1;
            while (rest && *k == ' ')
                k++, rest--;
            const char *colon = memchr(k, ':', rest);
            if (!seen_word && colon && meta_key_ok(k, (size_t)(colon - k))) {
                char key[40], val[256];
                size_t kl = (size_t)(colon - k);
                const char *v = colon + 1;
                size_t vl = rest - kl - 1;
                while (vl && *v == ' ')
                    v++, vl--;
                while (vl && v[vl - 1] == ' ')
                    vl--;
                if (vl >= sizeof val)
                    vl = sizeof val - 1;
                memcpy(key, k, kl);
                key[kl] = '\0';
                memcpy(val, v, vl);
                val[vl] = '\0';
                if (mn__model_meta_set(&kw->base, key, val)) {
                    rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
                    goto fail;
                }
            }
            continue;
        }
        const char *tab = memchr(ln, '\t', ll);
        if (!tab) {
            rc = mn_err_set(err, MN_EFORMAT, "%s:%lu: expected 'lang<TAB>word'", path, lineno);
            goto fail;
        }
        uint32_t lang = 0;
        if ((rc = builder_langs(&b, ln, (size_t)(tab - ln), lineno, &lang, err)))
            goto fail;
        const char *w = tab + 1;
        size_t wl = ll - (size_t)(w - ln);
        uint64_t h, first = 0;
        size_t ntok;
        if ((rc = phrase_hash(&b.nb, w, wl, &h, &ntok, &first))) {
            mn_err_set(err, rc, "%s: out of memory", path);
            goto fail;
        }
        if (ntok == 0) {
            rc = mn_err_set(err, MN_EFORMAT, "%s:%lu: the word is empty", path, lineno);
            goto fail;
        }
        if (ntok > KW_MAX_STOP_TOKENS) {
            rc = mn_err_set(err, MN_EFORMAT, "%s:%lu: more than %d tokens in one stop phrase",
                            path, lineno, KW_MAX_STOP_TOKENS);
            goto fail;
        }
        kw_lang *L = &b.langs[lang];
        if (ntok > L->max_tokens)
            L->max_tokens = (uint16_t)ntok;
        int32_t cp0 = -1;
        if (wl)
            mn_utf8_decode(w, wl, &cp0);
        if (ntok == 1 && no_space_script(cp0)) {
            /* Stop words of scripts without spaces are also looked for inside words. */
            size_t cps = count_cps(w, wl);
            if (cps > KW_MAX_CPS)
                cps = KW_MAX_CPS;
            if (cps > L->max_cps)
                L->max_cps = (uint16_t)cps;
        }
        if (grow((void **)&b.ents, &b.ents_cap, b.nents + 1, sizeof *b.ents)) {
            rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
            goto fail;
        }
        b.ents[b.nents++] = (kw_entry){h, lang};
        if (ntok >= 2) {
            if (grow((void **)&b.firsts, &b.firsts_cap, b.nfirsts + 1, sizeof *b.firsts)) {
                rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
                goto fail;
            }
            b.firsts[b.nfirsts++] = (kw_entry){first, lang};
        }
        seen_word = 1;
    }
    if (b.nents == 0) {
        rc = mn_err_set(err, MN_EEMPTY, "%s: no stop words", path);
        goto fail;
    }
    char **names = mn_malloc((size_t)b.nlangs * sizeof *names);
    if (!names) {
        rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (uint32_t l = 0; l < b.nlangs; l++)
        names[l] = b.names[l];
    rc = mn__model_set_labels(&kw->base, names, NULL, b.nlangs);
    mn_free(names);
    if (!rc)
        rc = builder_tables(kw, &b);
    if (!rc) {
        kw->codes = mn_calloc((size_t)b.ncodes + 1, sizeof *kw->codes);
        rc = kw->codes ? 0 : MN_ENOMEM;
    }
    if (!rc) {
        uint32_t nal = 0;
        for (uint32_t c = 0; c < b.ncodes; c++)
            if (!b.codes[c].is_label)
                kw->codes[nal++] = b.codes[c];
        rc = codes_finish(kw, nal);
    }
    if (!rc)
        rc = builder_meta_tail(kw, &b, file_hash);
    if (rc) {
        mn_err_set(err, rc, "%s: %s", path, mn_strerror(rc));
        goto fail;
    }
    kw->base.size_bytes = sizeof *kw + (size_t)kw->p.nentries * 10 +
                          (((size_t)1 << kw->p.bucket_bits) + 1) * 4 +
                          (size_t)kw->p.nlangs * sizeof(kw_lang) +
                          (size_t)kw->ncodes * sizeof(kw_code) +
                          (size_t)kw->nfirsts * sizeof(kw_first);
    mn_free(b.data);
    mn_free(b.ents);
    mn_free(b.firsts);
    mn_free(b.codes);
    mn_free(b.langs);
    mn_free(b.names);
    mn_free(b.nb.p);
    *out = &kw->base;
    return 0;
fail:
    if (kw)
        kw_destroy(&kw->base);
    mn_free(b.data);
    mn_free(b.ents);
    mn_free(b.firsts);
    mn_free(b.codes);
    mn_free(b.langs);
    mn_free(b.names);
    mn_free(b.nb.p);
    return rc;
}
