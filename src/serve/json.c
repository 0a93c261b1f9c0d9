/* SPDX-License-Identifier: MIT
 *
 * JSON for the service. Reading goes through jansson (the only file that includes it), behind
 * a few accessors, after two cheap checks jansson does not make the way we want: nesting depth
 * (refused before parsing, so hostile input never recurses deeply) and UTF-8 validity (with the
 * byte offset, so the handler can name the text). Writing never uses jansson: responses are
 * printed straight into a per-worker buffer (core/buf.h) reused from request to request.
 *
 * Parsing has a fast path. jansson reads a string one byte at a time through its stream,
 * checks its UTF-8 again and copies it twice: on a 400-byte request that is ~45,000
 * instructions, more than the prediction itself. Requests are nearly always well formed, so
 * one pass over the body builds the same values with jansson's constructors; on anything it
 * does not take (a syntax error, a duplicate key, \u0000, a lone surrogate, an integer of
 * more than 18 digits, a real number out of range, nesting past the limit, no memory) it gives
 * up and json_loadb() parses the body again, so every error and its message is jansson's.
 * tests/unit/serve/json.c checks on random input that whatever the fast path accepts, jansson
 * accepts too, with an equal value.
 */
#include "serve/internal.h"

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

/* ---- reader ------------------------------------------------------------------------------- */

/* jansson allocates through our hooks, so tests that fail allocations reach it too, and from
 * the calling thread's arena while one is in use (set around parse and free). */
static _Thread_local mn__arena *tls_arena;

enum { ARENA_MIN = 64 << 10, ARENA_MAX = 64 << 20 };

static int in_arena(const mn__arena *a, const void *p)
{
    uintptr_t x = (uintptr_t)p, b = (uintptr_t)a->base;
    return a->base && x >= b && x < b + a->cap;
}

static void *j_malloc(size_t n)
{
    mn__arena *a = tls_arena;
    if (a) {
        size_t need = (n + 15) & ~(size_t)15;
        a->want += need;
        if (a->used + need <= a->cap) {
            void *p = a->base + a->used;
            a->used += need;
            return p;
        }
    }
    return mn_malloc(n);
}

static void j_free(void *p)
{
    mn__arena *a = tls_arena;
    if (a && in_arena(a, p))
        return; /* freed all at once when the document is */
    mn_free(p);
}

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
static void set_alloc(void)
{
    json_set_alloc_funcs(j_malloc, j_free);
}

void mn__arena_free(mn__arena *a)
{
    if (!a)
        return;
    mn_free(a->base);
    *a = (mn__arena){0};
}

/* Before a parse with no document alive: empty the block, and grow it if the last parse did
 * not fit (a failed growth just leaves jansson on mn_malloc). */
static void arena_begin(mn__arena *a)
{
    if (a->live == 0) {
        a->used = 0;
        if (a->want > a->cap && a->want <= ARENA_MAX) {
            size_t cap = a->cap ? a->cap : ARENA_MIN;
            while (cap < a->want)
                cap *= 2;
            char *p = mn_malloc(cap);
            if (p) {
                mn_free(a->base);
                a->base = p;
                a->cap = cap;
            }
        }
    }
    a->want = a->used;
}

/* Deepest nesting of arrays/objects outside strings; stops counting past limit. */
static int nesting_exceeds(const char *s, size_t len, int limit)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > limit)
                return 1;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return 0;
}


/* ---- fast path ---------------------------------------------------------------------------- */

typedef struct fast {
    const char *p, *end;
    int depth, max_depth;
} fast;

static json_t *fast_value(fast *f);

static void skip_ws(fast *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t'))
        f->p++;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decodes the escapes of raw[0..n) (a string's bytes between its quotes) into d; returns the
 * decoded length, or -1 for what jansson refuses (or the fast path leaves to it). */
static long unescape(const char *raw, size_t n, char *d)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (raw[i] != '\\') {
            d[o++] = raw[i++];
            continue;
        }
        char c = raw[i + 1]; /* the caller checked that an escape is never the last byte */
        i += 2;
        switch (c) {
        case '"': case '\\': case '/': d[o++] = c; continue;
        case 'b': d[o++] = '\b'; continue;
        case 'f': d[o++] = '\f'; continue;
        case 'n': d[o++] = '\n'; continue;
        case 'r': d[o++] = '\r'; continue;
        case 't': d[o++] = '\t'; continue;
        case 'u': break;
        default: return -1;
        }
        uint32_t cp, lo;
        if (i + 4 > n || hex4(raw + i, &cp) != 0 || cp == 0)
            return -1;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 6 > n || raw[i] != '\\' || raw[i + 1] != 'u' || hex4(raw + i + 2, &lo) != 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp < 0x80) {
            d[o++] = (char)cp;
        } else if (cp < 0x800) {
            d[o++] = (char)(0xC0 | cp >> 6);
            d[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            d[o++] = (char)(0xE0 | cp >> 12);
            d[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            d[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            d[o++] = (char)(0xF0 | cp >> 18);
            d[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            d[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            d[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return (long)o;
}

/* Reads the string whose opening quote is at f->p. Its bytes are the body's own when it has
 * no escape, else a decoded copy (*owned, for j_free). NULL: left to jansson. The body's UTF-8
 * was checked before (and a decoded escape is well formed), so nothing is checked here but
 * control characters, which JSON strings may not hold raw. */
static const char *fast_str(fast *f, size_t *len, char **owned)
{
    const char *s = ++f->p, *q = s;
    int escapes = 0;
    /* Eight bytes at a time while none is a quote, a backslash or a control character (the
     * "has a zero byte" test of each, in plain C): a 400-byte text costs ~1,300 instructions
     * instead of ~4,100 (callgrind). */
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (f->end - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');
        if ((((quote - ones) & ~quote) | ((bslash - ones) & ~bslash) | ((x - ones * 0x20) & ~x)) &
            highs)
            break;
        q += 8;
    }
    for (;;) {
        if (q >= f->end || (unsigned char)*q < 0x20)
            return NULL;
        if (*q == '"')
            break;
        if (*q == '\\') {
            escapes = 1;
            q++;
            if (q >= f->end)
                return NULL;
        }
        q++;
    }
    f->p = q + 1;
    *owned = NULL;
    if (!escapes) {
        *len = (size_t)(q - s);
        return s;
    }
    char *d = j_malloc((size_t)(q - s)); /* decoding never lengthens */
    if (!d)
        return NULL;
    long n = unescape(s, (size_t)(q - s), d);
    if (n < 0) {
        j_free(d);
        return NULL;
    }
    *owned = d;
    *len = (size_t)n;
    return d;
}

static json_t *fast_number(fast *f)
{
    const char *s = f->p, *q = s, *e = f->end;
    int neg = 0, real = 0;
    if (q < e && *q == '-') {
        neg = 1;
        q++;
    }
    const char *digits = q;
    if (q < e && *q == '0')
        q++;
    else if (q < e && *q >= '1' && *q <= '9')
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    else
        return NULL;
    size_t ndigits = (size_t)(q - digits);
    if (q < e && *q == '.') {
        real = 1;
        if (++q >= e || *q < '0' || *q > '9')
            return NULL;
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        real = 1;
        if (++q < e && (*q == '+' || *q == '-'))
            q++;
        if (q >= e || *q < '0' || *q > '9')
            return NULL;
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    }
    f->p = q;
    if (!real) {
        if (ndigits > 18) /* might not fit: jansson says how */
            return NULL;
        long long v = 0;
        for (const char *d = digits; d < q; d++)
            v = v * 10 + (*d - '0');
        return json_integer(neg ? -v : v);
    }
    /* strtod reads the locale's decimal point; jansson swaps it in, we leave that case to it */
    const char *dp = localeconv()->decimal_point;
    char buf[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf || dp[0] != '.' || dp[1] != '\0')
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + n || isinf(v))
        return NULL; /* overflow: jansson's error */
    return json_real(v);
}

static json_t *fast_object(fast *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    f->p++;
    skip_ws(f);
    if (f->p < f->end && *f->p == '}') {
        f->p++;
        return o;
    }
    for (;;) {
        size_t klen;
        char *owned;
        const char *key = f->p < f->end && *f->p == '"' ? fast_str(f, &klen, &owned) : NULL;
        if (!key)
            goto fail;
        json_t *v = NULL;
        if (json_object_getn(o, key, klen) == NULL) { /* a duplicate is jansson's error */
            skip_ws(f);
            if (f->p < f->end && *f->p == ':') {
                f->p++;
                skip_ws(f);
                v = fast_value(f);
            }
        }
        int rc = v ? json_object_setn_new_nocheck(o, key, klen, v) : -1;
        j_free(owned);
        if (rc != 0)
            goto fail;
        skip_ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            skip_ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == '}') {
            f->p++;
            return o;
        }
        goto fail;
    }
fail:
    json_decref(o);
    return NULL;
}

static json_t *fast_array(fast *f)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    f->p++;
    skip_ws(f);
    if (f->p < f->end && *f->p == ']') {
        f->p++;
        return a;
    }
    for (;;) {
        json_t *v = fast_value(f);
        if (!v || json_array_append_new(a, v) != 0)
            goto fail;
        skip_ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            skip_ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == ']') {
            f->p++;
            return a;
        }
        goto fail;
    }
fail:
    json_decref(a);
    return NULL;
}

/* A literal must end where a token can: "truex" is jansson's error. */
static json_t *fast_literal(fast *f, const char *word, size_t n, json_t *v)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
        return NULL;
    f->p += n;
    if (f->p < f->end && ((*f->p >= 'a' && *f->p <= 'z') || (*f->p >= 'A' && *f->p <= 'Z')))
        return NULL;
    return v;
}

/* The value at f->p (no whitespace before it), or NULL: left to jansson. */
static json_t *fast_value(fast *f)
{
    if (f->p >= f->end)
        return NULL;
    switch (*f->p) {
    case '{':
    case '[': {
        if (++f->depth > f->max_depth)
            return NULL;
        json_t *v = *f->p == '{' ? fast_object(f) : fast_array(f);
        f->depth--;
        return v;
    }
    case '"': {
        size_t len;
        char *owned;
        const char *s = fast_str(f, &len, &owned);
        if (!s)
            return NULL;
        json_t *v = json_stringn_nocheck(s, len);
        j_free(owned);
        return v;
    }
    case 't': return fast_literal(f, "true", 4, json_true());
    case 'f': return fast_literal(f, "false", 5, json_false());
    case 'n': return fast_literal(f, "null", 4, json_null());
    default: return fast_number(f);
    }
}

/* The whole document as jansson would read it (an object or an array, then only whitespace),
 * or NULL when it is not one the fast path takes. */
static json_t *fast_parse(const char *s, size_t len, int max_depth)
{
    fast f = {.p = s, .end = s + len, .max_depth = max_depth};
    skip_ws(&f);
    if (f.p >= f.end || (*f.p != '{' && *f.p != '['))
        return NULL;
    json_t *root = fast_value(&f);
    if (!root)
        return NULL;
    skip_ws(&f);
    if (f.p != f.end) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int mn__json_parse(mn__arena *a, const char *s, size_t len, int max_depth, mn__json **out,
                   size_t *bad_offset, mn_err *err)
{
    pthread_once(&alloc_once, set_alloc);
    size_t bad = 0;
    if (mn_utf8_validate(s, len, &bad) != 0) {
        if (bad_offset)
            *bad_offset = bad;
        return mn_err_set(err, MN_EUTF8, "invalid UTF-8 at byte %zu of the body", bad);
    }
    if (len == 0)
        return mn_err_set(err, MN_EFORMAT, "empty body: expected a JSON object");
    if (a)
        arena_begin(a);
    tls_arena = a;
    json_t *root = fast_parse(s, len, max_depth); /* within max_depth when it succeeds */
    tls_arena = NULL;
    if (!root) {
        if (a && a->live == 0)
            a->used = 0; /* the fast path's leftovers; want still counts them */
        if (nesting_exceeds(s, len, max_depth))
            return mn_err_set(err, MN_EFORMAT, "malformed JSON: nesting deeper than %d",
                              max_depth);
        json_error_t je;
        tls_arena = a;
        root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
        tls_arena = NULL;
        if (!root) {
            /* jansson gives no message at all when its first allocation fails */
            if (je.text[0] == '\0' || json_error_code(&je) == json_error_out_of_memory)
                return mn_err_set(err, MN_ENOMEM, "out of memory parsing JSON");
            return mn_err_set(err, MN_EFORMAT, "malformed JSON: %s at line %d column %d",
                              je.text, je.line, je.column);
        }
    }
    if (a)
        a->live++;
    *out = (mn__json *)root;
    return 0;
}

void mn__json_free(mn__arena *a, mn__json *j)
{
    if (!j)
        return;
    tls_arena = a;
    json_decref((json_t *)j);
    tls_arena = NULL;
    if (a && --a->live == 0)
        a->used = 0;
}

mn__jtype mn__json_type(const mn__json *j)
{
    switch (json_typeof((const json_t *)j)) {
    case JSON_OBJECT: return MN__J_OBJECT;
    case JSON_ARRAY: return MN__J_ARRAY;
    case JSON_STRING: return MN__J_STRING;
    case JSON_INTEGER:
    case JSON_REAL: return MN__J_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return MN__J_BOOL;
    default: return MN__J_NULL;
    }
}

mn__json *mn__json_get(const mn__json *j, const char *key)
{
    if (!j || !json_is_object((const json_t *)j))
        return NULL;
    return (mn__json *)json_object_get((const json_t *)j, key);
}

size_t mn__json_len(const mn__json *j)
{
    return j && json_is_array((const json_t *)j) ? json_array_size((const json_t *)j) : 0;
}

mn__json *mn__json_at(const mn__json *j, size_t i)
{
    return (mn__json *)json_array_get((const json_t *)j, i);
}

const char *mn__json_str(const mn__json *j, size_t *len)
{
    if (!j || !json_is_string((const json_t *)j))
        return NULL;
    *len = json_string_length((const json_t *)j);
    return json_string_value((const json_t *)j);
}

double mn__json_num(const mn__json *j)
{
    return json_number_value((const json_t *)j);
}

int mn__json_is_int(const mn__json *j)
{
    return j && json_is_integer((const json_t *)j);
}

int mn__json_bool(const mn__json *j)
{
    return j && json_is_true((const json_t *)j);
}
