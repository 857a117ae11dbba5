/*
 * store_migrate_coupons.c - format 1 -> 2 for coupon targeting's tables:
 * the struct images the previous release wrote (store_legacy.h) become
 * patron.store.v1 records (coupons.proto). Only the migration reads these
 * layouts.
 */
#include "store_internal.h"
#include "store_legacy.h"
#include "store_record.h"

#include <patron/store/v1/coupons.pb-c.h>
#include <stdlib.h>
#include <zlib.h>

/* A fixed char field of the old row must hold a NUL. */
#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

/* Copies an unaligned value of exactly the legacy size, checking the row
 * version when the layout has one. */
static int take(const char *table, const void *key, size_t klen, const void *val,
                size_t vlen, void *row, size_t size, int versioned)
{
    if (vlen != size)
        return store_record_bad(table, key, klen, "not a format 1 row (size)");
    memcpy(row, val, size);
    if (versioned && *(const uint32_t *)row != LEGACY_ROW_VERSION)
        return store_record_bad(table, key, klen, "not a format 1 row (version)");
    return 0;
}

static int bad_field(const char *table, const void *key, size_t klen)
{
    return store_record_bad(table, key, klen, "format 1 row with an unterminated string");
}

static int conv_coupon(const char *table, const void *key, size_t klen, const void *val,
                       size_t vlen, void **out, size_t *olen)
{
    legacy_coupon_row_t r;
    Patron__Store__V1__Coupon m = PATRON__STORE__V1__COUPON__INIT;
    Patron__Store__V1__Benefit b[LEGACY_MAX_PACK], *bp[LEGACY_MAX_PACK];
    int rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    if (rc)
        return rc;
    if (!TERMINATED(r.c.id) || !TERMINATED(r.c.campaign) || r.c.n_benefits > LEGACY_MAX_PACK ||
        r.c.n_categories > LEGACY_MAX_SCOPE || r.c.n_items > LEGACY_MAX_SCOPE)
        return bad_field(table, key, klen);
    for (size_t i = 0; i < r.c.n_benefits; i++) {
        patron__store__v1__benefit__init(&b[i]);
        b[i].kind = (Patron__Store__V1__BenefitKind)r.c.benefit[i].kind;
        b[i].amount = r.c.benefit[i].amount;
        b[i].percent = r.c.benefit[i].percent;
        b[i].cap = r.c.benefit[i].cap;
        b[i].threshold = r.c.benefit[i].threshold;
        b[i].min_threshold = r.c.benefit[i].min_threshold;
        bp[i] = &b[i];
    }
    m.id = r.c.id;
    m.campaign = r.c.campaign;
    m.type = (Patron__Store__V1__CouponType)r.c.type;
    m.n_benefits = r.c.n_benefits;
    m.benefits = bp;
    m.valid_from_ms = r.c.valid_from_ms;
    m.valid_until_ms = r.c.valid_until_ms;
    m.tier_mask = r.c.tier_mask;
    m.segment_mask = r.c.segment_mask;
    m.stage_mask = r.c.stage_mask;
    m.n_categories = r.c.n_categories;
    m.categories = r.c.categories;
    m.n_items = r.c.n_items;
    m.items = r.c.items;
    m.min_basket = r.c.min_basket;
    m.campaign_budget = r.c.campaign_budget;
    m.per_customer_limit = r.c.per_customer_limit;
    m.stackable = r.c.stackable != 0;
    return store_record_pack(&m.base, out, olen);
}

static int conv_budget(const char *table, const void *key, size_t klen, const void *val,
                       size_t vlen, void **out, size_t *olen)
{
    legacy_budget_t r;
    Patron__Store__V1__Budget m = PATRON__STORE__V1__BUDGET__INIT;
    Patron__Store__V1__Pacer p = PATRON__STORE__V1__PACER__INIT;
    Patron__Store__V1__PacerConfig c = PATRON__STORE__V1__PACER_CONFIG__INIT;
    int rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    if (rc)
        return rc;
    c.lambda_min = r.pacer.lambda_min;
    c.lambda_max = r.pacer.lambda_max;
    c.kp = r.pacer.kp;
    c.ki = r.pacer.ki;
    p.budget = r.pacer.budget;
    p.start_ms = r.pacer.start_ms;
    p.end_ms = r.pacer.end_ms;
    p.lambda = r.pacer.lambda;
    p.integral = r.pacer.integral;
    p.last_ms = r.pacer.last_ms;
    p.cfg = &c;
    m.budget = r.budget;
    m.spent = r.spent;
    m.committed = r.committed;
    m.grants = r.grants;
    m.redemptions = r.redemptions;
    m.pacer = &p;
    return store_record_pack(&m.base, out, olen);
}

static int conv_history(const char *table, const void *key, size_t klen, const void *val,
                        size_t vlen, void **out, size_t *olen)
{
    legacy_history_t *r = malloc(sizeof *r);
    Patron__Store__V1__CouponHistory m = PATRON__STORE__V1__COUPON_HISTORY__INIT;
    Patron__Store__V1__HeldCoupon e[LEGACY_MAX_HELD], *ep[LEGACY_MAX_HELD];
    int rc;

    if (!r)
        return -ENOMEM;
    if ((rc = take(table, key, klen, val, vlen, r, sizeof *r, 1)) != 0)
        goto done;
    if (r->n_held > LEGACY_MAX_HELD) {
        rc = bad_field(table, key, klen);
        goto done;
    }
    for (size_t i = 0; i < r->n_held; i++) {
        const legacy_held_t *x = &r->held[i];
        if (!TERMINATED(x->coupon_id) || !TERMINATED(x->campaign)) {
            rc = bad_field(table, key, klen);
            goto done;
        }
        patron__store__v1__held_coupon__init(&e[i]);
        e[i].coupon_id = (char *)x->coupon_id;
        e[i].campaign = (char *)x->campaign;
        e[i].granted = x->granted;
        e[i].active = x->active != 0;
        e[i].uses_left = x->uses_left;
        e[i].stackable = x->stackable != 0;
        e[i].reserved = x->reserved;
        e[i].valid_until_ms = x->valid_until_ms;
        e[i].last_grant_ms = x->last_grant_ms;
        ep[i] = &e[i];
    }
    m.welcome_pack = r->welcome_pack != 0;
    m.n_held = r->n_held;
    m.held = ep;
    m.n_grants = r->n_grants;
    m.n_grant_ms = r->n_grants < LEGACY_MAX_GRANTS ? r->n_grants : LEGACY_MAX_GRANTS;
    m.grant_ms = r->grant_ms;
    m.n_redeems = r->n_redeems;
    m.n_redeem_ms = r->n_redeems < LEGACY_MAX_REDEEMS ? r->n_redeems : LEGACY_MAX_REDEEMS;
    m.redeem_ms = r->redeem_ms;
    rc = store_record_pack(&m.base, out, olen);
done:
    free(r);
    return rc;
}

static int conv_velocity(const char *table, const void *key, size_t klen, const void *val,
                         size_t vlen, void **out, size_t *olen)
{
    legacy_velocity_t r;
    Patron__Store__V1__Velocity m = PATRON__STORE__V1__VELOCITY__INIT;
    int rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    if (rc)
        return rc;
    m.accounts_seen = r.n;
    m.n_account_hashes = r.n < LEGACY_MAX_ACCOUNTS ? r.n : LEGACY_MAX_ACCOUNTS;
    m.account_hashes = r.h;
    return store_record_pack(&m.base, out, olen);
}

/* Offer rows were deflated struct images (raw when exactly the size). */
static int conv_offer(const char *table, const void *key, size_t klen, const void *val,
                      size_t vlen, void **out, size_t *olen)
{
    legacy_offer_t r;
    Patron__Store__V1__Offer m = PATRON__STORE__V1__OFFER__INIT;
    Patron__Store__V1__UpliftFeatures x = PATRON__STORE__V1__UPLIFT_FEATURES__INIT;
    Patron__Store__V1__CouponOption n = PATRON__STORE__V1__COUPON_OPTION__INIT;
    uLongf len = sizeof r;
    int rc;

    if (vlen == sizeof r)
        rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    else if (uncompress((Bytef *)&r, &len, val, vlen) != Z_OK || len != sizeof r)
        rc = store_record_bad(table, key, klen, "not a format 1 offer row (deflate)");
    else
        rc = r.version == LEGACY_ROW_VERSION ? 0
             : store_record_bad(table, key, klen, "not a format 1 row (version)");
    if (rc)
        return rc;
    if (!TERMINATED(r.request_id) || !TERMINATED(r.customer_id) || !TERMINATED(r.coupon_id) ||
        !TERMINATED(r.campaign) || !TERMINATED(r.reason))
        return bad_field(table, key, klen);
    x.recency_days = r.x.recency_days;
    x.orders = r.x.orders;
    x.monetary = r.x.monetary;
    x.average_basket = r.x.average_basket;
    x.stage = r.x.stage;
    x.propensity = r.x.propensity;
    n.index = r.numbers.index;
    n.basket = r.numbers.basket;
    n.threshold = r.numbers.threshold;
    n.p_control = r.numbers.p_control;
    n.p_treated = r.numbers.p_treated;
    n.uplift = r.numbers.uplift;
    n.margin_control = r.numbers.margin_control;
    n.margin_treated = r.numbers.margin_treated;
    n.discount = r.numbers.discount;
    n.p_redeem = r.numbers.p_redeem;
    n.incr_margin = r.numbers.incr_margin;
    n.expected_cost = r.numbers.expected_cost;
    n.lambda = r.numbers.lambda;
    n.value = r.numbers.value;
    m.request_id = r.request_id;
    m.customer_id = r.customer_id;
    m.time_ms = r.time_ms;
    m.x = &x;
    m.coupon_id = r.coupon_id;
    m.campaign = r.campaign;
    m.outcome = (Patron__Store__V1__CouponOutcome)r.outcome;
    m.assign_prob = r.assign_prob;
    m.max_cost = r.max_cost;
    m.numbers = &n;
    m.reason = r.reason;
    return store_record_pack(&m.base, out, olen);
}

static int conv_redeem(const char *table, const void *key, size_t klen, const void *val,
                       size_t vlen, void **out, size_t *olen)
{
    legacy_redeem_t r;
    Patron__Store__V1__Redemption m = PATRON__STORE__V1__REDEMPTION__INIT;
    int rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    if (rc)
        return rc;
    if (!TERMINATED(r.customer_id) || !TERMINATED(r.coupon_id) || !TERMINATED(r.campaign))
        return bad_field(table, key, klen);
    m.customer_id = r.customer_id;
    m.coupon_id = r.coupon_id;
    m.campaign = r.campaign;
    m.discount = r.discount;
    m.time_ms = r.time_ms;
    return store_record_pack(&m.base, out, olen);
}

static int conv_model(const char *table, const void *key, size_t klen, const void *val,
                      size_t vlen, void **out, size_t *olen)
{
    legacy_uplift_model_t r;
    Patron__Store__V1__UpliftModel m = PATRON__STORE__V1__UPLIFT_MODEL__INIT;
    Patron__Store__V1__UpliftConfig c = PATRON__STORE__V1__UPLIFT_CONFIG__INIT;
    Patron__Store__V1__UpliftPrior p[LEGACY_SEGMENTS], *pp[LEGACY_SEGMENTS];
    int rc = take(table, key, klen, val, vlen, &r, sizeof r, 1);
    if (rc)
        return rc;
    for (size_t i = 0; i < LEGACY_SEGMENTS; i++) {
        patron__store__v1__uplift_prior__init(&p[i]);
        p[i].base_rate = r.prior[i].base_rate;
        p[i].uplift = r.prior[i].uplift;
        pp[i] = &p[i];
    }
    c.l2 = r.l2;
    c.max_iter = r.max_iter;
    c.prior_strength = r.prior_strength;
    c.n_prior = LEGACY_SEGMENTS;
    c.prior = pp;
    m.fitted = r.fitted != 0;
    m.n_beta_treated = m.n_beta_control = m.n_beta_response = LEGACY_UPLIFT_DIM;
    m.beta_treated = r.beta_treated;
    m.beta_control = r.beta_control;
    m.beta_response = r.beta_response;
    m.n_n_treated = m.n_n_control = LEGACY_SEGMENTS;
    m.n_treated = r.n_treated;
    m.n_control = r.n_control;
    m.cfg = &c;
    return store_record_pack(&m.base, out, olen);
}

legacy_conv_fn store_legacy_coupon_conv(const char *table)
{
    static const struct { const char *table; legacy_conv_fn fn; } convs[] = {
        { "coupon", conv_coupon },   { "cbudget", conv_budget }, { "chist", conv_history },
        { "cvel", conv_velocity },   { "coffer", conv_offer },   { "credeem", conv_redeem },
        { "cmodel", conv_model },
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        if (strcmp(convs[i].table, table) == 0)
            return convs[i].fn;
    return NULL;
}
