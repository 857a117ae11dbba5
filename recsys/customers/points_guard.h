/*
 * points_guard.h - the points programme's abuse guards an operator writes in
 * the profile settings file (profile_file.h; README "Points guards"):
 *
 *   points_velocity = day N week M
 *       a customer earns at most N points a UTC day and M a UTC week
 *       (Monday to Sunday) from every rule and referral together; what
 *       goes beyond is cut (the earning row pays what fits). Either part may
 *       be left out; "none" lifts both.
 *   points_first_account_only = signup referral_signup
 *       rules over these event types pay only an account that was the first
 *       to record each of its device, address and payment fingerprints
 *       (Profiles/RecordSignup): many accounts made on one phone earn the
 *       welcome points once. "none" turns the guard off. Default: signup
 *       referral_signup.
 *
 * The ledger applies them (points.h); what they held back is reported
 * (points_ledger_t.velocity_cut, withheld; GetProfile). Pure: no I/O, no
 * global state.
 */
#ifndef PATRON_RECSYS_POINTS_GUARD_H
#define PATRON_RECSYS_POINTS_GUARD_H

#include <stdint.h>

#define POINTS_GUARD_MAX_CAP 1000000000

typedef struct points_guard {
    int64_t day_cap, week_cap;     /* [0] none; else 1..POINTS_GUARD_MAX_CAP */
    uint32_t first_account_types;  /* bit 1 << store event type; [signup,
                                      referral_signup] */
} points_guard_t;

void points_guard_default(points_guard_t *g);

/* Whether rules over events of type pay only a first account. */
int points_guard_first_only(const points_guard_t *g, int type);

/* One settings line: NULL when applied, "" when key is not one of this
 * module's, else what is wrong naming the option (static). */
const char *points_guard_line(points_guard_t *g, const char *key, const char *value);

#endif
