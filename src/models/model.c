/* SPDX-License-Identifier: MIT
 *
 * The model interface: opening a file of any supported type, reference counting, labels and
 * metadata kept in the base struct, per-thread scratch space, and the top-k selection that all
 * model types share. Model types plug in through mn_model_ops (see internal.h).
 */
#include "micronlp/models.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "internal.h"
#include "micronlp/alloc.h"

void mn__model_init(mn_model *m, const mn_model_ops *ops, mn_model_type type)
{
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->type = type;
    atomic_init(&m->refs, 1);
}

void mn__model_deinit(mn_model *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->nlabels; i++)
        mn_free(m->labels[i]);
    mn_free(m->labels);
    for (size_t i = 0; i < m->nmeta; i++) {
        mn_free(m->meta[i].key);
        mn_free(m->meta[i].value);
    }
    mn_free(m->meta);
    m->labels = NULL;
    m->meta = NULL;
    m->nlabels = 0;
    m->nmeta = 0;
}

int mn__model_set_labels(mn_model *m, char *const *labels, const size_t *lens, uint32_t n)
{
    char **copy = mn_calloc(n ? n : 1, sizeof *copy);
    if (!copy)
        return MN_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = lens ? lens[i] : strlen(labels[i]);
        copy[i] = mn_strndup(labels[i], len);
        if (!copy[i]) {
            for (uint32_t j = 0; j < i; j++)
                mn_free(copy[j]);
            mn_free(copy);
            return MN_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < m->nlabels; i++)
        mn_free(m->labels[i]);
    mn_free(m->labels);
    m->labels = copy;
    m->nlabels = n;
    return 0;
}

int mn__model_meta_set(mn_model *m, const char *key, const char *value)
{
    char *v = mn_strndup(value, strlen(value));
    if (!v)
        return MN_ENOMEM;
    for (size_t i = 0; i < m->nmeta; i++) {
        if (strcmp(m->meta[i].key, key) == 0) {
            mn_free(m->meta[i].value);
            m->meta[i].value = v;
            return 0;
        }
    }
    char *k = mn_strndup(key, strlen(key));
    mn_meta_pair *grown = k ? mn_realloc(m->meta, (m->nmeta + 1) * sizeof *grown) : NULL;
    if (!grown) {
        mn_free(k);
        mn_free(v);
        return MN_ENOMEM;
    }
    m->meta = grown;
    m->meta[m->nmeta++] = (mn_meta_pair){k, v};
    return 0;
}

/* ---- LABL / META sections --------------------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int append_str(mn_file_writer *w, const char *s)
{
    unsigned char len[4];
    size_t n = strlen(s);
    put_u32(len, (uint32_t)n);
    int rc = mn_file_writer_append(w, len, 4);
    return rc ? rc : mn_file_writer_append(w, s, n);
}

int mn__model_write_common(const mn_model *m, mn_file_writer *w)
{
    unsigned char n[4];
    int rc = mn_file_writer_begin(w, MN_TAG('L', 'A', 'B', 'L'));
    put_u32(n, m->nlabels);
    if (!rc)
        rc = mn_file_writer_append(w, n, 4);
    for (uint32_t i = 0; !rc && i < m->nlabels; i++)
        rc = append_str(w, m->labels[i]);
    if (!rc)
        rc = mn_file_writer_begin(w, MN_TAG('M', 'E', 'T', 'A'));
    put_u32(n, (uint32_t)m->nmeta);
    if (!rc)
        rc = mn_file_writer_append(w, n, 4);
    for (size_t i = 0; !rc && i < m->nmeta; i++) {
        rc = append_str(w, m->meta[i].key);
        if (!rc)
            rc = append_str(w, m->meta[i].value);
    }
    return rc;
}

/* Reads one length-prefixed string at *pos; returns a copy or NULL (bounds or memory). */
static char *read_str(const unsigned char *p, size_t size, size_t *pos, int *rc)
{
    if (size - *pos < 4) {
        *rc = MN_ECORRUPT;
        return NULL;
    }
    uint32_t len = get_u32(p + *pos);
    *pos += 4;
    if (size - *pos < len) {
        *rc = MN_ECORRUPT;
        return NULL;
    }
    char *s = mn_strndup((const char *)p + *pos, len);
    if (!s) {
        *rc = MN_ENOMEM;
        return NULL;
    }
    *pos += len;
    return s;
}

int mn__model_read_common(mn_model *m, const mn_file *f, mn_err *err)
{
    const void *data;
    size_t size, pos = 0;
    int rc = 0;
    if (mn_file_section(f, MN_TAG('L', 'A', 'B', 'L'), &data, &size) != 0 || size < 4)
        return mn_err_set(err, MN_ECORRUPT, "labels section missing");
    const unsigned char *p = data;
    uint32_t n = get_u32(p);
    pos = 4;
    if (n > (size - 4) / 4)
        return mn_err_set(err, MN_ECORRUPT, "label count %u does not fit its section", n);
    m->labels = mn_calloc(n ? n : 1, sizeof *m->labels);
    if (!m->labels)
        return mn_err_set(err, MN_ENOMEM, "out of memory reading labels");
    for (uint32_t i = 0; i < n; i++) {
        m->labels[i] = read_str(p, size, &pos, &rc);
        if (!m->labels[i])
            return mn_err_set(err, rc, "label %u is damaged", i);
        m->nlabels = i + 1;
    }
    if (mn_file_section(f, MN_TAG('M', 'E', 'T', 'A'), &data, &size) != 0 || size < 4)
        return mn_err_set(err, MN_ECORRUPT, "metadata section missing");
    p = data;
    n = get_u32(p);
    pos = 4;
    if (n > (size - 4) / 8)
        return mn_err_set(err, MN_ECORRUPT, "metadata count %u does not fit its section", n);
    m->meta = mn_calloc(n ? n : 1, sizeof *m->meta);
    if (!m->meta)
        return mn_err_set(err, MN_ENOMEM, "out of memory reading metadata");
    for (uint32_t i = 0; i < n; i++) {
        char *k = read_str(p, size, &pos, &rc);
        char *v = k ? read_str(p, size, &pos, &rc) : NULL;
        if (!v) {
            mn_free(k);
            return mn_err_set(err, rc, "metadata entry %u is damaged", i);
        }
        m->meta[i] = (mn_meta_pair){k, v};
        m->nmeta = i + 1;
    }
    return 0;
}

/* ---- public API ---------------------------------------------------------------------------- */

int mn_model_open(const char *path, mn_model **out, mn_err *err)
{
    unsigned char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    ssize_t got = read(fd, head, sizeof head);
    int e = errno;
    close(fd);
    if (got < 0)
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    if (got >= 4 && mn__fasttext_sniff(head, (size_t)got))
        return mn__fasttext_open(path, out, err);
    mn_file *f = NULL;
    int rc = mn_file_open(path, &f, err);
    if (rc)
        return rc;
    switch (mn_file_model_type(f)) {
    case MN_MODEL_CLASSIFIER:
        rc = mn__classifier_load(f, out, err); /* takes ownership of f, also on failure */
        if (rc)
            mn_err_prefix(err, "%s", path);
        return rc;
    case MN_MODEL_TAGGER:
        rc = mn__tagger_load(f, out, err);
        if (rc)
            mn_err_prefix(err, "%s", path);
        return rc;
    case MN_MODEL_LANGID:
        rc = mn__langid_load(f, out, err);
        if (rc)
            mn_err_prefix(err, "%s", path);
        return rc;
    case MN_MODEL_KEYWORDS:
        rc = mn__keywords_load(f, out, err);
        if (rc)
            mn_err_prefix(err, "%s", path);
        return rc;
    default:
        rc = mn_err_set(err, MN_EUNSUPPORTED, "%s: model type %u is not known to this build",
                        path, mn_file_model_type(f));
        mn_file_close(f);
        return rc;
    }
}

mn_model *mn_model_retain(mn_model *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void mn_model_release(mn_model *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        m->ops->destroy(m);
}

int mn_model_save(const mn_model *m, const char *path, mn_err *err)
{
    if (!m || !path)
        return mn_err_set(err, MN_EINVAL, "no model or path");
    return m->ops->save(m, path, err);
}

mn_model_type mn_model_kind(const mn_model *m)
{
    return m->type;
}

const char *mn_model_type_name(const mn_model *m)
{
    return m->ops->name;
}

uint32_t mn_model_label_count(const mn_model *m)
{
    return m->nlabels;
}

const char *mn_model_label(const mn_model *m, uint32_t i)
{
    return i < m->nlabels ? m->labels[i] : NULL;
}

int32_t mn_model_label_find(const mn_model *m, const char *name, size_t len)
{
    for (uint32_t i = 0; i < m->nlabels; i++)
        if (strlen(m->labels[i]) == len && memcmp(m->labels[i], name, len) == 0)
            return (int32_t)i;
    return -1;
}

size_t mn_model_meta_count(const mn_model *m)
{
    return m->nmeta;
}

void mn_model_meta_get(const mn_model *m, size_t i, const char **key, const char **value)
{
    *key = i < m->nmeta ? m->meta[i].key : NULL;
    *value = i < m->nmeta ? m->meta[i].value : NULL;
}

const char *mn_model_meta(const mn_model *m, const char *key)
{
    for (size_t i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta[i].key, key) == 0)
            return m->meta[i].value;
    return NULL;
}

size_t mn_model_size_bytes(const mn_model *m)
{
    return m->size_bytes;
}

int mn_model_predict(const mn_model *m, mn_scratch *s, const char *text, size_t len, int k,
                     float threshold, mn_prediction *out, size_t *n_out)
{
    if (!m || !s || (!text && len) || k < 1 || !out || !n_out)
        return MN_EINVAL;
    return m->ops->predict(m, s, text ? text : "", len, k, threshold, out, n_out);
}

/* ---- scratch -------------------------------------------------------------------------------- */

int mn_scratch_new(mn_scratch **out)
{
    mn_scratch *s = mn_calloc(1, sizeof *s);
    if (!s)
        return MN_ENOMEM;
    *out = s;
    return 0;
}

void mn_scratch_free(mn_scratch *s)
{
    if (!s)
        return;
    for (int i = 0; i < MN_SCRATCH_SLOTS; i++)
        mn_free(s->buf[i]);
    mn_free(s);
}

void *mn__scratch_reserve(mn_scratch *s, int slot, size_t size_bytes)
{
    if (size_bytes <= s->cap[slot])
        return s->buf[slot];
    size_t cap = s->cap[slot] ? s->cap[slot] : 256;
    while (cap < size_bytes)
        cap *= 2;
    /* Contents need not survive, so free + malloc avoids realloc's copy. */
    void *p = mn_malloc(cap);
    if (!p)
        return NULL;
    mn_free(s->buf[slot]);
    s->buf[slot] = p;
    s->cap[slot] = cap;
    return p;
}

/* ---- top-k ---------------------------------------------------------------------------------- */

size_t mn__topk(const float *probs, uint32_t n, int k, float threshold, mn_prediction *out)
{
    /* Insertion into a sorted array of at most k: k is small (1..10 typically), so this beats
     * a heap on real sizes and needs no memory. */
    size_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        float p = probs[i];
        if (p < threshold)
            continue;
        if (count == (size_t)k && p <= out[count - 1].prob)
            continue;
        size_t j = count < (size_t)k ? count++ : count - 1;
        while (j > 0 && out[j - 1].prob < p) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = (mn_prediction){i, p};
    }
    return count;
}
