/*
 * points_def.h - the points programme an operator writes in the profile
 * settings file (profile_file.h; `patron help formats` documents the
 * lines, README.md shows an example):
 *
 *   points_rule = NAME TYPE OPTION...
 *   points_expiry = never | months N | year_end N
 *   points_expiring_soon_days = 30
 *
 * A rule pays points for events of one type (store_event_type_name: view,
 * purchase, signup, review, check_in, share, referral_signup, survey, ...),
 * with the options (each at most once but `multiplier`):
 *   points N            a fixed N per event              } exactly one
 *   per_unit R          R per currency unit the event    } of the two
 *                       carries (quantity x unit_price)
 *   category NAME       only for items of this catalog category ("..."
 *                       quotes a name with spaces)
 *   min_amount A        only when quantity x unit_price >= A
 *   first_only          only the customer's first event the rule matches
 *   multiplier TIER F   x F while the customer holds TIER (repeatable;
 *                       else the tier's tier_benefits points_multiplier)
 *   daily_cap N         at most N points a UTC day from this rule
 *   lifetime_cap N      at most N points ever from this rule
 *   vest_days N         points are pending for N days (a refund meanwhile
 *                       cancels them), then available
 *
 * Reward lines (below) make the rewards catalog.
 *
 * Without any points_rule line the programme is the one rule
 * "purchase purchase per_unit <points_per_unit>": points per currency unit
 * spent, available at once, never expiring (what Patron always did).
 *
 * Only the definitions and their parsing live here (profile_config_t holds
 * a points_config_t); what a history earns is points.h, the storage shell
 * points_store.h. Pure: no I/O, no global state.
 */
#ifndef PATRON_RECSYS_POINTS_DEF_H
#define PATRON_RECSYS_POINTS_DEF_H

#include <stddef.h>
#include <stdint.h>

#define POINTS_MAX_RULES 16
#define POINTS_NAME_MAX 32          /* rule and tier names, incl. the NUL */
#define POINTS_CATEGORY_MAX 128     /* category name bytes, excl. the NUL */
#define POINTS_MAX_MULTIPLIERS 8
#define POINTS_MAX_FACTOR 100.0     /* largest multiplier */
#define POINTS_MAX_VEST_DAYS 3650

typedef enum points_expiry {
    POINTS_EXPIRY_NEVER = 0,
    POINTS_EXPIRY_MONTHS = 1,   /* N months after the points vested */
    POINTS_EXPIRY_YEAR_END = 2, /* at the end of the N-th year after the one
                                   they vested in (0: the same year) */
} points_expiry_t;

typedef struct points_multiplier {
    char tier[POINTS_NAME_MAX];
    double factor;                  /* 0..POINTS_MAX_FACTOR */
} points_multiplier_t;

typedef struct points_rule {
    char name[POINTS_NAME_MAX];     /* 1..31 of [A-Za-z0-9_.-], unique */
    int type;                       /* store_event_type_t, not refund */
    char category[POINTS_CATEGORY_MAX + 1]; /* "": any item (or none) */
    double min_amount;              /* [0] */
    int first_only;
    int64_t fixed;                  /* points per event, or 0 */
    double per_unit;                /* points per currency unit, or 0 */
    size_t n_multipliers;
    points_multiplier_t multipliers[POINTS_MAX_MULTIPLIERS];
    int64_t daily_cap, lifetime_cap; /* 0: none */
    uint32_t vest_days;
    unsigned line;                  /* of the settings file, for errors */
} points_rule_t;

/*
 * The rewards catalog: what points buy (RedeemPoints reward_id).
 *
 *   reward = NAME coupon COUPON_ID cost N     N points buy coupon COUPON_ID,
 *                                             granted within its campaign's
 *                                             budget and abuse limits
 *   reward = NAME cash rate R [min N] [step S] points are worth R money
 *                                             each at checkout; at least N
 *                                             [1] a time, in multiples of S [1]
 *   reward = NAME tier TIER cost N [days D]   N points hold tier TIER for D
 *                                             days [tier_window_days +
 *                                             tier_grace_days]
 */
#define POINTS_MAX_REWARDS 32
#define POINTS_REWARD_TARGET_MAX 64     /* a coupon id or tier name, incl. the NUL */
#define POINTS_MAX_RATE 1000000.0       /* money per point */
#define POINTS_MAX_REWARD_DAYS 3650

typedef enum points_reward_kind {
    POINTS_REWARD_COUPON = 1,
    POINTS_REWARD_CASH = 2,
    POINTS_REWARD_TIER = 3,
} points_reward_kind_t;

typedef struct points_reward {
    char name[POINTS_NAME_MAX];     /* unique among rewards */
    points_reward_kind_t kind;
    char target[POINTS_REWARD_TARGET_MAX]; /* coupon: its id; tier: its name */
    int64_t cost;                   /* coupon, tier: points, 1..1000000000 */
    double rate;                    /* cash: money per point, > 0 */
    int64_t min_points;             /* cash: at least this many [1] */
    int64_t step;                   /* cash: in multiples of this [1] */
    uint32_t days;                  /* tier: held this long; 0: the window + grace */
    unsigned line;                  /* of the settings file, for errors */
} points_reward_t;

typedef struct points_config {
    size_t n_rules;                 /* [0]: the default purchase rule */
    points_rule_t rules[POINTS_MAX_RULES];
    size_t n_rewards;               /* reward lines, in file order */
    points_reward_t rewards[POINTS_MAX_REWARDS];
    points_expiry_t expiry;         /* [never] */
    uint32_t expiry_n;              /* months (1..120) or years (0..10) */
    uint32_t expiring_soon_days;    /* [30] 1..3650: "expiring soon" in profiles */
} points_config_t;

/* The defaults in brackets above, no rules. */
void points_config_default(points_config_t *pc);

/*
 * One settings line whose key starts with "points_" (value trimmed; line
 * is the file's line number, kept in the rule for later errors). Returns
 * NULL when applied, "" when key is not one of this module's (the caller
 * tries its own settings, such as points_per_unit), else what is wrong,
 * naming the option: a static string or one written to buf (cap bytes).
 */
const char *points_def_line(points_config_t *pc, const char *key, const char *value,
                            unsigned line, char *buf, size_t cap);

/* The reward named name, NULL if none. Points into pc. */
const points_reward_t *points_reward_find(const points_config_t *pc, const char *name);

/* "coupon", "cash", "tier"; NULL outside the enum. Static strings. */
const char *points_reward_kind_name(int kind);

/*
 * The points a redemption of r spends when the request asks for `points`
 * (0: the reward's cost, for a coupon or tier reward; a cash reward needs
 * them): *spend gets them. NULL when fine, else what is wrong with points
 * (a static string or one written to buf): another amount than a coupon's
 * or tier's cost, a cash amount below the minimum, off the step or above
 * max_points.
 */
const char *points_reward_points_invalid(const points_reward_t *r, int64_t points,
                                         int64_t max_points, int64_t *spend, char *buf,
                                         size_t cap);

/* What `points` of cash reward r are worth: points x rate, rounded down to
 * the cent (a millionth of slack for binary rounding). */
double points_reward_cash(const points_reward_t *r, int64_t points);

#endif
