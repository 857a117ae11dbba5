/*
 * coupon_def.c - what a coupon is (contract in coupon.h): validating a
 * definition and its benefits, and the money of a benefit (the threshold a
 * customer must reach, the discount at a basket, the most it can cost).
 */
#include "coupon.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "civil.h"
#include "id.h"

static const uint32_t ALL_STAGES = (1u << UPLIFT_N_SEGMENTS) - 1u;

/* ---- definitions ------------------------------------------------------------------ */

const char *coupon_type_name(coupon_type_t t)
{
    static const char *const names[COUPON_N_TYPES] = {
        "threshold", "percent",  "fixed",   "free_shipping",
        "welcome_pack", "birthday", "winback", "referral", "anniversary",
    };
    return (t >= 0 && t < COUPON_N_TYPES) ? names[t] : NULL;
}

const char *coupon_period_name(coupon_period_t p)
{
    static const char *const names[COUPON_N_PERIODS] = {
        "none", "once", "year", "month", "week",
    };
    return (p >= 0 && p < COUPON_N_PERIODS) ? names[p] : NULL;
}

int coupon_period_bounds(coupon_period_t p, int64_t now_ms, int64_t *start_ms,
                         int64_t *end_ms)
{
    static const civil_period_t as_civil[COUPON_N_PERIODS] = {
        [COUPON_PERIOD_ONCE] = CIVIL_PERIOD_ONCE, [COUPON_PERIOD_YEAR] = CIVIL_PERIOD_YEAR,
        [COUPON_PERIOD_MONTH] = CIVIL_PERIOD_MONTH, [COUPON_PERIOD_WEEK] = CIVIL_PERIOD_WEEK,
    };
    if (p <= COUPON_PERIOD_NONE || p >= COUPON_N_PERIODS)
        return -EINVAL;
    return civil_period_bounds(as_civil[p], now_ms, start_ms, end_ms) ? -EINVAL : 0;
}

static const char *mode_invalid(const coupon_t *c)
{
    if (!isfinite(c->milestone_spend) || c->milestone_spend < 0.0)
        return "milestone_spend: must be a finite amount >= 0 (0: no milestone)";
    if (c->mode == COUPON_TARGETED && c->milestone_spend > 0.0)
        return "milestone_spend: only a guaranteed coupon has a spend milestone";
    if (c->mode == COUPON_TARGETED)
        return c->period == COUPON_PERIOD_NONE
                   ? NULL
                   : "period: only a guaranteed coupon has a grant period";
    if (c->mode != COUPON_GUARANTEED)
        return "mode: unknown value";
    if (c->period <= COUPON_PERIOD_NONE || c->period >= COUPON_N_PERIODS)
        return "period: a guaranteed coupon needs one (once, year, month or week)";
    if (c->type == COUPON_WELCOME_PACK && c->period != COUPON_PERIOD_ONCE)
        return "period: a guaranteed welcome pack is given once";
    return NULL;
}

static int id_ok(const char *id)
{
    return id_check(id, COUPON_ID_MAX - 1, 0) != 0; /* fits its buffer */
}

static int positive(double v)
{
    return isfinite(v) && v > 0.0;
}

static int fraction(double v)
{
    return isfinite(v) && v > 0.0 && v < 1.0;
}

static const char *benefit_invalid(const coupon_benefit_t *b)
{
    switch (b->kind) {
    case COUPON_BENEFIT_AMOUNT:
        return positive(b->amount) ? NULL : "benefit.amount: must be > 0";
    case COUPON_BENEFIT_SHIPPING:
        return positive(b->amount)
                   ? NULL
                   : "benefit.amount: free shipping needs the shipping value > 0";
    case COUPON_BENEFIT_PERCENT:
        if (!fraction(b->percent))
            return "benefit.percent: must be in (0, 1)";
        return positive(b->cap)
                   ? NULL
                   : "benefit.cap: a percent-off coupon needs a cap > 0";
    case COUPON_BENEFIT_THRESHOLD:
        if (!(b->threshold >= 0.0) || !isfinite(b->threshold))
            return "benefit.threshold: must be >= 0 (0 = personalized)";
        if (!(b->min_threshold >= 0.0) || !isfinite(b->min_threshold))
            return "benefit.min_threshold: must be >= 0";
        if (b->amount != 0.0 && !positive(b->amount))
            return "benefit.amount: must be > 0 (or 0 to use percent)";
        if (b->amount == 0.0 && !fraction(b->percent))
            return "benefit.percent: a threshold coupon needs amount > 0 or "
                   "percent in (0, 1)";
        if (b->threshold > 0.0 && b->amount >= b->threshold)
            return "benefit.amount: must be below benefit.threshold";
        return NULL;
    }
    return "benefit.kind: unknown value";
}

/* The benefit kind a type requires, or -1 when any will do. */
static int required_kind(coupon_type_t t)
{
    switch (t) {
    case COUPON_THRESHOLD:
        return COUPON_BENEFIT_THRESHOLD;
    case COUPON_PERCENT:
        return COUPON_BENEFIT_PERCENT;
    case COUPON_FIXED:
        return COUPON_BENEFIT_AMOUNT;
    case COUPON_FREE_SHIPPING:
        return COUPON_BENEFIT_SHIPPING;
    default:
        return -1;
    }
}

static const char *benefits_invalid(const coupon_t *c)
{
    if (c->type == COUPON_WELCOME_PACK) {
        if (c->n_benefits < 2 || c->n_benefits > COUPON_MAX_PACK)
            return "n_benefits: a welcome pack has 2..8 benefits";
        if (c->per_customer_limit != 1)
            return "per_customer_limit: a welcome pack is given once (1)";
    } else if (c->n_benefits != 1) {
        return "n_benefits: must be 1 (only a welcome pack has several)";
    }
    int kind = required_kind(c->type);
    for (size_t i = 0; i < c->n_benefits; i++) {
        if (kind >= 0 && (int)c->benefit[i].kind != kind)
            return "benefit.kind: does not match type";
        const char *err = benefit_invalid(&c->benefit[i]);
        if (err)
            return err;
    }
    return NULL;
}

const char *coupon_invalid(const coupon_t *c)
{
    if (!c)
        return "coupon: NULL";
    if (!id_ok(c->id))
        return "id: must be 1..63 bytes";
    if (!id_ok(c->campaign))
        return "campaign: must be 1..63 bytes";
    if (!coupon_type_name(c->type))
        return "type: unknown value";
    if (c->per_customer_limit < 1)
        return "per_customer_limit: must be >= 1";
    const char *err = benefits_invalid(c);
    if (err)
        return err;
    if (c->valid_from_ms < 0)
        return "valid_from_ms: must be >= 0";
    if (c->valid_until_ms <= c->valid_from_ms)
        return "valid_until_ms: must be after valid_from_ms";
    if (c->stage_mask & ~ALL_STAGES)
        return "stage_mask: bit beyond the last lifecycle stage";
    if (c->n_categories > COUPON_MAX_SCOPE)
        return "n_categories: at most 16";
    if (c->n_items > COUPON_MAX_SCOPE)
        return "n_items: at most 16";
    if (!(c->min_basket >= 0.0) || !isfinite(c->min_basket))
        return "min_basket: must be >= 0";
    if (!positive(c->campaign_budget))
        return "campaign_budget: must be > 0";
    return mode_invalid(c);
}

/* ---- money ---------------------------------------------------------------------------- */

double coupon_nice_ceil(double v)
{
    static const double steps[] = { 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0,
                                    4.5, 5.0, 6.0, 7.0, 7.5, 8.0, 9.0, 10.0 };
    if (!(v > 0.0) || !isfinite(v))
        return 0.0;
    double scale = pow(10.0, floor(log10(v)));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        /* the relative slack keeps 50.0 at 50, not 60, after rounding */
        double cand = steps[i] * scale;
        if (cand >= v * (1.0 - 1e-12))
            return cand;
    }
    return 10.0 * scale;
}

double coupon_threshold_for(const coupon_benefit_t *bf, double basket,
                            double markup)
{
    if (bf->threshold > 0.0)
        return bf->threshold;
    double x = coupon_nice_ceil(basket * markup);
    return x > bf->min_threshold ? x : bf->min_threshold;
}

static double threshold_saving(const coupon_benefit_t *bf, double threshold)
{
    return bf->amount > 0.0 ? bf->amount : bf->percent * threshold;
}

double coupon_benefit_discount(const coupon_benefit_t *bf, double basket,
                               double threshold)
{
    double d = 0.0;
    if (!(basket > 0.0))
        return 0.0;
    switch (bf->kind) {
    case COUPON_BENEFIT_AMOUNT:
        d = bf->amount;
        break;
    case COUPON_BENEFIT_PERCENT:
        d = bf->percent * basket;
        if (d > bf->cap)
            d = bf->cap;
        break;
    case COUPON_BENEFIT_SHIPPING:
        return bf->amount;   /* waives shipping: not bounded by the basket */
    case COUPON_BENEFIT_THRESHOLD:
        if (basket + 1e-9 < threshold)
            return 0.0;
        d = threshold_saving(bf, threshold);
        break;
    }
    return d < basket ? d : basket;
}

static double benefit_max_cost(const coupon_benefit_t *bf, double threshold)
{
    switch (bf->kind) {
    case COUPON_BENEFIT_AMOUNT:
    case COUPON_BENEFIT_SHIPPING:
        return bf->amount;
    case COUPON_BENEFIT_PERCENT:
        return bf->cap;
    case COUPON_BENEFIT_THRESHOLD:
        return threshold_saving(bf, bf->threshold > 0.0 ? bf->threshold
                                                        : threshold);
    }
    return 0.0;
}

double coupon_max_cost(const coupon_t *c, double threshold)
{
    double total = 0.0;
    for (size_t i = 0; i < c->n_benefits && i < COUPON_MAX_PACK; i++)
        total += benefit_max_cost(&c->benefit[i], threshold);
    return total;
}
