/* SPDX-License-Identifier: MIT
 *
 * Tagged corpora: the Brown/NLTK "word/tag" format and CoNLL-style columns, read whole into
 * memory as sentences of (word span, tag index), for training and evaluating taggers. Entity
 * schemes (IO, BIO, BIOES, BILOU) are converted to BIO on load so every model and every
 * scorer sees one scheme. Malformed input stops the load with "path:line: reason".
 */
#include "micronlp/models.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "micronlp/alloc.h"
#include "micronlp/text.h"
#include "tagger.h"

/* ---- BIO helpers (shared with the tagger and the scorer) ----------------------------------- */

int mn__bio_parse(const char *tag, const char **type, size_t *type_len)
{
    if (tag[0] == 'O' && tag[1] == '\0') return MN_BIO_O;
    if ((tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-' && tag[2] != '\0') {
        *type = tag + 2;
        *type_len = strlen(tag + 2);
        return tag[0] == 'B' ? MN_BIO_B : MN_BIO_I;
    }
    return MN_BIO_OTHER;
}

size_t mn__bio_chunks(const uint32_t *tags, size_t n, const uint8_t *kind, const uint32_t *type,
                      mn_chunk *out, size_t cap)
{
    size_t count = 0;
    int open = 0;
    mn_chunk cur = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int k = kind[tags[i]];
        uint32_t t = type[tags[i]];
        /* conlleval: B always starts; I continues only a span of the same type. */
        int starts = k == MN_BIO_B || (k == MN_BIO_I && (!open || cur.type != t));
        int continues = k == MN_BIO_I && open && cur.type == t;
        if (open && !continues) {
            if (count < cap) out[count] = cur;
            count++;
            open = 0;
        }
        if (starts) {
            cur = (mn_chunk){(uint32_t)i, 1, t};
            open = 1;
        } else if (continues) {
            cur.count++;
        }
    }
    if (open) {
        if (count < cap) out[count] = cur;
        count++;
    }
    return count;
}

/* ---- label table ------------------------------------------------------------------------------
 */

typedef struct label_table {
    char **names;
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    uint32_t mask;
} label_table;

static void table_free(label_table *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        mn_free(t->names[i]);
    mn_free(t->names);
    mn_free(t->slots);
    memset(t, 0, sizeof *t);
}

/* Index of name, added if new. Returns -1 on out of memory. */
static int64_t table_get(label_table *t, const char *s, size_t len)
{
    if (!t->slots || (t->n + 1) * 2 > t->mask + 1) {
        uint32_t nc = t->slots ? (t->mask + 1) * 2 : 64;
        uint32_t *ns = mn_calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (uint32_t i = 0; i < t->n; i++) {
            uint32_t j = (uint32_t)mn_hash64(t->names[i], strlen(t->names[i])) & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = i + 1;
        }
        mn_free(t->slots);
        t->slots = ns;
        t->mask = nc - 1;
    }
    uint32_t j = (uint32_t)mn_hash64(s, len) & t->mask;
    for (; t->slots[j]; j = (j + 1) & t->mask) {
        const char *nm = t->names[t->slots[j] - 1];
        if (strlen(nm) == len && memcmp(nm, s, len) == 0) return t->slots[j] - 1;
    }
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 16;
        char **nn = mn_realloc(t->names, nc * sizeof *nn);
        if (!nn) return -1;
        t->names = nn;
        t->cap = nc;
    }
    char *copy = mn_strndup(s, len);
    if (!copy) return -1;
    t->names[t->n] = copy;
    t->slots[j] = t->n + 1;
    return t->n++;
}

/* ---- parsing ----------------------------------------------------------------------------------
 */

typedef struct parser {
    mn_tagged_corpus *c;
    label_table labels;
    size_t tok_cap, sent_cap;
    size_t sent_start; /* first token of the open sentence */
    const char *name;
    unsigned flags;
} parser;

static int push_token(parser *p, uint32_t off, uint32_t len, uint32_t tag)
{
    mn_tagged_corpus *c = p->c;
    if (c->ntok == p->tok_cap) {
        size_t nc = p->tok_cap ? p->tok_cap * 2 : 1024;
        mn_ctoken *nt = mn_realloc(c->tok, nc * sizeof *nt);
        if (!nt) return MN_ENOMEM;
        c->tok = nt;
        p->tok_cap = nc;
    }
    c->tok[c->ntok++] = (mn_ctoken){off, len, tag};
    return 0;
}

static int end_sentence(parser *p)
{
    mn_tagged_corpus *c = p->c;
    if (c->ntok == p->sent_start) return 0;
    if (c->nsent + 2 > p->sent_cap) {
        size_t nc = p->sent_cap ? p->sent_cap * 2 : 256;
        size_t *ns = mn_realloc(c->sent, nc * sizeof *ns);
        if (!ns) return MN_ENOMEM;
        c->sent = ns;
        p->sent_cap = nc;
    }
    c->sent[c->nsent++] = p->sent_start;
    c->sent[c->nsent] = c->ntok;
    p->sent_start = c->ntok;
    return 0;
}

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Brown tags lose -tl/-hl/-nc suffixes (repeatedly: "nn-tl-hl") and the fw- prefix. */
static void simplify(const char **tag, size_t *len)
{
    const char *t = *tag;
    size_t n = *len;
    if (n > 3 && memcmp(t, "fw-", 3) == 0) {
        t += 3;
        n -= 3;
    }
    while (n > 3 && (memcmp(t + n - 3, "-tl", 3) == 0 || memcmp(t + n - 3, "-hl", 3) == 0 ||
                     memcmp(t + n - 3, "-nc", 3) == 0))
        n -= 3;
    *tag = t;
    *len = n;
}

static int add_pair(parser *p, mn_err *err, unsigned long lineno, const char *base, const char *w,
                    size_t wl, const char *t, size_t tl)
{
    if (p->flags & MN_TAGS_SIMPLIFY) simplify(&t, &tl);
    int64_t tag = table_get(&p->labels, t, tl);
    if (tag < 0 || push_token(p, (uint32_t)(w - base), (uint32_t)wl, (uint32_t)tag))
        return mn_err_set(err, MN_ENOMEM, "%s:%lu: out of memory", p->name, lineno);
    if (p->c->ntok - p->sent_start > MN_TAGGER_MAX_SENTENCE)
        return mn_err_set(err, MN_ETOOBIG, "%s:%lu: sentence has more than %d tokens", p->name,
                          lineno, MN_TAGGER_MAX_SENTENCE);
    return 0;
}

static int parse_brown_line(parser *p, const char *base, const char *s, const char *end,
                            unsigned long lineno, mn_err *err)
{
    while (s < end) {
        while (s < end && is_ws(*s))
            s++;
        const char *f = s;
        while (s < end && !is_ws(*s))
            s++;
        if (f == s) break;
        const char *slash = s - 1;
        while (slash >= f && *slash != '/')
            slash--;
        if (slash < f)
            return mn_err_set(err, MN_EFORMAT, "%s:%lu: token '%.*s' has no /tag", p->name, lineno,
                              (int)(s - f > 40 ? 40 : s - f), f);
        if (slash == f || slash == s - 1)
            return mn_err_set(err, MN_EFORMAT, "%s:%lu: token '%.*s' has an empty %s", p->name,
                              lineno, (int)(s - f > 40 ? 40 : s - f), f,
                              slash == f ? "word" : "tag");
        int rc = add_pair(p, err, lineno, base, f, (size_t)(slash - f), slash + 1,
                          (size_t)(s - slash - 1));
        if (rc) return rc;
    }
    if (end_sentence(p))
        return mn_err_set(err, MN_ENOMEM, "%s:%lu: out of memory", p->name, lineno);
    return 0;
}

static int parse_conll_line(parser *p, const char *base, const char *s, const char *end,
                            unsigned long lineno, mn_err *err)
{
    /* Fields are separated by TABs when the line has one (tokens may then hold spaces), else
     * by runs of spaces; the token is the first field, the label the last. */
    int tab = memchr(s, '\t', (size_t)(end - s)) != NULL;
    const char *f0 = NULL, *f0e = NULL, *fl = NULL, *fle = NULL;
    int nfields = 0;
    const char *q = s;
    while (q < end) {
        const char *f = q;
        while (q < end && (tab ? *q != '\t' : !is_ws(*q)))
            q++;
        const char *fe = q;
        while (f < fe && is_ws(*f))
            f++;
        while (fe > f && is_ws(fe[-1]))
            fe--;
        if (fe > f) {
            if (!nfields++) {
                f0 = f;
                f0e = fe;
            }
            fl = f;
            fle = fe;
        }
        if (q < end) q++;
    }
    if (nfields >= 1 && f0e - f0 == 10 && memcmp(f0, "-DOCSTART-", 10) == 0) {
        if (end_sentence(p))
            return mn_err_set(err, MN_ENOMEM, "%s:%lu: out of memory", p->name, lineno);
        return 0;
    }
    if (nfields < 2)
        return mn_err_set(err, MN_EFORMAT,
                          "%s:%lu: expected 'token<TAB>label' or 'token label', got one field",
                          p->name, lineno);
    return add_pair(p, err, lineno, base, f0, (size_t)(f0e - f0), fl, (size_t)(fle - fl));
}

/* AUTO: the first line with content decides. */
static mn_tag_format detect(const char *s, size_t len)
{
    const char *end = s + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *q = s;
        while (q < le && is_ws(*q))
            q++;
        if (q < le && !(le - q >= 10 && memcmp(q, "-DOCSTART-", 10) == 0)) {
            if (memchr(q, '\t', (size_t)(le - q))) return MN_TAG_FORMAT_CONLL;
            /* every field holds a '/' -> Brown */
            while (q < le) {
                while (q < le && is_ws(*q))
                    q++;
                const char *f = q;
                int slash = 0;
                while (q < le && !is_ws(*q))
                    slash |= *q++ == '/';
                if (q > f && !slash) return MN_TAG_FORMAT_CONLL;
            }
            return MN_TAG_FORMAT_BROWN;
        }
        s = le + 1;
    }
    return MN_TAG_FORMAT_CONLL;
}

/* Entity schemes to BIO: applies when every label is O or P-TYPE with P in BIESUL. */
static int convert_bio(parser *p, mn_err *err)
{
    mn_tagged_corpus *c = p->c;
    label_table *in = &p->labels;
    for (uint32_t i = 0; i < in->n; i++) {
        const char *l = in->names[i];
        if (strcmp(l, "O") == 0) continue;
        if (!(strchr("BIESUL", l[0]) && l[0] && l[1] == '-' && l[2]))
            return 0; /* not an entity corpus: keep labels */
    }
    label_table out = {0};
    uint32_t *map_b = mn_malloc((in->n ? in->n : 1) * sizeof *map_b);
    uint32_t *map_i = mn_malloc((in->n ? in->n : 1) * sizeof *map_i);
    char *buf = NULL;
    int rc = MN_ENOMEM;
    if (!map_b || !map_i) goto done;
    /* "O" first when present keeps tag 0 = outside in every entity model. */
    if (table_get(&out, "O", 1) < 0) goto done;
    for (uint32_t i = 0; i < in->n; i++) {
        const char *l = in->names[i];
        if (strcmp(l, "O") == 0) {
            map_b[i] = map_i[i] = 0;
            continue;
        }
        size_t tl = strlen(l + 2);
        char *nb = mn_realloc(buf, tl + 3);
        if (!nb) goto done;
        buf = nb;
        memcpy(buf + 2, l + 2, tl + 1);
        buf[1] = '-';
        buf[0] = 'B';
        int64_t b = table_get(&out, buf, tl + 2);
        buf[0] = 'I';
        int64_t ii = table_get(&out, buf, tl + 2);
        if (b < 0 || ii < 0) goto done;
        map_b[i] = (uint32_t)b;
        map_i[i] = (uint32_t)ii;
    }
    for (size_t s = 0; s < c->nsent; s++) {
        uint32_t prev_in = UINT32_MAX; /* raw label of the previous token */
        for (size_t t = c->sent[s]; t < c->sent[s + 1]; t++) {
            uint32_t raw = c->tok[t].tag;
            const char *l = in->names[raw];
            uint32_t nt;
            if (strcmp(l, "O") == 0) {
                nt = 0;
            } else if (l[0] == 'B' || l[0] == 'S' || l[0] == 'U') {
                nt = map_b[raw];
            } else {
                /* I/E/L: continue when the previous token has the same type and is not O. */
                int cont = prev_in != UINT32_MAX && map_i[prev_in] == map_i[raw] &&
                           strcmp(in->names[prev_in], "O") != 0;
                nt = cont ? map_i[raw] : map_b[raw];
            }
            prev_in = raw;
            /* after E/S/L/U the span is closed: a following I must start again */
            if (l[0] == 'E' || l[0] == 'S' || l[0] == 'L' || l[0] == 'U') prev_in = UINT32_MAX;
            c->tok[t].tag = nt;
        }
    }
    table_free(in);
    *in = out;
    memset(&out, 0, sizeof out);
    rc = 0;
done:
    table_free(&out);
    mn_free(buf);
    mn_free(map_b);
    mn_free(map_i);
    return rc ? mn_err_set(err, rc, "%s: out of memory", p->name) : 0;
}

void mn_tagged_corpus_free(mn_tagged_corpus *c)
{
    if (!c) return;
    for (uint32_t i = 0; i < c->nlabels; i++)
        mn_free(c->labels[i]);
    mn_free(c->labels);
    mn_free(c->text);
    mn_free(c->tok);
    mn_free(c->sent);
    mn_free(c);
}

static int parse_owned(char *text, size_t len, const char *name, mn_tag_format fmt, unsigned flags,
                       mn_tagged_corpus **out, mn_err *err)
{
    parser p = {.name = name, .flags = flags};
    int rc;
    mn_tagged_corpus *c = mn_calloc(1, sizeof *c);
    if (!c) {
        mn_free(text);
        return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    }
    p.c = c;
    c->text = text;
    c->text_len = len;
    c->hash = mn_hash64(text, len);
    if (len > UINT32_MAX) {
        rc = mn_err_set(err, MN_ETOOBIG, "%s: larger than 4 GiB", name);
        goto fail;
    }
    if (fmt == MN_TAG_FORMAT_AUTO) fmt = detect(text, len);
    if (fmt != MN_TAG_FORMAT_BROWN && fmt != MN_TAG_FORMAT_CONLL) {
        rc = mn_err_set(err, MN_EINVAL, "%s: unknown format %d", name, (int)fmt);
        goto fail;
    }
    const char *s = text, *end = text + len;
    unsigned long lineno = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        lineno++;
        size_t bad;
        if (mn_utf8_validate(s, (size_t)(le - s), &bad) != 0) {
            rc = mn_err_set(err, MN_EUTF8, "%s:%lu: invalid UTF-8 at byte %zu", name, lineno,
                            bad + 1);
            goto fail;
        }
        const char *q = s;
        while (q < le && is_ws(*q))
            q++;
        if (q == le) {
            rc = end_sentence(&p) ? mn_err_set(err, MN_ENOMEM, "%s: out of memory", name) : 0;
        } else if (fmt == MN_TAG_FORMAT_BROWN) {
            rc = parse_brown_line(&p, text, q, le, lineno, err);
        } else {
            rc = parse_conll_line(&p, text, s, le, lineno, err);
        }
        if (rc) goto fail;
        s = le + 1;
    }
    if (end_sentence(&p)) {
        rc = mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    if (c->ntok == 0) {
        rc = mn_err_set(err, MN_EEMPTY, "%s: no tagged tokens", name);
        goto fail;
    }
    if (fmt == MN_TAG_FORMAT_CONLL && !(flags & MN_TAGS_KEEP_SCHEME) && (rc = convert_bio(&p, err)))
        goto fail;
    c->labels = p.labels.names;
    c->nlabels = p.labels.n;
    mn_free(p.labels.slots);
    *out = c;
    return 0;
fail:
    table_free(&p.labels);
    mn_tagged_corpus_free(c);
    return rc;
}

int mn_tagged_corpus_parse(const char *data, size_t len, const char *name, mn_tag_format fmt,
                           unsigned flags, mn_tagged_corpus **out, mn_err *err)
{
    if (!out || (!data && len)) return mn_err_set(err, MN_EINVAL, "no data");
    if (!name) name = "<memory>";
    char *copy = mn_malloc(len + 1);
    if (!copy) return mn_err_set(err, MN_ENOMEM, "%s: out of memory", name);
    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
    return parse_owned(copy, len, name, fmt, flags, out, err);
}

int mn_tagged_corpus_load(const char *path, mn_tag_format fmt, unsigned flags,
                          mn_tagged_corpus **out, mn_err *err)
{
    if (!path || !out) return mn_err_set(err, MN_EINVAL, "no path");
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            size_t nc = cap ? cap * 2 : 1 << 20;
            char *nb = mn_realloc(buf, nc + 1);
            if (!nb) {
                mn_free(buf);
                fclose(f);
                return mn_err_set(err, MN_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        mn_free(buf);
        return mn_err_set(err, MN_ERRNO(e ? e : EIO), "%s: read error", path);
    }
    buf[len] = '\0';
    return parse_owned(buf, len, path, fmt, flags, out, err);
}

size_t mn_tagged_corpus_sentence_count(const mn_tagged_corpus *c)
{
    return c ? c->nsent : 0;
}

size_t mn_tagged_corpus_token_count(const mn_tagged_corpus *c)
{
    return c ? c->ntok : 0;
}

uint32_t mn_tagged_corpus_label_count(const mn_tagged_corpus *c)
{
    return c ? c->nlabels : 0;
}

const char *mn_tagged_corpus_label(const mn_tagged_corpus *c, uint32_t i)
{
    return c && i < c->nlabels ? c->labels[i] : NULL;
}

size_t mn_tagged_corpus_sentence_len(const mn_tagged_corpus *c, size_t i)
{
    return c && i < c->nsent ? c->sent[i + 1] - c->sent[i] : 0;
}

void mn_tagged_corpus_token(const mn_tagged_corpus *c, size_t i, size_t j, const char **word,
                            size_t *len, uint32_t *tag)
{
    const mn_ctoken *t = &c->tok[c->sent[i] + j];
    if (word) *word = c->text + t->off;
    if (len) *len = t->len;
    if (tag) *tag = t->tag;
}

uint64_t mn_tagged_corpus_hash(const mn_tagged_corpus *c)
{
    return c ? c->hash : 0;
}

int mn_tagged_corpus_save(const mn_tagged_corpus *c, const char *path, mn_tag_format fmt,
                          mn_err *err)
{
    if (!c || !path || (fmt != MN_TAG_FORMAT_BROWN && fmt != MN_TAG_FORMAT_CONLL))
        return mn_err_set(err, MN_EINVAL, "save needs a corpus, a path and BROWN or CONLL");
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        return mn_err_set(err, MN_ERRNO(e), "%s: %s", path, strerror(e));
    }
    for (size_t s = 0; s < c->nsent; s++) {
        for (size_t t = c->sent[s]; t < c->sent[s + 1]; t++) {
            const mn_ctoken *k = &c->tok[t];
            if (fmt == MN_TAG_FORMAT_BROWN)
                fprintf(f, "%s%.*s/%s", t > c->sent[s] ? " " : "", (int)k->len, c->text + k->off,
                        c->labels[k->tag]);
            else
                fprintf(f, "%.*s\t%s\n", (int)k->len, c->text + k->off, c->labels[k->tag]);
        }
        fputc('\n', f);
        if (fmt == MN_TAG_FORMAT_BROWN && s + 1 < c->nsent) fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        int e = errno ? errno : EIO;
        return mn_err_set(err, MN_ERRNO(e), "%s: write error", path);
    }
    return 0;
}
