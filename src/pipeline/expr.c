/* SPDX-License-Identifier: MIT
 *
 * The `when:` expression language (grammar and semantics in expr.h). A hand-written tokenizer
 * feeds a recursive-descent parser that type-checks as it goes and emits a postfix program for
 * a small stack machine. The parser recurses only through '(' and refuses more than
 * MN__EXPR_MAX_DEPTH levels, so hostile input cannot exhaust the C stack; it also tracks how
 * deep the machine's stack will get, which that limit bounds by STACK_MAX. Evaluation walks
 * the program with a STACK_MAX array on the C stack: no allocation, no recursion.
 *
 * Logic values are ordered F < U < T (false, unknown, true), so Kleene's && is min, || is max
 * and ! is T - x. A comparison is one op that reads its field(s) straight from the slots, so
 * the machine's stack only ever holds logic values. `a && b` compiles to
 * <a> JUMP_F end <b> AND end:  (a false left operand is already the answer); every jump of a
 * chain `a && b && c` goes to the chain's end. For example
 *
 *   lang.label in ["en","de"] && spam.score < 0.5 && len > 20
 *   0 IN_STR  slot 2, list 0      4 JUMP_F -> 7
 *   1 JUMP_F  -> 7                5 GT_FC   slot 0, 20
 *   2 LT_FC   slot 4, 0.5         6 AND
 *   3 AND
 *
 * The compiled expression is one allocation:
 *
 *   +----------+-----+------+------+-------+-------+-------+-------+------+--------+
 *   | mn__expr | ops | nums | strs | lists | names | slots | types | pool | source |
 *   +----------+-----+------+------+-------+-------+-------+-------+------+--------+
 *                ops: {code, a, x}; nums: items of number lists; strs: {ptr, len} into pool,
 *                the unescaped string literals; lists: {first, n} into nums or strs (items
 *                contiguous); names, slots, types: the distinct slots in first-use order,
 *                with the field name (offset, len in source) and declared type of each.
 */
#include "pipeline/expr.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/err.h"
#include "micronlp/text.h"

/* ---- the compiled form ------------------------------------------------------------------ */

enum { F = 0, U = 1, T = 2 }; /* logic values */

/* Three pending values per level of '(' (the left sides of ||, && and a bool ==) plus four in
 * the innermost one; the parser checks its own count against this. */
enum { STACK_MAX = 3 * MN__EXPR_MAX_DEPTH + 4 };

/* Every operator yields a bool, so a number or string operand is always a single field or
 * literal: each comparison is one op reading its operands directly, and the machine's stack
 * holds only logic values. "FC" compares field a with the literal in x, "FF" field a with
 * field x.b; a literal on the left is mirrored (5 < len is len > 5), two literals are folded. */
enum opcode {
    OP_BOOL,      /* push the logic value a */
    OP_LOAD_BOOL, /* push field a; U unless it holds a bool */
    OP_EQ_FC,     /* number comparisons, in TK_EQ..TK_GE order */
    OP_NE_FC,
    OP_LT_FC,
    OP_LE_FC,
    OP_GT_FC,
    OP_GE_FC,
    OP_EQ_FF,
    OP_NE_FF,
    OP_LT_FF,
    OP_LE_FF,
    OP_GT_FF,
    OP_GE_FF,
    OP_SEQ_FC, /* string comparisons, x.b indexes strs for FC */
    OP_SNE_FC,
    OP_SEQ_FF,
    OP_SNE_FF,
    OP_IN_NUM, /* field a in lists[x.b] */
    OP_IN_STR,
    OP_EQ_BOOL, /* pop b, pop a, push a == b */
    OP_NE_BOOL,
    OP_NOT,
    OP_AND,    /* pop b, pop a, push min(a, b) */
    OP_OR,     /* ... max(a, b) */
    OP_JUMP_F, /* if the top is F, continue at a (keeping the top) */
    OP_JUMP_T, /* if the top is T, ... */
};

typedef struct op {
    uint32_t code;
    uint32_t a; /* field slot, logic value or jump target */
    union {
        double num; /* the number literal of an FC comparison */
        uint32_t b; /* second field, string or list */
    } x;
} op;

typedef struct span32 {
    uint32_t off, len;
} span32;

typedef struct sstr {
    const char *ptr;
    size_t len;
} sstr;

typedef struct list {
    uint32_t first, n;
} list;

struct mn__expr {
    const op *ops;
    const double *nums; /* items of number lists */
    const sstr *strs;   /* string literals, list items included */
    const list *lists;
    const span32 *names;   /* per distinct slot: its field name in src */
    const uint32_t *slots; /* distinct slots, first-use order */
    const uint8_t *types;  /* per distinct slot: the type lookup declared */
    const char *src;
    uint32_t nops, nslots;
};

/* ---- evaluation --------------------------------------------------------------------------- */

/* Labels and scripts are short: a byte loop beats a call to memcmp. */
static inline int str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) return 0;
    if (alen > 16) return memcmp(a, b, alen) == 0;
    for (size_t i = 0; i < alen; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

int mn__expr_eval(const mn__expr *e, const mn__value *slots)
{
    static const int result[3] = {[F] = 0, [U] = -1, [T] = 1};
    uint8_t st[STACK_MAX];
    size_t top = 0; /* values in use; st[top - 1] is the top */
    if (!e) return -1;
    const op *ops = e->ops;
    uint32_t pc = 0, n = e->nops;
    while (pc < n) {
        const op *o = &ops[pc++];
        const mn__value *v, *w; /* the fields, for ops that read them */
        switch (o->code) {
        case OP_BOOL:
            st[top++] = (uint8_t)o->a;
            break;
        case OP_LOAD_BOOL:
            v = &slots[o->a];
            st[top++] = v->type != MN__T_BOOL ? U : v->num != 0 ? T : F;
            break;
#define NUM_FC(code, cmp)                                                                          \
    case code:                                                                                     \
        v = &slots[o->a];                                                                          \
        st[top++] = v->type != MN__T_NUM ? U : v->num cmp o->x.num ? T : F;                        \
        break;
#define NUM_FF(code, cmp)                                                                          \
    case code:                                                                                     \
        v = &slots[o->a];                                                                          \
        w = &slots[o->x.b];                                                                        \
        st[top++] = (v->type != MN__T_NUM || w->type != MN__T_NUM) ? U                             \
                    : v->num cmp w->num                            ? T                             \
                                                                   : F;                                                       \
        break;
            NUM_FC(OP_EQ_FC, ==)
            NUM_FC(OP_NE_FC, !=)
            NUM_FC(OP_LT_FC, <)
            NUM_FC(OP_LE_FC, <=)
            NUM_FC(OP_GT_FC, >)
            NUM_FC(OP_GE_FC, >=)
            NUM_FF(OP_EQ_FF, ==)
            NUM_FF(OP_NE_FF, !=)
            NUM_FF(OP_LT_FF, <)
            NUM_FF(OP_LE_FF, <=)
            NUM_FF(OP_GT_FF, >)
            NUM_FF(OP_GE_FF, >=)
#undef NUM_FC
#undef NUM_FF
        case OP_SEQ_FC:
        case OP_SNE_FC: {
            v = &slots[o->a];
            if (v->type != MN__T_STR) {
                st[top++] = U;
                break;
            }
            const sstr *s = &e->strs[o->x.b];
            int eq = str_eq(v->str, v->len, s->ptr, s->len);
            st[top++] = eq == (o->code == OP_SEQ_FC) ? T : F;
            break;
        }
        case OP_SEQ_FF:
        case OP_SNE_FF: {
            v = &slots[o->a];
            w = &slots[o->x.b];
            if (v->type != MN__T_STR || w->type != MN__T_STR) {
                st[top++] = U;
                break;
            }
            int eq = str_eq(v->str, v->len, w->str, w->len);
            st[top++] = eq == (o->code == OP_SEQ_FF) ? T : F;
            break;
        }
        case OP_IN_NUM: {
            v = &slots[o->a];
            if (v->type != MN__T_NUM) {
                st[top++] = U;
                break;
            }
            const list *l = &e->lists[o->x.b];
            const double *x = e->nums + l->first;
            int hit = 0;
            for (uint32_t i = 0; i < l->n && !hit; i++)
                hit = x[i] == v->num;
            st[top++] = hit ? T : F;
            break;
        }
        case OP_IN_STR: {
            v = &slots[o->a];
            if (v->type != MN__T_STR) {
                st[top++] = U;
                break;
            }
            const list *l = &e->lists[o->x.b];
            const sstr *x = e->strs + l->first;
            int hit = 0;
            for (uint32_t i = 0; i < l->n && !hit; i++)
                hit = str_eq(v->str, v->len, x[i].ptr, x[i].len);
            st[top++] = hit ? T : F;
            break;
        }
        case OP_EQ_BOOL:
        case OP_NE_BOOL: {
            uint8_t a = st[top - 2], b = st[top - 1];
            top--;
            st[top - 1] = (a == U || b == U) ? U : (a == b) == (o->code == OP_EQ_BOOL) ? T : F;
            break;
        }
        case OP_NOT:
            st[top - 1] = (uint8_t)(T - st[top - 1]);
            break;
        case OP_AND:
            top--;
            if (st[top] < st[top - 1]) st[top - 1] = st[top];
            break;
        case OP_OR:
            top--;
            if (st[top] > st[top - 1]) st[top - 1] = st[top];
            break;
        case OP_JUMP_F:
            if (st[top - 1] == F) pc = o->a;
            break;
        case OP_JUMP_T:
            if (st[top - 1] == T) pc = o->a;
            break;
        }
    }
    return result[st[0]];
}

/* ---- text helpers shared by messages and explanations ------------------------------------- */

/* Appends bytes to a fixed buffer, remembering whether anything did not fit. */
typedef struct writer {
    char *buf;
    size_t cap, len;
    int cut;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    size_t room = w->cap ? w->cap - 1 - w->len : 0;
    if (n > room) {
        n = room;
        w->cut = 1;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void puts_(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* NUL-terminates; if something was cut, ends in "..." without splitting a UTF-8 sequence. */
static size_t finish(writer *w)
{
    if (!w->cap) return 0;
    if (w->cut) {
        size_t keep = w->cap - 1 >= 3 ? w->cap - 1 - 3 : 0;
        if (keep > w->len) keep = w->len;
        while (keep > 0 && ((unsigned char)w->buf[keep] & 0xC0) == 0x80)
            keep--;
        w->len = keep;
        w->cut = 0;
        put(w, "...", w->cap - 1 - keep < 3 ? w->cap - 1 - keep : 3);
    }
    w->buf[w->len] = '\0';
    return w->len;
}

/* Writes s[0..n) as printable UTF-8, stopping after about max bytes of output: control
 * bytes and ill-formed sequences become \xNN, and with quote set '"' and '\' are escaped too
 * (an explanation shows a value between quotes). Appends "..." after what was left out. */
static void put_escaped(writer *w, const char *s, size_t n, size_t max, int quote)
{
    size_t i = 0, start = w->len;
    while (i < n && w->len - start < max && !w->cut) {
        unsigned char b = (unsigned char)s[i];
        char tmp[8];
        if (b >= 0x20 && b < 0x7F) {
            if (quote && (b == '"' || b == '\\')) put(w, "\\", 1);
            put(w, s + i, 1);
            i++;
        } else if (b == '\n' && quote) {
            put(w, "\\n", 2);
            i++;
        } else if (b == '\t' && quote) {
            put(w, "\\t", 2);
            i++;
        } else {
            int32_t cp = -1;
            size_t k = b >= 0x80 ? mn_utf8_decode(s + i, n - i, &cp) : 1;
            if (cp >= 0) {
                put(w, s + i, k);
            } else {
                snprintf(tmp, sizeof tmp, "\\x%02X", b);
                puts_(w, tmp);
            }
            i += k;
        }
    }
    if (i < n) put(w, "...", 3);
}

/* %g without the locale: a program that called setlocale() may use ',' as decimal point. */
static void fmt_num(char *buf, size_t cap, double x)
{
    snprintf(buf, cap, "%g", x);
    const char *dp = localeconv()->decimal_point;
    size_t dl = dp ? strlen(dp) : 0;
    if (dl == 0 || (dl == 1 && dp[0] == '.')) return;
    char *at = strstr(buf, dp);
    if (at) {
        *at = '.';
        memmove(at + 1, at + dl, strlen(at + dl) + 1);
    }
}

static const char *type_name(int t)
{
    switch (t) {
    case MN__T_BOOL:
        return "bool";
    case MN__T_NUM:
        return "number";
    case MN__T_STR:
        return "string";
    default:
        return "missing";
    }
}

/* ---- explanation -------------------------------------------------------------------------- */

size_t mn__expr_explain(const mn__expr *e, const mn__value *slots, char *buf, size_t cap)
{
    writer w = {buf, cap, 0, 0};
    if (!buf || !cap) return 0;
    for (uint32_t i = 0; e && i < e->nslots; i++) {
        const mn__value *v = &slots[e->slots[i]];
        char tmp[64];
        if (i) put(&w, ", ", 2);
        put(&w, e->src + e->names[i].off, e->names[i].len);
        if (v->type == MN__T_MISSING) {
            puts_(&w, " is missing");
        } else if (v->type != e->types[i]) {
            /* evaluation treats it as missing; say why */
            snprintf(tmp, sizeof tmp, " has the wrong type (%s, not %s)", type_name(v->type),
                     type_name(e->types[i]));
            puts_(&w, tmp);
        } else if (v->type == MN__T_NUM) {
            fmt_num(tmp, sizeof tmp, v->num);
            put(&w, " = ", 3);
            puts_(&w, tmp);
        } else if (v->type == MN__T_BOOL) {
            puts_(&w, v->num != 0 ? " = true" : " = false");
        } else {
            put(&w, " = \"", 4);
            put_escaped(&w, v->str, v->str ? v->len : 0, 64, 1);
            put(&w, "\"", 1);
        }
        if (w.cut) break;
    }
    return finish(&w);
}

/* ---- accessors ---------------------------------------------------------------------------- */

size_t mn__expr_nslots(const mn__expr *e)
{
    return e ? e->nslots : 0;
}

uint32_t mn__expr_slot(const mn__expr *e, size_t i)
{
    return e && i < e->nslots ? e->slots[i] : UINT32_MAX;
}

const char *mn__expr_source(const mn__expr *e)
{
    return e ? e->src : "";
}

void mn__expr_free(mn__expr *e)
{
    mn_free(e);
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

enum tk {
    TK_END,
    TK_NUM,
    TK_STR,
    TK_FIELD,
    TK_TRUE,
    TK_FALSE,
    TK_AND, /* && and */
    TK_OR,  /* || or */
    TK_NOT, /* ! not */
    TK_IN,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACK,
    TK_RBRACK,
    TK_COMMA,
};

typedef struct tok {
    int kind;
    size_t off, len;
} tok;

/* A growable array while compiling. */
typedef struct vec {
    void *p;
    uint32_t n, cap;
} vec;

typedef struct parser {
    const char *src;
    size_t len;
    size_t pos;  /* where the next token starts scanning */
    tok cur;     /* the token being looked at */
    tok prev;    /* the one consumed before it (for "after '>'" messages) */
    int depth;   /* open '(' */
    uint32_t sp; /* cells the program has pushed at this point */
    uint32_t maxsp;
    mn__expr_lookup lookup;
    void *ctx;
    mn__expr_error *err;
    char num[MN__EXPR_MAX_SOURCE + 16]; /* a number literal, NUL-terminated for strtod */
    /* Scratch for error messages, kept here so the recursive frames stay small. */
    char a[96], b[96], ex[64], ex2[64], lmsg[sizeof((mn__expr_error *)0)->msg];
    vec ops, nums, strs, lists, names, slots, types, pool;
} parser;

/* A parsed sub-expression: its static type and source range (for type errors). A bool one
 * has been emitted; a number or string one is a single field or literal, which the comparison
 * consuming it folds into its own op. */
typedef struct operand {
    int type;
    size_t start, end;
    int is_field;
    uint32_t slot; /* field */
    double num;    /* number literal */
    uint32_t str;  /* string literal: index in strs */
} operand;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(parser *p, int code, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof p->err->msg) { /* keep the message valid UTF-8 */
        writer w = {p->err->msg, sizeof p->err->msg, sizeof p->err->msg - 1, 1};
        finish(&w);
    }
    p->err->offset = off;
    return code;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-';
}

/* Writes `'text' at offset N`, `string "text" at offset N` or `end of expression`. */
static const char *describe(const parser *p, const tok *t, char *buf, size_t cap)
{
    writer w = {buf, cap, 0, 0};
    char at[48];
    if (t->kind == TK_END) {
        puts_(&w, "end of expression");
    } else {
        if (t->kind == TK_STR)
            puts_(&w, "string ");
        else
            put(&w, "'", 1);
        put_escaped(&w, p->src + t->off, t->len, 32, 0);
        if (t->kind != TK_STR) put(&w, "'", 1);
        snprintf(at, sizeof at, " at offset %zu", t->off);
        puts_(&w, at);
    }
    finish(&w);
    return buf;
}

/* The source text of s[start..end), shortened, for type errors. */
static const char *excerpt(const parser *p, size_t start, size_t end, char *buf, size_t cap)
{
    writer w = {buf, cap, 0, 0};
    put_escaped(&w, p->src + start, end - start, 40, 0);
    finish(&w);
    return buf;
}

static int scan_error(parser *p, size_t i)
{
    const char *s = p->src;
    unsigned char c = (unsigned char)s[i];
    char ch[8];
    switch (c) {
    case '=':
        return fail(p, MN_EFORMAT, i, "unexpected '=' at offset %zu (use '==' to compare)", i);
    case '&':
        return fail(p, MN_EFORMAT, i, "unexpected '&' at offset %zu (use '&&' or 'and')", i);
    case '|':
        return fail(p, MN_EFORMAT, i, "unexpected '|' at offset %zu (use '||' or 'or')", i);
    case '-':
        return fail(p, MN_EFORMAT, i,
                    "unexpected '-' at offset %zu (only a number literal may start with '-')", i);
    case '\0':
        return fail(p, MN_EFORMAT, i, "unexpected NUL byte at offset %zu", i);
    }
    if (c > 0x20 && c < 0x7F)
        return fail(p, MN_EFORMAT, i, "unexpected character '%c' at offset %zu", c, i);
    int32_t cp = -1;
    size_t k = c >= 0x80 ? mn_utf8_decode(s + i, p->len - i, &cp) : 1;
    if (cp >= 0) {
        memcpy(ch, s + i, k);
        ch[k] = '\0';
        return fail(p, MN_EFORMAT, i, "unexpected character '%s' at offset %zu", ch, i);
    }
    return fail(p, MN_EFORMAT, i, "unexpected byte 0x%02X at offset %zu", c, i);
}

/* Scans a number literal at i: '-'? digits ('.' digits)? ([eE] [+-]? digits)?, not followed by
 * a letter, digit, '_' or '.'. */
static int scan_number(parser *p, size_t i, size_t *end)
{
    const char *s = p->src;
    size_t n = p->len, j = i, bad = 0;
    if (s[j] == '-') j++;
    while (j < n && is_digit(s[j]))
        j++;
    if (j < n && s[j] == '.') {
        j++;
        if (!(j < n && is_digit(s[j]))) bad = 1;
        while (j < n && is_digit(s[j]))
            j++;
    }
    if (!bad && j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (!(j < n && is_digit(s[j]))) bad = 1;
        while (j < n && is_digit(s[j]))
            j++;
    }
    if (j < n && (is_alpha(s[j]) || is_digit(s[j]) || s[j] == '.')) bad = 1;
    if (bad) {
        while (j < n && (is_ident(s[j]) || s[j] == '.' || s[j] == '+'))
            j++;
        char buf[64];
        return fail(p, MN_EFORMAT, i, "malformed number '%s' at offset %zu",
                    excerpt(p, i, j, buf, sizeof buf), i);
    }
    *end = j;
    return 0;
}

/* Scans a string literal whose quote is at i; checks the escapes, decodes nothing yet. */
static int scan_string(parser *p, size_t i, size_t *end)
{
    const char *s = p->src;
    char q = s[i];
    for (size_t j = i + 1; j < p->len; j++) {
        if (s[j] == q) {
            *end = j + 1;
            return 0;
        }
        if (s[j] == '\0')
            return fail(p, MN_EFORMAT, j, "unexpected NUL byte at offset %zu in a string", j);
        if (s[j] == '\\') {
            if (j + 1 >= p->len) break;
            char x = s[j + 1];
            if (x != '"' && x != '\'' && x != '\\' && x != 'n' && x != 't') {
                char buf[16];
                return fail(p, MN_EFORMAT, j,
                            "unknown escape '\\%s' at offset %zu (use \\\" \\' \\\\ \\n \\t)",
                            excerpt(p, j + 1, j + 2, buf, sizeof buf), j);
            }
            j++;
        }
    }
    return fail(p, MN_EFORMAT, i, "unterminated string starting at offset %zu", i);
}

static int keyword(const char *s, size_t n)
{
    static const struct {
        const char *word;
        int kind;
    } kw[] = {{"and", TK_AND}, {"or", TK_OR},     {"not", TK_NOT},
              {"in", TK_IN},   {"true", TK_TRUE}, {"false", TK_FALSE}};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strlen(kw[i].word) == n && memcmp(kw[i].word, s, n) == 0) return kw[i].kind;
    return TK_FIELD;
}

/* The keyword that s[0..n) spells in another case ("AND"), for a hint; NULL if none. */
static const char *keyword_ci(const char *s, size_t n)
{
    static const char *const words[] = {"and", "or", "not", "in", "true", "false"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t k = 0;
        while (k < n && words[i][k] && (s[k] | 0x20) == words[i][k])
            k++;
        if (k == n && !words[i][k]) return words[i];
    }
    return NULL;
}

/* Makes the next token current. */
static int next(parser *p)
{
    const char *s = p->src;
    size_t n = p->len, i = p->pos, j;
    while (i < n && is_space(s[i]))
        i++;
    p->prev = p->cur;
    tok *t = &p->cur;
    t->off = i;
    if (i == n) {
        t->kind = TK_END;
        t->len = 0;
        p->pos = i;
        return 0;
    }
    char c = s[i], d = i + 1 < n ? s[i + 1] : '\0';
    j = i + 1;
    switch (c) {
    case '(':
        t->kind = TK_LPAREN;
        break;
    case ')':
        t->kind = TK_RPAREN;
        break;
    case '[':
        t->kind = TK_LBRACK;
        break;
    case ']':
        t->kind = TK_RBRACK;
        break;
    case ',':
        t->kind = TK_COMMA;
        break;
    case '<':
    case '>':
        t->kind = c == '<' ? (d == '=' ? TK_LE : TK_LT) : (d == '=' ? TK_GE : TK_GT);
        j += d == '=';
        break;
    case '!':
        t->kind = d == '=' ? TK_NE : TK_NOT;
        j += d == '=';
        break;
    case '=':
        if (d != '=') return scan_error(p, i);
        t->kind = TK_EQ;
        j++;
        break;
    case '&':
    case '|':
        if (d != c) return scan_error(p, i);
        t->kind = c == '&' ? TK_AND : TK_OR;
        j++;
        break;
    case '"':
    case '\'': {
        int rc = scan_string(p, i, &j);
        if (rc) return rc;
        t->kind = TK_STR;
        break;
    }
    default:
        if (is_digit(c) || (c == '-' && is_digit(d))) {
            int rc = scan_number(p, i, &j);
            if (rc) return rc;
            t->kind = TK_NUM;
        } else if (c == '.' && is_digit(d)) {
            return fail(p, MN_EFORMAT, i, "malformed number at offset %zu (write 0.5, not .5)", i);
        } else if (is_alpha(c)) {
            for (;;) {
                while (j < n && is_ident(s[j]))
                    j++;
                if (j >= n || s[j] != '.') break;
                if (!(j + 1 < n && is_alpha(s[j + 1]))) {
                    char buf[64];
                    return fail(p, MN_EFORMAT, j + 1,
                                "expected a name after '.' in '%s' at offset %zu",
                                excerpt(p, i, j + 1, buf, sizeof buf), j + 1);
                }
                j += 2;
            }
            t->kind = keyword(s + i, j - i);
        } else {
            return scan_error(p, i);
        }
    }
    t->len = j - i;
    p->pos = j;
    return 0;
}

/* True if the token after the current one is the word `in` (for `x not in [...]`). */
static int peek_is_in(const parser *p)
{
    size_t i = p->pos;
    while (i < p->len && is_space(p->src[i]))
        i++;
    return i + 2 <= p->len && p->src[i] == 'i' && p->src[i + 1] == 'n' &&
           !(i + 2 < p->len && (is_ident(p->src[i + 2]) || p->src[i + 2] == '.'));
}

/* ---- code generation ---------------------------------------------------------------------- */

static int vec_push(vec *v, const void *x, size_t size)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? 2 * v->cap : 16;
        void *q = mn_realloc(v->p, (size_t)cap * size);
        if (!q) return MN_ENOMEM;
        v->p = q;
        v->cap = cap;
    }
    memcpy((char *)v->p + (size_t)v->n * size, x, size);
    v->n++;
    return 0;
}

static int oom(parser *p)
{
    return fail(p, MN_ENOMEM, p->cur.off, "out of memory");
}

/* Appends an op and tracks the machine's stack depth (effect: values pushed minus popped). */
static int emit(parser *p, op o, int effect)
{
    if (vec_push(&p->ops, &o, sizeof o)) return oom(p);
    p->sp = (uint32_t)((int)p->sp + effect);
    if (p->sp > p->maxsp) p->maxsp = p->sp;
    return 0;
}

/* Jumps of one && or || chain are linked through their args (index + 1, 0 ends the chain)
 * until the chain's end is known. */
static void patch(parser *p, uint32_t head, uint32_t target)
{
    op *ops = p->ops.p;
    while (head) {
        uint32_t nxt = ops[head - 1].a;
        ops[head - 1].a = target;
        head = nxt;
    }
}

/* Converts the current number token; strtod reads the locale's decimal point, so '.' is
 * swapped for it first. */
static int number_value(parser *p, const tok *t, double *out)
{
    char *buf = p->num;
    const char *dp = localeconv()->decimal_point;
    if (!dp || !*dp || strlen(dp) > 8) dp = ".";
    size_t dl = strlen(dp), k = 0;
    for (size_t i = 0; i < t->len && k + 8 < sizeof p->num; i++) {
        if (p->src[t->off + i] == '.') {
            memcpy(buf + k, dp, dl);
            k += dl;
        } else {
            buf[k++] = p->src[t->off + i];
        }
    }
    buf[k] = '\0';
    errno = 0;
    char *end;
    double x = strtod(buf, &end);
    if (errno == ERANGE && isinf(x)) {
        return fail(p, MN_EINVAL, t->off, "number '%s' at offset %zu is out of range",
                    excerpt(p, t->off, t->off + t->len, p->ex, sizeof p->ex), t->off);
    }
    *out = x;
    return 0;
}

/* Whether string literals i and j (indexes in strs) are equal. */
static int pool_eq(const parser *p, uint32_t i, uint32_t j)
{
    const span32 *s = p->strs.p;
    const char *pool = p->pool.p;
    return s[i].len == s[j].len &&
           (s[i].len == 0 || memcmp(pool + s[i].off, pool + s[j].off, s[i].len) == 0);
}

/* Unescapes the current string token into the pool and records it in strs. */
static int string_value(parser *p, const tok *t)
{
    span32 sp = {p->pool.n, 0};
    for (size_t i = t->off + 1; i + 1 < t->off + t->len; i++) {
        char c = p->src[i];
        if (c == '\\') {
            c = p->src[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        if (vec_push(&p->pool, &c, 1)) return oom(p);
        sp.len++;
    }
    if (vec_push(&p->strs, &sp, sizeof sp)) return oom(p);
    return 0;
}

static int field(parser *p, operand *out)
{
    const tok *t = &p->cur;
    uint32_t slot = 0;
    mn__etype type = MN__T_MISSING;
    char *msg = p->lmsg;
    msg[0] = '\0';
    int rc = p->lookup
                 ? p->lookup(p->ctx, p->src + t->off, t->len, &slot, &type, msg, sizeof p->lmsg)
                 : MN_EINVAL;
    const char *name = excerpt(p, t->off, t->off + t->len, p->ex, sizeof p->ex);
    if (rc) {
        rc = rc == MN_ENOMEM ? MN_ENOMEM : MN_EINVAL;
        msg[sizeof p->lmsg - 1] = '\0';
        if (msg[0]) return fail(p, rc, t->off, "%s", msg);
        if (rc == MN_ENOMEM) return oom(p);
        return fail(p, rc, t->off, "unknown field '%s'", name);
    }
    if (type != MN__T_BOOL && type != MN__T_NUM && type != MN__T_STR)
        return fail(p, MN_EINVAL, t->off, "field '%s' has no usable type", name);
    uint32_t i = 0;
    const uint32_t *slots = p->slots.p;
    while (i < p->slots.n && slots[i] != slot)
        i++;
    if (i == p->slots.n) {
        span32 nm = {(uint32_t)t->off, (uint32_t)t->len};
        uint8_t ty = (uint8_t)type;
        if (vec_push(&p->slots, &slot, sizeof slot) || vec_push(&p->names, &nm, sizeof nm) ||
            vec_push(&p->types, &ty, 1)) {
            /* keep the three arrays the same length */
            p->slots.n = p->names.n = p->types.n = i;
            return oom(p);
        }
    }
    out->type = type;
    out->is_field = 1;
    out->slot = slot;
    return type == MN__T_BOOL ? emit(p, (op){.code = OP_LOAD_BOOL, .a = slot}, 1) : 0;
}

/* ---- parser ------------------------------------------------------------------------------- */

static int parse_or(parser *p, operand *out);

static int expect_value(parser *p)
{
    if (p->prev.kind == TK_END) /* nothing consumed yet */
        return fail(p, MN_EFORMAT, p->cur.off, "expected a value, got %s",
                    describe(p, &p->cur, p->b, sizeof p->b));
    return fail(p, MN_EFORMAT, p->cur.off, "expected a value after %s, got %s",
                describe(p, &p->prev, p->a, sizeof p->a), describe(p, &p->cur, p->b, sizeof p->b));
}

static int parse_primary(parser *p, operand *out)
{
    tok t = p->cur;
    int rc;
    out->start = t.off;
    switch (t.kind) {
    case TK_NUM: {
        double x;
        if ((rc = number_value(p, &t, &x))) return rc;
        *out = (operand){.type = MN__T_NUM, .start = t.off, .num = x};
        break;
    }
    case TK_STR:
        if ((rc = string_value(p, &t))) return rc;
        *out = (operand){.type = MN__T_STR, .start = t.off, .str = p->strs.n - 1};
        break;
    case TK_TRUE:
    case TK_FALSE:
        *out = (operand){.type = MN__T_BOOL, .start = t.off};
        rc = emit(p, (op){.code = OP_BOOL, .a = t.kind == TK_TRUE ? T : F}, 1);
        break;
    case TK_FIELD:
        *out = (operand){.start = t.off};
        rc = field(p, out);
        break;
    case TK_LPAREN: {
        if (p->depth >= MN__EXPR_MAX_DEPTH)
            return fail(p, MN_EINVAL, t.off,
                        "expression nested too deeply: more than %d levels of '(' at offset %zu",
                        MN__EXPR_MAX_DEPTH, t.off);
        p->depth++;
        if ((rc = next(p)) || (rc = parse_or(p, out))) return rc;
        if (p->cur.kind != TK_RPAREN) {
            return fail(p, MN_EFORMAT, p->cur.off, "expected ')' to close %s, got %s",
                        describe(p, &t, p->a, sizeof p->a),
                        describe(p, &p->cur, p->b, sizeof p->b));
        }
        p->depth--;
        out->start = t.off;
        t = p->cur;
        rc = 0;
        break;
    }
    default:
        return expect_value(p);
    }
    if (rc) return rc;
    out->end = t.off + t.len;
    return next(p);
}

static int is_cmp(int kind)
{
    return kind >= TK_EQ && kind <= TK_GE;
}

/* `x not in [...]` takes the word only: the grammar has no `x ! in [...]`. */
static int is_not_word(const tok *t)
{
    return t->kind == TK_NOT && t->len == 3;
}

/* fmt takes the operator, the operand's type and its source text. */
static int type_error(parser *p, const operand *x, const char *fmt, const char *opname)
{
    return fail(p, MN_EINVAL, x->start, fmt, opname, type_name(x->type),
                excerpt(p, x->start, x->end, p->ex, sizeof p->ex));
}

/* The operator as written ("&&" or "and"). */
static const char *op_text(const parser *p, const tok *t, char *buf, size_t cap)
{
    return excerpt(p, t->off, t->off + t->len, buf, cap);
}

/* The list of `x in [...]`, with x already parsed as l. */
static int parse_list(parser *p, const operand *l, const tok *in_tok, int negate)
{
    const char *opname = negate ? "not in" : "in";
    int rc;
    if (l->type != MN__T_STR && l->type != MN__T_NUM)
        return type_error(
            p, l, "type error: '%s' needs a string or number on the left, got %s (%s)", opname);
    if (p->cur.kind != TK_LBRACK)
        return fail(p, MN_EFORMAT, p->cur.off, "expected '[' after %s, got %s",
                    describe(p, in_tok, p->a, sizeof p->a),
                    describe(p, &p->cur, p->b, sizeof p->b));
    tok open = p->cur;
    if ((rc = next(p))) return rc;
    list li = {0, 0};
    int type = MN__T_MISSING;
    operand first = {.type = MN__T_MISSING};
    if (p->cur.kind != TK_RBRACK) {
        for (;;) {
            tok t = p->cur;
            operand item = {.type = t.kind == TK_NUM ? MN__T_NUM : MN__T_STR,
                            .start = t.off,
                            .end = t.off + t.len};
            if (t.kind == TK_TRUE || t.kind == TK_FALSE)
                return fail(p, MN_EINVAL, t.off,
                            "type error: list items must be strings or numbers, got bool (%s)",
                            excerpt(p, t.off, t.off + t.len, p->ex, sizeof p->ex));
            if (t.kind != TK_NUM && t.kind != TK_STR)
                return fail(p, MN_EFORMAT, t.off,
                            "expected a string or number in the list opened %s, got %s",
                            describe(p, &open, p->a, sizeof p->a),
                            describe(p, &t, p->b, sizeof p->b));
            if (type == MN__T_MISSING) {
                type = item.type;
                first = item;
                li.first = type == MN__T_NUM ? p->nums.n : p->strs.n;
            } else if (item.type != type) {
                return fail(p, MN_EINVAL, t.off,
                            "type error: a list holds strings or numbers, not both: got %s (%s) "
                            "after %s (%s)",
                            type_name(item.type),
                            excerpt(p, item.start, item.end, p->ex, sizeof p->ex),
                            type_name(first.type),
                            excerpt(p, first.start, first.end, p->ex2, sizeof p->ex2));
            }
            if (t.kind == TK_NUM) {
                double x;
                if ((rc = number_value(p, &t, &x))) return rc;
                if (vec_push(&p->nums, &x, sizeof x)) return oom(p);
            } else if ((rc = string_value(p, &t))) {
                return rc;
            }
            li.n++;
            if ((rc = next(p))) return rc;
            if (p->cur.kind == TK_RBRACK) break;
            if (p->cur.kind != TK_COMMA)
                return fail(
                    p, MN_EFORMAT, p->cur.off, "expected ',' or ']' in the list opened %s, got %s",
                    describe(p, &open, p->a, sizeof p->a), describe(p, &p->cur, p->b, sizeof p->b));
            if ((rc = next(p))) return rc;
        }
    }
    if (type != MN__T_MISSING && type != l->type)
        return fail(p, MN_EINVAL, open.off, "type error: '%s' compares %s (%s) with a list of %ss",
                    opname, type_name(l->type), excerpt(p, l->start, l->end, p->ex, sizeof p->ex),
                    type_name(type));
    if (!l->is_field) { /* a literal on the left: decided now */
        int hit = 0;
        for (uint32_t i = 0; i < li.n && !hit; i++)
            hit = l->type == MN__T_NUM ? ((const double *)p->nums.p)[li.first + i] == l->num
                                       : pool_eq(p, l->str, li.first + i);
        return emit(p, (op){.code = OP_BOOL, .a = hit != negate ? T : F}, 1);
    }
    if (vec_push(&p->lists, &li, sizeof li)) return oom(p);
    op o = {
        .code = l->type == MN__T_NUM ? OP_IN_NUM : OP_IN_STR, .a = l->slot, .x.b = p->lists.n - 1};
    if ((rc = emit(p, o, 1))) return rc;
    return negate ? emit(p, (op){.code = OP_NOT}, 0) : 0;
}

/* Emits `l OP r` for number or string operands (cmp is 0..5 for == != < <= > >=). */
static int emit_compare(parser *p, int cmp, const operand *l, const operand *r)
{
    static const int mirror[6] = {0, 1, 4, 5, 2, 3}; /* 5 < len is len > 5 */
    if (!l->is_field && !r->is_field) {              /* two literals: decided now */
        int v;
        if (l->type == MN__T_STR) {
            v = pool_eq(p, l->str, r->str) == (cmp == 0);
        } else {
            double a = l->num, b = r->num;
            v = cmp == 0   ? a == b
                : cmp == 1 ? a != b
                : cmp == 2 ? a < b
                : cmp == 3 ? a <= b
                : cmp == 4 ? a > b
                           : a >= b;
        }
        return emit(p, (op){.code = OP_BOOL, .a = v ? T : F}, 1);
    }
    int str = l->type == MN__T_STR;
    op o;
    if (l->is_field && r->is_field) {
        o = (op){
            .code = (str ? OP_SEQ_FF : OP_EQ_FF) + (uint32_t)cmp, .a = l->slot, .x.b = r->slot};
    } else {
        const operand *f = l->is_field ? l : r, *c = l->is_field ? r : l;
        int k = l->is_field ? cmp : mirror[cmp];
        o = (op){.code = (str ? OP_SEQ_FC : OP_EQ_FC) + (uint32_t)k, .a = f->slot};
        if (str)
            o.x.b = c->str;
        else
            o.x.num = c->num;
    }
    return emit(p, o, 1);
}

static int parse_cmp(parser *p, operand *out)
{
    operand l, r;
    int rc;
    if ((rc = parse_primary(p, &l))) return rc;
    tok t = p->cur;
    if (is_cmp(t.kind)) {
        if ((rc = next(p)) || (rc = parse_primary(p, &r))) return rc;
        int cmp = t.kind - TK_EQ;
        if (t.kind != TK_EQ && t.kind != TK_NE) {
            const char *f = "type error: '%s' needs numbers, got %s (%s)";
            char on[8];
            if (l.type != MN__T_NUM) return type_error(p, &l, f, op_text(p, &t, on, sizeof on));
            if (r.type != MN__T_NUM) return type_error(p, &r, f, op_text(p, &t, on, sizeof on));
            rc = emit_compare(p, cmp, &l, &r);
        } else if (l.type != r.type) {
            return fail(p, MN_EINVAL, t.off,
                        "type error: '%s' needs both sides of one type, got %s (%s) and %s (%s)",
                        t.kind == TK_EQ ? "==" : "!=", type_name(l.type),
                        excerpt(p, l.start, l.end, p->ex, sizeof p->ex), type_name(r.type),
                        excerpt(p, r.start, r.end, p->ex2, sizeof p->ex2));
        } else if (l.type != MN__T_BOOL) {
            rc = emit_compare(p, cmp, &l, &r);
        } else { /* both sides are on the stack */
            rc = emit(p, (op){.code = t.kind == TK_EQ ? OP_EQ_BOOL : OP_NE_BOOL}, -1);
        }
        if (rc) return rc;
        *out = (operand){.type = MN__T_BOOL, .start = l.start, .end = r.end};
    } else if (t.kind == TK_IN || is_not_word(&t)) {
        int negate = t.kind == TK_NOT;
        if (negate) {
            if ((rc = next(p))) return rc;
            if (p->cur.kind != TK_IN) {
                return fail(p, MN_EFORMAT, p->cur.off, "expected 'in' after %s, got %s",
                            describe(p, &t, p->a, sizeof p->a),
                            describe(p, &p->cur, p->b, sizeof p->b));
            }
        }
        tok in_tok = p->cur;
        if ((rc = next(p)) || (rc = parse_list(p, &l, &in_tok, negate))) return rc;
        if ((rc = next(p))) /* the ']' */
            return rc;
        *out = (operand){.type = MN__T_BOOL, .start = l.start, .end = p->prev.off + p->prev.len};
    } else {
        *out = l;
        return 0;
    }
    int k = p->cur.kind;
    if (is_cmp(k) || k == TK_IN || (is_not_word(&p->cur) && peek_is_in(p))) {
        return fail(p, MN_EFORMAT, p->cur.off,
                    "comparisons cannot be chained, got %s (use '&&' between comparisons)",
                    describe(p, &p->cur, p->b, sizeof p->b));
    }
    return 0;
}

/* Runs of `!`/`not` are counted rather than recursed into: ! ! x is x in Kleene logic too. */
static int parse_not(parser *p, operand *out)
{
    tok first = p->cur;
    uint32_t count = 0;
    int rc;
    while (p->cur.kind == TK_NOT) {
        count++;
        if ((rc = next(p))) return rc;
    }
    if ((rc = parse_cmp(p, out))) return rc;
    if (!count) return 0;
    if (out->type != MN__T_BOOL) {
        char on[8];
        return type_error(p, out, "type error: '%s' needs a bool, got %s (%s)",
                          op_text(p, &first, on, sizeof on));
    }
    out->start = first.off;
    return count & 1 ? emit(p, (op){.code = OP_NOT}, 0) : 0;
}

/* One && or || chain: `a OP b OP c` with a jump past the rest as soon as one side decides. */
static int parse_chain(parser *p, operand *out, int kind, uint32_t jump, uint32_t combine,
                       int (*sub)(parser *, operand *))
{
    operand l, r;
    int rc;
    if ((rc = sub(p, &l))) return rc;
    if (p->cur.kind != kind) {
        *out = l;
        return 0;
    }
    const char *f = "type error: '%s' needs bools, got %s (%s)";
    uint32_t head = 0; /* unpatched jumps */
    while (p->cur.kind == kind) {
        tok t = p->cur;
        char on[8];
        op_text(p, &t, on, sizeof on);
        if (l.type != MN__T_BOOL) return type_error(p, &l, f, on);
        if ((rc = emit(p, (op){.code = jump, .a = head}, 0))) return rc;
        head = p->ops.n;
        if ((rc = next(p)) || (rc = sub(p, &r))) return rc;
        if (r.type != MN__T_BOOL) return type_error(p, &r, f, on);
        if ((rc = emit(p, (op){.code = combine}, -1))) return rc;
        l.end = r.end;
    }
    patch(p, head, p->ops.n);
    *out = l;
    return 0;
}

static int parse_and(parser *p, operand *out)
{
    return parse_chain(p, out, TK_AND, OP_JUMP_F, OP_AND, parse_not);
}

static int parse_or(parser *p, operand *out)
{
    return parse_chain(p, out, TK_OR, OP_JUMP_T, OP_OR, parse_and);
}

/* ---- compile ------------------------------------------------------------------------------ */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Copies the parser's arrays into one block. */
static mn__expr *pack(const parser *p)
{
    size_t o_ops = align8(sizeof(mn__expr));
    size_t o_nums = align8(o_ops + (size_t)p->ops.n * sizeof(op));
    size_t o_strs = align8(o_nums + (size_t)p->nums.n * sizeof(double));
    size_t o_lists = align8(o_strs + (size_t)p->strs.n * sizeof(sstr));
    size_t o_names = align8(o_lists + (size_t)p->lists.n * sizeof(list));
    size_t o_slots = align8(o_names + (size_t)p->names.n * sizeof(span32));
    size_t o_types = o_slots + (size_t)p->slots.n * sizeof(uint32_t);
    size_t o_pool = o_types + p->types.n;
    size_t o_src = o_pool + p->pool.n;
    size_t total = o_src + p->len + 1;
    char *b = mn_malloc(total);
    if (!b) return NULL;
    mn__expr *e = (mn__expr *)b;
    /* memcpy with a zero length still needs a valid pointer: the vectors may be empty */
#define COPY(off, v, size)                                                                         \
    if ((v).n) memcpy(b + (off), (v).p, (size_t)(v).n * (size))
    COPY(o_ops, p->ops, sizeof(op));
    COPY(o_nums, p->nums, sizeof(double));
    COPY(o_lists, p->lists, sizeof(list));
    COPY(o_names, p->names, sizeof(span32));
    COPY(o_slots, p->slots, sizeof(uint32_t));
    COPY(o_types, p->types, 1);
    COPY(o_pool, p->pool, 1);
#undef COPY
    sstr *strs = (sstr *)(b + o_strs);
    const span32 *sp = p->strs.p;
    for (uint32_t i = 0; i < p->strs.n; i++)
        strs[i] = (sstr){b + o_pool + sp[i].off, sp[i].len};
    memcpy(b + o_src, p->src, p->len);
    b[o_src + p->len] = '\0';
    e->ops = (const op *)(b + o_ops);
    e->nums = (const double *)(b + o_nums);
    e->strs = strs;
    e->lists = (const list *)(b + o_lists);
    e->names = (const span32 *)(b + o_names);
    e->slots = (const uint32_t *)(b + o_slots);
    e->types = (const uint8_t *)(b + o_types);
    e->src = b + o_src;
    e->nops = p->ops.n;
    e->nslots = p->slots.n;
    return e;
}

int mn__expr_compile(const char *src, size_t len, mn__expr_lookup lookup, void *ctx, mn__expr **out,
                     mn__expr_error *err)
{
    mn__expr_error local;
    parser p = {.src = src, .len = len, .lookup = lookup, .ctx = ctx, .err = err ? err : &local};
    p.err->offset = 0;
    p.err->msg[0] = '\0';
    if (!out || (!src && len)) return fail(&p, MN_EINVAL, 0, "invalid argument");
    if (len > MN__EXPR_MAX_SOURCE)
        return fail(&p, MN_EINVAL, 0, "expression too long: %zu bytes (the limit is %d)", len,
                    MN__EXPR_MAX_SOURCE);
    if (!src) src = p.src = "";
    operand x = {.type = MN__T_MISSING};
    int rc = next(&p);
    if (rc) goto fail;
    if (p.cur.kind == TK_END) {
        rc = fail(&p, MN_EFORMAT, p.cur.off, "empty expression");
        goto fail;
    }
    if ((rc = parse_or(&p, &x))) goto fail;
    if (p.cur.kind != TK_END) {
        const char *kw = p.cur.kind == TK_FIELD ? keyword_ci(src + p.cur.off, p.cur.len) : NULL;
        if (p.cur.kind == TK_RPAREN)
            rc = fail(&p, MN_EFORMAT, p.cur.off, "unmatched ')' at offset %zu", p.cur.off);
        else
            rc = fail(&p, MN_EFORMAT, p.cur.off,
                      "expected an operator or the end of the expression, got %s%s%s%s",
                      describe(&p, &p.cur, p.b, sizeof p.b),
                      kw ? " (keywords are lowercase: '" : "", kw ? kw : "", kw ? "')" : "");
        goto fail;
    }
    if (x.type != MN__T_BOOL) {
        rc = fail(&p, MN_EINVAL, x.start, "type error: the expression must be a bool, got %s (%s)",
                  type_name(x.type), excerpt(&p, x.start, x.end, p.ex, sizeof p.ex));
        goto fail;
    }
    if (p.maxsp > STACK_MAX) { /* the depth limit makes this unreachable; never overflow */
        rc = fail(&p, MN_EINVAL, 0, "expression too complex");
        goto fail;
    }
    mn__expr *e = pack(&p);
    if (!e) {
        rc = fail(&p, MN_ENOMEM, 0, "out of memory");
        goto fail;
    }
    p.err->offset = 0;
    p.err->msg[0] = '\0';
    *out = e;
fail:
    mn_free(p.ops.p);
    mn_free(p.nums.p);
    mn_free(p.strs.p);
    mn_free(p.lists.p);
    mn_free(p.names.p);
    mn_free(p.slots.p);
    mn_free(p.types.p);
    mn_free(p.pool.p);
    return rc;
}
