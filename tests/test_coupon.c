/*
 * test_coupon.c - coupon definitions, eligibility, guards and the decision
 * (recsys/coupons/coupon.h): bad definitions are rejected naming the field,
 * eligibility and stacking rules hold, thresholds follow the basket, caps,
 * holdout and exploration behave as promised, and the decision gives nothing
 * to a sure buyer and the coupon to a persuadable; guaranteed coupons are
 * entitlements beside that decision, once per period, never held out.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"
#include "testutil.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))
#define DAY_MS 86400000LL
#define JUNE_2024 1718000000000LL   /* 2024-06-10 UTC */

static coupon_t percent_coupon(const char *id)
{
    coupon_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.campaign, sizeof c.campaign, "summer");
    c.type = COUPON_PERCENT;
    c.n_benefits = 1;
    c.benefit[0].kind = COUPON_BENEFIT_PERCENT;
    c.benefit[0].percent = 0.10;
    c.benefit[0].cap = 10.0;
    c.valid_from_ms = JUNE_2024 - 10 * DAY_MS;
    c.valid_until_ms = JUNE_2024 + 10 * DAY_MS;
    c.campaign_budget = 1000.0;
    c.per_customer_limit = 1;
    return c;
}

static coupon_customer_t customer(const char *id, int stage, double basket)
{
    coupon_customer_t cu;
    memset(&cu, 0, sizeof cu);
    cu.customer_id = id;
    cu.x.stage = stage;
    cu.x.orders = stage == PROFILE_STAGE_PROSPECT ? 0 : 3;
    cu.x.average_basket = basket;
    cu.x.monetary = cu.x.orders * basket;
    cu.x.recency_days = 20;
    cu.x.propensity = -1;
    cu.tier = 0;
    cu.segment = -1;
    return cu;
}

static int msg_names(const char *msg, const char *field)
{
    return msg && strncmp(msg, field, strlen(field)) == 0;
}

static void test_bad_definitions_rejected(void)
{
    coupon_t c = percent_coupon("p10");
    CHECK(coupon_invalid(&c) == NULL);

    coupon_t b = c;
    b.id[0] = '\0';
    CHECK(msg_names(coupon_invalid(&b), "id:"));
    b = c;
    b.campaign[0] = '\0';
    CHECK(msg_names(coupon_invalid(&b), "campaign:"));
    b = c;
    b.benefit[0].cap = 0.0;
    CHECK(msg_names(coupon_invalid(&b), "benefit.cap:"));
    b = c;
    b.benefit[0].percent = 1.5;
    CHECK(msg_names(coupon_invalid(&b), "benefit.percent:"));
    b = c;
    b.valid_until_ms = b.valid_from_ms;
    CHECK(msg_names(coupon_invalid(&b), "valid_until_ms:"));
    b = c;
    b.per_customer_limit = 0;
    CHECK(msg_names(coupon_invalid(&b), "per_customer_limit:"));
    b = c;
    b.campaign_budget = 0.0;
    CHECK(msg_names(coupon_invalid(&b), "campaign_budget:"));
    b = c;
    b.stage_mask = 1u << 9;
    CHECK(msg_names(coupon_invalid(&b), "stage_mask:"));
    b = c;
    b.type = (coupon_type_t)42;
    CHECK(msg_names(coupon_invalid(&b), "type:"));
    b = c;
    b.benefit[0].kind = COUPON_BENEFIT_AMOUNT;   /* percent type, amount kind */
    CHECK(msg_names(coupon_invalid(&b), "benefit.kind:"));
    b = c;
    b.min_basket = -1.0;
    CHECK(msg_names(coupon_invalid(&b), "min_basket:"));
    b = c;
    b.n_categories = COUPON_MAX_SCOPE + 1;
    CHECK(msg_names(coupon_invalid(&b), "n_categories:"));

    b = c;   /* spend 50 save 60 */
    b.type = COUPON_THRESHOLD;
    b.benefit[0] = (coupon_benefit_t){ .kind = COUPON_BENEFIT_THRESHOLD,
                                       .threshold = 50, .amount = 60 };
    CHECK(msg_names(coupon_invalid(&b), "benefit.amount:"));
    b.benefit[0].amount = 0.0;   /* neither amount nor percent */
    CHECK(msg_names(coupon_invalid(&b), "benefit.percent:"));

    b = c;   /* a welcome pack needs several benefits, given once */
    b.type = COUPON_WELCOME_PACK;
    CHECK(msg_names(coupon_invalid(&b), "n_benefits:"));
    b.n_benefits = 2;
    b.benefit[1] = (coupon_benefit_t){ .kind = COUPON_BENEFIT_SHIPPING,
                                       .amount = 4.9 };
    CHECK(coupon_invalid(&b) == NULL);
    b.per_customer_limit = 2;
    CHECK(msg_names(coupon_invalid(&b), "per_customer_limit:"));
    b = c;
    b.n_benefits = 2;
    CHECK(msg_names(coupon_invalid(&b), "n_benefits:"));

    coupon_config_t cfg;
    coupon_config_default(&cfg);
    CHECK(coupon_config_invalid(&cfg) == NULL);
    cfg.holdout_rate = 1.0;
    CHECK(msg_names(coupon_config_invalid(&cfg), "holdout_rate:"));
    coupon_config_default(&cfg);
    cfg.margin_rate = 0.0;
    CHECK(msg_names(coupon_config_invalid(&cfg), "margin_rate:"));
}

static void test_eligibility(void)
{
    coupon_t c = percent_coupon("p10");
    coupon_customer_t cu = customer("alice", PROFILE_STAGE_ACTIVE, 50);
    const char *why = NULL;
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why) && !why);

    /* validity window is [from, until) */
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, c.valid_from_ms - 1, &why));
    CHECK_STREQ(why, "not valid yet");
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, c.valid_from_ms, &why));
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, c.valid_until_ms, &why));
    CHECK_STREQ(why, "expired");

    /* tiers, segments, stages by mask */
    c.tier_mask = 1u << 2;   /* gold only */
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "tier not eligible");
    cu.tier = 2;
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    c.segment_mask = 1u << 0;
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));   /* -1 */
    CHECK_STREQ(why, "segment not eligible");
    c.segment_mask = 0;
    c.stage_mask = 1u << PROFILE_STAGE_LAPSED;
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "lifecycle stage not eligible");
    c.stage_mask = 0;

    /* minimum basket: predicted basket, or the in-scope cart */
    c.min_basket = 60.0;
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "basket below the coupon's minimum");
    coupon_cart_line_t cart[2] = { { .item = 7, .category = 3, .amount = 45,
                                     .margin = 15 },
                                   { .item = 8, .category = 4, .amount = 30,
                                     .margin = 9 } };
    cu.cart = cart;
    cu.n_cart = 2;
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));   /* 75 */
    c.n_categories = 1;
    c.categories[0] = 3;   /* only category 3 counts: 45 < 60 */
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    c.min_basket = 0.0;
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    c.categories[0] = 9;   /* nothing in the cart is in scope */
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    CHECK(why && strstr(why, "categories or items"));
    c.n_items = 1;
    c.items[0] = 8;        /* ... but item 8 is */
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    /* without a cart: the favourite categories decide */
    cu.cart = NULL;
    cu.n_cart = 0;
    c.n_items = 0;
    uint32_t fav[2] = { 5, 9 };
    cu.favourites = fav;
    cu.n_favourites = 2;
    CHECK(coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
    fav[1] = 6;
    CHECK(!coupon_eligible(&c, &cu, NULL, NULL, JUNE_2024, &why));
}

static void test_type_rules(void)
{
    const char *why;
    coupon_t wb = percent_coupon("winback");
    wb.type = COUPON_WINBACK;
    coupon_customer_t active = customer("a", PROFILE_STAGE_ACTIVE, 50);
    coupon_customer_t lapsed = customer("l", PROFILE_STAGE_LAPSED, 50);
    CHECK(!coupon_eligible(&wb, &active, NULL, NULL, JUNE_2024, &why));
    CHECK(coupon_eligible(&wb, &lapsed, NULL, NULL, JUNE_2024, &why));

    coupon_t bd = percent_coupon("bday");
    bd.type = COUPON_BIRTHDAY;
    active.birth_month = 6;   /* JUNE_2024 is in June */
    CHECK(coupon_eligible(&bd, &active, NULL, NULL, JUNE_2024, &why));
    active.birth_month = 7;
    CHECK(!coupon_eligible(&bd, &active, NULL, NULL, JUNE_2024, &why));
    active.birth_month = 0;
    CHECK(!coupon_eligible(&bd, &active, NULL, NULL, JUNE_2024, &why));

    coupon_t ref = percent_coupon("ref");
    ref.type = COUPON_REFERRAL;
    coupon_customer_t prospect = customer("p", PROFILE_STAGE_PROSPECT, 0);
    CHECK(!coupon_eligible(&ref, &prospect, NULL, NULL, JUNE_2024, &why));
    prospect.referred = 1;
    CHECK(coupon_eligible(&ref, &prospect, NULL, NULL, JUNE_2024, &why));
    active.referred = 1;   /* has ordered already */
    CHECK(!coupon_eligible(&ref, &active, NULL, NULL, JUNE_2024, &why));

    /* welcome pack: prospects and new customers, once */
    coupon_t wp = percent_coupon("welcome");
    wp.type = COUPON_WELCOME_PACK;
    wp.n_benefits = 3;
    wp.benefit[1] = (coupon_benefit_t){ .kind = COUPON_BENEFIT_SHIPPING,
                                        .amount = 4.9 };
    wp.benefit[2] = (coupon_benefit_t){ .kind = COUPON_BENEFIT_AMOUNT,
                                        .amount = 5.0 };
    CHECK(coupon_invalid(&wp) == NULL);
    CHECK(coupon_eligible(&wp, &prospect, NULL, NULL, JUNE_2024, &why));
    CHECK(!coupon_eligible(&wp, &active, NULL, NULL, JUNE_2024, &why));
    coupon_history_t h = { .welcome_pack_received = 1 };
    CHECK(!coupon_eligible(&wp, &prospect, &h, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "welcome pack: already received one");
    /* worst case of a pack: every benefit on its own order */
    CHECK(NEAR(coupon_max_cost(&wp, 0), 10.0 + 4.9 + 5.0, 1e-12));
}

static void test_limits_and_stacking(void)
{
    const char *why;
    coupon_t c = percent_coupon("p10");
    coupon_customer_t cu = customer("bob", PROFILE_STAGE_ACTIVE, 50);

    coupon_held_t same = { .coupon_id = "p10", .granted = 1, .active = 0 };
    coupon_history_t h = { .held = &same, .n_held = 1 };
    CHECK(!coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "per-customer limit reached");
    c.per_customer_limit = 3;
    CHECK(coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    same.active = 1;
    CHECK(!coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "customer already holds this coupon");

    /* another active coupon: only stackable next to stackable */
    coupon_held_t other = { .coupon_id = "ship", .granted = 1, .active = 1,
                            .stackable = 1 };
    h.held = &other;
    CHECK(!coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "not stackable and the customer holds another coupon");
    c.stackable = 1;
    CHECK(coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    other.stackable = 0;
    CHECK(!coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));
    CHECK_STREQ(why, "customer holds a coupon that does not stack");
    other.active = 0;   /* redeemed or expired: no longer in the way */
    CHECK(coupon_eligible(&c, &cu, &h, NULL, JUNE_2024, &why));

    /* redeeming several on one order */
    coupon_t a = percent_coupon("a"), b = percent_coupon("b");
    a.stackable = b.stackable = 1;
    const coupon_t *two[2] = { &a, &b };
    CHECK(coupon_stack_ok(two, 2, &why));
    b.stackable = 0;
    CHECK(!coupon_stack_ok(two, 2, &why));
    const coupon_t *one[1] = { &b };
    CHECK(coupon_stack_ok(one, 1, &why));   /* alone is fine */
    const coupon_t *dup[2] = { &a, &a };
    CHECK(!coupon_stack_ok(dup, 2, &why));
    CHECK_STREQ(why, "the same coupon twice");
}

static void test_threshold_follows_basket(void)
{
    CHECK(NEAR(coupon_nice_ceil(26.45), 30.0, 1e-9));
    CHECK(NEAR(coupon_nice_ceil(49.45), 50.0, 1e-9));
    CHECK(NEAR(coupon_nice_ceil(50.0), 50.0, 1e-9));
    CHECK(NEAR(coupon_nice_ceil(100.05), 120.0, 1e-9));
    CHECK(NEAR(coupon_nice_ceil(7.2), 7.5, 1e-9));
    CHECK(NEAR(coupon_nice_ceil(0.0), 0.0, 1e-12));

    coupon_benefit_t bf = { .kind = COUPON_BENEFIT_THRESHOLD, .percent = 0.1 };
    double x43 = coupon_threshold_for(&bf, 43.0, 1.15);
    double x87 = coupon_threshold_for(&bf, 87.0, 1.15);
    CHECK(NEAR(x43, 50.0, 1e-9));
    CHECK(NEAR(x87, 120.0, 1e-9));
    CHECK(x43 >= 43.0 * 1.15 && x87 >= 87.0 * 1.15);
    bf.min_threshold = 60.0;   /* a floor for small baskets */
    CHECK(NEAR(coupon_threshold_for(&bf, 43.0, 1.15), 60.0, 1e-9));
    bf.threshold = 75.0;       /* a fixed X ignores the basket */
    CHECK(NEAR(coupon_threshold_for(&bf, 43.0, 1.15), 75.0, 1e-9));

    /* discounts: nothing below X, Y (or percent * X) at or above it */
    coupon_benefit_t save = { .kind = COUPON_BENEFIT_THRESHOLD, .amount = 5 };
    CHECK(NEAR(coupon_benefit_discount(&save, 49.0, 50.0), 0.0, 1e-12));
    CHECK(NEAR(coupon_benefit_discount(&save, 50.0, 50.0), 5.0, 1e-12));
    coupon_benefit_t pct = { .kind = COUPON_BENEFIT_PERCENT, .percent = 0.2,
                             .cap = 15 };
    CHECK(NEAR(coupon_benefit_discount(&pct, 50.0, 0), 10.0, 1e-12));
    CHECK(NEAR(coupon_benefit_discount(&pct, 500.0, 0), 15.0, 1e-12));

    /* the decision personalizes X: two customers, two thresholds, and the
     * buyer who tops up to X brings the extra margin */
    coupon_t c = percent_coupon("spend-save");
    c.type = COUPON_THRESHOLD;
    c.benefit[0] = (coupon_benefit_t){ .kind = COUPON_BENEFIT_THRESHOLD,
                                       .percent = 0.1 };
    CHECK(coupon_invalid(&c) == NULL);
    coupon_customer_t small = customer("s", PROFILE_STAGE_ACTIVE, 43);
    coupon_customer_t big = customer("b", PROFILE_STAGE_ACTIVE, 87);
    uplift_pred_t pred = { .p_control = 0.1, .p_treated = 0.3, .uplift = 0.2 };
    coupon_option_t o1, o2;
    CHECK_EQ_INT(coupon_score(&c, &small, &pred, 1.0, NULL, &o1), 0);
    CHECK_EQ_INT(coupon_score(&c, &big, &pred, 1.0, NULL, &o2), 0);
    CHECK(NEAR(o1.threshold, 50.0, 1e-9) && NEAR(o2.threshold, 120.0, 1e-9));
    CHECK(NEAR(o1.discount, 5.0, 1e-9) && NEAR(o2.discount, 12.0, 1e-9));
    CHECK(NEAR(o1.margin_treated, 50.0 * 0.3, 1e-9));
    CHECK(NEAR(o1.margin_control, 43.0 * 0.3, 1e-9));
    CHECK(NEAR(coupon_max_cost(&c, o2.threshold), 12.0, 1e-9));
}

static void test_caps_and_velocity(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);   /* 2 per rolling 7 days */
    int64_t now = JUNE_2024;
    int64_t grants[3] = { now - 8 * DAY_MS, now - 2 * DAY_MS, now - DAY_MS };
    CHECK(!coupon_frequency_ok(grants, 3, now, &cfg));
    CHECK(coupon_frequency_ok(grants, 2, now, &cfg));   /* one in window */
    /* the window rolls: 6 days later the -2 day grant has left it */
    CHECK(coupon_frequency_ok(grants, 3, now + 6 * DAY_MS, &cfg));
    CHECK(coupon_frequency_ok(NULL, 0, now, &cfg));

    const char *why;
    coupon_velocity_t v = { .accounts_on_device = 3 };
    CHECK(coupon_velocity_ok(&v, &cfg, &why));
    v.accounts_on_device = 4;
    CHECK(!coupon_velocity_ok(&v, &cfg, &why));
    CHECK_STREQ(why, "too many accounts on this device");
    v = (coupon_velocity_t){ .accounts_on_address = 6 };
    CHECK(!coupon_velocity_ok(&v, &cfg, &why));
    v = (coupon_velocity_t){ .redemptions_last_hour = 3 };
    CHECK(!coupon_velocity_ok(&v, &cfg, &why));
    CHECK_STREQ(why, "too many redemptions in the last hour");
    CHECK(coupon_velocity_ok(NULL, &cfg, &why));

    /* the decision applies them before looking at coupons */
    coupon_t c = percent_coupon("p10");
    coupon_customer_t cu = customer("carol", PROFILE_STAGE_ACTIVE, 50);
    cfg.holdout_rate = 0.0;
    cfg.explore_rate = 0.0;
    coupon_history_t h = { .grant_ms = grants, .n_grant_ms = 3 };
    coupon_decision_t d;
    CHECK_EQ_INT(coupon_decide(&c, 1, NULL, NULL, &cu, &h, NULL, &cfg, now, &d,
                               NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_FREQUENCY);
    CHECK_EQ_INT(d.choice, COUPON_NONE);
    v = (coupon_velocity_t){ .accounts_on_device = 10 };
    CHECK_EQ_INT(coupon_decide(&c, 1, NULL, NULL, &cu, NULL, &v, &cfg, now, &d,
                               NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_VELOCITY);
}

static void test_holdout(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);
    int held = 0;
    const int n = 100000;
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        int h = coupon_in_holdout(id, &cfg);
        CHECK_EQ_INT(h, coupon_in_holdout(id, &cfg));   /* deterministic */
        held += h;
    }
    double rate = (double)held / n;
    CHECK(rate > 0.046 && rate < 0.054);

    /* a held-out customer never gets a coupon, whatever the model says */
    for (int i = 0;; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        if (coupon_in_holdout(id, &cfg))
            break;
    }
    coupon_t c = percent_coupon("p10");
    coupon_customer_t cu = customer(id, PROFILE_STAGE_AT_RISK, 50);
    uplift_config_t ucfg;
    uplift_config_default(&ucfg);
    ucfg.prior[PROFILE_STAGE_AT_RISK] = (uplift_prior_t){ 0.05, 0.5 };
    uplift_model_t m;
    CHECK_EQ_INT(uplift_model_init(&m, &ucfg), 0);
    coupon_model_t models[1] = { { &m, NULL } };
    coupon_decision_t d;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &cu, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_HOLDOUT);
    CHECK(NEAR(d.assign_prob, 1.0, 0));
    cfg.holdout_rate = 0.0;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &cu, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK(d.choice == 0);
    /* a different salt is a different holdout */
    cfg.holdout_rate = 0.05;
    coupon_config_t other = cfg;
    other.holdout_salt ^= 1;
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        differ += coupon_in_holdout(id, &cfg) != coupon_in_holdout(id, &other);
    }
    CHECK(differ > 20);
}

static void test_exploration(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);
    cfg.explore_rate = 0.1;
    char id[32];
    int hits = 0;
    const int n = 50000;
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        int e = coupon_exploring(id, JUNE_2024, &cfg);
        /* the same all day (UTC), independent draws across days */
        CHECK_EQ_INT(e, coupon_exploring(id, JUNE_2024 - JUNE_2024 % DAY_MS +
                                                 DAY_MS - 1, &cfg));
        hits += e;
    }
    CHECK(hits > n * 0.09 && hits < n * 0.11);
    int changed = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        changed += coupon_exploring(id, JUNE_2024, &cfg) !=
                   coupon_exploring(id, JUNE_2024 + DAY_MS, &cfg);
    }
    CHECK(changed > 100);

    /* probabilities: k eligible coupons give k + 1 actions */
    CHECK(NEAR(coupon_assign_prob(0.1, 2, 1), 0.9 + 0.1 / 3, 1e-12));
    CHECK(NEAR(coupon_assign_prob(0.1, 2, 0), 0.1 / 3, 1e-12));
    CHECK(NEAR(coupon_assign_prob(0.0, 5, 1), 1.0, 1e-12));
    /* the policy's own choice behind a logged decision, and the guards */
    CHECK(coupon_outcome_greedy_grant(COUPON_GRANT, 1.0));
    CHECK(coupon_outcome_greedy_grant(COUPON_NONE_EXPLORE, -1.0));
    CHECK(!coupon_outcome_greedy_grant(COUPON_GRANT_EXPLORE, -0.5));
    CHECK(coupon_outcome_greedy_grant(COUPON_GRANT_EXPLORE, 0.5));
    CHECK(!coupon_outcome_greedy_grant(COUPON_NONE_NOT_WORTH, -1.0));
    CHECK(!coupon_outcome_greedy_grant(COUPON_NONE_HOLDOUT, 0.0));
    CHECK(coupon_outcome_guarded(COUPON_NONE_HOLDOUT) && coupon_outcome_guarded(COUPON_NONE_INELIGIBLE) &&
          coupon_outcome_guarded(COUPON_NONE_VELOCITY) && coupon_outcome_guarded(COUPON_NONE_FREQUENCY));
    CHECK(!coupon_outcome_guarded(COUPON_GRANT) && !coupon_outcome_guarded(COUPON_NONE_EXPLORE) &&
          !coupon_outcome_guarded(COUPON_NONE_NOT_WORTH) && !coupon_outcome_guarded(COUPON_GRANT_EXPLORE));

    /* every decision reports the probability of what it did: over many
     * customers, greedy choices report 1 - eps + eps / (k + 1) and
     * exploratory ones eps / (k + 1) */
    cfg.holdout_rate = 0.0;
    cfg.explore_rate = 0.3;
    coupon_t cs[2] = { percent_coupon("a"), percent_coupon("b") };
    cs[1].benefit[0].percent = 0.2;
    cs[1].benefit[0].cap = 20.0;
    int explored = 0, greedy = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        coupon_customer_t cu = customer(id, PROFILE_STAGE_ACTIVE, 50);
        coupon_decision_t d;
        CHECK_EQ_INT(coupon_decide(cs, 2, NULL, NULL, &cu, NULL, NULL, &cfg,
                                   JUNE_2024, &d, NULL, NULL), 0);
        CHECK_EQ_INT(d.n_eligible, 2);
        int is_explore = d.outcome == COUPON_GRANT_EXPLORE ||
                         d.outcome == COUPON_NONE_EXPLORE;
        double want = is_explore ? 0.3 / 3 : 0.7 + 0.3 / 3;
        CHECK(NEAR(d.assign_prob, want, 1e-12));
        explored += is_explore;
        greedy += !is_explore;
    }
    /* a third of exploration draws land on the greedy action itself */
    CHECK(explored > 2000 * 0.3 * 2 / 3 * 0.8 &&
          explored < 2000 * 0.3 * 2 / 3 * 1.2);
    CHECK(greedy > 0);
}

static void test_decision_sure_buyer_vs_persuadable(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);    /* margin rate 0.3 */
    cfg.holdout_rate = 0.0;
    cfg.explore_rate = 0.0;
    uplift_config_t ucfg;
    uplift_config_default(&ucfg);
    /* hand-set: active customers buy anyway, at-risk ones are persuadable */
    ucfg.prior[PROFILE_STAGE_ACTIVE] = (uplift_prior_t){ 0.80, 0.0 };
    ucfg.prior[PROFILE_STAGE_AT_RISK] = (uplift_prior_t){ 0.05, 0.30 };
    ucfg.prior[PROFILE_STAGE_LAPSED] = (uplift_prior_t){ 0.30, -0.10 };
    uplift_model_t m;
    CHECK_EQ_INT(uplift_model_init(&m, &ucfg), 0);
    coupon_model_t models[1] = { { &m, NULL } };
    coupon_t c = percent_coupon("p10");   /* 10% off, cap 10 */
    coupon_decision_t d;
    coupon_option_t opts[1];
    size_t nopt = 99;

    coupon_customer_t sure = customer("sure", PROFILE_STAGE_ACTIVE, 50);
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &sure, NULL, NULL, &cfg,
                               JUNE_2024, &d, opts, &nopt), 0);
    CHECK_EQ_INT(nopt, 1);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_NOT_WORTH);
    CHECK_EQ_INT(d.choice, COUPON_NONE);
    /* incr margin 0; cost 0.8 * 5 = 4 */
    CHECK(NEAR(d.chosen.value, -4.0, 1e-9));
    CHECK(strstr(d.reason, "buy anyway") != NULL);

    coupon_customer_t pers = customer("pers", PROFILE_STAGE_AT_RISK, 50);
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_GRANT);
    CHECK_EQ_INT(d.choice, 0);
    CHECK(NEAR(d.assign_prob, 1.0, 1e-12));
    /* basket 50, margin 15; 0.35 * 15 - 0.05 * 15 = 4.5; cost 0.35 * 5 */
    CHECK(NEAR(d.chosen.incr_margin, 4.5, 1e-9));
    CHECK(NEAR(d.chosen.expected_cost, 1.75, 1e-9));
    CHECK(NEAR(d.chosen.value, 2.75, 1e-9));
    CHECK(strstr(d.reason, "p10") != NULL);

    /* a campaign behind on budget raises lambda: 4.5 - 3 * 1.75 < 0 */
    double lambda = 3.0;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, &lambda, &pers, NULL, NULL,
                               &cfg, JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_NOT_WORTH);

    /* a sleeping dog: the coupon lowers P(buy) */
    coupon_customer_t dog = customer("dog", PROFILE_STAGE_LAPSED, 50);
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &dog, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.choice, COUPON_NONE);
    CHECK(strstr(d.reason, "lower") != NULL);

    /* among two coupons the more profitable one wins: 20% off costs more
     * than it adds when the uplift is the same */
    coupon_t two[2] = { percent_coupon("p20"), percent_coupon("p10") };
    two[0].benefit[0].percent = 0.2;
    CHECK_EQ_INT(coupon_decide(two, 2, NULL, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    /* default priors (0.05, +0.02): neither pays: 0.02 * 15 < 0.07 * 5 */
    CHECK_EQ_INT(d.choice, COUPON_NONE);
    coupon_model_t mm[2] = { { &m, NULL }, { &m, NULL } };
    CHECK_EQ_INT(coupon_decide(two, 2, mm, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.choice, 1);

    /* nothing eligible, and bad input */
    c.valid_until_ms = JUNE_2024;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), 0);
    CHECK_EQ_INT(d.outcome, COUPON_NONE_INELIGIBLE);
    CHECK(strstr(d.reason, "expired") != NULL);
    c.benefit[0].cap = 0.0;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), -EINVAL);
    pers.customer_id = NULL;
    CHECK_EQ_INT(coupon_decide(&c, 1, models, NULL, &pers, NULL, NULL, &cfg,
                               JUNE_2024, &d, NULL, NULL), -EINVAL);
}

/* ---- entitlements ----------------------------------------------------------------- */

/* A birthday gift, guaranteed once a calendar year, valid for two years. */
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

int main(void)
{
    test_bad_definitions_rejected();
    test_eligibility();
    test_type_rules();
    test_limits_and_stacking();
    test_threshold_follows_basket();
    test_caps_and_velocity();
    test_holdout();
    test_exploration();
    test_decision_sure_buyer_vs_persuadable();
    test_period_bounds();
    test_entitlement_definitions();
    test_entitlement_beside_the_decision();
    test_entitlement_once_per_period();
    test_entitlement_guards();
    test_anniversary();
    TEST_MAIN_END();
}
