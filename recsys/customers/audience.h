/*
 * audience.h - the segment expression language of SelectAudience: parse an
 * expression once, then test it against each customer's profile row.
 *
 *   tier >= gold AND stage IN (at_risk, lapsed) AND r >= 4
 *     AND category = "Garden" AND NOT segment = hibernating OR orders >= 3
 *
 * Grammar (keywords AND OR NOT IN are case-insensitive):
 *   expr       := and { OR and }
 *   and        := unary { AND unary }
 *   unary      := NOT unary | '(' expr ')' | comparison
 *   comparison := field op value | field [NOT] IN '(' value { ',' value } ')'
 *   op         := = | != | < | <= | > | >=
 *   value      := number | identifier | "string" | 'string'
 * so NOT binds tighter than AND, and AND tighter than OR. Strings take
 * backslash escapes for \" \' and \\.
 *
 * Fields and the values they take:
 *   number fields   r f m (0..5, 0 = no orders), monetary, orders, points,
 *                   recency_days, average_basket, typical_gap_days,
 *                   views, carts (recent ones), signup_month,
 *                   birthday_month (1..12),
 *                   clv (predicted 12-month value), churn_p (0..1)
 *                                                   any operator, numbers
 *   tier            tier names of the config, or none; any operator,
 *                   ordered by rank (tier >= silver)
 *   stage           prospect new active at_risk lapsed won_back; = != IN
 *   segment         segment names of the config, or none; = != IN
 *   category        a favourite category (any of them); = != IN
 *                   (category != X: X is not among the favourites)
 *   region          = != IN
 * Names and strings compare case-insensitively (ASCII). A comparison on an
 * unknown value is false whatever the operator (so NOT flips it to true):
 * recency_days, average_basket and typical_gap_days of a customer without
 * orders, a month of 0, an empty region, clv and churn_p of a customer
 * without orders or while no CLV model is fitted (customers_clv.h).
 *
 * Limits, so hostile input costs little: AUDIENCE_MAX_EXPR bytes,
 * AUDIENCE_MAX_DEPTH nested parentheses and NOTs, AUDIENCE_MAX_LIST values in
 * one IN list, AUDIENCE_MAX_TOKEN bytes per identifier or string. Parsing and
 * matching recurse only as deep as the nesting (AND / OR chains are flat).
 *
 * Errors: audience_parse returns 0, -EINVAL (syntax, unknown field or value,
 * operator not allowed for the field), -E2BIG (a limit exceeded) or -ENOMEM,
 * and writes a message to err such as
 *   col 7: unknown tier 'glod' (expected one of: bronze, silver, gold,
 *   platinum, none)
 * where col is the 1-based byte offset of the offending token.
 */
#ifndef PATRON_RECSYS_AUDIENCE_H
#define PATRON_RECSYS_AUDIENCE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

#define AUDIENCE_MAX_EXPR 4096
#define AUDIENCE_MAX_DEPTH 32
#define AUDIENCE_MAX_LIST 256
#define AUDIENCE_MAX_TOKEN 256

typedef struct audience audience_t;

/* One customer as the language sees it, filled by the caller (from
 * profile_compute, profile_rfm_score, profile_segment and the shop's
 * attributes). Strings are borrowed for the duration of audience_match. */
typedef struct audience_row {
    int tier;               /* index into cfg->tiers, -1 none */
    int stage;              /* profile_stage_t */
    int segment;            /* index into cfg->segments, -1 none */
    uint8_t r, f, m;        /* 1..5, 0 without orders */
    double monetary;
    uint32_t orders;
    double recency_days;    /* unknown when orders == 0 */
    double average_basket;  /* unknown when orders == 0 */
    double typical_gap_days;/* unknown when orders < 2 */
    int64_t points;
    uint32_t views, carts;  /* profile_t.recent_views / recent_carts */
    size_t n_categories;    /* 0..PROFILE_TOP_CATEGORIES */
    const char *categories[PROFILE_TOP_CATEGORIES]; /* favourite names */
    const char *region;     /* NULL or "" = unknown */
    uint8_t signup_month;   /* 1..12, 0 = unknown */
    uint8_t birthday_month; /* 1..12, 0 = unknown */
    int has_clv;            /* clv and churn_p known (a fitted model, orders) */
    double clv;             /* predicted 12-month value, currency units */
    double churn_p;         /* 1 - P(alive), 0..1 */
} audience_row_t;

/*
 * Parses expr (NUL-terminated) into *out, which the caller frees with
 * audience_free. Tier and segment names are resolved against cfg (NULL: the
 * defaults of profile_config_default); match rows built with that same config.
 * On failure *out is NULL and, if errcap > 0, err holds a NUL-terminated
 * message naming the column and the offending token. Returns 0, -EINVAL,
 * -E2BIG or -ENOMEM (see above).
 */
int audience_parse(const char *expr, const profile_config_t *cfg,
                   audience_t **out, char *err, size_t errcap);

/* 1 if row satisfies a, else 0. */
int audience_match(const audience_t *a, const audience_row_t *row);

/* Writes a canonical form of a to buf, every AND / OR group parenthesized
 * (snprintf rules: NUL-terminated when cap > 0; returns the length needed),
 * e.g. "((tier >= gold AND NOT stage = lapsed) OR orders >= 3)". For logs and
 * tests. */
size_t audience_format(const audience_t *a, char *buf, size_t cap);

void audience_free(audience_t *a); /* NULL-safe */

#endif
