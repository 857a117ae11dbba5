/*
 * couponstore_target.c - TargetCoupons' decision and grant in one write
 * transaction, device/address velocity, and the offer log (see couponstore.c
 * for the tables and why the decision runs inside the transaction).
 */
#include "couponstore_internal.h"
#include "store_links.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hash.h"

static int offer_get(store_tx_t *tx, const char *request_id, couponstore_offer_t *o)
{
    return couponstore_row_get(tx, &CS_OFFER, request_id, o);
}

static int offer_put(store_tx_t *tx, const char *request_id, const couponstore_offer_t *o)
{
    return couponstore_row_put(tx, &CS_OFFER, request_id, o);
}

uint32_t couponstore_count_since(const int64_t *t, size_t n, int64_t from_ms, int64_t now_ms)
{
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += t[i] > from_ms && t[i] <= now_ms;
    return k;
}

/* ---- velocity ------------------------------------------------------------------------- */

int couponstore_velocity_touch(store_tx_t *tx, char kind, const char *id,
                               const char *customer_id, uint32_t *accounts)
{
    char key[STORE_MAX_TABLE_KEY + 1];
    uint64_t h = fnv1a64_str(customer_id);
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
    rc = couponstore_row_get(tx, &CS_VELOCITY, key, &row);
    if (rc == -ENOENT) {
        memset(&row, 0, sizeof row);
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
    return couponstore_row_put(tx, &CS_VELOCITY, key, &row);
}

void couponstore_velocity_recent(const couponstore_history_t *h, int64_t now_ms,
                                 coupon_velocity_t *vel)
{
    size_t nr = ring_len(h->n_redeems, COUPONSTORE_MAX_REDEEMS);
    vel->redemptions_last_hour = couponstore_count_since(h->redeem_ms, nr, now_ms - MS_PER_HOUR,
                                                         now_ms);
    vel->redemptions_last_day = couponstore_count_since(h->redeem_ms, nr, now_ms - MS_PER_DAY,
                                                        now_ms);
}

int couponstore_hold(couponstore_history_t *h, const coupon_t *cp, couponstore_budget_t *b,
                     double max_cost, int64_t valid_until_ms, int64_t now_ms)
{
    couponstore_held_t *e = couponstore_held_slot(h, cp->id);
    if (!e)
        return -ENOSPC;
    couponstore_copy_id(e->campaign, cp->campaign, sizeof e->campaign);
    e->granted++;
    e->active = 1;
    e->uses_left = (uint32_t)cp->n_benefits;
    e->stackable = cp->stackable != 0;
    e->reserved = max_cost;
    e->valid_until_ms = valid_until_ms;
    e->last_grant_ms = now_ms;
    e->guaranteed = cp->mode == COUPON_GUARANTEED;
    if (cp->type == COUPON_WELCOME_PACK)
        h->welcome_pack = 1;
    b->committed += max_cost;
    b->grants++;
    return 0;
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
    couponstore_models_t models; /* models.m follows cands */
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
    couponstore_copy_id(c->campaigns[c->n_campaigns], campaign, COUPON_ID_MAX);
    return c->n_campaigns++;
}

/* The index of campaign's account in c->budgets, read on first use; *fresh
 * (may be NULL) is 1 when it was read now. */
static int budget_index(store_tx_t *tx, target_ctx_t *c, const char *campaign, size_t *k,
                        int *fresh)
{
    size_t before = c->n_campaigns;
    *k = campaign_index(c, campaign);
    if (fresh)
        *fresh = c->n_campaigns > before;
    if (c->n_campaigns == before)
        return 0;
    return couponstore_budget_tx_get(tx, c->campaigns[*k], &c->budgets[*k]);
}

/* Reads the candidates' campaign accounts and paces them. */
static int load_budgets(store_tx_t *tx, target_ctx_t *c, int64_t now_ms)
{
    for (size_t i = 0; i < c->n_cands; i++) {
        size_t k;
        int fresh, rc;
        if ((rc = budget_index(tx, c, c->cands[i].campaign, &k, &fresh)) != 0)
            return rc;
        couponstore_budget_t *b = &c->budgets[k];
        if (fresh) {
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
    c->models.m[i] = c->models.m[last];
    c->lambdas[i] = c->lambdas[last];
    c->n_cands = last;
}

static void offer_fill(couponstore_offer_t *o, const couponstore_target_t *t,
                       const coupon_decision_t *d, const coupon_t *chosen,
                       const coupon_t *best, double max_cost)
{
    memset(o, 0, sizeof *o);
    o->version = COUPONSTORE_VERSION;
    couponstore_copy_id(o->request_id, t->request_id, sizeof o->request_id);
    couponstore_copy_id(o->customer_id, t->cust->customer_id, sizeof o->customer_id);
    o->time_ms = t->now_ms;
    o->x = t->cust->x;
    if (chosen)
        couponstore_copy_id(o->coupon_id, chosen->id, sizeof o->coupon_id);
    if (chosen || best)
        couponstore_copy_id(o->campaign, (chosen ? chosen : best)->campaign, sizeof o->campaign);
    o->outcome = (int32_t)d->outcome;
    o->assign_prob = d->assign_prob;
    o->max_cost = max_cost;
    o->numbers = d->chosen;
    couponstore_copy_id(o->reason, d->reason, sizeof o->reason);
}

/* A grant of cp usable until valid_until_ms: the customer holds it and its
 * campaign reserves max_cost. */
static int hold(target_ctx_t *c, const coupon_t *cp, couponstore_budget_t *b,
                double max_cost, int64_t valid_until_ms)
{
    return couponstore_hold(&c->hist, cp, b, max_cost, valid_until_ms, c->t->now_ms);
}

/* A targeted grant: held, and counted by the frequency cap. */
static int record_grant(target_ctx_t *c, const coupon_t *cp, couponstore_budget_t *b,
                        double max_cost)
{
    couponstore_history_t *h = &c->hist;
    int rc = hold(c, cp, b, max_cost, cp->valid_until_ms);
    if (rc)
        return rc;
    h->grant_ms[h->n_grants % COUPONSTORE_MAX_GRANTS] = c->t->now_ms;
    h->n_grants++;
    return 0;
}

/* ---- entitlements ------------------------------------------------------------------------ */

static int offer_names(const couponstore_offer_t *o, const char *coupon_id)
{
    for (uint32_t i = 0; i < o->n_entitled && i < COUPONSTORE_MAX_ENTITLED; i++)
        if (strcmp(o->entitled[i], coupon_id) == 0)
            return 1;
    return 0;
}

/* Grants entitlement e (status GRANT) if its campaign can pay, else marks it
 * BUDGET; the offer row names what was granted. */
static int grant_entitlement(store_tx_t *tx, target_ctx_t *c, coupon_entitlement_t *e)
{
    const coupon_t *cp = &c->t->catalog[e->index];
    couponstore_offer_t *o = c->out;
    couponstore_budget_t *b;
    size_t k;
    int rc;

    if ((rc = budget_index(tx, c, cp->campaign, &k, NULL)) != 0)
        return rc;
    b = &c->budgets[k];
    if (!uplift_grant_fits(b->budget, b->spent + b->committed, e->max_cost)) {
        e->status = COUPON_ENTITLED_BUDGET;
        e->granted_ms = 0;
        snprintf(e->reason, sizeof e->reason,
                 "entitled to '%s', refused: campaign '%s' has no budget left for it", cp->id,
                 cp->campaign);
        return 0;
    }
    if ((rc = hold(c, cp, b, e->max_cost, e->valid_until_ms)) != 0)
        return rc;
    c->camp_dirty[k] = 1;
    if (o->n_entitled < COUPONSTORE_MAX_ENTITLED)
        couponstore_copy_id(o->entitled[o->n_entitled++], cp->id, COUPON_ID_MAX);
    return 0;
}

/* The customer's entitlements on the history as it stands (after the
 * targeted grant), granted where due. */
static int grant_entitlements(store_tx_t *tx, target_ctx_t *c, const coupon_velocity_t *vel)
{
    const couponstore_target_t *t = c->t;
    coupon_held_t held[COUPONSTORE_MAX_HELD];
    coupon_history_t hv;
    int k, rc;

    couponstore_history_view(&c->hist, t->now_ms, held, &hv);
    k = coupon_entitlements(t->catalog, t->n, t->cust, &hv, vel, c->cfg, t->now_ms,
                            t->entitlements);
    if (k < 0)
        return k;
    *t->n_entitlements = (size_t)k;
    for (int i = 0; i < k; i++)
        if (t->entitlements[i].status == COUPON_ENTITLED_GRANT &&
            (rc = grant_entitlement(tx, c, &t->entitlements[i])) != 0)
            return rc;
    return 0;
}

/* A replay writes nothing: the entitlements held in their period at the
 * logged time, those the logged request granted reported as granted. */
static int replay_entitlements(store_tx_t *tx, target_ctx_t *c)
{
    const couponstore_target_t *t = c->t;
    const couponstore_offer_t *o = c->out;
    coupon_held_t held[COUPONSTORE_MAX_HELD];
    coupon_history_t hv;
    size_t kept = 0;
    int k, rc;

    if ((rc = couponstore_history_tx_get(tx, o->customer_id, &c->hist)) != 0)
        return rc;
    couponstore_history_view(&c->hist, o->time_ms, held, &hv);
    k = coupon_entitlements(t->catalog, t->n, t->cust, &hv, NULL, c->cfg, o->time_ms,
                            t->entitlements);
    if (k < 0)
        return k;
    for (int i = 0; i < k; i++) {
        coupon_entitlement_t *e = &t->entitlements[i];
        if (e->status != COUPON_ENTITLED_HELD)
            continue;
        if (offer_names(o, t->catalog[e->index].id)) {
            e->status = COUPON_ENTITLED_GRANT;
            snprintf(e->reason, sizeof e->reason, "entitled to '%s' (granted by this request)",
                     t->catalog[e->index].id);
        }
        t->entitlements[kept++] = *e;
    }
    *t->n_entitlements = kept;
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
        int rc = coupon_decide(c->cands, c->n_cands, c->models.m, c->lambdas, t->cust, &hv,
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

    rc = offer_get(tx, t->request_id, c->out);
    if (rc == 0) {
        c->replayed = 1;
        return t->entitlements ? replay_entitlements(tx, c) : 0;
    }
    if (rc != -ENOENT)
        return rc;
    /* Merged away since the caller resolved it: the grant would land in a
     * history nobody reads (store_links.h). The caller resolves again. */
    {
        char who[STORE_MAX_ID + 1];
        if ((rc = store_tx_resolve_customer(tx, cid, who)) != 0)
            return rc < 0 ? rc : -ESTALE;
    }
    if ((rc = couponstore_velocity_touch(tx, 'd', t->device_id, cid, &vel.accounts_on_device)) ||
        (rc = couponstore_velocity_touch(tx, 'a', t->address_id, cid, &vel.accounts_on_address)) ||
        (rc = couponstore_history_tx_get(tx, cid, &c->hist)) ||
        (rc = couponstore_expire_grants(tx, &c->hist, t->now_ms, &hist_dirty)) ||
        (rc = couponstore_models_load_tx(tx, c->cands, &c->models)) || (rc = load_budgets(tx, c, t->now_ms)))
        return rc;
    couponstore_velocity_recent(&c->hist, t->now_ms, &vel);
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
    if (t->entitlements) {
        if ((rc = grant_entitlements(tx, c, &vel)) != 0)
            return rc;
        hist_dirty |= c->out->n_entitled > 0;
    }
    for (size_t k = 0; k < c->n_campaigns; k++)
        if (c->camp_dirty[k] &&
            (rc = couponstore_row_put(tx, &CS_BUDGET, c->campaigns[k], &c->budgets[k])) != 0)
            return rc;
    if (hist_dirty && (rc = couponstore_row_put(tx, &CS_HISTORY, cid, &c->hist)) != 0)
        return rc;
    return offer_put(tx, t->request_id, c->out);
}

static void target_free(target_ctx_t *c)
{
    free(c->cands);
    couponstore_models_free(&c->models);
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
    c->lambdas = malloc(m * sizeof *c->lambdas);
    c->opts = malloc(m * sizeof *c->opts);
    c->budgets = malloc(m * sizeof *c->budgets);
    c->campaigns = malloc(m * sizeof *c->campaigns);
    c->camp_dirty = calloc(m, sizeof *c->camp_dirty);
    if (!c->cands || !c->lambdas || !c->opts || !c->budgets ||
        !c->campaigns || !c->camp_dirty)
        return -ENOMEM;
    return 0;
}

/* Runs target_fn in tx, or (tx NULL) in a transaction of its own. */
static int target_in(store_t *s, store_tx_t *tx, const couponstore_target_t *t,
                     couponstore_offer_t *out, int *replayed)
{
    target_ctx_t c;
    coupon_config_t def;
    int rc;

    if (!t || !out || !t->cust || !id_ok(t->cust->customer_id, STORE_MAX_ID + 1) ||
        !id_ok(t->request_id, COUPONSTORE_REQUEST_ID_MAX) || (t->n && !t->catalog) ||
        (t->entitlements && !t->n_entitlements))
        return -EINVAL;
    if (t->n_entitlements)
        *t->n_entitlements = 0;
    if (!t->cfg)
        coupon_config_default(&def);
    memset(&c, 0, sizeof c);
    c.t = t;
    c.cfg = t->cfg ? t->cfg : &def;
    c.out = out;
    if ((rc = target_alloc(&c, t->n)) == 0) {
        for (size_t i = 0; i < t->n && !t->no_targeting; i++)
            if (t->catalog[i].mode == COUPON_TARGETED)
                c.cands[c.n_cands++] = t->catalog[i];
        rc = couponstore_models_init(&c.models, c.n_cands); /* models follow cands */
    }
    if (rc == 0)
        rc = tx ? target_fn(tx, &c) : store_table_atomic(s, target_fn, &c);
    if (rc == 0 && replayed)
        *replayed = c.replayed;
    target_free(&c);
    return rc;
}

int couponstore_target(store_t *s, const couponstore_target_t *t,
                       couponstore_offer_t *out, int *replayed)
{
    if (!s)
        return -EINVAL;
    return target_in(s, NULL, t, out, replayed);
}

int couponstore_target_tx(store_tx_t *tx, const couponstore_target_t *t,
                          couponstore_offer_t *out, int *replayed)
{
    if (!tx)
        return -EINVAL;
    return target_in(NULL, tx, t, out, replayed);
}

int couponstore_get_offer(store_t *s, const char *request_id, couponstore_offer_t *out)
{
    if (!s || !id_ok(request_id, COUPONSTORE_REQUEST_ID_MAX) || !out)
        return -EINVAL;
    return couponstore_row_read(s, &CS_OFFER, request_id, out);
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
    int rc = couponstore_rec_decode(&CS_OFFER, key, klen, val, vlen, &o);
    if (rc)
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
    return couponstore_rec_decode(&CS_OFFER, key, klen, val, vlen, &o) == 0 &&
           o.time_ms < *(const int64_t *)ctx;
}

int couponstore_prune_offers(store_t *s, int64_t before_ms, uint64_t *removed)
{
    if (!s || !removed)
        return -EINVAL;
    return store_table_prune(s, T_OFFER, offer_older, &before_ms, removed);
}
