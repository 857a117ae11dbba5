/*
 * mission_def.c - parsing the mission settings line (mission_def.h): the
 * name, event type, kind and target, then the options; the mission is
 * checked whole before it is kept.
 */
#include "mission_def.h"

#include <stdio.h>
#include <string.h>

#include "setting_words.h"
#include "store.h"

const char *mission_kind_name(mission_kind_t k)
{
    switch (k) {
    case MISSION_STREAK_DAYS: return "streak_days";
    case MISSION_DISTINCT_CATEGORIES: return "distinct_categories";
    case MISSION_COUNT: return "count";
    }
    return NULL;
}

const char *mission_period_name(civil_period_t p)
{
    switch (p) {
    case CIVIL_PERIOD_ONCE: return "once";
    case CIVIL_PERIOD_YEAR: return "year";
    case CIVIL_PERIOD_MONTH: return "month";
    case CIVIL_PERIOD_WEEK: return "week";
    }
    return NULL;
}

static const struct {
    const char *word;
    mission_kind_t kind;
    uint32_t max;
} kinds[] = {
    { "streak_days", MISSION_STREAK_DAYS, MISSION_MAX_STREAK },
    { "distinct_categories", MISSION_DISTINCT_CATEGORIES, MISSION_MAX_CATEGORIES },
    { "count", MISSION_COUNT, MISSION_MAX_COUNT },
};

static const struct {
    const char *word;
    civil_period_t period;
} periods[] = {
    { "once", CIVIL_PERIOD_ONCE },   { "week", CIVIL_PERIOD_WEEK },
    { "weekly", CIVIL_PERIOD_WEEK }, { "month", CIVIL_PERIOD_MONTH },
    { "monthly", CIVIL_PERIOD_MONTH }, { "year", CIVIL_PERIOD_YEAR },
    { "yearly", CIVIL_PERIOD_YEAR },
};

/* KIND N at t->tok[2], t->tok[3]. */
static const char *parse_kind(mission_def_t *m, const words_t *t, char *buf, size_t cap)
{
    double v;
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(t->tok[2], kinds[k].word) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return "KIND: expected streak_days, distinct_categories or count";
    if (words_number(t->tok[3], 1, kinds[k].max, 1, &v)) {
        snprintf(buf, cap, "%s: expected a whole number, 1..%u", kinds[k].word, kinds[k].max);
        return buf;
    }
    m->kind = kinds[k].kind;
    m->target = (uint32_t)v;
    return NULL;
}

static const char *parse_period(mission_def_t *m, const char *word, const char *a)
{
    for (size_t k = 0; a && k < sizeof periods / sizeof periods[0]; k++) {
        if (strcmp(a, periods[k].word) == 0) {
            m->period = periods[k].period;
            return NULL;
        }
    }
    return strcmp(word, "repeat") == 0
               ? "repeat: expected once, weekly, monthly or yearly"
               : "period: expected once, week, month or year";
}

/* Options from t->tok[4]. */
static const char *parse_options(mission_def_t *m, const words_t *t, char *buf, size_t cap)
{
    int seen_reward = 0, seen_period = 0;
    double v;
    for (size_t i = 4; i < t->n;) {
        const char *word = t->tok[i++], *a = i < t->n ? t->tok[i++] : NULL, *why;
        if (strcmp(word, "reward_points") == 0) {
            if (seen_reward++)
                return "reward_points: given twice";
            if (!a || words_number(a, 1, MISSION_MAX_REWARD, 1, &v))
                return "reward_points: expected whole points, 1..1000000000";
            m->reward_points = (int64_t)v;
        } else if (strcmp(word, "period") == 0 || strcmp(word, "repeat") == 0) {
            if (seen_period++)
                return "period: given twice (repeat is the same option)";
            if ((why = parse_period(m, word, a)) != NULL)
                return why;
        } else {
            snprintf(buf, cap, "unknown option \"%.40s\" (expected reward_points, period "
                     "or repeat)", word);
            return buf;
        }
    }
    return seen_reward ? NULL : "reward_points: required";
}

const char *mission_def_line(missions_config_t *mc, const char *key, const char *value,
                             unsigned line, char *buf, size_t cap)
{
    words_t t;
    mission_def_t m;
    const char *why;

    if (strcmp(key, "mission") != 0)
        return "";
    if ((why = words_split(value, &t)) != NULL)
        return why;
    if (t.n < 4 || !words_name_ok(t.tok[0], MISSION_NAME_MAX))
        return "expected NAME TYPE KIND N OPTION... (NAME: 1..31 of A-Z a-z 0-9 _ . -)";
    for (size_t k = 0; k < mc->n; k++)
        if (strcmp(mc->m[k].name, t.tok[0]) == 0)
            return "NAME: a mission of that name exists";
    if (mc->n == MISSIONS_MAX)
        return "too many missions (at most 16)";
    memset(&m, 0, sizeof m);
    strcpy(m.name, t.tok[0]);
    m.line = line;
    m.period = CIVIL_PERIOD_ONCE;
    m.type = store_event_type_parse(t.tok[1]);
    if (m.type < 0 || m.type == STORE_EVENT_REFUND)
        return "TYPE: expected an event type (check_in, purchase, review, share, signup, "
               "referral_signup, survey, view, cart, not_interested); not refund";
    if ((why = parse_kind(&m, &t, buf, cap)) != NULL ||
        (why = parse_options(&m, &t, buf, cap)) != NULL)
        return why;
    mc->m[mc->n++] = m;
    return NULL;
}
