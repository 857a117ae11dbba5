/* trigger_def.c - trigger rule definitions and their parsing (trigger_def.h). */
#include "trigger_def.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static const char *const kind_names[TRIGGER_KIND_MAX + 1] = {
    [TRIGGER_CART_ABANDONED] = "cart_abandoned",
    [TRIGGER_AT_RISK] = "at_risk",
    [TRIGGER_LAPSED] = "lapsed",
    [TRIGGER_WON_BACK] = "won_back",
    [TRIGGER_TIER_UP] = "tier_up",
    [TRIGGER_TIER_DOWN] = "tier_down",
    [TRIGGER_BIRTHDAY] = "birthday",
    [TRIGGER_ANNIVERSARY] = "anniversary",
    [TRIGGER_POINTS_EXPIRING] = "points_expiring",
    [TRIGGER_FIRST_PURCHASE] = "first_purchase",
    [TRIGGER_PRICE_DROP] = "price_drop",
};

void trigger_config_default(trigger_config_t *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->scan_seconds = 60;
    tc->recommend_k = 4;
    tc->horizon_days = 7;
    tc->max_delay_hours = 24;
}

const char *trigger_kind_name(trigger_kind_t kind)
{
    return kind >= 1 && kind <= TRIGGER_KIND_MAX ? kind_names[kind] : NULL;
}

static int kind_by_name(const char *s)
{
    for (int k = 1; k <= TRIGGER_KIND_MAX; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return k;
    return 0;
}

int trigger_rule_find(const trigger_config_t *tc, const char *name)
{
    for (size_t i = 0; i < tc->n_rules; i++)
        if (strcmp(tc->rules[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TRIGGER_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
            return 0;
    return 1;
}

/* "90s", "30m", "4h", "2d" (a number and a unit, up to 365 days) -> ms. */
static int parse_duration(const char *s, int64_t *ms)
{
    char *end;
    double v = strtod(s, &end), unit;
    if (end == s || !isfinite(v) || v <= 0)
        return -1;
    if (strcmp(end, "s") == 0)
        unit = 1e3;
    else if (strcmp(end, "m") == 0)
        unit = 60e3;
    else if (strcmp(end, "h") == 0)
        unit = 3600e3;
    else if (strcmp(end, "d") == 0)
        unit = (double)DAY_MS;
    else
        return -1;
    if (v * unit > 365.0 * (double)DAY_MS || v * unit < 1000)
        return -1;
    *ms = (int64_t)llround(v * unit);
    return 0;
}

static int parse_days(const char *s, long lo, long hi, int64_t *ms)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *ms = v * DAY_MS;
    return 0;
}

/* The argument of a rule of kind k: NULL or what is wrong. */
static const char *parse_arg(trigger_kind_t k, const char *arg, int64_t *ms)
{
    *ms = 0;
    switch (k) {
    case TRIGGER_CART_ABANDONED:
        if (!arg || parse_duration(arg, ms))
            return "cart_abandoned needs a wait: a number and s, m, h or d "
                   "(1s..365d), e.g. 4h";
        return NULL;
    case TRIGGER_BIRTHDAY:
    case TRIGGER_ANNIVERSARY:
        if (!arg || parse_days(arg, 0, 60, ms))
            return "birthday and anniversary need the days ahead, 0..60";
        return NULL;
    case TRIGGER_PRICE_DROP:
        if (!arg || parse_days(arg, 1, 365, ms))
            return "price_drop needs the view look-back in days, 1..365";
        return NULL;
    case TRIGGER_POINTS_EXPIRING:
        if (!arg || parse_days(arg, 1, 365, ms))
            return "points_expiring needs the days ahead, 1..365";
        return NULL;
    default:
        return arg ? "this kind takes no argument" : NULL;
    }
}

const char *trigger_rule_parse(trigger_config_t *tc, const char *value)
{
    char name[64] = "", kind[64] = "", arg[64] = "", extra[2] = "";
    trigger_rule_t r;
    const char *why;
    int k, n = sscanf(value, "%63s %63s %63s %1s", name, kind, arg, extra);

    if (n < 2 || n > 3)
        return "expected NAME KIND [ARGUMENT]";
    if (!name_ok(name))
        return "NAME: 1..31 characters of A-Z a-z 0-9 _ . -";
    if (!(k = kind_by_name(kind)))
        return "unknown kind (cart_abandoned, at_risk, lapsed, won_back, tier_up, "
               "tier_down, birthday, anniversary, first_purchase, price_drop, "
               "points_expiring)";
    if ((why = parse_arg((trigger_kind_t)k, n == 3 ? arg : NULL, &r.arg_ms)) != NULL)
        return why;
    if (trigger_rule_find(tc, name) >= 0)
        return "a rule of this NAME is defined already";
    if (tc->n_rules == TRIGGER_MAX_RULES)
        return "too many trigger rules (16 at most)";
    memset(r.name, 0, sizeof r.name);
    strcpy(r.name, name);
    r.kind = (trigger_kind_t)k;
    tc->rules[tc->n_rules++] = r;
    return NULL;
}
