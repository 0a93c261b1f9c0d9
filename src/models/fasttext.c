/* SPDX-License-Identifier: MIT
 *
 * fastText interop: opens a supervised model written by fastText 0.9.x (.bin, and the quantized
 * .ftz written by `fasttext quantize`) and predicts with it, giving the same labels and
 * probabilities as `fasttext predict-prob`. mn_model_open() comes here when mn__fasttext_sniff()
 * recognises the magic number; the result is an ordinary mn_model whose predict reproduces
 * fastText's tokenisation, hashing, averaging and output layer (softmax, one-vs-all, negative
 * sampling or hierarchical softmax). Converting to micronlp's format is not supported.
 *
 * The file is mapped read-only and the matrices are used in place. It is fastText's native dump,
 * little-endian on every platform it has been used on; integers are read byte by byte, floats
 * with memcpy (the dictionary's variable-length strings leave them unaligned).
 *
 *   int32 magic 793712314 | int32 version (11 or 12)
 *   Args:    int32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
 *            lrUpdateRate | float64 t                                      (56 bytes)
 *   Dict:    int32 size nwords nlabels | int64 ntokens pruneidx_size
 *            size x { word bytes, NUL | int64 count | int8 type (0 word, 1 label) }
 *            max(pruneidx_size, 0) x { int32 bucket, int32 row }
 *   bool quant_input | input matrix | bool qout | output matrix
 *   dense:   int64 m n | m*n float32, row-major
 *   quant:   bool qnorm | int64 m n | int32 codesize | codesize x uint8 | PQ
 *            [qnorm: m x uint8 norm codes | PQ of dim 1]
 *   PQ:      int32 dim nsubq dsub lastdsub | dim*256 float32 centroids
 *
 * Words come first in the dictionary, then labels; row r < nwords of the input matrix belongs to
 * word r, rows from nwords on to hashed character and word n-grams (through the prune index when
 * the model was quantized with a cutoff). The output matrix has one row per label (softmax, ova)
 * or per inner node of the Huffman tree built from the label counts (hs).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "micronlp/alloc.h"

#define FT_MAGIC 793712314
#define FT_VERSION 12
#define FT_MAX_DIM 10000
#define FT_MAX_NGRAM 64 /* maxn / wordNgrams above this are refused (fastText uses <= 6) */
#define FT_MAX_WORD (1u << 30)
#define FT_KSUB 256 /* centroids per sub-quantizer (8-bit codes) */
#define FT_HS_UNBUILT 1000000000000000LL /* fastText's count for tree nodes not built yet */
#define FT_SIGMOID_TABLE 512
#define FT_MAX_SIGMOID 8
#define FT_LABEL_PREFIX "__label__"
#define FT_EOS "</s>"

enum { FT_LOSS_HS = 1, FT_LOSS_NS = 2, FT_LOSS_SOFTMAX = 3, FT_LOSS_OVA = 4 };
enum { FT_MODEL_SUP = 3 };

/* Scratch slots used by predict. */
enum { SLOT_HIDDEN = 0, SLOT_OUTPUT = 1, SLOT_HASHES = 2, SLOT_HEAP = 3, SLOT_STACK = 4 };

typedef struct ft_pq {
    int32_t dim, nsubq, dsub, lastdsub;
    const unsigned char *centroids; /* dim * FT_KSUB floats */
} ft_pq;

typedef struct ft_matrix {
    int64_t m, n;
    int quant;
    const unsigned char *data;       /* dense: m * n floats */
    const unsigned char *codes;      /* quant: m * pq.nsubq codes */
    ft_pq pq;
    int qnorm;                       /* quant: rows were normalised; norms are quantized too */
    const unsigned char *norm_codes; /* m codes into npq */
    ft_pq npq;
} ft_matrix;

typedef struct ft_model {
    mn_model base;
    void *map; /* the whole file, read-only */
    size_t map_len;
    int32_t dim, word_ngrams, loss, bucket, minn, maxn;
    int32_t nwords, nlabels, size;
    const unsigned char **word; /* size entries, pointing into the map */
    uint32_t *word_len;
    uint32_t *word_hash; /* fastText's FNV-1a variant of each entry */
    int32_t *table;      /* open addressing: entry id or -1 */
    uint32_t table_mask;
    int64_t pruneidx_size; /* -1: not pruned; 0: no n-gram rows; > 0: mapped through prune */
    int32_t *prune_key;    /* open addressing on bucket id; -1 empty */
    int32_t *prune_val;
    uint32_t prune_mask;
    ft_matrix in, out;
    int32_t *child; /* hs: left, right of inner node osz + i at [2i], [2i + 1] */
    float sigmoid[FT_SIGMOID_TABLE + 1];
} ft_model;

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
    const char *path;
    mn_err *err;
} reader;

static int need(reader *r, size_t n, const char *what)
{
    if (r->len - r->pos >= n)
        return 0;
    return mn_err_set(r->err, MN_ETRUNC,
                      "%s: truncated in %s (needs %zu bytes at offset %zu, file has %zu)", r->path,
                      what, n, r->pos, r->len);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int rd_i32(reader *r, const char *what, int32_t *out)
{
    int rc = need(r, 4, what);
    if (rc)
        return rc;
    uint32_t u = le32(r->p + r->pos);
    r->pos += 4;
    memcpy(out, &u, 4); /* two's complement on every platform we build for */
    return 0;
}

static int rd_i64(reader *r, const char *what, int64_t *out)
{
    int rc = need(r, 8, what);
    if (rc)
        return rc;
    uint64_t u = le64(r->p + r->pos);
    r->pos += 8;
    memcpy(out, &u, 8);
    return 0;
}

static int rd_bool(reader *r, const char *what, int *out)
{
    int rc = need(r, 1, what);
    if (rc)
        return rc;
    unsigned char b = r->p[r->pos++];
    if (b > 1)
        return mn_err_set(r->err, MN_ECORRUPT, "%s: %s is %u, not a boolean (offset %zu)", r->path,
                          what, b, r->pos - 1);
    *out = b;
    return 0;
}

static int rd_bytes(reader *r, size_t n, const char *what, const unsigned char **out)
{
    int rc = need(r, n, what);
    if (rc)
        return rc;
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

static int corrupt(reader *r, const char *fmt, const char *what, long long v)
{
    char msg[160];
    snprintf(msg, sizeof msg, fmt, what, v);
    return mn_err_set(r->err, MN_ECORRUPT, "%s: %s", r->path, msg);
}

static inline float ldf(const unsigned char *p)
{
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* ---- hashing and lookup ------------------------------------------------------------------- */

/* FNV-1a as fastText computes it: each byte is sign-extended (it was a signed char) first. */
#define FNV_BASIS 2166136261u
static inline uint32_t fnv_step(uint32_t h, unsigned char c)
{
    return (h ^ (uint32_t)(int32_t)(int8_t)c) * 16777619u;
}

static uint32_t fnv(const unsigned char *s, size_t len)
{
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < len; i++)
        h = fnv_step(h, s[i]);
    return h;
}

static int32_t lookup(const ft_model *m, const unsigned char *s, size_t len, uint32_t h)
{
    for (uint32_t i = h & m->table_mask;; i = (i + 1) & m->table_mask) {
        int32_t id = m->table[i];
        if (id < 0)
            return -1;
        if (m->word_hash[id] == h && m->word_len[id] == len && memcmp(m->word[id], s, len) == 0)
            return id;
    }
}

static uint32_t table_size(uint64_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Prune index: bucket id -> row offset, or -1 when the n-gram was cut. */
static int32_t prune_get(const ft_model *m, int32_t key)
{
    for (uint32_t i = mix32((uint32_t)key) & m->prune_mask;; i = (i + 1) & m->prune_mask) {
        if (m->prune_key[i] == key)
            return m->prune_val[i];
        if (m->prune_key[i] < 0)
            return -1;
    }
}

/* ---- loading ------------------------------------------------------------------------------ */

static int load_pq(reader *r, ft_pq *pq, const char *what)
{
    int rc;
    if ((rc = rd_i32(r, what, &pq->dim)) || (rc = rd_i32(r, what, &pq->nsubq)) ||
        (rc = rd_i32(r, what, &pq->dsub)) || (rc = rd_i32(r, what, &pq->lastdsub)))
        return rc;
    if (pq->dim < 1 || pq->dim > FT_MAX_DIM || pq->nsubq < 1 || pq->dsub < 1 ||
        pq->lastdsub < 1 || pq->lastdsub > pq->dsub ||
        (int64_t)(pq->nsubq - 1) * pq->dsub + pq->lastdsub != pq->dim)
        return mn_err_set(
            r->err, MN_ECORRUPT,
            "%s: %s has an inconsistent shape (dim %d, nsubq %d, dsub %d, lastdsub %d)", r->path,
            what, pq->dim, pq->nsubq, pq->dsub, pq->lastdsub);
    return rd_bytes(r, (size_t)pq->dim * FT_KSUB * 4, what, &pq->centroids);
}

static int load_matrix(reader *r, ft_matrix *mat, int quant, int32_t dim, const char *what)
{
    int rc;
    mat->quant = quant;
    if (quant && (rc = rd_bool(r, what, &mat->qnorm)))
        return rc;
    if ((rc = rd_i64(r, what, &mat->m)) || (rc = rd_i64(r, what, &mat->n)))
        return rc;
    if (mat->m < 0 || mat->n != dim)
        return mn_err_set(r->err, MN_ECORRUPT, "%s: %s is %lld x %lld, expected %d columns",
                          r->path, what, (long long)mat->m, (long long)mat->n, dim);
    if (!quant) {
        if ((uint64_t)mat->m > (r->len - r->pos) / ((size_t)dim * 4))
            return mn_err_set(r->err, MN_ETRUNC,
                              "%s: truncated in %s (%lld x %d floats, %zu bytes left)", r->path,
                              what, (long long)mat->m, dim, r->len - r->pos);
        return rd_bytes(r, (size_t)mat->m * (size_t)dim * 4, what, &mat->data);
    }
    int32_t codesize;
    if ((rc = rd_i32(r, what, &codesize)))
        return rc;
    if (codesize < 0)
        return corrupt(r, "%s has a negative code size %lld", what, codesize);
    if ((rc = rd_bytes(r, (size_t)codesize, what, &mat->codes)) ||
        (rc = load_pq(r, &mat->pq, what)))
        return rc;
    if (mat->pq.dim != dim || (int64_t)codesize != mat->m * mat->pq.nsubq)
        return mn_err_set(r->err, MN_ECORRUPT,
                          "%s: %s: %d codes for %lld rows of %d sub-vectors (quantizer dim %d)",
                          r->path, what, codesize, (long long)mat->m, mat->pq.nsubq, mat->pq.dim);
    if (mat->qnorm) {
        if ((uint64_t)mat->m > r->len - r->pos)
            return mn_err_set(r->err, MN_ETRUNC, "%s: truncated in %s norms", r->path, what);
        if ((rc = rd_bytes(r, (size_t)mat->m, what, &mat->norm_codes)) ||
            (rc = load_pq(r, &mat->npq, what)))
            return rc;
        if (mat->npq.dim != 1)
            return corrupt(r, "%s: norm quantizer has dim %lld, expected 1", what, mat->npq.dim);
    }
    return 0;
}

static int build_table(ft_model *m)
{
    uint32_t cap = table_size((uint64_t)m->size);
    m->table = mn_malloc((size_t)cap * sizeof *m->table);
    if (!m->table)
        return MN_ENOMEM;
    memset(m->table, 0xff, (size_t)cap * sizeof *m->table);
    m->table_mask = cap - 1;
    for (int32_t id = 0; id < m->size; id++) {
        uint32_t h = m->word_hash[id];
        uint32_t i = h & m->table_mask;
        /* A duplicate entry replaces the earlier one, as in fastText's own table. */
        while (m->table[i] >= 0 &&
               !(m->word_len[m->table[i]] == m->word_len[id] &&
                 memcmp(m->word[m->table[i]], m->word[id], m->word_len[id]) == 0))
            i = (i + 1) & m->table_mask;
        m->table[i] = id;
    }
    return 0;
}

static int load_dictionary(reader *r, ft_model *m)
{
    int rc;
    int32_t size, nwords, nlabels;
    int64_t ntokens;
    if ((rc = rd_i32(r, "dictionary", &size)) || (rc = rd_i32(r, "dictionary", &nwords)) ||
        (rc = rd_i32(r, "dictionary", &nlabels)) || (rc = rd_i64(r, "dictionary", &ntokens)) ||
        (rc = rd_i64(r, "dictionary", &m->pruneidx_size)))
        return rc;
    if (size < 0 || nwords < 0 || nlabels < 1 || nlabels > INT32_MAX / 2 ||
        (int64_t)nwords + nlabels != size)
        return mn_err_set(r->err, MN_ECORRUPT,
                          "%s: dictionary sizes do not add up (size %d, nwords %d, nlabels %d)",
                          r->path, size, nwords, nlabels);
    if (m->pruneidx_size < -1)
        return corrupt(r, "%s size %lld is negative", "prune index", m->pruneidx_size);
    /* Every entry takes at least 10 bytes: refuse before allocating for a lying count. */
    if ((uint64_t)size > (r->len - r->pos) / 10)
        return mn_err_set(
            r->err, MN_ETRUNC,
            "%s: truncated: dictionary of %d entries needs more than the %zu bytes left", r->path,
            size, r->len - r->pos);
    m->size = size;
    m->nwords = nwords;
    m->nlabels = nlabels;
    m->word = mn_calloc((size_t)size, sizeof *m->word);
    m->word_len = mn_calloc((size_t)size, sizeof *m->word_len);
    m->word_hash = mn_calloc((size_t)size, sizeof *m->word_hash);
    int64_t *counts = mn_calloc((size_t)nlabels, sizeof *counts);
    if (!m->word || !m->word_len || !m->word_hash || !counts) {
        mn_free(counts);
        return MN_ENOMEM;
    }
    for (int32_t i = 0; i < size; i++) {
        const unsigned char *s = r->p + r->pos;
        const unsigned char *nul = memchr(s, 0, r->len - r->pos);
        if (!nul) {
            rc = mn_err_set(r->err, MN_ETRUNC, "%s: truncated in dictionary entry %d", r->path, i);
            goto fail;
        }
        size_t len = (size_t)(nul - s);
        if (len >= FT_MAX_WORD) {
            rc = corrupt(r, "%s %lld is longer than 1 GiB", "dictionary entry", i);
            goto fail;
        }
        r->pos += len + 1;
        int64_t count;
        const unsigned char *type;
        if ((rc = rd_i64(r, "dictionary entry", &count)) ||
            (rc = rd_bytes(r, 1, "dictionary entry", &type)))
            goto fail;
        int want = i < nwords ? 0 : 1;
        if (*type != want) {
            rc = mn_err_set(
                r->err, MN_ECORRUPT,
                "%s: dictionary entry %d has type %u, expected %s (words come before labels)",
                r->path, i, *type, want ? "label" : "word");
            goto fail;
        }
        if (want) {
            if (count < 0) {
                rc = corrupt(r, "%s count %lld is negative", "label", count);
                goto fail;
            }
            counts[i - nwords] = count;
        }
        m->word[i] = s;
        m->word_len[i] = (uint32_t)len;
        m->word_hash[i] = fnv(s, len);
    }
    if (m->pruneidx_size > 0) {
        if ((uint64_t)m->pruneidx_size > (r->len - r->pos) / 8) {
            rc = mn_err_set(r->err, MN_ETRUNC, "%s: truncated in prune index (%lld pairs)", r->path,
                            (long long)m->pruneidx_size);
            goto fail;
        }
        uint32_t cap = table_size((uint64_t)m->pruneidx_size);
        m->prune_key = mn_malloc((size_t)cap * sizeof *m->prune_key);
        m->prune_val = mn_malloc((size_t)cap * sizeof *m->prune_val);
        if (!m->prune_key || !m->prune_val) {
            rc = MN_ENOMEM;
            goto fail;
        }
        memset(m->prune_key, 0xff, (size_t)cap * sizeof *m->prune_key);
        m->prune_mask = cap - 1;
        for (int64_t i = 0; i < m->pruneidx_size; i++) {
            int32_t key = -1, val = -1;
            rd_i32(r, "prune index", &key); /* cannot fail: length checked above */
            rd_i32(r, "prune index", &val);
            if (key < 0 || val < 0) {
                rc = corrupt(r, "%s entry %lld is negative", "prune index", i);
                goto fail;
            }
            uint32_t j = mix32((uint32_t)key) & m->prune_mask;
            while (m->prune_key[j] >= 0 && m->prune_key[j] != key)
                j = (j + 1) & m->prune_mask;
            m->prune_key[j] = key;
            m->prune_val[j] = val;
        }
    }
    rc = build_table(m);
    if (rc)
        goto fail;
    if (m->loss == FT_LOSS_HS) {
        /* Huffman tree as fastText builds it: leaves are labels (sorted by count, descending),
         * inner nodes take the two smallest of the next leaf and the next built node. The check
         * on mini < i keeps a hostile count order from linking a node to itself. */
        int32_t osz = nlabels, nodes = 2 * osz - 1;
        int64_t *cnt = mn_malloc((size_t)nodes * sizeof *cnt);
        m->child = mn_malloc((size_t)(osz > 1 ? osz - 1 : 1) * 2 * sizeof *m->child);
        if (!cnt || !m->child) {
            mn_free(cnt);
            rc = MN_ENOMEM;
            goto fail;
        }
        for (int32_t i = 0; i < nodes; i++)
            cnt[i] = i < osz ? counts[i] : FT_HS_UNBUILT;
        int32_t leaf = osz - 1, node = osz;
        for (int32_t i = osz; i < nodes; i++) {
            int32_t mini[2];
            for (int j = 0; j < 2; j++) {
                if (leaf >= 0 && cnt[leaf] < cnt[node])
                    mini[j] = leaf--;
                else
                    mini[j] = node++;
                if (mini[j] >= i) {
                    mn_free(cnt);
                    rc = corrupt(r, "%s: label counts do not form a Huffman tree (node %lld)",
                                 "hierarchical softmax", i);
                    goto fail;
                }
            }
            m->child[2 * (i - osz)] = mini[0];
            m->child[2 * (i - osz) + 1] = mini[1];
            int64_t a = cnt[mini[0]], b = cnt[mini[1]];
            cnt[i] = a > INT64_MAX - b ? INT64_MAX : a + b;
        }
        mn_free(cnt);
    }
    mn_free(counts);
    return 0;
fail:
    mn_free(counts);
    return rc;
}

static const char *loss_name(int32_t loss)
{
    switch (loss) {
    case FT_LOSS_HS: return "hs";
    case FT_LOSS_NS: return "ns";
    case FT_LOSS_SOFTMAX: return "softmax";
    case FT_LOSS_OVA: return "ova";
    }
    return "?";
}

static int set_meta(ft_model *m)
{
    char buf[32];
    int rc = mn__model_meta_set(&m->base, "source", "fasttext");
#define META_INT(key, v)                                                                           \
    do {                                                                                           \
        if (!rc) {                                                                                 \
            snprintf(buf, sizeof buf, "%lld", (long long)(v));                                     \
            rc = mn__model_meta_set(&m->base, key, buf);                                           \
        }                                                                                          \
    } while (0)
    META_INT("dim", m->dim);
    if (!rc)
        rc = mn__model_meta_set(&m->base, "loss", loss_name(m->loss));
    META_INT("word_ngrams", m->word_ngrams);
    META_INT("minn", m->minn);
    META_INT("maxn", m->maxn);
    META_INT("bucket", m->bucket);
    META_INT("nwords", m->nwords);
    META_INT("quantized", m->in.quant);
#undef META_INT
    return rc;
}

static int set_labels(ft_model *m)
{
    char **names = mn_calloc((size_t)m->nlabels, sizeof *names);
    size_t *lens = mn_calloc((size_t)m->nlabels, sizeof *lens);
    int rc = MN_ENOMEM;
    if (names && lens) {
        size_t plen = strlen(FT_LABEL_PREFIX);
        for (int32_t i = 0; i < m->nlabels; i++) {
            const unsigned char *s = m->word[m->nwords + i];
            size_t len = m->word_len[m->nwords + i];
            /* The -label prefix is not saved in the file; strip fastText's default. */
            if (len >= plen && memcmp(s, FT_LABEL_PREFIX, plen) == 0) {
                s += plen;
                len -= plen;
            }
            names[i] = (char *)(uintptr_t)s; /* only read: set_labels copies */
            lens[i] = len;
        }
        rc = mn__model_set_labels(&m->base, names, lens, (uint32_t)m->nlabels);
    }
    mn_free(names);
    mn_free(lens);
    return rc;
}

static int parse(reader *r, ft_model *m)
{
    int rc;
    int32_t magic, version;
    if ((rc = rd_i32(r, "header", &magic)) || (rc = rd_i32(r, "header", &version)))
        return rc;
    if (magic != FT_MAGIC)
        return mn_err_set(r->err, MN_EFOREIGN, "%s: not a fastText model (bad magic)", r->path);
    if (version != 11 && version != FT_VERSION)
        return mn_err_set(r->err, MN_EVERSION,
                          "%s: fastText format version %d is not supported (11 and 12 are)",
                          r->path, version);
    int32_t a[12];
    for (int i = 0; i < 12; i++)
        if ((rc = rd_i32(r, "arguments", &a[i])))
            return rc;
    const unsigned char *t;
    if ((rc = rd_bytes(r, 8, "arguments", &t)))
        return rc;
    /* dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate */
    m->dim = a[0];
    m->word_ngrams = a[5];
    m->loss = a[6];
    m->bucket = a[8];
    m->minn = a[9];
    m->maxn = a[10];
    if (a[7] != FT_MODEL_SUP)
        return mn_err_set(r->err, MN_EUNSUPPORTED,
                          "%s: fastText %s model: only supervised models can be used", r->path,
                          a[7] == 1 ? "cbow" : a[7] == 2 ? "skipgram" : "unknown");
    if (m->dim < 1 || m->dim > FT_MAX_DIM)
        return corrupt(r, "%s %lld is out of range (1..10000)", "dim", m->dim);
    if (m->loss < FT_LOSS_HS || m->loss > FT_LOSS_OVA)
        return corrupt(r, "%s %lld is not one of hs, ns, softmax, ova", "loss", m->loss);
    if (m->bucket < 0)
        return corrupt(r, "%s %lld is negative", "bucket", m->bucket);
    if (m->minn < 0 || m->minn > FT_MAX_NGRAM)
        return corrupt(r, "%s %lld is out of range", "minn", m->minn);
    if (m->maxn < 0 || m->maxn > FT_MAX_NGRAM)
        return corrupt(r, "%s %lld is out of range", "maxn", m->maxn);
    if (m->word_ngrams < 1 || m->word_ngrams > FT_MAX_NGRAM)
        return corrupt(r, "%s %lld is out of range", "wordNgrams", m->word_ngrams);
    if (version == 11)
        m->maxn = 0; /* fastText: supervised models of version 11 had no character n-grams */

    if ((rc = load_dictionary(r, m)))
        return rc;
    int quant = 0, qout = 0;
    if ((rc = rd_bool(r, "quantization flag", &quant)) ||
        (rc = load_matrix(r, &m->in, quant, m->dim, "input matrix")))
        return rc;
    if (!quant && m->pruneidx_size >= 0)
        return mn_err_set(r->err, MN_ECORRUPT,
                          "%s: pruned dictionary with a dense input matrix (an old .ftz?)",
                          r->path);
    /* Every row a prediction can reach must exist. */
    int64_t need_rows = m->nwords;
    if (m->pruneidx_size < 0) {
        need_rows += m->bucket;
    } else {
        for (uint32_t i = 0; m->prune_key && i <= m->prune_mask; i++)
            if (m->prune_key[i] >= 0 && (int64_t)m->nwords + m->prune_val[i] + 1 > need_rows)
                need_rows = (int64_t)m->nwords + m->prune_val[i] + 1;
    }
    if (m->in.m < need_rows)
        return mn_err_set(r->err, MN_ECORRUPT,
                          "%s: input matrix has %lld rows, the dictionary needs %lld", r->path,
                          (long long)m->in.m, (long long)need_rows);
    if ((rc = rd_bool(r, "qout flag", &qout)) ||
        (rc = load_matrix(r, &m->out, quant && qout, m->dim, "output matrix")))
        return rc;
    if (m->out.m != m->nlabels)
        return mn_err_set(r->err, MN_ECORRUPT, "%s: output matrix has %lld rows for %d labels",
                          r->path, (long long)m->out.m, m->nlabels);
    return 0;
}

/* ---- prediction --------------------------------------------------------------------------- */

static void add_row(const ft_matrix *mat, int64_t row, float *x)
{
    int32_t n = (int32_t)mat->n;
    if (!mat->quant) {
        const unsigned char *p = mat->data + (size_t)row * (size_t)n * 4;
        for (int32_t j = 0; j < n; j++)
            x[j] += ldf(p + 4 * (size_t)j);
        return;
    }
    const ft_pq *pq = &mat->pq;
    float alpha = 1.0f;
    if (mat->qnorm)
        alpha = ldf(mat->npq.centroids + 4 * (size_t)mat->norm_codes[row]);
    const unsigned char *code = mat->codes + (size_t)row * (size_t)pq->nsubq;
    for (int32_t s = 0; s < pq->nsubq; s++) {
        int last = s == pq->nsubq - 1;
        int32_t d = last ? pq->lastdsub : pq->dsub;
        size_t off = last ? (size_t)s * FT_KSUB * (size_t)pq->dsub + (size_t)code[s] * (size_t)d
                          : ((size_t)s * FT_KSUB + code[s]) * (size_t)pq->dsub;
        const unsigned char *c = pq->centroids + off * 4;
        float *xs = x + (size_t)s * (size_t)pq->dsub;
        for (int32_t j = 0; j < d; j++)
            xs[j] += alpha * ldf(c + 4 * (size_t)j);
    }
}

static float dot_row(const ft_matrix *mat, int64_t row, const float *x)
{
    int32_t n = (int32_t)mat->n;
    float d = 0.0f;
    if (!mat->quant) {
        const unsigned char *p = mat->data + (size_t)row * (size_t)n * 4;
        for (int32_t j = 0; j < n; j++)
            d += ldf(p + 4 * (size_t)j) * x[j];
        return d;
    }
    const ft_pq *pq = &mat->pq;
    float alpha = 1.0f;
    if (mat->qnorm)
        alpha = ldf(mat->npq.centroids + 4 * (size_t)mat->norm_codes[row]);
    const unsigned char *code = mat->codes + (size_t)row * (size_t)pq->nsubq;
    for (int32_t s = 0; s < pq->nsubq; s++) {
        int last = s == pq->nsubq - 1;
        int32_t dd = last ? pq->lastdsub : pq->dsub;
        size_t off = last ? (size_t)s * FT_KSUB * (size_t)pq->dsub + (size_t)code[s] * (size_t)dd
                          : ((size_t)s * FT_KSUB + code[s]) * (size_t)pq->dsub;
        const unsigned char *c = pq->centroids + off * 4;
        const float *xs = x + (size_t)s * (size_t)pq->dsub;
        for (int32_t j = 0; j < dd; j++)
            d += xs[j] * ldf(c + 4 * (size_t)j);
    }
    return d * alpha;
}

/* The bag of rows being averaged into the hidden vector. */
typedef struct bag {
    const ft_model *m;
    float *hidden;
    size_t rows;
    int32_t *hashes; /* token hashes for word n-grams; NULL when wordNgrams is 1 */
    size_t nhashes;
} bag;

static void add_id(bag *b, int64_t row)
{
    add_row(&b->m->in, row, b->hidden);
    b->rows++;
}

/* An n-gram bucket: dropped or renumbered when the model was pruned (fastText pushHash). */
static void add_bucket(bag *b, int32_t id)
{
    const ft_model *m = b->m;
    if (m->pruneidx_size == 0)
        return;
    if (m->pruneidx_size > 0) {
        id = prune_get(m, id);
        if (id < 0)
            return;
    }
    add_id(b, (int64_t)m->nwords + id);
}

/* Character n-grams of "<" token ">", counted in UTF-8 characters, minn..maxn long, except the
 * lone "<" and ">". The bracketed word is never built: its bytes are produced on the fly and
 * the hash of each n-gram extends the hash of its prefix. */
static void add_subwords(bag *b, const unsigned char *tok, size_t tlen)
{
    const ft_model *m = b->m;
    size_t len = tlen + 2;
#define AT(p) ((p) == 0 ? (unsigned char)'<' : (p) == len - 1 ? (unsigned char)'>' : tok[(p) - 1])
    for (size_t i = 0; i < len; i++) {
        if ((AT(i) & 0xC0) == 0x80)
            continue;
        uint32_t h = FNV_BASIS;
        size_t j = i;
        for (int32_t n = 1; j < len && n <= m->maxn; n++) {
            h = fnv_step(h, AT(j));
            j++;
            while (j < len && (AT(j) & 0xC0) == 0x80) {
                h = fnv_step(h, AT(j));
                j++;
            }
            if (n >= m->minn && !(n == 1 && (i == 0 || j == len)))
                add_bucket(b, (int32_t)(h % (uint32_t)m->bucket));
        }
    }
#undef AT
}

static void add_token(bag *b, const unsigned char *tok, size_t len)
{
    const ft_model *m = b->m;
    uint32_t h = fnv(tok, len);
    int32_t id = lookup(m, tok, len, h);
    size_t plen = sizeof FT_LABEL_PREFIX - 1;
    int label = id >= 0 ? id >= m->nwords
                        : len >= plen && memcmp(tok, FT_LABEL_PREFIX, plen) == 0;
    if (label)
        return;
    if (id >= 0)
        add_id(b, id);
    int eos = len == 4 && memcmp(tok, FT_EOS, 4) == 0;
    if (m->maxn > 0 && m->bucket > 0 && !eos)
        add_subwords(b, tok, len);
    if (b->hashes)
        b->hashes[b->nhashes++] = (int32_t)h;
}

static void add_word_ngrams(bag *b)
{
    const ft_model *m = b->m;
    if (!b->hashes || m->bucket <= 0)
        return;
    size_t n = (size_t)m->word_ngrams;
    for (size_t i = 0; i < b->nhashes; i++) {
        /* The int32 hash widens with its sign, as in fastText. */
        uint64_t h = (uint64_t)(int64_t)b->hashes[i];
        for (size_t j = i + 1; j < b->nhashes && j < i + n; j++) {
            h = h * 116049371u + (uint64_t)(int64_t)b->hashes[j];
            add_bucket(b, (int32_t)(h % (uint64_t)m->bucket));
        }
    }
}

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

/* fastText reports exp(log(p + 1e-5)). */
static inline float ft_prob(float p)
{
    return expf((float)log((double)p + 1e-5));
}

static inline float std_log(float p)
{
    return (float)log((double)p + 1e-5);
}

typedef struct hs_item {
    float score;
    int32_t node;
} hs_item;

/* Min-heap on score of at most k leaves (the k best so far; the worst on top). */
static void heap_push(hs_item *h, size_t *n, hs_item it)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!(h[p].score > it.score))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

static void heap_pop(hs_item *h, size_t *n)
{
    hs_item last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].score < h[c].score)
            c++;
        if (!(h[c].score < last.score))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
}

static int predict_hs(const ft_model *m, mn_scratch *s, const float *hidden, int k, float threshold,
                      mn_prediction *out, size_t *n_out)
{
    int32_t osz = m->nlabels;
    size_t kk = (size_t)k < (size_t)osz ? (size_t)k : (size_t)osz;
    hs_item *heap = mn__scratch_reserve(s, SLOT_HEAP, (kk + 1) * sizeof *heap);
    hs_item *stack = mn__scratch_reserve(s, SLOT_STACK, (size_t)(2 * osz) * sizeof *stack);
    if (!heap || !stack)
        return MN_ENOMEM;
    float min_score = std_log(threshold);
    size_t nheap = 0, nstack = 0;
    /* Depth first, left before right, as fastText's recursive dfs; explicit stack because a
     * skewed tree may be as deep as there are labels. */
    stack[nstack++] = (hs_item){0.0f, 2 * osz - 2};
    while (nstack) {
        hs_item it = stack[--nstack];
        if (it.score < min_score)
            continue;
        if (nheap == (size_t)k && it.score < heap[0].score)
            continue;
        if (it.node < osz) {
            heap_push(heap, &nheap, it);
            if (nheap > (size_t)k)
                heap_pop(heap, &nheap);
            continue;
        }
        int32_t inner = it.node - osz;
        float f = dot_row(&m->out, inner, hidden);
        f = (float)(1. / (1 + exp(-(double)f)));
        float left = it.score + std_log((float)(1.0 - f)), right = it.score + std_log(f);
        stack[nstack++] = (hs_item){right, m->child[2 * inner + 1]};
        stack[nstack++] = (hs_item){left, m->child[2 * inner]};
    }
    /* Best first. */
    size_t n = nheap;
    while (nheap) {
        out[nheap - 1] = (mn_prediction){(uint32_t)heap[0].node, expf(heap[0].score)};
        heap_pop(heap, &nheap);
    }
    *n_out = n;
    return 0;
}

static int ft_predict(const mn_model *base, mn_scratch *s, const char *text, size_t len, int k,
                      float threshold, mn_prediction *out, size_t *n_out)
{
    const ft_model *m = (const ft_model *)base;
    const unsigned char *t = (const unsigned char *)text;
    *n_out = 0;
    if (k < 1)
        return MN_EINVAL;
    float *hidden = mn__scratch_reserve(s, SLOT_HIDDEN, (size_t)m->dim * sizeof *hidden);
    if (!hidden)
        return MN_ENOMEM;
    memset(hidden, 0, (size_t)m->dim * sizeof *hidden);
    bag b = {.m = m, .hidden = hidden};
    if (m->word_ngrams > 1) {
        /* At most one token per byte, plus the final end of line. */
        if (len > SIZE_MAX / sizeof *b.hashes - 2)
            return MN_ENOMEM;
        b.hashes = mn__scratch_reserve(s, SLOT_HASHES, (len + 2) * sizeof *b.hashes);
        if (!b.hashes)
            return MN_ENOMEM;
    }
    /* fastText's readWord: tokens split on space, tab, \n, \v, \f, \r and NUL; every newline is
     * the token "</s>", and one ends the text unless it already ended with a newline. */
    int ended = 0;
    for (size_t i = 0; i < len;) {
        if (t[i] == '\n') {
            add_token(&b, (const unsigned char *)FT_EOS, 4);
            ended = 1;
            i++;
        } else if (is_space(t[i])) {
            i++;
        } else {
            size_t start = i;
            while (i < len && !is_space(t[i]))
                i++;
            add_token(&b, t + start, i - start);
            ended = 0;
        }
    }
    if (!ended)
        add_token(&b, (const unsigned char *)FT_EOS, 4);
    add_word_ngrams(&b);
    if (b.rows == 0)
        return 0; /* fastText predicts nothing for a text with no known feature */
    float inv = (float)(1.0 / (double)b.rows);
    for (int32_t j = 0; j < m->dim; j++)
        hidden[j] *= inv;

    if (m->loss == FT_LOSS_HS)
        return predict_hs(m, s, hidden, k, threshold, out, n_out);

    uint32_t osz = (uint32_t)m->nlabels;
    float *output = mn__scratch_reserve(s, SLOT_OUTPUT, (size_t)osz * sizeof *output);
    if (!output)
        return MN_ENOMEM;
    for (uint32_t i = 0; i < osz; i++)
        output[i] = dot_row(&m->out, i, hidden);
    if (m->loss == FT_LOSS_SOFTMAX) {
        float max = output[0], z = 0.0f;
        for (uint32_t i = 0; i < osz; i++)
            max = output[i] > max ? output[i] : max;
        for (uint32_t i = 0; i < osz; i++) {
            output[i] = expf(output[i] - max);
            z += output[i];
        }
        for (uint32_t i = 0; i < osz; i++)
            output[i] /= z;
    } else {
        /* ova and ns: fastText's 512-entry sigmoid table, not the exact function. */
        for (uint32_t i = 0; i < osz; i++) {
            float x = output[i];
            if (x < -FT_MAX_SIGMOID)
                output[i] = 0.0f;
            else if (x > FT_MAX_SIGMOID)
                output[i] = 1.0f;
            else if (x == x)
                output[i] = m->sigmoid[(int64_t)((x + FT_MAX_SIGMOID) * FT_SIGMOID_TABLE /
                                                 FT_MAX_SIGMOID / 2)];
            else
                output[i] = 0.0f; /* NaN weights: fastText would throw */
        }
    }
    size_t n = mn__topk(output, osz, k, threshold, out);
    for (size_t i = 0; i < n; i++)
        out[i].prob = ft_prob(out[i].prob);
    *n_out = n;
    return 0;
}

static int ft_save(const mn_model *m, const char *path, mn_err *err)
{
    (void)m;
    return mn_err_set(
        err, MN_EUNSUPPORTED,
        "%s: converting a fastText model is not supported; retrain with micronlp train", path);
}

static void ft_destroy(mn_model *base)
{
    ft_model *m = (ft_model *)base;
    if (!m)
        return;
    if (m->map)
        munmap(m->map, m->map_len);
    mn_free(m->word);
    mn_free(m->word_len);
    mn_free(m->word_hash);
    mn_free(m->table);
    mn_free(m->prune_key);
    mn_free(m->prune_val);
    mn_free(m->child);
    mn__model_deinit(&m->base);
    mn_free(m);
}

static const mn_model_ops fasttext_ops = {
    .name = "fasttext",
    .predict = ft_predict,
    .save = ft_save,
    .destroy = ft_destroy,
};

/* ---- entry points ------------------------------------------------------------------------- */

int mn__fasttext_sniff(const void *head, size_t len)
{
    return len >= 4 && le32(head) == (uint32_t)FT_MAGIC;
}

int mn__fasttext_open(const char *path, mn_model **out, mn_err *err)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return mn_err_set(err, MN_EUNSUPPORTED,
                      "%s: fastText models are only read on little-endian hosts", path);
#endif
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    if (st.st_size < 8) {
        close(fd);
        return mn_err_set(err, MN_ETRUNC,
                          "%s: truncated: %lld bytes is too short for a fastText model", path,
                          (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return mn_err_set(err, MN_ERRNO(e), "%s: mmap: %s", path, strerror(e));

    ft_model *m = mn_calloc(1, sizeof *m);
    if (!m) {
        munmap(map, size);
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
    }
    mn__model_init(&m->base, &fasttext_ops, MN_MODEL_FASTTEXT);
    m->map = map;
    m->map_len = size;
    m->base.size_bytes = size;
    m->pruneidx_size = -1;
    reader r = {.p = map, .len = size, .path = path, .err = err};
    int rc = parse(&r, m);
    if (!rc)
        rc = set_labels(m);
    if (!rc)
        rc = set_meta(m);
    if (rc) {
        if (rc == MN_ENOMEM)
            mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
        ft_destroy(&m->base);
        return rc;
    }
    for (int i = 0; i <= FT_SIGMOID_TABLE; i++) {
        float x = (float)(i * 2 * FT_MAX_SIGMOID) / FT_SIGMOID_TABLE - FT_MAX_SIGMOID;
        m->sigmoid[i] = (float)(1.0 / (1.0 + expf(-x)));
    }
    *out = &m->base;
    return 0;
}
