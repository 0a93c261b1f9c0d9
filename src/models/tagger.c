/* SPDX-License-Identifier: MIT
 *
 * The sequence tagger at tagging time: features of a token, the weight table a trained
 * tagger keeps, greedy left-to-right decoding, entity spans, and the file sections. Training
 * is in tagger_train.c, scoring in tagger_eval.c, corpora in conll.c.
 *
 * Features are hashed (mn_hash64 / mn_hash_combine) into 2^k buckets, as fastText hashes
 * n-grams: nothing stores strings. A trained tagger keeps only the buckets with weights
 * that survived pruning, as sparse rows of (tag, int16 weight) found through an open
 * addressing table, so the file is small and used in place from the mapping:
 *
 *   TGPR  params (64 bytes): ntags, bucket mask, rows, slots, entries, weight scale
 *   TGSL  slots: (slot_mask + 1) x { u32 key (bucket + 1, 0 = empty), u32 first entry }
 *   TGEN  entries: nentries x { u16 tag | 0x8000 on a row's last entry, i16 weight }
 *   TGDC  tag dictionary (optional): dict_slots x { u64 word hash, u32 tag, u32 used }
 *
 * Scoring a token adds the rows of its 27 features (24 from the words around it, 3 from the
 * two tags chosen before it) into one integer score per tag; the best tag wins, and its
 * softmax probability is its score.
 */
#include "tagger.h"

#include <math.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "micronlp model files are little-endian; big-endian hosts need a byte-swapping loader"
#endif

#define TAG_PARAMS MN_TAG('T', 'G', 'P', 'R')
#define TAG_SLOTS MN_TAG('T', 'G', 'S', 'L')
#define TAG_ENTRIES MN_TAG('T', 'G', 'E', 'N')
#define TAG_DICT MN_TAG('T', 'G', 'D', 'C')

/* Scratch slots used by the tagger. */
enum {
    SLOT_WORDS = 0,
    SLOT_INFO = 1,
    SLOT_LOWER = 2,
    SLOT_FEATS = 3,
    SLOT_OUT = 4,
    SLOT_CHUNKS = 5
};

/* ---- features ------------------------------------------------------------------------------ */

/* Template ids, mixed into each feature's hash so equal values of different templates differ. */
enum {
    F_BIAS,
    F_WORD,
    F_LOWER,
    F_PRE1,
    F_PRE2,
    F_PRE3,
    F_PRE4,
    F_SUF1,
    F_SUF2,
    F_SUF3,
    F_SUF4,
    F_SHAPE,
    F_SSHAPE,
    F_FLAGS,
    F_LM1,
    F_LP1,
    F_LM2,
    F_LP2,
    F_SM1,
    F_SP1,
    F_SHM1,
    F_SHP1,
    F_BIGRAM_L,
    F_BIGRAM_R,
    F_P1,
    F_P2,
    F_P1W,
};
_Static_assert(F_BIGRAM_R + 1 == MN_TAGGER_NSTATIC, "static template count");

/* Values for neighbours outside the sentence. */
#define H_START1 0x5354415254310001ull
#define H_START2 0x5354415254320002ull
#define H_END1 0x454e443100000003ull
#define H_END2 0x454e443200000004ull

static inline uint32_t bucket_of(uint64_t value, unsigned tmpl, uint32_t mask)
{
    return (uint32_t)mn_hash_combine(value, 0x7467000000000000ull + tmpl) & mask;
}

size_t mn__tagger_buf_bytes(const size_t *lens, size_t n)
{
    size_t b = 64;
    for (size_t i = 0; i < n; i++)
        b += 4 * lens[i] + 16;
    return b;
}

/* Shape: X for upper-case ASCII, x lower, d digit, other ASCII as is, u for non-ASCII; runs
 * longer than 3 collapse (shape) or any run collapses (short shape). shape may be NULL when
 * only the short shape is wanted (a word the tag dictionary knows: its neighbours read it). */
static inline void shapes(const char *w, size_t len, uint64_t *shape, uint64_t *sshape)
{
    char a[32], b[32];
    size_t na = 0, nb = 0, run = 0;
    char prev = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)w[i];
        char c;
        if (ch >= 'A' && ch <= 'Z')
            c = 'X';
        else if (ch >= 'a' && ch <= 'z')
            c = 'x';
        else if (ch >= '0' && ch <= '9')
            c = 'd';
        else if (ch >= 0x80) {
            if ((ch & 0xC0) == 0x80) continue; /* one 'u' per code point */
            c = 'u';
        } else
            c = (char)ch;
        run = c == prev ? run + 1 : 1;
        if (run <= 3 && na < sizeof a) a[na++] = c;
        if (run == 1 && nb < sizeof b) b[nb++] = c;
        prev = c;
    }
    if (shape) *shape = mn_hash64(a, na);
    *sshape = mn_hash64(b, nb);
}

/* Lower-cases w into out (cap >= 4 * len + 16) with digits mapped to '0', so "1985" and
 * "2001" share features; non-ASCII goes through Unicode case folding. Returns the length. */
static size_t lower_into(const char *w, size_t len, char *out, size_t cap)
{
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)w[i] >= 0x80) {
            ascii = 0;
            break;
        }
    size_t n = len;
    if (ascii) {
        for (size_t i = 0; i < len; i++) {
            char c = w[i];
            out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
    } else if (mn_normalize(w, len, MN_NORM_CASEFOLD, out, cap, &n) != 0) {
        n = len < cap ? len : cap; /* cannot happen with the documented bound; stay safe */
        memcpy(out, w, n);
    }
    for (size_t i = 0; i < n; i++)
        if (out[i] >= '0' && out[i] <= '9') out[i] = '0';
    return n;
}

typedef struct tokinfo {
    uint64_t lower, suf3, sshape, word;
} tokinfo;

/* Hash of the first / last k code points of s[0..n). */
static uint64_t prefix_hash(const char *s, size_t n, int k)
{
    size_t i = 0;
    for (int c = 0; c < k && i < n; c++) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
    }
    return mn_hash64(s, i);
}

static uint64_t suffix_hash(const char *s, size_t n, int k)
{
    size_t i = n;
    for (int c = 0; c < k && i > 0; c++) {
        i--;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--;
    }
    return mn_hash64(s + i, n - i);
}

/* Marks a token the tag dictionary knows in decode's row counts (see below). */
#define KNOWN UINT32_MAX

/* mn__tagger_static, and when known is not NULL the tag dictionary (dict_slots may be 0) as
 * well: a token the dictionary knows gets known[i] = KNOWN and tags[i] = its tag, and only
 * the values its neighbours read (info), not its own features, which nothing reads. Other
 * tokens get known[i] = 0 and their features, exactly as mn__tagger_static gives them. */
static inline void features(const char *const *words, const size_t *lens, size_t n, uint32_t mask,
                            char *buf, size_t buf_cap, uint32_t *feats, void *info_mem,
                            const mn_tg_dict *dict, uint32_t dict_slots, uint32_t *tags,
                            uint32_t *known)
{
    tokinfo *info = info_mem;
    size_t used = 0;
    /* Pass 1: per-token values, own features. */
    for (size_t i = 0; i < n; i++) {
        const char *w = words[i];
        size_t len = lens[i];
        size_t cap = 4 * len + 16;
        char *lw = buf + used;
        size_t ll = used + cap <= buf_cap ? lower_into(w, len, lw, cap) : 0;
        used += cap;
        uint64_t wh = mn_hash64(w, len), lh = mn_hash64(lw, ll), shape, sshape;
        if (known) {
            int64_t tag = mn__tg_dict_find(dict, dict_slots, wh);
            known[i] = tag >= 0 ? KNOWN : 0;
            if (tag >= 0) {
                tags[i] = (uint32_t)tag;
                shapes(w, len, NULL, &sshape);
                info[i] = (tokinfo){lh, suffix_hash(lw, ll, 3), sshape, wh};
                continue;
            }
        }
        uint32_t *f = feats + i * MN_TAGGER_NSTATIC;
        shapes(w, len, &shape, &sshape);
        unsigned flags = i == 0 ? 1u : 0u;
        int upper = 0, lower = 0;
        for (size_t j = 0; j < len; j++) {
            unsigned char c = (unsigned char)w[j];
            if (c >= '0' && c <= '9')
                flags |= 2u;
            else if (c == '-')
                flags |= 4u;
            else if (c >= 'A' && c <= 'Z')
                upper++;
            else if (c >= 'a' && c <= 'z')
                lower++;
        }
        if (len && w[0] >= 'A' && w[0] <= 'Z') flags |= 8u;
        if (upper && !lower) flags |= 16u;
        if (upper && lower && !(flags & 8u)) flags |= 32u; /* inner capitals: iPhone, McDonald */
        uint64_t suf3 = suffix_hash(lw, ll, 3);
        info[i] = (tokinfo){lh, suf3, sshape, wh};
        f[F_BIAS] = bucket_of(1, F_BIAS, mask);
        f[F_WORD] = bucket_of(wh, F_WORD, mask);
        f[F_LOWER] = bucket_of(lh, F_LOWER, mask);
        for (int k = 1; k <= 4; k++) {
            f[F_PRE1 + k - 1] = bucket_of(prefix_hash(lw, ll, k), F_PRE1 + k - 1, mask);
            f[F_SUF1 + k - 1] =
                bucket_of(k == 3 ? suf3 : suffix_hash(lw, ll, k), F_SUF1 + k - 1, mask);
        }
        f[F_SHAPE] = bucket_of(shape, F_SHAPE, mask);
        f[F_SSHAPE] = bucket_of(sshape, F_SSHAPE, mask);
        f[F_FLAGS] = bucket_of(flags, F_FLAGS, mask);
    }
    /* Pass 2: neighbours. */
    for (size_t i = 0; i < n; i++) {
        if (known && known[i] == KNOWN) continue;
        uint32_t *f = feats + i * MN_TAGGER_NSTATIC;
        uint64_t lm1 = i >= 1 ? info[i - 1].lower : H_START1;
        uint64_t lm2 = i >= 2 ? info[i - 2].lower : (i == 1 ? H_START1 : H_START2);
        uint64_t lp1 = i + 1 < n ? info[i + 1].lower : H_END1;
        uint64_t lp2 = i + 2 < n ? info[i + 2].lower : (i + 1 < n ? H_END1 : H_END2);
        uint64_t sm1 = i >= 1 ? info[i - 1].suf3 : H_START1;
        uint64_t sp1 = i + 1 < n ? info[i + 1].suf3 : H_END1;
        uint64_t hm1 = i >= 1 ? info[i - 1].sshape : H_START1;
        uint64_t hp1 = i + 1 < n ? info[i + 1].sshape : H_END1;
        f[F_LM1] = bucket_of(lm1, F_LM1, mask);
        f[F_LP1] = bucket_of(lp1, F_LP1, mask);
        f[F_LM2] = bucket_of(lm2, F_LM2, mask);
        f[F_LP2] = bucket_of(lp2, F_LP2, mask);
        f[F_SM1] = bucket_of(sm1, F_SM1, mask);
        f[F_SP1] = bucket_of(sp1, F_SP1, mask);
        f[F_SHM1] = bucket_of(mn_hash_combine(hm1, info[i].sshape), F_SHM1, mask);
        f[F_SHP1] = bucket_of(mn_hash_combine(info[i].sshape, hp1), F_SHP1, mask);
        f[F_BIGRAM_L] = bucket_of(mn_hash_combine(lm1, info[i].lower), F_BIGRAM_L, mask);
        f[F_BIGRAM_R] = bucket_of(mn_hash_combine(info[i].lower, lp1), F_BIGRAM_R, mask);
    }
}

void mn__tagger_static(const char *const *words, const size_t *lens, size_t n, uint32_t mask,
                       char *buf, size_t buf_cap, uint32_t *feats, void *info_mem)
{
    features(words, lens, n, mask, buf, buf_cap, feats, info_mem, NULL, 0, NULL, NULL);
}

void mn__tagger_dynamic(uint32_t p1, uint32_t p2, uint64_t lower_hash, uint32_t mask, uint32_t *out)
{
    out[0] = bucket_of(p1, F_P1, mask);
    out[1] = bucket_of(((uint64_t)p2 << 32) | p1, F_P2, mask);
    out[2] = bucket_of(mn_hash_combine(lower_hash, p1), F_P1W, mask);
}

uint64_t mn__tagger_info_lower(const void *info_mem, size_t i)
{
    return ((const tokinfo *)info_mem)[i].lower;
}

uint64_t mn__tagger_info_word(const void *info_mem, size_t i)
{
    return ((const tokinfo *)info_mem)[i].word;
}

size_t mn__tagger_info_bytes(size_t n)
{
    return (n ? n : 1) * sizeof(tokinfo);
}

/* ---- rows ------------------------------------------------------------------------------------ */

#define NO_ROW UINT32_MAX

/* The first entry of a bucket's row, or NO_ROW. */
static inline uint32_t find_row(const mn_tagger *t, uint32_t bucket)
{
    uint32_t key = bucket + 1;
    for (uint32_t j = (key * 2654435761u) & t->p.slot_mask;; j = (j + 1) & t->p.slot_mask) {
        uint32_t k = t->slots[2 * j];
        if (k == key) return t->slots[2 * j + 1];
        if (k == 0) return NO_ROW;
    }
}

static inline void prefetch_slot(const mn_tagger *t, uint32_t bucket)
{
    MN_PREFETCH(&t->slots[2 * (((bucket + 1) * 2654435761u) & t->p.slot_mask)]);
}

/* Scores are integer sums (|score| < 2^20), so the order rows are added in does not matter. */
static inline void add_entries(const mn_tg_entry *e, int32_t *score)
{
    for (;; e++) {
        score[e->tag & 0x7fff] += e->w;
        if (e->tag & 0x8000) break;
    }
}

/* Looks up the rows of token i's static features, keeps the first entries of those found in
 * f[0..count) (over the buckets, which are read first) and returns count; the entries are
 * prefetched for the token's turn. */
static inline uint32_t gather_rows(const mn_tagger *t, uint32_t *f)
{
    uint32_t c = 0;
    for (int k = 0; k < MN_TAGGER_NSTATIC; k++) {
        uint32_t r = find_row(t, f[k]);
        if (r == NO_ROW) continue;
        MN_PREFETCH(t->entries + r);
        f[c++] = r;
    }
    return c;
}

/* Largest gap k = best score - score whose softmax term exp(-k * scale) decoding tabulates
 * (beyond it exp is called), and the smallest tag set worth the table. */
enum { EXP_TAB_MAX = 1 << 16, EXP_TAB_MIN_TAGS = 32 };

static int build_exp_tab(mn_tagger *t)
{
    mn_free(t->exp_tab);
    t->exp_tab = NULL;
    t->exp_len = 0;
    double sc = t->p.scale;
    if (t->p.ntags < EXP_TAB_MIN_TAGS || !(sc > 0.0) || 30.0 / sc > EXP_TAB_MAX - 2) return 0;
    /* The same d as decode's (score - top) * sc; terms enter while d > -30, and d falls as
     * k grows, so the table ends at the first k left out. */
    uint32_t len = 0;
    while ((double)(-(int64_t)len) * sc > -30.0)
        len++;
    double *tab = mn_malloc((len ? len : 1) * sizeof *tab);
    if (!tab) return MN_ENOMEM;
    for (uint32_t k = 0; k < len; k++)
        tab[k] = exp((double)(-(int64_t)k) * sc);
    t->exp_tab = tab;
    t->exp_len = len;
    return 0;
}

/* Greedy decoding of one sentence whose static features are computed: known[i] is KNOWN for
 * a token the tag dictionary tagged (tags[i] is set), else 0. Lookups run ahead of scoring:
 * slots two tokens ahead are prefetched, rows one token ahead are found (once: their first
 * entries replace the buckets in feats, their number replaces known) and their entries
 * prefetched (see tagger_train.c). */
static void decode(const mn_tagger *t, uint32_t *feats, const void *info, uint32_t *known, size_t n,
                   int32_t *score, uint32_t *tags, float *scores)
{
    uint32_t nt = t->p.ntags, mask = t->p.bucket_mask;
    uint32_t p1 = nt, p2 = nt; /* nt = before the sentence */
    for (size_t i = 0; i < n && i < 2; i++)
        if (known[i] != KNOWN)
            for (int k = 0; k < MN_TAGGER_NSTATIC; k++)
                prefetch_slot(t, feats[i * MN_TAGGER_NSTATIC + k]);
    if (known[0] != KNOWN) known[0] = gather_rows(t, feats);
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n && known[i + 2] != KNOWN)
            for (int k = 0; k < MN_TAGGER_NSTATIC; k++)
                prefetch_slot(t, feats[(i + 2) * MN_TAGGER_NSTATIC + k]);
        if (i + 1 < n && known[i + 1] != KNOWN)
            known[i + 1] = gather_rows(t, feats + (i + 1) * MN_TAGGER_NSTATIC);
        if (known[i] == KNOWN) {
            if (scores) scores[i] = 1.0f;
            p2 = p1;
            p1 = tags[i];
            continue;
        }
        memset(score, 0, nt * sizeof *score);
        const uint32_t *f = feats + i * MN_TAGGER_NSTATIC;
        for (uint32_t k = 0; k < known[i]; k++)
            add_entries(t->entries + f[k], score);
        uint32_t dyn[MN_TAGGER_NDYN];
        mn__tagger_dynamic(p1, p2, mn__tagger_info_lower(info, i), mask, dyn);
        for (int k = 0; k < MN_TAGGER_NDYN; k++) {
            uint32_t r = find_row(t, dyn[k]);
            if (r != NO_ROW) add_entries(t->entries + r, score);
        }
        /* The first best tag: the maximum in one pass the compiler vectorises, then where. */
        int32_t top = score[0];
        for (uint32_t j = 1; j < nt; j++)
            top = score[j] > top ? score[j] : top;
        uint32_t best = 0;
        while (score[best] != top)
            best++;
        tags[i] = best;
        if (scores) {
            double z = 0.0;
            if (t->exp_tab) {
                /* The same terms, in the same order, as the loop below adds. */
                for (uint32_t j = 0; j < nt; j++) {
                    uint32_t k = (uint32_t)(top - score[j]);
                    if (k < t->exp_len) z += t->exp_tab[k];
                }
            } else {
                double dtop = top, sc = t->p.scale;
                for (uint32_t j = 0; j < nt; j++) {
                    double d = (score[j] - dtop) * sc;
                    if (d > -30.0) z += exp(d);
                }
            }
            scores[i] = (float)(1.0 / z);
        }
        p2 = p1;
        p1 = best;
    }
}

int mn__tagger_tag(const mn_tagger *t, mn_scratch *s, const char *const *words, const size_t *lens,
                   size_t n, uint32_t *tags, float *scores)
{
    if (n == 0) return 0;
    size_t bb = mn__tagger_buf_bytes(lens, n);
    void *info = mn__scratch_reserve(s, SLOT_INFO, mn__tagger_info_bytes(n));
    char *buf = mn__scratch_reserve(s, SLOT_LOWER, bb);
    /* feats, then known */
    uint32_t *feats =
        mn__scratch_reserve(s, SLOT_FEATS, n * (MN_TAGGER_NSTATIC + 1) * sizeof *feats);
    int32_t *score = mn__scratch_reserve(s, SLOT_CHUNKS, (size_t)t->p.ntags * sizeof *score);
    if (!info || !buf || !feats || !score) return MN_ENOMEM;
    uint32_t *known = feats + n * MN_TAGGER_NSTATIC;
    features(words, lens, n, t->p.bucket_mask, buf, bb, feats, info, t->dict, t->p.dict_slots, tags,
             known);
    decode(t, feats, info, known, n, score, tags, scores);
    return 0;
}

/* ---- public tagging API -------------------------------------------------------------------- */

static const mn_tagger *as_tagger(const mn_model *m)
{
    return m && mn_model_kind(m) == MN_MODEL_TAGGER ? (const mn_tagger *)m : NULL;
}

int mn_model_tag_tokens(const mn_model *m, mn_scratch *s, const char *const *words,
                        const size_t *lens, size_t n, uint32_t *tags, float *scores)
{
    const mn_tagger *t = as_tagger(m);
    if (!t || !s || (n && (!words || !lens || !tags))) return MN_EINVAL;
    return mn__tagger_tag(t, s, words, lens, n, tags, scores);
}

/* Tokenises and tags text; the tokens and their tags land in the scratch. */
static int tag_text(const mn_tagger *t, mn_scratch *s, const char *text, size_t len,
                    mn_token **toks_out, uint32_t **tags_out, float **scores_out, size_t *n_out)
{
    if (len > UINT32_MAX) return MN_ETOOBIG;
    /* words + lens + tags + scores + tokens, room for cap tokens each, in one slot. The text
     * is tokenised once into room guessed from its length (or what the slot already holds),
     * and again only when it has more tokens than that. */
    const size_t per = sizeof(char *) + sizeof(size_t) + 8 + sizeof(mn_token);
    size_t cap = len / 4 + 16, have = s->cap[SLOT_WORDS] / per;
    if (have > cap) cap = have;
    const char **words;
    size_t *lens, n;
    uint32_t *tags;
    float *scores;
    mn_token *toks;
    for (;;) {
        char *mem = mn__scratch_reserve(s, SLOT_WORDS, cap * per);
        if (!mem) return MN_ENOMEM;
        words = (const char **)(void *)mem;
        lens = (size_t *)(void *)(words + cap);
        tags = (uint32_t *)(void *)(lens + cap);
        scores = (float *)(void *)(tags + cap);
        toks = (mn_token *)(void *)(scores + cap);
        n = mn_tokenize(text, len, toks, cap);
        if (n <= cap) break;
        cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        words[i] = text + toks[i].off;
        lens[i] = toks[i].len;
    }
    int rc = mn__tagger_tag(t, s, words, lens, n, tags, scores);
    if (rc) return rc;
    *toks_out = toks;
    *tags_out = tags;
    *scores_out = scores;
    *n_out = n;
    return 0;
}

int mn_model_tag(const mn_model *m, mn_scratch *s, const char *text, size_t len, mn_tagged *out,
                 size_t cap, size_t *n_out)
{
    const mn_tagger *t = as_tagger(m);
    if (!t || !s || (!text && len) || (!out && cap) || !n_out) return MN_EINVAL;
    mn_token *toks;
    uint32_t *tags;
    float *scores;
    size_t n;
    int rc = tag_text(t, s, text ? text : "", len, &toks, &tags, &scores, &n);
    if (rc) return rc;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = (mn_tagged){toks[i].off, toks[i].len, tags[i], scores[i]};
    *n_out = n;
    return 0;
}

int mn_model_entities(const mn_model *m, mn_scratch *s, const char *text, size_t len,
                      mn_entity *out, size_t cap, size_t *n_out)
{
    const mn_tagger *t = as_tagger(m);
    if (!t || !s || (!text && len) || (!out && cap) || !n_out) return MN_EINVAL;
    if (!t->is_bio) {
        *n_out = 0;
        return 0;
    }
    mn_token *toks;
    uint32_t *tags;
    float *scores;
    size_t n;
    int rc = tag_text(t, s, text ? text : "", len, &toks, &tags, &scores, &n);
    if (rc) return rc;
    /* The score slot is free again once tagging is done: reuse it for the chunks. */
    mn_chunk *ch = mn__scratch_reserve(s, SLOT_CHUNKS, (n + 1) * sizeof *ch);
    if (!ch) return MN_ENOMEM;
    size_t nc = mn__bio_chunks(tags, n, t->kind, t->type, ch, n + 1);
    for (size_t i = 0; i < nc && i < cap; i++) {
        const mn_chunk *c = &ch[i];
        const mn_token *a = &toks[c->first], *b = &toks[c->first + c->count - 1];
        float sum = 0.0f;
        for (uint32_t j = 0; j < c->count; j++)
            sum += scores[c->first + j];
        out[i] = (mn_entity){.off = a->off,
                             .len = b->off + b->len - a->off,
                             .first = c->first,
                             .count = c->count,
                             .type = t->type_name[c->type],
                             .type_len = t->type_len[c->type],
                             .score = sum / (float)c->count};
    }
    *n_out = nc;
    return 0;
}

/* ---- model ops ------------------------------------------------------------------------------- */

static int tg_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                      float threshold, mn_prediction *out, size_t *n_out)
{
    (void)m, (void)s, (void)text, (void)len, (void)k, (void)threshold, (void)out, (void)n_out;
    return MN_EUNSUPPORTED;
}

static int tg_save(const mn_model *m, const char *path, mn_err *err)
{
    const mn_tagger *t = (const mn_tagger *)m;
    mn_file_writer *w = NULL;
    int rc = mn_file_writer_new(MN_MODEL_TAGGER, &w);
    if (rc) return mn_err_set(err, rc, "%s: out of memory", path);
    rc = mn__model_write_common(m, w);
    if (!rc) rc = mn_file_writer_add(w, TAG_PARAMS, &t->p, sizeof t->p);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_SLOTS, t->slots,
                                ((size_t)t->p.slot_mask + 1) * 2 * sizeof(uint32_t));
    if (!rc)
        rc = mn_file_writer_add(w, TAG_ENTRIES, t->entries,
                                (size_t)t->p.nentries * sizeof(mn_tg_entry));
    if (!rc && t->p.dict_slots)
        rc = mn_file_writer_add(w, TAG_DICT, t->dict, (size_t)t->p.dict_slots * sizeof(mn_tg_dict));
    return mn_file_writer_finish(w, rc, path, err);
}

static void tg_destroy(mn_model *m)
{
    mn_tagger *t = (mn_tagger *)m;
    mn_free(t->owned_slots);
    mn_free(t->owned_entries);
    mn_free(t->owned_dict);
    mn_free(t->kind);
    mn_free(t->type);
    mn_free(t->type_name);
    mn_free(t->type_len);
    mn_free(t->exp_tab);
    mn_file_close(t->file);
    mn__model_deinit(m);
    mn_free(t);
}

static const mn_model_ops tagger_ops = {
    .name = "tagger",
    .predict = tg_predict,
    .save = tg_save,
    .destroy = tg_destroy,
};

mn_tagger *mn__tagger_new(void)
{
    mn_tagger *t = mn_calloc(1, sizeof *t);
    if (t) mn__model_init(&t->base, &tagger_ops, MN_MODEL_TAGGER);
    return t;
}

void mn__tagger_free(mn_tagger *t)
{
    if (t) tg_destroy(&t->base);
}

int mn__tagger_index_labels(mn_tagger *t)
{
    uint32_t n = t->base.nlabels;
    t->kind = mn_calloc(n ? n : 1, 1);
    t->type = mn_calloc(n ? n : 1, sizeof *t->type);
    t->type_name = mn_calloc(n ? n : 1, sizeof *t->type_name);
    t->type_len = mn_calloc(n ? n : 1, sizeof *t->type_len);
    if (!t->kind || !t->type || !t->type_name || !t->type_len) return MN_ENOMEM;
    t->ntypes = 0;
    t->is_bio = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *ty = NULL;
        size_t tl = 0;
        int k = mn__bio_parse(t->base.labels[i], &ty, &tl);
        t->kind[i] = (uint8_t)k;
        if (k != MN_BIO_B && k != MN_BIO_I) continue;
        t->is_bio = 1;
        uint32_t j = 0;
        while (j < t->ntypes && !(t->type_len[j] == tl && memcmp(t->type_name[j], ty, tl) == 0))
            j++;
        if (j == t->ntypes) {
            t->type_name[j] = ty;
            t->type_len[j] = (uint32_t)tl;
            t->ntypes++;
        }
        t->type[i] = j;
    }
    return build_exp_tab(t);
}

static int need_section(const mn_file *f, uint32_t tag, size_t want, const void **data, mn_err *err)
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

int mn__tagger_load(const struct mn_file *f, mn_model **out, mn_err *err)
{
    mn_tagger *t = mn__tagger_new();
    if (!t) {
        mn_file_close((mn_file *)f);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    t->file = (mn_file *)f;
    const void *d;
    int rc;
    if ((rc = need_section(f, TAG_PARAMS, sizeof t->p, &d, err))) goto fail;
    memcpy(&t->p, d, sizeof t->p);
    if ((rc = mn__model_read_common(&t->base, f, err))) goto fail;
    const mn_tg_params *p = &t->p;
    if (p->feature_version != MN_TAGGER_FEATURES || p->ntags != t->base.nlabels || p->ntags < 1 ||
        p->ntags > 0x7fff || ((uint64_t)p->bucket_mask + 1) & p->bucket_mask ||
        (p->slot_mask + 1) & p->slot_mask || p->slot_mask == UINT32_MAX ||
        p->nrows > p->slot_mask || !(p->scale > 0.0f) || !isfinite(p->scale) ||
        (p->dict_slots & (p->dict_slots - 1)) || p->dict_slots > (1u << 28)) {
        rc = mn_err_set(err, MN_ECORRUPT, "tagger parameters are inconsistent");
        goto fail;
    }
    if ((rc = need_section(f, TAG_SLOTS, ((size_t)p->slot_mask + 1) * 8, &d, err))) goto fail;
    t->slots = d;
    if ((rc = need_section(f, TAG_ENTRIES, (size_t)p->nentries * sizeof(mn_tg_entry), &d, err)))
        goto fail;
    t->entries = d;
    /* Every row must lie inside the entries, carry tags in range and end with its flag, and
     * the table must have an empty slot: then every lookup stops, whatever the file says. */
    {
        uint32_t empty = 0, rows = 0;
        for (uint32_t j = 0; j <= p->slot_mask; j++) {
            uint32_t key = t->slots[2 * j], first = t->slots[2 * j + 1];
            if (!key) {
                empty++;
                continue;
            }
            rows++;
            if (key - 1 > p->bucket_mask || first >= p->nentries) goto bad;
            uint32_t e = first;
            while (e < p->nentries && !(t->entries[e].tag & 0x8000)) {
                if (t->entries[e].tag >= p->ntags) goto bad;
                e++;
            }
            if (e == p->nentries || (t->entries[e].tag & 0x7fff) >= p->ntags) goto bad;
        }
        if (!empty || rows != p->nrows) goto bad;
    }
    if (p->dict_slots) {
        if ((rc = need_section(f, TAG_DICT, (size_t)p->dict_slots * sizeof(mn_tg_dict), &d, err)))
            goto fail;
        t->dict = d;
        uint32_t empty = 0;
        for (uint32_t j = 0; j < p->dict_slots; j++) {
            if (!t->dict[j].used)
                empty++;
            else if (t->dict[j].used != 1 || t->dict[j].tag >= p->ntags)
                goto bad;
        }
        if (!empty) goto bad;
    }
    if ((rc = mn__tagger_index_labels(t))) {
        mn_err_set(err, rc, "out of memory");
        goto fail;
    }
    t->base.size_bytes = mn_file_size(f);
    *out = &t->base;
    return 0;
bad:
    rc = mn_err_set(err, MN_ECORRUPT, "tagger weight table is malformed");
fail:
    tg_destroy(&t->base);
    return rc;
}
