/* SPDX-License-Identifier: MIT
 *
 * Keywords: unsupervised key-phrase extraction, language-aware through stop-word lists.
 *
 * A keywords model (MN_MODEL_KEYWORDS) is an ordinary model file (mn_model_open, mn_model_save,
 * `micronlp info`) whose content is one stop-word list per language (from stopwords-iso); its
 * labels are the language codes it knows (as the list names them, ISO 639-1: "en"), and each
 * language may also be found by aliases (ISO 639-3: "eng", the codes the lang model answers).
 * It has no weights: extraction tokenises the text (mn_tokenizer_next), marks stop words and
 * splits the text at them, at punctuation, numbers, URLs and the like, scores the candidate
 * phrases by how often, how early, how spread out and in how varied a company their words
 * occur, and returns the best k as byte spans of the original text, so a caller can show,
 * highlight or copy them without any re-encoding.
 *
 * Scripts written without spaces: Han characters are one token each (as the tokenizer gives
 * them), so a Chinese or Japanese phrase is a run of 2 to max_words characters between stop
 * words (the Chinese list holds the function characters) and kana particles; Thai words are
 * split at the stop words of the language found inside them. Neither is real word
 * segmentation: phrases may cut through words.
 *
 * mn_model_predict on a keywords model returns MN_EUNSUPPORTED: use mn_keywords_extract.
 */
#ifndef MICRONLP_KEYWORDS_H
#define MICRONLP_KEYWORDS_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"
#include "micronlp/models.h"

/* One key phrase: text[start..end) of the input, and a score in (0, 1], best first (the best
 * phrase of a text scores 1; the others relative to it). */
typedef struct mn_keyword {
    uint32_t start, end;
    float score;
} mn_keyword;

/* Extracts up to k key phrases of text[0..len) (valid UTF-8; at most 2^32 - 2 bytes), best
 * first, distinct after normalisation (NFKC + case folding: "Neural Nets" and "neural nets" are
 * one phrase; its first occurrence is returned). lang is a language code as the lang model
 * answers it (ISO 639-3, "eng") or ISO 639-1 ("en"), case-insensitive; a region or script
 * subtag is ignored ("en-US", "zh_Hans"). With lang NULL, "und" or a language the model has no
 * list for, the model guesses the list from the text (the language whose stop words cover the
 * most of its first 512 words, when it is clear: at least 2 hits and no tie); when no list
 * fits, a language-independent rule stands in for stop words (words of one or two characters,
 * and three-character words that are frequent in the text). Either way it still answers.
 * Fewer than k phrases come back when the text has fewer candidates; an empty text, or one of
 * stop words, numbers and punctuation only, gives *n_out = 0.
 * Allocation-free once the scratch has grown (about 400 bytes per token). Thread-safe for
 * distinct scratch objects. Returns 0, MN_EINVAL (not a keywords model, NULL arguments),
 * MN_ETOOBIG or MN_ENOMEM; *n_out is 0 on failure. */
int mn_keywords_extract(const mn_model *m, mn_scratch *s, const char *text, size_t len,
                        const char *lang, size_t lang_len, size_t k, mn_keyword *out,
                        size_t *n_out);

/* Scoring methods. YAKE-like (Campos et al., 2020): every word gets a score from five
 * statistics of the text (casing, position, frequency, relatedness to its neighbours, spread
 * over sentences); a phrase is every 1..max_words-gram of content words, scored from its words
 * and its own frequency; a phrase contained in a better one is dropped. RAKE (Rose et al.,
 * 2010): phrases are the maximal runs of content words, scored by the sum of their words'
 * degree / frequency; it favours long phrases. docs/MODELS.md has the comparison. */
typedef enum mn_keywords_method {
    MN_KEYWORDS_DEFAULT = 0, /* YAKE-like */
    MN_KEYWORDS_YAKE = 1,
    MN_KEYWORDS_RAKE = 2,
} mn_keywords_method;

typedef struct mn_keywords_options {
    int method;         /* mn_keywords_method */
    uint32_t max_words; /* longest phrase, in words (Han characters for Chinese/Japanese);
                         * 0 = 4; at most 8 */
} mn_keywords_options;

/* What an extraction used (optional output of mn_keywords_extract_ex). */
typedef struct mn_keywords_info {
    int32_t lang;      /* label index of the stop-word list used, or -1 (language-independent) */
    int guessed;       /* 1 if lang was guessed from the text rather than given */
    size_t tokens;     /* tokens of the text */
    size_t candidates; /* distinct candidate phrases scored */
} mn_keywords_info;

/* mn_keywords_extract with options (NULL = defaults) and, if info is not NULL, a report of the
 * list used. Same rules and return codes; MN_EINVAL also for an unknown method or max_words
 * over 8. */
int mn_keywords_extract_ex(const mn_model *m, mn_scratch *s, const char *text, size_t len,
                           const char *lang, size_t lang_len, const mn_keywords_options *opts,
                           size_t k, mn_keyword *out, size_t *n_out, mn_keywords_info *info);

/* The label index of the stop-word list for lang (a label or an alias, as mn_keywords_extract
 * reads it), or -1. */
int32_t mn_keywords_lang_find(const mn_model *m, const char *lang, size_t lang_len);

/* 1 when the model has a stop-word list for lang (639-1 or 639-3 code), else 0. */
int mn_keywords_has_lang(const mn_model *m, const char *lang, size_t lang_len);

/* 1 when word[0..len) (one word or a stop phrase such as "ai nấy") is on the list of language
 * lang (a label index), after normalisation; else 0. */
int mn_keywords_is_stopword(const mn_model *m, uint32_t lang, const char *word, size_t len);

/* Builds a keywords model from a stop-word file: one "lang<TAB>word" per line (UTF-8; blank
 * lines ignored; lang is the list's code, ISO 639-1 in stopwords-iso, optionally followed by
 * ",<code>" aliases, e.g. "en,eng<TAB>the"; codes are 1-15 ASCII letters, digits, '-' or '_',
 * read in lower case). Languages are kept in order of first appearance; a word is up to 8
 * tokens (a stop phrase such as "ai nấy" or "一个" is matched token by token). Words are
 * normalised (NFKC + case fold); duplicates after normalisation count once. Lines starting
 * with '#' are comments; "# key: value" comments before the first word (key of a-z and '_')
 * become model metadata, so the file can carry its source ("# source: stopwords-iso@1.1.0").
 * Errors name "path:line: ..." (MN_EFORMAT: no tab, bad code, an alias already naming another
 * language, an empty or too long word; MN_EUTF8; MN_EEMPTY: no words), or -errno for the file.
 * SOURCE_DATE_EPOCH, when set, pins the "created" timestamp (reproducible builds). */
int mn_keywords_build(const char *stopwords_path, mn_model **out, mn_err *err);

#endif
