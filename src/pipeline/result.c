/* SPDX-License-Identifier: MIT
 *
 * The combined result of a route as JSON, and the human account of it (--explain). Reasons
 * are formatted here, on demand, so routing itself never formats text.
 */
#include "pipeline/internal.h"

#include <stdio.h>
#include <string.h>

/* ---- reasons ------------------------------------------------------------------------------ */

static const char *reason_of(const mn_route *rt, size_t i)
{
    const mn_pipeline *p = rt->p;
    mn__step_state *ss = &rt->state[i];
    const mn__step *st = &p->steps[i];
    char *b = ss->reason;
    size_t cap = sizeof ss->reason;
    switch (ss->why) {
    case MN__WHY_NONE:
        b[0] = '\0';
        break;
    case MN__WHY_WHEN: {
        int n = snprintf(b, cap, "when `%s` is %s: ", mn__expr_source(st->when),
                         ss->when_value == 0 ? "false" : "unknown");
        if (n > 0 && (size_t)n < cap)
            mn__expr_explain(st->when, rt->slots, b + n, cap - (size_t)n);
        break;
    }
    case MN__WHY_AFTER:
        snprintf(b, cap, "waits for step '%s', which %s", p->steps[ss->arg].name,
                 rt->state[ss->arg].status == MN_STEP_SKIPPED ? "was skipped"
                 : rt->state[ss->arg].status == MN_STEP_TIMEOUT ? "timed out"
                                                                : "failed");
        break;
    case MN__WHY_FAILED:
        snprintf(b, cap, "%s", rt->out[i]->reason);
        break;
    case MN__WHY_TIMEOUT:
        if (ss->arg > 0)
            snprintf(b, cap, "took %ld ms, over its timeout of %u ms", ss->arg, st->timeout_ms);
        else
            snprintf(b, cap, "no answer within its timeout of %u ms", st->timeout_ms);
        break;
    }
    return b;
}

const char *mn_route_reason(const mn_route *rt, size_t step)
{
    if (!rt->p || step >= rt->p->nsteps)
        return "";
    return reason_of(rt, step);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void put_key(mn__buf *b, const char *k)
{
    mn__buf_json_str(b, k, strlen(k));
    mn__buf_put(b, ":", 1);
}

static void put_span(mn__buf *b, const char *text, uint32_t off, uint32_t len)
{
    mn__buf_puts(b, "\"text\":");
    mn__buf_json_str(b, text + off, len);
    mn__buf_printf(b, ",\"start\":%u,\"end\":%u,\"score\":", off, off + len);
}

/* A step's answer: the labels, entities, tags or keywords. */
static void put_answer(mn__buf *b, const mn_route *rt, size_t i, const char *text, int compact)
{
    const mn__step *st = &rt->p->steps[i];
    const mn__step_out *o = rt->out[i];
    if (rt->state[i].status != MN_STEP_OK) {
        mn__buf_puts(b, "null");
        return;
    }
    switch (st->kind) {
    case MN__STEP_CLASSIFY: {
        /* prob fields made the step ask for every label: show only what k/threshold allow. */
        size_t n = 0;
        while (n < o->npreds && n < (size_t)st->k && o->preds[n].prob >= st->threshold)
            n++;
        if (compact && st->k == 1) {
            if (n == 0) {
                mn__buf_puts(b, "null");
            } else {
                const char *l = mn_model_label(o->model, o->preds[0].label);
                mn__buf_json_str(b, l, strlen(l));
            }
            return;
        }
        mn__buf_put(b, "[", 1);
        for (size_t j = 0; j < n; j++) {
            const char *l = mn_model_label(o->model, o->preds[j].label);
            mn__buf_puts(b, j ? ",{\"label\":" : "{\"label\":");
            mn__buf_json_str(b, l, strlen(l));
            mn__buf_puts(b, ",\"score\":");
            mn__buf_json_num(b, o->preds[j].prob);
            mn__buf_put(b, "}", 1);
        }
        mn__buf_put(b, "]", 1);
        return;
    }
    case MN__STEP_TAG:
        mn__buf_put(b, "[", 1);
        if (o->entities) {
            for (size_t j = 0; j < o->nents; j++) {
                const mn_entity *e = &o->ents[j];
                mn__buf_puts(b, j ? ",{\"type\":" : "{\"type\":");
                mn__buf_json_str(b, e->type, e->type_len);
                mn__buf_put(b, ",", 1);
                put_span(b, text, e->off, e->len);
                mn__buf_json_num(b, e->score);
                mn__buf_put(b, "}", 1);
            }
        } else {
            for (size_t j = 0; j < o->ntags; j++) {
                const mn_tagged *t = &o->tags[j];
                const char *tag = mn_model_label(o->model, t->tag);
                mn__buf_puts(b, j ? ",{\"tag\":" : "{\"tag\":");
                mn__buf_json_str(b, tag, strlen(tag));
                mn__buf_put(b, ",", 1);
                put_span(b, text, t->off, t->len);
                mn__buf_json_num(b, t->score);
                mn__buf_put(b, "}", 1);
            }
        }
        mn__buf_put(b, "]", 1);
        return;
    case MN__STEP_KEYWORDS:
        mn__buf_put(b, "[", 1);
        for (size_t j = 0; j < o->nkws; j++) {
            const mn_keyword *k = &o->kws[j];
            if (compact) {
                if (j)
                    mn__buf_put(b, ",", 1);
                mn__buf_json_str(b, text + k->start, k->end - k->start);
                continue;
            }
            mn__buf_puts(b, j ? ",{" : "{");
            put_span(b, text, k->start, k->end - k->start);
            mn__buf_json_num(b, k->score);
            mn__buf_put(b, "}", 1);
        }
        mn__buf_put(b, "]", 1);
        return;
    }
}

static void put_value(mn__buf *b, const mn__value *v)
{
    switch (v->type) {
    case MN__T_BOOL: mn__buf_puts(b, v->num != 0 ? "true" : "false"); break;
    case MN__T_NUM: mn__buf_json_num(b, v->num); break;
    case MN__T_STR: mn__buf_json_str(b, v->str, v->len); break;
    default: mn__buf_puts(b, "null"); break;
    }
}

static const char *answer_key(const mn_route *rt, size_t i)
{
    const mn__step *st = &rt->p->steps[i];
    switch (st->kind) {
    case MN__STEP_CLASSIFY: return "labels";
    case MN__STEP_TAG: return rt->out[i]->entities ? "entities" : "tags";
    default: return "keywords";
    }
}

/* One step's object: status, model, version, time, answer or reason. */
static void put_step(mn__buf *b, const mn_route *rt, size_t i, const char *text, unsigned flags)
{
    const mn__step *st = &rt->p->steps[i];
    mn_step_status status = rt->state[i].status;
    mn__buf_puts(b, "{\"status\":");
    mn__buf_json_str(b, mn_step_status_name(status), strlen(mn_step_status_name(status)));
    mn__buf_puts(b, ",\"model\":");
    mn__buf_json_str(b, st->model, strlen(st->model));
    int ran = status == MN_STEP_OK || status == MN_STEP_FAILED ||
              (status == MN_STEP_TIMEOUT && rt->state[i].arg > 0);
    if (ran && rt->out[i]->version) {
        mn__buf_puts(b, ",\"version\":");
        mn__buf_json_str(b, rt->out[i]->version, strlen(rt->out[i]->version));
    }
    if (ran && !(flags & MN_ROUTE_JSON_NO_TIMES)) {
        mn__buf_puts(b, ",\"ms\":");
        mn__buf_json_num(b, (double)rt->out[i]->ns / 1e6);
    }
    if (status == MN_STEP_OK) {
        mn__buf_put(b, ",", 1);
        put_key(b, answer_key(rt, i));
        put_answer(b, rt, i, text, 0);
        if (st->kind == MN__STEP_KEYWORDS && rt->out[i]->lang[0]) {
            mn__buf_puts(b, ",\"lang\":");
            mn__buf_json_str(b, rt->out[i]->lang, strlen(rt->out[i]->lang));
        }
        if (rt->out[i]->read < rt->len) /* the answer is about the text's start only */
            mn__buf_printf(b, ",\"read_bytes\":%zu", rt->out[i]->read);
    } else {
        const char *why = reason_of(rt, i);
        mn__buf_puts(b, ",\"reason\":");
        mn__buf_json_str(b, why, strlen(why));
    }
    mn__buf_put(b, "}", 1);
}

int mn_route_step_json(mn_route *rt, size_t step, const char *text, size_t len, unsigned flags,
                       const char **json, size_t *json_len)
{
    (void)len;
    mn__buf *b = &rt->json;
    mn__buf_reset(b);
    if (!rt->p || step >= rt->p->nsteps)
        return MN_EINVAL;
    put_step(b, rt, step, text, flags);
    if (b->oom)
        return MN_ENOMEM;
    *json = b->ptr;
    *json_len = b->len;
    return 0;
}

int mn_route_json(mn_route *rt, const char *text, size_t len, unsigned flags, const char **json,
                  size_t *json_len)
{
    (void)len;
    const mn_pipeline *p = rt->p;
    mn__buf *b = &rt->json;
    mn__buf_reset(b);
    if (!p)
        return MN_EINVAL;
    mn__buf_puts(b, "{\"pipeline\":");
    mn__buf_json_str(b, p->name, strlen(p->name));
    if (!(flags & MN_ROUTE_JSON_NO_STEPS)) {
        mn__buf_puts(b, ",\"steps\":{");
        for (size_t i = 0; i < p->nsteps; i++) {
            if (i)
                mn__buf_put(b, ",", 1);
            put_key(b, p->steps[i].name);
            put_step(b, rt, i, text, flags);
        }
        mn__buf_put(b, "}", 1);
    }
    mn__buf_puts(b, ",\"output\":{");
    if (p->noutputs == 0) {
        for (size_t i = 0; i < p->nsteps; i++) {
            if (i)
                mn__buf_put(b, ",", 1);
            put_key(b, p->steps[i].name);
            put_answer(b, rt, i, text, 1);
        }
    } else {
        for (size_t i = 0; i < p->noutputs; i++) {
            const mn__output *o = &p->outputs[i];
            if (i)
                mn__buf_put(b, ",", 1);
            put_key(b, o->key);
            if (o->step >= 0)
                put_answer(b, rt, (size_t)o->step, text, 1);
            else
                put_value(b, &rt->slots[o->slot]);
        }
    }
    mn__buf_put(b, "}", 1);
    if (!(flags & MN_ROUTE_JSON_NO_TIMES)) {
        mn__buf_puts(b, ",\"ms\":");
        mn__buf_json_num(b, (double)rt->total_ns / 1e6);
    }
    mn__buf_put(b, "}", 1);
    if (b->oom)
        return MN_ENOMEM;
    *json = b->ptr;
    *json_len = b->len;
    return 0;
}

/* ---- explain ------------------------------------------------------------------------------ */

int mn_route_explain(mn_route *rt, const char **out, size_t *out_len)
{
    const mn_pipeline *p = rt->p;
    mn__buf *b = &rt->json;
    mn__buf_reset(b);
    if (!p)
        return MN_EINVAL;
    mn__buf_printf(b, "pipeline %s: %zu step%s in %zu stage%s, %.3f ms (routing %.1f us)\n",
                   p->name, p->nsteps, p->nsteps == 1 ? "" : "s", p->nstages,
                   p->nstages == 1 ? "" : "s", (double)rt->total_ns / 1e6,
                   (double)mn_route_overhead_ns(rt) / 1e3);
    for (size_t s = 0; s < p->nstages; s++) {
        for (uint32_t j = p->stage_start[s]; j < p->stage_start[s + 1]; j++) {
            size_t i = p->order[j];
            const mn__step *st = &p->steps[i];
            mn_step_status status = rt->state[i].status;
            mn__buf_printf(b, "  [%zu] %-12s %-8s ", s + 1, st->name,
                           status == MN_STEP_OK ? "ran" : mn_step_status_name(status));
            if (status == MN_STEP_OK) {
                const mn__step_out *o = rt->out[i];
                if (st->kind == MN__STEP_CLASSIFY && o->npreds)
                    mn__buf_printf(b, "%s %.3f", mn_model_label(o->model, o->preds[0].label),
                                   (double)o->preds[0].prob);
                else if (st->kind == MN__STEP_CLASSIFY)
                    mn__buf_puts(b, "no label over the threshold");
                else if (st->kind == MN__STEP_TAG)
                    mn__buf_printf(b, "%zu %s", o->entities ? o->nents : o->ntags,
                                   o->entities ? "entities" : "tokens");
                else
                    mn__buf_printf(b, "%zu keywords (language %s)", o->nkws,
                                   o->lang[0] ? o->lang : "independent");
                if (o->read < rt->len)
                    mn__buf_printf(b, "; read %zu of %zu bytes", o->read, rt->len);
                if (st->when)
                    mn__buf_printf(b, "; when `%s` is true", mn__expr_source(st->when));
                mn__buf_printf(b, "  (%s v%s, %.3f ms)", st->model,
                               o->version ? o->version : "?", (double)o->ns / 1e6);
            } else {
                mn__buf_puts(b, reason_of(rt, i));
            }
            mn__buf_put(b, "\n", 1);
        }
    }
    if (b->oom)
        return MN_ENOMEM;
    *out = b->ptr;
    *out_len = b->len;
    return 0;
}
