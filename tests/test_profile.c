/*
 * test_profile.c - customer profiles against a hand-computed fixture
 * (refunds, out-of-order input, order windows, events after "now"), RFM
 * quintiles on a small population, the segment grid, tier upgrades and
 * downgrades with grace over simulated time, and lifecycle stages for a
 * weekly and a quarterly buyer over simulated time.
 */
#include <errno.h>
#include <math.h>

#include "profile.h"
#include "testutil.h"

#define T0 1700000000000LL          /* 2023-11-14, an arbitrary epoch */
#define MIN 60000LL
#define DAY 86400000LL
#define AT(d, m) (T0 + (int64_t)(d) * DAY + (int64_t)(m) * MIN)

#define CHECK_NEAR(a, b)                                                      \
    do {                                                                      \
        double x_ = (a), y_ = (b);                                            \
        if (!(fabs(x_ - y_) <= 1e-9 * (1.0 + fabs(y_)))) {                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%.12g vs %.12g)\n", \
                    __FILE__, __LINE__, #a, #b, x_, y_);                      \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

static store_event_rec_t ev(int type, uint32_t item, int32_t qty, double price,
                            int64_t t)
{
    return (store_event_rec_t){ .customer = 0, .item = item, .type = (uint8_t)type,
                                .quantity = qty, .time_ms = t,
                                .unit_price = price };
}

#define P STORE_EVENT_PURCHASE
#define R STORE_EVENT_REFUND
#define V STORE_EVENT_VIEW
#define C STORE_EVENT_CART

/* ---- the hand-computed fixture ------------------------------------------------------ */

/* item -> category: 0 and 3 are category 10, 1 is 20, 2 is 30, 4 has none,
 * 5 is 5; item 7 lies beyond the catalog (no category). */
static const uint32_t fixture_categories[] = { 10, 20, 30, 10,
                                               PROFILE_NO_CATEGORY, 5 };

enum { FIXTURE_N = 17 };

static void fixture(store_event_rec_t *e)
{
    int i = 0;
    /* order 1 (anchored at day 0 00:00; 10 and 29 minutes later join it) */
    e[i++] = ev(P, 0, 2, 10.0, AT(0, 0));   /* 20.00 cat 10 */
    e[i++] = ev(P, 1, 1, 5.0, AT(0, 10));   /*  5.00 cat 20 */
    e[i++] = ev(P, 2, 0, 15.0, AT(0, 29));  /* 15.00 cat 30, quantity 0 = 1 */
    /* order 2: 31 min after the anchor (only 2 after the previous line: a
     * chained definition would have merged it) */
    e[i++] = ev(P, 3, 1, 3.0, AT(0, 31));   /*  3.00 cat 10 */
    /* order 3 */
    e[i++] = ev(P, 1, 3, 5.0, AT(10, 0));   /* 15.00 cat 20 */
    e[i++] = ev(R, 1, 1, 5.0, AT(12, 0));   /* -5.00 cat 20 */
    /* order 4, two lines 20 minutes apart */
    e[i++] = ev(P, 2, 2, 20.0, AT(30, 0));  /* 40.00 cat 30 */
    e[i++] = ev(P, 4, 1, 100.0, AT(30, 20));/* 100.00 no category */
    e[i++] = ev(R, 2, 2, 20.0, AT(40, 0));  /* -40.00 cat 30 */
    /* order 5 */
    e[i++] = ev(P, 7, 1, 2.0, AT(90, 0));   /*  2.00 item beyond catalog */
    e[i++] = ev(P, 5, 1, 1.0, AT(90, 5));   /*  1.00 cat 5 */
    /* engagement; now is day 100 so "recent" (30 days) is after day 70 */
    e[i++] = ev(C, 1, 1, 0.0, AT(60, 0));   /* cart, not recent */
    e[i++] = ev(V, 0, 1, 0.0, AT(80, 0));
    e[i++] = ev(V, 1, 1, 0.0, AT(95, 0));
    e[i++] = ev(V, 2, 1, 0.0, AT(99, 0));
    e[i++] = ev(C, 2, 1, 0.0, AT(99, 1));
    /* after now: invisible */
    e[i++] = ev(P, 0, 1, 1000.0, AT(150, 0));
}

static void check_fixture_profile(const profile_t *p)
{
    /* gross 20+5+15+3+15+40+100+2+1 = 201; refunds 5+40 = 45 -> 156 */
    CHECK_NEAR(p->monetary, 156.0);
    /* orders start at day 0 00:00, 0 00:31, 10, 30, 90 */
    CHECK_EQ_INT(p->orders, 5);
    CHECK_EQ_INT(p->purchases, 9);
    CHECK_EQ_INT(p->first_purchase_ms, AT(0, 0));
    CHECK_EQ_INT(p->last_purchase_ms, AT(90, 5));
    CHECK_NEAR(p->average_basket, 156.0 / 5);               /* 31.2 */
    /* gaps (days): 31/1440, 10 - 31/1440, 20, 60; median of the middle two
     * = (10 - 31/1440 + 20) / 2 = 15 - 31/2880 = 14.98923611 */
    CHECK_NEAR(p->typical_gap_days, 15.0 - 31.0 / 2880.0);
    /* now - last purchase = 10 days - 5 minutes */
    CHECK_NEAR(p->recency_days, 10.0 - 5.0 / 1440.0);
    CHECK_EQ_INT(p->recent_views, 3);                       /* days 80, 95, 99 */
    CHECK_EQ_INT(p->recent_carts, 1);                       /* day 99 only */
    /* net by category: 10: 20+3 = 23; 20: 5+15-5 = 15; 30: 15+40-40 = 15;
     * 5: 1. The 15s tie and go to the lower id; category 5 is fourth. */
    CHECK_EQ_INT(p->n_favourites, 3);
    CHECK_EQ_INT(p->favourites[0], 10);
    CHECK_EQ_INT(p->favourites[1], 20);
    CHECK_EQ_INT(p->favourites[2], 30);
    /* 156 spend, 5 orders, 5 engagement in the year: bronze (silver needs
     * 250) */
    CHECK_EQ_INT(p->tier, 0);
    /* Rhythm 14.99 days, 10 days idle <= 1.5 * 14.99: active. And the last
     * order came back: rhythm before it = median(31/1440, 9.98, 20) = 9.98,
     * lapse threshold 3 * 9.98 = 29.9 < the 60-day gap; that was 10 days
     * ago (< won_back_days 90): won back. */
    CHECK_EQ_INT(p->stage, PROFILE_STAGE_WON_BACK);
}

static int profiles_equal(const profile_t *a, const profile_t *b)
{
    return a->first_purchase_ms == b->first_purchase_ms &&
           a->last_purchase_ms == b->last_purchase_ms &&
           a->orders == b->orders && a->purchases == b->purchases &&
           a->monetary == b->monetary &&
           a->average_basket == b->average_basket &&
           a->typical_gap_days == b->typical_gap_days &&
           a->recency_days == b->recency_days &&
           a->recent_views == b->recent_views &&
           a->recent_carts == b->recent_carts &&
           a->n_favourites == b->n_favourites &&
           memcmp(a->favourites, b->favourites, sizeof a->favourites) == 0 &&
           a->tier == b->tier && a->stage == b->stage;
}

static void test_fixture(void)
{
    store_event_rec_t e[FIXTURE_N], shuffled[FIXTURE_N];
    profile_catalog_t cat = { fixture_categories, 6 };
    profile_config_t cfg;
    profile_t p, q;
    int64_t now = AT(100, 0);

    profile_config_default(&cfg);
    fixture(e);
    CHECK_EQ_INT(profile_compute(e, FIXTURE_N, &cat, &cfg, now, &p), 0);
    check_fixture_profile(&p);

    /* Reversed, and a fixed pseudo-random permutation: identical result. */
    for (int i = 0; i < FIXTURE_N; i++)
        shuffled[i] = e[FIXTURE_N - 1 - i];
    CHECK_EQ_INT(profile_compute(shuffled, FIXTURE_N, &cat, &cfg, now, &q), 0);
    CHECK(profiles_equal(&p, &q));
    for (int i = 0; i < FIXTURE_N; i++)
        shuffled[i] = e[(i * 7 + 3) % FIXTURE_N]; /* 7 is coprime to 17 */
    CHECK_EQ_INT(profile_compute(shuffled, FIXTURE_N, &cat, NULL, now, &q), 0);
    CHECK(profiles_equal(&p, &q));
    check_fixture_profile(&q);

    /* Without a catalog there are no favourites; the rest is unchanged. */
    CHECK_EQ_INT(profile_compute(e, FIXTURE_N, NULL, &cfg, now, &q), 0);
    CHECK_EQ_INT(q.n_favourites, 0);
    CHECK_NEAR(q.monetary, 156.0);

    /* Once the day-150 purchase is in the past it counts. */
    CHECK_EQ_INT(profile_compute(e, FIXTURE_N, &cat, &cfg, AT(151, 0), &q), 0);
    CHECK_EQ_INT(q.orders, 6);
    CHECK_NEAR(q.monetary, 1156.0);
    CHECK_EQ_INT(q.favourites[0], 10);

    /* Refunds never take monetary below zero. */
    store_event_rec_t refunds[2] = { ev(P, 0, 1, 10.0, AT(0, 0)),
                                     ev(R, 0, 3, 10.0, AT(1, 0)) };
    CHECK_EQ_INT(profile_compute(refunds, 2, &cat, &cfg, AT(2, 0), &q), 0);
    CHECK_NEAR(q.monetary, 0.0);
    CHECK_EQ_INT(q.orders, 1);
    CHECK_EQ_INT(q.n_favourites, 0); /* category 10 is net -20 */

    CHECK_EQ_INT(profile_compute(NULL, 1, &cat, &cfg, now, &q), -EINVAL);
    CHECK_EQ_INT(profile_compute(e, FIXTURE_N, &cat, &cfg, now, NULL), -EINVAL);
}

static void test_order_windows(void)
{
    profile_t p;
    /* 0, 29 and 30 min: 30 - 0 is not < 30, so a second order starts at 30;
     * 59 is 29 after it and joins it: 2 orders. */
    store_event_rec_t a[4] = { ev(P, 0, 1, 1, AT(0, 0)), ev(P, 0, 1, 1, AT(0, 29)),
                               ev(P, 0, 1, 1, AT(0, 30)), ev(P, 0, 1, 1, AT(0, 59)) };
    CHECK_EQ_INT(profile_compute(a, 4, NULL, NULL, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 2);
    /* The window is half-open: exactly 30 minutes later is a new order,
     * a millisecond less is not. */
    store_event_rec_t edge[2] = { ev(P, 0, 1, 1, AT(0, 0)), ev(P, 0, 1, 1, AT(0, 30)) };
    CHECK_EQ_INT(profile_compute(edge, 2, NULL, NULL, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 2);
    edge[1].time_ms -= 1;
    CHECK_EQ_INT(profile_compute(edge, 2, NULL, NULL, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 1);
    /* Every 20 minutes for an hour: anchored windows give 0+20, 40+60. */
    store_event_rec_t b[4] = { ev(P, 0, 1, 1, AT(0, 0)), ev(P, 0, 1, 1, AT(0, 20)),
                               ev(P, 0, 1, 1, AT(0, 40)), ev(P, 0, 1, 1, AT(0, 60)) };
    CHECK_EQ_INT(profile_compute(b, 4, NULL, NULL, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 2);
    CHECK_NEAR(p.average_basket, 2.0);
    /* A 5-minute window splits the same purchases into 4 orders. */
    profile_config_t cfg;
    profile_config_default(&cfg);
    cfg.order_gap_minutes = 5;
    CHECK_EQ_INT(profile_compute(b, 4, NULL, &cfg, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 4);
    /* Views and carts alone make no order. */
    store_event_rec_t c[2] = { ev(V, 0, 1, 0, AT(0, 0)), ev(C, 0, 1, 0, AT(0, 1)) };
    CHECK_EQ_INT(profile_compute(c, 2, NULL, NULL, AT(1, 0), &p), 0);
    CHECK_EQ_INT(p.orders, 0);
    CHECK_EQ_INT(p.stage, PROFILE_STAGE_PROSPECT);
    CHECK_EQ_INT(p.recent_views, 1);
    CHECK_EQ_INT(p.recent_carts, 1);
}

/* Spend in the calendar periods of now (what spend milestones count): as of
 * Wednesday 2024-01-10, the year and month started on the 1st, the week on
 * Monday the 8th; a refund counts in the period it happened, never below 0. */
static void test_period_spend(void)
{
    const int64_t day = 86400000LL, jan1 = 1704067200000LL; /* 2024-01-01, a Monday */
    profile_t p;
    store_event_rec_t e[5] = {
        ev(P, 0, 1, 40.0, jan1 - day),        /* 2023-12-31: last year */
        ev(P, 0, 2, 10.0, jan1 + 2 * day),    /* Jan 3: 20 */
        ev(P, 0, 1, 7.5, jan1 + 7 * day),     /* Monday Jan 8, 00:00: this week */
        ev(R, 0, 1, 10.0, jan1 + 8 * day),    /* Jan 9: -10 */
        ev(P, 0, 1, 99.0, jan1 + 31 * day),   /* Feb 1, after now: not yet */
    };
    CHECK_EQ_INT(profile_compute(e, 4, NULL, NULL, jan1 + 9 * day, &p), 0);
    CHECK_NEAR(p.monetary, 57.5);
    CHECK_NEAR(p.spend_year, 17.5);
    CHECK_NEAR(p.spend_month, 17.5);
    CHECK_NEAR(p.spend_week, 0.0);            /* 7.5 - 10, never below 0 */
    CHECK_EQ_INT(profile_compute(e, 5, NULL, NULL, jan1 + 32 * day, &p), 0);
    CHECK_NEAR(p.spend_month, 99.0);          /* February */
    CHECK_NEAR(p.spend_year, 116.5);
    CHECK_NEAR(p.spend_week, 99.0);
}

static void test_prospect(void)
{
    profile_t p;
    rfm_cutpoints_t cut;
    uint8_t r, f, m;
    profile_config_t cfg;

    profile_config_default(&cfg);
    CHECK_EQ_INT(profile_compute(NULL, 0, NULL, &cfg, T0, &p), 0);
    CHECK_EQ_INT(p.orders, 0);
    CHECK_EQ_INT(p.first_purchase_ms, 0);
    CHECK_EQ_INT(p.stage, PROFILE_STAGE_PROSPECT);
    CHECK_EQ_INT(p.tier, 0); /* bronze has all-zero thresholds */
    CHECK_EQ_INT(profile_rfm_cutpoints(&p, 1, &cut), 0);
    CHECK_EQ_INT(cut.n, 0);
    CHECK_EQ_INT(profile_rfm_score(&p, &cut, &r, &f, &m), 0);
    CHECK(r == 0 && f == 0 && m == 0);
    CHECK_EQ_INT(profile_segment(&cfg, r, f, m), -1);
    CHECK_STREQ(profile_segment_name(&cfg, -1), "");
    CHECK_STREQ(profile_stage_name(p.stage), "prospect");
}

/* ---- RFM ------------------------------------------------------------------------------ */

static void test_rfm_quintiles(void)
{
    /* 10 customers with orders plus one prospect (ignored).
     *   recency 1..10 days     -> sorted, cut at ranks 2,4,6,8 -> 2,4,6,8
     *   orders 1,1,1,1,1,1,2,3,5,8 -> ranks 2,4,6,8 hold 1,1,1,3
     *   monetary 10..100       -> 20,40,60,80 */
    static const uint32_t orders[10] = { 1, 1, 1, 1, 1, 1, 2, 3, 5, 8 };
    profile_t pop[11];
    rfm_cutpoints_t cut;

    memset(pop, 0, sizeof pop);
    for (int i = 0; i < 10; i++) {
        pop[i].orders = orders[i];
        pop[i].recency_days = 10 - i;       /* stored in reverse on purpose */
        pop[i].monetary = 10.0 * (i + 1);
    }
    pop[10].recency_days = 0; /* a prospect: must not drag the cuts */
    CHECK_EQ_INT(profile_rfm_cutpoints(pop, 11, &cut), 0);
    CHECK_EQ_INT(cut.n, 10);
    static const double rc[4] = { 2, 4, 6, 8 }, fc[4] = { 1, 1, 1, 3 },
                        mc[4] = { 20, 40, 60, 80 };
    for (int j = 0; j < 4; j++) {
        CHECK_NEAR(cut.recency[j], rc[j]);
        CHECK_NEAR(cut.frequency[j], fc[j]);
        CHECK_NEAR(cut.monetary[j], mc[j]);
    }
    /* Expected scores per customer i (recency 10-i, orders[i], 10(i+1)):
     *   recency 10,9 -> 1; 8,7 -> 2; 6,5 -> 3; 4,3 -> 4; 2,1 -> 5
     *   orders 1 -> 1 (exceeds no cut); 2, 3 -> 4 (exceed 1,1,1); 5, 8 -> 5
     *   monetary 10,20 -> 1; 30,40 -> 2; ...; 90,100 -> 5 */
    static const uint8_t er[10] = { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
    static const uint8_t ef[10] = { 1, 1, 1, 1, 1, 1, 4, 4, 5, 5 };
    static const uint8_t em[10] = { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
    for (int i = 0; i < 10; i++) {
        uint8_t r, f, m;
        CHECK_EQ_INT(profile_rfm_score(&pop[i], &cut, &r, &f, &m), 0);
        CHECK_EQ_INT(r, er[i]);
        CHECK_EQ_INT(f, ef[i]);
        CHECK_EQ_INT(m, em[i]);
    }
    /* Five customers: every one is its own fifth. */
    double rv[5] = { 50, 10, 40, 20, 30 }, fv[5] = { 1, 2, 3, 4, 5 },
           mv[5] = { 5, 4, 3, 2, 1 };
    CHECK_EQ_INT(profile_rfm_cutpoints_values(rv, fv, mv, 5, &cut), 0);
    CHECK_NEAR(cut.recency[0], 10);
    CHECK_NEAR(cut.recency[3], 40);
    profile_t one = { .orders = 3, .recency_days = 25, .monetary = 4.5 };
    uint8_t r, f, m;
    CHECK_EQ_INT(profile_rfm_score(&one, &cut, &r, &f, &m), 0);
    CHECK_EQ_INT(r, 3); /* 25 exceeds 10 and 20 */
    CHECK_EQ_INT(f, 3); /* 3 exceeds 1 and 2 */
    CHECK_EQ_INT(m, 5); /* 4.5 exceeds 1,2,3,4 */
    /* No population yet: a neutral 3 for everyone with orders. */
    rfm_cutpoints_t empty = { .n = 0 };
    CHECK_EQ_INT(profile_rfm_score(&one, &empty, &r, &f, &m), 0);
    CHECK(r == 3 && f == 3 && m == 3);
    CHECK_EQ_INT(profile_rfm_score(&one, NULL, &r, &f, &m), -EINVAL);
}

static void check_segment(const profile_config_t *cfg, int r, int f, int m,
                          const char *want)
{
    int s = profile_segment(cfg, (uint8_t)r, (uint8_t)f, (uint8_t)m);
    CHECK_STREQ(profile_segment_name(cfg, s), want);
}

static void test_segments(void)
{
    profile_config_t cfg;
    profile_config_default(&cfg);

    check_segment(&cfg, 5, 5, 1, "champions");
    check_segment(&cfg, 5, 4, 5, "champions");
    check_segment(&cfg, 4, 4, 1, "loyal");
    check_segment(&cfg, 3, 5, 3, "loyal");
    check_segment(&cfg, 4, 2, 5, "potential_loyalist");
    check_segment(&cfg, 5, 1, 1, "new");
    check_segment(&cfg, 4, 1, 2, "promising");
    check_segment(&cfg, 3, 3, 3, "need_attention");
    check_segment(&cfg, 3, 2, 2, "about_to_sleep");
    check_segment(&cfg, 1, 5, 1, "cant_lose_them");
    check_segment(&cfg, 2, 3, 5, "at_risk");
    check_segment(&cfg, 1, 1, 1, "lost");
    check_segment(&cfg, 2, 1, 3, "hibernating");
    check_segment(&cfg, 1, 2, 3, "hibernating");
    /* The default grid covers every scored customer. */
    int uncovered = 0;
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            for (int m = 1; m <= 5; m++)
                uncovered += profile_segment(&cfg, (uint8_t)r, (uint8_t)f,
                                             (uint8_t)m) < 0;
    CHECK_EQ_INT(uncovered, 0);

    /* A custom table: first match wins, gaps leave customers unsegmented. */
    profile_config_t c2 = cfg;
    c2.n_segments = 2;
    c2.segments[0] = (profile_segment_rule_t){ "whales", 1, 5, 1, 5, 5, 5 };
    c2.segments[1] = (profile_segment_rule_t){ "recent", 4, 5, 1, 5, 1, 5 };
    CHECK_EQ_INT(profile_config_invalid(&c2) == NULL, 1);
    check_segment(&c2, 5, 5, 5, "whales"); /* matches both: first wins */
    check_segment(&c2, 5, 1, 4, "recent");
    CHECK_EQ_INT(profile_segment(&c2, 1, 1, 1), -1);

    c2.segments[1].r_lo = 0; /* scores are 1..5 */
    CHECK(profile_config_invalid(&c2) != NULL);
    c2.segments[1].r_lo = 5;
    c2.segments[1].r_hi = 4;
    CHECK(profile_config_invalid(&c2) != NULL);
    c2.segments[1] = c2.segments[0];
    CHECK(strstr(profile_config_invalid(&c2), "unique") != NULL);
}

/* ---- tiers over simulated time ------------------------------------------------------------ */

static void tier_config(profile_config_t *cfg)
{
    profile_config_default(cfg);
    cfg->tier_window_days = 30;
    cfg->tier_grace_days = 10;
    cfg->n_tiers = 3;
    cfg->tiers[0] = (profile_tier_rule_t){ .name = "basic", .min_spend = 0, .min_orders = 0, .min_engagement = 0 };
    cfg->tiers[1] = (profile_tier_rule_t){ .name = "silver", .min_spend = 100, .min_orders = 2, .min_engagement = 0 };
    cfg->tiers[2] = (profile_tier_rule_t){ .name = "gold", .min_spend = 300, .min_orders = 3, .min_engagement = 5 };
}

static int tier_on(const store_event_rec_t *e, size_t n,
                   const profile_config_t *cfg, int64_t now)
{
    int t = -99;
    CHECK_EQ_INT(profile_tier(e, n, cfg, now, &t), 0);
    return t;
}

static void test_tiers(void)
{
    profile_config_t cfg;
    tier_config(&cfg);
    store_event_rec_t e[12];
    size_t n = 0;
    e[n++] = ev(P, 0, 1, 60, AT(0, 0));
    e[n++] = ev(P, 0, 1, 50, AT(5, 0));   /* 110, 2 orders: silver */
    for (int i = 0; i < 5; i++)
        e[n++] = ev(V, 0, 1, 0, AT(7, i)); /* engagement 5 */
    e[n++] = ev(P, 0, 1, 200, AT(8, 0));  /* 310, 3 orders, 5: gold */
    e[n++] = ev(P, 0, 1, 150, AT(50, 0));
    e[n++] = ev(P, 0, 1, 150, AT(51, 0));

    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(4, 0)), 0);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(5, 0)), 1);  /* upgrade: immediate */
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(7, 10)), 1);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(8, 0)), 2);
    /* The day-0 purchase leaves the 30-day window at day 30: from then the
     * window holds 250 in 2 orders (silver), but gold is kept for the 10-day
     * grace after the last moment it was met (just before day 30). */
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(29, 0)), 2);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(39, 1439)), 2);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(40, 0)), 1);  /* downgrade */
    /* Day 35 drops the day-5 purchase (1 order left): silver is kept until
     * day 45. */
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(44, 0)), 1);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(45, 0)), 0);
    /* Two purchases of 150 on days 50 and 51: silver again at once (the
     * views left the window long ago: not gold). */
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(50, 0)), 0);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(51, 0)), 1);
    /* With no grace the downgrade is on the day the window stops meeting. */
    cfg.tier_grace_days = 0;
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(29, 1439)), 2);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(30, 0)), 1);

    /* profile_compute reports the same tier, whatever the input order. */
    store_event_rec_t rev[12];
    for (size_t i = 0; i < n; i++)
        rev[i] = e[n - 1 - i];
    profile_t p;
    tier_config(&cfg);
    CHECK_EQ_INT(profile_compute(rev, n, NULL, &cfg, AT(39, 0), &p), 0);
    CHECK_EQ_INT(p.tier, 2);
    CHECK_STREQ(profile_tier_name(&cfg, p.tier), "gold");
    CHECK_STREQ(profile_tier_name(&cfg, -1), "");

    /* A refund inside the window lowers its spend: 310 - 20 < 300 (without
     * grace; with it, gold met on day 8 would still be held). */
    e[n] = ev(R, 0, 1, 20, AT(9, 0));
    CHECK_EQ_INT(tier_on(e, n + 1, &cfg, AT(9, 0)), 2);
    cfg.tier_grace_days = 0;
    CHECK_EQ_INT(tier_on(e, n + 1, &cfg, AT(9, 0)), 1);

    /* Without a zero floor tier a customer may hold none. */
    cfg.n_tiers = 2;
    cfg.tiers[0] = cfg.tiers[1];
    cfg.tiers[1] = cfg.tiers[2];
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(1, 0)), -1);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(8, 0)), 1);

    /* Default tiers: gold needs 1000 in 5 orders and 10 engagement. */
    profile_config_default(&cfg);
    store_event_rec_t g[16];
    n = 0;
    for (int i = 0; i < 5; i++)
        g[n++] = ev(P, 0, 1, 200, AT(10 * i, 0));
    for (int i = 0; i < 10; i++)
        g[n++] = ev(V, 0, 1, 0, AT(1, i));
    CHECK_STREQ(profile_tier_name(&cfg, tier_on(g, n, &cfg, AT(39, 0))), "silver");
    CHECK_STREQ(profile_tier_name(&cfg, tier_on(g, n, &cfg, AT(40, 0))), "gold");
    CHECK_EQ_INT(profile_tier(g, n, &cfg, AT(40, 0), NULL), -EINVAL);
}

/* ---- lifecycle over simulated time ---------------------------------------------------------- */

static profile_stage_t stage_on(const store_event_rec_t *e, size_t n, double day)
{
    profile_t p;
    int64_t now = T0 + (int64_t)(day * (double)DAY);
    CHECK_EQ_INT(profile_compute(e, n, NULL, NULL, now, &p), 0);
    return p.stage;
}

static void test_lifecycle(void)
{
    /* Weekly buyer: days 0, 7, ..., 70; back at day 100 after 30 days away,
     * then weekly again until day 198. Rhythm 7 days (min_gap_days is 7):
     * active while idle <= 10.5 days, at risk <= 21, lapsed beyond. */
    store_event_rec_t w[64];
    size_t nw = 0;
    for (int d = 0; d <= 70; d += 7)
        w[nw++] = ev(P, 0, 1, 10, AT(d, 0));
    for (int d = 100; d <= 198; d += 7)
        w[nw++] = ev(P, 0, 1, 10, AT(d, 0));

    CHECK_EQ_INT(stage_on(w, nw, -1), PROFILE_STAGE_PROSPECT);
    CHECK_EQ_INT(stage_on(w, nw, 3), PROFILE_STAGE_NEW);
    CHECK_EQ_INT(stage_on(w, nw, 7), PROFILE_STAGE_ACTIVE);   /* 2nd order */
    CHECK_EQ_INT(stage_on(w, nw, 80), PROFILE_STAGE_ACTIVE);  /* idle 10 */
    CHECK_EQ_INT(stage_on(w, nw, 85), PROFILE_STAGE_AT_RISK); /* idle 15 */
    CHECK_EQ_INT(stage_on(w, nw, 91), PROFILE_STAGE_AT_RISK); /* idle 21 */
    CHECK_EQ_INT(stage_on(w, nw, 95), PROFILE_STAGE_LAPSED);  /* idle 25 */
    /* Day 100: a 30-day gap > 3 * 7 after a weekly rhythm: won back. The
     * median gap stays 7 (ten 7s and one 30). */
    CHECK_EQ_INT(stage_on(w, nw, 101), PROFILE_STAGE_WON_BACK);
    CHECK_EQ_INT(stage_on(w, nw, 190), PROFILE_STAGE_WON_BACK); /* 90 days on */
    CHECK_EQ_INT(stage_on(w, nw, 191), PROFILE_STAGE_ACTIVE);   /* plain active */
    CHECK_EQ_INT(stage_on(w, nw, 198 + 15), PROFILE_STAGE_AT_RISK);

    /* Quarterly buyer: days 0, 90, 180, 270, then back at day 700. While it
     * has one order its rhythm is default_gap_days (30): active to 45 days,
     * at risk to 90; a second order at exactly day 90 is no comeback (90 is
     * not > 3 * 30). Then the rhythm is 90: active to 135 days idle, at risk
     * to 270. */
    store_event_rec_t q[5] = { ev(P, 0, 1, 10, AT(0, 0)), ev(P, 0, 1, 10, AT(90, 0)),
                               ev(P, 0, 1, 10, AT(180, 0)),
                               ev(P, 0, 1, 10, AT(270, 0)),
                               ev(P, 0, 1, 10, AT(700, 0)) };
    CHECK_EQ_INT(stage_on(q, 5, 10), PROFILE_STAGE_NEW);
    CHECK_EQ_INT(stage_on(q, 5, 40), PROFILE_STAGE_ACTIVE);
    CHECK_EQ_INT(stage_on(q, 5, 80), PROFILE_STAGE_AT_RISK);
    CHECK_EQ_INT(stage_on(q, 5, 95), PROFILE_STAGE_ACTIVE);
    CHECK_EQ_INT(stage_on(q, 5, 270 + 15), PROFILE_STAGE_ACTIVE);
    CHECK_EQ_INT(stage_on(q, 5, 270 + 25), PROFILE_STAGE_ACTIVE);
    CHECK_EQ_INT(stage_on(q, 5, 270 + 150), PROFILE_STAGE_AT_RISK);
    CHECK_EQ_INT(stage_on(q, 5, 270 + 300), PROFILE_STAGE_LAPSED);
    CHECK_EQ_INT(stage_on(q, 5, 701), PROFILE_STAGE_WON_BACK); /* 430 > 270 */

    /* The same absolute idle time means different things: 15 and 25 days
     * after their last order, the weekly buyer is at risk then lapsed while
     * the quarterly one is active throughout. */
    CHECK(stage_on(w, nw, 70 + 15) != stage_on(q, 5, 270 + 15));
    CHECK(stage_on(w, nw, 70 + 25) != stage_on(q, 5, 270 + 25));

    /* A one-order customer lapses by the default rhythm: 30 * 3 = 90 days. */
    CHECK_EQ_INT(stage_on(q, 1, 89), PROFILE_STAGE_AT_RISK);
    CHECK_EQ_INT(stage_on(q, 1, 91), PROFILE_STAGE_LAPSED);

    /* Two orders within new_days are no longer "new": active. */
    store_event_rec_t two[2] = { ev(P, 0, 1, 10, AT(0, 0)), ev(P, 0, 1, 10, AT(3, 0)) };
    CHECK_EQ_INT(stage_on(two, 2, 4), PROFILE_STAGE_ACTIVE);

    /* won_back_days = 0 remembers a comeback for as long as they stay
     * active. */
    profile_config_t cfg;
    profile_t p;
    profile_config_default(&cfg);
    cfg.won_back_days = 0;
    CHECK_EQ_INT(profile_compute(w, nw, NULL, &cfg, AT(199, 0), &p), 0);
    CHECK_EQ_INT(p.stage, PROFILE_STAGE_WON_BACK);
}

static void test_config_and_points(void)
{
    profile_config_t cfg;
    profile_t p;
    profile_config_default(&cfg);
    CHECK(profile_config_invalid(&cfg) == NULL);
    CHECK_EQ_INT(cfg.n_tiers, 4);
    CHECK_STREQ(cfg.tiers[3].name, "platinum");
    CHECK_EQ_INT(cfg.n_segments, 11);

    profile_config_t bad = cfg;
    bad.lapse_factor = 1.0; /* below at_risk_factor 1.5 */
    CHECK(strstr(profile_config_invalid(&bad), "lapse_factor") != NULL);
    CHECK_EQ_INT(profile_compute(NULL, 0, NULL, &bad, T0, &p), -EINVAL);
    bad = cfg;
    bad.tiers[1].min_spend = NAN;
    CHECK(strstr(profile_config_invalid(&bad), "min_spend") != NULL);
    bad = cfg;
    bad.n_tiers = PROFILE_MAX_TIERS + 1;
    CHECK(profile_config_invalid(&bad) != NULL);
    bad = cfg;
    memset(bad.tiers[0].name, 'x', PROFILE_NAME_MAX); /* no NUL */
    CHECK(profile_config_invalid(&bad) != NULL);

    CHECK_EQ_INT(profile_points_for(156.0, &cfg), 156);
    CHECK_EQ_INT(profile_points_for(9.99, &cfg), 9);
    CHECK_EQ_INT(profile_points_for(-5.0, &cfg), 0);
    CHECK_EQ_INT(profile_points_for(NAN, &cfg), 0);
    CHECK_EQ_INT(profile_points_for(1e300, &cfg), PROFILE_MAX_POINTS);
    cfg.points_per_unit = 100;
    CHECK_EQ_INT(profile_points_for(0.29, &cfg), 29); /* not 28 */
    CHECK_EQ_INT(profile_points_for(0.2899, &cfg), 28);
    CHECK_EQ_INT(profile_points_for(10, NULL), 10);
}

/* profile_tier_status on test_tiers' history: what the next tier needs, when
 * the held tier stops being met and drops, and to what. */
static void test_tier_status(void)
{
    profile_config_t cfg;
    profile_tier_status_t st;
    store_event_rec_t e[12];
    size_t n = 0;

    tier_config(&cfg);
    e[n++] = ev(P, 0, 1, 60, AT(0, 0));
    e[n++] = ev(P, 0, 1, 50, AT(5, 0));
    for (int i = 0; i < 5; i++)
        e[n++] = ev(V, 0, 1, 0, AT(7, i));
    e[n++] = ev(P, 0, 1, 200, AT(8, 0));

    /* Nothing yet: the floor, held for good; silver needs 100 in 2 orders. */
    CHECK_EQ_INT(profile_tier_status(e, 0, &cfg, AT(0, 0) - 1, &st), 0);
    CHECK_EQ_INT(st.tier, 0);
    CHECK_EQ_INT(st.next, 1);
    CHECK_NEAR(st.to_next.spend, 100);
    CHECK_EQ_INT(st.to_next.orders, 2);
    CHECK(st.qualified_until_ms == 0 && st.downgrade_ms == 0 && st.after_downgrade == 0);
    /* Day 6: silver (110 in 2 orders); gold lacks 190, 1 order, 5 views.
     * The day-0 order leaves the 30-day window on day 30 (1 order left):
     * silver is met until then and kept 10 days more, then basic. */
    CHECK_EQ_INT(profile_tier_status(e, n, &cfg, AT(6, 0), &st), 0);
    CHECK(st.tier == 1 && st.qualifies == 1 && st.next == 2);
    CHECK_NEAR(st.window_spend, 110);
    CHECK_EQ_INT(st.window_orders, 2);
    CHECK_NEAR(st.to_next.spend, 190);
    CHECK(st.to_next.orders == 1 && st.to_next.engagement == 5);
    CHECK(st.to_keep.spend == 0 && st.to_keep.orders == 0);
    CHECK(st.qualified_until_ms == AT(30, 0) && st.downgrade_ms == AT(40, 0));
    CHECK_EQ_INT(st.after_downgrade, 0);
    /* Day 8: gold, the top; met until day 30 (250 left), dropping on day 40
     * to silver (the window on day 30 held 250 in 2 orders). */
    CHECK_EQ_INT(profile_tier_status(e, n, &cfg, AT(8, 0), &st), 0);
    CHECK(st.tier == 2 && st.next == -1);
    CHECK(st.qualified_until_ms == AT(30, 0) && st.downgrade_ms == AT(40, 0));
    CHECK_EQ_INT(st.after_downgrade, 1);
    /* Day 35: gold through grace only; the window (200 in 1 order, the
     * views) lacks 100 and 2 orders to keep it. */
    CHECK_EQ_INT(profile_tier_status(e, n, &cfg, AT(35, 0), &st), 0);
    CHECK(st.tier == 2 && st.qualifies == 0);
    CHECK_NEAR(st.to_keep.spend, 100);
    CHECK_EQ_INT(st.to_keep.orders, 2);
    CHECK(st.qualified_until_ms == AT(30, 0) && st.downgrade_ms == AT(40, 0));
    /* The same as profile_tier at the downgrade and just before it. */
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(40, 0) - 1), 2);
    CHECK_EQ_INT(tier_on(e, n, &cfg, AT(40, 0)), 1);
    CHECK_EQ_INT(profile_tier_status(NULL, 1, &cfg, AT(0, 0), &st), -EINVAL);
    CHECK_EQ_INT(profile_tier_status(e, n, &cfg, AT(0, 0), NULL), -EINVAL);
}

int main(void)
{
    test_fixture();
    test_order_windows();
    test_prospect();
    test_period_spend();
    test_rfm_quintiles();
    test_segments();
    test_tiers();
    test_tier_status();
    test_lifecycle();
    test_config_and_points();
    TEST_MAIN_END();
}
