/*
 * couponstore.c - coupon targeting's state in the store's generic tables
 * (contract in couponstore.h).
 *
 * Tables (keys are ids as bytes, without NUL):
 *   coupon   coupon id      -> coupon_row_t
 *   cbudget  campaign id    -> couponstore_budget_t
 *   chist    customer id    -> couponstore_history_t
 *   cvel     "d:" / "a:" id -> vel_row_t (hashes of the accounts seen)
 *   coffer   request id     -> couponstore_offer_t
 *   credeem  redemption id  -> redeem_row_t
 *   cmodel   coupon id / "default" -> uplift_model_t
 *
 * The whole decision runs inside the grant's write transaction, not only
 * the budget check: the history it reads (frequency cap, an active copy of
 * the same coupon) must still hold when the grant commits, or two
 * concurrent requests for one customer could both pass the cap. The
 * decision is microseconds of arithmetic; the profile read that feeds it
 * happens before, outside the lock.
 */
#include "couponstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define T_COUPON "coupon"
#define T_BUDGET "cbudget"
#define T_HIST "chist"
#define T_VEL "cvel"
#define T_OFFER "coffer"
#define T_REDEEM "credeem"
#define T_MODEL "cmodel"

#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL
#define PACER_MIN_STEP_MS 1000   /* pacer updates at most once a second */
#define MONEY_EPS 1e-9           /* float slack when comparing amounts */

typedef struct coupon_row {
    uint32_t version;
    coupon_t c;
} coupon_row_t;

typedef struct vel_row {
    uint32_t version;
    uint32_t n;                  /* accounts seen (may exceed the hashes kept) */
    uint64_t h[COUPONSTORE_MAX_ACCOUNTS];
} vel_row_t;

typedef struct redeem_row {
    uint32_t version;
    char customer_id[STORE_MAX_ID + 1];
    char coupon_id[COUPON_ID_MAX];
    char campaign[COUPON_ID_MAX];
    double discount;
    int64_t time_ms;
} redeem_row_t;

static int id_ok(const char *id, size_t max)
{
    return id && id[0] && strlen(id) < max;
}

/* Reads a fixed-size row; -EIO when its size or version is not this build's. */
static int row_get(store_tx_t *tx, const char *table, const char *key, void *row,
                   size_t size)
{
    size_t len = 0;
    int rc = store_tx_get(tx, table, key, strlen(key), row, size, &len);
    if (rc == -EINVAL)
        return -EIO;
    if (rc)
        return rc;
    if (len != size || *(const uint32_t *)row != COUPONSTORE_VERSION)
        return -EIO;
    return 0;
}

static int row_put(store_tx_t *tx, const char *table, const char *key,
                   const void *row, size_t size)
{
    return store_tx_put(tx, table, key, strlen(key), row, size);
}

/* store_table_get of a fixed-size row, outside any write transaction. */
static int row_read(store_t *s, const char *table, const char *key, void *row,
                    size_t size)
{
    void *v = NULL;
    size_t len = 0;
    int rc = store_table_get(s, table, key, strlen(key), &v, &len);
    if (rc == 0 && (len != size || *(const uint32_t *)v != COUPONSTORE_VERSION))
        rc = -EIO;
    if (rc == 0)
        memcpy(row, v, size);
    free(v);
    return rc;
}

/* Offer rows are mostly unused room in fixed-size strings, and every
 * TargetCoupons call writes one: they are stored deflated (about a fifth of
 * the raw size). A value of exactly the row's size is a raw row, as earlier
 * builds wrote them, and still reads. */
#define OFFER_PACKED_MAX (sizeof(couponstore_offer_t) + 64)

static int offer_pack(const couponstore_offer_t *o, unsigned char *buf, size_t *len)
{
    uLongf n = OFFER_PACKED_MAX;
    if (compress2(buf, &n, (const Bytef *)o, sizeof *o, Z_BEST_SPEED) != Z_OK ||
        n == sizeof *o) /* never ambiguous with a raw row */
        return -EIO;
    *len = n;
    return 0;
}

static int offer_unpack(const void *val, size_t vlen, couponstore_offer_t *o)
{
    uLongf n = sizeof *o;
    if (vlen == sizeof *o)
        memcpy(o, val, sizeof *o); /* LMDB memory need not be aligned */
    else if (uncompress((Bytef *)o, &n, val, vlen) != Z_OK || n != sizeof *o)
        return -EIO;
    return o->version == COUPONSTORE_VERSION ? 0 : -EIO;
}

static int offer_get(store_tx_t *tx, const char *request_id, couponstore_offer_t *o)
{
    unsigned char buf[OFFER_PACKED_MAX];
    size_t len = 0;
    int rc = store_tx_get(tx, T_OFFER, request_id, strlen(request_id), buf, sizeof buf, &len);
    if (rc == -EINVAL)
        return -EIO;
    return rc ? rc : offer_unpack(buf, len, o);
}

static int offer_put(store_tx_t *tx, const char *request_id, const couponstore_offer_t *o)
{
    unsigned char buf[OFFER_PACKED_MAX];
    size_t len = 0;
    int rc = offer_pack(o, buf, &len);
    return rc ? rc : store_tx_put(tx, T_OFFER, request_id, strlen(request_id), buf, len);
}

static void copy_id(char *dst, const char *src, size_t cap)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- catalog -------------------------------------------------------------------- */

typedef struct put_ctx {
    const coupon_t *c;
    int created;
} put_ctx_t;

static void budget_cover(couponstore_budget_t *b, const coupon_t *c)
{
    b->budget = c->campaign_budget;
    b->pacer.budget = c->campaign_budget;
    if (c->valid_from_ms < b->pacer.start_ms)
        b->pacer.start_ms = c->valid_from_ms;
    if (c->valid_until_ms > b->pacer.end_ms)
        b->pacer.end_ms = c->valid_until_ms;
}

static int put_coupon_fn(store_tx_t *tx, void *ctx)
{
    put_ctx_t *p = ctx;
    coupon_row_t row, old;
    couponstore_budget_t b;
    int rc;

    /* Rows go to disk byte for byte: no uninitialized padding. */
    memset(&row, 0, sizeof row);
    memset(&b, 0, sizeof b);
    row.version = COUPONSTORE_VERSION;
    memcpy(&row.c, p->c, sizeof row.c);
    rc = row_get(tx, T_COUPON, p->c->id, &old, sizeof old);

    if (rc && rc != -ENOENT)
        return rc;
    p->created = rc == -ENOENT;
    if ((rc = row_put(tx, T_COUPON, p->c->id, &row, sizeof row)) != 0)
        return rc;
    rc = row_get(tx, T_BUDGET, p->c->campaign, &b, sizeof b);
    if (rc == -ENOENT) {
        memset(&b, 0, sizeof b);
        b.version = COUPONSTORE_VERSION;
        rc = uplift_pacer_init(&b.pacer, p->c->campaign_budget, p->c->valid_from_ms,
                               p->c->valid_until_ms, NULL);
        b.pacer.last_ms = p->c->valid_from_ms;
    }
    if (rc)
        return rc;
    budget_cover(&b, p->c);
    return row_put(tx, T_BUDGET, p->c->campaign, &b, sizeof b);
}

int couponstore_put_coupon(store_t *s, const coupon_t *c, int *created,
                           const char **why)
{
    put_ctx_t p = { c, 0 };
    const char *bad;
    int rc;

    if (why)
        *why = NULL;
    if (!s || !c)
        return -EINVAL;
    if ((bad = coupon_invalid(c)) != NULL) {
        if (why)
            *why = bad;
        return -EINVAL;
    }
    if ((rc = store_table_atomic(s, put_coupon_fn, &p)) == 0 && created)
        *created = p.created;
    return rc;
}

int couponstore_get_coupon(store_t *s, const char *id, coupon_t *out)
{
    coupon_row_t row;
    int rc;
    if (!s || !id_ok(id, COUPON_ID_MAX) || !out)
        return -EINVAL;
    if ((rc = row_read(s, T_COUPON, id, &row, sizeof row)) == 0)
        *out = row.c;
    return rc;
}

typedef struct catalog_acc {
    coupon_t *v;
    size_t n, cap;
} catalog_acc_t;

static int collect_coupon(void *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    catalog_acc_t *acc = ctx;
    coupon_row_t row;
    (void)key;
    (void)klen;
    if (vlen != sizeof row)
        return -EIO;
    memcpy(&row, val, sizeof row); /* LMDB memory need not be aligned */
    if (row.version != COUPONSTORE_VERSION)
        return -EIO;
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? acc->cap * 2 : 16;
        coupon_t *v = realloc(acc->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        acc->v = v;
        acc->cap = cap;
    }
    acc->v[acc->n++] = row.c;
    return 0;
}

int couponstore_load_catalog(store_t *s, coupon_t **out, size_t *n)
{
    catalog_acc_t acc = { NULL, 0, 0 };
    int rc;
    if (!s || !out || !n)
        return -EINVAL;
    rc = store_table_scan(s, T_COUPON, NULL, 0, collect_coupon, &acc);
    if (rc) {
        free(acc.v);
        acc.v = NULL;
        acc.n = 0;
    }
    *out = acc.v;
    *n = acc.n;
    return rc;
}

int couponstore_get_budget(store_t *s, const char *campaign, couponstore_budget_t *out)
{
    if (!s || !id_ok(campaign, COUPON_ID_MAX) || !out)
        return -EINVAL;
    return row_read(s, T_BUDGET, campaign, out, sizeof *out);
}

/* ---- history ------------------------------------------------------------------------ */

static void history_empty(couponstore_history_t *h)
{
    memset(h, 0, sizeof *h);
    h->version = COUPONSTORE_VERSION;
}

static int history_tx_get(store_tx_t *tx, const char *customer_id,
                          couponstore_history_t *h)
{
    int rc = row_get(tx, T_HIST, customer_id, h, sizeof *h);
    if (rc == -ENOENT) {
        history_empty(h);
        rc = 0;
    }
    return rc;
}

int couponstore_get_history(store_t *s, const char *customer_id,
                            couponstore_history_t *out)
{
    int rc;
    if (!s || !id_ok(customer_id, STORE_MAX_ID + 1) || !out)
        return -EINVAL;
    rc = row_read(s, T_HIST, customer_id, out, sizeof *out);
    if (rc == -ENOENT) {
        history_empty(out);
        rc = 0;
    }
    return rc;
}

static int held_active(const couponstore_held_t *e, int64_t now_ms)
{
    return e->active && e->valid_until_ms > now_ms;
}

static size_t ring_len(uint32_t count, size_t cap)
{
    return count < cap ? count : cap;
}

void couponstore_history_view(const couponstore_history_t *h, int64_t now_ms,
                              coupon_held_t held[COUPONSTORE_MAX_HELD],
                              coupon_history_t *out)
{
    size_t n = h->n_held < COUPONSTORE_MAX_HELD ? h->n_held : COUPONSTORE_MAX_HELD;
    for (size_t i = 0; i < n; i++) {
        held[i].coupon_id = h->held[i].coupon_id;
        held[i].granted = h->held[i].granted;
        held[i].active = held_active(&h->held[i], now_ms) ? 1 : 0;
        held[i].stackable = h->held[i].stackable;
    }
    out->held = held;
    out->n_held = n;
    out->grant_ms = h->grant_ms;
    out->n_grant_ms = ring_len(h->n_grants, COUPONSTORE_MAX_GRANTS);
    out->welcome_pack_received = h->welcome_pack != 0;
}

static couponstore_held_t *held_find(couponstore_history_t *h, const char *coupon_id)
{
    for (uint32_t i = 0; i < h->n_held && i < COUPONSTORE_MAX_HELD; i++)
        if (strcmp(h->held[i].coupon_id, coupon_id) == 0)
            return &h->held[i];
    return NULL;
}

/* The entry for coupon_id, made if needed; when the history is full the
 * inactive entry granted longest ago is reused (its lifetime count is
 * forgotten). NULL when every entry holds an active grant. */
static couponstore_held_t *held_slot(couponstore_history_t *h, const char *coupon_id)
{
    couponstore_held_t *e = held_find(h, coupon_id), *old = NULL;
    if (e)
        return e;
    if (h->n_held < COUPONSTORE_MAX_HELD) {
        e = &h->held[h->n_held++];
    } else {
        for (size_t i = 0; i < COUPONSTORE_MAX_HELD; i++)
            if (!h->held[i].active &&
                (!old || h->held[i].last_grant_ms < old->last_grant_ms))
                old = &h->held[i];
        if (!(e = old))
            return NULL;
    }
    memset(e, 0, sizeof *e);
    copy_id(e->coupon_id, coupon_id, sizeof e->coupon_id);
    return e;
}

static uint32_t count_since(const int64_t *t, size_t n, int64_t from_ms, int64_t now_ms)
{
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += t[i] > from_ms && t[i] <= now_ms;
    return k;
}

/* ---- budgets inside a transaction ------------------------------------------------------- */

static int budget_tx_get(store_tx_t *tx, const char *campaign, couponstore_budget_t *b)
{
    int rc = row_get(tx, T_BUDGET, campaign, b, sizeof *b);
    if (rc == -ENOENT) { /* a campaign without an account can grant nothing */
        memset(b, 0, sizeof *b);
        b->version = COUPONSTORE_VERSION;
        uplift_pacer_config_default(&b->pacer.cfg);
        b->pacer.lambda = b->pacer.cfg.lambda_min;
        rc = 0;
    }
    return rc;
}

static void release(couponstore_budget_t *b, double amount)
{
    b->committed -= amount;
    if (b->committed < MONEY_EPS) /* float residue of many adds and subtracts */
        b->committed = 0.0;
}

/* Expired grants give their reservation back. */
static int expire_grants(store_tx_t *tx, couponstore_history_t *h, int64_t now_ms,
                         int *changed)
{
    for (uint32_t i = 0; i < h->n_held && i < COUPONSTORE_MAX_HELD; i++) {
        couponstore_held_t *e = &h->held[i];
        couponstore_budget_t b;
        int rc;
        if (!e->active || e->valid_until_ms > now_ms)
            continue;
        if ((rc = budget_tx_get(tx, e->campaign, &b)) != 0)
            return rc;
        release(&b, e->reserved);
        if ((rc = row_put(tx, T_BUDGET, e->campaign, &b, sizeof b)) != 0)
            return rc;
        e->active = 0;
        e->reserved = 0.0;
        *changed = 1;
    }
    return 0;
}

/* ---- velocity ------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Counts the customer on device / address `id` (kind 'd' or 'a'); *accounts
 * gets the number of distinct accounts seen there. */
static int velocity_touch(store_tx_t *tx, char kind, const char *id,
                          const char *customer_id, uint32_t *accounts)
{
    char key[STORE_MAX_TABLE_KEY + 1];
    uint64_t h = fnv1a(customer_id);
    vel_row_t row;
    int rc;

    *accounts = 0;
    if (!id || !id[0])
        return 0;
    if (strlen(id) + 2 > STORE_MAX_TABLE_KEY)
        return -EINVAL;
    key[0] = kind;
    key[1] = ':';
    strcpy(key + 2, id);
    rc = row_get(tx, T_VEL, key, &row, sizeof row);
    if (rc == -ENOENT) {
        memset(&row, 0, sizeof row);
        row.version = COUPONSTORE_VERSION;
    } else if (rc) {
        return rc;
    }
    for (uint32_t i = 0; i < row.n && i < COUPONSTORE_MAX_ACCOUNTS; i++)
        if (row.h[i] == h) {
            *accounts = row.n;
            return 0;
        }
    if (row.n < COUPONSTORE_MAX_ACCOUNTS)
        row.h[row.n] = h;
    row.n++; /* beyond the hashes kept every new look counts: more, not fewer */
    *accounts = row.n;
    return row_put(tx, T_VEL, key, &row, sizeof row);
}

/* ---- the decision and the grant ---------------------------------------------------------- */

typedef struct target_ctx {
    const couponstore_target_t *t;
    const coupon_config_t *cfg;
    couponstore_offer_t *out;
    int replayed;
    /* scratch, n each */
    coupon_t *cands;            /* candidates still in play */
    size_t n_cands;
    uplift_model_t *models;
    const uplift_model_t **mp;
    double *lambdas;
    coupon_option_t *opts;
    couponstore_budget_t *budgets; /* per campaign */
    char (*campaigns)[COUPON_ID_MAX];
    size_t n_campaigns;
    int *camp_dirty;
    couponstore_history_t hist;
} target_ctx_t;

static size_t campaign_index(target_ctx_t *c, const char *campaign)
{
    for (size_t i = 0; i < c->n_campaigns; i++)
        if (strcmp(c->campaigns[i], campaign) == 0)
            return i;
    copy_id(c->campaigns[c->n_campaigns], campaign, COUPON_ID_MAX);
    return c->n_campaigns++;
}

static int load_models(store_tx_t *tx, target_ctx_t *c)
{
    uplift_model_t def;
    int have_def, rc;
    size_t len;

    rc = store_tx_get(tx, T_MODEL, COUPONSTORE_DEFAULT_MODEL,
                      strlen(COUPONSTORE_DEFAULT_MODEL), &def, sizeof def, &len);
    have_def = rc == 0 && len == sizeof def && def.version == UPLIFT_MODEL_VERSION;
    if (rc && rc != -ENOENT && rc != -EINVAL)
        return rc;
    for (size_t i = 0; i < c->n_cands; i++) {
        const char *id = c->cands[i].id;
        rc = store_tx_get(tx, T_MODEL, id, strlen(id), &c->models[i],
                          sizeof c->models[i], &len);
        if (rc == 0 && len == sizeof c->models[i] &&
            c->models[i].version == UPLIFT_MODEL_VERSION)
            c->mp[i] = &c->models[i];
        else if (rc && rc != -ENOENT && rc != -EINVAL)
            return rc;
        else
            c->mp[i] = have_def ? &c->models[c->n_cands] : NULL;
    }
    if (have_def)
        c->models[c->n_cands] = def; /* one spare slot, see target_alloc */
    return 0;
}

/* Reads the candidates' campaign accounts and paces them. */
static int load_budgets(store_tx_t *tx, target_ctx_t *c, int64_t now_ms)
{
    for (size_t i = 0; i < c->n_cands; i++) {
        size_t k = campaign_index(c, c->cands[i].campaign);
        couponstore_budget_t *b = &c->budgets[k];
        int rc;
        if (k + 1 == c->n_campaigns) {
            if ((rc = budget_tx_get(tx, c->campaigns[k], b)) != 0)
                return rc;
            if (b->budget > 0 && b->pacer.end_ms > b->pacer.start_ms &&
                now_ms - b->pacer.last_ms >= PACER_MIN_STEP_MS) {
                /* Paced on committed spend: reservations are what the hard
                 * cap counts, so this is the spend that must last. */
                uplift_pacer_update(&b->pacer, b->spent + b->committed, now_ms);
                c->camp_dirty[k] = 1;
            }
        }
        c->lambdas[i] = c->t->lambda > 0 ? c->t->lambda
                        : b->pacer.lambda > 0 ? b->pacer.lambda : 1.0;
    }
    return 0;
}

/* Removes candidate i (its campaign cannot pay for it). */
static void drop_candidate(target_ctx_t *c, size_t i)
{
    size_t last = c->n_cands - 1;
    c->cands[i] = c->cands[last];
    c->mp[i] = c->mp[last];
    c->lambdas[i] = c->lambdas[last];
    c->n_cands = last;
}

static void offer_fill(couponstore_offer_t *o, const couponstore_target_t *t,
                       const coupon_decision_t *d, const coupon_t *chosen,
                       const coupon_t *best, double max_cost)
{
    memset(o, 0, sizeof *o);
    o->version = COUPONSTORE_VERSION;
    copy_id(o->request_id, t->request_id, sizeof o->request_id);
    copy_id(o->customer_id, t->cust->customer_id, sizeof o->customer_id);
    o->time_ms = t->now_ms;
    o->x = t->cust->x;
    if (chosen)
        copy_id(o->coupon_id, chosen->id, sizeof o->coupon_id);
    if (chosen || best)
        copy_id(o->campaign, (chosen ? chosen : best)->campaign, sizeof o->campaign);
    o->outcome = (int32_t)d->outcome;
    o->assign_prob = d->assign_prob;
    o->max_cost = max_cost;
    o->numbers = d->chosen;
    copy_id(o->reason, d->reason, sizeof o->reason);
}

static int record_grant(target_ctx_t *c, const coupon_t *cp, couponstore_budget_t *b,
                        double max_cost)
{
    couponstore_history_t *h = &c->hist;
    couponstore_held_t *e = held_slot(h, cp->id);
    if (!e)
        return -ENOSPC;
    copy_id(e->campaign, cp->campaign, sizeof e->campaign);
    e->granted++;
    e->active = 1;
    e->uses_left = (uint32_t)cp->n_benefits;
    e->stackable = cp->stackable != 0;
    e->reserved = max_cost;
    e->valid_until_ms = cp->valid_until_ms;
    e->last_grant_ms = c->t->now_ms;
    h->grant_ms[h->n_grants % COUPONSTORE_MAX_GRANTS] = c->t->now_ms;
    h->n_grants++;
    if (cp->type == COUPON_WELCOME_PACK)
        h->welcome_pack = 1;
    b->committed += max_cost;
    b->grants++;
    return 0;
}

/* coupon_decide until the choice fits its campaign's budget (or is none). */
static int decide_within_budget(target_ctx_t *c, const coupon_velocity_t *vel,
                                coupon_decision_t *d, double *max_cost)
{
    const couponstore_target_t *t = c->t;
    coupon_held_t held[COUPONSTORE_MAX_HELD];
    coupon_history_t hv;
    int dropped = 0;

    couponstore_history_view(&c->hist, t->now_ms, held, &hv);
    for (;;) {
        size_t n_opt = 0;
        int rc = coupon_decide(c->cands, c->n_cands, c->mp, c->lambdas, t->cust, &hv,
                               vel, c->cfg, t->now_ms, d, c->opts, &n_opt);
        const coupon_t *cp;
        couponstore_budget_t *b;
        if (rc)
            return rc;
        if (d->choice == COUPON_NONE) {
            if (dropped && d->outcome == COUPON_NONE_INELIGIBLE)
                snprintf(d->reason, sizeof d->reason,
                         "no coupon: the eligible coupons' campaigns have no budget left");
            return 0;
        }
        cp = &c->cands[d->choice];
        b = &c->budgets[campaign_index(c, cp->campaign)];
        *max_cost = coupon_max_cost(cp, d->chosen.threshold);
        if (uplift_grant_fits(b->budget, b->spent + b->committed, *max_cost))
            return 0;
        drop_candidate(c, (size_t)d->choice);
        dropped = 1;
    }
}

static int target_fn(store_tx_t *tx, void *ctx)
{
    target_ctx_t *c = ctx;
    const couponstore_target_t *t = c->t;
    const char *cid = t->cust->customer_id;
    coupon_velocity_t vel = { 0 };
    coupon_decision_t d;
    double max_cost = 0.0;
    int hist_dirty = 0, rc;
    size_t nr;

    rc = offer_get(tx, t->request_id, c->out);
    if (rc == 0) {
        c->replayed = 1;
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    if ((rc = velocity_touch(tx, 'd', t->device_id, cid, &vel.accounts_on_device)) ||
        (rc = velocity_touch(tx, 'a', t->address_id, cid, &vel.accounts_on_address)) ||
        (rc = history_tx_get(tx, cid, &c->hist)) ||
        (rc = expire_grants(tx, &c->hist, t->now_ms, &hist_dirty)) ||
        (rc = load_models(tx, c)) || (rc = load_budgets(tx, c, t->now_ms)))
        return rc;
    nr = ring_len(c->hist.n_redeems, COUPONSTORE_MAX_REDEEMS);
    vel.redemptions_last_hour =
        count_since(c->hist.redeem_ms, nr, t->now_ms - MS_PER_HOUR, t->now_ms);
    vel.redemptions_last_day =
        count_since(c->hist.redeem_ms, nr, t->now_ms - MS_PER_DAY, t->now_ms);
    if ((rc = decide_within_budget(c, &vel, &d, &max_cost)) != 0)
        return rc;
    if (d.choice != COUPON_NONE) {
        const coupon_t *cp = &c->cands[d.choice];
        size_t k = campaign_index(c, cp->campaign);
        if ((rc = record_grant(c, cp, &c->budgets[k], max_cost)) != 0)
            return rc;
        c->camp_dirty[k] = 1;
        hist_dirty = 1;
        offer_fill(c->out, t, &d, cp, NULL, max_cost);
    } else {
        const coupon_t *best = d.chosen.index >= 0 && (size_t)d.chosen.index < c->n_cands
                                   ? &c->cands[d.chosen.index] : NULL;
        offer_fill(c->out, t, &d, NULL, best, 0.0);
    }
    for (size_t k = 0; k < c->n_campaigns; k++)
        if (c->camp_dirty[k] &&
            (rc = row_put(tx, T_BUDGET, c->campaigns[k], &c->budgets[k],
                          sizeof c->budgets[k])) != 0)
            return rc;
    if (hist_dirty && (rc = row_put(tx, T_HIST, cid, &c->hist, sizeof c->hist)) != 0)
        return rc;
    return offer_put(tx, t->request_id, c->out);
}

static void target_free(target_ctx_t *c)
{
    free(c->cands);
    free(c->models);
    free(c->mp);
    free(c->lambdas);
    free(c->opts);
    free(c->budgets);
    free(c->campaigns);
    free(c->camp_dirty);
}

static int target_alloc(target_ctx_t *c, size_t n)
{
    size_t m = n ? n : 1;
    c->cands = malloc(m * sizeof *c->cands);
    c->models = malloc((n + 1) * sizeof *c->models); /* + the default model */
    c->mp = malloc(m * sizeof *c->mp);
    c->lambdas = malloc(m * sizeof *c->lambdas);
    c->opts = malloc(m * sizeof *c->opts);
    c->budgets = malloc(m * sizeof *c->budgets);
    c->campaigns = malloc(m * sizeof *c->campaigns);
    c->camp_dirty = calloc(m, sizeof *c->camp_dirty);
    if (!c->cands || !c->models || !c->mp || !c->lambdas || !c->opts || !c->budgets ||
        !c->campaigns || !c->camp_dirty)
        return -ENOMEM;
    return 0;
}

int couponstore_target(store_t *s, const couponstore_target_t *t,
                       couponstore_offer_t *out, int *replayed)
{
    target_ctx_t c;
    coupon_config_t def;
    int rc;

    if (!s || !t || !out || !t->cust || !id_ok(t->cust->customer_id, STORE_MAX_ID + 1) ||
        !id_ok(t->request_id, COUPONSTORE_REQUEST_ID_MAX) || (t->n && !t->catalog))
        return -EINVAL;
    if (!t->cfg)
        coupon_config_default(&def);
    memset(&c, 0, sizeof c);
    c.t = t;
    c.cfg = t->cfg ? t->cfg : &def;
    c.out = out;
    if ((rc = target_alloc(&c, t->n)) == 0) {
        if (t->n)
            memcpy(c.cands, t->catalog, t->n * sizeof *c.cands);
        c.n_cands = t->n;
        rc = store_table_atomic(s, target_fn, &c);
    }
    if (rc == 0 && replayed)
        *replayed = c.replayed;
    target_free(&c);
    return rc;
}

int couponstore_get_offer(store_t *s, const char *request_id, couponstore_offer_t *out)
{
    if (!s || !id_ok(request_id, COUPONSTORE_REQUEST_ID_MAX) || !out)
        return -EINVAL;
    void *v = NULL;
    size_t len = 0;
    int rc = store_table_get(s, T_OFFER, request_id, strlen(request_id), &v, &len);
    if (rc == 0)
        rc = offer_unpack(v, len, out);
    free(v);
    return rc;
}

typedef struct offer_scan {
    couponstore_offer_fn cb;
    void *ctx;
} offer_scan_t;

static int visit_offer(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    offer_scan_t *sc = ctx;
    couponstore_offer_t o;
    int rc;
    (void)key;
    (void)klen;
    if ((rc = offer_unpack(val, vlen, &o)) != 0)
        return rc;
    return sc->cb(sc->ctx, &o);
}

int couponstore_scan_offers(store_t *s, couponstore_offer_fn cb, void *ctx)
{
    offer_scan_t sc = { cb, ctx };
    if (!s || !cb)
        return -EINVAL;
    return store_table_scan(s, T_OFFER, NULL, 0, visit_offer, &sc);
}

/* Offer rows decided before *before_ms (unreadable rows are kept for a
 * person to look at). */
static int offer_older(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    couponstore_offer_t o;
    (void)key;
    (void)klen;
    return offer_unpack(val, vlen, &o) == 0 && o.time_ms < *(const int64_t *)ctx;
}

int couponstore_prune_offers(store_t *s, int64_t before_ms, uint64_t *removed)
{
    if (!s || !removed)
        return -EINVAL;
    return store_table_prune(s, T_OFFER, offer_older, &before_ms, removed);
}

/* ---- redemptions ------------------------------------------------------------------------ */

typedef struct redeem_ctx {
    const couponstore_redemption_t *r;
    couponstore_budget_t after;
    int duplicate;
} redeem_ctx_t;

static void apply_redemption(couponstore_held_t *e, couponstore_budget_t *b,
                             double discount)
{
    release(b, discount);
    b->spent += discount;
    b->redemptions++;
    e->reserved -= discount;
    if (e->uses_left > 0)
        e->uses_left--;
    if (e->uses_left == 0) { /* the grant is used up: free what it still holds */
        release(b, e->reserved > 0 ? e->reserved : 0.0);
        e->reserved = 0.0;
        e->active = 0;
    }
}

static int redeem_fn(store_tx_t *tx, void *ctx)
{
    redeem_ctx_t *c = ctx;
    const couponstore_redemption_t *r = c->r;
    redeem_row_t row;
    couponstore_history_t h;
    couponstore_held_t *e;
    int rc = row_get(tx, T_REDEEM, r->redemption_id, &row, sizeof row);

    if (rc == 0) {
        c->duplicate = 1;
        return budget_tx_get(tx, row.campaign, &c->after);
    }
    if (rc != -ENOENT)
        return rc;
    if ((rc = history_tx_get(tx, r->customer_id, &h)) != 0)
        return rc;
    e = held_find(&h, r->coupon_id);
    if (!e || !held_active(e, r->time_ms))
        return -ENOENT;
    if (r->discount > e->reserved + MONEY_EPS)
        return -ERANGE;
    if ((rc = budget_tx_get(tx, e->campaign, &c->after)) != 0)
        return rc;
    apply_redemption(e, &c->after, r->discount);
    h.redeem_ms[h.n_redeems % COUPONSTORE_MAX_REDEEMS] = r->time_ms;
    h.n_redeems++;
    memset(&row, 0, sizeof row);
    row.version = COUPONSTORE_VERSION;
    copy_id(row.customer_id, r->customer_id, sizeof row.customer_id);
    copy_id(row.coupon_id, r->coupon_id, sizeof row.coupon_id);
    copy_id(row.campaign, e->campaign, sizeof row.campaign);
    row.discount = r->discount;
    row.time_ms = r->time_ms;
    if ((rc = row_put(tx, T_BUDGET, e->campaign, &c->after, sizeof c->after)) != 0 ||
        (rc = row_put(tx, T_HIST, r->customer_id, &h, sizeof h)) != 0)
        return rc;
    return row_put(tx, T_REDEEM, r->redemption_id, &row, sizeof row);
}

int couponstore_redeem(store_t *s, const couponstore_redemption_t *r,
                       couponstore_budget_t *after, int *duplicate)
{
    redeem_ctx_t c;
    int rc;
    if (!s || !r || !id_ok(r->redemption_id, COUPONSTORE_REQUEST_ID_MAX) ||
        !id_ok(r->customer_id, STORE_MAX_ID + 1) || !id_ok(r->coupon_id, COUPON_ID_MAX) ||
        !(r->discount >= 0.0 && r->discount <= STORE_MAX_PRICE))
        return -EINVAL;
    memset(&c, 0, sizeof c);
    c.r = r;
    rc = store_table_atomic(s, redeem_fn, &c);
    if (rc == 0) {
        if (after)
            *after = c.after;
        if (duplicate)
            *duplicate = c.duplicate;
    }
    return rc;
}

/* ---- models and training data ------------------------------------------------------------ */

int couponstore_put_model(store_t *s, const char *key, const uplift_model_t *m)
{
    if (!s || !id_ok(key, COUPON_ID_MAX) || !m || m->version != UPLIFT_MODEL_VERSION)
        return -EINVAL;
    return store_table_put(s, T_MODEL, key, strlen(key), m, sizeof *m);
}

int couponstore_get_model(store_t *s, const char *key, uplift_model_t *m)
{
    void *v = NULL;
    size_t len = 0;
    int rc;
    if (!s || !id_ok(key, COUPON_ID_MAX) || !m)
        return -EINVAL;
    rc = store_table_get(s, T_MODEL, key, strlen(key), &v, &len);
    if (rc == 0 && len != sizeof *m)
        rc = -EINVAL;
    if (rc == 0)
        memcpy(m, v, sizeof *m);
    free(v);
    if (rc == 0 && m->version != UPLIFT_MODEL_VERSION)
        rc = -EINVAL;
    return rc;
}

typedef struct join {
    store_t *s;
    int64_t window_ms, now_ms;
    uplift_log_t *logs;
    couponstore_uplift_key_t *keys;   /* NULL: not wanted */
    size_t n, cap;
    redeem_row_t *red;
    size_t n_red, cap_red;
    double *unit_cost;        /* by item index */
    uint32_t n_items;
    /* the offer being joined */
    int64_t from_ms, until_ms;
    uplift_log_t *cur;
} join_t;

static int collect_redemption(void *ctx, const void *key, size_t klen, const void *val,
                              size_t vlen)
{
    join_t *j = ctx;
    (void)key;
    (void)klen;
    if (vlen != sizeof *j->red)
        return -EIO;
    if (j->n_red == j->cap_red) {
        size_t cap = j->cap_red ? j->cap_red * 2 : 64;
        redeem_row_t *v = realloc(j->red, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        j->red = v;
        j->cap_red = cap;
    }
    memcpy(&j->red[j->n_red++], val, vlen);
    return 0;
}

static int collect_cost(void *ctx, uint32_t idx, const store_item_t *it)
{
    join_t *j = ctx;
    if (idx < j->n_items)
        j->unit_cost[idx] = it->unit_cost;
    return 0;
}

static int add_purchase(void *ctx, const store_event_rec_t *ev)
{
    join_t *j = ctx;
    double q = ev->quantity > 0 ? ev->quantity : 1;
    double cost = ev->item < j->n_items ? j->unit_cost[ev->item] : 0.0;
    if (ev->type != STORE_EVENT_PURCHASE || ev->time_ms <= j->from_ms ||
        ev->time_ms > j->until_ms)
        return 0;
    j->cur->bought = 1;
    j->cur->margin += q * (ev->unit_price - cost);
    return 0;
}

/* Doubles the room for rows (and their keys, when wanted). */
static int join_grow(join_t *j)
{
    size_t cap = j->cap ? j->cap * 2 : 256;
    uplift_log_t *v = realloc(j->logs, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    j->logs = v;
    if (j->keys) {
        couponstore_uplift_key_t *k = realloc(j->keys, cap * sizeof *k);
        if (!k)
            return -ENOMEM;
        j->keys = k;
    }
    j->cap = cap;
    return 0;
}

static int join_offer(void *ctx, const couponstore_offer_t *o)
{
    join_t *j = ctx;
    uplift_log_t *l;
    uint32_t idx;
    int rc;

    if (o->time_ms > j->now_ms - j->window_ms)
        return 0;
    if (j->n == j->cap && (rc = join_grow(j)) != 0)
        return rc;
    if (j->keys) {
        j->keys[j->n].customer = uplift_customer_key(o->customer_id);
        copy_id(j->keys[j->n].coupon_id, o->coupon_id, sizeof j->keys[j->n].coupon_id);
    }
    l = &j->logs[j->n++];
    memset(l, 0, sizeof *l);
    l->x = o->x;
    l->treated = o->coupon_id[0] != '\0';
    l->assign_prob = o->assign_prob;
    j->from_ms = o->time_ms;
    j->until_ms = o->time_ms + j->window_ms;
    j->cur = l;
    rc = store_customer_index(j->s, o->customer_id, &idx);
    if (rc == 0)
        rc = store_customer_events(j->s, idx, add_purchase, j);
    if (rc && rc != -ENOENT)
        return rc;
    for (size_t i = 0; l->treated && i < j->n_red; i++)
        if (strcmp(j->red[i].customer_id, o->customer_id) == 0 &&
            strcmp(j->red[i].coupon_id, o->coupon_id) == 0 &&
            j->red[i].time_ms > j->from_ms && j->red[i].time_ms <= j->until_ms)
            l->cost += j->red[i].discount;
    return 0;
}

int couponstore_uplift_logs(store_t *s, int64_t window_ms, int64_t now_ms,
                            uplift_log_t **out, couponstore_uplift_key_t **keys,
                            size_t *n)
{
    join_t j;
    uint32_t n_cust;
    int rc;

    if (!s || window_ms <= 0 || !out || !n)
        return -EINVAL;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.window_ms = window_ms;
    j.now_ms = now_ms;
    /* A non-NULL placeholder until join_grow sizes it with the rows. */
    if (keys && !(j.keys = malloc(sizeof *j.keys)))
        return -ENOMEM;
    if ((rc = store_counts(s, &n_cust, &j.n_items)) == 0 &&
        !(j.unit_cost = calloc(j.n_items ? j.n_items : 1, sizeof *j.unit_cost)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = store_scan_items(s, collect_cost, &j);
    if (rc == 0)
        rc = store_table_scan(s, T_REDEEM, NULL, 0, collect_redemption, &j);
    if (rc == 0)
        rc = couponstore_scan_offers(s, join_offer, &j);
    free(j.unit_cost);
    free(j.red);
    if (rc) {
        free(j.logs);
        free(j.keys);
        j.logs = NULL;
        j.keys = NULL;
        j.n = 0;
    }
    *out = j.logs;
    if (keys)
        *keys = j.keys;
    *n = j.n;
    return rc;
}
