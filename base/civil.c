/*
 * civil.c - Gregorian calendar arithmetic (contract in civil.h).
 */
#include "civil.h"

int64_t civil_to_days(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;      /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int civil_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned civil_days_in_month(int64_t y, unsigned m)
{
    static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && civil_is_leap(y) ? 29 : mdays[m - 1];
}

unsigned civil_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (unsigned)(w < 0 ? w + 7 : w);
}

int64_t civil_day_of_ms(int64_t unix_ms)
{
    int64_t d = unix_ms / CIVIL_DAY_MS;
    return unix_ms % CIVIL_DAY_MS < 0 ? d - 1 : d;
}

/* The Monday of the week holding day. */
static int64_t civil_week_start(int64_t day)
{
    return day - (int64_t)((civil_weekday(day) + 6) % 7);
}

int civil_period_bounds(civil_period_t p, int64_t unix_ms, int64_t *start_ms,
                        int64_t *end_ms)
{
    int64_t day = civil_day_of_ms(unix_ms), y, a, b;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    switch (p) {
    case CIVIL_PERIOD_ONCE:
        *start_ms = 0;
        *end_ms = INT64_MAX;
        return 0;
    case CIVIL_PERIOD_YEAR:
        a = civil_to_days(y, 1, 1);
        b = civil_to_days(y + 1, 1, 1);
        break;
    case CIVIL_PERIOD_MONTH:
        a = civil_to_days(y, m, 1);
        b = m == 12 ? civil_to_days(y + 1, 1, 1) : civil_to_days(y, m + 1, 1);
        break;
    case CIVIL_PERIOD_WEEK:
        a = civil_week_start(day);
        b = a + 7;
        break;
    default:
        return -1;
    }
    *start_ms = a * CIVIL_DAY_MS;
    *end_ms = b * CIVIL_DAY_MS;
    return 0;
}
