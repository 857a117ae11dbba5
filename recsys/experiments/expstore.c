/*
 * expstore.c - experiment definitions, exposures and results in store
 * tables (expstore.h).
 *
 * Tables:
 *   exp_defs   experiment id                 -> patron.store.v1.Experiment (expcodec.h)
 *   exp_req    request id NUL experiment id  -> patron.store.v1.ExposureRequest
 *   exp_cust   experiment id NUL customer id -> patron.store.v1.ExperimentCustomer
 */
#include "expstore.h"
#include "monotime.h"
#include "expcodec.h"
#include "store_record.h"
#include "grow.h"

#include <errno.h>
#include <patron/store/v1/experiments.pb-c.h>
#include <stdlib.h>
#include <string.h>

#define T_DEFS "exp_defs"
#define T_REQ "exp_req"
#define T_CUST "exp_cust"

typedef struct exp_customer {
    uint32_t arm_index;
    uint8_t forced, mixed;
    int64_t first_ms, last_ms;
    uint32_t exposures, items_shown;
    uint32_t n_shown;
    uint32_t shown[EXPSTORE_MAX_SHOWN];
} exp_customer_t;

/* ---- records ---------------------------------------------------------------------- */

static int customer_put(store_tx_t *tx, const void *key, size_t klen,
                        const exp_customer_t *c)
{
    Patron__Store__V1__ExperimentCustomer m = PATRON__STORE__V1__EXPERIMENT_CUSTOMER__INIT;
    m.arm_index = c->arm_index;
    m.forced = c->forced != 0;
    m.mixed = c->mixed != 0;
    m.first_ms = c->first_ms;
    m.last_ms = c->last_ms;
    m.exposures = c->exposures;
    m.items_shown = c->items_shown;
    m.n_shown = c->n_shown < EXPSTORE_MAX_SHOWN ? c->n_shown : EXPSTORE_MAX_SHOWN;
    m.shown = (uint32_t *)c->shown;
    return store_tx_put_record(tx, T_CUST, key, klen, &m.base);
}

static int customer_decode(const void *key, size_t klen, const void *val, size_t vlen,
                           exp_customer_t *c)
{
    Patron__Store__V1__ExperimentCustomer *m;
    int rc = store_record_unpack(&patron__store__v1__experiment_customer__descriptor,
                                 T_CUST, key, klen, val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    memset(c, 0, sizeof *c);
    if (m->n_shown <= EXPSTORE_MAX_SHOWN) {
        c->arm_index = m->arm_index;
        c->forced = m->forced != 0;
        c->mixed = m->mixed != 0;
        c->first_ms = m->first_ms;
        c->last_ms = m->last_ms;
        c->exposures = m->exposures;
        c->items_shown = m->items_shown;
        c->n_shown = (uint32_t)m->n_shown;
        if (m->n_shown)
            memcpy(c->shown, m->shown, m->n_shown * sizeof *c->shown);
    } else {
        rc = store_record_bad(T_CUST, key, klen, "shown: more items than this build keeps");
    }
    store_record_free(&m->base);
    return rc;
}

/* ---- definitions ----------------------------------------------------------------- */

typedef struct save_op {
    const experiment_t *e;
    const unsigned char *buf;
    size_t len;
} save_op_t;

/* In the writing transaction, so a publish (which keeps what stored
 * definitions pin, expstore_model_pinned) cannot drop a version between
 * this check and the commit. */
static int save_txn(store_tx_t *tx, void *ctx)
{
    const save_op_t *op = ctx;
    for (size_t i = 0; i < op->e->n_arms; i++) {
        int rc;
        if (!op->e->arms[i].model_version)
            continue;
        if ((rc = store_tx_model_exists(tx, op->e->arms[i].model_version)) <= 0)
            return rc ? rc : -ESTALE;
    }
    return store_tx_put(tx, T_DEFS, op->e->id, strlen(op->e->id), op->buf, op->len);
}

int expstore_save(store_t *s, const experiment_t *e)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = expcodec_encode(e, &buf, &len);

    if (rc == 0) {
        save_op_t op = { e, buf, len };
        rc = store_table_atomic(s, save_txn, &op);
    }
    free(buf);
    return rc;
}

static int pins_version(void *ctx, const void *key, size_t klen, const void *val,
                        size_t vlen)
{
    uint64_t version = *(const uint64_t *)ctx;
    experiment_t e;
    int rc, pinned = 0;

    if ((rc = expcodec_decode(val, vlen, &e)) == -EBADMSG)
        return store_record_bad(T_DEFS, key, klen,
                                "not a patron.store.v1.Experiment record in bounds");
    if (rc)
        return rc;
    for (size_t i = 0; i < e.n_arms && !pinned; i++)
        pinned = e.arms[i].model_version == version;
    free((void *)e.forced);
    return pinned; /* 1 stops the scan */
}

int expstore_model_pinned(store_tx_t *tx, void *ctx, uint64_t version)
{
    (void)ctx;
    return store_tx_scan(tx, T_DEFS, NULL, 0, pins_version, &version);
}

/* Request-id rows (value: the exposure time, customer id) logged before
 * *before_ms. */
static int request_older(void *ctx, const void *key, size_t klen, const void *val,
                         size_t vlen)
{
    Patron__Store__V1__ExposureRequest *m;
    int old;
    if (store_record_unpack(&patron__store__v1__exposure_request__descriptor, T_REQ, key,
                            klen, val, vlen, (ProtobufCMessage **)&m) != 0)
        return 0; /* unreadable rows are kept for a person to look at */
    old = m->time_ms < *(const int64_t *)ctx;
    store_record_free(&m->base);
    return old;
}

int expstore_prune_requests(store_t *s, int64_t before_ms, uint64_t *removed)
{
    if (!s || !removed)
        return -EINVAL;
    return store_table_prune(s, T_REQ, request_older, &before_ms, removed);
}

typedef struct load_ctx {
    expstore_defs_t *d;
    size_t cap;
} load_ctx_t;

static int load_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx_t *l = ctx;
    experiment_t e;
    int rc;

    if ((rc = expcodec_decode(val, vlen, &e)) == -EBADMSG)
        return store_record_bad(T_DEFS, key, klen,
                                "not a patron.store.v1.Experiment record in bounds");
    if (rc)
        return rc;
    if (GROW(l->d->defs, l->cap, l->d->n + 1) != 0) {
        free((void *)e.forced);
        return -ENOMEM;
    }
    l->d->defs[l->d->n++] = e;
    return 0;
}

int expstore_load(store_t *s, expstore_defs_t *out)
{
    load_ctx_t l = { out, 0 };
    int rc;
    memset(out, 0, sizeof *out);
    rc = store_table_scan(s, T_DEFS, NULL, 0, load_one, &l);
    if (rc)
        expstore_defs_free(out);
    return rc;
}

void expstore_defs_free(expstore_defs_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free((void *)d->defs[i].forced);
    free(d->defs);
    memset(d, 0, sizeof *d);
}

/* ---- exposures -------------------------------------------------------------------- */

/* "a NUL b" into buf (cap bytes); returns the length, 0 if it does not fit. */
static size_t pair_key(char *buf, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb > cap || la + 1 + lb > STORE_MAX_TABLE_KEY)
        return 0;
    memcpy(buf, a, la);
    buf[la] = '\0';
    memcpy(buf + la + 1, b, lb);
    return la + 1 + lb;
}

static void add_shown(exp_customer_t *c, const uint32_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t j;
        for (j = 0; j < c->n_shown && c->shown[j] != items[i]; j++)
            ;
        if (j == c->n_shown && c->n_shown < EXPSTORE_MAX_SHOWN)
            c->shown[c->n_shown++] = items[i];
    }
}

static int log_txn(store_tx_t *tx, void *ctx)
{
    const expstore_exposure_t *e = ctx;
    char rk[STORE_MAX_TABLE_KEY], ck[STORE_MAX_TABLE_KEY];
    size_t rl = pair_key(rk, sizeof rk, e->request_id, e->experiment_id);
    size_t cl = pair_key(ck, sizeof ck, e->experiment_id, e->customer_id);
    Patron__Store__V1__ExposureRequest req = PATRON__STORE__V1__EXPOSURE_REQUEST__INIT;
    exp_customer_t c;
    const void *val;
    size_t vlen;
    int rc;

    if (!rl || !cl || strlen(e->customer_id) > STORE_MAX_ID)
        return -EINVAL;
    rc = store_tx_get_ref(tx, T_REQ, rk, rl, &val, &vlen);
    if (rc == 0)
        return 0; /* this request was logged already */
    if (rc != -ENOENT)
        return rc;
    req.time_ms = e->time_ms;
    req.customer_id = (char *)e->customer_id;
    if ((rc = store_tx_put_record(tx, T_REQ, rk, rl, &req.base)) != 0)
        return rc;
    rc = store_tx_get_ref(tx, T_CUST, ck, cl, &val, &vlen);
    if (rc == 0)
        rc = customer_decode(ck, cl, val, vlen, &c);
    if (rc == -ENOENT) {
        memset(&c, 0, sizeof c);
        c.arm_index = e->arm_index;
        c.forced = e->forced ? 1 : 0;
        c.first_ms = e->time_ms;
    } else if (rc) {
        return rc;
    }
    if (c.arm_index != e->arm_index)
        c.mixed = 1;
    if (e->time_ms < c.first_ms)
        c.first_ms = e->time_ms;
    if (e->time_ms > c.last_ms)
        c.last_ms = e->time_ms;
    c.exposures++;
    c.items_shown += (uint32_t)e->n_items;
    add_shown(&c, e->items, e->n_items);
    return customer_put(tx, ck, cl, &c);
}

static int exposure_invalid(const expstore_exposure_t *e)
{
    return !e || !e->request_id || !e->request_id[0] || !e->customer_id ||
           !e->customer_id[0] || !e->experiment_id || !e->experiment_id[0];
}

int expstore_log(store_t *s, const expstore_exposure_t *e)
{
    if (exposure_invalid(e))
        return -EINVAL;
    return store_table_atomic(s, log_txn, (void *)e);
}

int expstore_log_tx(store_tx_t *tx, const expstore_exposure_t *e)
{
    if (!tx || exposure_invalid(e))
        return -EINVAL;
    return log_txn(tx, (void *)e);
}

/* ---- results ------------------------------------------------------------------------ */

typedef struct outcome {
    const exp_customer_t *c;
    int64_t window_ms, pre_ms;
    const double *unit_cost;
    uint32_t n_items;
    double revenue, margin, pre_spend;
    int bought;
    uint32_t clicks;
    uint8_t *clicked;   /* per shown slot */
} outcome_t;

static int shown_slot(const exp_customer_t *c, uint32_t item)
{
    for (uint32_t j = 0; j < c->n_shown; j++)
        if (c->shown[j] == item)
            return (int)j;
    return -1;
}

static int add_outcome(void *ctx, const store_event_rec_t *ev)
{
    outcome_t *o = ctx;
    int64_t t0 = o->c->first_ms;
    double amount = (double)ev->quantity * ev->unit_price;
    double cost = ev->item < o->n_items ? (double)ev->quantity * o->unit_cost[ev->item] : 0;
    int sign = ev->type == STORE_EVENT_PURCHASE ? 1 : ev->type == STORE_EVENT_REFUND ? -1 : 0;

    if (ev->time_ms < t0) {
        if (ev->time_ms >= t0 - o->pre_ms)
            o->pre_spend += sign * amount;
        return 0;
    }
    if (ev->time_ms >= t0 + o->window_ms)
        return 0;
    if (sign > 0)
        o->bought = 1;
    o->revenue += sign * amount;
    o->margin += sign * (amount - cost);
    {
        int slot = shown_slot(o->c, ev->item);
        if (slot >= 0 && !o->clicked[slot] &&
            (ev->type == STORE_EVENT_VIEW || ev->type == STORE_EVENT_PURCHASE ||
             ev->type == STORE_EVENT_CART)) {
            o->clicked[slot] = 1;
            o->clicks++;
        }
    }
    return 0;
}

typedef struct results_ctx {
    store_t *s;
    const experiment_t *e;
    int64_t window_ms, pre_ms;
    const double *unit_cost;
    uint32_t n_items;
    double deadline;
    unsigned visited;
    expstore_results_t *out;
} results_ctx_t;

static int visit_customer(void *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    results_ctx_t *r = ctx;
    const char *k = key;
    size_t el = strlen(r->e->id);
    char customer[STORE_MAX_ID + 1];
    exp_customer_t c;
    uint8_t clicked[EXPSTORE_MAX_SHOWN] = { 0 };
    outcome_t o = { &c, r->window_ms, r->pre_ms, r->unit_cost, r->n_items, 0, 0, 0, 0, 0,
                    clicked };
    expstore_arm_t *arm;
    uint32_t idx;
    int rc;

    if (r->deadline > 0 && (r->visited++ & 63) == 0 && monotime_seconds() >= r->deadline)
        return -ETIMEDOUT; /* the caller has given up: stop scanning */
    if (klen <= el + 1 || klen - el - 1 > STORE_MAX_ID)
        return store_record_bad(T_CUST, key, klen, "key: not experiment id NUL customer id");
    if ((rc = customer_decode(key, klen, val, vlen, &c)) != 0)
        return rc;
    memcpy(customer, k + el + 1, klen - el - 1);
    customer[klen - el - 1] = '\0';
    if (c.arm_index >= r->e->n_arms)
        return 0; /* arms changed under a stopped experiment */
    arm = &r->out->arms[c.arm_index];
    arm->exposures += c.exposures;
    if (c.mixed)
        r->out->mixed++;
    if (c.forced) {
        arm->forced++;
        return 0;
    }
    rc = store_customer_index(r->s, customer, &idx);
    if (rc == 0)
        rc = store_customer_events(r->s, idx, add_outcome, &o);
    else if (rc == -ENOENT)
        rc = 0; /* no events at all: did not convert */
    if (rc)
        return rc;
    arm->customers++;
    abstats_arm_add(&arm->conversion, o.bought, o.pre_spend, 0, 0);
    abstats_arm_add(&arm->revenue, o.revenue, o.pre_spend, 0, 0);
    abstats_arm_add(&arm->margin, o.margin, o.pre_spend, 0, 0);
    abstats_arm_add(&arm->ctr, 0, 0, o.clicks, c.n_shown);
    abstats_arm_add(&arm->rev_per_exposure, 0, 0, o.revenue, c.exposures);
    return 0;
}

int expstore_results(store_t *s, const experiment_t *e, const double *unit_cost,
                     uint32_t n_items, int64_t window_ms, int64_t pre_ms, double deadline,
                     expstore_results_t *out)
{
    char prefix[EXPERIMENT_MAX_ID + 2];
    size_t pl = strlen(e->id) + 1;
    results_ctx_t r = { s, e, window_ms, pre_ms, unit_cost, unit_cost ? n_items : 0,
                        deadline, 0, out };

    memset(out, 0, sizeof *out);
    out->n_arms = e->n_arms;
    for (size_t a = 0; a < e->n_arms; a++) {
        abstats_arm_init(&out->arms[a].conversion);
        abstats_arm_init(&out->arms[a].revenue);
        abstats_arm_init(&out->arms[a].margin);
        abstats_arm_init(&out->arms[a].ctr);
        abstats_arm_init(&out->arms[a].rev_per_exposure);
    }
    memcpy(prefix, e->id, pl); /* includes the NUL separator */
    return store_table_scan(s, T_CUST, prefix, pl, visit_customer, &r);
}

/* ---- one customer's rows: export and erasure ------------------------------------- */

/* The customer id of an exp_cust key ("experiment NUL customer"), or NULL. */
static const char *key_customer(const void *key, size_t klen, size_t *el)
{
    const char *nul = memchr(key, '\0', klen);
    if (!nul || (size_t)(nul - (const char *)key) > EXPERIMENT_MAX_ID)
        return NULL;
    *el = (size_t)(nul - (const char *)key);
    return nul + 1;
}

static int key_names(const void *key, size_t klen, const char *customer_id)
{
    size_t el, cl = strlen(customer_id);
    const char *c = key_customer(key, klen, &el);
    return c && klen - el - 1 == cl && memcmp(c, customer_id, cl) == 0;
}

typedef struct summary_scan {
    const char *customer_id;
    expstore_summary_fn cb;
    void *ctx;
} summary_scan_t;

static int visit_summary(void *ctx, const void *key, size_t klen, const void *val,
                         size_t vlen)
{
    summary_scan_t *sc = ctx;
    expstore_summary_t out;
    exp_customer_t c;
    size_t el = 0;
    int rc;

    if (!key_names(key, klen, sc->customer_id))
        return 0;
    if ((rc = customer_decode(key, klen, val, vlen, &c)) != 0)
        return rc;
    key_customer(key, klen, &el);
    memcpy(out.experiment_id, key, el);
    out.experiment_id[el] = '\0';
    out.arm_index = c.arm_index;
    out.forced = c.forced;
    out.mixed = c.mixed;
    out.first_ms = c.first_ms;
    out.last_ms = c.last_ms;
    out.exposures = c.exposures;
    out.items_shown = c.items_shown;
    out.n_shown = c.n_shown < EXPSTORE_MAX_SHOWN ? c.n_shown : EXPSTORE_MAX_SHOWN;
    memcpy(out.shown, c.shown, out.n_shown * sizeof out.shown[0]);
    return sc->cb(sc->ctx, &out);
}

int expstore_customer_summaries(store_t *s, const char *customer_id,
                                expstore_summary_fn cb, void *ctx)
{
    summary_scan_t sc = { customer_id, cb, ctx };
    if (!s || !cb || !customer_id || !customer_id[0])
        return -EINVAL;
    return store_table_scan(s, T_CUST, NULL, 0, visit_summary, &sc);
}

/* Keys of the customer's rows, gathered during the scan and deleted after
 * it. */
typedef struct doomed_keys {
    const char *customer_id;
    char (*key)[STORE_MAX_TABLE_KEY];
    size_t *len, n, cap;
} doomed_keys_t;

static int keep_key(doomed_keys_t *d, const void *key, size_t klen);

/* exp_cust rows of the customer. */
static int gather_customer(void *ctx, const void *key, size_t klen, const void *val,
                           size_t vlen)
{
    doomed_keys_t *d = ctx;
    (void)val;
    (void)vlen;
    return key_names(key, klen, d->customer_id) ? keep_key(d, key, klen) : 0;
}

static int keep_key(doomed_keys_t *d, const void *key, size_t klen)
{
    if (klen > STORE_MAX_TABLE_KEY)
        return -EIO;
    void *const cols[] = { &d->key, &d->len };
    const size_t sizes[] = { sizeof *d->key, sizeof *d->len };
    if (grow_parallel(&d->cap, d->n + 1, 2, cols, sizes) != 0)
        return -ENOMEM;
    memcpy(d->key[d->n], key, klen);
    d->len[d->n++] = klen;
    return 0;
}

/* exp_req rows whose value names the customer. */
static int gather_requests(void *ctx, const void *key, size_t klen, const void *val,
                           size_t vlen)
{
    doomed_keys_t *d = ctx;
    Patron__Store__V1__ExposureRequest *m;
    int rc = store_record_unpack(&patron__store__v1__exposure_request__descriptor, T_REQ,
                                 key, klen, val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    rc = strcmp(m->customer_id, d->customer_id) == 0 ? keep_key(d, key, klen) : 0;
    store_record_free(&m->base);
    return rc;
}

/* Deletes the rows of table that gather picks. */
static int forget_rows(store_tx_t *tx, const char *table, store_table_visit_fn gather,
                       const char *customer_id, uint64_t *rows)
{
    doomed_keys_t d = { customer_id, NULL, NULL, 0, 0 };
    int rc = store_tx_scan(tx, table, NULL, 0, gather, &d);
    for (size_t i = 0; rc == 0 && i < d.n; i++)
        rc = store_tx_del(tx, table, d.key[i], d.len[i]);
    if (rc == 0)
        *rows += d.n;
    free(d.key);
    free(d.len);
    return rc;
}

/* Definitions pinning the customer, decoded during the scan. */
typedef struct pinned_defs {
    const char *customer_id;
    load_ctx_t load;
} pinned_defs_t;

static int pins(const experiment_t *e, const char *customer_id)
{
    for (size_t i = 0; i < e->n_forced; i++)
        if (strcmp(e->forced[i].customer_id, customer_id) == 0)
            return 1;
    return 0;
}

static int gather_pinning(void *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    pinned_defs_t *p = ctx;
    size_t before = p->load.d->n;
    int rc = load_one(&p->load, key, klen, val, vlen);
    if (rc == 0 && !pins(&p->load.d->defs[before], p->customer_id)) {
        free((void *)p->load.d->defs[before].forced);
        p->load.d->n = before;
    }
    return rc;
}

/* Rewrites the definitions that pin the customer without the pin. */
static int unpin(store_tx_t *tx, const char *customer_id, uint64_t *rows)
{
    expstore_defs_t defs = { NULL, 0 };
    pinned_defs_t p = { customer_id, { &defs, 0 } };
    int rc = store_tx_scan(tx, T_DEFS, NULL, 0, gather_pinning, &p);

    for (size_t i = 0; rc == 0 && i < defs.n; i++) {
        experiment_t *e = &defs.defs[i];
        experiment_forced_t *f = (experiment_forced_t *)e->forced; /* decoded: ours */
        unsigned char *buf = NULL;
        size_t n = 0, len = 0;
        for (size_t j = 0; j < e->n_forced; j++)
            if (strcmp(f[j].customer_id, customer_id) != 0)
                f[n++] = f[j];
        e->n_forced = n;
        if ((rc = expcodec_encode(e, &buf, &len)) == 0)
            rc = store_tx_put(tx, T_DEFS, e->id, strlen(e->id), buf, len);
        free(buf);
        if (rc == 0)
            (*rows)++;
    }
    expstore_defs_free(&defs);
    return rc;
}

int expstore_tx_forget_customer(store_tx_t *tx, const char *customer_id,
                                uint64_t *rows)
{
    int rc;
    if (!tx || !rows || !customer_id || !customer_id[0])
        return -EINVAL;
    *rows = 0;
    if ((rc = forget_rows(tx, T_CUST, gather_customer, customer_id, rows)) == 0 &&
        (rc = forget_rows(tx, T_REQ, gather_requests, customer_id, rows)) == 0)
        rc = unpin(tx, customer_id, rows);
    return rc;
}
