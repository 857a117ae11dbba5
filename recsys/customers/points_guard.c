/*
 * points_guard.c - parsing the points guards' settings lines
 * (points_guard.h). A line is checked whole before it is applied.
 */
#include "points_guard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define MAX_WORDS 16

static uint32_t bit(int type)
{
    return 1u << (unsigned)type;
}

void points_guard_default(points_guard_t *g)
{
    memset(g, 0, sizeof *g);
    g->first_account_types = bit(STORE_EVENT_SIGNUP) | bit(STORE_EVENT_REFERRAL_SIGNUP);
}

int points_guard_first_only(const points_guard_t *g, int type)
{
    return type >= 0 && type < 32 && (g->first_account_types & bit(type)) != 0;
}

static size_t words(const char *value, char *buf, size_t cap, char **w)
{
    char *save = NULL;
    size_t n = 0;
    if (strlen(value) >= cap)
        return 0;
    strcpy(buf, value);
    for (char *t = strtok_r(buf, " \t", &save); t && n < MAX_WORDS;
         t = strtok_r(NULL, " \t", &save))
        w[n++] = t;
    return n;
}

static int cap_value(const char *s, int64_t *out)
{
    char *e;
    double v;
    if (!s)
        return -1;
    v = strtod(s, &e);
    if (e == s || *e || !isfinite(v) || v < 1 || v > POINTS_GUARD_MAX_CAP || v != floor(v))
        return -1;
    *out = (int64_t)v;
    return 0;
}

static const char *velocity_line(points_guard_t *g, char **w, size_t n)
{
    int64_t day = 0, week = 0;
    if (n == 1 && strcmp(w[0], "none") == 0) {
        g->day_cap = g->week_cap = 0;
        return NULL;
    }
    if (n == 0)
        return "expected day N week M (either may be left out), or none";
    for (size_t i = 0; i < n; i += 2) {
        int64_t *slot = strcmp(w[i], "day") == 0 ? &day : strcmp(w[i], "week") == 0 ? &week
                                                                                   : NULL;
        if (!slot)
            return "expected day N week M (either may be left out), or none";
        if (cap_value(i + 1 < n ? w[i + 1] : NULL, slot))
            return strcmp(w[i], "day") == 0 ? "day: expected whole points, 1..1000000000"
                                            : "week: expected whole points, 1..1000000000";
    }
    g->day_cap = day;
    g->week_cap = week;
    return NULL;
}

static const char *first_only_line(points_guard_t *g, char **w, size_t n)
{
    uint32_t types = 0;
    if (n == 1 && strcmp(w[0], "none") == 0) {
        g->first_account_types = 0;
        return NULL;
    }
    if (n == 0)
        return "expected event types (signup, referral_signup, ...) or none";
    for (size_t i = 0; i < n; i++) {
        int t = store_event_type_parse(w[i]);
        if (t < 0 || t == STORE_EVENT_REFUND)
            return "TYPE: an event type that earns points (signup, referral_signup, review, "
                   "check_in, share, survey, purchase, ...)";
        types |= bit(t);
    }
    g->first_account_types = types;
    return NULL;
}

const char *points_guard_line(points_guard_t *g, const char *key, const char *value)
{
    char buf[512], *w[MAX_WORDS];
    size_t n;
    int velocity = strcmp(key, "points_velocity") == 0;
    if (!velocity && strcmp(key, "points_first_account_only") != 0)
        return "";
    n = words(value, buf, sizeof buf, w);
    return velocity ? velocity_line(g, w, n) : first_only_line(g, w, n);
}
