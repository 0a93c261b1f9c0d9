/* SPDX-License-Identifier: MIT
 *
 * Unicode normalisation for features: NFKC, case folding and mark stripping, built on utf8proc
 * but without its allocating entry points (utf8proc_map, utf8proc_NFKC). The text is cut into
 * composition segments, each starting at a "stable starter" (a code point that can neither be
 * reordered nor composed with what precedes it). A segment is decomposed code point by code
 * point with utf8proc_decompose_char into a stack buffer, put in canonical order, recomposed
 * with utf8proc_normalize_utf32 and encoded straight into the caller's buffer. Runs of ASCII
 * skip all of that (NFKC leaves ASCII alone and case folding is tolower there), and so do most
 * other letters (see "Code points that normalise alone" below). Ill-formed UTF-8 becomes
 * U+FFFD, one per maximal subpart, exactly as mn_utf8_repair() does. This is the only file that
 * includes <utf8proc.h> apart from tokenize.c.
 */
#include "micronlp/text.h"

#include "micronlp/err.h"
#include "text/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <utf8proc.h>

/* Code points per composition segment. Real text needs a handful (a base letter and a few
 * marks); a longer run of marks is processed in pieces of this size, as the Stream-Safe Text
 * Format of UAX #15 does after 30 non-starters. */
#define SEG_MAX 64
/* Room for one code point's full decomposition (the longest, U+FDFA, has 18). */
#define DECOMP_MAX 32

#define ALL_FLAGS (MN_NORM_NFKC | MN_NORM_CASEFOLD | MN_NORM_STRIP_MARKS)

/* Output cursor: bytes are written while they fit, and counted always, so the caller learns
 * the exact size needed. */
typedef struct sink {
    char *out;
    size_t cap;
    size_t n;
} sink;

static inline void put(sink *k, const char *b, size_t n)
{
    if (n <= k->cap && k->n <= k->cap - n)
        memcpy(k->out + k->n, b, n);
    k->n += n;
}

static inline void put_ascii(sink *k, const char *s, size_t n, int fold)
{
    if (n <= k->cap && k->n <= k->cap - n) {
        char *o = k->out + k->n;
        if (fold) {
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                o[i] = (char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c);
            }
        } else {
            memcpy(o, s, n);
        }
    }
    k->n += n;
}

static inline void put_cp(sink *k, int32_t cp)
{
    char b[4];
    put(k, b, mn_utf8_encode(cp, b));
}

/* The marks MN_NORM_STRIP_MARKS drops: the script-neutral combining diacritics (accents of
 * Latin, Greek and Cyrillic text). Marks that carry meaning in their own script, such as kana
 * voicing (で = て + U+3099), Indic viramas, Thai tone marks or emoji variation selectors, are
 * kept: dropping every Mn, as BERT's accent stripping does, would turn です into てす. */
static inline int diacritic(int32_t c)
{
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
           (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
           (c >= 0xFE20 && c <= 0xFE2F);
}

static inline int ascii8(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (v & 0x8080808080808080ull) == 0;
}

/* True if nothing before cp can compose with it or be reordered across it. Canonical ordering
 * only moves non-starters, and every second element of a canonical composition pair is a
 * combining mark or a Hangul medial vowel or final consonant (composed by utf8proc
 * algorithmically), so a ccc-0 code point outside those classes starts a new segment. */
static int stable_starter(int32_t cp)
{
    if (cp < 0x80)
        return 1;
    if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2))
        return 0;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->combining_class != 0)
        return 0;
    return p->category != UTF8PROC_CATEGORY_MN && p->category != UTF8PROC_CATEGORY_MC &&
           p->category != UTF8PROC_CATEGORY_ME;
}

/* Stable insertion sort of each run of non-starters by combining class (Unicode 3.11, the
 * canonical ordering algorithm). Starters (class 0) never move. */
static void canonical_order(int32_t *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int32_t c = b[i];
        int cc = utf8proc_get_property(c)->combining_class;
        if (cc == 0)
            continue;
        size_t j = i;
        while (j > 0 && utf8proc_get_property(b[j - 1])->combining_class > cc) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = c;
    }
}

static void flush(sink *k, int32_t *seg, size_t *nseg)
{
    if (*nseg == 0)
        return;
    canonical_order(seg, *nseg);
    utf8proc_ssize_t m =
        utf8proc_normalize_utf32(seg, (utf8proc_ssize_t)*nseg, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (m < 0) /* cannot happen for in-range code points; keep the decomposed form */
        m = (utf8proc_ssize_t)*nseg;
    for (utf8proc_ssize_t i = 0; i < m; i++)
        put_cp(k, seg[i]);
    *nseg = 0;
}

/* ---- Code points that normalise alone ------------------------------------------------------
 *
 * Text in most languages is letters that need no segment work: a code point is "solo" when it
 * is a stable starter whose whole decomposition starts with a stable starter, so nothing before
 * it can compose with it or be reordered across it. Followed by another such code point (or
 * ASCII, or the end), its segment holds its own decomposition only, and its normal form is
 * what it gives alone. That form is looked up: from a table built on first use for each set of
 * flags, over the scripts whose letters decompose (Latin, Greek, Cyrillic ... below U+0800,
 * and Latin Extended Additional and Greek Extended, U+1E00-U+1FFF, as in Vietnamese), by
 * running the general path on the code point; elsewhere a code point with no decomposition,
 * no case folding and combining class 0 that is not a mark or conjoining jamo is its own
 * normal form. Anything else takes the general path. tests/unit/text/normalize.c compares the
 * two paths on every code point of the table ranges before and after a set of neighbours. */
enum {
    SOLO_LOW_END = 0x800,
    SOLO_EXT_BEGIN = 0x1E00,
    SOLO_EXT_END = 0x2000,
    SOLO_ENTRIES = (SOLO_LOW_END - 0x80) + (SOLO_EXT_END - SOLO_EXT_BEGIN),
    SOLO_MAX_BYTES = 7
};

typedef struct solo {
    uint8_t n; /* bytes of the normal form, 0 if the code point is not solo */
    char b[SOLO_MAX_BYTES];
} solo;

static solo solo_tab[ALL_FLAGS + 1][SOLO_ENTRIES];
static atomic_int solo_ready[ALL_FLAGS + 1];
static pthread_mutex_t solo_lock = PTHREAD_MUTEX_INITIALIZER;

static int normalize(const char *s, size_t len, unsigned flags, char *out, size_t cap,
                     size_t *out_len, int fast);

static inline int solo_index(int32_t cp)
{
    if (cp >= 0x80 && cp < SOLO_LOW_END)
        return cp - 0x80;
    if (cp >= SOLO_EXT_BEGIN && cp < SOLO_EXT_END)
        return (SOLO_LOW_END - 0x80) + (cp - SOLO_EXT_BEGIN);
    return -1;
}

static int32_t solo_cp(int i)
{
    return i < SOLO_LOW_END - 0x80 ? 0x80 + i : SOLO_EXT_BEGIN + (i - (SOLO_LOW_END - 0x80));
}

static void solo_build(unsigned flags, solo *tab)
{
    int compose = (flags & (MN_NORM_NFKC | MN_NORM_STRIP_MARKS)) != 0;
    utf8proc_option_t opt = (flags & MN_NORM_NFKC ? UTF8PROC_COMPAT : 0) |
                            (compose ? UTF8PROC_COMPOSE : 0) |
                            (flags & MN_NORM_CASEFOLD ? UTF8PROC_CASEFOLD : 0);
    for (int i = 0; i < SOLO_ENTRIES; i++) {
        int32_t cp = solo_cp(i), d[DECOMP_MAX];
        int bc = 0;
        tab[i].n = 0;
        if (compose && !stable_starter(cp))
            continue;
        utf8proc_ssize_t m = utf8proc_decompose_char(cp, d, DECOMP_MAX, opt, &bc);
        if (m < 1 || m > DECOMP_MAX || (compose && !stable_starter(d[0])))
            continue;
        char in[4], o[32];
        size_t n;
        if (normalize(in, mn_utf8_encode(cp, in), flags, o, sizeof o, &n, 0) == 0 && n >= 1 &&
            n <= SOLO_MAX_BYTES) {
            memcpy(tab[i].b, o, n);
            tab[i].n = (uint8_t)n;
        }
    }
}

static const solo *solo_table(unsigned flags)
{
    if (!atomic_load_explicit(&solo_ready[flags], memory_order_acquire)) {
        pthread_mutex_lock(&solo_lock);
        if (!atomic_load_explicit(&solo_ready[flags], memory_order_relaxed)) {
            solo_build(flags, solo_tab[flags]);
            atomic_store_explicit(&solo_ready[flags], 1, memory_order_release);
        }
        pthread_mutex_unlock(&solo_lock);
    }
    return solo_tab[flags];
}

/* True if cp (>= U+0800, outside the table) is its own normal form under any flags and a
 * stable starter: no decomposition (Hangul syllables decompose algorithmically and compose
 * back), no case folding, class 0, not a mark, not a conjoining jamo. */
static inline int solo_identity(int32_t cp)
{
    if (cp >= 0x1100 && cp < 0x1200)
        return 0;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->combining_class == 0 && p->decomp_seqindex == UINT16_MAX &&
           p->casefold_seqindex == UINT16_MAX && p->category != UTF8PROC_CATEGORY_MN &&
           p->category != UTF8PROC_CATEGORY_MC && p->category != UTF8PROC_CATEGORY_ME;
}

/* The normal form of cp if it is solo (*b, *n), else 0. src holds cp's own n0 bytes. */
static inline int solo_of(const solo *tab, int32_t cp, const char *src, size_t n0,
                          const char **b, size_t *n)
{
    int i = solo_index(cp);
    if (i >= 0) {
        *b = tab[i].b;
        *n = tab[i].n;
        return tab[i].n != 0;
    }
    if (cp < SOLO_LOW_END || !solo_identity(cp))
        return 0;
    *b = src;
    *n = n0;
    return 1;
}

/* A decoded code point known to be solo, kept between the check that the code point before
 * it may stand alone (which has to look at it) and its own turn, so that it is decoded and
 * looked up once rather than twice. */
typedef struct solo_peek {
    size_t at; /* byte offset of the code point, SIZE_MAX for none */
    int32_t cp;
    size_t n;       /* its bytes */
    const char *b;  /* its normal form */
    size_t bn;
} solo_peek;

/* True if the text at s (len bytes) starts a new segment for sure: it is empty, or starts with
 * ASCII or a solo code point, which is then kept in *pk as the one at offset at. */
static inline int solo_boundary(const solo *tab, const char *s, size_t len, size_t at,
                                solo_peek *pk)
{
    if (len == 0 || (unsigned char)s[0] < 0x80)
        return 1;
    int32_t cp;
    int bad;
    size_t n = mn__utf8_decode_lenient(s, len, &cp, &bad);
    const char *b;
    size_t bn;
    if (bad || !solo_of(tab, cp, s, n, &b, &bn))
        return 0;
    *pk = (solo_peek){.at = at, .cp = cp, .n = n, .b = b, .bn = bn};
    return 1;
}

/* ---- Text that is its own normal form -----------------------------------------------------
 *
 * Words of scripts written with combining marks (Devanagari, Bengali, Thai, Hebrew points ...)
 * fail the solo test at each mark and so went through the segment path, code point by code
 * point. Most of those words are their own normal form: a code point is "inert" when it has no
 * decomposition, no case folding, and can be neither reordered against its neighbours' own
 * decompositions (none have any) nor composed with what precedes it (it is not the second of
 * any canonical composition; conjoining jamo and Hangul syllables are left out, as utf8proc
 * composes them algorithmically). A text of ASCII and inert code points, whose runs of
 * non-starters are already in canonical order (classes never decreasing), is then its own
 * NFKC and case folding but for ASCII capitals, which fold to small letters. Mark stripping is
 * left to the general path. Inert code points of the BMP are kept in a table of pages filled
 * on first use (mn__cp_pages): 0 for not inert, else 1 + the combining class. Others take the
 * general path. tests/unit/text/normalize.c checks every BMP code point's entry against the
 * canonical decompositions and compares the two paths on random words. */
static unsigned char inert_of(int32_t cp)
{
    if ((cp >= 0x1100 && cp < 0x1200) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
        (cp >= 0xD800 && cp < 0xE000))
        return 0;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    /* comb_index: UINT16_MAX for none; bit 15 set for the second of a composition */
    if (p->decomp_seqindex != UINT16_MAX || p->casefold_seqindex != UINT16_MAX ||
        (p->comb_index != UINT16_MAX && (p->comb_index & 0x8000)) || p->combining_class < 0 ||
        p->combining_class > 254)
        return 0;
    return (unsigned char)(p->combining_class + 1);
}

static mn__cp_pages inert_pages = {.compute = inert_of};

static inline const unsigned char *inert_page(int32_t cp)
{
    return mn__cp_page(&inert_pages, cp);
}

/* Writes s (len bytes, s[from] not ASCII, s[0..from) ASCII and already in out) to out (at
 * least len bytes) if it is its own normal form as described above, folding ASCII capitals
 * when fold is set; 0 if it is not (out is then partly written). */
static int inert_text(const char *s, size_t len, size_t from, int fold, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned prev = 0; /* combining class of the code point before */
    size_t i = from;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            out[i++] = (char)(fold && (unsigned)(c - 'A') < 26u ? c | 0x20 : c);
            prev = 0;
            continue;
        }
        int32_t cp;
        int bad;
        size_t n = mn__utf8_decode_lenient(s + i, len - i, &cp, &bad);
        if (bad || cp >= 0x10000)
            return 0;
        uint8_t v = inert_page(cp)[cp & 0xFF];
        if (!v)
            return 0;
        unsigned ccc = (unsigned)v - 1;
        if (ccc != 0 && ccc < prev)
            return 0;
        prev = ccc;
        for (size_t j = 0; j < n; j++)
            out[i + j] = s[i + j];
        i += n;
    }
    return 1;
}

int mn_normalize(const char *s, size_t len, unsigned flags, char *out, size_t cap,
                 size_t *out_len)
{
    return normalize(s, len, flags, out, cap, out_len, 1);
}

/* fast: use the solo tables (0 while building them). */
static int normalize(const char *s, size_t len, unsigned flags, char *out, size_t cap,
                     size_t *out_len, int fast)
{
    sink k = {.out = out, .cap = out ? cap : 0, .n = 0};
    const unsigned char *p = (const unsigned char *)s;
    flags &= ALL_FLAGS;
    int fold = (flags & MN_NORM_CASEFOLD) != 0;
    /* Most inputs are short ASCII words: there NFKC and mark stripping change nothing and case
     * folding is lower-casing, so one pass does it without the set-up below. Output written
     * before a non-ASCII byte shows up is simply written again by the general path. */
    if (out && len <= cap) {
        size_t i = 0;
        for (; i < len && p[i] < 0x80; i++)
            out[i] = (char)(fold && (unsigned)(p[i] - 'A') < 26u ? p[i] | 0x20 : p[i]);
        if (i == len) {
            *out_len = len;
            return 0;
        }
        if (fast && flags && !(flags & MN_NORM_STRIP_MARKS) && inert_text(s, len, i, fold, out)) {
            *out_len = len;
            return 0;
        }
    }
    int strip = (flags & MN_NORM_STRIP_MARKS) != 0;
    /* Composition is needed whenever decomposition happens: for NFKC, and for mark stripping
     * (which has to see "é" as "e" + U+0301). Case folding alone maps code points one by one. */
    int compose = (flags & (MN_NORM_NFKC | MN_NORM_STRIP_MARKS)) != 0;
    utf8proc_option_t opt = 0;
    if (flags & MN_NORM_NFKC)
        opt |= UTF8PROC_COMPAT;
    if (compose)
        opt |= UTF8PROC_COMPOSE;
    if (fold)
        opt |= UTF8PROC_CASEFOLD;

    const solo *tab = fast && flags ? solo_table(flags) : NULL;

    int32_t seg[SEG_MAX];
    size_t nseg = 0;
    size_t i = 0;
    solo_peek pk = {.at = SIZE_MAX};
    while (i < len) {
        if (p[i] < 0x80) {
            size_t e = i;
            while (e + 8 <= len && ascii8(p + e))
                e += 8;
            while (e < len && p[e] < 0x80)
                e++;
            /* The last ASCII character before non-ASCII may take combining marks
             * ("e" + U+0301), so it goes through the segment path, unless what follows
             * starts a segment of its own. */
            size_t stop =
                (compose && e < len && !(tab && solo_boundary(tab, s + e, len - e, e, &pk))) ? e - 1
                                                                                           : e;
            if (stop > i) {
                flush(&k, seg, &nseg);
                put_ascii(&k, s + i, stop - i, fold);
                i = stop;
            }
            if (i == len)
                break;
        }
        int32_t cp;
        int bad, is_solo;
        size_t n;
        const char *sb;
        size_t sn;
        if (i == pk.at) {
            cp = pk.cp;
            n = pk.n;
            bad = 0;
            sb = pk.b;
            sn = pk.bn;
            is_solo = 1;
        } else {
            n = mn__utf8_decode_lenient(s + i, len - i, &cp, &bad);
            is_solo = tab && !bad && solo_of(tab, cp, s + i, n, &sb, &sn);
        }
        if (is_solo && (!compose || solo_boundary(tab, s + i + n, len - i - n, i + n, &pk))) {
            if (nseg)
                flush(&k, seg, &nseg);
            put(&k, sb, sn);
            i += n;
            continue;
        }
        i += n;
        if (flags == 0 || bad) {
            flush(&k, seg, &nseg);
            put_cp(&k, cp);
            continue;
        }
        int32_t d[DECOMP_MAX];
        int bc = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(cp, d, DECOMP_MAX, opt, &bc);
        if (m < 0 || m > DECOMP_MAX) { /* never for valid scalars; keep cp unchanged */
            d[0] = cp;
            m = 1;
        }
        if (!compose) {
            for (utf8proc_ssize_t j = 0; j < m; j++)
                put_cp(&k, d[j]);
            continue;
        }
        for (utf8proc_ssize_t j = 0; j < m; j++) {
            int32_t c = d[j];
            if (strip && diacritic(c) && utf8proc_category(c) == UTF8PROC_CATEGORY_MN)
                continue;
            if (nseg == SEG_MAX || (nseg > 0 && stable_starter(c)))
                flush(&k, seg, &nseg);
            seg[nseg++] = c;
        }
    }
    flush(&k, seg, &nseg);
    *out_len = k.n;
    return k.n <= k.cap ? 0 : MN_ETOOBIG;
}
