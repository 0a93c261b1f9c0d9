/* SPDX-License-Identifier: MIT
 *
 * The SQLite job store: one database file in WAL mode, owned by one process at a time. The only
 * file that includes <sqlite3.h>; store.c checks arguments and calls in through
 * mn__store_sqlite_ops.
 *
 * Files, for a store at PATH:
 *
 *   PATH        the database (application_id 'MNJS', user_version = schema version)
 *   PATH-wal    SQLite's write-ahead log, PATH-shm its index (removed on a clean close)
 *   PATH.lock   flock()ed while a process has the store open; holds that process's pid
 *
 * Schema (migration 1). Two tables rather than one: results are written once, are the large
 * part (hundreds of bytes of JSON each) and are never read by claim, so keeping them out of the
 * jobs rows keeps the rows that claiming and listing walk small; and "at most one result per
 * job" becomes the primary key of results, enforced by the database rather than by our code.
 *
 *   jobs     id INTEGER PRIMARY KEY AUTOINCREMENT   (never reused: clients hold ids)
 *            pipeline, text, idem_key (unique where not NULL), state 0..3, attempts, error,
 *            created_ms, updated_ms, finished_ms (NULL until done or failed)
 *            index (state, id): claim = "state 0 ordered by id", listing by state
 *            index (pipeline, id): listing by pipeline
 *   results  job_id PRIMARY KEY REFERENCES jobs ON DELETE CASCADE, result (JSON), saved_ms
 *   job_counts  state PRIMARY KEY, n: jobs per state, so counts() reads four rows instead of
 *            walking an index that only grows (25-90 ms at 200,000 jobs). Each write transaction
 *            adds what it changed (one statement per state touched, not per job: triggers
 *            cost 15-30% of claim/finish throughput); open recomputes it from jobs, so an edit
 *            made outside micronlp cannot leave it wrong for long.
 *
 * Concurrency: one write connection behind a mutex serves submit, claim and finish, each one
 * BEGIN IMMEDIATE transaction; a second, query-only connection behind its own mutex serves get,
 * list and counts, so a long listing reads a WAL snapshot and never holds up the workers.
 * Every statement is prepared once at open and reused.
 */
#include "jobs/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "micronlp/alloc.h"

/* PRAGMA application_id: "MNJS" (micronlp job store). A SQLite file without it is someone
 * else's database and is never touched. */
#define APP_ID 0x4D4E4A53

/* Migration i brings the schema from version i to i + 1; user_version = entries applied. Each
 * runs inside the transaction that sets user_version, so a crash leaves the old version whole.
 * Never edit an entry once released: append a new one. */
static const char *const migrations[] = {
    /* 1: everything */
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  pipeline TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  idem_key TEXT,"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 3),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER);"
    /* Partial: most jobs carry no key, and those then cost nothing in the index. */
    "CREATE UNIQUE INDEX jobs_idem_key ON jobs (idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE INDEX jobs_state_id ON jobs (state, id);"
    "CREATE INDEX jobs_pipeline_id ON jobs (pipeline, id);"
    "CREATE TABLE results ("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,"
    "  result TEXT NOT NULL,"
    "  saved_ms INTEGER NOT NULL);"
    "CREATE TABLE job_counts (state INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT INTO job_counts (state, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Write connection statements. */
enum {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_FIND_KEY,
    W_INSERT,
    W_CLAIM_SELECT,
    W_CLAIM_UPDATE,
    W_DONE,
    W_RESULT,
    W_DEAD,
    W_RETRY,
    W_COUNT,
    W__N
};

static const char *const wsql[W__N] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_FIND_KEY] = "SELECT id FROM jobs WHERE idem_key = ?1",
    [W_INSERT] = "INSERT INTO jobs (pipeline, text, idem_key, state, attempts, created_ms,"
                 " updated_ms) VALUES (?1, ?2, ?3, 0, 0, ?4, ?4)",
    [W_CLAIM_SELECT] = "SELECT id, pipeline, text, attempts FROM jobs WHERE state = 0"
                       " ORDER BY id LIMIT ?1",
    [W_CLAIM_UPDATE] = "UPDATE jobs SET state = 1, attempts = attempts + 1, updated_ms = ?2"
                       " WHERE id = ?1",
    /* Only a running job becomes done: a stale or repeated outcome changes nothing. */
    [W_DONE] = "UPDATE jobs SET state = 2, updated_ms = ?2, finished_ms = ?2"
               " WHERE id = ?1 AND state = 1",
    [W_RESULT] = "INSERT INTO results (job_id, result, saved_ms) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (job_id) DO NOTHING",
    /* A failed attempt: dead letter on the last attempt, else back to the queue. Two
     * statements rather than one CASE, so the count of each state knows which happened. */
    [W_DEAD] = "UPDATE jobs SET state = 3, error = ?2, updated_ms = ?3, finished_ms = ?3"
               " WHERE id = ?1 AND state = 1 AND attempts >= ?4",
    [W_RETRY] = "UPDATE jobs SET state = 0, error = ?2, updated_ms = ?3"
                " WHERE id = ?1 AND state = 1",
    [W_COUNT] = "UPDATE job_counts SET n = n + ?2 WHERE state = ?1",
};

/* Read connection statements. get and the four list variants return the same columns, so one
 * function turns a row into an mn_job_record. The list variants differ only in their filter,
 * so each can use its index; CASE keeps text and result unread when the caller does not want
 * them (long texts live in overflow pages). */
enum { R_GET, R_LIST, R_LIST_STATE, R_LIST_PIPELINE, R_LIST_BOTH, R_COUNTS, R__N };

#define LIST_SQL(filter)                                                                           \
    "SELECT j.id, j.state, j.pipeline, CASE WHEN ?5 THEN j.text END, j.idem_key, j.attempts,"     \
    " j.error, CASE WHEN ?6 THEN (SELECT result FROM results WHERE job_id = j.id) END,"           \
    " j.created_ms, j.finished_ms FROM jobs j WHERE j.id > ?3" filter " ORDER BY j.id LIMIT ?4"

static const char *const rsql[R__N] = {
    [R_GET] = "SELECT j.id, j.state, j.pipeline, j.text, j.idem_key, j.attempts, j.error,"
              " r.result, j.created_ms, j.finished_ms"
              " FROM jobs j LEFT JOIN results r ON r.job_id = j.id WHERE j.id = ?1",
    [R_LIST] = LIST_SQL(""),
    [R_LIST_STATE] = LIST_SQL(" AND j.state = ?1"),
    [R_LIST_PIPELINE] = LIST_SQL(" AND j.pipeline = ?2"),
    [R_LIST_BOTH] = LIST_SQL(" AND j.state = ?1 AND j.pipeline = ?2"),
    [R_COUNTS] = "SELECT state, n FROM job_counts",
};

typedef struct sq_store {
    mn_store base;      /* first: store.c sees only this */
    char *path;         /* the database file, as given (messages) */
    char *lock_path;    /* PATH.lock */
    int lock_fd;        /* PATH.lock, flock()ed; -1 when not open */
    int lock_created;   /* this open created PATH.lock */
    sqlite3 *wdb, *rdb; /* write and read connections */
    sqlite3_stmt *w[W__N], *r[R__N];
    int sync_full;                /* wdb is at synchronous = FULL now (durable only) */
    pthread_mutex_t wlock, rlock; /* rlock is error-checking: see lock_read */
    int locks_ready;              /* both mutexes initialised */
} sq_store;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* SQLite result code -> our code, and the words the message uses for it. */
static int map_rc(int rc, sqlite3 *db, const char **what)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        *what = "disk full";
        return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        *what = "database locked";
        return -EBUSY;
    case SQLITE_IOERR:
        if (rc == SQLITE_IOERR_NOMEM) {
            *what = "out of memory";
            return MN_ENOMEM;
        }
        *what = "I/O error";
        return -EIO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        *what = "damaged or not a database";
        return MN_ECORRUPT;
    case SQLITE_NOMEM:
        *what = "out of memory";
        return MN_ENOMEM;
    case SQLITE_TOOBIG:
        *what = "too large";
        return MN_ETOOBIG;
    case SQLITE_CANTOPEN:
        *what = "cannot open";
        return sys > 0 ? -sys : -EIO;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        *what = "not writable";
        return sys == EROFS ? -EROFS : -EACCES;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        *what = "rejected";
        return MN_EINVAL;
    default:
        *what = "database error";
        return -EIO;
    }
}

/* Records a failed SQLite call: "PATH: disk full (submit: database or disk is full)". Call it
 * before anything else touches the connection, which would replace sqlite3_errmsg. */
static int db_err(const sq_store *s, sqlite3 *db, int rc, const char *op, mn_err *err)
{
    const char *what;
    int code = map_rc(rc, db, &what);
    return mn_err_set(err, code, "%s: %s (%s: %s)", s->path, what, op,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Steps a statement that returns no rows and resets it. */
static int run(const sq_store *s, sqlite3_stmt *st, const char *op, mn_err *err)
{
    int rc = sqlite3_step(st);
    int code = rc == SQLITE_DONE ? 0 : db_err(s, sqlite3_db_handle(st), rc, op, err);
    sqlite3_reset(st);
    return code;
}

/* Ends a failed write transaction. SQLite may already have rolled back (after SQLITE_FULL, for
 * one), hence the autocommit test; a failed ROLLBACK leaves nothing to do but report the first
 * error. */
static void rollback(sq_store *s)
{
    if (!sqlite3_get_autocommit(s->wdb)) {
        sqlite3_step(s->w[W_ROLLBACK]);
        sqlite3_reset(s->w[W_ROLLBACK]);
    }
}

/* A durable store commits submit and finish at synchronous = FULL, but claims at NORMAL: a claim
 * lost to a power cut leaves its jobs queued, which is what opening the store does to claimed
 * jobs anyway, and in WAL mode the next FULL commit's fsync carries the claim's frames to disk
 * too. This halves the fsyncs of a worker's claim/finish cycle. SQLite applies the pragma when
 * it is prepared, so it cannot be a reused statement. */
static int set_sync(sq_store *s, int full, mn_err *err)
{
    if (!s->base.durable || s->sync_full == full)
        return 0;
    const char *sql = full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    int rc = sqlite3_exec(s->wdb, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_err(s, s->wdb, rc, "synchronous", err);
    s->sync_full = full;
    return 0;
}

/* Adds a transaction's changes to job_counts, inside that transaction. */
static int add_counts(sq_store *s, const int64_t delta[4], const char *op, mn_err *err)
{
    for (int i = 0; i < 4; i++) {
        if (!delta[i])
            continue;
        sqlite3_bind_int(s->w[W_COUNT], 1, i);
        sqlite3_bind_int64(s->w[W_COUNT], 2, delta[i]);
        int rc = run(s, s->w[W_COUNT], op, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Reads column i as text; -1 when SQLite could not convert it (out of memory). A NULL column
 * gives *p = NULL, *len = 0. */
static int col_text(sqlite3_stmt *st, int i, const char **p, size_t *len)
{
    *p = (const char *)sqlite3_column_text(st, i);
    *len = (size_t)sqlite3_column_bytes(st, i);
    if (!*p && sqlite3_column_type(st, i) != SQLITE_NULL)
        return -1;
    return 0;
}

/* ---- the process lock ------------------------------------------------------------------------ */

/* The lock file's name: PATH.lock, after following PATH while it is a symlink. Only a symlink
 * as the last component could give one database two lock files: other spellings of the
 * directory ("dir/../", a linked directory) reach the same directory, so the same PATH.lock.
 * (A hard link still escapes this.) */
static int lock_name(const sq_store *s, char **out, mn_err *err)
{
    char cur[PATH_MAX], target[PATH_MAX];
    size_t n = strlen(s->path);
    if (n >= sizeof cur)
        return mn_err_set(err, -ENAMETOOLONG, "%s: %s", s->path, strerror(ENAMETOOLONG));
    memcpy(cur, s->path, n + 1);
    struct stat sb;
    for (int hops = 0; hops < 40 && lstat(cur, &sb) == 0 && S_ISLNK(sb.st_mode); hops++) {
        ssize_t len = readlink(cur, target, sizeof target - 1);
        if (len < 0)
            break;
        target[len] = '\0';
        /* A relative target is relative to the link's directory. */
        const char *slash = strrchr(cur, '/');
        size_t keep = target[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        if (keep + (size_t)len >= sizeof cur)
            return mn_err_set(err, -ENAMETOOLONG, "%s: %s", s->path, strerror(ENAMETOOLONG));
        memcpy(cur + keep, target, (size_t)len + 1);
        n = keep + (size_t)len;
    }
    char *lp = mn_malloc(n + sizeof ".lock");
    if (!lp)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", s->path);
    memcpy(lp, cur, n);
    memcpy(lp + n, ".lock", sizeof ".lock");
    *out = lp;
    return 0;
}

/* flock, not fcntl locks: those belong to the process, so a second open in the same process
 * would be granted the lock again. flock belongs to the open file, so that is refused too. */
static int take_lock(sq_store *s, mn_err *err)
{
    char *lp = NULL;
    int rc = lock_name(s, &lp, err);
    if (rc)
        return rc;
    int fd = open(lp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    s->lock_created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int e = errno;
    if (fd < 0) {
        mn_err_set(err, -e, "%s: cannot create its lock file %s: %s", s->path, lp, strerror(e));
        mn_free(lp);
        return -e;
    }
    s->lock_path = lp;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        e = errno;
        char buf[32] = {0};
        ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (e != EWOULDBLOCK)
            return mn_err_set(err, -e, "%s: cannot lock %s: %s", s->path, s->lock_path,
                              strerror(e));
        long pid = got > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid <= 0) /* the holder is between truncating the file and writing its pid */
            return mn_err_set(err, -EBUSY, "%s: store in use by another process", s->path);
        if (pid == (long)getpid())
            return mn_err_set(err, -EBUSY, "%s: store already open in this process (pid %ld)",
                              s->path, pid);
        return mn_err_set(err, -EBUSY, "%s: store in use by another process (pid %ld)", s->path,
                          pid);
    }
    /* The pid only makes the message above helpful: failing to write it is not an error. */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int written = ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) == len;
    (void)written;
    s->lock_fd = fd;
    return 0;
}

/* ---- opening --------------------------------------------------------------------------------- */

/* Refuses a file that is not SQLite before SQLite sees it: SQLite takes a file shorter than
 * one page for an empty database and would write over it. *is_new = 1 when the file is missing
 * or empty. */
static int check_file(const sq_store *s, int *is_new, mn_err *err)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *is_new = 1;
            return 0;
        }
        return mn_err_set(err, -errno, "%s: %s", s->path, strerror(errno));
    }
    struct stat sb;
    int rc = 0;
    char head[16];
    if (fstat(fd, &sb) != 0) {
        rc = mn_err_set(err, -errno, "%s: %s", s->path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        rc = mn_err_set(err, -EISDIR, "%s: is a directory", s->path);
    } else if (!S_ISREG(sb.st_mode)) {
        rc = mn_err_set(err, MN_EINVAL, "%s: not a regular file", s->path);
    } else if (sb.st_size == 0) {
        *is_new = 1;
    } else if (sb.st_size < 100 || pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
               memcmp(head, "SQLite format 3", 16) != 0) {
        rc = mn_err_set(err, MN_ECORRUPT,
                        "%s: not a SQLite database, so not a job store; refusing to open it",
                        s->path);
    }
    close(fd);
    return rc;
}

static int query_int(const sq_store *s, sqlite3 *db, const char *sql, int64_t *v, mn_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    int code = rc == SQLITE_OK ? 0 : db_err(s, db, rc, sql, err);
    sqlite3_finalize(st);
    return code;
}

static int exec_sql(const sq_store *s, sqlite3 *db, const char *sql, const char *op, mn_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_err(s, db, rc, op, err);
}

static int open_db(sq_store *s, int flags, sqlite3 **out, mn_err *err)
{
    /* A name starting "file:" would be read as a URI by a SQLite built with URIs on. */
    int dot = strncmp(s->path, "file:", 5) == 0;
    size_t n = strlen(s->path);
    char *name = mn_malloc(n + 3);
    if (!name)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", s->path);
    memcpy(name, "./", 2);
    memcpy(name + 2, s->path, n + 1);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(name + (dot ? 0 : 2), &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    mn_free(name);
    if (rc == SQLITE_OK) {
        *out = db;
        return 0;
    }
    int code = db_err(s, db, rc, "open", err);
    sqlite3_close(db);
    return code;
}

/* WAL lets readers (get, list) run beside the writer and makes each commit one append. */
static int set_wal(sq_store *s, mn_err *err)
{
    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->wdb, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
        rc = SQLITE_OK;
    }
    int code = rc == SQLITE_OK ? 0 : db_err(s, s->wdb, rc, "journal_mode", err);
    sqlite3_finalize(st);
    if (!code && strcmp(mode, "wal") != 0)
        code = mn_err_set(err, MN_EUNSUPPORTED,
                          "%s: SQLite cannot use WAL mode here (journal_mode is \"%s\")", s->path,
                          mode);
    return code;
}

/* Per-connection settings. synchronous FULL syncs the WAL at every commit (a committed job
 * survives power loss); NORMAL syncs only at checkpoints, which still survives a crash of the
 * process, as the header promises for durable = 0. */
static int configure(sq_store *s, sqlite3 *db, mn_err *err)
{
    sqlite3_extended_result_codes(db, 1);
    unsigned t = s->base.busy_timeout_ms;
    sqlite3_busy_timeout(db, t > INT_MAX ? INT_MAX : (int)t);
    char sql[160];
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = %s; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;",
             s->base.durable ? "FULL" : "NORMAL");
    int rc = exec_sql(s, db, sql, "configure", err);
    if (!rc && db == s->wdb)
        s->sync_full = s->base.durable;
    return rc;
}

/* Our schema, an empty file, or something to leave alone. Runs before anything is written:
 * the foreign database must come out of this byte for byte as it went in. */
static int check_identity(sq_store *s, int64_t *version, mn_err *err)
{
    int64_t app = 0, uv = 0, objects = 0;
    int rc = query_int(s, s->wdb, "PRAGMA application_id", &app, err);
    if (!rc)
        rc = query_int(s, s->wdb, "PRAGMA user_version", &uv, err);
    if (!rc)
        rc = query_int(s, s->wdb, "SELECT count(*) FROM sqlite_master", &objects, err);
    if (rc)
        return rc;
    if (app == 0 && uv == 0 && objects == 0) {
        *version = 0;
        return 0;
    }
    if (app != APP_ID)
        return mn_err_set(err, MN_ECORRUPT,
                          "%s: a SQLite database but not a micronlp job store (application_id "
                          "0x%08x, %lld schema objects); refusing to touch it",
                          s->path, (unsigned)app, (long long)objects);
    if (uv > SCHEMA_VERSION)
        return mn_err_set(err, MN_EVERSION,
                          "%s: job store schema version %lld is newer than this build "
                          "understands (%d); use a newer micronlp",
                          s->path, (long long)uv, SCHEMA_VERSION);
    *version = uv;
    return 0;
}

static int migrate(sq_store *s, mn_err *err)
{
    int rc = exec_sql(s, s->wdb, "BEGIN IMMEDIATE", "migrate", err);
    if (rc)
        return rc;
    int64_t uv = 0;
    /* Read again inside the transaction: what we saw before may be stale. */
    rc = query_int(s, s->wdb, "PRAGMA user_version", &uv, err);
    for (int64_t v = uv; !rc && v < SCHEMA_VERSION; v++)
        rc = exec_sql(s, s->wdb, migrations[v], "migrate", err);
    if (!rc && uv < SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 APP_ID, SCHEMA_VERSION);
        rc = exec_sql(s, s->wdb, sql, "migrate", err);
    }
    if (!rc)
        rc = exec_sql(s, s->wdb, "COMMIT", "migrate", err);
    if (rc && !sqlite3_get_autocommit(s->wdb))
        sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A new file's directory entry is only durable once the directory is synced. */
static int sync_dir(const sq_store *s, mn_err *err)
{
    size_t n = strlen(s->path);
    while (n > 0 && s->path[n - 1] != '/')
        n--;
    char *dir = n ? mn_strndup(s->path, n) : mn_strndup(".", 1);
    if (!dir)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", s->path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = fd < 0 || fsync(fd) != 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    mn_free(dir);
    if (e)
        return mn_err_set(err, -e, "%s: syncing its directory: %s", s->path, strerror(e));
    return 0;
}

/* Jobs a dead process left running go back to the queue; a job that was already on its last
 * attempt goes to the dead letter instead, so a text that kills the process every time (a
 * crashing model) cannot bring the service down forever. */
static int requeue(sq_store *s, size_t *requeued, mn_err *err)
{
    char sql[512];
    int64_t now = now_ms();
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE;"
             "UPDATE jobs SET state = 3, updated_ms = %lld, finished_ms = %lld,"
             " error = printf('the process running this job died (attempt %%d of %d)', attempts)"
             " WHERE state = 1 AND attempts >= %d;"
             "UPDATE jobs SET state = 0, updated_ms = %lld WHERE state = 1;",
             (long long)now, (long long)now, s->base.max_attempts, s->base.max_attempts,
             (long long)now);
    int rc = exec_sql(s, s->wdb, sql, "requeue", err);
    int changes = sqlite3_changes(s->wdb);
    /* One walk of the state index per open keeps job_counts honest. */
    if (!rc)
        rc = exec_sql(s, s->wdb,
                      "INSERT OR IGNORE INTO job_counts (state, n)"
                      " VALUES (0, 0), (1, 0), (2, 0), (3, 0);"
                      "UPDATE job_counts SET n ="
                      " (SELECT count(*) FROM jobs WHERE jobs.state = job_counts.state);"
                      "COMMIT;",
                      "requeue", err);
    if (rc) {
        if (!sqlite3_get_autocommit(s->wdb))
            sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    *requeued = (size_t)changes;
    return 0;
}

static int prepare_all(sq_store *s, mn_err *err)
{
    for (int i = 0; i < W__N; i++) {
        int rc = sqlite3_prepare_v3(s->wdb, wsql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->w[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return db_err(s, s->wdb, rc, "prepare", err);
    }
    for (int i = 0; i < R__N; i++) {
        int rc = sqlite3_prepare_v3(s->rdb, rsql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->r[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return db_err(s, s->rdb, rc, "prepare", err);
    }
    return 0;
}

static int init_locks(sq_store *s, mn_err *err)
{
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", s->path);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    int e = pthread_mutex_init(&s->wlock, NULL);
    if (!e) {
        e = pthread_mutex_init(&s->rlock, &a);
        if (e)
            pthread_mutex_destroy(&s->wlock);
    }
    pthread_mutexattr_destroy(&a);
    if (e)
        return mn_err_set(err, -e, "%s: %s", s->path, strerror(e));
    s->locks_ready = 1;
    return 0;
}

static void sq_close(mn_store *st)
{
    sq_store *s = (sq_store *)st;
    for (int i = 0; i < W__N; i++)
        sqlite3_finalize(s->w[i]);
    for (int i = 0; i < R__N; i++)
        sqlite3_finalize(s->r[i]);
    /* The write connection last: closing the last connection checkpoints and removes the WAL. */
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    if (s->locks_ready) {
        pthread_mutex_destroy(&s->wlock);
        pthread_mutex_destroy(&s->rlock);
    }
    /* The lock file stays: unlinking it would let two processes lock two different files. */
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    mn_free(s->lock_path);
    mn_free(s->path);
    mn_free(s);
}

static int sq_open(const mn_store_config *cfg, const char *path, mn_store **out,
                   size_t *requeued, mn_err *err)
{
    if (strcmp(path, ":memory:") == 0)
        return mn_err_set(err, MN_EINVAL, "%s: an in-memory store would lose every job on exit",
                          cfg->url);
    sq_store *s = mn_calloc(1, sizeof *s);
    if (!s)
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
    s->base = (mn_store){.ops = &mn__store_sqlite_ops, .max_attempts = cfg->max_attempts,
                         .durable = cfg->durable, .busy_timeout_ms = cfg->busy_timeout_ms};
    s->lock_fd = -1;
    int rc = MN_ENOMEM, is_new = 0;
    int64_t version = 0;
    size_t rq = 0;
    if (!(s->path = mn_strndup(path, strlen(path)))) {
        mn_err_set(err, rc, "%s: out of memory", path);
        goto fail;
    }
    /* The header check first: a file that is not SQLite gets no lock file beside it. */
    if ((rc = check_file(s, &is_new, err)) || (rc = take_lock(s, err)) ||
        (rc = open_db(s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb, err)))
        goto fail;
    if ((rc = check_identity(s, &version, err))) {
        /* Someone else's database: take back the lock file we put beside it. No store can
         * live in this file, so no other process can be relying on that lock. */
        if (rc == MN_ECORRUPT && s->lock_created)
            unlink(s->lock_path);
        goto fail;
    }
    /* Only now, with the file known to be ours (or empty), may anything be written. */
    if ((rc = set_wal(s, err)))
        goto fail;
    if ((rc = configure(s, s->wdb, err)))
        goto fail;
    if (version < SCHEMA_VERSION && (rc = migrate(s, err)))
        goto fail;
    if (is_new && s->base.durable && (rc = sync_dir(s, err)))
        goto fail;
    if ((rc = requeue(s, &rq, err)))
        goto fail;
    if ((rc = open_db(s, SQLITE_OPEN_READWRITE, &s->rdb, err)) ||
        (rc = configure(s, s->rdb, err)) ||
        (rc = exec_sql(s, s->rdb, "PRAGMA query_only = ON", "configure", err)) ||
        (rc = prepare_all(s, err)) || (rc = init_locks(s, err)))
        goto fail;
    if (requeued)
        *requeued = rq;
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return rc;
}

/* ---- writes ---------------------------------------------------------------------------------- */

static int lock_write(sq_store *s)
{
    return -pthread_mutex_lock(&s->wlock);
}

static int sq_submit(mn_store *st, const char *pipeline, size_t pipeline_len,
                     const mn_job_input *in, size_t n, int64_t *ids, uint8_t *dup, mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_write(s);
    if (rc)
        return mn_err_set(err, rc, "%s: %s", s->path, strerror(-rc));
    if ((rc = set_sync(s, 1, err)) || (rc = run(s, s->w[W_BEGIN], "submit", err)))
        goto out;
    int64_t now = now_ms(), delta[4] = {0};
    sqlite3_stmt *find = s->w[W_FIND_KEY], *ins = s->w[W_INSERT];
    for (size_t i = 0; i < n; i++) {
        /* The key lookup sees this transaction's own inserts, so a key repeated within the
         * batch also maps to its first job. */
        if (in[i].key) {
            sqlite3_bind_text64(find, 1, in[i].key, in[i].key_len, SQLITE_STATIC, SQLITE_UTF8);
            int src = sqlite3_step(find);
            if (src == SQLITE_ROW) {
                ids[i] = sqlite3_column_int64(find, 0);
                if (dup)
                    dup[i] = 1;
                sqlite3_reset(find);
                continue;
            }
            if (src != SQLITE_DONE) {
                rc = db_err(s, s->wdb, src, "submit", err);
                sqlite3_reset(find);
                goto out;
            }
            sqlite3_reset(find);
        }
        sqlite3_bind_text64(ins, 1, pipeline, pipeline_len, SQLITE_STATIC, SQLITE_UTF8);
        sqlite3_bind_text64(ins, 2, in[i].len ? in[i].text : "", in[i].len, SQLITE_STATIC,
                            SQLITE_UTF8);
        if (in[i].key)
            sqlite3_bind_text64(ins, 3, in[i].key, in[i].key_len, SQLITE_STATIC, SQLITE_UTF8);
        else
            sqlite3_bind_null(ins, 3);
        sqlite3_bind_int64(ins, 4, now);
        if ((rc = run(s, ins, "submit", err)))
            goto out;
        ids[i] = sqlite3_last_insert_rowid(s->wdb);
        if (dup)
            dup[i] = 0;
        delta[MN_JOB_QUEUED]++;
    }
    if (!(rc = add_counts(s, delta, "submit", err)))
        rc = run(s, s->w[W_COMMIT], "submit", err);
out:
    if (rc)
        rollback(s);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static int sq_claim(mn_store *st, size_t max, mn_job_batch *b, mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_write(s);
    if (rc)
        return mn_err_set(err, rc, "%s: %s", s->path, strerror(-rc));
    if ((rc = set_sync(s, 0, err)) || (rc = run(s, s->w[W_BEGIN], "claim", err)))
        goto out;
    /* Read every row before updating any: changing rows under a running SELECT on the same
     * index is allowed but leaves which rows it visits undefined. */
    sqlite3_stmt *sel = s->w[W_CLAIM_SELECT], *upd = s->w[W_CLAIM_UPDATE];
    sqlite3_bind_int64(sel, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    int src;
    while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *pipeline, *text;
        size_t plen, tlen;
        if (col_text(sel, 1, &pipeline, &plen) || col_text(sel, 2, &text, &tlen)) {
            src = SQLITE_NOMEM;
            break;
        }
        rc = mn__batch_add(b, sqlite3_column_int64(sel, 0), sqlite3_column_int(sel, 3) + 1,
                           pipeline ? pipeline : "", plen, text, tlen);
        if (rc) {
            mn_err_set(err, rc, "%s: out of memory (claim)", s->path);
            break;
        }
    }
    if (!rc && src != SQLITE_DONE)
        rc = db_err(s, s->wdb, src, "claim", err);
    sqlite3_reset(sel);
    if (rc)
        goto out;
    int64_t now = now_ms();
    for (size_t i = 0; i < b->n && !rc; i++) {
        sqlite3_bind_int64(upd, 1, b->jobs[i].id);
        sqlite3_bind_int64(upd, 2, now);
        rc = run(s, upd, "claim", err);
    }
    int64_t delta[4] = {-(int64_t)b->n, (int64_t)b->n, 0, 0};
    if (!rc)
        rc = add_counts(s, delta, "claim", err);
    if (!rc)
        rc = run(s, s->w[W_COMMIT], "claim", err);
out:
    if (rc) {
        rollback(s);
        mn__batch_reset(b); /* nothing was claimed */
    } else {
        mn__batch_seal(b);
    }
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static int sq_finish(mn_store *st, const mn_job_outcome *o, size_t n, mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_write(s);
    if (rc)
        return mn_err_set(err, rc, "%s: %s", s->path, strerror(-rc));
    if ((rc = set_sync(s, 1, err)) || (rc = run(s, s->w[W_BEGIN], "finish", err)))
        goto out;
    int64_t now = now_ms(), delta[4] = {0};
    sqlite3_stmt *done = s->w[W_DONE], *res = s->w[W_RESULT];
    for (size_t i = 0; i < n && !rc; i++) {
        if (o[i].ok) {
            sqlite3_bind_int64(done, 1, o[i].id);
            sqlite3_bind_int64(done, 2, now);
            if ((rc = run(s, done, "finish", err)) || sqlite3_changes(s->wdb) == 0)
                continue; /* not running: done already, requeued, or unknown; keep it */
            delta[MN_JOB_RUNNING]--;
            delta[MN_JOB_DONE]++;
            sqlite3_bind_int64(res, 1, o[i].id);
            sqlite3_bind_text64(res, 2, o[i].result, o[i].result_len, SQLITE_STATIC,
                                SQLITE_UTF8);
            sqlite3_bind_int64(res, 3, now);
            rc = run(s, res, "finish", err);
            continue;
        }
        const char *why = o[i].error ? o[i].error : "failed (no reason given)";
        for (int k = 0; k < 2 && !rc; k++) {
            sqlite3_stmt *q = s->w[k == 0 ? W_DEAD : W_RETRY];
            sqlite3_bind_int64(q, 1, o[i].id);
            sqlite3_bind_text(q, 2, why, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, now);
            if (k == 0)
                sqlite3_bind_int(q, 4, s->base.max_attempts);
            if ((rc = run(s, q, "finish", err)) || sqlite3_changes(s->wdb) == 0)
                continue;
            delta[MN_JOB_RUNNING]--;
            delta[k == 0 ? MN_JOB_FAILED : MN_JOB_QUEUED]++;
            break;
        }
    }
    if (!rc)
        rc = add_counts(s, delta, "finish", err);
    if (!rc)
        rc = run(s, s->w[W_COMMIT], "finish", err);
out:
    if (rc)
        rollback(s);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* ---- reads ----------------------------------------------------------------------------------- */

/* The read mutex checks its owner, so a get/list/counts from inside a get/list callback on the
 * same store (which would wait for itself forever) fails with -EDEADLK instead. */
static int lock_read(sq_store *s, mn_err *err)
{
    int e = pthread_mutex_lock(&s->rlock);
    if (e == EDEADLK)
        return mn_err_set(err, -EDEADLK,
                          "%s: store read called from inside a get/list callback on the same "
                          "store",
                          s->path);
    if (e)
        return mn_err_set(err, -e, "%s: %s", s->path, strerror(e));
    return 0;
}

/* Fills r from a row of R_GET or R_LIST*; MN_ENOMEM if SQLite could not produce a string. */
static int row_record(sqlite3_stmt *st, mn_job_record *r)
{
    size_t plen, klen, elen;
    *r = (mn_job_record){.id = sqlite3_column_int64(st, 0),
                         .state = (mn_job_state)sqlite3_column_int(st, 1),
                         .attempts = sqlite3_column_int(st, 5),
                         .created_ms = sqlite3_column_int64(st, 8),
                         .finished_ms = sqlite3_column_int64(st, 9)};
    if (col_text(st, 2, &r->pipeline, &plen) || col_text(st, 3, &r->text, &r->len) ||
        col_text(st, 4, &r->key, &klen) || col_text(st, 6, &r->error, &elen) ||
        col_text(st, 7, &r->result, &r->result_len) || !r->pipeline)
        return MN_ENOMEM;
    return 0;
}

static int sq_get(mn_store *st, int64_t id, void (*fn)(void *ctx, const mn_job_record *r),
                  void *ctx, mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_read(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *q = s->r[R_GET];
    sqlite3_bind_int64(q, 1, id);
    int src = sqlite3_step(q);
    if (src == SQLITE_ROW) {
        mn_job_record r;
        if ((rc = row_record(q, &r)))
            mn_err_set(err, rc, "%s: out of memory (get)", s->path);
        else
            fn(ctx, &r);
    } else if (src == SQLITE_DONE) {
        rc = mn_err_set(err, MN_ENOTFOUND, "job %lld not found", (long long)id);
    } else {
        rc = db_err(s, s->rdb, src, "get", err);
    }
    sqlite3_reset(q); /* ends the read transaction, so checkpoints can pass it */
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static long sq_list(mn_store *st, const mn_job_filter *f,
                    int (*fn)(void *ctx, const mn_job_record *r), void *ctx, mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_read(s, err);
    if (rc)
        return rc;
    static const int which[2][2] = {{R_LIST, R_LIST_PIPELINE}, {R_LIST_STATE, R_LIST_BOTH}};
    sqlite3_stmt *q = s->r[which[f->state >= 0][f->pipeline != NULL]];
    sqlite3_bind_int(q, 1, f->state);
    if (f->pipeline)
        sqlite3_bind_text(q, 2, f->pipeline, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    sqlite3_bind_int64(q, 3, f->after_id);
    sqlite3_bind_int64(q, 4, f->limit == 0 || f->limit > INT64_MAX ? -1 : (int64_t)f->limit);
    sqlite3_bind_int(q, 5, f->with_text != 0);
    sqlite3_bind_int(q, 6, f->with_result != 0);
    long visited = 0;
    int src;
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        mn_job_record r;
        if ((rc = row_record(q, &r))) {
            mn_err_set(err, rc, "%s: out of memory (list)", s->path);
            break;
        }
        visited++;
        if (fn(ctx, &r))
            break;
    }
    if (!rc && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = db_err(s, s->rdb, src, "list", err);
    sqlite3_reset(q);
    pthread_mutex_unlock(&s->rlock);
    return rc ? rc : visited;
}

static int sq_counts(mn_store *st, int64_t counts[4], mn_err *err)
{
    sq_store *s = (sq_store *)st;
    int rc = lock_read(s, err);
    if (rc)
        return rc;
    int64_t c[4] = {0};
    sqlite3_stmt *q = s->r[R_COUNTS];
    int src;
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        int state = sqlite3_column_int(q, 0);
        if (state >= 0 && state < 4)
            c[state] = sqlite3_column_int64(q, 1);
    }
    if (src != SQLITE_DONE)
        rc = db_err(s, s->rdb, src, "counts", err);
    sqlite3_reset(q);
    pthread_mutex_unlock(&s->rlock);
    if (!rc)
        memcpy(counts, c, sizeof c);
    return rc;
}

const mn__store_ops mn__store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .submit = sq_submit,
    .claim = sq_claim,
    .finish = sq_finish,
    .get = sq_get,
    .list = sq_list,
    .counts = sq_counts,
};
