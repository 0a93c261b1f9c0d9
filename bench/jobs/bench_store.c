/* SPDX-License-Identifier: MIT
 *
 * Job store throughput: how many results per second the SQLite store saves when workers claim
 * and finish jobs in batches, with fsync at every commit (durable=1) and without (durable=0).
 *
 * For each durability and claim batch size, on a new store file: submit N short texts (batches
 * of --submit-batch, keyless), then claim B / finish B with a ~300-byte JSON result each until
 * the queue is empty or --seconds have passed. One thread, so the numbers are the store's
 * cost per transaction and per row, not contention. Prints a markdown table.
 *
 *   bench_store [--n N] [--batches 1,16,256,1024] [--durable 1,0] [--seconds S]
 *               [--submit-batch B] [--dir DIR] [--keys]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "micronlp/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used: unlike wall time, barely moved by other
 * load on the machine, though it leaves out the time spent waiting for fsync. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, int rc, const mn_err *err)
{
    fprintf(stderr, "bench_store: %s: %s (%s)\n", what, err->msg, mn_errname(rc));
    exit(1);
}

static int parse_list(const char *s, long *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        out[n++] = strtol(s, &end, 10);
        s = *end == ',' ? end + 1 : end;
        if (end == s && *s)
            break;
    }
    return n;
}

static void remove_store(const char *path)
{
    char p[4200];
    static const char *const ext[] = {"", "-wal", "-shm", ".lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
}

/* A result like a pipeline's: labels, scores and provenance, ~300 bytes. */
static int make_result(char *buf, size_t cap, long long id)
{
    return snprintf(buf, cap,
                    "{\"id\":%lld,\"pipeline\":\"triage\",\"results\":{\"spam\":"
                    "{\"label\":\"ham\",\"score\":0.9731},\"lang\":{\"label\":\"en\","
                    "\"score\":0.9987},\"topic\":{\"label\":\"billing\",\"score\":0.6412}},"
                    "\"provenance\":{\"models\":{\"spam\":\"spam@3\",\"lang\":\"lang@1\","
                    "\"topic\":\"topic@7\"},\"timings_us\":{\"spam\":41,\"lang\":18,"
                    "\"topic\":55},\"worker\":2}}",
                    id);
}

int main(int argc, char **argv)
{
    long n = 200000, seconds = 60, submit_batch = 1000;
    long batches[16] = {1, 16, 256, 1024}, durables[2] = {1, 0};
    int nb = 4, nd = 2, keys = 0;
    const char *dir = ".";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keys")) {
            keys = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: bench_store [--n N] [--batches 1,16,256,1024] "
                            "[--durable 1,0] [--seconds S] [--submit-batch B] [--dir DIR] "
                            "[--keys]\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--n"))
            n = atol(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atol(v);
        else if (!strcmp(a, "--submit-batch"))
            submit_batch = atol(v);
        else if (!strcmp(a, "--dir"))
            dir = v;
        else if (!strcmp(a, "--batches"))
            nb = parse_list(v, batches, 16);
        else if (!strcmp(a, "--durable"))
            nd = parse_list(v, durables, 2);
        else {
            fprintf(stderr, "bench_store: unknown option %s\n", a);
            return 2;
        }
    }
    if (n <= 0 || submit_batch <= 0 || seconds <= 0) {
        fprintf(stderr, "bench_store: --n, --seconds and --submit-batch must be positive\n");
        return 2;
    }

    mn_job_input *in = calloc((size_t)submit_batch, sizeof *in);
    char (*text)[64] = calloc((size_t)submit_batch, sizeof *text);
    char (*key)[32] = calloc((size_t)submit_batch, sizeof *key);
    int64_t *ids = calloc((size_t)submit_batch, sizeof *ids);
    long max_b = 1;
    for (int i = 0; i < nb; i++)
        max_b = batches[i] > max_b ? batches[i] : max_b;
    mn_job_outcome *out = calloc((size_t)max_b, sizeof *out);
    char (*res)[400] = calloc((size_t)max_b, sizeof *res);
    if (!in || !text || !key || !ids || !out || !res)
        return 1;

    char sample[400];
    printf("N = %ld texts of ~45 bytes submitted in batches of %ld%s; results of %d bytes of "
           "JSON; one thread; each row on a new store file.\n\n",
           n, submit_batch, keys ? " with idempotency keys" : "",
           make_result(sample, sizeof sample, 123456));
    printf("| durable | claim batch | jobs submitted/s | results saved | seconds | results "
           "saved/s | us/result | CPU us/result | counts() ms | db MB |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int d = 0; d < nd; d++) {
        for (int bi = 0; bi < nb; bi++) {
            long b = batches[bi];
            if (b <= 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/bench-store-d%ld-b%ld.db", dir, durables[d], b);
            remove_store(path);
            mn_store_config cfg;
            mn_store_config_init(&cfg);
            cfg.url = path;
            cfg.durable = (int)durables[d];
            mn_store *st;
            mn_err err = {0};
            int rc = mn_store_open(&cfg, &st, NULL, &err);
            if (rc)
                die("open", rc, &err);

            double t0 = now_s();
            for (long first = 0; first < n; first += submit_batch) {
                long m = n - first < submit_batch ? n - first : submit_batch;
                for (long i = 0; i < m; i++) {
                    int tl = snprintf(text[i], sizeof text[i],
                                      "short text number %ld, about one line long", first + i);
                    in[i] = (mn_job_input){.text = text[i], .len = (size_t)tl};
                    if (keys) {
                        int kl = snprintf(key[i], sizeof key[i], "key-%ld", first + i);
                        in[i].key = key[i];
                        in[i].key_len = (size_t)kl;
                    }
                }
                if ((rc = mn_store_submit(st, "triage", in, (size_t)m, ids, NULL, &err)))
                    die("submit", rc, &err);
            }
            double submit_s = now_s() - t0;

            mn_job_batch jb = {0};
            long saved = 0;
            double cpu0 = cpu_s();
            t0 = now_s();
            double t = t0;
            while (t - t0 < (double)seconds) {
                if ((rc = mn_store_claim(st, (size_t)b, &jb, &err)))
                    die("claim", rc, &err);
                if (jb.n == 0)
                    break;
                for (size_t i = 0; i < jb.n; i++) {
                    int l = make_result(res[i], sizeof res[i], (long long)jb.jobs[i].id);
                    out[i] = (mn_job_outcome){.id = jb.jobs[i].id, .ok = 1, .result = res[i],
                                              .result_len = (size_t)l};
                }
                if ((rc = mn_store_finish(st, out, jb.n, &err)))
                    die("finish", rc, &err);
                saved += (long)jb.n;
                t = now_s();
            }
            double work_s = now_s() - t0, work_cpu = cpu_s() - cpu0;
            int64_t counts[4];
            double c0 = now_s();
            if ((rc = mn_store_counts(st, counts, &err)))
                die("counts", rc, &err);
            double counts_ms = (now_s() - c0) * 1e3;
            if (counts[MN_JOB_DONE] != saved) {
                fprintf(stderr, "bench_store: %lld done, expected %ld\n",
                        (long long)counts[MN_JOB_DONE], saved);
                return 1;
            }
            mn_store_batch_free(&jb);
            mn_store_close(st);
            struct stat sb;
            double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
            printf("| %ld | %ld | %.0f | %ld | %.2f | %.0f | %.1f | %.1f | %.2f | %.1f |\n",
                   durables[d], b, (double)n / submit_s, saved, work_s, (double)saved / work_s,
                   work_s * 1e6 / (double)saved, work_cpu * 1e6 / (double)saved, counts_ms, mb);
            fflush(stdout);
            remove_store(path);
        }
    }
    free(in);
    free(text);
    free(key);
    free(ids);
    free(out);
    free(res);
    return 0;
}
