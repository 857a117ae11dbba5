/*
 * couponstore.c - coupon targeting's state in the store's generic tables
 * (contract in couponstore.h): the catalog, histories, budgets, redemptions
 * and uplift models. The grant decision and the offer log are in
 * couponstore_target.c, the uplift training join in couponstore_uplift.c.
 *
 * Tables (keys are ids as bytes, without NUL; values patron.store.v1
 * records, couponstore_records.c, read into the structs named):
 *   coupon   coupon id      -> Coupon (coupon_t)
 *   cbudget  campaign id    -> Budget (couponstore_budget_t)
 *   chist    customer id    -> CouponHistory (couponstore_history_t)
 *   cvel     "d:" / "a:" id -> Velocity (vel_row_t: hashes of the accounts seen)
 *   coffer   request id     -> Offer (couponstore_offer_t)
 *   credeem  redemption id  -> Redemption (redeem_row_t)
 *   cmodel   coupon id / "default" -> UpliftModel (uplift_model_t)
 *
 * The whole decision runs inside the grant's write transaction, not only
 * the budget check: the history it reads (frequency cap, an active copy of
 * the same coupon) must still hold when the grant commits, or two
 * concurrent requests for one customer could both pass the cap. The
 * decision is microseconds of arithmetic; the profile read that feeds it
 * happens before, outside the lock.
 */
#include "couponstore_internal.h"
#include "store_links.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>

void couponstore_copy_id(char *dst, const char *src, size_t cap)
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
    coupon_t old;
    couponstore_budget_t b;
    int rc = couponstore_row_get(tx, &CS_COUPON, p->c->id, &old);

    if (rc && rc != -ENOENT)
        return rc;
    p->created = rc == -ENOENT;
    if ((rc = couponstore_row_put(tx, &CS_COUPON, p->c->id, p->c)) != 0)
        return rc;
    rc = couponstore_row_get(tx, &CS_BUDGET, p->c->campaign, &b);
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
    return couponstore_row_put(tx, &CS_BUDGET, p->c->campaign, &b);
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
    if (!s || !id_ok(id, COUPON_ID_MAX) || !out)
        return -EINVAL;
    return couponstore_row_read(s, &CS_COUPON, id, out);
}

typedef struct catalog_acc {
    coupon_t *v;
    size_t n, cap;
} catalog_acc_t;

static int collect_coupon(void *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    catalog_acc_t *acc = ctx;
    coupon_t c;
    int rc = couponstore_rec_decode(&CS_COUPON, key, klen, val, vlen, &c);
    if (rc)
        return rc;
    if (GROW(acc->v, acc->cap, acc->n + 1) != 0)
        return -ENOMEM;
    acc->v[acc->n++] = c;
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
    return couponstore_row_read(s, &CS_BUDGET, campaign, out);
}

/* ---- history ------------------------------------------------------------------------ */

static void history_empty(couponstore_history_t *h)
{
    memset(h, 0, sizeof *h);
    h->version = COUPONSTORE_VERSION;
}

int couponstore_history_tx_get(store_tx_t *tx, const char *customer_id,
                               couponstore_history_t *h)
{
    int rc = couponstore_row_get(tx, &CS_HISTORY, customer_id, h);
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
    rc = couponstore_row_read(s, &CS_HISTORY, customer_id, out);
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
        held[i].last_grant_ms = h->held[i].last_grant_ms;
        held[i].valid_until_ms = h->held[i].valid_until_ms;
        held[i].entitlement = h->held[i].guaranteed != 0;
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

couponstore_held_t *couponstore_held_slot(couponstore_history_t *h, const char *coupon_id)
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
    couponstore_copy_id(e->coupon_id, coupon_id, sizeof e->coupon_id);
    return e;
}

/* ---- budgets inside a transaction ------------------------------------------------------- */

int couponstore_budget_tx_get(store_tx_t *tx, const char *campaign, couponstore_budget_t *b)
{
    int rc = couponstore_row_get(tx, &CS_BUDGET, campaign, b);
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

int couponstore_expire_grants(store_tx_t *tx, couponstore_history_t *h, int64_t now_ms,
                              int *changed)
{
    for (uint32_t i = 0; i < h->n_held && i < COUPONSTORE_MAX_HELD; i++) {
        couponstore_held_t *e = &h->held[i];
        couponstore_budget_t b;
        int rc;
        if (!e->active || e->valid_until_ms > now_ms)
            continue;
        if ((rc = couponstore_budget_tx_get(tx, e->campaign, &b)) != 0)
            return rc;
        release(&b, e->reserved);
        if ((rc = couponstore_row_put(tx, &CS_BUDGET, e->campaign, &b)) != 0)
            return rc;
        e->active = 0;
        e->reserved = 0.0;
        *changed = 1;
    }
    return 0;
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
    int rc = couponstore_row_get(tx, &CS_REDEEM, r->redemption_id, &row);

    if (rc == 0) {
        /* A replay must be the same redemption: an id reused for another
         * customer or coupon would otherwise answer "duplicate" and record
         * nothing. */
        /* (the customer logged may have been merged into this one since) */
        if ((rc = store_tx_same_customer(tx, row.customer_id, r->customer_id)) < 0)
            return rc;
        if (rc == 0 || strcmp(row.coupon_id, r->coupon_id) != 0)
            return -EEXIST;
        c->duplicate = 1;
        return couponstore_budget_tx_get(tx, row.campaign, &c->after);
    }
    if (rc != -ENOENT)
        return rc;
    if ((rc = couponstore_history_tx_get(tx, r->customer_id, &h)) != 0)
        return rc;
    e = held_find(&h, r->coupon_id);
    if (!e || !held_active(e, r->time_ms))
        return -ENOENT;
    if (r->discount > e->reserved + MONEY_EPS)
        return -ERANGE;
    if ((rc = couponstore_budget_tx_get(tx, e->campaign, &c->after)) != 0)
        return rc;
    apply_redemption(e, &c->after, r->discount);
    h.redeem_ms[h.n_redeems % COUPONSTORE_MAX_REDEEMS] = r->time_ms;
    h.n_redeems++;
    memset(&row, 0, sizeof row);
    couponstore_copy_id(row.customer_id, r->customer_id, sizeof row.customer_id);
    couponstore_copy_id(row.coupon_id, r->coupon_id, sizeof row.coupon_id);
    couponstore_copy_id(row.campaign, e->campaign, sizeof row.campaign);
    row.discount = r->discount;
    row.time_ms = r->time_ms;
    if ((rc = couponstore_row_put(tx, &CS_BUDGET, e->campaign, &c->after)) != 0 ||
        (rc = couponstore_row_put(tx, &CS_HISTORY, r->customer_id, &h)) != 0)
        return rc;
    return couponstore_row_put(tx, &CS_REDEEM, r->redemption_id, &row);
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
    return couponstore_row_write(s, &CS_MODEL, key, m);
}

int couponstore_get_model(store_t *s, const char *key, uplift_model_t *m)
{
    if (!s || !id_ok(key, COUPON_ID_MAX) || !m)
        return -EINVAL;
    return couponstore_row_read(s, &CS_MODEL, key, m);
}
