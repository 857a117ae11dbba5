/*
 * referral_def.c - parsing the referral settings line (referral_def.h).
 * The line is checked whole before it replaces the configuration, so a bad
 * line leaves it as it was.
 */
#include "referral_def.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16
#define MAX_CAP 1000000

void referral_config_default(referral_config_t *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->window_days = REFERRAL_DEFAULT_WINDOW_DAYS;
}

static int whole(const char *s, double lo, double hi, int64_t *out)
{
    char *e;
    double v;
    if (!s)
        return -1;
    v = strtod(s, &e);
    if (e == s || *e || !isfinite(v) || v < lo || v > hi || v != floor(v))
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* w[*i .. *i + 3) are N, "per" and the period (the caller checked there
 * are three). */
static const char *parse_cap(char **w, size_t *i, referral_config_t *rc)
{
    int64_t v;
    const char *per;
    if (whole(w[(*i)++], 1, MAX_CAP, &v) || strcmp(w[(*i)++], "per") != 0)
        return "cap: expected cap N per year|month|ever (N 1..1000000)";
    per = w[(*i)++];
    if (strcmp(per, "year") == 0)
        rc->cap_period = REFERRAL_CAP_YEAR;
    else if (strcmp(per, "month") == 0)
        rc->cap_period = REFERRAL_CAP_MONTH;
    else if (strcmp(per, "ever") == 0)
        rc->cap_period = REFERRAL_CAP_EVER;
    else
        return "cap: the period is year, month or ever";
    rc->cap = (uint32_t)v;
    return NULL;
}

const char *referral_def_line(referral_config_t *rc, const char *key, const char *value,
                              unsigned line)
{
    char buf[512], *w[MAX_WORDS], *save = NULL;
    size_t n = 0;
    int64_t v;
    int have_referrer = 0, have_friend = 0;
    referral_config_t next;

    if (strcmp(key, "referral") != 0)
        return "";
    if (strlen(value) >= sizeof buf)
        return "line too long";
    strcpy(buf, value);
    for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == MAX_WORDS)
            return "too many words";
        w[n++] = t;
    }
    referral_config_default(&next);
    next.enabled = 1;
    next.line = line;
    for (size_t i = 0; i < n;) {
        const char *opt = w[i++];
        const char *a = i < n ? w[i] : NULL;
        if (strcmp(opt, "referrer_points") == 0 || strcmp(opt, "friend_points") == 0) {
            if (whole(a, 0, REFERRAL_MAX_POINTS, &v))
                return opt[0] == 'r' ? "referrer_points: expected whole points, 0..1000000000"
                                     : "friend_points: expected whole points, 0..1000000000";
            i++;
            if (opt[0] == 'r') {
                next.referrer_points = v;
                have_referrer = 1;
            } else {
                next.friend_points = v;
                have_friend = 1;
            }
        } else if (strcmp(opt, "window_days") == 0) {
            if (whole(a, 1, REFERRAL_MAX_WINDOW_DAYS, &v))
                return "window_days: expected whole days, 1..3650";
            i++;
            next.window_days = (uint32_t)v;
        } else if (strcmp(opt, "cap") == 0) {
            const char *why;
            if (i + 3 > n)
                return "cap: expected cap N per year|month|ever";
            if ((why = parse_cap(w, &i, &next)) != NULL)
                return why;
        } else {
            return "unknown option (referrer_points, friend_points, window_days, cap)";
        }
    }
    if (!have_referrer || !have_friend)
        return "expected referrer_points N friend_points M";
    *rc = next;
    return NULL;
}
