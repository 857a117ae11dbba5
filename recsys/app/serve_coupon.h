/*
 * serve_coupon.h - TargetCoupons as a use case: the coupon decision for a
 * customer under their experiment arms, with the grant and the experiment
 * exposure committed in ONE store transaction.
 *
 * Why one: the client is told about a grant only if both rows are durable.
 * Were they two transactions, a failed exposure write would answer an
 * error while the grant, its reservation and the offer row stayed, and the
 * client's retry (same request_id) would replay the grant without ever
 * logging the exposure. Here a failed exposure aborts the grant too, and a
 * replay logs the exposure again (a no-op when it is logged already), so a
 * grant written without one (by an older release) gets it on the retry.
 */
#ifndef PATRON_RECSYS_SERVE_COUPON_H
#define PATRON_RECSYS_SERVE_COUPON_H

#include "arms.h"
#include "catalog.h"
#include "counters.h"
#include "couponstore.h"
#include "customers.h"
#include "store.h"

/* The customer's view at now_ms from c (the catalog snapshot and RFM
 * cut-points in use); a customer the store does not know is a prospect
 * (empty history, no tier or segment) with *known = 0. Returns 0 or a store
 * error. */
int serve_coupon_view(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                      customer_view_t *v, int *known);

/* One line of the customer's cart as the storefront sends it. */
typedef struct serve_cart_line {
    const char *item_id;
    double quantity;          /* 0..STORE_MAX_QUANTITY; 0 counts as 1 */
    double unit_price;        /* 0..STORE_MAX_PRICE */
    double unit_cost;         /* 0..STORE_MAX_PRICE; 0: unknown, the margin
                                 is the amount times cfg->margin_rate */
} serve_cart_line_t;

/* The cart the decision sees: each line's item and category from catalog
 * c (NULL: no items), its amount and margin. out holds n lines. Returns 0,
 * or -EINVAL with *bad the first bad line and *why a static text to follow
 * "cart[i]" (".item_id: unknown item", or ": " and the numbers' ranges). */
int serve_coupon_cart(const catalog_t *c, const coupon_config_t *cfg,
                      const serve_cart_line_t *in, size_t n, coupon_cart_line_t *out,
                      size_t *bad, const char **why);

/* A coupon's scope by name (UpsertCoupon): the ids in catalog c (NULL: no
 * items) of categories[0..n_categories) and items[0..n_items), at most
 * COUPON_MAX_SCOPE each, into out's categories and items. Returns 0, or
 * -EINVAL with *field ("categories" or "items"), *bad its first bad entry
 * (SIZE_MAX: too many) and *why a static message. */
int serve_coupon_scope(const catalog_t *c, const char *const *categories,
                       size_t n_categories, const char *const *items, size_t n_items,
                       coupon_t *out, const char **field, size_t *bad, const char **why);

/* The decision's picture of a customer (no cart, not referred); borrows
 * from v. */
void serve_coupon_customer(const customer_view_t *v, coupon_customer_t *out);

/*
 * Decides t (couponstore_target_t: request id, customer, the coupon catalog
 * snapshot, ...) under arms: an arm with coupons off decides "none" (with
 * that reason in out->reason; the entitlements t asks for are still
 * granted: a promise is not an experiment's to withhold), an arm's
 * coupon_lambda replaces the campaigns' pacers (on a copy of t: its
 * no_targeting and lambda). In one
 * transaction: the decision and grant (couponstore_target_tx) and the
 * exposure in every experiment of arms under out->request_id; a replayed
 * request logs its exposure too (idempotent). Once committed, counters (may
 * be NULL) get the decision (a new one only) and the response served under
 * arms (replays too). Returns 0, -EEXIST (the
 * request id was used for another customer: nothing written), -EINVAL, or
 * a store error (then nothing was written: no grant, budget unchanged).
 */
int serve_target_coupon(store_t *s, const arms_t *arms, const couponstore_target_t *t,
                        counters_t *counters, couponstore_offer_t *out, int *replayed);

#endif
