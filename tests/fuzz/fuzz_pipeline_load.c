/* SPDX-License-Identifier: MIT
 *
 * Fuzzes the pipeline file loader (YAML structure, names, expressions, outputs, cycles) with a
 * host that knows a classifier, a tagger and a keywords model by name but has none loaded, so
 * every input reaches validation without model files.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "micronlp/pipeline.h"

static int handles[3];

static void *find(void *ctx, const char *name, mn_model_type *kind)
{
    (void)ctx;
    static const struct {
        const char *name;
        mn_model_type kind;
    } known[] = {{"lang", MN_MODEL_LANGID}, {"ner", MN_MODEL_TAGGER}, {"keywords", MN_MODEL_KEYWORDS}};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, known[i].name) == 0) {
            *kind = known[i].kind;
            return &handles[i];
        }
    return NULL;
}

static int acquire(void *ctx, void *handle, mn_model **m, const char **version, void **token)
{
    (void)ctx, (void)handle, (void)m, (void)version, (void)token;
    return MN_ENOTFOUND;
}

static void release(void *ctx, void *token)
{
    (void)ctx, (void)token;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_model_host host = {.find = find, .acquire = acquire, .release = release};
    mn_pipelines *ps = NULL;
    mn_err err;
    if (mn_pipelines_parse((const char *)data, size, "fuzz.yaml", &host, &ps, &err) == 0) {
        /* Run what loaded: every step fails (no model), which exercises routing and JSON. */
        mn_route *rt;
        if (mn_route_new(&rt) == 0) {
            for (size_t i = 0; i < mn_pipelines_count(ps); i++) {
                const char *json;
                size_t len;
                if (mn_pipeline_run(mn_pipelines_at(ps, i), NULL, rt, "Hello world 42", 14) == 0)
                    mn_route_json(rt, "Hello world 42", 14, 0, &json, &len);
            }
            mn_route_free(rt);
        }
        mn_pipelines_free(ps);
    }
    return 0;
}
