/* profile_file.c - reading the profile settings file (profile_file.h). */
#include "profile_file.h"
#include "points.h"
#include "tiers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct setting {
    const char *name;
    enum { S_U32, S_DOUBLE } kind;
    size_t offset;
} setting_t;

static const setting_t settings[] = {
    { "order_gap_minutes", S_U32, offsetof(profile_config_t, order_gap_minutes) },
    { "recent_days", S_U32, offsetof(profile_config_t, recent_days) },
    { "new_days", S_U32, offsetof(profile_config_t, new_days) },
    { "at_risk_factor", S_DOUBLE, offsetof(profile_config_t, at_risk_factor) },
    { "lapse_factor", S_DOUBLE, offsetof(profile_config_t, lapse_factor) },
    { "min_gap_days", S_DOUBLE, offsetof(profile_config_t, min_gap_days) },
    { "default_gap_days", S_DOUBLE, offsetof(profile_config_t, default_gap_days) },
    { "won_back_days", S_U32, offsetof(profile_config_t, won_back_days) },
    { "tier_window_days", S_U32, offsetof(profile_config_t, tier_window_days) },
    { "tier_grace_days", S_U32, offsetof(profile_config_t, tier_grace_days) },
    { "points_per_unit", S_DOUBLE, offsetof(profile_config_t, points_per_unit) },
};

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *trim(end) || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Trigger settings (trigger_def.h): name, field, range. */
typedef struct trigger_setting {
    const char *name;
    size_t offset;
    uint32_t lo, hi;
} trigger_setting_t;

static const trigger_setting_t trigger_settings[] = {
    { "trigger_scan_seconds", offsetof(trigger_config_t, scan_seconds), 1, 86400 },
    { "trigger_recommend_k", offsetof(trigger_config_t, recommend_k), 0,
      TRIGGER_MAX_RECOMMEND_K },
    { "trigger_horizon_days", offsetof(trigger_config_t, horizon_days), 1, 3650 },
    { "trigger_max_delay_hours", offsetof(trigger_config_t, max_delay_hours), 0, 720 },
};

/* A trigger_* setting line; returns NULL, "" when key is not one, or what
 * is wrong. */
static const char *apply_trigger(trigger_config_t *tc, const char *key, char *value)
{
    double v;
    if (strcmp(key, "trigger") == 0)
        return trigger_rule_parse(tc, value);
    for (size_t i = 0; i < sizeof trigger_settings / sizeof trigger_settings[0]; i++) {
        const trigger_setting_t *t = &trigger_settings[i];
        if (strcmp(key, t->name) != 0)
            continue;
        if (parse_number(value, t->lo, t->hi, &v) || v != floor(v))
            return "value: expected a whole number in range";
        *(uint32_t *)((char *)tc + t->offset) = (uint32_t)v;
        return NULL;
    }
    return "";
}

static int set_scalar(profile_config_t *cfg, const setting_t *st, const char *value)
{
    double v;
    if (st->kind == S_U32) {
        if (parse_number(value, 0, 1e6, &v) || v != floor(v))
            return -1;
        *(uint32_t *)((char *)cfg + st->offset) = (uint32_t)v;
    } else {
        if (parse_number(value, 0, 1e6, &v))
            return -1;
        /* cppcheck-suppress invalidPointerCast ; st->offset is offsetof a double field */
        *(double *)((char *)cfg + st->offset) = v;
    }
    return 0;
}

static int parse_tier(char *v, profile_tier_rule_t *t)
{
    char name[PROFILE_NAME_MAX + 1];
    double spend;
    unsigned orders, engagement;
    int used = 0;
    if (sscanf(v, "%32s %lf %u %u %n", name, &spend, &orders, &engagement, &used) != 4 ||
        v[used] || strlen(name) >= PROFILE_NAME_MAX || !isfinite(spend) || spend < 0)
        return -1;
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->min_spend = spend;
    t->min_orders = orders;
    t->min_engagement = engagement;
    return 0;
}

static int parse_segment(char *v, profile_segment_rule_t *g)
{
    char name[PROFILE_NAME_MAX + 1];
    unsigned r0, r1, f0, f1, m0, m1;
    int used = 0;
    if (sscanf(v, "%32s %u-%u %u-%u %u-%u %n", name, &r0, &r1, &f0, &f1, &m0, &m1,
               &used) != 7 || v[used] || strlen(name) >= PROFILE_NAME_MAX ||
        r0 < 1 || r1 > 5 || r0 > r1 || f0 < 1 || f1 > 5 || f0 > f1 || m0 < 1 || m1 > 5 ||
        m0 > m1)
        return -1;
    memset(g, 0, sizeof *g);
    strcpy(g->name, name);
    g->r_lo = (uint8_t)r0, g->r_hi = (uint8_t)r1;
    g->f_lo = (uint8_t)f0, g->f_hi = (uint8_t)f1;
    g->m_lo = (uint8_t)m0, g->m_hi = (uint8_t)m1;
    return 0;
}

/* A contact. or consent. line; a time zone must exist on this machine. */
static const char *contact_line(contact_config_t *cfg, const char *key, const char *value)
{
    const char *why = contact_config_set(cfg, key, value);
    tz_t *z = NULL;
    if (!why && strcmp(key, "contact.time_zone") == 0) {
        if (tz_load(NULL, cfg->time_zone, &z) != 0)
            why = "no such time zone in " TZ_DEFAULT_DIR;
        tz_free(z);
    }
    return why;
}

/* Whose a line is beyond profile settings (profile_file_more_fn). */
typedef struct more {
    profile_file_more_fn fn;
    void *ctx;
} more_t;

/* A line no profile setting takes: the caller's, else unknown. */
static const char *more_line(const more_t *more, const char *key, const char *value)
{
    const char *why = more->fn ? more->fn(more->ctx, key, value) : "";
    return why && !*why ? "unknown setting" : why;
}

/* One "key = value" line; returns NULL or what is wrong (a static string or
 * buf). */
static const char *apply_line(profile_config_t *cfg, char *key, char *value,
                              int *tiers_seen, int *segments_seen, unsigned lineno,
                              char *buf, size_t cap, const more_t *more)
{
    if (strcmp(key, "tier") == 0) {
        if (!*tiers_seen)
            cfg->n_tiers = 0;
        *tiers_seen = 1;
        if (cfg->n_tiers == PROFILE_MAX_TIERS)
            return "too many tiers";
        memset(&cfg->tiers[cfg->n_tiers], 0, sizeof cfg->tiers[0]);
        if (parse_tier(value, &cfg->tiers[cfg->n_tiers]))
            return "tier: expected NAME MIN_SPEND MIN_ORDERS MIN_ENGAGEMENT";
        cfg->n_tiers++;
        return NULL;
    }
    if (strcmp(key, "tier_benefits") == 0)
        return tiers_benefits_parse(cfg, value);
    if (strcmp(key, "segment") == 0) {
        if (!*segments_seen)
            cfg->n_segments = 0;
        *segments_seen = 1;
        if (cfg->n_segments == PROFILE_MAX_SEGMENTS)
            return "too many segments";
        if (parse_segment(value, &cfg->segments[cfg->n_segments]))
            return "segment: expected NAME R_LO-R_HI F_LO-F_HI M_LO-M_HI (scores 1..5)";
        cfg->n_segments++;
        return NULL;
    }
    if (strncmp(key, "contact.", 8) == 0 || strncmp(key, "consent.", 8) == 0)
        return contact_line(&cfg->contact, key, value);
    const char *why = apply_trigger(&cfg->triggers, key, value);
    if (!why || *why)
        return why;
    why = referral_def_line(&cfg->referral, key, value, lineno);
    if (!why || *why)
        return why;
    why = points_guard_line(&cfg->guard, key, value);
    if (!why || *why)
        return why;
    why = points_def_line(&cfg->points, key, value, lineno, buf, cap);
    if (!why || *why)
        return why;
    why = mission_def_line(&cfg->missions, key, value, lineno, buf, cap);
    if (!why || *why)
        return why;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(key, settings[i].name) == 0)
            return set_scalar(cfg, &settings[i], value) ? "value: expected a number in range"
                                                        : NULL;
    return more_line(more, key, value);
}

int profile_config_load(const char *path, profile_config_t *cfg, char *err, size_t cap)
{
    return profile_config_load_more(path, cfg, NULL, NULL, err, cap);
}

int profile_config_load_more(const char *path, profile_config_t *cfg, profile_file_more_fn fn,
                             void *ctx, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (!f) {
        profile_config_default(cfg);
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return -ENOENT;
    }
    rc = profile_config_read_more(f, path, cfg, fn, ctx, err, cap);
    fclose(f);
    return rc;
}

int profile_config_read_more(FILE *f, const char *name, profile_config_t *cfg,
                             profile_file_more_fn fn, void *ctx, char *err, size_t cap)
{
    const more_t more = { fn, ctx };
    const char *path = name;
    char line[1024], why_buf[256];
    unsigned lineno = 0;
    int tiers_seen = 0, segments_seen = 0, rc = 0;
    const char *why;

    profile_config_default(cfg);
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#'), *eq, *key;
        lineno++;
        if (hash)
            *hash = '\0';
        key = trim(line);
        if (!*key)
            continue;
        if (!(eq = strchr(key, '='))) {
            snprintf(err, cap, "%s:%u: expected name = value", path, lineno);
            rc = -EINVAL;
            break;
        }
        *eq = '\0';
        if ((why = apply_line(cfg, trim(key), trim(eq + 1), &tiers_seen, &segments_seen,
                              lineno, why_buf, sizeof why_buf, &more)) != NULL) {
            snprintf(err, cap, "%s:%u: %s: %s", path, lineno, trim(key), why);
            rc = -EINVAL;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        rc = -EIO;
    }
    if (rc == 0 && (why = points_rules_invalid(cfg, &lineno)) != NULL) {
        snprintf(err, cap, "%s:%u: %s", path, lineno, why);
        rc = -EINVAL;
    }
    if (rc == 0 && ((why = profile_config_invalid(cfg)) != NULL ||
                    (why = contact_config_invalid(&cfg->contact)) != NULL)) {
        snprintf(err, cap, "%s: %s", path, why);
        rc = -EINVAL;
    }
    return rc;
}
