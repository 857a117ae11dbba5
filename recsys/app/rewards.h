/*
 * rewards.h - RedeemPoints of a reward from the operator's catalog
 * (points_def.h `reward` lines): a coupon, cash at checkout, or a tier,
 * paid with points in ONE store transaction.
 *
 * Why one: for a coupon reward the grant (its reservation against the
 * campaign budget, the customer's coupon history, the velocity counters)
 * and the redemption that pays for it are written by the same LMDB write
 * transaction, so a crash or a refusal at any point leaves both or
 * neither: never points spent without the coupon, never a coupon without
 * the points. The redemption row keeps what was issued, so a retry of the
 * redemption id answers the same and grants nothing again.
 *
 * Never overdrawing: as every points entry (store_points_write), the
 * redemption is written only if what the customer's entries spend, read
 * inside the write transaction, plus the reward's cost stays within what it
 * was when the balance was derived plus that balance.
 *
 * Thread safety: any number of threads (the store serializes writers).
 */
#ifndef PATRON_RECSYS_REWARDS_H
#define PATRON_RECSYS_REWARDS_H

#include <stdint.h>

#include "couponstore.h"
#include "customers.h"
#include "points_def.h"

/* One redemption of a reward; all borrowed. */
typedef struct rewards_request {
    const char *customer_id;      /* an id merged away redeems the survivor's */
    const char *redemption_id;    /* idempotency key (shares the namespace of
                                     the customer's points entries) */
    const points_reward_t *reward;
    int64_t points;               /* what it spends (points_reward_points_invalid) */
    const char *device_id;        /* coupon rewards: velocity counters; NULL/"" none */
    const char *address_id;
    const coupon_config_t *coupon_cfg; /* the guards; NULL: defaults */
    int64_t now_ms;
} rewards_request_t;

typedef struct rewards_result {
    int64_t balance;              /* available afterwards */
    int duplicate;                /* the redemption id was stored: nothing written */
    store_points_entry_t entry;   /* what the redemption spent and issued (a
                                     duplicate: the stored one) */
    double coupon_max_cost;       /* a coupon granted now: its reservation */
    char why[COUPON_REASON_MAX];  /* a refusal's reason */
} rewards_result_t;

/*
 * Redeems r->points for r->reward at r->now_ms: a coupon reward grants the
 * coupon (couponstore_grant_tx), a cash reward records the money
 * (points_reward_cash), a tier reward holds the tier for the reward's days
 * (0: tier_window_days + tier_grace_days) from now. Returns 0, -ENOENT (an
 * unknown customer: no events), -ERANGE (the balance is smaller; out->balance
 * says what it is), -EDQUOT (the coupon's campaign cannot pay), -EPERM
 * (the coupon refused it, or the customer holds the tier or a higher one
 * already; out->why says why), -ENXIO (the reward's coupon is not in the
 * coupon catalog), -EEXIST (the redemption id names an adjustment), -EINVAL
 * or a store error. On every error nothing was written.
 */
int rewards_redeem(const customers_ctx_t *c, const rewards_request_t *r,
                   rewards_result_t *out);

#endif
