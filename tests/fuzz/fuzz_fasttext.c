/* SPDX-License-Identifier: MIT
 *
 * libFuzzer driver for the fastText model loader (src/models/fasttext.c): each input is
 * written to a temporary file and opened as a fastText .bin/.ftz; if it opens, a fixed text
 * with ASCII, UTF-8, tabs and a newline is predicted with every output layer path the file
 * selects. The loader must refuse bad input with an error code, never crash, hang or allocate
 * without bound. Good seeds are small models trained with `fasttext supervised -dim 4` (and a
 * quantized one), e.g. the ones tests/unit/models/fasttext.c builds in its temporary directory.
 *
 *   cmake -DWITH_FUZZ=ON -DCMAKE_C_COMPILER=clang ... && ./fuzz_fasttext corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "micronlp/models.h"
#include "models/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_fasttext_XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();

    mn_model *m = NULL;
    mn_err err;
    if (mn__fasttext_open(path, &m, &err) != 0)
        return 0;
    static const char text[] = "match goal team \xc3\xa9quipe \xe6\x9d\xb1\xe4\xba\xac\tthe\n"
                               "__label__x unknown";
    mn_scratch *s = NULL;
    if (mn_scratch_new(&s) == 0) {
        mn_prediction out[5];
        size_t n = 0;
        mn_model_predict(m, s, text, sizeof text - 1, 5, 0.0f, out, &n);
        mn_model_predict(m, s, "", 0, 1, 0.5f, out, &n);
        mn_scratch_free(s);
    }
    mn_model_release(m);
    return 0;
}
