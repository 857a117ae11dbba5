/*
 * test_app_campaign.c - SelectCampaignAudience as a use case
 * (recsys/app/campaign.h): customers ranked by expected incremental
 * profit, cut at the budget (explicit, or what the campaign has left) and
 * at the limit, only the campaign's coupons offered, nothing granted.
 */
#include <errno.h>

#include "campaign.h"
#include "catalog.h"
#include "couponstore.h"
#include "testcoupon.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL

static coupon_t fixed_coupon(const char *id, const char *campaign, double budget)
{
    return test_fixed_coupon(id, campaign, 2.0, budget, T0);
}

/* Three customers with 1, 2 and 3 purchases of a 40.00 item. */
static void setup(store_t *s)
{
    store_item_t item = { .item_id = "mug", .title = "Mug", .category = "kitchen",
                          .price = 40.0, .unit_cost = 10.0, .in_stock = 1 };
    coupon_t spring = fixed_coupon("fix2", "spring", 100);
    coupon_t other = fixed_coupon("o2", "other", 50);
    const char *who[3] = { "ann", "bo", "cy" };
    int k = 0;

    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    for (int c = 0; c < 3; c++)
        for (int j = 0; j <= c; j++) {
            char id[32];
            store_event_t e = { id, who[c], "mug", STORE_EVENT_PURCHASE,
                                T0 - (10 + 5 * j) * DAY, 1, 40.0, NULL };
            uint8_t out;
            const char *why;
            snprintf(id, sizeof id, "ev-%d", k++);
            CHECK_EQ_INT(store_record_events(s, &e, 1, &out, &why), 0);
            CHECK_EQ_INT(out, STORE_ACCEPTED);
        }
    CHECK_EQ_INT(couponstore_put_coupon(s, &spring, NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &other, NULL, NULL), 0);
}

int main(void)
{
    store_t *s = NULL;
    catalog_t *cat = NULL;
    profile_config_t pcfg;
    rfm_cutpoints_t cut;
    customers_ctx_t c;
    coupon_config_t cfg;
    campaign_audience_t a;
    couponstore_budget_t b;

    CHECK_EQ_INT(store_open(test_tmpdir("app-campaign"), 0, &s), 0);
    if (!s)
        return 1;
    setup(s);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    profile_config_default(&pcfg);
    memset(&cut, 0, sizeof cut);
    c = (customers_ctx_t){ .store = s, .cfg = &pcfg, .cat = cat, .cut = &cut };
    coupon_config_default(&cfg);
    cfg.holdout_rate = 0.0;

    /* Budget 0: what the campaign has left (100): everyone worth it. */
    CHECK_EQ_INT(campaign_audience(s, &c, "spring", 0, 0, T0, &cfg, &a), 0);
    CHECK_EQ_INT(a.n_coupons, 1);
    CHECK_STREQ(a.coupons[0].id, "fix2");
    CHECK_EQ_INT(a.n, 3);
    for (size_t i = 0; i < a.n; i++) {
        CHECK_EQ_INT(a.members[i].coupon, 0);
        CHECK(a.members[i].max_cost == 2.0);
        CHECK(a.members[i].cumulative == 2.0 * (double)(i + 1));
        if (i)
            CHECK(a.members[i - 1].value >= a.members[i].value);
    }
    campaign_audience_free(&a);
    /* An explicit budget for two grants, and a limit of one. */
    CHECK_EQ_INT(campaign_audience(s, &c, "spring", 4.0, 0, T0, &cfg, &a), 0);
    CHECK_EQ_INT(a.n, 2);
    campaign_audience_free(&a);
    CHECK_EQ_INT(campaign_audience(s, &c, "spring", 0, 1, T0, &cfg, &a), 0);
    CHECK_EQ_INT(a.n, 1);
    campaign_audience_free(&a);
    /* Nothing was granted or reserved. */
    CHECK_EQ_INT(couponstore_get_budget(s, "spring", &b), 0);
    CHECK(b.committed == 0.0);
    CHECK_EQ_INT(b.grants, 0);
    /* Errors. */
    CHECK_EQ_INT(campaign_audience(s, &c, "nosuch", 0, 0, T0, &cfg, &a), -ENOENT);
    campaign_audience_free(&a);
    CHECK_EQ_INT(campaign_audience(s, &c, "spring", -1, 0, T0, &cfg, &a), -EINVAL);
    CHECK_EQ_INT(campaign_audience(s, &c, "", 0, 0, T0, &cfg, &a), -EINVAL);
    catalog_unref(cat);
    store_close(s);
    TEST_MAIN_END();
}
