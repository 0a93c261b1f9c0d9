/* SPDX-License-Identifier: MIT
 *
 * The whole test harness: each test file defines TEST(name) functions and lists them in
 * TEST_LIST; main() runs them all, or only the one named on the command line. A failing
 * ASSERT prints the expression and both values, then the test stops and the process exits 1.
 */
#ifndef MN_TEST_H
#define MN_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mn_test_failed;

#define TEST(name) static void test_##name(void)

#define MN_FAIL_AT(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        mn_test_failed = 1;                                                                        \
        return;                                                                                    \
    } while (0)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            MN_FAIL_AT("assertion failed: %s", #cond);                                             \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_)                                                                            \
            MN_FAIL_AT("%s == %s: %lld != %lld", #a, #b, va_, vb_);                                \
    } while (0)

#define ASSERT_NEAR(a, b, eps)                                                                     \
    do {                                                                                           \
        double va_ = (double)(a), vb_ = (double)(b);                                               \
        if (!(fabs(va_ - vb_) <= (eps)))                                                           \
            MN_FAIL_AT("%s ~= %s: %.9g != %.9g (eps %g)", #a, #b, va_, vb_, (double)(eps));        \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *va_ = (a), *vb_ = (b);                                                         \
        if (!va_ || !vb_ || strcmp(va_, vb_) != 0)                                                 \
            MN_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, va_ ? va_ : "(null)",                 \
                       vb_ ? vb_ : "(null)");                                                      \
    } while (0)

/* Compares a (ptr, len) byte range with a C string. */
#define ASSERT_MEMEQ(ptr, len, str)                                                                \
    do {                                                                                           \
        const char *vs_ = (str);                                                                   \
        size_t vl_ = (size_t)(len);                                                                \
        if (vl_ != strlen(vs_) || memcmp((ptr), vs_, vl_) != 0)                                    \
            MN_FAIL_AT("%s == \"%s\": got \"%.*s\"", #ptr, vs_, (int)vl_, (const char *)(ptr));    \
    } while (0)

/* dir/name in this process's temporary directory (made on first use under /tmp). The path is
 * in a static buffer, valid until the next call. */
static inline const char *mn_test_tmp_path(const char *name)
{
    static char dir[] = "/tmp/mn-test-XXXXXX";
    static char buf[4096];
    static int made; /* a flag, not the template: mkdtemp may itself end the name in 'X' */
    if (!made && !(made = mkdtemp(dir) != NULL))
        abort();
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* The next state of the tests' pseudo-random sequence (Knuth's MMIX linear congruential
 * generator: fixed seeds give the same cases on every run). */
static inline uint64_t mn_test_next(uint64_t *x)
{
    return *x = *x * 6364136223846793005ull + 1442695040888963407ull;
}

/* Joins count pieces drawn from pieces[0..np) (each by bits 33 and up of the next state) into
 * out, stopping before the first that would not fit in cap bytes; returns the length. */
static inline size_t mn_test_join_pieces(uint64_t *x, const char *const *pieces, size_t np,
                                         size_t count, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        const char *piece = pieces[(mn_test_next(x) >> 33) % np];
        size_t pl = strlen(piece);
        if (len + pl > cap)
            break;
        memcpy(out + len, piece, pl);
        len += pl;
    }
    return len;
}

typedef struct {
    const char *name;
    void (*fn)(void);
} mn_test_case;

#define TEST_ENTRY(name) {#name, test_##name},

#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const mn_test_case cases[] = {__VA_ARGS__};                                         \
        int ran = 0, failed = 0;                                                                   \
        setvbuf(stdout, NULL, _IOLBF, 0); /* a crash still shows which tests ran */                \
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {                              \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)                                   \
                continue;                                                                          \
            mn_test_failed = 0;                                                                    \
            cases[i].fn();                                                                         \
            ran++;                                                                                 \
            if (mn_test_failed) {                                                                  \
                failed++;                                                                          \
                fprintf(stderr, "FAIL %s\n", cases[i].name);                                       \
            } else {                                                                               \
                printf("ok   %s\n", cases[i].name);                                                \
            }                                                                                      \
        }                                                                                          \
        printf("%d passed, %d failed\n", ran - failed, failed);                                    \
        return (failed || ran == 0) ? 1 : 0;                                                       \
    }

#endif
