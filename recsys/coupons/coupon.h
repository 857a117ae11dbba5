/*
 * coupon.h - coupon definitions, eligibility, guards and the decision "which
 * coupon for this customer, or none". Pure domain logic: no storage, no I/O,
 * no global state. The caller (server/) loads the catalog, the customer's
 * grant history and the abuse counters from LMDB, passes them in, and after a
 * grant records it and reserves coupon_max_cost against the campaign budget.
 *
 * The decision (coupon_decide): for each eligible coupon, with the uplift
 * model's P(buy | no coupon) = pc and P(buy | coupon) = pt,
 *   basket     B  = the cart's subtotal, else the customer's predicted basket
 *                   (average basket; cfg.default_basket without orders);
 *                   with a threshold coupon a redeeming buyer spends max(B, X)
 *   margin     M  = the cart's margin, else B * cfg.margin_rate
 *   incremental margin   = pt * M_treated - pc * M
 *   expected cost        = P(redeem) * discount, P(redeem) = pt * redeem_rate
 *                          (sure buyers redeem too: that is the waste)
 *   value                = incremental margin - lambda_campaign * expected cost
 * and chooses the largest value; "no coupon" when no value is > 0. With
 * lambda = 1 the value is the expected incremental profit.
 *
 * Guards, before any scoring, in this order: permanent holdout (hash of the
 * customer id), velocity limits, the frequency cap. Then exploration: for a
 * deterministic share epsilon of (customer, UTC day) pairs the choice is
 * uniform over the eligible coupons and "none"; the decision reports the
 * probability its choice had under the policy, for unbiased evaluation
 * (uplift_log_t.assign_prob).
 *
 * Time: unix milliseconds. Money: one currency, as in store.h.
 * Errors: int functions return 0 or -EINVAL (NULL or invalid argument),
 * coupon_decide also -ENOMEM.
 */
#ifndef PATRON_RECSYS_COUPON_H
#define PATRON_RECSYS_COUPON_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "uplift.h"
#include "uplift_gbt.h"

#define COUPON_ID_MAX 64        /* coupon / campaign id, incl. the NUL */
#define COUPON_MAX_PACK 8       /* benefits in one welcome pack */
#define COUPON_MAX_SCOPE 16     /* categories or items a coupon applies to */
#define COUPON_REASON_MAX 256
#define COUPON_NONE (-1)

typedef enum coupon_type {
    COUPON_THRESHOLD = 0,     /* spend X, save Y */
    COUPON_PERCENT = 1,       /* percent off, capped */
    COUPON_FIXED = 2,         /* fixed amount off */
    COUPON_FREE_SHIPPING = 3,
    COUPON_WELCOME_PACK = 4,  /* several benefits; new customers, once */
    COUPON_BIRTHDAY = 5,      /* in the customer's birth month */
    COUPON_WINBACK = 6,       /* at-risk or lapsed customers */
    COUPON_REFERRAL = 7,      /* referred customers before their first order */
    COUPON_ANNIVERSARY = 8,   /* in the month of the signup anniversary */
    COUPON_N_TYPES
} coupon_type_t;

/* How a coupon is granted. */
typedef enum coupon_mode {
    COUPON_TARGETED = 0,    /* when the uplift decision says it pays */
    COUPON_GUARANTEED = 1,  /* an entitlement: whenever eligible, once per
                             * period, within budget and velocity limits;
                             * never held out, never an uplift decision */
} coupon_mode_t;

/* How often a guaranteed coupon is granted to one customer: calendar
 * periods in UTC. */
typedef enum coupon_period {
    COUPON_PERIOD_NONE = 0,   /* targeted coupons */
    COUPON_PERIOD_ONCE = 1,   /* once ever */
    COUPON_PERIOD_YEAR = 2,   /* once a calendar year */
    COUPON_PERIOD_MONTH = 3,  /* once a calendar month */
    COUPON_PERIOD_WEEK = 4,   /* once a week, Monday to Sunday */
    COUPON_N_PERIODS
} coupon_period_t;

/* How a benefit computes its discount on a basket b. */
typedef enum coupon_benefit_kind {
    COUPON_BENEFIT_AMOUNT = 0,    /* min(amount, b) */
    COUPON_BENEFIT_PERCENT = 1,   /* min(percent * b, cap) */
    COUPON_BENEFIT_SHIPPING = 2,  /* amount = the shipping it waives */
    COUPON_BENEFIT_THRESHOLD = 3, /* when b >= X: amount, or percent * X */
} coupon_benefit_kind_t;

typedef struct coupon_benefit {
    coupon_benefit_kind_t kind;
    double amount;      /* AMOUNT, SHIPPING; THRESHOLD: Y (0: use percent) */
    double percent;     /* PERCENT, THRESHOLD: in (0, 1) */
    double cap;         /* PERCENT: > 0, required (the budget needs a worst
                         * case) */
    double threshold;   /* THRESHOLD: X; 0 = personalized from the basket */
    double min_threshold; /* THRESHOLD, personalized: X is at least this */
} coupon_benefit_t;

typedef struct coupon {
    char id[COUPON_ID_MAX];
    char campaign[COUPON_ID_MAX];
    coupon_type_t type;
    size_t n_benefits;                  /* 1; a welcome pack 2..MAX_PACK */
    coupon_benefit_t benefit[COUPON_MAX_PACK];
    int64_t valid_from_ms, valid_until_ms; /* [from, until) */
    /* Eligibility; a zero mask means "any". Bit i of tier_mask is tier
     * index i, of segment_mask segment index i, of stage_mask
     * profile_stage_t i. Customers with tier / segment -1 match only a
     * zero mask. */
    uint32_t tier_mask, segment_mask, stage_mask;
    size_t n_categories, n_items;       /* what it applies to; 0 = all */
    uint32_t categories[COUPON_MAX_SCOPE];
    uint32_t items[COUPON_MAX_SCOPE];
    double min_basket;                  /* in-scope basket, >= 0 */
    double campaign_budget;             /* > 0; enforced by the caller */
    uint32_t per_customer_limit;        /* grants per customer, >= 1 */
    int stackable;                      /* may be combined with others */
    coupon_mode_t mode;
    coupon_period_t period;             /* guaranteed: ONCE..WEEK; targeted:
                                         * NONE */
    double milestone_spend;             /* guaranteed only, >= 0: entitled once
                                         * the customer's net spend in the
                                         * period (ONCE: ever) reaches it
                                         * ("spend 1,000 this year"); 0 none */
} coupon_t;

/* NULL if c is a usable definition, else a static message naming the field,
 * e.g. "benefit.cap: a percent-off coupon needs a cap > 0". */
const char *coupon_invalid(const coupon_t *c);

/* "threshold", "percent", "fixed", "free_shipping", "welcome_pack",
 * "birthday", "winback", "referral", "anniversary"; NULL outside the enum. */
const char *coupon_type_name(coupon_type_t t);

/* "once", "year", "month", "week"; "none" for NONE; NULL outside. */
const char *coupon_period_name(coupon_period_t p);

/* The period p containing now_ms, [*start_ms, *end_ms): the UTC calendar
 * year, month or week (from Monday 00:00); ONCE is [0, INT64_MAX). Returns
 * 0, or -EINVAL for NONE and values outside the enum. */
int coupon_period_bounds(coupon_period_t p, int64_t now_ms, int64_t *start_ms,
                         int64_t *end_ms);

/* ---- the customer, the cart and their history ------------------------------- */

typedef struct coupon_cart_line {
    uint32_t item;
    uint32_t category;       /* PROFILE_NO_CATEGORY if none */
    double amount;           /* quantity * unit price */
    double margin;           /* quantity * (unit price - unit cost) */
} coupon_cart_line_t;

/* Everything the decision knows about a customer; strings and arrays are
 * borrowed for the duration of a call. */
typedef struct coupon_customer {
    const char *customer_id;
    uplift_x_t x;            /* model features; x.stage is the stage */
    int tier;                /* index into the profile config's tiers, -1 */
    int segment;             /* index into its segments, -1 */
    size_t n_favourites;     /* favourite categories (profile_t) */
    const uint32_t *favourites;
    uint8_t birth_month;     /* 1..12, 0 unknown (store_attrs_t) */
    int64_t signup_ms;       /* 0 unknown (store_attrs_t) */
    int referred;            /* signed up through a referral */
    double period_spend[COUPON_N_PERIODS]; /* net spend in the period of now
                                             * (profile_t spend_year ...; ONCE:
                                             * ever), for spend milestones */
    const coupon_cart_line_t *cart; /* NULL / n_cart 0: no cart */
    size_t n_cart;
} coupon_customer_t;

/* How many times this customer holds or held one coupon. */
typedef struct coupon_held {
    const char *coupon_id;
    uint32_t granted;        /* ever */
    uint32_t active;         /* granted, not redeemed, not expired */
    int stackable;           /* the coupon's flag */
    int64_t last_grant_ms;   /* the latest grant (0: unknown) */
    int64_t valid_until_ms;  /* the latest grant is usable until then */
    int entitlement;         /* a guaranteed coupon's grant: it keeps no
                              * targeted coupon out (stacking is checked at
                              * redemption, coupon_stack_ok) */
} coupon_held_t;

/* The customer's coupon history, from the caller's offer log. */
typedef struct coupon_history {
    const coupon_held_t *held;
    size_t n_held;
    const int64_t *grant_ms;  /* times of recent grants (any coupon, any
                               * order; at least the last cap window) */
    size_t n_grant_ms;
    int welcome_pack_received;
} coupon_history_t;

/* Abuse counters the caller keeps (e.g. in LMDB), for velocity limits. */
typedef struct coupon_velocity {
    uint32_t accounts_on_device;     /* accounts seen on this device */
    uint32_t accounts_on_address;    /* at this shipping address */
    uint32_t redemptions_last_hour;  /* by this customer */
    uint32_t redemptions_last_day;
} coupon_velocity_t;

/* ---- configuration ------------------------------------------------------------ */

typedef struct coupon_config {
    double margin_rate;          /* [0.3] of basket, when there is no cart */
    double default_basket;       /* [40] basket of a customer without orders */
    double redeem_rate;          /* [1.0] P(redeem | bought with a coupon) */
    double threshold_markup;     /* [1.15] threshold X >= basket * this */
    uint32_t cap_per_window;     /* [2] grants per customer per window */
    int64_t cap_window_ms;       /* [7 days] rolling */
    uint32_t max_accounts_per_device;   /* [3] */
    uint32_t max_accounts_per_address;  /* [5] */
    uint32_t max_redemptions_per_hour;  /* [3] */
    uint32_t max_redemptions_per_day;   /* [5] */
    double holdout_rate;         /* [0.05] in [0, 1) */
    uint64_t holdout_salt;       /* [0x9e3779b97f4a7c15]; never change it
                                  * once live: it defines who is held out */
    double explore_rate;         /* [0.02] epsilon in [0, 1) */
    uint64_t explore_salt;       /* [0x2545f4914f6cdd1d] */
} coupon_config_t;

void coupon_config_default(coupon_config_t *cfg);

/* NULL if usable, else a static message naming the field. */
const char *coupon_config_invalid(const coupon_config_t *cfg);

/* Sets one line of the operator's settings file (`patron help formats`):
 * key is a coupon_* setting (coupon_weekly_cap, coupon_holdout_rate,
 * coupon_max_accounts_per_device, ...), value its text. Returns NULL, or a
 * static message saying what is wrong: "unknown setting" (also for a key
 * of another family), or the range expected ("expected a fraction in
 * [0, 1)"). cfg is unchanged on an error. The salts are not settable. */
const char *coupon_config_set(coupon_config_t *cfg, const char *key, const char *value);

/* ---- eligibility and stacking -------------------------------------------------- */

/*
 * 1 if c may be granted to the customer at now_ms, else 0 with *why_not (if
 * not NULL) set to a static reason: outside the validity window, tier /
 * segment / stage not allowed, type-specific rules (welcome pack: prospect or
 * new and never received one; birthday: in the birth month, UTC; win-back:
 * at risk or lapsed; referral: referred and no order yet; anniversary: in
 * the signup month of a later year, UTC), scope (with a
 * cart: a line in the coupon's categories or items; without one: a favourite
 * category among its categories, when it lists categories), minimum basket
 * (in-scope cart subtotal, else the predicted basket),
 * per-customer limit, stacking with the coupons the customer holds (a
 * non-stackable coupon only alone, a stackable one only next to stackable
 * ones; held entitlements do not count), and an active copy of the same
 * coupon already held. hist may be NULL (no history); cfg NULL means
 * defaults.
 */
int coupon_eligible(const coupon_t *c, const coupon_customer_t *cust,
                    const coupon_history_t *hist, const coupon_config_t *cfg,
                    int64_t now_ms, const char **why_not);

/* 1 if the coupons cs[0..n) may be redeemed together on one order: at most
 * one is non-stackable and then it is alone. *why_not as above. */
int coupon_stack_ok(const coupon_t *const *cs, size_t n, const char **why_not);

/* ---- money -------------------------------------------------------------------- */

/* The smallest "nice" amount >= v (1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5,
 * 6, 7, 7.5, 8, 9 times a power of ten): 26.45 -> 30, 49.45 -> 50,
 * 100.05 -> 120. v <= 0 gives 0. */
double coupon_nice_ceil(double v);

/* The threshold X of a THRESHOLD benefit for a customer whose basket is b:
 * the fixed X if set, else max(min_threshold, nice_ceil(b * markup)). */
double coupon_threshold_for(const coupon_benefit_t *bf, double basket,
                            double markup);

/* The discount one benefit gives on a basket (threshold: X must be met;
 * pass X from coupon_threshold_for). */
double coupon_benefit_discount(const coupon_benefit_t *bf, double basket,
                               double threshold);

/* The most a grant of c can ever cost (what the caller reserves against the
 * campaign budget): amount, cap, Y or percent * X; for a welcome pack the
 * sum over its benefits (each may be redeemed on its own order). threshold
 * is the personalized X the decision reported (used by personalized
 * threshold benefits only). */
double coupon_max_cost(const coupon_t *c, double threshold);

/* ---- guards -------------------------------------------------------------------- */

/* 1 if the customer is in the permanent holdout: a hash of (customer_id,
 * holdout_salt) falls below holdout_rate. Depends on nothing else. */
int coupon_in_holdout(const char *customer_id, const coupon_config_t *cfg);

/* A uniform number in [0, 1) from (customer_id, UTC day of now_ms, salt):
 * the same all day for one customer. */
double coupon_day_hash(const char *customer_id, int64_t now_ms, uint64_t salt);

/* 1 if (customer, day) is an exploration draw: coupon_day_hash < epsilon. */
int coupon_exploring(const char *customer_id, int64_t now_ms,
                     const coupon_config_t *cfg);

/* The probability the epsilon-greedy policy gives an action when k coupons
 * are eligible (k + 1 actions with "none"): (1 - eps) * [it is the greedy
 * one] + eps / (k + 1). */
double coupon_assign_prob(double epsilon, size_t k, int is_greedy);

/* 1 if fewer than cap_per_window of grant_ms[] lie in (now - window, now]. */
int coupon_frequency_ok(const int64_t *grant_ms, size_t n, int64_t now_ms,
                        const coupon_config_t *cfg);

/* 1 if every counter is within its limit, else 0 with *why_not set. */
int coupon_velocity_ok(const coupon_velocity_t *v, const coupon_config_t *cfg,
                       const char **why_not);

/* ---- the decision ------------------------------------------------------------- */

/* The numbers behind one coupon's value (see the top of this header). */
typedef struct coupon_option {
    int index;              /* into the coupons passed */
    double basket;          /* B */
    double threshold;       /* X for a threshold coupon, else 0 */
    double p_control, p_treated, uplift;
    double margin_control;  /* margin of a purchase without the coupon */
    double margin_treated;  /* with it, before the discount */
    double discount;        /* if redeemed */
    double p_redeem;
    double incr_margin;
    double expected_cost;
    double lambda;
    double value;
} coupon_option_t;

/* Scores coupon c for the customer from an uplift prediction: fills *out
 * (index set to -1). Returns 0 or -EINVAL. */
int coupon_score(const coupon_t *c, const coupon_customer_t *cust,
                 const uplift_pred_t *pred, double lambda,
                 const coupon_config_t *cfg, coupon_option_t *out);

typedef enum coupon_outcome {
    COUPON_GRANT = 0,           /* the best positive value */
    COUPON_GRANT_EXPLORE = 1,   /* an exploration draw */
    COUPON_NONE_NOT_WORTH = 2,  /* eligible coupons, none with value > 0 */
    COUPON_NONE_EXPLORE = 3,    /* an exploration draw of "none" */
    COUPON_NONE_INELIGIBLE = 4, /* no eligible coupon */
    COUPON_NONE_HOLDOUT = 5,
    COUPON_NONE_VELOCITY = 6,
    COUPON_NONE_FREQUENCY = 7,
} coupon_outcome_t;

/* 1 if a guard decided (ineligible, holdout, velocity, frequency): no
 * coupon whatever the policy, logged with probability 1. */
int coupon_outcome_guarded(int outcome);

/* 1 if the policy's own (greedy) choice behind a logged decision was a
 * coupon: a grant that was not an exploration draw, an exploration draw of
 * "none" (the greedy choice was a coupon), or an exploration grant of an
 * option worth more than 0 (value: the logged option's value). Exact with
 * one candidate coupon (an exploration grant then means the greedy choice
 * was none, and the option's value is not above 0); with several, an
 * exploration grant of a coupon worth <= 0 hides whether another was
 * worth more, and counts as "none". */
int coupon_outcome_greedy_grant(int outcome, double value);

typedef struct coupon_decision {
    coupon_outcome_t outcome;
    int choice;                 /* index into coupons, COUPON_NONE */
    coupon_option_t chosen;     /* numbers of the choice, or of the best
                                 * rejected option (index -1 if none) */
    double assign_prob;         /* P(this action | policy); 1 for guards */
    size_t n_eligible;
    char reason[COUPON_REASON_MAX];
} coupon_decision_t;

/* What predicts a coupon's effect on a customer: the boosted T-learner when
 * training chose it (uplift_gbt.h: its two arms give pc and pt), else the
 * logistic T-learner with its stage priors (uplift.h; NULL: an unfitted
 * model, the default priors alone). Both pointers are borrowed. */
typedef struct coupon_model {
    const uplift_model_t *logistic;
    const uplift_gbt_tl_t *boosted;
} coupon_model_t;

/* The prediction m makes for x into out. Returns 0 or -EINVAL. */
int coupon_model_predict(const coupon_model_t *m, const uplift_x_t *x, uplift_pred_t *out);

/*
 * Decides for one customer among the targeted coupons of coupons[0..n)
 * (guaranteed ones are never an uplift decision: coupon_entitlements).
 * models[i] predicts for
 * coupons[i] (models NULL: every coupon on the default priors; members may
 * share pointers), lambdas[i] its campaign's pacing lambda (NULL:
 * all 1). vel may be NULL (no counters). options, if not NULL, receives
 * the scored eligible options (at most n; *n_options their count).
 * Returns 0 and fills *out, -EINVAL (NULL customer id or out, invalid
 * coupon or config, or a model that fails to predict) or -ENOMEM (options
 * NULL: it allocates n scratch options).
 */
int coupon_decide(const coupon_t *coupons, size_t n,
                  const coupon_model_t *models, const double *lambdas,
                  const coupon_customer_t *cust, const coupon_history_t *hist,
                  const coupon_velocity_t *vel, const coupon_config_t *cfg,
                  int64_t now_ms, coupon_decision_t *out,
                  coupon_option_t *options, size_t *n_options);

/* ---- entitlements (guaranteed coupons) ----------------------------------------- */

typedef enum coupon_entitled {
    COUPON_ENTITLED_GRANT = 0,     /* granted by this decision (the caller
                                    * still checks the campaign budget) */
    COUPON_ENTITLED_HELD = 1,      /* granted already in this period, or an
                                    * earlier grant is still unused */
    COUPON_ENTITLED_VELOCITY = 2,  /* eligible; a velocity limit refuses it */
    COUPON_ENTITLED_BUDGET = 3,    /* eligible; its campaign cannot pay (set
                                    * by the caller, couponstore) */
} coupon_entitled_t;

/* One guaranteed coupon the customer is entitled to now. */
typedef struct coupon_entitlement {
    int index;                     /* into the coupons passed */
    coupon_entitled_t status;
    int64_t period_start_ms, period_end_ms; /* the period of now */
    int64_t granted_ms;            /* GRANT: now; HELD: the earlier grant */
    int64_t valid_until_ms;        /* GRANT: the period's end or the coupon's,
                                    * whichever is first; HELD: the earlier
                                    * grant's */
    double threshold;              /* a personalized threshold benefit's X */
    double max_cost;               /* what a grant reserves (coupon_max_cost) */
    char reason[COUPON_REASON_MAX];
} coupon_entitlement_t;

/*
 * The entitlements of the customer at now_ms among the guaranteed coupons
 * of coupons[0..n) (targeted ones are skipped), into out (room for n).
 * A guaranteed coupon is listed when it is valid at now_ms and its tier /
 * segment / stage masks and type rule (birth month, prospect or new for a
 * welcome pack, at risk or lapsed, referred before the first order) admit
 * the customer; then it is HELD when hist shows a grant of it in the
 * current period or an earlier grant still active, else dropped when the
 * per-customer limit is reached, else VELOCITY when coupon_velocity_ok
 * refuses (vel NULL: no counters), else GRANT. What decides nothing here:
 * the holdout, exploration, the weekly cap, stacking, the cart and uplift;
 * a promise is kept whatever the model predicts. hist and cfg may be NULL
 * (no history, defaults). Returns the count written, or -EINVAL (NULL
 * customer or out, an invalid coupon or config).
 */
int coupon_entitlements(const coupon_t *coupons, size_t n, const coupon_customer_t *cust,
                        const coupon_history_t *hist, const coupon_velocity_t *vel,
                        const coupon_config_t *cfg, int64_t now_ms, coupon_entitlement_t *out);

#endif
