/*
 * test_compeval.c - the basket hold-one-out of `patron eval --complements`
 * (compeval.h) on a hand-built store where the right answers are known.
 *
 * 20 pairs (x_i, y_i) and one bag that goes with everything. Customer c_i,
 * an hour apart each, buys {x_i, bag} 5 times and {x_i, y_i} 4 times
 * (training), then {x_i, y_i} once more after every training basket (the
 * held-out 10%). So N = 180 training baskets, n_x = 9, n_y = 4,
 * n_bag = 100, n_xy = 4, n_x,bag = 5.
 *
 * Cart {x_i}, y_i hidden: raw counts answer the bag (5 > 4) first; the
 * statistics answer y_i first: P(y|x) * lift^0.5 = 4/9 * sqrt(9 / (0.2 + 5))
 * = 0.585 against the bag's 5/9 * sqrt(10 / 10) = 0.556. Cart {y_i}, x_i
 * hidden: x_i is y_i's only partner, the first answer of both. Popularity
 * answers the bag first, never the hidden item. So at k = 1: statistics
 * HR 1, counts 0.5, popularity 0; at k = 2 counts and statistics are 1.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "compeval.h"
#include "testutil.h"

#define PAIRS 20
#define T0 1700000000000LL
#define HOUR 3600000LL
#define TRAIN_BASKETS (PAIRS * 9)
#define EVENTS ((TRAIN_BASKETS + PAIRS) * 2)

static char item_ids[2 * PAIRS + 1][16], cust_ids[PAIRS][16], event_ids[EVENTS][16];

static void plant(store_t *s)
{
    store_item_t items[2 * PAIRS + 1];
    static store_event_t ev[EVENTS];
    static uint8_t outcome[EVENTS];
    static const char *why[EVENTS];
    size_t n = 0;

    for (int i = 0; i < 2 * PAIRS + 1; i++) {
        if (i == 2 * PAIRS)
            snprintf(item_ids[i], sizeof item_ids[i], "bag");
        else
            snprintf(item_ids[i], sizeof item_ids[i], "%c%d", i < PAIRS ? 'x' : 'y', i % PAIRS);
        items[i] = (store_item_t){ .item_id = item_ids[i], .title = NULL, .category = NULL,
                                   .price = 10, .unit_cost = 5, .in_stock = 1 };
    }
    CHECK_EQ_INT(store_upsert_items(s, items, 2 * PAIRS + 1, NULL, NULL, NULL, NULL), 0);
    /* basket b of pair i at T0 + (b * PAIRS + i) hours: b 0..4 {x, bag},
     * 5..8 {x, y} (training), 9 {x, y} (held out). */
    for (int b = 0; b < 10; b++)
        for (int i = 0; i < PAIRS; i++) {
            int64_t t = T0 + (int64_t)(b * PAIRS + i) * HOUR;
            int second = b < 5 ? 2 * PAIRS : PAIRS + i;
            snprintf(cust_ids[i], sizeof cust_ids[i], "c%d", i);
            for (int k = 0; k < 2; k++) {
                snprintf(event_ids[n], sizeof event_ids[n], "e%zu", n);
                ev[n] = (store_event_t){ event_ids[n], cust_ids[i],
                                         item_ids[k ? second : i], STORE_EVENT_PURCHASE,
                                         t + k * 60000, 1, 10, NULL };
                n++;
            }
        }
    CHECK_EQ_INT(store_record_events(s, ev, n, outcome, why), 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(outcome[i], STORE_ACCEPTED);
}

static double hr(const compeval_report_t *r, const char *name)
{
    for (int k = 0; k < COMPEVAL_METHODS; k++)
        if (strcmp(r->rows[k].name, name) == 0)
            return (double)r->rows[k].hits / (double)r->cases;
    fprintf(stderr, "no method %s\n", name);
    test_failures++;
    return -1;
}

static const compeval_row_t *row(const compeval_report_t *r, const char *name)
{
    for (int k = 0; k < COMPEVAL_METHODS; k++)
        if (strcmp(r->rows[k].name, name) == 0)
            return &r->rows[k];
    return &r->rows[0];
}

int main(void)
{
    store_t *s = NULL;
    compeval_config_t c;
    compeval_report_t r;

    CHECK_EQ_INT(store_open(test_tmpdir("compeval"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    compeval_config_default(&c);
    c.train.als.factors = 8;
    c.train.als.iterations = 6;
    c.train.als.threads = 1;
    CHECK_EQ_INT(compeval_run(s, &c, &r), -ENOENT); /* no purchases */

    plant(s);
    c.test_share = 0.1;
    c.k = 1;
    CHECK_EQ_INT(compeval_run(s, &c, &r), 0);
    CHECK_EQ_INT(r.items, 2 * PAIRS + 1);
    CHECK_EQ_INT(r.train_baskets, TRAIN_BASKETS);
    CHECK_EQ_INT(r.test_baskets, PAIRS);
    CHECK_EQ_INT(r.cases, 2 * PAIRS);
    CHECK_EQ_INT(r.cut_ms, T0 + (int64_t)TRAIN_BASKETS * HOUR);
    /* every cart item was in < 10 training baskets: all long-tail carts */
    CHECK_EQ_INT(r.tail_cases, 2 * PAIRS);
    CHECK(fabs(hr(&r, "popularity")) < 1e-12);
    CHECK(fabs(hr(&r, "co-occurrence counts") - 0.5) < 1e-12);
    CHECK(fabs(hr(&r, "complements: statistics only") - 1.0) < 1e-12);
    /* lift^0 ranks by P(j|i): the bag wins for the x carts, as the counts */
    CHECK(hr(&r, "complements, lift^0") <= 0.5 + 1e-12);
    /* at k = 1 NDCG is HR (rank 0: gain 1), and the tail rows are the rows */
    CHECK(fabs(row(&r, "co-occurrence counts")->dcg - 20.0) < 1e-9);
    CHECK_EQ_INT(row(&r, "complements: statistics only")->tail_hits, 2 * PAIRS);

    /* k = 2: the counts find y_i second (NDCG 1/2 + 1/2 * 1/log2(3)). */
    c.k = 2;
    CHECK_EQ_INT(compeval_run(s, &c, &r), 0);
    CHECK(fabs(hr(&r, "co-occurrence counts") - 1.0) < 1e-12);
    CHECK(fabs(row(&r, "co-occurrence counts")->dcg / (double)r.cases -
               (0.5 + 0.5 / log2(3.0))) < 1e-9);
    CHECK(fabs(hr(&r, "complements: statistics only") - 1.0) < 1e-12);
    CHECK(fabs(row(&r, "complements: statistics only")->dcg - 2.0 * PAIRS) < 1e-9);

    /* Bad settings. */
    c.k = 0;
    CHECK_EQ_INT(compeval_run(s, &c, &r), -EINVAL);
    c.k = 10;
    c.test_share = 1.0;
    CHECK_EQ_INT(compeval_run(s, &c, &r), -EINVAL);
    c.test_share = 0.2;
    c.cp.min_support = 0;
    CHECK_EQ_INT(compeval_run(s, &c, &r), -EINVAL);
    store_close(s);
    return test_failures ? 1 : 0;
}
