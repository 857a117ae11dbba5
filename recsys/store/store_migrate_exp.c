/*
 * store_migrate_exp.c - format 1 -> 2 for the experiments' tables:
 * definitions in the previous release's tagged format ("PXE" 0x01, read
 * here and nowhere else), exposure request rows (an i64 time, followed by
 * the customer id in builds between the releases) and the per-customer
 * summaries (struct images) become patron.store.v1 records
 * (experiments.proto).
 */
#include "store_internal.h"
#include "store_legacy.h"
#include "store_record.h"

#include <patron/store/v1/experiments.pb-c.h>
#include <stdlib.h>

#define LEGACY_EXP_ID 129        /* EXPERIMENT_MAX_ID + 1 */
#define LEGACY_EXP_ARMS 16

/* ---- definitions: the format 1 reader ------------------------------------------ */

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

/* A u16-length string, malloc'd (NUL-terminated) into *dst; cap bounds it. */
static void get_str(rbuf_t *r, char **dst, size_t cap)
{
    size_t n = (size_t)get_u(r, 2);
    const unsigned char *s = take(r, n);
    if (!s || n >= cap || !(*dst = malloc(n + 1))) {
        r->bad = 1;
        return;
    }
    memcpy(*dst, s, n);
    (*dst)[n] = '\0';
}

/* Arm field tags of format 1. */
enum { TAG_WEIGHT = 1, TAG_MODEL, TAG_BLEND, TAG_COUPONS_OFF, TAG_LAMBDA, TAG_DIVERSITY,
       TAG_MAX_PER_CAT };

static void get_arm(rbuf_t *r, Patron__Store__V1__ExperimentArm *a)
{
    size_t n_fields;
    get_str(r, &a->id, LEGACY_EXP_ID);
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
        default: break;
        }
    }
}

/* Frees what get_str allocated into m (the arrays are the caller's). */
static void free_strings(Patron__Store__V1__Experiment *m)
{
    free(m->id);
    free(m->salt);
    free(m->layer);
    for (size_t i = 0; i < m->n_arms; i++)
        free(m->arms[i]->id);
    for (size_t i = 0; i < m->n_forced; i++) {
        free(m->forced[i]->customer_id);
        free(m->forced[i]->arm_id);
    }
}

static int read_defs(rbuf_t *r, Patron__Store__V1__Experiment *m,
                     Patron__Store__V1__ExperimentArm *arms,
                     Patron__Store__V1__ExperimentArm **ap,
                     Patron__Store__V1__ForcedCustomer **forced,
                     Patron__Store__V1__ForcedCustomer ***fp)
{
    static const unsigned char magic[4] = { 'P', 'X', 'E', 1 };
    const unsigned char *mg = take(r, 4);
    size_t n_arms, n_forced;

    if (!mg || memcmp(mg, magic, 4) != 0)
        return -EBADMSG;
    get_str(r, &m->id, LEGACY_EXP_ID);
    get_str(r, &m->salt, LEGACY_EXP_ID);
    get_str(r, &m->layer, LEGACY_EXP_ID);
    m->traffic_fraction = bits_f64(get_u(r, 8));
    m->start_ms = (int64_t)get_u(r, 8);
    m->stop_ms = (int64_t)get_u(r, 8);
    n_arms = (size_t)get_u(r, 2);
    if (r->bad || n_arms > LEGACY_EXP_ARMS)
        return -EBADMSG;
    m->arms = ap;
    for (size_t i = 0; i < n_arms && !r->bad; i++) {
        patron__store__v1__experiment_arm__init(&arms[i]);
        arms[i].id = NULL;
        ap[i] = &arms[i];
        m->n_arms = i + 1;
        get_arm(r, &arms[i]);
    }
    n_forced = (size_t)get_u(r, 4);
    if (r->bad || n_forced > (r->len - r->pos) / 4)
        return -EBADMSG;
    if (n_forced && (!(*forced = calloc(n_forced, sizeof **forced)) ||
                     !(*fp = calloc(n_forced, sizeof **fp))))
        return -ENOMEM;
    m->forced = *fp;
    for (size_t i = 0; i < n_forced && !r->bad; i++) {
        patron__store__v1__forced_customer__init(&(*forced)[i]);
        (*forced)[i].customer_id = (*forced)[i].arm_id = NULL;
        (*fp)[i] = &(*forced)[i];
        m->n_forced = i + 1;
        get_str(r, &(*forced)[i].customer_id, LEGACY_ID);
        get_str(r, &(*forced)[i].arm_id, LEGACY_EXP_ID);
    }
    return r->bad || r->pos != r->len ? -EBADMSG : 0;
}

static int conv_defs(const char *table, const void *key, size_t klen, const void *val,
                     size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__Experiment m = PATRON__STORE__V1__EXPERIMENT__INIT;
    Patron__Store__V1__ExperimentArm arms[LEGACY_EXP_ARMS], *ap[LEGACY_EXP_ARMS];
    Patron__Store__V1__ForcedCustomer *forced = NULL, **fp = NULL;
    rbuf_t r = { val, vlen, 0, 0 };
    int rc;

    m.id = m.salt = m.layer = NULL; /* owned by get_str: free_strings frees them */
    rc = read_defs(&r, &m, arms, ap, &forced, &fp);

    if (rc == 0)
        rc = store_record_pack(&m.base, out, olen);
    else if (rc == -EBADMSG)
        rc = store_record_bad(table, key, klen, "not a format 1 experiment definition");
    free_strings(&m);
    free(forced);
    free(fp);
    return rc;
}

/* ---- exposures ------------------------------------------------------------------- */

static int conv_request(const char *table, const void *key, size_t klen, const void *val,
                        size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__ExposureRequest m = PATRON__STORE__V1__EXPOSURE_REQUEST__INIT;
    char customer[LEGACY_ID];
    size_t cl = vlen - sizeof(int64_t);

    if (vlen < sizeof(int64_t) || cl >= sizeof customer)
        return store_record_bad(table, key, klen, "not a format 1 exposure request");
    memcpy(&m.time_ms, val, sizeof m.time_ms);
    memcpy(customer, (const char *)val + sizeof(int64_t), cl);
    customer[cl] = '\0';
    m.customer_id = customer;
    return store_record_pack(&m.base, out, olen);
}

static int conv_customer(const char *table, const void *key, size_t klen, const void *val,
                         size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__ExperimentCustomer m = PATRON__STORE__V1__EXPERIMENT_CUSTOMER__INIT;
    legacy_exp_customer_t r;

    if (vlen != sizeof r)
        return store_record_bad(table, key, klen, "not a format 1 row (size)");
    memcpy(&r, val, sizeof r);
    if (r.n_shown > LEGACY_MAX_SHOWN)
        return store_record_bad(table, key, klen, "format 1 row with too many items shown");
    m.arm_index = r.arm_index;
    m.forced = r.forced != 0;
    m.mixed = r.mixed != 0;
    m.first_ms = r.first_ms;
    m.last_ms = r.last_ms;
    m.exposures = r.exposures;
    m.items_shown = r.items_shown;
    m.n_shown = r.n_shown;
    m.shown = r.shown;
    return store_record_pack(&m.base, out, olen);
}

legacy_conv_fn store_legacy_exp_conv(const char *table)
{
    if (strcmp(table, "exp_defs") == 0)
        return conv_defs;
    if (strcmp(table, "exp_req") == 0)
        return conv_request;
    if (strcmp(table, "exp_cust") == 0)
        return conv_customer;
    return NULL;
}
