/* SPDX-License-Identifier: MIT
 *
 * Running a pipeline on one text. Stage by stage: decide which steps of the stage run (their
 * `when` over the slots filled so far), run them — on the calling thread, or spread over the
 * runner's helper threads when more than one runs — wait for them up to their timeouts, then
 * publish their answers into the slots the next stages read.
 *
 * A step that times out on a helper is abandoned, not killed: the route stops waiting and
 * records the timeout; the helper finishes into the route's own memory, and the route's next
 * run waits for it first, so nothing is freed under a running step. A step on the calling
 * thread cannot be interrupted: if it overran its timeout, its answer is dropped and the
 * timeout recorded, so a result never depends on which thread ran a step.
 *
 * Allocation: none per text once the route's buffers have grown to the largest answers seen.
 */
#include "pipeline/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"

const char *mn_step_status_name(mn_step_status s)
{
    switch (s) {
    case MN_STEP_OK: return "ok";
    case MN_STEP_SKIPPED: return "skipped";
    case MN_STEP_FAILED: return "failed";
    case MN_STEP_TIMEOUT: return "timeout";
    }
    return "?";
}

/* ---- one step ----------------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < want)
        c *= 2;
    void *x = mn_realloc(*p, c * elem);
    if (!x)
        return MN_ENOMEM;
    *p = x;
    *cap = c;
    return 0;
}

static int is_bio(const mn_model *m)
{
    uint32_t n = mn_model_label_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *l = mn_model_label(m, i);
        if ((l[0] == 'B' || l[0] == 'I') && l[1] == '-')
            return 1;
    }
    return 0;
}

static void exec_fail(mn__step_out *o, int rc, const char *what)
{
    o->status = MN_STEP_FAILED;
    snprintf(o->reason, sizeof o->reason, "%s: %s", what, mn_strerror(rc));
}

/* The first max bytes of text, cut back to the last whitespace (or at least to a character
 * boundary), so a model reading a prefix sees whole words. */
static size_t prefix_len(const char *text, size_t len, size_t max)
{
    if (max == 0 || len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xC0u) == 0x80u)
        n--; /* text[n] starts a character: cut before it */
    size_t w = n;
    while (w > 0 && text[w - 1] != ' ' && text[w - 1] != '\n' && text[w - 1] != '\t')
        w--;
    return w > n / 2 ? w : n; /* a long run without spaces is cut mid-run */
}

void mn__step_exec(const mn_pipeline *p, const mn__step *st, mn_scratch *s, const char *text,
                   size_t len, mn__step_out *o)
{
    uint64_t t0 = mn__now_ns();
    len = prefix_len(text, len, st->max_bytes);
    o->read = len;
    o->status = MN_STEP_OK;
    o->reason[0] = '\0';
    o->npreds = o->ntags = o->nents = o->nkws = 0;
    o->entities = 0;
    int rc = p->host.acquire(p->host.ctx, st->handle, &o->model, &o->version, &o->token);
    if (rc) {
        o->model = NULL;
        o->status = MN_STEP_FAILED;
        snprintf(o->reason, sizeof o->reason, "model '%s' %s", st->model,
                 rc == MN_ENOTFOUND ? "is not loaded"
                 : rc == -EBUSY     ? "is busy (every worker slot taken)"
                                    : mn_strerror(rc));
        o->ns = mn__now_ns() - t0;
        return;
    }
    switch (st->kind) {
    case MN__STEP_CLASSIFY: {
        /* prob.LABEL fields need every label's probability, not only the top k. */
        size_t k = (size_t)st->k;
        float threshold = st->threshold;
        if (st->nprobs) {
            k = mn_model_label_count(o->model);
            threshold = 0;
        }
        if ((rc = grow((void **)&o->preds, &o->preds_cap, k, sizeof *o->preds)))
            break;
        /* A first look at the text's start is the answer when it is sure enough: a language
         * shows in a few sentences, and only the texts it does not settle are read further. */
        size_t first = st->first_bytes && len > st->first_bytes
                           ? prefix_len(text, len, st->first_bytes)
                           : 0; /* 0 also when no character fits in first_bytes */
        if (first) {
            rc = mn_model_predict(o->model, s, text, first, (int)k, threshold, o->preds,
                                  &o->npreds);
            if (rc || (o->npreds && o->preds[0].prob >= st->sure_at)) {
                o->read = first;
                break;
            }
        }
        rc = mn_model_predict(o->model, s, text, len, (int)k, threshold, o->preds, &o->npreds);
        break;
    }
    case MN__STEP_TAG:
        o->entities = is_bio(o->model);
        for (;;) {
            size_t n = 0;
            if (o->entities)
                rc = mn_model_entities(o->model, s, text, len, o->ents, o->ents_cap, &n);
            else
                rc = mn_model_tag(o->model, s, text, len, o->tags, o->tags_cap, &n);
            size_t *cap = o->entities ? &o->ents_cap : &o->tags_cap;
            if (rc || n <= *cap) {
                *(o->entities ? &o->nents : &o->ntags) = n;
                break;
            }
            rc = o->entities ? grow((void **)&o->ents, cap, n, sizeof *o->ents)
                             : grow((void **)&o->tags, cap, n, sizeof *o->tags);
            if (rc)
                break;
        }
        break;
    case MN__STEP_KEYWORDS:
        if ((rc = grow((void **)&o->kws, &o->kws_cap, (size_t)st->k, sizeof *o->kws)))
            break;
        rc = mn_keywords_extract(o->model, s, text, len, o->lang[0] ? o->lang : NULL,
                                 strlen(o->lang), (size_t)st->k, o->kws, &o->nkws);
        break;
    }
    if (p->host.done)
        p->host.done(p->host.ctx, o->token);
    if (rc)
        exec_fail(o, rc, st->model);
    o->ns = mn__now_ns() - t0;
}

/* ---- the runner: helper threads ------------------------------------------------------------ */

struct mn_runner {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a task was queued, or stop */
    pthread_cond_t done_cv; /* a task finished */
    mn__task *head, *tail;
    int stop;
    int nthreads;
    pthread_t *threads;
};

static void out_free(mn__step_out *o)
{
    if (!o)
        return;
    mn_free(o->preds);
    mn_free(o->tags);
    mn_free(o->ents);
    mn_free(o->kws);
    mn_free(o);
}

/* Frees a task and its answer, giving back the model it holds (orphans, and route teardown). */
static void task_free(mn__task *t)
{
    if (!t)
        return;
    if (t->o && t->o->model)
        t->host.release(t->host.ctx, t->o->token);
    out_free(t->o);
    mn_free(t->copy);
    mn_free(t);
}

static void *helper_main(void *arg)
{
    mn_runner *r = arg;
    mn_scratch *s = NULL;
    int have_scratch = mn_scratch_new(&s) == 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->head && !r->stop)
            pthread_cond_wait(&r->work_cv, &r->mu);
        if (!r->head)
            break; /* stop, and nothing left to run */
        mn__task *t = r->head;
        r->head = t->next;
        if (!r->head)
            r->tail = NULL;
        pthread_mutex_unlock(&r->mu);
        if (have_scratch) {
            mn__step_exec(t->p, t->st, s, t->text, t->len, t->o);
        } else {
            t->o->status = MN_STEP_FAILED;
            snprintf(t->o->reason, sizeof t->o->reason, "out of memory");
        }
        pthread_mutex_lock(&r->mu);
        if (t->orphan) {
            pthread_mutex_unlock(&r->mu);
            task_free(t);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        t->o->done = 1;
        t->rt->pending--;
        pthread_cond_broadcast(&r->done_cv);
    }
    pthread_mutex_unlock(&r->mu);
    mn_scratch_free(s);
    return NULL;
}

int mn_runner_new(int threads, mn_runner **out)
{
    *out = NULL;
    if (threads < 0 || threads > 256)
        return MN_EINVAL;
    mn_runner *r = mn_calloc(1, sizeof *r);
    if (!r)
        return MN_ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->work_cv, NULL);
    pthread_cond_init(&r->done_cv, NULL);
    if (threads > 0) {
        r->threads = mn_calloc((size_t)threads, sizeof *r->threads);
        if (!r->threads) {
            mn_runner_free(r);
            return MN_ENOMEM;
        }
        for (int i = 0; i < threads; i++) {
            if (pthread_create(&r->threads[i], NULL, helper_main, r) != 0) {
                mn_runner_free(r);
                return MN_ENOMEM;
            }
            r->nthreads++;
        }
    }
    *out = r;
    return 0;
}

void mn_runner_free(mn_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->work_cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->nthreads; i++)
        pthread_join(r->threads[i], NULL);
    mn_free(r->threads);
    pthread_cond_destroy(&r->work_cv);
    pthread_cond_destroy(&r->done_cv);
    pthread_mutex_destroy(&r->mu);
    mn_free(r);
}

/* ---- the route ---------------------------------------------------------------------------- */

int mn_route_new(mn_route **out)
{
    *out = NULL;
    mn_route *rt = mn_calloc(1, sizeof *rt);
    if (!rt)
        return MN_ENOMEM;
    if (mn_scratch_new(&rt->scratch) != 0) {
        mn_free(rt);
        return MN_ENOMEM;
    }
    *out = rt;
    return 0;
}

/* Waits for steps still running on helpers (abandoned after a timeout) and lets go of the
 * models the last run held. */
void mn_route_reset(mn_route *rt)
{
    if (rt->runner) {
        pthread_mutex_lock(&rt->runner->mu);
        while (rt->pending > 0)
            pthread_cond_wait(&rt->runner->done_cv, &rt->runner->mu);
        pthread_mutex_unlock(&rt->runner->mu);
        rt->runner = NULL; /* nothing of ours is left with it: it may now be freed */
    }
    for (size_t i = 0; i < rt->steps_cap; i++) {
        mn__step_out *o = rt->out[i];
        if (o && o->model)
            rt->host.release(rt->host.ctx, o->token);
        if (o)
            o->model = NULL;
    }
    rt->p = NULL;
}

void mn_route_free(mn_route *rt)
{
    if (!rt)
        return;
    mn_route_reset(rt);
    for (size_t i = 0; i < rt->steps_cap; i++) {
        if (rt->tasks[i]) {
            rt->tasks[i]->o = NULL; /* the same answer as out[i]: freed once, below */
            task_free(rt->tasks[i]);
        }
        out_free(rt->out[i]);
    }
    mn_free(rt->out);
    mn_free(rt->state);
    mn_free(rt->tasks);
    mn_free(rt->slots);
    mn_scratch_free(rt->scratch);
    mn__buf_free(&rt->json);
    mn_free(rt);
}

static int route_reserve(mn_route *rt, const mn_pipeline *p)
{
    if (p->nslots > rt->slots_cap) {
        mn__value *s = mn_realloc(rt->slots, p->nslots * sizeof *s);
        if (!s)
            return MN_ENOMEM;
        rt->slots = s;
        rt->slots_cap = p->nslots;
    }
    if (p->nsteps > rt->steps_cap) {
        size_t n = p->nsteps, old = rt->steps_cap;
        mn__step_state *st = mn_realloc(rt->state, n * sizeof *st);
        if (!st)
            return MN_ENOMEM;
        rt->state = st;
        mn__step_out **o = mn_realloc(rt->out, n * sizeof *o);
        if (!o)
            return MN_ENOMEM;
        rt->out = o;
        memset(o + old, 0, (n - old) * sizeof *o);
        mn__task **t = mn_realloc(rt->tasks, n * sizeof *t);
        if (!t)
            return MN_ENOMEM;
        rt->tasks = t;
        memset(t + old, 0, (n - old) * sizeof *t);
        rt->steps_cap = n;
    }
    for (size_t i = 0; i < p->nsteps; i++)
        if (!rt->out[i] && !(rt->out[i] = mn_calloc(1, sizeof *rt->out[i])))
            return MN_ENOMEM;
    return 0;
}

static void set_missing(mn__value *slots, uint32_t slot)
{
    if (slot != UINT32_MAX)
        slots[slot].type = MN__T_MISSING;
}

/* Publishes a finished step's answer into the slots later stages read. */
static void publish(mn_route *rt, const mn__step *st, size_t i)
{
    mn__value *slots = rt->slots;
    const mn__step_out *o = rt->out[i];
    int ok = rt->state[i].status == MN_STEP_OK;
    if (st->slot_ok != UINT32_MAX) {
        slots[st->slot_ok].type = MN__T_BOOL;
        slots[st->slot_ok].num = ok;
    }
    if (!ok) {
        set_missing(slots, st->slot_label);
        set_missing(slots, st->slot_score);
        set_missing(slots, st->slot_count);
        for (size_t j = 0; j < st->nprobs; j++)
            slots[st->probs[j].slot].type = MN__T_MISSING;
        return;
    }
    if (st->kind == MN__STEP_CLASSIFY) {
        if (st->slot_label != UINT32_MAX) {
            if (o->npreds) {
                const char *l = mn_model_label(o->model, o->preds[0].label);
                slots[st->slot_label] = (mn__value){.type = MN__T_STR, .str = l, .len = strlen(l)};
            } else {
                slots[st->slot_label].type = MN__T_MISSING;
            }
        }
        if (st->slot_score != UINT32_MAX) {
            slots[st->slot_score].type = o->npreds ? MN__T_NUM : MN__T_MISSING;
            slots[st->slot_score].num = o->npreds ? o->preds[0].prob : 0;
        }
        for (size_t j = 0; j < st->nprobs; j++) {
            mn__value *v = &slots[st->probs[j].slot];
            v->type = MN__T_NUM;
            v->num = 0;
            int32_t want = mn_model_label_find(o->model, st->probs[j].label,
                                               strlen(st->probs[j].label));
            for (size_t q = 0; q < o->npreds; q++)
                if ((int32_t)o->preds[q].label == want)
                    v->num = o->preds[q].prob;
        }
    } else if (st->slot_count != UINT32_MAX) {
        slots[st->slot_count].type = MN__T_NUM;
        slots[st->slot_count].num = (double)(st->kind == MN__STEP_KEYWORDS ? o->nkws
                                             : o->entities                 ? o->nents
                                                                           : o->ntags);
    }
}

/* Decides whether step i runs; fills its state when it does not. */
static int should_run(mn_route *rt, const mn__step *st, size_t i)
{
    mn__step_state *ss = &rt->state[i];
    for (size_t j = 0; j < st->nafter; j++)
        if (rt->state[st->after[j]].status != MN_STEP_OK) {
            ss->status = MN_STEP_SKIPPED;
            ss->why = MN__WHY_AFTER;
            ss->arg = st->after[j];
            return 0;
        }
    if (st->when) {
        int v = mn__expr_eval(st->when, rt->slots);
        if (v != 1) {
            ss->status = MN_STEP_SKIPPED;
            ss->why = MN__WHY_WHEN;
            ss->when_value = v;
            return 0;
        }
    }
    return 1;
}

static void prepare_lang(mn_route *rt, const mn__step *st, mn__step_out *o)
{
    o->lang[0] = '\0';
    if (st->kind != MN__STEP_KEYWORDS || !st->has_lang)
        return;
    const mn__value *v = &rt->slots[st->lang_slot];
    if (v->type == MN__T_STR && v->len < sizeof o->lang) {
        memcpy(o->lang, v->str, v->len);
        o->lang[v->len] = '\0';
    }
}

/* After a step ran: its final state. A step that overran its timeout loses its answer. */
static void conclude(mn_route *rt, const mn__step *st, size_t i)
{
    mn__step_out *o = rt->out[i];
    mn__step_state *ss = &rt->state[i];
    ss->status = o->status;
    ss->why = o->status == MN_STEP_OK ? MN__WHY_NONE : MN__WHY_FAILED;
    if (o->status == MN_STEP_OK && st->timeout_ms &&
        o->ns > (uint64_t)st->timeout_ms * 1000000u) {
        ss->status = MN_STEP_TIMEOUT;
        ss->why = MN__WHY_TIMEOUT;
        ss->arg = (long)(o->ns / 1000000u);
    }
}

/* Prepares the tasks of steps about to go to helpers (allocation only the first time, or
 * after a timeout). Steps with a timeout get a copy of the text, as they may outlive the call.
 * Returns 0 or MN_ENOMEM. */
static int tasks_ready(mn_route *rt, const mn_pipeline *p, const uint32_t *idx, size_t n,
                       size_t len)
{
    for (size_t j = 1; j < n; j++) {
        mn__task **t = &rt->tasks[idx[j]];
        if (!*t && !(*t = mn_calloc(1, sizeof **t)))
            return MN_ENOMEM;
        if (p->steps[idx[j]].timeout_ms && (*t)->copy_cap < len + 1) {
            char *c = mn_realloc((*t)->copy, len + 1);
            if (!c)
                return MN_ENOMEM;
            (*t)->copy = c;
            (*t)->copy_cap = len + 1;
        }
    }
    return 0;
}

/* The route stops waiting for step i (timed out): the helper keeps the task and its answer
 * and frees them when the step ends; the route takes a fresh pair. Under the runner's lock.
 * Without memory for the fresh pair, the route keeps waiting for it at its next run. */
static void orphan(mn_route *rt, uint32_t i)
{
    mn__step_out *o = mn_calloc(1, sizeof *o);
    mn__task *t = mn_calloc(1, sizeof *t);
    if (!o || !t) {
        mn_free(o);
        mn_free(t);
        return;
    }
    rt->tasks[i]->orphan = 1;
    rt->pending--;
    rt->tasks[i] = t;
    rt->out[i] = o;
}

static void run_stage_parallel(mn_route *rt, mn_runner *r, const mn_pipeline *p,
                               const uint32_t *idx, size_t n, const char *text, size_t len)
{
    uint64_t t0 = mn__now_ns();
    /* Everything but the first goes to the helpers; the first runs here meanwhile. */
    pthread_mutex_lock(&r->mu);
    for (size_t j = 1; j < n; j++) {
        mn__task *t = rt->tasks[idx[j]];
        t->p = p;
        t->st = &p->steps[idx[j]];
        t->text = text;
        t->len = len;
        t->o = rt->out[idx[j]];
        t->rt = rt;
        t->host = p->host;
        t->next = NULL;
        t->orphan = 0;
        if (t->st->timeout_ms && t->copy) {
            memcpy(t->copy, text, len);
            t->text = t->copy;
        }
        t->o->done = 0;
        if (r->tail)
            r->tail->next = t;
        else
            r->head = t;
        r->tail = t;
        rt->pending++;
    }
    pthread_cond_broadcast(&r->work_cv);
    pthread_mutex_unlock(&r->mu);

    mn__step_exec(p, &p->steps[idx[0]], rt->scratch, text, len, rt->out[idx[0]]);
    conclude(rt, &p->steps[idx[0]], idx[0]);

    pthread_mutex_lock(&r->mu);
    for (size_t j = 1; j < n; j++) {
        const mn__step *st = &p->steps[idx[j]];
        mn__step_out *o = rt->out[idx[j]];
        if (st->timeout_ms == 0) {
            while (!o->done)
                pthread_cond_wait(&r->done_cv, &r->mu);
        } else {
            uint64_t deadline = t0 + (uint64_t)st->timeout_ms * 1000000u;
            for (uint64_t now = mn__now_ns(); !o->done && now < deadline; now = mn__now_ns()) {
                /* done_cv uses the default (realtime) clock: wait by time left, rounded up. */
                struct timespec until = mn__deadline_in_ms((deadline - now + 999999u) / 1000000u);
                pthread_cond_timedwait(&r->done_cv, &r->mu, &until);
            }
            if (!o->done) {
                rt->state[idx[j]] = (mn__step_state){.status = MN_STEP_TIMEOUT,
                                                     .why = MN__WHY_TIMEOUT, .arg = 0};
                orphan(rt, idx[j]);
                continue;
            }
        }
        conclude(rt, st, idx[j]);
    }
    pthread_mutex_unlock(&r->mu);
    rt->model_ns += mn__now_ns() - t0;
}

int mn_pipeline_run(const mn_pipeline *p, mn_runner *r, mn_route *rt, const char *text,
                    size_t len)
{
    if (!p || !rt || (!text && len))
        return MN_EINVAL;
    if (!text)
        text = "";
    uint64_t t0 = mn__now_ns();
    mn_route_reset(rt);
    if (route_reserve(rt, p) != 0)
        return MN_ENOMEM;
    rt->p = p;
    rt->host = p->host;
    rt->runner = r;
    rt->model_ns = 0;
    rt->len = len;
    mn__props_compute(text, len, p->props_used, rt->slots);
    for (uint32_t s = MN__PROP__COUNT; s < p->nslots; s++)
        rt->slots[s].type = MN__T_MISSING;
    for (size_t i = 0; i < p->nsteps; i++) {
        rt->state[i].status = MN_STEP_SKIPPED;
        rt->state[i].why = MN__WHY_NONE;
        rt->state[i].reason[0] = '\0';
        rt->out[i]->ns = 0;
    }
    uint32_t runnable[64];
    for (size_t s = 0; s < p->nstages; s++) {
        size_t n = 0;
        for (uint32_t j = p->stage_start[s]; j < p->stage_start[s + 1]; j++) {
            uint32_t i = p->order[j];
            if (should_run(rt, &p->steps[i], i)) {
                prepare_lang(rt, &p->steps[i], rt->out[i]);
                runnable[n++] = i;
            }
        }
        if (n > 1 && r && r->nthreads > 0 && tasks_ready(rt, p, runnable, n, len) == 0) {
            run_stage_parallel(rt, r, p, runnable, n, text, len);
        } else {
            for (size_t j = 0; j < n; j++) {
                mn__step_exec(p, &p->steps[runnable[j]], rt->scratch, text, len,
                              rt->out[runnable[j]]);
                rt->model_ns += rt->out[runnable[j]]->ns;
                conclude(rt, &p->steps[runnable[j]], runnable[j]);
            }
        }
        for (uint32_t j = p->stage_start[s]; j < p->stage_start[s + 1]; j++)
            publish(rt, &p->steps[p->order[j]], p->order[j]);
    }
    rt->total_ns = mn__now_ns() - t0;
    return 0;
}

/* ---- reading the outcome ------------------------------------------------------------------ */

mn_step_status mn_route_status(const mn_route *rt, size_t step)
{
    return rt->p && step < rt->p->nsteps ? rt->state[step].status : MN_STEP_SKIPPED;
}

uint64_t mn_route_step_ns(const mn_route *rt, size_t step)
{
    return rt->p && step < rt->p->nsteps ? rt->out[step]->ns : 0;
}

uint64_t mn_route_total_ns(const mn_route *rt)
{
    return rt->total_ns;
}

uint64_t mn_route_overhead_ns(const mn_route *rt)
{
    return rt->total_ns > rt->model_ns ? rt->total_ns - rt->model_ns : 0;
}

const char *mn_route_label(const mn_route *rt, size_t step, float *score)
{
    if (!rt->p || step >= rt->p->nsteps || rt->state[step].status != MN_STEP_OK ||
        rt->p->steps[step].kind != MN__STEP_CLASSIFY || rt->out[step]->npreds == 0)
        return NULL;
    if (score)
        *score = rt->out[step]->preds[0].prob;
    return mn_model_label(rt->out[step]->model, rt->out[step]->preds[0].label);
}
