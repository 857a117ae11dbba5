/*
 * testcoupon.h - the coupon the coupon tests decide with: a fixed amount
 * off, valid from a day before now_ms to 30 days after, one per customer.
 * Under the default priors 2.00 off is worth granting to a customer with an
 * average basket, so every eligible request grants it; test_grant asks.
 * For tests that link the coupons library.
 */
#ifndef PATRON_TESTS_TESTCOUPON_H
#define PATRON_TESTS_TESTCOUPON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"
#include "couponstore.h"

static inline coupon_t test_fixed_coupon(const char *id, const char *campaign,
                                         double amount, double budget, int64_t now_ms)
{
    const int64_t day = 86400000LL;
    coupon_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.campaign, sizeof c.campaign, "%s", campaign);
    c.type = COUPON_FIXED;
    c.n_benefits = 1;
    c.benefit[0].kind = COUPON_BENEFIT_AMOUNT;
    c.benefit[0].amount = amount;
    c.valid_from_ms = now_ms - day;
    c.valid_until_ms = now_ms + 30 * day;
    c.campaign_budget = budget;
    c.per_customer_limit = 1;
    return c;
}

/* Decides request req for cust_id (an active customer with an average
 * basket, no holdout or exploration) among the n coupons of cat at now:
 * couponstore_target's result (0 with *o the grant, or none). */
static inline int test_grant(store_t *s, const char *cust_id, const char *req,
                             const coupon_t *cat, size_t n, int64_t now,
                             couponstore_offer_t *o)
{
    coupon_config_t cfg;
    coupon_customer_t cust;
    couponstore_target_t t = { .request_id = req, .device_id = "dev-1",
                               .address_id = "addr-1", .cust = &cust, .catalog = cat,
                               .n = n, .cfg = &cfg, .now_ms = now };
    coupon_config_default(&cfg);
    cfg.holdout_rate = 0.0;
    cfg.explore_rate = 0.0;
    memset(&cust, 0, sizeof cust);
    cust.customer_id = cust_id;
    cust.x.orders = 3;
    cust.x.monetary = 120;
    cust.x.average_basket = 40;
    cust.x.recency_days = 10;
    cust.x.stage = PROFILE_STAGE_ACTIVE;
    cust.x.propensity = -1;
    cust.tier = -1;
    cust.segment = -1;
    return couponstore_target(s, &t, o, NULL);
}

#endif
