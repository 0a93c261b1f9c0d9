/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the classifier loader (src/models/classifier.c) behind the container checks:
 * random bytes would never pass the checksums, so the input is cut into the classifier's
 * sections and wrapped in a valid container, then opened and used for a prediction. Any
 * combination of section contents must be refused cleanly or predict without a fault.
 *
 * Input layout: a 64-byte parameter block (CLSH), then for each further section a 2-byte
 * little-endian length followed by that many bytes, in the order LABL META VOCB BKTS EMBD EMBQ
 * EMBS OUTM OUTQ OUTS TREE BKTV EMB6 EMBH (the last three: the 6-bit input rows).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_sections.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void predict_one(const mn_model *m, mn_scratch *s)
{
    mn_prediction p[4];
    size_t n;
    const char *text = "Hello wörld, this is https://x.io a test 😀 日本";
    mn_model_predict(m, s, text, strlen(text), 4, 0.0f, p, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t tags[] = {
        MN_TAG('L', 'A', 'B', 'L'), MN_TAG('M', 'E', 'T', 'A'), MN_TAG('V', 'O', 'C', 'B'),
        MN_TAG('B', 'K', 'T', 'S'), MN_TAG('E', 'M', 'B', 'D'), MN_TAG('E', 'M', 'B', 'Q'),
        MN_TAG('E', 'M', 'B', 'S'), MN_TAG('O', 'U', 'T', 'M'), MN_TAG('O', 'U', 'T', 'Q'),
        MN_TAG('O', 'U', 'T', 'S'), MN_TAG('T', 'R', 'E', 'E'), MN_TAG('B', 'K', 'T', 'V'),
        MN_TAG('E', 'M', 'B', '6'), MN_TAG('E', 'M', 'B', 'H')};
    if (size < 64)
        return 0;
    mn_file_writer *w;
    if (mn_file_writer_new(MN_MODEL_CLASSIFIER, &w))
        return 0;
    fuzz_need_clf_version(w, data);
    mn_file_writer_add(w, MN_TAG('C', 'L', 'S', 'H'), data, 64);
    fuzz_add_sections(w, tags, sizeof tags / sizeof tags[0], data, size, 64);
    fuzz_open_and_use(w, "classifier", predict_one);
    return 0;
}
