/*
 * test_points.c - the points economy (points.h, points_def.h): every rule
 * kind with exact arithmetic (fixed and per-unit points, category and
 * amount filters, first-only, tier multipliers, daily and lifetime caps,
 * vesting with refunds inside and after the window, expiry oldest first,
 * redemptions, mission rewards), the ledger's invariant (balance = sum of
 * the rows, pending likewise) checked after every event and redemption,
 * and the settings lines with their errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "points.h"
#include "settings_testutil.h"
#include "testutil.h"

#define DAY CIVIL_DAY_MS
#define T0 (civil_to_days(2026, 1, 10) * DAY) /* 2026-01-10 00:00 UTC */
#define MAX_EV 32

/* Items: 0 is shoes (category 0), 1 is a book (category 1). */
static const uint32_t item_category[] = { 0, 1 };

typedef struct hist {
    store_event_rec_t ev[MAX_EV];
    const char *ids[MAX_EV];
    char names[MAX_EV][16];
    size_t n;
    points_redemption_t red[8];
    size_t n_red;
    uint32_t rule_category[POINTS_MAX_RULES];
} hist_t;

static void add(hist_t *h, int type, uint32_t item, int64_t t, int32_t qty, double price)
{
    size_t i = h->n++;
    snprintf(h->names[i], sizeof h->names[i], "e%zu", i + 1);
    h->ids[i] = h->names[i];
    h->ev[i] = (store_event_rec_t){ 0, item, (uint8_t)type, qty, t, price, i, 0 };
}

static void redeem(hist_t *h, const char *id, int64_t points, int64_t t)
{
    h->red[h->n_red++] = (points_redemption_t){ .id = id, .points = points, .time_ms = t };
}

/* The invariant: each row's balance and pending are the running sums of
 * the deltas, and so are the ledger's; rows come in time order. */
static void check_sums(const points_ledger_t *l)
{
    int64_t b = 0, p = 0, t = INT64_MIN;
    for (size_t i = 0; i < l->n; i++) {
        b += l->rows[i].delta;
        p += l->rows[i].pending_delta;
        CHECK(l->rows[i].balance == b && l->rows[i].pending == p);
        CHECK(l->rows[i].time_ms >= t);
        CHECK(l->rows[i].delta != 0 || l->rows[i].pending_delta != 0);
        t = l->rows[i].time_ms;
    }
    CHECK(l->balance == b && l->pending == p);
    CHECK(p >= 0);
}

/* The ledger of h as of now, after checking the invariant on every prefix
 * of the history (each event and redemption added in turn). */
static void ledger(const hist_t *h, const profile_config_t *cfg, int64_t now,
                   points_ledger_t *l)
{
    for (size_t k = 0; k <= h->n; k++) {
        points_history_t ph = { .ev = h->ev, .ids = h->ids, .n = k, .red = h->red,
                                .n_red = h->n_red, .item_category = item_category,
                                .n_items = 2, .rule_category = h->rule_category };
        points_ledger_t part;
        CHECK_EQ_INT(points_ledger_compute(&ph, cfg, now, &part), 0);
        check_sums(&part);
        if (k < h->n)
            points_ledger_free(&part);
        else
            *l = part;
    }
}

static void expect_row(const points_ledger_t *l, size_t i, points_reason_t why, int64_t t,
                       int64_t delta, int64_t pending_delta, const char *source)
{
    CHECK(i < l->n);
    if (i >= l->n)
        return;
    if (l->rows[i].reason != why || l->rows[i].time_ms != t || l->rows[i].delta != delta ||
        l->rows[i].pending_delta != pending_delta || strcmp(l->rows[i].source, source)) {
        fprintf(stderr, "row %zu: %s at %lld %+lld/%+lld from %s, expected %s at %lld "
                "%+lld/%+lld from %s\n", i, points_reason_name(l->rows[i].reason),
                (long long)l->rows[i].time_ms, (long long)l->rows[i].delta,
                (long long)l->rows[i].pending_delta, l->rows[i].source,
                points_reason_name(why), (long long)t, (long long)delta,
                (long long)pending_delta, source);
        CHECK(0);
    }
}

/* Rules from settings lines (the file's syntax), on top of the defaults. */
static void config(profile_config_t *cfg, const char *lines)
{
    settings_load_ok("points", lines, cfg);
}

static void all_categories_known(hist_t *h, const profile_config_t *cfg)
{
    for (size_t k = 0; k < points_rule_count(cfg); k++) {
        points_rule_t tmp;
        const points_rule_t *r = points_rule_at(cfg, k, &tmp);
        h->rule_category[k] = !r->category[0] ? POINTS_ANY_CATEGORY
                              : strcmp(r->category, "shoes") == 0 ? 0
                              : strcmp(r->category, "books") == 0 ? 1
                                                                   : POINTS_UNKNOWN_CATEGORY;
    }
}

/* No rules: one point per unit spent on purchases, at once, forever; a
 * refund takes its share back. */
static void test_default_rule(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    profile_config_default(&cfg);
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_PURCHASE, 0, T0, 1, 12.5);
    add(&h, STORE_EVENT_PURCHASE, 1, T0 + 1000, 2, 10.0);
    add(&h, STORE_EVENT_VIEW, 1, T0 + 2000, 1, 10.0);
    add(&h, STORE_EVENT_REFUND, 1, T0 + DAY, 1, 10.0);
    ledger(&h, &cfg, T0 + 400 * DAY, &l);
    CHECK_EQ_INT(l.n, 3);
    expect_row(&l, 0, POINTS_EARN, T0, 12, 0, "e1");
    expect_row(&l, 1, POINTS_EARN, T0 + 1000, 20, 0, "e2");
    expect_row(&l, 2, POINTS_ADJUST, T0 + DAY, -10, 0, "e4");
    CHECK_EQ_INT(l.balance, 22);
    CHECK_EQ_INT(l.earned, 22);
    CHECK_STREQ(points_rule_name(&cfg, l.rows[0].rule), "purchase");
    points_ledger_free(&l);
}

/* Purchase points vest after the return window; a refund inside it
 * cancels the refunded share of the pending points, one after it takes
 * available points back. */
static void test_vesting_and_refunds(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    config(&cfg, "points_rule = buy purchase per_unit 1 vest_days 30\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_PURCHASE, 0, T0, 4, 25.0);            /* 100 pending */
    add(&h, STORE_EVENT_REFUND, 0, T0 + 5 * DAY, 1, 25.0);    /* inside: cancels 25 */
    add(&h, STORE_EVENT_PURCHASE, 1, T0 + 10 * DAY, 2, 30.0); /* 60 pending */
    add(&h, STORE_EVENT_REFUND, 1, T0 + 50 * DAY, 1, 30.0);   /* after: takes 30 back */

    ledger(&h, &cfg, T0 + 29 * DAY, &l);
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.pending, 135);
    CHECK_EQ_INT(l.next_vest_ms, T0 + 30 * DAY);
    CHECK_EQ_INT(l.next_vest_points, 75);
    points_ledger_free(&l);

    ledger(&h, &cfg, T0 + 60 * DAY, &l);
    CHECK_EQ_INT(l.n, 6);
    expect_row(&l, 0, POINTS_EARN, T0, 0, 100, "e1");
    CHECK_EQ_INT(l.rows[0].bucket_ms, T0 + 30 * DAY);
    expect_row(&l, 1, POINTS_CANCEL, T0 + 5 * DAY, 0, -25, "e2");
    expect_row(&l, 2, POINTS_EARN, T0 + 10 * DAY, 0, 60, "e3");
    expect_row(&l, 3, POINTS_VEST, T0 + 30 * DAY, 75, -75, "e1");
    expect_row(&l, 4, POINTS_VEST, T0 + 40 * DAY, 60, -60, "e3");
    expect_row(&l, 5, POINTS_ADJUST, T0 + 50 * DAY, -30, 0, "e4");
    CHECK_EQ_INT(l.balance, 105);
    CHECK_EQ_INT(l.pending, 0);
    CHECK_EQ_INT(l.earned, 105);
    CHECK_EQ_INT(l.next_vest_ms, 0);
    points_ledger_free(&l);

    /* Refunding the rest of the first purchase inside the window cancels
     * exactly what is left of its points (parts add up to the whole). */
    h.n = 2;
    add(&h, STORE_EVENT_REFUND, 0, T0 + 6 * DAY, 3, 25.0);
    ledger(&h, &cfg, T0 + 60 * DAY, &l);
    CHECK_EQ_INT(l.n, 3);
    expect_row(&l, 2, POINTS_CANCEL, T0 + 6 * DAY, 0, -75, "e3");
    CHECK_EQ_INT(l.pending, 0);
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.earned, 0);
    points_ledger_free(&l);
}

/* Buckets expire N months after they vest, and redemptions spend the
 * oldest first, so what expires is what was left of the old ones. */
static void test_expiry_oldest_first(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;
    int64_t jan10 = T0, jan20 = T0 + 10 * DAY, feb5 = civil_to_days(2026, 2, 5) * DAY;
    int64_t feb1 = civil_to_days(2026, 2, 1) * DAY;

    config(&cfg, "points_rule = visit check_in points 10\n"
                 "points_expiry = months 1\n"
                 "points_expiring_soon_days = 20\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, jan10, 0, 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, jan20, 0, 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, feb5, 0, 0);
    redeem(&h, "r1", 15, feb1);

    ledger(&h, &cfg, feb5, &l);
    CHECK_EQ_INT(l.balance, 15);
    /* expiring within 20 days of Feb 5: the 5 left of Jan 20 (Feb 20) */
    CHECK_EQ_INT(l.expiring_soon, 5);
    CHECK_EQ_INT(l.expiring_soon_ms, civil_to_days(2026, 2, 20) * DAY);
    points_ledger_free(&l);

    ledger(&h, &cfg, civil_to_days(2026, 3, 31) * DAY, &l);
    CHECK_EQ_INT(l.n, 6);
    expect_row(&l, 0, POINTS_EARN, jan10, 10, 0, "e1");
    expect_row(&l, 1, POINTS_EARN, jan20, 10, 0, "e2");
    expect_row(&l, 2, POINTS_REDEEM, feb1, -15, 0, "r1");
    expect_row(&l, 3, POINTS_EARN, feb5, 10, 0, "e3");
    /* Jan 10's bucket was spent whole: nothing of it expires on Feb 10 */
    expect_row(&l, 4, POINTS_EXPIRE, civil_to_days(2026, 2, 20) * DAY, -5, 0, "e2");
    expect_row(&l, 5, POINTS_EXPIRE, civil_to_days(2026, 3, 5) * DAY, -10, 0, "e3");
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.expired, 15);
    CHECK_EQ_INT(l.redeemed, 15);
    points_ledger_free(&l);

    /* year_end 0: everything vested in 2026 expires at 2027-01-01. */
    config(&cfg, "points_rule = visit check_in points 10\npoints_expiry = year_end 0\n");
    ledger(&h, &cfg, civil_to_days(2027, 1, 1) * DAY, &l);
    CHECK_EQ_INT(l.n, 6);
    expect_row(&l, 4, POINTS_EXPIRE, civil_to_days(2027, 1, 1) * DAY, -5, 0, "e2");
    expect_row(&l, 5, POINTS_EXPIRE, civil_to_days(2027, 1, 1) * DAY, -10, 0, "e3");
    CHECK_EQ_INT(l.balance, 0);
    points_ledger_free(&l);
}

/* A multiplier applies the tier held when the event happened. */
static void test_multipliers(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    config(&cfg, "tier = bronze 0 0 0\n"
                 "tier = gold 100 2 0\n"
                 "points_rule = buy purchase per_unit 1 multiplier gold 1.5 multiplier bronze 1\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_PURCHASE, 0, T0, 1, 50.0);          /* bronze: 50 */
    add(&h, STORE_EVENT_PURCHASE, 1, T0 + DAY, 1, 61.0);    /* gold now: 61 x 1.5 = 91 */
    ledger(&h, &cfg, T0 + 2 * DAY, &l);
    CHECK_EQ_INT(l.n, 2);
    expect_row(&l, 0, POINTS_EARN, T0, 50, 0, "e1");
    expect_row(&l, 1, POINTS_EARN, T0 + DAY, 91, 0, "e2");
    CHECK_EQ_INT(l.balance, 141);
    points_ledger_free(&l);

    /* Without the rule's own, the tier's benefit multiplies. */
    config(&cfg, "tier = bronze 0 0 0\n"
                 "tier = gold 100 2 0\n"
                 "tier_benefits = gold points_multiplier=2\n"
                 "points_rule = buy purchase per_unit 1\n");
    ledger(&h, &cfg, T0 + 2 * DAY, &l);
    CHECK_EQ_INT(l.n, 2);
    expect_row(&l, 1, POINTS_EARN, T0 + DAY, 122, 0, "e2");
    CHECK_EQ_INT(l.balance, 172);
    points_ledger_free(&l);
}

/* Daily caps count per UTC day, lifetime caps forever; first_only pays
 * once; category and min_amount filter what a rule pays for. */
static void test_caps_and_filters(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    config(&cfg, "points_rule = reviews review points 20 daily_cap 30 lifetime_cap 50\n"
                 "points_rule = welcome signup points 100 first_only\n"
                 "points_rule = shoes purchase per_unit 2 category shoes min_amount 20\n"
                 "points_rule = base purchase per_unit 1\n"
                 "points_rule = garden purchase points 5 category \"Garden & Patio\"\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_SIGNUP, STORE_NO_ITEM, T0, 0, 0);       /* 100 */
    add(&h, STORE_EVENT_SIGNUP, STORE_NO_ITEM, T0 + 1, 0, 0);   /* not again */
    add(&h, STORE_EVENT_REVIEW, 0, T0 + 2, 0, 0);               /* 20 */
    add(&h, STORE_EVENT_REVIEW, 1, T0 + 3, 0, 0);               /* 10: day cap 30 */
    add(&h, STORE_EVENT_REVIEW, 1, T0 + DAY, 0, 0);             /* 20: a new day */
    add(&h, STORE_EVENT_REVIEW, 0, T0 + DAY + 1, 0, 0);         /* 0: lifetime 50 */
    add(&h, STORE_EVENT_PURCHASE, 0, T0 + 2 * DAY, 1, 10.0);    /* shoes under 20: base 10 */
    add(&h, STORE_EVENT_PURCHASE, 0, T0 + 3 * DAY, 3, 10.0);    /* shoes 30: 60 + base 30 */
    add(&h, STORE_EVENT_PURCHASE, 1, T0 + 4 * DAY, 1, 30.0);    /* a book: base 30 */
    ledger(&h, &cfg, T0 + 5 * DAY, &l);
    CHECK_EQ_INT(l.n, 8);
    expect_row(&l, 0, POINTS_EARN, T0, 100, 0, "e1");
    expect_row(&l, 1, POINTS_EARN, T0 + 2, 20, 0, "e3");
    expect_row(&l, 2, POINTS_EARN, T0 + 3, 10, 0, "e4");
    expect_row(&l, 3, POINTS_EARN, T0 + DAY, 20, 0, "e5");
    expect_row(&l, 4, POINTS_EARN, T0 + 2 * DAY, 10, 0, "e7");
    expect_row(&l, 5, POINTS_EARN, T0 + 3 * DAY, 60, 0, "e8");
    CHECK_STREQ(points_rule_name(&cfg, l.rows[5].rule), "shoes");
    expect_row(&l, 6, POINTS_EARN, T0 + 3 * DAY, 30, 0, "e8");
    CHECK_STREQ(points_rule_name(&cfg, l.rows[6].rule), "base");
    expect_row(&l, 7, POINTS_EARN, T0 + 4 * DAY, 30, 0, "e9");
    CHECK_EQ_INT(l.balance, 280);
    points_ledger_free(&l);

    /* Without a catalog, a category rule pays nothing. */
    {
        points_history_t ph = { .ev = h.ev, .ids = h.ids, .n = h.n };
        CHECK_EQ_INT(points_ledger_compute(&ph, &cfg, T0 + 5 * DAY, &l), 0);
        CHECK_EQ_INT(l.balance, 220);
        points_ledger_free(&l);
    }
}

/* A redemption beyond the balance at its time (a backdated refund arrived
 * later) leaves a debt that the next points pay back first; a redemption
 * stored without a time happens at now; later ones are not yet counted. */
static void test_redemptions(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    profile_config_default(&cfg);
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_PURCHASE, 0, T0, 1, 40.0);
    add(&h, STORE_EVENT_REFUND, 0, T0 + DAY, 1, 40.0);
    add(&h, STORE_EVENT_PURCHASE, 1, T0 + 3 * DAY, 1, 50.0);
    redeem(&h, "r-after-refund", 30, T0 + 2 * DAY);
    redeem(&h, "r-legacy", 5, 0);
    redeem(&h, "r-future", 7, T0 + 100 * DAY);
    ledger(&h, &cfg, T0 + 10 * DAY, &l);
    CHECK_EQ_INT(l.n, 5);
    expect_row(&l, 2, POINTS_REDEEM, T0 + 2 * DAY, -30, 0, "r-after-refund");
    CHECK_EQ_INT(l.rows[2].balance, -30);
    expect_row(&l, 3, POINTS_EARN, T0 + 3 * DAY, 50, 0, "e3");
    expect_row(&l, 4, POINTS_REDEEM, T0 + 10 * DAY, -5, 0, "r-legacy");
    CHECK_EQ_INT(l.balance, 15);
    CHECK_EQ_INT(points_available(&l), 15);
    CHECK_EQ_INT(l.redeemed, 35);
    points_ledger_free(&l);
}

static void adjust(hist_t *h, const char *id, int64_t delta, int64_t t, const char *why)
{
    h->red[h->n_red++] = (points_redemption_t){ .id = id, .time_ms = t, .adjust = delta,
                                                .note = why };
}

/* Manual adjustments (AdjustPoints): up, a bucket of their own that vests
 * at once and expires as earned points do (its vest and expiry rows name
 * the adjustment); down, spent oldest bucket first. Each is an adjust row
 * without a rule, with the reason as its note; no refund takes an
 * adjustment's bucket back. */
static void test_adjustments(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;
    int64_t feb10 = civil_to_days(2026, 2, 10) * DAY, mar10 = civil_to_days(2026, 3, 10) * DAY;

    config(&cfg, "points_rule = buy purchase per_unit 1\npoints_expiry = months 1\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_PURCHASE, 0, T0, 1, 40.0);             /* +40, expires Feb 10 */
    adjust(&h, "goodwill", 25, T0 + DAY, "late delivery");     /* +25, expires Feb 11 */
    add(&h, STORE_EVENT_PURCHASE, 0, T0 + 2 * DAY, 1, 30.0);   /* +30 */
    add(&h, STORE_EVENT_REFUND, 0, T0 + 3 * DAY, 2, 30.0);     /* both purchases back: -70 */
    adjust(&h, "fix-1", -20, T0 + 4 * DAY, "double credit");   /* from the goodwill bucket */
    redeem(&h, "r1", 5, T0 + 5 * DAY);

    ledger(&h, &cfg, T0 + 4 * DAY, &l);
    CHECK_EQ_INT(l.n, 6);
    expect_row(&l, 0, POINTS_EARN, T0, 40, 0, "e1");
    expect_row(&l, 1, POINTS_ADJUST, T0 + DAY, 25, 0, "goodwill");
    CHECK_EQ_INT(l.rows[1].rule, -1);
    CHECK_STREQ(l.rows[1].note, "late delivery");
    CHECK_STREQ(l.rows[0].note, "");
    expect_row(&l, 2, POINTS_EARN, T0 + 2 * DAY, 30, 0, "e2");
    /* the refund of 2 units takes back 30 (the later purchase) and 40, not
     * the adjustment's bucket */
    expect_row(&l, 3, POINTS_ADJUST, T0 + 3 * DAY, -30, 0, "e3");
    expect_row(&l, 4, POINTS_ADJUST, T0 + 3 * DAY, -40, 0, "e3");
    CHECK_EQ_INT(l.rows[4].balance, 25);
    expect_row(&l, 5, POINTS_ADJUST, T0 + 4 * DAY, -20, 0, "fix-1");
    CHECK_STREQ(l.rows[5].note, "double credit");
    CHECK_EQ_INT(l.balance, 5);
    CHECK_EQ_INT(l.adjusted, 5);
    CHECK_EQ_INT(l.earned, 0);
    points_ledger_free(&l);

    ledger(&h, &cfg, T0 + 5 * DAY, &l);
    expect_row(&l, 6, POINTS_REDEEM, T0 + 5 * DAY, -5, 0, "r1");
    CHECK_EQ_INT(l.balance, 0);
    points_ledger_free(&l);

    /* Without r1 the adjustment's last 5 expire on Feb 11, named by it. */
    h.n_red--;
    ledger(&h, &cfg, mar10, &l);
    CHECK_EQ_INT(l.n, 7);
    expect_row(&l, 6, POINTS_EXPIRE, feb10 + DAY, -5, 0, "goodwill");
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.expired, 5);
    points_ledger_free(&l);
}

/* Missions pay their reward as a mission row right after the event that
 * completed them: a bucket available at once, spent oldest first, expiring
 * like the others (its expire row names the mission), never taken back by
 * a refund of the purchase that completed it. */
static void test_missions_ledger(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;
    int64_t jan1 = civil_to_days(2026, 1, 1) * DAY + DAY / 2; /* 12:00 UTC */

    config(&cfg, "points_rule = visit check_in points 5\n"
                 "points_rule = buy purchase per_unit 1\n"
                 "mission = streak3 check_in streak_days 3 reward_points 100 repeat monthly\n"
                 "mission = buyer purchase count 1 reward_points 20\n"
                 "points_expiry = months 1\n");
    all_categories_known(&h, &cfg);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, jan1, 0, 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, jan1 + DAY, 0, 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, jan1 + 2 * DAY, 0, 0);
    add(&h, STORE_EVENT_PURCHASE, 0, jan1 + 3 * DAY, 1, 10.0);
    add(&h, STORE_EVENT_REFUND, 0, jan1 + 4 * DAY, 1, 10.0);
    redeem(&h, "r1", 50, jan1 + 9 * DAY);

    ledger(&h, &cfg, jan1 + 19 * DAY, &l);
    CHECK_EQ_INT(l.n, 8);
    expect_row(&l, 0, POINTS_EARN, jan1, 5, 0, "e1");
    expect_row(&l, 2, POINTS_EARN, jan1 + 2 * DAY, 5, 0, "e3");
    expect_row(&l, 3, POINTS_MISSION, jan1 + 2 * DAY, 100, 0, "streak3:2026-01");
    CHECK_EQ_INT(l.rows[3].mission, 0);
    CHECK_EQ_INT(l.rows[3].rule, -1);
    CHECK_EQ_INT(l.rows[2].mission, -1);
    expect_row(&l, 4, POINTS_EARN, jan1 + 3 * DAY, 10, 0, "e4");
    expect_row(&l, 5, POINTS_MISSION, jan1 + 3 * DAY, 20, 0, "buyer:once");
    CHECK_EQ_INT(l.rows[5].mission, 1);
    expect_row(&l, 6, POINTS_ADJUST, jan1 + 4 * DAY, -10, 0, "e5");
    expect_row(&l, 7, POINTS_REDEEM, jan1 + 9 * DAY, -50, 0, "r1");
    CHECK_EQ_INT(l.balance, 85);
    CHECK_EQ_INT(l.mission_points, 120);
    CHECK_EQ_INT(l.earned, 15);
    CHECK_EQ_INT(l.missions.n_done, 2);
    CHECK_EQ_INT(l.missions.progress[0].completions, 1);
    points_ledger_free(&l);

    /* The redemption took the three visits' 15 and 35 of the streak's 100
     * (oldest first): 65 of it expires a month after, then the buyer's 20. */
    ledger(&h, &cfg, jan1 + 40 * DAY, &l);
    CHECK_EQ_INT(l.n, 10);
    expect_row(&l, 8, POINTS_EXPIRE, civil_to_days(2026, 2, 3) * DAY + DAY / 2, -65, 0,
               "streak3:2026-01");
    CHECK_EQ_INT(l.rows[8].mission, 0);
    CHECK_EQ_INT(l.rows[8].rule, -1);
    expect_row(&l, 9, POINTS_EXPIRE, civil_to_days(2026, 2, 4) * DAY + DAY / 2, -20, 0,
               "buyer:once");
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.expired, 85);
    points_ledger_free(&l);
}

/* Earnings stop at PROFILE_MAX_POINTS held, so the sum never overflows. */
static void test_saturation(void)
{
    profile_config_t cfg;
    hist_t h = { .n = 0 };
    points_ledger_t l;

    profile_config_default(&cfg);
    all_categories_known(&h, &cfg);
    for (int i = 0; i < 20; i++)
        add(&h, STORE_EVENT_PURCHASE, 0, T0 + i, STORE_MAX_QUANTITY, STORE_MAX_PRICE);
    ledger(&h, &cfg, T0 + DAY, &l);
    CHECK(l.balance == PROFILE_MAX_POINTS);
    CHECK_EQ_INT(l.n, 10); /* 9 x 10^15, then the rest up to 2^53 */
    points_ledger_free(&l);
}

static void expect_load_error(const char *text, const char *want)
{
    settings_load_refused("points", text, want);
}

static void test_settings(void)
{
    profile_config_t cfg;
    const points_rule_t *r;

    config(&cfg, "points_per_unit = 2\n"
                 "points_rule = buy purchase per_unit 1.5 vest_days 30 daily_cap 500\n"
                 "points_rule = hello signup points 200 first_only\n"
                 "points_expiry = months 12\n");
    CHECK_EQ_INT(cfg.points.n_rules, 2);
    r = &cfg.points.rules[0];
    CHECK(r->type == STORE_EVENT_PURCHASE && r->per_unit == 1.5 && r->vest_days == 30 &&
          r->daily_cap == 500 && r->line == 2);
    r = &cfg.points.rules[1];
    CHECK(r->type == STORE_EVENT_SIGNUP && r->fixed == 200 && r->first_only);
    CHECK(cfg.points.expiry == POINTS_EXPIRY_MONTHS && cfg.points.expiry_n == 12);
    CHECK(cfg.points_per_unit == 2);

    expect_load_error("\n\npoints_rule = x review points -5\n", ":3: points_rule: points:");
    expect_load_error("points_rule = x review points 5 bonus 3\n",
                      ":1: points_rule: unknown option \"bonus\"");
    expect_load_error("points_rule = x review\n", "points or per_unit");
    expect_load_error("points_rule = x review points 5 per_unit 1\n", "points or per_unit");
    expect_load_error("points_rule = x refund points 5\n", "TYPE:");
    expect_load_error("points_rule = x reviews points 5\n", "TYPE:");
    expect_load_error("points_rule = x review points 5\npoints_rule = x signup points 1\n",
                      ":2: points_rule: NAME:");
    expect_load_error("points_rule = x review points 5 vest_days 4000\n", "vest_days:");
    expect_load_error("points_rule = x review points 5 daily_cap 0\n", "daily_cap:");
    expect_load_error("points_rule = x review points 5 multiplier gold\n", "multiplier:");
    expect_load_error("tier = base 0 0 0\n"
                      "points_rule = x review points 5 multiplier gold 2\n",
                      ":2: points_rule: multiplier: no tier");
    expect_load_error("points_expiry = weeks 3\n", "points_expiry: expected never");
    expect_load_error("points_expiry = months 0\n", "months:");
    expect_load_error("points_expiring_soon_days = -1\n", "points_expiring_soon_days:");
    expect_load_error("points_rule = x review points 5 category \"Garden\n", "unterminated");
}

int main(void)
{
    test_default_rule();
    test_vesting_and_refunds();
    test_expiry_oldest_first();
    test_multipliers();
    test_caps_and_filters();
    test_redemptions();
    test_adjustments();
    test_missions_ledger();
    test_saturation();
    test_settings();
    TEST_MAIN_END();
}
