/* SPDX-License-Identifier: MIT
 *
 * The word tokenizer. It walks the text once, left to right, and reports each token as a byte
 * range of the caller's text plus a kind (word, number, URL, e-mail, @handle, #hashtag, emoji,
 * CJK, punctuation, symbol); nothing is copied or allocated. ASCII bytes are classified
 * through two 256-entry tables; other code points through utf8proc's general category and
 * grapheme-break class plus a few script ranges (Han, kana, regional indicators, skin tones).
 *
 * The rules, in the order they are tried at the start of a token:
 *   - White_Space, control characters, U+200B and U+FEFF separate tokens; format characters
 *     (Cf: ZWJ, ZWNJ, soft hyphen, ...) are skipped there but kept inside tokens.
 *   - An ill-formed UTF-8 byte is a SYMBOL token of one byte.
 *   - "scheme://..." and "www...." are URLs up to white space or a character that cannot be in
 *     a URL; trailing . , ; : ! ? ' * and unbalanced ) ] are left out ("see http://x.com/a.").
 *   - local@domain.tld is an e-mail; @name (optionally @name@domain.tld) a handle; #name with at
 *     least one non-digit a hashtag.
 *   - Digits with "." or "," groups, an optional leading sign and a trailing "%" are a number;
 *     letters or joiners right after the digits ("3rd", "10-year-old") make it a word.
 *   - Letters, digits and marks form a word, which also keeps an apostrophe (' U+2019),
 *     hyphen (- U+2010 U+2011), underscore, middle dot or Tibetan tsheg (U+0F0B U+0F0C)
 *     between two word characters.
 *   - Each Han ideograph is a token; a run of kana is a token (both kind CJK).
 *   - An emoji is one Extended_Pictographic symbol (or, with U+FE0F, any Extended_Pictographic
 *     character), a keycap ([0-9#*] U+FE0F? U+20E3) or a pair of regional indicators (a flag),
 *     with its variation selectors, skin-tone modifiers, tag characters and ZWJ continuations.
 *   - A run of one repeated punctuation character ("--", "!!") is one token, and so is a mixed
 *     run of sentence terminators ("?!", "..."); symbols group only when repeated ("==").
 * After any token, combining marks and format characters that follow are kept with it, so a
 * grapheme cluster is never split.
 */
#include "micronlp/text.h"

#include <string.h>
#include <utf8proc.h>

#include "text/internal.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Character classes. */
enum {
    C_SEP,    /* white space, controls, ZWSP, BOM: between tokens, never inside */
    C_LETTER, /* L* (but Han and kana), Nl, No */
    C_DIGIT,  /* Nd */
    C_MARK,   /* Mn Mc Me */
    C_FMT,    /* Cf: inside tokens only */
    C_HAN,    /* Han ideographs */
    C_KANA,   /* hiragana, katakana, prolonged sound mark */
    C_PUNCT,  /* P* */
    C_SYMBOL, /* S*, private use, unassigned */
    C_EMOJI,  /* Extended_Pictographic with category So or Cn */
    C_RI,     /* regional indicator (half a flag) */
    C_MOD,    /* emoji skin-tone modifier */
    C_BAD,    /* ill-formed UTF-8 byte */
    C_MB,     /* (ASCII table only) first byte of a multi-byte sequence: decode first */
};

enum {
    F_WORD = 1 << 0,  /* letter or digit */
    F_JOIN = 1 << 1,  /* ' - _ : joins two word characters */
    F_URL = 1 << 2,   /* may appear in a URL */
    F_LOCAL = 1 << 3, /* may appear in the local part of an e-mail address */
    F_DOM = 1 << 4,   /* may appear in a domain label */
    F_ALPHA = 1 << 5, /* letter */
    F_END = 1 << 6,   /* ends an ASCII word or number whatever follows: not a word character,
                       * joiner, e-mail character, ':' or '@' (the fast path's quick exit) */
    F_SOLO = 1 << 7,  /* punctuation or symbol that starts nothing but a run of itself: not
                       * # @ (tags) - + (signs) . ! ? (runs of terminators) */
};

#define SP C_SEP
#define LE C_LETTER
#define DI C_DIGIT
#define SY C_SYMBOL
#define PU C_PUNCT
#define MB C_MB

/* Generated from Python's str.isalpha/isdigit over 0..127; bytes >= 0x80 are MB / no flags. */
static const unsigned char acls[256] = {
    SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
    SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
    SP, PU, PU, PU, SY, PU, PU, PU, PU, PU, PU, SY, PU, PU, PU, PU,
    DI, DI, DI, DI, DI, DI, DI, DI, DI, DI, PU, PU, SY, SY, SY, PU,
    PU, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE,
    LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, PU, PU, PU, SY, PU,
    SY, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE,
    LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, LE, PU, SY, PU, SY, SP,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
    MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB, MB,
};
static const unsigned char aflags[256] = {
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_END, F_END, F_END,
    F_END, F_URL|F_END, F_END|F_SOLO, F_URL|F_END,
    F_URL|F_END|F_SOLO, F_URL|F_LOCAL|F_SOLO, F_URL|F_END|F_SOLO, F_JOIN|F_URL|F_LOCAL|F_SOLO,
    F_URL|F_END|F_SOLO, F_URL|F_END|F_SOLO, F_URL|F_END|F_SOLO, F_URL|F_LOCAL,
    F_URL|F_END|F_SOLO, F_JOIN|F_URL|F_LOCAL|F_DOM, F_URL|F_LOCAL, F_URL|F_END|F_SOLO,
    F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM,
    F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM,
    F_WORD|F_URL|F_LOCAL|F_DOM, F_WORD|F_URL|F_LOCAL|F_DOM, F_URL|F_SOLO, F_URL|F_END|F_SOLO,
    F_END|F_SOLO, F_URL|F_END|F_SOLO, F_END|F_SOLO, F_URL|F_END,
    F_URL, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_URL|F_END|F_SOLO,
    F_END|F_SOLO, F_URL|F_END|F_SOLO, F_END|F_SOLO, F_JOIN|F_URL|F_LOCAL|F_SOLO,
    F_END|F_SOLO, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA,
    F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_WORD|F_URL|F_LOCAL|F_DOM|F_ALPHA, F_END|F_SOLO,
    F_END|F_SOLO, F_END|F_SOLO, F_URL|F_END|F_SOLO, F_END,
};

#undef SP
#undef LE
#undef DI
#undef SY
#undef PU
#undef MB

static inline int in(int32_t cp, int32_t lo, int32_t hi)
{
    return cp >= lo && cp <= hi;
}

static int is_han(int32_t cp)
{
    return in(cp, 0x4E00, 0x9FFF) || in(cp, 0x3400, 0x4DBF) || in(cp, 0x20000, 0x3FFFF) ||
           in(cp, 0xF900, 0xFAFF) || in(cp, 0x3005, 0x3007) || in(cp, 0x3021, 0x3029) ||
           in(cp, 0x3038, 0x303B);
}

static int is_kana(int32_t cp)
{
    return in(cp, 0x3041, 0x3096) || in(cp, 0x309B, 0x309F) || in(cp, 0x30A1, 0x30FA) ||
           in(cp, 0x30FC, 0x30FF) || in(cp, 0x31F0, 0x31FF) || in(cp, 0xFF66, 0xFF9F) ||
           in(cp, 0x1AFF0, 0x1AFFF) || in(cp, 0x1B000, 0x1B16F);
}

static int is_pict(int32_t cp)
{
    return utf8proc_get_property(cp)->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;
}

/* Sentence terminators that group into one punctuation token: . ! ? … ‼ ⁇ ⁈ ⁉ 。 ！ ？ ｡ */
static int is_term(int32_t cp)
{
    return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || cp == 0x203C ||
           in(cp, 0x2047, 0x2049) || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F ||
           cp == 0xFF61;
}

/* Non-ASCII joiners: U+2019 right single quotation mark (the typographic apostrophe), U+2010
 * hyphen, U+2011 non-breaking hyphen, U+00B7 middle dot (Catalan "l·l"), and the Tibetan tsheg
 * U+0F0B and its non-breaking form U+0F0C. Tibetan puts no space between words, only a tsheg
 * after every syllable, so a run of syllables up to a shad or a space is one token, as a run of
 * Thai letters is; split at each tsheg, a token would be one syllable and its character n-grams
 * would never see two. */
static int is_joiner_cp(int32_t cp)
{
    return cp == 0x2019 || cp == 0x2010 || cp == 0x2011 || cp == 0x00B7 || cp == 0x0F0B ||
           cp == 0x0F0C;
}

/* Class of a non-ASCII code point. */
static int classify(int32_t cp)
{
    /* White_Space outside ASCII, plus ZWSP (used as an invisible word break in Thai and Khmer
     * text), U+180E and the BOM. */
    if (cp < 0x1680) { /* most letters: two of these tests rather than all */
        if (cp == 0x85 || cp == 0xA0)
            return C_SEP;
    } else {
        if (cp == 0x1680 || in(cp, 0x2000, 0x200B) || cp == 0x2028 || cp == 0x2029 ||
            cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF || cp == 0x180E)
            return C_SEP;
        if (in(cp, 0x1F1E6, 0x1F1FF))
            return C_RI;
        if (in(cp, 0x1F3FB, 0x1F3FF))
            return C_MOD;
    }
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
        if (cp >= 0x3005 && is_han(cp))
            return C_HAN;
        if (cp >= 0x3041 && is_kana(cp))
            return C_KANA;
        return C_LETTER;
    case UTF8PROC_CATEGORY_NO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_CF:
        return C_FMT;
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return C_SEP;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return C_PUNCT;
    case UTF8PROC_CATEGORY_SK:
        if (cp == 0x309B || cp == 0x309C) /* spacing kana voiced sound marks */
            return C_KANA;
        return C_SYMBOL;
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_CN:
        return p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ? C_EMOJI : C_SYMBOL;
    default: /* Sm, Sc, Co, Cs */
        return C_SYMBOL;
    }
}

/* classify of the Basic Multilingual Plane, from a table filled page by page. */
static unsigned char class_byte(int32_t cp)
{
    return (unsigned char)classify(cp);
}

static mn__cp_pages class_pages = {.compute = class_byte};

static inline int classify_bmp(int32_t cp)
{
    return mn__cp_page(&class_pages, cp)[cp & 0xFF];
}

/* Class, length (*n) and code point (*cp) of the character at s[i], i < len. An ill-formed
 * byte is C_BAD with *n = 1 and *cp = -1. */
static MN_ALWAYS_INLINE int peek(const unsigned char *s, size_t len, size_t i, size_t *n,
                                 int32_t *cp)
{
    unsigned char c = s[i];
    if (c < 0x80) {
        *n = 1;
        *cp = c;
        return acls[c];
    }
    *n = mn__utf8_decode1((const char *)s + i, len - i, cp);
    if (*cp < 0)
        return C_BAD;
    return *cp < 0x10000 ? classify_bmp(*cp) : classify(*cp);
}

static inline int word_class(int cls)
{
    return cls == C_LETTER || cls == C_DIGIT || cls == C_MARK || cls == C_FMT;
}

/* True if the character at s[i] can continue a word after a joiner (a letter or a digit). */
static int word_char_at(const unsigned char *s, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    size_t n;
    int32_t cp;
    int cls = peek(s, len, i, &n, &cp);
    return cls == C_LETTER || cls == C_DIGIT;
}

/* Extends a word from s[i] over letters, digits, marks, format characters and joiners that
 * sit between two word characters. Returns the end. */
static size_t scan_word(const unsigned char *s, size_t len, size_t i)
{
    for (;;) {
        while (i < len && (aflags[s[i]] & F_WORD))
            i++;
        if (i >= len)
            return i;
        if (s[i] < 0x80) {
            if ((aflags[s[i]] & F_JOIN) && word_char_at(s, len, i + 1)) {
                i++;
                continue;
            }
            return i;
        }
        size_t n;
        int32_t cp;
        int cls = peek(s, len, i, &n, &cp);
        if (word_class(cls) || (is_joiner_cp(cp) && word_char_at(s, len, i + n))) {
            i += n;
            continue;
        }
        return i;
    }
}

/* Keeps combining marks and format characters that follow a token. */
static size_t scan_extend(const unsigned char *s, size_t len, size_t i)
{
    while (i < len && s[i] >= 0x80) {
        size_t n;
        int32_t cp;
        int cls = peek(s, len, i, &n, &cp);
        if (cls != C_MARK && cls != C_FMT)
            break;
        i += n;
    }
    return i;
}

static int digit_at(const unsigned char *s, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (s[i] < 0x80)
        return acls[s[i]] == C_DIGIT;
    size_t n;
    int32_t cp;
    return peek(s, len, i, &n, &cp) == C_DIGIT;
}

static size_t scan_digits(const unsigned char *s, size_t len, size_t i)
{
    for (;;) {
        while (i < len && acls[s[i]] == C_DIGIT)
            i++;
        if (i >= len || s[i] < 0x80)
            return i;
        size_t n;
        int32_t cp;
        if (peek(s, len, i, &n, &cp) != C_DIGIT)
            return i;
        i += n;
    }
}

/* A number from s[i] (a digit): digits, "." or "," digit groups, optional "%". Letters or
 * joined word characters right after the digits turn it into a word. */
static size_t scan_number(const unsigned char *s, size_t len, size_t i, int *kind)
{
    i = scan_digits(s, len, i);
    while (i + 1 < len && (s[i] == '.' || s[i] == ',') && digit_at(s, len, i + 1))
        i = scan_digits(s, len, i + 1);
    if (i < len && s[i] == '%') {
        *kind = MN_TOK_NUMBER;
        return i + 1;
    }
    size_t w = scan_word(s, len, i);
    *kind = w > i ? MN_TOK_WORD : MN_TOK_NUMBER;
    return w;
}

/* Domain name from s[i]: at least two labels of letters, digits and '-', joined by single
 * dots, the last one (the TLD) all letters and at least 2 long. Returns the end or 0. */
static size_t scan_domain(const unsigned char *s, size_t len, size_t i)
{
    size_t labels = 0, last = 0, end = 0;
    for (;;) {
        size_t st = i;
        while (i < len && (aflags[s[i]] & F_DOM))
            i++;
        if (i == st)
            break;
        labels++;
        last = st;
        end = i;
        if (i + 1 < len && s[i] == '.' && (aflags[s[i + 1]] & F_DOM)) {
            i++;
            continue;
        }
        break;
    }
    if (labels < 2 || end - last < 2)
        return 0;
    for (size_t k = last; k < end; k++)
        if (!(aflags[s[k]] & F_ALPHA))
            return 0;
    return end;
}

/* E-mail address starting at s[i]. Returns the end or 0. */
static size_t scan_email(const unsigned char *s, size_t len, size_t i)
{
    size_t e = i;
    while (e < len && (aflags[s[e]] & F_LOCAL))
        e++;
    if (e == i || e >= len || s[e] != '@' || s[i] == '.' || s[e - 1] == '.')
        return 0;
    return scan_domain(s, len, e + 1);
}

/* Counts bytes equal to c in s[i..e). */
static size_t count_byte(const unsigned char *s, size_t i, size_t e, unsigned char c)
{
    size_t k = 0;
    for (; i < e; i++)
        k += s[i] == c;
    return k;
}

/* URL whose body (after "scheme://" or "www.") starts at s[body]; start is the token start.
 * Returns the end, or 0 if nothing is left after trimming. */
static size_t scan_url(const unsigned char *s, size_t len, size_t start, size_t body)
{
    size_t e = body;
    for (;;) {
        while (e < len && (aflags[s[e]] & F_URL))
            e++;
        if (e >= len || s[e] < 0x80)
            break;
        /* Internationalised URLs: letters, digits and marks of any script. */
        size_t n;
        int32_t cp;
        int cls = peek(s, len, e, &n, &cp);
        if (cls != C_LETTER && cls != C_DIGIT && cls != C_MARK && cls != C_HAN && cls != C_KANA)
            break;
        e += n;
    }
    while (e > body) {
        unsigned char c = s[e - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
            c == '*') {
            e--;
            continue;
        }
        /* Keep a closing bracket that closes one inside the URL (Wikipedia's "Foo_(bar)"). */
        if ((c == ')' && count_byte(s, start, e, ')') > count_byte(s, start, e, '(')) ||
            (c == ']' && count_byte(s, start, e, ']') > count_byte(s, start, e, '['))) {
            e--;
            continue;
        }
        break;
    }
    return e > body ? e : 0;
}

static int lower_eq(const unsigned char *s, const char *lit, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = s[k];
        if ((unsigned)(c - 'A') < 26u)
            c |= 0x20;
        if (c != (unsigned char)lit[k])
            return 0;
    }
    return 1;
}

/* A scheme: ASCII letter, then letters, digits, '+', '-', '.'; at most 32 bytes. */
static int scheme_ok(const unsigned char *s, size_t i, size_t e)
{
    if (e - i > 32 || !(aflags[s[i]] & F_ALPHA))
        return 0;
    for (size_t k = i; k < e; k++)
        if (!(aflags[s[k]] & F_WORD) && s[k] != '+' && s[k] != '-' && s[k] != '.')
            return 0;
    return 1;
}

/* A token that starts with a letter: URL, e-mail or word. */
static size_t scan_letter_start(const unsigned char *s, size_t len, size_t i, int *kind)
{
    if (len - i > 4 && (s[i] | 0x20) == 'w' && lower_eq(s + i, "www.", 4) &&
        (aflags[s[i + 4]] & F_WORD)) {
        size_t u = scan_url(s, len, i, i + 4);
        if (u) {
            *kind = MN_TOK_URL;
            return u;
        }
    }
    size_t e = scan_word(s, len, i);
    *kind = MN_TOK_WORD;
    if (e >= len)
        return e;
    if (s[e] == ':' && len - e > 3 && s[e + 1] == '/' && s[e + 2] == '/' &&
        scheme_ok(s, i, e)) {
        size_t u = scan_url(s, len, i, e + 3);
        if (u) {
            *kind = MN_TOK_URL;
            return u;
        }
    }
    if (s[e] == '@' || (aflags[s[e]] & F_LOCAL)) {
        size_t m = scan_email(s, len, i);
        if (m) {
            *kind = MN_TOK_EMAIL;
            return m;
        }
    }
    return e;
}

/* Body of a handle or hashtag: letters of any script, digits, marks, '_'. Sets *alpha if it
 * has anything but digits. */
static size_t scan_tag(const unsigned char *s, size_t len, size_t i, int *alpha)
{
    *alpha = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (!(aflags[c] & F_WORD) && c != '_')
                break;
            *alpha |= acls[c] != C_DIGIT;
            i++;
            continue;
        }
        size_t n;
        int32_t cp;
        int cls = peek(s, len, i, &n, &cp);
        if (cls != C_LETTER && cls != C_DIGIT && cls != C_MARK && cls != C_HAN &&
            cls != C_KANA && cls != C_FMT)
            break;
        *alpha |= cls != C_DIGIT;
        i += n;
    }
    return i;
}

/* Continuation of an emoji from s[i]: variation selectors, skin tones, keycap, tags, marks,
 * and ZWJ followed by another pictograph. */
static size_t scan_emoji_tail(const unsigned char *s, size_t len, size_t i)
{
    while (i < len && s[i] >= 0x80) {
        size_t n;
        int32_t cp;
        int cls = peek(s, len, i, &n, &cp);
        if (cp == 0x200D) {
            i += n;
            if (i < len && s[i] >= 0x80) {
                int c2 = peek(s, len, i, &n, &cp);
                if (c2 == C_EMOJI || c2 == C_RI || c2 == C_MOD || (c2 != C_BAD && is_pict(cp)))
                    i += n;
            }
            continue; /* a dangling ZWJ stays with the emoji, as in a grapheme cluster */
        }
        if (cls != C_MARK && cls != C_FMT && cls != C_MOD)
            break;
        i += n;
    }
    return i;
}

/* Keycap sequence at s[i] ([0-9#*] U+FE0F? U+20E3). Returns its end or 0. */
static size_t keycap(const unsigned char *s, size_t len, size_t i)
{
    if (len - i >= 7 && memcmp(s + i + 1, "\xEF\xB8\x8F\xE2\x83\xA3", 6) == 0)
        return i + 7;
    if (len - i >= 4 && memcmp(s + i + 1, "\xE2\x83\xA3", 3) == 0)
        return i + 4;
    return 0;
}

static int fe0f_at(const unsigned char *s, size_t len, size_t i)
{
    return len - i >= 3 && s[i] == 0xEF && s[i + 1] == 0xB8 && s[i + 2] == 0x8F;
}

/* A run of the same character, or of sentence terminators when the first is one. */
static size_t scan_run(const unsigned char *s, size_t len, size_t i, int32_t cp0, int terms)
{
    while (i < len) {
        size_t n;
        int32_t cp;
        peek(s, len, i, &n, &cp);
        if (cp != cp0 && !(terms && cp >= 0 && is_term(cp)))
            break;
        i += n;
    }
    return i;
}

void mn_tokenizer_init(mn_tokenizer *t, const char *text, size_t len)
{
    t->text = text;
    t->len = len > UINT32_MAX ? UINT32_MAX : len; /* offsets are 32-bit */
    t->pos = 0;
}

/* The general path of mn_tokenizer_next: every rule, from s[i], the first byte after the
 * ASCII separators. */
static int next_general(mn_tokenizer *t, size_t i, mn_token *tok)
{
    const unsigned char *s = (const unsigned char *)t->text;
    size_t len = t->len, n;
    int32_t cp;
    int cls;
    for (;;) {
        while (i < len && acls[s[i]] == C_SEP)
            i++;
        if (i >= len) {
            t->pos = len;
            return 0;
        }
        cls = peek(s, len, i, &n, &cp);
        if (cls != C_SEP && cls != C_FMT)
            break;
        i += n;
    }

    size_t start = i, e = i + n, k;
    int kind;
    int alpha;
    switch (cls) {
    case C_BAD:
        tok->off = (uint32_t)start;
        tok->len = 1;
        tok->kind = MN_TOK_SYMBOL;
        t->pos = start + 1;
        return 1;
    case C_LETTER:
        e = scan_letter_start(s, len, i, &kind);
        break;
    case C_MARK:
        e = scan_word(s, len, i);
        kind = MN_TOK_WORD;
        break;
    case C_DIGIT:
        if (cp < 0x80 && (k = keycap(s, len, i))) {
            e = scan_emoji_tail(s, len, k);
            kind = MN_TOK_EMOJI;
            break;
        }
        e = scan_number(s, len, i, &kind);
        if (e < len && (s[e] == '@' || (aflags[s[e]] & F_LOCAL)) && (k = scan_email(s, len, i))) {
            e = k;
            kind = MN_TOK_EMAIL;
        }
        break;
    case C_HAN:
        kind = MN_TOK_CJK;
        break;
    case C_KANA:
        while (e < len && s[e] >= 0x80) {
            int c2 = peek(s, len, e, &n, &cp);
            if (c2 != C_KANA && c2 != C_MARK)
                break;
            e += n;
        }
        kind = MN_TOK_CJK;
        break;
    case C_EMOJI:
    case C_MOD:
        e = scan_emoji_tail(s, len, e);
        kind = MN_TOK_EMOJI;
        break;
    case C_RI:
        if (e < len && peek(s, len, e, &n, &cp) == C_RI)
            e += n; /* a flag is a pair; a lone indicator stays an emoji of its own */
        e = scan_emoji_tail(s, len, e);
        kind = MN_TOK_EMOJI;
        break;
    case C_PUNCT:
    case C_SYMBOL:
    default:
        if ((cp == '#' || cp == '*') && (k = keycap(s, len, i))) {
            e = scan_emoji_tail(s, len, k);
            kind = MN_TOK_EMOJI;
            break;
        }
        if (cp == '@' && (k = scan_tag(s, len, e, &alpha)) > e) {
            if (k + 1 < len && s[k] == '@') {
                size_t d = scan_domain(s, len, k + 1); /* Fediverse: @user@host.tld */
                if (d)
                    k = d;
            }
            e = k;
            kind = MN_TOK_HANDLE;
            break;
        }
        if (cp == '#' && (k = scan_tag(s, len, e, &alpha)) > e && alpha) {
            e = k;
            kind = MN_TOK_HASHTAG;
            break;
        }
        if ((cp == '-' || cp == '+' || cp == 0x2212) && digit_at(s, len, e)) {
            e = scan_number(s, len, e, &kind);
            break;
        }
        if (cp >= 0x80 && fe0f_at(s, len, e) && is_pict(cp)) {
            e = scan_emoji_tail(s, len, e);
            kind = MN_TOK_EMOJI;
            break;
        }
        kind = cls == C_PUNCT ? MN_TOK_PUNCT : MN_TOK_SYMBOL;
        e = scan_run(s, len, e, cp, cls == C_PUNCT && is_term(cp));
        break;
    }
    e = scan_extend(s, len, e);
    tok->off = (uint32_t)start;
    tok->len = (uint32_t)(e - start);
    tok->kind = (uint8_t)kind;
    t->pos = e;
    return 1;
}

/* The end of the run of ASCII letters and digits from s[e]. Words are short and of every
 * length, so a byte loop mispredicts its exit about once a word; 16 bytes are classified at
 * once where the text has them. */
static inline size_t word_run(const unsigned char *s, size_t len, size_t e)
{
#if defined(__SSE2__)
    while (len - e >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + e));
        /* c - lo < n unsigned, as a signed compare after moving lo to -128; bytes >= 0x80
         * land outside both ranges */
        __m128i lc = _mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
                                  _mm_set1_epi8((char)(0x80 - 'a')));
        __m128i dg = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0')));
        __m128i w = _mm_or_si128(_mm_cmplt_epi8(lc, _mm_set1_epi8((char)(-128 + 26))),
                                 _mm_cmplt_epi8(dg, _mm_set1_epi8((char)(-128 + 10))));
        unsigned m = (unsigned)_mm_movemask_epi8(w) ^ 0xFFFFu;
        if (m)
            return e + (size_t)__builtin_ctz(m);
        e += 16;
    }
#endif
    while (e < len && (aflags[s[e]] & F_WORD))
        e++;
    return e;
}

/* scan_word over ASCII alone: word characters, and joiners between two of them. Returns the
 * end, or 0 when a joiner is followed by a non-ASCII byte (which may be a letter). */
static inline size_t ascii_word(const unsigned char *s, size_t len, size_t e)
{
    for (;;) {
        e = word_run(s, len, e);
        if (e + 1 < len && (aflags[s[e]] & F_JOIN)) {
            if (aflags[s[e + 1]] & F_WORD) {
                e += 2;
                continue;
            }
            if (s[e + 1] >= 0x80)
                return 0;
        }
        return e;
    }
}

/* True if the ASCII word or number from s[i] (all ASCII, at least one byte) ending at e may be
 * an e-mail's local part: scan_email takes the run of local-part characters from i and needs
 * an '@' right after it. */
static inline int email_ahead(const unsigned char *s, size_t len, size_t e)
{
    if (e >= len || !(s[e] == '@' || (aflags[s[e]] & F_LOCAL)))
        return 0;
    while (e < len && (aflags[s[e]] & F_LOCAL))
        e++;
    return e < len && s[e] == '@';
}

/* The fast paths are inlined into both loops below (mn_tokenizer_next and the batch), so a
 * batch makes no call per token. */

/* Most tokens of real text are plain ASCII words, numbers and punctuation runs that end at an
 * ASCII byte which cannot extend them. Those are cut here with table lookups, the same way
 * the general path would cut them; anything else (non-ASCII nearby, digit groups, URLs,
 * e-mails, handles, hashtags, signed numbers, keycaps) goes through next_general from the same
 * position, so the tokens are exactly the same (tests/unit/text/tokenize.c checks the two
 * paths against each other). */
static MN_ALWAYS_INLINE int next_token(mn_tokenizer *t, const unsigned char *s, size_t len,
                                       size_t *pos, mn_token *tok)
{
    size_t i = *pos;
    if (i >= len)
        goto end;
    while (acls[s[i]] == C_SEP)
        if (++i >= len)
            goto end;
    unsigned char c = s[i];
    int cls = acls[c];
    size_t e = i + 1;
    int kind;
    if (cls == C_LETTER) {
        /* scan_letter_start: "www." may start a URL; then scan_word; then "scheme://" makes a
         * URL, and an '@' after the local-part characters an e-mail; scan_extend goes on
         * at a non-ASCII byte. Most words end at a byte that allows none of that (F_END). */
        kind = MN_TOK_WORD;
        e = word_run(s, len, e);
        if (e < len && !(aflags[s[e]] & F_END)) {
            e = ascii_word(s, len, e);
            if (!e)
                goto general;
            if (e < len) {
                unsigned char d = s[e];
                if (d >= 0x80 || (d == ':' && len - e > 3 && s[e + 1] == '/' && s[e + 2] == '/') ||
                    (d == '.' && e - i == 3 && lower_eq(s + i, "www", 3)) ||
                    email_ahead(s, len, e))
                    goto general;
            }
        }
    } else if (cls == C_DIGIT) {
        /* scan_number: digits, "." or "," digit groups (left to the general path, as are
         * non-ASCII digits), an optional "%", else letters and joiners that make it a word;
         * then the e-mail check and scan_extend as above. A keycap needs a non-ASCII byte.
         * Most numbers end at a byte that allows none of that (F_END, but not ","). */
        kind = MN_TOK_NUMBER;
        while (e < len && acls[s[e]] == C_DIGIT)
            e++;
        if (e < len && !((aflags[s[e]] & F_END) && s[e] != ',')) {
            if (e + 1 < len && (s[e] == '.' || s[e] == ',') &&
                (acls[s[e + 1]] == C_DIGIT || s[e + 1] >= 0x80))
                goto general;
            if (s[e] == '%') {
                e++;
            } else {
                size_t w = ascii_word(s, len, e);
                if (!w)
                    goto general;
                kind = w > e ? MN_TOK_WORD : MN_TOK_NUMBER;
                e = w;
            }
            if (e < len && (s[e] >= 0x80 || email_ahead(s, len, e)))
                goto general;
        }
    } else if (cls == C_PUNCT || cls == C_SYMBOL) {
        /* The default case: '#' and '*' may start a keycap (a non-ASCII byte follows), '@' a
         * handle and '#' a hashtag (a word character, '_' or a non-ASCII byte follows), '-'
         * and '+' a signed number (a digit follows). Otherwise a run of the character, or of
         * sentence terminators when it is one; a non-ASCII byte after the run may continue
         * it (…) or extend it (a combining mark). */
        kind = cls == C_PUNCT ? MN_TOK_PUNCT : MN_TOK_SYMBOL;
        if ((aflags[c] & F_SOLO) && (e >= len || (s[e] != c && s[e] < 0x80)))
            goto done; /* most often: one character, then something else */
        if (e < len) {
            unsigned char d = s[e];
            if (d >= 0x80 || ((c == '#' || c == '@') && ((aflags[d] & F_WORD) || d == '_')) ||
                ((c == '-' || c == '+') && acls[d] == C_DIGIT))
                goto general;
        }
        int terms = c == '.' || c == '!' || c == '?';
        while (e < len && (s[e] == c || (terms && (s[e] == '.' || s[e] == '!' || s[e] == '?'))))
            e++;
        if (e < len && s[e] >= 0x80)
            goto general;
    } else {
        goto general;
    }
done:
    tok->off = (uint32_t)i;
    tok->len = (uint32_t)(e - i);
    tok->kind = (uint8_t)kind;
    *pos = e;
    return 1;
general:;
    int got = next_general(t, i, tok);
    *pos = t->pos;
    return got;
end:
    *pos = len;
    return 0;
}

int mn_tokenizer_next(mn_tokenizer *t, mn_token *tok)
{
    size_t pos = t->pos;
    int got = next_token(t, (const unsigned char *)t->text, t->len, &pos, tok);
    t->pos = pos;
    return got;
}

size_t mn_tokenizer_next_batch(mn_tokenizer *t, unsigned skip, const char *src, mn_token *out,
                               uint64_t *hashes, size_t cap)
{
    const unsigned char *s = (const unsigned char *)t->text;
    size_t len = t->len, pos = t->pos, n = 0;
    while (n < cap && next_token(t, s, len, &pos, &out[n])) {
        if ((skip >> out[n].kind) & 1)
            continue; /* overwritten by the next */
        /* Cutting a token is one long chain of dependent loads; the hash, a separate chain,
         * runs alongside it here (in a loop of its own after the batch, it cost more time
         * for fewer instructions). */
        if (hashes)
            hashes[n] = mn_hash64(src + out[n].off, out[n].len);
        n++;
    }
    t->pos = pos;
    return n;
}

size_t mn_tokenize(const char *text, size_t len, mn_token *out, size_t cap)
{
    mn_tokenizer t;
    mn_token tok;
    size_t count = 0;
    mn_tokenizer_init(&t, text, len);
    while (mn_tokenizer_next(&t, &tok)) {
        if (count < cap)
            out[count] = tok;
        count++;
    }
    return count;
}

const char *mn_token_kind_name(int kind)
{
    static const char *const names[MN_TOK__COUNT] = {
        [MN_TOK_WORD] = "word",     [MN_TOK_NUMBER] = "number", [MN_TOK_URL] = "url",
        [MN_TOK_EMAIL] = "email",   [MN_TOK_HANDLE] = "handle", [MN_TOK_HASHTAG] = "hashtag",
        [MN_TOK_EMOJI] = "emoji",   [MN_TOK_CJK] = "cjk",       [MN_TOK_PUNCT] = "punct",
        [MN_TOK_SYMBOL] = "symbol",
    };
    if (kind < 0 || kind >= MN_TOK__COUNT)
        return "unknown";
    return names[kind];
}
