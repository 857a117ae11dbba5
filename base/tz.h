/*
 * tz.h - IANA time zones without the C library's global state.
 *
 * localtime_r and mktime read the process-wide TZ (and tzset writes it), so
 * a multi-threaded server cannot ask "what time is it in Europe/Berlin"
 * through them without races. This module reads the zone's compiled file
 * (RFC 8536 TZif, as Debian's tzdata installs under /usr/share/zoneinfo)
 * into an immutable tz_t: the transition table, the local time types, and
 * the POSIX TZ rule of its footer for instants after the last transition
 * (RFC 8536 section 3.3; "CET-1CEST,M3.5.0,M10.5.0/3"). Every query is a
 * pure function of the tz_t and the instant, safe from any thread.
 *
 * Times are unix seconds (UTC); offsets are seconds east of UTC (Berlin in
 * summer: +7200). Leap-second records (the "right/" zones) are ignored.
 *
 * Errors: 0 or a negative errno: -EINVAL a malformed name or file (not
 * TZif), -ENOENT no such zone, -ENOMEM, or another -errno from reading.
 */
#ifndef PATRON_BASE_TZ_H
#define PATRON_BASE_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 64                     /* longest zone name accepted, bytes */
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

typedef struct tz tz_t;

/* 1 if name can be a zone name: 1..TZ_NAME_MAX bytes of [A-Za-z0-9_+-/],
 * no empty, "." or ".." component, not starting with '/' (so a name never
 * leaves the zone directory). Whether the zone exists is tz_load's. */
int tz_name_valid(const char *name);

/* Parses a TZif file's bytes (versions 1..4; the 64-bit data of version 2+)
 * into *out (free with tz_free). -EINVAL when buf is not a sound TZif file
 * or its footer rule cannot be parsed. */
int tz_parse(const void *buf, size_t len, tz_t **out);

/* Reads dir/name (dir NULL: TZ_DEFAULT_DIR) and parses it. -EINVAL for a
 * name tz_name_valid refuses or a file that is not TZif (a directory such
 * as "Europe"), -ENOENT when there is no such zone. */
int tz_load(const char *dir, const char *name, tz_t **out);

void tz_free(tz_t *z); /* NULL-safe */

/* The UTC offset (seconds east) in force at instant t. */
int32_t tz_offset(const tz_t *z, int64_t t);

/* The first instant after t at which the offset differs from the one in
 * force at t; INT64_MAX when it never changes again. */
int64_t tz_next_change(const tz_t *z, int64_t t);

/*
 * A cache of loaded zones for a process that looks zones up by name on
 * every request: each distinct name is read once and kept until
 * tz_cache_free (there are some 600 zone names, so it is bounded). The
 * zones it returns are immutable and valid until tz_cache_free. Thread-safe
 * (a mutex around the lookup; the zones themselves need none).
 */
typedef struct tz_cache tz_cache_t;

/* A cache reading zones from dir (NULL: TZ_DEFAULT_DIR; copied). NULL when
 * out of memory. */
tz_cache_t *tz_cache_new(const char *dir);
void tz_cache_free(tz_cache_t *c); /* NULL-safe */

/* The zone named name, loaded on first use (errors as tz_load; a failed
 * name is not remembered). *out is borrowed from the cache. */
int tz_cache_get(tz_cache_t *c, const char *name, const tz_t **out);

#endif
