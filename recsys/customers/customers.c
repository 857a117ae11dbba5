/*
 * customers.c - profiles on read, audiences, points and the RFM job
 * (customers.h).
 */
#include "customers.h"
#include "customers_clv.h"
#include "points_store.h"
#include "store_links.h"

#include <errno.h>
#include <patron/store/v1/store.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "grow.h"
#include "id.h"
#include "monotime.h"

#define CUTPOINTS_BLOB "rfm_cutpoints"

/* Profiles take category ids straight from the catalog snapshot. */
_Static_assert(CATALOG_NO_CATEGORY == PROFILE_NO_CATEGORY,
               "catalog and profiles mark uncategorized items alike");

/* ---- one customer -------------------------------------------------------------- */

/* Fills the parts of a view that come from the history. */
static int view_from_history(const customers_ctx_t *c, const store_event_rec_t *ev,
                             size_t n, int64_t now_ms, customer_view_t *v)
{
    profile_catalog_t pc = { c->cat ? c->cat->item_cat : NULL,
                             c->cat ? c->cat->n_items : 0 };
    int rc = profile_compute(ev, n, c->cat ? &pc : NULL, c->cfg, now_ms, &v->p);
    if (rc)
        return rc;
    v->has_events = n > 0;
    profile_rfm_score(&v->p, c->cut, &v->r, &v->f, &v->m);
    v->segment = v->p.orders ? profile_segment(c->cfg, v->r, v->f, v->m) : -1;
    customers_clv_view(c->clv, &v->p, now_ms, &v->has_clv, &v->clv);
    return 0;
}

/* The points ledger's figures at now_ms (points_store.h). */
static int view_points(const customers_ctx_t *c, int64_t now_ms, customer_view_t *v)
{
    points_store_view_t pv;
    int rc = points_store_ledger(c->store, c->cfg, c->cat, v->customer_id, now_ms, &pv);
    if (rc == 0) {
        const points_ledger_t *l = &pv.ledger;
        v->points_earned = l->earned;
        v->points_redeemed = l->redeemed;
        v->points_balance = points_available(l);
        v->points_pending = l->pending;
        v->points_expiring = l->expiring_soon;
        v->points_expiring_ms = l->expiring_soon_ms;
        v->points_next_vest_ms = l->next_vest_ms;
        v->points_next_vest = l->next_vest_points;
        v->points_expired = l->expired;
        v->has_points = l->n > 0 || pv.n_red > 0 || pv.referral.signed_up;
        if (pv.tier_bought > v->p.tier) {
            v->p.tier = pv.tier_bought;
            v->tier_reward_until_ms = pv.tier_bought_until_ms;
        }
        v->points_velocity_cut = l->velocity_cut;
        v->points_withheld = l->withheld;
        v->referral = pv.referral;
        v->referral.bonus = NULL; /* stays with pv */
        v->referral.n_bonus = v->referral.cap_bonus = 0;
    }
    points_store_view_free(&pv);
    return rc;
}

/* The parts kept outside the interaction events: points and attributes. */
static int view_extras(const customers_ctx_t *c, int64_t now_ms, customer_view_t *v)
{
    int rc = view_points(c, now_ms, v);
    if (rc)
        return rc;
    rc = store_get_attrs(c->store, v->customer_id, &v->attrs);
    v->has_attrs = rc == 0;
    return rc == -ENOENT ? 0 : rc;
}

int customers_view(const customers_ctx_t *c, const char *customer_id,
                   int64_t now_ms, customer_view_t *out)
{
    store_event_list_t h = { 0 };
    uint32_t idx;
    int rc;

    memset(out, 0, sizeof *out);
    if (!id_check(customer_id, STORE_MAX_ID, 0))
        return -EINVAL;
    strcpy(out->customer_id, customer_id);
    rc = store_customer_index(c->store, customer_id, &idx);
    if (rc == 0) {
        out->index = idx;
        rc = store_customer_events(c->store, idx, store_event_list_push, &h);
    }
    else if (rc == -ENOENT)
        rc = 0;
    if (rc == 0)
        rc = view_from_history(c, h.ev, h.n, now_ms, out);
    if (rc == 0)
        rc = view_extras(c, now_ms, out);
    store_event_list_free(&h);
    if (rc == 0 && !out->has_events && !out->has_attrs && !out->has_points)
        rc = -ENOENT;
    return rc;
}

/* Whether the store knows the customer by events or attributes. */
static int customer_known(store_t *s, const char *customer_id)
{
    store_attrs_t at;
    uint32_t idx;
    int rc = store_customer_index(s, customer_id, &idx);
    if (rc == -ENOENT)
        rc = store_get_attrs(s, customer_id, &at);
    return rc;
}

/* Writes e against the balance of the ledger at now_ms: the store writes
 * it only if what was spent by then plus what e spends stays within that
 * plus the balance, so an entry stored meanwhile is counted. */
static int write_once(const customers_ctx_t *c, const char *customer_id, const char *entry_id,
                      const store_points_entry_t *e, int64_t now_ms,
                      customers_points_result_t *res)
{
    points_store_view_t pv;
    int64_t net = 0, limit;
    int rc = e->adjust ? customer_known(c->store, customer_id)
                       : store_customer_index(c->store, customer_id, &(uint32_t){ 0 });

    if (rc)
        return rc;
    if ((rc = points_store_ledger(c->store, c->cfg, c->cat, customer_id, now_ms, &pv)) == 0) {
        limit = pv.redeemed_total + points_available(&pv.ledger);
        rc = store_points_write(c->store, customer_id, entry_id, e, limit, &net,
                                &res->duplicate, &res->stored);
        res->balance = limit - net > 0 ? limit - net : 0;
    }
    points_store_view_free(&pv);
    return rc;
}

/* How often a write re-resolves an id merged away meanwhile. */
#define REDEEM_TRIES 4

int customers_points_write(const customers_ctx_t *c, const char *customer_id,
                           const char *entry_id, const store_points_entry_t *e, int64_t now_ms,
                           customers_points_result_t *res)
{
    char who[STORE_MAX_ID + 1];
    int rc = -ESTALE;

    memset(res, 0, sizeof *res);
    for (int i = 0; i < REDEEM_TRIES && rc == -ESTALE; i++) {
        if ((rc = store_resolve_customer(c->store, customer_id, who)) < 0)
            return rc;
        rc = write_once(c, who, entry_id, e, now_ms, res);
    }
    return rc;
}

int customers_redeem(const customers_ctx_t *c, const char *customer_id,
                     const char *redemption_id, int64_t points, int64_t now_ms,
                     int64_t *balance, int *duplicate)
{
    store_points_entry_t e;
    customers_points_result_t res;
    int rc;

    memset(&e, 0, sizeof e);
    e.points = points;
    e.time_ms = now_ms;
    rc = customers_points_write(c, customer_id, redemption_id, &e, now_ms, &res);
    *balance = res.balance;
    *duplicate = res.duplicate;
    return rc;
}

void customers_audience_row(const customers_ctx_t *c, const customer_view_t *v,
                            audience_row_t *row)
{
    memset(row, 0, sizeof *row);
    row->tier = v->p.tier;
    row->stage = v->p.stage;
    row->segment = v->segment;
    row->r = v->r;
    row->f = v->f;
    row->m = v->m;
    row->monetary = v->p.monetary;
    row->orders = v->p.orders;
    row->recency_days = v->p.recency_days;
    row->average_basket = v->p.average_basket;
    row->typical_gap_days = v->p.typical_gap_days;
    row->points = v->points_balance;
    row->views = v->p.recent_views;
    row->carts = v->p.recent_carts;
    row->has_clv = v->has_clv;
    row->clv = v->clv.value;
    row->churn_p = v->clv.churn_p;
    for (uint32_t i = 0; i < v->p.n_favourites && c->cat; i++)
        if (v->p.favourites[i] < c->cat->n_categories)
            row->categories[row->n_categories++] = c->cat->categories[v->p.favourites[i]];
    if (v->has_attrs) {
        row->region = v->attrs.region;
        row->birthday_month = v->attrs.birth_month;
        if (v->attrs.signup_ms > 0) {
            int64_t y;
            unsigned m, d;
            civil_from_days(v->attrs.signup_ms / CIVIL_DAY_MS, &y, &m, &d);
            row->signup_month = (uint8_t)m;
        }
    }
}

/* ---- all customers ------------------------------------------------------------- */

/* Groups the full event scan by customer and hands each history to visit. */
typedef struct group_scan {
    store_event_list_t h;
    uint32_t customer;
    int (*visit)(struct group_scan *g);
    void *ctx;
} group_scan_t;

static int group_event(void *ctx, const store_event_rec_t *ev)
{
    group_scan_t *g = ctx;
    int rc;
    if (g->h.n && ev->customer != g->customer) {
        if ((rc = g->visit(g)) != 0)
            return rc;
        g->h.n = 0;
    }
    g->customer = ev->customer;
    return store_event_list_push(&g->h, ev);
}

static int group_scan(store_t *s, group_scan_t *g)
{
    int rc = store_scan_events(s, group_event, g);
    if (rc == 0 && g->h.n)
        rc = g->visit(g);
    store_event_list_free(&g->h);
    return rc;
}

typedef struct history_visit {
    customers_history_fn fn;
    void *ctx;
} history_visit_t;

static int history_visit(group_scan_t *g)
{
    history_visit_t *hv = g->ctx;
    return hv->fn(hv->ctx, g->customer, g->h.ev, g->h.n);
}

int customers_scan_histories(store_t *s, customers_history_fn fn, void *ctx)
{
    history_visit_t hv = { fn, ctx };
    group_scan_t g = { .visit = history_visit, .ctx = &hv };
    return group_scan(s, &g);
}

typedef struct select_ctx {
    const customers_ctx_t *c;
    const audience_t *a;
    int64_t now_ms;
    customers_visit_fn cb;
    void *cb_ctx;
    unsigned visited;
} select_ctx_t;

/* One customer's history (n > 0 events) against a: cb if it matches. */
static int visit_customer(const select_ctx_t *sc, uint32_t customer,
                          const store_event_rec_t *ev, size_t n)
{
    customer_view_t v;
    audience_row_t row;
    int rc;

    memset(&v, 0, sizeof v);
    v.index = customer;
    rc = store_customer_id(sc->c->store, customer, v.customer_id, sizeof v.customer_id);
    if (rc == -ENOENT)
        return 0; /* erased while we scanned */
    if (rc || (rc = view_from_history(sc->c, ev, n, sc->now_ms, &v)) ||
        (rc = view_extras(sc->c, sc->now_ms, &v)))
        return rc;
    customers_audience_row(sc->c, &v, &row);
    if (sc->a && !audience_match(sc->a, &row))
        return 0;
    return sc->cb(sc->cb_ctx, &v);
}

static int select_visit(group_scan_t *g)
{
    select_ctx_t *sc = g->ctx;

    /* A scan over every customer is the long part of an audience call:
     * stop when its caller has given up (every 64: the clock is cheap, not
     * free). */
    if (sc->c->deadline > 0 && (sc->visited++ & 63) == 0 &&
        monotime_seconds() >= sc->c->deadline)
        return -ETIMEDOUT;
    return visit_customer(sc, g->customer, g->h.ev, g->h.n);
}

int customers_select(const customers_ctx_t *c, const audience_t *a, int64_t now_ms,
                     customers_visit_fn cb, void *ctx)
{
    select_ctx_t sc = { c, a, now_ms, cb, ctx, 0 };
    group_scan_t g = { .visit = select_visit, .ctx = &sc };
    return group_scan(c->store, &g);
}

int customers_cursor_init(const customers_ctx_t *c, customers_cursor_t *cur)
{
    uint32_t items;
    cur->next = 0;
    return store_counts(c->store, &cur->end, &items);
}

int customers_select_step(const customers_ctx_t *c, const audience_t *a, int64_t now_ms,
                          customers_cursor_t *cur, uint32_t max, customers_visit_fn cb,
                          void *ctx)
{
    select_ctx_t sc = { c, a, now_ms, cb, ctx, 0 };
    store_event_list_t h = { 0 };
    int rc = 0;

    for (uint32_t k = 0; k < max && cur->next < cur->end && rc == 0; k++) {
        uint32_t customer = cur->next++;
        h.n = 0;
        rc = store_customer_events(c->store, customer, store_event_list_push, &h);
        if (rc == 0 && h.n)
            rc = visit_customer(&sc, customer, h.ev, h.n);
    }
    store_event_list_free(&h);
    return rc;
}

int customers_view_at(const customers_ctx_t *c, uint32_t customer, int64_t now_ms,
                      customer_view_t *out)
{
    store_event_list_t h = { 0 };
    int rc;

    memset(out, 0, sizeof *out);
    out->index = customer;
    rc = store_customer_id(c->store, customer, out->customer_id, sizeof out->customer_id);
    if (rc == 0)
        rc = store_customer_events(c->store, customer, store_event_list_push, &h);
    if (rc == 0)
        rc = view_from_history(c, h.ev, h.n, now_ms, out);
    if (rc == 0)
        rc = view_extras(c, now_ms, out);
    store_event_list_free(&h);
    if (rc == 0 && !out->has_events)
        rc = -ENOENT;
    return rc;
}

/* ---- RFM job ------------------------------------------------------------------- */

typedef struct rfm_values {
    double *r, *f, *m;
    size_t n, cap;
    const profile_config_t *cfg;
    int64_t now_ms;
} rfm_values_t;

static int rfm_visit(group_scan_t *g)
{
    rfm_values_t *rv = g->ctx;
    profile_t p;
    int rc = profile_compute(g->h.ev, g->h.n, NULL, rv->cfg, rv->now_ms, &p);
    if (rc || p.orders == 0)
        return rc;
    void *const cols[] = { &rv->r, &rv->f, &rv->m };
    const size_t sizes[] = { sizeof *rv->r, sizeof *rv->f, sizeof *rv->m };
    if (grow_parallel(&rv->cap, rv->n + 1, 3, cols, sizes) != 0)
        return -ENOMEM;
    rv->r[rv->n] = p.recency_days;
    rv->f[rv->n] = p.orders;
    rv->m[rv->n] = p.monetary;
    rv->n++;
    return 0;
}

/* The cut-points as a patron.store.v1.RfmCutpoints record in the blobs. */
static int put_cutpoints(store_t *s, const rfm_cutpoints_t *c)
{
    Patron__Store__V1__RfmCutpoints m = PATRON__STORE__V1__RFM_CUTPOINTS__INIT;
    unsigned char buf[256];
    m.n_recency = m.n_frequency = m.n_monetary = 4;
    m.recency = (double *)c->recency;
    m.frequency = (double *)c->frequency;
    m.monetary = (double *)c->monetary;
    m.customers = c->n;
    return store_put_blob(s, CUTPOINTS_BLOB, buf, protobuf_c_message_pack(&m.base, buf));
}

int customers_rfm_job(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                      rfm_cutpoints_t *out)
{
    rfm_values_t rv = { .cfg = cfg, .now_ms = now_ms };
    group_scan_t g = { .visit = rfm_visit, .ctx = &rv };
    int rc = group_scan(s, &g);

    memset(out, 0, sizeof *out);
    if (rc == 0 && rv.n)
        rc = profile_rfm_cutpoints_values(rv.r, rv.f, rv.m, rv.n, out);
    if (rc == 0)
        rc = put_cutpoints(s, out);
    free(rv.r);
    free(rv.f);
    free(rv.m);
    return rc;
}

int customers_load_cutpoints(store_t *s, rfm_cutpoints_t *out)
{
    unsigned char buf[256];
    size_t len = 0;
    Patron__Store__V1__RfmCutpoints *m;
    int rc = store_get_blob(s, CUTPOINTS_BLOB, buf, sizeof buf, &len);

    memset(out, 0, sizeof *out);
    if (rc == -ENOENT || rc == -EINVAL)
        return 0; /* none yet (or not ours): the next RFM job computes them */
    if (rc)
        return rc;
    m = patron__store__v1__rfm_cutpoints__unpack(NULL, len, buf);
    if (!m || m->n_recency != 4 || m->n_frequency != 4 || m->n_monetary != 4) {
        if (m)
            patron__store__v1__rfm_cutpoints__free_unpacked(m, NULL);
        return 0; /* likewise: cut-points are derived data */
    }
    memcpy(out->recency, m->recency, sizeof out->recency);
    memcpy(out->frequency, m->frequency, sizeof out->frequency);
    memcpy(out->monetary, m->monetary, sizeof out->monetary);
    out->n = m->customers;
    patron__store__v1__rfm_cutpoints__free_unpacked(m, NULL);
    return 0;
}
