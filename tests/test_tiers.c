/*
 * test_tiers.c - tier benefits from the settings file (each benefit, every
 * refusal naming what is wrong, a tier line resetting a slot), the
 * progress sentence for each situation, and a stored customer's status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile_file.h"
#include "tiers.h"
#include "testutil.h"

#define DAY 86400000LL
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

static void test_parse(void)
{
    profile_config_t cfg;
    const profile_tier_benefits_t *b;

    profile_config_default(&cfg); /* bronze, silver, gold, platinum */
    CHECK(tiers_benefits_parse(&cfg, "gold free_shipping points_multiplier=1.5 "
                                     "early_access_hours=48 price_list=members "
                                     "dedicated_service") == NULL);
    b = &cfg.tiers[2].benefits;
    CHECK(b->free_shipping && b->dedicated_service && b->points_multiplier == 1.5);
    CHECK_EQ_INT(b->early_access_hours, 48);
    CHECK_STREQ(b->price_list, "members");
    /* A later line replaces the tier's benefits. */
    CHECK(tiers_benefits_parse(&cfg, "gold free_shipping") == NULL);
    CHECK(b->free_shipping && !b->dedicated_service && b->points_multiplier == 0);
    CHECK(cfg.tiers[1].benefits.free_shipping == 0);

    CHECK(strstr(tiers_benefits_parse(&cfg, "diamond free_shipping"), "no tier") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold"), "expected NAME BENEFIT") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, ""), "expected NAME") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold free_lunch"), "unknown benefit") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold points_multiplier=0.5"), "1..10") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold points_multiplier=x"), "1..10") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold early_access_hours=1.5"), "whole") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold early_access_hours=9999"), "0..8760") !=
          NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold price_list=a/b"), "price_list") != NULL);
    CHECK(strstr(tiers_benefits_parse(&cfg, "gold free_shipping=1"), "unknown") != NULL);
    /* A failed line changes nothing. */
    CHECK(b->free_shipping && b->points_multiplier == 0);
}

static void test_file(void)
{
    const char *dir = test_tmpdir("tiers_file");
    profile_config_t cfg;
    char err[256];

    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "tiers_test.conf",
                                                     "tier_benefits = gold free_shipping\n"
                                                     "tier = member 0 0 0\n"
                                                     "tier = vip 500 3 0\n"
                                                     "tier = star 900 3 0\n"
                                                     "tier_benefits = vip points_multiplier=2 "
                                                     "price_list=vip\n"),
                                     &cfg, err, sizeof err),
                 0);
    CHECK_EQ_INT(cfg.n_tiers, 3);
    CHECK(cfg.tiers[1].benefits.points_multiplier == 2);
    CHECK_STREQ(cfg.tiers[1].benefits.price_list, "vip");
    /* gold's slot was reused by star: its free shipping did not leak in. */
    CHECK(cfg.tiers[2].benefits.free_shipping == 0);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "tiers_test.conf",
                                                     "tier = member 0 0 0\n\n"
                                                     "tier_benefits = gold free_shipping\n"),
                                     &cfg, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "tiers_test.conf:3: tier_benefits: no tier") != NULL);
}

static store_event_rec_t buy(double amount, int64_t t)
{
    return (store_event_rec_t){ .item = 0, .type = STORE_EVENT_PURCHASE, .quantity = 1,
                                .unit_price = amount, .time_ms = t };
}

static void test_text(void)
{
    profile_config_t cfg;
    profile_tier_status_t st;
    store_event_rec_t e[3];
    char buf[512];

    profile_config_default(&cfg); /* silver 250 2 0, gold 1000 5 10; 365 d, grace 30 */
    e[0] = buy(200, T0);
    e[1] = buy(100, T0 + 10 * DAY);
    CHECK_EQ_INT(profile_tier_status(e, 2, &cfg, T0 + 20 * DAY, &st), 0);
    CHECK_EQ_INT(st.tier, 1);
    /* silver is met until the first order leaves the window (2027-01-01),
     * kept 30 days more */
    CHECK_STREQ(tiers_progress_text(&cfg, &st, buf, sizeof buf),
                "gold needs 700.00 more spend, 3 more orders and 10 more views or carts "
                "within 365 days; silver is met until 2027-01-01 and kept until "
                "2027-01-31 without new activity");
    /* In grace: what requalifying needs by the downgrade. */
    CHECK_EQ_INT(profile_tier_status(e, 2, &cfg, T0 + 370 * DAY, &st), 0);
    CHECK_EQ_INT(st.tier, 1);
    CHECK_STREQ(tiers_progress_text(&cfg, &st, buf, sizeof buf),
                "gold needs 900.00 more spend, 4 more orders and 10 more views or carts "
                "within 365 days; silver is kept until 2027-01-31: requalifying needs "
                "150.00 more spend and 1 more order");
    /* Nothing bought: the floor, never dropped; one need only. */
    CHECK_EQ_INT(profile_tier_status(e, 0, &cfg, T0, &st), 0);
    CHECK_STREQ(tiers_progress_text(&cfg, &st, buf, sizeof buf),
                "silver needs 250.00 more spend and 2 more orders within 365 days");
    /* A short buffer is cut, still terminated. */
    CHECK(strlen(tiers_progress_text(&cfg, &st, buf, 10)) == 9);
}

static void test_store(void)
{
    store_t *s = NULL;
    profile_config_t cfg;
    customers_ctx_t c;
    profile_tier_status_t st;
    store_item_t item = { .item_id = "i1", .title = NULL, .category = "Garden",
                          .price = 30, .unit_cost = 5, .in_stock = 1 };
    store_event_t ev[2] = { { "e1", "ann", "i1", STORE_EVENT_PURCHASE, T0, 1, 200, NULL },
                            { "e2", "ann", "i1", STORE_EVENT_PURCHASE, T0 + DAY, 1, 100,
                              NULL } };
    uint8_t out[2];
    const char *why[2];

    CHECK_EQ_INT(store_open(test_tmpdir("tiers"), 64u << 20, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 2, out, why), 0);
    profile_config_default(&cfg);
    c = (customers_ctx_t){ .store = s, .cfg = &cfg };
    CHECK_EQ_INT(tiers_status(&c, "ann", T0 + 2 * DAY, &st), 0);
    CHECK(st.tier == 1 && st.window_orders == 2);
    /* Unknown: no events, the floor. */
    CHECK_EQ_INT(tiers_status(&c, "nobody", T0, &st), 0);
    CHECK(st.tier == 0 && st.window_orders == 0);
    CHECK_EQ_INT(tiers_status(&c, "", T0, &st), -EINVAL);
    store_close(s);
}

int main(void)
{
    test_parse();
    test_file();
    test_text();
    test_store();
    TEST_MAIN_END();
}
