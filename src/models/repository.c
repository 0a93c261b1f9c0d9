/* SPDX-License-Identifier: MIT
 *
 * Finding model files in a model repository (see micronlp/repository.h).
 */
#include "micronlp/repository.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

long mn_repo_parse_version(const char *s)
{
    if (!*s || *s == '0' || strlen(s) > 15)
        return 0;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* The model file of a version directory: model.mnlp, else the first *.mnlp, else the first
 * *.bin (by name). 0 and path filled, or -1. */
static int version_file(const char *dir, char *path, size_t cap, struct stat *st)
{
    if ((size_t)snprintf(path, cap, "%s/model.mnlp", dir) >= cap)
        return -1;
    if (stat(path, st) == 0 && S_ISREG(st->st_mode))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char best_mnlp[256] = "", best_bin[256] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof best_mnlp)
            continue;
        if (ends_with(de->d_name, ".mnlp") &&
            (!best_mnlp[0] || strcmp(de->d_name, best_mnlp) < 0))
            snprintf(best_mnlp, sizeof best_mnlp, "%s", de->d_name);
        else if (ends_with(de->d_name, ".bin") && (!best_bin[0] || strcmp(de->d_name, best_bin) < 0))
            snprintf(best_bin, sizeof best_bin, "%s", de->d_name);
    }
    closedir(d);
    const char *pick = best_mnlp[0] ? best_mnlp : best_bin[0] ? best_bin : NULL;
    if (!pick)
        return -1;
    if ((size_t)snprintf(path, cap, "%s/%s", dir, pick) >= cap)
        return -1;
    if (stat(path, st) != 0 || !S_ISREG(st->st_mode))
        return -1;
    return 0;
}

static int version_desc(const void *a, const void *b)
{
    long x = ((const mn_repo_version *)a)->vnum, y = ((const mn_repo_version *)b)->vnum;
    return x < y ? 1 : x > y ? -1 : 0;
}

size_t mn_repo_versions(const char *repo_dir, const char *name, mn_repo_version *out, size_t cap)
{
    size_t n = 0;
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/%s", repo_dir, name);
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(dir);
        if (!d)
            return 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL && n < cap) {
            long v = mn_repo_parse_version(de->d_name);
            if (!v)
                continue;
            char vdir[PATH_MAX];
            if ((size_t)snprintf(vdir, sizeof vdir, "%s/%s", dir, de->d_name) >= sizeof vdir)
                continue;
            if (stat(vdir, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            if (version_file(vdir, out[n].path, sizeof out[n].path, &out[n].st) != 0)
                continue;
            out[n++].vnum = v;
        }
        closedir(d);
    } else {
        static const char *const exts[] = {".mnlp", ".bin"};
        for (int i = 0; i < 2 && n == 0; i++) {
            snprintf(out[0].path, sizeof out[0].path, "%s/%s%s", repo_dir, name, exts[i]);
            if (stat(out[0].path, &out[0].st) == 0 && S_ISREG(out[0].st.st_mode)) {
                out[0].vnum = 1;
                n = 1;
            }
        }
    }
    qsort(out, n, sizeof *out, version_desc);
    return n;
}
