/*
 * expo.c - the Prometheus text exposition writer (expo.h).
 */
#include "expo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPO_MAX_LABELS 8

void expo_init(expo_t *e)
{
    memset(e, 0, sizeof *e);
}

void expo_free(expo_t *e)
{
    free(e->buf);
    expo_init(e);
}

char *expo_take(expo_t *e, size_t *len)
{
    char *text = e->failed ? NULL : e->buf;

    if (!text && !e->failed)
        text = calloc(1, 1); /* nothing written: an empty text */
    *len = text ? e->len : 0;
    if (!text)
        free(e->buf);
    expo_init(e);
    return text;
}

/* Room for n more bytes plus the NUL. */
static int reserve(expo_t *e, size_t n)
{
    size_t cap;
    char *p;

    if (e->failed)
        return -1;
    if (e->len + n + 1 <= e->cap)
        return 0;
    for (cap = e->cap ? e->cap : 4096; cap < e->len + n + 1; cap *= 2)
        ;
    if (!(p = realloc(e->buf, cap))) {
        e->failed = 1;
        return -1;
    }
    e->buf = p;
    e->cap = cap;
    return 0;
}

static void put(expo_t *e, const char *s, size_t n)
{
    if (reserve(e, n))
        return;
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = '\0';
}

static void puts_(expo_t *e, const char *s)
{
    put(e, s, strlen(s));
}

static void putf(expo_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(expo_t *e, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(e, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* s with \ and newline escaped, and " too when quote is set. */
static void put_escaped(expo_t *e, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(e, "\\\\", 2);
        else if (*s == '\n')
            put(e, "\\n", 2);
        else if (*s == '"' && quote)
            put(e, "\\\"", 2);
        else
            put(e, s, 1);
    }
}

void expo_family(expo_t *e, const char *name, const char *type, const char *help)
{
    puts_(e, "# HELP ");
    puts_(e, name);
    put(e, " ", 1);
    put_escaped(e, help, 0);
    puts_(e, "\n# TYPE ");
    puts_(e, name);
    put(e, " ", 1);
    puts_(e, type);
    put(e, "\n", 1);
}

static void put_labels(expo_t *e, const expo_label_t *l, size_t n)
{
    if (!n)
        return;
    put(e, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(e, ",", 1);
        puts_(e, l[i].name);
        put(e, "=\"", 2);
        put_escaped(e, l[i].value, 1);
        put(e, "\"", 1);
    }
    put(e, "}", 1);
}

static void put_value(expo_t *e, double v)
{
    if (isnan(v))
        puts_(e, " NaN\n");
    else if (isinf(v))
        puts_(e, v > 0 ? " +Inf\n" : " -Inf\n");
    else
        putf(e, " %.15g\n", v);
}

void expo_double(expo_t *e, const char *name, const expo_label_t *l, size_t n, double v)
{
    puts_(e, name);
    put_labels(e, l, n);
    put_value(e, v);
}

void expo_u64(expo_t *e, const char *name, const expo_label_t *l, size_t n, uint64_t v)
{
    puts_(e, name);
    put_labels(e, l, n);
    putf(e, " %llu\n", (unsigned long long)v);
}

/* name + suffix, e.g. "patron_rpc_duration_seconds_bucket". */
static void put_name(expo_t *e, const char *name, const char *suffix)
{
    puts_(e, name);
    puts_(e, suffix);
}

void expo_histogram(expo_t *e, const char *name, const expo_label_t *l, size_t n,
                    const char *const *le, const uint64_t *cum, size_t n_le,
                    uint64_t count, double sum)
{
    expo_label_t with_le[EXPO_MAX_LABELS + 1];

    if (n > EXPO_MAX_LABELS) {
        e->failed = 1;
        return;
    }
    memcpy(with_le, l, n * sizeof *l);
    with_le[n].name = "le";
    for (size_t i = 0; i <= n_le; i++) {
        with_le[n].value = i < n_le ? le[i] : "+Inf";
        put_name(e, name, "_bucket");
        put_labels(e, with_le, n + 1);
        putf(e, " %llu\n", (unsigned long long)(i < n_le ? cum[i] : count));
    }
    put_name(e, name, "_sum");
    put_labels(e, l, n);
    put_value(e, sum);
    put_name(e, name, "_count");
    put_labels(e, l, n);
    putf(e, " %llu\n", (unsigned long long)count);
}
