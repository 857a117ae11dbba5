/*
 * test_loyalty.c - programme analytics (loyalty.h) on six hand-made
 * customers whose figures are known exactly: repeat rate, members against
 * non-members (by redemption, tier and signup; points alone do not count),
 * tiers, points net of refunds and the liability, both funnels, the cohort
 * table with its unobserved cells, and events after the report's time.
 */
#include <errno.h>
#include <math.h>

#include "civil.h"
#include "loyalty.h"
#include "testutil.h"

#define DAY CIVIL_DAY_MS
#define P STORE_EVENT_PURCHASE
#define R STORE_EVENT_REFUND
#define V STORE_EVENT_VIEW
#define C STORE_EVENT_CART

#define CHECK_NEAR(a, b)                                                      \
    do {                                                                      \
        double x_ = (a), y_ = (b);                                            \
        if (!(fabs(x_ - y_) <= 1e-9 * (1 + fabs(y_)))) {                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%.12g vs %.12g)\n", \
                    __FILE__, __LINE__, #a, #b, x_, y_);                      \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

/* Noon UTC of a day of 2024. */
static int64_t day(unsigned m, unsigned d)
{
    return civil_to_days(2024, m, d) * DAY + DAY / 2;
}

static store_event_rec_t e(int type, uint32_t item, double price, int64_t t)
{
    return (store_event_rec_t){ .item = item, .type = (uint8_t)type, .quantity = 1,
                                .unit_price = price, .time_ms = t };
}

typedef struct who {
    store_event_rec_t ev[8];
    size_t n;
    int64_t redeemed;
    int signup;
} who_t;

static void test_report(void)
{
    const int64_t now = civil_to_days(2024, 6, 30) * DAY;
    who_t people[] = {
        /* A: three orders Jan, Feb, Apr; item 1 viewed, carted, bought;
         * redeemed 20 points: a member */
        { { e(V, 1, 0, day(1, 5)), e(C, 1, 0, day(1, 6)), e(P, 1, 100, day(1, 10)),
            e(P, 11, 50, day(2, 15)), e(P, 12, 30, day(4, 1)) }, 5, 20, 0 },
        /* B: two orders in January, 400: silver, a member */
        { { e(P, 2, 300, day(1, 20)), e(P, 3, 100, day(1, 25)) }, 2, 0, 0 },
        /* C: viewed item 4, bought it without a cart; signed up: a member */
        { { e(V, 4, 0, day(2, 1)), e(P, 4, 40, day(2, 3)) }, 2, 0, 1 },
        /* D: viewed and carted item 5, never bought */
        { { e(V, 5, 0, day(3, 1)), e(C, 5, 0, day(3, 2)) }, 2, 0, 0 },
        /* E: 60 with 20 refunded in March, 10 in May: two orders, 50 net */
        { { e(P, 6, 60, day(3, 10)), e(R, 6, 20, day(3, 12)), e(P, 7, 10, day(5, 5)) }, 3,
          0, 0 },
        /* F: a view, and a purchase after the report's time */
        { { e(V, 8, 0, day(6, 1)), e(P, 8, 99, day(7, 5)) }, 2, 0, 0 },
    };
    profile_config_t cfg;
    loyalty_report_t r;

    profile_config_default(&cfg);
    CHECK_EQ_INT(loyalty_init(&r, &cfg, now, 0.01), 0);
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        who_t *w = &people[i];
        profile_t p;
        CHECK_EQ_INT(profile_compute(w->ev, w->n, NULL, &cfg, now, &p), 0);
        size_t upto = 0;
        while (upto < w->n && w->ev[upto].time_ms <= now)
            upto++;
        int64_t earned = 0;
        for (size_t j = 0; j < upto; j++)
            earned += (w->ev[j].type == P ? 1 : w->ev[j].type == R ? -1 : 0) *
                      (int64_t)w->ev[j].unit_price;
        loyalty_customer_t c = { .ev = w->ev, .n = w->n, .p = &p, .points_earned = earned,
                                 .points_redeemed = w->redeemed,
                                 .points_balance = earned - w->redeemed,
                                 .has_redeemed = w->redeemed > 0,
                                 .has_signup = w->signup };
        CHECK_EQ_INT(loyalty_add(&r, &c), 0);
    }
    CHECK_EQ_INT(loyalty_finish(&r, 13), 0);

    CHECK_EQ_INT(r.all.customers, 6);
    CHECK_EQ_INT(r.all.buyers, 4);
    CHECK_EQ_INT(r.all.repeat_buyers, 3);
    CHECK_NEAR(r.all.repeat_rate, 0.75);
    CHECK_EQ_INT(r.members.customers, 3);
    CHECK_EQ_INT(r.members.buyers, 3);
    CHECK_EQ_INT(r.members.orders, 6);
    CHECK_NEAR(r.members.spend, 620);
    CHECK_NEAR(r.members.repeat_rate, 2.0 / 3);
    CHECK_NEAR(r.members.spend_per_buyer, 620.0 / 3);
    CHECK_NEAR(r.members.order_value, 620.0 / 6);
    CHECK_EQ_INT(r.non_members.customers, 3);
    CHECK_EQ_INT(r.non_members.buyers, 1);
    CHECK_EQ_INT(r.non_members.orders, 2);
    CHECK_NEAR(r.non_members.spend, 50);
    CHECK_NEAR(r.non_members.repeat_rate, 1);
    CHECK_EQ_INT(r.n_tiers, 4);
    CHECK_EQ_INT(r.tiers[0].customers, 5); /* bronze: everyone else */
    CHECK_EQ_INT(r.tiers[1].customers, 1); /* silver: B */
    CHECK_NEAR(r.tiers[1].spend, 400);
    CHECK_EQ_INT(r.tiers[2].customers + r.tiers[3].customers + r.no_tier.customers, 0);

    CHECK_EQ_INT(r.points_issued, 670);
    CHECK_EQ_INT(r.points_redeemed, 20);
    CHECK_EQ_INT(r.points_outstanding, 650);
    CHECK_NEAR(r.liability, 6.5);
    CHECK_EQ_INT(r.points_pending + r.points_expired, 0);

    CHECK_EQ_INT(r.funnel.viewers, 4);
    CHECK_EQ_INT(r.funnel.carters, 2);
    CHECK_EQ_INT(r.funnel.buyers, 4); /* F's purchase is after now */
    CHECK_EQ_INT(r.funnel.viewed_pairs, 4);
    CHECK_EQ_INT(r.funnel.carted_after_view, 2);
    CHECK_EQ_INT(r.funnel.bought_after_cart, 1);
    CHECK_NEAR(r.funnel.cart_rate, 0.5);
    CHECK_NEAR(r.funnel.purchase_rate, 0.5);

    /* cohorts Jan (A, B), Feb (C), Mar (E); offsets up to May - Jan */
    const loyalty_cohorts_t *t = &r.cohorts;
    CHECK_EQ_INT(t->first_month, 2024 * 12 + 0);
    CHECK_EQ_INT(t->now_month, 2024 * 12 + 5);
    CHECK_EQ_INT(t->n_cohorts, 3);
    CHECK_EQ_INT(t->n_offsets, 5);
    static const uint64_t size[3] = { 2, 1, 1 };
    static const uint64_t active[3][5] = { { 2, 1, 0, 1, 0 }, { 1, 0, 0, 0, 0 },
                                           { 1, 0, 1, 0, 0 } };
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(t->size[i], size[i]);
        for (size_t k = 0; k < 5; k++)
            CHECK_EQ_INT(t->active[i * 5 + k], active[i][k]);
    }
    loyalty_free(&r);

    /* fewer columns cut the table, not the sizes */
    CHECK_EQ_INT(loyalty_init(&r, &cfg, now, 0.01), 0);
    profile_t p;
    CHECK_EQ_INT(profile_compute(people[0].ev, 5, NULL, &cfg, now, &p), 0);
    loyalty_customer_t a = { .ev = people[0].ev, .n = 5, .p = &p, .points_earned = 180,
                             .points_redeemed = 20, .points_balance = 160 };
    CHECK_EQ_INT(loyalty_add(&r, &a), 0);
    CHECK_EQ_INT(loyalty_finish(&r, 2), 0);
    CHECK_EQ_INT(r.cohorts.n_offsets, 2);
    CHECK_EQ_INT(r.cohorts.size[0], 1);
    CHECK_EQ_INT(r.cohorts.active[1], 1);
    loyalty_free(&r);
    loyalty_free(NULL);
    CHECK_EQ_INT(loyalty_init(&r, &cfg, now, -1), -EINVAL);
}

/* With a first tier that must be earned, holding it makes a member. */
static void test_member_floor(void)
{
    profile_config_t cfg;
    loyalty_report_t r;
    profile_t p = { .orders = 1, .tier = 0 };
    loyalty_customer_t c = { .p = &p, .points_earned = 10, .points_balance = 10 };

    profile_config_default(&cfg);
    loyalty_init(&r, &cfg, 0, 0);
    CHECK_EQ_INT(loyalty_is_member(&r, &c), 0);
    cfg.tiers[0].min_orders = 1;
    loyalty_init(&r, &cfg, 0, 0);
    CHECK_EQ_INT(loyalty_is_member(&r, &c), 1);
    p.tier = -1;
    CHECK_EQ_INT(loyalty_is_member(&r, &c), 0);
}

/* The points economy adds up the ledgers: issued = pending + redeemed +
 * expired + outstanding, a negative balance (a redemption before a late
 * event's refund) counting as 0 outstanding. */
static void test_points_totals(void)
{
    profile_config_t cfg;
    loyalty_report_t r;
    profile_t p = { .tier = -1 };
    loyalty_customer_t a = { .p = &p, .points_earned = 100, .points_pending = 30,
                             .points_redeemed = 20, .points_expired = 10,
                             .points_balance = 40 };
    loyalty_customer_t b = { .p = &p, .points_earned = 5, .points_redeemed = 10,
                             .points_balance = -5 };

    profile_config_default(&cfg);
    CHECK_EQ_INT(loyalty_init(&r, &cfg, 0, 0.5), 0);
    CHECK_EQ_INT(loyalty_add(&r, &a), 0);
    CHECK_EQ_INT(loyalty_add(&r, &b), 0);
    CHECK_EQ_INT(loyalty_finish(&r, 1), 0);
    CHECK_EQ_INT(r.points_issued, 105);
    CHECK_EQ_INT(r.points_pending, 30);
    CHECK_EQ_INT(r.points_redeemed, 30);
    CHECK_EQ_INT(r.points_expired, 10);
    CHECK_EQ_INT(r.points_outstanding, 40);
    CHECK_NEAR(r.liability, 20.0);
    loyalty_free(&r);
}

int main(void)
{
    test_report();
    test_member_floor();
    test_points_totals();
    return test_failures ? 1 : 0;
}
