/*
 * loyalty_store.c - programme analytics over a store (loyalty_store.h).
 */
#include "loyalty_store.h"
#include "customers.h"
#include "points_store.h"

#include <errno.h>
#include <string.h>

typedef struct walk {
    store_t *s;
    const profile_config_t *cfg;
    const catalog_t *cat;   /* for the rules' categories */
    loyalty_report_t *r;
} walk_t;

static int add_customer(void *ctx, uint32_t customer, const store_event_rec_t *ev, size_t n)
{
    walk_t *w = ctx;
    char id[STORE_MAX_ID + 1];
    store_attrs_t attrs;
    profile_t p;
    points_store_view_t pv;
    loyalty_customer_t c = { .ev = ev, .n = n, .p = &p };
    int rc = store_customer_id(w->s, customer, id, sizeof id);

    if (rc == -ENOENT)
        return 0; /* erased while we scanned */
    if (rc || (rc = profile_compute(ev, n, NULL, w->cfg, w->r->now_ms, &p)) != 0)
        return rc;
    rc = store_get_attrs(w->s, id, &attrs);
    if (rc && rc != -ENOENT)
        return rc;
    c.has_signup = rc == 0 && attrs.signup_ms > 0;
    /* the ledger as of now, exactly as GetProfile and ListPointsLedger see it */
    if ((rc = points_store_ledger(w->s, w->cfg, w->cat, id, w->r->now_ms, &pv)) == 0) {
        c.points_earned = pv.ledger.earned;
        c.points_pending = pv.ledger.pending;
        c.points_redeemed = pv.ledger.redeemed;
        c.points_expired = pv.ledger.expired;
        c.points_balance = pv.ledger.balance;
        c.has_redeemed = pv.redeemed_total > 0;
        rc = loyalty_add(w->r, &c);
    }
    points_store_view_free(&pv);
    return rc;
}

int loyalty_store_report(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                         double point_value, size_t max_offsets, loyalty_report_t *r)
{
    walk_t w = { s, cfg, NULL, r };
    catalog_t *cat = NULL;
    int rc = loyalty_init(r, cfg, now_ms, point_value);
    if (rc == 0 && (rc = catalog_load(s, &cat)) == 0)
        w.cat = cat;
    if (rc == 0)
        rc = customers_scan_histories(s, add_customer, &w);
    if (rc == 0)
        rc = loyalty_finish(r, max_offsets);
    catalog_unref(cat);
    return rc;
}
