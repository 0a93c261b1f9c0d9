/* SPDX-License-Identifier: MIT
 *
 * JSON for the service. Reading goes through jansson (the only file that includes it), behind
 * a few accessors, after two cheap checks jansson does not make the way we want: nesting depth
 * (refused before parsing, so hostile input never recurses deeply) and UTF-8 validity (with the
 * byte offset, so the handler can name the text). Writing never uses jansson: responses are
 * printed straight into a per-worker buffer (core/buf.h) reused from request to request.
 */
#include "serve/internal.h"

#include <jansson.h>
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
/* Set when an allocation of this thread's parse failed: jansson then often reports a syntax
 * error ("string or '}' expected") or no message at all, and the client must not be told its
 * JSON is malformed. */
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
    if (nesting_exceeds(s, len, max_depth))
        return mn_err_set(err, MN_EFORMAT, "malformed JSON: nesting deeper than %d", max_depth);
    json_error_t je;
    if (a)
        arena_begin(a);
    tls_arena = a;
    tls_alloc_failed = 0;
    json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    tls_arena = NULL;
    if (a && root)
        a->live++;
    if (!root) {
        if (tls_alloc_failed || json_error_code(&je) == json_error_out_of_memory)
            return mn_err_set(err, MN_ENOMEM, "out of memory parsing JSON");
        return mn_err_set(err, MN_EFORMAT, "malformed JSON: %s at line %d column %d", je.text,
                          je.line, je.column);
    }
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
