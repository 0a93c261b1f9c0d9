/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the labelled-data reader (src/models/dataset.c): any bytes must load or be
 * refused with a message, and a loaded set must have consistent examples (text inside the
 * file, label indices in range).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "micronlp/models.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz-dataset-%d.txt", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    mn_dataset *d = NULL;
    mn_err err;
    if (mn_dataset_load(path, MN_DATA_AUTO, NULL, &d, &err) == 0) {
        for (size_t i = 0; i < mn_dataset_count(d); i++) {
            const char *text;
            size_t len, nl;
            const uint32_t *labels;
            mn_dataset_get(d, i, &text, &len, &labels, &nl);
            if (len == 0 || nl == 0)
                __builtin_trap();
            for (size_t j = 0; j < nl; j++)
                if (labels[j] >= mn_dataset_label_count(d))
                    __builtin_trap();
        }
        mn_dataset_free(d);
    } else if (err.msg[0] == '\0') {
        __builtin_trap(); /* every refusal says why */
    }
    unlink(path);
    return 0;
}
