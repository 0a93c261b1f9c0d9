/* SPDX-License-Identifier: MIT
 *
 * Pipelines: each text goes only through the models it needs.
 *
 * A pipeline file (YAML) holds named pipelines; a pipeline is a list of steps, each naming a
 * model and optionally a `when:` condition over the text's own properties and earlier steps'
 * outputs (see src/pipeline/expr.h for the language):
 *
 *   pipelines:
 *     default:
 *       steps:
 *         - model: lang                       # a step is named after its model unless `name:`
 *         - model: spam
 *           when: lang.label == "eng" && len >= 20
 *           timeout_ms: 100
 *         - model: keywords
 *           lang: lang.label                  # the language the keywords step should use
 *           k: 5
 *       output:                               # what the combined result's "output" holds
 *         language: lang.label
 *         spam: spam.label
 *         keywords: keywords                  # a step name: its whole answer
 *
 * Step keys: model (required), name, when, k (answers kept, default 1 for classifiers, 5 for
 * keywords), threshold, timeout_ms, after (list of step names to wait for beyond those `when`
 * reads), lang (keywords: a field giving the language), max_bytes (the step reads only the
 * first N bytes, cut at a space: a language model needs no more than a paragraph),
 * first_bytes and sure_at (classifier and language steps: a first look at the first N bytes
 * is the answer when its best label is at least sure_at probable, default 0.99; otherwise the
 * step reads up to max_bytes, or all). Unknown keys, unknown models or
 * fields, type errors in expressions, duplicate names and cycles are refused at load with
 * "file:line:column: message".
 *
 * Fields an expression can read:
 *   the text: len (characters), bytes, words (runs of non-space bytes), lines, script
 *             ("Latin", "Cyrillic", ... the
 *             script of most letters, "none" without letters), has_url, has_email, has_digits
 *   a classifier / language step S: S.label (string), S.score (its probability),
 *             S.prob.LABEL (probability of one label of that model, 0 when not among the
 *             answers), S.ok
 *   a tagger step S: S.count (entities for BIO models, else tokens), S.ok
 *   a keywords step S: S.count, S.ok
 * A field of a step that was skipped or failed is missing (three-valued logic: see expr.h).
 *
 * Steps run in dependency order; steps with no dependency between them form one stage and
 * run in parallel when the runner has helper threads (mn_runner_new with threads > 0).
 * timeout_ms: a step on a helper thread is abandoned at its deadline (the helper finishes it
 * into memory it owns, so the caller never waits); a step on the calling thread cannot be
 * interrupted, so a late answer is dropped and the step recorded as timed out all the same.
 *
 * Models are not loaded by the pipeline: a host (the server's repository, or a directory for
 * the command line) binds step model names to models, so a pipeline follows hot swaps.
 */
#ifndef MICRONLP_PIPELINE_H
#define MICRONLP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"
#include "micronlp/models.h"

/* ---- the host: where models come from ----------------------------------------------------- */

typedef struct mn_model_host {
    void *ctx;
    /* Finds a model by name: returns a handle (opaque to the pipeline, stable for the host's
     * life) and its type, or NULL when there is no such model. Called at load time only. */
    void *(*find)(void *ctx, const char *name, mn_model_type *kind);
    /* The model to use now, for one step run: 0 with *model (valid until release), its version
     * text (same lifetime) and a token to give back to release; or a negative code when it
     * cannot serve now (MN_ENOTFOUND: not loaded; -EBUSY: every worker slot taken). */
    int (*acquire)(void *ctx, void *handle, mn_model **model, const char **version,
                   void **token);
    /* Optional (may be NULL): the step has finished predicting. A host that bounds each model's
     * concurrency gives the slot back here, while the model itself (its labels) stays held
     * until release. Called once per successful acquire, before release. */
    void (*done)(void *ctx, void *token);
    void (*release)(void *ctx, void *token);
    /* Optional (may be NULL): why the last find failed, e.g. "spam.mnlp: checksum mismatch". */
    const char *(*find_error)(void *ctx);
} mn_model_host;

/* A host over a directory of model files (NAME.mnlp, or NAME/<version>/model.mnlp as in a
 * model repository: the highest version), each opened on first use. For the command line and
 * tests. */
typedef struct mn_dir_host mn_dir_host;
int mn_dir_host_new(const char *dir, mn_dir_host **out, mn_err *err);
void mn_dir_host_free(mn_dir_host *h);
const mn_model_host *mn_dir_host_get(mn_dir_host *h);

/* ---- loading -------------------------------------------------------------------------------- */

typedef struct mn_pipelines mn_pipelines; /* a loaded pipeline file */
typedef struct mn_pipeline mn_pipeline;   /* one named pipeline of it */

/* Loads and validates a pipeline file against the host's models. Errors: MN_EFORMAT (YAML or
 * structure), MN_EINVAL (unknown model/field, type error, cycle ...), -errno for the file;
 * err: "path:line:column: message". */
int mn_pipelines_load(const char *path, const mn_model_host *host, mn_pipelines **out,
                      mn_err *err);
/* Same from memory; name is used in messages. */
int mn_pipelines_parse(const char *yaml, size_t len, const char *name, const mn_model_host *host,
                       mn_pipelines **out, mn_err *err);
void mn_pipelines_free(mn_pipelines *ps);

size_t mn_pipelines_count(const mn_pipelines *ps);
const mn_pipeline *mn_pipelines_at(const mn_pipelines *ps, size_t i);
/* By name (NULL or "" = the one named "default", else the first). NULL when unknown. */
const mn_pipeline *mn_pipelines_find(const mn_pipelines *ps, const char *name, size_t len);
const char *mn_pipeline_name(const mn_pipeline *p);
size_t mn_pipeline_step_count(const mn_pipeline *p);
const char *mn_pipeline_step_name(const mn_pipeline *p, size_t i);
const char *mn_pipeline_step_model(const mn_pipeline *p, size_t i);

/* ---- running -------------------------------------------------------------------------------- */

/* Runs pipelines: owns the helper threads that run independent steps in parallel (threads 0 =
 * every step on the calling thread). One runner serves any number of calling threads. */
typedef struct mn_runner mn_runner;
int mn_runner_new(int threads, mn_runner **out);
void mn_runner_free(mn_runner *r);

/* What happened to one text: per-thread working memory, reused from text to text. */
typedef struct mn_route mn_route;
int mn_route_new(mn_route **out);
void mn_route_free(mn_route *rt);
/* Lets go of the models the last run holds (waiting for any step still running on a helper)
 * and forgets its outcome: call before freeing the pipelines a route ran. */
void mn_route_reset(mn_route *rt);

typedef enum mn_step_status {
    MN_STEP_OK = 0,
    MN_STEP_SKIPPED = 1, /* its `when` was not true, or a step it waits for did not run */
    MN_STEP_FAILED = 2,  /* the model failed or is not loaded: the reason says */
    MN_STEP_TIMEOUT = 3, /* it did not answer within its timeout_ms */
} mn_step_status;

const char *mn_step_status_name(mn_step_status s); /* "ok", "skipped", "failed", "timeout" */

/* Runs pipeline p on text[0..len) (valid UTF-8; check with mn_utf8_validate first) and keeps
 * the outcome in rt until the next run. A step's failure is recorded in the result, not
 * returned: the call fails only with MN_EINVAL (bad arguments) or MN_ENOMEM. */
int mn_pipeline_run(const mn_pipeline *p, mn_runner *r, mn_route *rt, const char *text,
                    size_t len);

/* The outcome of the last run, step by step (steps in the pipeline's order). */
mn_step_status mn_route_status(const mn_route *rt, size_t step);
/* Why it was skipped or failed ("" when ok). */
const char *mn_route_reason(const mn_route *rt, size_t step);
/* Time spent in the step's model, nanoseconds (0 when it did not run). */
uint64_t mn_route_step_ns(const mn_route *rt, size_t step);
/* Time of the whole run, and of the routing itself (the run minus model time). */
uint64_t mn_route_total_ns(const mn_route *rt);
uint64_t mn_route_overhead_ns(const mn_route *rt);
/* Top label and its probability of a classification step (NULL when none). */
const char *mn_route_label(const mn_route *rt, size_t step, float *score);

/* The combined result as one JSON object:
 *   {"pipeline": NAME, "steps": {STEP: {"status", "model", "version", "ms",
 *        "labels": [{"label","score"}] | "entities": [...] | "tags": [...] | "keywords": [...],
 *        "read_bytes" (when the step read only the text's start: max_bytes, first_bytes),
 *        "reason"}}, "output": {...}, "ms": total}
 * The text is needed for entity and keyword spans. flags: MN_ROUTE_JSON_*. */
enum {
    MN_ROUTE_JSON_NO_TIMES = 1u << 0, /* leave out "ms" (results that must compare equal) */
    MN_ROUTE_JSON_NO_STEPS = 1u << 1, /* only "pipeline" and "output" */
};
/* Writes the JSON into a buffer owned by rt; *json stays valid until the next run or write.
 * Returns 0 or MN_ENOMEM. */
int mn_route_json(mn_route *rt, const char *text, size_t len, unsigned flags, const char **json,
                  size_t *json_len);

/* One step's object of that JSON ({"status", "model", ...}), for comparing steps across runs.
 * Same ownership as mn_route_json. */
int mn_route_step_json(mn_route *rt, size_t step, const char *text, size_t len, unsigned flags,
                       const char **json, size_t *json_len);

/* Human-readable account of the last run: one line per step, what ran and why others were
 * skipped (`micronlp route --explain`). Same ownership as mn_route_json. */
int mn_route_explain(mn_route *rt, const char **out, size_t *out_len);

#endif
