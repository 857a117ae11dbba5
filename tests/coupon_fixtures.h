/*
 * coupon_fixtures.h - coupons and customers the coupon unit tests
 * (test_coupon.c, test_coupon_entitle.c) start from: a 10 % percent-off
 * coupon valid around JUNE_2024 and a customer of a given stage and basket.
 */
#ifndef PATRON_TESTS_COUPON_FIXTURES_H
#define PATRON_TESTS_COUPON_FIXTURES_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))
#define DAY_MS 86400000LL
#define JUNE_2024 1718000000000LL   /* 2024-06-10 UTC */

static inline coupon_t percent_coupon(const char *id)
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

static inline coupon_customer_t customer(const char *id, int stage, double basket)
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

static inline int msg_names(const char *msg, const char *field)
{
    return msg && strncmp(msg, field, strlen(field)) == 0;
}

#endif
