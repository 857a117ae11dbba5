/*
 * points_def.c - parsing the points programme's settings lines
 * (points_def.h). Each option is a (keyword, parser) pair; a rule is the
 * name, the event type and its options, checked whole before it is kept,
 * so a bad line leaves the configuration as it was.
 */
#include "points_def.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setting_words.h"
#include "store.h"

#define MAX_POINTS_VALUE 1000000000.0 /* a fixed award or a cap */

void points_config_default(points_config_t *pc)
{
    memset(pc, 0, sizeof *pc);
    pc->expiry = POINTS_EXPIRY_NEVER;
    pc->expiring_soon_days = 30;
}

/* ---- rule options ------------------------------------------------------------ */

/* An option's parser: consumes its arguments t->tok[*i ..]; NULL or what is
 * wrong (static). */
typedef const char *(*option_fn)(points_rule_t *r, const words_t *t, size_t *i);

static const char *arg(const words_t *t, size_t *i)
{
    return *i < t->n ? t->tok[(*i)++] : NULL;
}

static const char *opt_points(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *a = arg(t, i);
    double v;
    if (!a || words_number(a, 1, MAX_POINTS_VALUE, 1, &v))
        return "points: expected a whole number of points, 1..1000000000";
    r->fixed = (int64_t)v;
    return NULL;
}

static const char *opt_per_unit(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *a = arg(t, i);
    if (!a || words_number(a, 0.000001, 1e6, 0, &r->per_unit))
        return "per_unit: expected points per currency unit, > 0 and <= 1000000";
    return NULL;
}

static const char *opt_category(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *a = arg(t, i);
    if (!a || !*a || strlen(a) > POINTS_CATEGORY_MAX)
        return "category: expected a category name of 1..128 bytes";
    strcpy(r->category, a);
    return NULL;
}

static const char *opt_min_amount(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *a = arg(t, i);
    if (!a || words_number(a, 0, STORE_MAX_PRICE, 0, &r->min_amount))
        return "min_amount: expected an amount >= 0";
    return NULL;
}

static const char *opt_first_only(points_rule_t *r, const words_t *t, size_t *i)
{
    (void)t, (void)i;
    r->first_only = 1;
    return NULL;
}

static const char *opt_multiplier(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *tier = arg(t, i), *f = arg(t, i);
    points_multiplier_t *m;
    if (!tier || !f || !words_name_ok(tier, POINTS_NAME_MAX))
        return "multiplier: expected TIER FACTOR";
    if (r->n_multipliers == POINTS_MAX_MULTIPLIERS)
        return "multiplier: at most 8 per rule";
    for (size_t k = 0; k < r->n_multipliers; k++)
        if (strcmp(r->multipliers[k].tier, tier) == 0)
            return "multiplier: the same tier twice";
    m = &r->multipliers[r->n_multipliers];
    if (words_number(f, 0, POINTS_MAX_FACTOR, 0, &m->factor))
        return "multiplier: FACTOR must be a number in 0..100";
    strcpy(m->tier, tier);
    r->n_multipliers++;
    return NULL;
}

static const char *cap_option(const words_t *t, size_t *i, int64_t *out, const char *why)
{
    const char *a = arg(t, i);
    double v;
    if (!a || words_number(a, 1, MAX_POINTS_VALUE, 1, &v))
        return why;
    *out = (int64_t)v;
    return NULL;
}

static const char *opt_daily_cap(points_rule_t *r, const words_t *t, size_t *i)
{
    return cap_option(t, i, &r->daily_cap, "daily_cap: expected whole points, 1..1000000000");
}

static const char *opt_lifetime_cap(points_rule_t *r, const words_t *t, size_t *i)
{
    return cap_option(t, i, &r->lifetime_cap,
                      "lifetime_cap: expected whole points, 1..1000000000");
}

static const char *opt_vest_days(points_rule_t *r, const words_t *t, size_t *i)
{
    const char *a = arg(t, i);
    double v;
    if (!a || words_number(a, 0, POINTS_MAX_VEST_DAYS, 1, &v))
        return "vest_days: expected whole days, 0..3650";
    r->vest_days = (uint32_t)v;
    return NULL;
}

static const struct option {
    const char *name;
    option_fn parse;
    int repeatable;
} options[] = {
    { "points", opt_points, 0 },           { "per_unit", opt_per_unit, 0 },
    { "category", opt_category, 0 },       { "min_amount", opt_min_amount, 0 },
    { "first_only", opt_first_only, 0 },   { "multiplier", opt_multiplier, 1 },
    { "daily_cap", opt_daily_cap, 0 },     { "lifetime_cap", opt_lifetime_cap, 0 },
    { "vest_days", opt_vest_days, 0 },
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* Options from t->tok[2]; NULL or what is wrong (buf for an unknown one). */
static const char *rule_options(points_rule_t *r, const words_t *t, char *buf, size_t cap)
{
    unsigned seen[N_OPTIONS] = { 0 };
    size_t i = 2;
    while (i < t->n) {
        const char *word = t->tok[i++], *why;
        size_t o = 0;
        while (o < N_OPTIONS && strcmp(word, options[o].name) != 0)
            o++;
        if (o == N_OPTIONS) {
            snprintf(buf, cap, "unknown option \"%.40s\" (expected points, per_unit, "
                     "category, min_amount, first_only, multiplier, daily_cap, "
                     "lifetime_cap or vest_days)", word);
            return buf;
        }
        if (seen[o]++ && !options[o].repeatable) {
            snprintf(buf, cap, "%s: given twice", options[o].name);
            return buf;
        }
        if ((why = options[o].parse(r, t, &i)) != NULL)
            return why;
    }
    if ((r->fixed > 0) == (r->per_unit > 0))
        return "points or per_unit: exactly one is required";
    return NULL;
}

static const char *parse_rule(points_config_t *pc, const char *value, unsigned line,
                              char *buf, size_t cap)
{
    words_t t;
    points_rule_t r;
    const char *why = words_split(value, &t);

    if (why)
        return why;
    if (t.n < 2 || !words_name_ok(t.tok[0], POINTS_NAME_MAX))
        return "expected NAME TYPE OPTION... (NAME: 1..31 of A-Z a-z 0-9 _ . -)";
    for (size_t k = 0; k < pc->n_rules; k++)
        if (strcmp(pc->rules[k].name, t.tok[0]) == 0)
            return "NAME: a rule of that name exists";
    if (pc->n_rules == POINTS_MAX_RULES)
        return "too many rules (at most 16)";
    memset(&r, 0, sizeof r);
    strcpy(r.name, t.tok[0]);
    r.line = line;
    r.type = store_event_type_parse(t.tok[1]);
    if (r.type < 0 || r.type == STORE_EVENT_REFUND)
        return "TYPE: expected an event type (view, cart, purchase, not_interested, signup, "
               "review, check_in, share, referral_signup, survey); refunds take points "
               "back, they earn none";
    if ((why = rule_options(&r, &t, buf, cap)) != NULL)
        return why;
    pc->rules[pc->n_rules++] = r;
    return NULL;
}

static const char *parse_expiry(points_config_t *pc, const char *value)
{
    words_t t;
    double v;
    if (words_split(value, &t) || t.n == 0)
        return "expected never, months N or year_end N";
    if (strcmp(t.tok[0], "never") == 0 && t.n == 1) {
        pc->expiry = POINTS_EXPIRY_NEVER;
        pc->expiry_n = 0;
        return NULL;
    }
    if (strcmp(t.tok[0], "months") == 0 && t.n == 2) {
        if (words_number(t.tok[1], 1, 120, 1, &v))
            return "months: expected whole months, 1..120";
        pc->expiry = POINTS_EXPIRY_MONTHS;
    } else if (strcmp(t.tok[0], "year_end") == 0 && t.n == 2) {
        if (words_number(t.tok[1], 0, 10, 1, &v))
            return "year_end: expected whole years after the one points vest in, 0..10";
        pc->expiry = POINTS_EXPIRY_YEAR_END;
    } else {
        return "expected never, months N or year_end N";
    }
    pc->expiry_n = (uint32_t)v;
    return NULL;
}

/* ---- rewards ------------------------------------------------------------------- */

static const char *const reward_kinds[] = { [POINTS_REWARD_COUPON] = "coupon",
                                            [POINTS_REWARD_CASH] = "cash",
                                            [POINTS_REWARD_TIER] = "tier" };

const char *points_reward_kind_name(int kind)
{
    return kind >= POINTS_REWARD_COUPON && kind <= POINTS_REWARD_TIER ? reward_kinds[kind]
                                                                        : NULL;
}

const points_reward_t *points_reward_find(const points_config_t *pc, const char *name)
{
    for (size_t i = 0; i < pc->n_rewards; i++)
        if (strcmp(pc->rewards[i].name, name) == 0)
            return &pc->rewards[i];
    return NULL;
}

/* A whole option value in 1..hi into *out; what is wrong otherwise. */
static const char *whole_option(const char *a, double hi, int64_t *out, const char *why)
{
    double v;
    if (!a || words_number(a, 1, hi, 1, &v))
        return why;
    *out = (int64_t)v;
    return NULL;
}

/* One OPTION VALUE pair of a reward line; NULL or what is wrong. */
static const char *reward_option(points_reward_t *r, const char *word, const char *a,
                                 char *buf, size_t cap)
{
    int64_t days;
    const char *why;
    if (strcmp(word, "cost") == 0 && r->kind != POINTS_REWARD_CASH)
        return whole_option(a, MAX_POINTS_VALUE, &r->cost,
                            "cost: expected whole points, 1..1000000000");
    if (strcmp(word, "days") == 0 && r->kind == POINTS_REWARD_TIER) {
        why = whole_option(a, POINTS_MAX_REWARD_DAYS, &days, "days: expected whole days, 1..3650");
        r->days = why ? 0 : (uint32_t)days;
        return why;
    }
    if (strcmp(word, "rate") == 0 && r->kind == POINTS_REWARD_CASH)
        return !a || words_number(a, 1e-9, POINTS_MAX_RATE, 0, &r->rate)
                   ? "rate: expected money per point, > 0 and <= 1000000" : NULL;
    if (strcmp(word, "min") == 0 && r->kind == POINTS_REWARD_CASH)
        return whole_option(a, MAX_POINTS_VALUE, &r->min_points,
                            "min: expected whole points, 1..1000000000");
    if (strcmp(word, "step") == 0 && r->kind == POINTS_REWARD_CASH)
        return whole_option(a, MAX_POINTS_VALUE, &r->step,
                            "step: expected whole points, 1..1000000000");
    snprintf(buf, cap, "unknown option \"%.40s\" for a %s reward (expected %s)", word,
             points_reward_kind_name(r->kind),
             r->kind == POINTS_REWARD_CASH ? "rate, min or step"
             : r->kind == POINTS_REWARD_TIER ? "cost or days" : "cost");
    return buf;
}

/* The kind and, for a coupon or tier, its target; *next the first option. */
static const char *reward_head(points_reward_t *r, const words_t *t, size_t *next)
{
    if (t->n < 2 || !words_name_ok(t->tok[0], POINTS_NAME_MAX))
        return "expected NAME KIND ... (NAME: 1..31 of A-Z a-z 0-9 _ . -; KIND: coupon, "
               "cash or tier)";
    strcpy(r->name, t->tok[0]);
    for (int k = POINTS_REWARD_COUPON; k <= POINTS_REWARD_TIER; k++)
        if (strcmp(t->tok[1], reward_kinds[k]) == 0)
            r->kind = (points_reward_kind_t)k;
    if (!r->kind)
        return "KIND: expected coupon COUPON_ID, cash or tier TIER";
    *next = 2;
    if (r->kind == POINTS_REWARD_CASH)
        return NULL;
    if (t->n < 3 || !t->tok[2][0] || strlen(t->tok[2]) >= POINTS_REWARD_TARGET_MAX)
        return r->kind == POINTS_REWARD_COUPON ? "coupon: expected a coupon id of 1..63 bytes"
                                               : "tier: expected a tier name";
    strcpy(r->target, t->tok[2]);
    *next = 3;
    return NULL;
}

static const char *parse_reward(points_config_t *pc, const char *value, unsigned line,
                                char *buf, size_t cap)
{
    words_t t;
    points_reward_t r;
    size_t i;
    const char *why = words_split(value, &t);

    if (why)
        return why;
    memset(&r, 0, sizeof r);
    r.line = line;
    if ((why = reward_head(&r, &t, &i)) != NULL)
        return why;
    if (points_reward_find(pc, r.name))
        return "NAME: a reward of that name exists";
    if (pc->n_rewards == POINTS_MAX_REWARDS)
        return "too many rewards (at most 32)";
    for (; i < t.n; i += 2)
        if ((why = reward_option(&r, t.tok[i], i + 1 < t.n ? t.tok[i + 1] : NULL, buf,
                                 cap)) != NULL)
            return why;
    if (r.kind != POINTS_REWARD_CASH && r.cost == 0)
        return "cost: required (the points the reward costs)";
    if (r.kind == POINTS_REWARD_CASH && r.rate == 0)
        return "rate: required (money per point)";
    if (r.kind == POINTS_REWARD_CASH) {
        r.min_points = r.min_points ? r.min_points : 1;
        r.step = r.step ? r.step : 1;
    }
    pc->rewards[pc->n_rewards++] = r;
    return NULL;
}

const char *points_reward_points_invalid(const points_reward_t *r, int64_t points,
                                         int64_t max_points, int64_t *spend, char *buf,
                                         size_t cap)
{
    *spend = 0;
    if (r->kind != POINTS_REWARD_CASH) {
        if (points != 0 && points != r->cost) {
            snprintf(buf, cap, "points: reward '%s' costs %lld (send 0 or %lld)", r->name,
                     (long long)r->cost, (long long)r->cost);
            return buf;
        }
        *spend = r->cost;
        return NULL;
    }
    if (points < r->min_points || points > max_points) {
        snprintf(buf, cap, "points: reward '%s' converts %lld..%lld points a time, got %lld",
                 r->name, (long long)r->min_points, (long long)max_points, (long long)points);
        return buf;
    }
    if (points % r->step != 0) {
        snprintf(buf, cap, "points: reward '%s' converts points in multiples of %lld, got %lld",
                 r->name, (long long)r->step, (long long)points);
        return buf;
    }
    *spend = points;
    return NULL;
}

double points_reward_cash(const points_reward_t *r, int64_t points)
{
    return floor((double)points * r->rate * 100.0 + 1e-6) / 100.0;
}

/* ---- lines --------------------------------------------------------------------- */

const char *points_def_line(points_config_t *pc, const char *key, const char *value,
                            unsigned line, char *buf, size_t cap)
{
    double v;
    if (strcmp(key, "points_rule") == 0)
        return parse_rule(pc, value, line, buf, cap);
    if (strcmp(key, "reward") == 0)
        return parse_reward(pc, value, line, buf, cap);
    if (strcmp(key, "points_expiry") == 0)
        return parse_expiry(pc, value);
    if (strcmp(key, "points_expiring_soon_days") == 0) {
        if (words_number(value, 1, 3650, 1, &v))
            return "value: expected whole days, 1..3650";
        pc->expiring_soon_days = (uint32_t)v;
        return NULL;
    }
    return "";
}
