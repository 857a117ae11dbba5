/*
 * referrals_rpc.h - patron.v1.Profiles/RecordSignup and the profile's
 * ReferralStatus. Translation only: the programme is
 * recsys/customers/referrals.c and referral_store.c.
 */
#ifndef PATRON_SERVER_REFERRALS_RPC_H
#define PATRON_SERVER_REFERRALS_RPC_H

#include "app.h"
#include "customers.h"
#include "patron/v1/profiles.pb-c.h"
#include "transport.h"

/* Fills m from a customer view's referral figures; strings borrow from v. */
void referral_status_fill(const customer_view_t *v, Patron__V1__ReferralStatus *m);

/* RecordSignup: INVALID_ARGUMENT naming the field (customer_id,
 * time_unix_ms, a fingerprint, a malformed referral_code, the customer's
 * own code), NOT_FOUND naming referral_code for a code no customer has,
 * FAILED_PRECONDITION when the customer signed up before with other
 * details. */
void h_record_signup(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out);

#endif
