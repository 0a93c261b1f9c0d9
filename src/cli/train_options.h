/* SPDX-License-Identifier: MIT
 *
 * The classifier's training options, shared by `micronlp train` and `micronlp train --type
 * langid` (whose model embeds a classifier), so both spell, bound and document them the same.
 * Each command's option table expands these macros with its own offset helpers:
 *   CFG(field)  offset of an mn_classifier_config field inside the command's options struct;
 *   OWN(field)  offset of a cli_token_opts field inside it; cli_token_opts_apply then turns
 *               those into the configuration's normalisation and token flags.
 */
#ifndef MN_CLI_TRAIN_OPTIONS_H
#define MN_CLI_TRAIN_OPTIONS_H

#include "cli/options.h"
#include "micronlp/models.h"

/* The token options as given (CLI_TOKEN_OPTIONS fills them). */
typedef struct cli_token_opts {
    int no_normalize;
    int keep_punct;
    int tokenizer; /* 0 unicode, 1 whitespace */
    int fold_digits;
    int shape_features;
    int cjk_runs;
} cli_token_opts;

static inline void cli_token_opts_apply(const cli_token_opts *t, mn_classifier_config *cfg)
{
    if (t->no_normalize)
        cfg->norm_flags = 0;
    if (t->keep_punct)
        cfg->token_flags |= MN_TOKENS_KEEP_PUNCT;
    if (t->tokenizer == 1)
        cfg->token_flags |= MN_TOKENS_WHITESPACE;
    if (t->fold_digits)
        cfg->token_flags |= MN_TOKENS_FOLD_DIGITS;
    if (t->shape_features)
        cfg->token_flags |= MN_TOKENS_SHAPE;
    if (t->cjk_runs)
        cfg->token_flags |= MN_TOKENS_CJK_RUNS;
}

static const char *const cli_loss_names[] = {"softmax", "ova", "hs", NULL};
static const char *const cli_format_names[] = {"auto", "fasttext", "tsv", NULL};
static const char *const cli_tokenizer_names[] = {"unicode", "whitespace", NULL};

#define CLI_CLASSIFIER_OPTIONS(CFG)                                                                \
    {"epoch", NULL, OPT_INT, 1, 10000, NULL, CFG(epoch), "N", "passes over the training data",     \
     0},                                                                                           \
        {"lr", NULL, OPT_DOUBLE, 0, 10, NULL, CFG(lr), "X", "learning rate at the start", 0},      \
        {"dim", NULL, OPT_INT, 1, 4096, NULL, CFG(dim), "N", "size of the word vectors", 0},       \
        {"word-ngrams", "wordNgrams", OPT_INT, 1, 10, NULL, CFG(word_ngrams), "N",                 \
         "longest word n-gram used as a feature (1 = single words)", 0},                           \
        {"minn", NULL, OPT_INT, 0, 20, NULL, CFG(minn), "N",                                       \
         "shortest character n-gram, in code points", 0},                                          \
        {"maxn", NULL, OPT_INT, 0, 20, NULL, CFG(maxn), "N",                                       \
         "longest character n-gram (0 = no character n-grams)", 0},                                \
        {"bucket", NULL, OPT_U32, 0, 100000000, NULL, CFG(bucket), "N",                            \
         "hash buckets shared by word and character n-grams", 0},                                  \
        {"min-count", "minCount", OPT_INT, 1, 1000000000, NULL, CFG(min_count), "N",               \
         "words seen fewer times are left out of the vocabulary", 0},                              \
        {"loss", NULL, OPT_ENUM, 1, 0, cli_loss_names, CFG(loss), NULL,                            \
         "softmax: one label per text; ova: several; hs: very many labels", 0},                    \
        {"threads", "thread", OPT_INT, 1, 1024, NULL, CFG(threads), "N",                           \
         "training threads (1 = bit-for-bit reproducible for a seed)", 0},                         \
        {"seed", NULL, OPT_U64, 0, 4294967295.0, NULL, CFG(seed), "N", "random seed", 0},          \
        {"lr-update-rate", "lrUpdateRate", OPT_INT, 1, 1000000, NULL, CFG(lr_update_rate), "N",    \
         "tokens between learning-rate updates", 0},                                               \
        {"task", NULL, OPT_STRING, 1, 0, NULL, CFG(task), "NAME",                                  \
         "what the model is for (\"spam\", \"lang\"), stored in the model", 0},                    \
        {"patience", NULL, OPT_INT, 0, 1000, NULL, CFG(patience), "N",                             \
         "stop after N epochs without gain on --valid (0 = never stop early)", 0},                 \
        {"min-df", NULL, OPT_INT, 1, 1000000000, NULL, CFG(min_df), "N",                           \
         "features found in fewer than N training texts get no row", 0},                           \
        {"idf-lr", NULL, OPT_DOUBLE, 0, 10, NULL, CFG(idf_lr), "P",                                \
         "scale each row's learning rate by idf^P: rare features learn faster (0 = off)", 0},      \
        {"keep-rows", NULL, OPT_U32, 0, 1000000000, NULL, CFG(keep_rows), "N",                     \
         "after training keep the N rows that move the training scores most, zero the rest "       \
         "(for quantize --cutoff N; 0 = all)", 0}

#define CLI_TOKEN_OPTIONS(OWN)                                                                     \
    {"no-normalize", NULL, OPT_BOOL, 1, 0, NULL, OWN(no_normalize), NULL,                          \
     "use tokens as they are (no NFKC, no case folding)", 0},                                      \
        {"keep-punct", NULL, OPT_BOOL, 1, 0, NULL, OWN(keep_punct), NULL,                          \
         "make punctuation and symbol tokens features too (left out by default)", 0},              \
        {"tokenizer", NULL, OPT_ENUM, 1, 0, cli_tokenizer_names, OWN(tokenizer), NULL,             \
         "unicode: words, URLs, e-mails, emoji, CJK; whitespace: split on spaces as fastText", 0}, \
        {"fold-digits", NULL, OPT_BOOL, 1, 0, NULL, OWN(fold_digits), NULL,                        \
         "every digit reads as 0 (1961 and 1848 are one feature)", 0},                            \
        {"shape-features", NULL, OPT_BOOL, 1, 0, NULL, OWN(shape_features), NULL,                  \
         "five features of the text's shape: length, mean word length, sentence length, and pairs",\
         0},                                                                                       \
        {"cjk-runs", NULL, OPT_BOOL, 1, 0, NULL, OWN(cjk_runs), NULL,                              \
         "a run of Han and kana with nothing between is one token, not one per ideograph", 0}

#endif
