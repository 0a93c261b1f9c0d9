/* SPDX-License-Identifier: MIT
 *
 * The text's own properties, the cheapest facts a route can decide on. Only the properties
 * some expression reads are computed, each in one pass with no allocation.
 */
#include "pipeline/internal.h"

#include "micronlp/langid.h"
#include <string.h>

#include "micronlp/text.h"

static const struct {
    const char *name;
    mn__etype type;
} props[] = {
#define MN__PROP_ROW(id, name, type) {name, type},
    MN__PROP_LIST(MN__PROP_ROW)
#undef MN__PROP_ROW
};

const char *mn__prop_name(int prop)
{
    return (unsigned)prop < MN__PROP__COUNT ? props[prop].name : "?";
}

mn__etype mn__prop_type(int prop)
{
    return (unsigned)prop < MN__PROP__COUNT ? props[prop].type : MN__T_MISSING;
}

static void set_num(mn__value *v, double x)
{
    v->type = MN__T_NUM;
    v->num = x;
}

static void set_bool(mn__value *v, int b)
{
    v->type = MN__T_BOOL;
    v->num = b ? 1 : 0;
}

/* One pass over the bytes for the counting properties. `words` counts runs of bytes that are
 * not ASCII whitespace: what a router needs ("is this a sentence or a word?") at a byte loop's
 * cost, where the Unicode tokenizer would cost as much as a small model on a long e-mail. */
static inline unsigned is_space(unsigned c)
{
    return (c == ' ') | ((c - 9u) < 5u);
}

static void count_pass(const char *text, size_t len, mn__value *slots)
{
    /* Blocks of 240 bytes with 8-bit counters, each byte looked at with its predecessor and no
     * state carried from byte to byte, so the compiler vectorises the inner loop. A word
     * starts where a non-space byte follows a space (or the start). */
    const unsigned char *t = (const unsigned char *)text;
    size_t chars = 0, lines = 0, words = 0, digits = 0;
    if (len > 0) {
        words = !is_space(t[0]);
        chars = (t[0] & 0xC0u) != 0x80u;
        lines = t[0] == '\n';
        digits = (unsigned)(t[0] - '0') < 10u;
    }
    for (size_t i = 1; i < len;) {
        size_t end = len - i > 240 ? i + 240 : len; /* a multiple of the vector width */
        uint8_t c8 = 0, l8 = 0, d8 = 0, w8 = 0;
        for (; i < end; i++) {
            unsigned c = t[i], p = t[i - 1];
            c8 += (c & 0xC0u) != 0x80u; /* every byte that starts a code point */
            l8 += c == '\n';
            d8 += (c - '0') < 10u;
            w8 += is_space(p) & !is_space(c);
        }
        chars += c8;
        lines += l8;
        digits += d8;
        words += w8;
    }
    /* A final newline ends the last line; it does not start another. */
    lines += len > 0 && t[len - 1] != '\n';
    set_num(&slots[MN__PROP_LEN], (double)chars);
    set_num(&slots[MN__PROP_LINES], (double)lines);
    set_num(&slots[MN__PROP_WORDS], (double)words);
    set_bool(&slots[MN__PROP_HAS_DIGITS], digits > 0);
}

static int has_www(const char *t, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if ((t[i] | 32) == 'w' && (t[i + 1] | 32) == 'w' && (t[i + 2] | 32) == 'w' && t[i + 3] == '.')
            return 1;
    return 0;
}

/* Whether the tokenizer finds a token of this kind; texts without the byte every such token
 * needs ('@' for e-mails, ':' or "www." for URLs) are answered without tokenizing. */
static int has_token(const char *text, size_t len, int kind)
{
    if (kind == MN_TOK_EMAIL && !memchr(text, '@', len))
        return 0;
    if (kind == MN_TOK_URL && !memchr(text, ':', len) && !has_www(text, len))
        return 0;
    mn_tokenizer t;
    mn_token tok;
    mn_tokenizer_init(&t, text, len);
    while (mn_tokenizer_next(&t, &tok))
        if (tok.kind == kind)
            return 1;
    return 0;
}

void mn__props_compute(const char *text, size_t len, uint32_t used, mn__value *slots)
{
#define USED(id) (used & (1u << MN__PROP_##id))
    if (USED(LEN) || USED(LINES) || USED(HAS_DIGITS) || USED(WORDS))
        count_pass(text, len, slots);
    set_num(&slots[MN__PROP_BYTES], (double)len);
    if (USED(HAS_URL))
        set_bool(&slots[MN__PROP_HAS_URL], has_token(text, len, MN_TOK_URL));
    if (USED(HAS_EMAIL))
        set_bool(&slots[MN__PROP_HAS_EMAIL], has_token(text, len, MN_TOK_EMAIL));
    if (USED(SCRIPT)) {
        const char *name = mn_script_name(mn_text_script(text, len, NULL));
        slots[MN__PROP_SCRIPT].type = MN__T_STR;
        slots[MN__PROP_SCRIPT].str = name;
        slots[MN__PROP_SCRIPT].len = strlen(name);
    }
#undef USED
}
