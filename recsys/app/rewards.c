/*
 * rewards.c - redeeming points for a reward (rewards.h): the balance is
 * derived from the ledger outside the write transaction, then one
 * store_table_atomic transaction checks idempotency, issues the reward
 * (a coupon grant) and writes the redemption that pays for it.
 */
#include "rewards.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "points_store.h"
#include "store_links.h"

/* How often a redemption re-resolves an id merged away meanwhile. */
#define REWARD_TRIES 4

typedef struct reward_tx {
    const rewards_request_t *r;
    const char *who;
    int64_t limit, available;
    store_points_entry_t e;       /* the redemption to write */
    int refuse;                   /* -EPERM: a tier held already (why_tier) */
    char why_tier[COUPON_REASON_MAX];
    rewards_result_t *out;
} reward_tx_t;

/* A coupon reward's grant, into the redemption it is written with. */
static int grant_coupon(store_tx_t *tx, reward_tx_t *x)
{
    const rewards_request_t *r = x->r;
    couponstore_grant_t g = { .customer_id = x->who, .coupon_id = r->reward->target,
                              .device_id = r->device_id, .address_id = r->address_id,
                              .cfg = r->coupon_cfg, .now_ms = r->now_ms };
    couponstore_granted_t got;
    int rc = couponstore_grant_tx(tx, &g, &got);
    if (rc == -ENOENT)
        return -ENXIO;
    if (rc) {
        snprintf(x->out->why, sizeof x->out->why, "%s", got.why);
        return rc;
    }
    x->e.until_ms = got.valid_until_ms;
    x->out->coupon_max_cost = got.max_cost;
    return 0;
}

static int redeem_fn(store_tx_t *tx, void *ctx)
{
    reward_tx_t *x = ctx;
    rewards_result_t *out = x->out;
    int64_t net = 0;
    int rc = store_tx_points_get(tx, x->who, x->r->redemption_id, &out->entry);

    if (rc == 0) { /* a retry: what the first one issued, nothing new */
        out->duplicate = 1;
        out->balance = x->available;
        return out->entry.adjust ? -EEXIST : 0;
    }
    if (rc != -ENOENT)
        return rc;
    if (x->refuse) {
        snprintf(out->why, sizeof out->why, "%s", x->why_tier);
        return x->refuse;
    }
    if (x->r->reward->kind == POINTS_REWARD_COUPON && (rc = grant_coupon(tx, x)) != 0)
        return rc;
    rc = store_tx_points_write(tx, x->who, x->r->redemption_id, &x->e, x->limit, &net,
                               &out->duplicate, NULL);
    out->balance = x->limit - net > 0 ? x->limit - net : 0;
    if (rc == 0)
        out->entry = x->e;
    return rc;
}

/* The redemption as it will be stored, before any coupon grant. */
static void entry_for(const customers_ctx_t *c, const rewards_request_t *r,
                      store_points_entry_t *e)
{
    const points_reward_t *w = r->reward;
    uint32_t days = w->days ? w->days : c->cfg->tier_window_days + c->cfg->tier_grace_days;

    memset(e, 0, sizeof *e);
    e->points = r->points;
    e->time_ms = r->now_ms;
    snprintf(e->reward_id, sizeof e->reward_id, "%s", w->name);
    if (w->kind == POINTS_REWARD_COUPON)
        snprintf(e->coupon_id, sizeof e->coupon_id, "%s", w->target);
    else if (w->kind == POINTS_REWARD_CASH)
        e->cash = points_reward_cash(w, r->points);
    else {
        snprintf(e->tier, sizeof e->tier, "%s", w->target);
        e->until_ms = r->now_ms + (int64_t)days * CIVIL_DAY_MS;
    }
}

/* A tier reward is refused to a customer who holds that tier or a higher
 * one already (by activity or by an earlier reward): x->refuse, unless the
 * redemption turns out to be a retry. */
static int tier_held(const customers_ctx_t *c, const char *who, const rewards_request_t *r,
                     reward_tx_t *x)
{
    customer_view_t v;
    int rc = customers_view(c, who, r->now_ms, &v);
    int want = -1;
    if (rc)
        return rc;
    for (size_t t = 0; t < c->cfg->n_tiers; t++)
        if (strcmp(c->cfg->tiers[t].name, r->reward->target) == 0)
            want = (int)t;
    if (want < 0 || v.p.tier < want)
        return 0;
    snprintf(x->why_tier, sizeof x->why_tier, "the customer holds tier '%s' already, at "
             "least as high as '%s'", profile_tier_name(c->cfg, v.p.tier), r->reward->target);
    x->refuse = -EPERM;
    return 0;
}

static int redeem_once(const customers_ctx_t *c, const char *who, const rewards_request_t *r,
                       rewards_result_t *out)
{
    reward_tx_t x = { .r = r, .who = who, .out = out };
    points_store_view_t pv;
    uint32_t idx;
    int rc = store_customer_index(c->store, who, &idx);

    if (rc)
        return rc;
    if ((rc = points_store_ledger(c->store, c->cfg, c->cat, who, r->now_ms, &pv)) == 0) {
        x.available = points_available(&pv.ledger);
        x.limit = pv.redeemed_total + x.available;
    }
    points_store_view_free(&pv);
    if (rc)
        return rc;
    out->balance = x.available;
    entry_for(c, r, &x.e);
    if (r->reward->kind == POINTS_REWARD_TIER && (rc = tier_held(c, who, r, &x)) != 0)
        return rc;
    return store_table_atomic(c->store, redeem_fn, &x);
}

int rewards_redeem(const customers_ctx_t *c, const rewards_request_t *r,
                   rewards_result_t *out)
{
    char who[STORE_MAX_ID + 1];
    int rc = -ESTALE;

    memset(out, 0, sizeof *out);
    if (!c || !r || !r->reward || !r->customer_id || !r->redemption_id || r->points <= 0)
        return -EINVAL;
    for (int i = 0; i < REWARD_TRIES && rc == -ESTALE; i++) {
        if ((rc = store_resolve_customer(c->store, r->customer_id, who)) < 0)
            return rc;
        rc = redeem_once(c, who, r, out);
    }
    return rc;
}
