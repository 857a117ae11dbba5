/*
 * enums.h - the enums patron.v1 mirrors from the domain, converted here and
 * nowhere else. Each conversion is a cast, so each mirrored value has a
 * _Static_assert beside it: renumbering either side fails the build instead
 * of silently answering with the wrong event type, reason, stage or coupon
 * outcome.
 */
#ifndef PATRON_SERVER_ENUMS_H
#define PATRON_SERVER_ENUMS_H

#include <errno.h>
#include <stdint.h>

#include "coupon.h"
#include "patron/v1/common.pb-c.h"
#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/triggers.pb-c.h"
#include "points.h"
#include "profile.h"
#include "recommend.h"
#include "store.h"
#include "trigger_def.h"
#include "uplift.h"

#define SAME(domain, pb) _Static_assert((int)(domain) == (int)(pb), #domain " != " #pb)

/* EventType <-> store_event_type_t (UNSPECIFIED and unknown numbers pass
 * through, for store_event_invalid to name). */
SAME(STORE_EVENT_VIEW, PATRON__V1__EVENT_TYPE__EVENT_TYPE_VIEW);
SAME(STORE_EVENT_CART, PATRON__V1__EVENT_TYPE__EVENT_TYPE_CART);
SAME(STORE_EVENT_PURCHASE, PATRON__V1__EVENT_TYPE__EVENT_TYPE_PURCHASE);
SAME(STORE_EVENT_REFUND, PATRON__V1__EVENT_TYPE__EVENT_TYPE_REFUND);
SAME(STORE_EVENT_NOT_INTERESTED, PATRON__V1__EVENT_TYPE__EVENT_TYPE_NOT_INTERESTED);
SAME(STORE_EVENT_SIGNUP, PATRON__V1__EVENT_TYPE__EVENT_TYPE_SIGNUP);
SAME(STORE_EVENT_REVIEW, PATRON__V1__EVENT_TYPE__EVENT_TYPE_REVIEW);
SAME(STORE_EVENT_CHECK_IN, PATRON__V1__EVENT_TYPE__EVENT_TYPE_CHECK_IN);
SAME(STORE_EVENT_SHARE, PATRON__V1__EVENT_TYPE__EVENT_TYPE_SHARE);
SAME(STORE_EVENT_REFERRAL_SIGNUP, PATRON__V1__EVENT_TYPE__EVENT_TYPE_REFERRAL_SIGNUP);
SAME(STORE_EVENT_SURVEY, PATRON__V1__EVENT_TYPE__EVENT_TYPE_SURVEY);

static inline int event_type_from_pb(Patron__V1__EventType t)
{
    return (int)t;
}

static inline Patron__V1__EventType event_type_to_pb(int t)
{
    return (Patron__V1__EventType)t;
}

/* points_reason_t -> PointsReason */
SAME(POINTS_EARN, PATRON__V1__POINTS_REASON__POINTS_REASON_EARN);
SAME(POINTS_VEST, PATRON__V1__POINTS_REASON__POINTS_REASON_VEST);
SAME(POINTS_CANCEL, PATRON__V1__POINTS_REASON__POINTS_REASON_CANCEL);
SAME(POINTS_ADJUST, PATRON__V1__POINTS_REASON__POINTS_REASON_ADJUST);
SAME(POINTS_EXPIRE, PATRON__V1__POINTS_REASON__POINTS_REASON_EXPIRE);
SAME(POINTS_REDEEM, PATRON__V1__POINTS_REASON__POINTS_REASON_REDEEM);
SAME(POINTS_MISSION, PATRON__V1__POINTS_REASON__POINTS_REASON_MISSION);
SAME(POINTS_REFERRAL, PATRON__V1__POINTS_REASON__POINTS_REASON_REFERRAL);

static inline Patron__V1__PointsReason points_reason_to_pb(points_reason_t r)
{
    return (Patron__V1__PointsReason)r;
}

/* rec_reason_t -> Reason */
SAME(REC_REASON_UNSPECIFIED, PATRON__V1__REASON__REASON_UNSPECIFIED);
SAME(REC_REASON_PERSONALIZED, PATRON__V1__REASON__REASON_PERSONALIZED);
SAME(REC_REASON_POPULAR, PATRON__V1__REASON__REASON_POPULAR);
SAME(REC_REASON_SIMILAR_ITEM, PATRON__V1__REASON__REASON_SIMILAR_ITEM);
SAME(REC_REASON_FOLD_IN, PATRON__V1__REASON__REASON_FOLD_IN);
SAME(REC_REASON_COMPLEMENT, PATRON__V1__REASON__REASON_COMPLEMENT);

static inline Patron__V1__Reason reason_to_pb(uint8_t r)
{
    return (Patron__V1__Reason)r;
}

/* profile_stage_t <-> LifecycleStage: the same numbers but for a prospect,
 * PROFILE_STAGE_PROSPECT (0) here and LIFECYCLE_STAGE_PROSPECT on the wire,
 * whose zero is UNSPECIFIED: never answered, refused in a request. The uplift
 * models keep one segment per stage. */
SAME(PROFILE_STAGE_PROSPECT, 0);
SAME(PROFILE_STAGE_NEW, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_NEW);
SAME(PROFILE_STAGE_ACTIVE, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_ACTIVE);
SAME(PROFILE_STAGE_AT_RISK, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_AT_RISK);
SAME(PROFILE_STAGE_LAPSED, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_LAPSED);
SAME(PROFILE_STAGE_WON_BACK, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_WON_BACK);
SAME(PROFILE_STAGE_WON_BACK + 1, PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PROSPECT);
SAME(PROFILE_STAGE_WON_BACK + 1, UPLIFT_N_SEGMENTS);

static inline Patron__V1__LifecycleStage stage_to_pb(int stage)
{
    return stage == PROFILE_STAGE_PROSPECT ? PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PROSPECT
                                           : (Patron__V1__LifecycleStage)stage;
}

/* 0 with *out set, or -EINVAL for UNSPECIFIED and numbers the API does not
 * define. */
static inline int stage_from_pb(Patron__V1__LifecycleStage s, profile_stage_t *out)
{
    if (s == PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PROSPECT) {
        *out = PROFILE_STAGE_PROSPECT;
        return 0;
    }
    if ((int)s < (int)PROFILE_STAGE_NEW || (int)s > (int)PROFILE_STAGE_WON_BACK)
        return -EINVAL;
    *out = (profile_stage_t)s;
    return 0;
}

/* coupon_outcome_t -> CouponOutcome: shifted by one, the API's zero being
 * UNSPECIFIED. The stored offer log keeps coupon_outcome_t (its own
 * patron.store.v1 enum), so the shift changes no stored meaning. */
SAME(COUPON_GRANT + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_GRANT);
SAME(COUPON_GRANT_EXPLORE + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_GRANT_EXPLORE);
SAME(COUPON_NONE_NOT_WORTH + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_NOT_WORTH);
SAME(COUPON_NONE_EXPLORE + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_EXPLORE);
SAME(COUPON_NONE_INELIGIBLE + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_INELIGIBLE);
SAME(COUPON_NONE_HOLDOUT + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_HOLDOUT);
SAME(COUPON_NONE_VELOCITY + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_VELOCITY);
SAME(COUPON_NONE_FREQUENCY + 1, PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_FREQUENCY);

static inline Patron__V1__CouponOutcome outcome_to_pb(int32_t o)
{
    return (Patron__V1__CouponOutcome)(o + 1);
}

/* CouponKind -> coupon_type_t: the proto reserves 0 for "unset", so every
 * kind is its type + 1. */
SAME(COUPON_THRESHOLD + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_SPEND_X_SAVE_Y);
SAME(COUPON_PERCENT + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_PERCENT_OFF);
SAME(COUPON_FIXED + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_FIXED_AMOUNT);
SAME(COUPON_FREE_SHIPPING + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_FREE_SHIPPING);
SAME(COUPON_WELCOME_PACK + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_WELCOME);
SAME(COUPON_BIRTHDAY + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_BIRTHDAY);
SAME(COUPON_WINBACK + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_WIN_BACK);
SAME(COUPON_REFERRAL + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_REFERRAL);
SAME(COUPON_ANNIVERSARY + 1, PATRON__V1__COUPON_KIND__COUPON_KIND_ANNIVERSARY);
SAME(COUPON_N_TYPES, PATRON__V1__COUPON_KIND__COUPON_KIND_ANNIVERSARY);

/* 0, or -EINVAL for UNSPECIFIED and numbers the API does not define. */
static inline int coupon_kind_from_pb(Patron__V1__CouponKind k, coupon_type_t *out)
{
    if ((int)k < 1 || (int)k > (int)COUPON_N_TYPES)
        return -EINVAL;
    *out = (coupon_type_t)((int)k - 1);
    return 0;
}

/* CouponMode -> coupon_mode_t: UNSPECIFIED is targeted, as before modes
 * existed. 0, or -EINVAL for numbers the API does not define. */
static inline int coupon_mode_from_pb(Patron__V1__CouponMode m, coupon_mode_t *out)
{
    switch (m) {
    case PATRON__V1__COUPON_MODE__COUPON_MODE_UNSPECIFIED:
    case PATRON__V1__COUPON_MODE__COUPON_MODE_TARGETED:
        *out = COUPON_TARGETED;
        return 0;
    case PATRON__V1__COUPON_MODE__COUPON_MODE_GUARANTEED:
        *out = COUPON_GUARANTEED;
        return 0;
    default:
        return -EINVAL;
    }
}

/* GrantPeriod <-> coupon_period_t: the same numbers (UNSPECIFIED = NONE). */
SAME(COUPON_PERIOD_NONE, PATRON__V1__GRANT_PERIOD__GRANT_PERIOD_UNSPECIFIED);
SAME(COUPON_PERIOD_ONCE, PATRON__V1__GRANT_PERIOD__GRANT_PERIOD_ONCE);
SAME(COUPON_PERIOD_YEAR, PATRON__V1__GRANT_PERIOD__GRANT_PERIOD_YEAR);
SAME(COUPON_PERIOD_MONTH, PATRON__V1__GRANT_PERIOD__GRANT_PERIOD_MONTH);
SAME(COUPON_PERIOD_WEEK, PATRON__V1__GRANT_PERIOD__GRANT_PERIOD_WEEK);

static inline int coupon_period_from_pb(Patron__V1__GrantPeriod p, coupon_period_t *out)
{
    if ((int)p < 0 || (int)p >= (int)COUPON_N_PERIODS)
        return -EINVAL;
    *out = (coupon_period_t)p;
    return 0;
}

/* EntitlementStatus = coupon_entitled_t + 1 (0 is unset). */
SAME(COUPON_ENTITLED_GRANT + 1, PATRON__V1__ENTITLEMENT_STATUS__ENTITLEMENT_STATUS_GRANTED);
SAME(COUPON_ENTITLED_HELD + 1,
     PATRON__V1__ENTITLEMENT_STATUS__ENTITLEMENT_STATUS_ALREADY_GRANTED);
SAME(COUPON_ENTITLED_VELOCITY + 1,
     PATRON__V1__ENTITLEMENT_STATUS__ENTITLEMENT_STATUS_REFUSED_VELOCITY);
SAME(COUPON_ENTITLED_BUDGET + 1,
     PATRON__V1__ENTITLEMENT_STATUS__ENTITLEMENT_STATUS_REFUSED_BUDGET);

static inline Patron__V1__EntitlementStatus entitled_to_pb(coupon_entitled_t s)
{
    return (Patron__V1__EntitlementStatus)((int)s + 1);
}

/* BenefitKind -> coupon_benefit_kind_t, likewise shifted by one. */
SAME(COUPON_BENEFIT_AMOUNT + 1, PATRON__V1__BENEFIT_KIND__BENEFIT_KIND_AMOUNT);
SAME(COUPON_BENEFIT_PERCENT + 1, PATRON__V1__BENEFIT_KIND__BENEFIT_KIND_PERCENT);
SAME(COUPON_BENEFIT_SHIPPING + 1, PATRON__V1__BENEFIT_KIND__BENEFIT_KIND_SHIPPING);
SAME(COUPON_BENEFIT_THRESHOLD + 1, PATRON__V1__BENEFIT_KIND__BENEFIT_KIND_THRESHOLD);

static inline int benefit_kind_from_pb(Patron__V1__BenefitKind k, coupon_benefit_kind_t *out)
{
    if ((int)k < 1 || (int)k > (int)COUPON_BENEFIT_THRESHOLD + 1)
        return -EINVAL;
    *out = (coupon_benefit_kind_t)((int)k - 1);
    return 0;
}

/* TriggerKind <-> trigger_kind_t: the same numbers (a cast). */
SAME(TRIGGER_CART_ABANDONED, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_CART_ABANDONED);
SAME(TRIGGER_AT_RISK, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_AT_RISK);
SAME(TRIGGER_LAPSED, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_LAPSED);
SAME(TRIGGER_WON_BACK, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_WON_BACK);
SAME(TRIGGER_TIER_UP, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_TIER_UP);
SAME(TRIGGER_TIER_DOWN, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_TIER_DOWN);
SAME(TRIGGER_BIRTHDAY, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_BIRTHDAY);
SAME(TRIGGER_ANNIVERSARY, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_ANNIVERSARY);
SAME(TRIGGER_FIRST_PURCHASE, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_FIRST_PURCHASE);
SAME(TRIGGER_PRICE_DROP, PATRON__V1__TRIGGER_KIND__TRIGGER_KIND_PRICE_DROP);

#undef SAME

#endif
