/* SPDX-License-Identifier: MIT
 *
 * Language identification: a text classifier over character n-grams plus what the text reveals
 * for free, its Unicode script. Hangul settles Korean, Thai script settles Thai; Cyrillic or
 * Devanagari narrow the answer to the languages trained with that script; a text whose letters
 * belong to no script the model was trained on, or that has no letters at all (digits, emoji),
 * gets the answer `und` ("undetermined", ISO 639-3), as does a text the classifier is unsure of
 * (best probability under a threshold tuned on validation data and stored in the model).
 *
 * A langid model is an ordinary mn_model (MN_MODEL_LANGID): mn_model_open, mn_model_predict,
 * mn_model_eval, mn_model_save and mn_model_quantize work on it. Its labels are the trained
 * languages followed by one more, "und". Prediction:
 *   - no letters, or letters only of scripts no label was trained with: one answer, und, 1.0;
 *   - the script leaves one candidate: that language with probability 1.0;
 *   - otherwise the classifier's probabilities renormalised over the candidates (they sum to 1
 *     over the candidates; answers are the top k of them, so their sum is <= 1); if the best is
 *     under the model's und threshold, und comes first with score 1 - p(best), then the top
 *     k - 1 languages.
 * The caller's threshold (mn_model_predict) filters the language answers, never und.
 */
#ifndef MICRONLP_LANGID_H
#define MICRONLP_LANGID_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/models.h"

/* ---- Unicode scripts ------------------------------------------------------------------------ */

/* Scripts of letters (values are stored in model files: append only). MN_SCRIPT_NONE covers
 * everything that is not a letter of a listed script: digits, punctuation, symbols, emoji,
 * combining marks of no script, and letters of scripts not in this list. */
#define MN_SCRIPT_LIST(X)                                                                          \
    X(NONE, "none")                                                                                \
    X(LATIN, "Latin")                                                                              \
    X(GREEK, "Greek")                                                                              \
    X(CYRILLIC, "Cyrillic")                                                                        \
    X(ARMENIAN, "Armenian")                                                                        \
    X(HEBREW, "Hebrew")                                                                            \
    X(ARABIC, "Arabic")                                                                            \
    X(SYRIAC, "Syriac")                                                                            \
    X(THAANA, "Thaana")                                                                            \
    X(NKO, "NKo")                                                                                  \
    X(DEVANAGARI, "Devanagari")                                                                    \
    X(BENGALI, "Bengali")                                                                          \
    X(GURMUKHI, "Gurmukhi")                                                                        \
    X(GUJARATI, "Gujarati")                                                                        \
    X(ORIYA, "Oriya")                                                                              \
    X(TAMIL, "Tamil")                                                                              \
    X(TELUGU, "Telugu")                                                                            \
    X(KANNADA, "Kannada")                                                                          \
    X(MALAYALAM, "Malayalam")                                                                      \
    X(SINHALA, "Sinhala")                                                                          \
    X(THAI, "Thai")                                                                                \
    X(LAO, "Lao")                                                                                  \
    X(TIBETAN, "Tibetan")                                                                          \
    X(MYANMAR, "Myanmar")                                                                          \
    X(GEORGIAN, "Georgian")                                                                        \
    X(HANGUL, "Hangul")                                                                            \
    X(ETHIOPIC, "Ethiopic")                                                                        \
    X(CHEROKEE, "Cherokee")                                                                        \
    X(CANADIAN, "Canadian_Aboriginal")                                                             \
    X(OGHAM, "Ogham")                                                                              \
    X(RUNIC, "Runic")                                                                              \
    X(KHMER, "Khmer")                                                                              \
    X(MONGOLIAN, "Mongolian")                                                                      \
    X(HIRAGANA, "Hiragana")                                                                        \
    X(KATAKANA, "Katakana")                                                                        \
    X(BOPOMOFO, "Bopomofo")                                                                        \
    X(HAN, "Han")                                                                                  \
    X(YI, "Yi")                                                                                    \
    X(TIFINAGH, "Tifinagh")                                                                        \
    X(VAI, "Vai")                                                                                  \
    X(ADLAM, "Adlam")                                                                              \
    X(TAI_THAM, "Tai_Tham")                                                                        \
    X(JAVANESE, "Javanese")                                                                        \
    X(BALINESE, "Balinese")                                                                        \
    X(SUNDANESE, "Sundanese")                                                                      \
    X(BUGINESE, "Buginese")                                                                        \
    X(TAGALOG, "Tagalog")                                                                          \
    X(CHAKMA, "Chakma")                                                                            \
    X(GRANTHA, "Grantha")                                                                          \
    X(OL_CHIKI, "Ol_Chiki")                                                                        \
    X(TAI_VIET, "Tai_Viet")                                                                        \
    X(OTHER_LETTER, "other")

typedef enum mn_script {
#define MN__SCRIPT_ENUM(id, name) MN_SCRIPT_##id,
    MN_SCRIPT_LIST(MN__SCRIPT_ENUM)
#undef MN__SCRIPT_ENUM
    MN_SCRIPT__COUNT
} mn_script;
_Static_assert(MN_SCRIPT__COUNT <= 64, "label script sets are 64-bit masks");

/* Script of one code point (MN_SCRIPT_NONE for non-letters). Thread-safe, no allocation. */
mn_script mn_script_of(int32_t cp);

/* "Latin", "Han", ...; "?" for an out-of-range value. */
const char *mn_script_name(int script);

/* Counts the letters of text[0..len) (UTF-8; ill-formed bytes count as nothing) per script into
 * counts[MN_SCRIPT__COUNT] and returns the dominant script (most letters; ties go to the lower
 * value), or MN_SCRIPT_NONE when the text has no letters. counts may be NULL. */
mn_script mn_text_script(const char *text, size_t len, uint32_t *counts);

/* ---- training ------------------------------------------------------------------------------- */

typedef struct mn_langid_config {
    /* The classifier underneath (mn_classifier_config_init gives fastText's defaults; langid
     * wants character n-grams: mn_langid_config_init sets minn 1, maxn 4, dim 64, epoch 10,
     * word_ngrams 1, bucket 2M, task "lang"). */
    mn_classifier_config clf;
    /* A script belongs to a label when it holds at least this share of the letters of the
     * label's training texts (default 0.01: stray foreign words do not count). */
    double script_min_share;
    /* Every script with at least this share of a text's letters must belong to a candidate
     * (default 0.2: kana next to Han narrows to Japanese). */
    double text_script_share;
    /* The und threshold; a negative value tunes it on the validation set (default -1; without
     * a validation set the tuned value is 0, never und for lack of confidence). */
    double und_threshold;
} mn_langid_config;

void mn_langid_config_init(mn_langid_config *cfg);

/* Trains a language identifier on train (labels are language codes; "und" is refused as a
 * training label). valid (may be NULL) tunes the und threshold: its examples labelled with a
 * language the model knows should get that language, and those labelled "und" or with a
 * language the model does not know should get und; the threshold that answers the most of them
 * right is kept (the lowest such). Early stopping is the classifier's own: set cfg->clf.valid
 * and cfg->clf.patience (the CLI passes --valid there when --patience is given).
 * cfg and the data sets are borrowed for the call. Thread-safe for distinct arguments.
 * Returns 0 and a new model (one reference) in *out, or MN_EINVAL / MN_EEMPTY / MN_ENOMEM with
 * err filled and *out untouched. */
int mn_langid_train(const mn_langid_config *cfg, const mn_dataset *train,
                    const mn_dataset *valid, mn_model **out, mn_err *err);

/* The und threshold of a langid model (0..1), or -1 for another model type. */
double mn_langid_und_threshold(const mn_model *m);

#endif
