/*
 * export_rpc.c - patron.v1.Profiles/ExportCustomer: "export my data".
 *
 * Walks the same registry of customer-data owners as DeleteCustomer
 * (app_owners.c, customers_export) and turns each row they emit into its
 * message in ExportCustomerResponse. Rows are valid only while they are
 * emitted, so every string is copied; the copies and the messages live in
 * one arena freed after the response is encoded.
 */
#include "profiles_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "enums.h" /* event types, stages, outcomes: asserted to match */
#include "consent_rpc.h"
#include "consentstore.h"
#include "contactstore.h"
#include "coupon_erase.h"
#include "customers_erase.h"
#include "exp_erase.h"
#include "patron/v1/profiles.pb-c.h"
#include "store_custdata.h"
#include "grow.h"
#include "referral_store.h"
#include "triggers.h"

/* Everything allocated for one response. */
typedef struct arena {
    void **p;
    size_t n, cap;
} arena_t;

static void *arena_keep(arena_t *a, void *p)
{
    if (!p)
        return NULL;
    if (GROW(a->p, a->cap, a->n + 1) != 0) {
        free(p);
        return NULL;
    }
    return a->p[a->n++] = p;
}

static void arena_free(arena_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    free(a->p);
}

static void *arena_calloc(arena_t *a, size_t size)
{
    return arena_keep(a, calloc(1, size));
}

/* A copy of s (NULL: ""), or NULL when out of memory. */
static char *arena_str(arena_t *a, const char *s)
{
    return arena_keep(a, strdup(s ? s : ""));
}

/* Appends m to the repeated field (*items, *n); grows by doubling into the
 * arena (the old array stays there until the end: a few KB). */
static int push(arena_t *a, void ***items, size_t *n, void *m)
{
    if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        void **grown = arena_calloc(a, (*n ? *n * 2 : 1) * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        if (*n)
            memcpy(grown, *items, *n * sizeof *grown);
        *items = grown;
    }
    (*items)[(*n)++] = m;
    return 0;
}

typedef struct export_sink {
    arena_t arena;
    const contact_config_t *contact;
    consent_t consent;
    prefs_msg_t prefs;
    Patron__V1__ExportCustomerResponse resp;
    Patron__V1__CustomerAttributes attrs;
    Patron__V1__CouponHistory hist;
} export_sink_t;

static int add_event(export_sink_t *k, const store_export_event_t *e)
{
    Patron__V1__Event *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__event__init(m);
    if (!(m->event_id = arena_str(&k->arena, e->event_id)) ||
        !(m->item_id = arena_str(&k->arena, e->item_id)) ||
        !(m->category = arena_str(&k->arena, e->category)))
        return -ENOMEM;
    m->customer_id = k->resp.customer_id;
    m->type = event_type_to_pb(e->type);
    m->time_unix_ms = e->time_ms;
    m->quantity = e->quantity;
    m->unit_price = e->unit_price;
    return push(&k->arena, (void ***)&k->resp.events, &k->resp.n_events, m);
}

static int add_attrs(export_sink_t *k, const store_attrs_t *at)
{
    patron__v1__customer_attributes__init(&k->attrs);
    k->attrs.customer_id = k->resp.customer_id;
    k->attrs.signup_unix_ms = at->signup_ms;
    k->attrs.birth_month = at->birth_month;
    k->attrs.birth_day = at->birth_day;
    if (!(k->attrs.region = arena_str(&k->arena, at->region)))
        return -ENOMEM;
    k->resp.attributes = &k->attrs;
    return 0;
}

static int add_points(export_sink_t *k, const store_export_points_t *p)
{
    Patron__V1__PointsRedemption *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__points_redemption__init(m);
    if (!(m->redemption_id = arena_str(&k->arena, p->redemption_id)))
        return -ENOMEM;
    m->points = p->points;
    m->time_unix_ms = p->time_ms;
    if (p->entry) {
        const store_points_entry_t *e = p->entry;
        m->adjust = e->adjust;
        m->cash = e->cash;
        m->until_unix_ms = e->until_ms;
        if (!(m->reason = arena_str(&k->arena, e->reason)) ||
            !(m->operator_id = arena_str(&k->arena, e->operator_id)) ||
            !(m->reward_id = arena_str(&k->arena, e->reward_id)) ||
            !(m->coupon_id = arena_str(&k->arena, e->coupon_id)) ||
            !(m->tier = arena_str(&k->arena, e->tier)))
            return -ENOMEM;
    }
    return push(&k->arena, (void ***)&k->resp.points_redemptions,
                &k->resp.n_points_redemptions, m);
}

static int64_t *copy_ring(arena_t *a, const int64_t *t, uint32_t count, size_t cap,
                          size_t *n)
{
    int64_t *out;
    *n = count < cap ? count : cap;
    if (!*n)
        return NULL;
    if ((out = arena_calloc(a, *n * sizeof *out)) != NULL)
        memcpy(out, t, *n * sizeof *out);
    return out;
}

static int add_history(export_sink_t *k, const couponstore_history_t *h)
{
    Patron__V1__CouponHistory *m = &k->hist;
    patron__v1__coupon_history__init(m);
    m->welcome_pack = h->welcome_pack != 0;
    for (uint32_t i = 0; i < h->n_held && i < COUPONSTORE_MAX_HELD; i++) {
        const couponstore_held_t *e = &h->held[i];
        Patron__V1__CouponGrant *g = arena_calloc(&k->arena, sizeof *g);
        if (!g)
            return -ENOMEM;
        patron__v1__coupon_grant__init(g);
        if (!(g->coupon_id = arena_str(&k->arena, e->coupon_id)) ||
            !(g->campaign_id = arena_str(&k->arena, e->campaign)))
            return -ENOMEM;
        g->granted = e->granted;
        g->active = e->active != 0;
        g->uses_left = e->uses_left;
        g->reserved = e->reserved;
        g->valid_until_unix_ms = e->valid_until_ms;
        g->last_grant_unix_ms = e->last_grant_ms;
        g->stackable = e->stackable != 0;
        if (push(&k->arena, (void ***)&m->grants, &m->n_grants, g))
            return -ENOMEM;
    }
    m->recent_grant_unix_ms = copy_ring(&k->arena, h->grant_ms, h->n_grants,
                                        COUPONSTORE_MAX_GRANTS, &m->n_recent_grant_unix_ms);
    m->recent_redemption_unix_ms =
        copy_ring(&k->arena, h->redeem_ms, h->n_redeems, COUPONSTORE_MAX_REDEEMS,
                  &m->n_recent_redemption_unix_ms);
    if ((m->n_recent_grant_unix_ms && !m->recent_grant_unix_ms) ||
        (m->n_recent_redemption_unix_ms && !m->recent_redemption_unix_ms))
        return -ENOMEM;
    k->resp.coupon_history = m;
    return 0;
}

static int add_offer(export_sink_t *k, const couponstore_offer_t *o)
{
    Patron__V1__CouponOffer *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__coupon_offer__init(m);
    if (!(m->request_id = arena_str(&k->arena, o->request_id)) ||
        !(m->coupon_id = arena_str(&k->arena, o->coupon_id)) ||
        !(m->campaign_id = arena_str(&k->arena, o->campaign)) ||
        !(m->reason = arena_str(&k->arena, o->reason)))
        return -ENOMEM;
    m->time_unix_ms = o->time_ms;
    m->outcome = outcome_to_pb(o->outcome);
    m->assignment_probability = o->assign_prob;
    m->max_cost = o->max_cost;
    m->recency_days = o->x.recency_days;
    m->orders = o->x.orders;
    m->monetary = o->x.monetary;
    m->average_basket = o->x.average_basket;
    m->stage = stage_to_pb(o->x.stage);
    m->propensity = o->x.propensity;
    return push(&k->arena, (void ***)&k->resp.coupon_offers, &k->resp.n_coupon_offers, m);
}

static int add_redemption(export_sink_t *k, const couponstore_redemption_t *r)
{
    Patron__V1__CouponRedemption *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__coupon_redemption__init(m);
    if (!(m->redemption_id = arena_str(&k->arena, r->redemption_id)) ||
        !(m->coupon_id = arena_str(&k->arena, r->coupon_id)))
        return -ENOMEM;
    m->discount = r->discount;
    m->time_unix_ms = r->time_ms;
    return push(&k->arena, (void ***)&k->resp.coupon_redemptions,
                &k->resp.n_coupon_redemptions, m);
}

static int add_exposure(export_sink_t *k, const expstore_customer_t *x)
{
    Patron__V1__ExperimentExposure *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__experiment_exposure__init(m);
    if (!(m->experiment_id = arena_str(&k->arena, x->experiment_id)))
        return -ENOMEM;
    m->arm_index = x->arm_index;
    m->forced = x->forced != 0;
    m->mixed = x->mixed != 0;
    m->first_unix_ms = x->first_ms;
    m->last_unix_ms = x->last_ms;
    m->exposures = x->exposures;
    m->items_shown = x->items_shown;
    if (x->n_shown) {
        if (!(m->shown_item_ids = arena_calloc(&k->arena, x->n_shown * sizeof(char *))))
            return -ENOMEM;
        for (size_t i = 0; i < x->n_shown; i++)
            if (!(m->shown_item_ids[i] = arena_str(&k->arena, x->shown_item_ids[i])))
                return -ENOMEM;
        m->n_shown_item_ids = x->n_shown;
    }
    return push(&k->arena, (void ***)&k->resp.exposures, &k->resp.n_exposures, m);
}

static int add_pin(export_sink_t *k, const expstore_pin_t *p)
{
    Patron__V1__ExperimentPin *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__experiment_pin__init(m);
    if (!(m->experiment_id = arena_str(&k->arena, p->experiment_id)) ||
        !(m->arm_id = arena_str(&k->arena, p->arm_id)))
        return -ENOMEM;
    return push(&k->arena, (void ***)&k->resp.experiment_pins, &k->resp.n_experiment_pins, m);
}

static int add_linked(export_sink_t *k, const char *id)
{
    char *m = arena_str(&k->arena, id);
    if (!m)
        return -ENOMEM;
    return push(&k->arena, (void ***)&k->resp.linked_customer_ids,
                &k->resp.n_linked_customer_ids, m);
}

static int add_consent(export_sink_t *k, const consent_t *c)
{
    k->consent = *c;
    prefs_msg_fill(k->contact, &k->consent, &k->prefs);
    k->resp.preferences = &k->prefs.p;
    return 0;
}

static int add_consent_change(export_sink_t *k, const consentstore_change_t *c)
{
    Patron__V1__ConsentChange *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__consent_change__init(m);
    m->seq = c->seq;
    m->time_unix_ms = c->time_ms;
    m->recorded_unix_ms = c->recorded_ms;
    if (!(m->source = arena_str(&k->arena, c->source)) ||
        !(m->field = arena_str(&k->arena, c->field)) ||
        !(m->old_value = arena_str(&k->arena, c->old_value)) ||
        !(m->new_value = arena_str(&k->arena, c->new_value)) ||
        !(m->merged_from = arena_str(&k->arena, c->merged_from)))
        return -ENOMEM;
    return push(&k->arena, (void ***)&k->resp.consent_changes, &k->resp.n_consent_changes,
                m);
}

static int add_contact(export_sink_t *k, const contactstore_contact_t *c)
{
    Patron__V1__ContactRecord *m = arena_calloc(&k->arena, sizeof *m);
    if (!m)
        return -ENOMEM;
    patron__v1__contact_record__init(m);
    if (!(m->message_id = arena_str(&k->arena, c->message_id)))
        return -ENOMEM;
    m->time_unix_ms = c->time_ms;
    m->recorded_unix_ms = c->recorded_ms;
    m->channel = (Patron__V1__Channel)(c->channel + 1);
    m->kind = (Patron__V1__ContactKind)(c->kind + 1);
    return push(&k->arena, (void ***)&k->resp.contacts, &k->resp.n_contacts, m);
}

/* Copies n ids of width TRIGGERS_ITEM_ID_MAX into a repeated string field. */
static int copy_ids(arena_t *a, const char (*ids)[TRIGGERS_ITEM_ID_MAX], size_t n,
                    char ***out, size_t *n_out)
{
    if (n && !(*out = arena_calloc(a, n * sizeof **out)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = arena_str(a, ids[i])))
            return -ENOMEM;
    *n_out = n;
    return 0;
}

static int add_trigger(export_sink_t *k, const triggers_record_t *t)
{
    Patron__V1__FiredTrigger *m = arena_calloc(&k->arena, sizeof *m);
    arena_t *a = &k->arena;
    if (!m)
        return -ENOMEM;
    patron__v1__fired_trigger__init(m);
    m->sequence = (int64_t)t->seq;
    m->time_unix_ms = t->time_ms;
    m->fired_unix_ms = t->fired_ms;
    m->channel = (Patron__V1__Channel)(t->channel >= 0 ? t->channel + 1 : 0);
    if (!(m->rule = arena_str(a, t->rule)) ||
        !(m->kind = arena_str(a, trigger_kind_name(t->kind))) ||
        !(m->reason = arena_str(a, t->reason)) || !(m->dedup_key = arena_str(a, t->key)) ||
        !(m->coupon_request_id = arena_str(a, t->coupon_outcome >= 0 ? t->coupon_request_id
                                                                     : "")) ||
        !(m->coupon_id = arena_str(a, t->coupon_id)) ||
        !(m->contact_message_id = arena_str(a, t->message_id)) ||
        copy_ids(a, t->items, t->n_items, &m->items, &m->n_items) ||
        copy_ids(a, t->recommended, t->n_recommended, &m->recommended_items,
                 &m->n_recommended_items))
        return -ENOMEM;
    return push(a, (void ***)&k->resp.triggers, &k->resp.n_triggers, m);
}

/* The signup of the person's ids: the first one exported (the survivor's
 * comes first) is the one shown. */
static int add_referral_signup(export_sink_t *k, const referral_export_signup_t *g)
{
    Patron__V1__ReferralSignup *m;
    arena_t *a = &k->arena;
    if (k->resp.referral_signup)
        return 0;
    if (!(m = arena_calloc(a, sizeof *m)))
        return -ENOMEM;
    patron__v1__referral_signup__init(m);
    m->time_unix_ms = g->time_ms;
    m->recorded_unix_ms = g->recorded_ms;
    if (!(m->referred_by = arena_str(a, g->referrer)) ||
        !(m->referral_code = arena_str(a, g->code)) || !(m->device_id = arena_str(a, g->device)) ||
        !(m->address_id = arena_str(a, g->address)) ||
        !(m->payment_fingerprint = arena_str(a, g->payment)))
        return -ENOMEM;
    k->resp.referral_signup = m;
    return 0;
}

static int add_referred(export_sink_t *k, const char *id)
{
    char *m = arena_str(&k->arena, id);
    if (!m)
        return -ENOMEM;
    return push(&k->arena, (void ***)&k->resp.referred_customer_ids,
                &k->resp.n_referred_customer_ids, m);
}

static int emit_row(void *sink, custdata_kind_t kind, const void *row)
{
    export_sink_t *k = sink;
    switch (kind) {
    case CUSTDATA_EVENT: return add_event(k, row);
    case CUSTDATA_ATTRS: return add_attrs(k, row);
    case CUSTDATA_POINTS: return add_points(k, row);
    case CUSTDATA_COUPON_HISTORY: return add_history(k, row);
    case CUSTDATA_COUPON_OFFER: return add_offer(k, row);
    case CUSTDATA_COUPON_REDEMPTION: return add_redemption(k, row);
    case CUSTDATA_EXPOSURE: return add_exposure(k, row);
    case CUSTDATA_EXPERIMENT_PIN: return add_pin(k, row);
    case CUSTDATA_LINKED_ID: return add_linked(k, row);
    case CUSTDATA_CONSENT: return add_consent(k, row);
    case CUSTDATA_CONSENT_CHANGE: return add_consent_change(k, row);
    case CUSTDATA_CONTACT: return add_contact(k, row);
    case CUSTDATA_TRIGGER: return add_trigger(k, row);
    case CUSTDATA_REFERRAL_SIGNUP: return add_referral_signup(k, row);
    case CUSTDATA_REFERRED: return add_referred(k, row);
    }
    return -EINVAL; /* a kind this adapter does not know: a build mismatch */
}

void h_export_customer(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ExportCustomerRequest *r = (Patron__V1__ExportCustomerRequest *)decode(
        &patron__v1__export_customer_request__descriptor, req, len, out);
    export_sink_t k;
    programme_t *prog = NULL;
    const char *owner = NULL;
    int rc;

    (void)ci;
    if (!r)
        return;
    memset(&k, 0, sizeof k);
    prog = app_programme(a);
    k.contact = &prog->settings.profile.contact;
    patron__v1__export_customer_response__init(&k.resp);
    if (!r->customer_id[0] || strlen(r->customer_id) > STORE_MAX_ID) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "customer_id: 1..%d bytes required",
                 STORE_MAX_ID);
        goto out;
    }
    k.resp.customer_id = r->customer_id;
    rc = customers_export(a->store, a->owners, a->n_owners, r->customer_id, emit_row, &k,
                          &owner);
    if (rc == -ENOENT && !owner) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND,
                 "customer_id: no data held about customer \"%.256s\"", r->customer_id);
    } else if (rc) {
        char what[96];
        snprintf(what, sizeof what, "exporting the customer (%s)", owner ? owner : "?");
        fail_errno(out, rc, what);
    } else {
        encode(&k.resp.base, out);
    }
out:
    arena_free(&k.arena);
    programme_unref(prog);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
