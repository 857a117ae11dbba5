/*
 * couponstore_grant.c - a coupon granted because the customer paid for it
 * with points (couponstore_grant_tx, couponstore.h): the coupon's own
 * limits and its campaign budget, checked and reserved inside the caller's
 * transaction, so a refusal writes nothing and a grant commits with the
 * points that paid for it.
 */
#include "couponstore_internal.h"
#include "store_links.h"

#include <errno.h>
#include <stdio.h>

/* The customer's history entry of coupon_id, NULL if none. */
static const couponstore_held_t *held_of(const couponstore_history_t *h, const char *coupon_id)
{
    for (uint32_t i = 0; i < h->n_held && i < COUPONSTORE_MAX_HELD; i++)
        if (strcmp(h->held[i].coupon_id, coupon_id) == 0)
            return &h->held[i];
    return NULL;
}

/* 1 if a benefit's worst case depends on the customer's basket. */
static int personalized(const coupon_t *cp)
{
    for (size_t i = 0; i < cp->n_benefits && i < COUPON_MAX_PACK; i++)
        if (cp->benefit[i].kind == COUPON_BENEFIT_THRESHOLD && cp->benefit[i].threshold <= 0 &&
            cp->benefit[i].amount <= 0)
            return 1;
    return 0;
}

/* The coupon's own limits on the definition: -EPERM with why, or 0. */
static int coupon_refuses(const couponstore_granted_t *out, int64_t now_ms, char *why,
                          size_t cap)
{
    const coupon_t *cp = &out->coupon;
    if (now_ms < cp->valid_from_ms || now_ms >= cp->valid_until_ms) {
        snprintf(why, cap, "coupon '%s' is not valid now", cp->id);
        return -EPERM;
    }
    if (personalized(cp)) {
        snprintf(why, cap, "coupon '%s' has a personalized threshold: a reward needs a fixed "
                 "worst case", cp->id);
        return -EPERM;
    }
    return 0;
}

/* The customer's side: an unused copy, the per-customer limit, velocity. */
static int customer_refuses(const couponstore_history_t *h, const coupon_t *cp,
                            const coupon_velocity_t *vel, const coupon_config_t *cfg,
                            char *why, size_t cap)
{
    const couponstore_held_t *e = held_of(h, cp->id);
    const char *vwhy = NULL;
    if (e && e->active) {
        snprintf(why, cap, "the customer holds an unused copy of coupon '%s'", cp->id);
        return -EPERM;
    }
    if (e && e->granted >= cp->per_customer_limit) {
        snprintf(why, cap, "coupon '%s': the per-customer limit (%u) is reached", cp->id,
                 cp->per_customer_limit);
        return -EPERM;
    }
    if (!coupon_velocity_ok(vel, cfg, &vwhy)) {
        snprintf(why, cap, "coupon '%s': %s", cp->id, vwhy ? vwhy : "a velocity limit");
        return -EPERM;
    }
    return 0;
}

int couponstore_grant_tx(store_tx_t *tx, const couponstore_grant_t *g,
                         couponstore_granted_t *out)
{
    coupon_config_t def;
    const coupon_config_t *cfg = g && g->cfg ? g->cfg : &def;
    couponstore_history_t hist;
    couponstore_budget_t b;
    coupon_velocity_t vel = { 0 };
    const coupon_t *cp = &out->coupon;
    char who[STORE_MAX_ID + 1];
    int changed = 0, rc;

    memset(out, 0, sizeof *out);
    if (!tx || !g || !id_ok(g->customer_id, STORE_MAX_ID + 1) ||
        !id_ok(g->coupon_id, COUPON_ID_MAX))
        return -EINVAL;
    coupon_config_default(&def);
    if ((rc = couponstore_row_get(tx, &CS_COUPON, g->coupon_id, &out->coupon)) != 0 ||
        (rc = coupon_refuses(out, g->now_ms, out->why, sizeof out->why)) != 0)
        return rc;
    /* Merged away since the caller resolved it (store_links.h). */
    if ((rc = store_tx_resolve_customer(tx, g->customer_id, who)) != 0)
        return rc < 0 ? rc : -ESTALE;
    if ((rc = couponstore_velocity_touch(tx, 'd', g->device_id, g->customer_id,
                                         &vel.accounts_on_device)) ||
        (rc = couponstore_velocity_touch(tx, 'a', g->address_id, g->customer_id,
                                         &vel.accounts_on_address)) ||
        (rc = couponstore_history_tx_get(tx, g->customer_id, &hist)) ||
        (rc = couponstore_expire_grants(tx, &hist, g->now_ms, &changed)))
        return rc;
    couponstore_velocity_recent(&hist, g->now_ms, &vel);
    if ((rc = customer_refuses(&hist, cp, &vel, cfg, out->why, sizeof out->why)) != 0 ||
        (rc = couponstore_budget_tx_get(tx, cp->campaign, &b)) != 0)
        return rc;
    out->max_cost = coupon_max_cost(cp, 0.0);
    out->valid_until_ms = cp->valid_until_ms;
    if (!uplift_grant_fits(b.budget, b.spent + b.committed, out->max_cost)) {
        snprintf(out->why, sizeof out->why, "campaign '%s' has no budget left for coupon '%s' "
                 "(%.2f of %.2f spent or reserved, %.2f needed)", cp->campaign, cp->id,
                 b.spent + b.committed, b.budget, out->max_cost);
        return -EDQUOT;
    }
    if ((rc = couponstore_hold(&hist, cp, &b, out->max_cost, out->valid_until_ms,
                               g->now_ms)) != 0 ||
        (rc = couponstore_row_put(tx, &CS_BUDGET, cp->campaign, &b)) != 0)
        return rc;
    return couponstore_row_put(tx, &CS_HISTORY, g->customer_id, &hist);
}
