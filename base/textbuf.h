/*
 * textbuf.h - building a sentence in a caller's fixed buffer: appends that
 * stop quietly at the end of the buffer (the text is cut, never
 * overflowed, always NUL-terminated). For the progress sentences profiles
 * show (tiers, missions). No allocation, no state beyond the struct.
 */
#ifndef PATRON_BASE_TEXTBUF_H
#define PATRON_BASE_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct textbuf {
    char *buf;      /* the caller's, cap > 0 bytes; buf[0] must be '\0' */
    size_t cap, len;
} textbuf_t;

/* Appends printf-formatted text. */
void textbuf_put(textbuf_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the UTC date of unix ms as YYYY-MM-DD. */
void textbuf_date(textbuf_t *t, int64_t unix_ms);

#endif
