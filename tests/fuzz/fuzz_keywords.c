/* SPDX-License-Identifier: MIT
 *
 * Fuzz driver for the keywords model loader and extraction (src/models/keywords.c) behind the
 * container checks: random bytes would never pass the checksums, so the input is cut into the
 * keywords model's sections and wrapped in a valid container of type MN_MODEL_KEYWORDS, then
 * opened and used on texts in several languages and scripts, with the list given and guessed.
 * Any combination of section contents must be refused cleanly or extract without a fault; an
 * extraction must return at most k phrases, each a non-empty byte span inside the text (else
 * __builtin_trap()).
 *
 * Input layout: for each section a 2-byte little-endian length followed by that many bytes,
 * in the order LABL META KWPR KWLN KWHS KWLG KWIX KWAL KWFT.
 * Seeds: corpus/keywords/ (a model of tests/data/keywords/stopwords.tsv cut into this layout).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_sections.h"
#include "micronlp/keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Extracts from every text with lang (NULL: guessed) and checks the answer's shape. */
static void extract_all(const mn_model *m, mn_scratch *s, const char *lang)
{
    static const char *const texts[] = {
        "The new climate law was passed today by the parliament in Berlin.",
        "Das neue Klimaschutzgesetz wurde heute vom Bundestag beschlossen.",
        "Hà Nội là thủ đô của Việt Nam, ai nấy đều biết.",
        "机器学习是人工智能的一个分支", "Привет мир, это тест", "", "a", "!!! ... ???"};
    enum { K = 5 };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        mn_keyword kw[K];
        size_t n = 0, len = strlen(texts[t]);
        if (mn_keywords_extract(m, s, texts[t], len, lang, lang ? strlen(lang) : 0, K, kw, &n) !=
            0)
            continue;
        if (n > K)
            __builtin_trap();
        for (size_t j = 0; j < n; j++)
            if (kw[j].start >= kw[j].end || kw[j].end > len)
                __builtin_trap();
    }
}

static void extract_given_and_guessed(const mn_model *m, mn_scratch *s)
{
    extract_all(m, s, "en");
    extract_all(m, s, "deu");
    extract_all(m, s, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t tags[] = {
        MN_TAG('L', 'A', 'B', 'L'), MN_TAG('M', 'E', 'T', 'A'), MN_TAG('K', 'W', 'P', 'R'),
        MN_TAG('K', 'W', 'L', 'N'), MN_TAG('K', 'W', 'H', 'S'), MN_TAG('K', 'W', 'L', 'G'),
        MN_TAG('K', 'W', 'I', 'X'), MN_TAG('K', 'W', 'A', 'L'), MN_TAG('K', 'W', 'F', 'T')};
    mn_file_writer *w;
    if (mn_file_writer_new(MN_MODEL_KEYWORDS, &w))
        return 0;
    fuzz_add_sections(w, tags, sizeof tags / sizeof tags[0], data, size, 0);
    fuzz_open_and_use(w, "keywords", extract_given_and_guessed);
    return 0;
}
