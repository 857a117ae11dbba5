/*
 * test_points_guard.c - the points guards (points_guard.c, applied by
 * points.c): velocity limits per UTC day and week across rules and
 * referral bonuses, and rules kept for the first account on a fingerprint,
 * with exact points and balance = sum of the rows; the settings lines and
 * their errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "points.h"
#include "settings_testutil.h"
#include "testutil.h"

#define DAY CIVIL_DAY_MS
#define MON (civil_to_days(2026, 3, 2) * DAY) /* a Monday, 00:00 UTC */
#define MAX_EV 32

typedef struct hist {
    store_event_rec_t ev[MAX_EV];
    const char *ids[MAX_EV];
    char idbuf[MAX_EV][16];
    size_t n;
} hist_t;

static void add(hist_t *h, int type, int64_t t)
{
    snprintf(h->idbuf[h->n], sizeof h->idbuf[0], "e%zu", h->n);
    h->ids[h->n] = h->idbuf[h->n];
    h->ev[h->n++] = (store_event_rec_t){ .type = (uint8_t)type, .item = STORE_NO_ITEM,
                                         .time_ms = t, .quantity = 1 };
}

static void config(profile_config_t *cfg, const char *text)
{
    settings_load_ok("points-guard", text, cfg);
}

static void ledger(const hist_t *h, const points_bonus_t *b, size_t nb, int shared,
                   const profile_config_t *cfg, int64_t now, points_ledger_t *l)
{
    points_history_t ph = { .ev = h->ev, .ids = h->ids, .n = h->n, .bonus = b, .n_bonus = nb,
                            .shared_fingerprint = shared };
    int64_t sum = 0;
    CHECK_EQ_INT(points_ledger_compute(&ph, cfg, now, l), 0);
    for (size_t i = 0; i < l->n; i++)
        sum += l->rows[i].delta;
    CHECK_EQ_INT(sum, l->balance);
}

static void test_velocity(void)
{
    profile_config_t cfg;
    points_ledger_t l;
    hist_t h = { .n = 0 };
    config(&cfg, "points_rule = reviews review points 20\n"
                 "points_velocity = day 50 week 120\n");
    for (int d = 0; d < 3; d++)          /* Monday to Wednesday: 4 reviews a day */
        for (int k = 0; k < 4; k++)
            add(&h, STORE_EVENT_REVIEW, MON + d * DAY + k * 3600000);
    add(&h, STORE_EVENT_REVIEW, MON + 6 * DAY);     /* Sunday: the week is used up */
    add(&h, STORE_EVENT_REVIEW, MON + 7 * DAY);     /* next Monday: a new week */
    ledger(&h, NULL, 0, 0, &cfg, MON + 8 * DAY, &l);
    /* Mon 20+20+10, Tue 20+20+10, Wed 20 (week at 120), Sun 0, next Mon 20 */
    CHECK_EQ_INT(l.balance, 140);
    CHECK_EQ_INT(l.earned, 140);
    CHECK_EQ_INT(l.velocity_cut, 4 * 20 * 3 + 20 + 20 - 140);
    CHECK_EQ_INT(l.rows[2].delta, 10);
    CHECK_EQ_INT(l.rows[l.n - 1].time_ms, MON + 7 * DAY);
    CHECK_EQ_INT(l.rows[l.n - 1].delta, 20);
    points_ledger_free(&l);

    /* a referral bonus counts toward the same limits */
    {
        points_bonus_t b = { .source = "referral:f:o", .points = 500, .time_ms = MON + DAY / 2 };
        hist_t one = { .n = 0 };
        add(&one, STORE_EVENT_REVIEW, MON);
        ledger(&one, &b, 1, 0, &cfg, MON + DAY, &l);
        CHECK_EQ_INT(l.n, 2);
        CHECK_EQ_INT(l.rows[1].reason, POINTS_REFERRAL);
        CHECK_EQ_INT(l.rows[1].delta, 30);
        CHECK_EQ_INT(l.balance, 50);
        CHECK_EQ_INT(l.velocity_cut, 470);
        points_ledger_free(&l);
    }
}

static void test_first_account_only(void)
{
    profile_config_t cfg;
    points_ledger_t l;
    hist_t h = { .n = 0 };
    config(&cfg, "points_rule = welcome signup points 100 first_only\n"
                 "points_rule = reviews review points 20\n");
    add(&h, STORE_EVENT_SIGNUP, MON);
    add(&h, STORE_EVENT_REVIEW, MON + DAY);
    /* the first account on its phone earns both */
    ledger(&h, NULL, 0, 0, &cfg, MON + 2 * DAY, &l);
    CHECK_EQ_INT(l.balance, 120);
    CHECK_EQ_INT(l.withheld, 0);
    points_ledger_free(&l);
    /* a later account on the same phone: no welcome points, reviews still pay */
    ledger(&h, NULL, 0, 1, &cfg, MON + 2 * DAY, &l);
    CHECK_EQ_INT(l.balance, 20);
    CHECK_EQ_INT(l.withheld, 100);
    CHECK_EQ_INT(l.n, 1);
    points_ledger_free(&l);
    /* the guard turned off */
    config(&cfg, "points_rule = welcome signup points 100 first_only\n"
                 "points_first_account_only = none\n");
    ledger(&h, NULL, 0, 1, &cfg, MON + 2 * DAY, &l);
    CHECK_EQ_INT(l.balance, 100);
    points_ledger_free(&l);
    /* reviews guarded too */
    config(&cfg, "points_rule = reviews review points 20\n"
                 "points_first_account_only = signup review\n");
    ledger(&h, NULL, 0, 1, &cfg, MON + 2 * DAY, &l);
    CHECK_EQ_INT(l.balance, 0);
    CHECK_EQ_INT(l.withheld, 20);
    points_ledger_free(&l);
}

static void expect_load_error(const char *text, const char *want)
{
    settings_load_refused("points-guard", text, want);
}

static void test_settings(void)
{
    profile_config_t cfg;
    config(&cfg, "points_velocity = week 700\n");
    CHECK_EQ_INT(cfg.guard.day_cap, 0);
    CHECK_EQ_INT(cfg.guard.week_cap, 700);
    CHECK(points_guard_first_only(&cfg.guard, STORE_EVENT_SIGNUP));
    CHECK(points_guard_first_only(&cfg.guard, STORE_EVENT_REFERRAL_SIGNUP));
    CHECK(!points_guard_first_only(&cfg.guard, STORE_EVENT_PURCHASE));
    expect_load_error("\npoints_velocity = day 0\n", "bad.conf:2: points_velocity: day:");
    expect_load_error("points_velocity = hour 5\n", "points_velocity: expected day N week M");
    expect_load_error("points_velocity = week\n", "points_velocity: week:");
    expect_load_error("points_first_account_only = refund\n",
                      "bad.conf:1: points_first_account_only: TYPE:");
    expect_load_error("points_first_account_only =\n", "points_first_account_only:");
}

int main(void)
{
    test_velocity();
    test_first_account_only();
    test_settings();
    TEST_MAIN_END();
}
