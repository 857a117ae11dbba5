/*
 * campaign.h - SelectCampaignAudience as a use case: who should receive a
 * campaign's coupons, best first, within its budget.
 *
 * Every customer with events is decided as TargetCoupons would decide them
 * (coupon_decide over the campaign's coupons, their fitted uplift models or
 * the default one, lambda 1, no exploration draw: a ranking, not a policy),
 * keeping those whose best coupon is worth granting; they are ranked by
 * expected incremental profit (ties by customer id) and cut where the
 * cumulative worst-case cost (coupon_max_cost) would exceed the budget.
 * Reads only: nothing is granted or reserved.
 *
 * Consent: customers who withdrew marketing consent (consentstore.h; an
 * unset choice counts as c->cfg->contact.consent_default) are never
 * members. campaign_scan_reach narrows it to a channel and the contact
 * policy.
 */
#ifndef PATRON_RECSYS_CAMPAIGN_H
#define PATRON_RECSYS_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "coupon.h"
#include "customers.h"
#include "store.h"
#include "tz.h"

typedef struct campaign_member {
    char customer_id[STORE_MAX_ID + 1];
    int coupon;               /* index into campaign_audience_t.coupons */
    double value;             /* expected incremental profit */
    double expected_cost, max_cost;
    double cumulative;        /* max_cost of this and every better member */
} campaign_member_t;

typedef struct campaign_audience {
    coupon_t *coupons;        /* the campaign's coupons */
    size_t n_coupons;
    campaign_member_t *members; /* best first */
    size_t n;
} campaign_audience_t;

/*
 * Selects the audience of campaign_id at now_ms among the customers c
 * knows, under cfg (NULL: defaults; its exploration rate is not used).
 * budget > 0 caps the cumulative worst-case cost, 0 means what the
 * campaign has left (budget - spent - committed); limit > 0 caps the
 * count. *out is filled (free with campaign_audience_free, also on error).
 * Returns 0, -ENOENT (no coupon of this campaign), -EINVAL, -ENOMEM or a
 * store error.
 */
int campaign_audience(store_t *s, const customers_ctx_t *c, const char *campaign_id,
                      double budget, uint64_t limit, int64_t now_ms,
                      const coupon_config_t *cfg, campaign_audience_t *out);
void campaign_audience_free(campaign_audience_t *a);

/*
 * The same selection in steps, for a caller that must not hold its thread
 * for the whole population (the streaming RPC): begin validates and loads
 * the coupons and models (the same errors as campaign_audience, *out
 * filled with the coupons), each step scores up to max customers in index
 * order and returns 1 while customers remain, then 0 once all are scored,
 * ranked and cut (out->members final), or an error. campaign_audience is
 * begin, steps until 0 (stopping with -ETIMEDOUT once c->deadline has
 * passed), free. The scan borrows out until it is freed; free it with
 * campaign_scan_free (NULL-safe) and out with campaign_audience_free.
 */
typedef struct campaign_scan campaign_scan_t;
int campaign_scan_begin(store_t *s, const customers_ctx_t *c, const char *campaign_id,
                        double budget, uint64_t limit, int64_t now_ms,
                        const coupon_config_t *cfg, campaign_audience_t *out,
                        campaign_scan_t **scan);
int campaign_scan_step(campaign_scan_t *scan, const customers_ctx_t *c, uint32_t max);

/* Before the first step: members must also have consented to channel
 * (consent_channel_t; -1 = no channel, the default) and, with a channel,
 * pass the contact policy (contactstore_check, kind coupon, at now_ms,
 * zones loaded through zones: borrowed until the scan is freed) - a
 * customer whose budget is spent, or who is in quiet hours, is skipped
 * before the budget is cut. */
void campaign_scan_reach(campaign_scan_t *scan, tz_cache_t *zones, int channel);
void campaign_scan_free(campaign_scan_t *scan);

#endif
