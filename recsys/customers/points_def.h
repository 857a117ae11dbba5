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

typedef struct points_config {
    size_t n_rules;                 /* [0]: the default purchase rule */
    points_rule_t rules[POINTS_MAX_RULES];
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

#endif
