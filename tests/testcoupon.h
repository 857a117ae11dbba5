/*
 * testcoupon.h - the coupon the coupon tests decide with: a fixed amount
 * off, valid from a day before now_ms to 30 days after, one per customer.
 * Under the default priors 2.00 off is worth granting to a customer with an
 * average basket, so every eligible request grants it. For tests that link
 * the coupons library.
 */
#ifndef PATRON_TESTS_TESTCOUPON_H
#define PATRON_TESTS_TESTCOUPON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"

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

#endif
