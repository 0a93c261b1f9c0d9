/* SPDX-License-Identifier: MIT
 *
 * Tests for src/models/format.c, the model file container: round trips, the byte layout
 * checked against the drawing in format.h (with our own little-endian decoding, so writer and
 * reader cannot agree on a mistake), every refusal with its code and message, forged section
 * tables with valid checksums, atomic commit leaving no temporary file, and allocation fault
 * injection. This test includes <xxhash.h> itself because forging a file whose checksums pass
 * is the only way to reach the section table checks.
 */
#include "models/format.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "micronlp/alloc.h"
#include "test.h"

/* ---- helpers -------------------------------------------------------------------------------- */

#define TAG_LABL MN_TAG('L', 'A', 'B', 'L')
#define TAG_EMPT MN_TAG('E', 'M', 'P', 'T')
#define TAG_BIGM MN_TAG('B', 'I', 'G', 'M')
#define TAG_META MN_TAG('M', 'E', 'T', 'A')

enum { BIG_SIZE = 3 * 1024 * 1024 + 7 };

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static unsigned char big_byte(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13);
}

/* Recomputes the body and header checksums after a test edited the bytes. */
static void reseal(unsigned char *buf, size_t len)
{
    wr64(buf + 32, XXH3_64bits(buf + 64, len - 64));
    wr64(buf + 40, XXH3_64bits(buf, 40));
}

/* Recomputes section i's checksum from its (in-bounds) entry, then reseals. */
static void reseal_section(unsigned char *buf, size_t len, uint32_t i)
{
    unsigned char *e = buf + 64 + 32 * i;
    wr64(e + 24, XXH3_64bits(buf + rd64(e + 8), (size_t)rd64(e + 16)));
    reseal(buf, len);
}

static int make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/mn-format-XXXXXX");
    return mkdtemp(dir) != NULL;
}

/* Counts entries of dir whose name contains needle. */
static int count_entries(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strstr(de->d_name, needle))
            n++;
    closedir(d);
    return n;
}

/* Removes dir and what the tests put in it (files and empty subdirectories). */
static void remove_tmpdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

static int write_bytes(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    int ok = fwrite(buf, 1, len, fp) == len;
    return fclose(fp) == 0 && ok;
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* The standard model: LABL (small), EMPT (empty), BIGM (3 MiB, built in odd-sized pieces),
 * META (small, added after the open BIGM so add must close it). */
static int write_model(const char *path, mn_err *err)
{
    mn_file_writer *w = NULL;
    unsigned char chunk[4099];
    int rc = mn_file_writer_new(MN_TAG('T', 'E', 'S', 'T'), &w);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_LABL, "pos\nneg\n", 8);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_EMPT, NULL, 0);
    if (!rc)
        rc = mn_file_writer_begin(w, TAG_BIGM);
    for (size_t done = 0; !rc && done < BIG_SIZE; done += sizeof chunk) {
        size_t n = BIG_SIZE - done < sizeof chunk ? BIG_SIZE - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = big_byte(done + i);
        rc = mn_file_writer_append(w, chunk, n);
    }
    if (!rc)
        rc = mn_file_writer_add(w, TAG_META, "k=v", 3);
    if (!rc)
        rc = mn_file_writer_commit(w, path, err);
    mn_file_writer_free(w);
    return rc;
}

/* A small valid file in memory: two sections. */
static unsigned char *small_model(const char *dir, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/small.bin", dir);
    mn_file_writer *w = NULL;
    if (mn_file_writer_new(1, &w))
        return NULL;
    int rc = mn_file_writer_add(w, TAG_LABL, "pos\nneg\n", 8);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_META, "hello world", 11);
    if (!rc)
        rc = mn_file_writer_commit(w, path, NULL);
    mn_file_writer_free(w);
    if (rc)
        return NULL;
    unsigned char *buf = read_bytes(path, len);
    unlink(path);
    return buf;
}

/* Checks that buf is refused with code and a message naming the source and containing needle,
 * both from a file (dir/model.bin) and from memory. Prints what went wrong and returns 0. */
static int refused(const char *dir, const void *buf, size_t len, int code, const char *needle)
{
    char path[256];
    snprintf(path, sizeof path, "%s/model.bin", dir);
    if (!write_bytes(path, buf, len)) {
        fprintf(stderr, "cannot write %s\n", path);
        return 0;
    }
    for (int mem = 0; mem < 2; mem++) {
        mn_file *f = (mn_file *)&f; /* sentinel: must stay untouched */
        mn_err err;
        mn_err_clear(&err);
        int rc = mem ? mn_file_open_mem(buf, len, &f, &err) : mn_file_open(path, &f, &err);
        const char *name = mem ? "<memory>" : path;
        if (rc != code || err.code != code || f != (mn_file *)&f || !strstr(err.msg, name) ||
            !strstr(err.msg, needle)) {
            fprintf(stderr, "%s: expected %s containing \"%s\", got rc %s, msg \"%s\"\n",
                    mem ? "open_mem" : "open", mn_errname(code), needle, mn_errname(rc),
                    err.msg);
            if (rc == 0 && f != (mn_file *)&f)
                mn_file_close(f);
            return 0;
        }
    }
    unlink(path);
    return 1;
}

/* ---- round trip ----------------------------------------------------------------------------- */

TEST(roundtrip)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/model.bin", dir);
    mn_err err;
    mn_err_clear(&err);
    ASSERT_EQ(write_model(path, &err), 0);
    ASSERT_EQ(err.code, 0);

    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, &err), 0);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(mn_file_size(f), st.st_size);
    ASSERT_EQ(mn_file_model_type(f), MN_TAG('T', 'E', 'S', 'T'));
    ASSERT_EQ(mn_file_version(f), 1); /* nothing asked for more */

    const void *p = NULL;
    size_t n = 99;
    ASSERT_EQ(mn_file_section(f, TAG_LABL, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "pos\nneg\n");
    ASSERT_EQ((uintptr_t)p % 64, 0);
    ASSERT_EQ(mn_file_section(f, TAG_META, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "k=v");
    ASSERT_EQ((uintptr_t)p % 64, 0);
    ASSERT_EQ(mn_file_section(f, TAG_EMPT, &p, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ((uintptr_t)p % 64, 0);
    ASSERT_EQ(mn_file_section(f, TAG_BIGM, &p, &n), 0);
    ASSERT_EQ(n, BIG_SIZE);
    ASSERT_EQ((uintptr_t)p % 64, 0);
    const unsigned char *b = p;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += b[i] != big_byte(i);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(mn_file_section(f, TAG_BIGM, NULL, NULL), 0);
    mn_file_close(f);

    /* No temporary file is left next to the model. */
    ASSERT_EQ(count_entries(dir, ".tmp."), 0);
    remove_tmpdir(dir);
}

TEST(no_sections)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/empty.bin", dir);
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(2, &w), 0);
    ASSERT_EQ(mn_file_writer_commit(w, path, NULL), 0);
    mn_file_writer_free(w);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, NULL), 0);
    ASSERT_EQ(mn_file_size(f), 64);
    ASSERT_EQ(mn_file_model_type(f), 2);
    ASSERT_EQ(mn_file_section(f, TAG_LABL, NULL, NULL), MN_ENOTFOUND);
    mn_file_close(f);
    remove_tmpdir(dir);
}

/* The bytes on disk follow the drawing in format.h, decoded here independently. */
TEST(layout_matches_spec)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/model.bin", dir);
    ASSERT_EQ(write_model(path, NULL), 0);
    size_t len = 0;
    unsigned char *buf = read_bytes(path, &len);
    ASSERT(buf);
    ASSERT(len > 64);
    ASSERT(memcmp(buf, "MICRONLP", 8) == 0);
    ASSERT_EQ(rd32(buf + 8), 1);
    ASSERT_EQ(rd32(buf + 12), MN_TAG('T', 'E', 'S', 'T'));
    ASSERT(memcmp(buf + 12, "TEST", 4) == 0); /* a tag reads as its four characters */
    ASSERT_EQ(rd32(buf + 16), 4);
    ASSERT_EQ(rd32(buf + 20), 0);
    ASSERT_EQ(rd64(buf + 24), len);
    ASSERT(rd64(buf + 32) == XXH3_64bits(buf + 64, len - 64));
    ASSERT(rd64(buf + 40) == XXH3_64bits(buf, 40));
    for (int i = 48; i < 64; i++)
        ASSERT_EQ(buf[i], 0);
    static const char *const tags[] = {"LABL", "EMPT", "BIGM", "META"};
    static const uint64_t sizes[] = {8, 0, BIG_SIZE, 3};
    uint64_t end = 64 + 4 * 32;
    for (int i = 0; i < 4; i++) {
        const unsigned char *e = buf + 64 + 32 * i;
        ASSERT(memcmp(e, tags[i], 4) == 0);
        ASSERT_EQ(rd32(e + 4), 0);
        uint64_t off = rd64(e + 8), size = rd64(e + 16);
        ASSERT_EQ(off % 64, 0);
        ASSERT(off >= end && off - end < 64); /* payloads packed in order, padded to 64 */
        for (uint64_t z = end; z < off; z++)
            ASSERT_EQ(buf[z], 0);
        ASSERT_EQ(size, sizes[i]);
        ASSERT(rd64(e + 24) == XXH3_64bits(buf + off, (size_t)size));
        end = off + size;
    }
    ASSERT_EQ(end, len);
    free(buf);
    remove_tmpdir(dir);
}

/* A buffer that is not 64-byte aligned still yields aligned section pointers. */
TEST(open_mem_misaligned)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    unsigned char *space = malloc(len + 128);
    ASSERT(space);
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned char *at = (unsigned char *)(((uintptr_t)space + 63) & ~(uintptr_t)63) + shift;
        memcpy(at, buf, len);
        mn_file *f = NULL;
        ASSERT_EQ(mn_file_open_mem(at, len, &f, NULL), 0);
        const void *p = NULL;
        size_t n = 0;
        ASSERT_EQ(mn_file_section(f, TAG_META, &p, &n), 0);
        ASSERT_MEMEQ(p, n, "hello world");
        ASSERT_EQ((uintptr_t)p % 64, 0);
        mn_file_close(f);
    }
    free(space);
    free(buf);
    remove_tmpdir(dir);
}

TEST(unknown_tag)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open_mem(buf, len, &f, NULL), 0);
    const void *p = (const void *)buf;
    size_t n = 1234;
    ASSERT_EQ(mn_file_section(f, MN_TAG('N', 'O', 'P', 'E'), &p, &n), MN_ENOTFOUND);
    ASSERT(p == (const void *)buf); /* untouched */
    ASSERT_EQ(n, 1234);
    ASSERT_EQ(mn_file_section(NULL, TAG_LABL, &p, &n), MN_EINVAL);
    mn_file_close(f);
    free(buf);
    remove_tmpdir(dir);
}

TEST(sniff)
{
    ASSERT(mn_file_sniff("MICRONLP\1\0\0\0", 12));
    ASSERT(mn_file_sniff("MICRONLP", 8));
    ASSERT(!mn_file_sniff("MICRONL", 7));
    ASSERT(!mn_file_sniff("\xba\x16\x4f\x2f", 4)); /* fastText magic */
    ASSERT(!mn_file_sniff(NULL, 0));
}

TEST(null_is_noop)
{
    mn_file_close(NULL);
    mn_file_writer_free(NULL);
    ASSERT_EQ(mn_file_model_type(NULL), 0);
    ASSERT_EQ(mn_file_version(NULL), 0);
    ASSERT_EQ(mn_file_size(NULL), 0);
    ASSERT_EQ(mn_file_writer_new(1, NULL), MN_EINVAL);
    mn_err err;
    mn_err_clear(&err);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(NULL, &f, &err), MN_EINVAL);
    ASSERT_EQ(mn_file_open("x", NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_file_open_mem(NULL, 10, &f, &err), MN_EINVAL);
    ASSERT(f == NULL);
}

TEST(writer_misuse)
{
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(1, &w), 0);
    ASSERT_EQ(mn_file_writer_append(w, "x", 1), MN_EINVAL); /* nothing open */
    ASSERT_EQ(mn_file_writer_add(w, TAG_LABL, "a", 1), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_LABL, "b", 1), MN_EINVAL); /* repeated tag */
    ASSERT_EQ(mn_file_writer_begin(w, TAG_LABL), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_add(w, TAG_META, NULL, 5), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_begin(w, TAG_META), 0);
    ASSERT_EQ(mn_file_writer_append(w, "ab", 2), 0);
    ASSERT_EQ(mn_file_writer_append(w, NULL, 0), 0);
    ASSERT_EQ(mn_file_writer_append(w, NULL, 3), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_add(w, TAG_EMPT, NULL, 0), 0);
    ASSERT_EQ(mn_file_writer_append(w, "c", 1), MN_EINVAL); /* add closed META */
    ASSERT_EQ(mn_file_writer_add(NULL, TAG_BIGM, "a", 1), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_begin(NULL, TAG_BIGM), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_append(NULL, "a", 1), MN_EINVAL);
    mn_err err;
    mn_err_clear(&err);
    ASSERT_EQ(mn_file_writer_commit(w, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_commit(w, "", &err), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_commit(NULL, "x", &err), MN_EINVAL);
    /* the version: 1 unless a model asks for more, never lowered, never past this build's */
    ASSERT_EQ(mn_file_writer_need_version(NULL, 2), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_need_version(w, 0), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_need_version(w, MN_FORMAT_VERSION + 1), MN_EINVAL);
    ASSERT_EQ(mn_file_writer_need_version(w, 2), 0);
    ASSERT_EQ(mn_file_writer_need_version(w, 1), 0);

    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.bin", dir);
    ASSERT_EQ(mn_file_writer_commit(w, path, &err), 0);
    mn_file_writer_free(w);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, &err), 0);
    ASSERT_EQ(mn_file_version(f), 2);
    const void *p;
    size_t n;
    ASSERT_EQ(mn_file_section(f, TAG_LABL, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "a");
    ASSERT_EQ(mn_file_section(f, TAG_META, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "ab");
    mn_file_close(f);
    remove_tmpdir(dir);
}

/* Committing again over an existing file replaces it whole. */
TEST(commit_replaces)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.bin", dir);
    ASSERT_EQ(write_model(path, NULL), 0);
    mn_file *old = NULL;
    ASSERT_EQ(mn_file_open(path, &old, NULL), 0); /* stays valid: the inode is replaced */
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(9, &w), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_LABL, "new", 3), 0);
    ASSERT_EQ(mn_file_writer_commit(w, path, NULL), 0);
    mn_file_writer_free(w);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, NULL), 0);
    ASSERT_EQ(mn_file_model_type(f), 9);
    const void *p;
    size_t n;
    ASSERT_EQ(mn_file_section(f, TAG_LABL, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "new");
    ASSERT_EQ(mn_file_section(old, TAG_LABL, &p, &n), 0);
    ASSERT_MEMEQ(p, n, "pos\nneg\n");
    mn_file_close(f);
    mn_file_close(old);
    ASSERT_EQ(count_entries(dir, ".tmp."), 0);
    remove_tmpdir(dir);
}

TEST(commit_unwritable)
{
    char dir[64], path[192];
    ASSERT(make_tmpdir(dir, sizeof dir));
    mn_file_writer *w = NULL;
    ASSERT_EQ(mn_file_writer_new(1, &w), 0);
    ASSERT_EQ(mn_file_writer_add(w, TAG_LABL, "abc", 3), 0);
    mn_err err;

    /* The directory does not exist: nothing can be created. */
    snprintf(path, sizeof path, "%s/missing/m.bin", dir);
    mn_err_clear(&err);
    ASSERT_EQ(mn_file_writer_commit(w, path, &err), -ENOENT);
    ASSERT_EQ(err.code, -ENOENT);
    ASSERT(strstr(err.msg, path));

    /* The target is a non-empty directory: the tmp file is written, the rename fails, and the
     * tmp file must be gone afterwards. */
    snprintf(path, sizeof path, "%s/target", dir);
    ASSERT_EQ(mkdir(path, 0700), 0);
    char inner[256];
    snprintf(inner, sizeof inner, "%s/keep", path);
    ASSERT(write_bytes(inner, "x", 1));
    mn_err_clear(&err);
    int rc = mn_file_writer_commit(w, path, &err);
    ASSERT(rc < 0 && rc > -10000); /* -EISDIR or -ENOTEMPTY depending on the system */
    ASSERT_EQ(err.code, rc);
    ASSERT(strstr(err.msg, path));
    ASSERT_EQ(count_entries(dir, ".tmp."), 0);
    unlink(inner);

    /* A read-only directory (only meaningful when not root, who may write anyway). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", dir);
        ASSERT_EQ(mkdir(path, 0500), 0);
        snprintf(inner, sizeof inner, "%s/ro/m.bin", dir);
        mn_err_clear(&err);
        ASSERT_EQ(mn_file_writer_commit(w, inner, &err), -EACCES);
        ASSERT(strstr(err.msg, inner));
        ASSERT_EQ(count_entries(path, ".tmp."), 0);
    }
    mn_file_writer_free(w);
    remove_tmpdir(dir);
}

/* A write that fails halfway (file size limit: EFBIG, as on a full disk) leaves neither a
 * temporary file nor a partial model behind. */
TEST(commit_write_error)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.bin", dir);
    struct rlimit old, small;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    small = old;
    small.rlim_cur = 100000;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    mn_err err;
    mn_err_clear(&err);
    int rc = write_model(path, &err); /* 3 MiB */
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    ASSERT_EQ(rc, -EFBIG);
    ASSERT_EQ(err.code, -EFBIG);
    ASSERT(strstr(err.msg, path));
    ASSERT(strstr(err.msg, "cannot write"));
    ASSERT_EQ(access(path, F_OK), -1);
    ASSERT_EQ(count_entries(dir, ".tmp."), 0);
    remove_tmpdir(dir);
}

/* ---- refusals --------------------------------------------------------------------------- */

TEST(missing_file)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/nope.bin", dir);
    mn_err err;
    mn_err_clear(&err);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, &err), -ENOENT);
    ASSERT_EQ(err.code, -ENOENT);
    ASSERT(strstr(err.msg, path));
    ASSERT(f == NULL);
    remove_tmpdir(dir);
}

TEST(directory)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    mn_err err;
    mn_err_clear(&err);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(dir, &f, &err), -EISDIR);
    ASSERT(strstr(err.msg, dir));
    ASSERT(f == NULL);

    /* A FIFO is refused at once instead of blocking until someone writes to it. */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    ASSERT_EQ(mkfifo(fifo, 0600), 0);
    ASSERT_EQ(mn_file_open(fifo, &f, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "not a regular file"));
    ASSERT(f == NULL);
    remove_tmpdir(dir);
}

TEST(refuse_short)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    ASSERT(refused(dir, "", 0, MN_ETRUNC, "file is empty"));
    ASSERT(refused(dir, "MICRONLP\1\0", 10, MN_ETRUNC, "truncated"));
    ASSERT(refused(dir, "MICRONLP\1\0", 10, MN_ETRUNC, "file has 10 bytes"));
    remove_tmpdir(dir);
}

TEST(refuse_bad_magic)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    memcpy(buf, "MICRONLQ", 8);
    ASSERT(refused(dir, buf, len, MN_EFOREIGN, "not a micronlp model file (bad magic)"));
    char text[200];
    memset(text, 'a', sizeof text);
    ASSERT(refused(dir, text, sizeof text, MN_EFOREIGN, "bad magic"));
    free(buf);
    remove_tmpdir(dir);
}

TEST(refuse_version)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    wr32(buf + 8, 7);
    ASSERT(refused(dir, buf, len, MN_EVERSION,
                   "format version 7 is newer than this build supports (3); upgrade micronlp"));
    reseal(buf, len); /* a genuine newer file is refused the same way */
    ASSERT(refused(dir, buf, len, MN_EVERSION, "format version 7 is newer"));
    wr32(buf + 8, 0);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_EVERSION, "format version 0"));
    free(buf);
    remove_tmpdir(dir);
}

/* Every single-byte change in the header is refused. */
TEST(refuse_flipped_header)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    for (size_t i = 0; i < 64; i++) {
        buf[i] ^= 0x10;
        mn_err err;
        mn_file *f = NULL;
        int rc = mn_file_open_mem(buf, len, &f, &err);
        if (rc == 0)
            mn_file_close(f);
        if (rc == 0)
            MN_FAIL_AT("flipping header byte %zu went unnoticed", i);
        int want = i < 8 ? MN_EFOREIGN : i < 12 ? MN_EVERSION : MN_ECORRUPT;
        if (rc != want)
            MN_FAIL_AT("byte %zu: %s, want %s (%s)", i, mn_errname(rc), mn_errname(want), err.msg);
        buf[i] ^= 0x10;
    }
    buf[12] ^= 1; /* model_type */
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "header checksum mismatch (file corrupted)"));
    buf[12] ^= 1;
    buf[50] ^= 1; /* reserved: not under the checksum, checked to be zero instead */
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "reserved header bytes are not zero"));
    free(buf);
    remove_tmpdir(dir);
}

TEST(refuse_flipped_body)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    size_t at[] = {64, 64 + 9, 64 + 32 + 20, len - 1, len - 5, 150 /* padding */};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        buf[at[k]] ^= 0x80;
        ASSERT(refused(dir, buf, len, MN_ECORRUPT, "checksum mismatch (file corrupted)"));
        buf[at[k]] ^= 0x80;
    }
    /* The same flip in a payload with the body resealed: the section checksum catches it. */
    buf[len - 1] ^= 0x80;
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'META' checksum mismatch"));
    free(buf);
    remove_tmpdir(dir);
}

TEST(refuse_truncated_or_extended)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *buf = small_model(dir, &len);
    ASSERT(buf);
    char want[128];
    snprintf(want, sizeof want, "truncated: header says %zu bytes, file has %zu", len, len - 1);
    ASSERT(refused(dir, buf, len - 1, MN_ETRUNC, want));
    ASSERT(refused(dir, buf, 64, MN_ETRUNC, "truncated"));
    ASSERT(refused(dir, buf, 63, MN_ETRUNC, "truncated"));
    unsigned char *more = calloc(1, len + 3);
    ASSERT(more);
    memcpy(more, buf, len);
    ASSERT(refused(dir, more, len + 1, MN_ECORRUPT, "trailing data"));
    ASSERT(refused(dir, more, len + 3, MN_ECORRUPT, "trailing data"));
    free(more);
    free(buf);
    remove_tmpdir(dir);
}

/* Section tables that pass every checksum but lie: the table checks must still hold. */
TEST(refuse_forged_table)
{
    char dir[64];
    ASSERT(make_tmpdir(dir, sizeof dir));
    size_t len = 0;
    unsigned char *orig = small_model(dir, &len);
    ASSERT(orig);
    unsigned char *buf = malloc(len);
    ASSERT(buf);
    unsigned char *e0 = buf + 64, *e1 = buf + 96;
    ASSERT(memcmp(orig + 64, "LABL", 4) == 0);

    memcpy(buf, orig, len); /* a misaligned offset */
    wr64(e1 + 8, rd64(e1 + 8) + 1);
    wr64(e1 + 16, 4);
    reseal_section(buf, len, 1);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'META' offset 193 is not 64-byte aligned"));

    memcpy(buf, orig, len); /* one byte too long */
    wr64(e1 + 16, rd64(e1 + 16) + 1);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'META' extends past end of file"));

    memcpy(buf, orig, len); /* offset + size wraps around 2^64 */
    wr64(e1 + 8, UINT64_MAX - 63);
    wr64(e1 + 16, 128);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'META' extends past end of file"));

    memcpy(buf, orig, len); /* huge size */
    wr64(e0 + 16, UINT64_MAX);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'LABL' extends past end of file"));

    memcpy(buf, orig, len); /* an empty section just past the end */
    wr64(e1 + 8, (len + 63) / 64 * 64 + 64);
    wr64(e1 + 16, 0);
    reseal_section(buf, len, 0);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "extends past end of file"));

    memcpy(buf, orig, len); /* pointing into the header */
    wr64(e0 + 8, 0);
    reseal_section(buf, len, 0);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 'LABL' overlaps the section table"));

    memcpy(buf, orig, len); /* more entries than the file can hold */
    wr32(buf + 16, UINT32_MAX);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section table (4294967295 entries) extends"));

    memcpy(buf, orig, len); /* the same tag twice */
    memcpy(e1, "LABL", 4);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "duplicate section 'LABL'"));

    memcpy(buf, orig, len); /* a tag that is not text is shown in hex */
    wr32(e1, 0x01020304);
    wr64(e1 + 16, rd64(e1 + 16) + 1000);
    reseal(buf, len);
    ASSERT(refused(dir, buf, len, MN_ECORRUPT, "section 0x01020304 extends"));

    memcpy(buf, orig, len); /* fewer sections than written is still a valid file */
    wr32(buf + 16, 1);
    reseal(buf, len);
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open_mem(buf, len, &f, NULL), 0);
    ASSERT_EQ(mn_file_section(f, TAG_META, NULL, NULL), MN_ENOTFOUND);
    mn_file_close(f);

    free(buf);
    free(orig);
    remove_tmpdir(dir);
}

/* ---- allocation faults ---------------------------------------------------------------------- */

static int build_and_commit(const char *path)
{
    mn_file_writer *w = NULL;
    int rc = mn_file_writer_new(1, &w);
    if (!rc)
        rc = mn_file_writer_add(w, TAG_LABL, "pos\nneg\n", 8);
    if (!rc)
        rc = mn_file_writer_begin(w, TAG_BIGM);
    for (int i = 0; !rc && i < 200; i++)
        rc = mn_file_writer_append(w, "0123456789abcdef", 16);
    for (uint32_t t = 0; !rc && t < 20; t++) /* enough sections to grow the table */
        rc = mn_file_writer_add(w, MN_TAG('S', '0' + t / 10, '0' + t % 10, '_'), &t, sizeof t);
    mn_err err;
    mn_err_clear(&err);
    if (!rc) {
        rc = mn_file_writer_commit(w, path, &err);
        if (rc == MN_ENOMEM && (err.code != MN_ENOMEM || !strstr(err.msg, path)))
            rc = MN_EINVAL; /* flag a bad message */
    }
    mn_file_writer_free(w);
    return rc;
}

TEST(alloc_faults_writer)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.bin", dir);
    int rc = -1;
    long n;
    for (n = 1; n < 10000; n++) {
        mn_alloc_fail_after(n);
        rc = build_and_commit(path);
        mn_alloc_fail_after(0);
        if (rc == 0)
            break;
        ASSERT_EQ(rc, MN_ENOMEM);
        ASSERT_EQ(access(path, F_OK), -1); /* nothing half-written appears */
        ASSERT_EQ(count_entries(dir, ".tmp."), 0);
    }
    ASSERT_EQ(rc, 0);
    ASSERT(n > 5); /* the loop did inject faults */
    mn_file *f = NULL;
    ASSERT_EQ(mn_file_open(path, &f, NULL), 0);
    ASSERT_EQ(mn_file_section(f, MN_TAG('S', '1', '9', '_'), NULL, NULL), 0);
    mn_file_close(f);
    remove_tmpdir(dir);
}

TEST(alloc_faults_reader)
{
    char dir[64], path[128];
    ASSERT(make_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.bin", dir);
    ASSERT_EQ(build_and_commit(path), 0);
    size_t len = 0;
    unsigned char *buf = read_bytes(path, &len);
    ASSERT(buf);
    unsigned char *odd = malloc(len + 1); /* misaligned: open_mem must copy */
    ASSERT(odd);
    memcpy(odd + ((uintptr_t)odd % 2 ? 0 : 1), buf, len);
    const unsigned char *src = odd + ((uintptr_t)odd % 2 ? 0 : 1);
    for (int mode = 0; mode < 2; mode++) {
        int rc = -1;
        for (long n = 1; n < 100; n++) {
            mn_err err;
            mn_err_clear(&err);
            mn_file *f = NULL;
            mn_alloc_fail_after(n);
            rc = mode ? mn_file_open_mem(src, len, &f, &err) : mn_file_open(path, &f, &err);
            mn_alloc_fail_after(0);
            if (rc == 0) {
                mn_file_close(f);
                break;
            }
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT_EQ(err.code, MN_ENOMEM);
            ASSERT(f == NULL);
        }
        ASSERT_EQ(rc, 0);
    }
    free(odd);
    free(buf);
    remove_tmpdir(dir);
}

/* clang-format off */
TEST_MAIN(
    TEST_ENTRY(roundtrip)
    TEST_ENTRY(no_sections)
    TEST_ENTRY(layout_matches_spec)
    TEST_ENTRY(open_mem_misaligned)
    TEST_ENTRY(unknown_tag)
    TEST_ENTRY(sniff)
    TEST_ENTRY(null_is_noop)
    TEST_ENTRY(writer_misuse)
    TEST_ENTRY(commit_replaces)
    TEST_ENTRY(commit_unwritable)
    TEST_ENTRY(commit_write_error)
    TEST_ENTRY(missing_file)
    TEST_ENTRY(directory)
    TEST_ENTRY(refuse_short)
    TEST_ENTRY(refuse_bad_magic)
    TEST_ENTRY(refuse_version)
    TEST_ENTRY(refuse_flipped_header)
    TEST_ENTRY(refuse_flipped_body)
    TEST_ENTRY(refuse_truncated_or_extended)
    TEST_ENTRY(refuse_forged_table)
    TEST_ENTRY(alloc_faults_writer)
    TEST_ENTRY(alloc_faults_reader)
)
/* clang-format on */
