/* SPDX-License-Identifier: MIT
 *
 * Tests for src/jobs/store.c and src/jobs/store_sqlite.c, on real SQLite files in the test's
 * temporary directory: opening (create, reopen, refusals that must leave the file untouched,
 * the process lock), the job life cycle (submit, claim, finish, dead letter, idempotency),
 * listing, and the promise of store.h under kill -9: a child process is killed at random
 * moments and the parent checks that nothing it was told was accepted or finished is lost.
 */
#include "micronlp/store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "test.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static char *tmp(const char *name, char buf[512])
{
    const char *p = mn_test_tmp_path(name);
    size_t n = strlen(p);
    if (n >= 512)
        abort();
    memcpy(buf, p, n + 1);
    return buf;
}

static int open_store(const char *url, int durable, int max_attempts, mn_store **st,
                      size_t *requeued)
{
    mn_store_config cfg;
    mn_store_config_init(&cfg);
    cfg.url = url;
    cfg.durable = durable;
    cfg.max_attempts = max_attempts;
    mn_err err = {0};
    int rc = mn_store_open(&cfg, st, requeued, &err);
    if (rc)
        fprintf(stderr, "  open %s: %s (%s)\n", url, err.msg, mn_errname(rc));
    return rc;
}

/* Submits texts (keys may be NULL) to pipeline "p"; ids must hold n. */
static int submit(mn_store *st, const char *pipeline, const char *const *texts,
                  const char *const *keys, size_t n, int64_t *ids, uint8_t *dup)
{
    mn_job_input in[64];
    if (n > 64)
        abort();
    for (size_t i = 0; i < n; i++)
        in[i] = (mn_job_input){.text = texts[i], .len = strlen(texts[i]),
                               .key = keys ? keys[i] : NULL,
                               .key_len = keys && keys[i] ? strlen(keys[i]) : 0};
    mn_err err = {0};
    int rc = mn_store_submit(st, pipeline, in, n, ids, dup, &err);
    if (rc)
        fprintf(stderr, "  submit: %s\n", err.msg);
    return rc;
}

static int finish_ok(mn_store *st, int64_t id, const char *result)
{
    mn_job_outcome o = {.id = id, .ok = 1, .result = result, .result_len = strlen(result)};
    return mn_store_finish(st, &o, 1, NULL);
}

static int finish_failed(mn_store *st, int64_t id, const char *error)
{
    mn_job_outcome o = {.id = id, .ok = 0, .error = error};
    return mn_store_finish(st, &o, 1, NULL);
}

/* A copy of one record, for assertions after mn_store_get returns. */
typedef struct {
    int64_t id;
    int state, attempts;
    char pipeline[64], text[256], key[300], error[256], result[512];
    size_t len;
    int has_key, has_error, has_result, has_text;
    int64_t created_ms, finished_ms;
} rec;

static void copy_str(char *dst, size_t cap, const char *src, size_t len, int *has)
{
    *has = src != NULL;
    if (!src)
        len = 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src ? src : "", len);
    dst[len] = '\0';
}

static void copy_record(rec *c, const mn_job_record *r)
{
    int dummy;
    c->id = r->id;
    c->state = r->state;
    c->attempts = r->attempts;
    c->len = r->len;
    c->created_ms = r->created_ms;
    c->finished_ms = r->finished_ms;
    copy_str(c->pipeline, sizeof c->pipeline, r->pipeline, strlen(r->pipeline), &dummy);
    copy_str(c->text, sizeof c->text, r->text, r->len, &c->has_text);
    copy_str(c->key, sizeof c->key, r->key, r->key ? strlen(r->key) : 0, &c->has_key);
    copy_str(c->error, sizeof c->error, r->error, r->error ? strlen(r->error) : 0, &c->has_error);
    copy_str(c->result, sizeof c->result, r->result, r->result_len, &c->has_result);
}

static void get_cb(void *ctx, const mn_job_record *r)
{
    copy_record(ctx, r);
}

static int get(mn_store *st, int64_t id, rec *out)
{
    memset(out, 0, sizeof *out);
    return mn_store_get(st, id, get_cb, out, NULL);
}

static int64_t total(const int64_t c[4])
{
    return c[0] + c[1] + c[2] + c[3];
}

static int tally_cb(void *ctx, const mn_job_record *r)
{
    ((int64_t *)ctx)[r->state]++;
    return 0;
}

/* 1 when mn_store_counts (kept per transaction) agrees with the jobs as listed. */
static int counts_agree(mn_store *st)
{
    int64_t kept[4], seen[4] = {0};
    mn_job_filter f = {.state = -1};
    if (mn_store_counts(st, kept, NULL) || mn_store_list(st, &f, tally_cb, seen, NULL) < 0)
        return 0;
    if (memcmp(kept, seen, sizeof kept) == 0)
        return 1;
    fprintf(stderr, "  counts %lld/%lld/%lld/%lld, jobs %lld/%lld/%lld/%lld\n",
            (long long)kept[0], (long long)kept[1], (long long)kept[2], (long long)kept[3],
            (long long)seen[0], (long long)seen[1], (long long)seen[2], (long long)seen[3]);
    return 0;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static void write_all(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len)
        abort();
    fclose(f);
}

/* Overwrites a big-endian 32-bit field of the SQLite header (60: user_version, 68:
 * application_id). */
static void patch_be32(const char *path, long offset, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, b, 4, offset) != 4)
        abort();
    close(fd);
}

static uint32_t read_be32(const char *path, long offset)
{
    unsigned char b[4] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0 || pread(fd, b, 4, offset) != 4)
        abort();
    close(fd);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Creates a store with one finished job, then closes it (the WAL is folded into the file). */
static int make_store(const char *path)
{
    mn_store *st;
    if (open_store(path, 1, 3, &st, NULL))
        return -1;
    int64_t id;
    const char *t[] = {"hello"};
    mn_job_batch b = {0};
    int rc = submit(st, "p", t, NULL, 1, &id, NULL);
    if (!rc)
        rc = mn_store_claim(st, 1, &b, NULL);
    if (!rc)
        rc = finish_ok(st, id, "{}");
    mn_store_batch_free(&b);
    mn_store_close(st);
    return rc;
}

/* ---- opening --------------------------------------------------------------------------------- */

TEST(create_reopen_migrate)
{
    char path[512], url[600];
    tmp("create.db", path);
    mn_store *st;
    size_t requeued = 99;
    ASSERT_EQ(open_store(path, 1, 3, &st, &requeued), 0);
    ASSERT_EQ(requeued, 0);
    int64_t c[4] = {1, 1, 1, 1};
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(total(c), 0);
    mn_store_close(st);
    /* Migration 1 wrote our marker and the schema version. */
    ASSERT_EQ(read_be32(path, 68), 0x4D4E4A53);
    ASSERT_EQ(read_be32(path, 60), 1);
    ASSERT(exists(tmp("create.db.lock", url)));
    ASSERT(!exists(tmp("create.db-wal", url))); /* a clean close folds the WAL in */

    /* Every URL form reaches the same file. */
    snprintf(url, sizeof url, "sqlite:%s", path);
    ASSERT_EQ(open_store(url, 0, 3, &st, &requeued), 0);
    const char *t[] = {"x"};
    int64_t id;
    ASSERT_EQ(submit(st, "p", t, NULL, 1, &id, NULL), 0);
    ASSERT_EQ(id, 1);
    mn_store_close(st);
    snprintf(url, sizeof url, "sqlite://%s", path);
    ASSERT_EQ(open_store(url, 1, 3, &st, &requeued), 0);
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_QUEUED], 1);
    mn_store_close(st);

    /* An empty file (touch) is a new store. */
    char empty[512];
    write_all(tmp("empty.db", empty), "", 0);
    ASSERT_EQ(open_store(empty, 1, 3, &st, NULL), 0);
    mn_store_close(st);
    mn_store_close(NULL);
}

TEST(bad_urls)
{
    mn_store_config cfg;
    mn_store_config_init(&cfg);
    ASSERT_EQ(cfg.max_attempts, 3);
    ASSERT_EQ(cfg.durable, 1);
    ASSERT_EQ(cfg.busy_timeout_ms, 5000);
    mn_store *st = NULL;
    mn_err err = {0};
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EINVAL); /* no URL */
    cfg.url = "postgres://localhost/jobs";
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EUNSUPPORTED);
    ASSERT(strstr(err.msg, "PostgreSQL"));
    cfg.url = "redis://localhost";
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EUNSUPPORTED);
    ASSERT(strstr(err.msg, "unknown store scheme \"redis\""));
    cfg.url = "sqlite:";
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EINVAL);
    cfg.url = ":memory:";
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EINVAL);
    char path[512];
    cfg.url = tmp("no-such-dir/x.db", path);
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), -ENOENT);
    ASSERT(strstr(err.msg, "no-such-dir/x.db"));
    mkdir(tmp("a-dir", path), 0755);
    cfg.url = path;
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), -EISDIR);
    cfg.url = "sqlite:x.db";
    cfg.max_attempts = -1;
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EINVAL);
    ASSERT(st == NULL);
}

TEST(schema_newer_refused)
{
    char path[512];
    tmp("newer.db", path);
    ASSERT_EQ(make_store(path), 0);
    patch_be32(path, 60, 99);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = read_all(path, &n0);
    mn_store_config cfg;
    mn_store_config_init(&cfg);
    cfg.url = path;
    mn_store *st = NULL;
    mn_err err = {0};
    ASSERT_EQ(mn_store_open(&cfg, &st, NULL, &err), MN_EVERSION);
    ASSERT(strstr(err.msg, path) && strstr(err.msg, "99"));
    unsigned char *after = read_all(path, &n1);
    ASSERT(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    /* Back to our version, it opens again. */
    patch_be32(path, 60, 1);
    ASSERT_EQ(open_store(path, 1, 3, &st, NULL), 0);
    rec r;
    ASSERT_EQ(get(st, 1, &r), 0);
    ASSERT_STREQ(r.result, "{}");
    mn_store_close(st);
}

/* Opening path must fail with code and leave the file exactly as it was. */
static void expect_refused(const char *path, int code, const char *words)
{
    size_t n0 = 0, n1 = 0;
    unsigned char *before = read_all(path, &n0);
    mn_store_config cfg;
    mn_store_config_init(&cfg);
    cfg.url = path;
    mn_store *st = NULL;
    mn_err err = {0};
    int rc = mn_store_open(&cfg, &st, NULL, &err);
    unsigned char *after = read_all(path, &n1);
    int same = before && after && n0 == n1 && memcmp(before, after, n0) == 0;
    free(before);
    free(after);
    ASSERT_EQ(rc, code);
    ASSERT(st == NULL);
    ASSERT(strstr(err.msg, path));
    if (!strstr(err.msg, words))
        MN_FAIL_AT("message \"%s\" lacks \"%s\"", err.msg, words);
    ASSERT(same);
}

TEST(not_a_database_refused)
{
    char path[512];
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)("lorem ipsum dolor sit amet "[i % 27]);
    write_all(tmp("garbage.db", path), garbage, sizeof garbage);
    expect_refused(path, MN_ECORRUPT, "not a SQLite database");
    if (mn_test_failed)
        return;
    /* Shorter than a page: SQLite alone would take it for an empty database and write over
     * it. */
    write_all(path, "hello\n", 6);
    expect_refused(path, MN_ECORRUPT, "not a SQLite database");
    if (mn_test_failed)
        return;
    /* The right magic, then damage. */
    memcpy(garbage, "SQLite format 3", 16);
    write_all(path, garbage, sizeof garbage);
    expect_refused(path, MN_ECORRUPT, "damaged");
}

TEST(foreign_sqlite_refused)
{
    char path[512];
    tmp("foreign.db", path);
    ASSERT_EQ(make_store(path), 0);
    patch_be32(path, 68, 0); /* a SQLite database of someone else's: tables, no marker */
    expect_refused(path, MN_ECORRUPT, "not a micronlp job store");
    if (mn_test_failed)
        return;
    patch_be32(path, 68, 0x0F055112); /* another application's id */
    expect_refused(path, MN_ECORRUPT, "application_id 0x0f055112");
}

TEST(lock_second_process)
{
    char path[512];
    tmp("locked.db", path);
    mn_store *st;
    ASSERT_EQ(open_store(path, 1, 3, &st, NULL), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        mn_store_config cfg;
        mn_store_config_init(&cfg);
        cfg.url = path;
        mn_store *st2 = NULL;
        mn_err err = {0};
        int rc = mn_store_open(&cfg, &st2, NULL, &err);
        char want[1024];
        snprintf(want, sizeof want, "%s: store in use by another process (pid %ld)", path,
                 (long)parent);
        _exit(rc == -EBUSY && st2 == NULL && strcmp(err.msg, want) == 0 ? 0 : 1);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    /* A second open in this process is refused too (it would run the same jobs twice). */
    mn_store_config cfg;
    mn_store_config_init(&cfg);
    cfg.url = path;
    mn_store *st2 = NULL;
    mn_err err = {0};
    ASSERT_EQ(mn_store_open(&cfg, &st2, NULL, &err), -EBUSY);
    ASSERT(strstr(err.msg, "already open in this process"));
    /* Another spelling of the same file is the same store. */
    char link[512];
    ASSERT(symlink(path, tmp("locked-link.db", link)) == 0);
    cfg.url = link;
    ASSERT_EQ(mn_store_open(&cfg, &st2, NULL, &err), -EBUSY);
    mn_store_close(st);
    ASSERT_EQ(open_store(path, 1, 3, &st, NULL), 0);
    mn_store_close(st);
}

/* ---- the job life cycle ---------------------------------------------------------------------- */

TEST(submit_claim_finish)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("cycle.db", path), 1, 3, &st, NULL), 0);
    /* Texts with a NUL byte, nothing at all, and non-ASCII all come back byte for byte. */
    mn_job_input in[] = {
        {.text = "first text", .len = 10},
        {.text = "nul\0inside", .len = 10, .key = "k1", .key_len = 2},
        {.text = NULL, .len = 0},
        {.text = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", .len = 17},
    };
    int64_t ids[4];
    uint8_t dup[4] = {9, 9, 9, 9};
    mn_err err = {0};
    ASSERT_EQ(mn_store_submit(st, "spam", in, 3, ids, dup, &err), 0);
    ASSERT_EQ(mn_store_submit(st, "lang", in + 3, 1, ids + 3, dup + 3, &err), 0);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(ids[i], i + 1);
        ASSERT_EQ(dup[i], 0);
    }
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 3, &b, &err), 0);
    ASSERT_EQ(b.n, 3);
    ASSERT_EQ(mn_store_claim(st, 10, &b, &err), 0); /* the batch is reused */
    ASSERT_EQ(b.n, 1);
    ASSERT_EQ(b.jobs[0].id, 4);
    ASSERT_STREQ(b.jobs[0].pipeline, "lang");
    ASSERT_EQ(mn_store_claim(st, 10, &b, &err), 0);
    ASSERT_EQ(b.n, 0);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_RUNNING], 4);

    /* Finishing jobs 1..3 as one batch: all saved in one transaction. */
    mn_job_outcome o[3];
    char res[3][64];
    for (int i = 0; i < 3; i++) {
        snprintf(res[i], sizeof res[i], "{\"job\":%d,\"label\":\"ham\"}", i + 1);
        o[i] = (mn_job_outcome){.id = i + 1, .ok = 1, .result = res[i],
                                .result_len = strlen(res[i])};
    }
    ASSERT_EQ(mn_store_finish(st, o, 3, &err), 0);
    rec r;
    ASSERT_EQ(get(st, 2, &r), 0);
    ASSERT_EQ(r.state, MN_JOB_DONE);
    ASSERT_STREQ(r.pipeline, "spam");
    ASSERT_EQ(r.len, 10);
    ASSERT(memcmp(r.text, "nul\0inside", 10) == 0);
    ASSERT_STREQ(r.key, "k1");
    ASSERT_EQ(r.attempts, 1);
    ASSERT(!r.has_error);
    ASSERT_STREQ(r.result, "{\"job\":2,\"label\":\"ham\"}");
    ASSERT(r.created_ms > 1600000000000LL && r.finished_ms >= r.created_ms);
    ASSERT_EQ(get(st, 3, &r), 0);
    ASSERT(r.has_text);
    ASSERT_EQ(r.len, 0);
    ASSERT(!r.has_key);
    ASSERT_EQ(get(st, 4, &r), 0);
    ASSERT_EQ(r.state, MN_JOB_RUNNING);
    ASSERT_EQ(r.finished_ms, 0);
    ASSERT(!r.has_result);
    ASSERT_STREQ(r.text, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    ASSERT_EQ(get(st, 99, &r), MN_ENOTFOUND);
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_DONE], 3);
    ASSERT_EQ(c[MN_JOB_RUNNING], 1);
    mn_store_batch_free(&b);
    mn_store_batch_free(&b);
    mn_store_batch_free(NULL);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST(claim_copies_texts)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("copies.db", path), 0, 3, &st, NULL), 0);
    /* Long texts and alternating pipelines make the arena move while the batch fills. */
    static char big[5][3000];
    mn_job_input in[5];
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        memset(big[i], 'a' + i, sizeof big[i]);
        in[i] = (mn_job_input){.text = big[i], .len = sizeof big[i] - (size_t)i};
        ASSERT_EQ(mn_store_submit(st, i % 2 ? "odd" : "even", in + i, 1, ids + i, NULL, NULL),
                  0);
    }
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 5, &b, NULL), 0);
    ASSERT_EQ(b.n, 5);
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(b.jobs[i].id, ids[i]);
        ASSERT_STREQ(b.jobs[i].pipeline, i % 2 ? "odd" : "even");
        ASSERT_EQ(b.jobs[i].len, sizeof big[i] - (size_t)i);
        ASSERT(memcmp(b.jobs[i].text, big[i], b.jobs[i].len) == 0);
        ASSERT_EQ(b.jobs[i].text[b.jobs[i].len], '\0');
        ASSERT_EQ(b.jobs[i].attempts, 1);
    }
    mn_store_batch_free(&b);
    mn_store_close(st);
}

TEST(idempotency_keys)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("idem.db", path), 1, 3, &st, NULL), 0);
    int64_t ids[4];
    uint8_t dup[4];
    const char *t1[] = {"one"}, *k1[] = {"key-a"};
    ASSERT_EQ(submit(st, "p", t1, k1, 1, ids, dup), 0);
    ASSERT_EQ(dup[0], 0);
    int64_t a = ids[0];
    /* Across calls, and within one batch: "key-b" twice maps to one job. */
    const char *t2[] = {"one again", "two", "two again", "no key"};
    const char *k2[] = {"key-a", "key-b", "key-b", NULL};
    ASSERT_EQ(submit(st, "p", t2, k2, 4, ids, dup), 0);
    ASSERT_EQ(ids[0], a);
    ASSERT_EQ(dup[0], 1);
    ASSERT_EQ(dup[1], 0);
    ASSERT_EQ(ids[2], ids[1]);
    ASSERT_EQ(dup[2], 1);
    ASSERT_EQ(dup[3], 0);
    ASSERT(ids[3] != ids[1] && ids[1] != a);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(total(c), 3);
    rec r;
    ASSERT_EQ(get(st, a, &r), 0);
    ASSERT_STREQ(r.text, "one"); /* the first submission's text stays */
    ASSERT_EQ(get(st, ids[1], &r), 0);
    ASSERT_STREQ(r.text, "two");
    /* A known key after its job is done still returns that job (dup may be NULL). */
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 1, &b, NULL), 0);
    ASSERT_EQ(finish_ok(st, a, "{\"r\":1}"), 0);
    ASSERT_EQ(submit(st, "p", t1, k1, 1, ids, NULL), 0);
    ASSERT_EQ(ids[0], a);
    mn_store_batch_free(&b);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST(batch_all_or_nothing)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("atomic.db", path), 1, 3, &st, NULL), 0);
    mn_job_input in[3] = {
        {.text = "good", .len = 4, .key = "g1", .key_len = 2},
        {.text = "also good", .len = 9, .key = "g2", .key_len = 2},
        {.text = "bad \xc3\x28 byte", .len = 11},
    };
    int64_t ids[3] = {0};
    mn_err err = {0};
    ASSERT_EQ(mn_store_submit(st, "p", in, 3, ids, NULL, &err), MN_EINVAL);
    ASSERT_STREQ(err.msg, "texts[2]: invalid UTF-8 at byte 4");
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(total(c), 0);

    char key[300];
    memset(key, 'k', sizeof key);
    in[2] = (mn_job_input){.text = "x", .len = 1, .key = key, .key_len = 257};
    ASSERT_EQ(mn_store_submit(st, "p", in, 3, ids, NULL, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "texts[2]: idempotency key of 257 bytes"));
    in[2].key_len = 256;
    in[0].key = "\xff";
    in[0].key_len = 1;
    ASSERT_EQ(mn_store_submit(st, "p", in, 3, ids, NULL, &err), MN_EINVAL);
    in[0].key = "g1";
    in[0].key_len = 2;
    ASSERT_EQ(mn_store_submit(st, "", in, 3, ids, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_store_submit(st, NULL, in, 3, ids, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_store_submit(st, "p\xff", in, 3, ids, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_store_submit(st, "p", in, 3, NULL, NULL, &err), MN_EINVAL);
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(total(c), 0);

    /* Nothing was kept of the failed batches: the keys are new. */
    uint8_t dup[3];
    ASSERT_EQ(mn_store_submit(st, "p", in, 3, ids, dup, &err), 0);
    ASSERT(dup[0] == 0 && dup[1] == 0 && dup[2] == 0);
    ASSERT_EQ(mn_store_submit(st, "p", in, 0, NULL, NULL, &err), 0); /* empty batch: nothing */
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_QUEUED], 3);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST(dead_letter_after_max_attempts)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("dead.db", path), 1, 2, &st, NULL), 0);
    const char *t[] = {"poison"};
    int64_t id;
    ASSERT_EQ(submit(st, "p", t, NULL, 1, &id, NULL), 0);
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 8, &b, NULL), 0);
    ASSERT_EQ(b.jobs[0].attempts, 1);
    ASSERT_EQ(finish_failed(st, id, "model crashed: boom 1"), 0);
    rec r;
    ASSERT_EQ(get(st, id, &r), 0);
    ASSERT_EQ(r.state, MN_JOB_QUEUED);
    ASSERT_STREQ(r.error, "model crashed: boom 1");
    ASSERT_EQ(r.finished_ms, 0);
    ASSERT_EQ(mn_store_claim(st, 8, &b, NULL), 0);
    ASSERT_EQ(b.n, 1);
    ASSERT_EQ(b.jobs[0].attempts, 2);
    ASSERT_EQ(finish_failed(st, id, "model crashed: boom 2"), 0);
    ASSERT_EQ(get(st, id, &r), 0);
    ASSERT_EQ(r.state, MN_JOB_FAILED);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_STREQ(r.error, "model crashed: boom 2");
    ASSERT(r.finished_ms > 0);
    ASSERT(!r.has_result);
    ASSERT_EQ(mn_store_claim(st, 8, &b, NULL), 0);
    ASSERT_EQ(b.n, 0);
    /* A late success for a dead job changes nothing. */
    ASSERT_EQ(finish_ok(st, id, "{}"), 0);
    ASSERT_EQ(get(st, id, &r), 0);
    ASSERT_EQ(r.state, MN_JOB_FAILED);
    ASSERT(!r.has_result);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_FAILED], 1);
    ASSERT_EQ(total(c), 1);
    mn_store_batch_free(&b);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST(finish_keeps_first_result)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("twice.db", path), 1, 3, &st, NULL), 0);
    const char *t[] = {"a", "b", "c"};
    int64_t ids[3];
    ASSERT_EQ(submit(st, "p", t, NULL, 3, ids, NULL), 0);
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 2, &b, NULL), 0); /* jobs 1 and 2 running, 3 queued */
    ASSERT_EQ(finish_ok(st, ids[0], "{\"first\":1}"), 0);
    ASSERT_EQ(finish_ok(st, ids[0], "{\"second\":1}"), 0);
    ASSERT_EQ(finish_failed(st, ids[0], "late failure"), 0);
    rec r;
    ASSERT_EQ(get(st, ids[0], &r), 0);
    ASSERT_EQ(r.state, MN_JOB_DONE);
    ASSERT_STREQ(r.result, "{\"first\":1}");
    ASSERT(!r.has_error);
    /* The same job twice in one batch: the first outcome wins. */
    mn_job_outcome o[2] = {
        {.id = ids[1], .ok = 1, .result = "{\"x\":1}", .result_len = 7},
        {.id = ids[1], .ok = 1, .result = "{\"x\":2}", .result_len = 7},
    };
    ASSERT_EQ(mn_store_finish(st, o, 2, NULL), 0);
    ASSERT_EQ(get(st, ids[1], &r), 0);
    ASSERT_STREQ(r.result, "{\"x\":1}");
    /* Outcomes for a job nobody claimed, or no job at all, are ignored. */
    ASSERT_EQ(finish_ok(st, ids[2], "{}"), 0);
    ASSERT_EQ(finish_ok(st, 12345, "{}"), 0);
    ASSERT_EQ(get(st, ids[2], &r), 0);
    ASSERT_EQ(r.state, MN_JOB_QUEUED);
    ASSERT(!r.has_result);
    /* ok without a result, or with a result that is not UTF-8, is refused before anything. */
    mn_job_outcome bad = {.id = ids[2], .ok = 1};
    ASSERT_EQ(mn_store_finish(st, &bad, 1, NULL), MN_EINVAL);
    bad.result = "\xc0\x80";
    bad.result_len = 2;
    ASSERT_EQ(mn_store_finish(st, &bad, 1, NULL), MN_EINVAL);
    mn_store_batch_free(&b);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST(requeue_on_open)
{
    char path[512];
    tmp("requeue.db", path);
    mn_store *st;
    ASSERT_EQ(open_store(path, 1, 2, &st, NULL), 0);
    const char *t[] = {"a", "b", "c"};
    int64_t ids[3];
    ASSERT_EQ(submit(st, "p", t, NULL, 3, ids, NULL), 0);
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 2, &b, NULL), 0);
    mn_store_close(st); /* leaves jobs 1 and 2 running, as a dead process would */
    size_t requeued = 0;
    ASSERT_EQ(open_store(path, 1, 2, &st, &requeued), 0);
    ASSERT_EQ(requeued, 2);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_QUEUED], 3);
    ASSERT_EQ(c[MN_JOB_RUNNING], 0);
    /* Oldest first again, on their second attempt. */
    ASSERT_EQ(mn_store_claim(st, 1, &b, NULL), 0);
    ASSERT_EQ(b.jobs[0].id, ids[0]);
    ASSERT_EQ(b.jobs[0].attempts, 2);
    mn_store_close(st);
    /* Dying on the last attempt is a failed attempt: dead letter, not another round. */
    ASSERT_EQ(open_store(path, 1, 2, &st, &requeued), 0);
    ASSERT_EQ(requeued, 0);
    rec r;
    ASSERT_EQ(get(st, ids[0], &r), 0);
    ASSERT_EQ(r.state, MN_JOB_FAILED);
    ASSERT(strstr(r.error, "died") && strstr(r.error, "attempt 2 of 2"));
    ASSERT_EQ(get(st, ids[1], &r), 0);
    ASSERT_EQ(r.state, MN_JOB_QUEUED);
    mn_store_batch_free(&b);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

/* ---- listing --------------------------------------------------------------------------------- */

typedef struct {
    int64_t ids[64];
    int n, stop_at, with_text_seen, with_result_seen;
    mn_store *st;
    int nested_rc;
} list_ctx;

static int list_cb(void *ctx, const mn_job_record *r)
{
    list_ctx *c = ctx;
    if (c->n < 64)
        c->ids[c->n] = r->id;
    c->n++;
    c->with_text_seen += r->text != NULL;
    c->with_result_seen += r->result != NULL;
    if (c->st) {
        rec x;
        c->nested_rc = get(c->st, r->id, &x);
    }
    return c->stop_at && c->n >= c->stop_at;
}

static long list(mn_store *st, int state, const char *pipeline, int64_t after, size_t limit,
                 int text, int result, list_ctx *c)
{
    memset(c, 0, sizeof *c);
    mn_job_filter f = {.state = state, .pipeline = pipeline, .after_id = after, .limit = limit,
                       .with_text = text, .with_result = result};
    return mn_store_list(st, &f, list_cb, c, NULL);
}

TEST(list_filters_and_paging)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("list.db", path), 0, 3, &st, NULL), 0);
    /* Jobs 1..10 in "a", 11..15 in "b"; then 1..4 done, 5 failed once (queued), 11 running. */
    const char *t[10] = {"t", "t", "t", "t", "t", "t", "t", "t", "t", "t"};
    int64_t ids[10];
    ASSERT_EQ(submit(st, "a", t, NULL, 10, ids, NULL), 0);
    ASSERT_EQ(submit(st, "b", t, NULL, 5, ids, NULL), 0);
    mn_job_batch b = {0};
    ASSERT_EQ(mn_store_claim(st, 5, &b, NULL), 0);
    for (int i = 1; i <= 4; i++)
        ASSERT_EQ(finish_ok(st, i, "{\"ok\":true}"), 0);
    ASSERT_EQ(finish_failed(st, 5, "flaky"), 0);
    ASSERT_EQ(mn_store_claim(st, 7, &b, NULL), 0); /* 5..10, then 11 */
    mn_job_outcome back[6];
    for (int i = 0; i < 6; i++)
        back[i] = (mn_job_outcome){.id = 5 + i, .ok = 0, .error = "retry"};
    ASSERT_EQ(mn_store_finish(st, back, 6, NULL), 0);

    list_ctx c;
    ASSERT_EQ(list(st, -1, NULL, 0, 0, 0, 0, &c), 15);
    ASSERT_EQ(c.ids[0], 1);
    ASSERT_EQ(c.ids[14], 15);
    ASSERT_EQ(c.with_text_seen, 0);
    ASSERT_EQ(c.with_result_seen, 0);
    ASSERT_EQ(list(st, MN_JOB_DONE, NULL, 0, 0, 1, 1, &c), 4);
    ASSERT_EQ(c.with_text_seen, 4);
    ASSERT_EQ(c.with_result_seen, 4);
    ASSERT_EQ(list(st, MN_JOB_RUNNING, NULL, 0, 0, 0, 0, &c), 1);
    ASSERT_EQ(c.ids[0], 11);
    ASSERT_EQ(list(st, -1, "b", 0, 0, 0, 0, &c), 5);
    ASSERT_EQ(c.ids[0], 11);
    ASSERT_EQ(list(st, MN_JOB_QUEUED, "a", 0, 0, 0, 1, &c), 6);
    ASSERT_EQ(c.ids[0], 5);
    ASSERT_EQ(c.with_result_seen, 0);
    ASSERT_EQ(list(st, MN_JOB_QUEUED, "nope", 0, 0, 0, 0, &c), 0);
    /* Paging: limit 4 from after_id, until a short page. */
    int64_t after = 0, seen = 0;
    for (int page = 0; page < 10; page++) {
        long n = list(st, -1, NULL, after, 4, 0, 0, &c);
        ASSERT(n >= 0 && n <= 4);
        for (int i = 0; i < n; i++)
            ASSERT_EQ(c.ids[i], ++seen);
        if (n < 4)
            break;
        after = c.ids[n - 1];
    }
    ASSERT_EQ(seen, 15);
    ASSERT_EQ(list(st, MN_JOB_QUEUED, NULL, 6, 2, 0, 0, &c), 2);
    ASSERT_EQ(c.ids[0], 7);
    ASSERT_EQ(c.ids[1], 8);
    /* The callback stops early; rows visited include the last one. */
    memset(&c, 0, sizeof c);
    c.stop_at = 3;
    mn_job_filter f = {.state = -1};
    ASSERT_EQ(mn_store_list(st, &f, list_cb, &c, NULL), 3);
    f.state = 7;
    ASSERT_EQ(mn_store_list(st, &f, list_cb, &c, NULL), MN_EINVAL);
    /* A read from inside the callback would wait for itself: it fails instead. */
    memset(&c, 0, sizeof c);
    c.st = st;
    c.stop_at = 1;
    f.state = -1;
    ASSERT_EQ(mn_store_list(st, &f, list_cb, &c, NULL), 1);
    ASSERT_EQ(c.nested_rc, -EDEADLK);

    int64_t n[4];
    ASSERT_EQ(mn_store_counts(st, n, NULL), 0);
    ASSERT_EQ(n[MN_JOB_QUEUED], 10);
    ASSERT_EQ(n[MN_JOB_RUNNING], 1);
    ASSERT_EQ(n[MN_JOB_DONE], 4);
    ASSERT_EQ(n[MN_JOB_FAILED], 0);
    ASSERT_EQ(mn_job_state_parse("done", 4), MN_JOB_DONE);
    ASSERT_STREQ(mn_job_state_name(MN_JOB_FAILED), "failed");
    mn_store_batch_free(&b);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

/* ---- failures of the disk and of memory ------------------------------------------------------ */

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* A file size limit makes the next write fail the way a full disk does; the batch being
 * written must vanish whole. Runs in a child so the limit stays there. */
TEST(write_failure_all_or_nothing)
{
    char path[512], wal[600];
    tmp("full.db", path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        mn_store *st;
        if (open_store(path, 1, 3, &st, NULL))
            _exit(10);
        const char *t[] = {"small"};
        int64_t id;
        if (submit(st, "p", t, NULL, 1, &id, NULL))
            _exit(11);
        signal(SIGXFSZ, SIG_IGN);
        off_t lim = file_size(path) > file_size(wal) ? file_size(path) : file_size(wal);
        struct rlimit rl = {.rlim_cur = (rlim_t)lim + 16384, .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl))
            _exit(12);
        static char big[64][4000];
        mn_job_input in[64];
        for (int i = 0; i < 64; i++) {
            memset(big[i], 'x', sizeof big[i]);
            in[i] = (mn_job_input){.text = big[i], .len = sizeof big[i]};
        }
        int64_t ids[64];
        mn_err err = {0};
        int rc = mn_store_submit(st, "p", in, 64, ids, NULL, &err);
        int good = (rc == -EIO || rc == -ENOSPC) && strstr(err.msg, path) &&
                   (strstr(err.msg, "I/O error") || strstr(err.msg, "disk full"));
        if (!good)
            fprintf(stderr, "  submit past the size limit: %d %s\n", rc, err.msg);
        _exit(good ? 0 : 13); /* no close: the process dies as it would on a real failure */
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    mn_store *st;
    ASSERT_EQ(open_store(path, 1, 3, &st, NULL), 0);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_QUEUED], 1);
    ASSERT_EQ(total(c), 1);
    mn_store_close(st);
}

/* Every allocation of open, submit, claim and finish fails in turn: each call returns
 * MN_ENOMEM or works, leaks nothing (ASan), and a failed call changes nothing. */
TEST(allocation_failures)
{
    int completed = 0;
    for (long nth = 1; nth < 500 && !completed; nth++) {
        char name[64], path[512];
        /* Odd rounds create a new file, even ones reopen the same existing one. */
        snprintf(name, sizeof name, "oom-%ld.db", nth % 2 ? nth : 0);
        tmp(name, path);
        mn_store_config cfg;
        mn_store_config_init(&cfg);
        cfg.url = path;
        mn_store *st = NULL;
        mn_err err = {0};
        mn_alloc_fail_after(nth);
        int rc_open = mn_store_open(&cfg, &st, NULL, &err), rc_sub = -1, rc_claim = -1,
            rc_fin = -1;
        mn_job_batch b = {0};
        char text[3][100];
        mn_job_input in[3];
        int64_t ids[3];
        for (int i = 0; i < 3; i++) {
            memset(text[i], 'a' + i, sizeof text[i]);
            in[i] = (mn_job_input){.text = text[i], .len = sizeof text[i]};
        }
        if (!rc_open)
            rc_sub = mn_store_submit(st, "p", in, 3, ids, NULL, &err);
        if (!rc_sub)
            rc_claim = mn_store_claim(st, 3, &b, &err);
        if (!rc_claim) {
            mn_job_outcome o[3];
            for (size_t i = 0; i < b.n; i++)
                o[i] = (mn_job_outcome){.id = b.jobs[i].id, .ok = 1, .result = "{}",
                                        .result_len = 2};
            rc_fin = mn_store_finish(st, o, b.n, &err);
        }
        long made = mn_alloc_fail_after(0);
        ASSERT(rc_open == 0 || rc_open == MN_ENOMEM);
        if (rc_open) {
            ASSERT(st == NULL);
            continue;
        }
        ASSERT(rc_sub == 0 || rc_sub == MN_ENOMEM);
        ASSERT(rc_claim == 0 || rc_claim == MN_ENOMEM || rc_claim == -1);
        int64_t c[4];
        ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
        /* The even-round file accumulates; look only at what this round did. */
        if (nth % 2) {
            ASSERT_EQ(total(c), rc_sub ? 0 : 3);
            if (rc_claim == MN_ENOMEM) {
                ASSERT_EQ(c[MN_JOB_RUNNING], 0);
                ASSERT_EQ(b.n, 0);
            }
            if (rc_fin == 0)
                ASSERT_EQ(c[MN_JOB_DONE], 3);
        }
        completed = made < nth && rc_fin == 0;
        mn_store_batch_free(&b);
        mn_store_close(st);
    }
    ASSERT(completed);
}

/* ---- kill -9 --------------------------------------------------------------------------------- */

#define CRASH_JOBS 3000
#define CRASH_SUBMIT_BATCH 100 /* 800 bytes of ids: one atomic pipe write */
#define CRASH_CLAIM_BATCH 64

static void write_ids(int fd, const int64_t *ids, size_t n)
{
    /* At most PIPE_BUF bytes, so the parent reads whole batches or nothing. */
    if (write(fd, ids, n * sizeof *ids) != (ssize_t)(n * sizeof *ids))
        _exit(20);
}

/* The child: submit everything, then work through the queue, telling the parent what each
 * call returned only after it returned. */
static void crash_child(const char *path, int durable, int accepted_fd, int finished_fd)
{
    mn_store *st;
    if (open_store(path, durable, 100, &st, NULL))
        _exit(21);
    static char text[CRASH_SUBMIT_BATCH][48], key[CRASH_SUBMIT_BATCH][24];
    mn_job_input in[CRASH_SUBMIT_BATCH];
    int64_t ids[CRASH_SUBMIT_BATCH];
    for (int first = 0; first < CRASH_JOBS; first += CRASH_SUBMIT_BATCH) {
        for (int i = 0; i < CRASH_SUBMIT_BATCH; i++) {
            int k = first + i;
            int tl = snprintf(text[i], sizeof text[i], "text number %d of the crash test", k);
            int kl = snprintf(key[i], sizeof key[i], "job-%d", k);
            in[i] = (mn_job_input){.text = text[i], .len = (size_t)tl, .key = key[i],
                                   .key_len = (size_t)kl};
        }
        if (mn_store_submit(st, "crash", in, CRASH_SUBMIT_BATCH, ids, NULL, NULL))
            _exit(22);
        write_ids(accepted_fd, ids, CRASH_SUBMIT_BATCH);
    }
    mn_job_batch b = {0};
    static char res[CRASH_CLAIM_BATCH][64];
    mn_job_outcome o[CRASH_CLAIM_BATCH];
    for (;;) {
        if (mn_store_claim(st, CRASH_CLAIM_BATCH, &b, NULL))
            _exit(23);
        if (b.n == 0)
            break;
        for (size_t i = 0; i < b.n; i++) {
            int l = snprintf(res[i], sizeof res[i], "{\"id\":%lld,\"by\":\"child\"}",
                             (long long)b.jobs[i].id);
            o[i] = (mn_job_outcome){.id = b.jobs[i].id, .ok = 1, .result = res[i],
                                    .result_len = (size_t)l};
            ids[i] = b.jobs[i].id;
        }
        if (mn_store_finish(st, o, b.n, NULL))
            _exit(24);
        write_ids(finished_fd, ids, b.n);
    }
    _exit(0);
}

typedef struct {
    int64_t *v;
    size_t n, cap;
    unsigned char part[8];
    size_t part_len;
} idvec;

/* Reads what is available (or everything, when wait is set) from a pipe into v. Returns 1 at
 * end of file. */
static int drain(int fd, idvec *v)
{
    unsigned char buf[4096];
    ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0)
        return got == 0 || (errno != EAGAIN && errno != EINTR);
    for (ssize_t i = 0; i < got; i++) {
        v->part[v->part_len++] = buf[i];
        if (v->part_len == 8) {
            if (v->n == v->cap) {
                v->cap = v->cap ? v->cap * 2 : 1024;
                v->v = realloc(v->v, v->cap * sizeof *v->v);
            }
            memcpy(&v->v[v->n++], v->part, 8);
            v->part_len = 0;
        }
    }
    return 0;
}

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

typedef struct {
    int64_t result_of; /* id named in the result, 0 if none */
    int state, by_child;
} crash_seen;

static int crash_list_cb(void *ctx, const mn_job_record *r)
{
    crash_seen *s = ctx;
    if (r->id < 1 || r->id > CRASH_JOBS)
        abort();
    crash_seen *x = &s[r->id];
    x->state = r->state;
    x->result_of = 0;
    x->by_child = 0;
    if (r->result) {
        long long id = 0;
        sscanf(r->result, "{\"id\":%lld", &id);
        x->result_of = id;
        x->by_child = strstr(r->result, "\"by\":\"child\"") != NULL;
    }
    return 0;
}

/* When to kill the child: once it has reported this many accepted and finished jobs, plus a
 * random 0..jitter_ms, so the kill lands in the phase wanted whatever the machine's speed. */
typedef struct {
    size_t accepted, finished;
    int jitter_ms;
} crash_when;

/* One kill -9 and the checks after it. finish_rest = 0 leaves the store as the kill left it
 * (requeued), for the next round on the same file. */
static void crash_round(const char *path, int round, crash_when when, int durable,
                        int finish_rest)
{
    int acc[2], fin[2];
    ASSERT(pipe(acc) == 0 && pipe(fin) == 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(acc[0]);
        close(fin[0]);
        crash_child(path, durable, acc[1], fin[1]);
    }
    close(acc[1]);
    close(fin[1]);
    fcntl(acc[0], F_SETFL, O_NONBLOCK);
    fcntl(fin[0], F_SETFL, O_NONBLOCK);
    idvec accepted = {0}, finished = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int jitter = rand() % (when.jitter_ms + 1), triggered = 0, eof = 0;
    /* Keep the pipes empty until the moment comes, so the child never blocks on them. */
    while (!eof && ms_since(&t0) < 60000) {
        struct pollfd p[2] = {{.fd = acc[0], .events = POLLIN}, {.fd = fin[0], .events = POLLIN}};
        poll(p, 2, 1);
        drain(acc[0], &accepted);
        eof = drain(fin[0], &finished); /* the child closes both only by exiting */
        if (!triggered && accepted.n >= when.accepted && finished.n >= when.finished) {
            triggered = 1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
        }
        if (triggered && ms_since(&t1) >= jitter)
            break;
    }
    kill(pid, SIGKILL);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    fcntl(acc[0], F_SETFL, 0);
    fcntl(fin[0], F_SETFL, 0);
    while (!drain(acc[0], &accepted)) {
    }
    while (!drain(fin[0], &finished)) {
    }
    close(acc[0]);
    close(fin[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        MN_FAIL_AT("round %d: child failed with status %d", round, WEXITSTATUS(status));
    ASSERT_EQ(accepted.part_len, 0);
    ASSERT_EQ(finished.part_len, 0);
    printf("     round %d: %s after %lld ms (durable=%d): %zu accepted, %zu finished\n", round,
           WIFSIGNALED(status) ? "killed" : "child done", (long long)ms_since(&t0), durable,
           accepted.n, finished.n);

    mn_store *st;
    size_t requeued = 0;
    ASSERT_EQ(open_store(path, 1, 100, &st, &requeued), 0);
    ASSERT(requeued <= CRASH_CLAIM_BATCH);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_RUNNING], 0);
    ASSERT(total(c) >= (int64_t)accepted.n);

    static crash_seen seen[CRASH_JOBS + 1];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i <= CRASH_JOBS; i++)
        seen[i].state = -1;
    mn_job_filter f = {.state = -1, .with_result = 1};
    ASSERT_EQ(mn_store_list(st, &f, crash_list_cb, seen, NULL), total(c));
    for (size_t i = 0; i < accepted.n; i++) /* accepted: still there */
        ASSERT(seen[accepted.v[i]].state >= 0);
    for (size_t i = 0; i < finished.n; i++) { /* finished: done, with the child's result */
        crash_seen *x = &seen[finished.v[i]];
        ASSERT_EQ(x->state, MN_JOB_DONE);
        ASSERT_EQ(x->result_of, finished.v[i]);
        ASSERT(x->by_child);
    }
    for (int id = 1; id <= CRASH_JOBS; id++) { /* a result exactly when done */
        if (seen[id].state < 0)
            continue;
        ASSERT_EQ(seen[id].result_of != 0, seen[id].state == MN_JOB_DONE);
        if (seen[id].result_of)
            ASSERT_EQ(seen[id].result_of, id);
    }

    /* The client retries every submission: what was accepted is recognised by its key. */
    for (int first = 0; first < CRASH_JOBS; first += 50) {
        mn_job_input in[50];
        char text[50][48], key[50][24];
        int64_t ids[50];
        uint8_t dup[50];
        for (int i = 0; i < 50; i++) {
            int k = first + i;
            int tl = snprintf(text[i], sizeof text[i], "text number %d of the crash test", k);
            int kl = snprintf(key[i], sizeof key[i], "job-%d", k);
            in[i] = (mn_job_input){.text = text[i], .len = (size_t)tl, .key = key[i],
                                   .key_len = (size_t)kl};
        }
        ASSERT_EQ(mn_store_submit(st, "crash", in, 50, ids, dup, NULL), 0);
        for (int i = 0; i < 50; i++)
            if (seen[first + i + 1].state >= 0) /* ids follow the submission order */
                ASSERT(dup[i] == 1 && ids[i] == first + i + 1);
    }
    ASSERT(counts_agree(st));
    if (!finish_rest) {
        mn_store_close(st);
        free(accepted.v);
        free(finished.v);
        return;
    }
    /* Then the rest is worked off; every job ends done with exactly its one result. */
    mn_job_batch b = {0};
    for (;;) {
        ASSERT_EQ(mn_store_claim(st, 256, &b, NULL), 0);
        if (b.n == 0)
            break;
        mn_job_outcome o[256];
        static char res[256][64];
        for (size_t i = 0; i < b.n; i++) {
            int l = snprintf(res[i], sizeof res[i], "{\"id\":%lld,\"by\":\"parent\"}",
                             (long long)b.jobs[i].id);
            o[i] = (mn_job_outcome){.id = b.jobs[i].id, .ok = 1, .result = res[i],
                                    .result_len = (size_t)l};
        }
        ASSERT_EQ(mn_store_finish(st, o, b.n, NULL), 0);
    }
    mn_store_batch_free(&b);
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_DONE], CRASH_JOBS);
    ASSERT_EQ(total(c), CRASH_JOBS);
    ASSERT_EQ(mn_store_list(st, &f, crash_list_cb, seen, NULL), CRASH_JOBS);
    for (int id = 1; id <= CRASH_JOBS; id++)
        ASSERT_EQ(seen[id].result_of, id);
    for (size_t i = 0; i < finished.n; i++)
        ASSERT(seen[finished.v[i]].by_child);
    ASSERT(counts_agree(st));
    mn_store_close(st);
    free(accepted.v);
    free(finished.v);
}

TEST(crash_durability)
{
    /* The seed is printed so a failure can be replayed. */
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (getenv("MN_TEST_SEED"))
        seed = (unsigned)strtoul(getenv("MN_TEST_SEED"), NULL, 10);
    printf("     crash_durability seed %u (MN_TEST_SEED to replay)\n", seed);
    srand(seed);
    /* While opening, while submitting, as claiming starts, while claiming and finishing, near
     * the end; each on a new store. */
    static const crash_when when[] = {
        {0, 0, 5}, {1000, 0, 10}, {CRASH_JOBS, 0, 5}, {CRASH_JOBS, 1000, 10},
        {CRASH_JOBS, 2000, 5},
    };
    int round = 0;
    for (; round < 5 && !mn_test_failed; round++) {
        char name[64], path[512];
        snprintf(name, sizeof name, "crash-%d.db", round);
        crash_round(tmp(name, path), round, when[round], round % 2, 1);
    }
    /* Then one store killed again and again: each child reopens what the last one left
     * (requeue at open, resubmission of known keys) and is killed in turn. */
    char path[512];
    tmp("crash-again.db", path);
    static const crash_when again[] = {
        {1500, 0, 30}, {CRASH_JOBS, 64, 30}, {0, 0, 30}, {CRASH_JOBS, 500, 30},
    };
    for (int i = 0; i < 4 && !mn_test_failed; i++, round++)
        crash_round(path, round, again[i], 1, i == 3);
}

/* ---- threads --------------------------------------------------------------------------------- */

#define MT_SUBMITTERS 2
#define MT_PER_SUBMITTER 600
#define MT_WORKERS 3

typedef struct {
    mn_store *st;
    int index;
    atomic_int *claimed; /* per id: how often a worker got it */
    atomic_int *submitters_left;
    atomic_int failures;
} mt_ctx;

static mt_ctx mt;

static void *mt_submitter(void *arg)
{
    int index = (int)(intptr_t)arg;
    for (int first = 0; first < MT_PER_SUBMITTER; first += 10) {
        mn_job_input in[10];
        char key[10][32];
        int64_t ids[10];
        for (int i = 0; i < 10; i++) {
            int kl = snprintf(key[i], sizeof key[i], "s%d-%d", index, first + i);
            in[i] = (mn_job_input){.text = "threaded", .len = 8, .key = key[i],
                                   .key_len = (size_t)kl};
        }
        if (mn_store_submit(mt.st, "mt", in, 10, ids, NULL, NULL))
            atomic_fetch_add(&mt.failures, 1);
    }
    atomic_fetch_sub(mt.submitters_left, 1);
    return NULL;
}

static void *mt_worker(void *arg)
{
    mn_job_batch b = {0};
    for (;;) {
        int left = atomic_load(mt.submitters_left);
        if (mn_store_claim(mt.st, 8, &b, NULL)) {
            atomic_fetch_add(&mt.failures, 1);
            break;
        }
        if (b.n == 0) {
            if (left == 0)
                break;
            continue;
        }
        mn_job_outcome o[8];
        char res[8][32];
        for (size_t i = 0; i < b.n; i++) {
            atomic_fetch_add(&mt.claimed[b.jobs[i].id], 1);
            int l = snprintf(res[i], sizeof res[i], "{\"id\":%lld}", (long long)b.jobs[i].id);
            o[i] = (mn_job_outcome){.id = b.jobs[i].id, .ok = 1, .result = res[i],
                                    .result_len = (size_t)l};
        }
        if (mn_store_finish(mt.st, o, b.n, NULL))
            atomic_fetch_add(&mt.failures, 1);
    }
    mn_store_batch_free(&b);
    return NULL;
}

static int mt_count_cb(void *ctx, const mn_job_record *r)
{
    (*(long *)ctx)++;
    return 0;
}

static void *mt_reader(void *arg)
{
    while (atomic_load(mt.submitters_left) > 0) {
        int64_t c[4];
        long n = 0;
        mn_job_filter f = {.state = MN_JOB_DONE, .with_result = 1};
        if (mn_store_counts(mt.st, c, NULL) || mn_store_list(mt.st, &f, mt_count_cb, &n, NULL) < 0)
            atomic_fetch_add(&mt.failures, 1);
    }
    return NULL;
}

TEST(threads)
{
    char path[512];
    mn_store *st;
    ASSERT_EQ(open_store(tmp("threads.db", path), 0, 3, &st, NULL), 0);
    static atomic_int claimed[MT_SUBMITTERS * MT_PER_SUBMITTER + 1];
    atomic_int left = MT_SUBMITTERS;
    mt = (mt_ctx){.st = st, .claimed = claimed, .submitters_left = &left};
    pthread_t th[MT_SUBMITTERS + MT_WORKERS + 1];
    int n = 0;
    for (int i = 0; i < MT_SUBMITTERS; i++)
        pthread_create(&th[n++], NULL, mt_submitter, (void *)(intptr_t)i);
    for (int i = 0; i < MT_WORKERS; i++)
        pthread_create(&th[n++], NULL, mt_worker, NULL);
    pthread_create(&th[n++], NULL, mt_reader, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    ASSERT_EQ(atomic_load(&mt.failures), 0);
    for (int id = 1; id <= MT_SUBMITTERS * MT_PER_SUBMITTER; id++)
        ASSERT_EQ(atomic_load(&claimed[id]), 1);
    int64_t c[4];
    ASSERT_EQ(mn_store_counts(st, c, NULL), 0);
    ASSERT_EQ(c[MN_JOB_DONE], MT_SUBMITTERS * MT_PER_SUBMITTER);
    ASSERT_EQ(total(c), MT_SUBMITTERS * MT_PER_SUBMITTER);
    ASSERT(counts_agree(st));
    mn_store_close(st);
}

TEST_MAIN(TEST_ENTRY(create_reopen_migrate) TEST_ENTRY(bad_urls) TEST_ENTRY(schema_newer_refused)
              TEST_ENTRY(not_a_database_refused) TEST_ENTRY(foreign_sqlite_refused)
                  TEST_ENTRY(lock_second_process) TEST_ENTRY(submit_claim_finish)
                      TEST_ENTRY(claim_copies_texts) TEST_ENTRY(idempotency_keys)
                          TEST_ENTRY(batch_all_or_nothing)
                              TEST_ENTRY(dead_letter_after_max_attempts)
                                  TEST_ENTRY(finish_keeps_first_result)
                                      TEST_ENTRY(requeue_on_open)
                                          TEST_ENTRY(list_filters_and_paging)
                                              TEST_ENTRY(write_failure_all_or_nothing)
                                                  TEST_ENTRY(allocation_failures)
                                                      TEST_ENTRY(crash_durability)
                                                          TEST_ENTRY(threads))
