/* SPDX-License-Identifier: MIT
 *
 * The micronlp model file container (layout in format.h): a writer that collects sections in
 * memory and commits them atomically, and a reader that maps a file read-only and refuses it
 * unless every check passes. Integers are encoded byte by byte in little-endian order, so the
 * files are the same on every host. This is the only file that includes <xxhash.h>.
 */
#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: streaming without malloc */
#include <xxhash.h>

#include "micronlp/alloc.h"

/* ---- on-disk layout ----------------------------------------------------------------------- */

enum {
    HEADER_SIZE = 64,
    HEADER_CHECKSUMMED = 40, /* the header checksum covers bytes [0, 40) */
    ENTRY_SIZE = 32,
};

/* The decoded header. Values are in host order; encode_header()/decode_header() move them to
 * and from bytes at these offsets, which the asserts below pin to the documented layout. */
typedef struct header {
    unsigned char magic[8];
    uint32_t version;
    uint32_t model_type;
    uint32_t section_count;
    uint32_t flags;           /* reserved, written as 0 */
    uint64_t file_size;       /* bytes, including this header */
    uint64_t body_checksum;   /* XXH3-64 of [64, file_size) */
    uint64_t header_checksum; /* XXH3-64 of [0, 40) */
    unsigned char reserved[16];
} header;

_Static_assert(sizeof(header) == HEADER_SIZE, "header must be 64 bytes");
_Static_assert(offsetof(header, version) == 8, "layout");
_Static_assert(offsetof(header, model_type) == 12, "layout");
_Static_assert(offsetof(header, section_count) == 16, "layout");
_Static_assert(offsetof(header, flags) == 20, "layout");
_Static_assert(offsetof(header, file_size) == 24, "layout");
_Static_assert(offsetof(header, body_checksum) == 32, "layout");
_Static_assert(offsetof(header, header_checksum) == HEADER_CHECKSUMMED, "layout");
_Static_assert(offsetof(header, reserved) == 48, "layout");
_Static_assert(sizeof MN_FORMAT_MAGIC - 1 == sizeof((header *)0)->magic, "magic is 8 bytes");

/* One section table entry, decoded. */
typedef struct entry {
    uint32_t tag;
    uint32_t flags; /* reserved, written as 0 */
    uint64_t offset;
    uint64_t size;
    uint64_t checksum; /* XXH3-64 of the payload */
} entry;

_Static_assert(sizeof(entry) == ENTRY_SIZE, "section entry must be 32 bytes");
_Static_assert(offsetof(entry, offset) == 8, "layout");
_Static_assert(offsetof(entry, size) == 16, "layout");
_Static_assert(offsetof(entry, checksum) == 24, "layout");

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void encode_header(unsigned char *p, const header *h)
{
    memcpy(p, h->magic, sizeof h->magic);
    put_u32(p + offsetof(header, version), h->version);
    put_u32(p + offsetof(header, model_type), h->model_type);
    put_u32(p + offsetof(header, section_count), h->section_count);
    put_u32(p + offsetof(header, flags), h->flags);
    put_u64(p + offsetof(header, file_size), h->file_size);
    put_u64(p + offsetof(header, body_checksum), h->body_checksum);
    put_u64(p + offsetof(header, header_checksum), h->header_checksum);
    memcpy(p + offsetof(header, reserved), h->reserved, sizeof h->reserved);
}

static void decode_header(const unsigned char *p, header *h)
{
    memcpy(h->magic, p, sizeof h->magic);
    h->version = get_u32(p + offsetof(header, version));
    h->model_type = get_u32(p + offsetof(header, model_type));
    h->section_count = get_u32(p + offsetof(header, section_count));
    h->flags = get_u32(p + offsetof(header, flags));
    h->file_size = get_u64(p + offsetof(header, file_size));
    h->body_checksum = get_u64(p + offsetof(header, body_checksum));
    h->header_checksum = get_u64(p + offsetof(header, header_checksum));
    memcpy(h->reserved, p + offsetof(header, reserved), sizeof h->reserved);
}

static void encode_entry(unsigned char *p, const entry *e)
{
    put_u32(p + offsetof(entry, tag), e->tag);
    put_u32(p + offsetof(entry, flags), e->flags);
    put_u64(p + offsetof(entry, offset), e->offset);
    put_u64(p + offsetof(entry, size), e->size);
    put_u64(p + offsetof(entry, checksum), e->checksum);
}

static void decode_entry(const unsigned char *p, entry *e)
{
    e->tag = get_u32(p + offsetof(entry, tag));
    e->flags = get_u32(p + offsetof(entry, flags));
    e->offset = get_u64(p + offsetof(entry, offset));
    e->size = get_u64(p + offsetof(entry, size));
    e->checksum = get_u64(p + offsetof(entry, checksum));
}

/* Writes a tag for messages: 'EMBD' when it is printable ASCII, else 0x%08x. */
static const char *tag_name(uint32_t tag, char buf[16])
{
    unsigned char c[4];
    put_u32(c, tag);
    for (int i = 0; i < 4; i++) {
        if (c[i] < 0x20 || c[i] > 0x7e || c[i] == '\'') {
            snprintf(buf, 16, "0x%08lx", (unsigned long)tag);
            return buf;
        }
    }
    snprintf(buf, 16, "'%c%c%c%c'", c[0], c[1], c[2], c[3]);
    return buf;
}

static const unsigned char zeros[MN_FORMAT_ALIGN];

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct wsection {
    uint32_t tag;
    unsigned char *data; /* owned; NULL while empty */
    size_t size, cap;    /* bytes */
} wsection;

struct mn_file_writer {
    uint32_t model_type;
    uint32_t version;
    wsection *secs;
    size_t n, cap;
    int open; /* 1 while secs[n-1] was started with begin and may still be appended to */
};

int mn_file_writer_new(uint32_t model_type, mn_file_writer **out)
{
    if (!out)
        return MN_EINVAL;
    mn_file_writer *w = mn_calloc(1, sizeof *w);
    if (!w)
        return MN_ENOMEM;
    w->model_type = model_type;
    w->version = 1;
    *out = w;
    return 0;
}

int mn_file_writer_need_version(mn_file_writer *w, uint32_t version)
{
    if (!w || version < 1 || version > MN_FORMAT_VERSION)
        return MN_EINVAL;
    if (version > w->version)
        w->version = version;
    return 0;
}

void mn_file_writer_free(mn_file_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        mn_free(w->secs[i].data);
    mn_free(w->secs);
    mn_free(w);
}

/* Closes any open section and makes room for one more with a fresh tag. */
static int prepare_section(mn_file_writer *w, uint32_t tag)
{
    w->open = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->secs[i].tag == tag)
            return MN_EINVAL;
    if (w->n == UINT32_MAX)
        return MN_ETOOBIG;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof *w->secs)
            return MN_ENOMEM;
        wsection *s = mn_realloc(w->secs, cap * sizeof *s);
        if (!s)
            return MN_ENOMEM;
        w->secs = s;
        w->cap = cap;
    }
    return 0;
}

int mn_file_writer_add(mn_file_writer *w, uint32_t tag, const void *data, size_t size)
{
    if (!w || (!data && size))
        return MN_EINVAL;
    int rc = prepare_section(w, tag);
    if (rc)
        return rc;
    unsigned char *copy = NULL;
    if (size) {
        copy = mn_malloc(size);
        if (!copy)
            return MN_ENOMEM;
        memcpy(copy, data, size);
    }
    w->secs[w->n++] = (wsection){.tag = tag, .data = copy, .size = size, .cap = size};
    return 0;
}

int mn_file_writer_begin(mn_file_writer *w, uint32_t tag)
{
    if (!w)
        return MN_EINVAL;
    int rc = prepare_section(w, tag);
    if (rc)
        return rc;
    w->secs[w->n++] = (wsection){.tag = tag};
    w->open = 1;
    return 0;
}

int mn_file_writer_append(mn_file_writer *w, const void *data, size_t size)
{
    if (!w || !w->open || (!data && size))
        return MN_EINVAL;
    if (!size)
        return 0;
    wsection *s = &w->secs[w->n - 1];
    if (size > SIZE_MAX - s->size)
        return MN_ENOMEM;
    size_t need = s->size + size;
    if (need > s->cap) {
        /* Doubling keeps appends amortised O(1) for matrices written row by row. */
        size_t cap = s->cap > SIZE_MAX / 2 ? SIZE_MAX : s->cap * 2;
        if (cap < need)
            cap = need;
        if (cap < 256)
            cap = 256;
        unsigned char *p = mn_realloc(s->data, cap);
        if (!p)
            return MN_ENOMEM;
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->size, data, size);
    s->size = need;
    return 0;
}

/* The body is produced twice, once into the hash and once into the file, by the same loop so
 * the two can never disagree about padding. */
typedef int (*sink_fn)(void *ctx, const void *p, size_t len);

static int emit_body(const mn_file_writer *w, const unsigned char *table, size_t table_len,
                     const uint64_t *offsets, sink_fn sink, void *ctx)
{
    int rc = sink(ctx, table, table_len);
    uint64_t pos = HEADER_SIZE + (uint64_t)table_len;
    for (size_t i = 0; i < w->n && !rc; i++) {
        rc = sink(ctx, zeros, (size_t)(offsets[i] - pos));
        if (!rc)
            rc = sink(ctx, w->secs[i].data, w->secs[i].size);
        pos = offsets[i] + w->secs[i].size;
    }
    return rc;
}

static int hash_sink(void *ctx, const void *p, size_t len)
{
    if (len && XXH3_64bits_update(ctx, p, len) != XXH_OK)
        return MN_EINVAL;
    return 0;
}

static int file_sink(void *ctx, const void *p, size_t len)
{
    if (len && fwrite(p, 1, len, ctx) != len)
        return errno ? MN_ERRNO(errno) : MN_ERRNO(EIO);
    return 0;
}

/* Best effort: makes the rename itself durable. Failure here loses nothing but durability
 * across a power cut, so it is not reported. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t len = (size_t)(slash - path);
        if (len >= sizeof dir)
            return;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

int mn_file_writer_commit(mn_file_writer *w, const char *path, mn_err *err)
{
    if (!w || !path || !*path)
        return mn_err_set(err, MN_EINVAL, "%s: invalid argument", path ? path : "(null)");
    w->open = 0;

    int rc = 0;
    unsigned char *meta = NULL; /* header + section table */
    uint64_t *offsets = NULL;
    char *tmp = NULL;
    FILE *fp = NULL;
    int tmp_exists = 0;

    /* Layout: the table follows the header, then each payload starts on the next 64-byte
     * boundary. The file ends right after the last payload. */
    uint64_t table_len = (uint64_t)w->n * ENTRY_SIZE;
    if (table_len > SIZE_MAX - HEADER_SIZE) {
        rc = mn_err_set(err, MN_ETOOBIG, "%s: too many sections", path);
        goto fail;
    }
    meta = mn_malloc(HEADER_SIZE + (size_t)table_len);
    offsets = mn_malloc(w->n ? w->n * sizeof *offsets : 1);
    if (!meta || !offsets)
        goto nomem;
    uint64_t pos = HEADER_SIZE + table_len;
    for (size_t i = 0; i < w->n; i++) {
        const wsection *s = &w->secs[i];
        if (pos > UINT64_MAX - (MN_FORMAT_ALIGN - 1) - s->size) {
            rc = mn_err_set(err, MN_ETOOBIG, "%s: model too large", path);
            goto fail;
        }
        pos = (pos + MN_FORMAT_ALIGN - 1) & ~(uint64_t)(MN_FORMAT_ALIGN - 1);
        offsets[i] = pos;
        entry e = {
            .tag = s->tag,
            .offset = pos,
            .size = s->size,
            .checksum = XXH3_64bits(s->data, s->size),
        };
        encode_entry(meta + HEADER_SIZE + i * ENTRY_SIZE, &e);
        pos += s->size;
    }

    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    if (XXH3_64bits_reset(&st) != XXH_OK ||
        emit_body(w, meta + HEADER_SIZE, (size_t)table_len, offsets, hash_sink, &st) != 0) {
        rc = mn_err_set(err, MN_EINVAL, "%s: cannot compute checksum", path);
        goto fail;
    }
    header h = {
        .version = w->version,
        .model_type = w->model_type,
        .section_count = (uint32_t)w->n,
        .file_size = pos,
        .body_checksum = XXH3_64bits_digest(&st),
    };
    memcpy(h.magic, MN_FORMAT_MAGIC, sizeof h.magic);
    encode_header(meta, &h);
    h.header_checksum = XXH3_64bits(meta, HEADER_CHECKSUMMED);
    encode_header(meta, &h);

    size_t tmp_size = strlen(path) + 32;
    tmp = mn_malloc(tmp_size);
    if (!tmp)
        goto nomem;
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot create %s: %s", path, tmp, strerror(e));
        goto fail;
    }
    tmp_exists = 1;
    fp = fdopen(fd, "wb");
    if (!fp) {
        int e = errno;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot write: %s", path, strerror(e));
        close(fd);
        goto fail;
    }
    errno = 0;
    if ((rc = file_sink(fp, meta, HEADER_SIZE)) != 0 ||
        (rc = emit_body(w, meta + HEADER_SIZE, (size_t)table_len, offsets, file_sink, fp)) != 0) {
        rc = mn_err_set(err, rc, "%s: cannot write: %s", path, strerror(-rc));
        goto fail;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        int e = errno ? errno : EIO;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot write: %s", path, strerror(e));
        goto fail;
    }
    int closed = fclose(fp);
    fp = NULL;
    if (closed != 0) {
        int e = errno ? errno : EIO;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot write: %s", path, strerror(e));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot rename %s into place: %s", path, tmp,
                        strerror(e));
        goto fail;
    }
    tmp_exists = 0;
    sync_parent_dir(path);
    goto done;

nomem:
    rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
fail:
    if (fp)
        fclose(fp);
    if (tmp_exists)
        unlink(tmp);
done:
    mn_free(tmp);
    mn_free(offsets);
    mn_free(meta);
    return rc;
}

int mn_file_writer_finish(mn_file_writer *w, int rc, const char *path, mn_err *err)
{
    if (rc)
        mn_err_set(err, rc, "%s: %s", path, mn_strerror(rc));
    else
        rc = mn_file_writer_commit(w, path, err);
    mn_file_writer_free(w);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct rsection {
    uint32_t tag;
    size_t offset, size; /* bytes, checked to lie inside the file */
} rsection;

struct mn_file {
    const unsigned char *base; /* start of the verified bytes, 64-byte aligned */
    size_t size;
    void *map;     /* the mapping to munmap, or NULL */
    void *copy;    /* the aligned copy to mn_free (mn_file_open_mem), or NULL */
    rsection *secs; /* sorted by tag */
    size_t n;
    uint32_t version;
    uint32_t model_type;
};

static int cmp_section(const void *a, const void *b)
{
    uint32_t x = ((const rsection *)a)->tag, y = ((const rsection *)b)->tag;
    return (x > y) - (x < y);
}

/* Runs every check of format.h, in order, over [base, base + size) and fills f. name is the
 * path for messages. */
static int verify(mn_file *f, const unsigned char *base, size_t size, const char *name,
                  mn_err *err)
{
    if (size == 0)
        return mn_err_set(err, MN_ETRUNC, "%s: file is empty", name);
    if (size < HEADER_SIZE)
        return mn_err_set(err, MN_ETRUNC,
                          "%s: truncated: file has %zu bytes, the header alone needs %d", name,
                          size, HEADER_SIZE);
    header h;
    decode_header(base, &h);
    if (memcmp(h.magic, MN_FORMAT_MAGIC, sizeof h.magic) != 0)
        return mn_err_set(err, MN_EFOREIGN, "%s: not a micronlp model file (bad magic)", name);
    if (h.version > MN_FORMAT_VERSION)
        return mn_err_set(err, MN_EVERSION,
                          "%s: format version %lu is newer than this build supports (%u); "
                          "upgrade micronlp",
                          name, (unsigned long)h.version, MN_FORMAT_VERSION);
    if (h.version == 0)
        return mn_err_set(err, MN_EVERSION, "%s: format version 0 is not valid", name);
    if (XXH3_64bits(base, HEADER_CHECKSUMMED) != h.header_checksum)
        return mn_err_set(err, MN_ECORRUPT, "%s: header checksum mismatch (file corrupted)",
                          name);
    for (size_t i = 0; i < sizeof h.reserved; i++)
        if (h.reserved[i])
            return mn_err_set(err, MN_ECORRUPT,
                              "%s: reserved header bytes are not zero (file corrupted)", name);
    if (h.file_size > size)
        return mn_err_set(err, MN_ETRUNC, "%s: truncated: header says %llu bytes, file has %zu",
                          name, (unsigned long long)h.file_size, size);
    if (h.file_size < size)
        return mn_err_set(err, MN_ECORRUPT,
                          "%s: trailing data: header says %llu bytes, file has %zu", name,
                          (unsigned long long)h.file_size, size);
    if (XXH3_64bits(base + HEADER_SIZE, size - HEADER_SIZE) != h.body_checksum)
        return mn_err_set(err, MN_ECORRUPT, "%s: body checksum mismatch (file corrupted)", name);

    /* From here on the bytes are what the writer wrote, unless someone forged the checksums;
     * the table is still checked as if hostile. All arithmetic is in u64, where
     * 64 + 2^32 * 32 cannot overflow, and compared against size before narrowing. */
    uint64_t table_end = HEADER_SIZE + (uint64_t)h.section_count * ENTRY_SIZE;
    if (table_end > size)
        return mn_err_set(err, MN_ECORRUPT,
                          "%s: section table (%lu entries) extends past end of file", name,
                          (unsigned long)h.section_count);
    rsection *secs = NULL;
    if (h.section_count) {
        secs = mn_malloc((size_t)h.section_count * sizeof *secs);
        if (!secs)
            return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    }
    int rc = 0;
    char tb[16];
    for (uint32_t i = 0; i < h.section_count; i++) {
        entry e;
        decode_entry(base + HEADER_SIZE + (size_t)i * ENTRY_SIZE, &e);
        if (e.offset % MN_FORMAT_ALIGN != 0) {
            rc = mn_err_set(err, MN_ECORRUPT,
                            "%s: section %s offset %llu is not %u-byte aligned", name,
                            tag_name(e.tag, tb), (unsigned long long)e.offset, MN_FORMAT_ALIGN);
            goto fail;
        }
        if (e.offset < table_end) {
            rc = mn_err_set(err, MN_ECORRUPT, "%s: section %s overlaps the section table",
                            name, tag_name(e.tag, tb));
            goto fail;
        }
        if (e.offset > size || e.size > size - e.offset) {
            rc = mn_err_set(err, MN_ECORRUPT,
                            "%s: section %s extends past end of file (offset %llu, size %llu, "
                            "file has %zu bytes)",
                            name, tag_name(e.tag, tb), (unsigned long long)e.offset,
                            (unsigned long long)e.size, size);
            goto fail;
        }
        if (XXH3_64bits(base + e.offset, (size_t)e.size) != e.checksum) {
            rc = mn_err_set(err, MN_ECORRUPT, "%s: section %s checksum mismatch (file corrupted)",
                            name, tag_name(e.tag, tb));
            goto fail;
        }
        secs[i] = (rsection){.tag = e.tag, .offset = (size_t)e.offset, .size = (size_t)e.size};
    }
    if (h.section_count)
        qsort(secs, h.section_count, sizeof *secs, cmp_section);
    for (uint32_t i = 1; i < h.section_count; i++) {
        if (secs[i].tag == secs[i - 1].tag) {
            rc = mn_err_set(err, MN_ECORRUPT, "%s: duplicate section %s", name,
                            tag_name(secs[i].tag, tb));
            goto fail;
        }
    }
    f->base = base;
    f->size = size;
    f->secs = secs;
    f->n = h.section_count;
    f->version = h.version;
    f->model_type = h.model_type;
    return 0;

fail:
    mn_free(secs);
    return rc;
}

int mn_file_open(const char *path, mn_file **out, mn_err *err)
{
    if (!path || !out)
        return mn_err_set(err, MN_EINVAL, "%s: invalid argument", path ? path : "(null)");
    int rc = 0;
    void *map = NULL;
    size_t size = 0;
    mn_file *f = NULL;

    /* O_NONBLOCK so a FIFO given by mistake is refused below instead of blocking here. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = mn_err_set(err, MN_ERRNO(EISDIR), "%s: is a directory", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = mn_err_set(err, MN_EINVAL, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size == 0) {
        rc = mn_err_set(err, MN_ETRUNC, "%s: file is empty", path);
        goto fail;
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        rc = mn_err_set(err, MN_ETOOBIG, "%s: file too large to map", path);
        goto fail;
    }
    size = (size_t)st.st_size;
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        map = NULL;
        rc = mn_err_set(err, MN_ERRNO(e), "%s: cannot map: %s", path, strerror(e));
        goto fail;
    }
    close(fd);
    fd = -1;
    f = mn_calloc(1, sizeof *f);
    if (!f) {
        rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    rc = verify(f, map, size, path, err);
    if (rc)
        goto fail;
    f->map = map;
    *out = f;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (map)
        munmap(map, size);
    mn_free(f);
    return rc;
}

int mn_file_open_mem(const void *data, size_t size, mn_file **out, mn_err *err)
{
    static const char name[] = "<memory>";
    if (!out || (!data && size))
        return mn_err_set(err, MN_EINVAL, "%s: invalid argument", name);
    if (size == 0)
        return mn_err_set(err, MN_ETRUNC, "%s: file is empty", name);
    mn_file *f = mn_calloc(1, sizeof *f);
    if (!f)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    /* Payload pointers are promised 64-byte aligned; a buffer that is not gets copied. */
    const unsigned char *base = data;
    if ((uintptr_t)base % MN_FORMAT_ALIGN != 0) {
        if (size > SIZE_MAX - MN_FORMAT_ALIGN) {
            mn_free(f);
            return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
        }
        f->copy = mn_malloc(size + MN_FORMAT_ALIGN - 1);
        if (!f->copy) {
            mn_free(f);
            return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
        }
        uintptr_t at = (uintptr_t)f->copy + MN_FORMAT_ALIGN - 1;
        unsigned char *aligned = (unsigned char *)(at - at % MN_FORMAT_ALIGN);
        memcpy(aligned, data, size);
        base = aligned;
    }
    int rc = verify(f, base, size, name, err);
    if (rc) {
        mn_free(f->copy);
        mn_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void mn_file_close(mn_file *f)
{
    if (!f)
        return;
    if (f->map)
        munmap(f->map, f->size);
    mn_free(f->copy);
    mn_free(f->secs);
    mn_free(f);
}

uint32_t mn_file_model_type(const mn_file *f)
{
    return f ? f->model_type : 0;
}

uint32_t mn_file_version(const mn_file *f)
{
    return f ? f->version : 0;
}

size_t mn_file_size(const mn_file *f)
{
    return f ? f->size : 0;
}

int mn_file_section(const mn_file *f, uint32_t tag, const void **data, size_t *size)
{
    if (!f)
        return MN_EINVAL;
    rsection key = {.tag = tag};
    const rsection *s = f->n ? bsearch(&key, f->secs, f->n, sizeof *f->secs, cmp_section) : NULL;
    if (!s)
        return MN_ENOTFOUND;
    if (data)
        *data = f->base + s->offset;
    if (size)
        *size = s->size;
    return 0;
}

int mn_file_sniff(const void *head, size_t len)
{
    return head && len >= sizeof MN_FORMAT_MAGIC - 1 &&
           memcmp(head, MN_FORMAT_MAGIC, sizeof MN_FORMAT_MAGIC - 1) == 0;
}
