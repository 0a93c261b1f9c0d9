/* SPDX-License-Identifier: MIT
 *
 * JSON for the service. Reading goes through cJSON (the only file that includes it), behind a
 * few accessors. cJSON parses a typical request in a sixth of jansson's instructions (~9,500
 * against ~59,000 for the benchmark's 400-byte body), but it is lenient where JSON is strict, so
 * one scan before it refuses what it would let through or should not see: nesting deeper than
 * the limit (so hostile input never recurses deeply), control characters inside strings,
 * \u0000 (its strings end at NUL), and ill-formed UTF-8 (with the byte offset, so the handler
 * can name the text); one walk after it refuses duplicate keys and numbers out of range.
 * Writing uses no library: responses are printed straight into a per-worker buffer
 * (core/buf.h) reused from request to request.
 */
#include "serve/internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

/* ---- reader ------------------------------------------------------------------------------- */

/* cJSON allocates through our hooks, so tests that fail allocations reach it too, and from the
 * calling thread's arena while one is in use (set around parse and free). */
static _Thread_local mn__arena *tls_arena;
/* Set when an allocation of this thread's parse failed: cJSON then just fails, as it does on a
 * syntax error, and the client must not be told its JSON is malformed. */
static _Thread_local int tls_alloc_failed;

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
    void *p = mn_malloc(n);
    if (!p)
        tls_alloc_failed = 1;
    return p;
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
    cJSON_Hooks h = {.malloc_fn = j_malloc, .free_fn = j_free};
    cJSON_InitHooks(&h);
}

void mn__arena_free(mn__arena *a)
{
    if (!a)
        return;
    mn_free(a->base);
    *a = (mn__arena){0};
}

/* Before a parse with no document alive: empty the block, and grow it if the last parse did
 * not fit (a failed growth just leaves cJSON on mn_malloc). */
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

static const char TOO_DEEP[] = "nesting too deep";

/* What JSON forbids and cJSON would take or mishandle, outside the parser: nesting deeper than
 * limit (arrays/objects outside strings: TOO_DEEP), a control character inside a string, and
 * \u0000. Returns NULL if none, else the reason, with *at the byte offset. */
static const char *prescan(const char *s, size_t len, int limit, size_t *at)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) {
                    *at = i;
                    return "\\u0000 is not allowed in a string";
                }
                i++;
            } else if (c == '"') {
                in_str = 0;
            } else if (c < 0x20) {
                *at = i;
                return "control character in a string";
            }
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > limit) {
                *at = i;
                return TOO_DEEP;
            }
        } else if (c == ']' || c == '}')
            depth--;
    }
    return NULL;
}

/* Line and column (from 1) of byte offset at. */
static void line_col(const char *s, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* After the parse: no object has a key twice, every number is finite. Returns NULL or the
 * reason; *key is the duplicate key. Objects of up to 16 members are checked pair by pair,
 * bigger ones sorted (in memory from mn_malloc; *nomem set if that fails). Recursion is bounded
 * by the nesting limit checked before. */
static const char *postcheck(const cJSON *j, const char **key, int *nomem)
{
    for (; j; j = j->next) {
        if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
            return "number out of range";
        if (cJSON_IsObject(j)) {
            size_t n = 0;
            for (const cJSON *c = j->child; c; c = c->next)
                n++;
            if (n <= 16) {
                for (const cJSON *c = j->child; c; c = c->next)
                    for (const cJSON *d = c->next; d; d = d->next)
                        if (strcmp(c->string, d->string) == 0) {
                            *key = c->string;
                            return "duplicate object key";
                        }
            } else {
                const cJSON **v = mn_malloc(n * sizeof *v);
                if (!v) {
                    *nomem = 1;
                    return "out of memory";
                }
                size_t i = 0;
                for (const cJSON *c = j->child; c; c = c->next)
                    v[i++] = c;
                qsort(v, n, sizeof *v, by_name);
                const char *dup = NULL;
                for (i = 1; i < n && !dup; i++)
                    if (strcmp(v[i - 1]->string, v[i]->string) == 0)
                        dup = v[i]->string;
                mn_free(v);
                if (dup) {
                    *key = dup;
                    return "duplicate object key";
                }
            }
        }
        if (j->child) {
            const char *why = postcheck(j->child, key, nomem);
            if (why)
                return why;
        }
    }
    return NULL;
}

/* mn__json_len and mn__json_at walk cJSON's linked lists; the last answer of each is kept per
 * thread, so the loops of the handlers (length in the condition, items in order) stay linear.
 * Forgotten at every parse and free of this thread. */
static _Thread_local const cJSON *len_arr, *at_arr, *at_node;
static _Thread_local size_t len_n, at_i;

static void forget_walks(void)
{
    len_arr = at_arr = at_node = NULL;
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
    int line, col;
    size_t at = 0;
    const char *why = prescan(s, len, max_depth, &at);
    if (why == TOO_DEEP)
        return mn_err_set(err, MN_EFORMAT, "malformed JSON: nesting deeper than %d", max_depth);
    if (why) {
        line_col(s, at, &line, &col);
        return mn_err_set(err, MN_EFORMAT, "malformed JSON: %s at line %d column %d", why, line,
                          col);
    }
    forget_walks();
    if (a)
        arena_begin(a);
    tls_arena = a;
    tls_alloc_failed = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    tls_arena = NULL;
    if (!root) {
        if (tls_alloc_failed)
            return mn_err_set(err, MN_ENOMEM, "out of memory parsing JSON");
        at = end && end >= s && end <= s + len ? (size_t)(end - s) : 0;
        line_col(s, at, &line, &col);
        return mn_err_set(err, MN_EFORMAT, "malformed JSON: unexpected %s at line %d column %d",
                          at < len ? "character" : "end of input", line, col);
    }
    if (a)
        a->live++;
    size_t stop = end ? (size_t)(end - s) : len;
    while (stop < len && (s[stop] == ' ' || s[stop] == '\n' || s[stop] == '\r' || s[stop] == '\t'))
        stop++;
    const char *key = NULL;
    int nomem = 0;
    why = stop < len ? "end of input expected" : postcheck(root, &key, &nomem);
    if (why) {
        int rc;
        if (nomem) {
            rc = mn_err_set(err, MN_ENOMEM, "out of memory parsing JSON");
        } else if (key) { /* before the free: key lives in the document */
            rc = mn_err_set(err, MN_EFORMAT, "malformed JSON: duplicate object key \"%.64s\"",
                            key);
        } else if (stop < len) {
            line_col(s, stop, &line, &col);
            rc = mn_err_set(err, MN_EFORMAT, "malformed JSON: %s at line %d column %d", why, line,
                            col);
        } else {
            rc = mn_err_set(err, MN_EFORMAT, "malformed JSON: %s", why);
        }
        mn__json_free(a, (mn__json *)root);
        return rc;
    }
    *out = (mn__json *)root;
    return 0;
}

void mn__json_free(mn__arena *a, mn__json *j)
{
    if (!j)
        return;
    forget_walks();
    tls_arena = a;
    cJSON_Delete((cJSON *)j);
    tls_arena = NULL;
    if (a && --a->live == 0)
        a->used = 0;
}

mn__jtype mn__json_type(const mn__json *j)
{
    const cJSON *c = (const cJSON *)j;
    if (cJSON_IsObject(c))
        return MN__J_OBJECT;
    if (cJSON_IsArray(c))
        return MN__J_ARRAY;
    if (cJSON_IsString(c))
        return MN__J_STRING;
    if (cJSON_IsNumber(c))
        return MN__J_NUMBER;
    if (cJSON_IsBool(c))
        return MN__J_BOOL;
    return MN__J_NULL;
}

mn__json *mn__json_get(const mn__json *j, const char *key)
{
    if (!j || !cJSON_IsObject((const cJSON *)j))
        return NULL;
    return (mn__json *)cJSON_GetObjectItemCaseSensitive((const cJSON *)j, key);
}

size_t mn__json_len(const mn__json *j)
{
    const cJSON *c = (const cJSON *)j;
    if (!c || !cJSON_IsArray(c))
        return 0;
    if (c != len_arr) {
        len_n = 0;
        for (const cJSON *e = c->child; e; e = e->next)
            len_n++;
        len_arr = c;
    }
    return len_n;
}

mn__json *mn__json_at(const mn__json *j, size_t i)
{
    const cJSON *c = (const cJSON *)j;
    if (!c || !cJSON_IsArray(c))
        return NULL;
    const cJSON *e;
    size_t k;
    if (c == at_arr && at_node && i >= at_i) { /* forward from the last item asked for */
        e = at_node;
        k = at_i;
    } else {
        e = c->child;
        k = 0;
    }
    for (; e && k < i; k++)
        e = e->next;
    if (e) {
        at_arr = c;
        at_node = e;
        at_i = i;
    }
    return (mn__json *)e;
}

const char *mn__json_str(const mn__json *j, size_t *len)
{
    const cJSON *c = (const cJSON *)j;
    if (!c || !cJSON_IsString(c) || !c->valuestring)
        return NULL;
    *len = strlen(c->valuestring); /* no NUL inside: \u0000 is refused before parsing */
    return c->valuestring;
}

double mn__json_num(const mn__json *j)
{
    const cJSON *c = (const cJSON *)j;
    return c && cJSON_IsNumber(c) ? c->valuedouble : 0.0;
}

/* JSON has one number type: a whole number counts as an integer ("2.0" too). Callers read it
 * as a double and check its range. */
int mn__json_is_int(const mn__json *j)
{
    const cJSON *c = (const cJSON *)j;
    if (!c || !cJSON_IsNumber(c))
        return 0;
    double v = c->valuedouble;
    return isfinite(v) && v == trunc(v);
}

int mn__json_bool(const mn__json *j)
{
    return j && cJSON_IsTrue((const cJSON *)j);
}
