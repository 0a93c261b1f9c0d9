/* SPDX-License-Identifier: MIT
 *
 * The pipeline file: YAML (libyaml's document API, which keeps every node's line and column)
 * turned into validated mn_pipeline structures. Everything a run needs is decided here: models
 * bound, expressions compiled and type-checked, field slots numbered, dependencies and stages
 * computed, cycles refused. Every refusal names "file:line:column".
 */
#include "pipeline/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"

enum { MAX_FILE_BYTES = 1 << 20, MAX_PIPELINES = 64, MAX_STEPS = 64, MAX_OUTPUTS = 64 };

typedef struct loader {
    const char *name; /* file name for messages */
    yaml_document_t *doc;
    mn_model_host host;
    mn_err *err;
    /* while one pipeline is built */
    mn_pipeline *p;
    int32_t *slot_step; /* slot -> step index, or -1 for the text's properties */
    size_t slot_cap;
} loader;

static int fail_at(loader *L, const yaml_node_t *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(loader *L, const yaml_node_t *n, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        return mn_err_set(L->err, code, "%s:%zu:%zu: %s", L->name, n->start_mark.line + 1,
                          n->start_mark.column + 1, msg);
    return mn_err_set(L->err, code, "%s: %s", L->name, msg);
}

static yaml_node_t *node(loader *L, int idx)
{
    return yaml_document_get_node(L->doc, idx);
}

static int is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int scalar_is(const yaml_node_t *n, const char *s)
{
    return is_scalar(n) && strcmp(scalar(n), s) == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static int want(loader *L, const yaml_node_t *n, yaml_node_type_t type, const char *what)
{
    if (n->type == type)
        return 0;
    return fail_at(L, n, MN_EFORMAT, "%s must be %s, not %s", what,
                   type == YAML_MAPPING_NODE    ? "a mapping"
                   : type == YAML_SEQUENCE_NODE ? "a list"
                                                : "a scalar",
                   node_kind(n));
}

static int valid_ident(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int reserved(const char *s)
{
    static const char *const words[] = {"and", "or", "not", "in", "true", "false"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    for (int i = 0; i < MN__PROP__COUNT; i++)
        if (strcmp(s, mn__prop_name(i)) == 0)
            return 1;
    return 0;
}

static int parse_long(loader *L, const yaml_node_t *n, const char *key, long lo, long hi,
                      long *out)
{
    if (!is_scalar(n))
        return fail_at(L, n, MN_EFORMAT, "%s must be a number", key);
    char *end;
    errno = 0;
    long v = strtol(scalar(n), &end, 10);
    if (end == scalar(n) || *end || errno || v < lo || v > hi)
        return fail_at(L, n, MN_EINVAL, "%s must be a whole number from %ld to %ld, not '%s'",
                       key, lo, hi, scalar(n));
    *out = v;
    return 0;
}

/* A probability: a number from 0 to 1, or above 0 when above_zero; anything else fails with
 * msg. */
static int parse_prob(loader *L, const yaml_node_t *n, int above_zero, const char *msg,
                      float *out)
{
    char *end;
    double x = is_scalar(n) ? strtod(scalar(n), &end) : -1;
    if (!is_scalar(n) || end == scalar(n) || *end || !(x >= 0 && x <= 1) ||
        (above_zero && x == 0))
        return fail_at(L, n, MN_EINVAL, "%s", msg);
    *out = (float)x;
    return 0;
}

/* ---- fields and slots --------------------------------------------------------------------- */

static int new_slot(loader *L, int32_t step, uint32_t *slot)
{
    mn_pipeline *p = L->p;
    if (p->nslots == L->slot_cap) {
        size_t cap = L->slot_cap ? L->slot_cap * 2 : 32;
        int32_t *s = mn_realloc(L->slot_step, cap * sizeof *s);
        if (!s)
            return MN_ENOMEM;
        L->slot_step = s;
        L->slot_cap = cap;
    }
    L->slot_step[p->nslots] = step;
    *slot = p->nslots++;
    return 0;
}

static int step_slot(loader *L, int32_t step, uint32_t *field, uint32_t *slot)
{
    if (*field == UINT32_MAX) {
        int rc = new_slot(L, step, field);
        if (rc)
            return rc;
    }
    *slot = *field;
    return 0;
}

static const char *kind_fields(mn__step_kind k)
{
    switch (k) {
    case MN__STEP_CLASSIFY: return "label, score, prob.<label>, ok";
    default: return "count, ok";
    }
}

static int label_known(const mn_model_host *h, void *handle, const char *label, size_t len)
{
    const char *version;
    mn_model *m;
    void *token;
    if (h->acquire(h->ctx, handle, &m, &version, &token) != 0)
        return 1; /* cannot look now: a missing label then reads as probability 0 */
    int known = mn_model_label_find(m, label, len) >= 0;
    /* A host that bounds concurrency gave a worker slot with the model: hand it back too. */
    if (h->done)
        h->done(h->ctx, token);
    h->release(h->ctx, token);
    return known;
}

/* The expression compiler's lookup: "len", "lang.label", "spam.prob.spam" -> slot and type. */
static int lookup(void *ctx, const char *name, size_t len, uint32_t *slot, mn__etype *type,
                  char *msg, size_t msg_cap)
{
    loader *L = ctx;
    mn_pipeline *p = L->p;
    const char *dot = memchr(name, '.', len);
    if (!dot) {
        for (int i = 0; i < MN__PROP__COUNT; i++)
            if (strlen(mn__prop_name(i)) == len && memcmp(mn__prop_name(i), name, len) == 0) {
                *slot = (uint32_t)i;
                *type = mn__prop_type(i);
                p->props_used |= 1u << i;
                return 0;
            }
        for (size_t i = 0; i < p->nsteps; i++)
            if (strlen(p->steps[i].name) == len && memcmp(p->steps[i].name, name, len) == 0) {
                snprintf(msg, msg_cap, "'%.*s' is a step: name one of its fields (%.*s.%s)",
                         (int)len, name, (int)len, name, kind_fields(p->steps[i].kind));
                return MN_EINVAL;
            }
        snprintf(msg, msg_cap,
                 "unknown field '%.*s' (the text has len, bytes, words, lines, script, has_url, "
                 "has_email, has_digits; a step's fields are STEP.FIELD)",
                 (int)len, name);
        return MN_EINVAL;
    }
    size_t slen = (size_t)(dot - name);
    const char *field = dot + 1;
    size_t flen = len - slen - 1;
    for (size_t i = 0; i < p->nsteps; i++) {
        mn__step *st = &p->steps[i];
        if (strlen(st->name) != slen || memcmp(st->name, name, slen) != 0)
            continue;
#define IS(s) (flen == sizeof(s) - 1 && memcmp(field, s, flen) == 0)
        if (IS("ok")) {
            *type = MN__T_BOOL;
            return step_slot(L, (int32_t)i, &st->slot_ok, slot);
        }
        if (st->kind == MN__STEP_CLASSIFY && IS("label")) {
            *type = MN__T_STR;
            return step_slot(L, (int32_t)i, &st->slot_label, slot);
        }
        if (st->kind == MN__STEP_CLASSIFY && IS("score")) {
            *type = MN__T_NUM;
            return step_slot(L, (int32_t)i, &st->slot_score, slot);
        }
        if (st->kind != MN__STEP_CLASSIFY && IS("count")) {
            *type = MN__T_NUM;
            return step_slot(L, (int32_t)i, &st->slot_count, slot);
        }
#undef IS
        if (st->kind == MN__STEP_CLASSIFY && flen > 5 && memcmp(field, "prob.", 5) == 0) {
            const char *label = field + 5;
            size_t llen = flen - 5;
            if (!label_known(&L->host, st->handle, label, llen)) {
                snprintf(msg, msg_cap, "model '%s' has no label '%.*s'", st->model, (int)llen,
                         label);
                return MN_EINVAL;
            }
            *type = MN__T_NUM;
            for (size_t j = 0; j < st->nprobs; j++)
                if (strlen(st->probs[j].label) == llen &&
                    memcmp(st->probs[j].label, label, llen) == 0) {
                    *slot = st->probs[j].slot;
                    return 0;
                }
            mn__prob_field *pf = mn_realloc(st->probs, (st->nprobs + 1) * sizeof *pf);
            if (!pf)
                return MN_ENOMEM;
            st->probs = pf;
            pf[st->nprobs].label = mn_strndup(label, llen);
            if (!pf[st->nprobs].label)
                return MN_ENOMEM;
            int rc = new_slot(L, (int32_t)i, &pf[st->nprobs].slot);
            if (rc) {
                mn_free(pf[st->nprobs].label);
                return rc;
            }
            *slot = pf[st->nprobs++].slot;
            return 0;
        }
        snprintf(msg, msg_cap, "unknown field '%.*s': step '%s' has %s", (int)len, name,
                 st->name, kind_fields(st->kind));
        return MN_EINVAL;
    }
    snprintf(msg, msg_cap, "unknown step '%.*s' in '%.*s'", (int)slen, name, (int)len, name);
    return MN_EINVAL;
}

/* Compiles an expression held in YAML scalar n; errors point at the offending column when the
 * scalar is on one line. */
static int compile_expr(loader *L, const yaml_node_t *n, const char *what, mn__expr **out)
{
    if (!is_scalar(n))
        return fail_at(L, n, MN_EFORMAT, "%s must be a string", what);
    const char *tag = (const char *)n->tag;
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) != 0)
        return fail_at(L, n, MN_EFORMAT,
                       "%s: YAML reads '%s' as a tag: put the expression in quotes", what, tag);
    mn__expr_error e;
    int rc = mn__expr_compile(scalar(n), n->data.scalar.length, lookup, L, out, &e);
    if (rc == 0)
        return 0;
    if (rc == MN_ENOMEM)
        return mn_err_set(L->err, rc, "%s: out of memory", L->name);
    size_t col = n->start_mark.column + 1;
    int one_line = memchr(scalar(n), '\n', n->data.scalar.length) == NULL;
    if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        col++; /* the opening quote (escapes inside may shift it further) */
    if (one_line && n->data.scalar.style != YAML_LITERAL_SCALAR_STYLE &&
        n->data.scalar.style != YAML_FOLDED_SCALAR_STYLE)
        col += e.offset;
    return mn_err_set(L->err, rc, "%s:%zu:%zu: %s: %s", L->name, n->start_mark.line + 1, col,
                      what, e.msg);
}

/* ---- steps -------------------------------------------------------------------------------- */

static void step_free(mn__step *st)
{
    mn_free(st->name);
    mn_free(st->model);
    mn__expr_free(st->when);
    mn_free(st->deps);
    mn_free(st->after);
    for (size_t j = 0; j < st->nprobs; j++)
        mn_free(st->probs[j].label);
    mn_free(st->probs);
}

static void pipeline_free(mn_pipeline *p)
{
    for (size_t i = 0; i < p->nsteps; i++)
        step_free(&p->steps[i]);
    mn_free(p->steps);
    mn_free(p->order);
    mn_free(p->stage_start);
    for (size_t i = 0; i < p->noutputs; i++)
        mn_free(p->outputs[i].key);
    mn_free(p->outputs);
    mn_free(p->name);
}

static int find_step(const mn_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->nsteps; i++)
        if (strcmp(p->steps[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* First pass over one step: everything but the expressions (which may name later steps). */
static int step_header(loader *L, const yaml_node_t *n, mn__step *st)
{
    int rc = want(L, n, YAML_MAPPING_NODE, "a step");
    if (rc)
        return rc;
    const yaml_node_t *model = NULL, *name = NULL, *first = NULL, *sure = NULL;
    st->k = -1;
    st->slot_ok = st->slot_label = st->slot_score = st->slot_count = UINT32_MAX;
    static const char *const keys[] = {"model",     "name",        "when",   "k",
                                       "threshold", "timeout_ms",  "after",  "lang",
                                       "max_bytes", "first_bytes", "sure_at"};
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && !scalar_is(k, keys[i]))
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return fail_at(L, k, MN_EINVAL,
                           "unknown step key '%s' (a step has model, name, when, k, threshold, "
                           "timeout_ms, after, lang, max_bytes, first_bytes, sure_at)",
                           is_scalar(k) ? scalar(k) : "?");
        if (seen & (1u << i))
            return fail_at(L, k, MN_EINVAL, "step key '%s' given twice", keys[i]);
        seen |= 1u << i;
        if (scalar_is(k, "model")) {
            if (!is_scalar(v) || !*scalar(v))
                return fail_at(L, v, MN_EFORMAT, "model must be a model name");
            model = v;
        } else if (scalar_is(k, "name")) {
            if (!is_scalar(v) || !valid_ident(scalar(v)) || reserved(scalar(v)))
                return fail_at(L, v, MN_EINVAL,
                               "a step name must be letters, digits, '_' or '-' (starting with a "
                               "letter) and not a reserved word or text property");
            name = v;
        } else if (scalar_is(k, "k")) {
            long x;
            if ((rc = parse_long(L, v, "k", 1, 1000, &x)))
                return rc;
            st->k = (int)x;
        } else if (scalar_is(k, "threshold")) {
            if ((rc = parse_prob(L, v, 0, "threshold must be a number from 0 to 1",
                                 &st->threshold)))
                return rc;
        } else if (scalar_is(k, "timeout_ms")) {
            long x;
            if ((rc = parse_long(L, v, "timeout_ms", 0, 600000, &x)))
                return rc;
            st->timeout_ms = (unsigned)x;
        } else if (scalar_is(k, "max_bytes")) {
            long x;
            if ((rc = parse_long(L, v, "max_bytes", 1, 1L << 30, &x)))
                return rc;
            st->max_bytes = (size_t)x;
        } else if (scalar_is(k, "first_bytes")) {
            long x;
            if ((rc = parse_long(L, v, "first_bytes", 1, 1L << 30, &x)))
                return rc;
            st->first_bytes = (size_t)x;
            first = k;
        } else if (scalar_is(k, "sure_at")) {
            if ((rc = parse_prob(L, v, 1, "sure_at must be a probability above 0, up to 1",
                                 &st->sure_at)))
                return rc;
            sure = k;
        } else if (scalar_is(k, "after")) {
            if (v->type != YAML_SEQUENCE_NODE && !is_scalar(v))
                return fail_at(L, v, MN_EFORMAT, "after must be a step name or a list of them");
        } else if (scalar_is(k, "when") || scalar_is(k, "lang")) {
            if (!is_scalar(v))
                return fail_at(L, v, MN_EFORMAT, "%s must be a string", scalar(k));
        }
    }
    if (!model)
        return fail_at(L, n, MN_EINVAL, "a step needs a model");
    const char *nm = name ? scalar(name) : scalar(model);
    if (!name && (!valid_ident(nm) || reserved(nm)))
        return fail_at(L, model, MN_EINVAL,
                       "model '%s' cannot name a step: give the step a name", nm);
    if (find_step(L->p, nm) >= 0)
        return fail_at(L, name ? name : model, MN_EINVAL,
                       "two steps named '%s' (give one a different name)", nm);
    mn_model_type kind = 0;
    st->handle = L->host.find(L->host.ctx, scalar(model), &kind);
    if (!st->handle) {
        const char *why = L->host.find_error ? L->host.find_error(L->host.ctx) : NULL;
        if (why && *why)
            return fail_at(L, model, MN_EINVAL, "model '%s' cannot be used: %s", scalar(model),
                           why);
        return fail_at(L, model, MN_EINVAL, "unknown model '%s'", scalar(model));
    }
    switch (kind) {
    case MN_MODEL_TAGGER: st->kind = MN__STEP_TAG; break;
    case MN_MODEL_KEYWORDS: st->kind = MN__STEP_KEYWORDS; break;
    default: st->kind = MN__STEP_CLASSIFY; break;
    }
    if (st->k < 0)
        st->k = st->kind == MN__STEP_KEYWORDS ? 5 : 1;
    if (sure && !first)
        return fail_at(L, sure, MN_EINVAL, "sure_at needs first_bytes (the first look it judges)");
    if (first && st->kind != MN__STEP_CLASSIFY)
        return fail_at(L, first, MN_EINVAL,
                       "first_bytes needs a model that answers with probabilities (a "
                       "classifier or language model), not a %s",
                       st->kind == MN__STEP_TAG ? "tagger" : "keywords model");
    if (first && st->max_bytes && st->first_bytes >= st->max_bytes)
        return fail_at(L, first, MN_EINVAL, "first_bytes (%zu) must be less than max_bytes (%zu)",
                       st->first_bytes, st->max_bytes);
    if (first && !sure)
        st->sure_at = 0.99f;
    st->name = mn_strndup(nm, strlen(nm));
    st->model = mn_strndup(scalar(model), strlen(scalar(model)));
    if (!st->name || !st->model)
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    return 0;
}

static int add_dep(uint32_t **deps, size_t *n, uint32_t d)
{
    for (size_t i = 0; i < *n; i++)
        if ((*deps)[i] == d)
            return 0;
    uint32_t *x = mn_realloc(*deps, (*n + 1) * sizeof *x);
    if (!x)
        return MN_ENOMEM;
    x[(*n)++] = d;
    *deps = x;
    return 0;
}

static int deps_from_expr(loader *L, mn__step *st, const mn__expr *e)
{
    for (size_t i = 0; i < mn__expr_nslots(e); i++) {
        int32_t s = L->slot_step[mn__expr_slot(e, i)];
        if (s >= 0 && add_dep(&st->deps, &st->ndeps, (uint32_t)s))
            return MN_ENOMEM;
    }
    return 0;
}

/* Second pass: expressions, `after`, `lang`. */
static int step_body(loader *L, const yaml_node_t *n, size_t idx)
{
    mn__step *st = &L->p->steps[idx];
    int rc;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        if (scalar_is(k, "when")) {
            if ((rc = compile_expr(L, v, "when", &st->when)))
                return rc;
            if ((rc = deps_from_expr(L, st, st->when)))
                return mn_err_set(L->err, rc, "%s: out of memory", L->name);
        } else if (scalar_is(k, "lang")) {
            if (st->kind != MN__STEP_KEYWORDS)
                return fail_at(L, k, MN_EINVAL, "only a keywords step takes lang");
            uint32_t slot;
            mn__etype type;
            char msg[256] = "out of memory";
            if ((rc = lookup(L, scalar(v), strlen(scalar(v)), &slot, &type, msg, sizeof msg)))
                return fail_at(L, v, rc, "lang: %s", msg);
            if (type != MN__T_STR)
                return fail_at(L, v, MN_EINVAL, "lang must be a string field (e.g. lang.label)");
            st->has_lang = 1;
            st->lang_slot = slot;
            int32_t s = L->slot_step[slot];
            if (s >= 0 && add_dep(&st->deps, &st->ndeps, (uint32_t)s))
                return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
        } else if (scalar_is(k, "after")) {
            size_t cnt = is_scalar(v) ? 1 : (size_t)(v->data.sequence.items.top -
                                                     v->data.sequence.items.start);
            for (size_t i = 0; i < cnt; i++) {
                yaml_node_t *item = is_scalar(v) ? v : node(L, v->data.sequence.items.start[i]);
                if (!is_scalar(item))
                    return fail_at(L, item, MN_EFORMAT, "after lists step names");
                int d = find_step(L->p, scalar(item));
                if (d < 0)
                    return fail_at(L, item, MN_EINVAL, "after: unknown step '%s'", scalar(item));
                if ((size_t)d == idx)
                    return fail_at(L, item, MN_EINVAL, "a step cannot wait for itself");
                if (add_dep(&st->deps, &st->ndeps, (uint32_t)d) ||
                    add_dep(&st->after, &st->nafter, (uint32_t)d))
                    return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
            }
        }
    }
    return 0;
}

/* Stages by longest dependency path; a cycle is refused with its steps named. */
static int compute_stages(loader *L, const yaml_node_t *const *step_nodes)
{
    mn_pipeline *p = L->p;
    size_t n = p->nsteps;
    for (size_t i = 0; i < n; i++)
        p->steps[i].stage = -1;
    /* Relaxation n times: without a cycle every stage settles within n rounds. */
    for (size_t i = 0; i < n; i++)
        p->steps[i].stage = 0;
    for (size_t round = 0; round <= n; round++) {
        int changed = 0;
        for (size_t i = 0; i < n; i++) {
            mn__step *st = &p->steps[i];
            for (size_t j = 0; j < st->ndeps; j++)
                if (p->steps[st->deps[j]].stage + 1 > st->stage) {
                    st->stage = p->steps[st->deps[j]].stage + 1;
                    changed = 1;
                }
        }
        if (!changed)
            goto settled;
        if (round == n)
            break;
    }
    {
        /* A cycle: walk dependencies from a step whose stage ran away until one repeats. */
        size_t at = 0;
        for (size_t i = 0; i < n; i++)
            if (p->steps[i].stage > p->steps[at].stage)
                at = i;
        uint8_t seen[MAX_STEPS] = {0};
        while (!seen[at]) {
            seen[at] = 1;
            mn__step *st = &p->steps[at];
            size_t next = st->deps[0];
            for (size_t j = 0; j < st->ndeps; j++)
                if (p->steps[st->deps[j]].stage >= p->steps[next].stage)
                    next = st->deps[j];
            at = next;
        }
        char path[300] = "";
        size_t start = at, len = 0;
        do {
            len += (size_t)snprintf(path + len, sizeof path - len > 0 ? sizeof path - len : 0,
                                    "%s -> ", p->steps[at].name);
            if (len >= sizeof path)
                break;
            mn__step *st = &p->steps[at];
            size_t next = st->deps[0];
            for (size_t j = 0; j < st->ndeps; j++)
                if (p->steps[st->deps[j]].stage >= p->steps[next].stage)
                    next = st->deps[j];
            at = next;
        } while (at != start);
        return fail_at(L, step_nodes[start], MN_EINVAL,
                       "steps wait for each other in a cycle: %s%s (a step waits for what its "
                       "`when`, `lang` and `after` read)",
                       path, p->steps[start].name);
    }
settled:;
    int maxstage = 0;
    for (size_t i = 0; i < n; i++)
        if (p->steps[i].stage > maxstage)
            maxstage = p->steps[i].stage;
    p->nstages = (size_t)maxstage + 1;
    p->order = mn_malloc(n * sizeof *p->order);
    p->stage_start = mn_calloc(p->nstages + 1, sizeof *p->stage_start);
    if (!p->order || !p->stage_start)
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    size_t k = 0;
    for (size_t s = 0; s < p->nstages; s++) {
        p->stage_start[s] = (uint32_t)k;
        for (size_t i = 0; i < n; i++)
            if (p->steps[i].stage == (int)s)
                p->order[k++] = (uint32_t)i;
    }
    p->stage_start[p->nstages] = (uint32_t)k;
    return 0;
}

static int outputs_load(loader *L, const yaml_node_t *n)
{
    mn_pipeline *p = L->p;
    size_t cnt = n->type == YAML_MAPPING_NODE
                     ? (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start)
                 : n->type == YAML_SEQUENCE_NODE
                     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
                     : 0;
    if (n->type != YAML_MAPPING_NODE && n->type != YAML_SEQUENCE_NODE)
        return fail_at(L, n, MN_EFORMAT,
                       "output must be a mapping (key: step or field) or a list of steps");
    if (cnt > MAX_OUTPUTS)
        return fail_at(L, n, MN_ETOOBIG, "output has more than %d entries", MAX_OUTPUTS);
    p->outputs = mn_calloc(cnt ? cnt : 1, sizeof *p->outputs);
    if (!p->outputs)
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *k, *v;
        if (n->type == YAML_MAPPING_NODE) {
            k = node(L, n->data.mapping.pairs.start[i].key);
            v = node(L, n->data.mapping.pairs.start[i].value);
        } else {
            k = v = node(L, n->data.sequence.items.start[i]);
        }
        if (!is_scalar(k) || !is_scalar(v))
            return fail_at(L, v, MN_EFORMAT, "output entries are step or field names");
        for (size_t j = 0; j < p->noutputs; j++)
            if (strcmp(p->outputs[j].key, scalar(k)) == 0)
                return fail_at(L, k, MN_EINVAL, "output '%s' appears twice", scalar(k));
        mn__output *o = &p->outputs[p->noutputs];
        o->key = mn_strndup(scalar(k), strlen(scalar(k)));
        if (!o->key)
            return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
        p->noutputs++;
        o->step = find_step(p, scalar(v));
        if (o->step >= 0)
            continue;
        mn__etype type;
        char msg[256] = "out of memory";
        int rc = lookup(L, scalar(v), strlen(scalar(v)), &o->slot, &type, msg, sizeof msg);
        if (rc == MN_ENOMEM)
            return mn_err_set(L->err, rc, "%s: out of memory", L->name);
        if (rc)
            return fail_at(L, v, rc, "output '%s': %s", scalar(k), msg);
    }
    return 0;
}

static int pipeline_load(loader *L, const yaml_node_t *name, const yaml_node_t *n,
                         mn_pipeline *p)
{
    L->p = p;
    int rc;
    if (!is_scalar(name) || !valid_ident(scalar(name)))
        return fail_at(L, name, MN_EINVAL,
                       "a pipeline name must be letters, digits, '_' or '-'");
    if (!(p->name = mn_strndup(scalar(name), strlen(scalar(name)))))
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    if ((rc = want(L, n, YAML_MAPPING_NODE, "a pipeline")))
        return rc;
    const yaml_node_t *steps = NULL, *output = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        if ((scalar_is(k, "steps") && steps) || (scalar_is(k, "output") && output))
            return fail_at(L, k, MN_EINVAL, "'%s' given twice", scalar(k));
        if (scalar_is(k, "steps"))
            steps = v;
        else if (scalar_is(k, "output"))
            output = v;
        else if (!scalar_is(k, "description"))
            return fail_at(L, k, MN_EINVAL,
                           "unknown pipeline key '%s' (a pipeline has steps, output, "
                           "description)",
                           is_scalar(k) ? scalar(k) : "?");
    }
    if (!steps)
        return fail_at(L, n, MN_EINVAL, "pipeline '%s' has no steps", p->name);
    if ((rc = want(L, steps, YAML_SEQUENCE_NODE, "steps")))
        return rc;
    size_t cnt = (size_t)(steps->data.sequence.items.top - steps->data.sequence.items.start);
    if (cnt == 0)
        return fail_at(L, steps, MN_EINVAL, "pipeline '%s' has no steps", p->name);
    if (cnt > MAX_STEPS)
        return fail_at(L, steps, MN_ETOOBIG, "more than %d steps", MAX_STEPS);
    p->steps = mn_calloc(cnt, sizeof *p->steps);
    if (!p->steps)
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    const yaml_node_t *step_nodes[MAX_STEPS];
    for (size_t i = 0; i < cnt; i++) {
        step_nodes[i] = node(L, steps->data.sequence.items.start[i]);
        rc = step_header(L, step_nodes[i], &p->steps[i]);
        p->nsteps = i + 1; /* freed with the pipeline even when half filled */
        if (rc)
            return rc;
    }
    p->nslots = MN__PROP__COUNT;
    for (size_t i = 0; i < cnt; i++)
        if ((rc = step_body(L, step_nodes[i], i)))
            return rc;
    if ((rc = compute_stages(L, step_nodes)))
        return rc;
    if (output && (rc = outputs_load(L, output)))
        return rc;
    return 0;
}

static int document_load(loader *L, mn_pipelines *ps)
{
    yaml_node_t *root = yaml_document_get_root_node(L->doc);
    if (!root)
        return mn_err_set(L->err, MN_EEMPTY, "%s: empty pipeline file", L->name);
    int rc = want(L, root, YAML_MAPPING_NODE, "a pipeline file");
    if (rc)
        return rc;
    const yaml_node_t *pipes = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
        if (scalar_is(k, "pipelines")) {
            if (pipes)
                return fail_at(L, k, MN_EINVAL, "'pipelines' given twice");
            pipes = v;
        } else if (scalar_is(k, "version")) {
            if (!scalar_is(v, "1"))
                return fail_at(L, v, MN_EVERSION, "pipeline file version %s: this build reads 1",
                               is_scalar(v) ? scalar(v) : "?");
        } else {
            return fail_at(L, k, MN_EINVAL, "unknown key '%s' (a pipeline file has version, "
                                            "pipelines)",
                           is_scalar(k) ? scalar(k) : "?");
        }
    }
    if (!pipes)
        return fail_at(L, root, MN_EINVAL, "no 'pipelines' section");
    if ((rc = want(L, pipes, YAML_MAPPING_NODE, "pipelines")))
        return rc;
    size_t cnt = (size_t)(pipes->data.mapping.pairs.top - pipes->data.mapping.pairs.start);
    if (cnt == 0)
        return fail_at(L, pipes, MN_EINVAL, "no pipelines defined");
    if (cnt > MAX_PIPELINES)
        return fail_at(L, pipes, MN_ETOOBIG, "more than %d pipelines", MAX_PIPELINES);
    ps->items = mn_calloc(cnt, sizeof *ps->items);
    if (!ps->items)
        return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &pipes->data.mapping.pairs.start[i];
        yaml_node_t *k = node(L, pr->key);
        for (size_t j = 0; j < i; j++)
            if (is_scalar(k) && strcmp(ps->items[j].name, scalar(k)) == 0)
                return fail_at(L, k, MN_EINVAL, "two pipelines named '%s'", scalar(k));
        ps->n = i + 1;
        ps->items[i].host = L->host;
        L->p = &ps->items[i];
        L->p->nslots = MN__PROP__COUNT;
        if (L->slot_cap < MN__PROP__COUNT) {
            int32_t *s = mn_realloc(L->slot_step, 32 * sizeof *s);
            if (!s)
                return mn_err_set(L->err, MN_ENOMEM, "%s: out of memory", L->name);
            L->slot_step = s;
            L->slot_cap = 32;
        }
        for (int j = 0; j < MN__PROP__COUNT; j++)
            L->slot_step[j] = -1;
        if ((rc = pipeline_load(L, k, node(L, pr->value), &ps->items[i])))
            return rc;
    }
    return 0;
}

int mn_pipelines_parse(const char *yaml, size_t len, const char *name, const mn_model_host *host,
                       mn_pipelines **out, mn_err *err)
{
    *out = NULL;
    if (!yaml || !host || !host->find || !host->acquire || !host->release)
        return mn_err_set(err, MN_EINVAL, "mn_pipelines_parse: missing argument");
    if (!name)
        name = "pipeline";
    if (len > MAX_FILE_BYTES)
        return mn_err_set(err, MN_ETOOBIG, "%s: pipeline file over %d bytes", name,
                          MAX_FILE_BYTES);
    size_t bad;
    if (mn_utf8_validate(yaml, len, &bad) != 0)
        return mn_err_set(err, MN_EUTF8, "%s: invalid UTF-8 at byte %zu", name, bad);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = parser.error == YAML_MEMORY_ERROR
                     ? mn_err_set(err, MN_ENOMEM, "%s: out of memory", name)
                     : mn_err_set(err, MN_EFORMAT, "%s:%zu:%zu: invalid YAML: %s%s%s", name,
                                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                  parser.problem ? parser.problem : "syntax error",
                                  parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    mn_pipelines *ps = mn_calloc(1, sizeof *ps);
    loader L = {.name = name, .doc = &doc, .host = *host, .err = err};
    int rc = ps ? document_load(&L, ps) : mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    if (rc == 0) {
        /* A second document in the stream is a mistake worth reporting. */
        yaml_document_t next;
        if (yaml_parser_load(&parser, &next)) {
            yaml_node_t *r = yaml_document_get_root_node(&next);
            if (r)
                rc = mn_err_set(err, MN_EFORMAT,
                                "%s:%zu:%zu: a pipeline file holds one YAML document", name,
                                r->start_mark.line + 1, r->start_mark.column + 1);
            yaml_document_delete(&next);
        }
    }
    mn_free(L.slot_step);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) {
        mn_pipelines_free(ps);
        return rc;
    }
    ps->host = *host;
    *out = ps;
    return 0;
}

int mn_pipelines_load(const char *path, const mn_model_host *host, mn_pipelines **out,
                      mn_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mn_err_set(err, MN_ERRNO(errno), "%s: %s", path, strerror(errno));
    char *buf = mn_malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc;
    if (rd_err)
        rc = mn_err_set(err, MN_ERRNO(EIO), "%s: read error", path);
    else
        rc = mn_pipelines_parse(buf, n, path, host, out, err);
    mn_free(buf);
    return rc;
}

void mn_pipelines_free(mn_pipelines *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++)
        pipeline_free(&ps->items[i]);
    mn_free(ps->items);
    mn_free(ps);
}

size_t mn_pipelines_count(const mn_pipelines *ps)
{
    return ps ? ps->n : 0;
}

const mn_pipeline *mn_pipelines_at(const mn_pipelines *ps, size_t i)
{
    return ps && i < ps->n ? &ps->items[i] : NULL;
}

const mn_pipeline *mn_pipelines_find(const mn_pipelines *ps, const char *name, size_t len)
{
    if (!ps || ps->n == 0)
        return NULL;
    if (!name || len == 0) {
        for (size_t i = 0; i < ps->n; i++)
            if (strcmp(ps->items[i].name, "default") == 0)
                return &ps->items[i];
        return &ps->items[0];
    }
    for (size_t i = 0; i < ps->n; i++)
        if (strlen(ps->items[i].name) == len && memcmp(ps->items[i].name, name, len) == 0)
            return &ps->items[i];
    return NULL;
}

const char *mn_pipeline_name(const mn_pipeline *p)
{
    return p->name;
}

size_t mn_pipeline_step_count(const mn_pipeline *p)
{
    return p->nsteps;
}

const char *mn_pipeline_step_name(const mn_pipeline *p, size_t i)
{
    return i < p->nsteps ? p->steps[i].name : NULL;
}

const char *mn_pipeline_step_model(const mn_pipeline *p, size_t i)
{
    return i < p->nsteps ? p->steps[i].model : NULL;
}
