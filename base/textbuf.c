/* textbuf.c - sentences in fixed buffers (textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>

#include "civil.h"

void textbuf_put(textbuf_t *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->len + 1 >= t->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

void textbuf_date(textbuf_t *t, int64_t unix_ms)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(civil_day_of_ms(unix_ms), &y, &m, &d);
    textbuf_put(t, "%04lld-%02u-%02u", (long long)y, m, d);
}
