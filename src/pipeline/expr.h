/* SPDX-License-Identifier: MIT
 *
 * The `when:` expression language of pipeline steps: a small, typed, side-effect-free language
 * over the text's own properties (len, script, has_url ...) and earlier steps' outputs
 * (lang.label, spam.score ...). Compiled once when the pipeline loads, evaluated per text with
 * no allocation and no string lookups: fields are bound to numbered slots at compile time.
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ( ("||" | "or") and )*
 *   and     := not ( ("&&" | "and") not )*
 *   not     := ("!" | "not") not | cmp
 *   cmp     := primary [ ("==" | "!=" | "<" | "<=" | ">" | ">=") primary
 *                      | ["not"] "in" list ]
 *   primary := NUMBER | STRING | "true" | "false" | FIELD | "(" expr ")"
 *   list    := "[" [ literal ("," literal)* ] "]"     (literals of one type: strings or numbers)
 *   FIELD   := IDENT ("." IDENT)*       IDENT := [A-Za-z_][A-Za-z0-9_-]*
 *   STRING  := "..." or '...' with \" \' \\ \n \t escapes;  NUMBER := decimal, optional
 *              fraction and exponent (a leading '-' is allowed on number literals)
 *
 * Keywords are lowercase and reserved: a FIELD may not be exactly `and`, `or`, `not`, `in`,
 * `true` or `false` (a dotted name may contain them: `spam.prob.true`). Only the word `not`
 * goes before `in`. Comparisons do not chain (`1 < len < 5` is an error). Numbers have no
 * leading '.', no hex and must fit a double; strings may hold any byte but NUL.
 *
 * Types are checked at compile time: == and != need both sides of one type (number, string,
 * bool); < <= > >= need numbers; `in` needs a string or number on the left and a literal list
 * of the same type; && || ! need bools; the whole expression must be a bool. A FIELD of type
 * bool may stand alone (`has_url && !spam.is_spam`).
 *
 * Missing values: a field whose step was skipped or failed is missing. Logic is three-valued
 * (Kleene): a comparison with a missing side is unknown; !unknown is unknown; false && unknown
 * is false; true || unknown is true. A step whose `when` is not true (false or unknown) is
 * skipped, and the explanation names the missing field.
 */
#ifndef MN_PIPELINE_EXPR_H
#define MN_PIPELINE_EXPR_H

#include <stddef.h>
#include <stdint.h>

typedef enum mn__etype {
    MN__T_MISSING = 0, /* runtime only: the value is absent */
    MN__T_BOOL = 1,
    MN__T_NUM = 2,
    MN__T_STR = 3,
} mn__etype;

/* A runtime value of one field slot. Strings are borrowed (valid while the evaluation runs). */
typedef struct mn__value {
    uint8_t type; /* mn__etype; MN__T_MISSING when absent */
    double num;   /* MN__T_NUM; MN__T_BOOL: 0 or 1 */
    const char *str;
    size_t len; /* MN__T_STR */
} mn__value;

/* Compile-time binding of a field name ("len", "lang.label") to a slot and its static type.
 * Returns 0, or a negative code with a message in msg[0..msg_cap) such as
 * "unknown field 'lang.lable' (lang has: label, score, ...)" or "unknown step 'lnag'". */
typedef int (*mn__expr_lookup)(void *ctx, const char *name, size_t len, uint32_t *slot,
                               mn__etype *type, char *msg, size_t msg_cap);

/* Where and why compilation failed. offset is a byte offset into the source. */
typedef struct mn__expr_error {
    size_t offset;
    char msg[256];
} mn__expr_error;

typedef struct mn__expr mn__expr;

enum { MN__EXPR_MAX_SOURCE = 4096, MN__EXPR_MAX_DEPTH = 64 };

/* Compiles src[0..len). Returns 0 and *out, or MN_EFORMAT (syntax: "expected ')' ..."),
 * MN_EINVAL (type error, unknown field, too long / too deeply nested) or MN_ENOMEM, with err
 * filled. Never recurses deeper than MN__EXPR_MAX_DEPTH on hostile input.
 * src need not be NUL-terminated and is copied. lookup is called once per field occurrence,
 * left to right; when it fails, its msg becomes err->msg ("unknown field 'x'" if it wrote
 * none) and the result is MN_ENOMEM if it returned MN_ENOMEM, else MN_EINVAL. *out is left
 * untouched on failure; err may be NULL; on success err->msg is "". Messages are valid UTF-8
 * (other bytes of the source are shown as \xNN) and name the offending token and offset. */
int mn__expr_compile(const char *src, size_t len, mn__expr_lookup lookup, void *ctx,
                     mn__expr **out, mn__expr_error *err);
void mn__expr_free(mn__expr *e);

/* Evaluates with slots[] holding the current values (indexed by the slots lookup returned).
 * Returns 1 (true), 0 (false) or -1 (unknown: a missing value decided it). Allocation-free,
 * thread-safe (the compiled expression is read-only).
 * slots must hold every slot the expression reads (it may be NULL if it reads none). A value
 * whose type differs from the type lookup declared counts as missing. A string of length 0
 * may have str NULL. NaN compares as in IEEE 754 (only != is true). e NULL gives -1. */
int mn__expr_eval(const mn__expr *e, const mn__value *slots);

/* The distinct slots the expression reads, in first-use order (the pipeline derives step
 * dependencies from them). mn__expr_slot returns UINT32_MAX for i >= nslots. */
size_t mn__expr_nslots(const mn__expr *e);
uint32_t mn__expr_slot(const mn__expr *e, size_t i);

/* The source text as compiled (NUL-terminated; "" for NULL). */
const char *mn__expr_source(const mn__expr *e);

/* Why it came out as it did: the fields it reads and their current values, e.g.
 * `lang.label = "es", len = 42` or `spam.score is missing`. Writes a NUL-terminated string
 * (truncated to cap) and returns its length. Allocation-free.
 * Each slot appears once, under the name it was first used by. String values are quoted with
 * " \ and control bytes escaped and are shortened past 64 bytes; a value of the wrong type
 * reads `len has the wrong type (string, not number)`. Output cut short ends in "..." and
 * never splits a UTF-8 sequence; cap 0 writes nothing. */
size_t mn__expr_explain(const mn__expr *e, const mn__value *slots, char *buf, size_t cap);

#endif
