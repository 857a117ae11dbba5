/*
 * test_base_civil.c - Gregorian day numbers (base/civil.h): known dates,
 * leap rules, round trips over five centuries, weekdays.
 */
#include "testutil.h"

#include "civil.h"

static void test_known_days(void)
{
    CHECK_EQ_INT(civil_to_days(1970, 1, 1), 0);
    CHECK_EQ_INT(civil_to_days(1969, 12, 31), -1);
    CHECK_EQ_INT(civil_to_days(2000, 3, 1), 11017);
    CHECK_EQ_INT(civil_to_days(2000, 2, 29), 11016);  /* 400-year leap */
    CHECK_EQ_INT(civil_to_days(2024, 2, 29), 19782);
    CHECK_EQ_INT(civil_to_days(2100, 3, 1) - civil_to_days(2100, 2, 28), 1);
    CHECK_EQ_INT(civil_to_days(1600, 1, 1), -135140);
}

static void test_leap_rules(void)
{
    CHECK(civil_is_leap(2000));
    CHECK(civil_is_leap(2024));
    CHECK(!civil_is_leap(1900));
    CHECK(!civil_is_leap(2100));
    CHECK(!civil_is_leap(2023));
    CHECK_EQ_INT(civil_days_in_month(2024, 2), 29);
    CHECK_EQ_INT(civil_days_in_month(2100, 2), 28);
    CHECK_EQ_INT(civil_days_in_month(2023, 12), 31);
    CHECK_EQ_INT(civil_days_in_month(2023, 4), 30);
    CHECK_EQ_INT(civil_days_in_month(2023, 0), 0);
    CHECK_EQ_INT(civil_days_in_month(2023, 13), 0);
}

/* Every day from 1800 to 2300 maps to a valid date that maps back, dates
 * are consecutive, and year lengths follow the leap rule. */
static void test_round_trip(void)
{
    int64_t first = civil_to_days(1800, 1, 1), last = civil_to_days(2300, 1, 1);
    int64_t py = 1799;
    unsigned pm = 12, pd = 31;
    long bad = 0;
    for (int64_t day = first; day < last; day++) {
        int64_t y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        bad += civil_to_days(y, m, d) != day;
        bad += m < 1 || m > 12 || d < 1 || d > civil_days_in_month(y, m);
        int next_ok = (y == py && m == pm && d == pd + 1) ||
                      (y == py && m == pm + 1 && d == 1 &&
                       pd == civil_days_in_month(py, pm)) ||
                      (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        bad += !next_ok;
        py = y, pm = m, pd = d;
    }
    CHECK_EQ_INT(bad, 0);
    for (int64_t y = 1800; y < 2300; y++)
        bad += civil_to_days(y + 1, 1, 1) - civil_to_days(y, 1, 1) !=
               (civil_is_leap(y) ? 366 : 365);
    CHECK_EQ_INT(bad, 0);
}

static void test_weekday_and_ms(void)
{
    CHECK_EQ_INT(civil_weekday(0), 4);                          /* Thursday */
    CHECK_EQ_INT(civil_weekday(civil_to_days(2000, 1, 1)), 6);  /* Saturday */
    CHECK_EQ_INT(civil_weekday(civil_to_days(2026, 12, 6)), 0); /* Sunday */
    CHECK_EQ_INT(civil_weekday(-1), 3);
    CHECK_EQ_INT(civil_day_of_ms(0), 0);
    CHECK_EQ_INT(civil_day_of_ms(CIVIL_DAY_MS - 1), 0);
    CHECK_EQ_INT(civil_day_of_ms(CIVIL_DAY_MS), 1);
    CHECK_EQ_INT(civil_day_of_ms(-1), -1);
    CHECK_EQ_INT(civil_day_of_ms(-CIVIL_DAY_MS), -1);
    CHECK_EQ_INT(civil_day_of_ms(-CIVIL_DAY_MS - 1), -2);
}

/* The first day of a period, as civil_period_bounds gives it (ms). */
static int64_t start_day(civil_period_t p, int64_t day)
{
    int64_t a = -1, b = -1;
    CHECK_EQ_INT(civil_period_bounds(p, day * CIVIL_DAY_MS + 1, &a, &b), 0);
    return a / CIVIL_DAY_MS;
}

/* The first day of the year, month and week (Monday) holding a day. */
static void test_period_starts(void)
{
    int64_t d = civil_to_days(2024, 2, 29), bad = 0;
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_YEAR, d), civil_to_days(2024, 1, 1));
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_MONTH, d), civil_to_days(2024, 2, 1));
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_WEEK, d), civil_to_days(2024, 2, 26)); /* a Monday */
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_WEEK, civil_to_days(2024, 2, 26)),
                 civil_to_days(2024, 2, 26));
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_WEEK, civil_to_days(2024, 3, 3)),
                 civil_to_days(2024, 2, 26));
    CHECK_EQ_INT(start_day(CIVIL_PERIOD_YEAR, -1), civil_to_days(1969, 1, 1));
    for (int64_t x = civil_to_days(1999, 1, 1); x < civil_to_days(2031, 1, 1); x++) {
        int64_t y, wk = start_day(CIVIL_PERIOD_WEEK, x);
        unsigned m, dd;
        civil_from_days(x, &y, &m, &dd);
        bad += start_day(CIVIL_PERIOD_MONTH, x) != civil_to_days(y, m, 1) ||
               start_day(CIVIL_PERIOD_YEAR, x) != civil_to_days(y, 1, 1) ||
               civil_weekday(wk) != 1 || x - wk > 6;
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    test_known_days();
    test_leap_rules();
    test_round_trip();
    test_weekday_and_ms();
    test_period_starts();
    return test_failures ? 1 : 0;
}
