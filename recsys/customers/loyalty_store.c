/*
 * loyalty_store.c - programme analytics over a store (loyalty_store.h).
 */
#include "loyalty_store.h"
#include "customers.h"

#include <errno.h>
#include <string.h>

typedef struct walk {
    store_t *s;
    const profile_config_t *cfg;
    loyalty_report_t *r;
} walk_t;

static int add_customer(void *ctx, uint32_t customer, const store_event_rec_t *ev, size_t n)
{
    walk_t *w = ctx;
    char id[STORE_MAX_ID + 1];
    store_attrs_t attrs;
    profile_t p;
    loyalty_customer_t c = { .ev = ev, .n = n, .p = &p };
    int rc = store_customer_id(w->s, customer, id, sizeof id);

    if (rc == -ENOENT)
        return 0; /* erased while we scanned */
    if (rc || (rc = profile_compute(ev, n, NULL, w->cfg, w->r->now_ms, &p)) != 0)
        return rc;
    if ((rc = store_points_redeemed(w->s, id, &c.points_redeemed)) != 0)
        return rc;
    rc = store_get_attrs(w->s, id, &attrs);
    if (rc && rc != -ENOENT)
        return rc;
    c.has_signup = rc == 0 && attrs.signup_ms > 0;
    /* points as of now: the history up to it (ev is in time order) */
    size_t upto = 0;
    while (upto < n && ev[upto].time_ms <= w->r->now_ms)
        upto++;
    c.points_earned = customers_points_earned(ev, upto, w->cfg);
    return loyalty_add(w->r, &c);
}

int loyalty_store_report(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                         double point_value, size_t max_offsets, loyalty_report_t *r)
{
    walk_t w = { s, cfg, r };
    int rc = loyalty_init(r, cfg, now_ms, point_value);
    if (rc == 0)
        rc = customers_scan_histories(s, add_customer, &w);
    if (rc == 0)
        rc = loyalty_finish(r, max_offsets);
    return rc;
}
