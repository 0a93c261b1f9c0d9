/* SPDX-License-Identifier: MIT
 *
 * What the files of src/pipeline/ share:
 *
 *   expr.c      the `when:` expression language (expr.h)
 *   props.c     the text's own properties (len, script, has_url ...), computed only when read
 *   load.c      the YAML pipeline file -> validated mn_pipeline structures (the only file that
 *               includes <yaml.h>)
 *   run.c       running a pipeline on a text: stages, helper threads, timeouts, the route
 *   result.c    the combined result as JSON, and the --explain text
 *   dir_host.c  a model host over a directory of model files
 *
 * Slots: every field an expression may read has a slot number fixed at load time: the text's
 * properties first (MN__PROP_*), then each step's fields. A run fills the slots the pipeline
 * reads and evaluates each `when` against them, so no name is looked up per text.
 */
#ifndef MN_PIPELINE_INTERNAL_H
#define MN_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "micronlp/keywords.h"
#include "micronlp/pipeline.h"
#include "pipeline/expr.h"

/* ---- text properties (props.c) -------------------------------------------------------------- */

#define MN__PROP_LIST(X)                                                                           \
    X(LEN, "len", MN__T_NUM)                                                                       \
    X(BYTES, "bytes", MN__T_NUM)                                                                   \
    X(WORDS, "words", MN__T_NUM)                                                                   \
    X(LINES, "lines", MN__T_NUM)                                                                   \
    X(SCRIPT, "script", MN__T_STR)                                                                 \
    X(HAS_URL, "has_url", MN__T_BOOL)                                                              \
    X(HAS_EMAIL, "has_email", MN__T_BOOL)                                                          \
    X(HAS_DIGITS, "has_digits", MN__T_BOOL)

enum {
#define MN__PROP_ENUM(id, name, type) MN__PROP_##id,
    MN__PROP_LIST(MN__PROP_ENUM)
#undef MN__PROP_ENUM
    MN__PROP__COUNT
};

const char *mn__prop_name(int prop);
mn__etype mn__prop_type(int prop);
/* Fills slots[MN__PROP_*] for the properties whose bit is set in `used`. */
void mn__props_compute(const char *text, size_t len, uint32_t used, mn__value *slots);

/* ---- the loaded pipeline -------------------------------------------------------------------- */

typedef enum mn__step_kind {
    MN__STEP_CLASSIFY, /* classifier, fastText, language id: labels with probabilities */
    MN__STEP_TAG,      /* tagger: entities when its tags are BIO, else one tag per token */
    MN__STEP_KEYWORDS, /* key phrases */
} mn__step_kind;

/* S.prob.LABEL fields a pipeline reads. */
typedef struct mn__prob_field {
    char *label;
    uint32_t slot;
} mn__prob_field;

typedef struct mn__step {
    char *name, *model;
    void *handle;        /* the host's */
    mn__step_kind kind;
    mn__expr *when;      /* NULL = always */
    int k;
    float threshold;
    unsigned timeout_ms; /* 0 = none */
    size_t max_bytes;    /* the step reads at most this much of the text (0 = all) */
    size_t first_bytes;  /* classify: read this much first (0 = no first look) ... */
    float sure_at;       /* ... and stop there if the best label is at least this probable */
    uint32_t *deps;      /* steps this one waits for (indices, all earlier stages) */
    size_t ndeps;
    uint32_t *after;     /* the subset named by `after:` (skipped unless they ran) */
    size_t nafter;
    int has_lang;        /* keywords: language from lang_slot */
    uint32_t lang_slot;
    int stage;
    uint32_t slot_ok, slot_label, slot_score, slot_count; /* UINT32_MAX = not read */
    mn__prob_field *probs;
    size_t nprobs;
} mn__step;

/* One entry of the `output` section: a field's value or a whole step's answer. */
typedef struct mn__output {
    char *key;
    int step;       /* >= 0: the step's answer */
    uint32_t slot;  /* step < 0: this field */
} mn__output;

struct mn_pipeline {
    char *name;
    mn_model_host host;
    mn__step *steps;
    size_t nsteps;
    uint32_t *order;   /* steps by stage, file order within a stage */
    uint32_t *stage_start; /* order[stage_start[s] .. stage_start[s + 1]) is stage s */
    size_t nstages;
    uint32_t nslots;
    uint32_t props_used; /* bit per MN__PROP_* read by some expression or output */
    mn__output *outputs;
    size_t noutputs;   /* 0 = every step's answer */
};

struct mn_pipelines {
    mn_model_host host;
    mn_pipeline *items;
    size_t n;
};

/* ---- a route: one text's run (run.c) -------------------------------------------------------- */

/* What running one step produced. Written only by the thread that ran it; the route's owner
 * reads it after seeing `done` (under the runner's lock when a helper ran it). */
typedef struct mn__step_out {
    mn_step_status status; /* OK or FAILED (a skip or timeout is decided by the owner) */
    char reason[256];      /* FAILED: why */
    const char *version;   /* the host's version text */
    mn_model *model;       /* held until the next run, so label strings stay valid */
    void *token;           /* the host's, for release */
    uint64_t ns;
    int entities;          /* MN__STEP_TAG: 1 = ents, 0 = tags */
    mn_prediction *preds;  /* MN__STEP_CLASSIFY */
    size_t npreds, preds_cap;
    mn_tagged *tags;
    size_t ntags, tags_cap;
    mn_entity *ents;
    size_t nents, ents_cap;
    mn_keyword *kws;
    size_t nkws, kws_cap;
    char lang[16];         /* keywords: the language asked for ("" = none) */
    size_t read;           /* bytes of the text the step read */
    int done;
} mn__step_out;

/* Why a step did not answer; the text is written only when asked for (mn_route_reason), so
 * routing costs no formatting. */
typedef enum mn__why {
    MN__WHY_NONE,
    MN__WHY_WHEN,    /* its `when` was false or unknown */
    MN__WHY_AFTER,   /* a step named in `after` did not answer (arg: that step) */
    MN__WHY_FAILED,  /* out.reason */
    MN__WHY_TIMEOUT, /* arg: how long it took (ms), or 0 if abandoned */
} mn__why;

typedef struct mn__step_state {
    mn_step_status status;
    mn__why why;
    int when_value; /* MN__WHY_WHEN: 0 false, -1 unknown */
    long arg;
    char reason[400];
} mn__step_state;

/* A step run by a helper thread. Owned by its route, until the route stops waiting for it
 * (a timeout): then it is an orphan, and the helper frees it, its answer and its copy of the
 * text when the step ends, giving its model back through `host`. */
typedef struct mn__task {
    struct mn__task *next;
    const mn_pipeline *p;
    const mn__step *st;
    const char *text;
    size_t len;
    char *copy;            /* the text, for steps with a timeout (they may outlive the call) */
    size_t copy_cap;
    mn__step_out *o;
    mn_route *rt;
    mn_model_host host;
    int orphan;            /* under the runner's lock */
} mn__task;

struct mn_route {
    const mn_pipeline *p;
    mn_model_host host;    /* of the last run: gives its models back (the pipeline may be gone) */
    mn__value *slots;
    size_t slots_cap;
    mn__step_out **out;    /* per step, owned (see mn__task for timed-out ones) */
    mn__step_state *state;
    mn__task **tasks;
    size_t steps_cap;
    mn_scratch *scratch;   /* for steps run on the calling thread */
    uint64_t total_ns, model_ns;
    size_t len;            /* bytes of the text of the last run */
    int pending;           /* tasks on helpers not finished (timed-out ones included) */
    mn_runner *runner;     /* the runner those tasks belong to */
    mn__buf json;
};

/* Runs one step on the calling thread into o (o->lang set by the caller for keywords). */
void mn__step_exec(const mn_pipeline *p, const mn__step *st, mn_scratch *s, const char *text,
                   size_t len, mn__step_out *o);


#endif
