/*
 * points_rpc.h - the points methods of patron.v1.Profiles beyond
 * RedeemPoints (ListPointsLedger), and the PointsStatus message GetProfile
 * shows. Translation only: the ledger is recsys/customers/points.c, read
 * through points_store.c.
 */
#ifndef PATRON_SERVER_POINTS_RPC_H
#define PATRON_SERVER_POINTS_RPC_H

#include "app.h"
#include "customers.h"
#include "patron/v1/profiles.pb-c.h"
#include "transport.h"

/* Fills m from a customer view's points figures (cfg: the settings, for
 * expiring_soon_days). */
void points_status_fill(const profile_config_t *cfg, const customer_view_t *v,
                        Patron__V1__PointsStatus *m);

/* GetProfile's mission statuses (Profile.missions), built from the
 * customer's derived ledger at now_ms. Strings borrow from c (the settings
 * and the catalog), which must outlive the message. */
typedef struct missions_msg missions_msg_t;

/* *out gets the statuses (NULL when no mission is defined); free with
 * missions_msg_free. Returns 0, -ENOMEM or a store error. */
int missions_msg_new(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                     missions_msg_t **out);

/* Points p->missions at mm's statuses (nothing for NULL). */
void missions_msg_attach(missions_msg_t *mm, Patron__V1__Profile *p);

void missions_msg_free(missions_msg_t *mm); /* NULL-safe */

/* ListPointsLedger: INVALID_ARGUMENT naming the field for a bad
 * customer_id, as_of_unix_ms or page_token (one ListPointsLedger did not
 * return); NOT_FOUND for a customer the store knows nothing of. page_size
 * 0 means 100; larger than 1000 is served as 1000. */
void h_list_points_ledger(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out);

/* AdjustPoints: INVALID_ARGUMENT naming the field (customer_id,
 * adjustment_id, delta: nonzero within +-1e9, reason: 1..200 bytes,
 * operator_id); NOT_FOUND for a customer without events or attributes;
 * FAILED_PRECONDITION naming delta when a negative one exceeds the
 * available balance (refused, never clamped); ALREADY_EXISTS when
 * adjustment_id names a redemption. A retried adjustment_id answers
 * duplicate with the stored delta and changes nothing. */
void h_adjust_points(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out);

#endif
