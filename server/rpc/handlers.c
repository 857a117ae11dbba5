/*
 * handlers.c - the patron.v1 Recommender, Events and Admin methods: decode
 * the protobuf request, validate it, call recsys (the serving use cases in
 * recsys/app/serve.h), encode the response. Every bad input is
 * answered with a status naming the field; nothing here can crash on a
 * malformed body (protobuf-c rejects it and we answer INVALID_ARGUMENT).
 */
#include "handlers.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "codec.h"
#include "enums.h"
#include "recommend.h"
#include "serve.h"
#include "wallclock.h"

/* Largest batch RecordEvents and UpsertItems take in one call. */
#define MAX_BATCH 100000

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

static void item_details(const catalog_t *c, uint32_t item, Patron__V1__Item *d)
{
    patron__v1__item__init(d);
    d->item_id = c->ids[item];
    d->title = c->titles[item];
    d->category = (char *)catalog_item_category(c, item);
    d->price = c->price[item];
    d->in_stock = c->in_stock[item];
}

/* Fills list from items (n may be 0), with room for cap >= n entries,
 * under request_id (32 hex characters). Strings point into the catalog,
 * which must outlive the encoding. Returns -ENOMEM or 0. */
static int scored_list_fill(scored_list_t *l, const model_t *m, const catalog_t *c,
                            const rec_item_t *items, size_t n, size_t cap,
                            int details, const char *request_id)
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
            item_details(c, items[i].item, &l->di[i]);
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

/* The model the customer's arms name (or the current one), deadline
 * checked: a reference, or NULL with out set. */
static model_t *model_for_arms(app_t *a, const arms_t *arms, const rpc_call_info_t *ci,
                               rpc_reply_t *out)
{
    model_t *m = app_model_for(a, arms->model_version);
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
static int fill_inline(const Patron__V1__RecommendRequest *r, rec_inline_event_t **out,
                       char *err, size_t cap)
{
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
                             pe->time_unix_ms, pe->quantity, 0 };
        const char *why = store_event_invalid(&se);
        if (why) {
            snprintf(err, cap, "inline_events[%zu].%s", i, why);
            free(e);
            return -EINVAL;
        }
        e[i] = (rec_inline_event_t){ pe->item_id, event_type_from_pb(pe->type),
                                     pe->time_unix_ms, pe->quantity };
    }
    *out = e;
    return 0;
}

void h_recommend(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                 size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecommendRequest *r = (Patron__V1__RecommendRequest *)decode(
        &patron__v1__recommend_request__descriptor, req, len, out);
    Patron__V1__RecommendResponse resp = PATRON__V1__RECOMMEND_RESPONSE__INIT;
    serve_env_t env = { a->store, a->shown };
    rec_filters_t filters;
    rec_promotion_t promo;
    rec_query_t q;
    rec_item_t *items = NULL;
    scored_list_t list = { 0 };
    model_t *m = NULL;
    catalog_t *c = catalog_slot_get(&a->catalogs);
    rec_inline_event_t *inl = NULL;
    arms_t arms;
    char err[160], rid[33];
    const char *bad, *failed;
    size_t n = 0;
    int personalized = 0, rc;

    if (!r)
        return;
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
    if ((rc = fill_inline(r, &inl, err, sizeof err)) != 0) {
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
    app_arms(a, r->customer_id, wall_ms(), &arms);
    if (!(m = model_for_arms(a, &arms, ci, out)))
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
    if (scored_list_fill(&list, m, c, items, n, n, r->include_item_details, rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    arms_fill_provenance(&arms, &list.prov);
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
    resp.personalized = personalized;
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
    scored_list_t list = { 0 };
    model_t *m = NULL;
    catalog_t *c = catalog_slot_get(&a->catalogs);
    const char *bad;
    char rid[33];
    size_t n = 0;
    int rc;

    if (!r)
        return;
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
    rc = serve_similar(m, c, r->item_id, r->k, fp, items, &n);
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
    if (scored_list_fill(&list, m, c, items, n, n, r->include_item_details, rid) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    resp.n_items = n;
    resp.items = list.sp;
    resp.provenance = &list.prov;
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
    serve_env_t env = { a->store, a->shown };
    size_t *unknown = NULL, n_known = 0, n_unknown = 0, n;
    rec_item_t *ranked = NULL;
    scored_list_t list = { 0 };
    arms_t arms;
    model_t *m = NULL;
    catalog_t *c = catalog_slot_get(&a->catalogs);
    char err[96], rid[33];
    const char *bad, *failed;
    int personalized = 0, rc;

    if (!r)
        return;
    n = r->n_item_ids;
    if ((bad = rank_request_invalid(r, err, sizeof err)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    app_arms(a, r->customer_id, wall_ms(), &arms);
    if (!(m = model_for_arms(a, &arms, ci, out)))
        goto out;
    unknown = malloc((n ? n : 1) * sizeof *unknown);
    ranked = malloc((n ? n : 1) * sizeof *ranked);
    if (!unknown || !ranked) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    rpc_new_request_id(rid);
    if ((rc = serve_rank(&env, m, c, &arms, r->customer_id, (const char *const *)r->item_ids,
                         n, rid, ranked, &n_known, unknown, &n_unknown, &personalized,
                         &failed)) != 0) {
        fail_errno(out, rc, failed);
        goto out;
    }
    if (scored_list_fill(&list, m, c, ranked, n_known, n, r->include_item_details, rid) != 0) {
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
    resp.personalized = personalized;
    encode(&resp.base, out);
out:
    scored_list_free(&list);
    free(unknown);
    free(ranked);
    model_unref(m);
    catalog_unref(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- Events ------------------------------------------------------------------- */

/* Longest error list a streamed RecordEvents reply carries; the counts
 * stay exact beyond it. */
#define MAX_STREAM_ERRORS 1000

/* What one or more stored batches came to: counts and per-event errors
 * (reasons are static strings from the store). */
typedef struct event_tally {
    uint32_t accepted, duplicates, rejected;
    Patron__V1__EventError *errs;
    size_t n_errs, cap_errs;
} event_tally_t;

static int tally_error(event_tally_t *t, uint32_t index, const char *reason,
                       size_t limit)
{
    if (t->n_errs >= limit)
        return 0;
    if (t->n_errs == t->cap_errs) {
        size_t cap = t->cap_errs ? t->cap_errs * 2 : 16;
        Patron__V1__EventError *p = realloc(t->errs, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        t->errs = p;
        t->cap_errs = cap;
    }
    patron__v1__event_error__init(&t->errs[t->n_errs]);
    t->errs[t->n_errs].index = index;
    t->errs[t->n_errs].reason = (char *)reason;
    t->n_errs++;
    return 0;
}

/* Stores one request's events (positions numbered from `first`) in one
 * transaction and adds the outcomes to t. Returns 0 or a negative errno
 * (then nothing of this batch was stored). */
static int store_batch(app_t *a, const Patron__V1__RecordEventsRequest *r,
                       uint32_t first, size_t err_limit, event_tally_t *t)
{
    size_t n = r->n_events;
    store_event_t *ev = calloc(n ? n : 1, sizeof *ev);
    uint8_t *outcome = calloc(n ? n : 1, 1);
    const char **reason = calloc(n ? n : 1, sizeof *reason);
    int rc = -ENOMEM;

    if (!ev || !outcome || !reason)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const Patron__V1__Event *e = r->events[i];
        ev[i] = (store_event_t){ e->event_id, e->customer_id, e->item_id,
                                 event_type_from_pb(e->type), e->time_unix_ms, e->quantity,
                                 e->unit_price };
    }
    if ((rc = store_record_events(a->store, ev, n, outcome, reason)) != 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++) {
        switch (outcome[i]) {
        case STORE_ACCEPTED: t->accepted++; break;
        case STORE_DUPLICATE: t->duplicates++; break;
        default:
            t->rejected++;
            rc = tally_error(t, first + (uint32_t)i, reason[i], err_limit);
        }
    }
out:
    free(ev);
    free(outcome);
    free(reason);
    return rc;
}

static void reply_tally(const event_tally_t *t, rpc_reply_t *out)
{
    Patron__V1__RecordEventsResponse resp = PATRON__V1__RECORD_EVENTS_RESPONSE__INIT;
    Patron__V1__EventError **ep = calloc(t->n_errs ? t->n_errs : 1, sizeof *ep);

    if (!ep) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (size_t i = 0; i < t->n_errs; i++)
        ep[i] = &t->errs[i];
    resp.accepted = t->accepted;
    resp.duplicates = t->duplicates;
    resp.rejected = t->rejected;
    resp.n_errors = t->n_errs;
    resp.errors = ep;
    encode(&resp.base, out);
    free(ep);
}

static Patron__V1__RecordEventsRequest *decode_events(const uint8_t *req, size_t len,
                                                      rpc_reply_t *out)
{
    Patron__V1__RecordEventsRequest *r = (Patron__V1__RecordEventsRequest *)decode(
        &patron__v1__record_events_request__descriptor, req, len, out);
    if (r && r->n_events > MAX_BATCH) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "events: at most %d per message, got %zu", MAX_BATCH, r->n_events);
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return NULL;
    }
    return r;
}

void h_record_events(void *app, const rpc_call_info_t *ci,
                            const uint8_t *req, size_t len, rpc_reply_t *out)
{
    Patron__V1__RecordEventsRequest *r = decode_events(req, len, out);
    event_tally_t t = { 0 };
    int rc;

    if (!r)
        return;
    rc = store_batch(app, r, 0, SIZE_MAX, &t);
    if (rc)
        fail_errno(out, rc, "storing events (nothing of this batch was stored)");
    else
        reply_tally(&t, out);
    free(t.errs);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* StreamEvents: each message is stored (one transaction) as it arrives, so
 * when the single reply says "accepted", everything is durable. Event
 * indices in errors count across the whole stream. */
typedef struct event_stream {
    app_t *app;
    event_tally_t t;
    uint32_t seen;       /* events received so far */
} event_stream_t;

static void *events_open(void *app, const rpc_call_info_t *ci)
{
    event_stream_t *st = calloc(1, sizeof *st);
    if (st)
        st->app = app;
    return st;
}

static void events_message(void *state, const uint8_t *req, size_t len,
                           rpc_reply_t *out)
{
    event_stream_t *st = state;
    Patron__V1__RecordEventsRequest *r = decode_events(req, len, out);
    int rc;

    if (!r)
        return;
    if ((uint64_t)st->seen + r->n_events > UINT32_MAX) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "events: a stream takes at most 4294967295 events");
    } else if ((rc = store_batch(st->app, r, st->seen, MAX_STREAM_ERRORS, &st->t)) != 0) {
        fail_errno(out, rc, "storing events (earlier messages of this stream "
                            "are stored, this one is not)");
    }
    st->seen += (uint32_t)r->n_events;
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void events_finish(void *state, rpc_reply_t *out)
{
    reply_tally(&((event_stream_t *)state)->t, out);
}

static void events_close(void *state)
{
    event_stream_t *st = state;
    free(st->t.errs);
    free(st);
}

const rpc_stream_ops_t stream_events_ops = {
    .open = events_open,
    .message = events_message,
    .finish = events_finish,
    .close = events_close,
};

/* ---- Admin -------------------------------------------------------------------- */

void h_upsert_items(void *app, const rpc_call_info_t *ci,
                           const uint8_t *req, size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__UpsertItemsRequest *r = (Patron__V1__UpsertItemsRequest *)decode(
        &patron__v1__upsert_items_request__descriptor, req, len, out);
    Patron__V1__UpsertItemsResponse resp = PATRON__V1__UPSERT_ITEMS_RESPONSE__INIT;
    store_item_t *items = NULL;
    size_t ins = 0, upd = 0, bad = 0;
    const char *why = NULL;
    int rc;

    if (!r)
        return;
    if (r->n_items > MAX_BATCH) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "items: at most %d per call, got %zu", MAX_BATCH, r->n_items);
        goto out;
    }
    if (!(items = calloc(r->n_items ? r->n_items : 1, sizeof *items))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const Patron__V1__Item *it = r->items[i];
        items[i] = (store_item_t){ it->item_id, it->title, it->category,
                                   it->price, it->unit_cost, it->in_stock };
    }
    rc = store_upsert_items(a->store, items, r->n_items, &ins, &upd, &bad, &why);
    if (rc == -EINVAL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "items[%zu].%s (nothing was stored)", bad, why);
        goto out;
    }
    if (rc) {
        fail_errno(out, rc, "storing items");
        goto out;
    }
    resp.inserted = (uint32_t)ins;
    resp.updated = (uint32_t)upd;
    encode(&resp.base, out);
    app_items_changed(a); /* serving and profiles see the write at once */
out:
    free(items);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void reply_model_info(app_t *a, const model_t *m, rpc_reply_t *out)
{
    Patron__V1__ModelInfo info = PATRON__V1__MODEL_INFO__INIT;
    Patron__V1__LoadedVersion lv[sizeof a->pinned / sizeof a->pinned[0]];
    Patron__V1__LoadedVersion *lp[sizeof a->pinned / sizeof a->pinned[0]];
    size_t n = 0;

    info.version = m->hdr.version;
    info.trained_at_unix_ms = m->hdr.trained_at_ms;
    info.factors = m->hdr.factors;
    info.customers = m->hdr.n_users;
    info.items = m->hdr.n_items;
    info.iterations = m->hdr.iterations;
    info.regularization = m->hdr.reg;
    info.alpha = m->hdr.alpha;
    info.final_loss = m->hdr.final_loss;
    info.memory_bytes = model_bytes(m);
    pthread_rwlock_rdlock(&a->exp_lock);
    for (size_t i = 0; i < a->n_pinned; i++) {
        if (a->pinned[i] == m)
            continue;
        patron__v1__loaded_version__init(&lv[n]);
        lv[n].version = a->pinned[i]->hdr.version;
        lv[n].memory_bytes = model_bytes(a->pinned[i]);
        lp[n] = &lv[n];
        n++;
    }
    info.n_also_loaded = n;
    info.also_loaded = lp;
    encode(&info.base, out);
    pthread_rwlock_unlock(&a->exp_lock);
}

static void answer_model_info(app_t *a, rpc_reply_t *out)
{
    model_t *m = model_slot_get(&a->models);
    if (!m) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "no model loaded yet");
        return;
    }
    reply_model_info(a, m, out);
    model_unref(m);
}

void h_model_info(void *app, const rpc_call_info_t *ci,
                         const uint8_t *req, size_t len, rpc_reply_t *out)
{
    ProtobufCMessage *r = decode(&patron__v1__get_model_info_request__descriptor,
                                 req, len, out);
    if (!r)
        return;
    protobuf_c_message_free_unpacked(r, NULL);
    answer_model_info(app, out);
}

void h_reload_model(void *app, const rpc_call_info_t *ci,
                           const uint8_t *req, size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    ProtobufCMessage *r = decode(&patron__v1__reload_model_request__descriptor,
                                 req, len, out);
    int rc;
    if (!r)
        return;
    protobuf_c_message_free_unpacked(r, NULL);
    if ((rc = app_reload(a, NULL)) != 0) {
        fail_errno(out, rc, "loading the newest model (the old one stays)");
        return;
    }
    answer_model_info(a, out);
}
