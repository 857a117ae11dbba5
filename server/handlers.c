/*
 * handlers.c - the patron.v1 and grpc.health.v1 methods: decode the protobuf
 * request, validate it, call recsys, encode the response. Every bad input is
 * answered with a status naming the field; nothing here can crash on a
 * malformed body (protobuf-c rejects it and we answer INVALID_ARGUMENT).
 */
#include "handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "grpc/health/v1/health.pb-c.h"
#include "log.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "recommend.h"

/* Largest batch RecordEvents and UpsertItems take in one call. */
#define MAX_BATCH 100000

/* ---- encoding helpers --------------------------------------------------------- */

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d,
                                const uint8_t *req, size_t len, rpc_reply_t *out)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, req);
    if (!m)
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "request body is not a valid %s", d->name);
    return m;
}

static void encode(const ProtobufCMessage *m, rpc_reply_t *out)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    out->body = malloc(len ? len : 1);
    if (!out->body) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    out->len = protobuf_c_message_pack(m, out->body);
}

/* Maps a negative errno from recsys to a status. */
static void fail_errno(rpc_reply_t *out, int rc, const char *what)
{
    grpc_status_code code = GRPC_STATUS_INTERNAL;
    if (rc == -ENOSPC || rc == -ENOMEM)
        code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    rpc_fail(out, code, "%s: %s", what, strerror(-rc));
    plog(LOG_ERROR, "%s: %s", what, strerror(-rc)); /* no customer data */
}

/* 32 hex characters from the kernel's CSPRNG. */
static void new_request_id(char id[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16] = { 0 };
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(raw, &ts, sizeof ts < sizeof raw ? sizeof ts : sizeof raw);
    }
    for (int i = 0; i < 16; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[32] = '\0';
}

static model_t *require_model(app_t *a, rpc_reply_t *out)
{
    model_t *m = model_slot_get(&a->models);
    if (!m)
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE,
                 "no model loaded yet: run `patron train` and reload");
    return m;
}

/* ---- Recommender/Recommend ---------------------------------------------------- */

static const char *unsupported_fields(const Patron__V1__RecommendRequest *r)
{
    if (r->filters)
        return "filters";
    if (r->n_inline_events)
        return "inline_events";
    return NULL;
}

static void item_details(const model_t *m, uint32_t item, Patron__V1__Item *d)
{
    patron__v1__item__init(d);
    d->item_id = m->item_ids[item];
    d->title = m->item_titles[item];
    d->category = m->item_categories[item];
    d->price = m->item_price[item];
    d->in_stock = m->in_stock[item];
}

static void reply_recommend(const model_t *m, const rec_item_t *items, size_t n,
                            int personalized, int details, rpc_reply_t *out)
{
    Patron__V1__RecommendResponse resp = PATRON__V1__RECOMMEND_RESPONSE__INIT;
    Patron__V1__Provenance prov = PATRON__V1__PROVENANCE__INIT;
    Patron__V1__ScoredItem *si = calloc(n ? n : 1, sizeof *si);
    Patron__V1__ScoredItem **sp = calloc(n ? n : 1, sizeof *sp);
    Patron__V1__Item *di = details ? calloc(n ? n : 1, sizeof *di) : NULL;
    char request_id[33];

    if (!si || !sp || (details && !di)) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        patron__v1__scored_item__init(&si[i]);
        si[i].item_id = m->item_ids[items[i].item];
        si[i].score = items[i].score;
        si[i].reason = (Patron__V1__Reason)items[i].reason;
        if (di) {
            item_details(m, items[i].item, &di[i]);
            si[i].details = &di[i];
        }
        sp[i] = &si[i];
    }
    new_request_id(request_id);
    prov.model_version = m->hdr.version;
    prov.request_id = request_id;
    resp.provenance = &prov;
    resp.n_items = n;
    resp.items = sp;
    resp.personalized = personalized;
    encode(&resp.base, out);
out:
    free(si);
    free(sp);
    free(di);
}

static void h_recommend(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                        size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecommendRequest *r = (Patron__V1__RecommendRequest *)decode(
        &patron__v1__recommend_request__descriptor, req, len, out);
    rec_query_t q;
    rec_item_t *items = NULL;
    model_t *m = NULL;
    const char *bad;
    size_t n = 0;
    int personalized = 0, rc;

    if (!r)
        return;
    q.customer_id = r->customer_id;
    q.k = r->k;
    q.include_purchased = r->include_purchased;
    if ((bad = rec_query_invalid(&q)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((bad = unsupported_fields(r)) != NULL) {
        rpc_fail(out, GRPC_STATUS_UNIMPLEMENTED,
                 "%s: not supported by this server version", bad);
        goto out;
    }
    if (!(m = require_model(a, out)))
        goto out;
    if (rpc_remaining_ms(ci) <= 0) {
        rpc_fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed");
        goto out;
    }
    if (!(items = malloc(q.k * sizeof *items))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    rc = rec_recommend(a->store, m, &q, items, &n, &personalized);
    if (rc) {
        fail_errno(out, rc, "recommend");
        goto out;
    }
    reply_recommend(m, items, n, personalized, r->include_item_details, out);
out:
    free(items);
    model_unref(m);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- Events/RecordEvents ------------------------------------------------------ */

static void reply_events(const uint8_t *outcome, const char **reason, size_t n,
                         rpc_reply_t *out)
{
    Patron__V1__RecordEventsResponse resp = PATRON__V1__RECORD_EVENTS_RESPONSE__INIT;
    Patron__V1__EventError *errs = calloc(n ? n : 1, sizeof *errs);
    Patron__V1__EventError **ep = calloc(n ? n : 1, sizeof *ep);

    if (!errs || !ep) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        switch (outcome[i]) {
        case STORE_ACCEPTED: resp.accepted++; break;
        case STORE_DUPLICATE: resp.duplicates++; break;
        default:
            patron__v1__event_error__init(&errs[resp.rejected]);
            errs[resp.rejected].index = (uint32_t)i;
            errs[resp.rejected].reason = (char *)reason[i];
            ep[resp.rejected] = &errs[resp.rejected];
            resp.rejected++;
        }
    }
    resp.n_errors = resp.rejected;
    resp.errors = ep;
    encode(&resp.base, out);
out:
    free(errs);
    free(ep);
}

static void h_record_events(void *app, const rpc_call_info_t *ci,
                            const uint8_t *req, size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecordEventsRequest *r = (Patron__V1__RecordEventsRequest *)decode(
        &patron__v1__record_events_request__descriptor, req, len, out);
    store_event_t *ev = NULL;
    uint8_t *outcome = NULL;
    const char **reason = NULL;
    size_t n;
    int rc;

    if (!r)
        return;
    n = r->n_events;
    if (n > MAX_BATCH) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "events: at most %d per call, got %zu", MAX_BATCH, n);
        goto out;
    }
    ev = calloc(n ? n : 1, sizeof *ev);
    outcome = calloc(n ? n : 1, 1);
    reason = calloc(n ? n : 1, sizeof *reason);
    if (!ev || !outcome || !reason) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const Patron__V1__Event *e = r->events[i];
        ev[i].event_id = e->event_id;
        ev[i].customer_id = e->customer_id;
        ev[i].item_id = e->item_id;
        ev[i].type = (int)e->type;
        ev[i].time_ms = e->time_unix_ms;
        ev[i].quantity = e->quantity;
        ev[i].unit_price = e->unit_price;
    }
    if ((rc = store_record_events(a->store, ev, n, outcome, reason)) != 0) {
        fail_errno(out, rc, "storing events (nothing of this batch was stored)");
        goto out;
    }
    reply_events(outcome, reason, n, out);
out:
    free(ev);
    free(outcome);
    free(reason);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- Admin -------------------------------------------------------------------- */

static void h_upsert_items(void *app, const rpc_call_info_t *ci,
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
out:
    free(items);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void reply_model_info(const model_t *m, rpc_reply_t *out)
{
    Patron__V1__ModelInfo info = PATRON__V1__MODEL_INFO__INIT;
    info.version = m->hdr.version;
    info.trained_at_unix_ms = m->hdr.trained_at_ms;
    info.factors = m->hdr.factors;
    info.customers = m->hdr.n_users;
    info.items = m->hdr.n_items;
    info.iterations = m->hdr.iterations;
    info.regularization = m->hdr.reg;
    info.alpha = m->hdr.alpha;
    info.final_loss = m->hdr.final_loss;
    encode(&info.base, out);
}

static void answer_model_info(app_t *a, rpc_reply_t *out)
{
    model_t *m = model_slot_get(&a->models);
    if (!m) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "no model loaded yet");
        return;
    }
    reply_model_info(m, out);
    model_unref(m);
}

static void h_model_info(void *app, const rpc_call_info_t *ci,
                         const uint8_t *req, size_t len, rpc_reply_t *out)
{
    ProtobufCMessage *r = decode(&patron__v1__get_model_info_request__descriptor,
                                 req, len, out);
    if (!r)
        return;
    protobuf_c_message_free_unpacked(r, NULL);
    answer_model_info(app, out);
}

static void h_reload_model(void *app, const rpc_call_info_t *ci,
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

/* ---- grpc.health.v1.Health/Check ---------------------------------------------- */

/* Services health answers for. "" is the whole server. */
static const char *const known_services[] = {
    "", "patron.v1.Recommender", "patron.v1.Events", "patron.v1.Admin",
};

/* "" and the Recommender need a model; Events and Admin work without one. */
static int service_serving(app_t *a, size_t which)
{
    model_t *m;
    if (atomic_load(&a->draining))
        return 0;
    if (which == 2 || which == 3)
        return 1;
    m = model_slot_get(&a->models);
    model_unref(m);
    return m != NULL;
}

static void h_health_check(void *app, const rpc_call_info_t *ci,
                           const uint8_t *req, size_t len, rpc_reply_t *out)
{
    Grpc__Health__V1__HealthCheckRequest *r =
        (Grpc__Health__V1__HealthCheckRequest *)decode(
            &grpc__health__v1__health_check_request__descriptor, req, len, out);
    Grpc__Health__V1__HealthCheckResponse resp =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    size_t n = sizeof known_services / sizeof known_services[0], i;

    if (!r)
        return;
    for (i = 0; i < n && strcmp(r->service, known_services[i]) != 0; i++)
        ;
    if (i == n) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "service: unknown service \"%.200s\"",
                 r->service);
    } else {
        resp.status = service_serving(app, i)
            ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        encode(&resp.base, out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

const rpc_method_t patron_methods[] = {
    { "/patron.v1.Recommender/Recommend", h_recommend },
    { "/patron.v1.Events/RecordEvents", h_record_events },
    { "/patron.v1.Admin/UpsertItems", h_upsert_items },
    { "/patron.v1.Admin/GetModelInfo", h_model_info },
    { "/patron.v1.Admin/ReloadModel", h_reload_model },
    { "/grpc.health.v1.Health/Check", h_health_check },
};
const size_t patron_n_methods = sizeof patron_methods / sizeof patron_methods[0];
