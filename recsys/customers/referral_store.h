/*
 * referral_store.h - the referral programme's storage shell (referrals.h is
 * the pure part): signups with their fingerprints and referral links, code
 * lookup, what a customer's referrals pay (as points_bonus_t for the
 * ledger, points_store.h), and the custdata owner that erases, exports and
 * merges these rows.
 *
 * Tables (proto/patron/store/v1/referrals.proto):
 *   rsign   [customer]                   the signup (ReferralSignup)
 *   rcode   [code]                       the customer whose code it is
 *   rfriend [referrer NUL fnv64(friend)] the friend's id
 *   rfp     [kind ':' value NUL customer] signup time: the accounts on one
 *                                        device (d), address (a) or payment
 *                                        fingerprint (p)
 * A customer's code is deterministic (referral_code_of); rcode rows are
 * written when the customer signs up, or when a signup names a code the
 * table does not know yet and a walk over the customers with events finds
 * it.
 *
 * Nothing paid is stored: rewards follow from the links, fingerprints and
 * the friends' events (idempotent by event id) every time, like the rest
 * of the ledger (points.h). So erasing a friend removes the referral's
 * rows from the referrer's ledger too (the orders it rested on are gone),
 * and erasing a referrer removes its link from its friends (their signup
 * keeps no trace of it) and with it their referral rows.
 *
 * Threads: any, as the store. Errors: 0 or a negative errno; functions
 * taking `why` set it to a static message naming the request field.
 */
#ifndef PATRON_RECSYS_REFERRAL_STORE_H
#define PATRON_RECSYS_REFERRAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "custdata.h"
#include "points.h"
#include "referrals.h"
#include "store.h"

#define REFERRAL_FINGERPRINT_MAX 128  /* bytes of a device/address/payment id */

typedef struct referral_signup {
    const char *customer_id;
    int64_t time_ms;              /* > 0 */
    const char *code;             /* NULL / "": signed up without a code */
    const char *device, *address, *payment; /* NULL / "": not known */
} referral_signup_t;

typedef struct referral_signup_result {
    char customer_id[STORE_MAX_ID + 1];  /* resolved (MergeCustomers) */
    char referrer[STORE_MAX_ID + 1];     /* "": none */
    char code[REFERRAL_CODE_LEN + 1];    /* the customer's own code */
    int replayed;                        /* the same signup was stored before */
} referral_signup_result_t;

/*
 * Records a signup in one transaction: the customer's fingerprints, and
 * with a code the link to its owner (resolved through merges). Once per
 * customer: the same signup again answers replayed and writes nothing.
 * Returns 0, -EINVAL (a field is malformed, or the code is the customer's
 * own: self-referral), -ENOENT (no customer has that code: *why names
 * referral_code), -EEXIST (the customer signed up before with other
 * details), or a store error.
 */
int referral_store_signup(store_t *s, const referral_signup_t *in, int64_t recorded_ms,
                          referral_signup_result_t *out, const char **why);

/* The customer a code belongs to (resolved through merges) into
 * out[STORE_MAX_ID + 1]; -EINVAL (malformed), -ENOENT or a store error. */
int referral_store_resolve_code(store_t *s, const char *code, char *out);

/* What a customer's referrals come to as of now_ms. Owns everything. */
typedef struct referral_view {
    char code[REFERRAL_CODE_LEN + 1];
    int signed_up;                    /* RecordSignup stored */
    int64_t signup_ms;
    char referrer[STORE_MAX_ID + 1];  /* "": not referred */
    referral_state_t state;           /* as a friend (with a referrer) */
    int64_t reward_ms;                /* ... paid then (PAID) */
    uint32_t friends;                 /* as a referrer: per state */
    uint32_t by_state[REFERRAL_SELF + 1];
    uint32_t accounts_on_fingerprint; /* the most accounts sharing one of
                                         its fingerprints, itself included */
    int shared_fingerprint;           /* an account recorded one of its
                                         fingerprints before it */
    points_bonus_t *bonus;            /* what it is paid, both roles */
    size_t n_bonus, cap_bonus;
} referral_view_t;

/* Fills *out (free with referral_view_free, also on error). A customer
 * never seen has an empty view with its code. */
int referral_store_view(store_t *s, const referral_config_t *cfg, const char *customer_id,
                        int64_t now_ms, referral_view_t *out);
void referral_view_free(referral_view_t *v); /* NULL-safe */

/* Exported rows (custdata.h): CUSTDATA_REFERRAL_SIGNUP is this, the
 * friends one CUSTDATA_REFERRED row each (const char, the friend id). */
typedef struct referral_export_signup {
    int64_t time_ms, recorded_ms;
    const char *referrer, *code, *device, *address, *payment;
} referral_export_signup_t;

/* Erase, merge (a survivor keeps its own signup; a source's signup moves
 * when the survivor has none, else it is dropped with its fingerprints;
 * the source's friends become the survivor's), holds (a signup makes an
 * id known) and export. */
custdata_owner_t referral_custdata_owner(void);

#endif
