/*
 * referrals_rpc.c - RecordSignup and the profile's ReferralStatus
 * (referrals_rpc.h).
 */
#include "referrals_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "referral_store.h"
#include "wallclock.h"

void referral_status_fill(const customer_view_t *v, Patron__V1__ReferralStatus *m)
{
    const referral_view_t *r = &v->referral;
    patron__v1__referral_status__init(m);
    m->code = (char *)r->code;
    m->signed_up = r->signed_up;
    m->signup_unix_ms = r->signup_ms;
    m->referred_by = (char *)r->referrer;
    m->state = (char *)(r->referrer[0] ? referral_state_name(r->state) : "");
    m->reward_unix_ms = r->reward_ms;
    m->friends = r->friends;
    m->paid = r->by_state[REFERRAL_PAID];
    m->pending = r->by_state[REFERRAL_PENDING];
    m->ring = r->by_state[REFERRAL_RING];
    m->capped = r->by_state[REFERRAL_CAPPED];
    m->self = r->by_state[REFERRAL_SELF];
    m->accounts_on_fingerprint = r->accounts_on_fingerprint;
    m->shared_fingerprint = r->shared_fingerprint;
    m->points_withheld = v->points_withheld;
    m->points_cut_by_velocity = v->points_velocity_cut;
}

static void answer(int rc, const char *why, const referral_signup_result_t *res,
                   rpc_reply_t *out)
{
    Patron__V1__RecordSignupResponse resp = PATRON__V1__RECORD_SIGNUP_RESPONSE__INIT;
    if (rc == -EINVAL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", why ? why : "invalid signup");
    } else if (rc == -ENOENT && why) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "%s", why);
    } else if (rc == -EEXIST && why) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "%s", why);
    } else if (rc) {
        fail_errno(out, rc, "recording the signup");
    } else {
        resp.customer_id = (char *)res->customer_id;
        resp.referral_code = (char *)res->code;
        resp.referred_by = (char *)res->referrer;
        resp.replayed = res->replayed;
        encode(&resp.base, out);
    }
}

void h_record_signup(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecordSignupRequest *r = (Patron__V1__RecordSignupRequest *)decode(
        &patron__v1__record_signup_request__descriptor, req, len, out);
    referral_signup_result_t res;
    const char *why = NULL;
    int64_t now = wall_ms();
    int rc;

    (void)ci;
    if (!r)
        return;
    if (r->time_unix_ms &&
        (why = store_event_time_invalid(r->time_unix_ms, now, a->max_event_skew_ms)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "time_unix_ms: %s", why);
    } else {
        referral_signup_t in = { .customer_id = r->customer_id,
                                 .time_ms = r->time_unix_ms ? r->time_unix_ms : now,
                                 .code = r->referral_code, .device = r->device_id,
                                 .address = r->address_id, .payment = r->payment_fingerprint };
        rc = referral_store_signup(a->store, &in, now, &res, &why);
        answer(rc, why, &res, out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
