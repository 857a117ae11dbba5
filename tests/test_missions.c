/*
 * test_missions.c - missions (missions.h, mission_def.h) with exact
 * arithmetic: a check-in streak broken and restarted, streaks across a
 * UTC month boundary, completing again in the next period, weekly counts
 * with ISO week sources, distinct categories with refunds before and after
 * completion, the progress sentences, and the settings line with its
 * errors naming file and line. The reward rows in the points ledger are
 * tested in test_points.c (test_missions_ledger).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "missions.h"
#include "settings_testutil.h"
#include "testutil.h"

#define DAY CIVIL_DAY_MS
#define HOUR 3600000LL
#define MAX_EV 64
#define NOON(y, m, d) (civil_to_days(y, m, d) * DAY + 12 * HOUR)

/* Items: 0 and 4 shoes (category 0), 1 a book (1), 2 garden (2), 3 none. */
static const uint32_t item_category[] = { 0, 1, 2, UINT32_MAX, 0 };
static const char *const category_names[] = { "Shoes", "Books", "Garden" };

typedef struct hist {
    store_event_rec_t ev[MAX_EV];
    size_t n;
} hist_t;

static size_t add(hist_t *h, int type, uint32_t item, int64_t t, int32_t qty)
{
    size_t i = h->n++;
    if (i >= MAX_EV)
        exit(2);
    h->ev[i] = (store_event_rec_t){ .item = item, .type = (uint8_t)type, .quantity = qty,
                                    .time_ms = t, .unit_price = 10.0, .seq = i };
    return i;
}

static void config(profile_config_t *cfg, const char *lines)
{
    settings_load_ok("missions", lines, cfg);
}

static void compute(const hist_t *h, const profile_config_t *cfg, int64_t now,
                    missions_result_t *r)
{
    CHECK_EQ_INT(missions_compute(h->ev, h->n, item_category, 5, &cfg->missions, now, r), 0);
}

static void expect_text(const profile_config_t *cfg, const missions_result_t *r, size_t k,
                        const char *want)
{
    char buf[256];
    CHECK_STREQ(missions_progress_text(&cfg->missions.m[k], &r->progress[k], category_names,
                                       3, buf, sizeof buf), want);
}

static void expect_done(const missions_result_t *r, size_t j, int mission, size_t ev,
                        int64_t t, int64_t points, const char *source)
{
    CHECK(j < r->n_done);
    if (j >= r->n_done)
        return;
    CHECK_EQ_INT(r->done[j].mission, mission);
    CHECK_EQ_INT((long long)r->done[j].ev, (long long)ev);
    CHECK_EQ_INT(r->done[j].time_ms, t);
    CHECK_EQ_INT(r->done[j].points, points);
    CHECK_STREQ(r->done[j].source, source);
}

/* Jan 1-3, a missed day, Jan 5-11: the run restarts and completes on the
 * 11th; a second check-in on a day counts once. */
static void test_streak_broken(void)
{
    profile_config_t cfg;
    missions_result_t r;
    hist_t h = { .n = 0 };
    config(&cfg, "mission = streak7 check_in streak_days 7 reward_points 100\n");
    for (unsigned d = 1; d <= 3; d++)
        add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, NOON(2026, 1, d), 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, NOON(2026, 1, 3) + 6 * HOUR, 0);
    for (unsigned d = 5; d <= 11; d++)
        add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, NOON(2026, 1, d), 0);

    compute(&h, &cfg, NOON(2026, 1, 3) + 11 * HOUR, &r);
    CHECK_EQ_INT(r.progress[0].progress, 3);
    CHECK_EQ_INT(r.n_done, 0);
    expect_text(&cfg, &r, 0, "3/7 days in a row");
    missions_result_free(&r);

    /* Jan 4 passed without a check-in: the run is broken. */
    compute(&h, &cfg, civil_to_days(2026, 1, 5) * DAY + HOUR, &r);
    CHECK_EQ_INT(r.progress[0].progress, 0);
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 1, 10) + HOUR, &r);
    CHECK_EQ_INT(r.progress[0].progress, 6);
    CHECK_EQ_INT(r.progress[0].completed, 0);
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 1, 20), &r);
    CHECK_EQ_INT(r.n_done, 1);
    expect_done(&r, 0, 0, 10, NOON(2026, 1, 11), 100, "streak7:once");
    CHECK_EQ_INT(r.progress[0].completed, 1);
    CHECK_EQ_INT(r.progress[0].completed_ms, NOON(2026, 1, 11));
    CHECK_EQ_INT(r.progress[0].completions, 1);
    CHECK_EQ_INT(r.progress[0].period_start_ms, 0);
    CHECK(r.progress[0].period_end_ms == INT64_MAX);
    expect_text(&cfg, &r, 0, "completed on 2026-01-11");
    missions_result_free(&r);
}

/* Jan 30, Jan 31 23:59:59.999 and Feb 1 00:00 are three UTC days in a
 * row: completed in February. Daily check-ins after that complete it
 * again at the first check-in of March, not twice in February. */
static void test_streak_months(void)
{
    profile_config_t cfg;
    missions_result_t r;
    hist_t h = { .n = 0 };
    int64_t feb1 = civil_to_days(2026, 2, 1) * DAY;
    size_t mar1 = 0;
    config(&cfg, "mission = streak3 check_in streak_days 3 reward_points 10 repeat monthly\n");
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, NOON(2026, 1, 30), 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, feb1 - 1, 0);
    add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, feb1, 0);
    for (int64_t day = civil_to_days(2026, 2, 2); day <= civil_to_days(2026, 3, 2); day++) {
        size_t i = add(&h, STORE_EVENT_CHECK_IN, STORE_NO_ITEM, day * DAY + 12 * HOUR, 0);
        if (day == civil_to_days(2026, 3, 1))
            mar1 = i;
    }

    compute(&h, &cfg, feb1 - 1, &r);
    CHECK_EQ_INT(r.n_done, 0);
    CHECK_EQ_INT(r.progress[0].progress, 2);
    expect_text(&cfg, &r, 0, "2/3 days in a row (this month, through 2026-01-31)");
    missions_result_free(&r);

    compute(&h, &cfg, feb1 + HOUR, &r);
    CHECK_EQ_INT(r.n_done, 1);
    expect_done(&r, 0, 0, 2, feb1, 10, "streak3:2026-02");
    CHECK_EQ_INT(r.progress[0].period_start_ms, feb1);
    CHECK_EQ_INT(r.progress[0].period_end_ms, civil_to_days(2026, 3, 1) * DAY);
    expect_text(&cfg, &r, 0, "completed on 2026-02-01; again from 2026-03-01");
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 3, 2) + HOUR, &r);
    CHECK_EQ_INT(r.n_done, 2);
    expect_done(&r, 1, 0, mar1, NOON(2026, 3, 1), 10, "streak3:2026-03");
    CHECK_EQ_INT(r.progress[0].completions, 2);
    CHECK_EQ_INT(r.progress[0].completed, 1);
    CHECK_EQ_INT(r.progress[0].progress, 3); /* done this period: the target */
    missions_result_free(&r);

    /* April: no check-in yet, nothing completed this period. */
    compute(&h, &cfg, NOON(2026, 4, 2), &r);
    CHECK_EQ_INT(r.progress[0].completed, 0);
    CHECK_EQ_INT(r.progress[0].progress, 0);
    CHECK_EQ_INT(r.progress[0].completions, 2);
    missions_result_free(&r);
}

/* Two reviews a week: the ISO week of 2026-01-01 is 2026-W01 (Monday
 * 2025-12-29); the third review that week counts for nothing; Monday
 * 00:00 starts the next week. A `once` count completes once ever. */
static void test_count_weekly_and_once(void)
{
    profile_config_t cfg;
    missions_result_t r;
    hist_t h = { .n = 0 };
    int64_t mon = civil_to_days(2026, 1, 5) * DAY;
    config(&cfg, "mission = critic review count 2 period week reward_points 50\n"
                 "mission = first review count 1 reward_points 5\n");
    add(&h, STORE_EVENT_REVIEW, 0, NOON(2025, 12, 29), 0);
    add(&h, STORE_EVENT_REVIEW, 0, NOON(2026, 1, 1), 0);
    add(&h, STORE_EVENT_REVIEW, 0, mon - 1, 0);
    add(&h, STORE_EVENT_REVIEW, 0, mon, 0);
    add(&h, STORE_EVENT_SHARE, 0, mon + HOUR, 0);

    compute(&h, &cfg, mon + 2 * HOUR, &r);
    CHECK_EQ_INT(r.n_done, 2);
    expect_done(&r, 0, 1, 0, NOON(2025, 12, 29), 5, "first:once");
    expect_done(&r, 1, 0, 1, NOON(2026, 1, 1), 50, "critic:2026-W01");
    CHECK_EQ_INT(r.progress[0].progress, 1);
    CHECK_EQ_INT(r.progress[0].completed, 0);
    CHECK_EQ_INT(r.progress[0].period_start_ms, mon);
    CHECK_EQ_INT(r.progress[0].period_end_ms, mon + 7 * DAY);
    expect_text(&cfg, &r, 0, "1/2 review events (this week, through 2026-01-11)");
    CHECK_EQ_INT(r.progress[1].completions, 1);
    missions_result_free(&r);
}

/* Categories count per month; a purchase refunded whole stops counting
 * (its category too, unless another purchase of the month has it); a
 * partial refund does not; a refund after completion changes nothing. */
static void test_distinct_categories(void)
{
    profile_config_t cfg;
    missions_result_t r;
    hist_t h = { .n = 0 };
    config(&cfg, "mission = explorer purchase distinct_categories 3 period month "
                 "reward_points 150\n");
    add(&h, STORE_EVENT_PURCHASE, 0, NOON(2026, 1, 3), 1);  /* shoes */
    add(&h, STORE_EVENT_PURCHASE, 4, NOON(2026, 1, 4), 1);  /* shoes again */
    add(&h, STORE_EVENT_PURCHASE, 3, NOON(2026, 1, 5), 1);  /* no category */
    add(&h, STORE_EVENT_PURCHASE, 1, NOON(2026, 1, 6), 1);  /* a book */
    add(&h, STORE_EVENT_REFUND, 1, NOON(2026, 1, 7), 1);    /* the book, whole */
    add(&h, STORE_EVENT_REFUND, 0, NOON(2026, 1, 8), 1);    /* one pair of shoes */
    add(&h, STORE_EVENT_PURCHASE, 2, NOON(2026, 1, 31), 1); /* garden */
    add(&h, STORE_EVENT_PURCHASE, 1, NOON(2026, 2, 1), 2);  /* two books */
    add(&h, STORE_EVENT_REFUND, 1, NOON(2026, 2, 2), 1);    /* one of them */
    add(&h, STORE_EVENT_PURCHASE, 0, NOON(2026, 2, 3), 1);  /* shoes */
    add(&h, STORE_EVENT_PURCHASE, 2, NOON(2026, 2, 4), 1);  /* garden: the third */
    add(&h, STORE_EVENT_REFUND, 2, NOON(2026, 2, 5), 1);    /* after completion */

    compute(&h, &cfg, NOON(2026, 1, 6) + HOUR, &r);
    CHECK_EQ_INT(r.progress[0].progress, 2);
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 1, 31) + HOUR, &r);
    CHECK_EQ_INT(r.n_done, 0);
    CHECK_EQ_INT(r.progress[0].progress, 2);
    CHECK_EQ_INT((long long)r.progress[0].n_categories, 2);
    CHECK_EQ_INT(r.progress[0].categories[0], 0);
    CHECK_EQ_INT(r.progress[0].categories[1], 2);
    expect_text(&cfg, &r, 0, "2/3 categories: Shoes, Garden (this month, through 2026-01-31)");
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 2, 2) + HOUR, &r);
    CHECK_EQ_INT(r.progress[0].progress, 1);
    CHECK_EQ_INT(r.progress[0].categories[0], 1);
    missions_result_free(&r);

    compute(&h, &cfg, NOON(2026, 2, 6), &r);
    CHECK_EQ_INT(r.n_done, 1);
    expect_done(&r, 0, 0, 10, NOON(2026, 2, 4), 150, "explorer:2026-02");
    CHECK_EQ_INT(r.progress[0].completed, 1);
    CHECK_EQ_INT(r.progress[0].progress, 3);
    CHECK_EQ_INT((long long)r.progress[0].n_categories, 3);
    CHECK_EQ_INT(r.progress[0].categories[2], 2);
    missions_result_free(&r);

    /* Without a catalog no event has a category. */
    CHECK_EQ_INT(missions_compute(h.ev, h.n, NULL, 0, &cfg.missions, NOON(2026, 3, 1), &r), 0);
    CHECK_EQ_INT(r.n_done, 0);
    missions_result_free(&r);
}

static void expect_load_error(const char *text, const char *want)
{
    settings_load_refused("missions", text, want);
}

static void test_settings(void)
{
    profile_config_t cfg;
    config(&cfg, "mission = streak7   check_in streak_days 7 reward_points 100 repeat monthly\n"
                 "mission = explorer  purchase distinct_categories 3 period month "
                 "reward_points 150\n"
                 "mission = critic    review count 2 period month reward_points 50\n"
                 "mission = yearly.share share count 1 reward_points 1 repeat yearly\n");
    CHECK_EQ_INT((long long)cfg.missions.n, 4);
    CHECK_STREQ(cfg.missions.m[0].name, "streak7");
    CHECK_EQ_INT(cfg.missions.m[0].kind, MISSION_STREAK_DAYS);
    CHECK_EQ_INT(cfg.missions.m[0].type, STORE_EVENT_CHECK_IN);
    CHECK_EQ_INT(cfg.missions.m[0].target, 7);
    CHECK_EQ_INT(cfg.missions.m[0].period, CIVIL_PERIOD_MONTH);
    CHECK_EQ_INT(cfg.missions.m[0].reward_points, 100);
    CHECK_EQ_INT(cfg.missions.m[0].line, 1);
    CHECK_EQ_INT(cfg.missions.m[1].kind, MISSION_DISTINCT_CATEGORIES);
    CHECK_EQ_INT(cfg.missions.m[2].kind, MISSION_COUNT);
    CHECK_EQ_INT(cfg.missions.m[2].line, 3);
    CHECK_EQ_INT(cfg.missions.m[3].period, CIVIL_PERIOD_YEAR);
    config(&cfg, "mission = m review count 1 reward_points 1\n");
    CHECK_EQ_INT(cfg.missions.m[0].period, CIVIL_PERIOD_ONCE);

    expect_load_error("\n\nmission = m review count 2\n", ":3: mission: reward_points: required");
    expect_load_error("mission = m review count 2 reward_points 0\n", ":1: mission: reward_points:");
    expect_load_error("mission = m review count 2 reward_points 5 reward_points 5\n",
                      "reward_points: given twice");
    expect_load_error("mission = m review streak 2 reward_points 5\n", "mission: KIND:");
    expect_load_error("mission = m review count 0 reward_points 5\n", "count: expected");
    expect_load_error("mission = m check_in streak_days 400 reward_points 5\n",
                      "streak_days: expected a whole number, 1..366");
    expect_load_error("mission = m purchase distinct_categories 2.5 reward_points 5\n",
                      "distinct_categories:");
    expect_load_error("mission = m review count 2 reward_points 5 period daily\n",
                      "period: expected once, week, month or year");
    expect_load_error("mission = m review count 2 reward_points 5 repeat\n", "repeat:");
    expect_load_error("mission = m review count 2 reward_points 5 period week repeat monthly\n",
                      "period: given twice");
    expect_load_error("mission = m review count 2 reward_points 5 bonus 3\n",
                      "unknown option \"bonus\"");
    expect_load_error("mission = m refund count 2 reward_points 5\n", "TYPE:");
    expect_load_error("mission = m reviews count 2 reward_points 5\n", "TYPE:");
    expect_load_error("mission = m review\n", "expected NAME TYPE KIND N");
    expect_load_error("mission = a/b review count 1 reward_points 5\n", "NAME");
    expect_load_error("mission = m review count 1 reward_points 5\n"
                      "mission = m share count 1 reward_points 5\n",
                      ":2: mission: NAME: a mission of that name exists");
}

int main(void)
{
    test_streak_broken();
    test_streak_months();
    test_count_weekly_and_once();
    test_distinct_categories();
    test_settings();
    TEST_MAIN_END();
}
