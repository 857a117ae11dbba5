/*
 * couponstore.h - coupon targeting's durable state, kept in the store's
 * generic tables (store.h): the coupon catalog, one budget account per
 * campaign (budget, spend, outstanding reservations, pacing state), each
 * customer's coupon history, velocity counters per device and address, the
 * offer log (one row per decision), redemptions and fitted uplift models.
 *
 * The invariant it keeps: for every campaign, spent + committed <= budget,
 * where committed is the worst-case cost (coupon_max_cost) of every grant
 * not yet redeemed or expired. couponstore_target decides, re-checks that
 * the grant fits, reserves, updates the customer's history and logs the
 * offer inside one store_table_atomic transaction; writers are serialized,
 * so no interleaving of concurrent requests (or a crash between them) can
 * overrun a budget. A redemption moves the actual discount from committed
 * to spent and releases the rest of the reservation.
 *
 * Rows are stored as patron.store.v1 records (proto/patron/store/v1/
 * coupons.proto, couponstore_records.c); the structs below are their
 * in-memory form (their version fields are set to COUPONSTORE_VERSION on
 * reading and mean nothing on disk).
 *
 * Errors: 0, or a negative errno: -EINVAL bad argument (with a static
 * message naming the field where a function takes `why`), -ENOENT not
 * found, -ERANGE does not fit (a redemption above its reservation),
 * -EBADMSG a stored row that cannot be read (store_strerror names its
 * table and key), or a store error (-ENOMEM, -ENOSPC, -EIO).
 */
#ifndef PATRON_RECSYS_COUPONSTORE_H
#define PATRON_RECSYS_COUPONSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "coupon.h"
#include "store.h"
#include "uplift.h"
#include "uplift_gbt.h"

#define COUPONSTORE_VERSION 1
#define COUPONSTORE_MAX_HELD 32      /* distinct coupons remembered per customer */
#define COUPONSTORE_MAX_GRANTS 32    /* recent grant times kept (frequency cap) */
#define COUPONSTORE_MAX_REDEEMS 16   /* recent redemption times (velocity) */
#define COUPONSTORE_MAX_ACCOUNTS 64  /* accounts remembered per device/address */
#define COUPONSTORE_REQUEST_ID_MAX 65 /* request / redemption ids, incl. NUL */
#define COUPONSTORE_MAX_ENTITLED 16  /* entitlement grants one offer row names */
#define COUPONSTORE_DEFAULT_MODEL "default"

/* ---- catalog -------------------------------------------------------------------- */

/*
 * Stores (inserts or replaces) coupon c after coupon_invalid; on a bad
 * definition returns -EINVAL with *why the message naming the field. In the
 * same transaction the campaign's budget account is created, or its budget
 * set to c->campaign_budget and its pacing window widened to cover c's
 * validity. *created (may be NULL) is 1 for a new coupon id.
 */
int couponstore_put_coupon(store_t *s, const coupon_t *c, int *created,
                           const char **why);

/* Copies coupon id into *out. -ENOENT if unknown. */
int couponstore_get_coupon(store_t *s, const char *id, coupon_t *out);

/* Reads the whole catalog in id order into a malloc'd array (*out, caller
 * frees; NULL when empty) of *n coupons. */
int couponstore_load_catalog(store_t *s, coupon_t **out, size_t *n);

/* ---- campaign budgets ------------------------------------------------------------ */

typedef struct couponstore_budget {
    uint32_t version;
    double budget;          /* the hard cap */
    double spent;           /* redeemed discounts */
    double committed;       /* worst case of outstanding grants */
    uint64_t grants, redemptions;
    uplift_pacer_t pacer;   /* lambda for the decision */
} couponstore_budget_t;

/* -ENOENT if no coupon of the campaign was ever stored. */
int couponstore_get_budget(store_t *s, const char *campaign,
                           couponstore_budget_t *out);

/* ---- customer history -------------------------------------------------------------- */

typedef struct couponstore_held {
    char coupon_id[COUPON_ID_MAX];
    char campaign[COUPON_ID_MAX];
    uint32_t granted;        /* ever */
    uint32_t active;         /* 0 or 1: coupon_eligible refuses a second copy */
    uint32_t uses_left;      /* benefits not yet redeemed (a pack has several) */
    int32_t stackable;
    double reserved;         /* what this grant still holds of committed */
    int64_t valid_until_ms;  /* the active grant expires then */
    int64_t last_grant_ms;
    int32_t guaranteed;      /* granted as an entitlement (coupon_entitlements) */
} couponstore_held_t;

typedef struct couponstore_history {
    uint32_t version;
    uint32_t welcome_pack;   /* received one */
    uint32_t n_held, n_grants, n_redeems;
    couponstore_held_t held[COUPONSTORE_MAX_HELD];
    int64_t grant_ms[COUPONSTORE_MAX_GRANTS];    /* ring: newest replaces oldest */
    int64_t redeem_ms[COUPONSTORE_MAX_REDEEMS];  /* ring */
} couponstore_history_t;

/* A customer's history; an empty one (and 0) when there is none. */
int couponstore_get_history(store_t *s, const char *customer_id,
                            couponstore_history_t *out);

/* The coupon_history_t view of h at now_ms (grants expired by then count as
 * not active). held receives COUPONSTORE_MAX_HELD entries; out borrows from
 * h and held. */
void couponstore_history_view(const couponstore_history_t *h, int64_t now_ms,
                              coupon_held_t held[COUPONSTORE_MAX_HELD],
                              coupon_history_t *out);

/* ---- the decision and the grant ------------------------------------------------------ */

/* One offer log row: what was decided for whom, with the numbers. */
typedef struct couponstore_offer {
    uint32_t version;
    char request_id[COUPONSTORE_REQUEST_ID_MAX];
    char customer_id[STORE_MAX_ID + 1];
    int64_t time_ms;
    uplift_x_t x;                  /* features at decision time */
    char coupon_id[COUPON_ID_MAX]; /* "" = none */
    char campaign[COUPON_ID_MAX];  /* of the coupon (or of the best option) */
    int32_t outcome;               /* coupon_outcome_t */
    double assign_prob;
    double max_cost;               /* reserved; 0 without a grant */
    coupon_option_t numbers;       /* chosen / best rejected (index -1: none) */
    char reason[COUPON_REASON_MAX];
    /* Guaranteed coupons this request granted (coupon_entitlements): not
     * part of the uplift decision above, kept so a replay answers the
     * same. */
    uint32_t n_entitled;
    char entitled[COUPONSTORE_MAX_ENTITLED][COUPON_ID_MAX];
} couponstore_offer_t;

/* Everything one decision needs; all borrowed. */
typedef struct couponstore_target {
    const char *request_id;        /* 1..64 bytes: offer log key */
    const char *device_id;         /* NULL / "": no velocity counter */
    const char *address_id;
    const coupon_customer_t *cust;
    const coupon_t *catalog;       /* candidates (e.g. couponstore_load_catalog) */
    size_t n;
    const coupon_config_t *cfg;    /* NULL: defaults */
    int64_t now_ms;
    double lambda;                 /* > 0: use this lambda for every campaign
                                      (an experiment arm's coupon policy)
                                      instead of the campaigns' pacers */
    int no_targeting;              /* decide no targeted coupon ("none", the
                                      catalog's entitlements still granted):
                                      an experiment arm without coupons */
    /* NULL: guaranteed coupons are left alone. Else room for n: the
     * customer's entitlements (coupon_entitlements; index into catalog),
     * *n_entitlements their count. */
    coupon_entitlement_t *entitlements;
    size_t *n_entitlements;
} couponstore_target_t;

/*
 * Decides and grants in one transaction: if request_id is already logged,
 * *out gets that row and *replayed = 1 (nothing is written; entitlements,
 * if asked for, list the coupons held in their period at the logged time,
 * those this request granted as COUPON_ENTITLED_GRANT). Otherwise it
 * counts the customer on the device and address, releases the customer's
 * expired reservations, updates each campaign's pacer (at most once a
 * second), runs coupon_decide with the campaigns' lambdas and the stored
 * uplift models (per coupon id, else COUPONSTORE_DEFAULT_MODEL, else priors),
 * and on a grant re-checks uplift_grant_fits(budget, spent + committed,
 * max_cost): a coupon that no longer fits is dropped and the decision made
 * again without it. Then reserves, updates the history and writes the offer
 * row. The targeted decision is among the catalog's targeted coupons only.
 * With t->entitlements, the guaranteed coupons the customer is entitled to
 * (coupon_entitlements, on the history after the targeted grant) are granted
 * in the same transaction, each reserving its max_cost like a targeted grant
 * (COUPON_ENTITLED_BUDGET when its campaign cannot pay); their grants count
 * toward no weekly cap and write no offer row of their own (the uplift log
 * holds targeted decisions only): the offer row names them (entitled).
 * Returns 0, -EINVAL (bad input), -ESTALE (the customer id was merged
 * into another, store_links.h: resolve it and decide again) or a store
 * error (then nothing was written).
 */
int couponstore_target(store_t *s, const couponstore_target_t *t,
                       couponstore_offer_t *out, int *replayed);

/* couponstore_target inside the caller's store_table_atomic transaction, so
 * the grant commits (or aborts) together with what else fn writes (the
 * experiment exposure of the same request: recsys/app/serve_coupon.c).
 * Same effects and errors; on an error the caller must return it from fn
 * so the transaction aborts. */
int couponstore_target_tx(store_tx_t *tx, const couponstore_target_t *t,
                          couponstore_offer_t *out, int *replayed);

/* ---- grants bought with points --------------------------------------------------------- */

/* A coupon the customer pays for with points (a coupon reward,
 * recsys/app/rewards.h); all borrowed. */
typedef struct couponstore_grant {
    const char *customer_id;
    const char *coupon_id;
    const char *device_id;         /* NULL / "": no velocity counter */
    const char *address_id;
    const coupon_config_t *cfg;    /* NULL: defaults */
    int64_t now_ms;
} couponstore_grant_t;

typedef struct couponstore_granted {
    coupon_t coupon;               /* its definition (read in the transaction) */
    double max_cost;               /* reserved against its campaign */
    int64_t valid_until_ms;        /* the grant is usable until then */
    char why[COUPON_REASON_MAX];   /* a refusal's reason (-EPERM, -EDQUOT) */
} couponstore_granted_t;

/*
 * Inside the caller's store_table_atomic transaction (so the grant commits
 * with the points that pay for it, or neither does): grants coupon_id to
 * the customer outside any decision, as the coupon's own limits allow: it
 * must be valid at now_ms and have a fixed worst case (no personalized
 * threshold), the customer must hold no unused copy and be under its
 * per-customer limit, the velocity limits (accounts per device and
 * address, redemptions per hour and day) must pass, and its campaign
 * budget must fit coupon_max_cost, which is reserved as for any grant.
 * Tier, segment and stage masks and the kind's rule (birth month, ...) do
 * not apply: the customer pays. No offer row is written (not an uplift
 * decision) and the weekly cap neither counts nor refuses it. The grant
 * is usable until the coupon's validity ends and is redeemed with
 * couponstore_redeem. Returns 0, -ENOENT (no such coupon), -EDQUOT (the
 * campaign cannot pay), -EPERM (refused, out->why says why), -ESTALE (the
 * customer was merged into another), -EINVAL or a store error; on any
 * error the caller returns it from its fn, so nothing is written.
 */
int couponstore_grant_tx(store_tx_t *tx, const couponstore_grant_t *g,
                         couponstore_granted_t *out);

/* The logged row of request_id; -ENOENT if none. */
int couponstore_get_offer(store_t *s, const char *request_id,
                          couponstore_offer_t *out);

/* Calls cb for every offer row (request id order); the row is valid during
 * the call only. A nonzero return stops and is returned. */
typedef int (*couponstore_offer_fn)(void *ctx, const couponstore_offer_t *o);
int couponstore_scan_offers(store_t *s, couponstore_offer_fn cb, void *ctx);

/* ---- redemptions ---------------------------------------------------------------------- */

typedef struct couponstore_redemption {
    const char *redemption_id;   /* 1..64 bytes, idempotency key */
    const char *customer_id;
    const char *coupon_id;
    double discount;             /* >= 0, at most what the grant reserved */
    int64_t time_ms;
} couponstore_redemption_t;

/*
 * Records a redemption of an active grant: committed -= discount, spent +=
 * discount; when the grant's last benefit is used the rest of its
 * reservation is released too. A redemption_id seen before for the same
 * customer and coupon changes nothing and sets *duplicate. *after (may be
 * NULL) gets the campaign's account afterwards. -EEXIST: the id was used
 * for another customer or coupon (nothing changes); -ENOENT: the customer
 * holds no active grant of the coupon; -ERANGE: discount above what the
 * grant reserved; -EINVAL: bad argument.
 */
int couponstore_redeem(store_t *s, const couponstore_redemption_t *r,
                       couponstore_budget_t *after, int *duplicate);

/* ---- uplift models and training data ----------------------------------------------------- */

/* Stores / reads a fitted model under key (a coupon id or
 * COUPONSTORE_DEFAULT_MODEL). put: -EINVAL unless m->version is
 * UPLIFT_MODEL_VERSION. get: -ENOENT if absent, -EBADMSG if unreadable. */
int couponstore_put_model(store_t *s, const char *key, const uplift_model_t *m);
int couponstore_get_model(store_t *s, const char *key, uplift_model_t *m);

/* Stores key's learner in one transaction: the logistic model m (its
 * priors and response model always serve), and the boosted T-learner when
 * training chose it; boosted NULL removes one stored under key, so the
 * logistic model decides again. Decisions use a boosted learner stored
 * under COUPONSTORE_DEFAULT_MODEL for every coupon without a model of its
 * own. -EINVAL as couponstore_put_model, or a boosted arm that
 * uplift_gbt_invalid rejects. */
int couponstore_put_learner(store_t *s, const char *key, const uplift_model_t *m,
                            const uplift_gbt_tl_t *boosted);
/* key's boosted T-learner: 0, -ENOENT (none), -EBADMSG (unreadable). */
int couponstore_get_boosted(store_t *s, const char *key, uplift_gbt_tl_t *boosted);

/* What a decision over coupons[0..n) predicts with: m[i] is coupon i's own
 * logistic model if it has one, else the default learner (its boosted
 * T-learner if stored, else its logistic model), else the priors alone. A
 * model that cannot be read counts as absent. Owns its arrays. */
typedef struct couponstore_models {
    size_t n;
    coupon_model_t *m;          /* n entries, for coupon_decide */
    uplift_model_t *logistic;   /* n + 1: each coupon's, then the default */
    uplift_gbt_tl_t *boosted;   /* the default's boosted learner (storage) */
} couponstore_models_t;

/* Allocates for n coupons (every m[i] the priors). 0, -EINVAL, -ENOMEM. */
int couponstore_models_init(couponstore_models_t *ms, size_t n);
/* init, then reads the models of coupons[0..n) (each read on its own).
 * 0, -EINVAL, -ENOMEM or a store error; *ms needs couponstore_models_free
 * only on success. */
int couponstore_models_load(store_t *s, const coupon_t *coupons, size_t n,
                            couponstore_models_t *ms);
/* The same reads inside a store_table_atomic fn, into an initialized ms. */
int couponstore_models_load_tx(store_tx_t *tx, const coupon_t *coupons,
                               couponstore_models_t *ms);
void couponstore_models_free(couponstore_models_t *ms);

/* Whose and which offer a training row is, row for row with the logs. */
typedef struct couponstore_uplift_key {
    uint64_t customer;             /* uplift_customer_key(customer id) */
    char coupon_id[COUPON_ID_MAX]; /* the granted coupon; "" = control row */
    char customer_id[STORE_MAX_ID + 1];
    char request_id[COUPONSTORE_REQUEST_ID_MAX];
    int32_t outcome;               /* coupon_outcome_t of the decision */
    double value;                  /* the logged option's value (numbers.value) */
} couponstore_uplift_key_t;

/*
 * Training rows from the offer log joined with purchases: for each offer,
 * treated = a coupon was granted, bought = the customer has a purchase in
 * (time, time + window_ms] (an offer for an id merged since, store_links.h,
 * is the survivor's: its purchases, its redemptions, its key), margin =
 * that purchase's gross margin (quantity x (price - the item's unit cost)),
 * cost = discounts the customer redeemed of that coupon in the window,
 * assign_prob as logged. Offers newer
 * than now_ms - window_ms are skipped (their outcome is not known yet).
 * *out is malloc'd (caller frees). keys may be NULL; otherwise *keys gets a
 * malloc'd array (caller frees) of the *n rows' keys, for splitting by
 * customer and grouping by coupon. Returns 0, -ENOMEM or a store error (then
 * *out and *keys are NULL).
 */
/*
 * Retention: deletes the offer log rows decided before before_ms. The log
 * is what uplift training and evaluation learn from and what a retried
 * request id replays, so this trades the oldest training data for space;
 * budgets, the grants customers hold and redemptions live elsewhere and are
 * untouched. Deletes in transactions of 1000 rows (a crash leaves a prefix
 * of them done). *removed gets the count. Returns 0, -EINVAL, -ENOMEM or a
 * store error.
 */
int couponstore_prune_offers(store_t *s, int64_t before_ms, uint64_t *removed);

int couponstore_uplift_logs(store_t *s, int64_t window_ms, int64_t now_ms,
                            uplift_log_t **out, couponstore_uplift_key_t **keys,
                            size_t *n);

#endif
