/*
 * clitime.h - times on `patron`'s command line: every flag taking a point
 * in time accepts ISO 8601 ("2026-12-04T17:00:00Z", a space for the 'T',
 * fractional seconds, "+HH:MM" offsets; no zone is UTC) or unix
 * milliseconds (all digits), and every time the CLI prints is ISO 8601 UTC
 * ("2026-12-04T17:00:00Z", with ".mmm" only when the milliseconds are not
 * zero). Pure functions, thread-safe.
 */
#ifndef PATRON_SERVER_CLITIME_H
#define PATRON_SERVER_CLITIME_H

#include <stddef.h>
#include <stdint.h>

#include "cliopt.h"

/* Room for any time cli_time_format writes ("-292277026-..." never
 * happens: years 0..9999 are 4 digits, others are clamped to the range). */
#define CLI_TIME_CAP 32

/* Formats unix_ms into buf (CLI_TIME_CAP bytes) as ISO 8601 UTC and
 * returns buf. Times before year 0 or after 9999 are printed as the unix
 * milliseconds in decimal ("ms 123"), never a malformed date. */
const char *cli_time_format(int64_t unix_ms, char buf[CLI_TIME_CAP]);

/* CLI_KIND_CALL parser: the long long at dest gets the unix milliseconds
 * of value (ISO 8601 or unix ms, see above); -1 after printing why. */
int cli_parse_time(void *dest, const char *value);

/* A time flag into the long long at d. */
#define CLI_TIME(n, h, d) CLI_CALL((n), "TIME", (h), cli_parse_time, (d))

#endif
