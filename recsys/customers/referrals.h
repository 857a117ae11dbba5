/*
 * referrals.h - the referral programme as pure functions: customers'
 * codes, when a friend's orders earn the referral, and which referrals of
 * one referrer are paid (ring detection, caps). The storage shell is
 * referral_store.h; the rewards become ledger rows in points.h.
 *
 * A referral (friend F signed up with referrer R's code) is paid, to both,
 * at the moment F's first purchase that is not refunded within the
 * programme's window_days has passed that window (purchase time + window):
 * a refunded first order pays nothing, a later unrefunded one does. It is
 * not paid when
 *   - F and R are one customer (self-referral; also after a merge),
 *   - F shares a device, address or payment fingerprint with R, or another
 *     account recorded one of F's fingerprints before F signed up (a ring:
 *     accounts on one phone referring each other, a chain through one
 *     address): only the first account on a fingerprint can earn,
 *   - R's paid referrals already reached the cap in the reward's period
 *     (referrals paid in reward-time order, ties by friend id).
 *
 * Thread safety: none needed, no shared state.
 */
#ifndef PATRON_RECSYS_REFERRALS_H
#define PATRON_RECSYS_REFERRALS_H

#include <stddef.h>
#include <stdint.h>

#include "referral_def.h"
#include "store.h"

#define REFERRAL_CODE_LEN 10   /* Crockford base32 characters */

/* The customer's referral code (deterministic: 50 bits of a salted hash of
 * the id, Crockford base32, upper case) into out[REFERRAL_CODE_LEN + 1]. */
void referral_code_of(const char *customer_id, char *out);

/* Normalizes a code as typed (case-insensitive; O read as 0, I and L as 1)
 * into out[REFERRAL_CODE_LEN + 1]. Returns 0, or -EINVAL when it is not 10
 * base32 characters. */
int referral_code_normalize(const char *code, char *out);

typedef enum referral_state {
    REFERRAL_PENDING = 0,   /* no qualifying order yet */
    REFERRAL_PAID = 1,      /* both sides rewarded at reward_ms */
    REFERRAL_RING = 2,      /* shared fingerprint: never paid */
    REFERRAL_CAPPED = 3,    /* qualified beyond the referrer's cap */
    REFERRAL_SELF = 4,      /* the friend is the referrer */
} referral_state_t;

/* "pending", "paid", "ring", "capped", "self"; NULL outside the enum. */
const char *referral_state_name(int state);

/*
 * The friend's qualifying order among its events ev[0..n) (time order, as
 * stored): the first purchase p such that no refund of its item follows
 * within window_days (time in [p, p + window]), with p + window <= now_ms.
 * Returns the reward time p + window and *order = p's index, or 0 when
 * there is none yet.
 */
int64_t referral_qualifying_order(const store_event_rec_t *ev, size_t n,
                                  uint32_t window_days, int64_t now_ms, size_t *order);

/* One referral of a referrer, as referral_allocate sees it. */
typedef struct referral_candidate {
    const char *friend_id;   /* borrowed */
    int64_t reward_ms;       /* referral_qualifying_order; 0: pending */
    int self, ring;          /* what the store found */
    referral_state_t state;  /* out */
} referral_candidate_t;

/* Decides every candidate's state (the order of c may change: sorted by
 * reward time, then friend id). With cfg->enabled = 0 a qualifying
 * referral is still PAID (the caller pays 0 points). */
void referral_allocate(referral_candidate_t *c, size_t n, const referral_config_t *cfg);

#endif
