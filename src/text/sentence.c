/* SPDX-License-Identifier: MIT
 *
 * The sentence splitter: a scan over code points that stops at sentence terminators and asks
 * a few questions about the neighbourhood (what follows, which word came before) to tell a
 * sentence end from an abbreviation, an initial, a decimal point or a mid-sentence ellipsis.
 * The rules are listed in include/micronlp/text.h. Like the tokenizer it reports byte ranges
 * into the caller's text and allocates nothing.
 */
#include "micronlp/text.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text/internal.h"

/* Abbreviations that rarely end a sentence, lower-case, without the full stop, by first letter
 * (is_abbrev reads only the list of the word's first letter). */
static const char *const ABBREV_A[] = {"apr", "aug", "adm", "approx", "ave", "al", "art", NULL};
static const char *const ABBREV_B[] = {"blvd", NULL};
static const char *const ABBREV_C[] = {"co", "corp", "ch", "col", "capt", "cmdr", "cf", "ca", NULL};
static const char *const ABBREV_D[] = {"dr", "dec", "dept", NULL};
static const char *const ABBREV_E[] = {"est", "ed", "eds", "ex", "e.g", NULL};
static const char *const ABBREV_F[] = {"feb", "fig", "figs", "ft", NULL};
static const char *const ABBREV_G[] = {"gen", "gov", NULL};
static const char *const ABBREV_H[] = {"hon", NULL};
static const char *const ABBREV_I[] = {"inc", "i.e", NULL};
static const char *const ABBREV_J[] = {"jr", "jan", "jun", "jul", NULL};
static const char *const ABBREV_L[] = {"ltd", "lt", "lb", NULL};
static const char *const ABBREV_M[] = {"mr",  "mrs", "ms",     "mt",  "mar",  "min",
                                       "max", "mph", "messrs", "mme", "mlle", NULL};
static const char *const ABBREV_N[] = {"nov", "no", "nos", NULL};
static const char *const ABBREV_O[] = {"oct", "oz", "op", NULL};
static const char *const ABBREV_P[] = {"prof", "pp", "p", "pres", NULL};
static const char *const ABBREV_R[] = {"rep", "rev", "rd", "ref", NULL};
static const char *const ABBREV_S[] = {"sr", "st", "sep", "sept", "sec", "sen", "sgt", NULL};
static const char *const ABBREV_T[] = {"tel", NULL};
static const char *const ABBREV_U[] = {"u.s", "u.k", NULL};
static const char *const ABBREV_V[] = {"vs", "vol", "viz", NULL};
static const char *const *const ABBREV[26] = {
    ABBREV_A, ABBREV_B, ABBREV_C, ABBREV_D, ABBREV_E, ABBREV_F,
    ABBREV_G, ABBREV_H, ABBREV_I, ABBREV_J, NULL, ABBREV_L,
    ABBREV_M, ABBREV_N, ABBREV_O, ABBREV_P, NULL, ABBREV_R,
    ABBREV_S, ABBREV_T, ABBREV_U, ABBREV_V, NULL, NULL,
    NULL, NULL,
};

static int is_space_cp(int32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Terminators that end a sentence when whitespace follows. */
static int is_stop(int32_t c)
{
    return c == '.' || c == '!' || c == '?' || c == 0x2026 /* … */ || c == 0x061F /* ؟ */ ||
           c == 0x06D4 /* ۔ */ || c == 0x0964 /* । */ || c == 0x0965 /* ॥ */ ||
           c == 0x203C /* ‼ */ || c == 0x2047 || c == 0x2048 || c == 0x2049;
}

/* Full-width terminators: end a sentence with or without a following space. */
static int is_cjk_stop(int32_t c)
{
    return c == 0x3002 /* 。 */ || c == 0xFF01 /* ！ */ || c == 0xFF1F /* ？ */ ||
           c == 0xFF61 /* ｡ */;
}

static int is_closer(int32_t c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == 0x2019 ||
           c == 0x201D || c == 0x00BB || c == 0x203A || c == 0x300D || c == 0x300F || c == 0xFF09 ||
           c == 0x3011 || c == 0xFF63;
}

/* What the scan below has to look at: '\n' and the ASCII terminators (1), and the other
 * terminators of is_stop and is_cjk_stop by their lead byte and their second byte with its low
 * bit cleared (U+061F D8 9F, U+06D4 DB 94, U+0964 U+0965 E0 A5, U+2026 U+203C U+2047..U+2049
 * E2 80/81, U+3002 E3 80, U+FF01 U+FF1F U+FF61 EF BC/BD). Any other byte is stepped over
 * alone: the rest of its sequence is continuation bytes, which decode as ill-formed bytes that
 * are no terminator either, so the scan stops where decoding one code point at a time would,
 * without decoding most of them. */
static const unsigned char STOP_LEAD[256] = {
    ['\n'] = 1,    ['.'] = 1,     ['!'] = 1,     ['?'] = 1,     [0xD8] = 0x9E,
    [0xDB] = 0x94, [0xE0] = 0xA4, [0xE2] = 0x80, [0xE3] = 0x80, [0xEF] = 0xBC,
};

/* True if the code point at p (left > 0 bytes) may be '\n' or a terminator (see STOP_LEAD). */
static inline int may_stop(const unsigned char *p, size_t left)
{
    unsigned v = STOP_LEAD[p[0]];
    return v == 1 || (v && left > 1 && (p[1] & 0xFEu) == v);
}

/* The first byte from i that may_stop, or len. Bytes that may stop are '\n' . ! ? and lead
 * bytes D8 and above; 16 bytes are checked for those at once where SSE2 has them. */
static inline size_t skip_to_stop(const unsigned char *s, size_t len, size_t i)
{
    for (;;) {
#if defined(__SSE2__)
        while (len - i >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8('.'))),
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('!')),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('?'))),
                             _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)0xD8)), x)));
            unsigned bits = (unsigned)_mm_movemask_epi8(m);
            if (bits) {
                i += (size_t)__builtin_ctz(bits);
                break;
            }
            i += 16;
        }
#endif
        while (i < len && !STOP_LEAD[s[i]])
            i++;
        if (i >= len || may_stop(s + i, len - i))
            return i;
        i++;
    }
}

static size_t decode(const char *s, size_t len, size_t i, int32_t *cp)
{
    size_t n = mn__utf8_decode1(s + i, len - i, cp);
    if (*cp < 0) *cp = (unsigned char)s[i];
    return n;
}

/* The word that ends just before the full stop at byte `dot`: back to whitespace or an
 * opening bracket/quote. */
static void word_before(const char *s, size_t dot, size_t start, size_t *wb)
{
    size_t i = dot;
    while (i > start) {
        unsigned char c = (unsigned char)s[i - 1];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == '[' || c == '"' ||
            c == '\'' || c == '{')
            break;
        i--;
    }
    *wb = i;
}

static int is_abbrev(const char *w, size_t n)
{
    if (n == 0 || n > 8) return 0;
    char low[9];
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    if (low[0] < 'a' || low[0] > 'z' || !ABBREV[low[0] - 'a']) return 0;
    for (const char *const *a = ABBREV[low[0] - 'a']; *a; a++)
        if (strlen(*a) == n && memcmp(*a, low, n) == 0)
            return 1;
    return 0;
}

/* Decides whether the full stop(s) at [dot, after) end the sentence, given that whitespace
 * (or the end) follows the closers; next is the first code point after that whitespace (-1 at
 * the end). ellipsis: the terminator was "..", "...", or "…". */
static int full_stop_ends(const char *s, size_t start, size_t dot, int ellipsis, int32_t next)
{
    if (next < 0) return 1;
    if (next >= 'a' && next <= 'z') return 0; /* "approx. five", "wait... no" */
    if (ellipsis) return 1;
    size_t wb;
    word_before(s, dot, start, &wb);
    const char *w = s + wb;
    size_t n = dot - wb;
    if (n == 1 && w[0] >= 'A' && w[0] <= 'Z') return 0; /* an initial: "J. R. R. Tolkien" */
    if (is_abbrev(w, n)) return 0;
    /* a word with inner full stops: "e.g." "U.S." "a.m." (letters and dots only) */
    int inner = 0, letters_only = 1;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '.')
            inner = 1;
        else if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z')))
            letters_only = 0;
    }
    if (inner && letters_only) return 0;
    return 1;
}

void mn_sentencer_init(mn_sentencer *s, const char *text, size_t len)
{
    s->text = text;
    s->len = len > UINT32_MAX ? UINT32_MAX : len;
    s->pos = 0;
}

/* Whether the newline at s[i] is followed, after spaces, tabs and carriage returns, by another
 * one: a blank line, which ends a sentence. If so *next is that second newline. */
static inline int blank_line_after(const char *s, size_t len, size_t i, size_t *next)
{
    size_t j = i + 1;
    while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
        j++;
    if (j < len && s[j] == '\n') {
        *next = j;
        return 1;
    }
    return 0;
}

/* An ASCII byte after a single '.', '!' or '?' that settles it as no sentence end: neither
 * whitespace, a terminator nor a closing quote or bracket ("e.g", "3.14", "example.com"). */
static inline int quiet_after_stop(unsigned char c)
{
    return c > ' ' && c < 0x7F && c != '.' && c != '!' && c != '?' && c != '"' && c != '\'' &&
           c != ')' && c != ']' && c != '}';
}

/* mn_sentencer_next; with quick, a '\n' that starts no blank line and a terminator followed
 * by a QUIET_AFTER_STOP byte are stepped over without decoding what follows them (the general
 * path, without, for tests/unit/text/sentence.c to compare with). E-mails have many of both. */
static inline int sentencer_next(mn_sentencer *st, mn_sentence *out, int quick)
{
    const char *s = st->text;
    size_t len = st->len, i = st->pos;
    int32_t c;
    /* skip leading whitespace */
    while (i < len) {
        size_t n = decode(s, len, i, &c);
        if (!is_space_cp(c)) break;
        i += n;
    }
    if (i >= len) {
        st->pos = len;
        return 0;
    }
    size_t start = i, end = len, resume = len;
    while (i < len) {
        /* Most bytes can neither end a sentence nor start a blank line (see STOP_LEAD). */
        i = skip_to_stop((const unsigned char *)s, len, i);
        if (i >= len)
            break;
        if (quick) {
            unsigned char b = (unsigned char)s[i];
            if ((b == '.' || b == '!' || b == '?') && len - i > 1 &&
                quiet_after_stop((unsigned char)s[i + 1])) {
                i++;
                continue;
            }
            if (b == '\n') {
                if (blank_line_after(s, len, i, &resume)) {
                    end = i;
                    break;
                }
                i++;
                continue;
            }
        }
        size_t n = decode(s, len, i, &c);
        if (c == '\n' && blank_line_after(s, len, i, &resume)) {
            end = i; /* a blank line ends the sentence */
            break;
        }
        if (is_cjk_stop(c)) {
            size_t j = i + n;
            int32_t d;
            while (j < len) { /* more stops and closers belong to this sentence */
                size_t m = decode(s, len, j, &d);
                if (!is_cjk_stop(d) && !is_stop(d) && !is_closer(d)) break;
                j += m;
            }
            end = resume = j;
            break;
        }
        if (!is_stop(c)) {
            i += n;
            continue;
        }
        /* a run of terminators: "?!", "...", "!!!" */
        size_t dot = i, j = i;
        int dots = 0, other = 0;
        while (j < len) {
            int32_t d;
            size_t m = decode(s, len, j, &d);
            if (!is_stop(d)) break;
            if (d == '.')
                dots++;
            else if (d == 0x2026)
                dots += 3;
            else
                other = 1;
            j += m;
        }
        size_t after = j;
        while (j < len) { /* closing quotes and brackets */
            int32_t d;
            size_t m = decode(s, len, j, &d);
            if (!is_closer(d)) break;
            j += m;
        }
        size_t sent_end = j;
        int32_t d = -1;
        if (j < len) {
            size_t m = decode(s, len, j, &d);
            if (!is_space_cp(d)) {
                i = after > i ? after : i + n; /* "3.14", "e.g.", "Yahoo!Inc": no end here */
                continue;
            }
            (void)m;
            /* the first code point after the whitespace */
            size_t k = j;
            while (k < len) {
                size_t mm = decode(s, len, k, &d);
                if (!is_space_cp(d)) break;
                k += mm;
            }
            if (k >= len)
                d = -1;
            else
                decode(s, len, k, &d);
        }
        int ends = other && dots == 0 ? 1 : full_stop_ends(s, start, dot, dots >= 2, d);
        if (other && dots == 0 && d >= 'a' && d <= 'z')
            ends = 1; /* "Really? yes." is still two sentences */
        if (ends) {
            end = resume = sent_end;
            break;
        }
        i = after;
    }
    /* trim trailing whitespace */
    while (end > start) {
        unsigned char b = (unsigned char)s[end - 1];
        if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f')
            end--;
        else
            break;
    }
    out->off = (uint32_t)start;
    out->len = (uint32_t)(end - start);
    st->pos = resume;
    return 1;
}

int mn_sentencer_next(mn_sentencer *st, mn_sentence *out)
{
    return sentencer_next(st, out, 1);
}

size_t mn_sentences(const char *text, size_t len, mn_sentence *out, size_t cap)
{
    mn_sentencer st;
    mn_sentence sent;
    size_t n = 0;
    mn_sentencer_init(&st, text, len);
    while (mn_sentencer_next(&st, &sent)) {
        if (n < cap) out[n] = sent;
        n++;
    }
    return n;
}
