/*
 * clitime.c - ISO 8601 times in and out of `patron` (clitime.h).
 */
#include "clitime.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "csv.h"

const char *cli_time_format(int64_t unix_ms, char buf[CLI_TIME_CAP])
{
    int64_t day = civil_day_of_ms(unix_ms), y;
    int64_t in_day = unix_ms - day * CIVIL_DAY_MS;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(buf, CLI_TIME_CAP, "ms %lld", (long long)unix_ms);
        return buf;
    }
    int n = snprintf(buf, CLI_TIME_CAP, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", (long long)y,
                     m, d, (long long)(in_day / 3600000), (long long)(in_day / 60000 % 60),
                     (long long)(in_day / 1000 % 60));
    if (in_day % 1000)
        n += snprintf(buf + n, (size_t)(CLI_TIME_CAP - n), ".%03lld", (long long)(in_day % 1000));
    snprintf(buf + n, (size_t)(CLI_TIME_CAP - n), "Z");
    return buf;
}

int cli_parse_time(void *dest, const char *value)
{
    int64_t ms;

    if (value[0] && strspn(value, "0123456789") == strlen(value)) {
        if (csv_parse_i64(value, &ms) == 0) {
            *(long long *)dest = ms;
            return 0;
        }
    } else if (csv_parse_time_ms(value, &ms) == 0) {
        *(long long *)dest = ms;
        return 0;
    }
    fprintf(stderr, "patron: expected a time as ISO 8601 (2026-12-04T17:00:00Z) or unix "
                    "milliseconds, got \"%s\"\n", value);
    return -1;
}
