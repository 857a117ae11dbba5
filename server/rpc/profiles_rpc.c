/*
 * profiles_rpc.c - the patron.v1.Profiles methods: profiles computed on
 * read, audiences streamed, attributes, points redemption, erasure and
 * merging customers (identity).
 */
#include "profiles_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "enums.h"
#include "id.h"
#include "consent_rpc.h"
#include "points_rpc.h"
#include "rewards_rpc.h"
#include "referrals_rpc.h"
#include "consentstore.h"
#include "customers_erase.h"
#include "customers_merge.h"
#include "store_links.h"
#include "tiers.h"
#include "patron/v1/profiles.pb-c.h"
#include "wallclock.h"
#include "grow.h"

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

/* A Profile message over a view; strings borrow from v and c. */
typedef struct profile_msg {
    Patron__V1__Profile p;
    Patron__V1__CustomerAttributes attrs;
    Patron__V1__LifetimeValue clv;
    char *favs[PROFILE_TOP_CATEGORIES];
    consent_t consent;
    prefs_msg_t prefs;
    profile_tier_status_t tier;
    Patron__V1__TierStatus ts;
    Patron__V1__TierBenefits benefits, next_benefits;
    Patron__V1__TierAmounts window, to_next, to_keep;
    char progress[512];
    Patron__V1__PointsStatus points;
    Patron__V1__ReferralStatus referral;
} profile_msg_t;

static void benefits_fill(const profile_tier_benefits_t *b, Patron__V1__TierBenefits *m)
{
    patron__v1__tier_benefits__init(m);
    m->free_shipping = b->free_shipping;
    m->dedicated_service = b->dedicated_service;
    m->points_multiplier = b->points_multiplier;
    m->early_access_hours = b->early_access_hours;
    m->price_list = (char *)b->price_list;
}

static Patron__V1__TierAmounts *amounts_fill(double spend, uint32_t orders, uint32_t engagement,
                                             Patron__V1__TierAmounts *m)
{
    patron__v1__tier_amounts__init(m);
    m->spend = spend;
    m->orders = orders;
    m->engagement = engagement;
    return m;
}

/* m->tier (computed) into m->ts; strings borrow from cfg and m. */
static void tier_status_fill(const profile_config_t *cfg, profile_msg_t *m)
{
    const profile_tier_status_t *st = &m->tier;
    Patron__V1__TierStatus *ts = &m->ts;

    patron__v1__tier_status__init(ts);
    ts->tier = (char *)profile_tier_name(cfg, st->tier);
    if (st->tier >= 0) {
        benefits_fill(&cfg->tiers[st->tier].benefits, &m->benefits);
        ts->benefits = &m->benefits;
    }
    ts->qualifies_for = (char *)profile_tier_name(cfg, st->qualifies);
    ts->window_days = cfg->tier_window_days;
    ts->window = amounts_fill(st->window_spend, st->window_orders, st->window_engagement,
                              &m->window);
    ts->next_tier = (char *)profile_tier_name(cfg, st->next);
    if (st->next >= 0) {
        benefits_fill(&cfg->tiers[st->next].benefits, &m->next_benefits);
        ts->next_benefits = &m->next_benefits;
        ts->to_next = amounts_fill(st->to_next.spend, st->to_next.orders,
                                   st->to_next.engagement, &m->to_next);
    }
    ts->to_keep = amounts_fill(st->to_keep.spend, st->to_keep.orders, st->to_keep.engagement,
                               &m->to_keep);
    ts->qualified_until_unix_ms = st->qualified_until_ms;
    ts->downgrade_unix_ms = st->downgrade_ms;
    ts->tier_after_downgrade = (char *)profile_tier_name(cfg, st->after_downgrade);
    ts->progress = tiers_progress_text(cfg, st, m->progress, sizeof m->progress);
    m->p.tier_status = ts;
}

static void profile_msg_fill(const customers_ctx_t *c, const customer_view_t *v,
                             int64_t as_of, profile_msg_t *m)
{
    const char *seg = v->segment >= 0 ? profile_segment_name(c->cfg, v->segment) : "";
    const char *tier = v->p.tier >= 0 ? profile_tier_name(c->cfg, v->p.tier) : "";

    patron__v1__profile__init(&m->p);
    m->p.customer_id = (char *)v->customer_id;
    m->p.first_purchase_unix_ms = v->p.first_purchase_ms;
    m->p.last_purchase_unix_ms = v->p.last_purchase_ms;
    m->p.orders = v->p.orders;
    m->p.monetary = v->p.monetary;
    m->p.average_basket = v->p.average_basket;
    m->p.typical_gap_days = v->p.typical_gap_days;
    m->p.recency_score = v->r;
    m->p.frequency_score = v->f;
    m->p.monetary_score = v->m;
    m->p.segment = (char *)seg;
    m->p.tier = (char *)tier;
    m->p.points = v->points_balance;
    m->p.stage = stage_to_pb(v->p.stage);
    m->p.recency_days = v->p.recency_days;
    m->p.purchases = v->p.purchases;
    m->p.recent_views = v->p.recent_views;
    m->p.recent_carts = v->p.recent_carts;
    m->p.points_earned = v->points_earned;
    m->p.points_redeemed = v->points_redeemed;
    points_status_fill(c->cfg, v, &m->points);
    m->p.points_status = &m->points;
    m->p.tier_reward_until_unix_ms = v->tier_reward_until_ms;
    referral_status_fill(v, &m->referral);
    m->p.referral = &m->referral;
    m->p.as_of_unix_ms = as_of;
    for (uint32_t i = 0; i < v->p.n_favourites && c->cat; i++)
        if (v->p.favourites[i] < c->cat->n_categories)
            m->favs[m->p.n_favourite_categories++] = c->cat->categories[v->p.favourites[i]];
    m->p.favourite_categories = m->favs;
    if (v->has_clv) {
        patron__v1__lifetime_value__init(&m->clv);
        m->clv.predicted_value_12m = v->clv.value;
        m->clv.churn_probability = v->clv.churn_p;
        m->clv.expected_purchases_12m = v->clv.expected_purchases;
        m->clv.expected_order_value = v->clv.expected_spend;
        m->p.lifetime_value = &m->clv;
    }
    if (v->has_attrs) {
        patron__v1__customer_attributes__init(&m->attrs);
        m->attrs.customer_id = (char *)v->customer_id;
        m->attrs.signup_unix_ms = v->attrs.signup_ms;
        m->attrs.birth_month = v->attrs.birth_month;
        m->attrs.birth_day = v->attrs.birth_day;
        m->attrs.region = (char *)v->attrs.region;
        m->p.attributes = &m->attrs;
    }
}

void h_get_profile(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                   size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__GetProfileRequest *r = (Patron__V1__GetProfileRequest *)decode(
        &patron__v1__get_profile_request__descriptor, req, len, out);
    customers_ctx_t c;
    customer_view_t v;
    profile_msg_t m = { 0 };
    missions_msg_t *missions = NULL;
    char who[STORE_MAX_ID + 1];
    int64_t now;
    int linked, rc;

    if (!r)
        return;
    now = r->as_of_unix_ms > 0 ? r->as_of_unix_ms : wall_ms();
    if (r->as_of_unix_ms < 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "as_of_unix_ms: must be >= 0 (0 = now)");
        goto out;
    }
    if (id_bad(r->customer_id)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "customer_id: 1..256 bytes required");
        goto out;
    }
    /* An id merged away answers for its survivor (store_links.h). */
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    app_customers_begin(a, ci, &c);
    rc = customers_view(&c, who, now, &v);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events or attributes");
    } else if (rc) {
        fail_errno(out, rc, "reading the profile");
    } else if ((rc = consentstore_get(a->store, who, &m.consent, NULL)) != 0) {
        fail_errno(out, rc, "reading the preferences");
    } else if (c.cfg->n_tiers && (rc = tiers_status(&c, who, now, &m.tier)) != 0) {
        fail_errno(out, rc, "reading the tier status");
    } else if ((rc = missions_msg_new(&c, who, now, &missions)) != 0) {
        fail_errno(out, rc, "reading the missions");
    } else {
        Patron__V1__GetProfileResponse resp = PATRON__V1__GET_PROFILE_RESPONSE__INIT;
        profile_msg_fill(&c, &v, now, &m);
        prefs_msg_fill(&app_customers_settings(&c)->profile.contact, &m.consent, &m.prefs);
        m.p.preferences = &m.prefs.p;
        if (v.tier_reward_until_ms && v.p.tier > m.tier.tier)
            m.tier.tier = v.p.tier; /* held by a tier reward */
        if (c.cfg->n_tiers)
            tier_status_fill(c.cfg, &m);
        missions_msg_attach(missions, &m.p);
        resp.profile = &m.p;
        resp.resolved_customer_id = linked ? who : "";
        encode(&resp.base, out);
    }
    missions_msg_free(missions);
    app_customers_end(a, &c);
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- SelectAudience (server streaming) ---------------------------------------- */

/*
 * The first message carries the total, so every customer is matched before
 * a member is sent; the call does it in steps (AUDIENCE_STEP customers per
 * step, then the worker serves others) and keeps only the members' indices
 * (4 bytes each). Members are then sent one per step, each view recomputed
 * and encoded when its turn comes: a client that does not read holds back
 * its stream at one encoded member (transport.h's flow control).
 */
#define AUDIENCE_STEP 64

typedef struct audience_stream {
    app_t *a;
    programme_t *prog;             /* pinned for the whole stream: the
                                      expression's tier and segment names
                                      resolve against its settings */
    audience_t *aud;
    customers_cursor_t cur;
    uint32_t *members;             /* indices of the members to send, in order */
    size_t n, cap, sent;           /* sent: members taken from the list */
    size_t messages;               /* messages produced */
    uint64_t total, limit;
    int64_t now;
    int channel;                   /* consent_channel_t; -1: marketing consent only */
} audience_stream_t;

static void audience_stream_close(void *state)
{
    audience_stream_t *st = state;
    if (!st)
        return;
    audience_free(st->aud);
    free(st->members);
    programme_unref(st->prog);
    free(st);
}

/* Members must allow marketing (on st->channel when one is given): a
 * customer who opted out is neither sent nor counted. */
static int collect_member(void *ctx, const customer_view_t *v)
{
    audience_stream_t *st = ctx;
    int ok = 0, rc = consentstore_allows(
        st->a->store, v->customer_id, st->channel, CONSENT_MARKETING,
        (consent_state_t)st->prog->settings.profile.contact.consent_default, &ok);
    if (rc || !ok)
        return rc;
    st->total++;
    if (st->limit && st->n >= st->limit)
        return 0;
    if (GROW(st->members, st->cap, st->n + 1))
        return -ENOMEM;
    st->members[st->n++] = v->index;
    return 0;
}

/* Encodes one member (v NULL: none, the total alone); total > 0 only on the
 * first message. */
static int encode_member(audience_stream_t *st, const customers_ctx_t *c,
                         const customer_view_t *v, uint64_t total, rpc_reply_t *out)
{
    Patron__V1__SelectAudienceResponse am = PATRON__V1__SELECT_AUDIENCE_RESPONSE__INIT;
    profile_msg_t m = { 0 };

    if (v) {
        profile_msg_fill(c, v, st->now, &m);
        am.customer_id = (char *)v->customer_id;
        am.profile = &m.p;
    }
    am.total = total;
    encode(&am.base, out);
    return out->code == GRPC_STATUS_OK ? 0 : -ENOMEM;
}

/* The next member's message (1), or 0 when none is left; a member erased
 * since it matched is skipped. The first message carries the total, alone
 * when nothing matched. */
static int audience_send_step(audience_stream_t *st, const customers_ctx_t *c,
                              rpc_reply_t *out)
{
    uint64_t total = st->messages == 0 ? st->total : 0;
    customer_view_t v;
    int rc;

    while (st->sent < st->n) {
        rc = customers_view_at(c, st->members[st->sent++], st->now, &v);
        if (rc == -ENOENT)
            continue;
        if (rc)
            return rc;
        st->messages++;
        return encode_member(st, c, &v, total, out) == 0 ? 1 : -ENOMEM;
    }
    if (st->messages > 0)
        return 0;
    st->messages++;
    return encode_member(st, c, NULL, total, out) == 0 ? 1 : -ENOMEM;
}

static void *audience_start(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                            size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SelectAudienceRequest *r = (Patron__V1__SelectAudienceRequest *)decode(
        &patron__v1__select_audience_request__descriptor, req, len, out);
    audience_stream_t *st = NULL;
    customers_ctx_t c;
    char err[256];
    int rc;

    (void)ci; /* the transport checks the deadline between steps */
    if (!r)
        return NULL;
    if (r->as_of_unix_ms < 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "as_of_unix_ms: must be >= 0 (0 = now)");
        goto out;
    }
    if (channel_from_pb(r->channel) == -2) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "channel: must be a Channel value (UNSPECIFIED: marketing consent only)");
        goto out;
    }
    if (!(st = calloc(1, sizeof *st))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    st->channel = channel_from_pb(r->channel);
    st->prog = app_programme(a);
    if (r->expression[0] &&
        (rc = audience_parse(r->expression, &st->prog->settings.profile, &st->aud, err,
                             sizeof err)) != 0) {
        if (rc == -ENOMEM)
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        else
            rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "expression: %s", err);
        goto fail;
    }
    st->a = a;
    st->limit = r->limit;
    st->now = r->as_of_unix_ms > 0 ? r->as_of_unix_ms : wall_ms();
    app_customers_begin_with(a, NULL, st->prog, &c);
    rc = customers_cursor_init(&c, &st->cur);
    app_customers_end(a, &c);
    if (rc) {
        fail_errno(out, rc, "selecting the audience");
        goto fail;
    }
    goto out;
fail:
    audience_stream_close(st);
    st = NULL;
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return st;
}

/* One step: AUDIENCE_STEP customers matched, or one member sent. */
static int audience_next(void *state, rpc_reply_t *out)
{
    audience_stream_t *st = state;
    int matching = st->cur.next < st->cur.end;
    customers_ctx_t c;
    int rc;

    app_customers_begin_with(st->a, NULL, st->prog, &c);
    if (matching)
        rc = customers_select_step(&c, st->aud, st->now, &st->cur, AUDIENCE_STEP,
                                   collect_member, st);
    else
        rc = audience_send_step(st, &c, out);
    app_customers_end(st->a, &c);
    if (rc < 0) {
        free(out->body);
        out->body = NULL;
        fail_errno(out, rc, "selecting the audience");
        return RPC_STREAM_DONE;
    }
    if (matching)
        return RPC_STREAM_YIELD;
    return rc == 1 ? RPC_STREAM_MESSAGE : RPC_STREAM_DONE;
}

const rpc_stream_ops_t select_audience_ops = {
    .start = audience_start,
    .next = audience_next,
    .close = audience_stream_close,
};

/* ---- attributes, points, erasure ----------------------------------------------- */

void h_set_attributes(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SetCustomerAttributesRequest *q = (Patron__V1__SetCustomerAttributesRequest *)
        decode(&patron__v1__set_customer_attributes_request__descriptor, req, len, out);
    const Patron__V1__CustomerAttributes *r = q ? q->attributes : NULL;
    Patron__V1__SetCustomerAttributesResponse resp =
        PATRON__V1__SET_CUSTOMER_ATTRIBUTES_RESPONSE__INIT;
    store_attrs_t at = { 0 };
    const char *bad;
    int rc;

    if (!q)
        return;
    if (!r) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "attributes: required");
        goto out;
    }
    if (id_bad(r->customer_id)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "attributes.customer_id: 1..256 bytes required");
        goto out;
    }
    if (strlen(r->region) > STORE_MAX_REGION) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "attributes.region: longer than 64 bytes");
        goto out;
    }
    if (r->birth_month > 12 || r->birth_day > 31) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 r->birth_month > 12 ? "attributes.birth_month: must be 1..12 (0 = unknown)"
                                     : "attributes.birth_day: must be 1..31 (0 = unknown)");
        goto out;
    }
    at.signup_ms = r->signup_unix_ms;
    at.birth_month = (uint8_t)r->birth_month;
    at.birth_day = (uint8_t)r->birth_day;
    strcpy(at.region, r->region);
    if ((bad = store_attrs_invalid(&at)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "attributes.%s", bad);
        goto out;
    }
    if ((rc = store_set_attrs(a->store, r->customer_id, &at)) != 0)
        fail_errno(out, rc, "storing attributes");
    else
        encode(&resp.base, out);
out:
    protobuf_c_message_free_unpacked(&q->base, NULL);
}

void h_redeem_points(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RedeemPointsRequest *r = (Patron__V1__RedeemPointsRequest *)decode(
        &patron__v1__redeem_points_request__descriptor, req, len, out);
    Patron__V1__RedeemPointsResponse resp = PATRON__V1__REDEEM_POINTS_RESPONSE__INIT;
    customers_ctx_t c;
    int64_t balance = 0;
    int dup = 0, rc;

    if (!r)
        return;
    if (r->reward_id[0] && !id_bad(r->customer_id) && !id_bad(r->redemption_id)) {
        rewards_rpc_redeem(a, ci, r, out); /* a reward of the catalog */
        goto out;
    }
    if (id_bad(r->customer_id) || id_bad(r->redemption_id) || r->points <= 0 ||
        r->points > PROFILE_MAX_POINTS) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s",
                 id_bad(r->customer_id) ? "customer_id: 1..256 bytes required"
                 : id_bad(r->redemption_id) ? "redemption_id: 1..256 bytes required"
                                            : "points: must be in 1..2^53");
        goto out;
    }
    app_customers_begin(a, ci, &c);
    rc = customers_redeem(&c, r->customer_id, r->redemption_id, r->points, wall_ms(), &balance,
                          &dup);
    app_customers_end(a, &c);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events");
    } else if (rc == -ERANGE) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION,
                 "points: balance %lld is less than %lld", (long long)balance,
                 (long long)r->points);
    } else if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "redemption_id: already used by an adjustment of this customer");
    } else if (rc) {
        fail_errno(out, rc, "redeeming points");
    } else {
        resp.balance = balance;
        resp.duplicate = dup;
        encode(&resp.base, out);
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

void h_delete_customer(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__DeleteCustomerRequest *r = (Patron__V1__DeleteCustomerRequest *)decode(
        &patron__v1__delete_customer_request__descriptor, req, len, out);
    Patron__V1__DeleteCustomerResponse resp = PATRON__V1__DELETE_CUSTOMER_RESPONSE__INIT;
    custdata_erased_t erased;
    const char *owner = NULL;
    int rc;

    if (!r)
        return;
    if (id_bad(r->customer_id)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "customer_id: 1..256 bytes required");
        goto out;
    }
    rc = customers_erase(a->store, a->owners, a->n_owners, r->customer_id, &erased,
                         &owner);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: unknown customer");
    } else if (rc) {
        char what[96];
        snprintf(what, sizeof what, "erasing the customer (%s)", owner ? owner : "store");
        fail_errno(out, rc, what);
    } else {
        resp.events_deleted = erased.events;
        resp.linked_ids_erased = erased.linked;
        encode(&resp.base, out);
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- identity ----------------------------------------------------------------- */

static const char *merge_invalid(const Patron__V1__MergeCustomersRequest *r)
{
    if (!id_check(r->source_customer_id, STORE_MAX_ID, ID_PRINTABLE))
        return "source_customer_id: 1..256 bytes of UTF-8 without control characters required";
    if (!id_check(r->target_customer_id, STORE_MAX_ID, ID_PRINTABLE))
        return "target_customer_id: 1..256 bytes of UTF-8 without control characters required";
    if (strcmp(r->source_customer_id, r->target_customer_id) == 0)
        return "target_customer_id: the same id as source_customer_id";
    if (r->request_id[0] && !id_check(r->request_id, STORE_MAX_ID, ID_PRINTABLE))
        return "request_id: at most 256 bytes of UTF-8 without control characters";
    return NULL;
}

void h_merge_customers(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__MergeCustomersRequest *r = (Patron__V1__MergeCustomersRequest *)decode(
        &patron__v1__merge_customers_request__descriptor, req, len, out);
    Patron__V1__MergeCustomersResponse resp = PATRON__V1__MERGE_CUSTOMERS_RESPONSE__INIT;
    customers_merge_result_t res;
    const char *bad, *owner = NULL;
    int rc;

    (void)ci;
    if (!r)
        return;
    if ((bad = merge_invalid(r)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    rc = customers_merge(a->store, a->owners, a->n_owners, r->source_customer_id,
                         r->target_customer_id, r->request_id, wall_ms(), &res, &owner);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND,
                 "%s: unknown customer (no events, attributes, preferences or contacts)",
                 res.missing ? res.missing : "source_customer_id");
    } else if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "request_id: already used to merge another pair of customers");
    } else if (rc) {
        char what[96];
        snprintf(what, sizeof what, "merging the customers (%s)", owner ? owner : "store");
        fail_errno(out, rc, what);
    } else {
        resp.survivor_customer_id = res.survivor;
        resp.events_moved = res.events_moved;
        resp.rows_moved = res.rows_moved;
        resp.already_merged = res.already_merged;
        resp.replayed = res.replayed;
        encode(&resp.base, out);
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
