/*
 * profile.h - a customer's profile computed from their event history: RFM
 * values and scores, named segments, membership tier, lifecycle stage and
 * points earned. Pure domain logic: no storage, no I/O, no global state; every
 * function is a deterministic function of its arguments, so the server can
 * recompute a profile whenever a customer's events change and a batch job can
 * recompute everyone's.
 *
 * Time: all times are unix milliseconds. A profile is computed "as of" now_ms:
 * events later than now_ms are ignored, so replaying one history at several
 * now values simulates time (a client clock running ahead of the server's
 * makes its newest events invisible until the server's clock catches up).
 *
 * Orders: events carry no order id, so an order is a run of purchases that
 * starts with a purchase and takes every later purchase less than
 * order_gap_minutes after that first one (anchored, so one long shopping day
 * cannot chain into a single order). An order's time is its first purchase's.
 *
 * Money: a purchase adds quantity * unit_price, a refund subtracts it
 * (quantity 0 counts as 1, as in store.h). Totals never go below 0. Refunds do
 * not remove orders: an order that was fully refunded still happened.
 *
 * Customers with no purchase (as of now) are "prospects": orders 0, RFM
 * scores 0, no segment, stage PROFILE_STAGE_PROSPECT (sent on the wire as
 * LIFECYCLE_STAGE_PROSPECT).
 *
 * Errors: functions returning int return 0 on success, -EINVAL for a NULL or
 * invalid argument (profile_config_invalid says which field), -ENOMEM.
 */
#ifndef PATRON_RECSYS_PROFILE_H
#define PATRON_RECSYS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "contact.h"
#include "mission_def.h"
#include "points_def.h"
#include "points_guard.h"
#include "referral_def.h"
#include "store.h"
#include "trigger_def.h"

#define PROFILE_TOP_CATEGORIES 3   /* favourite categories kept */
#define PROFILE_NAME_MAX 32        /* tier / segment name, incl. the NUL */
#define PROFILE_MAX_TIERS 8
#define PROFILE_MAX_SEGMENTS 16
#define PROFILE_NO_CATEGORY UINT32_MAX

/* Values match patron.v1.LifecycleStage (PROSPECT is UNSPECIFIED). */
typedef enum profile_stage {
    PROFILE_STAGE_PROSPECT = 0, /* no purchase yet */
    PROFILE_STAGE_NEW = 1,
    PROFILE_STAGE_ACTIVE = 2,
    PROFILE_STAGE_AT_RISK = 3,
    PROFILE_STAGE_LAPSED = 4,
    PROFILE_STAGE_WON_BACK = 5,
} profile_stage_t;

/* Item -> category, borrowed for the duration of a call. category[i] is the
 * category id of item index i (PROFILE_NO_CATEGORY if it has none); items at
 * or beyond n_items have no category. Ids are the caller's (e.g. the order of
 * first appearance in the catalog); names are not needed here. */
typedef struct profile_catalog {
    const uint32_t *category;
    size_t n_items;
} profile_catalog_t;

/* What a tier gives its members (the settings file's tier_benefits lines,
 * tiers.h). Patron reports them (GetProfile); the shop's checkout and
 * service honour free shipping and dedicated service. All 0: none. */
typedef struct profile_tier_benefits {
    uint8_t free_shipping;
    uint8_t dedicated_service;
    double points_multiplier;          /* 0: not set (x1); else 1..10 */
    uint32_t early_access_hours;       /* sees new items this long before others */
    char price_list[PROFILE_NAME_MAX]; /* the member price list; "" none */
} profile_tier_benefits_t;

/* A tier is reached when, within the rolling window, net spend >= min_spend,
 * orders >= min_orders and views + carts >= min_engagement, all three. */
typedef struct profile_tier_rule {
    char name[PROFILE_NAME_MAX];
    double min_spend;
    uint32_t min_orders;
    uint32_t min_engagement;
    profile_tier_benefits_t benefits;
} profile_tier_rule_t;

/* A segment covers the RFM scores with r_lo <= r <= r_hi, f_lo <= f <= f_hi
 * and m_lo <= m <= m_hi (each 1..5). */
typedef struct profile_segment_rule {
    char name[PROFILE_NAME_MAX];
    uint8_t r_lo, r_hi, f_lo, f_hi, m_lo, m_hi;
} profile_segment_rule_t;

/*
 * Everything tunable, in one struct passed down; profile_config_default fills
 * the values given in brackets.
 *
 * Lifecycle, from the customer's own rhythm: rhythm = max(typical gap,
 * min_gap_days), or default_gap_days while there are fewer than 2 orders.
 * With d = days since the last order:
 *   NEW       1 order, placed at most new_days ago;
 *   ACTIVE    d <= rhythm * at_risk_factor;
 *   AT_RISK   d <= rhythm * lapse_factor;
 *   LAPSED    beyond;
 *   WON_BACK  ACTIVE, and within the last won_back_days the customer came
 *             back: an order followed a gap longer than lapse_factor times
 *             the rhythm of the orders before it (0 = remembered forever).
 *
 * Tiers: tiers[] lists the tiers lowest first; the customer holds the last
 * (highest) one whose thresholds the window (now - tier_window_days, now]
 * met at some time within the last tier_grace_days. So an upgrade is
 * immediate and a downgrade happens tier_grace_days after the customer last
 * qualified. A customer meeting no tier has tier -1 (give the first tier
 * all-zero thresholds to make it the floor, as the default bronze is).
 *
 * Segments: segments[] is tried in order, first match wins; a customer
 * matching none (every prospect, whose scores are 0) has segment -1.
 */
typedef struct profile_config {
    uint32_t order_gap_minutes;  /* [30] purchases this close are one order */
    uint32_t recent_days;        /* [30] window for recent views and carts */

    uint32_t new_days;           /* [30] */
    double at_risk_factor;       /* [1.5] */
    double lapse_factor;         /* [3.0] must be >= at_risk_factor */
    double min_gap_days;         /* [7] shortest rhythm assumed */
    double default_gap_days;     /* [30] rhythm with fewer than 2 orders */
    uint32_t won_back_days;      /* [90] */

    uint32_t tier_window_days;   /* [365] */
    uint32_t tier_grace_days;    /* [30] */
    size_t n_tiers;              /* [4] bronze, silver, gold, platinum */
    profile_tier_rule_t tiers[PROFILE_MAX_TIERS];

    size_t n_segments;           /* [11] the usual R x F grid, see .c */
    profile_segment_rule_t segments[PROFILE_MAX_SEGMENTS];

    double points_per_unit;      /* [1.0] points per currency unit spent:
                                    the default purchase rule's rate */
    points_config_t points;      /* [no rules] the earning rules, expiry
                                    (points_def.h); points.h checks the
                                    tiers its multipliers name */
    missions_config_t missions;  /* [none] the mission lines (mission_def.h):
                                    their rewards are ledger rows (points.h) */
    referral_config_t referral;  /* [none] the referral line (referral_def.h) */
    points_guard_t guard;        /* velocity and first-account guards
                                    (points_guard.h) */

    /* Consent defaults and the contact policy (contact.h): the settings
     * file's contact. and consent. lines. Profiles never read it; it
     * travels here so the operator's one settings struct holds it.
     * profile_config_invalid does not check it: contact_config_invalid. */
    contact_config_t contact;
    trigger_config_t triggers;   /* [no rules] trigger_def.h */
} profile_config_t;

/* Fills *cfg with the defaults above. Default tiers (window 365 days):
 *   bronze    0 spend, 0 orders, 0 engagement
 *   silver  250 spend, 2 orders, 0 engagement
 *   gold   1000 spend, 5 orders, 10 engagement
 *   platinum 3000 spend, 10 orders, 30 engagement */
void profile_config_default(profile_config_t *cfg);

/* NULL if cfg is usable, else a static message naming the bad field
 * (e.g. "lapse_factor: must be >= at_risk_factor"). */
const char *profile_config_invalid(const profile_config_t *cfg);

typedef struct profile {
    int64_t first_purchase_ms;   /* 0 when orders == 0 */
    int64_t last_purchase_ms;    /* 0 when orders == 0 */
    uint32_t orders;
    uint32_t purchases;          /* purchase events */
    double monetary;             /* net of refunds, >= 0 */
    double average_basket;       /* monetary / orders; 0 without orders */
    double typical_gap_days;     /* median gap between orders; 0 if < 2 */
    double recency_days;         /* (now - last purchase) / day; 0 if none */
    uint32_t recent_views;       /* within the last recent_days */
    uint32_t recent_carts;
    uint32_t n_favourites;       /* 0..PROFILE_TOP_CATEGORIES */
    uint32_t favourites[PROFILE_TOP_CATEGORIES]; /* category ids, best first */
    int tier;                    /* index into cfg->tiers, -1 none */
    profile_stage_t stage;
    /* What the stage was computed from, so the moment it changes can be
     * derived (triggers, trigger_rules.h): */
    int64_t last_order_ms;       /* the latest order's time; 0 without orders */
    int64_t comeback_ms;         /* the latest comeback order (see WON_BACK); 0 none */
    double rhythm_days;          /* the rhythm the stage thresholds multiply */
    /* Net spend (purchases less refunds, >= 0) since the start of the UTC
     * calendar year, month and week (from Monday) holding now: what a spend
     * milestone ("spend 1,000 this year") counts. */
    double spend_year, spend_month, spend_week;
} profile_t;

/*
 * Computes one customer's profile as of now_ms from their events (any order;
 * the result does not depend on it; events of other customers must not be
 * mixed in, the customer field is not read). cat may be NULL (no favourite
 * categories) and cfg NULL (defaults). Favourite categories are the top
 * PROFILE_TOP_CATEGORIES by positive net spend, ties to the lower id.
 * Fills *out, including tier and stage; RFM scores need population cut-points
 * (below). Returns 0, -EINVAL (NULL ev with n > 0, NULL out, invalid cfg) or
 * -ENOMEM (it copies out-of-order input to sort it).
 */
int profile_compute(const store_event_rec_t *ev, size_t n,
                    const profile_catalog_t *cat, const profile_config_t *cfg,
                    int64_t now_ms, profile_t *out);

/* The tier (index into cfg->tiers, or -1) held at now_ms, with grace, as
 * described at profile_config_t. profile_compute calls it; exposed so tier
 * changes over time can be computed without the rest. Returns 0, -EINVAL or
 * -ENOMEM. */
int profile_tier(const store_event_rec_t *ev, size_t n,
                 const profile_config_t *cfg, int64_t now_ms, int *tier);

/* ---- tier status: progress, requalification, downgrade --------------------------- */

/* What the window still lacks for a tier; all 0 when it meets it. */
typedef struct profile_tier_need {
    double spend;            /* more net spend, >= 0 */
    uint32_t orders;         /* more orders */
    uint32_t engagement;     /* more views + carts */
} profile_tier_need_t;

typedef struct profile_tier_status {
    int tier;                     /* held now, with grace (profile_tier); -1 none */
    int qualifies;                /* the highest tier the window meets now; -1 none */
    double window_spend;          /* the window (now - tier_window_days, now]'s totals */
    uint32_t window_orders, window_engagement;
    int next;                     /* tier + 1; -1 at the top (or without tiers) */
    profile_tier_need_t to_next;  /* what the window lacks now for next */
    profile_tier_need_t to_keep;  /* ... for the held tier (0s when it qualifies;
                                     nonzero while held through grace) */
    /* If nothing else happens: the instant the window stops meeting the
     * held tier (past while in grace), the instant the tier drops (that +
     * tier_grace_days), and the tier held from then; 0, 0, tier when it
     * never drops (a floor tier with zero thresholds, or no tier). */
    int64_t qualified_until_ms;
    int64_t downgrade_ms;
    int after_downgrade;
} profile_tier_status_t;

/*
 * The customer's tier as of now_ms and the way to the next one and to
 * keeping it, from their events (as profile_compute; cfg NULL: defaults).
 * Exact under the rule at profile_config_t: upgrades are immediate, a
 * downgrade comes tier_grace_days after the window last met the tier.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int profile_tier_status(const store_event_rec_t *ev, size_t n, const profile_config_t *cfg,
                        int64_t now_ms, profile_tier_status_t *out);

/* ---- RFM --------------------------------------------------------------------- */

/* Quintile cut-points of a population. For each dimension c[j] (j = 0..3) is
 * the largest value of the (j+1)-th fifth of the sorted values. n is the
 * number of customers (with at least one order) they were computed from. */
typedef struct rfm_cutpoints {
    double recency[4];   /* days, ascending */
    double frequency[4]; /* orders */
    double monetary[4];
    uint64_t n;
} rfm_cutpoints_t;

/* Cut-points over the profiles in all[0..n) with at least one order (compute
 * them all with the same now_ms). Returns 0, -EINVAL, -ENOMEM. With no such
 * profile out->n is 0. */
int profile_rfm_cutpoints(const profile_t *all, size_t n, rfm_cutpoints_t *out);

/* The same from three parallel arrays of n values (customers with orders
 * only), for a job that does not keep every profile in memory. The arrays are
 * sorted in place. Returns 0 or -EINVAL. */
int profile_rfm_cutpoints_values(double *recency, double *frequency,
                                 double *monetary, size_t n,
                                 rfm_cutpoints_t *out);

/* Scores p 1..5 per dimension: frequency and monetary score 1 + the number of
 * cut-points the value exceeds; recency 5 minus that (recent is good). A value
 * equal to a cut-point belongs to the fifth that cut-point closes, so the
 * many customers with exactly 1 order all get frequency 1. A customer without
 * orders scores 0, 0, 0.
 * With an empty population (cut->n == 0) every customer with orders scores 3
 * (no information). Returns 0 or -EINVAL. */
int profile_rfm_score(const profile_t *p, const rfm_cutpoints_t *cut,
                      uint8_t *r, uint8_t *f, uint8_t *m);

/* Index into cfg->segments of the first rule covering (r, f, m), or -1. */
int profile_segment(const profile_config_t *cfg, uint8_t r, uint8_t f,
                    uint8_t m);

/* ---- names and points ---------------------------------------------------------- */

/* Lower-case names: "prospect", "new", "active", "at_risk", "lapsed",
 * "won_back"; NULL for a value outside the enum. Static strings. */
const char *profile_stage_name(profile_stage_t stage);

/* cfg->tiers[tier].name / cfg->segments[segment].name, or "" for -1 or out of
 * range. The string belongs to cfg. */
const char *profile_tier_name(const profile_config_t *cfg, int tier);
const char *profile_segment_name(const profile_config_t *cfg, int segment);

/* Points earned for a net spend: floor(net_spend * points_per_unit), with a
 * millionth of a point of slack for binary rounding (0.29 * 100 gives 29); 0 for a
 * negative or non-finite spend, capped at PROFILE_MAX_POINTS. */
#define PROFILE_MAX_POINTS ((int64_t)1 << 53)
int64_t profile_points_for(double net_spend, const profile_config_t *cfg);

#endif
