/*
 * log.c - one line per event to stderr, as text or JSON (see log.h).
 *
 * Both formats go through log_format_line, so what a test checks is what
 * patrond writes. JSON objects are built with json-c (its escaping is
 * complete: quotes, backslashes, every control character); strings are
 * first made valid UTF-8, since one stray byte would make the whole line
 * unparseable for a log shipper.
 */
#include "log.h"

#include <grpc/support/log.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define LOG_MSG_MAX 1024   /* plog's formatted message, cut beyond */
#define LOG_LINE_STACK 2048 /* lines longer than this are built on the heap */

/* Process-wide (log.h): set by main before threads start. */
static log_format_t log_format = LOG_FORMAT_TEXT;

int log_format_parse(const char *name, log_format_t *out)
{
    if (name && strcmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (name && strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void log_set_format(log_format_t f)
{
    log_format = f;
}

/* ---- building a line ------------------------------------------------------- */

/* snprintf-like appender: len counts what would have been written. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len - 1;
        memcpy(o->buf + o->len, s, n < room ? n : room);
        o->buf[o->len + (n < room ? n : room)] = '\0';
    }
    o->len += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A copy of s[0..n) with every byte that starts an ill-formed UTF-8
 * sequence replaced by '?', or NULL when s is valid (use it as is) or
 * memory ran out (*oom set). */
static char *utf8_fixed(const char *s, size_t n, int *oom)
{
    size_t at = utf8_check(s, n);
    char *copy;
    if (at == n)
        return NULL;
    if (!(copy = malloc(n + 1))) {
        *oom = 1;
        return NULL;
    }
    memcpy(copy, s, n + 1);
    while (at < n) {
        copy[at] = '?';
        at++;
        at += utf8_check(copy + at, n - at);
    }
    return copy;
}

/* Text: control characters as spaces; quoted (with \" and \\) when asked. */
static void put_text(out_t *o, const char *s, int quote)
{
    int oom = 0;
    char *fixed = utf8_fixed(s, strlen(s), &oom);
    const char *p = fixed ? fixed : s;
    if (quote)
        put(o, "\"", 1);
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            put(o, " ", 1);
        else if (quote && (ch == '"' || ch == '\\')) {
            put(o, "\\", 1);
            put(o, p, 1);
        } else
            put(o, p, 1);
    }
    if (quote)
        put(o, "\"", 1);
    free(fixed);
}

/* A text value: "-" for an empty string, quoted when it holds a space,
 * a quote or '=' so key=value pairs stay splittable. */
static void put_text_value(out_t *o, const char *s)
{
    if (!*s)
        put(o, "-", 1);
    else
        put_text(o, s, strpbrk(s, " \"=\\") != NULL);
}

static void stamp(const struct timespec *when, char *buf, size_t cap)
{
    struct tm tm;
    char sec[24];
    gmtime_r(&when->tv_sec, &tm);
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03ldZ", sec, when->tv_nsec / 1000000);
}

static void text_line(out_t *o, const char *ts, const char *level, const char *msg,
                      const log_field_t *fields, size_t n)
{
    char num[24];
    puts_(o, ts);
    puts_(o, " patrond ");
    puts_(o, level);
    puts_(o, " ");
    put_text(o, msg, 0);
    for (size_t i = 0; i < n; i++) {
        puts_(o, " ");
        puts_(o, fields[i].key);
        puts_(o, "=");
        if (fields[i].kind == LOG_FIELD_INT) {
            snprintf(num, sizeof num, "%lld", fields[i].num);
            puts_(o, num);
        } else if (fields[i].kind == LOG_FIELD_REAL) {
            put_text_value(o, fields[i].str ? fields[i].str : "0");
        } else {
            put_text_value(o, fields[i].str ? fields[i].str : "");
        }
    }
}

static json_object *json_str(const char *s);

/* A number from its decimal text, written as that text. */
static json_object *json_real(const char *text)
{
    char *end;
    double d;
    if (!text)
        return json_object_new_int(0);
    /* Only plain decimals (no "nan", "inf", hex): the line stays JSON. */
    if (!(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) ||
        text[strspn(text, "-.0123456789")] != '\0')
        return json_str(text);
    d = strtod(text, &end);
    if (end == text || *end)
        return json_str(text);
    return json_object_new_double_s(d, text);
}

/* A json-c string from s, made valid UTF-8 first; NULL when out of memory. */
static json_object *json_str(const char *s)
{
    int oom = 0;
    size_t n = strlen(s);
    char *fixed = utf8_fixed(s, n, &oom);
    json_object *j;
    if (oom)
        return NULL;
    j = json_object_new_string_len(fixed ? fixed : s, (int)n);
    free(fixed);
    return j;
}

static int json_add(json_object *obj, const char *key, json_object *v)
{
    if (!v)
        return -1;
    json_object_object_add(obj, key, v);
    return 0;
}

/* Returns 0, or -1 when out of memory. */
static int json_line(out_t *o, const char *ts, const char *level, const char *msg,
                     const log_field_t *fields, size_t n)
{
    json_object *obj = json_object_new_object();
    int rc = obj ? 0 : -1;

    if (rc == 0)
        rc = json_add(obj, "ts", json_object_new_string(ts)) |
             json_add(obj, "level", json_object_new_string(level)) |
             json_add(obj, "msg", json_str(msg));
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = json_add(obj, fields[i].key,
                      fields[i].kind == LOG_FIELD_INT    ? json_object_new_int64(fields[i].num)
                      : fields[i].kind == LOG_FIELD_REAL ? json_real(fields[i].str)
                                                         : json_str(fields[i].str ? fields[i].str : ""));
    if (rc == 0)
        puts_(o, json_object_to_json_string_ext(
                     obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    return rc;
}

int log_format_line(log_format_t f, const struct timespec *when, const char *level,
                    const char *msg, const log_field_t *fields, size_t n, char *buf,
                    size_t cap)
{
    out_t o = { buf, cap, 0 };
    char ts[40];

    if (cap > 0)
        buf[0] = '\0';
    stamp(when, ts, sizeof ts);
    if (f == LOG_FORMAT_JSON) {
        if (json_line(&o, ts, level, msg ? msg : "", fields, n) != 0)
            return -1;
    } else {
        text_line(&o, ts, level, msg ? msg : "", fields, n);
    }
    return o.len > (size_t)INT32_MAX ? INT32_MAX : (int)o.len;
}

/* ---- writing ------------------------------------------------------------- */

void plog_fields(const char *level, const char *msg, const log_field_t *fields, size_t n)
{
    char stack[LOG_LINE_STACK], *heap = NULL;
    const char *line = stack;
    struct timespec now;
    int len;

    clock_gettime(CLOCK_REALTIME, &now);
    len = log_format_line(log_format, &now, level, msg, fields, n, stack, sizeof stack);
    /* Out of memory: the line cut at the stack buffer beats none. */
    if (len >= (int)sizeof stack && (heap = malloc((size_t)len + 1)) != NULL &&
        log_format_line(log_format, &now, level, msg, fields, n, heap, (size_t)len + 1) >= 0)
        line = heap;
    if (len < 0) /* json-c ran out of memory: a text line beats none */
        log_format_line(LOG_FORMAT_TEXT, &now, level, msg, fields, n, stack, sizeof stack);
    /* One stdio call per line so concurrent threads do not interleave. */
    fprintf(stderr, "%s\n", line);
    free(heap);
}

void plog(const char *level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    plog_fields(level, msg, NULL, 0);
}

/* gpr_log's hook: gRPC core's messages, newlines and all, as one line. */
static void grpc_log(gpr_log_func_args *args)
{
    log_field_t f[3] = {
        LOG_STR("source", "grpc"),
        LOG_STR("file", args->file ? args->file : ""),
        LOG_NUM("line", args->line),
    };
    const char *level = args->severity == GPR_LOG_SEVERITY_ERROR  ? LOG_ERROR
                        : args->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO
                                                                  : LOG_DEBUG;
    plog_fields(level, args->message, f, 3);
}

void log_route_grpc(void)
{
    gpr_set_log_function(grpc_log);
}
