/* SPDX-License-Identifier: MIT
 *
 * Training the sequence tagger: an averaged structured perceptron (Collins 2002) with greedy
 * left-to-right decoding, as NLTK's and spaCy v1's taggers. Each epoch visits the sentences
 * in a new seeded order; for each token the current weights pick a tag given the tags already
 * picked, and when it is wrong, every feature of the token moves one step towards the gold
 * tag and away from the guess. The model keeps the average of the weights over all steps
 * (Daume's trick: a second accumulator u += step * delta, average = w - u / steps), which
 * generalises much better than the last weights.
 *
 * While training, each hashed feature bucket owns a small growable row of (tag, w, u)
 * entries in one pool, so memory follows the updates actually made rather than buckets x
 * tags (Brown's 472 tags would need gigabytes as a dense table). At the end the averaged
 * weights are quantised to int16 and the smallest are pruned until the file fits
 * max_size_bytes; what is measured on the validation set is the pruned model that ships.
 */
#include "core/clock.h"
#include "micronlp/models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "tagger.h"

/* Entries are split hot and cold: scoring reads only (w, tag); u lives in a parallel array
 * that only updates touch (measured: 25% faster training on Brown than one 12-byte entry). */
typedef struct tw_entry {
    float w;
    uint32_t tag;
} tw_entry;

typedef struct tw_row {
    uint32_t off;
    uint16_t n, cap;
} tw_row;

typedef struct trainer {
    uint32_t ntags, mask;
    mn_tg_dict *dict;
    uint32_t dict_slots;
    tw_row *rows;
    tw_entry *pool;
    float *upool; /* u of pool[i] */
    size_t pool_len, pool_cap;
    double steps;
    float *score;
} trainer;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void mn_tagger_config_init(mn_tagger_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->task = "tagger";
    cfg->epoch = 8;
    cfg->seed = 1;
    cfg->bucket = 1u << 20;
    cfg->max_size_bytes = 4500000;
    cfg->tagdict_min_count = 20;
    cfg->tagdict_ratio = 0.97;
}

/* ---- tag dictionary ------------------------------------------------------------------------ */

typedef struct count_slot {
    uint64_t word;
    uint32_t tag;   /* UINT32_MAX in the totals table */
    uint32_t count; /* 0 = empty */
} count_slot;

static count_slot *count_get(count_slot *t, uint32_t mask, uint64_t word, uint32_t tag)
{
    uint64_t h = mn_hash_combine(word, tag);
    for (uint32_t j = (uint32_t)h & mask;; j = (j + 1) & mask) {
        if (!t[j].count) {
            t[j].word = word;
            t[j].tag = tag;
            return &t[j];
        }
        if (t[j].word == word && t[j].tag == tag) return &t[j];
    }
}

/* Builds the dictionary of frequent unambiguous words; *slots 0 when none qualify. */
static int build_dict(const mn_tagger_config *cfg, const mn_tagged_corpus *c, mn_tg_dict **out,
                      uint32_t *slots_out)
{
    *out = NULL;
    *slots_out = 0;
    if (!cfg->tagdict_min_count) return 0;
    /* distinct (word, tag) pairs and words are each at most ntok: 2 * ntok slots each */
    uint64_t n = 16;
    while (n < (uint64_t)c->ntok * 4)
        n <<= 1;
    if (n > (1u << 30)) return MN_ENOMEM;
    count_slot *t = mn_calloc((size_t)n, sizeof *t);
    if (!t) return MN_ENOMEM;
    uint32_t mask = (uint32_t)n - 1;
    for (size_t i = 0; i < c->ntok; i++) {
        uint64_t w = mn_hash64(c->text + c->tok[i].off, c->tok[i].len);
        count_get(t, mask, w, c->tok[i].tag)->count++;
        count_get(t, mask, w, UINT32_MAX)->count++;
    }
    uint32_t nd = 0;
    for (uint32_t j = 0; j <= mask; j++) {
        if (!t[j].count || t[j].tag == UINT32_MAX) continue;
        uint32_t total = count_get(t, mask, t[j].word, UINT32_MAX)->count;
        if (total >= cfg->tagdict_min_count && t[j].count >= cfg->tagdict_ratio * total) nd++;
    }
    if (!nd) {
        mn_free(t);
        return 0;
    }
    uint32_t slots = 16;
    while (slots < nd * 2 + 1)
        slots <<= 1;
    mn_tg_dict *d = mn_calloc(slots, sizeof *d);
    if (!d) {
        mn_free(t);
        return MN_ENOMEM;
    }
    for (uint32_t j = 0; j <= mask; j++) {
        if (!t[j].count || t[j].tag == UINT32_MAX) continue;
        uint32_t total = count_get(t, mask, t[j].word, UINT32_MAX)->count;
        if (!(total >= cfg->tagdict_min_count && t[j].count >= cfg->tagdict_ratio * total))
            continue;
        uint32_t k = (uint32_t)(t[j].word >> 32) & (slots - 1);
        while (d[k].used)
            k = (k + 1) & (slots - 1);
        d[k] = (mn_tg_dict){t[j].word, t[j].tag, 1};
    }
    mn_free(t);
    *out = d;
    *slots_out = slots;
    return 0;
}

static inline void score_row(const trainer *tr, uint32_t b, float *score)
{
    const tw_row *r = &tr->rows[b];
    const tw_entry *e = tr->pool + r->off;
    for (uint32_t i = 0; i < r->n; i++)
        score[e[i].tag] += e[i].w;
}

static int update(trainer *tr, uint32_t b, uint32_t tag, float d)
{
    tw_row *r = &tr->rows[b];
    tw_entry *e = tr->pool + r->off;
    for (uint32_t i = 0; i < r->n; i++) {
        if (e[i].tag == tag) {
            e[i].w += d;
            tr->upool[r->off + i] += (float)tr->steps * d;
            return 0;
        }
    }
    if (r->n == r->cap) {
        /* Move the row to the end of the pool with twice the room; the old copy is dead. */
        uint32_t nc = r->cap ? (uint32_t)r->cap * 2 : 2;
        if (nc > tr->ntags) nc = tr->ntags;
        if (tr->pool_len + nc > tr->pool_cap) {
            size_t cap = tr->pool_cap ? tr->pool_cap * 2 : 1 << 16;
            while (cap < tr->pool_len + nc)
                cap *= 2;
            if (cap > UINT32_MAX) return MN_ENOMEM;
            tw_entry *np = mn_realloc(tr->pool, cap * sizeof *np);
            if (!np) return MN_ENOMEM;
            tr->pool = np;
            float *nu = mn_realloc(tr->upool, cap * sizeof *nu);
            if (!nu) return MN_ENOMEM;
            tr->upool = nu;
            tr->pool_cap = cap;
        }
        memcpy(tr->pool + tr->pool_len, tr->pool + r->off, r->n * sizeof(tw_entry));
        memcpy(tr->upool + tr->pool_len, tr->upool + r->off, r->n * sizeof(float));
        r->off = (uint32_t)tr->pool_len;
        r->cap = (uint16_t)nc;
        tr->pool_len += nc;
    }
    tr->upool[r->off + r->n] = (float)tr->steps * d;
    tr->pool[r->off + r->n++] = (tw_entry){d, tag};
    return 0;
}

/* ---- turning the averaged weights into a model ------------------------------------------ */

static inline float avg_of(const trainer *tr, size_t i)
{
    return tr->pool[i].w - tr->upool[i] / (float)tr->steps;
}

static uint32_t slots_for(uint64_t rows)
{
    uint64_t s = 16;
    while (s * 3 < rows * 4 + 4) /* load <= 0.75, and at least one empty slot */
        s <<= 1;
    return (uint32_t)s;
}

static int build_model(const trainer *tr, const mn_tagger_config *cfg,
                       const mn_tagged_corpus *train, mn_tagger **out)
{
    float maxabs = 0.0f;
    for (uint32_t b = 0; b <= tr->mask; b++) {
        const tw_row *r = &tr->rows[b];
        for (uint32_t i = 0; i < r->n; i++) {
            float a = fabsf(avg_of(tr, r->off + i));
            if (a > maxabs) maxabs = a;
        }
    }
    if (!(maxabs > 0.0f)) maxabs = 1.0f;
    float scale = maxabs / 32767.0f;
    /* Pruning: histograms of the quantised magnitudes of all entries and of each row's
     * largest, so the smallest threshold that fits the budget is found in one pass. */
    uint64_t *hist_e = mn_calloc(32768 * 2, sizeof *hist_e);
    if (!hist_e) return MN_ENOMEM;
    uint64_t *hist_r = hist_e + 32768;
    for (uint32_t b = 0; b <= tr->mask; b++) {
        const tw_row *r = &tr->rows[b];
        long rmax = 0;
        for (uint32_t i = 0; i < r->n; i++) {
            long q = lroundf(fabsf(avg_of(tr, r->off + i)) / scale);
            if (q > 32767) q = 32767;
            hist_e[q]++;
            if (q > rmax) rmax = q;
        }
        if (r->n) hist_r[rmax]++;
    }
    /* header, section table, labels, metadata (a generous bound), the dictionary */
    size_t overhead = 16384 + (size_t)tr->dict_slots * sizeof(mn_tg_dict);
    for (uint32_t i = 0; i < train->nlabels; i++)
        overhead += strlen(train->labels[i]) + 4;
    /* Keep |q| >= qth: qth = 1 drops only what rounds to zero. */
    long qth = 1;
    uint64_t nr = 0, ne = 0;
    for (long q = 32767; q >= 1; q--) {
        uint64_t r2 = nr + hist_r[q], e2 = ne + hist_e[q];
        if (cfg->max_size_bytes &&
            (uint64_t)slots_for(r2) * 8 + e2 * 4 + overhead > cfg->max_size_bytes) {
            qth = q + 1;
            break;
        }
        nr = r2;
        ne = e2;
    }
    mn_free(hist_e);
    if (ne > UINT32_MAX / 2) return MN_ENOMEM;
    mn_tagger *t = mn__tagger_new();
    if (!t) return MN_ENOMEM;
    uint32_t ns = slots_for(nr);
    t->owned_slots = mn_calloc((size_t)ns * 2, sizeof *t->owned_slots);
    t->owned_entries = mn_malloc((ne ? ne : 1) * sizeof *t->owned_entries);
    int rc = MN_ENOMEM;
    if (!t->owned_slots || !t->owned_entries) goto fail;
    t->p = (mn_tg_params){.feature_version = MN_TAGGER_FEATURES,
                          .ntags = tr->ntags,
                          .bucket_mask = tr->mask,
                          .nrows = (uint32_t)nr,
                          .slot_mask = ns - 1,
                          .nentries = (uint32_t)ne,
                          .scale = scale};
    uint32_t e = 0;
    for (uint32_t b = 0; b <= tr->mask; b++) {
        const tw_row *r = &tr->rows[b];
        uint32_t first = e;
        for (uint32_t i = 0; i < r->n; i++) {
            const tw_entry *x = &tr->pool[r->off + i];
            float a = avg_of(tr, r->off + i);
            long q = lroundf(a / scale);
            if (q > 32767) q = 32767;
            if (q < -32767) q = -32767;
            if (labs(q) < qth) continue;
            t->owned_entries[e++] = (mn_tg_entry){(uint16_t)x->tag, (int16_t)q};
        }
        if (e == first) continue;
        t->owned_entries[e - 1].tag |= 0x8000;
        uint32_t key = b + 1;
        uint32_t j = (key * 2654435761u) & (ns - 1);
        while (t->owned_slots[2 * j])
            j = (j + 1) & (ns - 1);
        t->owned_slots[2 * j] = key;
        t->owned_slots[2 * j + 1] = first;
    }
    t->slots = t->owned_slots;
    t->entries = t->owned_entries;
    if (tr->dict_slots) {
        t->owned_dict = mn_malloc((size_t)tr->dict_slots * sizeof *t->owned_dict);
        if (!t->owned_dict) {
            rc = MN_ENOMEM;
            goto fail;
        }
        memcpy(t->owned_dict, tr->dict, (size_t)tr->dict_slots * sizeof *t->owned_dict);
        t->dict = t->owned_dict;
        t->p.dict_slots = tr->dict_slots;
    }
    if ((rc = mn__model_set_labels(&t->base, train->labels, NULL, train->nlabels)) ||
        (rc = mn__tagger_index_labels(t)))
        goto fail;
    t->base.size_bytes = (size_t)ns * 8 + (size_t)ne * 4 + overhead;
    *out = t;
    return 0;
fail:
    mn__tagger_free(t);
    return rc;
}

static int set_meta_num(mn_model *m, const char *key, double v, const char *fmt)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    return mn__model_meta_set(m, key, buf);
}

static int add_meta(mn_tagger *t, const mn_tagger_config *cfg, const mn_tagged_corpus *train,
                    int epochs, double secs, double valid_acc)
{
    mn_model *m = &t->base;
    char hash[32], created[32];
    /* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the timestamp and leaves the duration
     * out, so rebuilding a shipped model with the same data and seed gives the same bytes. */
    const char *pinned = getenv("SOURCE_DATE_EPOCH");
    time_t now = time(NULL);
    if (pinned && *pinned) {
        char *end;
        long long v = strtoll(pinned, &end, 10);
        if (*end == '\0' && v >= 0) now = (time_t)v;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)train->hash);
    int rc = mn__model_meta_set(m, "task", cfg->task ? cfg->task : "tagger");
    if (!rc) rc = mn__model_meta_set(m, "created", created);
    if (!rc) rc = mn__model_meta_set(m, "algorithm", "averaged perceptron, greedy decoding");
    if (!rc) rc = mn__model_meta_set(m, "train_hash", hash);
    if (!rc) rc = set_meta_num(m, "train_sentences", (double)train->nsent, "%.0f");
    if (!rc) rc = set_meta_num(m, "train_tokens", (double)train->ntok, "%.0f");
    if (!rc) rc = set_meta_num(m, "epoch", epochs, "%.0f");
    if (!rc) rc = set_meta_num(m, "seed", (double)cfg->seed, "%.0f");
    if (!rc) rc = set_meta_num(m, "bucket", (double)t->p.bucket_mask + 1, "%.0f");
    if (!rc) rc = set_meta_num(m, "weights", t->p.nentries, "%.0f");
    if (!rc) rc = set_meta_num(m, "tagdict_min_count", cfg->tagdict_min_count, "%.0f");
    if (!rc && !(pinned && *pinned)) rc = set_meta_num(m, "train_seconds", secs, "%.2f");
    if (!rc && valid_acc >= 0) rc = set_meta_num(m, "valid_accuracy", valid_acc, "%.4f");
    return rc;
}

int mn_tagger_train(const mn_tagger_config *cfg, const mn_tagged_corpus *train, mn_model **out,
                    mn_err *err)
{
    if (!cfg || !train || !out)
        return mn_err_set(err, MN_EINVAL, "training needs a configuration and data");
    if (cfg->epoch < 1 || cfg->bucket < 16 || (cfg->bucket & (cfg->bucket - 1)))
        return mn_err_set(err, MN_EINVAL, "epoch must be >= 1 and bucket a power of two >= 16");
    if (train->ntok == 0) return mn_err_set(err, MN_EEMPTY, "no training tokens");
    if (train->nlabels > 0x7fff)
        return mn_err_set(err, MN_EINVAL, "%u tags: at most 32767 are supported", train->nlabels);
    double t0 = mn__now_sec();
    trainer tr = {.ntags = train->nlabels, .mask = cfg->bucket - 1, .steps = 1.0};
    size_t maxlen = 0, maxbytes = 0;
    for (size_t s = 0; s < train->nsent; s++) {
        size_t n = train->sent[s + 1] - train->sent[s], bytes = 0;
        for (size_t i = train->sent[s]; i < train->sent[s + 1]; i++)
            bytes += 4 * train->tok[i].len + 16;
        if (n > maxlen) maxlen = n;
        if (bytes > maxbytes) maxbytes = bytes;
    }
    maxbytes += 64;
    const char **words = mn_malloc(maxlen * sizeof *words);
    size_t *lens = mn_malloc(maxlen * sizeof *lens);
    char *buf = mn_malloc(maxbytes);
    void *info = mn_malloc(mn__tagger_info_bytes(maxlen));
    uint32_t *feats = mn_malloc(maxlen * MN_TAGGER_NSTATIC * sizeof *feats);
    size_t *order = mn_malloc(train->nsent * sizeof *order);
    tr.score = mn_malloc(tr.ntags * sizeof *tr.score);
    tr.rows = mn_calloc((size_t)cfg->bucket, sizeof *tr.rows);
    mn_tagger *best = NULL;
    double best_acc = -1.0;
    int best_epoch = 0;
    int rc = MN_ENOMEM;
    if (!words || !lens || !buf || !info || !feats || !order || !tr.score || !tr.rows) {
        mn_err_set(err, rc, "out of memory");
        goto done;
    }
    if ((rc = build_dict(cfg, train, &tr.dict, &tr.dict_slots))) {
        mn_err_set(err, rc, "out of memory");
        goto done;
    }
    for (size_t s = 0; s < train->nsent; s++)
        order[s] = s;
    uint64_t rng = cfg->seed;
    double last_report = t0;
    size_t total = train->ntok * (size_t)cfg->epoch, done_tokens = 0;
    int epochs_run = 0;
    for (int ep = 0; ep < cfg->epoch; ep++) {
        for (size_t s = train->nsent; s > 1; s--) {
            size_t j = (size_t)(splitmix(&rng) % s);
            size_t x = order[s - 1];
            order[s - 1] = order[j];
            order[j] = x;
        }
        uint64_t wrong = 0, seen = 0;
        int cancelled = 0;
        for (size_t si = 0; si < train->nsent; si++) {
            if (cfg->cancel && *cfg->cancel) {
                cancelled = 1;
                break;
            }
            size_t s = order[si], first = train->sent[s], n = train->sent[s + 1] - first;
            for (size_t i = 0; i < n; i++) {
                words[i] = train->text + train->tok[first + i].off;
                lens[i] = train->tok[first + i].len;
            }
            mn__tagger_static(words, lens, n, tr.mask, buf, maxbytes, feats, info);
            for (size_t i = 0; i < n && i < 2; i++)
                for (int k = 0; k < MN_TAGGER_NSTATIC; k++)
                    MN_PREFETCH(&tr.rows[feats[i * MN_TAGGER_NSTATIC + k]]);
            uint32_t p1 = tr.ntags, p2 = tr.ntags;
            for (size_t i = 0; i < n; i++) {
                /* The rows are scattered over a table larger than the caches: fetch the row
                 * heads two tokens ahead and their entries one token ahead. */
                if (i + 2 < n)
                    for (int k = 0; k < MN_TAGGER_NSTATIC; k++)
                        MN_PREFETCH(&tr.rows[feats[(i + 2) * MN_TAGGER_NSTATIC + k]]);
                if (i + 1 < n)
                    for (int k = 0; k < MN_TAGGER_NSTATIC; k++)
                        MN_PREFETCH(tr.pool + tr.rows[feats[(i + 1) * MN_TAGGER_NSTATIC + k]].off);
                int64_t known =
                    mn__tg_dict_find(tr.dict, tr.dict_slots, mn__tagger_info_word(info, i));
                if (known >= 0) {
                    p2 = p1;
                    p1 = (uint32_t)known;
                    continue;
                }
                uint32_t all[MN_TAGGER_NSTATIC + MN_TAGGER_NDYN];
                memcpy(all, feats + i * MN_TAGGER_NSTATIC, sizeof(uint32_t) * MN_TAGGER_NSTATIC);
                mn__tagger_dynamic(p1, p2, mn__tagger_info_lower(info, i), tr.mask,
                                   all + MN_TAGGER_NSTATIC);
                memset(tr.score, 0, tr.ntags * sizeof *tr.score);
                for (int k = 0; k < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; k++)
                    score_row(&tr, all[k], tr.score);
                uint32_t guess = 0;
                for (uint32_t j = 1; j < tr.ntags; j++)
                    if (tr.score[j] > tr.score[guess]) guess = j;
                uint32_t gold = train->tok[first + i].tag;
                if (guess != gold) {
                    wrong++;
                    for (int k = 0; k < MN_TAGGER_NSTATIC + MN_TAGGER_NDYN; k++) {
                        if (update(&tr, all[k], gold, 1.0f) || update(&tr, all[k], guess, -1.0f)) {
                            mn_err_set(err, MN_ENOMEM, "out of memory");
                            goto done;
                        }
                    }
                }
                tr.steps += 1.0;
                p2 = p1;
                p1 = guess;
            }
            seen += n;
            done_tokens += n;
            if (cfg->on_progress && (si & 255) == 0) {
                double t = mn__now_sec();
                if (t - last_report >= 0.1) {
                    last_report = t;
                    double el = t - t0, prog = (double)done_tokens / (double)total;
                    mn_train_progress p = {.progress = prog,
                                           .words_per_sec_thread = done_tokens / (el > 0 ? el : 1),
                                           .lr = 1.0,
                                           .loss = seen ? (double)wrong / (double)seen : 0.0,
                                           .eta_sec = prog > 0 ? el / prog - el : 0.0,
                                           .elapsed_sec = el};
                    cfg->on_progress(&p, cfg->progress_ctx);
                }
            }
        }
        epochs_run = ep + 1;
        if (cfg->valid || ep + 1 == cfg->epoch || cancelled) {
            mn_tagger *m = NULL;
            if ((rc = build_model(&tr, cfg, train, &m))) {
                mn_err_set(err, rc, "out of memory");
                goto done;
            }
            double acc = -1.0;
            if (cfg->valid) {
                mn_tag_eval_result r;
                if ((rc = mn_tagger_eval(&m->base, cfg->valid, &r, err))) {
                    mn__tagger_free(m);
                    goto done;
                }
                acc = r.entities ? r.all.f1 : r.accuracy;
                mn_tag_eval_result_deinit(&r);
            }
            if (!best || acc > best_acc) {
                mn__tagger_free(best);
                best = m;
                best_acc = acc;
                best_epoch = ep + 1;
            } else {
                mn__tagger_free(m);
            }
        }
        if (cancelled) break;
    }
    if (cfg->on_progress) {
        double el = mn__now_sec() - t0;
        mn_train_progress p = {.progress = 1.0,
                               .words_per_sec_thread = done_tokens / (el > 0 ? el : 1),
                               .lr = 1.0,
                               .elapsed_sec = el};
        cfg->on_progress(&p, cfg->progress_ctx);
    }
    (void)epochs_run;
    if ((rc = add_meta(best, cfg, train, best_epoch, mn__now_sec() - t0, best_acc))) {
        mn_err_set(err, rc, "out of memory");
        goto done;
    }
    *out = &best->base;
    best = NULL;
    rc = 0;
done:
    mn__tagger_free(best);
    mn_free(words);
    mn_free(lens);
    mn_free(buf);
    mn_free(info);
    mn_free(feats);
    mn_free(order);
    mn_free(tr.score);
    mn_free(tr.rows);
    mn_free(tr.pool);
    mn_free(tr.upool);
    mn_free(tr.dict);
    return rc;
}
