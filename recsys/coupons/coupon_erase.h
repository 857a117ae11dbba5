/*
 * coupon_erase.h - coupons' part of the customer-data registry (custdata.h):
 * the customer's coupon history (their grants), the offer log rows and the
 * redemptions naming them, and their account hash in the velocity counters.
 */
#ifndef PATRON_RECSYS_COUPON_ERASE_H
#define PATRON_RECSYS_COUPON_ERASE_H

#include "couponstore.h"
#include "custdata.h"

/*
 * Inside tx: gives the campaign budgets back what the customer's active
 * grants still reserve (an erased customer can never redeem them), deletes
 * their history, every offer log row and redemption naming them, and
 * removes their hash from the device and address velocity rows. Adds the
 * rows touched to out->rows. Returns 0, -EINVAL or a store error.
 */
int couponstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                  custdata_erased_t *out);

/* Calls cb for every redemption of customer_id (redemption id order); the
 * row is valid during the call only. A nonzero return stops and is
 * returned. */
typedef int (*couponstore_redemption_fn)(void *ctx, const couponstore_redemption_t *r);
int couponstore_customer_redemptions(store_t *s, const char *customer_id,
                                     couponstore_redemption_fn cb, void *ctx);

/* Coupons as a custdata owner: erase as above; export = the history
 * (CUSTDATA_COUPON_HISTORY, when there is one), offers
 * (CUSTDATA_COUPON_OFFER) and redemptions (CUSTDATA_COUPON_REDEMPTION);
 * retain = couponstore_prune_offers. */
custdata_owner_t couponstore_custdata_owner(void);

#endif
