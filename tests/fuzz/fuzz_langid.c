/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the language identifier loader and prediction (src/models/langid.c) behind
 * the container checks: random bytes would never pass the checksums, so the input is cut into
 * the langid model's sections and wrapped in a valid container of type MN_MODEL_LANGID, then
 * opened and used for predictions on texts in several scripts. Any combination of section
 * contents must be refused cleanly or predict without a fault; a prediction must return
 * between 1 and k answers with labels inside the label list (else __builtin_trap()).
 * Probabilities are not checked: weights are not validated (NaN weights give NaN scores, as
 * in the classifier).
 *
 * Input layout: a 64-byte classifier parameter block (CLSH), a 32-byte langid parameter block
 * (LIDP), then for each further section a 2-byte little-endian length followed by that many
 * bytes, in the order LABL META VOCB BKTS EMBD EMBQ EMBS OUTM OUTQ OUTS TREE LSCR BKTV EMB6 EMBH
 * (the last three: the classifier's 6-bit input rows; the file then says version 3).
 * Seeds: corpus/langid/ (a tiny trained model cut into this layout).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_sections.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Predicts texts of several scripts and checks the answers' count and labels. */
static void predict_checked(const mn_model *m, mn_scratch *s)
{
    static const char *const texts[] = {"Hello wörld, this is a test 😀", "Привет мир",
                                        "모든 인간은", "人人生而自由", "12345", ""};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        mn_prediction p[4];
        size_t n = 0;
        if (mn_model_predict(m, s, texts[t], strlen(texts[t]), 4, 0.0f, p, &n) != 0)
            continue;
        if (n < 1 || n > 4)
            __builtin_trap();
        for (size_t j = 0; j < n; j++)
            if (p[j].label >= mn_model_label_count(m))
                __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t tags[] = {
        MN_TAG('L', 'A', 'B', 'L'), MN_TAG('M', 'E', 'T', 'A'), MN_TAG('V', 'O', 'C', 'B'),
        MN_TAG('B', 'K', 'T', 'S'), MN_TAG('E', 'M', 'B', 'D'), MN_TAG('E', 'M', 'B', 'Q'),
        MN_TAG('E', 'M', 'B', 'S'), MN_TAG('O', 'U', 'T', 'M'), MN_TAG('O', 'U', 'T', 'Q'),
        MN_TAG('O', 'U', 'T', 'S'), MN_TAG('T', 'R', 'E', 'E'), MN_TAG('L', 'S', 'C', 'R'),
        MN_TAG('B', 'K', 'T', 'V'), MN_TAG('E', 'M', 'B', '6'), MN_TAG('E', 'M', 'B', 'H')};
    if (size < 96)
        return 0;
    mn_file_writer *w;
    if (mn_file_writer_new(MN_MODEL_LANGID, &w))
        return 0;
    fuzz_need_clf_version(w, data);
    mn_file_writer_add(w, MN_TAG('C', 'L', 'S', 'H'), data, 64);
    mn_file_writer_add(w, MN_TAG('L', 'I', 'D', 'P'), data + 64, 32);
    fuzz_add_sections(w, tags, sizeof tags / sizeof tags[0], data, size, 96);
    fuzz_open_and_use(w, "langid", predict_checked);
    return 0;
}
