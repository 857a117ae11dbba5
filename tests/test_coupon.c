/*
 * test_coupon.c - coupon definitions, eligibility, guards and the decision
 * (recsys/coupons/coupon.h): bad definitions are rejected naming the field,
 * eligibility and stacking rules hold, thresholds follow the basket, caps,
 * holdout and exploration behave as promised, and the decision gives nothing
 * to a sure buyer and the coupon to a persuadable. Guaranteed coupons:
 * test_coupon_entitle.c.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"
#include "coupon_fixtures.h"
#include "testutil.h"

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
    TEST_MAIN_END();
}
