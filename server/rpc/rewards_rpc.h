/*
 * rewards_rpc.h - the rewards catalog over patron.v1.Profiles: RedeemPoints
 * naming a reward_id, and ListRewards. Translation only: the catalog is the
 * settings file's reward lines (points_def.h), the redemption
 * recsys/app/rewards.c.
 */
#ifndef PATRON_SERVER_REWARDS_RPC_H
#define PATRON_SERVER_REWARDS_RPC_H

#include "app.h"
#include "patron/v1/profiles.pb-c.h"
#include "transport.h"

/* RedeemPoints of r->reward_id (non-empty), r otherwise checked by the
 * caller (customer_id and redemption_id well formed): NOT_FOUND naming
 * reward_id for a reward the catalog lacks; INVALID_ARGUMENT naming points
 * (not the cost; cash below its min, off its step, above 2^53) or
 * device_id / address_id; NOT_FOUND naming customer_id without events;
 * FAILED_PRECONDITION when the balance (naming points), the coupon's
 * budget, limits or absence, or a tier held already (naming reward_id)
 * refuses: nothing is spent then; ALREADY_EXISTS when redemption_id names
 * an adjustment. */
void rewards_rpc_redeem(app_t *a, const rpc_call_info_t *ci,
                        const Patron__V1__RedeemPointsRequest *r, rpc_reply_t *out);

/* ListRewards: the catalog in file order; with customer_id (INVALID_ARGUMENT
 * when malformed, NOT_FOUND when unknown) what its balance affords now. */
void h_list_rewards(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                    rpc_reply_t *out);

#endif
