/*
 * mission_def.h - the missions an operator writes in the profile settings
 * file (profile_file.h; `patron help formats` documents the line,
 * README.md shows an example):
 *
 *   mission = NAME TYPE KIND N OPTION...
 *
 * A mission is a task a customer completes with events of one type
 * (store_event_type_name: check_in, purchase, review, share, ...):
 *   streak_days N          N consecutive UTC days with such an event
 *   distinct_categories N  such events on items of N distinct catalog
 *                          categories within the period
 *   count N                N such events within the period
 * and the options (each at most once):
 *   reward_points P        P points when completed (required, 1..10^9)
 *   period PERIOD          once (the default), week, month or year: the
 *   (or repeat PERIOD)     mission can be completed once per UTC calendar
 *                          period (weeks from Monday); weekly, monthly and
 *                          yearly are accepted too
 *
 * Only the definitions and their parsing live here (profile_config_t holds
 * a missions_config_t); what a history completes is missions.h. Pure: no
 * I/O, no global state.
 */
#ifndef PATRON_RECSYS_MISSION_DEF_H
#define PATRON_RECSYS_MISSION_DEF_H

#include <stddef.h>
#include <stdint.h>

#include "civil.h"

#define MISSIONS_MAX 16
#define MISSION_NAME_MAX 32           /* incl. the NUL */
#define MISSION_MAX_STREAK 366        /* days */
#define MISSION_MAX_CATEGORIES 32
#define MISSION_MAX_COUNT 10000
#define MISSION_MAX_REWARD 1000000000

typedef enum mission_kind {
    MISSION_STREAK_DAYS = 1,
    MISSION_DISTINCT_CATEGORIES = 2,
    MISSION_COUNT = 3,
} mission_kind_t;

typedef struct mission_def {
    char name[MISSION_NAME_MAX];  /* 1..31 of [A-Za-z0-9_.-], unique */
    int type;                     /* store_event_type_t, not refund */
    mission_kind_t kind;
    uint32_t target;              /* N: 1..the kind's maximum above */
    civil_period_t period;        /* [once] */
    int64_t reward_points;        /* > 0 */
    unsigned line;                /* of the settings file */
} mission_def_t;

typedef struct missions_config {
    size_t n;                     /* [0] */
    mission_def_t m[MISSIONS_MAX];
} missions_config_t;

/* "streak_days", "distinct_categories", "count"; NULL outside the enum. */
const char *mission_kind_name(mission_kind_t k);

/* "once", "year", "month", "week"; NULL outside the enum. */
const char *mission_period_name(civil_period_t p);

/*
 * One settings line: key "mission" (value trimmed; line is the file's
 * line number). Returns NULL when applied (a bad line leaves mc as it
 * was), "" when key is not "mission", else what is wrong, naming the word:
 * a static string or one written to buf (cap bytes).
 */
const char *mission_def_line(missions_config_t *mc, const char *key, const char *value,
                             unsigned line, char *buf, size_t cap);

#endif
