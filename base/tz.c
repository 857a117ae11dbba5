/*
 * tz.c - TZif files and POSIX TZ rules (tz.h).
 *
 * The layout read is RFC 8536 section 3: a v1 header and 32-bit data block
 * (skipped when a v2+ block follows), the v2+ header and 64-bit data block
 * (transition times, their type indices, the local time types), then the
 * footer, a POSIX TZ string between newlines (POSIX.1-2017 section 8.3 with
 * the RFC's extensions: hours up to 167, negative rule times). Instants at
 * or after the last transition follow the footer when there is one.
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"

#define TZ_FILE_MAX (1u << 20) /* the largest zone file is ~4 KB */

/* One transition date of a POSIX rule. */
typedef struct tz_date {
    char kind;          /* 'J': Julian 1..365 without Feb 29, 'N': 0..365, 'M' */
    int n;              /* J, N: the day; M: the month */
    int week, wday;     /* M: week 1..5 (5 = last), weekday 0 = Sunday */
    int32_t time;       /* seconds after local midnight (may be < 0 or > 24 h) */
} tz_date_t;

typedef struct tz_rule {
    int has_rule;       /* a footer was present */
    int has_dst;
    int32_t std_off, dst_off;  /* seconds east */
    tz_date_t start, end;      /* DST starts (in standard time), ends (in DST) */
} tz_rule_t;

struct tz {
    size_t n;           /* transitions */
    int64_t *at;        /* n instants, ascending */
    int32_t *off;       /* n offsets in force from at[i] */
    int32_t first_off;  /* before at[0] (type 0, RFC 8536 section 3.2) */
    tz_rule_t rule;
};

/* ---- names -------------------------------------------------------------------- */

int tz_name_valid(const char *name)
{
    size_t len, comp = 0;
    if (!name || (len = strnlen(name, TZ_NAME_MAX + 1)) == 0 || len > TZ_NAME_MAX ||
        name[0] == '/')
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];
        if (ch == '/' || ch == '\0') {
            if (comp == 0 || (comp == 1 && name[i - 1] == '.') ||
                (comp == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
                return 0;
            comp = 0;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-' || ch == '.'))
            return 0;
        comp++;
    }
    return 1;
}

/* ---- POSIX TZ strings ------------------------------------------------------------ */

static int parse_num(const char **p, int lo, int hi, int *out)
{
    int v = 0, digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 4) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (!digits || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]], hours 0..max_h; seconds, signed. */
static int parse_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (parse_num(p, 0, max_h, &h))
        return -1;
    if (**p == ':') {
        (*p)++;
        if (parse_num(p, 0, 59, &m))
            return -1;
        if (**p == ':') {
            (*p)++;
            if (parse_num(p, 0, 59, &s))
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

/* A zone abbreviation: <...> or 3+ letters. */
static int parse_abbr(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        while (*s && *s != '>')
            s++;
        if (*s != '>' || s - *p < 4)
            return -1;
        *p = s + 1;
        return 0;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - *p < 3)
        return -1;
    *p = s;
    return 0;
}

static int parse_date(const char **p, tz_date_t *d)
{
    memset(d, 0, sizeof *d);
    d->time = 2 * 3600;
    if (**p == 'J') {
        (*p)++;
        d->kind = 'J';
        if (parse_num(p, 1, 365, &d->n))
            return -1;
    } else if (**p == 'M') {
        (*p)++;
        d->kind = 'M';
        if (parse_num(p, 1, 12, &d->n) || *(*p)++ != '.' || parse_num(p, 1, 5, &d->week) ||
            *(*p)++ != '.' || parse_num(p, 0, 6, &d->wday))
            return -1;
    } else {
        d->kind = 'N';
        if (parse_num(p, 0, 365, &d->n))
            return -1;
    }
    if (**p == '/') {
        (*p)++;
        if (parse_hms(p, 167, &d->time))
            return -1;
    }
    return 0;
}

/* Parses a footer rule s (NUL-terminated). Offsets in POSIX are west of
 * UTC, hence the negations. */
static int parse_rule(const char *s, tz_rule_t *r)
{
    int32_t off;
    memset(r, 0, sizeof *r);
    if (parse_abbr(&s) || parse_hms(&s, 24, &off))
        return -1;
    r->std_off = -off;
    r->has_rule = 1;
    if (!*s)
        return 0;
    if (parse_abbr(&s))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_hms(&s, 24, &off))
            return -1;
        r->dst_off = -off;
    }
    if (!*s) { /* no dates: the US rules POSIX names as the default */
        r->start = (tz_date_t){ 'M', 3, 2, 0, 7200 };
        r->end = (tz_date_t){ 'M', 11, 1, 0, 7200 };
        return 0;
    }
    if (*s++ != ',' || parse_date(&s, &r->start) || *s++ != ',' || parse_date(&s, &r->end))
        return -1;
    return *s ? -1 : 0;
}

/* The day number (days since 1970-01-01) of date d in year y. */
static int64_t date_day(const tz_date_t *d, int64_t y)
{
    int64_t jan1 = civil_to_days(y, 1, 1);
    if (d->kind == 'J') /* Feb 29 is never counted */
        return jan1 + d->n - 1 + (civil_is_leap(y) && d->n >= 60);
    if (d->kind == 'N')
        return jan1 + d->n;
    int64_t first = civil_to_days(y, (unsigned)d->n, 1);
    int64_t day = first + (d->wday - (int)civil_weekday(first) + 7) % 7 + 7 * (d->week - 1);
    unsigned dim = civil_days_in_month(y, (unsigned)d->n);
    while (day >= first + dim)
        day -= 7; /* week 5: the last such weekday */
    return day;
}

/* DST start and end instants in year y (UTC seconds). */
static void rule_year(const tz_rule_t *r, int64_t y, int64_t *start, int64_t *end)
{
    *start = date_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    *end = date_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
    return y;
}

static int rule_is_dst(const tz_rule_t *r, int64_t t)
{
    int64_t y = year_of(t), start, end;
    if (!r->has_dst)
        return 0;
    /* the year of t in UTC may differ from the local year near New Year:
     * the neighbouring years' transitions settle it */
    for (int64_t yy = y + 1; yy >= y - 1; yy--) {
        rule_year(r, yy, &start, &end);
        if (start <= end) {
            if (t >= start && t < end)
                return 1;
            if (t >= end)
                return 0;
        } else { /* southern hemisphere: DST spans the new year */
            if (t >= start)
                return 1;
            if (t >= end)
                return 0;
        }
    }
    return start > end; /* before every transition considered */
}

static int32_t rule_offset(const tz_rule_t *r, int64_t t)
{
    return rule_is_dst(r, t) ? r->dst_off : r->std_off;
}

static int64_t rule_next_change(const tz_rule_t *r, int64_t t)
{
    int64_t y = year_of(t), best = INT64_MAX, start, end;
    if (!r->has_dst || r->dst_off == r->std_off)
        return INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        rule_year(r, yy, &start, &end);
        if (start > t && start < best && rule_offset(r, start) != rule_offset(r, t))
            best = start;
        if (end > t && end < best && rule_offset(r, end) != rule_offset(r, t))
            best = end;
    }
    return best;
}

/* ---- TZif ------------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts_t;

/* Reads a header at p (44 bytes); the size of its data block (time_size:
 * 4 or 8) in *block. */
static int tzif_header(const unsigned char *p, size_t left, unsigned time_size,
                       tzif_counts_t *c, size_t *block)
{
    if (left < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->type == 0 || c->type > 256 || c->time > 100000 || c->leap > 100000 ||
        c->chars > 100000 || (c->isut && c->isut != c->type) ||
        (c->isstd && c->isstd != c->type))
        return -1;
    *block = (size_t)c->time * time_size + c->time + (size_t)c->type * 6 + c->chars +
             (size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
    return 44 + *block <= left ? 0 : -1;
}

static int tzif_data(tz_t *z, const unsigned char *p, const tzif_counts_t *c,
                     unsigned time_size)
{
    const unsigned char *idx = p + (size_t)c->time * time_size;
    const unsigned char *types = idx + c->time;

    z->n = c->time;
    if (z->n && (!(z->at = calloc(z->n, sizeof *z->at)) ||
                 !(z->off = calloc(z->n, sizeof *z->off))))
        return -ENOMEM;
    for (size_t i = 0; i < z->n; i++) {
        z->at[i] = time_size == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        if (idx[i] >= c->type || (i && z->at[i] <= z->at[i - 1]))
            return -EINVAL;
        z->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    }
    z->first_off = (int32_t)be32(types);
    return 0;
}

int tz_parse(const void *buf, size_t len, tz_t **out)
{
    const unsigned char *p = buf;
    tzif_counts_t c;
    size_t block;
    unsigned time_size = 4;
    tz_t *z;
    int rc;

    *out = NULL;
    if (!buf || tzif_header(p, len, 4, &c, &block))
        return -EINVAL;
    if (p[4] >= '2') { /* skip the v1 block: the v2 one follows */
        p += 44 + block;
        len -= 44 + block;
        time_size = 8;
        if (tzif_header(p, len, 8, &c, &block))
            return -EINVAL;
    }
    if (!(z = calloc(1, sizeof *z)))
        return -ENOMEM;
    if ((rc = tzif_data(z, p + 44, &c, time_size)) != 0)
        goto fail;
    p += 44 + block;
    len -= 44 + block;
    if (time_size == 8 && len >= 2 && p[0] == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', len - 1);
        char rule[128];
        size_t n = nl ? (size_t)(nl - p - 1) : 0;
        rc = -EINVAL;
        if (!nl || n >= sizeof rule)
            goto fail;
        memcpy(rule, p + 1, n);
        rule[n] = '\0';
        if (n && parse_rule(rule, &z->rule))
            goto fail;
    }
    *out = z;
    return 0;
fail:
    tz_free(z);
    return rc;
}

int tz_load(const char *dir, const char *name, tz_t **out)
{
    char path[4096];
    unsigned char *buf = NULL;
    struct stat st;
    ssize_t got;
    int fd, rc;

    *out = NULL;
    if (!tz_name_valid(name))
        return -EINVAL;
    snprintf(path, sizeof path, "%s/%s", dir ? dir : TZ_DEFAULT_DIR, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > TZ_FILE_MAX) {
        rc = -EINVAL;
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size))) {
        rc = -ENOMEM;
        goto out;
    }
    got = read(fd, buf, (size_t)st.st_size);
    rc = got == st.st_size ? tz_parse(buf, (size_t)got, out) : got < 0 ? -errno : -EIO;
out:
    free(buf);
    close(fd);
    return rc;
}

void tz_free(tz_t *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

/* The index of the last transition <= t, or -1 before the first. */
static long last_at_or_before(const tz_t *z, int64_t t)
{
    size_t lo = 0, hi = z->n; /* answer in [lo, hi) after the search: count <= t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

int32_t tz_offset(const tz_t *z, int64_t t)
{
    long i;
    if (!z)
        return 0;
    i = last_at_or_before(z, t);
    if (z->rule.has_rule && (z->n == 0 || i == (long)z->n - 1))
        return rule_offset(&z->rule, t);
    return i < 0 ? z->first_off : z->off[i];
}

int64_t tz_next_change(const tz_t *z, int64_t t)
{
    int32_t now;
    long i;
    if (!z)
        return INT64_MAX;
    now = tz_offset(z, t);
    for (i = last_at_or_before(z, t) + 1; i < (long)z->n; i++) {
        if (i == (long)z->n - 1 && z->rule.has_rule) {
            if (rule_offset(&z->rule, z->at[i]) != now)
                return z->at[i];
            break;
        }
        if (z->off[i] != now)
            return z->at[i];
    }
    if (!z->rule.has_rule)
        return INT64_MAX;
    if (z->n && t < z->at[z->n - 1])
        t = z->at[z->n - 1]; /* the rule governs from the last transition */
    while (t != INT64_MAX) {
        int64_t next = rule_next_change(&z->rule, t);
        if (next == INT64_MAX || rule_offset(&z->rule, next) != now)
            return next;
        t = next;
    }
    return INT64_MAX;
}

/* ---- cache -------------------------------------------------------------------------- */

typedef struct tz_entry {
    char name[TZ_NAME_MAX + 1];
    tz_t *zone;
} tz_entry_t;

struct tz_cache {
    pthread_mutex_t mu;
    char *dir;
    tz_entry_t *e;
    size_t n, cap;
};

tz_cache_t *tz_cache_new(const char *dir)
{
    tz_cache_t *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir ? dir : TZ_DEFAULT_DIR))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void tz_cache_free(tz_cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        tz_free(c->e[i].zone);
    free(c->e);
    free(c->dir);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int cache_add(tz_cache_t *c, const char *name, tz_t *z)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        tz_entry_t *e = realloc(c->e, cap * sizeof *e);
        if (!e)
            return -ENOMEM;
        c->e = e;
        c->cap = cap;
    }
    snprintf(c->e[c->n].name, sizeof c->e[c->n].name, "%s", name);
    c->e[c->n++].zone = z;
    return 0;
}

int tz_cache_get(tz_cache_t *c, const char *name, const tz_t **out)
{
    tz_t *z = NULL;
    int rc = 0;

    *out = NULL;
    if (!c || !tz_name_valid(name))
        return -EINVAL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].name, name) == 0) {
            *out = c->e[i].zone;
            goto out;
        }
    if ((rc = tz_load(c->dir, name, &z)) == 0 && (rc = cache_add(c, name, z)) != 0)
        tz_free(z);
    else if (rc == 0)
        *out = z;
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}
