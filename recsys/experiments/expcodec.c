/*
 * expcodec.c - versioned, field-tagged experiment definitions (expcodec.h).
 */
#include "expcodec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[4] = { 'P', 'X', 'E', 1 };

/* Arm field tags. Never reuse a number; add new ones at the end. */
enum {
    TAG_WEIGHT = 1,        /* f64 */
    TAG_MODEL = 2,         /* u64 */
    TAG_BLEND = 3,         /* f64 */
    TAG_COUPONS_OFF = 4,   /* u8 */
    TAG_LAMBDA = 5,        /* f64 */
    TAG_DIVERSITY = 6,     /* f64 */
    TAG_MAX_PER_CAT = 7,   /* u32 */
};

/* ---- writing ---------------------------------------------------------------- */

typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} wbuf_t;

static void put(wbuf_t *w, const void *v, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 512;
        unsigned char *p;
        while (cap < w->len + n)
            cap *= 2;
        if (!(p = realloc(w->p, cap))) {
            w->oom = 1;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, v, n);
    w->len += n;
}

static void put_u(wbuf_t *w, uint64_t v, size_t bytes)
{
    unsigned char b[8];
    for (size_t i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, bytes);
}

static void put_f64(wbuf_t *w, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_u(w, v, 8);
}

static void put_str(wbuf_t *w, const char *s)
{
    size_t n = strlen(s);
    put_u(w, n, 2);
    put(w, s, n);
}

static void put_field_u(wbuf_t *w, int tag, uint64_t v, size_t bytes)
{
    put_u(w, (uint64_t)tag, 1);
    put_u(w, bytes, 1);
    put_u(w, v, bytes);
}

static void put_field_f64(wbuf_t *w, int tag, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_field_u(w, tag, v, 8);
}

int expcodec_encode(const experiment_t *e, unsigned char **out, size_t *len)
{
    wbuf_t w = { 0 };

    put(&w, MAGIC, sizeof MAGIC);
    put_str(&w, e->id);
    put_str(&w, e->salt);
    put_str(&w, e->layer);
    put_f64(&w, e->traffic_fraction);
    put_u(&w, (uint64_t)e->start_ms, 8);
    put_u(&w, (uint64_t)e->stop_ms, 8);
    put_u(&w, e->n_arms, 2);
    for (size_t i = 0; i < e->n_arms; i++) {
        const experiment_arm_t *a = &e->arms[i];
        put_str(&w, a->id);
        put_u(&w, 7, 2); /* fields that follow */
        put_field_f64(&w, TAG_WEIGHT, a->weight);
        put_field_u(&w, TAG_MODEL, a->model_version, 8);
        put_field_f64(&w, TAG_BLEND, a->popularity_blend);
        put_field_u(&w, TAG_COUPONS_OFF, a->coupons_off != 0, 1);
        put_field_f64(&w, TAG_LAMBDA, a->coupon_lambda);
        put_field_f64(&w, TAG_DIVERSITY, a->diversity);
        put_field_u(&w, TAG_MAX_PER_CAT, a->max_per_category, 4);
    }
    put_u(&w, e->n_forced, 4);
    for (size_t i = 0; i < e->n_forced; i++) {
        put_str(&w, e->forced[i].customer_id);
        put_str(&w, e->forced[i].arm_id);
    }
    if (w.oom) {
        free(w.p);
        return -ENOMEM;
    }
    *out = w.p;
    *len = w.len;
    return 0;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct rbuf {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} rbuf_t;

static const unsigned char *take(rbuf_t *r, size_t n)
{
    const unsigned char *at;
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    at = r->p + r->pos;
    r->pos += n;
    return at;
}

static uint64_t get_u(rbuf_t *r, size_t bytes)
{
    const unsigned char *b = take(r, bytes);
    uint64_t v = 0;
    for (size_t i = 0; b && i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static double bits_f64(uint64_t v)
{
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* A string into dst (cap bytes with the NUL); too long is malformed. */
static void get_str(rbuf_t *r, char *dst, size_t cap)
{
    size_t n = (size_t)get_u(r, 2);
    const unsigned char *s = take(r, n);
    if (!s || n >= cap) {
        r->bad = 1;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void get_arm(rbuf_t *r, experiment_arm_t *a)
{
    size_t n_fields;

    get_str(r, a->id, sizeof a->id);
    n_fields = (size_t)get_u(r, 2);
    for (size_t f = 0; f < n_fields && !r->bad; f++) {
        int tag = (int)get_u(r, 1);
        size_t n = (size_t)get_u(r, 1);
        uint64_t v = n <= 8 ? get_u(r, n) : (take(r, n), 0);
        switch (tag) {
        case TAG_WEIGHT: a->weight = bits_f64(v); break;
        case TAG_MODEL: a->model_version = v; break;
        case TAG_BLEND: a->popularity_blend = bits_f64(v); break;
        case TAG_COUPONS_OFF: a->coupons_off = v != 0; break;
        case TAG_LAMBDA: a->coupon_lambda = bits_f64(v); break;
        case TAG_DIVERSITY: a->diversity = bits_f64(v); break;
        case TAG_MAX_PER_CAT: a->max_per_category = (uint32_t)v; break;
        default: break; /* a newer release's field: skipped */
        }
    }
}

int expcodec_decode(const void *buf, size_t len, experiment_t *e)
{
    rbuf_t r = { buf, len, 0, 0 };
    const unsigned char *magic = take(&r, sizeof MAGIC);
    experiment_forced_t *forced = NULL;
    size_t n_forced;

    memset(e, 0, sizeof *e);
    if (!magic || memcmp(magic, MAGIC, sizeof MAGIC) != 0)
        return -EIO;
    get_str(&r, e->id, sizeof e->id);
    get_str(&r, e->salt, sizeof e->salt);
    get_str(&r, e->layer, sizeof e->layer);
    e->traffic_fraction = bits_f64(get_u(&r, 8));
    e->start_ms = (int64_t)get_u(&r, 8);
    e->stop_ms = (int64_t)get_u(&r, 8);
    e->n_arms = (size_t)get_u(&r, 2);
    if (e->n_arms > EXPERIMENT_MAX_ARMS)
        return -EIO;
    for (size_t i = 0; i < e->n_arms && !r.bad; i++)
        get_arm(&r, &e->arms[i]);
    n_forced = (size_t)get_u(&r, 4);
    /* Each pin takes at least 4 bytes: a count past that is malformed. */
    if (r.bad || n_forced > (r.len - r.pos) / 4)
        return -EIO;
    if (n_forced && !(forced = calloc(n_forced, sizeof *forced)))
        return -ENOMEM;
    for (size_t i = 0; i < n_forced && !r.bad; i++) {
        get_str(&r, forced[i].customer_id, sizeof forced[i].customer_id);
        get_str(&r, forced[i].arm_id, sizeof forced[i].arm_id);
    }
    if (r.bad || r.pos != r.len) {
        free(forced);
        return -EIO;
    }
    e->n_forced = n_forced;
    e->forced = forced;
    return 0;
}
