/* SPDX-License-Identifier: MIT
 *
 * The model repository: which models exist on disk, which version of each is served, loading,
 * and the hot swap. Layout (see include/micronlp/serve.h):
 *
 *   repo/<name>/<version>/model.mnlp   (or the first *.mnlp, else the first *.bin)
 *   repo/<name>/config                 optional: default_version, workers, queue_depth,
 *                                      max_texts, max_text_bytes ("key = value", # comments)
 *   repo/<name>.mnlp | <name>.bin      a flat model file: version 1
 *
 * A scan picks for each model the pinned version (admin or config default_version) or else the
 * highest one whose file loads. The new model is opened and verified (checksums) while the old
 * one keeps answering; then the entry's pointer is exchanged under its lock and the server's
 * reference to the old version is dropped, so requests still running on it finish there and
 * the last one frees it. A file that fails to load is logged once and remembered by (path,
 * mtime, size), so a corrupted or half-copied file is refused without disturbing the version
 * being served, and retried only when it changes.
 */
#include "serve/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "micronlp/repository.h"

/* ---- versions ----------------------------------------------------------------------------- */

mn__version *mn__version_retain(mn__version *v)
{
    if (v)
        atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    return v;
}

void mn__version_release(mn__version *v)
{
    if (!v)
        return;
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1) {
        mn_model_release(v->model);
        mn_free(v);
    }
}

mn__version *mn__entry_acquire(mn__entry *e)
{
    pthread_mutex_lock(&e->mu);
    mn__version *v = mn__version_retain(e->cur);
    pthread_mutex_unlock(&e->mu);
    return v;
}

/* Installs v (may be NULL) as the served version and drops the old one. */
static void entry_swap(mn__entry *e, mn__version *v)
{
    pthread_mutex_lock(&e->mu);
    mn__version *old = e->cur;
    e->cur = v;
    pthread_mutex_unlock(&e->mu);
    mn__version_release(old);
}

int mn__entry_enter(mn__entry *e, unsigned timeout_ms)
{
    int rc = 0;
    pthread_mutex_lock(&e->mu);
    if (e->busy < e->workers) {
        e->busy++;
    } else if (e->waiting < e->queue_depth) {
        struct timespec until = mn__deadline_in_ms(timeout_ms);
        e->waiting++;
        while (e->busy >= e->workers) {
            if (pthread_cond_timedwait(&e->cv, &e->mu, &until) == ETIMEDOUT)
                break;
        }
        e->waiting--;
        if (e->busy < e->workers)
            e->busy++;
        else
            rc = MN__EOVERLOAD;
    } else {
        rc = MN__EOVERLOAD;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void mn__entry_leave(mn__entry *e)
{
    pthread_mutex_lock(&e->mu);
    e->busy--;
    if (e->waiting)
        pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* ---- names and files ---------------------------------------------------------------------- */

static int valid_name(const char *s, size_t len)
{
    if (len == 0 || len >= MN__NAME_MAX || s[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

typedef mn_repo_version cand;

enum { MAX_CANDS = 64 };

static size_t list_candidates(mn_server *s, const char *name, cand *out, size_t cap)
{
    return mn_repo_versions(s->cfg.repo_dir, name, out, cap);
}

size_t mn__repo_versions(mn_server *s, const char *name, long *out, size_t cap)
{
    cand *c = mn_malloc(sizeof(cand) * MAX_CANDS);
    if (!c)
        return 0;
    size_t n = list_candidates(s, name, c, MAX_CANDS);
    size_t m = 0;
    for (size_t i = n; i-- > 0 && m < cap;)
        out[m++] = c[i].vnum;
    mn_free(c);
    return m;
}

/* ---- per-model config --------------------------------------------------------------------- */

/* Reads repo/<name>/config if present. Unknown keys and bad values are logged and ignored so a
 * typo never takes a model down. */
static void apply_config(mn_server *s, mn__entry *e)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/config", s->cfg.repo_dir, e->name);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT) /* a config that exists but cannot be read is not silently absent */
            mn__log(s, "warn", "event=config path=%s error=\"%s\"", path, strerror(errno));
        return;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        char *sep = strpbrk(p, "=:");
        if (!sep) {
            mn__log(s, "warn", "event=config path=%s line=%d error=\"expected key = value\"",
                    path, lineno);
            continue;
        }
        char *kend = sep;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        *kend = '\0';
        char *end;
        long long v = strtoll(sep + 1, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
            end++;
        if (*end != '\0' || v < 0) {
            mn__log(s, "warn", "event=config path=%s line=%d key=%s error=\"not a number\"",
                    path, lineno, p);
            continue;
        }
        pthread_mutex_lock(&e->mu);
        if (strcmp(p, "default_version") == 0)
            e->config_default = (long)v;
        else if (strcmp(p, "workers") == 0 && v >= 1 && v <= 1024)
            e->workers = (int)v;
        else if (strcmp(p, "queue_depth") == 0 && v <= 1000000)
            e->queue_depth = (unsigned)v;
        else if (strcmp(p, "max_texts") == 0)
            e->max_texts = (size_t)v;
        else if (strcmp(p, "max_text_bytes") == 0)
            e->max_text_bytes = (size_t)v;
        else
            mn__log(s, "warn", "event=config path=%s line=%d key=%s error=\"unknown key or "
                    "value out of range\"", path, lineno, p);
        pthread_mutex_unlock(&e->mu);
    }
    if (ferror(f))
        mn__log(s, "warn", "event=config path=%s line=%d error=\"read error: %s\"", path,
                lineno + 1, strerror(errno));
    fclose(f);
}

/* ---- entries ------------------------------------------------------------------------------ */

mn__entry *mn__repo_find(mn_server *s, const char *name, size_t len)
{
    size_t n = atomic_load_explicit(&s->nentries, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        mn__entry *e = s->entries[i];
        if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
            return e;
    }
    return NULL;
}

static mn__entry *entry_create(mn_server *s, const char *name)
{
    size_t n = atomic_load(&s->nentries);
    if (n >= MN__MAX_MODELS)
        return NULL;
    mn__entry *e = mn_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->name, sizeof e->name, "%s", name);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    e->workers = s->cfg.workers > 0 ? s->cfg.workers : s->cfg.threads;
    e->queue_depth = s->cfg.queue_depth;
    apply_config(s, e);
    s->entries[n] = e;
    atomic_store_explicit(&s->nentries, n + 1, memory_order_release);
    return e;
}

static int is_refused(const mn__entry *e, const cand *c)
{
    for (int i = 0; i < e->nrefused; i++)
        if (strcmp(e->refused[i].path, c->path) == 0 && e->refused[i].mtime == c->st.st_mtime &&
            e->refused[i].size == c->st.st_size)
            return 1;
    return 0;
}

static void remember_refused(mn__entry *e, const cand *c)
{
    int i = e->nrefused < MN__REFUSED_MAX ? e->nrefused++ : 0;
    if (e->nrefused == MN__REFUSED_MAX)
        memmove(&e->refused[0], &e->refused[1], sizeof e->refused[0] * (MN__REFUSED_MAX - 1)),
            i = MN__REFUSED_MAX - 1;
    snprintf(e->refused[i].path, sizeof e->refused[i].path, "%s", c->path);
    e->refused[i].mtime = c->st.st_mtime;
    e->refused[i].size = c->st.st_size;
}

static int same_file(const mn__version *v, const cand *c)
{
    return v && v->vnum == c->vnum && strcmp(v->path, c->path) == 0 && v->ino == c->st.st_ino &&
           v->mtime == c->st.st_mtime && v->file_size == c->st.st_size;
}

/* Opens candidate c and swaps it in. */
static int load_cand(mn_server *s, mn__entry *e, const cand *c, mn_err *err)
{
    uint64_t t0 = mn__now_ns();
    mn_model *m = NULL;
    int rc = mn_model_open(c->path, &m, err);
    if (rc != 0) {
        if (!is_refused(e, c)) {
            remember_refused(e, c);
            mn__log(s, "error", "event=refused model=%s version=%ld path=%s error=\"%s\"",
                    e->name, c->vnum, c->path, err && err->msg[0] ? err->msg : mn_strerror(rc));
        }
        return rc;
    }
    mn__version *v = mn_calloc(1, sizeof *v);
    if (!v) {
        mn_model_release(m);
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    }
    atomic_init(&v->refs, 1);
    v->model = m;
    v->entry = e;
    v->vnum = c->vnum;
    snprintf(v->version, sizeof v->version, "%ld", c->vnum);
    snprintf(v->path, sizeof v->path, "%s", c->path);
    v->load_seconds = (double)(mn__now_ns() - t0) / 1e9;
    v->size_bytes = mn_model_size_bytes(m);
    v->mtime = c->st.st_mtime;
    v->file_size = c->st.st_size;
    v->ino = c->st.st_ino;
    mn__version *old = mn__entry_acquire(e);
    entry_swap(e, v);
    if (old)
        mn__log(s, "info", "event=swap model=%s from=%s to=%s path=%s load_ms=%.2f", e->name,
                old->version, v->version, v->path, v->load_seconds * 1e3);
    else
        mn__log(s, "info", "event=load model=%s version=%s path=%s type=%s labels=%u "
                "size_bytes=%zu load_ms=%.2f", e->name, v->version, v->path,
                mn_model_type_name(m), mn_model_label_count(m), v->size_bytes,
                v->load_seconds * 1e3);
    mn__version_release(old);
    return 0;
}

/* Brings model `name` up to date with the disk. Caller holds repo_mu. */
enum { SYNC_UNLOADED = 1, SYNC_REOPEN = 2 };
static int sync_model(mn_server *s, const char *name, int flags, mn_err *err)
{
    cand *c = mn_malloc(sizeof(cand) * MAX_CANDS);
    if (!c)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    int rc = 0;
    size_t n = list_candidates(s, name, c, MAX_CANDS);
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    if (n == 0) {
        rc = mn_err_set(err, MN_ENOTFOUND, "model %s: no version in the repository", name);
        goto done;
    }
    if (!e && !(e = entry_create(s, name))) {
        rc = mn_err_set(err, MN_ENOMEM, "model %s: cannot add (out of memory or too many "
                        "models)", name);
        goto done;
    }
    if (e->unloaded && !(flags & SYNC_UNLOADED))
        goto done;
    long want = e->pinned ? e->pinned : e->config_default;
    mn__version *cur = mn__entry_acquire(e);
    rc = MN_ENOTFOUND;
    mn_err_set(err, MN_ENOTFOUND, "model %s: version %ld not found", name, want);
    for (size_t i = 0; i < n; i++) {
        if (want && c[i].vnum != want)
            continue;
        if (same_file(cur, &c[i]) && !(flags & SYNC_REOPEN)) {
            rc = 0;
            break;
        }
        if (is_refused(e, &c[i]) && !(flags & SYNC_REOPEN)) {
            rc = mn_err_set(err, MN_ECORRUPT, "model %s version %ld: refused earlier", name,
                            c[i].vnum);
            continue;
        }
        rc = load_cand(s, e, &c[i], err);
        if (rc == 0)
            break;
        if (cur && c[i].vnum == cur->vnum)
            break; /* the served version's file went bad in place: keep serving it */
    }
    mn__version_release(cur);
    if (rc == 0) {
        e->unloaded = 0;
        mn_err_clear(err);
    }
done:
    mn_free(c);
    return rc;
}

int mn__repo_scan(mn_server *s)
{
    pthread_mutex_lock(&s->repo_mu);
    DIR *d = opendir(s->cfg.repo_dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char name[MN__NAME_MAX + 8];
            size_t len = strlen(de->d_name);
            if (len >= sizeof name)
                continue;
            memcpy(name, de->d_name, len + 1);
            struct stat st;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", s->cfg.repo_dir, name);
            if (stat(path, &st) != 0)
                continue;
            if (S_ISREG(st.st_mode)) {
                if (ends_with(name, ".mnlp"))
                    name[len - 5] = '\0';
                else if (ends_with(name, ".bin"))
                    name[len - 4] = '\0';
                else
                    continue;
            } else if (!S_ISDIR(st.st_mode)) {
                continue;
            }
            if (!valid_name(name, strlen(name)) || !mn__model_allowed(s, name))
                continue;
            mn_err err;
            mn_err_clear(&err);
            sync_model(s, name, 0, &err);
        }
        closedir(d);
    }
    int serving = 0;
    size_t n = atomic_load(&s->nentries);
    for (size_t i = 0; i < n; i++) {
        mn__version *v = mn__entry_acquire(s->entries[i]);
        serving += v != NULL;
        mn__version_release(v);
    }
    pthread_mutex_unlock(&s->repo_mu);
    return serving;
}

int mn__repo_load(mn_server *s, const char *name, long version, int force, mn_err *err)
{
    if (!valid_name(name, strlen(name)))
        return mn_err_set(err, MN_EINVAL, "invalid model name");
    pthread_mutex_lock(&s->repo_mu);
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    long saved_pin = e ? e->pinned : 0;
    if (e) {
        if (version)
            e->pinned = version;
        apply_config(s, e);
    }
    int flags = SYNC_UNLOADED | (force ? SYNC_REOPEN : 0);
    int rc = sync_model(s, name, flags, err);
    if (rc == 0 && !e && version) {
        /* A first load of a specific version: pin it, then sync again. */
        e = mn__repo_find(s, name, strlen(name));
        if (e) {
            e->pinned = version;
            rc = sync_model(s, name, SYNC_UNLOADED, err);
        }
    } else if (rc != 0 && e) {
        e->pinned = saved_pin;
    }
    pthread_mutex_unlock(&s->repo_mu);
    return rc;
}

int mn__repo_unload(mn_server *s, const char *name, mn_err *err)
{
    pthread_mutex_lock(&s->repo_mu);
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    int rc = 0;
    if (!e || (!e->cur && e->unloaded)) {
        rc = mn_err_set(err, MN_ENOTFOUND, "model %s is not loaded", name);
    } else {
        e->unloaded = 1;
        entry_swap(e, NULL);
        mn__log(s, "info", "event=unload model=%s", name);
    }
    pthread_mutex_unlock(&s->repo_mu);
    return rc;
}

int mn__repo_set_default(mn_server *s, const char *name, long version, mn_err *err)
{
    pthread_mutex_lock(&s->repo_mu);
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    int rc;
    if (!e) {
        rc = mn_err_set(err, MN_ENOTFOUND, "model %s is not known", name);
    } else {
        long saved = e->pinned;
        e->pinned = version;
        rc = sync_model(s, name, 0, err);
        if (rc != 0)
            e->pinned = saved;
        else
            mn__log(s, "info", "event=default model=%s version=%ld", name, version);
    }
    pthread_mutex_unlock(&s->repo_mu);
    return rc;
}

int mn__repo_set_workers(mn_server *s, const char *name, int workers, long queue_depth,
                         mn_err *err)
{
    mn__entry *e = mn__repo_find(s, name, strlen(name));
    if (!e)
        return mn_err_set(err, MN_ENOTFOUND, "model %s is not known", name);
    pthread_mutex_lock(&e->mu);
    if (workers > 0)
        e->workers = workers;
    if (queue_depth >= 0)
        e->queue_depth = (unsigned)queue_depth;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    mn__log(s, "info", "event=workers model=%s workers=%d queue_depth=%u", name, e->workers,
            e->queue_depth);
    return 0;
}

void mn__repo_free(mn_server *s)
{
    size_t n = atomic_load(&s->nentries);
    for (size_t i = 0; i < n; i++) {
        mn__entry *e = s->entries[i];
        mn__version_release(e->cur);
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->cv);
        mn_free(e);
    }
    atomic_store(&s->nentries, 0);
}
