/*
 * test_evaluate.c - the time-split protocol and the NCF export on a tiny
 * planted store whose answers are worked out by hand below.
 *
 * Items i0..i5; day d means BASE + d days. Purchases (P) and views (V):
 *   c0: P i0 d1, P i1 d2, P i2 d3
 *   c1: P i0 d1, V i3 d2, P i3 d4
 *   c2: P i1 d1, P i0 d5
 *   c3: P i4 d2                    (nothing before its only purchase)
 *   c4: P i0 d1, P i0 d6           (re-buys what it had: nothing new)
 * Holding out each customer's last purchase: c0 -> {i2}, c1 -> {i3},
 * c2 -> {i0}; c3 has no training data and c4 nothing new, so 3 customers
 * are evaluated. Training popularity (recency off; a purchase counts 1, a
 * view w_view / w_purchase = 0.25): i0 3 (c0, c1, c4), i1 2 (c0, c2),
 * i3 0.25, the rest 0. The popularity ranking less each customer's own
 * purchases:
 *   c0 (no i0, i1): i3, i2, ...   -> test i2 at rank 1
 *   c1 (no i0):     i1, i3, ...   -> test i3 at rank 1
 *   c2 (no i1):     i0, i3, ...   -> test i0 at rank 0
 * So Recall@1 = 1/3, NDCG@1 = 1/3, coverage@1 = {i3, i1, i0} = 3/6;
 * Recall@2 = 1, NDCG@2 = (2 / log2 3 + 1) / 3, coverage@2 = 4/6.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "evaluate.h"
#include "ncf.h"
#include "store.h"
#include "testutil.h"
#include "train.h"

#define BASE_MS 1700000000000LL
#define DAY_MS 86400000LL
#define N_ITEMS 6

typedef struct planted {
    const char *customer, *item;
    int type, day;
} planted_t;

static const planted_t events[] = {
    { "c0", "i0", STORE_EVENT_PURCHASE, 1 }, { "c0", "i1", STORE_EVENT_PURCHASE, 2 },
    { "c0", "i2", STORE_EVENT_PURCHASE, 3 }, { "c1", "i0", STORE_EVENT_PURCHASE, 1 },
    { "c1", "i3", STORE_EVENT_VIEW, 2 },     { "c1", "i3", STORE_EVENT_PURCHASE, 4 },
    { "c2", "i1", STORE_EVENT_PURCHASE, 1 }, { "c2", "i0", STORE_EVENT_PURCHASE, 5 },
    { "c3", "i4", STORE_EVENT_PURCHASE, 2 }, { "c4", "i0", STORE_EVENT_PURCHASE, 1 },
    { "c4", "i0", STORE_EVENT_PURCHASE, 6 },
};
#define N_EVENTS (sizeof events / sizeof events[0])

static void plant(store_t *s)
{
    store_item_t items[N_ITEMS];
    char ids[N_ITEMS][16], eids[N_EVENTS][32];
    store_event_t ev[N_EVENTS];
    uint8_t out[N_EVENTS];
    const char *why[N_EVENTS];

    for (int i = 0; i < N_ITEMS; i++) {
        snprintf(ids[i], sizeof ids[i], "i%d", i);
        items[i] = (store_item_t){ .item_id = ids[i], .title = NULL, .category = NULL,
                                   .price = 10, .unit_cost = 5, .in_stock = 1 };
    }
    CHECK_EQ_INT(store_upsert_items(s, items, N_ITEMS, NULL, NULL, NULL, NULL), 0);
    for (size_t e = 0; e < N_EVENTS; e++) {
        snprintf(eids[e], sizeof eids[e], "e%zu", e);
        ev[e] = (store_event_t){ eids[e], events[e].customer, events[e].item,
                                 events[e].type,
                                 BASE_MS + events[e].day * DAY_MS, 1, 10, NULL };
    }
    CHECK_EQ_INT(store_record_events(s, ev, N_EVENTS, out, why), 0);
    for (size_t e = 0; e < N_EVENTS; e++)
        CHECK_EQ_INT(out[e], STORE_ACCEPTED);
}

static uint32_t item_index(store_t *s, const char *id)
{
    uint32_t idx = UINT32_MAX;
    CHECK_EQ_INT(store_item_index(s, id, &idx), 0);
    return idx;
}

static uint32_t customer_index(store_t *s, const char *id)
{
    uint32_t idx = UINT32_MAX;
    CHECK_EQ_INT(store_customer_index(s, id, &idx), 0);
    return idx;
}

/* Knows the answers: 1 for the customer's held-out items, 0 elsewhere. */
static void score_oracle(void *ctx, uint32_t user, float *scores)
{
    const eval_split_t *sp = ctx;
    for (uint32_t i = 0; i < sp->n_items; i++)
        scores[i] = 0.0f;
    for (uint32_t r = 0; r < sp->n_eval; r++)
        if (sp->users[r] == user)
            for (uint64_t j = sp->test_ptr[r]; j < sp->test_ptr[r + 1]; j++)
                scores[sp->test_items[j]] = 1.0f;
}

static void config(train_config_t *c)
{
    train_config_default(c);
    c->half_life_days = 0.0f; /* popularity counts exactly 1 per purchase */
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_last_purchase(store_t *s)
{
    train_config_t c;
    eval_holdout_t h = { .last_n = 1 };
    eval_split_t sp;
    eval_metrics_t m;
    float pop[N_ITEMS];

    config(&c);
    CHECK_EQ_INT(eval_split_make(s, &c, &h, &sp), 0);
    CHECK_EQ_INT(sp.n_eval, 3);
    CHECK_EQ_INT(sp.n_items, N_ITEMS);
    CHECK_EQ_INT(sp.users[0], customer_index(s, "c0"));
    CHECK_EQ_INT(sp.users[2], customer_index(s, "c2"));
    CHECK_EQ_INT(sp.test_items[sp.test_ptr[0]], item_index(s, "i2"));
    CHECK_EQ_INT(sp.test_ptr[3], 3);       /* one held-out item each */
    CHECK_EQ_INT(sp.seen_ptr[1], 2);       /* c0 had bought i0, i1 */
    CHECK_EQ_INT(sp.held_purchases, 5);    /* c0..c4's last purchases */
    CHECK_EQ_INT(sp.train_events, 6);      /* 11 events, 5 held out */

    /* A perfect scorer finds everything. */
    CHECK_EQ_INT(eval_rank(&sp, 1, score_oracle, &sp, &m), 0);
    CHECK(near(m.recall, 1.0) && near(m.ndcg, 1.0));
    CHECK(near(m.coverage, 3.0 / N_ITEMS));
    CHECK_EQ_INT(m.users, 3);

    train_popularity(&sp.train, c.w_purchase, pop);
    CHECK(near(pop[item_index(s, "i0")], 3.0) && near(pop[item_index(s, "i3")], 0.25));
    eval_popularity_t ps = { pop, N_ITEMS };
    CHECK_EQ_INT(eval_rank(&sp, 1, eval_score_popularity, &ps, &m), 0);
    CHECK(near(m.recall, 1.0 / 3.0) && near(m.ndcg, 1.0 / 3.0));
    CHECK(near(m.coverage, 3.0 / N_ITEMS));
    CHECK_EQ_INT(eval_rank(&sp, 2, eval_score_popularity, &ps, &m), 0);
    CHECK(near(m.recall, 1.0));
    CHECK(near(m.ndcg, (2.0 / log2(3.0) + 1.0) / 3.0));
    CHECK(near(m.coverage, 4.0 / N_ITEMS));

    CHECK_EQ_INT(eval_rank(&sp, 0, eval_score_popularity, &ps, &m), -EINVAL);
    eval_split_free(&sp);
    eval_split_free(NULL);
}

/* Last two purchases: c0 holds out {i1, i2}, and Recall@1 of a perfect
 * scorer is still 1 (one hit of min(1, 2) possible). */
static void test_last_two(store_t *s)
{
    train_config_t c;
    eval_holdout_t h = { .last_n = 2 };
    eval_split_t sp;
    eval_metrics_t m;

    config(&c);
    CHECK_EQ_INT(eval_split_make(s, &c, &h, &sp), 0);
    CHECK_EQ_INT(sp.users[0], customer_index(s, "c0"));
    CHECK_EQ_INT(sp.test_ptr[1] - sp.test_ptr[0], 2);
    CHECK_EQ_INT(eval_rank(&sp, 1, score_oracle, &sp, &m), 0);
    CHECK(near(m.recall, 1.0) && near(m.ndcg, 1.0));
    eval_split_free(&sp);
}

/* One cut for all: the newest event is day 6, 2.5 days back is day 3.5.
 * c1 (i3 on day 4) and c2 (i0 on day 5) are evaluated; training must not
 * see anything on or after day 3.5. */
static void test_days(store_t *s)
{
    train_config_t c;
    eval_holdout_t h = { .days = 2.5 };
    eval_split_t sp;

    config(&c);
    CHECK_EQ_INT(eval_split_make(s, &c, &h, &sp), 0);
    CHECK_EQ_INT(sp.n_eval, 2);
    CHECK_EQ_INT(sp.users[0], customer_index(s, "c1"));
    CHECK_EQ_INT(sp.users[1], customer_index(s, "c2"));
    CHECK_EQ_INT(sp.train_events, 8); /* all but d4, d5, d6 */
    eval_split_free(&sp);
}

static void test_bad_holdout(store_t *s)
{
    train_config_t c;
    eval_split_t sp;
    eval_holdout_t none = { 0 }, both = { .last_n = 1, .days = 3 },
                   neg = { .days = -1 }, far = { .days = 100 };

    config(&c);
    CHECK_EQ_INT(eval_split_make(s, &c, &none, &sp), -EINVAL);
    CHECK_EQ_INT(eval_split_make(s, &c, &both, &sp), -EINVAL);
    CHECK_EQ_INT(eval_split_make(s, &c, &neg, &sp), -EINVAL);
    /* Everything held out: nobody has training data. */
    CHECK_EQ_INT(eval_split_make(s, &c, &far, &sp), -ENOENT);
}

/* The export writes c0, c1, c2 (c3 and c4 have no training pair besides the
 * test item); ncf_load reads it back. */
static void test_export(store_t *s, const char *dir)
{
    train_config_t c;
    eval_export_report_t rep;
    ncf_data_t d;
    char prefix[1024], err[1200];

    config(&c);
    snprintf(prefix, sizeof prefix, "%s/shop", dir);
    CHECK_EQ_INT(eval_export_ncf(s, &c, prefix, 5, 7, &rep, err, sizeof err), 0);
    CHECK_EQ_INT(rep.users, 3);
    CHECK_EQ_INT(rep.train_pairs, 4);
    CHECK_EQ_INT(ncf_load(prefix, &d, err, sizeof err), 0);
    CHECK_EQ_INT(d.n_users, 3);
    CHECK_EQ_INT(d.n_neg, 5);
    CHECK_EQ_INT(d.test_item[0], item_index(s, "i2"));
    CHECK_EQ_INT(d.test_item[1], item_index(s, "i3"));
    CHECK_EQ_INT(d.test_item[2], item_index(s, "i0"));
    /* c1's view of i3 came before the purchase, but the test pair is held
     * out whole: its only training pair is i0. */
    CHECK_EQ_INT(d.train.indptr[2] - d.train.indptr[1], 1);
    CHECK_EQ_INT(d.train.indices[d.train.indptr[1]], item_index(s, "i0"));
    /* Negatives: items c0 never touched (i3, i4, i5). */
    for (uint32_t k = 0; k < d.n_neg; k++) {
        uint32_t it = d.negatives[k];
        CHECK(it == item_index(s, "i3") || it == item_index(s, "i4") ||
              it == item_index(s, "i5"));
    }
    ncf_free(&d);

    snprintf(prefix, sizeof prefix, "%s/missing-dir/shop", dir);
    CHECK_EQ_INT(eval_export_ncf(s, &c, prefix, 5, 7, &rep, err, sizeof err), -EIO);
    CHECK(strstr(err, "missing-dir/shop.train.rating") != NULL);
}

int main(void)
{
    const char *dir = test_tmpdir("evaluate");
    char path[600];
    train_config_t c;
    eval_split_t sp;
    eval_holdout_t h = { .last_n = 1 };
    store_t *s;

    snprintf(path, sizeof path, "%s/db", dir);
    CHECK_EQ_INT(store_open(path, 64u << 20, &s), 0);
    config(&c);
    CHECK_EQ_INT(eval_split_make(s, &c, &h, &sp), -ENOENT); /* no events */
    plant(s);
    test_last_purchase(s);
    test_last_two(s);
    test_days(s);
    test_bad_holdout(s);
    test_export(s, dir);
    store_close(s);
    TEST_MAIN_END();
}
