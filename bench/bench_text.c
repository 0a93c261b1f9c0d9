/* SPDX-License-Identifier: MIT
 *
 * Benchmark of the text hot path: tokenize + hash every token (what feature extraction does
 * per request), on a generated, fixed, realistic mix (mostly English sentences, with
 * accented words, numbers, URLs, e-mails, handles, hashtags, emoji, and some Chinese,
 * Japanese and Korean). Also times validation, normalisation and character n-grams on the
 * same text. Prints MB/s and ns per token. Not part of the test suite.
 *
 *   bench_text [megabytes=4] [rounds=20]
 */
#include "micronlp/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x853C49E6748FEA9Bull;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

static const char *words[] = {
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "was", "on", "with", "as",
    "model", "train", "seconds", "small", "fast", "language", "server", "request", "latency",
    "classifier", "tokenizer", "features", "dataset", "quality", "release", "customers",
    "don't", "it's", "state-of-the-art", "well-known", "Monday", "London", "Paris", "Google",
    "café", "naïve", "Zürich", "São", "Paulo", "résumé", "über", "straße", "Москва", "Ελλάδα",
};
static const char *specials[] = {
    "3.14", "1,000", "-5", "10%", "2024", "42", "https://example.com/docs/page?id=7",
    "www.micronlp.org/bench", "alice@example.com", "@bob_smith", "#nlp", "#MachineLearning",
    "👍", "😀", "👨‍👩‍👧", "🇫🇷", "❤️", "東京タワー", "日本語のテキスト", "中文分词", "한국어",
};
static const char *ends[] = {".", ".", ".", "!", "?", "...", ",", ";"};

static size_t generate(char *buf, size_t size)
{
    size_t n = 0;
    while (n + 256 < size) {
        size_t len = 6 + rnd(18);
        for (size_t i = 0; i < len; i++) {
            const char *w = rnd(10) == 0 ? specials[rnd(sizeof specials / sizeof specials[0])]
                                         : words[rnd(sizeof words / sizeof words[0])];
            size_t wl = strlen(w);
            memcpy(buf + n, w, wl);
            n += wl;
            if (i == 0 && buf[n - wl] >= 'a' && buf[n - wl] <= 'z')
                buf[n - wl] -= 32; /* capitalise the sentence */
            if (i + 1 < len && rnd(12) == 0)
                buf[n++] = ',';
            buf[n++] = ' ';
        }
        n--;
        const char *e = ends[rnd(sizeof ends / sizeof ends[0])];
        memcpy(buf + n, e, strlen(e));
        n += strlen(e);
        buf[n++] = rnd(8) ? ' ' : '\n';
    }
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 4;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    if (mb == 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_text [megabytes] [rounds]\n");
        return 2;
    }
    size_t size = mb << 20;
    char *text = malloc(size);
    char *norm = malloc(4 * size + 16);
    uint32_t *grams = malloc(sizeof(uint32_t) * 4096);
    if (!text || !norm || !grams)
        return 1;
    size_t len = generate(text, size);
    double mbytes = (double)len / 1e6;

    /* tokenize + hash: the number reported as the hot path */
    size_t tokens = 0;
    uint64_t acc = 0;
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        mn_tokenizer it;
        mn_token tok;
        size_t k = 0;
        mn_tokenizer_init(&it, text, len);
        while (mn_tokenizer_next(&it, &tok)) {
            acc += mn_hash64(text + tok.off, tok.len);
            k++;
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        tokens = k;
    }
    sink = acc;
    printf("text: %.2f MB, %zu tokens (%.1f bytes/token), best of %d rounds\n", mbytes, tokens,
           (double)len / (double)tokens, rounds);
    printf("tokenize+hash64   %8.1f MB/s  %6.1f ns/token\n", mbytes / best,
           best * 1e9 / (double)tokens);

    /* the same in batches (as the classifier does): a call per 256 tokens, not two per token */
    best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        mn_tokenizer it;
        mn_token tok[256];
        uint64_t h[256];
        size_t got;
        mn_tokenizer_init(&it, text, len);
        do {
            got = mn_tokenizer_next_batch(&it, 0, text, tok, h, 256);
            for (size_t i = 0; i < got; i++)
                acc += h[i];
        } while (got == 256);
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    sink = acc;
    printf("  in batches      %8.1f MB/s  %6.1f ns/token\n", mbytes / best,
           best * 1e9 / (double)tokens);

    best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        size_t k = mn_tokenize(text, len, NULL, 0);
        double dt = now_s() - t0;
        sink += k;
        if (dt < best)
            best = dt;
    }
    printf("tokenize only     %8.1f MB/s  %6.1f ns/token\n", mbytes / best,
           best * 1e9 / (double)tokens);

    best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        sink += (uint64_t)mn_utf8_validate(text, len, NULL);
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    printf("utf8 validate     %8.1f MB/s\n", mbytes / best);

    unsigned modes[] = {MN_NORM_CASEFOLD, MN_NORM_NFKC | MN_NORM_CASEFOLD,
                        MN_NORM_NFKC | MN_NORM_CASEFOLD | MN_NORM_STRIP_MARKS};
    const char *names[] = {"normalize fold   ", "normalize nfkc+fold", "normalize all    "};
    for (int m = 0; m < 3; m++) {
        best = 1e9;
        for (int r = 0; r < rounds; r++) {
            size_t out_len;
            double t0 = now_s();
            int rc = mn_normalize(text, len, modes[m], norm, 4 * size + 16, &out_len);
            double dt = now_s() - t0;
            sink += (uint64_t)rc + out_len;
            if (dt < best)
                best = dt;
        }
        printf("%s %8.1f MB/s\n", names[m], mbytes / best);
    }

    /* tokenize + hash + char n-grams 3..6 (the fastText-style subword features) */
    best = 1e9;
    size_t ngrams = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        mn_tokenizer it;
        mn_token tok;
        size_t k = 0;
        mn_tokenizer_init(&it, text, len);
        while (mn_tokenizer_next(&it, &tok)) {
            acc += mn_hash64(text + tok.off, tok.len);
            k += mn_char_ngrams(text + tok.off, tok.len, 3, 6, 2000000, grams, 4096);
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        ngrams = k;
    }
    sink = acc;
    printf("+ char n-grams 3-6 %7.1f MB/s  %6.1f ns/token  (%.1f n-grams/token)\n", mbytes / best,
           best * 1e9 / (double)tokens, (double)ngrams / (double)tokens);
    free(text);
    free(norm);
    free(grams);
    return 0;
}
