/*
 * test_train.c - from stored events to a published model that recommends
 * well: customers in four taste groups, each buying and viewing inside its
 * own category, must get recommendations from their own category for items
 * they never touched. Also: versions increase, nothing is published without
 * events, and the loss reported after each sweep falls.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "foldin.h"
#include "model.h"
#include "recommend.h"
#include "store.h"
#include "testutil.h"
#include "train.h"

enum { GROUPS = 4, PER_GROUP = 12, CUSTOMERS = 80, BUYS = 5 };

static uint64_t rng_state = 12345;

static uint32_t next_rand(uint32_t bound)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % bound);
}

static void plant(store_t *s)
{
    store_item_t items[GROUPS * PER_GROUP];
    char ids[GROUPS * PER_GROUP][32];
    store_event_t ev[CUSTOMERS * BUYS * 2];
    char eids[CUSTOMERS * BUYS * 2][32], cids[CUSTOMERS][32];
    uint8_t out[CUSTOMERS * BUYS * 2];
    const char *why[CUSTOMERS * BUYS * 2];
    size_t n = 0;

    for (int i = 0; i < GROUPS * PER_GROUP; i++) {
        snprintf(ids[i], sizeof ids[i], "g%d-i%d", i / PER_GROUP, i);
        items[i] = (store_item_t){ .item_id = ids[i], .title = NULL, .category = NULL,
                                   .price = 10, .unit_cost = 5, .in_stock = 1 };
    }
    CHECK_EQ_INT(store_upsert_items(s, items, GROUPS * PER_GROUP, NULL, NULL,
                                    NULL, NULL), 0);
    for (int c = 0; c < CUSTOMERS; c++) {
        int g = c % GROUPS;
        snprintf(cids[c], sizeof cids[c], "c%d", c);
        for (int b = 0; b < BUYS * 2; b++) {
            int item = g * PER_GROUP + (int)next_rand(PER_GROUP);
            snprintf(eids[n], sizeof eids[n], "e%zu", n);
            ev[n] = (store_event_t){ eids[n], cids[c], ids[item],
                                     b < BUYS ? STORE_EVENT_PURCHASE : STORE_EVENT_VIEW,
                                     1000 + (int64_t)n, 1, 10, NULL };
            n++;
        }
    }
    CHECK_EQ_INT(store_record_events(s, ev, n, out, why), 0);
}

typedef struct losses {
    double v[64];
    uint32_t n;
} losses_t;

static int record_loss(void *ctx, uint32_t it, double loss)
{
    losses_t *l = ctx;
    if (l->n < 64)
        l->v[l->n++] = loss;
    return 0;
}

static int collect_events(void *ctx, const store_event_rec_t *ev)
{
    struct { store_event_rec_t ev[64]; size_t n; } *h = ctx;
    if (h->n < 64)
        h->ev[h->n++] = *ev;
    return 0;
}

/* The catalog snapshot every answer here is read with (loaded once the
 * items are planted; items do not change afterwards). */
static catalog_t *cat;

static int in_group(const rec_item_t *out, size_t n, int g)
{
    char want[16];
    int hits = 0;
    snprintf(want, sizeof want, "g%d-", g);
    for (size_t i = 0; i < n; i++)
        hits += strncmp(cat->ids[out[i].item], want, strlen(want)) == 0;
    return hits;
}

/* Fold-in: the same equation as training, at request time. */
static void test_foldin(store_t *s)
{
    model_t *m = NULL;
    struct { store_event_rec_t ev[64]; size_t n; } h = { .n = 0 };
    foldin_t fi;
    uint32_t idx, f;
    double dot = 0, nx = 0, ny = 0;
    rec_item_t out[5];
    size_t n = 0;
    int pers = 0;

    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    if (!m)
        return;
    f = m->hdr.factors;
    /* A customer the model has fully seen: fold-in reproduces the trained
     * vector (up to the last item sweep the trainer did after it). */
    CHECK_EQ_INT(store_customer_index(s, "c5", &idx), 0);
    CHECK_EQ_INT(store_customer_events(s, idx, collect_events, &h), 0);
    CHECK_EQ_INT(foldin_solve(m, h.ev, h.n, &fi), 0);
    for (uint32_t d = 0; d < f; d++) {
        float t = m->user_f[(size_t)idx * f + d];
        dot += (double)t * fi.x[d];
        nx += (double)fi.x[d] * fi.x[d];
        ny += (double)t * t;
    }
    printf("fold-in vs trained vector: cosine %.4f, norm ratio %.4f\n",
           dot / sqrt(nx * ny), sqrt(nx / ny));
    CHECK(dot / sqrt(nx * ny) > 0.98);
    CHECK(fabs(sqrt(nx / ny) - 1) < 0.05);
    /* Room for no explanation: none, and nothing written outside top. */
    n = 1;
    CHECK_EQ_INT(foldin_explain(m, &fi, h.ev[0].item, NULL, 0, &n), 0);
    CHECK_EQ_INT(n, 0);
    foldin_free(&fi);
    CHECK_EQ_INT(foldin_solve(m, h.ev, 0, &fi), -ENOENT);

    /* A brand-new customer: one purchase in group 2, then a second event
     * is enough for a personalized list from group 2. */
    {
        store_event_t e[2] = {
            { "new-1", "newcomer", "g2-i24", STORE_EVENT_PURCHASE, 5000000, 1, 10, NULL },
            { "new-2", "newcomer", "g2-i25", STORE_EVENT_VIEW, 5000001, 1, 10, NULL },
        };
        uint8_t o[2];
        const char *why[2];
        rec_query_t q = { .customer_id = "newcomer", .k = 5, .explain = 1 };
        CHECK_EQ_INT(store_record_events(s, e, 2, o, why), 0);
        CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
        CHECK(pers && n == 5);
        CHECK_EQ_INT(out[0].reason, REC_REASON_FOLD_IN);
        CHECK(in_group(out, n, 2) >= 4);
        /* Explanations name items the customer really has. */
        for (size_t i = 0; i < n; i++) {
            CHECK(out[i].n_because >= 1);
            for (uint8_t b = 0; b < out[i].n_because; b++) {
                const char *why_id = cat->ids[out[i].because[b]];
                CHECK(strcmp(why_id, "g2-i24") == 0 || strcmp(why_id, "g2-i25") == 0);
            }
        }
    }
    /* An anonymous visitor's session passed inline. */
    {
        rec_inline_event_t inl[2] = {
            { "g3-i40", STORE_EVENT_VIEW, 5000000, 1, NULL },
            { "g3-i41", STORE_EVENT_CART, 5000001, 1, NULL },
        };
        rec_query_t q = { .customer_id = "anon-session-1", .k = 5,
                          .inline_events = inl, .n_inline = 2 };
        CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
        CHECK(pers);
        CHECK_EQ_INT(out[0].reason, REC_REASON_FOLD_IN);
        CHECK(in_group(out, n, 3) >= 4);
    }
    /* Negative feedback folds in as trained: preference 0 with a raised
     * confidence pulls the customer's score of that item down, below the
     * group's other items, and it never explains anything. */
    {
        store_event_rec_t ev[3] = {
            { .item = 24, .type = STORE_EVENT_PURCHASE, .quantity = 1, .time_ms = 5000000 },
            { .item = 25, .type = STORE_EVENT_PURCHASE, .quantity = 1, .time_ms = 5000001 },
            { .item = 26, .type = STORE_EVENT_NOT_INTERESTED, .quantity = 1,
              .time_ms = 5000002 },
        };
        foldin_t plain, neg;
        double s_plain = 0, s_neg = 0, s_27 = 0;
        CHECK(m->hdr.w_not_interested > 0);
        CHECK_EQ_INT(foldin_solve(m, ev, 2, &plain), 0);
        CHECK_EQ_INT(foldin_solve(m, ev, 3, &neg), 0);
        CHECK_EQ_INT(neg.n, 2); /* explanations: the two purchases only */
        for (uint32_t d = 0; d < f; d++) {
            s_plain += (double)plain.x[d] * m->item_f[26 * f + d];
            s_neg += (double)neg.x[d] * m->item_f[26 * f + d];
            s_27 += (double)neg.x[d] * m->item_f[27 * f + d];
        }
        printf("fold-in score of a not_interested item: %.3f (without it %.3f; "
               "a sibling item %.3f)\n", s_neg, s_plain, s_27);
        CHECK(s_neg < 0.6 * s_plain);
        CHECK(s_neg < 0.6 * s_27);
        /* Only negative feedback: nothing positive to fold in. */
        CHECK_EQ_INT(foldin_solve(m, ev + 2, 1, &fi), -ENOENT);
        foldin_free(&plain);
        foldin_free(&neg);
    }
    model_unref(m);
}

/* A store already holding one event dated 2200 (issue 20, item 1) trains
 * as if it were not there: the event is past the horizon (wall clock + a
 * day), so it is skipped rather than becoming the recency reference that
 * decayed every real event's weight to 0. --as-of moves the horizon. */
static void test_poisoned(store_t *s, train_config_t *cfg, const train_report_t *clean)
{
    store_event_t e = { "poison", "c0", "g1-i12", STORE_EVENT_PURCHASE,
                        7258118400000LL /* 2200-01-01 */, 1, 10, NULL };
    train_report_t rep;
    uint8_t o;
    const char *why;

    CHECK_EQ_INT(store_record_events(s, &e, 1, &o, &why), 0);
    CHECK_EQ_INT(o, STORE_ACCEPTED);
    CHECK_EQ_INT(train_run(s, cfg, NULL, NULL, &rep), 0);
    CHECK_EQ_INT(rep.future, 1);
    CHECK_EQ_INT(rep.events, clean->events);
    CHECK_EQ_INT(rep.nnz, clean->nnz);
    CHECK(rep.hdr.newest_event_ms == clean->hdr.newest_event_ms);
    CHECK(rep.hdr.newest_event_ms == 5000001);
    /* As of a time inside the planted history: later events are skipped. */
    cfg->as_of_ms = 1000 + CUSTOMERS * BUYS;
    CHECK_EQ_INT(train_run(s, cfg, NULL, NULL, &rep), 0);
    CHECK(rep.hdr.newest_event_ms == cfg->as_of_ms);
    CHECK(rep.events == (uint64_t)CUSTOMERS * BUYS + 1);
    CHECK(rep.future == clean->events - rep.events + 1);
    cfg->as_of_ms = 0;
}

/* Value of entry (r, c), or 0 when absent. */
static float entry(const csr_t *m, uint32_t r, uint32_t c)
{
    for (uint64_t e = m->indptr[r]; e < m->indptr[r + 1]; e++)
        if (m->indices[e] == c)
            return m->values[e];
    return 0.0f;
}

/*
 * The training matrix under negative feedback (recency off): a refund or a
 * not_interested after the last purchase makes the pair negative, minus
 * the sum of their weights; a category's not_interested reaches every item
 * of the category; a later purchase lifts it (views do not); popularity
 * counts no negative entry.
 */
static void test_negative_weights(void)
{
    store_t *s = NULL;
    train_config_t cfg;
    csr_t ui = { 0 };
    uint64_t events = 0;
    float pop[4];
    uint8_t out[16];
    const char *why[16];
    static const store_item_t items[] = {
        { .item_id = "x1", .title = NULL, .category = "toys",
          .price = 1, .unit_cost = 0, .in_stock = 1 }, { .item_id = "x2", .title = NULL, .category = "toys", .price = 1, .unit_cost = 0, .in_stock = 1 },
        { .item_id = "y1", .title = NULL, .category = "food",
          .price = 1, .unit_cost = 0, .in_stock = 1 }, { .item_id = "z1", .title = NULL, .category = "tools", .price = 1, .unit_cost = 0, .in_stock = 1 },
    };
    const store_event_t ev[] = {
        { "a1", "u0", "x1", STORE_EVENT_PURCHASE, 1000, 1, 1, NULL },
        { "a2", "u0", "x1", STORE_EVENT_REFUND, 2000, 1, 1, NULL },
        { "a3", "u0", "y1", STORE_EVENT_VIEW, 1000, 1, 0, NULL },
        { "a4", "u0", "", STORE_EVENT_NOT_INTERESTED, 3000, 0, 0, "toys" },
        { "a5", "u0", "z1", STORE_EVENT_NOT_INTERESTED, 1000, 0, 0, NULL },
        { "a6", "u0", "z1", STORE_EVENT_PURCHASE, 4000, 1, 1, NULL },
        { "a7", "u0", "x2", STORE_EVENT_VIEW, 5000, 1, 0, NULL },
        { "b1", "u1", "x1", STORE_EVENT_REFUND, 1000, 1, 1, NULL },
        { "b2", "u1", "x1", STORE_EVENT_PURCHASE, 2000, 1, 1, NULL },
        { "b3", "u1", "y1", STORE_EVENT_PURCHASE, 1000, 1, 1, NULL },
        { "b4", "u1", "y1", STORE_EVENT_REFUND, 2000, 1, 1, NULL },
        { "b5", "u1", "y1", STORE_EVENT_PURCHASE, 3000, 1, 1, NULL },
    };
    const size_t n_ev = sizeof ev / sizeof *ev;

    CHECK_EQ_INT(store_open(test_tmpdir("train-negative"), 64u << 20, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(store_upsert_items(s, items, 4, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, n_ev, out, why), 0);
    for (size_t i = 0; i < n_ev; i++)
        CHECK_EQ_INT(out[i], STORE_ACCEPTED);
    train_config_default(&cfg);
    cfg.half_life_days = 0;
    CHECK_EQ_INT(train_build_matrix(s, &cfg, NULL, NULL, &ui, &events, NULL), 0);
    CHECK_EQ_INT(events, n_ev);
    CHECK(csr_valid_signed(&ui));
    /* u0: x1 bought, refunded, then the toys category: -(4 + 4) */
    CHECK(fabsf(entry(&ui, 0, 0) - -(cfg.w_refund + cfg.w_not_interested)) < 1e-6f);
    /* x2 only through the category; a later view lifts nothing */
    CHECK(fabsf(entry(&ui, 0, 1) - -cfg.w_not_interested) < 1e-6f);
    CHECK(fabsf(entry(&ui, 0, 2) - cfg.w_view) < 1e-6f);
    /* not interested, then bought: the purchase alone */
    CHECK(fabsf(entry(&ui, 0, 3) - cfg.w_purchase) < 1e-6f);
    /* u1: refunds followed by purchases are forgotten */
    CHECK(fabsf(entry(&ui, 1, 0) - cfg.w_purchase) < 1e-6f);
    CHECK(fabsf(entry(&ui, 1, 2) - 2 * cfg.w_purchase) < 1e-6f);
    train_popularity(&ui, cfg.w_purchase, pop);
    CHECK(fabsf(pop[0] - 1.0f) < 1e-6f); /* u1's purchase; u0's -8 counts 0 */
    CHECK(fabsf(pop[1]) < 1e-6f);
    csr_free(&ui);

    /* The header carries the weight, for fold-in. */
    {
        train_report_t rep;
        cfg.als.factors = 4;
        cfg.als.iterations = 2;
        cfg.copurchase = NULL;
        CHECK_EQ_INT(train_run(s, &cfg, NULL, NULL, &rep), 0);
        CHECK(rep.hdr.w_not_interested == cfg.w_not_interested);
        model_t *m = NULL;
        CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
        if (m)
            CHECK(m->hdr.w_not_interested == cfg.w_not_interested);
        model_unref(m);
    }
    store_close(s);
}

int main(void)
{
    store_t *s = NULL;
    model_t *m = NULL;
    train_config_t cfg;
    train_report_t rep;
    losses_t losses = { .n = 0 };
    int in_group = 0, total = 0;

    test_negative_weights();
    CHECK_EQ_INT(store_open(test_tmpdir("train"), 256u << 20, &s), 0);
    if (!s)
        return 1;
    train_config_default(&cfg);
    cfg.als.factors = 8;
    cfg.als.iterations = 8;
    cfg.als.threads = 2;
    CHECK_EQ_INT(train_run(s, &cfg, NULL, NULL, &rep), -ENOENT);

    plant(s);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    if (!cat)
        return 1;
    CHECK_EQ_INT(train_run(s, &cfg, record_loss, &losses, &rep), 0);
    CHECK_EQ_INT(rep.hdr.version, 1);
    CHECK_EQ_INT(rep.hdr.n_users, CUSTOMERS);
    CHECK_EQ_INT(rep.hdr.n_items, GROUPS * PER_GROUP);
    CHECK_EQ_INT(rep.events, CUSTOMERS * BUYS * 2);
    CHECK_EQ_INT(losses.n, cfg.als.iterations);
    for (uint32_t i = 1; i < losses.n; i++)
        CHECK(losses.v[i] <= losses.v[i - 1] * (1 + 1e-6));

    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    if (!m)
        return 1;
    for (int c = 0; c < CUSTOMERS; c++) {
        char cid[32], want[16];
        rec_item_t out[4];
        size_t n = 0;
        int pers = 0;
        rec_query_t q = { .customer_id = cid, .k = 4 };
        snprintf(cid, sizeof cid, "c%d", c);
        snprintf(want, sizeof want, "g%d-", c % GROUPS);
        CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
        CHECK(pers);
        CHECK_EQ_INT(n, 4);
        for (size_t i = 0; i < n; i++, total++)
            in_group += strncmp(cat->ids[out[i].item], want, strlen(want)) == 0;
    }
    printf("recommendations inside the customer's taste group: %d of %d\n",
           in_group, total);
    CHECK(in_group >= total * 9 / 10);
    model_unref(m);

    /* The approximate index probing every cell answers exactly like exact
     * search; probing few cells still keeps tastes. */
    {
        model_opts_t all = { .ann_min_items = 1, .ann_probes = 1000000 };
        model_t *exact = NULL, *ann = NULL;
        CHECK_EQ_INT(model_load(s, 0, NULL, &exact), 0);
        CHECK_EQ_INT(model_load(s, 0, &all, &ann), 0);
        if (!exact || !ann)
            return 1;
        CHECK(ann->ivf != NULL && exact->ivf == NULL);
        for (int c = 0; c < CUSTOMERS; c++) {
            char cid[32];
            rec_item_t a[6], b[6];
            size_t na = 0, nb = 0;
            int pers;
            rec_query_t q = { .customer_id = cid, .k = 6 };
            snprintf(cid, sizeof cid, "c%d", c);
            CHECK_EQ_INT(rec_recommend(s, exact, cat, &q, a, &na, &pers), 0);
            CHECK_EQ_INT(rec_recommend(s, ann, cat, &q, b, &nb, &pers), 0);
            CHECK_EQ_INT(na, nb);
            for (size_t i = 0; i < na && i < nb; i++)
                CHECK(a[i].item == b[i].item && a[i].score == b[i].score);
        }
        model_unref(exact);
        model_unref(ann);
    }

    test_foldin(s);

    CHECK_EQ_INT(train_run(s, &cfg, NULL, NULL, &rep), 0);
    CHECK_EQ_INT(rep.hdr.version, 2);
    test_poisoned(s, &cfg, &rep);
    catalog_unref(cat);
    store_close(s);
    TEST_MAIN_END();
}
