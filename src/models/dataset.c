/* SPDX-License-Identifier: MIT
 *
 * Labelled data sets for training and evaluation, read whole into memory: one buffer holds the
 * file, each example is a span of it plus label indices. Reads fastText's "__label__x text"
 * lines and "label<TAB>text" lines, and refuses bad lines with "path:line: reason" instead of
 * skipping them, so a data set is never silently smaller than its file.
 */
#include "micronlp/models.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "micronlp/alloc.h"
#include "micronlp/text.h"

#define MAX_LINE_BYTES (1u << 20)
#define LABEL_PREFIX "__label__"
#define LABEL_PREFIX_LEN 9

typedef struct example {
    size_t off;      /* text offset in buf */
    uint32_t len;    /* text length */
    uint32_t lab0;   /* first label index in dataset->labs */
    uint32_t nlab;
} example;

struct mn_dataset {
    char *buf; /* the file, NUL-terminated */
    size_t size;
    example *ex;
    size_t nex, capex;
    uint32_t *labs;
    size_t nlabs, caplabs;
    char **names; /* label names */
    uint32_t nnames, capnames;
    uint32_t *slots; /* open-addressing map: name hash -> index + 1 */
    uint32_t nslots;
    uint64_t hash;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = mn_realloc(*p, c * elem);
    if (!q)
        return MN_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int rehash(mn_dataset *d)
{
    uint32_t n = d->nslots ? d->nslots * 2 : 64;
    uint32_t *slots = mn_calloc(n, sizeof *slots);
    if (!slots)
        return MN_ENOMEM;
    for (uint32_t i = 0; i < d->nnames; i++) {
        uint64_t h = mn_hash64(d->names[i], strlen(d->names[i]));
        uint32_t j = (uint32_t)h & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = i + 1;
    }
    mn_free(d->slots);
    d->slots = slots;
    d->nslots = n;
    return 0;
}

/* Index of label name[0..len), adding it if add is set. Returns -1 if absent and not added,
 * MN_ENOMEM on failure. */
static int64_t label_index(mn_dataset *d, const char *name, size_t len, int add)
{
    if (d->nslots) {
        uint64_t h = mn_hash64(name, len);
        for (uint32_t j = (uint32_t)h & (d->nslots - 1); d->slots[j];
             j = (j + 1) & (d->nslots - 1)) {
            const char *s = d->names[d->slots[j] - 1];
            if (strlen(s) == len && memcmp(s, name, len) == 0)
                return d->slots[j] - 1;
        }
    }
    if (!add)
        return -1;
    if ((d->nnames + 1) * 2 > d->nslots && rehash(d))
        return MN_ENOMEM;
    size_t cap = d->capnames;
    if (grow((void **)&d->names, &cap, d->nnames + 1, sizeof *d->names))
        return MN_ENOMEM;
    d->capnames = (uint32_t)cap;
    char *copy = mn_strndup(name, len);
    if (!copy)
        return MN_ENOMEM;
    d->names[d->nnames] = copy;
    uint64_t h = mn_hash64(name, len);
    uint32_t j = (uint32_t)h & (d->nslots - 1);
    while (d->slots[j])
        j = (j + 1) & (d->nslots - 1);
    d->slots[j] = d->nnames + 1;
    return d->nnames++;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static int add_label(mn_dataset *d, const char *name, size_t len)
{
    int64_t idx = label_index(d, name, len, 1);
    if (idx < 0)
        return MN_ENOMEM;
    if (grow((void **)&d->labs, &d->caplabs, d->nlabs + 1, sizeof *d->labs))
        return MN_ENOMEM;
    /* A label repeated on one line counts once. */
    example *e = &d->ex[d->nex];
    for (uint32_t i = 0; i < e->nlab; i++)
        if (d->labs[e->lab0 + i] == (uint32_t)idx)
            return 0;
    d->labs[d->nlabs++] = (uint32_t)idx;
    e->nlab++;
    return 0;
}

/* Parses one line (no newline) into a new example. */
static int parse_line(mn_dataset *d, const char *path, size_t lineno, size_t off, size_t len,
                      mn_data_format fmt, mn_err *err)
{
    const char *line = d->buf + off;
    size_t bad;
    if (len > MAX_LINE_BYTES)
        return mn_err_set(err, MN_ETOOBIG, "%s:%zu: line is %zu bytes, longer than the 1 MiB limit",
                          path, lineno, len);
    if (mn_utf8_validate(line, len, &bad) != 0)
        return mn_err_set(err, MN_EUTF8, "%s:%zu: invalid UTF-8 at byte %zu", path, lineno,
                          bad + 1);
    if (grow((void **)&d->ex, &d->capex, d->nex + 1, sizeof *d->ex))
        return mn_err_set(err, MN_ENOMEM, "out of memory reading %s", path);
    example *e = &d->ex[d->nex];
    *e = (example){.lab0 = (uint32_t)d->nlabs};
    size_t i = 0;
    if (fmt == MN_DATA_FASTTEXT) {
        for (;;) {
            while (i < len && is_space(line[i]))
                i++;
            if (len - i < LABEL_PREFIX_LEN || memcmp(line + i, LABEL_PREFIX, LABEL_PREFIX_LEN))
                break;
            size_t start = i + LABEL_PREFIX_LEN, end = start;
            while (end < len && !is_space(line[end]))
                end++;
            if (end == start)
                return mn_err_set(err, MN_EFORMAT, "%s:%zu: empty label name after __label__",
                                  path, lineno);
            if (add_label(d, line + start, end - start))
                return mn_err_set(err, MN_ENOMEM, "out of memory reading %s", path);
            i = end;
        }
        if (e->nlab == 0)
            return mn_err_set(err, MN_EFORMAT,
                              "%s:%zu: no label (expected \"__label__NAME text\")", path, lineno);
    } else {
        const char *tab = memchr(line, '\t', len);
        if (!tab)
            return mn_err_set(err, MN_EFORMAT, "%s:%zu: no tab (expected \"LABEL<TAB>TEXT\")",
                              path, lineno);
        size_t lend = (size_t)(tab - line);
        size_t s = 0;
        while (s <= lend) {
            size_t t = s;
            while (t < lend && line[t] != ',')
                t++;
            size_t a = s, b = t;
            while (a < b && is_space(line[a]))
                a++;
            while (b > a && is_space(line[b - 1]))
                b--;
            if (b > a && add_label(d, line + a, b - a))
                return mn_err_set(err, MN_ENOMEM, "out of memory reading %s", path);
            s = t + 1;
        }
        if (e->nlab == 0)
            return mn_err_set(err, MN_EFORMAT, "%s:%zu: empty label before the tab", path,
                              lineno);
        i = lend + 1;
    }
    while (i < len && is_space(line[i]))
        i++;
    size_t end = len;
    while (end > i && is_space(line[end - 1]))
        end--;
    if (end == i)
        return mn_err_set(err, MN_EFORMAT, "%s:%zu: label with no text", path, lineno);
    e->off = off + i;
    e->len = (uint32_t)(end - i);
    d->nex++;
    return 0;
}

static int read_file(const char *path, char **buf, size_t *size, mn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    size_t cap = 1 << 16, n = 0;
    char *b = mn_malloc(cap);
    int rc = 0;
    while (b) {
        if (n + 1 >= cap) {
            char *g = mn_realloc(b, cap * 2);
            if (!g) {
                mn_free(b);
                b = NULL;
                break;
            }
            b = g;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                rc = mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
            }
            break;
        }
    }
    fclose(f);
    if (!b)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
    if (rc) {
        mn_free(b);
        return rc;
    }
    b[n] = '\0';
    *buf = b;
    *size = n;
    return 0;
}

int mn_dataset_load(const char *path, mn_data_format fmt, const mn_model *labels_from,
                    mn_dataset **out, mn_err *err)
{
    if (!path || !out)
        return mn_err_set(err, MN_EINVAL, "no path");
    mn_dataset *d = mn_calloc(1, sizeof *d);
    if (!d)
        return mn_err_set(err, MN_ENOMEM, "out of memory");
    int rc = read_file(path, &d->buf, &d->size, err);
    if (rc)
        goto fail;
    d->hash = mn_hash64(d->buf, d->size);
    if (labels_from) {
        for (uint32_t i = 0; i < mn_model_label_count(labels_from); i++) {
            const char *l = mn_model_label(labels_from, i);
            if (label_index(d, l, strlen(l), 1) < 0) {
                rc = mn_err_set(err, MN_ENOMEM, "out of memory");
                goto fail;
            }
        }
    }
    size_t lineno = 0, pos = 0;
    while (pos < d->size) {
        const char *nl = memchr(d->buf + pos, '\n', d->size - pos);
        size_t end = nl ? (size_t)(nl - d->buf) : d->size;
        lineno++;
        size_t len = end - pos;
        if (len && d->buf[pos + len - 1] == '\r')
            len--;
        size_t k = 0;
        while (k < len && (is_space(d->buf[pos + k])))
            k++;
        if (k < len) {
            mn_data_format f = fmt;
            if (f == MN_DATA_AUTO)
                f = fmt = (len - k >= LABEL_PREFIX_LEN &&
                           memcmp(d->buf + pos + k, LABEL_PREFIX, LABEL_PREFIX_LEN) == 0)
                              ? MN_DATA_FASTTEXT
                              : MN_DATA_TSV;
            rc = parse_line(d, path, lineno, pos, len, f, err);
            if (rc)
                goto fail;
        }
        pos = end + 1;
    }
    if (d->nex == 0) {
        rc = mn_err_set(err, MN_EEMPTY, "%s: no examples (the file is empty or blank)", path);
        goto fail;
    }
    *out = d;
    return 0;
fail:
    mn_dataset_free(d);
    return rc;
}

void mn_dataset_free(mn_dataset *d)
{
    if (!d)
        return;
    for (uint32_t i = 0; i < d->nnames; i++)
        mn_free(d->names[i]);
    mn_free(d->names);
    mn_free(d->slots);
    mn_free(d->labs);
    mn_free(d->ex);
    mn_free(d->buf);
    mn_free(d);
}

size_t mn_dataset_count(const mn_dataset *d)
{
    return d->nex;
}

uint32_t mn_dataset_label_count(const mn_dataset *d)
{
    return d->nnames;
}

const char *mn_dataset_label(const mn_dataset *d, uint32_t i)
{
    return i < d->nnames ? d->names[i] : NULL;
}

void mn_dataset_get(const mn_dataset *d, size_t i, const char **text, size_t *len,
                    const uint32_t **labels, size_t *nlabels)
{
    const example *e = &d->ex[i];
    *text = d->buf + e->off;
    *len = e->len;
    *labels = d->labs + e->lab0;
    *nlabels = e->nlab;
}

uint64_t mn_dataset_hash(const mn_dataset *d)
{
    return d->hash;
}
