/* SPDX-License-Identifier: MIT
 *
 * Tests for src/pipeline/expr.c, the `when:` expression language: every operator and its
 * precedence, `in`/`not in`, literals (escapes, exponents, negatives), every compile error
 * with its code, offset and message, the depth and length limits, Kleene logic with missing
 * values, explanations, slot listing, a differential test against a naive tree evaluator on
 * random expressions, and allocation fault injection.
 */
#include "pipeline/expr.h"

#include <locale.h>
#include <stdint.h>

#include "micronlp/alloc.h"
#include "micronlp/err.h"
#include "micronlp/text.h"
#include "test.h"

/* ---- fixture: the fields a test pipeline offers ------------------------------------------- */

enum { S_LEN, S_BYTES, S_LABEL, S_LSCORE, S_SPAM, S_ISSPAM, S_URL, S_SCRIPT, S_PROB, NSLOTS };

static const struct {
    const char *name;
    uint32_t slot;
    mn__etype type;
} fields[] = {
    {"len", S_LEN, MN__T_NUM},
    {"bytes", S_BYTES, MN__T_NUM},
    {"lang.label", S_LABEL, MN__T_STR},
    {"lang.score", S_LSCORE, MN__T_NUM},
    {"spam.score", S_SPAM, MN__T_NUM},
    {"spam.is_spam", S_ISSPAM, MN__T_BOOL},
    {"has_url", S_URL, MN__T_BOOL},
    {"script", S_SCRIPT, MN__T_STR},
    {"spam.prob.true", S_PROB, MN__T_NUM}, /* a label may be a keyword after a dot */
    {"text.len", S_LEN, MN__T_NUM},        /* another name for slot 0 */
};

static int lookups; /* calls, to check lookup is called once per field occurrence */

static int lookup(void *ctx, const char *name, size_t len, uint32_t *slot, mn__etype *type,
                  char *msg, size_t msg_cap)
{
    (void)ctx;
    lookups++;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0) {
            *slot = fields[i].slot;
            *type = fields[i].type;
            return 0;
        }
    if (len == 3 && memcmp(name, "oom", 3) == 0)
        return MN_ENOMEM; /* no message: the compiler writes its own */
    if (len == 5 && memcmp(name, "weird", 5) == 0) {
        *slot = 1;
        *type = MN__T_MISSING; /* a broken lookup */
        return 0;
    }
    if (len > 5 && memcmp(name, "lnag.", 5) == 0) {
        snprintf(msg, msg_cap, "unknown step 'lnag' in '%.*s'", (int)len, name);
        return MN_ENOTFOUND; /* any failure but ENOMEM becomes MN_EINVAL */
    }
    return MN_EINVAL; /* no message */
}

static mn__value slots[NSLOTS];

static mn__value num(double x)
{
    return (mn__value){.type = MN__T_NUM, .num = x};
}

static mn__value str(const char *s)
{
    return (mn__value){.type = MN__T_STR, .str = s, .len = strlen(s)};
}

static mn__value bln(int b)
{
    return (mn__value){.type = MN__T_BOOL, .num = b};
}

static const mn__value missing = {.type = MN__T_MISSING};

/* A typical text: English, not spam, 42 characters, with a URL. */
static void default_slots(void)
{
    slots[S_LEN] = num(42);
    slots[S_BYTES] = num(44);
    slots[S_LABEL] = str("en");
    slots[S_LSCORE] = num(0.97);
    slots[S_SPAM] = num(0.1);
    slots[S_ISSPAM] = bln(0);
    slots[S_URL] = bln(1);
    slots[S_SCRIPT] = str("Latn");
    slots[S_PROB] = num(0.25);
}

static mn__expr_error err;

static int compile(const char *src, mn__expr **e)
{
    *e = NULL;
    memset(&err, 0x5A, sizeof err); /* compile must set it */
    return mn__expr_compile(src, strlen(src), lookup, NULL, e, &err);
}

enum { NOCOMPILE = 99 };

/* Compiles src, evaluates it on slots, frees it; NOCOMPILE if it did not compile. */
static int ev(const char *src)
{
    mn__expr *e;
    if (compile(src, &e) != 0) {
        fprintf(stderr, "  does not compile: %s: %s\n", src, err.msg);
        return NOCOMPILE;
    }
    int r = mn__expr_eval(e, slots);
    mn__expr_free(e);
    return r;
}

typedef struct {
    const char *src;
    int want;
} eval_case;

#define RUN_EVAL_TABLE(table)                                                                      \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table)[0]; i_++) {                         \
            int got_ = ev((table)[i_].src);                                                        \
            if (got_ != (table)[i_].want)                                                          \
                MN_FAIL_AT("%s: got %d, want %d", (table)[i_].src, got_, (table)[i_].want);        \
        }                                                                                          \
    } while (0)

typedef struct {
    const char *src;
    int code;
    size_t offset;
    const char *msg;
} error_case;

#define RUN_ERROR_TABLE(table)                                                                     \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table)[0]; i_++) {                         \
            mn__expr *e_;                                                                          \
            int rc_ = compile((table)[i_].src, &e_);                                               \
            if (rc_ != (table)[i_].code || e_ != NULL || err.offset != (table)[i_].offset ||       \
                strcmp(err.msg, (table)[i_].msg) != 0)                                             \
                MN_FAIL_AT("%s:\n  got  %s @%zu \"%s\"\n  want %s @%zu \"%s\"", (table)[i_].src,   \
                           mn_errname(rc_), err.offset, err.msg, mn_errname((table)[i_].code),     \
                           (table)[i_].offset, (table)[i_].msg);                                   \
            if (mn_utf8_validate(err.msg, strlen(err.msg), NULL) != 0)                             \
                MN_FAIL_AT("%s: message is not UTF-8", (table)[i_].src);                           \
        }                                                                                          \
    } while (0)

/* ---- operators and precedence ------------------------------------------------------------- */

TEST(literals)
{
    default_slots();
    static const eval_case cases[] = {
        {"true", 1},         {"false", 0},          {"  true\n", 1},       {"1 < 2", 1},
        {"2 < 1", 0},        {"\"a\" == \"a\"", 1}, {"'a' == \"a\"", 1},   {"'a' != 'b'", 1},
        {"true == true", 1}, {"true != false", 1},  {"false == false", 1}, {"true == false", 0},
        {"(true)", 1},       {"((false))", 0},
    };
    RUN_EVAL_TABLE(cases);
}

TEST(number_operators)
{
    default_slots(); /* len = 42 */
    static const eval_case cases[] = {
        {"len == 42", 1}, {"len == 41", 0},        {"len != 42", 0},    {"len != 41", 1},
        {"len < 43", 1},  {"len < 42", 0},         {"len <= 42", 1},    {"len <= 41", 0},
        {"len > 41", 1},  {"len > 42", 0},         {"len >= 42", 1},    {"len >= 43", 0},
        {"42 == len", 1}, {"43 > len", 1},         {"len == bytes", 0}, {"len < bytes", 1},
        {"len==42", 1},   {"len>=42&&len<=42", 1},
    };
    RUN_EVAL_TABLE(cases);
}

TEST(string_operators_are_byte_exact)
{
    default_slots();
    static const eval_case cases[] = {
        {"lang.label == \"en\"", 1}, {"lang.label == 'en'", 1},  {"lang.label != \"en\"", 0},
        {"lang.label == \"EN\"", 0}, {"lang.label == \"e\"", 0}, {"lang.label == \"en \"", 0},
        {"lang.label == \"\"", 0},   {"script == \"Latn\"", 1},  {"lang.label != script", 1},
    };
    RUN_EVAL_TABLE(cases);
    slots[S_LABEL] = (mn__value){.type = MN__T_STR, .str = "en\0x", .len = 3};
    ASSERT_EQ(ev("lang.label == \"en\""), 0); /* an embedded NUL counts */
    slots[S_LABEL] = str("\xC3\xA9");         /* é precomposed */
    ASSERT_EQ(ev("lang.label == \"\xC3\xA9\""), 1);
    ASSERT_EQ(ev("lang.label == \"e\xCC\x81\""), 0); /* no normalisation */
    slots[S_LABEL] = (mn__value){.type = MN__T_STR, .str = NULL, .len = 0};
    ASSERT_EQ(ev("lang.label == \"\""), 1);
}

TEST(bool_fields)
{
    default_slots(); /* has_url true, spam.is_spam false */
    static const eval_case cases[] = {
        {"has_url", 1},
        {"spam.is_spam", 0},
        {"!has_url", 0},
        {"not spam.is_spam", 1},
        {"has_url && !spam.is_spam", 1},
        {"has_url == true", 1},
        {"has_url != spam.is_spam", 1},
        {"spam.is_spam == false", 1},
    };
    RUN_EVAL_TABLE(cases);
    slots[S_URL] = bln(7); /* any non-zero number is true */
    ASSERT_EQ(ev("has_url"), 1);
}

TEST(precedence)
{
    default_slots();
    static const eval_case cases[] = {
        /* && binds tighter than || */
        {"true || false && false", 1},
        {"(true || false) && false", 0},
        {"false && false || true", 1},
        {"false && (false || true)", 0},
        {"true or false and false", 1},
        {"(true or false) and false", 0},
        /* ! binds tighter than && and ||, looser than comparisons */
        {"!false && false", 0},
        {"!(false && false)", 1},
        {"not false or true", 1},
        {"!len > 50", 1}, /* !(len > 50); (!len) would be a type error */
        {"not len == 42", 0},
        {"!!true", 1},
        {"!!!true", 0},
        {"not not not not false", 0},
        {"! ! has_url", 1},
        /* chains are left to right, short-circuits keep Kleene results */
        {"true && true && true && false", 0},
        {"false || false || false || true", 1},
        {"len > 1 && len < 100 || false", 1},
        {"false || len > 1 && len < 10", 0},
        {"(len > 1) == (len < 100)", 1},
        {"(len > 1) != (len < 10)", 1},
        {"(len) > 1", 1},
        {"((lang.label)) == 'en'", 1},
    };
    RUN_EVAL_TABLE(cases);
}

TEST(in_lists)
{
    default_slots();
    static const eval_case cases[] = {
        {"lang.label in [\"en\", \"de\"]", 1},
        {"lang.label in ['de', 'en']", 1},
        {"lang.label in [\"de\", \"fr\"]", 0},
        {"lang.label not in [\"de\", \"fr\"]", 1},
        {"lang.label not in [\"en\"]", 0},
        {"lang.label in []", 0},
        {"lang.label not in []", 1},
        {"len in [1, 42, 3]", 1},
        {"len in [1,2,3]", 0},
        {"len not in [1,2,3]", 1},
        {"len in [42.0]", 1},
        {"len in [4.2e1]", 1},
        {"-3 in [-1, -3]", 1},
        {"'x' in ['x']", 1},
        {"not lang.label in ['en']", 0},
        {"!(lang.label not in ['en'])", 1},
        {"lang.label in ['en'] && len in [42]", 1},
        {"lang.label in[\"en\"]", 1},
        {"lang.label not   in [ 'en' , 'de' ]", 0},
    };
    RUN_EVAL_TABLE(cases);
}

TEST(string_escapes)
{
    default_slots();
    struct {
        const char *src;
        const char *value;
    } cases[] = {
        {"lang.label == \"a\\\"b\"", "a\"b"},
        {"lang.label == 'it\\'s'", "it's"},
        {"lang.label == \"back\\\\slash\"", "back\\slash"},
        {"lang.label == \"two\\nlines\"", "two\nlines"},
        {"lang.label == 'tab\\there'", "tab\there"},
        {"lang.label == '\"'", "\""},
        {"lang.label == \"'\"", "'"},
        {"lang.label == '\\\"'", "\""},
        {"lang.label == \"\xE4\xB8\xAD\xE6\x96\x87\"", "\xE4\xB8\xAD\xE6\x96\x87"},
        {"lang.label in ['x', \"a\\\\\"]", "a\\"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slots[S_LABEL] = str(cases[i].value);
        if (ev(cases[i].src) != 1) MN_FAIL_AT("%s should match %s", cases[i].src, cases[i].value);
        slots[S_LABEL] = str("zzz");
        if (ev(cases[i].src) != 0) MN_FAIL_AT("%s should not match zzz", cases[i].src);
    }
}

TEST(numbers)
{
    default_slots();
    static const eval_case cases[] = {
        {"1e3 == 1000", 1},
        {"1E3 == 1000", 1},
        {"2.5e+2 == 250", 1},
        {"25e-1 == 2.5", 1},
        {"-5 < 0", 1},
        {"-0 == 0", 1},
        {"-0.5 < -0.25", 1},
        {"len > -1", 1},
        {"len>-1", 1},
        {"007 == 7", 1},
        {"0.1 < 0.2", 1},
        {"1e-400 == 0", 1},
        {"1.7976931348623157e308 > 1e308", 1},
        {"spam.score < 1e-3", 0},
        {"spam.score == 0.1", 1}, /* the literal parses to the same double */
        {"lang.score >= 0.97", 1},
        {"-1e3 == -1000", 1},
    };
    RUN_EVAL_TABLE(cases);
}

TEST(nan_compares_as_ieee)
{
    default_slots();
    slots[S_SPAM] = num(NAN);
    ASSERT_EQ(ev("spam.score < 1"), 0);
    ASSERT_EQ(ev("spam.score >= 1"), 0);
    ASSERT_EQ(ev("spam.score == spam.score"), 0);
    ASSERT_EQ(ev("spam.score != spam.score"), 1);
    ASSERT_EQ(ev("spam.score in [1, 2]"), 0);
}

/* ---- errors ------------------------------------------------------------------------------- */

TEST(type_errors)
{
    static const error_case cases[] = {
        {"lang.label < 5", MN_EINVAL, 0, "type error: '<' needs numbers, got string (lang.label)"},
        {"len < \"a\"", MN_EINVAL, 6, "type error: '<' needs numbers, got string (\"a\")"},
        {"len >= has_url", MN_EINVAL, 7, "type error: '>=' needs numbers, got bool (has_url)"},
        {"true > false", MN_EINVAL, 0, "type error: '>' needs numbers, got bool (true)"},
        {"len == \"a\"", MN_EINVAL, 4,
         "type error: '==' needs both sides of one type, got number (len) and string (\"a\")"},
        {"has_url != 1", MN_EINVAL, 8,
         "type error: '!=' needs both sides of one type, got bool (has_url) and number (1)"},
        {"len && true", MN_EINVAL, 0, "type error: '&&' needs bools, got number (len)"},
        {"true and len", MN_EINVAL, 9, "type error: 'and' needs bools, got number (len)"},
        {"lang.label || true", MN_EINVAL, 0,
         "type error: '||' needs bools, got string (lang.label)"},
        {"true or 'x'", MN_EINVAL, 8, "type error: 'or' needs bools, got string ('x')"},
        {"!len", MN_EINVAL, 1, "type error: '!' needs a bool, got number (len)"},
        {"not (lang.label)", MN_EINVAL, 4,
         "type error: 'not' needs a bool, got string ((lang.label))"},
        {"len", MN_EINVAL, 0, "type error: the expression must be a bool, got number (len)"},
        {" \"en\"", MN_EINVAL, 1, "type error: the expression must be a bool, got string (\"en\")"},
        {"(len)", MN_EINVAL, 0, "type error: the expression must be a bool, got number ((len))"},
        {"has_url in [1]", MN_EINVAL, 0,
         "type error: 'in' needs a string or number on the left, got bool (has_url)"},
        {"has_url not in []", MN_EINVAL, 0,
         "type error: 'not in' needs a string or number on the left, got bool (has_url)"},
        {"lang.label in [1, 2]", MN_EINVAL, 14,
         "type error: 'in' compares string (lang.label) with a list of numbers"},
        {"len not in ['a']", MN_EINVAL, 11,
         "type error: 'not in' compares number (len) with a list of strings"},
        {"len in [1, \"a\"]", MN_EINVAL, 11,
         "type error: a list holds strings or numbers, not both: got string (\"a\") after "
         "number (1)"},
        {"len in [true]", MN_EINVAL, 8,
         "type error: list items must be strings or numbers, got bool (true)"},
        {"(len < 3) < 4", MN_EINVAL, 0, "type error: '<' needs numbers, got bool ((len < 3))"},
        {"len > 1 && (len < 3 || spam.score)", MN_EINVAL, 23,
         "type error: '||' needs bools, got number (spam.score)"},
    };
    RUN_ERROR_TABLE(cases);
}

TEST(field_errors)
{
    static const error_case cases[] = {
        {"x == 1", MN_EINVAL, 0, "unknown field 'x'"},
        {"len > 1 && lang.lable == 'en'", MN_EINVAL, 11, "unknown field 'lang.lable'"},
        {"lnag.label == \"en\"", MN_EINVAL, 0, "unknown step 'lnag' in 'lnag.label'"},
        {"len > 1 && oom", MN_ENOMEM, 11, "out of memory"},
        {"weird", MN_EINVAL, 0, "field 'weird' has no usable type"},
        {"true.x", MN_EINVAL, 0, "unknown field 'true.x'"},
        /* keywords are not field names */
        {"in == 1", MN_EFORMAT, 0, "expected a value, got 'in' at offset 0"},
        {"len > 1 && not", MN_EFORMAT, 14,
         "expected a value after 'not' at offset 11, got end of expression"},
        {"true == and", MN_EFORMAT, 8,
         "expected a value after '==' at offset 5, got 'and' at offset 8"},
    };
    RUN_ERROR_TABLE(cases);
    mn__expr *e;
    ASSERT_EQ(compile("spam.prob.true > 0.2 && text.len > 1", &e), 0);
    mn__expr_free(e);
    ASSERT_EQ(compile("len_2 == 1", &e), MN_EINVAL); /* '_' and '-' are name characters */
    ASSERT_STREQ(err.msg, "unknown field 'len_2'");
    ASSERT_EQ(compile("a-b.c-d == 1", &e), MN_EINVAL);
    ASSERT_STREQ(err.msg, "unknown field 'a-b.c-d'");
    /* no lookup at all */
    ASSERT_EQ(mn__expr_compile("len > 1", 7, NULL, NULL, &e, &err), MN_EINVAL);
    ASSERT_STREQ(err.msg, "unknown field 'len'");
    ASSERT(e == NULL);
}

TEST(syntax_errors)
{
    static const error_case cases[] = {
        {"", MN_EFORMAT, 0, "empty expression"},
        {"  \n\t", MN_EFORMAT, 4, "empty expression"},
        {"lang.label == \"en", MN_EFORMAT, 14, "unterminated string starting at offset 14"},
        {"lang.label == 'en\\'", MN_EFORMAT, 14, "unterminated string starting at offset 14"},
        {"'\\", MN_EFORMAT, 0, "unterminated string starting at offset 0"},
        {"lang.label == \"a\\xb\"", MN_EFORMAT, 16,
         "unknown escape '\\x' at offset 16 (use \\\" \\' \\\\ \\n \\t)"},
        {"len >", MN_EFORMAT, 5, "expected a value after '>' at offset 4, got end of expression"},
        {"len > 1 &&", MN_EFORMAT, 10,
         "expected a value after '&&' at offset 8, got end of expression"},
        {"len > 1 || && true", MN_EFORMAT, 11,
         "expected a value after '||' at offset 8, got '&&' at offset 11"},
        {"&& true", MN_EFORMAT, 0, "expected a value, got '&&' at offset 0"},
        {"!", MN_EFORMAT, 1, "expected a value after '!' at offset 0, got end of expression"},
        {"()", MN_EFORMAT, 1, "expected a value after '(' at offset 0, got ')' at offset 1"},
        {"(len > 1", MN_EFORMAT, 8, "expected ')' to close '(' at offset 0, got end of expression"},
        {"len > (1", MN_EFORMAT, 8, "expected ')' to close '(' at offset 6, got end of expression"},
        {"(true false)", MN_EFORMAT, 6,
         "expected ')' to close '(' at offset 0, got 'false' at offset 6"},
        {"len > 1)", MN_EFORMAT, 7, "unmatched ')' at offset 7"},
        {"len > 1 foo", MN_EFORMAT, 8,
         "expected an operator or the end of the expression, got 'foo' at offset 8"},
        {"true 'x'", MN_EFORMAT, 5,
         "expected an operator or the end of the expression, got string 'x' at offset 5"},
        {"true ]", MN_EFORMAT, 5,
         "expected an operator or the end of the expression, got ']' at offset 5"},
        {"len = 1", MN_EFORMAT, 4, "unexpected '=' at offset 4 (use '==' to compare)"},
        {"true & true", MN_EFORMAT, 5, "unexpected '&' at offset 5 (use '&&' or 'and')"},
        {"true | true", MN_EFORMAT, 5, "unexpected '|' at offset 5 (use '||' or 'or')"},
        {"len > 1 @", MN_EFORMAT, 8, "unexpected character '@' at offset 8"},
        {"len > - 1", MN_EFORMAT, 6,
         "unexpected '-' at offset 6 (only a number literal may start with '-')"},
        {"len > \xC3\xA9", MN_EFORMAT, 6, "unexpected character '\xC3\xA9' at offset 6"},
        {"len > \xFF", MN_EFORMAT, 6, "unexpected byte 0xFF at offset 6"},
        {"len > \x01", MN_EFORMAT, 6, "unexpected byte 0x01 at offset 6"},
        {"1 < len < 5", MN_EFORMAT, 8,
         "comparisons cannot be chained, got '<' at offset 8 (use '&&' between comparisons)"},
        {"len == 1 in [1]", MN_EFORMAT, 9,
         "comparisons cannot be chained, got 'in' at offset 9 (use '&&' between comparisons)"},
        {"len in [1] not in [2]", MN_EFORMAT, 11,
         "comparisons cannot be chained, got 'not' at offset 11 (use '&&' between "
         "comparisons)"},
        {"len ! in [1]", MN_EFORMAT, 4, /* only the word `not` goes before `in` */
         "expected an operator or the end of the expression, got '!' at offset 4"},
        {"len > 1 AND len < 3", MN_EFORMAT, 8,
         "expected an operator or the end of the expression, got 'AND' at offset 8 (keywords "
         "are lowercase: 'and')"},
        {"lang.label not \"en\"", MN_EFORMAT, 15,
         "expected 'in' after 'not' at offset 11, got string \"en\" at offset 15"},
        {"len in 1", MN_EFORMAT, 7, "expected '[' after 'in' at offset 4, got '1' at offset 7"},
        {"len in [1,]", MN_EFORMAT, 10,
         "expected a string or number in the list opened '[' at offset 7, got ']' at offset 10"},
        {"len in [1 2]", MN_EFORMAT, 10,
         "expected ',' or ']' in the list opened '[' at offset 7, got '2' at offset 10"},
        {"len in [len]", MN_EFORMAT, 8,
         "expected a string or number in the list opened '[' at offset 7, got 'len' at offset 8"},
        {"len in [1", MN_EFORMAT, 9,
         "expected ',' or ']' in the list opened '[' at offset 7, got end of expression"},
        {"len in [,]", MN_EFORMAT, 8,
         "expected a string or number in the list opened '[' at offset 7, got ',' at offset 8"},
        {"lang. == 'x'", MN_EFORMAT, 5, "expected a name after '.' in 'lang.' at offset 5"},
        {"lang.1 == 'x'", MN_EFORMAT, 5, "expected a name after '.' in 'lang.' at offset 5"},
        {"len > 1.", MN_EFORMAT, 6, "malformed number '1.' at offset 6"},
        {"len > 1.e5", MN_EFORMAT, 6, "malformed number '1.e5' at offset 6"},
        {"len > 1e", MN_EFORMAT, 6, "malformed number '1e' at offset 6"},
        {"len > 1e+", MN_EFORMAT, 6, "malformed number '1e+' at offset 6"},
        {"len > 12abc", MN_EFORMAT, 6, "malformed number '12abc' at offset 6"},
        {"len > 1.2.3", MN_EFORMAT, 6, "malformed number '1.2.3' at offset 6"},
        {"len > 0x10", MN_EFORMAT, 6, "malformed number '0x10' at offset 6"},
        {"len > .5", MN_EFORMAT, 6, "malformed number at offset 6 (write 0.5, not .5)"},
        {"len > --1", MN_EFORMAT, 6,
         "unexpected '-' at offset 6 (only a number literal may start with '-')"},
        {"len > 1e999", MN_EINVAL, 6, "number '1e999' at offset 6 is out of range"},
        {"len in [1, -1e400]", MN_EINVAL, 11, "number '-1e400' at offset 11 is out of range"},
    };
    RUN_ERROR_TABLE(cases);
}

TEST(nul_bytes)
{
    mn__expr *e = NULL;
    static const char src[] = "len > 1 \0 && true";
    ASSERT_EQ(mn__expr_compile(src, sizeof src - 1, lookup, NULL, &e, &err), MN_EFORMAT);
    ASSERT_EQ(err.offset, 8);
    ASSERT_STREQ(err.msg, "unexpected NUL byte at offset 8");
    static const char src2[] = "lang.label == 'a\0b'";
    ASSERT_EQ(mn__expr_compile(src2, sizeof src2 - 1, lookup, NULL, &e, &err), MN_EFORMAT);
    ASSERT_EQ(err.offset, 16);
    ASSERT_STREQ(err.msg, "unexpected NUL byte at offset 16 in a string");
    ASSERT(e == NULL);
}

TEST(messages_stay_short_and_utf8)
{
    /* a long, hostile token is shown shortened, escaped and valid UTF-8 */
    char src[600];
    size_t n = 0;
    n += (size_t)snprintf(src, sizeof src, "true ");
    for (int i = 0; i < 100; i++) {
        memcpy(src + n, "\xE2\x82\xAC\x01", 4); /* € and a control byte */
        n += 4;
    }
    src[n] = '\0';
    mn__expr *e;
    int rc = compile(src, &e);
    ASSERT_EQ(rc, MN_EFORMAT);
    ASSERT_STREQ(err.msg, "unexpected character '\xE2\x82\xAC' at offset 5");
    snprintf(src, sizeof src, "true '%s", "");
    n = strlen(src);
    for (int i = 0; i < 100; i++) {
        memcpy(src + n, "\x01\xFF\xE2\x82", 4); /* control, invalid, truncated € */
        n += 4;
    }
    memcpy(src + n, "'", 2);
    rc = compile(src, &e);
    ASSERT_EQ(rc, MN_EFORMAT);
    ASSERT(strlen(err.msg) < 200);
    ASSERT(strncmp(err.msg, "expected an operator or the end of the expression, got string '\\x01",
                   66) == 0);
    ASSERT(strstr(err.msg, "...") != NULL);
    ASSERT_EQ(mn_utf8_validate(err.msg, strlen(err.msg), NULL), 0);
    /* a long field name in a type error */
    char big[300];
    memset(big, 'a', 200);
    snprintf(big + 200, 100, " < 1");
    rc = compile(big, &e);
    ASSERT_EQ(rc, MN_EINVAL);
    ASSERT(strlen(err.msg) < 100);
    ASSERT(strncmp(err.msg, "unknown field 'aaaa", 19) == 0);
    /* the lookup's message is passed through even when it fills the buffer */
}

/* ---- limits ------------------------------------------------------------------------------- */

static char *nested(int depth, const char *inner)
{
    size_t n = strlen(inner);
    char *s = malloc(2 * (size_t)depth + n + 1);
    memset(s, '(', (size_t)depth);
    memcpy(s + depth, inner, n);
    memset(s + depth + n, ')', (size_t)depth);
    s[2 * depth + n] = '\0';
    return s;
}

TEST(depth_limit)
{
    mn__expr *e;
    char *s = nested(MN__EXPR_MAX_DEPTH, "len > 1");
    ASSERT_EQ(compile(s, &e), 0);
    default_slots();
    ASSERT_EQ(mn__expr_eval(e, slots), 1);
    mn__expr_free(e);
    free(s);

    s = nested(MN__EXPR_MAX_DEPTH + 1, "len > 1");
    ASSERT_EQ(compile(s, &e), MN_EINVAL);
    ASSERT_EQ(err.offset, MN__EXPR_MAX_DEPTH);
    ASSERT_STREQ(err.msg, "expression nested too deeply: more than 64 levels of '(' at offset 64");
    ASSERT(e == NULL);
    free(s);

    /* as deep as the length limit allows: refused at level 65, no deep recursion */
    s = malloc(MN__EXPR_MAX_SOURCE + 1);
    memset(s, '(', MN__EXPR_MAX_SOURCE);
    s[MN__EXPR_MAX_SOURCE] = '\0';
    ASSERT_EQ(compile(s, &e), MN_EINVAL);
    ASSERT_EQ(err.offset, MN__EXPR_MAX_DEPTH);
    free(s);

    /* 10,000 '(' is over the length limit first; either way a clean error */
    s = malloc(10001);
    memset(s, '(', 10000);
    s[10000] = '\0';
    ASSERT_EQ(compile(s, &e), MN_EINVAL);
    ASSERT_STREQ(err.msg, "expression too long: 10000 bytes (the limit is 4096)");
    free(s);

    /* long runs of '!' and long chains are not nesting */
    s = malloc(MN__EXPR_MAX_SOURCE + 1);
    memset(s, '!', 4001);
    strcpy(s + 4001, "true");
    ASSERT_EQ(ev(s), 0);
    size_t n = 0;
    while (n + 15 <= MN__EXPR_MAX_SOURCE)
        n += (size_t)sprintf(s + n, "len > 1 && ");
    strcpy(s + n, "true");
    ASSERT_EQ(ev(s), 1);
    free(s);
}

/* The deepest evaluation stack the grammar allows: at every level the left sides of ||, &&
 * and == are pending while the right side of == opens the next level. */
TEST(deepest_stack)
{
    char *s = malloc(MN__EXPR_MAX_SOURCE + 1);
    size_t n = 0;
    for (int i = 0; i < MN__EXPR_MAX_DEPTH; i++)
        n += (size_t)sprintf(s + n, "false||true&&true==(");
    n += (size_t)sprintf(s + n, "false||true&&true==true");
    for (int i = 0; i < MN__EXPR_MAX_DEPTH; i++)
        s[n++] = ')';
    s[n] = '\0';
    ASSERT(n <= MN__EXPR_MAX_SOURCE);
    ASSERT_EQ(ev(s), 1);
    free(s);
}

TEST(length_limit)
{
    char *s = malloc(MN__EXPR_MAX_SOURCE + 2);
    memset(s, ' ', MN__EXPR_MAX_SOURCE + 1);
    memcpy(s, "true", 4);
    s[MN__EXPR_MAX_SOURCE] = '\0';
    ASSERT_EQ(ev(s), 1); /* exactly at the limit */
    s[MN__EXPR_MAX_SOURCE] = ' ';
    s[MN__EXPR_MAX_SOURCE + 1] = '\0';
    mn__expr *e;
    ASSERT_EQ(compile(s, &e), MN_EINVAL);
    ASSERT_EQ(err.offset, 0);
    ASSERT_STREQ(err.msg, "expression too long: 4097 bytes (the limit is 4096)");
    ASSERT(e == NULL);
    free(s);
}

TEST(arguments)
{
    mn__expr *e = (mn__expr *)&err; /* must stay untouched on failure */
    ASSERT_EQ(mn__expr_compile("true", 4, lookup, NULL, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn__expr_compile(NULL, 3, lookup, NULL, &e, &err), MN_EINVAL);
    ASSERT(e == (mn__expr *)&err);
    ASSERT_EQ(mn__expr_compile(NULL, 0, lookup, NULL, &e, &err), MN_EFORMAT);
    ASSERT_STREQ(err.msg, "empty expression");
    ASSERT_EQ(mn__expr_compile("len >", 5, lookup, NULL, &e, NULL), MN_EFORMAT); /* no err */
    ASSERT(e == (mn__expr *)&err);
    /* the source need not be NUL-terminated; only len bytes are read */
    static const char buf[] = {'l', 'e', 'n', '>', '4', '0', '0'};
    ASSERT_EQ(mn__expr_compile(buf, 6, lookup, NULL, &e, &err), 0);
    ASSERT_EQ(err.offset, 0);
    ASSERT_STREQ(err.msg, "");
    ASSERT_STREQ(mn__expr_source(e), "len>40");
    default_slots();
    ASSERT_EQ(mn__expr_eval(e, slots), 1);
    mn__expr_free(e);
    mn__expr_free(NULL);
    ASSERT_EQ(mn__expr_eval(NULL, slots), -1);
    ASSERT_EQ(mn__expr_nslots(NULL), 0);
    ASSERT_EQ(mn__expr_slot(NULL, 0), UINT32_MAX);
    ASSERT_STREQ(mn__expr_source(NULL), "");
}

/* ---- three-valued logic ------------------------------------------------------------------- */

/* -1 unknown (missing), 0 false, 1 true */
static mn__value tri(int v)
{
    return v < 0 ? missing : bln(v);
}

TEST(kleene_tables)
{
    static const int vals[3] = {1, 0, -1};
    /* Kleene: false dominates &&, true dominates ||, unknown otherwise */
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            int a = vals[i], b = vals[j];
            int want_and = (a == 0 || b == 0) ? 0 : (a == 1 && b == 1) ? 1 : -1;
            int want_or = (a == 1 || b == 1) ? 1 : (a == 0 && b == 0) ? 0 : -1;
            int want_eq = (a < 0 || b < 0) ? -1 : a == b;
            default_slots();
            slots[S_URL] = tri(a);
            slots[S_ISSPAM] = tri(b);
            int got[6] = {ev("has_url && spam.is_spam"), ev("has_url and spam.is_spam"),
                          ev("has_url || spam.is_spam"), ev("has_url or spam.is_spam"),
                          ev("has_url == spam.is_spam"), ev("!(has_url != spam.is_spam)")};
            int want[6] = {want_and, want_and, want_or, want_or, want_eq, want_eq};
            for (int k = 0; k < 6; k++)
                if (got[k] != want[k])
                    MN_FAIL_AT("a=%d b=%d case %d: got %d want %d", a, b, k, got[k], want[k]);
        }
        default_slots();
        slots[S_URL] = tri(vals[i]);
        ASSERT_EQ(ev("!has_url"), vals[i] < 0 ? -1 : !vals[i]);
        ASSERT_EQ(ev("not not has_url"), vals[i]);
        ASSERT_EQ(ev("has_url"), vals[i]);
    }
}

TEST(missing_values)
{
    default_slots();
    slots[S_SPAM] = missing;
    slots[S_LABEL] = missing;
    static const eval_case cases[] = {
        {"spam.score < 0.5", -1},
        {"spam.score >= 0.5", -1},
        {"spam.score == spam.score", -1},
        {"!(spam.score < 0.5)", -1},
        {"spam.score < 0.5 && false", 0}, /* unknown && false: false */
        {"false && spam.score < 0.5", 0},
        {"spam.score < 0.5 || true", 1},
        {"true || spam.score < 0.5", 1},
        {"spam.score < 0.5 && true", -1},
        {"spam.score < 0.5 || false", -1},
        {"lang.label in ['en']", -1},
        {"lang.label not in ['en']", -1},
        {"lang.label in []", -1},
        {"lang.label == 'en' || len > 1", 1},
        {"lang.label == 'en' && len > 100", 0},
        {"(spam.score < 0.5) == true", -1},
        {"lang.label in [\"en\",\"de\"] && spam.score < 0.5 && len > 20", -1},
    };
    RUN_EVAL_TABLE(cases);
    /* a value whose type differs from the declared one counts as missing */
    default_slots();
    slots[S_LEN] = str("42");
    ASSERT_EQ(ev("len > 1"), -1);
    slots[S_LABEL] = num(1);
    ASSERT_EQ(ev("lang.label == 'en'"), -1);
    slots[S_URL] = num(1);
    ASSERT_EQ(ev("has_url"), -1);
}

/* ---- explanations ------------------------------------------------------------------------- */

static const char *explain(const char *src, size_t cap)
{
    static char buf[1024];
    mn__expr *e;
    if (compile(src, &e) != 0) return "(does not compile)";
    memset(buf, 0x5A, sizeof buf);
    if (!cap) {
        size_t n = mn__expr_explain(e, slots, buf, 0);
        mn__expr_free(e);
        return n == 0 && (unsigned char)buf[0] == 0x5A ? "" : "(wrote with cap 0)";
    }
    size_t n = mn__expr_explain(e, slots, buf, cap);
    mn__expr_free(e);
    if (cap && (n >= cap || strlen(buf) != n)) return "(bad length)";
    if (cap < sizeof buf && (unsigned char)buf[cap] != 0x5A) return "(wrote past cap)";
    return buf;
}

TEST(explain_output)
{
    default_slots();
    slots[S_LABEL] = str("es");
    slots[S_SPAM] = missing;
    const char *typical = "lang.label in [\"en\",\"de\"] && spam.score < 0.5 && len > 20";
    ASSERT_STREQ(explain(typical, 1024), "lang.label = \"es\", spam.score is missing, len = 42");
    ASSERT_STREQ(explain("has_url && !spam.is_spam", 1024), "has_url = true, spam.is_spam = false");
    ASSERT_STREQ(explain("true", 1024), "");
    slots[S_SPAM] = num(1e-7);
    slots[S_LSCORE] = num(-0.5);
    ASSERT_STREQ(explain("spam.score < 1 || lang.score > 0", 1024),
                 "spam.score = 1e-07, lang.score = -0.5");
    slots[S_LABEL] = str("a\"b\\c\nd\te\x01\xFF\xC3\xA9");
    ASSERT_STREQ(explain("lang.label == 'x'", 1024),
                 "lang.label = \"a\\\"b\\\\c\\nd\\te\\x01\\xFF\xC3\xA9\"");
    /* each field once, by the name first used; aliases of one slot are one field */
    default_slots();
    ASSERT_STREQ(explain("text.len > 1 && len < 100 && text.len != 7", 1024), "text.len = 42");
    /* a wrong runtime type is named */
    slots[S_LEN] = str("42");
    ASSERT_STREQ(explain("len > 1", 1024), "len has the wrong type (string, not number)");
    /* long values are shortened */
    static char longv[500];
    memset(longv, 'x', sizeof longv - 1);
    slots[S_LABEL] = str(longv);
    const char *got = explain("lang.label == 'x'", 1024);
    ASSERT(strncmp(got, "lang.label = \"xxxx", 18) == 0);
    ASSERT(strlen(got) < 100);
    ASSERT(strcmp(got + strlen(got) - 4, "...\"") == 0);
}

TEST(explain_truncates_safely)
{
    default_slots();
    slots[S_LABEL] = str("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"); /* éééé */
    const char *src = "lang.label == 'x' && len > 1 && has_url";
    char full[256];
    ASSERT_STREQ(strcpy(full, explain(src, 1024)),
                 "lang.label = \"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\", len = 42, has_url = true");
    size_t flen = strlen(full);
    ASSERT_STREQ(explain(src, 0), ""); /* writes nothing */
    for (size_t cap = 1; cap <= flen + 2; cap++) {
        const char *got = explain(src, cap);
        size_t n = strlen(got);
        if (got[0] == '(') MN_FAIL_AT("cap %zu: %s", cap, got);
        ASSERT(n < cap);
        ASSERT_EQ(mn_utf8_validate(got, n, NULL), 0);
        if (cap > flen) {
            ASSERT_STREQ(got, full);
        } else if (cap >= 4) {
            ASSERT(n >= 3 && strcmp(got + n - 3, "...") == 0);
            ASSERT(strncmp(got, full, n - 3) == 0); /* a prefix of the full text */
        }
    }
}

/* ---- slots and source --------------------------------------------------------------------- */

TEST(slot_listing)
{
    mn__expr *e;
    lookups = 0;
    ASSERT_EQ(compile("len > 1 && lang.label == 'en' && text.len < 5 && (len < 100 || has_url) "
                      "&& lang.label in ['x']",
                      &e),
              0);
    ASSERT_EQ(lookups, 6); /* once per occurrence */
    ASSERT_EQ(mn__expr_nslots(e), 3);
    ASSERT_EQ(mn__expr_slot(e, 0), S_LEN);
    ASSERT_EQ(mn__expr_slot(e, 1), S_LABEL);
    ASSERT_EQ(mn__expr_slot(e, 2), S_URL);
    ASSERT_EQ(mn__expr_slot(e, 3), UINT32_MAX);
    mn__expr_free(e);
    ASSERT_EQ(compile("true || 1 < 2", &e), 0);
    ASSERT_EQ(mn__expr_nslots(e), 0);
    ASSERT_STREQ(mn__expr_source(e), "true || 1 < 2");
    /* no slot is read: slots may be NULL */
    ASSERT_EQ(mn__expr_eval(e, NULL), 1);
    char buf[8];
    ASSERT_EQ(mn__expr_explain(e, NULL, buf, sizeof buf), 0);
    ASSERT_STREQ(buf, "");
    mn__expr_free(e);
}

/* ---- locale ------------------------------------------------------------------------------- */

TEST(decimal_point_ignores_locale)
{
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8",  "fr_FR.UTF-8",
                                  "fr_FR.utf8",  "ru_RU.UTF-8", "nl_NL.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    default_slots();
    slots[S_SPAM] = num(0.25);
    ASSERT_EQ(ev("spam.score == 0.25 && spam.score < 2.6e-1"), 1);
    ASSERT_STREQ(explain("spam.score > 0", 1024), "spam.score = 0.25");
    setlocale(LC_NUMERIC, "C");
    if (!set) printf("     (no comma-decimal locale installed: checked in the C locale only)\n");
}

/* ---- differential test against a tree evaluator ------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

/* Random expression trees, printed with as few parentheses as precedence allows (sometimes
 * more), and evaluated directly with Kleene logic as the reference. */
enum { N_BOOLLIT, N_BOOLFIELD, N_NUMCMP, N_STRCMP, N_IN, N_NOT, N_AND, N_OR, N_BOOLEQ };
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_PRIMARY };

typedef struct node {
    int kind, op, neg;
    int a_field, b_field; /* slot or -1 for a literal */
    double a_num, b_num;
    const char *a_str, *b_str;
    struct node *l, *r;
} node;

static const char *const labels[] = {"en", "de", "es", ""};
static const double numbers[] = {-1, 0, 0.5, 20, 42, 1e3};
static const int num_fields[] = {S_LEN, S_SPAM, S_LSCORE};
static const char *const num_names[] = {"len", "spam.score", "lang.score"};

static node *gen(int depth)
{
    node *n = calloc(1, sizeof *n);
    int k = depth <= 0 ? (int)rnd(5) : (int)rnd(9);
    n->kind = k;
    n->op = (int)rnd(6);
    n->neg = (int)rnd(2);
    n->a_field = (int)rnd(4) - 1; /* -1: literal */
    n->b_field = (int)rnd(4) - 1;
    n->a_num = numbers[rnd(6)];
    n->b_num = numbers[rnd(6)];
    n->a_str = labels[rnd(4)];
    n->b_str = labels[rnd(4)];
    if (k >= N_NOT) {
        n->l = gen(depth - 1);
        if (k != N_NOT) n->r = gen(depth - 1);
    }
    return n;
}

static void drop(node *n)
{
    if (n) {
        drop(n->l);
        drop(n->r);
        free(n);
    }
}

static int prec(const node *n)
{
    switch (n->kind) {
    case N_OR:
        return P_OR;
    case N_AND:
        return P_AND;
    case N_NOT:
        return P_NOT;
    case N_NUMCMP:
    case N_STRCMP:
    case N_IN:
    case N_BOOLEQ:
        return P_CMP;
    default:
        return P_PRIMARY;
    }
}

static void print(char *buf, size_t *len, const node *n, int need);

static void out(char *buf, size_t *len, const char *s)
{
    *len += (size_t)sprintf(buf + *len, "%s", s);
}

static void print_num(char *buf, size_t *len, int field, double x)
{
    if (field >= 0)
        out(buf, len, num_names[field]);
    else
        *len += (size_t)sprintf(buf + *len, "%g", x);
}

static void print_str(char *buf, size_t *len, int field, const char *s)
{
    if (field >= 0)
        out(buf, len, field ? "script" : "lang.label");
    else
        *len += (size_t)sprintf(buf + *len, rnd(2) ? "\"%s\"" : "'%s'", s);
}

static void print(char *buf, size_t *len, const node *n, int need)
{
    static const char *const cmp_ops[] = {"==", "!=", "<", "<=", ">", ">="};
    int paren = prec(n) < need || rnd(8) == 0;
    if (paren) out(buf, len, "(");
    switch (n->kind) {
    case N_BOOLLIT:
        out(buf, len, n->neg ? "true" : "false");
        break;
    case N_BOOLFIELD:
        out(buf, len, n->neg ? "has_url" : "spam.is_spam");
        break;
    case N_NUMCMP:
        print_num(buf, len, n->a_field >= 0 ? n->a_field % 3 : -1, n->a_num);
        *len += (size_t)sprintf(buf + *len, " %s ", cmp_ops[n->op]);
        print_num(buf, len, n->b_field >= 0 ? n->b_field % 3 : -1, n->b_num);
        break;
    case N_STRCMP:
        print_str(buf, len, n->a_field >= 0 ? n->a_field % 2 : -1, n->a_str);
        out(buf, len, n->op & 1 ? " != " : " == ");
        print_str(buf, len, n->b_field >= 0 ? n->b_field % 2 : -1, n->b_str);
        break;
    case N_IN:
        print_str(buf, len, n->a_field >= 0 ? n->a_field % 2 : -1, n->a_str);
        out(buf, len, n->neg ? " not in [" : " in [");
        for (int i = 0; i < n->op % 4; i++) {
            if (i) out(buf, len, ", ");
            print_str(buf, len, -1, labels[(i + n->op) % 4]);
        }
        out(buf, len, "]");
        break;
    case N_NOT:
        out(buf, len, n->neg ? "!" : "not ");
        print(buf, len, n->l, P_NOT);
        break;
    case N_AND:
    case N_OR:
        print(buf, len, n->l, prec(n));
        out(buf, len, n->kind == N_AND ? (n->neg ? " && " : " and ") : (n->neg ? " || " : " or "));
        print(buf, len, n->r, prec(n) + 1);
        break;
    case N_BOOLEQ:
        print(buf, len, n->l, P_PRIMARY);
        out(buf, len, n->op & 1 ? " != " : " == ");
        print(buf, len, n->r, P_PRIMARY);
        break;
    }
    if (paren) out(buf, len, ")");
}

/* The reference: -1 unknown, 0, 1. */
static int ref_num(int field, double lit, double *x)
{
    if (field < 0) {
        *x = lit;
        return 1;
    }
    const mn__value *v = &slots[num_fields[field % 3]];
    *x = v->num;
    return v->type == MN__T_NUM;
}

static int ref_str(int field, const char *lit, const char **s, size_t *n)
{
    if (field < 0) {
        *s = lit;
        *n = strlen(lit);
        return 1;
    }
    const mn__value *v = &slots[field % 2 ? S_SCRIPT : S_LABEL];
    *s = v->str;
    *n = v->len;
    return v->type == MN__T_STR;
}

static int ref(const node *n)
{
    switch (n->kind) {
    case N_BOOLLIT:
        return n->neg;
    case N_BOOLFIELD: {
        const mn__value *v = &slots[n->neg ? S_URL : S_ISSPAM];
        return v->type == MN__T_BOOL ? v->num != 0 : -1;
    }
    case N_NUMCMP: {
        double a, b;
        int ka = ref_num(n->a_field, n->a_num, &a), kb = ref_num(n->b_field, n->b_num, &b);
        if (!ka || !kb) return -1;
        switch (n->op) {
        case 0:
            return a == b;
        case 1:
            return a != b;
        case 2:
            return a < b;
        case 3:
            return a <= b;
        case 4:
            return a > b;
        default:
            return a >= b;
        }
    }
    case N_STRCMP: {
        const char *a, *b;
        size_t an, bn;
        int ka = ref_str(n->a_field, n->a_str, &a, &an),
            kb = ref_str(n->b_field, n->b_str, &b, &bn);
        if (!ka || !kb) return -1;
        int eq = an == bn && memcmp(a, b, an) == 0;
        return n->op & 1 ? !eq : eq;
    }
    case N_IN: {
        const char *a;
        size_t an;
        if (!ref_str(n->a_field, n->a_str, &a, &an)) return -1;
        int hit = 0;
        for (int i = 0; i < n->op % 4; i++) {
            const char *b = labels[(i + n->op) % 4];
            hit |= an == strlen(b) && memcmp(a, b, an) == 0;
        }
        return n->neg ? !hit : hit;
    }
    case N_NOT: {
        int x = ref(n->l);
        return x < 0 ? -1 : !x;
    }
    case N_AND: {
        int a = ref(n->l), b = ref(n->r);
        return (a == 0 || b == 0) ? 0 : (a == 1 && b == 1) ? 1 : -1;
    }
    case N_OR: {
        int a = ref(n->l), b = ref(n->r);
        return (a == 1 || b == 1) ? 1 : (a == 0 && b == 0) ? 0 : -1;
    }
    default: { /* N_BOOLEQ */
        int a = ref(n->l), b = ref(n->r);
        if (a < 0 || b < 0) return -1;
        return n->op & 1 ? a != b : a == b;
    }
    }
}

static void random_slots(void)
{
    static const char *const strs[] = {"en", "de", "es", "", "Latn"};
    for (int i = 0; i < NSLOTS; i++) {
        if (rnd(5) == 0) {
            slots[i] = missing;
            continue;
        }
        switch (i) {
        case S_LABEL:
        case S_SCRIPT:
            slots[i] = str(strs[rnd(5)]);
            break;
        case S_URL:
        case S_ISSPAM:
            slots[i] = bln((int)rnd(2));
            break;
        default:
            slots[i] = num(numbers[rnd(6)]);
        }
    }
}

TEST(differential_random_trees)
{
    static char src[MN__EXPR_MAX_SOURCE * 4];
    int compiled = 0;
    for (int iter = 0; iter < 20000; iter++) {
        node *n = gen((int)rnd(6));
        size_t len = 0;
        print(src, &len, n, 0);
        mn__expr *e;
        int rc = compile(src, &e);
        if (len > MN__EXPR_MAX_SOURCE) {
            ASSERT_EQ(rc, MN_EINVAL);
            drop(n);
            continue;
        }
        if (rc != 0) {
            drop(n);
            MN_FAIL_AT("%s: %s", src, err.msg);
        }
        compiled++;
        for (int k = 0; k < 8; k++) {
            random_slots();
            int got = mn__expr_eval(e, slots), want = ref(n);
            if (got != want) {
                mn__expr_free(e);
                drop(n);
                MN_FAIL_AT("%s: got %d, want %d", src, got, want);
            }
        }
        mn__expr_free(e);
        drop(n);
    }
    ASSERT(compiled > 19000);
}

/* ---- allocation ----------------------------------------------------------------------------- */

TEST(alloc_faults)
{
    /* long enough that every array grows past its first size */
    static char src[2048];
    size_t n = 0;
    n += (size_t)sprintf(src + n, "lang.label in [\"en\", \"de\", 'fr', 'it', 'pt\\'x']");
    for (int i = 0; i < 20; i++)
        n += (size_t)sprintf(src + n, " && (spam.score < %d.5 || len in [%d, %d, 3e%d])", i, i,
                             i + 1, i % 5);
    n += (size_t)sprintf(src + n, " && !has_url || script == 'Latn' && text.len >= 1");
    default_slots();
    int rc = -1;
    long made = 0, i;
    for (i = 1; i < 10000; i++) {
        mn__expr *e = NULL;
        mn_alloc_fail_after(i);
        rc = mn__expr_compile(src, n, lookup, NULL, &e, &err);
        made = mn_alloc_fail_after(0);
        if (rc == 0) {
            ASSERT_EQ(mn__expr_eval(e, slots), 1);
            mn__expr_free(e);
            break;
        }
        ASSERT_EQ(rc, MN_ENOMEM);
        ASSERT(e == NULL);
        ASSERT_STREQ(err.msg, "out of memory");
    }
    ASSERT_EQ(rc, 0);
    ASSERT(i > 8);          /* every array's first allocation and some growth were failed */
    ASSERT_EQ(made, i - 1); /* the successful run made i - 1 allocations */
}

TEST(eval_and_explain_do_not_allocate)
{
    mn__expr *e;
    ASSERT_EQ(compile("lang.label in [\"en\",\"de\"] && spam.score < 0.5 && len > 20", &e), 0);
    default_slots();
    char buf[128];
    mn_alloc_fail_after(1);
    int r = mn__expr_eval(e, slots);
    size_t n = mn__expr_explain(e, slots, buf, sizeof buf);
    long made = mn_alloc_fail_after(0);
    ASSERT_EQ(made, 0);
    ASSERT_EQ(r, 1);
    ASSERT_EQ(n, strlen("lang.label = \"en\", spam.score = 0.1, len = 42"));
    mn__expr_free(e);
}

TEST_MAIN(
    TEST_ENTRY(literals) TEST_ENTRY(number_operators) TEST_ENTRY(string_operators_are_byte_exact)
        TEST_ENTRY(bool_fields) TEST_ENTRY(precedence) TEST_ENTRY(in_lists)
            TEST_ENTRY(string_escapes) TEST_ENTRY(numbers) TEST_ENTRY(nan_compares_as_ieee)
                TEST_ENTRY(type_errors) TEST_ENTRY(field_errors) TEST_ENTRY(syntax_errors)
                    TEST_ENTRY(nul_bytes) TEST_ENTRY(messages_stay_short_and_utf8)
                        TEST_ENTRY(depth_limit) TEST_ENTRY(deepest_stack) TEST_ENTRY(length_limit)
                            TEST_ENTRY(arguments) TEST_ENTRY(kleene_tables)
                                TEST_ENTRY(missing_values) TEST_ENTRY(explain_output)
                                    TEST_ENTRY(explain_truncates_safely) TEST_ENTRY(slot_listing)
                                        TEST_ENTRY(decimal_point_ignores_locale)
                                            TEST_ENTRY(differential_random_trees)
                                                TEST_ENTRY(alloc_faults)
                                                    TEST_ENTRY(eval_and_explain_do_not_allocate))
