/* SPDX-License-Identifier: MIT
 *
 * The layout of a model repository on disk, shared by everything that finds models by name
 * (the server, pipelines run from the command line):
 *
 *   repo/<name>/<version>/model.mnlp   (or the first *.mnlp, else the first *.bin, by name)
 *   repo/<name>.mnlp | <name>.bin      a flat model file: version 1
 *
 * Versions are directories with a positive decimal name.
 */
#ifndef MICRONLP_REPOSITORY_H
#define MICRONLP_REPOSITORY_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

typedef struct mn_repo_version {
    long vnum;            /* the version number */
    char path[PATH_MAX];  /* its model file */
    struct stat st;       /* the file's, as found */
} mn_repo_version;

/* The versions of model `name` in repo_dir, highest first, into out[0..cap). Returns the
 * count (0 when there is no such model). */
size_t mn_repo_versions(const char *repo_dir, const char *name, mn_repo_version *out,
                        size_t cap);

/* A version directory's name -> its number, or 0 when it is not one ("01", "x", ""). */
long mn_repo_parse_version(const char *s);

#endif
