/*
 * civil.h - the proleptic Gregorian calendar as days since 1970-01-01
 * (Howard Hinnant's days_from_civil / civil_from_days,
 * http://howardhinnant.github.io/date_algorithms.html). Exact over the whole
 * int64 range of years the callers use; no time zones, no tables.
 */
#ifndef PATRON_BASE_CIVIL_H
#define PATRON_BASE_CIVIL_H

#include <stdint.h>

#define CIVIL_DAY_MS 86400000LL

/* Days since 1970-01-01 of y-m-d (month 1..12, day 1..31; not
 * range-checked: use civil_days_in_month to validate). */
int64_t civil_to_days(int64_t y, unsigned m, unsigned d);

/* Inverse of civil_to_days. */
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* 1 if y is a Gregorian leap year. */
int civil_is_leap(int64_t y);

/* Days in month m (1..12) of year y; 0 if m is out of range. */
unsigned civil_days_in_month(int64_t y, unsigned m);

/* Day of the week of a day number, as struct tm's tm_wday: 0 = Sunday ..
 * 6 = Saturday. */
unsigned civil_weekday(int64_t days);

/* Floor division of unix milliseconds into a day number (negative times
 * round down, so 1969-12-31T23:59 is day -1). */
int64_t civil_day_of_ms(int64_t unix_ms);

/* Calendar periods in UTC, for things granted or counted once per period
 * (guaranteed coupons, missions). */
typedef enum civil_period {
    CIVIL_PERIOD_ONCE = 0,   /* all time */
    CIVIL_PERIOD_YEAR = 1,   /* a calendar year */
    CIVIL_PERIOD_MONTH = 2,  /* a calendar month */
    CIVIL_PERIOD_WEEK = 3,   /* Monday 00:00 to the next Monday */
} civil_period_t;

/* The period p containing unix_ms, [*start_ms, *end_ms); ONCE is
 * [0, INT64_MAX). Returns 0, or -1 for a value outside the enum. */
int civil_period_bounds(civil_period_t p, int64_t unix_ms, int64_t *start_ms,
                        int64_t *end_ms);

#endif
