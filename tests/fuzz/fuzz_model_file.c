/* SPDX-License-Identifier: MIT
 *
 * libFuzzer driver for the model file reader (src/models/format.c): every input goes through
 * mn_file_open_mem twice, once as is and once with its size field and checksums repaired, since
 * random bytes almost never pass a 64-bit checksum and the section table checks behind it would
 * otherwise go unexplored. Accepted files have every section looked up and read in full and
 * compared with the input. Seeds: tests/fuzz/corpus/model_file/. Run:
 *   fuzz_model_file -max_total_time=60 tests/fuzz/corpus/model_file/
 * This driver includes <xxhash.h> itself, only to repair checksums.
 */
#include "models/format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Opens data and, if it is accepted, checks every section against the raw bytes. Anything the
 * reader gets wrong aborts, which libFuzzer reports as a crash. */
static void check(const uint8_t *data, size_t size)
{
    mn_err err;
    mn_err_clear(&err);
    mn_file *f = NULL;
    int rc = mn_file_open_mem(data, size, &f, &err);
    if (rc != 0) {
        if (rc > 0 || f != NULL || err.code != rc || strncmp(err.msg, "<memory>: ", 10) != 0)
            abort();
        return;
    }
    if (mn_file_size(f) != size || mn_file_version(f) != MN_FORMAT_VERSION)
        abort();
    if (mn_file_model_type(f) != rd32(data + 12))
        abort();
    uint32_t count = rd32(data + 16);
    unsigned sum = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = data + 64 + (size_t)i * 32;
        const void *p = NULL;
        size_t n = 0;
        if (mn_file_section(f, rd32(e), &p, &n) != 0)
            abort();
        if ((uintptr_t)p % MN_FORMAT_ALIGN != 0 || n != rd64(e + 16))
            abort();
        const uint8_t *b = p;
        for (size_t k = 0; k < n; k++) /* touch every byte: ASan sees any overread */
            sum += b[k];
        if (n && memcmp(p, data + rd64(e + 8), n) != 0)
            abort();
    }
    (void)sum;
    mn_file_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)mn_file_sniff(data, size);
    check(data, size);
    if (size < 64)
        return 0;

    /* Repair what a writer would have computed, so the fuzzer reaches the section table. */
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    wr64(copy + 24, size);
    uint32_t count = rd32(copy + 16);
    for (uint64_t i = 0; i < count && 64 + (i + 1) * 32 <= size; i++) {
        uint8_t *e = copy + 64 + i * 32;
        uint64_t off = rd64(e + 8), n = rd64(e + 16);
        if (off <= size && n <= size - off)
            wr64(e + 24, XXH3_64bits(copy + off, (size_t)n));
    }
    wr64(copy + 32, XXH3_64bits(copy + 64, size - 64));
    wr64(copy + 40, XXH3_64bits(copy, 40));
    check(copy, size);
    free(copy);
    return 0;
}
