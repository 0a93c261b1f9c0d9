/* SPDX-License-Identifier: MIT
 *
 * A model host over a model repository directory, for the command line and tests: each model a
 * pipeline names is opened once, at load time, in its highest version, and shared by every
 * run. (The server has its own host over its live repository, which follows hot swaps.)
 */
#include "pipeline/internal.h"

#include <stdio.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/repository.h"

enum { DIR_HOST_MAX = 64 };

typedef struct dir_model {
    char name[128];
    char version[24];
    mn_model *model;
} dir_model;

struct mn_dir_host {
    char *dir;
    mn_model_host host;
    dir_model models[DIR_HOST_MAX];
    size_t n;
    mn_err last; /* why the last find failed (a corrupted file, say) */
};

static const char *dir_find_error(void *ctx)
{
    return ((mn_dir_host *)ctx)->last.msg;
}

static void *dir_find(void *ctx, const char *name, mn_model_type *kind)
{
    mn_dir_host *h = ctx;
    mn_err_clear(&h->last);
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->models[i].name, name) == 0) {
            *kind = mn_model_kind(h->models[i].model);
            return &h->models[i];
        }
    if (h->n == DIR_HOST_MAX || strlen(name) >= sizeof h->models[0].name || strchr(name, '/') ||
        name[0] == '.')
        return NULL;
    mn_repo_version v;
    if (mn_repo_versions(h->dir, name, &v, 1) == 0)
        return NULL;
    dir_model *m = &h->models[h->n];
    if (mn_model_open(v.path, &m->model, &h->last) != 0)
        return NULL;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->version, sizeof m->version, "%ld", v.vnum);
    h->n++;
    *kind = mn_model_kind(m->model);
    return m;
}

/* The models stay open for the host's life: nothing to count per use. */
static int dir_acquire(void *ctx, void *handle, mn_model **model, const char **version,
                       void **token)
{
    (void)ctx;
    dir_model *m = handle;
    *model = m->model;
    *version = m->version;
    *token = NULL;
    return 0;
}

static void dir_release(void *ctx, void *token)
{
    (void)ctx;
    (void)token;
}

int mn_dir_host_new(const char *dir, mn_dir_host **out, mn_err *err)
{
    *out = NULL;
    mn_dir_host *h = mn_calloc(1, sizeof *h);
    if (!h || !(h->dir = mn_strndup(dir, strlen(dir)))) {
        mn_free(h);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    h->host = (mn_model_host){.ctx = h, .find = dir_find, .acquire = dir_acquire,
                              .release = dir_release, .find_error = dir_find_error};
    *out = h;
    return 0;
}

void mn_dir_host_free(mn_dir_host *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        mn_model_release(h->models[i].model);
    mn_free(h->dir);
    mn_free(h);
}

const mn_model_host *mn_dir_host_get(mn_dir_host *h)
{
    return &h->host;
}
