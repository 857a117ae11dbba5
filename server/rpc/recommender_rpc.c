/*
 * recommender_rpc.c - the patron.v1.Recommender methods: decode the request,
 * validate it (every bad input answered with a status naming the field),
 * pin the model and catalog snapshots, call the serving use cases
 * (recsys/app/serve.h: arms, exposure, recently shown), encode the response
 * (item ids and details borrowed from the pinned catalog).
 */
#include "recommender_rpc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "complements.h"
#include "consentstore.h"
#include "enums.h"
#include "members.h"
#include "patron/v1/recommender.pb-c.h"
#include "recommend.h"
#include "serve.h"
#include "store_links.h"
#include "wallclock.h"

static model_t *require_model(app_t *a, rpc_reply_t *out)
{
    model_t *m = model_slot_get(&a->models);
    if (!m)
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE,
                 "no model loaded yet: run `patron train` and reload");
    return m;
}

/* ---- Recommender ---------------------------------------------------------------- */

/* The repeated ScoredItem field of a response and the memory behind it. */
typedef struct scored_list {
    Patron__V1__ScoredItem *si;
    Patron__V1__ScoredItem **sp;
    char *(*because)[REC_MAX_BECAUSE]; /* item ids, borrowed from the catalog */
    Patron__V1__Item *di;
    Patron__V1__Provenance prov;
    char request_id[33];
} scored_list_t;

/* The item's details as the customer sees them: price is theirs (their
 * tier's member price list when the item is on it, si->price_list naming
 * it; access NULL: the regular price). */
static void item_details(const catalog_t *c, uint32_t item, const rec_access_t *access,
                         Patron__V1__Item *d, Patron__V1__ScoredItem *si)
{
    const catalog_terms_t *t = c->terms[item];
    int member = 0;

    patron__v1__item__init(d);
    d->item_id = c->ids[item];
    d->title = c->titles[item];
    d->category = (char *)catalog_item_category(c, item);
    d->price = catalog_item_price(c, item, access ? access->price_list : NULL, &member);
    d->in_stock = c->in_stock[item];
    if (t) { /* for the storefront's "members only" and "early access" badges */
        d->member_tier = (char *)t->member_tier;
        d->release_unix_ms = t->release_ms;
    }
    if (member)
        si->price_list = (char *)access->price_list;
}

/* Fills list from items (n may be 0), with room for cap >= n entries,
 * under request_id (32 hex characters); details priced for access (NULL:
 * regular prices). Strings point into the catalog and access, which must
 * outlive the encoding. Returns -ENOMEM or 0. */
static int scored_list_fill(scored_list_t *l, const model_t *m, const catalog_t *c,
                            const rec_item_t *items, size_t n, size_t cap,
                            int details, const rec_access_t *access,
                            const char *request_id)
{
    memset(l, 0, sizeof *l);
    l->si = calloc(cap ? cap : 1, sizeof *l->si);
    l->sp = calloc(cap ? cap : 1, sizeof *l->sp);
    l->di = details ? calloc(n ? n : 1, sizeof *l->di) : NULL;
    l->because = calloc(n ? n : 1, sizeof *l->because);
    if (!l->si || !l->sp || (details && !l->di) || !l->because)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        patron__v1__scored_item__init(&l->si[i]);
        l->si[i].item_id = c->ids[items[i].item];
        l->si[i].score = items[i].score;
        l->si[i].reason = reason_to_pb(items[i].reason);
        l->si[i].promoted = items[i].promoted;
        if (l->di) {
            item_details(c, items[i].item, access, &l->di[i], &l->si[i]);
            l->si[i].details = &l->di[i];
        }
        for (uint8_t b = 0; b < items[i].n_because; b++)
            l->because[i][b] = c->ids[items[i].because[b]];
        l->si[i].n_because_of = items[i].n_because;
        l->si[i].because_of = l->because[i];
        l->sp[i] = &l->si[i];
    }
    patron__v1__provenance__init(&l->prov);
    snprintf(l->request_id, sizeof l->request_id, "%s", request_id);
    l->prov.model_version = m->hdr.version;
    l->prov.request_id = l->request_id;
    return 0;
}

static void scored_list_free(scored_list_t *l)
{
    free(l->because);
    free(l->si);
    free(l->sp);
    free(l->di);
}

static void fill_filters(const Patron__V1__Filters *pf, rec_filters_t *f)
{
    f->allow_categories = (const char *const *)pf->allow_categories;
    f->n_allow = pf->n_allow_categories;
    f->deny_categories = (const char *const *)pf->deny_categories;
    f->n_deny = pf->n_deny_categories;
    f->min_price = pf->min_price;
    f->max_price = pf->max_price;
    f->in_stock_only = pf->in_stock_only;
    f->exclude_items = (const char *const *)pf->exclude_item_ids;
    f->n_exclude = pf->n_exclude_item_ids;
}

/* Common checks before answering from a model: a model is loaded and there
 * is time left. Returns the model (a reference) or NULL with out set. */
static model_t *model_for_call(app_t *a, const rpc_call_info_t *ci, rpc_reply_t *out)
{
    model_t *m = require_model(a, out);
    if (m && rpc_remaining_ms(ci) <= 0) {
        rpc_fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed");
        model_unref(m);
        return NULL;
    }
    return m;
}

/* The customer's arms (filled in *arms) and the model they name (or the
 * current one) from one experiments snapshot, deadline checked: a
 * reference, or NULL with out set. */
static model_t *model_for_arms(app_t *a, const char *customer_id, arms_t *arms,
                               const rpc_call_info_t *ci, rpc_reply_t *out)
{
    model_t *m;
    exp_slot_arms(&a->experiments, customer_id, wall_ms(), arms, &m);
    if (!m && !arms->model_version) {
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE,
                 "no model loaded yet: run `patron train` and reload");
        return NULL;
    }
    if (!m) {
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE, "model version %llu of experiment '%s' "
                 "is not loaded", (unsigned long long)arms->model_version,
                 arms->a[0].experiment);
        return NULL;
    }
    if (rpc_remaining_ms(ci) <= 0) {
        rpc_fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed");
        model_unref(m);
        return NULL;
    }
    return m;
}

/* Whether the customer withdrew personalization consent (then the call
 * answers popular items and says so). *withdrawn gets 1 or 0. */
static int personalization_withdrawn(app_t *a, const char *customer_id, int *withdrawn)
{
    programme_t *p = app_programme(a);
    int ok = 1, rc = consentstore_allows(
        a->store, customer_id, -1, CONSENT_PERSONALIZATION,
        (consent_state_t)p->settings.profile.contact.consent_default, &ok);
    programme_unref(p);
    *withdrawn = !ok;
    return rc;
}

static void arms_fill_provenance(const arms_t *arms, Patron__V1__Provenance *prov)
{
    const char *exp, *arm;
    arms_provenance(arms, &exp, &arm);
    prov->experiment_id = (char *)exp;
    prov->arm_id = (char *)arm;
}

/* Inline events of a Recommend request, validated like stored ones (the
 * event and customer ids are not read). Returns 0, -EINVAL with err set,
 * or -ENOMEM. */
static int fill_inline(const Patron__V1__RecommendRequest *r, int64_t max_skew_ms,
                       rec_inline_event_t **out, char *err, size_t cap)
{
    int64_t now = wall_ms();
    rec_inline_event_t *e;

    *out = NULL;
    if (r->n_inline_events > REC_MAX_INLINE) {
        snprintf(err, cap, "inline_events: at most %d", REC_MAX_INLINE);
        return -EINVAL;
    }
    if (!(e = calloc(r->n_inline_events ? r->n_inline_events : 1, sizeof *e)))
        return -ENOMEM;
    for (size_t i = 0; i < r->n_inline_events; i++) {
        const Patron__V1__Event *pe = r->inline_events[i];
        store_event_t se = { "inline", "inline", pe->item_id, event_type_from_pb(pe->type),
                             pe->time_unix_ms, pe->quantity, pe->unit_price,
                             pe->category };
        const char *why = store_event_invalid(&se);
        if (!why && se.type > STORE_EVENT_INTERACTION_MAX)
            why = "type: must be an interaction (view, cart, purchase, refund or "
                  "not_interested)";
        if (!why)
            why = store_event_time_invalid(pe->time_unix_ms, now, max_skew_ms);
        if (why) {
            snprintf(err, cap, "inline_events[%zu].%s", i, why);
            free(e);
            return -EINVAL;
        }
        e[i] = (rec_inline_event_t){ pe->item_id, event_type_from_pb(pe->type),
                                     pe->time_unix_ms, pe->quantity, pe->category };
    }
    *out = e;
    return 0;
}

/* The customer's standing in the loyalty programme for an answer over c
 * (recsys/app/members.h: the tier is read only when c gates items or
 * prices them for members, so most calls skip it). */
static int customer_access(app_t *a, const rpc_call_info_t *ci, const catalog_t *c,
                           const char *customer_id, int want_prices, rec_access_t *access)
{
    customers_ctx_t cust;
    int rc;

    app_customers_begin(a, ci, &cust);
    rc = members_access(&cust, c, customer_id, wall_ms(), want_prices, access);
    app_customers_end(a, &cust);
    return rc;
}

void h_recommend(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                 size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecommendRequest *r = (Patron__V1__RecommendRequest *)decode(
        &patron__v1__recommend_request__descriptor, req, len, out);
    Patron__V1__RecommendResponse resp = PATRON__V1__RECOMMEND_RESPONSE__INIT;
    serve_env_t env = { a->store, a->shown, &a->counters };
    rec_filters_t filters;
    rec_promotion_t promo;
    rec_query_t q;
    rec_item_t *items = NULL;
    scored_list_t list = { 0 };
    model_t *m = NULL;
    catalog_t *c;
    rec_inline_event_t *inl = NULL;
    rec_access_t access;
    arms_t arms;
    char err[160], rid[33], who[STORE_MAX_ID + 1];
    const char *bad, *failed;
    size_t n = 0;
    int personalized = 0, linked = 0, withdrawn = 0, rc;

    if (!r)
        return;
    c = catalog_slot_get(&a->catalogs); /* a refused request holds none */
    q = (rec_query_t){ .customer_id = r->customer_id, .k = r->k,
                       .include_purchased = r->include_purchased,
                       .exclude_viewed = r->exclude_viewed, .explain = r->explain,
                       .diversity = { .lambda = r->diversity,
                                      .max_per_cat = r->max_per_category } };
    if (r->filters) {
        fill_filters(r->filters, &filters);
        q.filters = &filters;
    }
    if (r->promotion) {
        promo = (rec_promotion_t){
            .item_ids = (const char *const *)r->promotion->item_ids,
            .n_items = r->promotion->n_item_ids,
            .categories = (const char *const *)r->promotion->categories,
            .n_categories = r->promotion->n_categories,
            .slots = r->promotion->slots };
        q.promotion = &promo;
    }
    if ((bad = rec_query_invalid(&q)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((rc = fill_inline(r, a->max_event_skew_ms, &inl, err, sizeof err)) != 0) {
        if (rc == -EINVAL)
            rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
        else
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    q.inline_events = inl;
    q.n_inline = r->n_inline_events;
    if (r->exclude_shown_minutes > SERVE_MAX_SHOWN_MINUTES) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "exclude_shown_minutes: at most 10080 (a week)");
        goto out;
    }
    /* An id merged away answers for its survivor (store_links.h). */
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    q.customer_id = who;
    if ((rc = personalization_withdrawn(a, who, &withdrawn)) != 0) {
        fail_errno(out, rc, "reading the customer's consent");
        goto out;
    }
    q.non_personalized = withdrawn;
    /* Members-only items, early access and member prices go by the tier
     * GetProfile shows, consent or not: they are what the customer's
     * membership gives, not personalization. */
    if ((rc = customer_access(a, ci, c, who, r->include_item_details, &access)) != 0) {
        fail_errno(out, rc, "reading the customer's tier");
        goto out;
    }
    q.access = &access;
    if (!(m = model_for_arms(a, who, &arms, ci, out)))
        goto out;
    if (!(items = malloc(q.k * sizeof *items))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    rpc_new_request_id(rid);
    if ((rc = serve_recommend(&env, m, c, &arms, &q, r->exclude_shown_minutes, rid, items,
                              &n, &personalized, &failed)) != 0) {
        fail_errno(out, rc, failed);
        goto out;
    }
    if (scored_list_fill(&list, m, c, items, n, n, r->include_item_details, &access,
                         rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    arms_fill_provenance(&arms, &list.prov);
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
    tag_provenance(ci, &list.prov);
    resp.personalized = personalized;
    resp.resolved_customer_id = linked ? who : "";
    resp.personalization_withdrawn = withdrawn;
    encode(&resp.base, out);
out:
    scored_list_free(&list);
    free(items);
    free(inl);
    model_unref(m);
    catalog_unref(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

void h_similar_items(void *app, const rpc_call_info_t *ci,
                     const uint8_t *req, size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SimilarItemsRequest *r = (Patron__V1__SimilarItemsRequest *)decode(
        &patron__v1__similar_items_request__descriptor, req, len, out);
    Patron__V1__SimilarItemsResponse resp = PATRON__V1__SIMILAR_ITEMS_RESPONSE__INIT;
    rec_filters_t filters, *fp = NULL;
    rec_item_t *items = NULL;
    rec_access_t anyone;
    scored_list_t list = { 0 };
    model_t *m = NULL;
    catalog_t *c;
    const char *bad;
    char rid[33];
    size_t n = 0;
    int rc;

    if (!r)
        return;
    c = catalog_slot_get(&a->catalogs); /* a refused request holds none */
    if (r->filters) {
        fill_filters(r->filters, &filters);
        fp = &filters;
    }
    if (!r->item_id[0]) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "item_id: required");
        goto out;
    }
    if (r->k < 1 || r->k > REC_MAX_K) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "k: must be in 1..1000");
        goto out;
    }
    if ((bad = rec_filters_invalid(fp)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if (!(m = model_for_call(a, ci, out)))
        goto out;
    if (!(items = malloc(r->k * sizeof *items))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    /* No customer: answered as for one without a tier (no members-only or
     * unreleased item). */
    members_access_for_tier(NULL, -1, wall_ms(), &anyone);
    rc = serve_similar(m, c, r->item_id, r->k, fp, &anyone, items, &n);
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "item_id: no such item in the catalog");
        goto out;
    }
    if (rc == -ENODATA) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND,
                 "item_id: added after model version %llu was trained (no factors yet)",
                 (unsigned long long)m->hdr.version);
        goto out;
    }
    if (rc) {
        fail_errno(out, rc, "similar items");
        goto out;
    }
    rpc_new_request_id(rid);
    if (scored_list_fill(&list, m, c, items, n, n, r->include_item_details, NULL,
                         rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
    tag_provenance(ci, &list.prov);
    encode(&resp.base, out);
out:
    scored_list_free(&list);
    free(items);
    model_unref(m);
    catalog_unref(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static const char *rank_request_invalid(const Patron__V1__RankItemsRequest *r, char *err,
                                        size_t cap)
{
    if (!r->customer_id[0] || strlen(r->customer_id) > STORE_MAX_ID)
        return "customer_id: 1..256 bytes required";
    if (r->n_item_ids > REC_MAX_LIST) {
        snprintf(err, cap, "item_ids: at most %d candidates, got %zu", REC_MAX_LIST,
                 r->n_item_ids);
        return err;
    }
    for (size_t i = 0; i < r->n_item_ids; i++)
        if (!r->item_ids[i][0] || strlen(r->item_ids[i]) > STORE_MAX_ID) {
            snprintf(err, cap, "item_ids[%zu]: must be 1..256 bytes", i);
            return err;
        }
    return NULL;
}

/* Candidates the model knows are ranked; the rest follow in given order. */
void h_rank_items(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                  rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RankItemsRequest *r = (Patron__V1__RankItemsRequest *)decode(
        &patron__v1__rank_items_request__descriptor, req, len, out);
    Patron__V1__RankItemsResponse resp = PATRON__V1__RANK_ITEMS_RESPONSE__INIT;
    serve_env_t env = { a->store, a->shown, &a->counters };
    size_t *unknown = NULL, n_known = 0, n_unknown = 0, n;
    rec_item_t *ranked = NULL;
    scored_list_t list = { 0 };
    rec_access_t access;
    arms_t arms;
    model_t *m = NULL;
    catalog_t *c;
    char err[96], rid[33], who[STORE_MAX_ID + 1];
    const char *bad, *failed;
    int personalized = 0, withdrawn = 0, rc;

    if (!r)
        return;
    c = catalog_slot_get(&a->catalogs); /* a refused request holds none */
    n = r->n_item_ids;
    if ((bad = rank_request_invalid(r, err, sizeof err)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((rc = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, rc, "resolving customer_id");
        goto out;
    }
    if ((rc = personalization_withdrawn(a, who, &withdrawn)) != 0) {
        fail_errno(out, rc, "reading the customer's consent");
        goto out;
    }
    /* The caller's candidates are all ranked; only prices follow the tier. */
    if (r->include_item_details &&
        (rc = customer_access(a, ci, c, who, 1, &access)) != 0) {
        fail_errno(out, rc, "reading the customer's tier");
        goto out;
    }
    if (!(m = model_for_arms(a, who, &arms, ci, out)))
        goto out;
    unknown = malloc((n ? n : 1) * sizeof *unknown);
    ranked = malloc((n ? n : 1) * sizeof *ranked);
    if (!unknown || !ranked) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    rpc_new_request_id(rid);
    if ((rc = serve_rank(&env, m, c, &arms, who, withdrawn,
                         (const char *const *)r->item_ids,
                         n, rid, ranked, &n_known, unknown, &n_unknown, &personalized,
                         &failed)) != 0) {
        fail_errno(out, rc, failed);
        goto out;
    }
    if (scored_list_fill(&list, m, c, ranked, n_known, n, r->include_item_details,
                         r->include_item_details ? &access : NULL,
                         rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    /* The unknown ones: ids only, appended after the ranked items. */
    for (size_t j = 0; j < n_unknown; j++) {
        Patron__V1__ScoredItem *si = &list.si[n_known + j];
        patron__v1__scored_item__init(si);
        si->item_id = r->item_ids[unknown[j]];
        list.sp[n_known + j] = si;
    }
    arms_fill_provenance(&arms, &list.prov);
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
    tag_provenance(ci, &list.prov);
    resp.personalized = personalized;
    resp.personalization_withdrawn = withdrawn;
    encode(&resp.base, out);
out:
    scored_list_free(&list);
    free(unknown);
    free(ranked);
    model_unref(m);
    catalog_unref(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- ComplementaryItems ------------------------------------------------------ */

static const char *complements_invalid(const Patron__V1__ComplementaryItemsRequest *r,
                                       char *err, size_t cap)
{
    if (r->n_item_ids == 0)
        return "item_ids: at least one item (the cart, or one item) required";
    if (r->n_item_ids > COPURCHASE_MAX_CART) {
        snprintf(err, cap, "item_ids: at most %u items, got %zu", COPURCHASE_MAX_CART,
                 r->n_item_ids);
        return err;
    }
    for (size_t i = 0; i < r->n_item_ids; i++)
        if (!r->item_ids[i][0] || strlen(r->item_ids[i]) > STORE_MAX_ID) {
            snprintf(err, cap, "item_ids[%zu]: must be 1..256 bytes", i);
            return err;
        }
    if (r->k < 1 || r->k > REC_MAX_K)
        return "k: must be in 1..1000";
    return NULL;
}

/* rec_complements' errors as statuses naming the field. */
static void fail_complements(rpc_reply_t *out, int rc, const model_t *m,
                             const Patron__V1__ComplementaryItemsRequest *r, size_t bad)
{
    unsigned long long v = (unsigned long long)m->hdr.version;
    if (rc == -ENOENT)
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "item_ids[%zu]: no such item in the catalog "
                 "('%s')", bad, r->item_ids[bad]);
    else if (rc == -ENODATA)
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "item_ids: every item was added after model "
                 "version %llu was trained (no co-purchase data yet)", v);
    else if (rc == -ENOTSUP)
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "model version %llu has no "
                 "co-purchase statistics: train a new version with `patron train`", v);
    else
        fail_errno(out, rc, "complementary items");
}

void h_complementary_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                           size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ComplementaryItemsRequest *r =
        (Patron__V1__ComplementaryItemsRequest *)decode(
            &patron__v1__complementary_items_request__descriptor, req, len, out);
    Patron__V1__ComplementaryItemsResponse resp =
        PATRON__V1__COMPLEMENTARY_ITEMS_RESPONSE__INIT;
    rec_filters_t filters, *fp = NULL;
    rec_item_t *items = NULL;
    rec_access_t anyone;
    scored_list_t list = { 0 };
    model_t *m = NULL;
    catalog_t *c;
    const char *bad;
    char err[96], rid[33];
    size_t n = 0, bad_at = 0;
    int rc;

    if (!r)
        return;
    c = catalog_slot_get(&a->catalogs); /* a refused request holds none */
    if (r->filters) {
        fill_filters(r->filters, &filters);
        fp = &filters;
    }
    if ((bad = complements_invalid(r, err, sizeof err)) != NULL ||
        (bad = rec_filters_invalid(fp)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if (!(m = model_for_call(a, ci, out)))
        goto out;
    if (!(items = malloc(r->k * sizeof *items))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    members_access_for_tier(NULL, -1, wall_ms(), &anyone); /* no customer: no tier */
    rc = rec_complements(m, c, (const char *const *)r->item_ids, r->n_item_ids, r->k, fp,
                         &anyone, items, &n, &bad_at);
    if (rc) {
        fail_complements(out, rc, m, r, bad_at);
        goto out;
    }
    rpc_new_request_id(rid);
    if (scored_list_fill(&list, m, c, items, n, n, r->include_item_details, NULL,
                         rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
    tag_provenance(ci, &list.prov);
    encode(&resp.base, out);
out:
    scored_list_free(&list);
    free(items);
    model_unref(m);
    catalog_unref(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
