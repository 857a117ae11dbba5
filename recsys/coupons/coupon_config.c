/*
 * coupon_config.c - the decision's settings (contract in coupon.h): the
 * built-in defaults, the consistency check, and the operator's settings-file
 * lines (coupon_weekly_cap = 2, coupon_holdout_rate = 0.05, ...) that tune
 * the guards. The salts are not settable: the holdout salt defines who is
 * held out, and changing it would move customers across the control group
 * mid-experiment.
 */
#include "coupon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

void coupon_config_default(coupon_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->margin_rate = 0.3;
    cfg->default_basket = 40.0;
    cfg->redeem_rate = 1.0;
    cfg->threshold_markup = 1.15;
    cfg->cap_per_window = 2;
    cfg->cap_window_ms = 7 * CIVIL_DAY_MS;
    cfg->max_accounts_per_device = 3;
    cfg->max_accounts_per_address = 5;
    cfg->max_redemptions_per_hour = 3;
    cfg->max_redemptions_per_day = 5;
    cfg->holdout_rate = 0.05;
    cfg->holdout_salt = 0x9e3779b97f4a7c15ULL;
    cfg->explore_rate = 0.02;
    cfg->explore_salt = 0x2545f4914f6cdd1dULL;
}

static int in_unit(double v, int closed_hi)
{
    return isfinite(v) && v >= 0.0 && (closed_hi ? v <= 1.0 : v < 1.0);
}

const char *coupon_config_invalid(const coupon_config_t *cfg)
{
    if (!cfg)
        return "config: NULL";
    if (!(cfg->margin_rate > 0.0 && cfg->margin_rate <= 1.0))
        return "margin_rate: must be in (0, 1]";
    if (!(cfg->default_basket > 0.0) || !isfinite(cfg->default_basket))
        return "default_basket: must be > 0";
    if (!(cfg->redeem_rate > 0.0 && cfg->redeem_rate <= 1.0))
        return "redeem_rate: must be in (0, 1]";
    if (!(cfg->threshold_markup >= 1.0) || !isfinite(cfg->threshold_markup))
        return "threshold_markup: must be >= 1";
    if (cfg->cap_window_ms <= 0)
        return "cap_window_ms: must be > 0";
    if (!in_unit(cfg->holdout_rate, 0))
        return "holdout_rate: must be in [0, 1)";
    if (!in_unit(cfg->explore_rate, 0))
        return "explore_rate: must be in [0, 1)";
    return NULL;
}

/* ---- settings-file lines ------------------------------------------------------- */

/* One setting: its field, its range [lo, hi] (lo excluded when lo_open, hi
 * when hi_open), whole numbers only for U32, and the message a value out of
 * it gets. */
typedef struct coupon_setting {
    const char *name;
    enum { CS_U32, CS_DOUBLE } kind;
    size_t offset;
    double lo, hi;
    int lo_open, hi_open;
    const char *expected;
} coupon_setting_t;

#define U32(name, field, lo, hi, msg) \
    { name, CS_U32, offsetof(coupon_config_t, field), lo, hi, 0, 0, msg }
#define DBL(name, field, lo, hi, lo_open, hi_open, msg) \
    { name, CS_DOUBLE, offsetof(coupon_config_t, field), lo, hi, lo_open, hi_open, msg }

static const coupon_setting_t coupon_settings[] = {
    U32("coupon_weekly_cap", cap_per_window, 0, 1000,
        "expected a whole number 0..1000 (grants per customer in 7 days)"),
    U32("coupon_max_accounts_per_device", max_accounts_per_device, 1, 1000000,
        "expected a whole number 1..1000000"),
    U32("coupon_max_accounts_per_address", max_accounts_per_address, 1, 1000000,
        "expected a whole number 1..1000000"),
    U32("coupon_max_redemptions_per_hour", max_redemptions_per_hour, 1, 1000000,
        "expected a whole number 1..1000000"),
    U32("coupon_max_redemptions_per_day", max_redemptions_per_day, 1, 1000000,
        "expected a whole number 1..1000000"),
    DBL("coupon_holdout_rate", holdout_rate, 0, 1, 0, 1,
        "expected a fraction in [0, 1) (0.05 holds out 5 % of customers)"),
    DBL("coupon_explore_rate", explore_rate, 0, 1, 0, 1, "expected a fraction in [0, 1)"),
    DBL("coupon_margin_rate", margin_rate, 0, 1, 1, 0, "expected a fraction in (0, 1]"),
    DBL("coupon_redeem_rate", redeem_rate, 0, 1, 1, 0, "expected a fraction in (0, 1]"),
    DBL("coupon_default_basket", default_basket, 0, 1e9, 1, 0,
        "expected an amount in (0, 1e9]"),
    DBL("coupon_threshold_markup", threshold_markup, 1, 100, 0, 0,
        "expected a factor in [1, 100]"),
};

static int parse_in(const coupon_setting_t *st, const char *value, double *out)
{
    char *end;
    double v = strtod(value, &end);

    while (*end == ' ' || *end == '\t')
        end++;
    if (end == value || *end || !isfinite(v))
        return -1;
    if (v < st->lo || v > st->hi || (st->lo_open && v == st->lo) ||
        (st->hi_open && v == st->hi))
        return -1;
    if (st->kind == CS_U32 && v != floor(v))
        return -1;
    *out = v;
    return 0;
}

const char *coupon_config_set(coupon_config_t *cfg, const char *key, const char *value)
{
    if (!cfg || !key || !value)
        return "no setting";
    for (size_t i = 0; i < sizeof coupon_settings / sizeof coupon_settings[0]; i++) {
        const coupon_setting_t *st = &coupon_settings[i];
        double v;
        if (strcmp(key, st->name) != 0)
            continue;
        if (parse_in(st, value, &v))
            return st->expected;
        if (st->kind == CS_U32)
            *(uint32_t *)((char *)cfg + st->offset) = (uint32_t)v;
        else
            /* cppcheck-suppress invalidPointerCast ; offsetof a double field */
            *(double *)((char *)cfg + st->offset) = v;
        return NULL;
    }
    return "unknown setting";
}
