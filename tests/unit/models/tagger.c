/* SPDX-License-Identifier: MIT
 *
 * Tests for the sequence tagger (src/models/tagger.c, tagger_train.c, tagger_eval.c): it
 * learns the tiny fixed corpora in tests/data/tagger/ to a floor, is deterministic for a seed,
 * survives save/open unchanged, reports byte offsets into Unicode text, reads entity spans
 * with conlleval's rules (malformed sequences included), scores spans as conlleval does,
 * tags as a naive decoder does (bit for bit), tags without allocating once warm, and fails
 * training cleanly on any allocation failure.
 */
#include "models/tagger.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "tagger_corpus.h"
#include "test.h"

static mn_model *train(const mn_tagged_corpus *c, uint64_t seed, int epoch)
{
    mn_tagger_config cfg;
    mn_tagger_config_init(&cfg);
    cfg.seed = seed;
    cfg.epoch = epoch;
    cfg.bucket = 1 << 16;
    mn_model *m = NULL;
    mn_err err;
    if (mn_tagger_train(&cfg, c, &m, &err) != 0) {
        fprintf(stderr, "train: %s\n", err.msg);
        return NULL;
    }
    return m;
}

TEST(pos_learns)
{
    mn_tagged_corpus *tr = load("pos.train.txt"), *te = load("pos.test.txt");
    ASSERT(tr && te);
    ASSERT_EQ(mn_tagged_corpus_sentence_count(tr), 300);
    mn_model *m = train(tr, 1, 5);
    ASSERT(m != NULL);
    ASSERT_EQ(mn_model_kind(m), MN_MODEL_TAGGER);
    ASSERT_STREQ(mn_model_type_name(m), "tagger");
    ASSERT(((const mn_tagger *)m)->p.dict_slots > 0); /* "the", "." ... are looked up */
    mn_tag_eval_result r;
    mn_err err;
    ASSERT_EQ(mn_tagger_eval(m, te, &r, &err), 0);
    ASSERT(r.accuracy >= 0.95);
    ASSERT_EQ(r.entities, 0);
    ASSERT_EQ(r.unknown_tags, 0);
    mn_tag_eval_result_deinit(&r);
    mn_model_release(m);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(te);
}

TEST(ner_learns_and_finds_entities)
{
    mn_tagged_corpus *tr = load("ner.train.txt"), *te = load("ner.test.txt");
    ASSERT(tr && te);
    mn_model *m = train(tr, 1, 5);
    ASSERT(m != NULL);
    ASSERT_STREQ(mn_model_label(m, 0), "O");
    mn_tag_eval_result r;
    mn_err err;
    ASSERT_EQ(mn_tagger_eval(m, te, &r, &err), 0);
    ASSERT_EQ(r.entities, 1);
    ASSERT(r.all.f1 >= 0.9);
    ASSERT_EQ(r.ntypes, 3);
    ASSERT_STREQ(r.per_type[0].type, "LOC");
    ASSERT_STREQ(r.per_type[2].type, "PER");
    mn_tag_eval_result_deinit(&r);

    const char *text = "Anna Berg works for Acme Corp in Paris .";
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_entity e[8];
    size_t n = 0;
    ASSERT_EQ(mn_model_entities(m, s, text, strlen(text), e, 8, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT_MEMEQ(text + e[0].off, e[0].len, "Anna Berg");
    ASSERT_MEMEQ(e[0].type, e[0].type_len, "PER");
    ASSERT_EQ(e[0].first, 0);
    ASSERT_EQ(e[0].count, 2);
    ASSERT_MEMEQ(text + e[1].off, e[1].len, "Acme Corp");
    ASSERT_MEMEQ(e[1].type, e[1].type_len, "ORG");
    ASSERT_MEMEQ(text + e[2].off, e[2].len, "Paris");
    ASSERT_MEMEQ(e[2].type, e[2].type_len, "LOC");
    ASSERT(e[0].score > 0.5f && e[0].score <= 1.0f);
    /* cap smaller than the count: the total still comes back */
    ASSERT_EQ(mn_model_entities(m, s, text, strlen(text), e, 1, &n), 0);
    ASSERT_EQ(n, 3);
    mn_scratch_free(s);
    mn_model_release(m);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(te);
}

static void tag_all(const mn_model *m, const mn_tagged_corpus *c, uint32_t *tags, size_t *n)
{
    mn_scratch *s = NULL;
    mn_scratch_new(&s);
    const char *w[64];
    size_t l[64];
    *n = 0;
    for (size_t i = 0; i < mn_tagged_corpus_sentence_count(c); i++) {
        size_t len = mn_tagged_corpus_sentence_len(c, i);
        for (size_t j = 0; j < len && j < 64; j++)
            mn_tagged_corpus_token(c, i, j, &w[j], &l[j], NULL);
        mn_model_tag_tokens(m, s, w, l, len, tags + *n, NULL);
        *n += len;
    }
    mn_scratch_free(s);
}

TEST(deterministic_with_a_seed)
{
    mn_tagged_corpus *tr = load("pos.train.txt"), *te = load("pos.test.txt");
    ASSERT(tr && te);
    mn_model *a = train(tr, 7, 2), *b = train(tr, 7, 2), *c = train(tr, 8, 2);
    ASSERT(a && b && c);
    ASSERT_STREQ(mn_model_meta(a, "weights"), mn_model_meta(b, "weights"));
    const mn_tagger *ta = (const mn_tagger *)a, *tb = (const mn_tagger *)b,
                    *tc = (const mn_tagger *)c;
    ASSERT_EQ(ta->p.nentries, tb->p.nentries);
    ASSERT(memcmp(ta->entries, tb->entries, ta->p.nentries * sizeof *ta->entries) == 0);
    ASSERT(ta->p.nentries != tc->p.nentries ||
           memcmp(ta->entries, tc->entries, ta->p.nentries * sizeof *ta->entries) != 0);
    static uint32_t x[20000], y[20000];
    size_t nx, ny;
    tag_all(a, te, x, &nx);
    tag_all(b, te, y, &ny);
    ASSERT_EQ(nx, ny);
    ASSERT(memcmp(x, y, nx * sizeof *x) == 0);
    mn_model_release(a);
    mn_model_release(b);
    mn_model_release(c);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(te);
}

TEST(save_and_open_tag_the_same)
{
    mn_tagged_corpus *tr = load("ner.train.txt");
    ASSERT(tr != NULL);
    mn_model *m = train(tr, 1, 3);
    ASSERT(m != NULL);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mn-tagger-test-%d.mnlp", (int)getpid());
    mn_err err;
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    mn_model *m2 = NULL;
    ASSERT_EQ(mn_model_open(path, &m2, &err), 0);
    unlink(path);
    ASSERT_EQ(mn_model_kind(m2), MN_MODEL_TAGGER);
    ASSERT_EQ(mn_model_label_count(m2), mn_model_label_count(m));
    ASSERT_STREQ(mn_model_meta(m2, "task"), "tagger");
    const char *texts[] = {"Omar visited Oslo with Li Wei .", "the weather in Lagos was nice .", "",
                           "Nokia opened an office in Rio de Janeiro today ."};
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        mn_tagged a[32], b[32];
        size_t na = 0, nb = 0;
        ASSERT_EQ(mn_model_tag(m, s, texts[k], strlen(texts[k]), a, 32, &na), 0);
        ASSERT_EQ(mn_model_tag(m2, s, texts[k], strlen(texts[k]), b, 32, &nb), 0);
        ASSERT_EQ(na, nb);
        for (size_t i = 0; i < na; i++) {
            ASSERT_EQ(a[i].tag, b[i].tag);
            ASSERT_EQ(a[i].off, b[i].off);
            ASSERT(a[i].score == b[i].score);
        }
    }
    mn_prediction p[1];
    size_t np;
    ASSERT_EQ(mn_model_predict(m2, s, "x", 1, 1, 0.0f, p, &np), MN_EUNSUPPORTED);
    mn_scratch_free(s);
    mn_model_release(m);
    mn_model_release(m2);
    mn_tagged_corpus_free(tr);
}

TEST(offsets_are_bytes_of_unicode_text)
{
    mn_tagged_corpus *tr = load("pos.train.txt");
    ASSERT(tr != NULL);
    mn_model *m = train(tr, 1, 1);
    ASSERT(m != NULL);
    const char *text = "Zoë sees  the café — 東京 near Zürich 🙂 today.";
    size_t len = strlen(text);
    mn_token want[32];
    size_t nw = mn_tokenize(text, len, want, 32);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_tagged got[32];
    size_t n = 0;
    ASSERT_EQ(mn_model_tag(m, s, text, len, got, 32, &n), 0);
    ASSERT_EQ(n, nw);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(got[i].off, want[i].off);
        ASSERT_EQ(got[i].len, want[i].len);
        ASSERT(got[i].tag < mn_model_label_count(m));
        ASSERT(got[i].score > 0.0f && got[i].score <= 1.0f);
    }
    ASSERT_MEMEQ(text + got[0].off, got[0].len, "Zoë");
    ASSERT_MEMEQ(text + got[4].off, got[4].len, "—");
    ASSERT_MEMEQ(text + got[5].off, got[5].len, "東");
    /* a smaller out array: count comes back, only cap are written */
    ASSERT_EQ(mn_model_tag(m, s, text, len, got, 2, &n), 0);
    ASSERT_EQ(n, nw);
    mn_scratch_free(s);
    mn_model_release(m);
    mn_tagged_corpus_free(tr);
}

/* Kinds and types of the labels O, B-PER, I-PER, B-LOC, I-LOC, B-ORG, I-ORG, NN. */
static const uint8_t KIND[] = {MN_BIO_O, MN_BIO_B, MN_BIO_I, MN_BIO_B,
                               MN_BIO_I, MN_BIO_B, MN_BIO_I, MN_BIO_OTHER};
static const uint32_t TYPE[] = {0, 0, 0, 1, 1, 2, 2, 0};
enum { O, BP, IP, BL, IL, BO, IO_, NN };

TEST(bio_chunks_follow_conlleval)
{
    static const struct {
        uint32_t tags[10];
        size_t n;
        size_t nchunks;
        mn_chunk want[5];
    } cases[] = {
        {{BP, IP, O, BL}, 4, 2, {{0, 2, 0}, {3, 1, 1}}},
        /* I- without B- starts a span */
        {{O, IP, IP, O}, 4, 1, {{1, 2, 0}}},
        {{IL}, 1, 1, {{0, 1, 1}}},
        /* I- of another type starts a new span */
        {{BP, IL, IL}, 3, 2, {{0, 1, 0}, {1, 2, 1}}},
        /* B- right after B- of the same type: two spans */
        {{BP, BP, IP}, 3, 2, {{0, 1, 0}, {1, 2, 0}}},
        /* non-BIO tags end spans like O */
        {{BO, NN, IO_}, 3, 2, {{0, 1, 2}, {2, 1, 2}}},
        {{O, O}, 2, 0, {{0}}},
        {{0}, 0, 0, {{0}}},
        /* span at the very end */
        {{O, BO, IO_, IO_}, 4, 1, {{1, 3, 2}}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mn_chunk got[10];
        size_t n = mn__bio_chunks(cases[k].tags, cases[k].n, KIND, TYPE, got, 10);
        ASSERT_EQ(n, cases[k].nchunks);
        for (size_t i = 0; i < n; i++) {
            ASSERT_EQ(got[i].first, cases[k].want[i].first);
            ASSERT_EQ(got[i].count, cases[k].want[i].count);
            ASSERT_EQ(got[i].type, cases[k].want[i].type);
        }
        /* cap smaller than the count: the count is still right */
        ASSERT_EQ(mn__bio_chunks(cases[k].tags, cases[k].n, KIND, TYPE, got, 0), cases[k].nchunks);
    }
    const char *t = NULL;
    size_t tl = 0;
    ASSERT_EQ(mn__bio_parse("O", &t, &tl), MN_BIO_O);
    ASSERT_EQ(mn__bio_parse("B-PER", &t, &tl), MN_BIO_B);
    ASSERT_MEMEQ(t, tl, "PER");
    ASSERT_EQ(mn__bio_parse("I-creative-work", &t, &tl), MN_BIO_I);
    ASSERT_MEMEQ(t, tl, "creative-work");
    ASSERT_EQ(mn__bio_parse("B-", &t, &tl), MN_BIO_OTHER);
    ASSERT_EQ(mn__bio_parse("nn", &t, &tl), MN_BIO_OTHER);
    ASSERT_EQ(mn__bio_parse("Ox", &t, &tl), MN_BIO_OTHER);
}

/* conlleval on hand-made gold/predicted pairs: counts per type and the headline P/R/F1. */
TEST(span_scores_match_conlleval)
{
    static const struct {
        uint32_t gold[8], pred[8];
        size_t n;
        uint64_t tp, fp, fn;
    } cases[] = {
        {{BP, IP, O, BL}, {BP, IP, O, BL}, 4, 2, 0, 0},
        /* boundary error: one false positive and one false negative */
        {{BP, IP, O, BL}, {BP, O, O, BL}, 4, 1, 1, 1},
        /* type error */
        {{BP, IP}, {BL, IL}, 2, 0, 1, 1},
        /* a malformed predicted I- still counts when it spans the gold span exactly */
        {{O, BO, IO_}, {O, IO_, IO_}, 3, 1, 0, 0},
        /* nothing predicted */
        {{BL, O, BP}, {O, O, O}, 3, 0, 0, 2},
        /* spurious only */
        {{O, O}, {BP, O}, 2, 0, 1, 0},
    };
    mn_span_stats total = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mn_chunk g[8], p[8];
        size_t ng = mn__bio_chunks(cases[k].gold, cases[k].n, KIND, TYPE, g, 8);
        size_t np = mn__bio_chunks(cases[k].pred, cases[k].n, KIND, TYPE, p, 8);
        mn_span_stats st[3];
        memset(st, 0, sizeof st);
        mn__span_match(g, ng, p, np, st);
        uint64_t tp = st[0].tp + st[1].tp + st[2].tp, fp = st[0].fp + st[1].fp + st[2].fp,
                 fn = st[0].fn + st[1].fn + st[2].fn;
        ASSERT_EQ(tp, cases[k].tp);
        ASSERT_EQ(fp, cases[k].fp);
        ASSERT_EQ(fn, cases[k].fn);
        total.tp += tp;
        total.fp += fp;
        total.fn += fn;
    }
    mn__span_finish(&total);
    /* tp 4, fp 3, fn 4: P 4/7, R 4/8, F1 = 2PR/(P+R) */
    ASSERT_NEAR(total.precision, 4.0 / 7.0, 1e-12);
    ASSERT_NEAR(total.recall, 0.5, 1e-12);
    ASSERT_NEAR(total.f1, 2 * (4.0 / 7.0) * 0.5 / (4.0 / 7.0 + 0.5), 1e-12);
    mn_span_stats none = {0};
    mn__span_finish(&none);
    ASSERT(none.f1 == 0.0 && none.precision == 0.0);
}

TEST(eval_counts_unknown_gold_tags)
{
    mn_tagged_corpus *tr = load("ner.train.txt");
    ASSERT(tr != NULL);
    mn_model *m = train(tr, 1, 3);
    ASSERT(m != NULL);
    const char *data = "Anna\tB-PER\nmet\tO\nZorro\tB-HERO\n.\tO\n";
    mn_tagged_corpus *c = NULL;
    mn_err err;
    ASSERT_EQ(mn_tagged_corpus_parse(data, strlen(data), "x", MN_TAG_FORMAT_CONLL, 0, &c, &err), 0);
    mn_tag_eval_result r;
    ASSERT_EQ(mn_tagger_eval(m, c, &r, &err), 0);
    ASSERT_EQ(r.tokens, 4);
    ASSERT_EQ(r.unknown_tags, 1);
    ASSERT(r.correct <= 3);
    /* the HERO span is a gold span nobody can find */
    int found = 0;
    for (uint32_t i = 0; i < r.ntypes; i++)
        if (strcmp(r.per_type[i].type, "HERO") == 0) {
            found = 1;
            ASSERT_EQ(r.per_type[i].fn, 1);
            ASSERT_EQ(r.per_type[i].tp, 0);
        }
    ASSERT(found);
    mn_tag_eval_result_deinit(&r);
    /* eval on a model that is not a tagger is refused */
    ASSERT_EQ(mn_tagger_eval(NULL, c, &r, &err), MN_EINVAL);
    mn_tagged_corpus_free(c);
    mn_model_release(m);
    mn_tagged_corpus_free(tr);
}

/* The decoding tagger.c did before its lookahead, dictionary shortcut and exp table, kept as
 * the naive reference: every feature hashed, every row probed where it is added, exp called. */
static void naive_tag(const mn_tagger *t, const char *const *words, const size_t *lens, size_t n,
                      uint32_t *tags, float *scores)
{
    size_t bb = mn__tagger_buf_bytes(lens, n);
    char *buf = malloc(bb);
    void *info = malloc(mn__tagger_info_bytes(n));
    uint32_t *feats = malloc((n ? n : 1) * MN_TAGGER_NSTATIC * sizeof *feats);
    int32_t *score = malloc(t->p.ntags * sizeof *score);
    mn__tagger_static(words, lens, n, t->p.bucket_mask, buf, bb, feats, info);
    uint32_t nt = t->p.ntags, p1 = nt, p2 = nt;
    for (size_t i = 0; i < n; i++) {
        int64_t known = mn__tg_dict_find(t->dict, t->p.dict_slots, mn__tagger_info_word(info, i));
        if (known >= 0) {
            tags[i] = (uint32_t)known;
            scores[i] = 1.0f;
            p2 = p1;
            p1 = (uint32_t)known;
            continue;
        }
        uint32_t f[MN_TAGGER_NSTATIC + MN_TAGGER_NDYN];
        memcpy(f, feats + i * MN_TAGGER_NSTATIC, MN_TAGGER_NSTATIC * sizeof *f);
        mn__tagger_dynamic(p1, p2, mn__tagger_info_lower(info, i), t->p.bucket_mask,
                           f + MN_TAGGER_NSTATIC);
        memset(score, 0, nt * sizeof *score);
        for (int k = 0; k < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; k++) {
            uint32_t key = f[k] + 1;
            for (uint32_t j = (key * 2654435761u) & t->p.slot_mask; t->slots[2 * j];
                 j = (j + 1) & t->p.slot_mask) {
                if (t->slots[2 * j] != key) continue;
                for (const mn_tg_entry *e = t->entries + t->slots[2 * j + 1];; e++) {
                    score[e->tag & 0x7fff] += e->w;
                    if (e->tag & 0x8000) break;
                }
                break;
            }
        }
        uint32_t best = 0;
        for (uint32_t j = 1; j < nt; j++)
            if (score[j] > score[best]) best = j;
        double z = 0.0, top = score[best], sc = t->p.scale;
        for (uint32_t j = 0; j < nt; j++) {
            double d = (score[j] - top) * sc;
            if (d > -30.0) z += exp(d);
        }
        tags[i] = best;
        scores[i] = (float)(1.0 / z);
        p2 = p1;
        p1 = best;
    }
    free(buf);
    free(info);
    free(feats);
    free(score);
}

/* Differential: a synthetic tagger with many tags (so decoding uses its exp table), rows on
 * most buckets, ties, and a tag dictionary, against naive_tag on random sentences. */
TEST(tagging_matches_the_naive_decoder)
{
    mn_tagger *t = mn__tagger_new();
    ASSERT(t != NULL);
    uint32_t nt = 40, buckets = 1u << 10, slots = 1u << 11, ne = 0;
    t->p = (mn_tg_params){.feature_version = MN_TAGGER_FEATURES,
                          .ntags = nt,
                          .bucket_mask = buckets - 1,
                          .slot_mask = slots - 1,
                          .scale = 0.002f,
                          .dict_slots = 16};
    t->owned_slots = calloc(2 * slots, sizeof *t->owned_slots);
    t->owned_entries = malloc(buckets * 8 * sizeof *t->owned_entries);
    t->owned_dict = calloc(16, sizeof *t->owned_dict);
    ASSERT(t->owned_slots && t->owned_entries && t->owned_dict);
    uint64_t rng = 12345;
#define RND() (rng = rng * 6364136223846793005ull + 1442695040888963407ull, (uint32_t)(rng >> 33))
    for (uint32_t b = 0; b < buckets; b++) {
        if (RND() % 4 == 0) continue; /* pruned */
        uint32_t len = 1 + RND() % 8, first = ne;
        for (uint32_t k = 0; k < len; k++) {
            /* small weights make ties and near ties; a few large ones push terms out */
            int w = RND() % 5 == 0 ? (int)(RND() % 65535) - 32767 : (int)(RND() % 2001) - 1000;
            t->owned_entries[ne++] = (mn_tg_entry){(uint16_t)(RND() % nt), (int16_t)w};
        }
        t->owned_entries[ne - 1].tag |= 0x8000;
        uint32_t key = b + 1, j = (key * 2654435761u) & (slots - 1);
        while (t->owned_slots[2 * j])
            j = (j + 1) & (slots - 1);
        t->owned_slots[2 * j] = key;
        t->owned_slots[2 * j + 1] = first;
        t->p.nrows++;
    }
    t->p.nentries = ne;
    t->slots = t->owned_slots;
    t->entries = t->owned_entries;
    static const char *vocab[] = {"the",
                                  "The",
                                  "Oslo",
                                  "IBM",
                                  "1985",
                                  "e-mail",
                                  "iPhone",
                                  "caf\xc3\xa9",
                                  "\xe6\x9d\xb1\xe4\xba\xac",
                                  ",",
                                  "x",
                                  "McDonald",
                                  "\xff",
                                  ""};
    enum { NV = sizeof vocab / sizeof vocab[0] };
    for (int k = 0; k < 3; k++) { /* "the", "The", "," are in the dictionary */
        const char *w = k == 2 ? "," : vocab[k];
        uint64_t h = mn_hash64(w, strlen(w));
        uint32_t j = (uint32_t)(h >> 32) & 15;
        while (t->owned_dict[j].used)
            j = (j + 1) & 15;
        t->owned_dict[j] = (mn_tg_dict){h, (uint32_t)k, 1};
    }
    t->dict = t->owned_dict;
    ASSERT_EQ(mn__tagger_index_labels(t), 0);
    ASSERT(t->exp_tab != NULL);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    const char *words[64];
    size_t lens[64];
    uint32_t a[64], b[64];
    float sa[64], sb[64];
    for (int round = 0; round < 300; round++) {
        size_t n = RND() % 64;
        for (size_t i = 0; i < n; i++) {
            words[i] = vocab[RND() % NV];
            lens[i] = strlen(words[i]);
        }
        ASSERT_EQ(mn_model_tag_tokens(&t->base, s, words, lens, n, a, sa), 0);
        naive_tag(t, words, lens, n, b, sb);
        for (size_t i = 0; i < n; i++) {
            ASSERT_EQ(a[i], b[i]);
            ASSERT(memcmp(&sa[i], &sb[i], sizeof sa[i]) == 0);
        }
    }
#undef RND
    mn_scratch_free(s);
    mn__tagger_free(t);
}

TEST(warm_tagging_does_not_allocate)
{
    mn_tagged_corpus *tr = load("ner.train.txt");
    ASSERT(tr != NULL);
    mn_model *m = train(tr, 1, 2);
    ASSERT(m != NULL);
    mn_scratch *s = NULL;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    const char *text = "John works for the Red Cross in New York and visited Paris today .";
    mn_tagged t[32];
    mn_entity e[8];
    size_t n;
    ASSERT_EQ(mn_model_tag(m, s, text, strlen(text), t, 32, &n), 0);
    ASSERT_EQ(mn_model_entities(m, s, text, strlen(text), e, 8, &n), 0);
    mn_alloc_fail_after(1);
    int rc1 = mn_model_tag(m, s, text, strlen(text), t, 32, &n);
    int rc2 = mn_model_entities(m, s, text, 20, e, 8, &n);
    mn_alloc_fail_after(0);
    ASSERT_EQ(rc1, 0);
    ASSERT_EQ(rc2, 0);
    /* a cold scratch reports the failure */
    mn_scratch *cold = NULL;
    ASSERT_EQ(mn_scratch_new(&cold), 0);
    mn_alloc_fail_after(1);
    int rc3 = mn_model_tag(m, cold, text, strlen(text), t, 32, &n);
    mn_alloc_fail_after(0);
    ASSERT_EQ(rc3, MN_ENOMEM);
    /* argument checks */
    ASSERT_EQ(mn_model_tag(NULL, s, text, 1, t, 32, &n), MN_EINVAL);
    ASSERT_EQ(mn_model_tag(m, s, NULL, 1, t, 32, &n), MN_EINVAL);
    ASSERT_EQ(mn_model_tag(m, s, "", 0, NULL, 0, &n), 0);
    ASSERT_EQ(n, 0);
    mn_scratch_free(cold);
    mn_scratch_free(s);
    mn_model_release(m);
    mn_tagged_corpus_free(tr);
}

TEST(training_survives_allocation_failures)
{
    mn_tagged_corpus *tr = load("ner.train.txt"), *va = load("ner.test.txt");
    ASSERT(tr && va);
    mn_tagger_config cfg;
    mn_tagger_config_init(&cfg);
    cfg.epoch = 2;
    cfg.bucket = 1 << 12;
    cfg.valid = va;
    int ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_model *m = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_tagger_train(&cfg, tr, &m, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            mn_model_release(m);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT(m == NULL);
        }
    }
    ASSERT(ok);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(va);
}

TEST(bad_config_is_refused)
{
    mn_tagged_corpus *tr = load("pos.train.txt");
    ASSERT(tr != NULL);
    mn_tagger_config cfg;
    mn_tagger_config_init(&cfg);
    mn_model *m = NULL;
    mn_err err;
    cfg.bucket = 1000;
    ASSERT_EQ(mn_tagger_train(&cfg, tr, &m, &err), MN_EINVAL);
    cfg.bucket = 1024;
    cfg.epoch = 0;
    ASSERT_EQ(mn_tagger_train(&cfg, tr, &m, &err), MN_EINVAL);
    ASSERT_EQ(mn_tagger_train(NULL, tr, &m, &err), MN_EINVAL);
    ASSERT(m == NULL);
    mn_tagged_corpus_free(tr);
}

TEST(small_size_budget_prunes)
{
    mn_tagged_corpus *tr = load("pos.train.txt"), *te = load("pos.test.txt");
    ASSERT(tr && te);
    mn_tagger_config cfg;
    mn_tagger_config_init(&cfg);
    cfg.epoch = 3;
    cfg.bucket = 1 << 16;
    cfg.tagdict_min_count = 0; /* every word scored: weights only */
    mn_model *big = NULL, *small = NULL;
    mn_err err;
    ASSERT_EQ(mn_tagger_train(&cfg, tr, &big, &err), 0);
    cfg.max_size_bytes = 16384 + 2048 * 4 + 64 * 8 * 2;
    ASSERT_EQ(mn_tagger_train(&cfg, tr, &small, &err), 0);
    const mn_tagger *b = (const mn_tagger *)big, *s = (const mn_tagger *)small;
    ASSERT(s->p.nentries < b->p.nentries);
    ASSERT(s->p.nentries <= 2048 + 256);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mn-tagger-small-%d.mnlp", (int)getpid());
    ASSERT_EQ(mn_model_save(small, path, &err), 0);
    mn_model *back = NULL;
    ASSERT_EQ(mn_model_open(path, &back, &err), 0);
    unlink(path);
    ASSERT(mn_model_size_bytes(back) <= cfg.max_size_bytes);
    mn_tag_eval_result r;
    ASSERT_EQ(mn_tagger_eval(back, te, &r, &err), 0);
    ASSERT(r.accuracy >= 0.8);
    mn_tag_eval_result_deinit(&r);
    mn_model_release(back);
    mn_model_release(big);
    mn_model_release(small);
    mn_tagged_corpus_free(tr);
    mn_tagged_corpus_free(te);
}

TEST_MAIN(TEST_ENTRY(pos_learns) TEST_ENTRY(ner_learns_and_finds_entities)
              TEST_ENTRY(deterministic_with_a_seed) TEST_ENTRY(save_and_open_tag_the_same)
                  TEST_ENTRY(offsets_are_bytes_of_unicode_text)
                      TEST_ENTRY(bio_chunks_follow_conlleval)
                          TEST_ENTRY(span_scores_match_conlleval)
                              TEST_ENTRY(eval_counts_unknown_gold_tags)
                                  TEST_ENTRY(tagging_matches_the_naive_decoder)
                                      TEST_ENTRY(warm_tagging_does_not_allocate)
                                          TEST_ENTRY(training_survives_allocation_failures)
                                              TEST_ENTRY(bad_config_is_refused)
                                                  TEST_ENTRY(small_size_budget_prunes))
