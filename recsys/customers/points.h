/*
 * points.h - the points economy as a pure function: a customer's ledger
 * derived from their events, their redemptions and the time.
 *
 * Rules (points_def.h) turn events into dated lots of points. A lot is
 * pending for its rule's vest_days, then vests into a bucket of available
 * points dated by its vesting time; buckets expire by the programme's
 * expiry (points_expiry) and are spent oldest first. Every change is one
 * ledger row:
 *
 *   earn     a rule paid for an event: +points to the balance, or to
 *            pending when the rule vests later              source: event id
 *   vest     pending points became available                source: event id
 *   cancel   a refund inside the vesting window took pending
 *            points back                                    source: refund's id
 *   adjust   a refund after vesting took available points
 *            back (never below a zero balance)              source: refund's id
 *            or an operator's manual adjustment (AdjustPoints):
 *            up, a bucket dated by the adjustment that
 *            expires as earned points do; down, taken
 *            oldest bucket first as a redemption is         source: adjustment id
 *   expire   what was left of a bucket expired              source: event id
 *   redeem   RedeemPoints spent points, oldest bucket first source: redemption id
 *   mission  a mission was completed (missions.h): its reward
 *            is a bucket of available points dated then    source: "NAME:PERIOD"
 *   referral a referral paid (referrals.h), to the referrer and
 *            to the friend alike: +points, available at once
 *                                      source: "referral:FRIEND:ORDER"
 *
 * Each row names one source (an event id or a redemption id, each
 * idempotent where it was stored), so the ledger is idempotent by source:
 * the same history always gives the same rows. balance is exactly the sum
 * of the rows' delta and pending the sum of their pending_delta.
 *
 * Refunds: a refund is matched with the latest earlier purchases of the
 * same item that still have unrefunded quantity; of each lot those
 * purchases earned it takes back the share refunded (points x refunded
 * quantity / quantity, cumulative, so a purchase refunded in parts gives
 * back exactly what it earned). A refund matching no purchase takes
 * nothing.
 *
 * Caps: points are whole; a rule's points for one event are
 * floor(base x multiplier) (a millionth of slack for binary rounding, as
 * profile_points_for), base = its fixed points or per_unit x quantity x
 * unit_price; then cut to the rule's daily (UTC day) and lifetime caps,
 * counted on what it earned before refunds; then cut so that balance +
 * pending never exceeds PROFILE_MAX_POINTS; then to the programme's
 * velocity limits (points_guard.h: points a UTC day and week from every
 * rule and bonus together, counted the same way; what they cut adds to
 * velocity_cut). A rule over an event type the guard keeps for first
 * accounts pays nothing to a customer with shared_fingerprint (what it
 * would have paid adds to withheld).
 *
 * Order of what happens at one millisecond: vesting, expiry, events
 * (their stored order, each followed by the missions it completed),
 * redemptions (by id). A mission's reward is cut to the same headroom as
 * earned points, expires like them and is never taken back by refunds. A
 * bucket expiring at T is gone at T. A redemption stored without a time (before times were kept)
 * happens at now_ms. A redemption larger than the balance at its time
 * (possible only when events arrive later with earlier times) leaves a
 * negative balance that the next points vested pay back first.
 *
 * Multipliers apply the tier held at the event's time (profile_tier): the
 * rule's multiplier for that tier, else the tier's benefit
 * (profile_tier_benefits_t.points_multiplier), else 1.
 * Thread safety: none needed, no shared state; everything is borrowed for
 * the call but the rows, owned by the ledger.
 */
#ifndef PATRON_RECSYS_POINTS_H
#define PATRON_RECSYS_POINTS_H

#include <stddef.h>
#include <stdint.h>

#include "missions.h"
#include "profile.h"
#include "store.h"

typedef enum points_reason {
    POINTS_EARN = 1,
    POINTS_VEST = 2,
    POINTS_CANCEL = 3,
    POINTS_ADJUST = 4,
    POINTS_EXPIRE = 5,
    POINTS_REDEEM = 6,
    POINTS_MISSION = 7,
    POINTS_REFERRAL = 8,
} points_reason_t;

#define POINTS_REASON_MAX POINTS_REFERRAL

/* "earn", "vest", ...; NULL outside the enum. Static strings. */
const char *points_reason_name(int reason);

/* rule_category[] entries: the rule has no category filter, or its
 * category is unknown to the catalog (it matches nothing). */
#define POINTS_ANY_CATEGORY UINT32_MAX
#define POINTS_UNKNOWN_CATEGORY (UINT32_MAX - 1)

/* A stored entry: a redemption (points > 0) or a manual adjustment
 * (adjust != 0); one with both (two ids merged, store_links.h) gives both
 * rows. */
typedef struct points_redemption {
    const char *id;
    int64_t points;     /* spent, >= 0 */
    int64_t time_ms;    /* 0: unknown, taken as now */
    int64_t adjust;     /* a manual adjustment's signed change, or 0 */
    const char *note;   /* the row's note: an adjustment's reason, the
                           reward a redemption bought; NULL: none */
} points_redemption_t;

/* Points paid outside the earning rules (a referral, referrals.h): a
 * bucket of its own, available at time_ms, expiring as any other. Counted
 * in earned; cut, like an earning, to PROFILE_MAX_POINTS. */
typedef struct points_bonus {
    const char *source;     /* unique per bonus: "referral:FRIEND:ORDER" */
    int64_t points;         /* > 0 */
    int64_t time_ms;
} points_bonus_t;

/* One customer's history; all borrowed. */
typedef struct points_history {
    const store_event_rec_t *ev;  /* every type, time order (as stored) */
    const char *const *ids;       /* [n] event ids */
    size_t n;
    const points_redemption_t *red; /* any order */
    size_t n_red;
    const uint32_t *item_category;  /* item index -> category id (catalog's);
                                       NULL: no catalog, category rules match
                                       nothing */
    size_t n_items;
    const uint32_t *rule_category;  /* [rules] the rule's category id,
                                       POINTS_ANY_CATEGORY or
                                       POINTS_UNKNOWN_CATEGORY; NULL: every
                                       category rule is unknown */
    const points_bonus_t *bonus;    /* any order; played after the events
                                       of their millisecond */
    size_t n_bonus;
    int shared_fingerprint;         /* another account recorded one of the
                                       customer's fingerprints first
                                       (referral_store.h) */
} points_history_t;

typedef struct points_row {
    int64_t time_ms;
    points_reason_t reason;
    int rule;               /* index (points_rule_name), -1 for redeem, a
                               manual adjust, mission and referral rows and
                               their buckets' rows */
    const char *source;     /* event, redemption or adjustment id or bonus
                               source, borrowed from the history; a mission's
                               completion source, borrowed from the ledger's
                               missions */
    const char *note;       /* borrowed; "" none (see points_redemption_t) */
    int64_t delta;          /* change of the available balance */
    int64_t pending_delta;  /* change of pending points */
    int64_t balance;        /* after the row */
    int64_t pending;        /* after the row */
    int64_t bucket_ms;      /* vest, expire, adjust: the bucket's date (when
                               it vested); earn of a vesting rule: when it
                               will vest; else 0 */
    int mission;            /* mission rows and their buckets' rows: the
                               index into cfg->missions; else -1 */
} points_row_t;

typedef struct points_ledger {
    points_row_t *rows;     /* time order */
    size_t n, cap;
    int64_t balance;        /* sum of delta: available now (< 0 see above) */
    int64_t pending;        /* sum of pending_delta */
    int64_t earned;         /* earn rows net of cancel and adjust */
    int64_t redeemed, expired;
    int64_t adjusted;       /* manual adjustments, net */
    int64_t expiring_soon;  /* available points expiring within the
                               programme's expiring_soon_days */
    int64_t expiring_soon_ms; /* the earliest of those expiries; 0 none */
    int64_t next_vest_ms;   /* the earliest pending lot's vesting; 0 none */
    int64_t next_vest_points; /* what vests then */
    int64_t mission_points; /* paid by mission rows */
    missions_result_t missions; /* completions and progress (missions.h) */
    int64_t velocity_cut;   /* earnings the velocity limits cut */
    int64_t withheld;       /* earnings withheld from a shared fingerprint */
} points_ledger_t;

/* The number of rules in force (the default rule when none is configured)
 * and a rule's definition; index < points_rule_count(cfg). The default
 * rule is built in *tmp (caller's storage) and returned from there. */
size_t points_rule_count(const profile_config_t *cfg);
const points_rule_t *points_rule_at(const profile_config_t *cfg, size_t index,
                                    points_rule_t *tmp);

/* The rule's name ("purchase" for the default rule), "" for -1. Belongs
 * to cfg (or is static). */
const char *points_rule_name(const profile_config_t *cfg, int index);

/* NULL if the rules and rewards name only tiers cfg defines, else a static
 * message starting with the line's key ("points_rule: ...", "reward: ...")
 * with *line the offending line. */
const char *points_rules_invalid(const profile_config_t *cfg, unsigned *line);

/* Derives the ledger as of now_ms (events and redemptions after it are
 * ignored) into *out (zeroed first; free with points_ledger_free, also on
 * error). Returns 0, -EINVAL (NULL argument, n > 0 without ev or ids,
 * n_bonus > 0 without bonus) or -ENOMEM. */
int points_ledger_compute(const points_history_t *h, const profile_config_t *cfg,
                          int64_t now_ms, points_ledger_t *out);

/* What may be redeemed now: the balance, never below 0. */
int64_t points_available(const points_ledger_t *l);

void points_ledger_free(points_ledger_t *l); /* NULL-safe */

#endif
