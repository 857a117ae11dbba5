/*
 * admin_rpc.c - the patron.v1.Admin methods on the catalog and the model:
 * UpsertItems (then a new catalog snapshot is served), GetModelInfo and
 * ReloadModel. GetServerStats is stats_rpc.c's.
 */
#include "admin_rpc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "patron/v1/admin.pb-c.h"

/* Largest batch one UpsertItems call takes. */
#define MAX_ITEMS_PER_CALL 100000

void h_upsert_items(void *app, const rpc_call_info_t *ci,
                           const uint8_t *req, size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__UpsertItemsRequest *r = (Patron__V1__UpsertItemsRequest *)decode(
        &patron__v1__upsert_items_request__descriptor, req, len, out);
    Patron__V1__UpsertItemsResponse resp = PATRON__V1__UPSERT_ITEMS_RESPONSE__INIT;
    store_item_t *items = NULL;
    store_member_price_t *prices = NULL;
    size_t ins = 0, upd = 0, bad = 0, n_prices = 0;
    const char *why = NULL;
    int rc;

    if (!r)
        return;
    if (r->n_items > MAX_ITEMS_PER_CALL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "items: at most %d per call, got %zu", MAX_ITEMS_PER_CALL, r->n_items);
        goto out;
    }
    for (size_t i = 0; i < r->n_items; i++)
        n_prices += r->items[i]->n_member_prices; /* bounded by the message size */
    items = calloc(r->n_items ? r->n_items : 1, sizeof *items);
    prices = calloc(n_prices ? n_prices : 1, sizeof *prices);
    if (!items || !prices) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0, p = 0; i < r->n_items; i++) {
        const Patron__V1__Item *it = r->items[i];
        items[i] = (store_item_t){ .item_id = it->item_id, .title = it->title,
                                   .category = it->category, .price = it->price,
                                   .unit_cost = it->unit_cost, .in_stock = it->in_stock,
                                   .member_tier = it->member_tier,
                                   .release_ms = it->release_unix_ms,
                                   .member_prices = prices + p,
                                   .n_member_prices = it->n_member_prices };
        for (size_t j = 0; j < it->n_member_prices; j++, p++)
            prices[p] = (store_member_price_t){ it->member_prices[j]->price_list,
                                                it->member_prices[j]->price };
    }
    rc = app_upsert_items(a, items, r->n_items, &ins, &upd, &bad, &why);
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
    free(prices);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Answers GetModelInfo, or ReloadModel when reload is set: the same
 * ModelInfo in each method's own response message. */
static void reply_model_info(app_t *a, const model_t *m, int reload, rpc_reply_t *out)
{
    Patron__V1__GetModelInfoResponse get = PATRON__V1__GET_MODEL_INFO_RESPONSE__INIT;
    Patron__V1__ReloadModelResponse reloaded = PATRON__V1__RELOAD_MODEL_RESPONSE__INIT;
    Patron__V1__ModelInfo info = PATRON__V1__MODEL_INFO__INIT;
    Patron__V1__LoadedVersion lv[EXP_SNAPSHOT_MAX_PINNED];
    Patron__V1__LoadedVersion *lp[EXP_SNAPSHOT_MAX_PINNED];
    exp_snapshot_t *x = exp_slot_get(&a->experiments);
    catalog_t *c;
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
    info.source = (char *)(m->hdr.source[0] ? m->hdr.source : "trained");
    info.memory_bytes = model_bytes(m);
    if ((c = catalog_slot_get(&a->catalogs)) != NULL) {
        info.catalog_items = c->n_items;
        info.catalog_bytes = catalog_bytes(c);
        catalog_unref(c);
    }
    for (size_t i = 0; i < x->n_pinned; i++) {
        if (x->pinned[i] == m)
            continue;
        patron__v1__loaded_version__init(&lv[n]);
        lv[n].version = x->pinned[i]->hdr.version;
        lv[n].memory_bytes = model_bytes(x->pinned[i]);
        lp[n] = &lv[n];
        n++;
    }
    info.n_also_loaded = n;
    info.also_loaded = lp;
    get.model = reloaded.model = &info;
    encode(reload ? &reloaded.base : &get.base, out);
    exp_snapshot_unref(x);
}

static void answer_model_info(app_t *a, int reload, rpc_reply_t *out)
{
    model_t *m = model_slot_get(&a->models);
    if (!m) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "no model loaded yet");
        return;
    }
    reply_model_info(a, m, reload, out);
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
    answer_model_info(app, 0, out);
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
    answer_model_info(a, 1, out);
}
