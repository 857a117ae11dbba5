/*
 * coupons_rpc.c - the patron.v1.Coupons methods: the coupon catalog, the
 * per-customer decision with its atomic grant, campaign audiences and
 * redemptions. Translation between messages and recsys/ types happens
 * here; decisions and accounting are couponstore.c's and coupon.c's.
 *
 * Unknown customers (no events, no attributes) are decided as prospects
 * with an empty history: a first visit may get a welcome pack. The
 * response says so (known_customer = false).
 */
#include "coupons_rpc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "codec.h"
#include "store_links.h"
#include "enums.h"
#include "id.h"
#include "couponstore.h"
#include "campaign.h"
#include "consent_rpc.h"
#include "consentstore.h"
#include "serve_coupon.h"
#include "patron/v1/coupons.pb-c.h"
#include "wallclock.h"

/* Ids here are written (definitions, grants, redemptions): printable
 * UTF-8, no control characters (base/id.h). */
static int id_bad(const char *id, size_t max)
{
    return id_check(id, max, ID_PRINTABLE) == 0;
}

/* ---- Coupon message -> coupon_t --------------------------------------------------- */

static int name_index(const char *name, const char *(*name_of)(const profile_config_t *, int),
                      const profile_config_t *cfg, size_t n)
{
    for (size_t i = 0; i < n && i < 32; i++)
        if (strcmp(name_of(cfg, (int)i), name) == 0)
            return (int)i;
    return -1;
}

/* Fills c from m; on a bad field writes a message naming it into err and
 * returns -EINVAL. Names resolve against the profile config pc (tiers,
 * segments) and catalog. */
static int coupon_from_msg_with(app_t *a, const profile_config_t *pc,
                                const Patron__V1__Coupon *m, coupon_t *c, char *err,
                                size_t cap)
{
    const char *field, *why;
    catalog_t *cat;
    size_t bad;
    int rc;

    memset(c, 0, sizeof *c);
    if (id_bad(m->coupon_id, COUPON_ID_MAX - 1) || id_bad(m->campaign_id, COUPON_ID_MAX - 1)) {
        snprintf(err, cap, "%s: 1..63 bytes without control characters required",
                 id_bad(m->coupon_id, COUPON_ID_MAX - 1) ? "coupon_id" : "campaign_id");
        return -EINVAL;
    }
    strcpy(c->id, m->coupon_id);
    strcpy(c->campaign, m->campaign_id);
    if (coupon_kind_from_pb(m->kind, &c->type) != 0) {
        snprintf(err, cap, "kind: must be one of the CouponKind values (not UNSPECIFIED)");
        return -EINVAL;
    }
    if (m->n_benefits < 1 || m->n_benefits > COUPON_MAX_PACK) {
        snprintf(err, cap, "benefits: 1..%d required", COUPON_MAX_PACK);
        return -EINVAL;
    }
    c->n_benefits = m->n_benefits;
    for (size_t i = 0; i < m->n_benefits; i++) {
        const Patron__V1__CouponBenefit *b = m->benefits[i];
        coupon_benefit_kind_t kind;
        if (benefit_kind_from_pb(b->kind, &kind) != 0) {
            snprintf(err, cap, "benefits[%zu].kind: must be one of the BenefitKind values (not "
                     "UNSPECIFIED)", i);
            return -EINVAL;
        }
        c->benefit[i] = (coupon_benefit_t){ kind, b->amount, b->percent, b->cap,
                                            b->threshold, b->min_threshold };
    }
    c->valid_from_ms = m->valid_from_unix_ms;
    c->valid_until_ms = m->valid_until_unix_ms;
    c->campaign_budget = m->campaign_budget;
    c->per_customer_limit = m->per_customer_limit;
    c->min_basket = m->min_basket;
    c->stackable = m->stackable;
    c->milestone_spend = m->milestone_spend;
    if (coupon_mode_from_pb(m->mode, &c->mode) != 0) {
        snprintf(err, cap, "mode: must be one of the CouponMode values");
        return -EINVAL;
    }
    if (coupon_period_from_pb(m->period, &c->period) != 0) {
        snprintf(err, cap, "period: must be one of the GrantPeriod values");
        return -EINVAL;
    }
    for (size_t i = 0; i < m->n_eligible_segments; i++) {
        int k = name_index(m->eligible_segments[i], profile_segment_name, pc, pc->n_segments);
        if (k < 0) {
            snprintf(err, cap, "eligible_segments[%zu]: unknown segment", i);
            return -EINVAL;
        }
        c->segment_mask |= 1u << k;
    }
    for (size_t i = 0; i < m->n_eligible_tiers; i++) {
        int k = name_index(m->eligible_tiers[i], profile_tier_name, pc, pc->n_tiers);
        if (k < 0) {
            snprintf(err, cap, "eligible_tiers[%zu]: unknown tier", i);
            return -EINVAL;
        }
        c->tier_mask |= 1u << k;
    }
    for (size_t i = 0; i < m->n_eligible_stages; i++) {
        profile_stage_t stage;
        if (stage_from_pb(m->eligible_stages[i], &stage) != 0) {
            snprintf(err, cap, "eligible_stages[%zu]: must be one of the LifecycleStage "
                     "values (not UNSPECIFIED)", i);
            return -EINVAL;
        }
        c->stage_mask |= 1u << stage;
    }
    cat = catalog_slot_get(&a->catalogs);
    rc = serve_coupon_scope(cat, (const char *const *)m->categories, m->n_categories,
                            (const char *const *)m->items, m->n_items, c, &field, &bad, &why);
    catalog_unref(cat);
    if (rc == 0)
        return 0;
    if (bad == SIZE_MAX)
        snprintf(err, cap, "%s: %s", field, why);
    else
        snprintf(err, cap, "%s[%zu]: %s", field, bad, why);
    return rc;
}

/* coupon_from_msg_with the programme in force's tiers and segments. */
static int coupon_from_msg(app_t *a, const Patron__V1__Coupon *m, coupon_t *c,
                           char *err, size_t cap)
{
    programme_t *prog = app_programme(a);
    int rc = coupon_from_msg_with(a, &prog->settings.profile, m, c, err, cap);
    programme_unref(prog);
    return rc;
}

void h_upsert_coupon(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__UpsertCouponRequest *r = (Patron__V1__UpsertCouponRequest *)decode(
        &patron__v1__upsert_coupon_request__descriptor, req, len, out);
    Patron__V1__UpsertCouponResponse resp = PATRON__V1__UPSERT_COUPON_RESPONSE__INIT;
    const char *why = NULL;
    char err[256];
    coupon_t c;
    int rc;

    (void)ci;
    if (!r)
        return;
    if (!r->coupon) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "coupon: required");
    } else if (coupon_from_msg(a, r->coupon, &c, err, sizeof err) != 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "coupon.%s", err);
    } else if ((rc = couponstore_put_coupon(a->store, &c, NULL, &why)) == -EINVAL && why) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "coupon.%s", why);
    } else if (rc) {
        fail_errno(out, rc, "storing the coupon");
    } else {
        app_coupons_changed(a); /* TargetCoupons decides with it from now on */
        resp.coupon = r->coupon;
        encode(&resp.base, out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- TargetCoupons ----------------------------------------------------------------- */

/* Cart lines with their items and categories from the served catalog;
 * err names a bad line. */
static int cart_from_msg(app_t *a, const Patron__V1__TargetCouponsRequest *r,
                         const coupon_config_t *cfg, coupon_cart_line_t *lines,
                         char *err, size_t cap)
{
    serve_cart_line_t *in = calloc(r->n_cart ? r->n_cart : 1, sizeof *in);
    catalog_t *c = catalog_slot_get(&a->catalogs);
    const char *why = "";
    size_t bad = 0;
    int rc = -ENOMEM;

    if (in) {
        for (size_t i = 0; i < r->n_cart; i++)
            in[i] = (serve_cart_line_t){ r->cart[i]->item_id, r->cart[i]->quantity,
                                         r->cart[i]->unit_price, r->cart[i]->unit_cost };
        if ((rc = serve_coupon_cart(c, cfg, in, r->n_cart, lines, &bad, &why)) == -EINVAL)
            snprintf(err, cap, "cart[%zu]%s", bad, why);
    }
    catalog_unref(c);
    free(in);
    return rc;
}

#define MAX_CART 1000

static void decision_fill(const couponstore_offer_t *o, Patron__V1__CouponDecision *d)
{
    const coupon_option_t *n = &o->numbers;
    d->coupon_id = (char *)o->coupon_id;
    d->campaign_id = (char *)o->campaign;
    d->outcome = outcome_to_pb(o->outcome);
    d->reason = (char *)o->reason;
    d->assignment_probability = o->assign_prob;
    d->max_cost = o->max_cost;
    d->uplift = n->uplift;
    d->p_control = n->p_control;
    d->p_treated = n->p_treated;
    d->incremental_margin = n->incr_margin;
    d->expected_cost = n->expected_cost;
    d->basket = n->basket;
    d->threshold = n->threshold;
    d->discount = n->discount;
    d->lambda = n->lambda;
    d->value = n->value;
}

/* The response's entitlements: msgs[i] for es[i] over the catalog cs
 * (strings borrowed from both), ptrs the repeated field. */
static void entitlements_fill(const coupon_t *cs, const coupon_entitlement_t *es, size_t n,
                              Patron__V1__Entitlement *msgs, Patron__V1__Entitlement **ptrs)
{
    for (size_t i = 0; i < n; i++) {
        const coupon_t *c = &cs[es[i].index];
        Patron__V1__Entitlement *m = &msgs[i];
        patron__v1__entitlement__init(m);
        m->coupon_id = (char *)c->id;
        m->campaign_id = (char *)c->campaign;
        m->kind = (Patron__V1__CouponKind)(c->type + 1);
        m->status = entitled_to_pb(es[i].status);
        m->granted_unix_ms = es[i].granted_ms;
        m->valid_until_unix_ms = es[i].valid_until_ms;
        m->period_start_unix_ms = es[i].period_start_ms;
        m->period_end_unix_ms = es[i].period_end_ms;
        m->max_cost = es[i].max_cost;
        m->reason = (char *)es[i].reason;
        ptrs[i] = m;
    }
}

static const char *target_invalid(const Patron__V1__TargetCouponsRequest *r)
{
    if (id_bad(r->customer_id, STORE_MAX_ID))
        return "customer_id: 1..256 bytes without control characters required";
    if (strlen(r->request_id) >= COUPONSTORE_REQUEST_ID_MAX)
        return "request_id: at most 64 bytes";
    if (strlen(r->device_id) > STORE_MAX_ID || strlen(r->address_id) > STORE_MAX_ID)
        return "device_id, address_id: at most 256 bytes";
    if (r->as_of_unix_ms < 0)
        return "as_of_unix_ms: must be >= 0 (0 = now)";
    if (r->n_cart > MAX_CART)
        return "cart: at most 1000 lines";
    return NULL;
}

/* The customer's view at now; *known = 0 (a prospect) when unknown. */
static int load_customer(app_t *a, programme_t *prog, const char *customer_id, int64_t now,
                         customer_view_t *v, int *known)
{
    customers_ctx_t c;
    int rc;
    app_customers_begin_with(a, NULL, prog, &c); /* one customer: no scan */
    rc = serve_coupon_view(&c, customer_id, now, v, known);
    app_customers_end(a, &c);
    return rc;
}

/* How often TargetCoupons resolves an id merged away meanwhile. */
#define TARGET_TRIES 4
/* A customer who withdrew marketing consent gets no coupon: nothing is
 * decided, granted or logged (the offer log trains uplift models on
 * decisions, and this was none), and the answer says why. */
static void decline_no_consent(const Patron__V1__TargetCouponsRequest *r,
                               const rpc_call_info_t *ci, rpc_reply_t *out)
{
    Patron__V1__TargetCouponsResponse resp = PATRON__V1__TARGET_COUPONS_RESPONSE__INIT;
    Patron__V1__CouponDecision dec = PATRON__V1__COUPON_DECISION__INIT;
    Patron__V1__Provenance prov = PATRON__V1__PROVENANCE__INIT;
    char rid[33];

    if (!r->request_id[0])
        rpc_new_request_id(rid);
    dec.outcome = PATRON__V1__COUPON_OUTCOME__COUPON_OUTCOME_NONE_NO_CONSENT;
    dec.reason = (char *)"the customer withdrew marketing consent";
    dec.assignment_probability = 1.0;
    prov.request_id = r->request_id[0] ? r->request_id : rid;
    resp.decision = &dec;
    resp.provenance = &prov;
    tag_provenance(ci, &prov);
    encode(&resp.base, out);
}

void h_target_coupons(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__TargetCouponsRequest *r = (Patron__V1__TargetCouponsRequest *)decode(
        &patron__v1__target_coupons_request__descriptor, req, len, out);
    Patron__V1__TargetCouponsResponse resp = PATRON__V1__TARGET_COUPONS_RESPONSE__INIT;
    Patron__V1__CouponDecision dec = PATRON__V1__COUPON_DECISION__INIT;
    Patron__V1__Provenance prov = PATRON__V1__PROVENANCE__INIT;
    coupon_cart_line_t *lines = NULL;
    coupon_catalog_t *coupons = NULL;
    coupon_entitlement_t *ents = NULL;
    Patron__V1__Entitlement *ent_msgs = NULL, **ent_ptrs = NULL;
    size_t n_ents = 0;
    couponstore_offer_t offer;
    couponstore_target_t t;
    arms_t arms;
    coupon_customer_t cust;
    coupon_config_t cfg;
    programme_t *prog = NULL;
    customer_view_t v;
    char rid[33], err[256], who[STORE_MAX_ID + 1];
    const char *bad, *exp_id, *arm_id;
    int known = 0, replayed = 0, linked = 0, stale = 0, consented = 0, rc;

    if (!r)
        return;
    if ((bad = target_invalid(r)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    /* One programme for the whole decision: guards, consent default, tiers. */
    prog = app_programme(a);
    cfg = prog->settings.coupon;
    if (r->n_cart && !(lines = calloc(r->n_cart, sizeof *lines))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if ((rc = cart_from_msg(a, r, &cfg, lines, err, sizeof err)) != 0) {
        if (rc == -EINVAL)
            rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
        else
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    /* An id merged away is decided for as its survivor (store_links.h); a
     * merge committed between resolving and granting (-ESTALE) resolves
     * again. */
resolve:
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    if ((rc = consentstore_allows(a->store, who, -1, CONSENT_MARKETING,
                                  (consent_state_t)prog->settings.profile.contact.consent_default,
                                  &consented)) != 0) {
        fail_errno(out, rc, "reading the customer's consent");
        goto out;
    }
    if (!consented) {
        decline_no_consent(r, ci, out);
        goto out;
    }
    memset(&t, 0, sizeof t);
    t.now_ms = r->as_of_unix_ms > 0 ? r->as_of_unix_ms : wall_ms();
    exp_slot_arms(&a->experiments, who, wall_ms(), &arms, NULL);
    if ((rc = load_customer(a, prog, who, t.now_ms, &v, &known)) != 0) {
        fail_errno(out, rc, "reading the profile");
        goto out;
    }
    serve_coupon_customer(&v, &cust);
    cust.referred = r->referred;
    cust.cart = lines;
    cust.n_cart = r->n_cart;
    if (!(coupons = coupon_catalog_slot_get(&a->coupons))) {
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE, "the coupon catalog could not be read");
        goto out;
    }
    free(ents);
    if (!(ents = calloc(coupons->n ? coupons->n : 1, sizeof *ents))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (!r->request_id[0])
        rpc_new_request_id(rid);
    t.request_id = r->request_id[0] ? r->request_id : rid;
    t.device_id = r->device_id;
    t.address_id = r->address_id;
    t.cust = &cust;
    t.catalog = coupons->coupons;
    t.n = coupons->n;
    t.cfg = &cfg;
    t.entitlements = ents;
    t.n_entitlements = &n_ents;
    rc = serve_target_coupon(a->store, &arms, &t, &a->counters, &offer, &replayed);
    if (rc == -ESTALE && ++stale < TARGET_TRIES) {
        coupon_catalog_unref(coupons);
        coupons = NULL;
        goto resolve;
    }
    if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "request_id: already used for another customer");
        goto out;
    }
    if (rc) {
        fail_errno(out, rc, "deciding the coupon and logging its exposure "
                            "(nothing was granted)");
        goto out;
    }
    decision_fill(&offer, &dec);
    if (n_ents && (!(ent_msgs = calloc(n_ents, sizeof *ent_msgs)) ||
                   !(ent_ptrs = calloc(n_ents, sizeof *ent_ptrs)))) {
        /* Committed already: the retry with this request_id replays it. */
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    entitlements_fill(coupons->coupons, ents, n_ents, ent_msgs, ent_ptrs);
    resp.n_entitlements = n_ents;
    resp.entitlements = ent_ptrs;
    arms_provenance(&arms, &exp_id, &arm_id);
    prov.experiment_id = (char *)exp_id;
    prov.arm_id = (char *)arm_id;
    prov.request_id = offer.request_id;
    resp.decision = &dec;
    resp.provenance = &prov;
    tag_provenance(ci, &prov);
    resp.known_customer = known;
    resp.replayed = replayed;
    resp.resolved_customer_id = linked ? who : "";
    encode(&resp.base, out);
out:
    programme_unref(prog);
    coupon_catalog_unref(coupons);
    free(ent_ptrs);
    free(ent_msgs);
    free(ents);
    free(lines);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- RecordRedemption ----------------------------------------------------------------- */

void h_record_redemption(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecordRedemptionRequest *r = (Patron__V1__RecordRedemptionRequest *)decode(
        &patron__v1__record_redemption_request__descriptor, req, len, out);
    Patron__V1__RecordRedemptionResponse resp = PATRON__V1__RECORD_REDEMPTION_RESPONSE__INIT;
    couponstore_redemption_t red;
    couponstore_budget_t b;
    char who[STORE_MAX_ID + 1];
    int dup = 0, rc;

    (void)ci;
    if (!r)
        return;
    if (id_bad(r->redemption_id, COUPONSTORE_REQUEST_ID_MAX - 1) ||
        id_bad(r->customer_id, STORE_MAX_ID) || id_bad(r->coupon_id, COUPON_ID_MAX - 1) ||
        !(r->discount >= 0 && r->discount <= STORE_MAX_PRICE) || r->time_unix_ms < 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s",
                 id_bad(r->redemption_id, COUPONSTORE_REQUEST_ID_MAX - 1)
                     ? "redemption_id: 1..64 bytes without control characters required"
                 : id_bad(r->customer_id, STORE_MAX_ID) ? "customer_id: 1..256 bytes without control characters required"
                 : id_bad(r->coupon_id, COUPON_ID_MAX - 1) ? "coupon_id: 1..63 bytes without control characters required"
                 : r->time_unix_ms < 0 ? "time_unix_ms: must be >= 0 (0 = now)"
                                       : "discount: must be in 0..1e9");
        goto out;
    }
    /* Grants move with a merge: an id merged away redeems the survivor's. */
    if ((rc = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, rc, "resolving customer_id");
        goto out;
    }
    red = (couponstore_redemption_t){ r->redemption_id, who, r->coupon_id,
                                      r->discount,
                                      r->time_unix_ms > 0 ? r->time_unix_ms : wall_ms() };
    rc = couponstore_redeem(a->store, &red, &b, &dup);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND,
                 "coupon_id: the customer holds no active grant of this coupon");
    } else if (rc == -ERANGE) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "discount: more than the grant's maximum cost");
    } else if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "redemption_id: already used for another customer or coupon");
    } else if (rc) {
        fail_errno(out, rc, "recording the redemption");
    } else {
        resp.duplicate = dup;
        resp.campaign_spent = b.spent;
        resp.campaign_committed = b.committed;
        resp.campaign_budget = b.budget;
        encode(&resp.base, out);
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- SelectCampaignAudience (server streaming) ------------------------------------------ */

/* Customers are scored CAMPAIGN_STEP per step (the worker serves other
 * calls between steps); members are ranked, so they are sent, one per step
 * and encoded then, once every customer is scored. */
#define CAMPAIGN_STEP 64

typedef struct campaign_stream {
    app_t *app;
    programme_t *prog;             /* pinned for the whole stream */
    campaign_scan_t *scan;         /* NULL once every customer is scored */
    campaign_audience_t a;
    size_t sent;
} campaign_stream_t;

static void campaign_stream_close(void *state)
{
    campaign_stream_t *st = state;
    if (!st)
        return;
    campaign_scan_free(st->scan);
    campaign_audience_free(&st->a);
    programme_unref(st->prog);
    free(st);
}

static const char *
campaign_request_invalid(const Patron__V1__SelectCampaignAudienceRequest *r)
{
    if (id_bad(r->campaign_id, COUPON_ID_MAX - 1))
        return "campaign_id: 1..63 bytes required";
    if (r->as_of_unix_ms < 0)
        return "as_of_unix_ms: must be >= 0 (0 = now)";
    if (!(r->budget >= 0))
        return "budget: must be >= 0 (0 = what the campaign has left)";
    if (channel_from_pb(r->channel) == -2)
        return "channel: must be a Channel value (UNSPECIFIED: marketing consent only)";
    return NULL;
}

static void campaign_fail(rpc_reply_t *out, int rc)
{
    if (rc == -ENOENT)
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "campaign_id: no coupon of this campaign");
    else
        fail_errno(out, rc, "selecting the campaign audience");
}

static void *campaign_start(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                            size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SelectCampaignAudienceRequest *r =
        (Patron__V1__SelectCampaignAudienceRequest *)decode(
            &patron__v1__select_campaign_audience_request__descriptor, req, len, out);
    campaign_stream_t *st = NULL;
    customers_ctx_t c;
    coupon_config_t cfg;
    const char *bad;
    int rc;

    (void)ci; /* the transport checks the deadline between steps */
    if (!r)
        return NULL;
    if ((bad = campaign_request_invalid(r)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if (!(st = calloc(1, sizeof *st))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    st->app = a;
    st->prog = app_programme(a);
    cfg = st->prog->settings.coupon;
    app_customers_begin_with(a, NULL, st->prog, &c);
    rc = campaign_scan_begin(a->store, &c, r->campaign_id, r->budget, r->limit,
                             r->as_of_unix_ms > 0 ? r->as_of_unix_ms : wall_ms(), &cfg,
                             &st->a, &st->scan);
    app_customers_end(a, &c);
    if (rc == 0)
        campaign_scan_reach(st->scan, a->zones, channel_from_pb(r->channel));
    if (rc) {
        campaign_fail(out, rc);
        campaign_stream_close(st);
        st = NULL;
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return st;
}

/* One step: CAMPAIGN_STEP customers scored, or one member sent. */
static int campaign_next(void *state, rpc_reply_t *out)
{
    campaign_stream_t *st = state;
    Patron__V1__SelectCampaignAudienceResponse m = PATRON__V1__SELECT_CAMPAIGN_AUDIENCE_RESPONSE__INIT;
    const campaign_member_t *am;
    customers_ctx_t c;
    int rc;

    if (st->scan) {
        app_customers_begin_with(st->app, NULL, st->prog, &c);
        rc = campaign_scan_step(st->scan, &c, CAMPAIGN_STEP);
        app_customers_end(st->app, &c);
        if (rc < 0) {
            campaign_fail(out, rc);
            return RPC_STREAM_DONE;
        }
        if (rc == 0) {
            campaign_scan_free(st->scan);
            st->scan = NULL;
        }
        return RPC_STREAM_YIELD;
    }
    if (st->sent == st->a.n)
        return RPC_STREAM_DONE;
    am = &st->a.members[st->sent++];
    m.customer_id = (char *)am->customer_id;
    m.coupon_id = st->a.coupons[am->coupon].id;
    m.expected_incremental_profit = am->value;
    m.expected_cost = am->expected_cost;
    m.max_cost = am->max_cost;
    m.cumulative_max_cost = am->cumulative;
    encode(&m.base, out);
    return RPC_STREAM_MESSAGE;
}

const rpc_stream_ops_t select_campaign_audience_ops = {
    .start = campaign_start,
    .next = campaign_next,
    .close = campaign_stream_close,
};
