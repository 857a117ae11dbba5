/*
 * customers.h - customer profiles as the API shows them.
 *
 * Joins the profile math (profile.h) over one customer's stored events with
 * what lives elsewhere in the store: RFM scores against the population
 * cut-points a job computed (customers_rfm_job, run with each training), the
 * segment they map to, the points ledger's figures (points_store.h: earned
 * by the operator's rules, vesting, expiring, redeemed) and the shop's
 * attributes.
 *
 * Profiles are computed on read, at the caller's `now`: recency, lifecycle
 * stage and tier grace change with time even when no event arrives, so a
 * stored profile would go stale; one customer's history is one range read.
 */
#ifndef PATRON_RECSYS_CUSTOMERS_H
#define PATRON_RECSYS_CUSTOMERS_H

#include <stddef.h>
#include <stdint.h>

#include "audience.h"
#include "catalog.h"
#include "clv.h"
#include "profile.h"
#include "referral_store.h"
#include "store.h"

/* Everything one call needs; all borrowed. cat is the served catalog
 * snapshot (catalog.h): favourite categories are its category ids. */
typedef struct customers_ctx {
    store_t *store;
    const profile_config_t *cfg;
    const catalog_t *cat;
    const rfm_cutpoints_t *cut;
    double deadline;   /* monotime_seconds() at which customers_select stops
                          with -ETIMEDOUT (checked every 64 customers); 0 = none */
    const clv_model_t *clv; /* the fitted CLV model (customers_clv.h); NULL:
                               none, views carry no prediction */
} customers_ctx_t;

typedef struct customer_view {
    char customer_id[STORE_MAX_ID + 1];
    uint32_t index;           /* the store's dense index (customers with events) */
    int has_events;
    profile_t p;
    uint8_t r, f, m;          /* 1..5; 0 without orders */
    int segment;              /* index into cfg->segments, -1 none */
    int64_t points_earned;    /* earn rows net of refunds (points.h) */
    int64_t points_redeemed;  /* redeemed as of now */
    int64_t points_balance;   /* available, >= 0 */
    int64_t points_pending;   /* earned, not vested yet */
    int64_t points_expiring;  /* available, expiring within expiring_soon_days */
    int64_t points_expiring_ms; /* the first of those expiries; 0 none */
    int64_t points_next_vest_ms; /* the next pending points vest then; 0 none */
    int64_t points_next_vest;    /* ... this many */
    int64_t points_expired;   /* expired so far */
    int has_points;           /* the ledger has a row, or redemptions are stored */
    int64_t tier_reward_until_ms; /* p.tier is held by a tier reward (points.h)
                                     until then, above what the events earn;
                                     0: p.tier comes from the events */
    int64_t points_velocity_cut; /* earnings cut by the velocity limits */
    int64_t points_withheld;  /* earnings withheld (shared fingerprint) */
    referral_view_t referral; /* code, signup, referrals (referral_store.h);
                                 its bonus list is always empty here */
    int has_attrs;
    store_attrs_t attrs;
    int has_clv;              /* a model is fitted and the customer has orders */
    clv_prediction_t clv;     /* over the next CLV_DAYS_PER_YEAR days */
} customer_view_t;

/* One customer's view at now_ms. -ENOENT when the store has neither events
 * nor attributes for them; -EINVAL for a bad id. */
int customers_view(const customers_ctx_t *c, const char *customer_id,
                   int64_t now_ms, customer_view_t *out);

/* Redeems points at now_ms (unix ms, the redemption's time in the ledger)
 * against the ledger's available balance then (points.h: spent oldest
 * bucket first; see store_points_redeem for idempotency and why it never
 * overdraws): *balance gets the balance afterwards. An id merged into
 * another (store_links.h) redeems from the survivor's balance. -ERANGE
 * when the balance is too small, -ENOENT for an unknown customer. */
int customers_redeem(const customers_ctx_t *c, const char *customer_id,
                     const char *redemption_id, int64_t points, int64_t now_ms,
                     int64_t *balance, int *duplicate);

/* What customers_points_write did. */
typedef struct customers_points_result {
    int64_t balance;        /* available afterwards (>= 0) */
    int duplicate;          /* the id was stored before: nothing written */
    store_points_entry_t stored; /* a duplicate's stored entry */
} customers_points_result_t;

/*
 * Writes one entry of the points ledger (store_points_write: a redemption
 * or a manual adjustment, idempotent by entry_id) against the ledger's
 * available balance at now_ms, so what it spends never overdraws it (an
 * adjustment down is refused, never clamped). An id merged into another
 * (store_links.h) writes to the survivor's ledger. -ERANGE when the
 * balance is too small; -ENOENT for an unknown customer (a redemption
 * needs events, an adjustment events or attributes); -EEXIST when entry_id
 * names an entry of the other kind; -EINVAL for a bad entry.
 */
int customers_points_write(const customers_ctx_t *c, const char *customer_id,
                           const char *entry_id, const store_points_entry_t *e, int64_t now_ms,
                           customers_points_result_t *res);

/* Fills an audience row from a view; strings borrow from c and v. */
void customers_audience_row(const customers_ctx_t *c, const customer_view_t *v,
                            audience_row_t *row);

/* Calls cb for every customer with events whose view matches a (a NULL a
 * matches everyone), in customer index order. A nonzero return from cb
 * stops and is returned; so does -ETIMEDOUT once c->deadline has passed. */
typedef int (*customers_visit_fn)(void *ctx, const customer_view_t *v);
int customers_select(const customers_ctx_t *c, const audience_t *a, int64_t now_ms,
                     customers_visit_fn cb, void *ctx);

/*
 * The same walk in steps, for callers that must not hold a thread for the
 * whole population (a streaming call): a cursor over customer indices,
 * visited in the same order and with the same matches as customers_select.
 * Each step reads its customers one range read at a time, so a step sees
 * the store as it is then (events stored meanwhile count).
 */
typedef struct customers_cursor {
    uint32_t next;   /* the next customer index to visit */
    uint32_t end;    /* customers registered when the walk began */
} customers_cursor_t;

/* Starts a walk at the first customer. Returns 0 or a store error. */
int customers_cursor_init(const customers_ctx_t *c, customers_cursor_t *cur);

/* Visits up to max customers from cur (advancing it), calling cb for those
 * with events whose view matches a (NULL: everyone). Returns 0 (the walk is
 * over when cur->next == cur->end), cb's nonzero return, or a store error.
 * c->deadline is not consulted: the caller bounds a step by max. */
int customers_select_step(const customers_ctx_t *c, const audience_t *a, int64_t now_ms,
                          customers_cursor_t *cur, uint32_t max, customers_visit_fn cb,
                          void *ctx);

/* The view of customer index `customer` at now_ms (as customers_select
 * would pass it). -ENOENT when it is erased or has no events. */
int customers_view_at(const customers_ctx_t *c, uint32_t customer, int64_t now_ms,
                      customer_view_t *out);

/* Calls fn with every customer's whole history (n > 0 events, time order),
 * in customer index order; a nonzero return stops and is returned. */
typedef int (*customers_history_fn)(void *ctx, uint32_t customer,
                                    const store_event_rec_t *ev, size_t n);
int customers_scan_histories(store_t *s, customers_history_fn fn, void *ctx);

/* The RFM job: computes every customer's profile at now_ms, the quintile
 * cut-points over those with orders, and stores them (blob "rfm_cutpoints")
 * so that scores stay stable between runs. *out gets them. */
int customers_rfm_job(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                      rfm_cutpoints_t *out);

/* Reads the stored cut-points; an empty population (n = 0) when the job
 * never ran. */
int customers_load_cutpoints(store_t *s, rfm_cutpoints_t *out);

#endif
