/* SPDX-License-Identifier: MIT
 *
 * What the model-loader fuzz drivers share: random bytes would never pass a model file's
 * checksums, so a driver cuts its input into the sections of one model type, wraps them in a
 * valid container, opens that as a model and uses it.
 */
#ifndef MN_FUZZ_SECTIONS_H
#define MN_FUZZ_SECTIONS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "micronlp/models.h"
#include "models/classifier.h"
#include "models/format.h"

/* Raises w to the format version a saved classifier with the parameter block params (its
 * first 64 bytes, CLSH) would have, so that the prediction paths of 6-bit rows and newer token
 * flags are reached, not only refused. */
static inline void fuzz_need_clf_version(mn_file_writer *w, const uint8_t *params)
{
    mn_clf_params p;
    memcpy(&p, params, sizeof p);
    mn_file_writer_need_version(w, mn__clf_min_version(&p));
}

/* Adds one section per tag to w, each cut from data[pos..size) as a 2-byte little-endian
 * length and that many bytes (fewer at the end of the input); stops when the input runs out. */
static inline void fuzz_add_sections(mn_file_writer *w, const uint32_t *tags, size_t ntags,
                                     const uint8_t *data, size_t size, size_t pos)
{
    for (size_t i = 0; i < ntags && pos + 2 <= size; i++) {
        size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        mn_file_writer_add(w, tags[i], data + pos, len);
        pos += len;
    }
}

/* Writes w to a file of /dev/shm named after name and the process, and if it opens as a model
 * calls use with it and a fresh scratch; then removes the file and frees w. */
static inline void fuzz_open_and_use(mn_file_writer *w, const char *name,
                                     void (*use)(const mn_model *m, mn_scratch *s))
{
    char path[96];
    snprintf(path, sizeof path, "/dev/shm/fuzz-%s-%d.mnlp", name, (int)getpid());
    mn_err err;
    if (mn_file_writer_commit(w, path, &err) == 0) {
        mn_model *m = NULL;
        if (mn_model_open(path, &m, &err) == 0) {
            mn_scratch *s;
            if (mn_scratch_new(&s) == 0) {
                use(m, s);
                mn_scratch_free(s);
            }
            mn_model_release(m);
        }
        unlink(path);
    }
    mn_file_writer_free(w);
}

#endif
