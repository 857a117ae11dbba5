/*
 * serve_coupon.c - TargetCoupons: decision, grant and exposure in one
 * transaction (serve_coupon.h).
 */
#include "serve_coupon.h"
#include "store_links.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "exposure.h"

_Static_assert(CATALOG_NO_CATEGORY == PROFILE_NO_CATEGORY,
               "cart lines carry catalog category ids");

int serve_coupon_view(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                      customer_view_t *v, int *known)
{
    int rc = customers_view(c, customer_id, now_ms, v);

    *known = rc == 0;
    if (rc != -ENOENT)
        return rc;
    memset(v, 0, sizeof *v);
    snprintf(v->customer_id, sizeof v->customer_id, "%s", customer_id);
    v->p.tier = -1;
    v->p.stage = PROFILE_STAGE_PROSPECT;
    v->segment = -1;
    return 0;
}

int serve_coupon_cart(const catalog_t *c, const coupon_config_t *cfg,
                      const serve_cart_line_t *in, size_t n, coupon_cart_line_t *out,
                      size_t *bad, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        const serve_cart_line_t *l = &in[i];
        double q = l->quantity == 0 ? 1.0 : l->quantity;
        uint32_t idx;
        *bad = i;
        if (!(l->quantity >= 0 && l->quantity <= STORE_MAX_QUANTITY) ||
            !(l->unit_price >= 0 && l->unit_price <= STORE_MAX_PRICE) ||
            !(l->unit_cost >= 0 && l->unit_cost <= STORE_MAX_PRICE)) {
            *why = ": quantity 0..1e6, unit_price and unit_cost 0..1e9";
            return -EINVAL;
        }
        if (!c || !l->item_id || !l->item_id[0] ||
            catalog_item_index(c, l->item_id, &idx) != 0) {
            *why = ".item_id: unknown item";
            return -EINVAL;
        }
        out[i].item = idx;
        out[i].category = c->item_cat[idx];
        out[i].amount = q * l->unit_price;
        out[i].margin = l->unit_cost > 0 ? q * (l->unit_price - l->unit_cost)
                                         : out[i].amount * cfg->margin_rate;
    }
    return 0;
}

#define TEXT(x) #x
#define TEXT_OF(x) TEXT(x)
#define SCOPE_MAX_TEXT TEXT_OF(COUPON_MAX_SCOPE)

int serve_coupon_scope(const catalog_t *c, const char *const *categories,
                       size_t n_categories, const char *const *items, size_t n_items,
                       coupon_t *out, const char **field, size_t *bad, const char **why)
{
    *bad = SIZE_MAX;
    if (n_categories > COUPON_MAX_SCOPE || n_items > COUPON_MAX_SCOPE) {
        *field = n_items > COUPON_MAX_SCOPE ? "items" : "categories";
        *why = "at most " SCOPE_MAX_TEXT;
        return -EINVAL;
    }
    *field = "categories";
    for (size_t i = 0; i < n_categories; i++)
        if (!c || !categories[i][0] ||
            catalog_category_index(c, categories[i], &out->categories[i]) != 0) {
            *bad = i;
            *why = "no catalog item has this category";
            return -EINVAL;
        }
    *field = "items";
    for (size_t i = 0; i < n_items; i++)
        if (!c || !items[i][0] || catalog_item_index(c, items[i], &out->items[i]) != 0) {
            *bad = i;
            *why = "unknown item";
            return -EINVAL;
        }
    out->n_categories = n_categories;
    out->n_items = n_items;
    return 0;
}

void serve_coupon_customer(const customer_view_t *v, coupon_customer_t *cc)
{
    memset(cc, 0, sizeof *cc);
    cc->customer_id = v->customer_id;
    cc->x.recency_days = v->p.recency_days;
    cc->x.orders = v->p.orders;
    cc->x.monetary = v->p.monetary;
    cc->x.average_basket = v->p.average_basket;
    cc->x.stage = (int)v->p.stage;
    cc->x.propensity = -1.0; /* factor-based propensity: not wired yet */
    cc->tier = v->p.tier;
    cc->segment = v->segment;
    cc->n_favourites = v->p.n_favourites;
    cc->favourites = v->p.favourites;
    cc->birth_month = v->has_attrs ? v->attrs.birth_month : 0;
    cc->signup_ms = v->has_attrs ? v->attrs.signup_ms : 0;
    cc->period_spend[COUPON_PERIOD_ONCE] = v->p.monetary;
    cc->period_spend[COUPON_PERIOD_YEAR] = v->p.spend_year;
    cc->period_spend[COUPON_PERIOD_MONTH] = v->p.spend_month;
    cc->period_spend[COUPON_PERIOD_WEEK] = v->p.spend_week;
}

typedef struct target_ctx {
    const arms_t *arms;
    const couponstore_target_t *t;
    couponstore_offer_t *out;
    int replayed;
    int foreign;            /* replayed a request of another customer */
} target_ctx_t;

static int target_and_expose(store_tx_t *tx, void *ctx)
{
    target_ctx_t *c = ctx;
    const char *cid = c->t->cust->customer_id;
    int rc = couponstore_target_tx(tx, c->t, c->out, &c->replayed);

    if (rc)
        return rc;
    /* A request logged under an id merged into cid since is cid's. */
    if (c->replayed && (rc = store_tx_same_customer(tx, c->out->customer_id, cid)) < 0)
        return rc;
    c->foreign = c->replayed && rc == 0;
    if (c->foreign)
        return 0;
    return exposure_log_tx(tx, c->arms, cid, c->out->request_id, NULL, 0);
}

int serve_target_coupon(store_t *s, const arms_t *arms, const couponstore_target_t *t,
                        counters_t *counters, couponstore_offer_t *out, int *replayed)
{
    couponstore_target_t at;
    target_ctx_t c = { arms, &at, out, 0, 0 };
    int rc;

    if (!s || !arms || !t || !t->cust)
        return -EINVAL;
    at = *t;
    if (arms->coupons_off)
        at.no_targeting = 1; /* "none"; promised entitlements are still kept */
    at.lambda = arms->coupons_off ? 0 : arms->coupon_lambda;
    if ((rc = store_table_atomic(s, target_and_expose, &c)) != 0)
        return rc;
    *replayed = c.replayed;
    if (c.foreign)
        return -EEXIST;
    if (!c.replayed)
        counters_decision(counters, out->outcome);
    counters_exposure(counters, arms);
    if (arms->coupons_off && !c.replayed)
        snprintf(out->reason, sizeof out->reason, "%s",
                 "no coupon: this customer's experiment arm gives no coupons");
    return 0;
}
