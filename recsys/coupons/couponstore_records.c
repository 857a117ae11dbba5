/*
 * couponstore_records.c - coupon targeting's rows as stored records
 * (proto/patron/store/v1/coupons.proto): between each C struct and its
 * message, and the typed get / put the rest of couponstore uses.
 *
 * Decoding checks every bound this build relies on (strings that must fit
 * their fixed fields, counts within the arrays): a record breaking one is
 * -EBADMSG with a message naming the table and key (store_record.h).
 */
#include "couponstore_internal.h"
#include "store_record.h"

#include <errno.h>
#include <patron/store/v1/coupons.pb-c.h>
#include <stdlib.h>

/* Stored enums mirror the domain's: the numbers on disk are the C values. */
#define SAME(c, pb) _Static_assert((int)(c) == (int)(pb), #c " is stored as " #pb)
SAME(COUPON_THRESHOLD, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_THRESHOLD);
SAME(COUPON_PERCENT, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_PERCENT);
SAME(COUPON_FIXED, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_FIXED);
SAME(COUPON_FREE_SHIPPING, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_FREE_SHIPPING);
SAME(COUPON_WELCOME_PACK, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_WELCOME_PACK);
SAME(COUPON_BIRTHDAY, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_BIRTHDAY);
SAME(COUPON_WINBACK, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_WINBACK);
SAME(COUPON_REFERRAL, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_REFERRAL);
SAME(COUPON_ANNIVERSARY, PATRON__STORE__V1__COUPON_TYPE__COUPON_TYPE_ANNIVERSARY);
SAME(COUPON_N_TYPES, 9);
SAME(COUPON_TARGETED, PATRON__STORE__V1__COUPON_MODE__COUPON_MODE_TARGETED);
SAME(COUPON_GUARANTEED, PATRON__STORE__V1__COUPON_MODE__COUPON_MODE_GUARANTEED);
SAME(COUPON_PERIOD_NONE, PATRON__STORE__V1__GRANT_PERIOD__GRANT_PERIOD_NONE);
SAME(COUPON_PERIOD_ONCE, PATRON__STORE__V1__GRANT_PERIOD__GRANT_PERIOD_ONCE);
SAME(COUPON_PERIOD_YEAR, PATRON__STORE__V1__GRANT_PERIOD__GRANT_PERIOD_YEAR);
SAME(COUPON_PERIOD_MONTH, PATRON__STORE__V1__GRANT_PERIOD__GRANT_PERIOD_MONTH);
SAME(COUPON_PERIOD_WEEK, PATRON__STORE__V1__GRANT_PERIOD__GRANT_PERIOD_WEEK);
SAME(COUPON_BENEFIT_AMOUNT, PATRON__STORE__V1__BENEFIT_KIND__BENEFIT_KIND_AMOUNT);
SAME(COUPON_BENEFIT_PERCENT, PATRON__STORE__V1__BENEFIT_KIND__BENEFIT_KIND_PERCENT);
SAME(COUPON_BENEFIT_SHIPPING, PATRON__STORE__V1__BENEFIT_KIND__BENEFIT_KIND_SHIPPING);
SAME(COUPON_BENEFIT_THRESHOLD, PATRON__STORE__V1__BENEFIT_KIND__BENEFIT_KIND_THRESHOLD);
SAME(COUPON_GRANT, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_GRANT);
SAME(COUPON_GRANT_EXPLORE, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_GRANT_EXPLORE);
SAME(COUPON_NONE_NOT_WORTH, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_NOT_WORTH);
SAME(COUPON_NONE_EXPLORE, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_EXPLORE);
SAME(COUPON_NONE_INELIGIBLE, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_INELIGIBLE);
SAME(COUPON_NONE_HOLDOUT, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_HOLDOUT);
SAME(COUPON_NONE_VELOCITY, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_VELOCITY);
SAME(COUPON_NONE_FREQUENCY, PATRON__STORE__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_FREQUENCY);
#undef SAME

#define TAKE(dst, src, what) \
    do { if (!store_record_copy_str(dst, sizeof(dst), src)) return what ": too long"; } while (0)

/* ---- coupon ------------------------------------------------------------------ */

static int coupon_encode(const void *row, void **buf, size_t *len)
{
    const coupon_t *c = row;
    Patron__Store__V1__Coupon m = PATRON__STORE__V1__COUPON__INIT;
    Patron__Store__V1__Benefit b[COUPON_MAX_PACK], *bp[COUPON_MAX_PACK];
    size_t nb = c->n_benefits < COUPON_MAX_PACK ? c->n_benefits : COUPON_MAX_PACK;

    for (size_t i = 0; i < nb; i++) {
        patron__store__v1__benefit__init(&b[i]);
        b[i].kind = (Patron__Store__V1__BenefitKind)c->benefit[i].kind;
        b[i].amount = c->benefit[i].amount;
        b[i].percent = c->benefit[i].percent;
        b[i].cap = c->benefit[i].cap;
        b[i].threshold = c->benefit[i].threshold;
        b[i].min_threshold = c->benefit[i].min_threshold;
        bp[i] = &b[i];
    }
    m.id = (char *)c->id;
    m.campaign = (char *)c->campaign;
    m.type = (Patron__Store__V1__CouponType)c->type;
    m.n_benefits = nb;
    m.benefits = bp;
    m.valid_from_ms = c->valid_from_ms;
    m.valid_until_ms = c->valid_until_ms;
    m.tier_mask = c->tier_mask;
    m.segment_mask = c->segment_mask;
    m.stage_mask = c->stage_mask;
    m.n_categories = c->n_categories < COUPON_MAX_SCOPE ? c->n_categories : COUPON_MAX_SCOPE;
    m.categories = (uint32_t *)c->categories;
    m.n_items = c->n_items < COUPON_MAX_SCOPE ? c->n_items : COUPON_MAX_SCOPE;
    m.items = (uint32_t *)c->items;
    m.min_basket = c->min_basket;
    m.campaign_budget = c->campaign_budget;
    m.per_customer_limit = c->per_customer_limit;
    m.stackable = c->stackable != 0;
    m.mode = (Patron__Store__V1__CouponMode)c->mode;
    m.period = (Patron__Store__V1__GrantPeriod)c->period;
    m.milestone_spend = c->milestone_spend;
    return store_record_pack(&m.base, buf, len);
}

static const char *coupon_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__Coupon *m = (const void *)msg;
    coupon_t *c = row;
    memset(c, 0, sizeof *c);
    TAKE(c->id, m->id, "id");
    TAKE(c->campaign, m->campaign, "campaign");
    if ((unsigned)m->type >= COUPON_N_TYPES)
        return "type: unknown";
    if (m->n_benefits > COUPON_MAX_PACK || m->n_categories > COUPON_MAX_SCOPE ||
        m->n_items > COUPON_MAX_SCOPE)
        return "benefits, categories or items: more than this build keeps";
    c->type = (coupon_type_t)m->type;
    c->n_benefits = m->n_benefits;
    for (size_t i = 0; i < m->n_benefits; i++) {
        const Patron__Store__V1__Benefit *b = m->benefits[i];
        if ((unsigned)b->kind > COUPON_BENEFIT_THRESHOLD)
            return "benefits.kind: unknown";
        c->benefit[i].kind = (coupon_benefit_kind_t)b->kind;
        c->benefit[i].amount = b->amount;
        c->benefit[i].percent = b->percent;
        c->benefit[i].cap = b->cap;
        c->benefit[i].threshold = b->threshold;
        c->benefit[i].min_threshold = b->min_threshold;
    }
    c->valid_from_ms = m->valid_from_ms;
    c->valid_until_ms = m->valid_until_ms;
    c->tier_mask = m->tier_mask;
    c->segment_mask = m->segment_mask;
    c->stage_mask = m->stage_mask;
    c->n_categories = m->n_categories;
    if (m->n_categories)
        memcpy(c->categories, m->categories, m->n_categories * sizeof *c->categories);
    c->n_items = m->n_items;
    if (m->n_items)
        memcpy(c->items, m->items, m->n_items * sizeof *c->items);
    c->min_basket = m->min_basket;
    c->campaign_budget = m->campaign_budget;
    c->per_customer_limit = m->per_customer_limit;
    c->stackable = m->stackable != 0;
    if ((unsigned)m->mode > COUPON_GUARANTEED || (unsigned)m->period >= COUPON_N_PERIODS)
        return "mode or period: unknown";
    c->mode = (coupon_mode_t)m->mode;
    c->period = (coupon_period_t)m->period;
    c->milestone_spend = m->milestone_spend;
    return NULL;
}

/* ---- budget ------------------------------------------------------------------ */

static int budget_encode(const void *row, void **buf, size_t *len)
{
    const couponstore_budget_t *b = row;
    Patron__Store__V1__Budget m = PATRON__STORE__V1__BUDGET__INIT;
    Patron__Store__V1__Pacer p = PATRON__STORE__V1__PACER__INIT;
    Patron__Store__V1__PacerConfig c = PATRON__STORE__V1__PACER_CONFIG__INIT;

    c.lambda_min = b->pacer.cfg.lambda_min;
    c.lambda_max = b->pacer.cfg.lambda_max;
    c.kp = b->pacer.cfg.kp;
    c.ki = b->pacer.cfg.ki;
    p.budget = b->pacer.budget;
    p.start_ms = b->pacer.start_ms;
    p.end_ms = b->pacer.end_ms;
    p.lambda = b->pacer.lambda;
    p.integral = b->pacer.integral;
    p.last_ms = b->pacer.last_ms;
    p.cfg = &c;
    m.budget = b->budget;
    m.spent = b->spent;
    m.committed = b->committed;
    m.grants = b->grants;
    m.redemptions = b->redemptions;
    m.pacer = &p;
    return store_record_pack(&m.base, buf, len);
}

static const char *budget_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__Budget *m = (const void *)msg;
    couponstore_budget_t *b = row;
    memset(b, 0, sizeof *b);
    b->version = COUPONSTORE_VERSION;
    b->budget = m->budget;
    b->spent = m->spent;
    b->committed = m->committed;
    b->grants = m->grants;
    b->redemptions = m->redemptions;
    if (m->pacer) {
        b->pacer.budget = m->pacer->budget;
        b->pacer.start_ms = m->pacer->start_ms;
        b->pacer.end_ms = m->pacer->end_ms;
        b->pacer.lambda = m->pacer->lambda;
        b->pacer.integral = m->pacer->integral;
        b->pacer.last_ms = m->pacer->last_ms;
        if (m->pacer->cfg) {
            b->pacer.cfg.lambda_min = m->pacer->cfg->lambda_min;
            b->pacer.cfg.lambda_max = m->pacer->cfg->lambda_max;
            b->pacer.cfg.kp = m->pacer->cfg->kp;
            b->pacer.cfg.ki = m->pacer->cfg->ki;
        }
    }
    return NULL;
}

/* ---- history ----------------------------------------------------------------- */

static int history_encode(const void *row, void **buf, size_t *len)
{
    const couponstore_history_t *h = row;
    Patron__Store__V1__CouponHistory m = PATRON__STORE__V1__COUPON_HISTORY__INIT;
    Patron__Store__V1__HeldCoupon e[COUPONSTORE_MAX_HELD], *ep[COUPONSTORE_MAX_HELD];
    size_t n = h->n_held < COUPONSTORE_MAX_HELD ? h->n_held : COUPONSTORE_MAX_HELD;

    for (size_t i = 0; i < n; i++) {
        const couponstore_held_t *x = &h->held[i];
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
        e[i].guaranteed = x->guaranteed != 0;
        ep[i] = &e[i];
    }
    m.welcome_pack = h->welcome_pack != 0;
    m.n_held = n;
    m.held = ep;
    m.n_grants = h->n_grants;
    m.n_grant_ms = ring_len(h->n_grants, COUPONSTORE_MAX_GRANTS);
    m.grant_ms = (int64_t *)h->grant_ms;
    m.n_redeems = h->n_redeems;
    m.n_redeem_ms = ring_len(h->n_redeems, COUPONSTORE_MAX_REDEEMS);
    m.redeem_ms = (int64_t *)h->redeem_ms;
    return store_record_pack(&m.base, buf, len);
}

static const char *history_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__CouponHistory *m = (const void *)msg;
    couponstore_history_t *h = row;
    memset(h, 0, sizeof *h);
    h->version = COUPONSTORE_VERSION;
    if (m->n_held > COUPONSTORE_MAX_HELD || m->n_grant_ms > COUPONSTORE_MAX_GRANTS ||
        m->n_redeem_ms > COUPONSTORE_MAX_REDEEMS)
        return "held, grant_ms or redeem_ms: more than this build keeps";
    h->welcome_pack = m->welcome_pack != 0;
    h->n_held = (uint32_t)m->n_held;
    for (size_t i = 0; i < m->n_held; i++) {
        const Patron__Store__V1__HeldCoupon *x = m->held[i];
        couponstore_held_t *e = &h->held[i];
        TAKE(e->coupon_id, x->coupon_id, "held.coupon_id");
        TAKE(e->campaign, x->campaign, "held.campaign");
        e->granted = x->granted;
        e->active = x->active != 0;
        e->uses_left = x->uses_left;
        e->stackable = x->stackable != 0;
        e->reserved = x->reserved;
        e->valid_until_ms = x->valid_until_ms;
        e->last_grant_ms = x->last_grant_ms;
        e->guaranteed = x->guaranteed != 0;
    }
    h->n_grants = m->n_grants;
    if (m->n_grant_ms)
        memcpy(h->grant_ms, m->grant_ms, m->n_grant_ms * sizeof *h->grant_ms);
    h->n_redeems = m->n_redeems;
    if (m->n_redeem_ms)
        memcpy(h->redeem_ms, m->redeem_ms, m->n_redeem_ms * sizeof *h->redeem_ms);
    return NULL;
}

/* ---- velocity ---------------------------------------------------------------- */

static int velocity_encode(const void *row, void **buf, size_t *len)
{
    const vel_row_t *v = row;
    Patron__Store__V1__Velocity m = PATRON__STORE__V1__VELOCITY__INIT;
    m.accounts_seen = v->n;
    m.n_account_hashes = v->n < COUPONSTORE_MAX_ACCOUNTS ? v->n : COUPONSTORE_MAX_ACCOUNTS;
    m.account_hashes = (uint64_t *)v->h;
    return store_record_pack(&m.base, buf, len);
}

static const char *velocity_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__Velocity *m = (const void *)msg;
    vel_row_t *v = row;
    memset(v, 0, sizeof *v);
    if (m->n_account_hashes > COUPONSTORE_MAX_ACCOUNTS)
        return "account_hashes: more than this build keeps";
    v->n = m->accounts_seen;
    if (m->n_account_hashes)
        memcpy(v->h, m->account_hashes, m->n_account_hashes * sizeof *v->h);
    return NULL;
}

/* ---- offer ------------------------------------------------------------------- */

static int offer_encode(const void *row, void **buf, size_t *len)
{
    const couponstore_offer_t *o = row;
    Patron__Store__V1__Offer m = PATRON__STORE__V1__OFFER__INIT;
    Patron__Store__V1__UpliftFeatures x = PATRON__STORE__V1__UPLIFT_FEATURES__INIT;
    Patron__Store__V1__CouponOption n = PATRON__STORE__V1__COUPON_OPTION__INIT;
    char *entitled[COUPONSTORE_MAX_ENTITLED];

    x.recency_days = o->x.recency_days;
    x.orders = o->x.orders;
    x.monetary = o->x.monetary;
    x.average_basket = o->x.average_basket;
    x.stage = o->x.stage;
    x.propensity = o->x.propensity;
    n.index = o->numbers.index;
    n.basket = o->numbers.basket;
    n.threshold = o->numbers.threshold;
    n.p_control = o->numbers.p_control;
    n.p_treated = o->numbers.p_treated;
    n.uplift = o->numbers.uplift;
    n.margin_control = o->numbers.margin_control;
    n.margin_treated = o->numbers.margin_treated;
    n.discount = o->numbers.discount;
    n.p_redeem = o->numbers.p_redeem;
    n.incr_margin = o->numbers.incr_margin;
    n.expected_cost = o->numbers.expected_cost;
    n.lambda = o->numbers.lambda;
    n.value = o->numbers.value;
    m.request_id = (char *)o->request_id;
    m.customer_id = (char *)o->customer_id;
    m.time_ms = o->time_ms;
    m.x = &x;
    m.coupon_id = (char *)o->coupon_id;
    m.campaign = (char *)o->campaign;
    m.outcome = (Patron__Store__V1__CouponOutcome)o->outcome;
    m.assign_prob = o->assign_prob;
    m.max_cost = o->max_cost;
    m.numbers = &n;
    m.reason = (char *)o->reason;
    for (size_t i = 0; i < o->n_entitled && i < COUPONSTORE_MAX_ENTITLED; i++)
        entitled[i] = (char *)o->entitled[i];
    m.n_entitled = o->n_entitled < COUPONSTORE_MAX_ENTITLED ? o->n_entitled
                                                            : COUPONSTORE_MAX_ENTITLED;
    m.entitled = entitled;
    return store_record_pack(&m.base, buf, len);
}

static const char *offer_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__Offer *m = (const void *)msg;
    couponstore_offer_t *o = row;
    memset(o, 0, sizeof *o);
    o->version = COUPONSTORE_VERSION;
    TAKE(o->request_id, m->request_id, "request_id");
    TAKE(o->customer_id, m->customer_id, "customer_id");
    TAKE(o->coupon_id, m->coupon_id, "coupon_id");
    TAKE(o->campaign, m->campaign, "campaign");
    TAKE(o->reason, m->reason, "reason");
    if (m->n_entitled > COUPONSTORE_MAX_ENTITLED)
        return "entitled: more than this build keeps";
    for (size_t i = 0; i < m->n_entitled; i++)
        TAKE(o->entitled[i], m->entitled[i], "entitled");
    o->n_entitled = (uint32_t)m->n_entitled;
    o->time_ms = m->time_ms;
    if (m->x) {
        o->x.recency_days = m->x->recency_days;
        o->x.orders = m->x->orders;
        o->x.monetary = m->x->monetary;
        o->x.average_basket = m->x->average_basket;
        o->x.stage = m->x->stage;
        o->x.propensity = m->x->propensity;
    }
    o->outcome = (int32_t)m->outcome;
    o->assign_prob = m->assign_prob;
    o->max_cost = m->max_cost;
    o->numbers.index = -1;
    if (m->numbers) {
        o->numbers.index = m->numbers->index;
        o->numbers.basket = m->numbers->basket;
        o->numbers.threshold = m->numbers->threshold;
        o->numbers.p_control = m->numbers->p_control;
        o->numbers.p_treated = m->numbers->p_treated;
        o->numbers.uplift = m->numbers->uplift;
        o->numbers.margin_control = m->numbers->margin_control;
        o->numbers.margin_treated = m->numbers->margin_treated;
        o->numbers.discount = m->numbers->discount;
        o->numbers.p_redeem = m->numbers->p_redeem;
        o->numbers.incr_margin = m->numbers->incr_margin;
        o->numbers.expected_cost = m->numbers->expected_cost;
        o->numbers.lambda = m->numbers->lambda;
        o->numbers.value = m->numbers->value;
    }
    return NULL;
}

/* ---- redemption -------------------------------------------------------------- */

static int redeem_encode(const void *row, void **buf, size_t *len)
{
    const redeem_row_t *r = row;
    Patron__Store__V1__Redemption m = PATRON__STORE__V1__REDEMPTION__INIT;
    m.customer_id = (char *)r->customer_id;
    m.coupon_id = (char *)r->coupon_id;
    m.campaign = (char *)r->campaign;
    m.discount = r->discount;
    m.time_ms = r->time_ms;
    return store_record_pack(&m.base, buf, len);
}

static const char *redeem_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__Redemption *m = (const void *)msg;
    redeem_row_t *r = row;
    memset(r, 0, sizeof *r);
    TAKE(r->customer_id, m->customer_id, "customer_id");
    TAKE(r->coupon_id, m->coupon_id, "coupon_id");
    TAKE(r->campaign, m->campaign, "campaign");
    r->discount = m->discount;
    r->time_ms = m->time_ms;
    return NULL;
}

/* ---- uplift model ------------------------------------------------------------ */

static int model_encode(const void *row, void **buf, size_t *len)
{
    const uplift_model_t *u = row;
    Patron__Store__V1__UpliftModel m = PATRON__STORE__V1__UPLIFT_MODEL__INIT;
    Patron__Store__V1__UpliftConfig c = PATRON__STORE__V1__UPLIFT_CONFIG__INIT;
    Patron__Store__V1__UpliftPrior p[UPLIFT_N_SEGMENTS], *pp[UPLIFT_N_SEGMENTS];

    for (size_t i = 0; i < UPLIFT_N_SEGMENTS; i++) {
        patron__store__v1__uplift_prior__init(&p[i]);
        p[i].base_rate = u->cfg.prior[i].base_rate;
        p[i].uplift = u->cfg.prior[i].uplift;
        pp[i] = &p[i];
    }
    c.l2 = u->cfg.l2;
    c.max_iter = u->cfg.max_iter;
    c.prior_strength = u->cfg.prior_strength;
    c.n_prior = UPLIFT_N_SEGMENTS;
    c.prior = pp;
    m.fitted = u->fitted != 0;
    m.n_beta_treated = m.n_beta_control = m.n_beta_response = UPLIFT_DIM;
    m.beta_treated = (double *)u->beta_treated;
    m.beta_control = (double *)u->beta_control;
    m.beta_response = (double *)u->beta_response;
    m.n_n_treated = m.n_n_control = UPLIFT_N_SEGMENTS;
    m.n_treated = (double *)u->n_treated;
    m.n_control = (double *)u->n_control;
    m.cfg = &c;
    return store_record_pack(&m.base, buf, len);
}

/* A decoded repeated field into its array: protobuf-c leaves an empty one
 * NULL, and memcpy from NULL is undefined even for 0 bytes (found by
 * tests/fuzz: corpus/records/uplift_model/crash-empty). */
static void copy_doubles(double *dst, const double *src, size_t n)
{
    if (n)
        memcpy(dst, src, n * sizeof *dst);
}

static const char *model_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__UpliftModel *m = (const void *)msg;
    uplift_model_t *u = row;
    memset(u, 0, sizeof *u);
    u->version = UPLIFT_MODEL_VERSION;
    if (m->n_beta_treated > UPLIFT_DIM || m->n_beta_control > UPLIFT_DIM ||
        m->n_beta_response > UPLIFT_DIM || m->n_n_treated > UPLIFT_N_SEGMENTS ||
        m->n_n_control > UPLIFT_N_SEGMENTS || (m->cfg && m->cfg->n_prior > UPLIFT_N_SEGMENTS))
        return "coefficients or segments: more than this build has";
    u->fitted = m->fitted != 0;
    copy_doubles(u->beta_treated, m->beta_treated, m->n_beta_treated);
    copy_doubles(u->beta_control, m->beta_control, m->n_beta_control);
    copy_doubles(u->beta_response, m->beta_response, m->n_beta_response);
    copy_doubles(u->n_treated, m->n_treated, m->n_n_treated);
    copy_doubles(u->n_control, m->n_control, m->n_n_control);
    if (m->cfg) {
        u->cfg.l2 = m->cfg->l2;
        u->cfg.max_iter = m->cfg->max_iter;
        u->cfg.prior_strength = m->cfg->prior_strength;
        for (size_t i = 0; i < m->cfg->n_prior; i++) {
            u->cfg.prior[i].base_rate = m->cfg->prior[i]->base_rate;
            u->cfg.prior[i].uplift = m->cfg->prior[i]->uplift;
        }
    }
    return NULL;
}

/* ---- the boosted T-learner ---------------------------------------------------- */

/* The flat arrays of one arm: msg's repeated fields point into them. */
typedef struct gbt_flat {
    uint32_t feature[UPLIFT_GBT_MAX_TREES * UPLIFT_GBT_NODES];
    double threshold[UPLIFT_GBT_MAX_TREES * UPLIFT_GBT_NODES];
    double leaf[UPLIFT_GBT_MAX_TREES * UPLIFT_GBT_LEAVES];
} gbt_flat_t;

static void gbt_to_msg(const uplift_gbt_t *g, gbt_flat_t *f, Patron__Store__V1__UpliftGbt *m)
{
    for (uint32_t t = 0; t < g->n_trees; t++) {
        for (int j = 0; j < UPLIFT_GBT_NODES; j++) {
            f->feature[t * UPLIFT_GBT_NODES + j] = g->tree[t].feature[j];
            f->threshold[t * UPLIFT_GBT_NODES + j] = g->tree[t].threshold[j];
        }
        memcpy(&f->leaf[t * UPLIFT_GBT_LEAVES], g->tree[t].leaf, sizeof g->tree[t].leaf);
    }
    m->intercept = g->base;
    m->n_trees = g->n_trees;
    m->n_feature = m->n_threshold = (size_t)g->n_trees * UPLIFT_GBT_NODES;
    m->n_leaf = (size_t)g->n_trees * UPLIFT_GBT_LEAVES;
    m->feature = f->feature;
    m->threshold = f->threshold;
    m->leaf = f->leaf;
}

static int boosted_encode(const void *row, void **buf, size_t *len)
{
    const uplift_gbt_tl_t *tl = row;
    Patron__Store__V1__UpliftBoosted m = PATRON__STORE__V1__UPLIFT_BOOSTED__INIT;
    Patron__Store__V1__UpliftGbt arm[2] = { PATRON__STORE__V1__UPLIFT_GBT__INIT,
                                           PATRON__STORE__V1__UPLIFT_GBT__INIT };
    gbt_flat_t *f = malloc(2 * sizeof *f);
    if (!f)
        return -ENOMEM;
    gbt_to_msg(&tl->treated, &f[0], &arm[0]);
    gbt_to_msg(&tl->control, &f[1], &arm[1]);
    m.treated = &arm[0];
    m.control = &arm[1];
    int rc = store_record_pack(&m.base, buf, len);
    free(f);
    return rc;
}

static const char *gbt_from_msg(const Patron__Store__V1__UpliftGbt *m, uplift_gbt_t *g)
{
    memset(g, 0, sizeof *g);
    if (!m)
        return "an arm is missing";
    if (m->n_trees > UPLIFT_GBT_MAX_TREES)
        return "more trees than this build has";
    if (m->n_feature != (size_t)m->n_trees * UPLIFT_GBT_NODES ||
        m->n_threshold != (size_t)m->n_trees * UPLIFT_GBT_NODES ||
        m->n_leaf != (size_t)m->n_trees * UPLIFT_GBT_LEAVES)
        return "tree arrays do not match the tree count";
    g->n_trees = m->n_trees;
    g->base = m->intercept;
    for (uint32_t t = 0; t < g->n_trees; t++) {
        for (int j = 0; j < UPLIFT_GBT_NODES; j++) {
            uint32_t ft = m->feature[t * UPLIFT_GBT_NODES + j];
            g->tree[t].feature[j] = (uint8_t)(ft < UINT8_MAX ? ft : UINT8_MAX);
            g->tree[t].threshold[j] = m->threshold[t * UPLIFT_GBT_NODES + j];
        }
        memcpy(g->tree[t].leaf, &m->leaf[t * UPLIFT_GBT_LEAVES], sizeof g->tree[t].leaf);
    }
    return uplift_gbt_invalid(g);
}

static const char *boosted_from(const ProtobufCMessage *msg, void *row)
{
    const Patron__Store__V1__UpliftBoosted *m = (const void *)msg;
    uplift_gbt_tl_t *tl = row;
    const char *why = gbt_from_msg(m->treated, &tl->treated);
    return why ? why : gbt_from_msg(m->control, &tl->control);
}

/* ---- the record kinds and their get / put ----------------------------------- */

const couponstore_rec_t CS_COUPON = { T_COUPON, &patron__store__v1__coupon__descriptor,
                                      coupon_encode, coupon_from };
const couponstore_rec_t CS_BUDGET = { T_BUDGET, &patron__store__v1__budget__descriptor,
                                      budget_encode, budget_from };
const couponstore_rec_t CS_HISTORY = { T_HIST, &patron__store__v1__coupon_history__descriptor,
                                       history_encode, history_from };
const couponstore_rec_t CS_VELOCITY = { T_VEL, &patron__store__v1__velocity__descriptor,
                                        velocity_encode, velocity_from };
const couponstore_rec_t CS_OFFER = { T_OFFER, &patron__store__v1__offer__descriptor,
                                     offer_encode, offer_from };
const couponstore_rec_t CS_REDEEM = { T_REDEEM, &patron__store__v1__redemption__descriptor,
                                      redeem_encode, redeem_from };
const couponstore_rec_t CS_MODEL = { T_MODEL, &patron__store__v1__uplift_model__descriptor,
                                     model_encode, model_from };
const couponstore_rec_t CS_BOOSTED = { T_BOOSTED, &patron__store__v1__uplift_boosted__descriptor,
                                       boosted_encode, boosted_from };

int couponstore_rec_decode(const couponstore_rec_t *r, const void *key, size_t klen,
                           const void *val, size_t vlen, void *row)
{
    ProtobufCMessage *m;
    const char *why;
    int rc = store_record_unpack(r->desc, r->table, key, klen, val, vlen, &m);
    if (rc)
        return rc;
    why = r->from(m, row);
    store_record_free(m);
    return why ? store_record_bad(r->table, key, klen, why) : 0;
}

int couponstore_row_get(store_tx_t *tx, const couponstore_rec_t *r, const char *key,
                        void *row)
{
    const void *val;
    size_t vlen, klen = strlen(key);
    int rc = store_tx_get_ref(tx, r->table, key, klen, &val, &vlen);
    return rc ? rc : couponstore_rec_decode(r, key, klen, val, vlen, row);
}

int couponstore_row_put(store_tx_t *tx, const couponstore_rec_t *r, const char *key,
                        const void *row)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = r->encode(row, &buf, &len);
    if (rc == 0)
        rc = store_tx_put(tx, r->table, key, strlen(key), buf, len);
    free(buf);
    return rc;
}

int couponstore_row_read(store_t *s, const couponstore_rec_t *r, const char *key,
                         void *row)
{
    void *val = NULL;
    size_t vlen = 0, klen = strlen(key);
    int rc = store_table_get(s, r->table, key, klen, &val, &vlen);
    if (rc == 0)
        rc = couponstore_rec_decode(r, key, klen, val, vlen, row);
    free(val);
    return rc;
}

int couponstore_row_write(store_t *s, const couponstore_rec_t *r, const char *key,
                          const void *row)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = r->encode(row, &buf, &len);
    if (rc == 0)
        rc = store_table_put(s, r->table, key, strlen(key), buf, len);
    free(buf);
    return rc;
}
