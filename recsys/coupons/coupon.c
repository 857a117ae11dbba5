/*
 * coupon.c - coupon eligibility, guards and the targeting decision
 * (contract in coupon.h; definitions and money in coupon_def.c, the
 * settings in coupon_config.c).
 *
 * The decision optimizes incremental profit, not redemptions: a coupon's
 * value is what it adds (uplift times margin, plus the larger basket a
 * threshold coupon pulls) minus what it costs, and the cost counts every
 * buyer who redeems, including those who would have bought anyway. So sure
 * buyers and customers who react badly to pushes get nothing, and the
 * campaign's lambda (uplift.h's pacer) raises the bar when the budget runs
 * ahead of schedule.
 *
 * Holdout and exploration draw from a hash, not a random generator, so the
 * server needs no state to give a customer the same answer all day and the
 * holdout is the same on every machine forever.
 */
#include "coupon.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "hash.h"
#include "rng.h"

#define HASH_UNIT 0x1.0p-53   /* 53-bit hash -> [0, 1) */
#define ARM_SALT 0xd1b54a32d192ed03ULL /* a second stream for the arm draw */

static const coupon_config_t *config_or_default(const coupon_config_t *cfg,
                                                coupon_config_t *def)
{
    if (cfg)
        return cfg;
    coupon_config_default(def);
    return def;
}

/* ---- eligibility ------------------------------------------------------------------------ */

static int mask_allows(uint32_t mask, int index)
{
    if (mask == 0)
        return 1;
    return index >= 0 && index < 32 && (mask >> index) & 1u;
}

static int contains(const uint32_t *list, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

static int line_in_scope(const coupon_t *c, const coupon_cart_line_t *l)
{
    if (c->n_categories == 0 && c->n_items == 0)
        return 1;
    return contains(c->categories, c->n_categories, l->category) ||
           contains(c->items, c->n_items, l->item);
}

/* The cart's subtotal the coupon applies to (0 without a cart). */
static double scope_subtotal(const coupon_t *c, const coupon_customer_t *cust)
{
    double s = 0.0;
    for (size_t i = 0; i < cust->n_cart; i++)
        if (line_in_scope(c, &cust->cart[i]))
            s += cust->cart[i].amount;
    return s;
}

static int has_cart(const coupon_customer_t *cust)
{
    return cust->cart && cust->n_cart > 0;
}

static double predicted_basket(const coupon_customer_t *cust,
                               const coupon_config_t *cfg)
{
    double b = cust->x.average_basket;
    return (isfinite(b) && b > 0.0) ? b : cfg->default_basket;
}

static int scope_matches(const coupon_t *c, const coupon_customer_t *cust)
{
    if (has_cart(cust))
        return scope_subtotal(c, cust) > 0.0;
    if (c->n_categories == 0)
        return 1;
    for (size_t i = 0; i < cust->n_favourites; i++)
        if (contains(c->categories, c->n_categories, cust->favourites[i]))
            return 1;
    return 0;
}

static int utc_month(int64_t now_ms)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(civil_day_of_ms(now_ms), &y, &m, &d);
    return (int)m;
}

/* 1 if now_ms is in the UTC month of an anniversary of signup_ms (its
 * month, a later year). */
static int anniversary_month(int64_t signup_ms, int64_t now_ms)
{
    int64_t ys, yn;
    unsigned ms, mn, d;
    civil_from_days(civil_day_of_ms(signup_ms), &ys, &ms, &d);
    civil_from_days(civil_day_of_ms(now_ms), &yn, &mn, &d);
    return mn == ms && yn > ys;
}

/* NULL if the coupon's type allows this customer, else the reason. */
static const char *type_rule(const coupon_t *c, const coupon_customer_t *cust,
                             const coupon_history_t *hist, int64_t now_ms)
{
    int stage = cust->x.stage;
    switch (c->type) {
    case COUPON_WELCOME_PACK:
        if (stage != PROFILE_STAGE_PROSPECT && stage != PROFILE_STAGE_NEW)
            return "welcome pack: only for prospects and new customers";
        if (hist && hist->welcome_pack_received)
            return "welcome pack: already received one";
        return NULL;
    case COUPON_BIRTHDAY:
        if (cust->birth_month == 0 || cust->birth_month != utc_month(now_ms))
            return "birthday: not the customer's birth month";
        return NULL;
    case COUPON_WINBACK:
        if (stage != PROFILE_STAGE_AT_RISK && stage != PROFILE_STAGE_LAPSED)
            return "win-back: only for at-risk or lapsed customers";
        return NULL;
    case COUPON_REFERRAL:
        if (!cust->referred)
            return "referral: customer was not referred";
        if (cust->x.orders > 0)
            return "referral: only before the first order";
        return NULL;
    case COUPON_ANNIVERSARY:
        if (cust->signup_ms <= 0 || !anniversary_month(cust->signup_ms, now_ms))
            return "anniversary: not the month of the customer's signup anniversary";
        return NULL;
    default:
        return NULL;
    }
}

static const coupon_held_t *find_held(const coupon_history_t *hist,
                                      const char *id)
{
    if (!hist)
        return NULL;
    for (size_t i = 0; i < hist->n_held; i++)
        if (hist->held[i].coupon_id &&
            strncmp(hist->held[i].coupon_id, id, COUPON_ID_MAX) == 0)
            return &hist->held[i];
    return NULL;
}

/* NULL if granting c fits the customer's limit and the coupons they hold. */
static const char *history_rule(const coupon_t *c, const coupon_history_t *hist)
{
    const coupon_held_t *same = find_held(hist, c->id);
    if (same && same->granted >= c->per_customer_limit)
        return "per-customer limit reached";
    if (same && same->active > 0)
        return "customer already holds this coupon";
    for (size_t i = 0; hist && i < hist->n_held; i++) {
        const coupon_held_t *h = &hist->held[i];
        if (h->active == 0 || h->entitlement)
            continue;
        if (!c->stackable)
            return "not stackable and the customer holds another coupon";
        if (!h->stackable)
            return "customer holds a coupon that does not stack";
    }
    return NULL;
}

static const char *segment_rule(const coupon_t *c, const coupon_customer_t *cust)
{
    if (!mask_allows(c->tier_mask, cust->tier))
        return "tier not eligible";
    if (!mask_allows(c->segment_mask, cust->segment))
        return "segment not eligible";
    if (!mask_allows(c->stage_mask, cust->x.stage))
        return "lifecycle stage not eligible";
    return NULL;
}

static const char *basket_rule(const coupon_t *c, const coupon_customer_t *cust,
                               const coupon_config_t *cfg)
{
    if (!scope_matches(c, cust))
        return "applies to categories or items the customer is not buying";
    double b = has_cart(cust) ? scope_subtotal(c, cust)
                              : predicted_basket(cust, cfg);
    if (b < c->min_basket)
        return "basket below the coupon's minimum";
    return NULL;
}

int coupon_eligible(const coupon_t *c, const coupon_customer_t *cust,
                    const coupon_history_t *hist, const coupon_config_t *cfg,
                    int64_t now_ms, const char **why_not)
{
    coupon_config_t def;
    const char *why = NULL;
    cfg = config_or_default(cfg, &def);
    if (!c || !cust)
        why = "no coupon or customer";
    else if (now_ms < c->valid_from_ms)
        why = "not valid yet";
    else if (now_ms >= c->valid_until_ms)
        why = "expired";
    if (!why)
        why = segment_rule(c, cust);
    if (!why)
        why = type_rule(c, cust, hist, now_ms);
    if (!why)
        why = basket_rule(c, cust, cfg);
    if (!why)
        why = history_rule(c, hist);
    if (why_not)
        *why_not = why;
    return why == NULL;
}

int coupon_stack_ok(const coupon_t *const *cs, size_t n, const char **why_not)
{
    const char *why = NULL;
    for (size_t i = 0; i < n && !why; i++) {
        if (!cs[i])
            why = "no coupon";
        else if (!cs[i]->stackable && n > 1)
            why = "a non-stackable coupon must be used alone";
        for (size_t j = 0; j < i && !why; j++)
            if (strncmp(cs[i]->id, cs[j]->id, COUPON_ID_MAX) == 0)
                why = "the same coupon twice";
    }
    if (why_not)
        *why_not = why;
    return why == NULL;
}

/* ---- guards ------------------------------------------------------------------------------- */

/* FNV-1a of the id, mixed with salt and extra through splitmix64. */
static uint64_t id_hash(const char *id, uint64_t salt, uint64_t extra)
{
    uint64_t h = fnv1a64_str(id);
    return splitmix64_mix(splitmix64_mix(h ^ salt) ^ extra);
}

static double unit_from(uint64_t h)
{
    return (double)(h >> 11) * HASH_UNIT;
}

int coupon_in_holdout(const char *customer_id, const coupon_config_t *cfg)
{
    coupon_config_t def;
    cfg = config_or_default(cfg, &def);
    if (!customer_id)
        return 0;
    return unit_from(id_hash(customer_id, cfg->holdout_salt, 0)) <
           cfg->holdout_rate;
}

double coupon_day_hash(const char *customer_id, int64_t now_ms, uint64_t salt)
{
    if (!customer_id)
        return 0.0;
    return unit_from(id_hash(customer_id, salt, (uint64_t)civil_day_of_ms(now_ms)));
}

int coupon_exploring(const char *customer_id, int64_t now_ms,
                     const coupon_config_t *cfg)
{
    coupon_config_t def;
    cfg = config_or_default(cfg, &def);
    return coupon_day_hash(customer_id, now_ms, cfg->explore_salt) <
           cfg->explore_rate;
}

int coupon_outcome_guarded(int outcome)
{
    return outcome == COUPON_NONE_INELIGIBLE || outcome == COUPON_NONE_HOLDOUT ||
           outcome == COUPON_NONE_VELOCITY || outcome == COUPON_NONE_FREQUENCY;
}

int coupon_outcome_greedy_grant(int outcome, double value)
{
    return outcome == COUPON_GRANT || outcome == COUPON_NONE_EXPLORE ||
           (outcome == COUPON_GRANT_EXPLORE && value > 0.0);
}

double coupon_assign_prob(double epsilon, size_t k, int is_greedy)
{
    return (is_greedy ? 1.0 - epsilon : 0.0) + epsilon / (double)(k + 1);
}

int coupon_frequency_ok(const int64_t *grant_ms, size_t n, int64_t now_ms,
                        const coupon_config_t *cfg)
{
    coupon_config_t def;
    cfg = config_or_default(cfg, &def);
    uint32_t recent = 0;
    for (size_t i = 0; grant_ms && i < n; i++)
        if (grant_ms[i] > now_ms - cfg->cap_window_ms && grant_ms[i] <= now_ms)
            recent++;
    return recent < cfg->cap_per_window;
}

int coupon_velocity_ok(const coupon_velocity_t *v, const coupon_config_t *cfg,
                       const char **why_not)
{
    coupon_config_t def;
    const char *why = NULL;
    cfg = config_or_default(cfg, &def);
    if (v && v->accounts_on_device > cfg->max_accounts_per_device)
        why = "too many accounts on this device";
    else if (v && v->accounts_on_address > cfg->max_accounts_per_address)
        why = "too many accounts at this address";
    else if (v && v->redemptions_last_hour >= cfg->max_redemptions_per_hour)
        why = "too many redemptions in the last hour";
    else if (v && v->redemptions_last_day >= cfg->max_redemptions_per_day)
        why = "too many redemptions in the last day";
    if (why_not)
        *why_not = why;
    return why == NULL;
}

/* ---- scoring -------------------------------------------------------------------------------- */

/* Basket and margin of a purchase without the coupon. */
static void base_economics(const coupon_t *c, const coupon_customer_t *cust,
                           const coupon_config_t *cfg, double *basket,
                           double *margin, double *margin_rate,
                           double *in_scope)
{
    if (has_cart(cust)) {
        double amount = 0.0, m = 0.0;
        for (size_t i = 0; i < cust->n_cart; i++) {
            amount += cust->cart[i].amount;
            m += cust->cart[i].margin;
        }
        *basket = amount;
        *margin = m;
        *margin_rate = amount > 0.0 ? m / amount : cfg->margin_rate;
        *in_scope = scope_subtotal(c, cust);
        return;
    }
    *basket = predicted_basket(cust, cfg);
    *margin_rate = cfg->margin_rate;
    *margin = *basket * *margin_rate;
    *in_scope = *basket;
}

/* The discount a redeeming buyer gets and the threshold X (0 if none) and
 * basket they reach: a pack redeems its best benefit on this order. */
static double coupon_discount(const coupon_t *c, double in_scope,
                              const coupon_config_t *cfg, double *threshold,
                              double *reached)
{
    double best = 0.0;
    *threshold = 0.0;
    *reached = in_scope;
    for (size_t i = 0; i < c->n_benefits; i++) {
        const coupon_benefit_t *bf = &c->benefit[i];
        double x = 0.0, b = in_scope;
        if (bf->kind == COUPON_BENEFIT_THRESHOLD) {
            x = coupon_threshold_for(bf, in_scope, cfg->threshold_markup);
            if (b < x)
                b = x;   /* the buyer tops the basket up to X */
        }
        double d = coupon_benefit_discount(bf, b, x);
        if (d > best || i == 0) {
            best = d;
            *threshold = x;
            *reached = b;
        }
    }
    return best;
}

int coupon_score(const coupon_t *c, const coupon_customer_t *cust,
                 const uplift_pred_t *pred, double lambda,
                 const coupon_config_t *cfg, coupon_option_t *out)
{
    coupon_config_t def;
    cfg = config_or_default(cfg, &def);
    if (!c || !cust || !pred || !out || !isfinite(lambda) || lambda < 0.0)
        return -EINVAL;
    double basket, margin, rate, in_scope, threshold, reached;
    base_economics(c, cust, cfg, &basket, &margin, &rate, &in_scope);
    double discount = coupon_discount(c, in_scope, cfg, &threshold, &reached);

    memset(out, 0, sizeof *out);
    out->index = -1;
    out->basket = basket;
    out->threshold = threshold;
    out->p_control = pred->p_control;
    out->p_treated = pred->p_treated;
    out->uplift = pred->p_treated - pred->p_control;
    out->margin_control = margin;
    out->margin_treated = margin + (reached - in_scope) * rate;
    out->discount = discount;
    out->p_redeem = pred->p_treated * cfg->redeem_rate;
    out->incr_margin = pred->p_treated * out->margin_treated -
                       pred->p_control * out->margin_control;
    out->expected_cost = out->p_redeem * discount;
    out->lambda = lambda;
    out->value = out->incr_margin - lambda * out->expected_cost;
    return 0;
}

/* ---- the decision --------------------------------------------------------------------------- */

static void decision_none(coupon_decision_t *out, coupon_outcome_t outcome,
                          const char *why)
{
    memset(out, 0, sizeof *out);
    out->outcome = outcome;
    out->choice = COUPON_NONE;
    out->chosen.index = -1;
    out->assign_prob = 1.0;
    snprintf(out->reason, sizeof out->reason, "no coupon: %.200s", why);
}

/* Guards that stop before any coupon is looked at; 1 if one fired. */
static int guard_fired(const coupon_customer_t *cust,
                       const coupon_history_t *hist,
                       const coupon_velocity_t *vel, const coupon_config_t *cfg,
                       int64_t now_ms, coupon_decision_t *out)
{
    const char *why = NULL;
    if (coupon_in_holdout(cust->customer_id, cfg)) {
        decision_none(out, COUPON_NONE_HOLDOUT,
                      "customer is in the permanent holdout group");
        return 1;
    }
    if (!coupon_velocity_ok(vel, cfg, &why)) {
        decision_none(out, COUPON_NONE_VELOCITY, why);
        return 1;
    }
    if (hist && !coupon_frequency_ok(hist->grant_ms, hist->n_grant_ms, now_ms,
                                     cfg)) {
        decision_none(out, COUPON_NONE_FREQUENCY,
                      "frequency cap reached for this week");
        return 1;
    }
    return 0;
}

static void describe_grant(coupon_decision_t *out, const coupon_t *c,
                           const char *how)
{
    const coupon_option_t *o = &out->chosen;
    int n = snprintf(out->reason, sizeof out->reason,
                     "%s '%s' (%s): P(buy) %.3f -> %.3f, incremental margin "
                     "%.2f vs expected cost %.2f x lambda %.2f; value %.2f",
                     how, c->id, coupon_type_name(c->type), o->p_control,
                     o->p_treated, o->incr_margin, o->expected_cost, o->lambda,
                     o->value);
    if (o->threshold > 0.0 && n > 0 && (size_t)n < sizeof out->reason)
        snprintf(out->reason + n, sizeof out->reason - (size_t)n,
                 "; spend %.2f (basket %.2f)", o->threshold, o->basket);
}

static void describe_not_worth(coupon_decision_t *out, const coupon_t *c)
{
    const coupon_option_t *o = &out->chosen;
    const char *why =
        o->uplift < 0.0 ? "a coupon would lower the purchase probability"
        : o->p_control >= 0.5 ? "likely to buy anyway; the discount would "
                                "mostly pay for purchases already coming"
        : o->uplift == 0.0 ? "a coupon would not change the purchase "
                             "probability"
                           : "the extra purchases would not pay for the "
                             "discount";
    snprintf(out->reason, sizeof out->reason,
             "no coupon: %s (best option '%s': P(buy) %.3f -> %.3f, value "
             "%.2f)",
             why, c->id, o->p_control, o->p_treated, o->value);
}

int coupon_model_predict(const coupon_model_t *m, const uplift_x_t *x, uplift_pred_t *out)
{
    if (!m || !x || !out)
        return -EINVAL;
    if (m->boosted) {
        uplift_gbt_tl_predict(m->boosted, x, out);
        return 0;
    }
    if (m->logistic)
        return uplift_predict(m->logistic, x, out);
    uplift_model_t prior_only;
    uplift_model_init(&prior_only, NULL);
    return uplift_predict(&prior_only, x, out);
}

/* Scores every eligible coupon into opts; returns the count, or -EINVAL. */
static int score_eligible(const coupon_t *coupons, size_t n,
                          const coupon_model_t *models,
                          const double *lambdas, const coupon_customer_t *cust,
                          const coupon_history_t *hist,
                          const coupon_config_t *cfg, int64_t now_ms,
                          coupon_option_t *opts, const char **first_why)
{
    static const coupon_model_t priors = { NULL, NULL };
    size_t k = 0;
    *first_why = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        if (coupon_invalid(&coupons[i]))
            return -EINVAL;
        if (coupons[i].mode == COUPON_GUARANTEED)
            continue; /* an entitlement, never an uplift decision */
        if (!coupon_eligible(&coupons[i], cust, hist, cfg, now_ms, &why)) {
            if (!*first_why)
                *first_why = why;
            continue;
        }
        uplift_pred_t pred;
        if (coupon_model_predict(models ? &models[i] : &priors, &cust->x, &pred))
            return -EINVAL;
        double lambda = lambdas ? lambdas[i] : 1.0;
        if (coupon_score(&coupons[i], cust, &pred, lambda, cfg, &opts[k]))
            return -EINVAL;
        opts[k].index = (int)i;
        k++;
    }
    return (int)k;
}

/* Index into opts of the largest value (first on ties); -1 if opts empty. */
static int best_option(const coupon_option_t *opts, size_t k)
{
    int best = -1;
    for (size_t i = 0; i < k; i++)
        if (best < 0 || opts[i].value > opts[best].value)
            best = (int)i;
    return best;
}

/* Fills out from the greedy choice and the exploration draw. */
static void choose(const coupon_t *coupons, const coupon_option_t *opts,
                   size_t k, const coupon_customer_t *cust,
                   const coupon_config_t *cfg, int64_t now_ms,
                   coupon_decision_t *out)
{
    int best = best_option(opts, k);
    int greedy = (best >= 0 && opts[best].value > 0.0) ? best : -1;
    int action = greedy;   /* -1 = none */
    int explored = coupon_exploring(cust->customer_id, now_ms, cfg);
    if (explored) {
        double u = coupon_day_hash(cust->customer_id, now_ms,
                                   cfg->explore_salt ^ ARM_SALT);
        size_t arm = (size_t)(u * (double)(k + 1));
        action = arm < k ? (int)arm : -1;
    }
    memset(out, 0, sizeof *out);
    out->n_eligible = k;
    out->assign_prob = coupon_assign_prob(cfg->explore_rate, k, action == greedy);
    if (action >= 0) {
        out->chosen = opts[action];
        out->choice = opts[action].index;
        out->outcome = explored && action != greedy ? COUPON_GRANT_EXPLORE
                                                    : COUPON_GRANT;
        describe_grant(out, &coupons[out->choice],
                       out->outcome == COUPON_GRANT ? "grant" : "explore: grant");
        return;
    }
    out->choice = COUPON_NONE;
    out->chosen = opts[best];
    out->outcome = explored && action != greedy ? COUPON_NONE_EXPLORE
                                                : COUPON_NONE_NOT_WORTH;
    describe_not_worth(out, &coupons[opts[best].index]);
    if (out->outcome == COUPON_NONE_EXPLORE)
        snprintf(out->reason, sizeof out->reason,
                 "no coupon: exploration draw (the policy would grant '%s')",
                 coupons[opts[best].index].id);
}

int coupon_decide(const coupon_t *coupons, size_t n,
                  const coupon_model_t *models, const double *lambdas,
                  const coupon_customer_t *cust, const coupon_history_t *hist,
                  const coupon_velocity_t *vel, const coupon_config_t *cfg,
                  int64_t now_ms, coupon_decision_t *out,
                  coupon_option_t *options, size_t *n_options)
{
    coupon_config_t def;
    cfg = config_or_default(cfg, &def);
    if (!cust || !cust->customer_id || !out || (n > 0 && !coupons) ||
        coupon_config_invalid(cfg))
        return -EINVAL;
    if (n_options)
        *n_options = 0;
    if (guard_fired(cust, hist, vel, cfg, now_ms, out))
        return 0;
    coupon_option_t *opts = options;
    if (!opts && !(opts = malloc((n ? n : 1) * sizeof *opts)))
        return -ENOMEM;
    const char *first_why;
    int k = score_eligible(coupons, n, models, lambdas, cust, hist, cfg, now_ms,
                           opts, &first_why);
    if (k > 0) {
        choose(coupons, opts, (size_t)k, cust, cfg, now_ms, out);
    } else if (k == 0) {
        char why[COUPON_REASON_MAX];
        snprintf(why, sizeof why, "no eligible coupon (%s)",
                 first_why ? first_why : "none offered");
        decision_none(out, COUPON_NONE_INELIGIBLE, why);
    }
    if (n_options && k >= 0)
        *n_options = (size_t)k;
    if (opts != options)
        free(opts);
    return k < 0 ? k : 0;
}

/* ---- entitlements ----------------------------------------------------------------------- */

/* Spend within this of a milestone reaches it (binary rounding of sums of
 * prices). */
#define MILESTONE_EPS 1e-6

/* NULL if the customer qualifies for c at now_ms on the rules alone (not
 * its history), else why not. The welcome pack's "received one" is
 * history: left to the period (a guaranteed pack is given once). */
static const char *entitled_rule(const coupon_t *c, const coupon_customer_t *cust,
                                 int64_t now_ms)
{
    if (now_ms < c->valid_from_ms)
        return "not valid yet";
    if (now_ms >= c->valid_until_ms)
        return "expired";
    const char *why = segment_rule(c, cust);
    if (!why && c->milestone_spend > 0.0 &&
        cust->period_spend[c->period] + MILESTONE_EPS < c->milestone_spend)
        return "spend milestone not reached in this period";
    return why ? why : type_rule(c, cust, NULL, now_ms);
}

/* The personalized X of c's first threshold benefit (0 without one), from
 * the customer's predicted basket: an entitlement does not depend on the
 * cart of the moment. */
static double entitled_threshold(const coupon_t *c, const coupon_customer_t *cust,
                                 const coupon_config_t *cfg)
{
    for (size_t i = 0; i < c->n_benefits; i++)
        if (c->benefit[i].kind == COUPON_BENEFIT_THRESHOLD)
            return coupon_threshold_for(&c->benefit[i], predicted_basket(cust, cfg),
                                        cfg->threshold_markup);
    return 0.0;
}

/* Fills e for coupon c; 0 if it is not listed (not eligible, or its
 * per-customer limit is used up). */
static int entitle_one(const coupon_t *c, const coupon_customer_t *cust,
                       const coupon_history_t *hist, const coupon_velocity_t *vel,
                       const coupon_config_t *cfg, int64_t now_ms, coupon_entitlement_t *e)
{
    const coupon_held_t *h;
    const char *why = NULL;

    if (entitled_rule(c, cust, now_ms))
        return 0;
    memset(e, 0, sizeof *e);
    coupon_period_bounds(c->period, now_ms, &e->period_start_ms, &e->period_end_ms);
    e->threshold = entitled_threshold(c, cust, cfg);
    e->max_cost = coupon_max_cost(c, e->threshold);
    h = find_held(hist, c->id);
    if (h && h->granted > 0 &&
        (h->active || (h->last_grant_ms >= e->period_start_ms &&
                       h->last_grant_ms < e->period_end_ms))) {
        e->status = COUPON_ENTITLED_HELD;
        e->granted_ms = h->last_grant_ms;
        e->valid_until_ms = h->valid_until_ms;
        snprintf(e->reason, sizeof e->reason, "'%s' granted already this %s%s", c->id,
                 c->period == COUPON_PERIOD_ONCE ? "lifetime" : coupon_period_name(c->period),
                 h->active ? "" : " (used or expired)");
        return 1;
    }
    if (h && h->granted >= c->per_customer_limit)
        return 0;
    if (!coupon_velocity_ok(vel, cfg, &why)) {
        e->status = COUPON_ENTITLED_VELOCITY;
        snprintf(e->reason, sizeof e->reason, "entitled to '%s', refused: %s", c->id, why);
        return 1;
    }
    e->status = COUPON_ENTITLED_GRANT;
    e->granted_ms = now_ms;
    e->valid_until_ms = c->valid_until_ms < e->period_end_ms ? c->valid_until_ms
                                                             : e->period_end_ms;
    if (c->milestone_spend > 0.0)
        snprintf(e->reason, sizeof e->reason,
                 "entitled to '%s' (%s, once per %s: spent %.2f of the %.2f milestone)", c->id,
                 coupon_type_name(c->type), coupon_period_name(c->period),
                 cust->period_spend[c->period], c->milestone_spend);
    else
        snprintf(e->reason, sizeof e->reason, "entitled to '%s' (%s, once per %s)", c->id,
                 coupon_type_name(c->type), coupon_period_name(c->period));
    return 1;
}

int coupon_entitlements(const coupon_t *coupons, size_t n, const coupon_customer_t *cust,
                        const coupon_history_t *hist, const coupon_velocity_t *vel,
                        const coupon_config_t *cfg, int64_t now_ms, coupon_entitlement_t *out)
{
    coupon_config_t def;
    size_t k = 0;

    cfg = config_or_default(cfg, &def);
    if (!cust || !out || (n > 0 && !coupons) || coupon_config_invalid(cfg))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (coupon_invalid(&coupons[i]))
            return -EINVAL;
        if (coupons[i].mode != COUPON_GUARANTEED)
            continue;
        if (entitle_one(&coupons[i], cust, hist, vel, cfg, now_ms, &out[k])) {
            out[k].index = (int)i;
            k++;
        }
    }
    return (int)k;
}
