/*
 * log.h - the one place server programs write diagnostics: one line per
 * event to stderr, in one of two formats chosen at start (--log-format):
 *
 *   text  2026-11-25T18:00:00.123Z patrond LEVEL message key=value ...
 *   json  {"ts":"2026-11-25T18:00:00.123Z","level":"info","msg":"...",
 *          "key":"value",...}
 *
 * JSON lines are built with json-c, so quotes, backslashes, newlines and
 * control characters in a message or field are escaped; bytes that are not
 * UTF-8 become '?' in both formats, and text lines get control characters
 * as spaces, so either format is exactly one line per event. gRPC core's
 * own messages come through here too (log_route_grpc).
 *
 * The format is process-wide state (one stderr per process): set it once
 * in main before any thread starts. plog and plog_fields may then be
 * called from any thread; each line is written with one stdio call, so
 * lines of concurrent threads do not interleave.
 *
 * Never pass customer data (ids, events) to it.
 */
#ifndef PATRON_SERVER_LOG_H
#define PATRON_SERVER_LOG_H

#include <stddef.h>
#include <time.h>

#define LOG_DEBUG "debug"
#define LOG_INFO "info"
#define LOG_WARN "warn"
#define LOG_ERROR "error"

typedef enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON,
} log_format_t;

/* A structured field: a string (NULL is written as ""), an integer, or a
 * number given as its decimal text (written unquoted, e.g. "12.345"). */
enum { LOG_FIELD_STR = 0, LOG_FIELD_INT, LOG_FIELD_REAL };
typedef struct log_field {
    const char *key;          /* a fixed name: not escaped in text lines */
    const char *str;          /* LOG_FIELD_STR, LOG_FIELD_REAL */
    long long num;            /* LOG_FIELD_INT */
    int kind;
} log_field_t;

#define LOG_STR(k, v) ((log_field_t){ .key = (k), .str = (v), .kind = LOG_FIELD_STR })
#define LOG_NUM(k, v) ((log_field_t){ .key = (k), .num = (long long)(v), .kind = LOG_FIELD_INT })
#define LOG_REAL(k, text) ((log_field_t){ .key = (k), .str = (text), .kind = LOG_FIELD_REAL })

/* "text" or "json" -> *out; returns 0, or -1 for anything else. */
int log_format_parse(const char *name, log_format_t *out);

/* Sets the format of every line written from now on (default text). */
void log_set_format(log_format_t f);

/* Writes one line: a printf-style message and no fields. */
void plog(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes one line: msg and n fields, in order. */
void plog_fields(const char *level, const char *msg, const log_field_t *fields, size_t n);

/* Formats the line plog_fields would write at time `when` (without the
 * newline) into buf, always NUL-terminated when cap > 0. Returns the
 * line's length, which is >= cap when it was cut, or -1 (out of memory).
 * The test of the formats uses it; plog_fields goes through it. */
int log_format_line(log_format_t f, const struct timespec *when, const char *level,
                    const char *msg, const log_field_t *fields, size_t n, char *buf,
                    size_t cap);

/* Routes gRPC core's logging (gpr_log) through plog_fields, with fields
 * source=grpc, file, line: one line per message, whatever it holds. Call
 * before grpc_init; GRPC_VERBOSITY still selects what core logs. */
void log_route_grpc(void);

#endif
