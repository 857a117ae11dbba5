/*
 * csv.c - streaming RFC 4180 reader and strict field parsers.
 *
 * The importer feeds files of any size through here, so the reader keeps one
 * record in memory at a time: its own 64 KiB input buffer (cheaper than a
 * getc per byte through stdio's locking), one growable byte buffer holding
 * the record's fields NUL-terminated back to back, and the fields' offsets,
 * turned into pointers once the record is complete (the buffer may move while
 * it grows).
 *
 * Time parsing does its own calendar arithmetic (base/civil.h) so the
 * result never depends on the process's TZ or locale, unlike mktime/timegm.
 */
#include "csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "grow.h"

#define CSV_INBUF 65536
#define CSV_EOF (-1)

struct csv_reader {
    FILE *f;
    unsigned char in[CSV_INBUF];
    size_t in_pos, in_len;
    int at_eof, io_error, started;

    char *buf;            /* current record's fields, each NUL-terminated */
    size_t len, cap;
    size_t *offs;         /* start of each field in buf */
    char **fields;        /* pointers handed to the caller */
    size_t nf, fcap;

    uint64_t line;        /* line number of the next unread character */
    uint64_t rec_line;    /* line where the last record started */
    const char *errmsg;
};

csv_reader_t *csv_reader_new(FILE *f)
{
    csv_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->f = f;
    r->line = 1;
    r->errmsg = "";
    return r;
}

void csv_reader_free(csv_reader_t *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->offs);
    free(r->fields);
    free(r);
}

uint64_t csv_line(const csv_reader_t *r) { return r->rec_line; }

const char *csv_errmsg(const csv_reader_t *r) { return r->errmsg; }

/* ---- input ---------------------------------------------------------------- */

static int csv_fill(csv_reader_t *r)
{
    if (r->at_eof)
        return 0;
    r->in_len = fread(r->in, 1, sizeof r->in, r->f);
    r->in_pos = 0;
    if (r->in_len == 0) {
        r->at_eof = 1;
        if (ferror(r->f))
            r->io_error = 1;
        return 0;
    }
    if (!r->started) {
        r->started = 1;
        if (r->in_len >= 3 && r->in[0] == 0xEF && r->in[1] == 0xBB &&
            r->in[2] == 0xBF)
            r->in_pos = 3; /* UTF-8 byte order mark, as Excel writes it */
    }
    return r->in_pos < r->in_len;
}

static int csv_peekc(csv_reader_t *r)
{
    if (r->in_pos >= r->in_len && !csv_fill(r))
        return CSV_EOF;
    return r->in[r->in_pos];
}

static int csv_getc(csv_reader_t *r)
{
    int c = csv_peekc(r);
    if (c != CSV_EOF)
        r->in_pos++;
    return c;
}

/* Consumes the rest of a line ending that began with c ('\n' or '\r'). */
static void csv_end_line(csv_reader_t *r, int c)
{
    if (c == '\r' && csv_peekc(r) == '\n')
        csv_getc(r);
    r->line++;
}

/* ---- writing ---------------------------------------------------------------- */

void csv_write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- record buffer -------------------------------------------------------- */

static int csv_putc(csv_reader_t *r, char c)
{
    if (GROW(r->buf, r->cap, r->len + 1) != 0)
        return -ENOMEM;
    r->buf[r->len++] = c;
    return 0;
}

static int csv_begin_field(csv_reader_t *r)
{
    void *const cols[] = { &r->offs, &r->fields };
    const size_t sizes[] = { sizeof *r->offs, sizeof *r->fields };
    if (grow_parallel(&r->fcap, r->nf + 1, 2, cols, sizes) != 0)
        return -ENOMEM;
    r->offs[r->nf++] = r->len;
    return 0;
}

/* Skips to the end of the current line after a syntax error so the caller
 * can carry on with the next record. */
static int csv_fail(csv_reader_t *r, const char *msg, int c)
{
    while (c != CSV_EOF && c != '\n' && c != '\r')
        c = csv_getc(r);
    if (c != CSV_EOF)
        csv_end_line(r, c);
    r->errmsg = msg;
    return -EBADMSG;
}

/* Reads a quoted field's contents after its opening quote, up to and
 * including the closing quote. Returns 0, or an error. */
static int csv_read_quoted(csv_reader_t *r)
{
    for (;;) {
        int c = csv_getc(r);
        if (c == CSV_EOF) {
            r->errmsg = "unterminated quote";
            return r->io_error ? -EIO : -EBADMSG;
        }
        if (c == '"') {
            if (csv_peekc(r) != '"')
                return 0;
            csv_getc(r);
        } else if (c == '\n' || (c == '\r' && csv_peekc(r) != '\n')) {
            r->line++;
        }
        if (csv_putc(r, (char)c) < 0)
            return -ENOMEM;
    }
}

/* Reads one field starting with character c; returns the character that
 * ended it (',', '\n', '\r' or CSV_EOF) or a negative error. */
static int csv_read_field(csv_reader_t *r, int c)
{
    int rc = csv_begin_field(r);
    if (rc < 0)
        return rc;
    if (c == '"') {
        if ((rc = csv_read_quoted(r)) < 0)
            return rc;
        c = csv_getc(r);
        if (c != ',' && c != '\n' && c != '\r' && c != CSV_EOF)
            return csv_fail(r, "unexpected character after closing quote", c);
    } else {
        /* A quote inside an unquoted field is kept literally (lenient, as
         * most producers that emit it mean it literally). */
        while (c != ',' && c != '\n' && c != '\r' && c != CSV_EOF) {
            if (csv_putc(r, (char)c) < 0)
                return -ENOMEM;
            c = csv_getc(r);
        }
    }
    if (csv_putc(r, '\0') < 0)
        return -ENOMEM;
    return c;
}

int csv_next(csv_reader_t *r, char ***fields, size_t *nfields)
{
    int c;
    r->errmsg = "";
    for (;;) { /* skip empty lines */
        r->rec_line = r->line;
        c = csv_getc(r);
        if (c == CSV_EOF)
            return r->io_error ? -EIO : 0;
        if (c != '\n' && c != '\r')
            break;
        csv_end_line(r, c);
    }
    r->len = 0;
    r->nf = 0;
    for (;;) {
        c = csv_read_field(r, c);
        if (c < CSV_EOF)
            return c; /* error */
        if (c != ',')
            break;
        c = csv_getc(r);
    }
    if (c != CSV_EOF)
        csv_end_line(r, c);
    else if (r->io_error)
        return -EIO;
    for (size_t i = 0; i < r->nf; i++)
        r->fields[i] = r->buf + r->offs[i];
    *fields = r->fields;
    *nfields = r->nf;
    return 1;
}

/* ---- numbers -------------------------------------------------------------- */

int csv_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s) || strpbrk(s, "xX"))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* ERANGE on underflow still yields a usable (tiny or zero) value; only
     * overflow to +-HUGE_VAL is caught by isfinite. */
    if (*end != '\0' || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

int csv_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || end == s)
        return -EINVAL;
    *out = (int64_t)v;
    return 0;
}

/* ---- calendar ------------------------------------------------------------- */

/* Reads min..max decimal digits at *p into *v and advances *p. */
static int csv_take_digits(const char **p, int min, int max, int64_t *v)
{
    int n = 0;
    int64_t x = 0;
    while (n < max && isdigit((unsigned char)(*p)[n])) {
        x = x * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return -EINVAL;
    *p += n;
    *v = x;
    return 0;
}

static int csv_take_char(const char **p, char c)
{
    if (**p != c)
        return -EINVAL;
    (*p)++;
    return 0;
}

typedef struct csv_tm {
    int64_t year, mon, day, hour, min, sec, ms;
    int64_t offset_s; /* zone offset east of UTC */
} csv_tm_t;

static int csv_tm_to_ms(const csv_tm_t *t, int64_t *out)
{
    if (t->year < 1970 || t->year > 9999 || t->mon < 1 || t->mon > 12 ||
        t->day < 1 || t->day > civil_days_in_month(t->year, (unsigned)t->mon) ||
        t->hour > 23 || t->min > 59 || t->sec > 59)
        return -EINVAL;
    int64_t days =
        civil_to_days(t->year, (unsigned)t->mon, (unsigned)t->day);
    int64_t secs = days * 86400 + t->hour * 3600 + t->min * 60 + t->sec -
                   t->offset_s;
    *out = secs * 1000 + t->ms;
    return 0;
}

/* ".fff..." (1-9 digits), truncated to milliseconds. */
static int csv_take_fraction(const char **p, int64_t *ms)
{
    if (**p != '.')
        return 0;
    (*p)++;
    const char *start = *p;
    int64_t frac;
    if (csv_take_digits(p, 1, 9, &frac) < 0)
        return -EINVAL;
    for (long n = *p - start; n < 3; n++)
        frac *= 10;
    for (long n = *p - start; n > 3; n--)
        frac /= 10;
    *ms = frac;
    return 0;
}

/* "Z", "+HH:MM", "-HH:MM" or nothing, then end of string. */
static int csv_take_zone(const char **p, int64_t *offset_s)
{
    if (**p == 'Z') {
        (*p)++;
    } else if (**p == '+' || **p == '-') {
        int sign = **p == '-' ? -1 : 1;
        int64_t hh, mm;
        (*p)++;
        if (csv_take_digits(p, 2, 2, &hh) < 0 || csv_take_char(p, ':') < 0 ||
            csv_take_digits(p, 2, 2, &mm) < 0 || hh > 23 || mm > 59)
            return -EINVAL;
        *offset_s = sign * (hh * 3600 + mm * 60);
    }
    return **p == '\0' ? 0 : -EINVAL;
}

static int csv_parse_iso(const char *p, int64_t *out)
{
    csv_tm_t t = {0};
    if (csv_take_digits(&p, 4, 4, &t.year) < 0 || csv_take_char(&p, '-') < 0 ||
        csv_take_digits(&p, 2, 2, &t.mon) < 0 || csv_take_char(&p, '-') < 0 ||
        csv_take_digits(&p, 2, 2, &t.day) < 0)
        return -EINVAL;
    if (*p != 'T' && *p != ' ')
        return -EINVAL;
    p++;
    if (csv_take_digits(&p, 2, 2, &t.hour) < 0 || csv_take_char(&p, ':') < 0 ||
        csv_take_digits(&p, 2, 2, &t.min) < 0 || csv_take_char(&p, ':') < 0 ||
        csv_take_digits(&p, 2, 2, &t.sec) < 0 ||
        csv_take_fraction(&p, &t.ms) < 0 || csv_take_zone(&p, &t.offset_s) < 0)
        return -EINVAL;
    return csv_tm_to_ms(&t, out);
}

static int csv_parse_retail(const char *p, int64_t *out)
{
    csv_tm_t t = {0};
    if (csv_take_digits(&p, 1, 2, &t.mon) < 0 || csv_take_char(&p, '/') < 0 ||
        csv_take_digits(&p, 1, 2, &t.day) < 0 || csv_take_char(&p, '/') < 0 ||
        csv_take_digits(&p, 4, 4, &t.year) < 0 || csv_take_char(&p, ' ') < 0 ||
        csv_take_digits(&p, 1, 2, &t.hour) < 0 || csv_take_char(&p, ':') < 0 ||
        csv_take_digits(&p, 2, 2, &t.min) < 0)
        return -EINVAL;
    if (*p == ':' && (p++, csv_take_digits(&p, 2, 2, &t.sec) < 0))
        return -EINVAL;
    if (*p != '\0')
        return -EINVAL;
    return csv_tm_to_ms(&t, out);
}

/* Unix seconds; 15 digits is ~31 million years, beyond any sane timestamp,
 * and keeps seconds * 1000 far from int64 overflow. */
#define CSV_MAX_UNIX_DIGITS 15

static int csv_parse_unix(const char *p, int64_t *out)
{
    int64_t secs;
    if (csv_take_digits(&p, 1, CSV_MAX_UNIX_DIGITS, &secs) < 0 || *p != '\0')
        return -EINVAL;
    *out = secs * 1000;
    return 0;
}

int csv_parse_time_ms(const char *s, int64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    size_t digits = strspn(s, "0123456789");
    if (s[digits] == '\0')
        return csv_parse_unix(s, out);
    if (strchr(s, '/'))
        return csv_parse_retail(s, out);
    return csv_parse_iso(s, out);
}
