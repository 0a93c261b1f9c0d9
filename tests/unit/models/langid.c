/* SPDX-License-Identifier: MIT
 *
 * Tests for src/models/langid.c: the script table (sorted, and table-driven code point and text
 * cases), a tiny language identifier trained here from inline lines in four scripts, script
 * narrowing, und for texts without letters, the und threshold rule, save/open round trip,
 * refusal of a damaged file, quantisation, warm prediction without allocation, and allocation
 * failures in training and loading.
 */
#include "../../../src/models/langid.c"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "micronlp/alloc.h"
#include "test.h"
#include "model_checks.h"

/* English, German and Swedish share Latin (the classifier decides), Russian and Ukrainian
 * share Cyrillic, Greek and Korean are alone in their scripts. */
static const char *const train_lines[] = {
    "__label__eng all human beings are born free and equal in dignity and rights",
    "__label__eng they are endowed with reason and conscience and should act",
    "__label__eng everyone has the right to life liberty and security of person",
    "__label__eng no one shall be held in slavery or servitude",
    "__label__eng everyone has the right to freedom of thought and of religion",
    "__label__eng the will of the people shall be the basis of the authority",
    "__label__deu alle menschen sind frei und gleich an würde und rechten geboren",
    "__label__deu sie sind mit vernunft und gewissen begabt und sollen einander",
    "__label__deu jeder hat das recht auf leben freiheit und sicherheit der person",
    "__label__deu niemand darf in sklaverei oder leibeigenschaft gehalten werden",
    "__label__deu jeder hat das recht auf gedanken gewissens und religionsfreiheit",
    "__label__deu der wille des volkes bildet die grundlage für die autorität",
    "__label__swe alla människor är födda fria och lika i värde och rättigheter",
    "__label__swe de har utrustats med förnuft och samvete och bör handla",
    "__label__swe var och en har rätt till liv frihet och personlig säkerhet",
    "__label__swe ingen får hållas i slaveri eller träldom",
    "__label__swe var och en har rätt till tankefrihet samvetsfrihet och religionsfrihet",
    "__label__swe folkets vilja skall utgöra grundvalen för statsmakten",
    "__label__rus все люди рождаются свободными и равными в своем достоинстве и правах",
    "__label__rus они наделены разумом и совестью и должны поступать",
    "__label__rus каждый человек имеет право на жизнь на свободу и на личную",
    "__label__rus никто не должен содержаться в рабстве или в подневольном",
    "__label__ukr всі люди народжуються вільними і рівними у своїй гідності та правах",
    "__label__ukr вони наділені розумом і совістю і повинні діяти",
    "__label__ukr кожна людина має право на життя на свободу і на особисту",
    "__label__ukr ніхто не повинен бути в рабстві або в підневільному стані",
    "__label__ell όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια",
    "__label__ell είναι προικισμένοι με λογική και συνείδηση",
    "__label__kor 모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다",
    "__label__kor 인간은 천부적으로 이성과 양심을 부여받았으며",
};

static const char *write_train(void)
{
    const char *path = mn_test_tmp_path("train.txt");
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    for (size_t i = 0; i < sizeof train_lines / sizeof train_lines[0]; i++)
        fprintf(f, "%s\n", train_lines[i]);
    fclose(f);
    return path;
}

static mn_dataset *load_train(void)
{
    mn_dataset *d = NULL;
    mn_err err;
    if (mn_dataset_load(write_train(), MN_DATA_AUTO, NULL, &d, &err) != 0) {
        fprintf(stderr, "load: %s\n", err.msg);
        return NULL;
    }
    return d;
}

static void tiny_config(mn_langid_config *cfg)
{
    mn_langid_config_init(cfg);
    cfg->clf.dim = 16;
    cfg->clf.epoch = 100;
    cfg->clf.lr = 1.0;
    cfg->clf.bucket = 20000;
    cfg->clf.minn = 2;
    cfg->clf.maxn = 4;
    cfg->clf.threads = 1;
    cfg->und_threshold = 0.0;
}

static mn_model *train_tiny(void)
{
    mn_dataset *d = load_train();
    if (!d)
        return NULL;
    mn_langid_config cfg;
    tiny_config(&cfg);
    mn_model *m = NULL;
    mn_err err;
    if (mn_langid_train(&cfg, d, NULL, &m, &err) != 0)
        fprintf(stderr, "train: %s\n", err.msg);
    mn_dataset_free(d);
    return m;
}

/* The best answer's label for text, or "(error)". */
static const char *top(const mn_model *m, mn_scratch *s, const char *text, float *prob)
{
    mn_prediction p[4];
    size_t n = 0;
    if (mn_model_predict(m, s, text, strlen(text), 4, 0.0f, p, &n) != 0 || n == 0)
        return "(error)";
    if (prob)
        *prob = p[0].prob;
    return mn_model_label(m, p[0].label);
}

TEST(script_table_is_sorted_and_disjoint)
{
    for (size_t i = 0; i < NRANGES; i++) {
        ASSERT(script_ranges[i].lo <= script_ranges[i].hi);
        if (i > 0)
            ASSERT(script_ranges[i - 1].hi < script_ranges[i].lo);
        ASSERT(script_ranges[i].script > MN_SCRIPT_NONE);
        ASSERT(script_ranges[i].script < MN_SCRIPT__COUNT);
    }
    ASSERT_STREQ(mn_script_name(MN_SCRIPT_HANGUL), "Hangul");
    ASSERT_STREQ(mn_script_name(-1), "?");
    ASSERT_STREQ(mn_script_name(MN_SCRIPT__COUNT), "?");
}

TEST(script_of_code_points)
{
    static const struct {
        int32_t cp;
        mn_script want;
    } cases[] = {
        {'a', MN_SCRIPT_LATIN},       {'Z', MN_SCRIPT_LATIN},      {'5', MN_SCRIPT_NONE},
        {' ', MN_SCRIPT_NONE},        {'@', MN_SCRIPT_NONE},       {0x00E9, MN_SCRIPT_LATIN},
        {0x00D7, MN_SCRIPT_NONE},     {0x0301, MN_SCRIPT_NONE},    {0x1EA1, MN_SCRIPT_LATIN},
        {0x03B1, MN_SCRIPT_GREEK},    {0x1F00, MN_SCRIPT_GREEK},   {0x0416, MN_SCRIPT_CYRILLIC},
        {0x0562, MN_SCRIPT_ARMENIAN}, {0x05D0, MN_SCRIPT_HEBREW},  {0x0628, MN_SCRIPT_ARABIC},
        {0x0661, MN_SCRIPT_NONE},     {0x06F5, MN_SCRIPT_NONE},    {0x0915, MN_SCRIPT_DEVANAGARI},
        {0x0964, MN_SCRIPT_NONE},     {0x0967, MN_SCRIPT_NONE},    {0x0995, MN_SCRIPT_BENGALI},
        {0x0A15, MN_SCRIPT_GURMUKHI}, {0x0A95, MN_SCRIPT_GUJARATI}, {0x0B15, MN_SCRIPT_ORIYA},
        {0x0B95, MN_SCRIPT_TAMIL},    {0x0C15, MN_SCRIPT_TELUGU},  {0x0C95, MN_SCRIPT_KANNADA},
        {0x0D15, MN_SCRIPT_MALAYALAM}, {0x0D9A, MN_SCRIPT_SINHALA}, {0x0E01, MN_SCRIPT_THAI},
        {0x0E51, MN_SCRIPT_NONE},     {0x0E81, MN_SCRIPT_LAO},     {0x0F40, MN_SCRIPT_TIBETAN},
        {0x1000, MN_SCRIPT_MYANMAR},  {0x10D0, MN_SCRIPT_GEORGIAN}, {0x1200, MN_SCRIPT_ETHIOPIC},
        {0x13A0, MN_SCRIPT_CHEROKEE}, {0x1401, MN_SCRIPT_CANADIAN}, {0x1780, MN_SCRIPT_KHMER},
        {0x17E1, MN_SCRIPT_NONE},     {0x1820, MN_SCRIPT_MONGOLIAN}, {0x3042, MN_SCRIPT_HIRAGANA},
        {0x30A2, MN_SCRIPT_KATAKANA}, {0x3002, MN_SCRIPT_NONE},    {0x4E00, MN_SCRIPT_HAN},
        {0x3005, MN_SCRIPT_HAN},      {0xAC00, MN_SCRIPT_HANGUL},  {0x1100, MN_SCRIPT_HANGUL},
        {0xA000, MN_SCRIPT_YI},       {0x2D30, MN_SCRIPT_TIFINAGH}, {0xA500, MN_SCRIPT_VAI},
        {0x1E900, MN_SCRIPT_ADLAM},   {0x1E950, MN_SCRIPT_NONE},   {0x20000, MN_SCRIPT_HAN},
        {0x1F600, MN_SCRIPT_NONE},    {0xFEFF, MN_SCRIPT_NONE},    {0xFF21, MN_SCRIPT_LATIN},
        {0x10400, MN_SCRIPT_OTHER_LETTER}, {0x10FFFF, MN_SCRIPT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (mn_script_of(cases[i].cp) != cases[i].want)
            MN_FAIL_AT("U+%04X: got %s, want %s", (unsigned)cases[i].cp,
                       mn_script_name(mn_script_of(cases[i].cp)), mn_script_name(cases[i].want));
    }
}

TEST(script_of_texts)
{
    static const struct {
        const char *text;
        mn_script want;
        uint32_t letters; /* letters of the dominant script */
    } cases[] = {
        {"", MN_SCRIPT_NONE, 0},
        {"12345 67.8%", MN_SCRIPT_NONE, 0},
        {"😀👍🏽 🇫🇷", MN_SCRIPT_NONE, 0},
        {"Hello, world!", MN_SCRIPT_LATIN, 10},
        {"Привет, мир", MN_SCRIPT_CYRILLIC, 9},
        {"안녕하세요", MN_SCRIPT_HANGUL, 5},
        {"こんにちは世界", MN_SCRIPT_HIRAGANA, 5},
        {"人人生而自由", MN_SCRIPT_HAN, 6},
        {"สวัสดี", MN_SCRIPT_THAI, 6},
        {"Γειά σου κόσμε", MN_SCRIPT_GREEK, 12},
        {"नमस्ते दुनिया", MN_SCRIPT_DEVANAGARI, 12},
        {"مرحبا ١٢٣", MN_SCRIPT_ARABIC, 5},
        {"iPhone для всех", MN_SCRIPT_CYRILLIC, 7},
        {"\xff\xfe abc", MN_SCRIPT_LATIN, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t counts[MN_SCRIPT__COUNT];
        mn_script got = mn_text_script(cases[i].text, strlen(cases[i].text), counts);
        uint32_t letters = 0;
        for (int sc = 1; sc < MN_SCRIPT__COUNT; sc++)
            letters += counts[sc];
        if (got == MN_SCRIPT_NONE)
            counts[got] = letters;
        if (got != cases[i].want || counts[got] != cases[i].letters)
            MN_FAIL_AT("\"%s\": got %s (%u), want %s (%u)", cases[i].text, mn_script_name(got),
                       counts[got], mn_script_name(cases[i].want), cases[i].letters);
    }
    ASSERT_EQ(mn_text_script("abc", 3, NULL), MN_SCRIPT_LATIN);
}

/* count_scripts (16 ASCII bytes at a time, the previous code point's range remembered, two-
 * and three-byte forms decoded inline) against count_scripts_ref, on random texts of pieces
 * from many scripts, ill-formed and truncated sequences included, at every length and offset
 * around the 16-byte steps. */
TEST(script_counts_match_reference)
{
    static const char *pieces[] = {
        "a", "Z", " ", "1", "@", "[", "`", "{", "é", "\xC3\x97", "ß", "ж", "Ж", "α", "ա", "ש",
        "ب", "١", "क", "।", "ก", "ა", "ᄀ", "가", "あ", "ア", "日", "〇", "\xE0\xA4\x95",
        "\xED\x9F\xBF", "\xED\xA0\x80", "\xE0\x80\x80", "\xEF\xBB\xBF", "😀",
        "\xF0\x9E\xA4\x80", "\xCC\x81", "\x80", "\xFF", "\xC2", "\xE2\x82", "\xF0\x9F\x98",
        "\xC1\xBF", "the quick ", "Привет ", "\xF4\x90\x80\x80",
    };
    uint64_t x = 7;
    for (int iter = 0; iter < 20000; iter++) {
        char text[256];
        size_t npieces = (size_t)(mn_test_next(&x) >> 58);
        size_t len = mn_test_join_pieces(&x, pieces, sizeof pieces / sizeof pieces[0], npieces,
                                         text, sizeof text);
        size_t off = (size_t)(x >> 20) % (len + 1);
        uint32_t want[MN_SCRIPT__COUNT] = {0}, got[MN_SCRIPT__COUNT] = {0};
        count_scripts_ref(text + off, len - off, want);
        count_scripts(text + off, len - off, got);
        for (int sc = 0; sc < MN_SCRIPT__COUNT; sc++)
            if (got[sc] != want[sc])
                MN_FAIL_AT("iter %d: %s counted %u, want %u", iter, mn_script_name(sc), got[sc],
                           want[sc]);
    }
}

TEST(tiny_model_identifies_languages)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    ASSERT_EQ(mn_model_kind(m), MN_MODEL_LANGID);
    ASSERT_STREQ(mn_model_type_name(m), "langid");
    ASSERT_EQ(mn_model_label_count(m), 8); /* 7 languages + und */
    ASSERT_STREQ(mn_model_label(m, 7), "und");
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    float p = 0;
    ASSERT_STREQ(top(m, s, "the people have the right to freedom", NULL), "eng");
    ASSERT_STREQ(top(m, s, "die menschen haben das recht auf freiheit", NULL), "deu");
    ASSERT_STREQ(top(m, s, "människor har rätt till frihet och säkerhet", NULL), "swe");
    ASSERT_STREQ(top(m, s, "все люди рождаются свободными", NULL), "rus");
    ASSERT_STREQ(top(m, s, "всі люди народжуються вільними", NULL), "ukr");
    /* Alone in their script: settled without the classifier, probability 1. */
    ASSERT_STREQ(top(m, s, "자유로우며", &p), "kor");
    ASSERT_NEAR(p, 1.0, 1e-6);
    ASSERT_STREQ(top(m, s, "αξιοπρέπεια", &p), "ell");
    ASSERT_NEAR(p, 1.0, 1e-6);
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(script_narrows_candidates)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction p[8];
    size_t n = 0;
    /* Cyrillic text: only rus and ukr can come back, and their probabilities sum to 1. */
    const char *t = "право";
    ASSERT_EQ(mn_model_predict(m, s, t, strlen(t), 8, 0.0f, p, &n), 0);
    ASSERT_EQ(n, 2);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = mn_model_label(m, p[i].label);
        ASSERT(strcmp(l, "rus") == 0 || strcmp(l, "ukr") == 0);
        sum += p[i].prob;
    }
    ASSERT_NEAR(sum, 1.0, 1e-5);
    /* Latin text: three candidates, best first, sum <= 1 for any k. */
    t = "freedom";
    ASSERT_EQ(mn_model_predict(m, s, t, strlen(t), 2, 0.0f, p, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT(p[0].prob >= p[1].prob);
    ASSERT(p[0].prob + p[1].prob <= 1.0f + 1e-6f);
    for (size_t i = 0; i < n; i++) {
        const char *l = mn_model_label(m, p[i].label);
        ASSERT(strcmp(l, "eng") == 0 || strcmp(l, "deu") == 0 || strcmp(l, "swe") == 0);
    }
    /* A script no language was trained with: und. */
    t = "สวัสดีครับ";
    ASSERT_EQ(mn_model_predict(m, s, t, strlen(t), 3, 0.0f, p, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(mn_model_label(m, p[0].label), "und");
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(und_for_texts_without_letters)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    static const char *const texts[] = {"", "12345", "3.14 + 2,718 = ?", "😀😀👍🏽", "١٢٣ ٤٥"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        float p = 0;
        ASSERT_STREQ(top(m, s, texts[i], &p), "und");
        ASSERT_NEAR(p, 1.0, 1e-6);
    }
    mn_scratch_free(s);
    mn_model_release(m);
}

TEST(und_threshold_applies)
{
    mn_dataset *d = load_train();
    ASSERT(d != NULL);
    mn_langid_config cfg;
    tiny_config(&cfg);
    cfg.und_threshold = 0.999; /* almost nothing the classifier says is sure enough */
    mn_model *m = NULL;
    mn_err err;
    ASSERT_EQ(mn_langid_train(&cfg, d, NULL, &m, &err), 0);
    ASSERT_NEAR(mn_langid_und_threshold(m), 0.999, 1e-6);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    mn_prediction p[3];
    size_t n;
    const char *t = "recht";
    ASSERT_EQ(mn_model_predict(m, s, t, strlen(t), 3, 0.0f, p, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(mn_model_label(m, p[0].label), "und");
    ASSERT(p[0].prob > 0.0f && p[0].prob <= 1.0f);
    ASSERT(p[1].prob + p[2].prob <= 1.0f + 1e-6f);
    ASSERT(strcmp(mn_model_label(m, p[1].label), "und") != 0);
    /* The script still settles Korean whatever the threshold. */
    ASSERT_STREQ(top(m, s, "권리", NULL), "kor");
    mn_scratch_free(s);
    mn_model_release(m);
    ASSERT_EQ(mn_langid_und_threshold(NULL), -1.0);
    mn_dataset_free(d);
}

/* Tuning on a validation set with unknown-language lines gives a threshold in (0, 1). */
TEST(und_threshold_is_tuned_on_validation)
{
    mn_dataset *d = load_train(), *v = NULL;
    ASSERT(d != NULL);
    const char *vp = mn_test_tmp_path("valid.txt");
    FILE *f = fopen(vp, "w");
    ASSERT(f != NULL);
    fputs("__label__eng the right to freedom of the people\n"
          "__label__deu das recht auf freiheit der menschen\n"
          "__label__swe rätt till frihet och säkerhet\n"
          "__label__rus право на свободу\n"
          "__label__und kaikilla ihmisillä on oikeus\n"
          "__label__und zzq xqv wpt\n"
          "__label__fin jokaisella on oikeus elämään\n",
          f);
    fclose(f);
    mn_err err;
    ASSERT_EQ(mn_dataset_load(vp, MN_DATA_AUTO, NULL, &v, &err), 0);
    mn_langid_config cfg;
    tiny_config(&cfg);
    cfg.und_threshold = -1;
    mn_model *m = NULL;
    ASSERT_EQ(mn_langid_train(&cfg, d, v, &m, &err), 0);
    double t = mn_langid_und_threshold(m);
    ASSERT(t >= 0.0 && t < 1.0);
    mn_model_release(m);
    /* und is not a language to train. */
    mn_dataset_free(d);
    ASSERT_EQ(mn_langid_train(&cfg, v, NULL, &m, &err), MN_EINVAL);
    ASSERT(strstr(err.msg, "und") != NULL);
    mn_dataset_free(v);
}

/* The und threshold costs 2 per mille of the right answers, whatever else it rejects. Items
 * (sorted by p): 10 unknown-language texts at 0.1, 50 wrong answers at 0.2, 1,000 right answers
 * at 0.30, 0.3005, ... and 20 unknown-language texts at 0.35 (unknown texts are never right
 * answers). Two right answers may go: the threshold is halfway between the 2nd (0.3005) and the
 * 3rd (0.3010). */
TEST(und_threshold_costs_two_per_mille_of_right_answers)
{
    enum { M = 1080 };
    static tune_item items[M];
    size_t m = 0;
    for (int i = 0; i < 10; i++)
        items[m++] = (tune_item){.p = 0.1f};
    for (int i = 0; i < 50; i++)
        items[m++] = (tune_item){.p = 0.2f};
    for (int i = 0; i < 1000; i++)
        items[m++] = (tune_item){.p = 0.3f + 0.0005f * (float)i, .ok = 1};
    for (int i = 0; i < 20; i++)
        items[m++] = (tune_item){.p = 0.35f};
    ASSERT_EQ(m, (size_t)M);
    qsort(items, m, sizeof *items, by_p);
    ASSERT_NEAR(pick_threshold(items, m), 0.30075, 1e-5);
    /* Texts that are not right answers, moved in between, do not move it. */
    for (size_t i = 0; i < m; i++)
        if (!items[i].ok && items[i].p > 0.3f)
            items[i].p = 0.3008f;
    qsort(items, m, sizeof *items, by_p);
    ASSERT_NEAR(pick_threshold(items, m), 0.30075, 1e-5);
    /* Script-und items (p = -1) are not right answers and sort first. */
    items[0] = (tune_item){.p = -1.0f};
    qsort(items, m, sizeof *items, by_p);
    ASSERT_NEAR(pick_threshold(items, m), 0.30075, 1e-5);
    /* Fewer than 500 right answers: not one may be lost, so no threshold. */
    ASSERT_NEAR(pick_threshold(items, 60 + 499), 0.0, 1e-9);
    /* Only script-decided answers (p = 1): never rejected. */
    for (size_t i = 0; i < m; i++)
        items[i] = (tune_item){.p = 1.0f, .ok = 1};
    ASSERT_NEAR(pick_threshold(items, m), 0.0, 1e-9);
}

/* A few texts of different scripts, for comparing two models' answers. */
static const char *const lid_texts[] = {"the right to life", "recht auf leben", "право на жизнь",
                                        "모든 인간은", "ελεύθεροι", "42", "rätt"};
#define LID_TEXTS (sizeof lid_texts / sizeof lid_texts[0])

TEST(save_and_open_round_trip)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    const char *path = mn_test_tmp_path("lid.mnlp");
    mn_err err;
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    mn_model *m2 = NULL;
    ASSERT_EQ(mn_model_open(path, &m2, &err), 0);
    ASSERT_EQ(mn_model_kind(m2), MN_MODEL_LANGID);
    ASSERT_EQ(mn_model_label_count(m2), mn_model_label_count(m));
    for (uint32_t i = 0; i < mn_model_label_count(m); i++)
        ASSERT_STREQ(mn_model_label(m2, i), mn_model_label(m, i));
    ASSERT_STREQ(mn_model_meta(m2, "task"), "lang");
    ASSERT(mn_model_meta(m2, "und_threshold") != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    same_answers(m, m2, s, lid_texts, LID_TEXTS, 1e-6);
    /* Quantised: still a langid model, same answers on clear cases, and it saves/opens. */
    mn_quantize_config qc = {.cutoff = 0, .qout = 1};
    mn_model *q = NULL;
    ASSERT_EQ(mn_model_quantize(m2, &qc, &q, &err), 0);
    ASSERT_EQ(mn_model_kind(q), MN_MODEL_LANGID);
    ASSERT_STREQ(top(q, s, "권리", NULL), "kor");
    ASSERT_STREQ(top(q, s, "все люди рождаются свободными", NULL), "rus");
    ASSERT_STREQ(mn_model_meta(q, "quantized"), "int8+qout");
    const char *qpath = mn_test_tmp_path("lid-q.mnlp");
    ASSERT_EQ(mn_model_save(q, qpath, &err), 0);
    mn_model *q2 = NULL;
    ASSERT_EQ(mn_model_open(qpath, &q2, &err), 0);
    ASSERT_STREQ(top(q2, s, "all human beings are born free", NULL), "eng");
    mn_model_release(q2);
    mn_model_release(q);
    /* In 6 bits: the same answers from the model in memory and from its file (version 3). */
    qc.bits = 6;
    ASSERT_EQ(mn_model_quantize(m2, &qc, &q, &err), 0);
    ASSERT_STREQ(mn_model_meta(q, "quantized"), "int6+qout");
    ASSERT_EQ(mn_model_save(q, qpath, &err), 0);
    ASSERT_EQ(mn_model_open(qpath, &q2, &err), 0);
    ASSERT_EQ(mn_model_kind(q2), MN_MODEL_LANGID);
    same_answers(q, q2, s, lid_texts, LID_TEXTS, 0.0);
    ASSERT_STREQ(top(q2, s, "все люди рождаются свободными", NULL), "rus");
    mn_model_release(q2);
    mn_model_release(q);
    mn_scratch_free(s);
    mn_model_release(m2);
    mn_model_release(m);
    unlink(path);
    unlink(qpath);
}

static long file_bytes(const char *path, unsigned char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n);
    if (!*out || fread(*out, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    return n;
}

/* Rewrites a section of a saved model (then fixes the checksums, so only the langid loader can
 * object) and checks the file is refused with a message naming the problem. */
static int write_patched(const mn_model *m, uint32_t tag, const void *data, size_t size,
                         const char *path)
{
    const mn_langid *l = (const mn_langid *)m;
    mn_file_writer *w = NULL;
    if (mn_file_writer_new(MN_MODEL_LANGID, &w))
        return -1;
    mn_model common = *m;
    common.nlabels = l->p.nlabels;
    int rc = mn__model_write_common(&common, w);
    if (!rc)
        rc = mn__clf_write_sections(l->clf, w);
    if (!rc && tag != TAG_LIDP)
        rc = mn_file_writer_add(w, TAG_LIDP, &l->p, sizeof l->p);
    if (!rc && tag != TAG_LSCR)
        rc = mn_file_writer_add(w, TAG_LSCR, l->scripts, (size_t)l->p.nlabels * 8);
    if (!rc && data)
        rc = mn_file_writer_add(w, tag, data, size);
    if (!rc)
        rc = mn_file_writer_commit(w, path, NULL);
    mn_file_writer_free(w);
    return rc;
}

TEST(damaged_files_are_refused)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    const mn_langid *l = (const mn_langid *)m;
    const char *path = mn_test_tmp_path("bad.mnlp");
    mn_err err;
    mn_model *out = NULL;

    /* A flipped byte anywhere: the container's checksum catches it. */
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    unsigned char *bytes = NULL;
    long n = file_bytes(path, &bytes);
    ASSERT(n > 200);
    bytes[n - 3] ^= 0x40;
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    fwrite(bytes, 1, (size_t)n, f);
    fclose(f);
    free(bytes);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    ASSERT(out == NULL);

    /* Well-formed containers with bad langid sections. */
    ASSERT_EQ(write_patched(m, TAG_LIDP, NULL, 0, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "LIDP") != NULL);
    ASSERT(strstr(err.msg, path) != NULL);

    lid_params p = l->p;
    p.und_threshold = 2.0f;
    ASSERT_EQ(write_patched(m, TAG_LIDP, &p, sizeof p, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "inconsistent") != NULL);
    p = l->p;
    p.nlabels++;
    ASSERT_EQ(write_patched(m, TAG_LIDP, &p, sizeof p, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    p = l->p;
    p.version = 99;
    ASSERT_EQ(write_patched(m, TAG_LIDP, &p, sizeof p, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);

    ASSERT_EQ(write_patched(m, TAG_LSCR, l->scripts, 8, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "LSCR") != NULL);
    uint64_t sets[7];
    memcpy(sets, l->scripts, sizeof sets);
    sets[0] |= (uint64_t)1 << 63;
    ASSERT_EQ(write_patched(m, TAG_LSCR, sets, sizeof sets, path), 0);
    ASSERT_EQ(mn_model_open(path, &out, &err), MN_ECORRUPT);
    ASSERT(strstr(err.msg, "unknown script") != NULL);
    ASSERT(out == NULL);
    mn_model_release(m);
    unlink(path);
}

/* Once the scratch has grown, prediction makes no allocation at all. */
TEST(warm_prediction_does_not_allocate)
{
    mn_model *m = train_tiny();
    ASSERT(m != NULL);
    mn_scratch *s;
    ASSERT_EQ(mn_scratch_new(&s), 0);
    const char *text = "alle menschen sind frei und gleich an würde und rechten geboren 😀";
    mn_prediction p[3];
    size_t n;
    ASSERT_EQ(mn_model_predict(m, s, text, strlen(text), 3, 0.0f, p, &n), 0);
    mn_alloc_fail_after(1);
    int rc = 0;
    static const char *const others[] = {"право", "모든", "42", "freedom"};
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = mn_model_predict(m, s, text, strlen(text) - (size_t)(i % 7), 3, 0.0f, p, &n);
        const char *o = others[i % 4];
        if (!rc)
            rc = mn_model_predict(m, s, o, strlen(o), 3, 0.0f, p, &n);
    }
    mn_alloc_fail_after(0);
    ASSERT_EQ(rc, 0);
    mn_scratch_free(s);
    mn_model_release(m);
}

/* Every allocation failure in training, saving, loading and quantising returns MN_ENOMEM (or
 * the writer's error) and leaks nothing (ASan). */
TEST(allocation_failures_are_clean)
{
    mn_dataset *d = load_train();
    ASSERT(d != NULL);
    mn_langid_config cfg;
    tiny_config(&cfg);
    cfg.clf.epoch = 1;
    cfg.clf.dim = 4;
    cfg.clf.bucket = 1000;
    int ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_model *m = NULL;
        mn_err err;
        mn_alloc_fail_after(n);
        int rc = mn_langid_train(&cfg, d, d, &m, &err);
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

    mn_model *m = NULL;
    mn_err err;
    ASSERT_EQ(mn_langid_train(&cfg, d, NULL, &m, &err), 0);
    const char *path = mn_test_tmp_path("oom.mnlp");
    ASSERT_EQ(mn_model_save(m, path, &err), 0);
    int failed;
    open_under_alloc_failures(path, 5000, &failed);
    ASSERT(failed >= 0);
    ok = 0;
    mn_quantize_config qc = {.cutoff = 50, .qout = 1};
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_model *q = NULL;
        mn_alloc_fail_after(n);
        int rc = mn_model_quantize(m, &qc, &q, &err);
        mn_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            mn_model_release(q);
        } else {
            ASSERT_EQ(rc, MN_ENOMEM);
            ASSERT(q == NULL);
        }
    }
    ASSERT(ok);
    ok = 0;
    const char *path2 = mn_test_tmp_path("oom2.mnlp");
    for (long n = 1; n < 5000 && !ok; n++) {
        mn_alloc_fail_after(n);
        int rc = mn_model_save(m, path2, &err);
        mn_alloc_fail_after(0);
        if (rc == 0)
            ok = 1;
        else
            ASSERT_EQ(rc, MN_ENOMEM);
    }
    ASSERT(ok);
    mn_model_release(m);
    mn_dataset_free(d);
    unlink(path);
    unlink(path2);
}

TEST_MAIN(TEST_ENTRY(script_table_is_sorted_and_disjoint) TEST_ENTRY(script_of_code_points)
              TEST_ENTRY(script_of_texts) TEST_ENTRY(script_counts_match_reference)
                  TEST_ENTRY(tiny_model_identifies_languages)
                  TEST_ENTRY(script_narrows_candidates) TEST_ENTRY(und_for_texts_without_letters)
                      TEST_ENTRY(und_threshold_applies)
                          TEST_ENTRY(und_threshold_is_tuned_on_validation)
                          TEST_ENTRY(und_threshold_costs_two_per_mille_of_right_answers)
                              TEST_ENTRY(save_and_open_round_trip)
                                  TEST_ENTRY(damaged_files_are_refused)
                                      TEST_ENTRY(warm_prediction_does_not_allocate)
                                          TEST_ENTRY(allocation_failures_are_clean))
