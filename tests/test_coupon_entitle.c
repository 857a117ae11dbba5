/*
 * test_coupon_entitle.c - guaranteed coupons (recsys/coupons/coupon.h,
 * coupon_entitlements): entitlements beside the uplift decision, once per
 * calendar period, never held out, still under the guards; anniversaries
 * and spend milestones ("spend 1,000 this year, get a voucher").
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "coupon.h"
#include "coupon_fixtures.h"
#include "testutil.h"

static coupon_t birthday_gift(void)
{
    coupon_t c = percent_coupon("bday");
    c.type = COUPON_BIRTHDAY;
    c.benefit[0].kind = COUPON_BENEFIT_AMOUNT;
    c.benefit[0].amount = 5.0;
    c.valid_from_ms = JUNE_2024 - 30 * DAY_MS;
    c.valid_until_ms = JUNE_2024 + 730 * DAY_MS;
    c.per_customer_limit = 10;
    c.mode = COUPON_GUARANTEED;
    c.period = COUPON_PERIOD_YEAR;
    return c;
}

static void test_period_bounds(void)
{
    int64_t a, b;
    /* JUNE_2024 is Monday 2024-06-10 06:13 UTC */
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_WEEK, JUNE_2024, &a, &b), 0);
    CHECK(a == 1717977600000LL && b == a + 7 * DAY_MS);
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_WEEK, a - 1, &a, &b), 0);
    CHECK(a == 1717977600000LL - 7 * DAY_MS);   /* Sunday belongs to the week before */
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_MONTH, JUNE_2024, &a, &b), 0);
    CHECK(a == 1717200000000LL && b == 1719792000000LL);   /* June 1 .. July 1 */
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_MONTH, 1733011200000LL, &a, &b), 0);
    CHECK(b == 1735689600000LL);                           /* December .. next year */
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_YEAR, JUNE_2024, &a, &b), 0);
    CHECK(a == 1704067200000LL && b == 1735689600000LL);
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_ONCE, JUNE_2024, &a, &b), 0);
    CHECK(a == 0 && b == INT64_MAX);
    CHECK_EQ_INT(coupon_period_bounds(COUPON_PERIOD_NONE, JUNE_2024, &a, &b), -EINVAL);
}

static void test_entitlement_definitions(void)
{
    coupon_t c = birthday_gift();
    CHECK(coupon_invalid(&c) == NULL);
    c.period = COUPON_PERIOD_NONE;
    CHECK(msg_names(coupon_invalid(&c), "period"));
    c.mode = COUPON_TARGETED;
    CHECK(coupon_invalid(&c) == NULL);
    c.period = COUPON_PERIOD_MONTH;   /* a period only means something guaranteed */
    CHECK(msg_names(coupon_invalid(&c), "period"));
    c.mode = (coupon_mode_t)7;
    CHECK(msg_names(coupon_invalid(&c), "mode"));
    c = percent_coupon("pack");
    c.type = COUPON_WELCOME_PACK;
    c.n_benefits = 2;
    c.benefit[1] = c.benefit[0];
    c.mode = COUPON_GUARANTEED;
    c.period = COUPON_PERIOD_YEAR;
    CHECK(msg_names(coupon_invalid(&c), "period"));
    c.period = COUPON_PERIOD_ONCE;
    CHECK(coupon_invalid(&c) == NULL);
}

/* The uplift decision declines; the promise is kept anyway, and the
 * decision never sees the guaranteed coupon. */
static void test_entitlement_beside_the_decision(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);
    cfg.holdout_rate = 0.0;
    cfg.explore_rate = 0.0;
    uplift_config_t ucfg;
    uplift_config_default(&ucfg);
    ucfg.prior[PROFILE_STAGE_ACTIVE] = (uplift_prior_t){ 0.80, 0.0 };  /* buys anyway */
    uplift_model_t m;
    CHECK_EQ_INT(uplift_model_init(&m, &ucfg), 0);
    coupon_t cs[2] = { birthday_gift(), percent_coupon("p10") };
    coupon_model_t models[2] = { { &m, NULL }, { &m, NULL } };
    coupon_customer_t cu = customer("sure", PROFILE_STAGE_ACTIVE, 50);
    coupon_entitlement_t es[2];
    coupon_decision_t d;

    cu.birth_month = 6;
    CHECK_EQ_INT(coupon_decide(cs, 2, models, NULL, &cu, NULL, NULL, &cfg, JUNE_2024, &d,
                               NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_NOT_WORTH);
    CHECK_EQ_INT(d.n_eligible, 1);      /* p10 only */
    CHECK(strstr(d.reason, "p10") != NULL);
    CHECK_EQ_INT(coupon_entitlements(cs, 2, &cu, NULL, NULL, &cfg, JUNE_2024, es), 1);
    CHECK_EQ_INT(es[0].index, 0);
    CHECK_EQ_INT(es[0].status, COUPON_ENTITLED_GRANT);
    CHECK(es[0].granted_ms == JUNE_2024);
    CHECK(es[0].valid_until_ms == 1735689600000LL);  /* the end of 2024 */
    CHECK(NEAR(es[0].max_cost, 5.0, 1e-12));
    CHECK(strstr(es[0].reason, "bday") && strstr(es[0].reason, "year"));

    /* A held, unused birthday gift keeps no targeted coupon out: p10 is not
     * stackable, yet still decided on (a held targeted coupon would block). */
    {
        coupon_held_t gift = { "bday", 1, 1, 0, JUNE_2024, 1735689600000LL, 1 };
        coupon_history_t hist = { &gift, 1, NULL, 0, 0 };
        CHECK_EQ_INT(coupon_decide(cs, 2, models, NULL, &cu, &hist, NULL, &cfg, JUNE_2024,
                                   &d, NULL, NULL), 0);
        CHECK_EQ_INT(d.outcome, COUPON_NONE_NOT_WORTH);
        gift.entitlement = 0;
        CHECK_EQ_INT(coupon_decide(cs, 2, models, NULL, &cu, &hist, NULL, &cfg, JUNE_2024,
                                   &d, NULL, NULL), 0);
        CHECK_EQ_INT(d.outcome, COUPON_NONE_INELIGIBLE);
    }

    /* Only guaranteed coupons: the decision has nothing to decide. */
    CHECK_EQ_INT(coupon_decide(cs, 1, models, NULL, &cu, NULL, NULL, &cfg, JUNE_2024, &d,
                               NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_INELIGIBLE);

    /* Not the birth month, or the wrong tier: not listed at all. */
    cu.birth_month = 7;
    CHECK_EQ_INT(coupon_entitlements(cs, 2, &cu, NULL, NULL, &cfg, JUNE_2024, es), 0);
    cu.birth_month = 6;
    cs[0].tier_mask = 1u << 2;
    CHECK_EQ_INT(coupon_entitlements(cs, 2, &cu, NULL, NULL, &cfg, JUNE_2024, es), 0);
    cs[0].tier_mask = 0;
    CHECK_EQ_INT(coupon_entitlements(cs, 2, NULL, NULL, NULL, &cfg, JUNE_2024, es), -EINVAL);
}

/* Once per period: held in this one (even redeemed), granted again in the
 * next; the per-customer limit still caps a lifetime. */
static void test_entitlement_once_per_period(void)
{
    coupon_t c = birthday_gift();
    coupon_customer_t cu = customer("c1", PROFILE_STAGE_ACTIVE, 50);
    coupon_held_t held = { "bday", 1, 0, 0, JUNE_2024 - 2 * DAY_MS, 1735689600000LL, 1 };
    coupon_history_t hist = { &held, 1, NULL, 0, 0 };
    coupon_entitlement_t e;
    const int64_t june_2025 = JUNE_2024 + 365 * DAY_MS;

    cu.birth_month = 6;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_HELD);
    CHECK(e.granted_ms == held.last_grant_ms && e.valid_until_ms == held.valid_until_ms);
    CHECK(strstr(e.reason, "already") != NULL);
    /* a still-active grant of an earlier period is not stacked a second time */
    held.active = 1;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, june_2025, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_HELD);
    held.active = 0;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, june_2025, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);
    CHECK(e.valid_until_ms == 1767225600000LL);     /* the end of 2025 */
    held.granted = c.per_customer_limit;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, june_2025, &e), 0);

    /* a monthly perk: next month is a new period */
    c = birthday_gift();
    c.type = COUPON_FIXED;
    c.period = COUPON_PERIOD_MONTH;
    held = (coupon_held_t){ "bday", 1, 0, 0, JUNE_2024, 0, 1 };
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, JUNE_2024 + DAY_MS, &e),
                 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_HELD);
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, JUNE_2024 + 21 * DAY_MS,
                                     &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);   /* July 1 */
}

/* A signup-anniversary gift, guaranteed once a year: in the signup month of
 * a later year only. */
static void test_anniversary(void)
{
    coupon_t c = birthday_gift();
    coupon_customer_t cu = customer("c1", PROFILE_STAGE_ACTIVE, 50);
    coupon_entitlement_t e;
    const char *why = NULL;

    c.type = COUPON_ANNIVERSARY;
    CHECK_STREQ(coupon_type_name(c.type), "anniversary");
    CHECK(coupon_invalid(&c) == NULL);
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 0);
    cu.signup_ms = JUNE_2024 - 365 * DAY_MS - 20 * DAY_MS;   /* 2023-05-22 */
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    CHECK(why && strstr(why, "anniversary"));
    cu.signup_ms = JUNE_2024 - 365 * DAY_MS - 5 * DAY_MS;    /* 2023-06-06 */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);
    cu.signup_ms = JUNE_2024 - 5 * DAY_MS;                   /* signed up this month */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 0);
}

/* Never held out, never explored, no weekly cap; velocity limits hold. */
static void test_entitlement_guards(void)
{
    coupon_config_t cfg;
    coupon_t c = birthday_gift();
    coupon_entitlement_t e;
    char id[32];
    int i;

    coupon_config_default(&cfg);
    cfg.explore_rate = 0.5;
    for (i = 0;; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        if (coupon_in_holdout(id, &cfg))
            break;
    }
    coupon_customer_t cu = customer(id, PROFILE_STAGE_ACTIVE, 50);
    int64_t grants[3] = { JUNE_2024 - 3000, JUNE_2024 - 2000, JUNE_2024 - 1000 };
    coupon_history_t hist = { NULL, 0, grants, 3, 0 };   /* past the weekly cap of 2 */
    cu.birth_month = 6;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, &cfg, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);

    coupon_velocity_t vel = { 4, 0, 0, 0 };   /* a 4th account on a device, limit 3 */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, &vel, &cfg, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_VELOCITY);
    CHECK(strstr(e.reason, "device") != NULL);
    cfg.max_accounts_per_device = 4;          /* tuned by the operator */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, &vel, &cfg, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);
    vel = (coupon_velocity_t){ 0, 0, 0, 5 };  /* 5 redemptions today */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, &vel, &cfg, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_VELOCITY);
}

/* A spend milestone: "spend 100 this year, get a voucher". Entitled from the
 * moment the year's net spend reaches it (exactly at 100: reached), once a
 * year; a targeted coupon cannot have one, nor a negative one. */
static void test_spend_milestone(void)
{
    coupon_t c = birthday_gift();
    coupon_customer_t cu = customer("c1", PROFILE_STAGE_ACTIVE, 50);
    coupon_entitlement_t e;

    c.type = COUPON_FIXED;
    c.milestone_spend = 100.0;
    CHECK(coupon_invalid(&c) == NULL);
    cu.period_spend[COUPON_PERIOD_YEAR] = 99.99;
    cu.period_spend[COUPON_PERIOD_ONCE] = 500.0;  /* lifetime spend does not count */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 0);
    cu.period_spend[COUPON_PERIOD_YEAR] = 0.1 + 0.2 + 99.7; /* 100 with rounding */
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_GRANT);
    CHECK(strstr(e.reason, "spent 100.00 of the 100.00 milestone") != NULL);
    CHECK(e.valid_until_ms == 1735689600000LL);  /* the end of 2024 */

    /* granted this year: held, not granted twice */
    coupon_held_t held = { "bday", 1, 1, 0, JUNE_2024, 1735689600000LL, 1 };
    coupon_history_t hist = { &held, 1, NULL, 0, 0 };
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, &hist, NULL, NULL, JUNE_2024, &e), 1);
    CHECK_EQ_INT(e.status, COUPON_ENTITLED_HELD);

    /* ONCE counts all the spend ever */
    c.period = COUPON_PERIOD_ONCE;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 1);
    cu.period_spend[COUPON_PERIOD_ONCE] = 50.0;
    CHECK_EQ_INT(coupon_entitlements(&c, 1, &cu, NULL, NULL, NULL, JUNE_2024, &e), 0);

    c.milestone_spend = -1.0;
    CHECK(msg_names(coupon_invalid(&c), "milestone_spend"));
    c.milestone_spend = NAN;
    CHECK(msg_names(coupon_invalid(&c), "milestone_spend"));
    c = percent_coupon("p10");
    c.milestone_spend = 100.0;
    CHECK(msg_names(coupon_invalid(&c), "milestone_spend"));
}

int main(void)
{
    test_period_bounds();
    test_entitlement_definitions();
    test_entitlement_beside_the_decision();
    test_entitlement_once_per_period();
    test_entitlement_guards();
    test_anniversary();
    test_spend_milestone();
    TEST_MAIN_END();
}
