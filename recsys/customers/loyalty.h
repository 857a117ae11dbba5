/*
 * loyalty.h - programme analytics over a store's customers: repeat-purchase
 * rate, members against non-members and tier by tier, cohort retention by
 * month of first order, the points economy (issued, redeemed, outstanding
 * and its liability) and the view -> cart -> purchase funnel. Pure: the
 * caller (loyalty_store.h) hands over each customer's history, profile and
 * points; loyalty_finish derives the rates and the cohort table.
 *
 * Definitions (all as of the report's time now_ms; later events ignored):
 *   buyer        a customer with at least one order (profile.h's orders)
 *   repeat rate  buyers with 2+ orders / buyers
 *   member       a customer enrolled in or using the programme: holding a
 *                tier above the floor (the first tier when its thresholds
 *                are all zero, as the default bronze is: every customer
 *                holds it, so it says nothing), or who has redeemed points
 *                (a stored redemption, whenever: redemptions are stored
 *                with the time they were made, and a report as of an
 *                earlier time still knows the customer joined in),
 *                or who has a signup date (SetCustomerAttributes). Points
 *                alone do not make a member: every purchase earns them.
 *   cohort       the UTC calendar month of a customer's first purchase;
 *                retention in month k = the share of the cohort with a
 *                purchase in the k-th calendar month after it (k = 0 is
 *                100%)
 *   points       each customer's ledger as of now (points.h: the earning
 *                rules, vesting, expiry): issued = what the rules paid net
 *                of refunds (pending included), pending = not vested yet,
 *                redeemed, expired, outstanding = the available balances
 *                (a negative one counts 0), liability = outstanding x
 *                point value; issued = pending + redeemed + expired +
 *                outstanding whenever no balance is negative
 *   funnel       customers with a view, a cart, a purchase; and per
 *                (customer, item): pairs viewed, of those carted after a
 *                view, of those bought after that cart
 */
#ifndef PATRON_RECSYS_LOYALTY_H
#define PATRON_RECSYS_LOYALTY_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "store.h"

typedef struct loyalty_group {
    uint64_t customers, buyers, repeat_buyers, orders;
    double spend;          /* net of refunds */
    /* derived by loyalty_finish: */
    double repeat_rate;    /* repeat_buyers / buyers (0 without buyers) */
    double orders_per_buyer, spend_per_buyer, order_value;
} loyalty_group_t;

typedef struct loyalty_funnel {
    uint64_t viewers, carters, buyers;               /* customers */
    uint64_t viewed_pairs, carted_after_view, bought_after_cart; /* (customer, item) */
    double cart_rate, purchase_rate;                 /* carted / viewed, bought / carted pairs */
} loyalty_funnel_t;

/* Cohort table: rows are months of first purchase (first_month + i, a month
 * index = year * 12 + month - 1), columns months since. */
typedef struct loyalty_cohorts {
    int64_t first_month;    /* month index of the first cohort */
    int64_t now_month;      /* month index of the report's time: cells of this
                               month and later are incomplete (active counts
                               what happened so far) */
    size_t n_cohorts;       /* rows */
    size_t n_offsets;       /* columns: offsets 0 .. n_offsets - 1 */
    uint64_t *size;         /* [n_cohorts] customers in the cohort */
    uint64_t *active;       /* [n_cohorts * n_offsets] with a purchase at the offset */
} loyalty_cohorts_t;

typedef struct loyalty_report {
    int64_t now_ms;
    double point_value;     /* currency units per point */
    loyalty_group_t all, members, non_members;
    size_t n_tiers;         /* of the config */
    loyalty_group_t tiers[PROFILE_MAX_TIERS]; /* by tier held; customers without a tier: none */
    loyalty_group_t no_tier;
    int64_t points_issued, points_pending, points_redeemed, points_expired;
    int64_t points_outstanding;
    double liability;
    loyalty_funnel_t funnel;
    loyalty_cohorts_t cohorts;
    /* private: the (cohort, offset) pairs seen, until loyalty_finish */
    int64_t *pairs;
    size_t n_pairs, cap_pairs;
    int member_floor;       /* lowest tier index that makes a member */
} loyalty_report_t;

/* One customer as the report sees them; everything borrowed. ev is the
 * whole history in time order (events after now_ms are skipped). */
typedef struct loyalty_customer {
    const store_event_rec_t *ev;
    size_t n;
    const profile_t *p;      /* profile_compute at now_ms */
    int64_t points_earned;   /* the ledger's (points_ledger_t) as of now */
    int64_t points_pending, points_redeemed, points_expired;
    int64_t points_balance;  /* available; < 0 counts as 0 */
    int has_signup;          /* a signup date is set */
    int has_redeemed;        /* a redemption is stored (any time) */
} loyalty_customer_t;

/* Starts an empty report. cfg (NULL: defaults) names the tiers and the
 * floor; point_value >= 0. -EINVAL on a bad argument. */
int loyalty_init(loyalty_report_t *r, const profile_config_t *cfg, int64_t now_ms,
                 double point_value);

/* Adds one customer. 0, -EINVAL or -ENOMEM. */
int loyalty_add(loyalty_report_t *r, const loyalty_customer_t *c);

/* Derives rates and builds the cohort table, at most max_offsets columns
 * (offsets beyond are dropped). 0 or -ENOMEM. */
int loyalty_finish(loyalty_report_t *r, size_t max_offsets);

/* Whether a customer is a member (see above). */
int loyalty_is_member(const loyalty_report_t *r, const loyalty_customer_t *c);

void loyalty_free(loyalty_report_t *r); /* NULL-safe; the report may be reused after init */

#endif
